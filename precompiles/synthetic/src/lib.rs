//! Synthetic ONNX models of known cost, built in memory: what the pallets' benchmarks register and
//! run to measure the engine's cost per multiply-add, per element touched, per byte of inputs and
//! outputs and per byte of model.
//!
//! Each builder returns the bytes of a valid ONNX `ModelProto` (IR version 8, opset 13), encoded
//! by hand (the runtime has no protobuf library), with only operators the engine allows. Weights
//! are deterministic: a small linear congruential generator seeded by the `salt`, never entropy,
//! so a benchmark builds the same bytes on every machine.
//!
//! What the engine's analysis reports for each (the tests check it):
//!
//! | builder              | multiply-adds | elements touched | inputs + outputs  | size, bytes   |
//! |----------------------|---------------|------------------|-------------------|---------------|
//! | [`matmul`]`(k, n)`   | k·n           | ≈ k·n            | 4(k + n) bytes    | 4·k·n + ≈140  |
//! | [`elementwise`]`(e)` | e (the sum)   | 4·e + 4          | 8 bytes           | ≈ 260         |
//! | [`io`]`(kib)`        | 0             | 768·kib + 1      | 2·kib KiB         | ≈ 120         |
//! | [`sized`]`(bytes)`   | ≤ bytes / 4   | ≈ bytes / 4      | ≈ 8·√(bytes / 4)  | exactly bytes |
//! | [`padded`]`(m, size)`| m's           | m's              | m's               | exactly size  |
//! | [`combined`]         | as targeted   | as targeted      | as targeted       | 1 MiB or less |
//!
//! [`inputs`] makes inputs for any of them.
//!
//! **The salt.** It goes into the model's `doc_string`, which the engine ignores. A model's id is
//! the SHA-256 of its bytes, and that id keys both the registry (a model cannot be registered
//! twice) and the node's cache of loaded models (a model loaded once runs warm after). Two models
//! of equal structure and different salts therefore cost the same but are different models: a
//! benchmark that must measure a cold load, or register one model per repetition, gives each its
//! own salt. The salt is written in a fixed width, so it never changes a model's size.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::{format, vec::Vec};

use verinfer_primitives::{
	analysis::TensorSpec,
	probe::Lcg,
	tensor::{DType, Tensor},
};

/// ONNX IR version 8 (ONNX 1.10): what opset 13 models are written with.
const IR_VERSION: u64 = 8;
/// The default domain's operator set: 13, the first with `ReduceSum`'s axes as an input.
const OPSET: u64 = 13;

/// `TensorProto.DataType` values.
const FLOAT: u64 = 1;
const UINT8: u64 = 2;
const INT64: u64 = 7;

/// Field numbers from `onnx.proto`.
mod field {
	pub mod model {
		pub const IR_VERSION: u32 = 1;
		pub const PRODUCER_NAME: u32 = 2;
		pub const DOC_STRING: u32 = 6;
		pub const GRAPH: u32 = 7;
		pub const OPSET_IMPORT: u32 = 8;
	}
	pub mod opset {
		pub const VERSION: u32 = 2;
	}
	pub mod graph {
		pub const NODE: u32 = 1;
		pub const NAME: u32 = 2;
		pub const INITIALIZER: u32 = 5;
		pub const INPUT: u32 = 11;
		pub const OUTPUT: u32 = 12;
	}
	pub mod node {
		pub const INPUT: u32 = 1;
		pub const OUTPUT: u32 = 2;
		pub const NAME: u32 = 3;
		pub const OP_TYPE: u32 = 4;
	}
	pub mod tensor {
		pub const DIMS: u32 = 1;
		pub const DATA_TYPE: u32 = 2;
		pub const NAME: u32 = 8;
		pub const RAW_DATA: u32 = 9;
	}
	pub mod value_info {
		pub const NAME: u32 = 1;
		pub const TYPE: u32 = 2;
	}
	pub mod type_proto {
		pub const TENSOR_TYPE: u32 = 1;
		pub const ELEM_TYPE: u32 = 1;
		pub const SHAPE: u32 = 2;
		pub const DIM: u32 = 1;
		pub const DIM_VALUE: u32 = 1;
	}
}

