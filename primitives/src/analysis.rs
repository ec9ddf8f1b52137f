//! What the engine says about a model before running it: its tensor specs, operators, size, static
//! cost, and whether the chain may run it ([`Analysis::refusals`]), with the limits that decide.
//!
//! An analysis is computed inside the engine blob, so it is the same on every validator and can be
//! stored on chain at registration and used to price every call before it runs.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use scale_info::TypeInfo;

use crate::tensor::DType;

/// Largest ONNX model the engine accepts: 128 MiB. ResNet-50 in f32 is 98 MiB. While a model
/// loads, the engine holds its bytes, the decoded protobuf and tract's tensors (about three
/// copies), which must fit with the intermediates in [`ENGINE_MEMORY_LIMIT`].
pub const MAX_MODEL_BYTES: u64 = 128 << 20;

/// Most parameters (initializer elements): 2^26, about 67 M. Bounds weights independently of
/// their dtype (128 MiB of int8 weights would be 128 M parameters); ResNet-50 has 25.6 M.
pub const MAX_PARAMETERS: u64 = 1 << 26;

/// Most nodes in the graph, subgraphs included: 4,096. Large vision and language models in ONNX
/// have 200–3,000 nodes; tract's analysis and optimisation passes grow faster than linearly with
/// the node count, and every validator pays them at registration.
pub const MAX_NODES: u64 = 4_096;

/// Most dimensions of one tensor: 8. ONNX models rarely exceed 6; bounding the rank bounds the
/// index arithmetic of every kernel.
pub const MAX_RANK: u32 = 8;

/// Largest sum of the bytes of every intermediate and output tensor of one call: 512 MiB.
/// An upper bound on what a call allocates besides the weights (tract frees intermediates early,
/// so real use is lower), chosen so that weights + intermediates stay inside
/// [`ENGINE_MEMORY_LIMIT`].
pub const MAX_INTERMEDIATE_BYTES: u64 = 512 << 20;

/// Largest static cost of one call: 2^34 ≈ 17 G multiply-adds. ResNet-50 is 4.1 G. Well beyond
/// what one block's execution time allows in the engine; the pallet's weight limit is the
/// tighter bound. This one keeps the cost arithmetic of hostile models far from overflow.
pub const MAX_MULTIPLY_ADDS: u64 = 1 << 34;

/// The most linear memory one engine instance may use: 1 GiB. Far inside the 4 GiB a 32-bit
/// Wasm instance can address. It is a constant of the protocol, not a property of the host, so a
/// model that exceeds it fails in the same way on every validator.
pub const ENGINE_MEMORY_LIMIT: u64 = 1 << 30;

/// Most fuel analysing or loading one model may use (see [`Limits`](crate::engine::Limits)):
/// parsing, typing and optimising the graph. 2^36 ≈ 69 G units; measured on an AMD EPYC, loads
/// run at 0.2–0.6 ns a unit, so this is tens of seconds: a bound on the worst registration, not
/// its price (registration is to be charged the fuel it measured).
pub const MAX_LOAD_FUEL: u64 = 1 << 36;

/// Most fuel one call may use: 2^32 ≈ 4.3 G units, a few seconds at the 0.5–0.7 ns a unit
/// measured for runs. The corpus' models use 60 k (`mlp`) to 3.3 M (`cnn`).
pub const MAX_CALL_FUEL: u64 = 1 << 32;

