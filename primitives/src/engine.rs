//! What the engine blob returns (the deterministic outcomes of analysing or running a model), what
//! one call into it may use and used, and what a model's calls cost and may use.
//!
//! Every [`EngineError`] is a result of the model and inputs alone, identical on every validator,
//! so it can be stored on chain. Messages are tract's or Rust's (UTF-8), produced inside the blob.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

use crate::{
	analysis::{Analysis, Refusal, TensorSpec},
	tensor::{DType, TensorError},
};

/// Why the engine produced no analysis or no output.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum EngineError {
	/// The inputs are not a SCALE-encoded `Vec<Tensor>`.
	MalformedInputs,
	/// Input `index` is not a valid tensor.
	InvalidInput { index: u32, error: TensorError },
	/// The model is larger than [`MAX_MODEL_BYTES`](crate::analysis::MAX_MODEL_BYTES).
	ModelTooLarge { bytes: u64, limit: u64 },
	/// The bytes are not an ONNX model: the protobuf decoder's or tract's message.
	MalformedModel(Vec<u8>),
	/// The declared input shapes are not a SCALE-encoded `Vec<Option<Vec<u32>>>`.
	MalformedDeclaredShapes,
	/// The analysis refused the model: every reason.
	Refused(Vec<Refusal>),
	/// A different number of inputs than the model declares.
	InputCountMismatch { expected: u32, got: u32 },
	/// Input `index` differs from the model's spec in dtype or shape.
	InputMismatch { index: u32, expected: TensorSpec, got_dtype: DType, got_shape: Vec<u32> },
	/// `run` was called before a model was loaded into this engine instance.
	NoModelLoaded,
	/// Running the prepared model failed: tract's message.
	Failed(Vec<u8>),
	/// The model produced an output of a type tensors cannot carry (e.g. strings).
	UnsupportedOutputType(Vec<u8>),
	/// The engine needed more memory than
	/// [`ENGINE_MEMORY_LIMIT`](crate::analysis::ENGINE_MEMORY_LIMIT).
	MemoryLimitExceeded { limit: u64 },
	/// tract panicked: the panic message and location.
	Panicked(Vec<u8>),
	/// The engine trapped for another reason: the wasmtime trap code.
	Trapped(Vec<u8>),
	/// The call used all the fuel it was given (see [`Limits::fuel`]) and was stopped: at the
	/// same Wasm operator on every machine.
	OutOfFuel { limit: u64 },
}

/// What one call into the engine may use. Both are deterministic counts, so a call that exceeds
/// either fails in the same way, at the same point, on every machine.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Limits {
	/// Fuel: Wasm operators executed (wasmtime's count: one per operator but for a few free
	/// structural ones), the inputs' decoding and the outputs' encoding included.
	pub fuel: u64,
	/// Bytes of linear memory the engine instance may reach, at most
	/// [`ENGINE_MEMORY_LIMIT`](crate::analysis::ENGINE_MEMORY_LIMIT).
	pub memory: u64,
}

impl Limits {
	/// What analysing or loading a model may use: the protocol's most.
	pub const LOAD: Limits = Limits {
		fuel: crate::analysis::MAX_LOAD_FUEL,
		memory: crate::analysis::ENGINE_MEMORY_LIMIT,
	};
	/// What measuring a model at registration (a load and two probe runs,
	/// `verinfer_executor::engine::Engine::measure`) may use: 2^29 ≈ 537 M units of fuel and
	/// 128 MiB of engine memory. The corpus' models load in 8–54 M units; a model that needs more
	/// is refused, having run no longer than the registration paid for.
	pub const REGISTRATION: Limits = Limits { fuel: 1 << 29, memory: 128 << 20 };
	/// What one call may use at most.
	pub const CALL: Limits = Limits {
		fuel: crate::analysis::MAX_CALL_FUEL,
		memory: crate::analysis::ENGINE_MEMORY_LIMIT,
	};