/// A protobuf message being encoded: fields appended in any order, as the format allows.
#[derive(Default)]
struct Message(Vec<u8>);

impl Message {
	fn raw_varint(&mut self, mut value: u64) {
		while value >= 0x80 {
			self.0.push(value as u8 | 0x80);
			value >>= 7;
		}
		self.0.push(value as u8);
	}

	/// A varint field (wire type 0).
	fn varint(&mut self, field: u32, value: u64) -> &mut Self {
		self.raw_varint((field as u64) << 3);
		self.raw_varint(value);
		self
	}

	/// A length-delimited field (wire type 2): bytes, a string or a message.
	fn bytes(&mut self, field: u32, bytes: &[u8]) -> &mut Self {
		self.raw_varint(((field as u64) << 3) | 2);
		self.raw_varint(bytes.len() as u64);
		self.0.extend_from_slice(bytes);
		self
	}

	fn message(&mut self, field: u32, message: Message) -> &mut Self {
		self.bytes(field, &message.0)
	}
}

/// Bytes of `value` as a varint.
fn varint_len(value: u64) -> usize {
	(64 - (value | 1).leading_zeros() as usize).div_ceil(7)
}

/// A graph being built: f32 inputs and outputs, initializers and nodes.
#[derive(Default)]
struct Graph(Message);

impl Graph {
	fn value_info(name: &str, dims: &[u64]) -> Message {
		let mut shape = Message::default();
		for &dim in dims {
			let mut dimension = Message::default();
			dimension.varint(field::type_proto::DIM_VALUE, dim);
			shape.message(field::type_proto::DIM, dimension);
		}
		let mut tensor = Message::default();
		tensor.varint(field::type_proto::ELEM_TYPE, FLOAT).message(field::type_proto::SHAPE, shape);
		let mut type_proto = Message::default();
		type_proto.message(field::type_proto::TENSOR_TYPE, tensor);
		let mut info = Message::default();
		info.bytes(field::value_info::NAME, name.as_bytes())
			.message(field::value_info::TYPE, type_proto);
		info
	}

	/// An f32 graph input.
	fn input(&mut self, name: &str, dims: &[u64]) -> &mut Self {
		self.0.message(field::graph::INPUT, Graph::value_info(name, dims));
		self
	}

	/// An f32 graph output.
	fn output(&mut self, name: &str, dims: &[u64]) -> &mut Self {
		self.0.message(field::graph::OUTPUT, Graph::value_info(name, dims));
		self
	}

	fn initializer(&mut self, name: &str, data_type: u64, dims: &[u64], raw: &[u8]) -> &mut Self {
		self.0.message(field::graph::INITIALIZER, tensor(name, data_type, dims, raw));
		self
	}

	/// An i64 initializer: the shapes, starts and ends operators take as inputs.
	fn i64s(&mut self, name: &str, values: &[u64]) -> &mut Self {
		let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
		self.initializer(name, INT64, &[values.len() as u64], &raw)
	}

	/// A node of the default domain, named after its output.
	fn node(&mut self, op_type: &str, inputs: &[&str], output: &str) -> &mut Self {
		let mut node = Message::default();
		for input in inputs {
			node.bytes(field::node::INPUT, input.as_bytes());
		}
		node.bytes(field::node::OUTPUT, output.as_bytes())
			.bytes(field::node::NAME, output.as_bytes())
			.bytes(field::node::OP_TYPE, op_type.as_bytes());
		self.0.message(field::graph::NODE, node);
		self
	}

