//! ONNX `TensorProto` files (`.pb`), as `onnx.numpy_helper.from_array` and ONNX's test data write
//! them: a tensor client tools accept beside JSON and `.npy`.
//!
//! Elements come from `raw_data` (little-endian, row-major) when present, else from the typed field
//! ONNX assigns each type: `float_data`, `double_data`, `int64_data`, `uint64_data` (u32, u64), and
//! `int32_data` for everything narrower (i8 … u16, bool, and f16 as its bit pattern). Data stored
//! outside the file (`data_location = EXTERNAL`) and types tensors cannot carry are refused.
//!
//! And the one edit client tools make to a model: [`freeze`] makes graph inputs constants of it.

use prost::Message;

use verinfer_primitives::tensor::{element_count, DType, Tensor};

/// The fields of `onnx.TensorProto` a tensor file uses (tags as in `onnx.proto`).
#[derive(Clone, PartialEq, Message)]
struct TensorProto {
	#[prost(int64, repeated, tag = "1")]
	dims: Vec<i64>,
	#[prost(int32, tag = "2")]
	data_type: i32,
	#[prost(float, repeated, tag = "4")]
	float_data: Vec<f32>,
	#[prost(int32, repeated, tag = "5")]
	int32_data: Vec<i32>,
	#[prost(int64, repeated, tag = "7")]
	int64_data: Vec<i64>,
	#[prost(bytes = "vec", tag = "9")]
	raw_data: Vec<u8>,
	#[prost(string, tag = "8")]
	name: String,
	#[prost(double, repeated, tag = "10")]
	double_data: Vec<f64>,
	#[prost(uint64, repeated, tag = "11")]
	uint64_data: Vec<u64>,
	#[prost(int32, optional, tag = "14")]
	data_location: Option<i32>,
}

/// `TensorProto.DataLocation.EXTERNAL`.
const EXTERNAL: i32 = 1;

/// The dtype of an ONNX `TensorProto.DataType`.
fn dtype(data_type: i32) -> Result<DType, String> {
	Ok(match data_type {
		1 => DType::F32,
		2 => DType::U8,
		3 => DType::I8,
		4 => DType::U16,
		5 => DType::I16,
		6 => DType::I32,
		7 => DType::I64,
		9 => DType::Bool,
		10 => DType::F16,
		11 => DType::F64,
		12 => DType::U32,
		13 => DType::U64,
		other => return Err(format!("ONNX data type {other} is not supported")),
	})
}

/// The ONNX `TensorProto.DataType` of a dtype.
fn data_type(dtype: DType) -> i32 {
	match dtype {
		DType::F32 => 1,
		DType::U8 => 2,
		DType::I8 => 3,
		DType::U16 => 4,
		DType::I16 => 5,
		DType::I32 => 6,
		DType::I64 => 7,
		DType::Bool => 9,
		DType::F16 => 10,
		DType::F64 => 11,
		DType::U32 => 12,
		DType::U64 => 13,
	}
}

/// The fields of `onnx.ModelProto` [`freeze`] reads and writes: the graph (tag 7).
#[derive(Clone, PartialEq, Message)]
struct ModelGraph {
	#[prost(message, optional, tag = "7")]
	graph: Option<GraphParts>,
}

/// The fields of `onnx.GraphProto` [`freeze`] reads and writes.
#[derive(Clone, PartialEq, Message)]
struct GraphParts {
	#[prost(message, repeated, tag = "5")]
	initializer: Vec<TensorProto>,
	#[prost(message, repeated, tag = "11")]
	input: Vec<Named>,
}

/// A message whose field 1 is its name (`onnx.ValueInfoProto`).
#[derive(Clone, PartialEq, Message)]
struct Named {
	#[prost(string, tag = "1")]
	name: String,
}

/// The names of an ONNX model's inputs, in order: the graph inputs that no initializer sets.
pub fn model_inputs(model: &[u8]) -> Result<Vec<String>, String> {
	let parts = ModelGraph::decode(model).map_err(|e| format!("not an ONNX model: {e}"))?;
	let graph = parts.graph.unwrap_or_default();
	let initialized: Vec<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
	Ok(graph
		.input
		.into_iter()
		.map(|input| input.name)
		.filter(|name| !initialized.contains(&name.as_str()))
		.collect())
}

