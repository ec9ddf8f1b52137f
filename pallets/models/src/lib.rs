//! # Models pallet
//!
//! The chain's registry of ONNX models. The engine blob that analyses and runs them is the engine
//! pallet's ([`Config::Engine`]); the registry is what a replacement engine is tried on
//! ([`pallet_engine::EngineProbe`]: it must accept an Active model).
//!
//! ## Terminology
//!
//! - **Model id**: the SHA-256 of the model's exact ONNX bytes ([`ModelId`]).
//! - **Chunk**: the bytes are kept in state in chunks of [`Config::ChunkSize`], each small enough
//!   for one extrinsic; the inference host function reads them from state itself, so a model never
//!   passes through the runtime's memory.
//! - **Analysis**: what the chain's engine says about a model (input and output specs, operators,
//!   parameters, static cost, refusals), computed at registration and stored.
//! - **Cost** ([`ModelCost`]): what the engine measured at registration (`inference::measure`):
//!   the fuel and memory loading the model used, and what running it on deterministic probe
//!   inputs used; and from it, the most one call may use (the probe's, times the owner's
//!   headroom). Every call is priced from it, and refunded what it did not use.
//! - **Deposit**: held from the owner (a fungible hold, [`HoldReason::ModelStorage`]) for as long
//!   as the bytes are in state: [`Config::DepositBase`] + [`Config::DepositPerByte`] × size.
//!
//! ## Life of a model
//!
//! `begin_upload(id, size, …)` holds the deposit and opens an upload; `upload_chunk` stores each
//! chunk (any order, each exactly once); `finalize` has the engine check the bytes against the id
//! and measure them, within [`Config::RegistrationLimits`]. Accepted, the model is **Active**.
//! Refused (bytes that do not match the id, not a model, a disallowed operator, over a limit),
//! the upload is removed, the deposit returned, and `ModelRefused` names the reason. Either way
//! the owner pays for the engine's work: charged the registration limits up front, refunded what
//! the measurement did not use. Small models register in one call with `register`. An upload not
//! finalised within [`Config::UploadLifetime`] blocks is removed and its deposit returned.
//!
//! The owner may `set_fee`, `transfer` the model (the deposit moves with it), `deprecate` it (no
//! new calls; past results stay) and then `remove` it (bytes deleted, deposit released).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod tests;
pub mod traits;
pub mod types;
pub mod weights;

use alloc::{string::ToString, vec::Vec};
use frame_support::dispatch::WithPostDispatchInfo;
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, MutateHold},
		tokens::{Fortitude, Precision, Restriction},
	},
};
use frame_system::pallet_prelude::*;
use pallet_engine::{chunk_len, EngineProbe, EngineSource};
use sp_runtime::traits::{SaturatedConversion, Saturating};
use verinfer_interface::inference;
use verinfer_primitives::{
	analysis::{Analysis, MAX_MODEL_BYTES},
	engine::{EngineError, Limits, Measurement, Usage},
	inference::{Charged, StoredBytes},
	DeclaredShapes,
};

pub use pallet::*;
pub use traits::{CallAdmission, HostRewards, ModelRegistry, ModelSource};
pub use types::*;
pub use weights::WeightInfo;

/// The balance type of the currency deposits are held in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// A model as stored.
pub type ModelOf<T> =
	Model<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
/// Longest reason text in a `ModelRefused` event: 1 KiB.
pub type MaxReasonLen = ConstU32<1024>;