	/// The model: this graph, the opset, and the salt in the doc string.
	fn into_model(mut self, salt: u64) -> Vec<u8> {
		self.0.bytes(field::graph::NAME, b"synthetic");
		let mut opset = Message::default();
		opset.varint(field::opset::VERSION, OPSET);
		let mut model = Message::default();
		model
			.varint(field::model::IR_VERSION, IR_VERSION)
			.bytes(field::model::PRODUCER_NAME, b"verinfer-synthetic")
			.bytes(field::model::DOC_STRING, format!("salt {salt:016x}").as_bytes())
			.message(field::model::OPSET_IMPORT, opset)
			.message(field::model::GRAPH, self.0);
		model.0
	}
}

fn tensor(name: &str, data_type: u64, dims: &[u64], raw: &[u8]) -> Message {
	let mut tensor = Message::default();
	for &dim in dims {
		tensor.varint(field::tensor::DIMS, dim);
	}
	tensor
		.varint(field::tensor::DATA_TYPE, data_type)
		.bytes(field::tensor::NAME, name.as_bytes())
		.bytes(field::tensor::RAW_DATA, raw);
	tensor
}

/// `y = x · w`: input `x` f32[1, k], weight `w` f32[k, n], output `y` f32[1, n].
///
/// Cost: k·n multiply-adds; k·n + k + n elements touched and more (the weight is read once);
/// 4(k + n) bytes of inputs and outputs; a model of 4·k·n bytes and about 140 more.
pub fn matmul(k: u32, n: u32, salt: u64) -> Vec<u8> {
	let (k, n) = (k.max(1) as u64, n.max(1) as u64);
	let mut graph = Graph::default();
	graph
		.input("x", &[1, k])
		.initializer("w", FLOAT, &[k, n], &Lcg::new(salt).f32_bytes(k * n))
		.node("MatMul", &["x", "w"], "y")
		.output("y", &[1, n]);
	graph.into_model(salt)
}

/// `y = ReduceSum(Relu(Expand(x, [1, elements])))`: input `x` f32[1, 1] broadcast to
/// `elements` elements, rectified and summed into `y` f32[1, 1].
///
/// Cost: 4·elements + 4 elements touched (the broadcast writes them, the `Relu` reads and writes
/// them, the sum reads them); `elements` multiply-adds, which is how the engine counts a sum;
/// 8 bytes of inputs and outputs; a model of about 260 bytes whatever `elements`. `x` is an
/// input, so the engine cannot fold the work away when it loads the model.
pub fn elementwise(elements: u32, salt: u64) -> Vec<u8> {
	let mut graph = Graph::default();
	elementwise_branch(&mut graph, "", elements.max(1) as u64);
	graph.into_model(salt)
}

/// Elements [`elementwise_branch`] touches besides 4 per element.
const ELEMENTWISE_TOUCHED: u64 = 4;

fn elementwise_branch(graph: &mut Graph, suffix: &str, elements: u64) {
	let name = |base: &str| format!("{base}{suffix}");
	graph
		.input(&name("x"), &[1, 1])
		.i64s(&name("shape"), &[1, elements])
		.node("Expand", &[&name("x"), &name("shape")], &name("broadcast"))
		.node("Relu", &[&name("broadcast")], &name("rectified"))
		.node("ReduceSum", &[&name("rectified")], &name("y"))
		.output(&name("y"), &[1, 1]);
}

/// `y = Relu(x)`, sliced to its first `output_kib` KiB: input `x` f32[1, 256·input_kib], output
/// `y` f32[1, 256·output_kib] (each at least 1 KiB, the output at most the input).
///
/// Cost: no multiply-adds; the elements of one element-wise operator (and a slice), the least
/// work per byte a model can do; `input_kib + output_kib` KiB of inputs and outputs; a model of
/// about 150 bytes.
pub fn io(input_kib: u32, output_kib: u32, salt: u64) -> Vec<u8> {
	let input = 256 * input_kib.max(1) as u64;
	let mut graph = Graph::default();
	io_branch(&mut graph, "", input, (256 * output_kib.max(1) as u64).min(input));
	graph.into_model(salt)
}

