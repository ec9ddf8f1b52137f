//! # Verinfer inference precompile
//!
//! How the chain runs ONNX models: the host functions the runtime calls during block execution,
//! and the node side that runs the engine blob for them.
//!
//! The types it shares with the runtime and the engine (tensors, analyses, errors, limits, the
//! host functions' contract) are `verinfer-primitives`; [`tensor`], [`analysis`] and [`engine`]
//! re-export them where callers found them before.
//!
//! - [`tensor_io`] (`std`): the file formats client tools accept: JSON and NumPy `.npy`;
//!   [`tensor_proto`] (`std`): ONNX `TensorProto` (`.pb`).
//! - [`host`] (`std`): runs the engine blob (`verinfer-engine`, built to Wasm by this crate's build
//!   script) in wasmtime with deterministic settings; [`stack`] (`std`): the call-depth limit the
//!   node adds to the blob, the same on every machine.
//! - [`cache`] (`std`): the node's compiled engines and loaded models;
//!   [`results`] (`std`): calls made ahead of block execution (pre-execution).
//! - [`digest`] (`std`): SHA-256 of model and engine bytes; [`sync`] (`std`): locks that survive a panic of another thread.
//! - [`tool`] (`std`): the library behind `verinfer model check` / `model run`;
//!   [`determinism`] (`std`): corpus digests compared across CPUs; [`fixtures`] (`std`): the
//!   hostile-cost corpus.
//! - [`synthetic`]: ONNX models of known cost built in memory, for the pallets' benchmarks.
//! - [`interface`]: the `#[runtime_interface]` host functions (`inference::analyse`,
//!   `inference::run`) and the [`interface::InferenceCacheExt`] extension that gives them the cache.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "std")]
pub mod cache;
#[cfg(feature = "std")]
pub mod determinism;
#[cfg(feature = "std")]
pub mod digest;
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
#[cfg(feature = "std")]
pub mod sync;
pub mod synthetic;
#[cfg(feature = "std")]
pub mod tensor_io;
#[cfg(feature = "std")]
pub mod tensor_proto;
#[cfg(feature = "std")]
pub mod tool;

// The shared types, where callers found them before they moved to `verinfer-primitives`.
pub use verinfer_primitives::{analysis, engine, tensor, DType, Tensor, TensorError};

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