#[frame_support::pallet]
pub mod pallet {
	use super::*;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The currency deposits are held in.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;
		/// The runtime's hold reasons, of which [`HoldReason`] is part.
		type RuntimeHoldReason: From<HoldReason>;
		/// Bytes per chunk: what one extrinsic carries.
		#[pallet::constant]
		type ChunkSize: Get<u32>;
		/// Held for every model, whatever its size.
		#[pallet::constant]
		type DepositBase: Get<BalanceOf<Self>>;
		/// Held per byte of a model.
		#[pallet::constant]
		type DepositPerByte: Get<BalanceOf<Self>>;
		/// Blocks an upload may stay unfinalised before it is removed.
		#[pallet::constant]
		type UploadLifetime: Get<BlockNumberFor<Self>>;
		/// Most uploads that may expire in one block (bounds `on_initialize`).
		#[pallet::constant]
		type MaxExpiringPerBlock: Get<u32>;
		/// Whether one call of an accepted model fits the chain (the inference pallet's budget).
		type CallAdmission: CallAdmission;
		/// The chain's engine: what analyses and measures a model, and what its work weighs.
		type Engine: EngineSource;
		/// What measuring a model at registration may use: loading it and running its probes.
		/// Registration is charged for all of it up front and refunded what it did not use.
		#[pallet::constant]
		type RegistrationLimits: Get<Limits>;
		/// Weights of the calls.
		type WeightInfo: WeightInfo;
	}

	/// Why funds are held.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A model's bytes are in state.
		ModelStorage,
	}

	/// Every model, by id.
	#[pallet::storage]
	pub type Models<T: Config> = StorageMap<_, Blake2_128Concat, ModelId, ModelOf<T>>;

	/// Model bytes, by model id and chunk index.
	#[pallet::storage]
	pub type Chunks<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		ModelId,
		Twox64Concat,
		u32,
		BoundedVec<u8, T::ChunkSize>,
	>;

	/// The engine's analysis of every Active or Deprecated model. Unbounded: it lists the model's
	/// operators and tensor specs, bounded in number by the engine's limits.
	#[pallet::storage]
	#[pallet::unbounded]
	pub type Analyses<T: Config> = StorageMap<_, Blake2_128Concat, ModelId, Analysis>;

	/// What calls of every Active or Deprecated model cost and may use, from the engine's
	/// measurement at registration.
	#[pallet::storage]
	pub type Costs<T: Config> = StorageMap<_, Blake2_128Concat, ModelId, ModelCost>;

	/// Uploads that expire at a block: only those still uploading (finalising or cancelling an
	/// upload takes its id out).
	#[pallet::storage]
	pub type Expiries<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<ModelId, T::MaxExpiringPerBlock>,
		ValueQuery,
	>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Models registered at genesis (the dev chain's demo model): owner, ONNX bytes, name,
		/// version, fee. The engine analyses them as it does any registration; a refused one
		/// fails the genesis build.
		pub models: Vec<GenesisModel<T::AccountId>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for model in &self.models {
				let metadata = ModelMetadata {
					name: model.name.as_bytes().to_vec().try_into().expect("genesis name too long"),
					version: model
						.version
						.as_bytes()
						.to_vec()
						.try_into()
						.expect("genesis version too long"),
					description: Default::default(),
				};
				let fee = model.fee.saturated_into();
				let accepted = Pallet::<T>::do_register(
					&model.owner,
					metadata,
					fee,
					Default::default(),
					DEFAULT_HEADROOM_PERCENT,
					&model.bytes,
				)
				.expect("a genesis model registers");
				assert!(accepted.accepted, "the engine refused a genesis model");
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An upload was opened and the deposit held.
		UploadStarted { id: ModelId, owner: T::AccountId, size: u32, deposit: BalanceOf<T> },
		/// A chunk arrived.
		ChunkUploaded { id: ModelId, index: u32 },
		/// The engine accepted the model: it is Active. `cost` is what it measured and what a
		/// call may use.
		ModelRegistered {
			id: ModelId,
			owner: T::AccountId,
			name: BoundedVec<u8, MaxNameLen>,
			version: BoundedVec<u8, MaxVersionLen>,
			fee: BalanceOf<T>,
			multiply_adds: u64,
			cost: ModelCost,
		},
		/// The engine refused the model; the upload is gone and the deposit returned. `usage` is
		/// what measuring it used, which the owner paid for.
		ModelRefused {
			id: ModelId,
			owner: T::AccountId,
			reason: BoundedVec<u8, MaxReasonLen>,
			usage: Usage,
		},
		/// The owner cancelled an upload; the deposit is returned.
		UploadCancelled { id: ModelId },
		/// An upload was not finalised in time; it is gone and the deposit returned.
		UploadExpired { id: ModelId },
		/// The per-call fee changed.
		FeeChanged { id: ModelId, fee: BalanceOf<T> },
		/// No new calls will be accepted.
		ModelDeprecated { id: ModelId },
		/// The model (and its deposit) has a new owner.
		ModelTransferred { id: ModelId, from: T::AccountId, to: T::AccountId },
		/// The model's bytes are gone and the deposit released.
		ModelRemoved { id: ModelId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// A model with this id exists or is being uploaded.
		ModelExists,
		/// No model with this id.
		ModelNotFound,
		/// Only the model's owner may do this.
		NotOwner,
		/// Zero bytes.
		EmptyModel,
		/// Larger than the engine accepts.
		ModelTooLarge,
		/// The name is empty or not UTF-8.
		InvalidName,
		/// The version is not a semantic version (`1.0.0`).
		InvalidVersion,
		/// The description is not UTF-8.
		InvalidDescription,
		/// The model is not being uploaded.
		NotUploading,
		/// The headroom is below 100 % or above [`MAX_HEADROOM_PERCENT`].
		InvalidHeadroom,
		/// The chunk index is past the model's last chunk.
		ChunkOutOfRange,
		/// A chunk must be exactly the chunk size, or the remainder for the last one.
		WrongChunkSize,
		/// This chunk is already uploaded.
		ChunkAlreadyUploaded,
		/// Chunks are missing.
		UploadIncomplete,
		/// The model is not Active.
		NotActive,
		/// Only a Deprecated model may be removed.
		NotDeprecated,
		/// Too many uploads already expire at the same block; try again in the next one.
		TooManyExpiring,
		/// The chain has no engine blob.
		NoEngine,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let expiring = Expiries::<T>::take(now);
			let mut weight = T::DbWeight::get().reads_writes(1, 1);
			for id in expiring {
				let Some(model) = Models::<T>::get(id) else { continue };
				weight.saturating_accrue(T::WeightInfo::cancel_upload(model.chunks));
				if matches!(model.status, ModelStatus::Uploading { expires_at, .. } if expires_at == now)
				{
					Self::delete(id, &model);
					Self::deposit_event(Event::UploadExpired { id });
				}
			}
			weight
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Opens an upload of `size` bytes whose SHA-256 is `id`, holding the deposit.
		/// `declared` gives the shapes of inputs the model leaves open; `headroom_percent` what
		/// a call may use, in per cent of what the probes use (see [`ModelCost`]).
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::begin_upload())]
		pub fn begin_upload(
			origin: OriginFor<T>,
			id: ModelId,
			size: u32,
			metadata: ModelMetadata,
			fee: BalanceOf<T>,
			declared: StoredShapes,
			headroom_percent: u32,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			Self::open_upload(&owner, id, size, metadata, fee, declared, headroom_percent)
		}

		/// Stores chunk `index` of an upload.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::upload_chunk(bytes.len() as u32))]
		pub fn upload_chunk(
			origin: OriginFor<T>,
			id: ModelId,
			index: u32,
			bytes: BoundedVec<u8, T::ChunkSize>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let model = Self::owned(id, &who)?;
			Self::store_chunk(id, model, index, bytes)
		}

		/// Has the engine check and measure a complete upload (see [`Config::RegistrationLimits`]).
		/// Accepted, the model is Active; refused, the upload is removed, the deposit returned and
		/// `ModelRefused` says why. Either way the owner pays for the engine's work.
		#[pallet::call_index(2)]
		#[pallet::weight(Pallet::<T>::finalize_weight(*id))]
		pub fn finalize(origin: OriginFor<T>, id: ModelId) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			// Refused before the engine runs: charged the storage work alone.
			let early = |error: DispatchError| error.with_weight(T::WeightInfo::finalize(0));
			let model = Self::owned(id, &who).map_err(early)?;
			let size = model.size;
			let chunks = model.chunks;
			let done = Self::do_finalize(id, model).map_err(early)?;
			Ok(Some(Self::registration_weight(T::WeightInfo::finalize(size), chunks, done.usage))
				.into())
		}

		/// Registers a model of at most one chunk in one call.
		#[pallet::call_index(3)]
		#[pallet::weight(Pallet::<T>::registration_weight(
			T::WeightInfo::register(bytes.len() as u32),
			1,
			Pallet::<T>::registration_usage_bound(),
		))]
		pub fn register(
			origin: OriginFor<T>,
			metadata: ModelMetadata,
			fee: BalanceOf<T>,
			declared: StoredShapes,
			headroom_percent: u32,
			bytes: BoundedVec<u8, T::ChunkSize>,
		) -> DispatchResultWithPostInfo {
			let owner = ensure_signed(origin)?;
			let size = bytes.len() as u32;
			// Refused before the engine runs: charged the storage work alone.
			let done = Self::do_register(&owner, metadata, fee, declared, headroom_percent, &bytes)
				.map_err(|error| error.with_weight(T::WeightInfo::register(size)))?;
			Ok(Some(Self::registration_weight(T::WeightInfo::register(size), 1, done.usage)).into())
		}

		/// Abandons an upload: its chunks are removed and the deposit returned.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::cancel_upload(Pallet::<T>::chunks_of(*id)))]
		pub fn cancel_upload(origin: OriginFor<T>, id: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let model = Self::owned(id, &who)?;
			ensure!(
				matches!(model.status, ModelStatus::Uploading { .. }),
				Error::<T>::NotUploading
			);
			Self::delete(id, &model);
			Self::deposit_event(Event::UploadCancelled { id });
			Ok(())
		}

		/// Sets what each call of the model pays.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::set_fee())]
		pub fn set_fee(origin: OriginFor<T>, id: ModelId, fee: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut model = Self::owned(id, &who)?;
			model.fee = fee;
			Models::<T>::insert(id, model);
			Self::deposit_event(Event::FeeChanged { id, fee });
			Ok(())
		}

		/// Stops new calls of an Active model; its results stay.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::deprecate())]
		pub fn deprecate(origin: OriginFor<T>, id: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut model = Self::owned(id, &who)?;
			ensure!(model.status == ModelStatus::Active, Error::<T>::NotActive);
			model.status = ModelStatus::Deprecated;
			Models::<T>::insert(id, model);
			Self::deposit_event(Event::ModelDeprecated { id });
			Ok(())
		}

		/// Gives the model, and the deposit held for it, to `to`.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::transfer())]
		pub fn transfer(origin: OriginFor<T>, id: ModelId, to: T::AccountId) -> DispatchResult {
			let from = ensure_signed(origin)?;
			let mut model = Self::owned(id, &from)?;
			T::Currency::transfer_on_hold(
				&HoldReason::ModelStorage.into(),
				&from,
				&to,
				model.deposit,
				Precision::Exact,
				Restriction::OnHold,
				Fortitude::Polite,
			)?;
			model.owner = to.clone();
			Models::<T>::insert(id, model);
			Self::deposit_event(Event::ModelTransferred { id, from, to });
			Ok(())
		}

		/// Deletes a Deprecated model's bytes and analysis and releases its deposit.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::remove(Pallet::<T>::chunks_of(*id)))]
		pub fn remove(origin: OriginFor<T>, id: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let model = Self::owned(id, &who)?;
			ensure!(model.status == ModelStatus::Deprecated, Error::<T>::NotDeprecated);
			Self::delete(id, &model);
			Self::deposit_event(Event::ModelRemoved { id });
			Ok(())
		}
	}
}