	/// The memory a call may really reach: [`Limits::memory`], at most
	/// [`ENGINE_MEMORY_LIMIT`](crate::analysis::ENGINE_MEMORY_LIMIT). What a
	/// [`EngineError::MemoryLimitExceeded`] names.
	pub fn memory_cap(&self) -> u64 {
		self.memory.min(crate::analysis::ENGINE_MEMORY_LIMIT)
	}

	/// What is left of these limits once `used` is spent.
	pub fn less(&self, used: Usage) -> Limits {
		Limits { fuel: self.fuel.saturating_sub(used.fuel), memory: self.memory }
	}
}

/// What one call into the engine used: a function of the engine, the model and the call's
/// arguments alone (every call starts from the same instance state), so the chain may charge it.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Usage {
	/// Fuel consumed, up to the limit (a call stopped for fuel used all of it).
	pub fuel: u64,
	/// Bytes of linear memory the instance held when the call ended: its peak, as Wasm memory
	/// never shrinks.
	pub memory: u64,
}

impl Usage {
	/// What two calls one after the other, each in an instance of its own, used together: their
	/// fuel and their memory added.
	pub fn then(self, next: Usage) -> Usage {
		Usage {
			fuel: self.fuel.saturating_add(next.fuel),
			memory: self.memory.saturating_add(next.memory),
		}
	}
}

/// What the engine measured of a model when it was registered: the analysis, what loading the
/// model used, and what running it on the probe inputs used (see
/// [`probe_inputs`](crate::probe::probe_inputs)).
/// Every figure is a deterministic count, so the chain stores it and prices calls from it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Measurement {
	pub analysis: Analysis,
	/// Loading: parsing, analysing and optimising. Its `memory` is the size of the image every
	/// run starts from.
	pub load: Usage,
	/// The most one probe run used.
	pub probe: Usage,
}

/// The headroom a registration gets unless its owner asks for more: a call may use 150 % of the
/// fuel and of the memory growth its costliest probe used. Enough for the models whose work does
/// not depend on their inputs' values (most neural networks: the probes differ by a few per cent);
/// owners of trees, loops and conditionals should measure their worst input and raise it.
pub const DEFAULT_HEADROOM_PERCENT: u32 = 150;

/// The largest headroom: 100,000 % (a thousand times the probe), far beyond any model whose
/// probe is representative; the chain's per-call fuel cap bounds it anyway.
pub const MAX_HEADROOM_PERCENT: u32 = 100_000;

/// What calls of a model cost and may use, from the engine's measurement at registration.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct ModelCost {
	/// What loading the model used: paid by a call that loads it. Its memory is the image
	/// every call starts from.
	pub load: Usage,
	/// What the costliest probe run used.
	pub probe: Usage,
	/// The most one call may use: the probe's fuel and memory growth times the headroom,
	/// within the chain's caps.
	pub call: Limits,
}

impl ModelCost {
	/// The cost of a model measured as `measurement`, with calls allowed `headroom_percent` of
	/// the probe's fuel and memory growth, within the most any call may use ([`Limits::CALL`]).
	pub fn new(measurement: &Measurement, headroom_percent: u32) -> ModelCost {
		let cap = Limits::CALL;
		let scale = |value: u64| {
			(value as u128 * headroom_percent as u128).div_ceil(100).min(u64::MAX as u128) as u64
		};
		let image = measurement.load.memory;
		let growth = measurement.probe.memory.saturating_sub(image);
		ModelCost {
			load: measurement.load,
			probe: measurement.probe,
			call: Limits {
				fuel: scale(measurement.probe.fuel).min(cap.fuel),
				memory: image.saturating_add(scale(growth)).min(cap.memory_cap()),
			},
		}
	}

	/// Bytes of the image every call starts from.
	pub fn image_bytes(&self) -> u64 {
		self.load.memory
	}
}

