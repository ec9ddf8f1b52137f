//! What the inference host functions take and give back: where the engine blob and the model are
//! in state ([`StoredBytes`]), one call of `inference::run` ([`RunRequest`]), what the node keeps
//! for the block ([`Keep`]), and the deterministic outcome the chain charges ([`Charged`],
//! [`InferenceError`]). The functions themselves are `verinfer_interface`.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use scale_info::TypeInfo;

use crate::{
	engine::{EngineError, Limits, Usage},
	tensor::Tensor,
};

/// The input shapes a model is analysed, loaded and run for, one per input: `None` keeps the
/// model's own, and an empty list keeps all. The chain stores them bounded
/// (`pallet_models::StoredShapes`); this is the form the engine and the host functions take.
pub type DeclaredShapes = Vec<DeclaredShape>;

/// One input's declared shape: `None` keeps the model's own.
pub type DeclaredShape = Option<Vec<u32>>;

/// Bytes kept in state: the values at `keys`, each a SCALE-encoded byte vector (as a FRAME
/// storage item of `BoundedVec<u8, _>` holds it), concatenated, whose SHA-256 is `sha256`.
///
/// The runtime guarantees the hash (it checks it when the bytes are written); the node checks it
/// again whenever it reads them.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct StoredBytes {
	pub sha256: [u8; 32],
	pub keys: Vec<Vec<u8>>,
}

/// One call of the `inference::run` host function: its arguments, as a block would make it. The runtime lists the
/// calls a block (or a pooled transaction) will make, so the node can make them ahead of the
/// block's sequential execution (see `verinfer_executor::results`).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct RunRequest {
	pub engine: StoredBytes,
	pub model: StoredBytes,
	pub declared: DeclaredShapes,
	pub inputs: Vec<Tensor>,
	pub limits: Limits,
}

/// Models whose load a block charges once, to its first call of each, and refunds to its later
/// calls (the block's *warm set*): 16. The node keeps them loaded for the block
/// ([`Keep::Block`]), so that a refunded load is never a real one.
pub const MAX_WARM_MODELS: u32 = 16;

/// Bytes the memory images of a block's warm set may hold together: 2 GiB, half of what the
/// node keeps loaded (`verinfer_executor::cache::MAX_LOADED_MEMORY`), so that what the block pins
/// leaves room for the models of dry runs and of the next block.
pub const MAX_WARM_IMAGE_BYTES: u64 = 2 << 30;

/// What the chain relies on the node keeping after a call of the `inference::run` host function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Keep {
	/// Nothing: the node keeps the model loaded or not, as suits it.
	Maybe,
	/// The model is in the warm set of the block of this number: if the call succeeds, the node
	/// keeps the model loaded until the calls of a later block pin theirs. A call that fails
	/// pins nothing (the block's change to its warm set is reverted with the call).
	Block(u64),
}

/// The outcome of a metered host call and what the engine used making it, which the chain charges
/// whatever the outcome. A failure before the engine ran (bytes missing from state) used nothing.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Charged<T> {
	pub result: Result<T, InferenceError>,
	pub usage: Usage,
}

impl<T> Charged<T> {
	/// A failure before the engine ran.
	pub fn unrun(error: InferenceError) -> Charged<T> {
		Charged { result: Err(error), usage: Usage::default() }
	}
}

/// Why an inference host function produced no result. Deterministic: may be stored on chain.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum InferenceError {
	/// The engine's verdict: malformed or refused model, mismatched inputs, a failure inside.
	Engine(EngineError),
	/// The storage key at this index of [`StoredBytes::keys`] holds no value.
	MissingBytes { key: u32 },
	/// The value at this index of [`StoredBytes::keys`] is not a SCALE-encoded byte vector.
	MalformedBytes { key: u32 },
	/// The bytes in state do not have the SHA-256 they were named by.
	HashMismatch,
	/// The engine blob in state can never run: not a Wasm module the engine's configuration
	/// accepts, or not the engine ABI. The reason is fixed text, the same on every machine.
	InvalidEngine(Vec<u8>),
}

impl core::fmt::Display for InferenceError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			InferenceError::Engine(error) => error.fmt(f),
			InferenceError::MissingBytes { key } => write!(f, "stored bytes missing at key {key}"),
			InferenceError::MalformedBytes { key } => {
				write!(f, "stored bytes malformed at key {key}")
			},
			InferenceError::HashMismatch => write!(f, "stored bytes do not match their SHA-256"),
			InferenceError::InvalidEngine(reason) => {
				write!(f, "invalid engine blob: {}", alloc::string::String::from_utf8_lossy(reason))
			},
		}
	}
}