/// How a complete upload ended.
pub struct Finalized {
	/// The engine accepted it and the chain admits its calls: it is Active.
	pub accepted: bool,
	/// What measuring it used, paid for whether it was accepted or not.
	pub usage: Usage,
}

impl<T: Config> Pallet<T> {
	/// A model's bytes in state, as the inference host functions take them.
	pub fn model_bytes(id: ModelId, chunks: u32) -> StoredBytes {
		let keys = (0..chunks).map(|index| Chunks::<T>::hashed_key_for(id, index)).collect();
		StoredBytes { sha256: id.0, keys }
	}

	/// The declared shapes as the engine takes them.
	pub fn declared_shapes(declared: &StoredShapes) -> DeclaredShapes {
		declared.iter().map(|shape| shape.as_ref().map(|dims| dims.to_vec())).collect()
	}

	/// The declared shapes as the registry stores them; `None` when there are more, or longer,
	/// than it stores ([`MaxDeclaredInputs`], [`MaxDeclaredRank`]).
	pub fn stored_shapes(declared: DeclaredShapes) -> Option<StoredShapes> {
		let shapes = declared
			.into_iter()
			.map(|shape| shape.map(BoundedVec::try_from).transpose())
			.collect::<Result<Vec<StoredShape>, _>>()
			.ok()?;
		shapes.try_into().ok()
	}

