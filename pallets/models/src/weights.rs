//! Weights of the models pallet.
//!
//! Until `scripts/benchmark-weights.sh` generates this file from the pallet's benchmarks (run by
//! the node's `benchmark pallet`), these are conservative estimates: database accesses at the
//! runtime's `DbWeight` and a per-byte term for what the engine does with the model's bytes
//! (SHA-256 and analysis: 5.4 ns per byte measured for ResNet-50's load, counted as 8).

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{RuntimeDbWeight, Weight},
};

/// Weight functions needed by the models pallet.
pub trait WeightInfo {
	fn begin_upload() -> Weight;
	fn upload_chunk(bytes: u32) -> Weight;
	fn finalize(bytes: u32) -> Weight;
	fn register(bytes: u32) -> Weight;
	fn cancel_upload(chunks: u32) -> Weight;
	fn set_fee() -> Weight;
	fn deprecate() -> Weight;
	fn transfer() -> Weight;
	fn remove(chunks: u32) -> Weight;
	fn begin_engine_upload() -> Weight;
	fn upload_engine_chunk(bytes: u32) -> Weight;
	fn activate_engine(probe_bytes: u32) -> Weight;
	fn cancel_engine_upload(chunks: u32) -> Weight;
}

/// Time per byte of copying a chunk into state, in picoseconds.
const STORE_PS_PER_BYTE: u64 = 2_000;
/// Time per byte of the engine reading, hashing and analysing a model, in picoseconds.
const ANALYSE_PS_PER_BYTE: u64 = 8_000;
/// Fixed time of an analysis (a fresh engine instance, tract's passes), in picoseconds: 50 ms.
const ANALYSE_BASE_PS: u64 = 50_000_000_000;

/// The estimates, with the database weights `D`.
pub struct Estimates<D>(PhantomData<D>);

/// The estimates with the runtime's database weights.
pub type SubstrateWeight<T> = Estimates<<T as frame_system::Config>::DbWeight>;

impl<D: Get<RuntimeDbWeight>> WeightInfo for Estimates<D> {
	fn begin_upload() -> Weight {
		Weight::from_parts(60_000_000, 0).saturating_add(D::get().reads_writes(4, 4))
	}
	fn upload_chunk(bytes: u32) -> Weight {
		Weight::from_parts(40_000_000 + STORE_PS_PER_BYTE * bytes as u64, bytes as u64)
			.saturating_add(D::get().reads_writes(2, 2))
	}
	fn finalize(bytes: u32) -> Weight {
		Weight::from_parts(ANALYSE_BASE_PS + ANALYSE_PS_PER_BYTE * bytes as u64, bytes as u64)
			.saturating_add(D::get().reads_writes(4, 3))
	}
	fn register(bytes: u32) -> Weight {
		Self::begin_upload()
			.saturating_add(Self::upload_chunk(bytes))
			.saturating_add(Self::finalize(bytes))
	}
	fn cancel_upload(chunks: u32) -> Weight {
		Weight::from_parts(50_000_000, 0)
			.saturating_add(D::get().reads_writes(2, 3 + chunks as u64))
	}
	fn set_fee() -> Weight {
		Weight::from_parts(30_000_000, 0).saturating_add(D::get().reads_writes(1, 1))
	}
	fn deprecate() -> Weight {
		Weight::from_parts(30_000_000, 0).saturating_add(D::get().reads_writes(1, 1))
	}
	fn transfer() -> Weight {
		Weight::from_parts(60_000_000, 0).saturating_add(D::get().reads_writes(3, 3))
	}
	fn remove(chunks: u32) -> Weight {
		Self::cancel_upload(chunks)
	}
	fn begin_engine_upload() -> Weight {
		Weight::from_parts(20_000_000, 0).saturating_add(D::get().reads_writes(2, 1))
	}
	fn upload_engine_chunk(bytes: u32) -> Weight {
		Weight::from_parts(20_000_000 + STORE_PS_PER_BYTE * bytes as u64, bytes as u64)
			.saturating_add(D::get().reads_writes(2, 2))
	}
	fn activate_engine(probe_bytes: u32) -> Weight {
		Self::finalize(probe_bytes).saturating_add(D::get().reads_writes(3, 3))
	}
	fn cancel_engine_upload(chunks: u32) -> Weight {
		Weight::from_parts(20_000_000, 0)
			.saturating_add(D::get().reads_writes(1, 1 + chunks as u64))
	}
}
