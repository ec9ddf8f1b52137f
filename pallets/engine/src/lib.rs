//! # Engine pallet
//!
//! The engine blob (tract compiled to Wasm) that runs every model, and its governance.
//!
//! The blob is kept in state in chunks of [`Config::ChunkSize`], set at genesis. Its hash and
//! chunk keys are what [`EngineSource::engine`] hands the inference host functions, which read
//! the bytes from state themselves (and compile a blob once per node, by its hash).
//!
//! [`Config::EngineOrigin`] (root) replaces it: `begin_upload(sha256, size)`, `upload_chunk` for
//! each chunk, then `activate(probe)`, which checks the chunks hash to `sha256` and has the new
//! engine analyse `probe`, a model the chain runs ([`Config::Probe`], the registry), and
//! switches only if it accepts it: a blob that is not an engine, or that cannot analyse a model
//! the chain runs, never becomes the engine. The old engine's chunks are then deleted. Models
//! keep the analyses the old engine made. `cancel_upload` abandons a replacement.
//!
//! [`Config::EngineCost`] is what the engine's work weighs, per unit of fuel and byte of memory:
//! the registry prices registrations with it and the inference pallet calls.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod tests;
pub mod traits;
pub mod types;
pub mod weights;

use alloc::vec::Vec;
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::*;
use sp_core::H256;
use verinfer_primitives::{inference::StoredBytes, ModelId};

pub use pallet::*;
#[cfg(feature = "runtime-benchmarks")]
pub use traits::BenchmarkHelper;
pub use traits::{EngineProbe, EngineSource};
pub use types::*;
pub use weights::WeightInfo;