/// The ONNX operators the engine runs (domain `ai.onnx`, named without domain), sorted.
///
/// Inside the Wasm engine every arithmetic operation is IEEE-754 exact and every transcendental
/// function is the blob's own software libm, so these give the same bits on every CPU. Control
/// flow and recurrence (`If`, `Scan`, `LSTM`, `GRU`, `RNN`) are here: every call is metered, so
/// their work is bounded by the fuel the call paid for, whatever the branch or the sequence. Not
/// here, and refused at analysis: random operators (`RandomNormal`, `RandomUniform`, `…Like`,
/// `Multinomial`, `Bernoulli`), `Loop` (tract has none), operators whose output shape depends on
/// input values (`NonZero`, `Unique`, `Compress`, `NonMaxSuppression`), string and sequence
/// operators, and every other domain (`com.microsoft` …) but `ai.onnx.ml`
/// ([`ALLOWED_ML_OPERATORS`]).
pub const ALLOWED_OPERATORS: &[&str] = &[
	"Abs",
	"Acos",
	"Acosh",
	"Add",
	"And",
	"ArgMax",
	"ArgMin",
	"Asin",
	"Asinh",
	"Atan",
	"Atanh",
	"AveragePool",
	"BatchNormalization",
	"BitShift",
	"BitwiseAnd",
	"BitwiseNot",
	"BitwiseOr",
	"BitwiseXor",
	"BlackmanWindow",
	"Cast",
	"CastLike",
	"Ceil",
	"Celu",
	"Clip",
	"Concat",
	"Constant",
	"ConstantOfShape",
	"Conv",
	"ConvInteger",
	"ConvTranspose",
	"Cos",
	"Cosh",
	"CumSum",
	"DFT",
	"DepthToSpace",
	"DequantizeLinear",
	"Div",
	"Dropout",
	"DynamicQuantizeLinear",
	"Einsum",
	"Elu",
	"Equal",
	"Erf",
	"Exp",
	"Expand",
	"EyeLike",
	"Flatten",
	"Floor",
	"GRU",
	"Gather",
	"GatherElements",
	"GatherND",
	"Gelu",
	"Gemm",
	"GlobalAveragePool",
	"GlobalLpPool",
	"GlobalMaxPool",
	"Greater",
	"GreaterOrEqual",
	"GridSample",
	"GroupNormalization",
	"HammingWindow",
	"HannWindow",
	"HardSigmoid",
	"HardSwish",
	"Hardmax",
	"Identity",
	"If",
	"InstanceNormalization",
	"IsInf",
	"IsNaN",
	"LRN",
	"LSTM",
	"LayerNormalization",
	"LeakyRelu",
	"Less",
	"LessOrEqual",
	"Log",
	"LogSoftmax",
	"LpNormalization",
	"MatMul",
	"MatMulInteger",
	"Max",
	"MaxPool",
	"Mean",
	"MeanVarianceNormalization",
	"MelWeightMatrix",
	"Min",
	"Mish",
	"Mod",
	"Mul",
	"Neg",
	"Not",
	"OneHot",
	"Or",
	"PRelu",
	"Pad",
	"Pow",
	"QLinearConv",
	"QLinearMatMul",
	"QuantizeLinear",
	"RNN",
	"Range",
	"Reciprocal",
	"ReduceL1",
	"ReduceL2",
	"ReduceLogSum",
	"ReduceLogSumExp",
	"ReduceMax",
	"ReduceMean",
	"ReduceMin",
	"ReduceProd",
	"ReduceSum",
	"ReduceSumSquare",
	"Relu",
	"Reshape",
	"Resize",
	"Round",
	"STFT",
	"Scan",
	"Scatter",
	"ScatterElements",
	"ScatterND",
	"Selu",
	"Shape",
	"Shrink",
	"Sigmoid",
	"Sign",
	"Sin",
	"Sinh",
	"Size",
	"Slice",
	"Softmax",
	"Softplus",
	"Softsign",
	"SpaceToDepth",
	"Split",
	"Sqrt",
	"Squeeze",
	"Sub",
	"Sum",
	"Tan",
	"Tanh",
	"ThresholdedRelu",
	"Tile",
	"TopK",
	"Transpose",
	"Trilu",
	"Unsqueeze",
	"Upsample",
	"Where",
	"Xor",
];

/// The `ai.onnx.ml` operators the engine runs, sorted: the engine's own implementations, written
/// to the ONNX-ML specification and onnxruntime's kernels (tree ensembles of ml opsets 1–3 and
/// 5, linear models, SVMs, and the preprocessing converters put before them). Not here:
/// `ZipMap`, `DictVectorizer`, `CastMap` and `FeatureVectorizer`, which take or give maps and
/// sequences the chain's tensors cannot hold, and `CategoryMapper`, which maps strings.
pub const ALLOWED_ML_OPERATORS: &[&str] = &[
	"ArrayFeatureExtractor",
	"Binarizer",
	"Imputer",
	"LabelEncoder",
	"LinearClassifier",
	"LinearRegressor",
	"Normalizer",
	"OneHotEncoder",
	"SVMClassifier",
	"SVMRegressor",
	"Scaler",
	"TreeEnsemble",
	"TreeEnsembleClassifier",
	"TreeEnsembleRegressor",
];

/// Whether the engine may run operator `op_type` of ONNX domain `domain`.
pub fn is_allowed(domain: &str, op_type: &str) -> bool {
	match domain {
		"" | "ai.onnx" => ALLOWED_OPERATORS.binary_search(&op_type).is_ok(),
		"ai.onnx.ml" => ALLOWED_ML_OPERATORS.binary_search(&op_type).is_ok(),
		_ => false,
	}
}

/// The name, dtype and concrete shape of a model input or output.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct TensorSpec {
	/// The name in the ONNX graph (UTF-8).
	pub name: Vec<u8>,
	pub dtype: DType,
	pub shape: Vec<u32>,
}

