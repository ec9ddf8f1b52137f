//! # Verinfer executor
//!
//! The node side of the inference precompile: what runs the engine blob when the runtime calls the
//! host functions (`verinfer-interface`), and what runs it outside the chain.
//!
//! - [`engine`]: the engine blob (`verinfer-engine`, built to Wasm by this crate's build script)
//!   checked and compiled in wasmtime with deterministic settings, metered by fuel and memory.
//! - [`stack`]: the call-depth limit the node adds to the blob, the same on every machine.
//! - [`cache`]: the node's compiled engines and loaded models, shared by every block execution;
//!   [`results`]: calls made ahead of block execution (pre-execution).
//! - [`local`]: check or run a model as registration and a call would, outside the chain (the
//!   library behind `verinfer model check` / `model run`).
//! - [`digest`]: SHA-256 of model and engine bytes, the output hash; [`sync`]: locks that survive
//!   a panic of another thread.

pub mod cache;
pub mod digest;
pub mod engine;
pub mod local;
pub mod results;
pub mod stack;
pub mod sync;

/// The engine blob this crate's build script compiled, or `None` when built with
/// `SKIP_WASM_BUILD`. The chain's copy (set at genesis, replaceable by root) is the one that counts;
/// this one seeds genesis and serves local tools.
pub const ENGINE_BLOB: Option<&[u8]> = {
	const BLOB: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/verinfer_engine.wasm"));
	if BLOB.is_empty() {
		None
	} else {
		Some(BLOB)
	}
};
