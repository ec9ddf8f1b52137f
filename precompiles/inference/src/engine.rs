//! What the engine blob returns: the deterministic outcomes of analysing or running a model.
//!
//! Every variant is a result of the model and inputs alone, identical on every validator, so it can
//! be stored on chain. Messages are tract's (UTF-8), produced inside the blob.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use scale_info::TypeInfo;

use crate::tensor::TensorError;

/// Why the engine produced no output.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum EngineError {
	/// The inputs are not a SCALE-encoded `Vec<Tensor>`.
	MalformedInputs,
	/// Input `index` is not a valid tensor.
	InvalidInput { index: u32, error: TensorError },
	/// The bytes are not an ONNX model tract can parse.
	MalformedModel(Vec<u8>),
	/// The model cannot be prepared for these inputs (unsupported operator, shape mismatch …).
	Rejected(Vec<u8>),
	/// Running the prepared model failed.
	Failed(Vec<u8>),
	/// The model produced an output of a type tensors cannot carry (e.g. strings).
	UnsupportedOutputType(Vec<u8>),
	/// The engine trapped (a panic inside tract, or its memory limit): the wasmtime trap code.
	Trapped(Vec<u8>),
}

impl core::fmt::Display for EngineError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		let text = |bytes: &Vec<u8>| alloc::string::String::from_utf8_lossy(bytes).into_owned();
		match self {
			EngineError::MalformedInputs => write!(f, "inputs are not a SCALE-encoded tensor list"),
			EngineError::InvalidInput { index, error } => write!(f, "input {index}: {error:?}"),
			EngineError::MalformedModel(m) => write!(f, "not a valid ONNX model: {}", text(m)),
			EngineError::Rejected(m) => write!(f, "model rejected: {}", text(m)),
			EngineError::Failed(m) => write!(f, "inference failed: {}", text(m)),
			EngineError::UnsupportedOutputType(m) => {
				write!(f, "unsupported output type {}", text(m))
			},
			EngineError::Trapped(m) => write!(f, "engine trapped: {}", text(m)),
		}
	}
}