/// `y = Slice(Relu(x))`: `x` f32[1, l_in], `y` f32[1, l_out] (l_out ≤ l_in).
fn io_branch(graph: &mut Graph, suffix: &str, l_in: u64, l_out: u64) {
	let name = |base: &str| format!("{base}{suffix}");
	graph.input(&name("x"), &[1, l_in]);
	if l_out < l_in {
		graph
			.node("Relu", &[&name("x")], &name("rectified"))
			.i64s(&name("starts"), &[0])
			.i64s(&name("ends"), &[l_out])
			.i64s(&name("axes"), &[1])
			.node(
				"Slice",
				&[&name("rectified"), &name("starts"), &name("ends"), &name("axes")],
				&name("y"),
			);
	} else {
		graph.node("Relu", &[&name("x")], &name("y"));
	}
	graph.output(&name("y"), &[1, l_out]);
}

/// Elements [`io_branch`] touches, as the engine counts them.
fn io_touched(l_in: u64, l_out: u64) -> u64 {
	if l_out < l_in {
		2 * l_in + 3 * l_out + 1
	} else {
		3 * l_in + 1
	}
}

/// Bytes [`padded`] adds at least: the padding tensors' fields around their data.
pub const PADDING_OVERHEAD: u32 = 32;

/// `model` grown to exactly `size` bytes by initializers nothing uses (u8, filled with
/// deterministic bytes): its analysis (parameters aside) and its run cost what `model`'s do,
/// while everything that handles the model's bytes (storing, hashing, decoding) handles `size`.
/// `model` as it is when `size` is below `model.len() + PADDING_OVERHEAD`.
///
/// The padding is a second `graph` field holding only an initializer: protobuf merges the
/// occurrences of a message field, so the decoder adds the initializer to the model's graph.
/// The engine decodes it and then drops it as unused.
pub fn padded(model: &[u8], size: u32) -> Vec<u8> {
	let Some(len) = (size as usize).checked_sub(model.len()) else { return model.to_vec() };
	if len < PADDING_OVERHEAD as usize {
		return model.to_vec();
	}
	let seed = size as u64;
	// A few lengths cannot be one padding field (when one more byte of data lengthens two
	// varints at once): a small second field makes up the difference.
	let padding = padding(len, b'p', seed)
		.or_else(|| {
			(16..PADDING_OVERHEAD as usize).find_map(|small| {
				Some([padding(len - small, b'p', seed)?, padding(small, b'q', seed)?].concat())
			})
		})
		.expect("one or two padding fields make any length from PADDING_OVERHEAD up");
	let mut bytes = model.to_vec();
	bytes.extend_from_slice(&padding);
	debug_assert_eq!(bytes.len(), size as usize);
	bytes
}

/// A `graph` field of exactly `len` bytes holding one u8 initializer named by repeating
/// `letter`, if one can be that long.
fn padding(len: usize, letter: u8, seed: u64) -> Option<Vec<u8>> {
	// The encoded length for `data` bytes of data and a name of `name` bytes.
	let encoded_len = |data: usize, name: usize| {
		let tensor = 1 + varint_len(data as u64) // dims
			+ 2 // data_type
			+ 1 + varint_len(name as u64) + name
			+ 1 + varint_len(data as u64) + data;
		let graph = 1 + varint_len(tensor as u64) + tensor;
		1 + varint_len(graph as u64) + graph
	};
	// The data takes all but the fields around it; the name takes up the slack varint lengths
	// leave.
	let mut most = len;
	while most > 0 && encoded_len(most, 1) > len {
		most -= 1;
	}
	let (data, name) = (most.saturating_sub(8)..=most)
		.rev()
		.flat_map(|data| (1..=16).map(move |name| (data, name)))
		.find(|&(data, name)| encoded_len(data, name) == len)?;
	let mut lcg = Lcg::new(seed);
	let raw: Vec<u8> = (0..data).map(|_| (lcg.next() >> 56) as u8).collect();
	let name = alloc::vec![letter; name];
	let name = core::str::from_utf8(&name).expect("an ASCII letter");
	let mut graph = Message::default();
	graph.message(field::graph::INITIALIZER, tensor(name, UINT8, &[data as u64], &raw));
	let mut outer = Message::default();
	outer.message(field::model::GRAPH, graph);
	Some(outer.0)
}