	/// Size of a model in bytes (0 if unknown): for weights known before dispatch.
	pub fn size_of(id: ModelId) -> u32 {
		Models::<T>::get(id).map_or(0, |model| model.size)
	}

	/// Chunks of a model (0 if unknown).
	pub fn chunks_of(id: ModelId) -> u32 {
		Models::<T>::get(id).map_or(0, |model| model.chunks)
	}

	/// The most a registration's measurement may use: its limits.
	pub fn registration_usage_bound() -> Usage {
		let limits = T::RegistrationLimits::get();
		// A measurement loads once and probes twice, each in an instance of its own.
		Usage { fuel: limits.fuel, memory: limits.memory_cap().saturating_mul(3) }
	}

	/// The weight of a registration step whose own storage work weighs `storage`, for a model of
	/// `chunks` chunks (deleted if refused), whose measurement used `usage`.
	pub fn registration_weight(storage: Weight, chunks: u32, usage: Usage) -> Weight {
		storage
			.saturating_add(T::WeightInfo::cancel_upload(chunks))
			.saturating_add(T::Engine::cost().of(usage))
	}

	/// What `finalize` of `id` is charged before dispatch: the most its measurement may use.
	pub fn finalize_weight(id: ModelId) -> Weight {
		let (size, chunks) =
			Models::<T>::get(id).map_or((0, 0), |model| (model.size, model.chunks));
		Self::registration_weight(
			T::WeightInfo::finalize(size),
			chunks,
			Self::registration_usage_bound(),
		)
		// The model, read to find the weight.
		.saturating_add(T::DbWeight::get().reads(1))
	}

