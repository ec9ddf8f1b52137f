//! The static analysis: what a model is and whether the chain may run it, computed from the ONNX
//! protobuf and tract's typed graph before anything runs.
//!
//! Two stages. The protobuf stage counts nodes, operators and parameters and checks the
//! allowlist; it never hands a refused model to tract, so a hostile graph costs one decode.
//! The tract stage types the graph for the concrete input shapes, declutters it, and sums the
//! cost and the intermediate bytes node by node.

use std::collections::BTreeMap;

use prost::Message;
use tract_onnx::{
	pb::{self, tensor_proto::DataLocation, tensor_shape_proto::dimension, type_proto},
	prelude::*,
	tract_core::ops::{konst::Const, logic::IfThenElse, scan::Scan, Cost as TractCost},
};
use verinfer_primitives::{
	analysis::{
		is_allowed, Analysis, Cost, OperatorCount, Refusal, TensorSpec, MAX_INTERMEDIATE_BYTES,
		MAX_MODEL_BYTES, MAX_MULTIPLY_ADDS, MAX_NODES, MAX_PARAMETERS, MAX_RANK,
	},
	engine::EngineError,
	DeclaredShapes,
};

use crate::{
	dtype::{onnx_dtype, our_dtype},
	support,
};

/// Analyses `bytes`. `Err` when they are not a model at all; otherwise the analysis, and the
/// typed graph when the model is accepted.
pub fn analyse(
	bytes: &[u8],
	declared: &DeclaredShapes,
) -> Result<(Analysis, Option<TypedModel>), EngineError> {
	let size = bytes.len() as u64;
	if size > MAX_MODEL_BYTES {
		return Err(EngineError::ModelTooLarge { bytes: size, limit: MAX_MODEL_BYTES });
	}
	let proto = pb::ModelProto::decode(bytes).map_err(|e| malformed(&e))?;
	let graph = proto.graph.as_ref().ok_or_else(|| malformed(&"the model has no graph"))?;

	let mut analysis = Analysis {
		inputs: Vec::new(),
		outputs: Vec::new(),
		operators: Vec::new(),
		nodes: 0,
		parameters: 0,
		cost: Cost::default(),
		refusals: Vec::new(),
	};
	let opset = proto
		.opset_import
		.iter()
		.find(|import| matches!(import.domain.as_str(), "" | "ai.onnx"))
		.map_or(0, |import| import.version);
	let mut census = Census { opset, ..Census::default() };
	census.graph(graph);
	analysis.nodes = census.nodes;
	analysis.parameters = census.parameters;
	analysis.cost.parameter_bytes = census.parameter_bytes;
	analysis.operators = census
		.operators
		.iter()
		.map(|(operator, &count)| OperatorCount { operator: operator.clone().into_bytes(), count })
		.collect();
	analysis.refusals = census.refusals;
	// Operators of other domains than the default one are named `domain:OpType`. An operator
	// refused node by node with a reason already is not repeated.
	let explained: Vec<Vec<u8>> = analysis
		.refusals
		.iter()
		.filter_map(|refusal| match refusal {
			Refusal::NodeNotSupported { operator, .. } => Some(operator.clone()),
			_ => None,
		})
		.collect();
	for operator in census.operators.keys() {
		if explained.iter().any(|explained| explained == operator.as_bytes()) {
			continue;
		}
		let (domain, op_type) = operator.split_once(':').unwrap_or(("", operator));
		if !is_allowed(domain, op_type) {
			analysis.refusals.push(Refusal::OperatorNotAllowed(operator.clone().into_bytes()));
		}
	}
	if census.nodes > MAX_NODES {
		analysis.refusals.push(Refusal::TooManyNodes { nodes: census.nodes, limit: MAX_NODES });
	}
	if census.parameters > MAX_PARAMETERS {
		analysis.refusals.push(Refusal::TooManyParameters {
			parameters: census.parameters,
			limit: MAX_PARAMETERS,
		});
	}

	let inputs = match graph_inputs(graph, declared) {
		Ok(inputs) => inputs,
		Err(refusals) => {
			analysis.refusals.extend(refusals);
			return Ok((analysis, None));
		},
	};
	if !analysis.refusals.is_empty() {
		return Ok((analysis, None));
	}
	let output_names: Vec<String> = graph.output.iter().map(|o| o.name.clone()).collect();

	match typed(&proto, &inputs) {
		Ok(model) => {
			drop(proto);
			measure(&model, &inputs, &output_names, &mut analysis);
			let accepted = analysis.refusals.is_empty();
			Ok((analysis, accepted.then_some(model)))
		},
		Err(error) => {
			analysis.refusals.push(Refusal::Unanalysable(message(&error)));
			Ok((analysis, None))
		},
	}
}

