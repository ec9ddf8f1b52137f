//! # Verinfer inference precompile
//!
//! How the chain runs ONNX models: the host functions the runtime calls during block execution,
//! the node side that runs the engine blob for them, and the types the runtime, the engine and the
//! node share.
//!
//! - [`tensor`]: the SCALE [`Tensor`](tensor::Tensor) every input and output travels as: a dtype, a
//!   shape and little-endian row-major bytes. `no_std`, so the runtime stores and checks tensors
//!   without knowing any file format.
//! - [`tensor_io`] (`std`): the file formats client tools accept: JSON and NumPy `.npy`;
//!   [`tensor_proto`] (`std`): ONNX `TensorProto` (`.pb`).
//! - [`analysis`]: what the engine says about a model before running it, and the limits.
//! - [`engine`]: the deterministic errors the engine blob returns.
//! - [`host`] (`std`): runs the engine blob (`verinfer-engine`, built to Wasm by this crate's build
//!   script) in wasmtime with deterministic settings; [`stack`] (`std`): the call-depth limit the
//!   node adds to the blob, the same on every machine.
//! - [`cache`] (`std`): the node's compiled engines and loaded models;
//!   [`results`] (`std`): calls made ahead of block execution (pre-execution).
//! - [`tool`] (`std`): the library behind `verinfer model check` / `model run`;
//!   [`determinism`] (`std`): corpus digests compared across CPUs; [`fixtures`] (`std`): the
//!   hostile-cost corpus.
//! - [`synthetic`]: ONNX models of known cost built in memory, for the pallets' benchmarks.
//! - [`interface`]: the `#[runtime_interface]` host functions (`inference::analyse`,
//!   `inference::run`) and the [`interface::InferenceCacheExt`] extension that gives them the cache.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod analysis;
#[cfg(feature = "std")]
pub mod cache;
#[cfg(feature = "std")]
pub mod determinism;
pub mod engine;
#[cfg(feature = "std")]
pub mod fixtures;
#[cfg(feature = "std")]
pub mod host;
#[cfg(feature = "interface")]
pub mod interface;
#[cfg(feature = "std")]
pub mod results;
#[cfg(feature = "std")]
pub mod stack;
pub mod synthetic;
pub mod tensor;
#[cfg(feature = "std")]
pub mod tensor_io;
#[cfg(feature = "std")]
pub mod tensor_proto;
#[cfg(feature = "std")]
pub mod tool;

pub use tensor::{DType, Tensor, TensorError};

/// Locks `mutex`, also after a panic of another thread that held it: every structure this crate
/// keeps behind a lock is consistent after each single update, so it stays usable.
#[cfg(feature = "std")]
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
	mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The engine blob this crate's build script compiled, or `None` when built with
/// `SKIP_WASM_BUILD`. The chain's copy (set at genesis, replaceable by root) is the one that counts;
/// this one seeds genesis and serves local tools.
#[cfg(feature = "std")]
pub const ENGINE_BLOB: Option<&[u8]> = {
	const BLOB: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/verinfer_engine.wasm"));
	if BLOB.is_empty() {
		None
	} else {
		Some(BLOB)
	}
};
