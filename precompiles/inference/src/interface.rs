//! The inference host functions: how the runtime asks the node to analyse or run a model.
//!
//! The runtime names the engine blob and the model by where their bytes are in state and by their
//! SHA-256 ([`StoredBytes`]); the node reads them itself, so a model never travels through the
//! runtime's heap, and a cached model is not read at all. Inputs and outputs are
//! [`Tensor`]s. Everything the runtime gets back is deterministic: a result, or an
//! [`InferenceError`] that is the same on every validator. A failure of the node itself (its
//! machine cannot compile the engine or provide memory) is not a result: the host function
//! panics, which fails the block's execution on this node only, as any host failure does.
//!
//! The node shares its [`InferenceCache`](crate::cache::InferenceCache) with every execution
//! through the [`InferenceCacheExt`] extension; an execution without it uses the process-wide
//! cache.
//!
//! Every call into the engine is metered (see [`crate::host`]). The runtime gives each call its
//! [`Limits`] and gets back what the engine used ([`Charged`]), to charge it whatever the
//! outcome: `measure` (registration: load and probe runs) and `run` versions 2 and 3 (which also
//! says what the node must keep loaded for the block: [`Keep`]). Version 1 of `run`
//! and `analyse`, which older blocks call, use the protocol's most:
//! [`Limits::CALL`](crate::engine::Limits::CALL) and
//! [`Limits::LOAD`](crate::engine::Limits::LOAD). A call that exceeds its limits fails with
//! `OutOfFuel` or `MemoryLimitExceeded` on every validator alike.
//!
//! Once a runtime uses a version of these functions, nodes keep it forever (old blocks must still
//! import): a change of interface is a new version, a change of numerics is a new engine blob.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use scale_info::TypeInfo;
#[cfg(feature = "std")]
use sp_externalities::ExternalitiesExt;
use sp_runtime_interface::{
	pass_by::{AllocateAndReturnByCodec, PassFatPointerAndDecode},
	runtime_interface,
};

use crate::{
	analysis::Analysis,
	engine::{EngineError, Limits, Measurement, Usage},
	tensor::Tensor,
};

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

/// One call of [`inference::run`]: its arguments, as a block would make it. The runtime lists the
/// calls a block (or a pooled transaction) will make, so the node can make them ahead of the
/// block's sequential execution (see [`crate::results`]).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct RunRequest {
	pub engine: StoredBytes,
	pub model: StoredBytes,
	pub declared: Vec<Option<Vec<u32>>>,
	pub inputs: Vec<Tensor>,
	pub limits: Limits,
}

/// Models whose load a block charges once, to its first call of each, and refunds to its later
/// calls (the block's *warm set*): 16. The node keeps them loaded for the block
/// ([`Keep::Block`]), so that a refunded load is never a real one.
pub const MAX_WARM_MODELS: u32 = 16;

/// Bytes the memory images of a block's warm set may hold together: 2 GiB, half of what the
/// node keeps loaded (`cache::MAX_LOADED_MEMORY`), so that what the block pins leaves
/// room for the models of dry runs and of the next block.
pub const MAX_WARM_IMAGE_BYTES: u64 = 2 << 30;

/// What the chain relies on the node keeping after a call of [`inference::run`].
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

#[cfg(feature = "std")]
sp_externalities::decl_extension! {
	/// The node's inference cache, handed to every block execution.
	pub struct InferenceCacheExt(std::sync::Arc<crate::cache::InferenceCache>);
}

/// Runs `call` with the execution's cache and a reader of its state; a host failure panics (see
/// the module documentation).
#[cfg(feature = "std")]
fn with_cache<T>(
	mut ext: &mut dyn sp_externalities::Externalities,
	call: impl FnOnce(
		&crate::cache::InferenceCache,
		&mut crate::cache::ReadStorage,
	) -> Result<T, crate::host::HostError>,
) -> T {
	let cache = ext
		.extension::<InferenceCacheExt>()
		.map(|cache| cache.0.clone())
		.unwrap_or_else(crate::cache::InferenceCache::global);
	let mut read = |key: &[u8]| ext.storage(key);
	match call(&cache, &mut read) {
		Ok(result) => result,
		Err(host_failure) => panic!("{host_failure}"),
	}
}