#[frame_support::pallet]
pub mod pallet {
	use super::*;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// Bytes per chunk: what one extrinsic carries.
		#[pallet::constant]
		type ChunkSize: Get<u32>;
		/// What the engine's work weighs: benchmarked worst-case time per unit of fuel and byte
		/// of memory. Prices registrations in the registry and calls in the inference pallet.
		#[pallet::constant]
		type EngineCost: Get<EngineCost>;
		/// Who may replace the engine blob: root or governance.
		type EngineOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// The models a replacement engine is tried on: the registry.
		type Probe: EngineProbe;
		/// Weights of the calls.
		type WeightInfo: WeightInfo;
		/// Makes probe models for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper;
	}

	/// The engine blob's hash, size and chunk count.
	#[pallet::storage]
	pub type Engine<T: Config> = StorageValue<_, EngineInfo>;

	/// Engine blobs' bytes, by the blob's SHA-256 and chunk index: the current engine's, and a
	/// replacement's while it is uploaded.
	#[pallet::storage]
	pub type EngineChunks<T: Config> =
		StorageDoubleMap<_, Identity, H256, Twox64Concat, u32, BoundedVec<u8, T::ChunkSize>>;

	/// A replacement engine blob being uploaded.
	#[pallet::storage]
	pub type PendingEngine<T: Config> = StorageValue<_, EngineUpload>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The engine blob; empty for none.
		#[serde(with = "sp_core::bytes")]
		pub blob: Vec<u8>,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			if !self.blob.is_empty() {
				Pallet::<T>::store(&self.blob);
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A replacement engine blob is being uploaded.
		UploadStarted { sha256: H256, size: u32 },
		/// The replacement upload was abandoned and its chunks deleted.
		UploadCancelled { sha256: H256 },
		/// The engine `new` runs every model from now on; `old`'s chunks are deleted.
		Replaced { old: Option<H256>, new: H256, probe: ModelId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// Zero bytes.
		EmptyEngine,
		/// The engine blob is larger than [`MAX_ENGINE_BYTES`].
		EngineTooLarge,
		/// This blob is already the engine.
		EngineUnchanged,
		/// A replacement engine is already being uploaded; cancel it first.
		UploadPending,
		/// No replacement engine is being uploaded.
		NoUpload,
		/// The chunk index is past the blob's last chunk.
		ChunkOutOfRange,
		/// A chunk must be exactly the chunk size, or the remainder for the last one.
		WrongChunkSize,
		/// This chunk is already uploaded.
		ChunkAlreadyUploaded,
		/// Chunks are missing.
		UploadIncomplete,
		/// The replacement engine could not measure the probe model, or refused it: it does not
		/// become the engine.
		EngineRejected,
		/// The replacement engine's chunks do not hash to the SHA-256 it was uploaded as.
		HashMismatch,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Opens the upload of a replacement engine blob of `size` bytes whose SHA-256 is
		/// `sha256`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::begin_upload())]
		pub fn begin_upload(origin: OriginFor<T>, sha256: H256, size: u32) -> DispatchResult {
			T::EngineOrigin::ensure_origin(origin)?;
			ensure!(size > 0, Error::<T>::EmptyEngine);
			ensure!(size <= MAX_ENGINE_BYTES, Error::<T>::EngineTooLarge);
			ensure!(
				Engine::<T>::get().is_none_or(|engine| engine.sha256 != sha256),
				Error::<T>::EngineUnchanged
			);
			ensure!(!PendingEngine::<T>::exists(), Error::<T>::UploadPending);
			let chunks = size.div_ceil(T::ChunkSize::get());
			PendingEngine::<T>::put(EngineUpload { sha256, size, chunks, received: 0 });
			Self::deposit_event(Event::UploadStarted { sha256, size });
			Ok(())
		}

		/// Stores chunk `index` of the replacement engine blob.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::upload_chunk(bytes.len() as u32))]
		pub fn upload_chunk(
			origin: OriginFor<T>,
			index: u32,
			bytes: BoundedVec<u8, T::ChunkSize>,
		) -> DispatchResult {
			T::EngineOrigin::ensure_origin(origin)?;
			let mut upload = PendingEngine::<T>::get().ok_or(Error::<T>::NoUpload)?;
			ensure!(index < upload.chunks, Error::<T>::ChunkOutOfRange);
			ensure!(
				bytes.len() as u32 == chunk_len(upload.size, index, T::ChunkSize::get()),
				Error::<T>::WrongChunkSize
			);
			ensure!(
				!EngineChunks::<T>::contains_key(upload.sha256, index),
				Error::<T>::ChunkAlreadyUploaded
			);
			EngineChunks::<T>::insert(upload.sha256, index, bytes);
			upload.received += 1;
			PendingEngine::<T>::put(upload);
			Ok(())
		}

		/// Makes the uploaded blob the engine, if its chunks hash to the SHA-256 it was uploaded
		/// as and it analyses and accepts `probe`, a model the chain runs; deletes the old
		/// engine's chunks.
		#[pallet::call_index(2)]
		#[pallet::weight(Pallet::<T>::activate_weight(*probe))]
		pub fn activate(origin: OriginFor<T>, probe: ModelId) -> DispatchResult {
			T::EngineOrigin::ensure_origin(origin)?;
			let upload = PendingEngine::<T>::get().ok_or(Error::<T>::NoUpload)?;
			ensure!(upload.received == upload.chunks, Error::<T>::UploadIncomplete);
			// Nodes name compiled engines by this hash and trust it (a node that compiled another
			// blob under it would run that one): the runtime is what makes it true.
			ensure!(
				Self::stored_sha256(upload.sha256, upload.chunks) == upload.sha256,
				Error::<T>::HashMismatch
			);
			let candidate = Self::bytes_at(upload.sha256, upload.chunks);
			ensure!(T::Probe::accepts(&probe, candidate)?, Error::<T>::EngineRejected);
			let old = Engine::<T>::get();
			if let Some(old) = &old {
				let _ = EngineChunks::<T>::clear_prefix(old.sha256, old.chunks, None);
			}
			Engine::<T>::put(EngineInfo {
				sha256: upload.sha256,
				size: upload.size,
				chunks: upload.chunks,
			});
			PendingEngine::<T>::kill();
			Self::deposit_event(Event::Replaced {
				old: old.map(|old| old.sha256),
				new: upload.sha256,
				probe,
			});
			Ok(())
		}

		/// Abandons the replacement engine upload and deletes its chunks.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::cancel_upload(
			PendingEngine::<T>::get().map_or(0, |upload| upload.chunks),
		))]
		pub fn cancel_upload(origin: OriginFor<T>) -> DispatchResult {
			T::EngineOrigin::ensure_origin(origin)?;
			let upload = PendingEngine::<T>::take().ok_or(Error::<T>::NoUpload)?;
			let _ = EngineChunks::<T>::clear_prefix(upload.sha256, upload.chunks, None);
			Self::deposit_event(Event::UploadCancelled { sha256: upload.sha256 });
			Ok(())
		}
	}
}

