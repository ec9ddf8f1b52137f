//! The engine pallet's data types.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::weights::Weight;
use scale_info::TypeInfo;
use sp_core::H256;
use verinfer_primitives::engine::Usage;

/// Largest engine blob: 64 MiB, four times today's (15 MB), and far below what the node's
/// wasmtime compiles in reasonable time and memory.
pub const MAX_ENGINE_BYTES: u32 = 64 << 20;

/// What the engine's work costs: the benchmarked, worst-case time per unit of each count the
/// engine reports ([`Usage`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo, MaxEncodedLen)]
pub struct EngineCost {
	/// Picoseconds per unit of fuel, for the slowest operator mix measured.
	pub ps_per_fuel: u64,
	/// Picoseconds per byte of engine memory a call starts with or grows to: the copy of a
	/// model's image and the page faults of fresh memory.
	pub ps_per_memory_byte: u64,
}

impl EngineCost {
	/// The weight of `fuel` units and `memory` bytes.
	pub fn weight(&self, fuel: u64, memory: u64) -> Weight {
		Weight::from_parts(
			fuel.saturating_mul(self.ps_per_fuel)
				.saturating_add(memory.saturating_mul(self.ps_per_memory_byte)),
			0,
		)
	}

	/// The weight of what an engine call used.
	pub fn of(&self, usage: Usage) -> Weight {
		self.weight(usage.fuel, usage.memory)
	}
}

/// The engine blob in state: its SHA-256, size and chunk count.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct EngineInfo {
	pub sha256: H256,
	pub size: u32,
	pub chunks: u32,
}

/// A replacement engine blob being uploaded.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct EngineUpload {
	pub sha256: H256,
	pub size: u32,
	pub chunks: u32,
	/// Chunks stored so far.
	pub received: u32,
}

/// Bytes of chunk `index` of a blob of `size` bytes in chunks of `chunk_size`.
pub fn chunk_len(size: u32, index: u32, chunk_size: u32) -> u32 {
	size.saturating_sub(index.saturating_mul(chunk_size)).min(chunk_size)
}