fn malformed(error: &dyn std::fmt::Display) -> EngineError {
	EngineError::MalformedModel(format!("{error}").into_bytes())
}

/// tract's error with its causes, as bytes.
pub fn message(error: &TractError) -> Vec<u8> {
	format!("{error:#}").into_bytes()
}

/// What the protobuf says, before tract sees it.
#[derive(Default)]
struct Census {
	/// The model's opset of the default domain.
	opset: i64,
	nodes: u64,
	operators: BTreeMap<String, u32>,
	parameters: u64,
	parameter_bytes: u64,
	refusals: Vec<Refusal>,
}

impl Census {
	/// Counts `graph` and its subgraphs. The decoder bounds nesting (prost's recursion limit), so
	/// the recursion here is bounded too.
	fn graph(&mut self, graph: &pb::GraphProto) {
		for tensor in &graph.initializer {
			self.tensor(tensor);
		}
		for node in &graph.node {
			self.nodes += 1;
			let operator = match node.domain.as_str() {
				"" | "ai.onnx" => node.op_type.clone(),
				domain => format!("{domain}:{}", node.op_type),
			};
			if let Some(reason) = support::unsupported(node, self.opset) {
				// Unnamed nodes are named by their first output, as tract names them.
				let name = match node.name.as_str() {
					"" => node.output.first().cloned().unwrap_or_default(),
					name => name.to_string(),
				};
				self.refusals.push(Refusal::NodeNotSupported {
					node: name.into_bytes(),
					operator: operator.clone().into_bytes(),
					reason: reason.into_bytes(),
				});
			}
			let count = self.operators.entry(operator).or_default();
			*count = count.saturating_add(1);
			for attribute in &node.attribute {
				if let Some(tensor) = &attribute.t {
					self.tensor(tensor);
				}
				for tensor in &attribute.tensors {
					self.tensor(tensor);
				}
				if let Some(graph) = &attribute.g {
					self.graph(graph);
				}
				for graph in &attribute.graphs {
					self.graph(graph);
				}
			}
		}
	}

	fn tensor(&mut self, tensor: &pb::TensorProto) {
		let elements = tensor.dims.iter().fold(1u64, |n, &dim| n.saturating_mul(dim.max(0) as u64));
		let element_size = onnx_dtype(tensor.data_type).map_or(8, |dtype| dtype.size() as u64);
		self.parameters = self.parameters.saturating_add(elements);
		self.parameter_bytes =
			self.parameter_bytes.saturating_add(elements.saturating_mul(element_size));
		if tensor.data_location == Some(DataLocation::External as i32)
			|| !tensor.external_data.is_empty()
		{
			self.refusals.push(Refusal::ExternalData { tensor: tensor.name.clone().into_bytes() });
		}
	}
}