impl core::fmt::Display for EngineError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		let text = |bytes: &[u8]| alloc::string::String::from_utf8_lossy(bytes).into_owned();
		match self {
			EngineError::MalformedInputs => write!(f, "inputs are not a SCALE-encoded tensor list"),
			EngineError::InvalidInput { index, error } => write!(f, "input {index}: {error:?}"),
			EngineError::ModelTooLarge { bytes, limit } => {
				write!(f, "model of {bytes} bytes is above the limit of {limit}")
			},
			EngineError::MalformedModel(m) => write!(f, "not a valid ONNX model: {}", text(m)),
			EngineError::MalformedDeclaredShapes => write!(f, "declared shapes are malformed"),
			EngineError::Refused(refusals) => {
				write!(f, "model refused: ")?;
				for (index, refusal) in refusals.iter().enumerate() {
					let separator = if index == 0 { "" } else { "; " };
					write!(f, "{separator}{refusal}")?;
				}
				Ok(())
			},
			EngineError::InputCountMismatch { expected, got } => {
				write!(f, "the model takes {expected} inputs, got {got}")
			},
			EngineError::InputMismatch { index, expected, got_dtype, got_shape } => write!(
				f,
				"input {index} (`{}`) must be {} {:?}, got {} {:?}",
				text(&expected.name),
				expected.dtype.name(),
				expected.shape,
				got_dtype.name(),
				got_shape
			),
			EngineError::NoModelLoaded => write!(f, "no model loaded"),
			EngineError::Failed(m) => write!(f, "inference failed: {}", text(m)),
			EngineError::UnsupportedOutputType(m) => {
				write!(f, "unsupported output type {}", text(m))
			},
			EngineError::MemoryLimitExceeded { limit } => {
				write!(f, "the engine needed more than its {limit} bytes of memory")
			},
			EngineError::Panicked(m) => write!(f, "the engine panicked: {}", text(m)),
			EngineError::Trapped(m) => write!(f, "engine trapped: {}", text(m)),
			EngineError::OutOfFuel { limit } => {
				write!(f, "the engine used all {limit} units of fuel it was given")
			},
		}
	}
}

impl core::fmt::Display for Refusal {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		let text = |bytes: &[u8]| alloc::string::String::from_utf8_lossy(bytes).into_owned();
		match self {
			Refusal::OperatorNotAllowed(op) => write!(f, "operator {} is not allowed", text(op)),
			Refusal::DynamicDimension { tensor, axis } => write!(
				f,
				"dimension {axis} of `{}` is not known before running; declare the input shape",
				text(tensor)
			),
			Refusal::UnsupportedType { tensor, dtype } => {
				write!(f, "`{}` has unsupported type {}", text(tensor), text(dtype))
			},
			Refusal::RankTooHigh { tensor, rank } => {
				write!(f, "`{}` has {rank} dimensions, above the limit", text(tensor))
			},
			Refusal::ExternalData { tensor } => {
				write!(f, "`{}` keeps its data outside the model file", text(tensor))
			},
			Refusal::TooManyNodes { nodes, limit } => {
				write!(f, "{nodes} nodes, above the limit of {limit}")
			},
			Refusal::TooManyParameters { parameters, limit } => {
				write!(f, "{parameters} parameters, above the limit of {limit}")
			},
			Refusal::IntermediatesTooLarge { bytes, limit } => {
				write!(f, "intermediates of {bytes} bytes, above the limit of {limit}")
			},
			Refusal::TooCostly { multiply_adds, limit } => {
				write!(f, "{multiply_adds} multiply-adds, above the limit of {limit}")
			},
			Refusal::DeclaredShapeMismatch { input, message } => {
				write!(f, "declared shape of input {input}: {}", text(message))
			},
			Refusal::Unanalysable(m) => write!(f, "tract cannot analyse the graph: {}", text(m)),
			Refusal::NodeNotSupported { node, operator, reason } => {
				write!(f, "node `{}` ({}): {}", text(node), text(operator), text(reason))
			},
		}
	}
}