/// `model` with the named inputs made constants of it: each gets an initializer holding its
/// value, which makes it a constant for the engine (and for ONNX runtimes) and no longer an input
/// of a call. What a model owner does with parameters an exporter left as graph inputs (axes,
/// shapes, scales), so that the engine can fix every shape at registration.
///
/// The model's own bytes are kept as they are, and the initializers appended as a second
/// `ModelProto` message holding only them: protobuf merges the two when it reads the file (the
/// graph's fields merge, its repeated initializers concatenate), so nothing of the model is
/// decoded and re-encoded, and nothing a partial schema does not know is lost.
pub fn freeze(model: &[u8], values: &[(String, Tensor)]) -> Result<Vec<u8>, String> {
	let inputs = model_inputs(model)?;
	let mut initializer = Vec::with_capacity(values.len());
	for (name, tensor) in values {
		if !inputs.contains(name) {
			return Err(format!(
				"`{name}` is not an input of the model (its inputs: {})",
				inputs.join(", ")
			));
		}
		if values.iter().filter(|(other, _)| other == name).count() > 1 {
			return Err(format!("`{name}` is given twice"));
		}
		initializer.push(TensorProto {
			name: name.clone(),
			dims: tensor.shape.iter().map(|&d| d as i64).collect(),
			data_type: data_type(tensor.dtype),
			raw_data: tensor.data.clone(),
			..Default::default()
		});
	}
	let patch = ModelGraph { graph: Some(GraphParts { initializer, input: Vec::new() }) };
	let mut frozen = model.to_vec();
	frozen.extend(patch.encode_to_vec());
	Ok(frozen)
}

/// Reads a tensor from a serialised ONNX `TensorProto`.
pub fn from_tensor_proto(bytes: &[u8]) -> Result<Tensor, String> {
	let proto = TensorProto::decode(bytes).map_err(|e| format!("not a TensorProto: {e}"))?;
	if proto.data_location == Some(EXTERNAL) {
		return Err("the data is stored outside the file (external data)".into());
	}
	let dtype = dtype(proto.data_type)?;
	let shape = proto
		.dims
		.iter()
		.map(|&d| u32::try_from(d).map_err(|_| format!("dimension {d} is out of range")))
		.collect::<Result<Vec<u32>, _>>()?;
	let count = element_count(&shape).map_err(|e| format!("{e:?}"))?;
	let data = if !proto.raw_data.is_empty() {
		proto.raw_data
	} else {
		let found = match dtype {
			DType::F32 => proto.float_data.len(),
			DType::F64 => proto.double_data.len(),
			DType::I64 => proto.int64_data.len(),
			DType::U32 | DType::U64 => proto.uint64_data.len(),
			_ => proto.int32_data.len(),
		};
		if found as u64 != count {
			return Err(format!("{found} elements for a shape of {count}"));
		}
		typed_data(dtype, &proto)?
	};
	let tensor = Tensor { dtype, shape, data };
	tensor.validate().map_err(|e| format!("{e:?}"))?;
	Ok(tensor)
}

/// The little-endian bytes of the typed field `dtype` uses, each value checked against the dtype's
/// range (ONNX widens narrow types to int32, so a file can claim more than the type holds).
fn typed_data(dtype: DType, proto: &TensorProto) -> Result<Vec<u8>, String> {
	let narrow = |bytes: usize, min: i64, max: i64| -> Result<Vec<u8>, String> {
		let mut data = Vec::with_capacity(proto.int32_data.len() * bytes);
		for &value in &proto.int32_data {
			let value = value as i64;
			if !(min..=max).contains(&value) {
				return Err(format!("{value} does not fit {}", dtype.name()));
			}
			data.extend_from_slice(&value.to_le_bytes()[..bytes]);
		}
		Ok(data)
	};
	Ok(match dtype {
		DType::F32 => proto.float_data.iter().flat_map(|v| v.to_le_bytes()).collect(),
		DType::F64 => proto.double_data.iter().flat_map(|v| v.to_le_bytes()).collect(),
		DType::I64 => proto.int64_data.iter().flat_map(|v| v.to_le_bytes()).collect(),
		DType::U64 => proto.uint64_data.iter().flat_map(|v| v.to_le_bytes()).collect(),
		DType::U32 => proto
			.uint64_data
			.iter()
			.map(|&v| u32::try_from(v).map(u32::to_le_bytes))
			.collect::<Result<Vec<_>, _>>()
			.map_err(|_| "a value does not fit u32".to_string())?
			.concat(),
		DType::I32 => narrow(4, i32::MIN as i64, i32::MAX as i64)?,
		DType::I16 => narrow(2, i16::MIN as i64, i16::MAX as i64)?,
		DType::U16 | DType::F16 => narrow(2, 0, u16::MAX as i64)?,
		DType::I8 => narrow(1, i8::MIN as i64, i8::MAX as i64)?,
		DType::U8 => narrow(1, 0, u8::MAX as i64)?,
		DType::Bool => narrow(1, 0, 1)?,
	})
}