	/// The deposit a model of `size` bytes holds.
	pub fn deposit_for(size: u32) -> BalanceOf<T> {
		T::DepositBase::get().saturating_add(T::DepositPerByte::get().saturating_mul(size.into()))
	}

	fn owned(id: ModelId, who: &T::AccountId) -> Result<ModelOf<T>, DispatchError> {
		let model = Models::<T>::get(id).ok_or(Error::<T>::ModelNotFound)?;
		ensure!(&model.owner == who, Error::<T>::NotOwner);
		Ok(model)
	}

	fn open_upload(
		owner: &T::AccountId,
		id: ModelId,
		size: u32,
		metadata: ModelMetadata,
		fee: BalanceOf<T>,
		declared: StoredShapes,
		headroom_percent: u32,
	) -> DispatchResult {
		ensure!(!Models::<T>::contains_key(id), Error::<T>::ModelExists);
		ensure!(
			(100..=MAX_HEADROOM_PERCENT).contains(&headroom_percent),
			Error::<T>::InvalidHeadroom
		);
		ensure!(size > 0, Error::<T>::EmptyModel);
		ensure!(size as u64 <= MAX_MODEL_BYTES, Error::<T>::ModelTooLarge);
		ensure!(!metadata.name.is_empty(), Error::<T>::InvalidName);
		ensure!(core::str::from_utf8(&metadata.name).is_ok(), Error::<T>::InvalidName);
		ensure!(is_semver(&metadata.version), Error::<T>::InvalidVersion);
		ensure!(
			core::str::from_utf8(&metadata.description).is_ok(),
			Error::<T>::InvalidDescription
		);
		let now = frame_system::Pallet::<T>::block_number();
		let expires_at = now.saturating_add(T::UploadLifetime::get());
		Expiries::<T>::try_mutate(expires_at, |ids| ids.try_push(id))
			.map_err(|_| Error::<T>::TooManyExpiring)?;
		let deposit = Self::deposit_for(size);
		T::Currency::hold(&HoldReason::ModelStorage.into(), owner, deposit)?;
		let chunks = size.div_ceil(T::ChunkSize::get());
		Models::<T>::insert(
			id,
			Model {
				owner: owner.clone(),
				metadata,
				fee,
				size,
				chunks,
				declared,
				headroom_percent,
				status: ModelStatus::Uploading { received: 0, expires_at },
				deposit,
				created_at: now,
			},
		);
		Self::deposit_event(Event::UploadStarted { id, owner: owner.clone(), size, deposit });
		Ok(())
	}