/// Smallest size [`sized`] builds exactly.
pub const MIN_SIZED_BYTES: u32 = 256;

/// A model of exactly `bytes` bytes (at least [`MIN_SIZED_BYTES`]) whose weight fills it, and
/// whose run is trivial beside its load: a [`matmul`] with a weight f32[d, d'] of nearly all the
/// bytes (d ≈ d' ≈ √(bytes / 4)), [`padded`] to the exact size.
///
/// Cost: bytes / 4 multiply-adds and elements touched (8 MiB: 2 M, a fraction of a millisecond);
/// about 8·√(bytes / 4) bytes of inputs and outputs (8 MiB: 11 KiB). The weight is used, as real
/// models' weights are, so loading it does everything loading a real weight does (the engine
/// drops an unused initializer before optimising the graph).
pub fn sized(bytes: u32, salt: u64) -> Vec<u8> {
	// The model around the weight, and the padding's fields.
	const FRAME: u64 = 160 + PADDING_OVERHEAD as u64;
	let weights = (bytes as u64).saturating_sub(FRAME) / 4;
	let rows = weights.isqrt().max(1);
	let columns = (weights / rows).max(1);
	padded(&matmul(rows as u32, columns as u32, salt), bytes)
}

/// Costs a [`combined`] model is built to have, as the engine's analysis reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Targets {
	pub multiply_adds: u64,
	pub elements_touched: u64,
	/// Bytes of all inputs together.
	pub input_bytes: u64,
	/// Bytes of all outputs together.
	pub output_bytes: u64,
}

/// Side of the [`combined`] model's square weight: 512, so f32[512, 512], 1 MiB, larger than most
/// cores' caches, as real models' weights are.
const SIDE: u64 = 512;
/// Multiply-adds of one row of the [`combined`] model's product: the row times the weight, and
/// the sum of the resulting row.
const ROW_MULTIPLY_ADDS: u64 = SIDE * SIDE + SIDE;
/// Elements one row adds: the row made, read by the product, the product's row written and read.
const ROW_TOUCHED: u64 = 5 * SIDE;
/// Elements the product branch touches whatever its rows: the weight, and three scalars.
const PRODUCT_TOUCHED: u64 = SIDE * SIDE + 3;

/// `y1 = ReduceSum((Range(rows·512) reshaped to [rows, 512] + x1) · w1)`: a matrix product of
/// `rows` rows with a 512 × 512 weight, from an input `x1` of one element. The rows are made by
/// adding `x1` to a constant, not by broadcasting it: the engine would fold a broadcast into the
/// product.
fn product_branch(graph: &mut Graph, rows: u64, salt: u64) {
	graph
		.input("x1", &[1, 1])
		.initializer("start1", FLOAT, &[], &0f32.to_le_bytes())
		.initializer("limit1", FLOAT, &[], &((rows * SIDE) as f32).to_le_bytes())
		.initializer("delta1", FLOAT, &[], &1f32.to_le_bytes())
		.i64s("shape1", &[rows, SIDE])
		.initializer("w1", FLOAT, &[SIDE, SIDE], &Lcg::new(salt).f32_bytes(SIDE * SIDE))
		.node("Range", &["start1", "limit1", "delta1"], "range1")
		.node("Reshape", &["range1", "shape1"], "grid1")
		.node("Add", &["grid1", "x1"], "rows1")
		.node("MatMul", &["rows1", "w1"], "product1")
		.node("ReduceSum", &["product1"], "y1")
		.output("y1", &[1, 1]);
}