impl TensorSpec {
	/// Bytes of a tensor of this spec, saturating.
	pub fn byte_len(&self) -> u64 {
		self.shape
			.iter()
			.fold(self.dtype.size() as u64, |bytes, &dim| bytes.saturating_mul(dim as u64))
	}
}

/// How many nodes of one operator type the graph holds.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct OperatorCount {
	/// `OpType`, or `domain:OpType` outside the default ONNX domain (UTF-8).
	pub operator: Vec<u8>,
	pub count: u32,
}

/// The static cost of one call, computed from the graph and the concrete shapes before it runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Cost {
	/// Multiply-adds of the linear operators (convolutions, matrix products).
	pub multiply_adds: u64,
	/// Elements every operator reads and writes: the work of everything that is not a
	/// multiply-add (activations, normalisations, pooling, copies).
	pub elements_touched: u64,
	/// Bytes of every intermediate and output tensor together: an upper bound on what one call
	/// allocates besides the weights.
	pub intermediate_bytes: u64,
	/// Bytes of the weights.
	pub parameter_bytes: u64,
}

/// Why the chain will not run a model. Each names what was wrong and with what.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Refusal {
	/// The operator is not on [`ALLOWED_OPERATORS`] (`OpType` or `domain:OpType`).
	OperatorNotAllowed(Vec<u8>),
	/// A dimension of this tensor is not a number the analysis can know before running: declare
	/// the input's shape.
	DynamicDimension { tensor: Vec<u8>, axis: u32 },
	/// A tensor's element type is none of the [`DType`]s (strings, complex …).
	UnsupportedType { tensor: Vec<u8>, dtype: Vec<u8> },
	/// A tensor has more than [`MAX_RANK`] dimensions.
	RankTooHigh { tensor: Vec<u8>, rank: u32 },
	/// Weights stored outside the model file: the chain holds only the model's own bytes.
	ExternalData { tensor: Vec<u8> },
	/// More than [`MAX_NODES`] nodes.
	TooManyNodes { nodes: u64, limit: u64 },
	/// More than [`MAX_PARAMETERS`] parameters.
	TooManyParameters { parameters: u64, limit: u64 },
	/// Intermediates above [`MAX_INTERMEDIATE_BYTES`].
	IntermediatesTooLarge { bytes: u64, limit: u64 },
	/// Cost above [`MAX_MULTIPLY_ADDS`].
	TooCostly { multiply_adds: u64, limit: u64 },
	/// The declared shapes do not fit the model: one per input, and rank as declared by it.
	DeclaredShapeMismatch { input: u32, message: Vec<u8> },
	/// tract cannot type or optimise the graph for these shapes: its message.
	Unanalysable(Vec<u8>),
	/// An allowed operator used in a way the engine does not run as ONNX specifies (an attribute
	/// value, an opset): the node, its operator and what to change.
	NodeNotSupported { node: Vec<u8>, operator: Vec<u8>, reason: Vec<u8> },
}

/// What the engine found in a model. Accepted when [`Analysis::refusals`] is empty.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Analysis {
	/// Inputs in order, with concrete shapes (as declared when the model leaves them open).
	pub inputs: Vec<TensorSpec>,
	/// Outputs in order.
	pub outputs: Vec<TensorSpec>,
	/// Operator types and their counts, sorted by name.
	pub operators: Vec<OperatorCount>,
	/// Nodes in the graph, subgraphs included.
	pub nodes: u64,
	/// Elements of every initializer.
	pub parameters: u64,
	/// Static cost of one call; zero when the model is refused before it could be computed.
	pub cost: Cost,
	/// Every reason the chain will not run this model; empty when it will.
	pub refusals: Vec<Refusal>,
}

impl Analysis {
	/// Whether the chain may run this model.
	pub fn is_accepted(&self) -> bool {
		self.refusals.is_empty()
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_allowlists_are_sorted_and_unique_so_lookups_are_exact() {
		assert!(ALLOWED_OPERATORS.windows(2).all(|pair| pair[0] < pair[1]));
		assert!(ALLOWED_ML_OPERATORS.windows(2).all(|pair| pair[0] < pair[1]));
	}

	#[test]
	fn random_operators_loops_and_other_domains_are_not_allowed() {
		for op in ["RandomNormal", "RandomUniformLike", "Multinomial", "Bernoulli", "Loop"] {
			assert!(!is_allowed("", op), "{op}");
		}
		assert!(is_allowed("", "Conv") && is_allowed("ai.onnx", "Conv"));
		assert!(!is_allowed("com.microsoft", "Conv"));
		assert!(is_allowed("ai.onnx.ml", "TreeEnsembleClassifier") && !is_allowed("", "Scaler"));
		assert!(!is_allowed("ai.onnx.ml", "ZipMap") && !is_allowed("ai.onnx.ml", "Conv"));
	}
}