/// The model's inputs (graph inputs that are not initializers) with their concrete shapes: the
/// declared one where given, else the model's own, which must then be concrete.
fn graph_inputs(
	graph: &pb::GraphProto,
	declared: &DeclaredShapes,
) -> Result<Vec<TensorSpec>, Vec<Refusal>> {
	let initializers: std::collections::BTreeSet<&str> =
		graph.initializer.iter().map(|t| t.name.as_str()).collect();
	let inputs: Vec<&pb::ValueInfoProto> =
		graph.input.iter().filter(|i| !initializers.contains(i.name.as_str())).collect();
	let mut refusals = Vec::new();
	if !declared.is_empty() && declared.len() != inputs.len() {
		refusals.push(Refusal::DeclaredShapeMismatch {
			input: declared.len() as u32,
			message: format!("{} shapes declared for {} inputs", declared.len(), inputs.len())
				.into_bytes(),
		});
		return Err(refusals);
	}
	let mut specs = Vec::new();
	for (index, input) in inputs.iter().enumerate() {
		let name = input.name.clone().into_bytes();
		let Some(type_proto::Value::TensorType(tensor)) =
			input.r#type.as_ref().and_then(|t| t.value.as_ref())
		else {
			refusals.push(Refusal::UnsupportedType { tensor: name, dtype: b"non-tensor".to_vec() });
			continue;
		};
		let Some(dtype) = onnx_dtype(tensor.elem_type) else {
			refusals.push(Refusal::UnsupportedType {
				tensor: name,
				dtype: onnx_type_name(tensor.elem_type).into_bytes(),
			});
			continue;
		};
		let model_dims: Vec<Option<u64>> = tensor
			.shape
			.as_ref()
			.map(|shape| {
				shape
					.dim
					.iter()
					.map(|d| match d.value {
						Some(dimension::Value::DimValue(v)) if v >= 0 => Some(v as u64),
						_ => None,
					})
					.collect()
			})
			.unwrap_or_default();
		let shape = match declared.get(index).cloned().flatten() {
			Some(shape) => {
				let fits = shape.len() == model_dims.len()
					&& shape
						.iter()
						.zip(&model_dims)
						.all(|(&d, model)| model.is_none_or(|m| m == d as u64));
				if tensor.shape.is_some() && !fits {
					refusals.push(Refusal::DeclaredShapeMismatch {
						input: index as u32,
						message: format!(
							"{shape:?} does not fit the model's {}",
							describe_dims(&model_dims)
						)
						.into_bytes(),
					});
					continue;
				}
				shape
			},
			None => {
				if tensor.shape.is_none() {
					refusals.push(Refusal::DynamicDimension { tensor: name, axis: 0 });
					continue;
				}
				match model_dims.iter().position(|d| d.is_none_or(|d| d > u32::MAX as u64)) {
					Some(axis) => {
						refusals
							.push(Refusal::DynamicDimension { tensor: name, axis: axis as u32 });
						continue;
					},
					None => model_dims.iter().map(|d| d.unwrap_or(0) as u32).collect(),
				}
			},
		};
		if shape.len() as u32 > MAX_RANK {
			refusals.push(Refusal::RankTooHigh { tensor: name, rank: shape.len() as u32 });
			continue;
		}
		specs.push(TensorSpec { name, dtype, shape });
	}
	let too_large = specs.iter().map(TensorSpec::byte_len).fold(0u64, u64::saturating_add);
	if too_large > MAX_INTERMEDIATE_BYTES {
		refusals.push(Refusal::IntermediatesTooLarge {
			bytes: too_large,
			limit: MAX_INTERMEDIATE_BYTES,
		});
	}
	if refusals.is_empty() {
		Ok(specs)
	} else {
		Err(refusals)
	}
}

fn describe_dims(dims: &[Option<u64>]) -> String {
	let dims: Vec<String> =
		dims.iter().map(|d| d.map_or_else(|| "?".to_string(), |d| d.to_string())).collect();
	format!("[{}]", dims.join(", "))
}

fn onnx_type_name(elem_type: i32) -> String {
	pb::tensor_proto::DataType::try_from(elem_type)
		.map(|t| t.as_str_name().to_string())
		.unwrap_or_else(|_| format!("type {elem_type}"))
}

/// tract's typed, decluttered graph for the concrete input shapes.
fn typed(proto: &pb::ModelProto, inputs: &[TensorSpec]) -> TractResult<TypedModel> {
	let mut model = crate::ops::onnx().model_for_proto_model(proto)?;
	for (index, spec) in inputs.iter().enumerate() {
		let shape: TVec<usize> = spec.shape.iter().map(|&d| d as usize).collect();
		model.set_input_fact(
			index,
			InferenceFact::dt_shape(crate::dtype::tract(spec.dtype), shape),
		)?;
	}
	model.into_typed()?.into_decluttered()
}