/// One model with three independent branches, one for each term of a call's run weight, so that
/// a single benchmark can vary the three at once:
///
/// 1. **multiply-adds**: `x1` f32[1, 1] made into r rows f32[r, 512], times a weight
///    f32[512, 512], summed into `y1` f32[1, 1]: r·(2^18 + 512) multiply-adds.
/// 2. **elements touched**: `x2` f32[1, 1] broadcast to E elements, rectified and summed into `y2`
///    f32[1, 1], as in [`elementwise`]: 4·E + 4 elements touched, and E multiply-adds.
/// 3. **inputs and outputs**: `x3` f32[1, L_in] rectified and sliced into `y3` f32[1, L_out],
///    as in [`io`].
///
/// L_in and L_out take what the other branches' 4-byte inputs and outputs leave of the targets
/// (L_out at most L_in); E takes what the other branches leave of `elements_touched`; r takes
/// what E leaves of `multiply_adds`. A branch that would be empty is left out (the third never
/// is). Every reported cost is then at most its target and within 2^18 (multiply-adds), 4
/// (elements) or 8 bytes (inputs, outputs) of it, unless the other branches alone exceed it:
/// the product touches 2^18 elements and 2,560 per row, the elementwise branch adds E
/// multiply-adds, and inputs and outputs are at least 4 bytes each.
///
/// The weight makes the model 1 MiB when r > 0, a few hundred bytes otherwise.
pub fn combined(targets: Targets, salt: u64) -> Vec<u8> {
	// The product and elementwise branches, given whether each is there: the third's lengths and
	// the elements left for the second.
	let plan = |product: bool, elementwise: bool, rows: u64| {
		let small = 4 * (product as u64 + elementwise as u64);
		let l_in = (targets.input_bytes.saturating_sub(small) / 4).max(1);
		let l_out = (targets.output_bytes.saturating_sub(small) / 4).clamp(1, l_in);
		let mut touched = io_touched(l_in, l_out) + ELEMENTWISE_TOUCHED;
		if product {
			touched += PRODUCT_TOUCHED + ROW_TOUCHED * rows;
		}
		let elements =
			if elementwise { targets.elements_touched.saturating_sub(touched) / 4 } else { 0 };
		(l_in, l_out, elements)
	};
	// Rows as if the elementwise branch took no multiply-adds, then fewer until it fits.
	let mut rows = targets.multiply_adds / ROW_MULTIPLY_ADDS;
	let (mut l_in, mut l_out, mut elements) = plan(rows > 0, true, rows);
	while rows > 0 && rows * ROW_MULTIPLY_ADDS + elements > targets.multiply_adds {
		rows -= 1;
		(l_in, l_out, elements) = plan(rows > 0, true, rows);
	}
	if elements == 0 {
		(l_in, l_out, _) = plan(rows > 0, false, rows);
	}

	let mut graph = Graph::default();
	if rows > 0 {
		product_branch(&mut graph, rows, salt);
	}
	if elements > 0 {
		elementwise_branch(&mut graph, "2", elements);
	}
	io_branch(&mut graph, "3", l_in, l_out);
	graph.into_model(salt)
}

/// Inputs for a model with these input specs: f32 tensors filled with deterministic values in
/// [-1, 1) drawn from `salt`, tensors of other dtypes with zeros.
pub fn inputs(specs: &[TensorSpec], salt: u64) -> Vec<Tensor> {
	let mut lcg = Lcg::new(salt);
	specs
		.iter()
		.map(|spec| {
			let data = match spec.dtype {
				DType::F32 => lcg.f32_bytes(spec.byte_len() / 4),
				_ => alloc::vec![0; spec.byte_len() as usize],
			};
			Tensor { dtype: spec.dtype, shape: spec.shape.clone(), data }
		})
		.collect()
}