/// The inference host functions.
#[runtime_interface]
pub trait Inference {
	/// Analyses the model `model` with the engine `engine` for the `declared` input shapes (one
	/// per input, `None` keeping the model's; empty keeps all): specs, operators, cost, and the
	/// reasons the chain would refuse it.
	fn analyse(
		&mut self,
		engine: PassFatPointerAndDecode<StoredBytes>,
		model: PassFatPointerAndDecode<StoredBytes>,
		declared: PassFatPointerAndDecode<Vec<Option<Vec<u32>>>>,
	) -> AllocateAndReturnByCodec<Result<Analysis, InferenceError>> {
		with_cache(*self, |cache, read| {
			cache.analyse(&engine, &model, &declared, Limits::LOAD, read)
		})
	}

	/// Measures the model `model` with the engine `engine` for the `declared` input shapes:
	/// loads it and runs it on its probe inputs (see [`crate::host::Engine::measure`]), all
	/// within `limits`. What registering a model does.
	fn measure(
		&mut self,
		engine: PassFatPointerAndDecode<StoredBytes>,
		model: PassFatPointerAndDecode<StoredBytes>,
		declared: PassFatPointerAndDecode<Vec<Option<Vec<u32>>>>,
		limits: PassFatPointerAndDecode<Limits>,
	) -> AllocateAndReturnByCodec<Charged<Measurement>> {
		with_cache(*self, |cache, read| cache.measure(&engine, &model, &declared, limits, read))
	}

	/// Runs the model `model` with the engine `engine`, loaded for the `declared` input shapes,
	/// on `inputs`, within [`Limits::CALL`].
	fn run(
		&mut self,
		engine: PassFatPointerAndDecode<StoredBytes>,
		model: PassFatPointerAndDecode<StoredBytes>,
		declared: PassFatPointerAndDecode<Vec<Option<Vec<u32>>>>,
		inputs: PassFatPointerAndDecode<Vec<Tensor>>,
	) -> AllocateAndReturnByCodec<Result<Vec<Tensor>, InferenceError>> {
		with_cache(*self, |cache, read| {
			let request = RunRequest { engine, model, declared, inputs, limits: Limits::CALL };
			cache.run(&request, Keep::Maybe, read).map(|charged| charged.result)
		})
	}

	/// Runs the model `model` with the engine `engine`, loaded for the `declared` input shapes,
	/// on `inputs`, within `limits`; gives the outputs and what the run used. Loading the model,
	/// when this node has not kept it loaded, is not part of the usage: the chain prices loads
	/// from the model's measurement.
	#[version(2)]
	fn run(
		&mut self,
		engine: PassFatPointerAndDecode<StoredBytes>,
		model: PassFatPointerAndDecode<StoredBytes>,
		declared: PassFatPointerAndDecode<Vec<Option<Vec<u32>>>>,
		inputs: PassFatPointerAndDecode<Vec<Tensor>>,
		limits: PassFatPointerAndDecode<Limits>,
	) -> AllocateAndReturnByCodec<Charged<Vec<Tensor>>> {
		with_cache(*self, |cache, read| {
			cache.run(&RunRequest { engine, model, declared, inputs, limits }, Keep::Maybe, read)
		})
	}

	/// Version 2, and what the node must keep loaded after the call: the model, for the rest of
	/// the block, when the chain refunds its load to the block's later calls ([`Keep`]).
	#[version(3)]
	fn run(
		&mut self,
		engine: PassFatPointerAndDecode<StoredBytes>,
		model: PassFatPointerAndDecode<StoredBytes>,
		declared: PassFatPointerAndDecode<Vec<Option<Vec<u32>>>>,
		inputs: PassFatPointerAndDecode<Vec<Tensor>>,
		limits: PassFatPointerAndDecode<Limits>,
		keep: PassFatPointerAndDecode<Keep>,
	) -> AllocateAndReturnByCodec<Charged<Vec<Tensor>>> {
		with_cache(*self, |cache, read| {
			cache.run(&RunRequest { engine, model, declared, inputs, limits }, keep, read)
		})
	}
}
