//! Weights of the inference pallet.
//!
//! Until `scripts/benchmark-weights.sh` generates this file from the pallet's benchmarks (run by
//! the node's `benchmark pallet`), these are estimates from `scripts/bench-engine.sh` on the
//! reference machine (ResNet-50: 3.87 G multiply-adds and 111 M elements touched in 711 ms cached;
//! loading its 98 MiB in 540 ms), rounded up.
//!
//! Components, so that the benchmark's linear fit has whole-number inputs:
//! - `m`: multiply-adds of one call, in units of 2^20 (rounded up);
//! - `e`: elements touched, in units of 2^20 (rounded up);
//! - `b`: bytes of inputs plus outputs, in KiB (rounded up);
//! - `k`: the model's size, in KiB (rounded up).

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{RuntimeDbWeight, Weight},
};

/// Weight functions needed by the inference pallet.
pub trait WeightInfo {
	/// Running a loaded model once, storing the result and paying its owner.
	fn infer(m: u32, e: u32, b: u32) -> Weight;
	/// Reading, hashing and loading a model not yet used in this block.
	fn load_model(k: u32) -> Weight;
	/// Removing one expired result in `on_idle`.
	fn prune_result() -> Weight;
}

/// The estimates, with the database weights `D`.
pub struct Estimates<D>(PhantomData<D>);

/// The estimates with the runtime's database weights.
pub type SubstrateWeight<T> = Estimates<<T as frame_system::Config>::DbWeight>;

/// 170 ps per multiply-add (ResNet-50: 160), per 2^20 of them.
const PS_PER_MEGA_MULTIPLY_ADD: u64 = 170 * (1 << 20);
/// 1.5 ns per element touched, per 2^20 of them.
const PS_PER_MEGA_ELEMENT: u64 = 1_500 * (1 << 20);
/// 10 ns per byte of inputs and outputs (SCALE copies in and out of the engine, the output
/// hash, the stored result), per KiB.
const PS_PER_KIB_IO: u64 = 10_000 * 1024;
/// A call's fixed cost: the engine thread, four calls into the instance: 300 µs.
const INFER_BASE_PS: u64 = 300_000_000;
/// 6 ns per model byte loaded (5.4 measured), per KiB.
const PS_PER_KIB_LOADED: u64 = 6_000 * 1024;
/// A load's fixed cost (a fresh instance, tract's passes): 5 ms.
const LOAD_BASE_PS: u64 = 5_000_000_000;

impl<D: Get<RuntimeDbWeight>> WeightInfo for Estimates<D> {
	fn infer(m: u32, e: u32, b: u32) -> Weight {
		Weight::from_parts(
			INFER_BASE_PS
				.saturating_add(PS_PER_MEGA_MULTIPLY_ADD.saturating_mul(m as u64))
				.saturating_add(PS_PER_MEGA_ELEMENT.saturating_mul(e as u64))
				.saturating_add(PS_PER_KIB_IO.saturating_mul(b as u64)),
			(b as u64).saturating_mul(1024),
		)
		// Model, analysis, engine record, warm set, request counter; result, counter, warm set,
		// owner's and caller's accounts.
		.saturating_add(D::get().reads_writes(7, 5))
	}
	fn load_model(k: u32) -> Weight {
		Weight::from_parts(
			LOAD_BASE_PS.saturating_add(PS_PER_KIB_LOADED.saturating_mul(k as u64)),
			(k as u64).saturating_mul(1024),
		)
		.saturating_add(D::get().reads(1))
	}
	fn prune_result() -> Weight {
		Weight::from_parts(10_000_000, 0).saturating_add(D::get().reads_writes(1, 2))
	}
}
