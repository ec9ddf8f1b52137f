//! What the engine pallet offers the pallets that run models, and asks of the registry, without
//! depending on either: the registry and the inference pallet read the engine through
//! [`EngineSource`]; a replacement engine is tried on a model the chain runs through
//! [`EngineProbe`], which the registry implements.

use sp_runtime::DispatchError;
use verinfer_primitives::{engine::Usage, inference::StoredBytes, ModelId};

use crate::EngineCost;

/// The chain's engine, as the pallets that run models read it.
pub trait EngineSource {
	/// The engine blob's bytes in state, as the inference host functions take them; `None`
	/// when the chain has none.
	fn engine() -> Option<StoredBytes>;
	/// Whether the chain has an engine blob: one storage read, for checks that run nothing.
	fn has_engine() -> bool;
	/// What a unit of the engine's fuel and memory weighs.
	fn cost() -> EngineCost;
}

/// Tries a replacement engine on a model the chain runs, before it may become the engine.
pub trait EngineProbe {
	/// Size in bytes of the model `probe` (0 if unknown): known before dispatch, for the weight.
	fn size(probe: &ModelId) -> u32;
	/// The most trying an engine on a model may use: what [`EngineProbe::accepts`] is charged.
	fn usage_bound() -> Usage;
	/// Whether `engine` analyses and accepts `probe` within [`EngineProbe::usage_bound`].
	/// `Err` when `probe` is not a model the chain runs.
	fn accepts(probe: &ModelId, engine: StoredBytes) -> Result<bool, DispatchError>;
}

/// What the engine pallet's benchmarks need of the runtime.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper {
	/// Makes a model of `size` bytes (at least [`verinfer_synthetic::MIN_SIZED_BYTES`]) one
	/// the chain runs, for [`EngineProbe::accepts`]; returns its id.
	fn probe(size: u32) -> ModelId;
}
