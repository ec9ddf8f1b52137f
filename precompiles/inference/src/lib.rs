//! # Verinfer inference precompile
//!
//! What the runtime, the inference engine and the node share about inference, and (in later steps)
//! the host functions that run the engine during block execution.
//!
//! - [`tensor`]: the SCALE [`Tensor`](tensor::Tensor) every input and output travels as: a dtype, a
//!   shape and little-endian row-major bytes. `no_std`, so the runtime stores and checks tensors
//!   without knowing any file format.
//! - [`tensor_io`] (`std`): the file formats client tools accept: JSON and NumPy `.npy`.
//! - [`engine`]: the deterministic errors the engine blob returns.
//! - [`host`] (`std`): runs the engine blob (`verinfer-engine`, built to Wasm by this crate's build
//!   script) in wasmtime with deterministic settings.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod engine;
#[cfg(feature = "std")]
pub mod host;
pub mod tensor;
#[cfg(feature = "std")]
pub mod tensor_io;

pub use tensor::{DType, Tensor, TensorError};

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