	fn store_chunk(
		id: ModelId,
		mut model: ModelOf<T>,
		index: u32,
		bytes: BoundedVec<u8, T::ChunkSize>,
	) -> DispatchResult {
		let ModelStatus::Uploading { received, expires_at } = model.status else {
			return Err(Error::<T>::NotUploading.into());
		};
		ensure!(index < model.chunks, Error::<T>::ChunkOutOfRange);
		ensure!(
			bytes.len() as u32 == chunk_len(model.size, index, T::ChunkSize::get()),
			Error::<T>::WrongChunkSize
		);
		ensure!(!Chunks::<T>::contains_key(id, index), Error::<T>::ChunkAlreadyUploaded);
		Chunks::<T>::insert(id, index, bytes);
		model.status = ModelStatus::Uploading { received: received + 1, expires_at };
		Models::<T>::insert(id, model);
		Self::deposit_event(Event::ChunkUploaded { id, index });
		Ok(())
	}

	/// Measures a complete upload and makes it Active if the engine accepts it and the chain can
	/// serve its calls; else removes it. Errors only when it is not a complete upload.
	fn do_finalize(id: ModelId, mut model: ModelOf<T>) -> Result<Finalized, DispatchError> {
		let ModelStatus::Uploading { received, .. } = model.status else {
			return Err(Error::<T>::NotUploading.into());
		};
		ensure!(received == model.chunks, Error::<T>::UploadIncomplete);
		let engine = T::Engine::engine().ok_or(Error::<T>::NoEngine)?;
		let measured = Self::measure(id, &model, engine);
		let usage = measured.usage;
		let reason = match measured.result {
			Ok(measurement) if !measurement.analysis.is_accepted() => {
				EngineError::Refused(measurement.analysis.refusals).to_string()
			},
			Ok(measurement) => {
				let cost = ModelCost::new(&measurement, model.headroom_percent);
				match T::CallAdmission::admit(&measurement.analysis, &cost, model.size) {
					Err(reason) => alloc::string::String::from_utf8_lossy(&reason).into_owned(),
					Ok(()) => {
						Self::forget_expiry(id, &model.status);
						let multiply_adds = measurement.analysis.cost.multiply_adds;
						Analyses::<T>::insert(id, measurement.analysis);
						Costs::<T>::insert(id, cost.clone());
						model.status = ModelStatus::Active;
						Self::deposit_event(Event::ModelRegistered {
							id,
							owner: model.owner.clone(),
							name: model.metadata.name.clone(),
							version: model.metadata.version.clone(),
							fee: model.fee,
							multiply_adds,
							cost,
						});
						Models::<T>::insert(id, model);
						return Ok(Finalized { accepted: true, usage });
					},
				}
			},
			Err(error) => error.to_string(),
		};
		Self::delete(id, &model);
		let mut reason = reason.into_bytes();
		reason.truncate(<MaxReasonLen as Get<u32>>::get() as usize);
		Self::deposit_event(Event::ModelRefused {
			id,
			owner: model.owner,
			reason: BoundedVec::truncate_from(reason),
			usage,
		});
		Ok(Finalized { accepted: false, usage })
	}

	/// Has `engine` measure the model `id` (whose record is `model`) as a registration does:
	/// loaded with its declared shapes and run on its probe inputs, within
	/// [`Config::RegistrationLimits`]. What `finalize` decides on, and what a replacement engine
	/// is tried with.
	fn measure(id: ModelId, model: &ModelOf<T>, engine: StoredBytes) -> Charged<Measurement> {
		inference::measure(
			engine,
			Self::model_bytes(id, model.chunks),
			Self::declared_shapes(&model.declared),
			T::RegistrationLimits::get(),
		)
	}