impl<T: Config> Pallet<T> {
	/// The engine blob in state, as the inference host functions take it.
	pub fn engine_bytes() -> Option<StoredBytes> {
		let engine = Engine::<T>::get()?;
		Some(Self::bytes_at(engine.sha256, engine.chunks))
	}

	/// The engine blob of SHA-256 `sha256` in `chunks` chunks, as the host functions take it.
	fn bytes_at(sha256: H256, chunks: u32) -> StoredBytes {
		let keys =
			(0..chunks).map(|index| EngineChunks::<T>::hashed_key_for(sha256, index)).collect();
		StoredBytes { sha256: sha256.0, keys }
	}

	/// The weight of `activate` with `probe`: the probe's analysis (benchmarked with the new
	/// engine compiled and cached) and its measurement at the most it may use, plus reading and
	/// hashing the new blob's chunks, counted as writing them. The node's one-time compilation
	/// of a new engine is not in any weight.
	pub fn activate_weight(probe: ModelId) -> Weight {
		let chunks = PendingEngine::<T>::get().map_or(0, |upload| upload.chunks);
		T::WeightInfo::activate(T::Probe::size(&probe))
			.saturating_add(
				T::WeightInfo::upload_chunk(T::ChunkSize::get()).saturating_mul(chunks as u64),
			)
			.saturating_add(T::EngineCost::get().of(T::Probe::usage_bound()))
			.saturating_add(T::DbWeight::get().reads(3))
	}

	/// The SHA-256 of the engine chunks stored under `sha256`, hashed as they are read, one
	/// chunk in memory at a time.
	fn stored_sha256(sha256: H256, chunks: u32) -> H256 {
		use sha2::Digest;
		let mut hasher = sha2::Sha256::new();
		for index in 0..chunks {
			if let Some(chunk) = EngineChunks::<T>::get(sha256, index) {
				hasher.update(&chunk[..]);
			}
		}
		H256(hasher.finalize().into())
	}

	/// Stores `blob` as the engine (genesis).
	fn store(blob: &[u8]) {
		Engine::<T>::put(Self::store_chunks(blob));
	}

	/// Stores `blob`'s chunks under its SHA-256, all at once (genesis and the benchmarks'
	/// set-up, not a call); returns where they are.
	fn store_chunks(blob: &[u8]) -> EngineInfo {
		let sha256 = H256::from(sp_io::hashing::sha2_256(blob));
		let mut chunks = 0u32;
		for (index, chunk) in blob.chunks(T::ChunkSize::get() as usize).enumerate() {
			EngineChunks::<T>::insert(
				sha256,
				index as u32,
				BoundedVec::try_from(chunk.to_vec()).expect("chunks() yields at most chunk_size"),
			);
			chunks += 1;
		}
		EngineInfo { sha256, size: blob.len() as u32, chunks }
	}
}

impl<T: Config> EngineSource for Pallet<T> {
	fn engine() -> Option<StoredBytes> {
		Self::engine_bytes()
	}

	fn has_engine() -> bool {
		Engine::<T>::exists()
	}

	fn cost() -> EngineCost {
		T::EngineCost::get()
	}
}
