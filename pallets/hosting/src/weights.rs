//! Weights of the hosting pallet.
//!
//! Until `scripts/benchmark-weights.sh` generates this file from the pallet's benchmarks (run by
//! the node's `benchmark pallet`), these are conservative estimates: database accesses at the
//! runtime's `DbWeight`, a fixed time per call, and proof sizes from the largest records read.
//! Calls that may stop a host serving every model (`unbond`, `slash`) are estimated for
//! [`ESTIMATED_MODELS_PER_HOST`] models of [`ESTIMATED_HOSTS_PER_MODEL`] hosts each.

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{RuntimeDbWeight, Weight},
};

/// Weight functions needed by the hosting pallet.
pub trait WeightInfo {
	fn bond() -> Weight;
	fn bond_extra() -> Weight;
	fn unbond() -> Weight;
	fn withdraw_unbonded() -> Weight;
	fn set_metadata() -> Weight;
	fn serve() -> Weight;
	fn stop_serving() -> Weight;
	fn slash() -> Weight;
	/// Paying the hosts of a model that has `hosts` of them (`HostRewards::reward`).
	fn reward(hosts: u32) -> Weight;
}

/// The most models per host the estimates allow for: above what a runtime is expected to set.
pub const ESTIMATED_MODELS_PER_HOST: u64 = 32;
/// The most hosts per model the estimates allow for: above what a runtime is expected to set.
pub const ESTIMATED_HOSTS_PER_MODEL: u64 = 64;

/// Proof size of a host record: metadata (320 bytes), unlocking chunks and models, rounded up.
const HOST_PROOF: u64 = 2_048;
/// Proof size of a model's host list (32-byte accounts), rounded up.
const MODEL_HOSTS_PROOF: u64 = 48 * ESTIMATED_HOSTS_PER_MODEL;
/// Proof size of an account's balance and holds.
const ACCOUNT_PROOF: u64 = 600;

/// The estimates, with the database weights `D`.
pub struct Estimates<D>(PhantomData<D>);

/// The estimates with the runtime's database weights.
pub type SubstrateWeight<T> = Estimates<<T as frame_system::Config>::DbWeight>;

impl<D: Get<RuntimeDbWeight>> WeightInfo for Estimates<D> {
	fn bond() -> Weight {
		Weight::from_parts(60_000_000, HOST_PROOF + ACCOUNT_PROOF)
			.saturating_add(D::get().reads_writes(3, 3))
	}
	fn bond_extra() -> Weight {
		Self::bond()
	}
	fn unbond() -> Weight {
		let models = ESTIMATED_MODELS_PER_HOST;
		Weight::from_parts(
			50_000_000 + 10_000_000 * models,
			HOST_PROOF + MODEL_HOSTS_PROOF * models,
		)
		.saturating_add(D::get().reads_writes(1 + models, 1 + models))
	}
	fn withdraw_unbonded() -> Weight {
		Weight::from_parts(60_000_000, HOST_PROOF + ACCOUNT_PROOF)
			.saturating_add(D::get().reads_writes(3, 3))
	}
	fn set_metadata() -> Weight {
		Weight::from_parts(30_000_000, HOST_PROOF).saturating_add(D::get().reads_writes(1, 1))
	}
	fn serve() -> Weight {
		Weight::from_parts(40_000_000, HOST_PROOF + MODEL_HOSTS_PROOF)
			.saturating_add(D::get().reads_writes(2, 2))
	}
	fn stop_serving() -> Weight {
		Self::serve()
	}
	fn slash() -> Weight {
		let models = ESTIMATED_MODELS_PER_HOST;
		Weight::from_parts(
			80_000_000 + 10_000_000 * models,
			HOST_PROOF + 2 * ACCOUNT_PROOF + MODEL_HOSTS_PROOF * models,
		)
		.saturating_add(D::get().reads_writes(4 + models, 4 + models))
	}
	fn reward(hosts: u32) -> Weight {
		let hosts = hosts as u64;
		Weight::from_parts(
			20_000_000 + 50_000_000 * hosts,
			MODEL_HOSTS_PROOF + (HOST_PROOF + ACCOUNT_PROOF) * hosts,
		)
		.saturating_add(D::get().reads_writes(2 + 2 * hosts, 1 + 2 * hosts))
	}
}