/// Fills in the specs and the cost from the typed graph, refusing what the limits do not allow.
fn measure(
	model: &TypedModel,
	inputs: &[TensorSpec],
	output_names: &[String],
	analysis: &mut Analysis,
) {
	analysis.inputs = inputs.to_vec();
	let mut cost = Cost { parameter_bytes: analysis.cost.parameter_bytes, ..Cost::default() };
	for node in model.nodes() {
		if node.op_is::<Const>() {
			continue;
		}
		for (axis_owner, fact) in node.outputs.iter().map(|o| (&node.name, &o.fact)) {
			let Some(shape) = fact.shape.as_concrete() else {
				let axis = fact.shape.iter().position(|d| d.to_i64().is_err()).unwrap_or(0);
				analysis.refusals.push(Refusal::DynamicDimension {
					tensor: axis_owner.clone().into_bytes(),
					axis: axis as u32,
				});
				return;
			};
			if shape.len() as u32 > MAX_RANK {
				analysis.refusals.push(Refusal::RankTooHigh {
					tensor: axis_owner.clone().into_bytes(),
					rank: shape.len() as u32,
				});
				return;
			}
			let elements = shape.iter().fold(1u64, |n, &d| n.saturating_mul(d as u64));
			cost.intermediate_bytes = cost
				.intermediate_bytes
				.saturating_add(elements.saturating_mul(fact.datum_type.size_of() as u64));
		}
		let work = node_work(model, node);
		cost.multiply_adds = cost.multiply_adds.saturating_add(work.multiply_adds);
		cost.elements_touched = cost.elements_touched.saturating_add(work.elements_touched);
	}
	analysis.outputs = match model.output_outlets() {
		Ok(outlets) => outlets
			.iter()
			.enumerate()
			.filter_map(|(index, &outlet)| {
				let fact = model.outlet_fact(outlet).ok()?;
				let name = output_names
					.get(index)
					.cloned()
					.unwrap_or_else(|| model.node(outlet.node).name.clone())
					.into_bytes();
				let Some(dtype) = our_dtype(fact.datum_type) else {
					analysis.refusals.push(Refusal::UnsupportedType {
						tensor: name,
						dtype: format!("{:?}", fact.datum_type).into_bytes(),
					});
					return None;
				};
				let shape = fact.shape.as_concrete()?.iter().map(|&d| d as u32).collect();
				Some(TensorSpec { name, dtype, shape })
			})
			.collect(),
		Err(error) => {
			analysis.refusals.push(Refusal::Unanalysable(message(&error)));
			Vec::new()
		},
	};
	if cost.intermediate_bytes > MAX_INTERMEDIATE_BYTES {
		analysis.refusals.push(Refusal::IntermediatesTooLarge {
			bytes: cost.intermediate_bytes,
			limit: MAX_INTERMEDIATE_BYTES,
		});
	}
	if cost.multiply_adds > MAX_MULTIPLY_ADDS {
		analysis.refusals.push(Refusal::TooCostly {
			multiply_adds: cost.multiply_adds,
			limit: MAX_MULTIPLY_ADDS,
		});
	}
	analysis.cost = cost;
}

/// The static work of one node: the elements it reads and writes and the multiply-adds and
/// divisions tract counts; for a loop (`Scan`, which the recurrent operators become) its body's
/// work times its iterations, for a conditional its costlier branch.
#[derive(Clone, Copy, Default)]
struct Work {
	multiply_adds: u64,
	elements_touched: u64,
}

impl Work {
	fn add(self, other: Work) -> Work {
		Work {
			multiply_adds: self.multiply_adds.saturating_add(other.multiply_adds),
			elements_touched: self.elements_touched.saturating_add(other.elements_touched),
		}
	}

	fn times(self, n: u64) -> Work {
		Work {
			multiply_adds: self.multiply_adds.saturating_mul(n),
			elements_touched: self.elements_touched.saturating_mul(n),
		}
	}

	fn max(self, other: Work) -> Work {
		Work {
			multiply_adds: self.multiply_adds.max(other.multiply_adds),
			elements_touched: self.elements_touched.max(other.elements_touched),
		}
	}
}

/// The work of every node of `model`, constants aside.
fn graph_work(model: &TypedModel) -> Work {
	model
		.nodes()
		.iter()
		.filter(|node| !node.op_is::<Const>())
		.fold(Work::default(), |work, node| work.add(node_work(model, node)))
}

fn node_work(model: &TypedModel, node: &TypedNode) -> Work {
	let elements = |fact: &TypedFact| {
		fact.shape
			.as_concrete()
			.map_or(0, |shape| shape.iter().fold(1u64, |n, &d| n.saturating_mul(d as u64)))
	};
	let mut work = Work {
		elements_touched: node
			.outputs
			.iter()
			.fold(0u64, |sum, output| sum.saturating_add(elements(&output.fact))),
		..Work::default()
	};
	let Ok(input_facts) = model.node_input_facts(node.id) else { return work };
	for fact in &input_facts {
		work.elements_touched = work.elements_touched.saturating_add(elements(fact));
	}
	if let Ok(costs) = node.op.cost(&input_facts) {
		for (kind, count) in costs {
			let count = count.to_i64().map_or(u64::MAX, |c| c.max(0) as u64);
			match kind {
				TractCost::FMA(_) => work.multiply_adds = work.multiply_adds.saturating_add(count),
				TractCost::Div(_) => {
					work.elements_touched = work.elements_touched.saturating_add(count)
				},
				_ => {},
			}
		}
	}
	if let Some(scan) = node.op_as::<Scan>() {
		let iterations = scan
			.iteration_count(&input_facts)
			.and_then(|count| count.to_i64().ok())
			.map_or(u64::MAX, |count| count.max(0) as u64);
		work = work.add(graph_work(&scan.body).times(iterations));
	}
	if let Some(branches) = node.op_as::<IfThenElse>() {
		work = work.add(graph_work(&branches.then_body).max(graph_work(&branches.else_body)));
	}
	work
}