	/// Registers `bytes` (at most one chunk) at once.
	fn do_register(
		owner: &T::AccountId,
		metadata: ModelMetadata,
		fee: BalanceOf<T>,
		declared: StoredShapes,
		headroom_percent: u32,
		bytes: &[u8],
	) -> Result<Finalized, DispatchError> {
		let id = verinfer_primitives::model_id(bytes, sp_io::hashing::sha2_256);
		let size = u32::try_from(bytes.len()).map_err(|_| Error::<T>::ModelTooLarge)?;
		Self::open_upload(owner, id, size, metadata, fee, declared, headroom_percent)?;
		for (index, chunk) in bytes.chunks(T::ChunkSize::get() as usize).enumerate() {
			let model = Models::<T>::get(id).ok_or(Error::<T>::ModelNotFound)?;
			let chunk =
				BoundedVec::try_from(chunk.to_vec()).map_err(|_| Error::<T>::WrongChunkSize)?;
			Self::store_chunk(id, model, index as u32, chunk)?;
		}
		let model = Models::<T>::get(id).ok_or(Error::<T>::ModelNotFound)?;
		Self::do_finalize(id, model)
	}

	/// Removes a model's bytes, analysis, cost and record, and releases its deposit.
	fn delete(id: ModelId, model: &ModelOf<T>) {
		Self::forget_expiry(id, &model.status);
		let _ = Chunks::<T>::clear_prefix(id, model.chunks, None);
		Analyses::<T>::remove(id);
		Costs::<T>::remove(id);
		Models::<T>::remove(id);
		// The whole deposit was held for this model: releasing it exactly cannot fall short.
		let _ = T::Currency::release(
			&HoldReason::ModelStorage.into(),
			&model.owner,
			model.deposit,
			Precision::BestEffort,
		);
	}

	/// Takes an upload that is no longer uploading out of the block it would have expired at,
	/// so that its place is free for another.
	fn forget_expiry(id: ModelId, status: &ModelStatus<BlockNumberFor<T>>) {
		if let ModelStatus::Uploading { expires_at, .. } = status {
			Expiries::<T>::mutate_exists(expires_at, |ids| {
				if let Some(list) = ids {
					list.retain(|other| *other != id);
				}
				if ids.as_ref().is_some_and(|list| list.is_empty()) {
					*ids = None;
				}
			});
		}
	}
}

impl<T: Config> ModelRegistry for Pallet<T> {
	fn is_active(model: &ModelId) -> bool {
		Models::<T>::get(model).is_some_and(|model| model.status == ModelStatus::Active)
	}
}

impl<T: Config> ModelSource<T::AccountId, BalanceOf<T>, BlockNumberFor<T>> for Pallet<T> {
	fn model(model: &ModelId) -> Option<ModelOf<T>> {
		Models::<T>::get(model)
	}

	fn analysis(model: &ModelId) -> Option<Analysis> {
		Analyses::<T>::get(model)
	}

	fn cost(model: &ModelId) -> Option<ModelCost> {
		Costs::<T>::get(model)
	}

	fn ids() -> Vec<ModelId> {
		Models::<T>::iter_keys().collect()
	}

	fn stored(model: &ModelId, record: &ModelOf<T>) -> (StoredBytes, DeclaredShapes) {
		(Self::model_bytes(*model, record.chunks), Self::declared_shapes(&record.declared))
	}
}

/// A replacement engine is tried on an Active model: it must measure it, within the registration
/// limits, and accept it.
impl<T: Config> EngineProbe for Pallet<T> {
	fn size(probe: &ModelId) -> u32 {
		Self::size_of(*probe)
	}

	fn usage_bound() -> Usage {
		Self::registration_usage_bound()
	}

	fn accepts(probe: &ModelId, engine: StoredBytes) -> Result<bool, DispatchError> {
		let model = Models::<T>::get(probe).ok_or(Error::<T>::ModelNotFound)?;
		ensure!(model.status == ModelStatus::Active, Error::<T>::NotActive);
		let measured = Self::measure(*probe, &model, engine);
		Ok(measured.result.is_ok_and(|measured| measured.analysis.is_accepted()))
	}
}

/// A model registered at genesis.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub struct GenesisModel<AccountId> {
	pub owner: AccountId,
	/// The ONNX bytes, `0x…` hex in JSON.
	#[serde(with = "sp_core::bytes")]
	pub bytes: Vec<u8>,
	/// UTF-8.
	pub name: alloc::string::String,
	/// A semantic version.
	pub version: alloc::string::String,
	/// The per-call fee, in the smallest unit.
	pub fee: u128,
}