#[cfg(test)]
mod tests {
	use verinfer_executor::{engine::Engine, local};
	use verinfer_primitives::{
		analysis::{Analysis, Cost},
		engine::Limits,
	};

	use super::*;

	fn engine() -> std::sync::Arc<Engine> {
		Engine::built_in().expect("the engine blob is built and compiles")
	}

	/// The engine's analysis of `model`, which it must accept and run.
	fn accepted_and_run(model: &[u8]) -> Analysis {
		let analysis = engine().analyse(model, &[], Limits::LOAD).unwrap().result.unwrap();
		assert!(analysis.is_accepted(), "{:?}", analysis.refusals);
		let report = local::run(&engine(), model, &inputs(&analysis.inputs, 7)).unwrap();
		assert_eq!(report.check.analysis, analysis);
		let shapes =
			|specs: &[TensorSpec]| specs.iter().map(|s| s.shape.clone()).collect::<Vec<_>>();
		let outputs: Vec<_> = report.outputs.iter().map(|t| t.shape.clone()).collect();
		assert_eq!(outputs, shapes(&analysis.outputs));
		analysis
	}

	fn io_bytes(analysis: &Analysis) -> u64 {
		analysis.inputs.iter().chain(&analysis.outputs).map(TensorSpec::byte_len).sum()
	}

	#[test]
	fn a_matmul_costs_k_times_n_multiply_adds_and_holds_its_weight() {
		let model = matmul(64, 32, 1);
		let analysis = accepted_and_run(&model);
		assert_eq!(analysis.cost.multiply_adds, 64 * 32);
		assert_eq!(analysis.cost.parameter_bytes, 4 * 64 * 32);
		assert_eq!(io_bytes(&analysis), 4 * (64 + 32));
		assert!(model.len() < 4 * 64 * 32 + 200, "{}", model.len());
	}

	#[test]
	fn elementwise_touches_four_elements_per_element_through_eight_bytes_of_io() {
		let small = elementwise(1_000, 1);
		let large = elementwise(1_000_000, 1);
		assert_eq!(small.len(), large.len());
		assert!(large.len() < 300, "{}", large.len());
		for (model, elements) in [(small, 1_000), (large, 1_000_000)] {
			let analysis = accepted_and_run(&model);
			assert_eq!(analysis.cost.elements_touched, 4 * elements + 4);
			assert_eq!(analysis.cost.multiply_adds, elements);
			assert_eq!(io_bytes(&analysis), 8);
		}
	}

	#[test]
	fn io_moves_two_kib_per_kib_with_one_element_wise_operator() {
		let analysis = accepted_and_run(&io(4, 4, 1));
		assert_eq!(io_bytes(&analysis), 8 * 1024);
		assert_eq!(analysis.cost.multiply_adds, 0);
		assert_eq!(analysis.cost.elements_touched, 3 * 1024 + 1);
		let sliced = accepted_and_run(&io(4, 3, 1));
		assert_eq!(io_bytes(&sliced), 7 * 1024);
		assert_eq!(sliced.cost.elements_touched, io_touched(1024, 768));
	}

	#[test]
	fn padding_gives_the_exact_size_and_changes_nothing_else() {
		let model = io(1, 1, 1);
		let plain = accepted_and_run(&model);
		let smallest = model.len() as u32 + PADDING_OVERHEAD;
		// Sizes around the varints' boundaries (2^7, 2^14, 2^21), where lengths grow, and one that
		// takes two padding fields.
		let two_fields = model.len() as u32 + 130;
		for size in [smallest, smallest + 1, two_fields, 300, 16_383, 16_384, 16_500, 2_097_200] {
			let bytes = padded(&model, size);
			assert_eq!(bytes.len(), size as usize);
			let analysis = accepted_and_run(&bytes);
			assert_eq!(analysis.cost, Cost { parameter_bytes: analysis.parameters, ..plain.cost });
			assert_eq!(
				(analysis.inputs, analysis.outputs),
				(plain.inputs.clone(), plain.outputs.clone())
			);
		}
		assert_eq!(padded(&model, smallest - 1), model);
	}