#[cfg(test)]
mod tests {
	use super::*;

	fn proto(dims: &[i64], data_type: i32) -> TensorProto {
		TensorProto { dims: dims.to_vec(), data_type, ..Default::default() }
	}

	#[test]
	fn typed_fields_become_little_endian_bytes() {
		let mut p = proto(&[2], 5);
		p.int32_data = vec![-2, 300];
		let tensor = from_tensor_proto(&p.encode_to_vec()).unwrap();
		assert_eq!((tensor.dtype, tensor.shape.clone()), (DType::I16, vec![2]));
		assert_eq!(tensor.data, [(-2i16).to_le_bytes(), 300i16.to_le_bytes()].concat());
	}

	#[test]
	fn values_outside_the_declared_type_are_refused() {
		let mut p = proto(&[1], 3);
		p.int32_data = vec![200];
		assert_eq!(from_tensor_proto(&p.encode_to_vec()).unwrap_err(), "200 does not fit i8");
		let mut p = proto(&[1], 9);
		p.int32_data = vec![2];
		assert!(from_tensor_proto(&p.encode_to_vec()).is_err());
	}

	#[test]
	fn an_element_count_that_contradicts_the_shape_is_refused() {
		let mut p = proto(&[2, 2], 1);
		p.float_data = vec![1.0; 3];
		assert_eq!(
			from_tensor_proto(&p.encode_to_vec()).unwrap_err(),
			"3 elements for a shape of 4"
		);
		let mut p = proto(&[2, 2], 1);
		p.raw_data = vec![0; 15];
		assert!(from_tensor_proto(&p.encode_to_vec()).is_err());
	}

	fn model(initializers: &[&str], inputs: &[&str]) -> Vec<u8> {
		let graph = GraphParts {
			initializer: initializers
				.iter()
				.map(|name| TensorProto { name: name.to_string(), ..proto(&[1], 1) })
				.collect(),
			input: inputs.iter().map(|name| Named { name: name.to_string() }).collect(),
		};
		ModelGraph { graph: Some(graph) }.encode_to_vec()
	}

	#[test]
	fn frozen_inputs_become_initializers_and_leave_the_inputs() {
		let original = model(&["w"], &["x", "axes", "w"]);
		assert_eq!(model_inputs(&original).unwrap(), ["x", "axes"]);
		let axes = Tensor { dtype: DType::I64, shape: vec![1], data: 2i64.to_le_bytes().to_vec() };
		let frozen = freeze(&original, &[("axes".into(), axes.clone())]).unwrap();
		assert!(frozen.starts_with(&original), "the model's own bytes are kept");
		assert_eq!(model_inputs(&frozen).unwrap(), ["x"]);
		let graph = ModelGraph::decode(&frozen[..]).unwrap().graph.unwrap();
		let added = graph.initializer.iter().find(|t| t.name == "axes").unwrap();
		assert_eq!(from_tensor_proto(&added.encode_to_vec()).unwrap(), axes);
		assert!(freeze(&original, &[("w".into(), axes.clone())])
			.unwrap_err()
			.contains("not an input"));
		let twice = [("axes".into(), axes.clone()), ("axes".into(), axes)];
		assert!(freeze(&original, &twice).unwrap_err().contains("twice"));
	}

	#[test]
	fn external_data_strings_and_garbage_are_refused_with_the_reason() {
		let mut p = proto(&[1], 1);
		p.data_location = Some(EXTERNAL);
		assert!(from_tensor_proto(&p.encode_to_vec()).unwrap_err().contains("external"));
		assert!(from_tensor_proto(&proto(&[1], 8).encode_to_vec())
			.unwrap_err()
			.contains("data type 8"));
		assert!(from_tensor_proto(&[0xff, 0xff, 0xff]).unwrap_err().contains("not a TensorProto"));
		assert!(from_tensor_proto(&proto(&[-1], 1).encode_to_vec()).unwrap_err().contains("-1"));
	}
}