	#[test]
	fn padding_and_sized_models_hit_every_size_around_the_varints_boundaries() {
		let model = io(1, 1, 1);
		let smallest = model.len() as u32 + PADDING_OVERHEAD;
		let around = |at: u32, by: u32| at.saturating_sub(by)..at + by;
		for size in
			(smallest..smallest + 300).chain(around(1 << 14, 200)).chain(around(1 << 21, 10))
		{
			assert_eq!(padded(&model, size).len(), size as usize);
		}
		for size in (MIN_SIZED_BYTES..MIN_SIZED_BYTES + 300).chain(around(1 << 14, 200)).chain([
			1 << 20,
			(8 << 20) - 1,
			8 << 20,
		]) {
			assert_eq!(sized(size, 3).len(), size as usize);
		}
	}

	#[test]
	fn sized_models_have_the_exact_size_and_a_weight_that_fills_it() {
		for size in [MIN_SIZED_BYTES, 1_000, 16 * 1024, 1 << 20, 8 << 20] {
			let model = sized(size, 1);
			assert_eq!(model.len(), size as usize);
			let analysis = accepted_and_run(&model);
			assert!(analysis.cost.parameter_bytes * 10 > size as u64 * 9 || size < 1024);
			assert!(analysis.cost.multiply_adds <= size as u64 / 4);
			assert!(io_bytes(&analysis) <= 16 * 1024);
		}
	}

	/// `value / 2^shift` rounded up: the inference pallet's benchmark components.
	fn units(value: u64, shift: u32) -> u64 {
		value.div_ceil(1 << shift)
	}

	#[test]
	fn combined_models_meet_their_targets_from_below() {
		for (m, e, b, outputs) in [
			(256, 16, 256, 63 * 1024),
			(256, 3, 1, 256),
			(4, 16, 256, 128 * 1024),
			(4, 3, 1, 512),
			(37, 9, 100, 50 * 1024),
			(100, 5, 200, 64),
		] {
			let targets = Targets {
				multiply_adds: m << 20,
				elements_touched: e << 20,
				input_bytes: (b << 10) - outputs,
				output_bytes: outputs,
			};
			let analysis = accepted_and_run(&combined(targets, 1));
			let cost = &analysis.cost;
			let inputs: u64 = analysis.inputs.iter().map(TensorSpec::byte_len).sum();
			let outputs: u64 = analysis.outputs.iter().map(TensorSpec::byte_len).sum();
			assert!(cost.multiply_adds <= targets.multiply_adds, "{targets:?}: {cost:?}");
			assert!(
				cost.multiply_adds + (1 << 18) > targets.multiply_adds,
				"{targets:?}: {cost:?}"
			);
			assert!(cost.elements_touched <= targets.elements_touched, "{targets:?}: {cost:?}");
			assert!(cost.elements_touched + 4 >= targets.elements_touched, "{targets:?}: {cost:?}");
			let io = (inputs, outputs);
			assert!(inputs <= targets.input_bytes && inputs + 8 > targets.input_bytes, "{io:?}");
			assert!(
				outputs <= targets.output_bytes && outputs + 8 > targets.output_bytes,
				"{io:?}"
			);
			assert_eq!(
				(
					units(cost.multiply_adds, 20),
					units(cost.elements_touched, 20),
					units(inputs + outputs, 10)
				),
				(m, e, b)
			);
		}
	}

	#[test]
	fn salts_change_the_bytes_but_neither_the_size_nor_the_cost() {
		let (one, two) = (matmul(16, 8, 1), matmul(16, 8, u64::MAX));
		assert_ne!(one, two);
		assert_eq!(one.len(), two.len());
		let (one, two) = (accepted_and_run(&one), accepted_and_run(&two));
		assert_eq!((one.cost, one.inputs, one.outputs), (two.cost, two.inputs, two.outputs));
	}
}
