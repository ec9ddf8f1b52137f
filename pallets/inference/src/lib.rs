//! # Inference pallet
//!
//! Runs registered models in the block: the chain's reason to exist.
//!
//! ## Terminology
//!
//! - **Request id**: numbers every successful `infer` in execution order ([`RequestId`]).
//! - **Result**: the outputs of one call with who asked, when, what was paid and the outputs'
//!   SHA-256 ([`InferenceResult`]); kept for [`Config::ResultRetention`] blocks, then removed in
//!   `on_idle`, oldest first.
//! - **Result deposit**: held from the caller (a fungible hold, [`HoldReason::ResultStorage`])
//!   while its result is in state, released when it is pruned: [`Config::ResultDepositBase`] +
//!   [`Config::ResultDepositPerByte`] × the result's bytes. The results of one block hold at most
//!   [`Config::MaxResultBytesPerBlock`] bytes of outputs, so state grows by at most that much per
//!   block of the retention period, each byte paid for by a deposit.
//! - **Fee**: the model's per-call fee, set by its owner. [`Config::HostShare`] of it goes to the
//!   hosts serving the model (stake-weighted, by [`Config::Hosts`]), the rest to the owner; with
//!   no host serving, all to the owner. The ordinary transaction fee is paid besides.
//! - **Call weight**: what `infer` is charged before it runs, from what the engine measured when
//!   the model was registered ([`ModelCost`]): the most fuel and memory a call may use, priced by
//!   the benchmarked worst-case time per unit ([`EngineSource::cost`]), plus the
//!   checks, the input and output bytes, storing the result and paying the fee. After the run,
//!   the call is refunded what the engine did not use (it reports its fuel and memory, the same
//!   count on every validator). Loading the model (its measured load, and reading its bytes) is
//!   charged to the first call of the model in a block. Up to 16 models a block whose images hold
//!   2 GiB together ([`WarmModels`], the block's warm set) are refunded it at their later calls:
//!   the call tells the node to keep such a model loaded for the block ([`Keep::Block`]), and the
//!   node guarantees it, whatever else it loads meanwhile. Beyond them, every call pays its load.
//!
//! ## Life of a call
//!
//! `infer(model, inputs, max_fee)` first checks, before running anything, that the model is
//! Active, that the inputs match its specs exactly (count, dtype, shape, well-formed tensors),
//! that the fee is at most `max_fee`, that the caller can pay it and the result's deposit (for the
//! most bytes the model's outputs may take), and that the block's results have room for them. Any
//! of these failing is an error charged only the checks' weight. Then the engine runs the model
//! through the `inference::run` host function within the model's call limits; a failure there (out of fuel,
//! the memory limit, a failure inside tract) is an error too, identical on every validator and
//! charged what the engine used: a call out of fuel used all of its limit. On success the fee is
//! paid, the result's deposit held, the result stored and [`Event::InferenceCompleted`] carries
//! the output hash always and the outputs when small.
//!
//! A model whose single call cannot be executed within one extrinsic's share of a block, or whose
//! outputs exceed [`Config::MaxResultBytes`], is refused at registration ([`CallAdmission`]).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod runtime_api;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

use alloc::{format, vec::Vec};
use codec::Encode;
use frame_support::{
	dispatch::{DispatchClass, PostDispatchInfo, WithPostDispatchInfo},
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, Mutate, MutateHold},
		tokens::{Fortitude, Precision, Preservation},
	},
};
use frame_system::pallet_prelude::*;
use pallet_engine::{EngineCost, EngineSource};
use pallet_models::{
	CallAdmission, HostRewards, Model, ModelCost, ModelId, ModelSource, ModelStatus,
};
use sp_core::H256;
use sp_runtime::{
	traits::{SaturatedConversion, Saturating, Zero},
	Perbill,
};
use verinfer_interface::inference;
use verinfer_primitives::{
	analysis::Analysis,
	engine::{EngineError, Usage},
	inference::{Charged, InferenceError, Keep, RunRequest, MAX_WARM_IMAGE_BYTES, MAX_WARM_MODELS},
	output_hash,
	tensor::Tensor,
};

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

/// The currency's balance.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// A model's record, as the registry keeps it.
pub type ModelOf<T> =
	Model<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
/// A stored result.
pub type ResultOf<T> =
	InferenceResult<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
/// A model as the runtime API describes it.
pub type ModelInfoOf<T> =
	ModelInfo<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;

/// Models whose load this block has paid for: as many as the node keeps loaded for a block
/// ([`MAX_WARM_MODELS`]), so that a refunded load is never a real one.
pub type MaxWarmModels = ConstU32<MAX_WARM_MODELS>;

#[frame_support::pallet]
pub mod pallet {
	use super::*;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The currency fees are paid and result deposits held in.
		type Currency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;
		/// The runtime's hold reasons, of which [`HoldReason`] is part.
		type RuntimeHoldReason: From<HoldReason>;
		/// The registry of the models the pallet runs.
		type Models: ModelSource<Self::AccountId, BalanceOf<Self>, BlockNumberFor<Self>>;
		/// The chain's engine, and what its work weighs.
		type Engine: EngineSource;
		/// Pays the hosts serving a model their share of its fee.
		type Hosts: HostRewards<Self::AccountId, BalanceOf<Self>>;
		/// Share of a model's fee that goes to its hosts; the rest goes to its owner.
		#[pallet::constant]
		type HostShare: Get<Perbill>;
		/// Blocks a result is kept before `on_idle` may remove it.
		#[pallet::constant]
		type ResultRetention: Get<BlockNumberFor<Self>>;
		/// Most bytes of outputs one call may store; models producing more are refused at
		/// registration.
		#[pallet::constant]
		type MaxResultBytes: Get<u32>;
		/// Outputs of at most this many bytes are carried in `InferenceCompleted` itself.
		#[pallet::constant]
		type MaxEventOutputBytes: Get<u32>;
		/// Most bytes of outputs the results stored in one block may hold together: with
		/// [`Config::ResultRetention`], what bounds the state results take.
		#[pallet::constant]
		type MaxResultBytesPerBlock: Get<u32>;
		/// Held from the caller for each stored result until it is pruned.
		#[pallet::constant]
		type ResultDepositBase: Get<BalanceOf<Self>>;
		/// Held from the caller per byte of a stored result's outputs (SCALE-encoded) until it is
		/// pruned.
		#[pallet::constant]
		type ResultDepositPerByte: Get<BalanceOf<Self>>;
		/// Weights of the calls.
		type WeightInfo: WeightInfo;
	}

	/// The id the next successful call gets.
	#[pallet::storage]
	pub type NextRequestId<T: Config> = StorageValue<_, RequestId, ValueQuery>;

	/// The oldest id that may still have a result: where `on_idle` resumes pruning.
	#[pallet::storage]
	pub type OldestResult<T: Config> = StorageValue<_, RequestId, ValueQuery>;

	/// Results by request id. Unbounded: outputs are bounded by [`Config::MaxResultBytes`] at
	/// registration.
	#[pallet::storage]
	#[pallet::unbounded]
	pub type Results<T: Config> = StorageMap<_, Twox64Concat, RequestId, ResultOf<T>>;

	/// Bytes of outputs the results stored in this block hold; cleared at the start of each
	/// block.
	#[pallet::storage]
	#[pallet::whitelist_storage]
	pub type BlockResultBytes<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// Models already loaded (and paid for) in this block, with the bytes of their memory images:
	/// the block's warm set, at most [`MaxWarmModels`] models and [`MAX_WARM_IMAGE_BYTES`], which
	/// the node keeps loaded for the block. Cleared at the start of each block.
	#[pallet::storage]
	#[pallet::whitelist_storage]
	pub type WarmModels<T: Config> =
		StorageValue<_, BoundedVec<(ModelId, u64), MaxWarmModels>, ValueQuery>;

	/// Why the inference pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A result is in state: released when it is pruned.
		ResultStorage,
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A model ran; its result is stored under `request_id`. `outputs` is present when their
		/// SCALE encoding is at most [`Config::MaxEventOutputBytes`].
		InferenceCompleted {
			request_id: RequestId,
			model: ModelId,
			caller: T::AccountId,
			fee: BalanceOf<T>,
			output_hash: H256,
			outputs: Option<Vec<Tensor>>,
		},
		/// Expired results were removed, from `first` to `last` inclusive.
		ResultsPruned { first: RequestId, last: RequestId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No model with this id.
		ModelNotFound,
		/// The model is still being uploaded.
		ModelNotActive,
		/// The model's owner deprecated it: no new calls.
		ModelDeprecated,
		/// A different number of inputs than the model takes.
		InputCountMismatch,
		/// Input `index` is not a well-formed tensor (data length, booleans).
		InvalidInput { index: u8 },
		/// Input `index` has another element type than the model's spec.
		InputDtypeMismatch { index: u8 },
		/// Input `index` has another shape than the model's spec.
		InputShapeMismatch { index: u8 },
		/// The model's fee is above the `max_fee` the caller accepts.
		FeeAboveMax,
		/// The caller cannot pay the model's fee and the result's deposit.
		InsufficientBalance,
		/// The results stored in this block already hold so many bytes that this call's outputs
		/// may not fit ([`Config::MaxResultBytesPerBlock`]): try again in a later block.
		BlockResultsFull,
		/// The engine needed more memory than the call may use.
		EngineMemoryExceeded,
		/// The call used all the fuel it may use (its model's measured cost times the headroom
		/// its owner registered) and was stopped; it is charged all of it.
		OutOfFuel,
		/// The engine failed to run the model (the dry-run API gives its full error).
		InferenceFailed,
		/// The outputs are larger than a result may be.
		OutputTooLarge,
		/// The chain has no engine blob.
		NoEngine,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(_: BlockNumberFor<T>) -> Weight {
			WarmModels::<T>::kill();
			BlockResultBytes::<T>::kill();
			T::DbWeight::get().writes(2)
		}

		fn on_idle(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
			Self::prune(now, remaining)
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Runs `model` on `inputs`, paying the model's fee (at most `max_fee`) to its owner and
		/// hosts, and stores the outputs under the next request id.
		#[pallet::call_index(0)]
		#[pallet::weight(Pallet::<T>::infer_weight(*model))]
		pub fn infer(
			origin: OriginFor<T>,
			model: ModelId,
			inputs: Vec<Tensor>,
			max_fee: BalanceOf<T>,
		) -> DispatchResultWithPostInfo {
			let caller = ensure_signed(origin)?;
			let (record, analysis, cost) = Self::admitted(&caller, model, &inputs, max_fee)
				.map_err(|error| error.with_weight(Self::checks_weight()))?;

			let weight = Self::call_weight(&analysis, &cost, record.size);
			let warm_set = WarmModels::<T>::get();
			let warm = warm_set.iter().any(|(id, _)| *id == model);
			let joins = !warm && Self::joins_warm_set(&warm_set, cost.load.memory);
			let keep = if warm || joins {
				Keep::Block(frame_system::Pallet::<T>::block_number().saturated_into())
			} else {
				Keep::Maybe
			};
			let ran = Self::run(model, &record, &cost, inputs, keep);
			let mut actual = weight.used(ran.usage);
			if !warm {
				actual.saturating_accrue(weight.load);
			}
			let outputs = ran.result.map_err(|error| {
				let error = match error {
					InferenceError::Engine(EngineError::MemoryLimitExceeded { .. }) => {
						Error::<T>::EngineMemoryExceeded
					},
					InferenceError::Engine(EngineError::OutOfFuel { .. }) => Error::<T>::OutOfFuel,
					_ => Error::<T>::InferenceFailed,
				};
				error.with_weight(actual)
			})?;
			let encoded_len = outputs.encoded_size() as u64;
			ensure!(
				encoded_len <= T::MaxResultBytes::get() as u64,
				Error::<T>::OutputTooLarge.with_weight(actual)
			);
			let deposit = Self::result_deposit(encoded_len);
			T::Currency::hold(&HoldReason::ResultStorage.into(), &caller, deposit)
				.map_err(|_| Error::<T>::InsufficientBalance.with_weight(actual))?;
			Self::pay(model, &record, &caller).map_err(|error| error.with_weight(actual))?;
			BlockResultBytes::<T>::mutate(|bytes| {
				*bytes = bytes.saturating_add(u32::try_from(encoded_len).unwrap_or(u32::MAX))
			});
			if joins {
				// Checked above: the warm set has room for it.
				let _ =
					WarmModels::<T>::try_mutate(|warm| warm.try_push((model, cost.load.memory)));
			}

			let request_id = NextRequestId::<T>::mutate(|next| {
				let id = *next;
				*next = next.saturating_add(1);
				id
			});
			let output_hash = H256::from(output_hash(&outputs, sp_io::hashing::sha2_256));
			let in_event = encoded_len <= T::MaxEventOutputBytes::get() as u64;
			Self::deposit_event(Event::InferenceCompleted {
				request_id,
				model,
				caller: caller.clone(),
				fee: record.fee,
				output_hash,
				outputs: in_event.then(|| outputs.clone()),
			});
			Results::<T>::insert(
				request_id,
				InferenceResult {
					model,
					caller,
					at: frame_system::Pallet::<T>::block_number(),
					fee: record.fee,
					deposit,
					output_hash,
					outputs,
				},
			);
			Ok(PostDispatchInfo { actual_weight: Some(actual), pays_fee: Pays::Yes })
		}
	}
}

/// The parts of a call's weight.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CallWeight {
	/// Everything but the engine: the checks, the input and output bytes, storing the result,
	/// paying the fee.
	pub base: Weight,
	/// The engine running the loaded model, at the most the call may use.
	pub engine: Weight,
	/// Loading the model: charged to the first call of the model in a block.
	pub load: Weight,
	/// What the engine's work costs, to price what a run used.
	pub cost: EngineCost,
}

impl CallWeight {
	/// Running the loaded model at the most the call may use, and everything around it.
	pub fn run(&self) -> Weight {
		self.base.saturating_add(self.engine)
	}

	/// What `infer` is charged up front.
	pub fn total(&self) -> Weight {
		self.run().saturating_add(self.load)
	}

	/// What a call whose run used `usage` weighs, loading aside.
	pub fn used(&self, usage: Usage) -> Weight {
		// At most what was charged: the engine never reports more than its limits, but a
		// refund must never become a surcharge.
		self.base.saturating_add(self.cost.of(usage).min(self.engine))
	}
}

/// `value / 2^shift`, rounded up, as a benchmark component.
fn units(value: u64, shift: u32) -> u32 {
	u32::try_from(value.div_ceil(1 << shift)).unwrap_or(u32::MAX)
}

impl<T: Config> Pallet<T> {
	/// The weight of one call of a model with this analysis, cost and size (bytes).
	pub fn call_weight(analysis: &Analysis, cost: &ModelCost, size: u32) -> CallWeight {
		let io_bytes = analysis
			.inputs
			.iter()
			.chain(&analysis.outputs)
			.fold(0u64, |bytes, spec| bytes.saturating_add(spec.byte_len()));
		let base = <T as Config>::WeightInfo::infer(units(io_bytes, 10))
			.saturating_add(T::Hosts::reward_weight());
		let engine_cost = T::Engine::cost();
		// The run starts from a copy of the image and may grow to its memory limit.
		let engine = engine_cost.weight(cost.call.fuel, cost.call.memory);
		let load = <T as Config>::WeightInfo::load_model(units(size as u64, 10))
			.saturating_add(engine_cost.of(cost.load));
		CallWeight { base, engine, load, cost: engine_cost }
	}

	/// How many calls of one model with this weight, each carrying `input_bytes` of inputs and
	/// using what `probe` used, fit in one block: each must find the normal class's room for
	/// its full weight before it runs, and leaves only what it used (refunds are given back to
	/// the block); the first also loads the model. The extrinsics must fit the normal class's
	/// share of the block length. Zero when one call does not fit one extrinsic.
	pub fn calls_per_block(weight: CallWeight, probe: Usage, input_bytes: u64) -> u64 {
		let block = T::BlockWeights::get();
		let normal = block.get(DispatchClass::Normal);
		let with_base = |weight: Weight| weight.saturating_add(normal.base_extrinsic).ref_time();
		let cold = with_base(weight.total());
		let full = with_base(weight.run());
		let used = with_base(weight.used(probe)).max(1);
		let cold_used = with_base(weight.used(probe).saturating_add(weight.load));
		let max_extrinsic = normal.max_extrinsic.unwrap_or(block.max_block).ref_time();
		let max_total = normal.max_total.unwrap_or(block.max_block).ref_time();
		if cold > max_extrinsic || cold > max_total {
			return 0;
		}
		// The first call, then warm calls while what the block used leaves room for a full one.
		let by_weight =
			1 + (max_total - cold_used).checked_sub(full).map_or(0, |room| room / used + 1);
		// A signed extrinsic's own bytes besides the tensors: address, signature, extensions,
		// call index, model id, fee, and the tensors' headers.
		const OVERHEAD: u64 = 256;
		let length = T::BlockLength::get();
		let max_length = *length.max.get(DispatchClass::Normal) as u64;
		by_weight.min(max_length / input_bytes.saturating_add(OVERHEAD))
	}

	/// What `infer` of `model` is charged before dispatch: the whole call for a model that can be
	/// called, the checks alone for one that cannot.
	pub fn infer_weight(model: ModelId) -> Weight {
		let call = T::Models::model(&model)
			.zip(T::Models::analysis(&model))
			.zip(T::Models::cost(&model))
			.map(|((record, analysis), cost)| {
				Self::call_weight(&analysis, &cost, record.size).total()
			});
		// The model, its analysis and its cost were read to find the weight.
		call.unwrap_or_else(Self::checks_weight).saturating_add(T::DbWeight::get().reads(3))
	}

	/// Weight of the checks that precede running a model.
	fn checks_weight() -> Weight {
		<T as Config>::WeightInfo::infer(0)
	}

	/// The model's record, analysis and cost, if it may be called with `inputs`.
	fn callable(
		model: ModelId,
		inputs: &[Tensor],
	) -> Result<(ModelOf<T>, Analysis, ModelCost), Error<T>> {
		let record = T::Models::model(&model).ok_or(Error::<T>::ModelNotFound)?;
		match record.status {
			ModelStatus::Active => {},
			ModelStatus::Uploading { .. } => return Err(Error::<T>::ModelNotActive),
			ModelStatus::Deprecated => return Err(Error::<T>::ModelDeprecated),
		}
		let analysis = T::Models::analysis(&model).ok_or(Error::<T>::ModelNotFound)?;
		let cost = T::Models::cost(&model).ok_or(Error::<T>::ModelNotFound)?;
		ensure!(inputs.len() == analysis.inputs.len(), Error::<T>::InputCountMismatch);
		for (index, (input, spec)) in inputs.iter().zip(&analysis.inputs).enumerate() {
			// At most `MaxDeclaredInputs` inputs are checked by index in errors; the model's
			// input count is what bounds `index`, and models have few.
			let index = u8::try_from(index).unwrap_or(u8::MAX);
			ensure!(input.dtype == spec.dtype, Error::<T>::InputDtypeMismatch { index });
			ensure!(input.shape == spec.shape, Error::<T>::InputShapeMismatch { index });
			ensure!(input.validate().is_ok(), Error::<T>::InvalidInput { index });
		}
		Ok((record, analysis, cost))
	}

	/// The model's record, analysis and cost, if `caller` may call it with `inputs` for at most
	/// `max_fee`: every check `infer` makes before it runs the model, in order.
	fn admitted(
		caller: &T::AccountId,
		model: ModelId,
		inputs: &[Tensor],
		max_fee: BalanceOf<T>,
	) -> Result<(ModelOf<T>, Analysis, ModelCost), Error<T>> {
		let (record, analysis, cost) = Self::callable(model, inputs)?;
		ensure!(record.fee <= max_fee, Error::<T>::FeeAboveMax);
		let result_bytes = Self::result_bytes_bound(&analysis);
		ensure!(
			(BlockResultBytes::<T>::get() as u64).saturating_add(result_bytes)
				<= T::MaxResultBytesPerBlock::get() as u64,
			Error::<T>::BlockResultsFull
		);
		let spendable =
			T::Currency::reducible_balance(caller, Preservation::Preserve, Fortitude::Polite);
		ensure!(
			spendable >= record.fee.saturating_add(Self::result_deposit(result_bytes)),
			Error::<T>::InsufficientBalance
		);
		ensure!(T::Engine::has_engine(), Error::<T>::NoEngine);
		Ok((record, analysis, cost))
	}

	/// The host-function call that running an Active model on checked inputs makes.
	fn run_request(
		model: ModelId,
		record: &ModelOf<T>,
		cost: &ModelCost,
		inputs: Vec<Tensor>,
	) -> Result<RunRequest, InferenceError> {
		let engine = T::Engine::engine().ok_or(InferenceError::Engine(EngineError::Failed(
			b"the chain has no engine blob".to_vec(),
		)))?;
		let (model, declared) = T::Models::stored(&model, record);
		Ok(RunRequest { engine, model, declared, inputs, limits: cost.call })
	}

	/// Runs an Active model on checked inputs, within its call limits, telling the node what to
	/// keep loaded for the block.
	fn run(
		model: ModelId,
		record: &ModelOf<T>,
		cost: &ModelCost,
		inputs: Vec<Tensor>,
		keep: Keep,
	) -> Charged<Vec<Tensor>> {
		match Self::run_request(model, record, cost, inputs) {
			Ok(request) => inference::run(
				request.engine,
				request.model,
				request.declared,
				request.inputs,
				request.limits,
				keep,
			),
			Err(error) => Charged::unrun(error),
		}
	}

	/// Whether a model whose image holds `image` bytes fits the block's warm set `warm_set`
	/// besides its models: one more model, and its image within [`MAX_WARM_IMAGE_BYTES`] with
	/// theirs. A model that does not is charged its load at each call of the block.
	pub fn joins_warm_set(warm_set: &[(ModelId, u64)], image: u64) -> bool {
		let images = warm_set.iter().fold(image, |bytes, (_, image)| bytes.saturating_add(*image));
		warm_set.len() < MAX_WARM_MODELS as usize && images <= MAX_WARM_IMAGE_BYTES
	}

	/// The host-function call `infer(model, inputs, max_fee)` signed by `caller` would make in
	/// this state, if it gets that far: what the node makes ahead of executing a block (or of
	/// including a pooled transaction). Calls the checks refuse are left out, so a transaction
	/// that will only pay for its checks costs the node no inference either.
	pub fn pre_execution(
		caller: &T::AccountId,
		model: ModelId,
		inputs: Vec<Tensor>,
		max_fee: BalanceOf<T>,
	) -> Option<RunRequest> {
		let (record, _, cost) = Self::admitted(caller, model, &inputs, max_fee).ok()?;
		Self::run_request(model, &record, &cost, inputs).ok()
	}

	/// Pays the model's fee from `caller`: the hosts' share to the hosts (if any serve it), the
	/// rest to the owner.
	fn pay(model: ModelId, record: &ModelOf<T>, caller: &T::AccountId) -> DispatchResult {
		if record.fee.is_zero() {
			return Ok(());
		}
		let to_hosts = T::Hosts::reward(&model, caller, T::HostShare::get() * record.fee)?;
		let to_owner = record.fee.saturating_sub(to_hosts);
		if !to_owner.is_zero() && caller != &record.owner {
			T::Currency::transfer(caller, &record.owner, to_owner, Preservation::Preserve)?;
		}
		Ok(())
	}

	/// Removes results older than the retention period, oldest first, within `remaining`.
	fn prune(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
		let db = T::DbWeight::get();
		let per_result = <T as Config>::WeightInfo::prune_result();
		// Reading both cursors, and writing one back.
		let mut used = db.reads_writes(2, 1);
		if remaining.any_lt(used.saturating_add(per_result)) {
			return Weight::zero();
		}
		let (first, next) = (OldestResult::<T>::get(), NextRequestId::<T>::get());
		let mut oldest = first;
		while oldest < next && used.saturating_add(per_result).all_lte(remaining) {
			used.saturating_accrue(per_result);
			match Results::<T>::get(oldest) {
				Some(result) if result.at.saturating_add(T::ResultRetention::get()) > now => break,
				result => {
					if let Some(result) = result {
						// Best effort: a hold can only have shrunk by a slash of the caller's
						// holds, and what is left of it is theirs.
						let _ = T::Currency::release(
							&HoldReason::ResultStorage.into(),
							&result.caller,
							result.deposit,
							Precision::BestEffort,
						);
					}
					Results::<T>::remove(oldest);
					oldest += 1;
				},
			}
		}
		if oldest != first {
			OldestResult::<T>::put(oldest);
			Self::deposit_event(Event::ResultsPruned { first, last: oldest - 1 });
		}
		used
	}

	/// The most bytes the SCALE-encoded outputs of a model with this analysis take: each
	/// tensor's data plus a header of at most 64 bytes (dtype, shape, lengths).
	pub fn result_bytes_bound(analysis: &Analysis) -> u64 {
		analysis
			.outputs
			.iter()
			.fold(0u64, |bytes, spec| bytes.saturating_add(spec.byte_len()).saturating_add(64))
	}

	/// The deposit a result of `bytes` bytes of outputs holds.
	pub fn result_deposit(bytes: u64) -> BalanceOf<T> {
		let bytes: BalanceOf<T> = bytes.saturated_into();
		T::ResultDepositBase::get()
			.saturating_add(T::ResultDepositPerByte::get().saturating_mul(bytes))
	}

	/// Runs `model` on `inputs` as `infer` would, changing nothing.
	pub fn dry_run(
		model: ModelId,
		inputs: Vec<Tensor>,
	) -> Result<DryRun<BalanceOf<T>>, DryRunError> {
		let (record, analysis, cost) =
			Self::callable(model, &inputs).map_err(|error| DryRunError::Refused(error.into()))?;
		let ran = Self::run(model, &record, &cost, inputs, Keep::Maybe);
		let outputs = ran.result.map_err(DryRunError::Failed)?;
		let encoded_len = outputs.encoded_size() as u64;
		let output_hash = H256::from(output_hash(&outputs, sp_io::hashing::sha2_256));
		let weight = Self::call_weight(&analysis, &cost, record.size);
		Ok(DryRun {
			outputs,
			output_hash,
			weight: Self::infer_weight(model),
			used: weight.used(ran.usage),
			usage: ran.usage,
			fee: record.fee,
			deposit: Self::result_deposit(encoded_len),
		})
	}

	/// A model as the runtime API describes it.
	pub fn model_info(id: ModelId) -> Option<ModelInfoOf<T>> {
		let model = T::Models::model(&id)?;
		let analysis = T::Models::analysis(&id);
		let cost = T::Models::cost(&id);
		let call_weight = analysis
			.as_ref()
			.zip(cost.as_ref())
			.map(|(analysis, cost)| Self::call_weight(analysis, cost, model.size).total());
		Some(ModelInfo { id, model, analysis, cost, call_weight })
	}

	/// Every model, ordered by id.
	pub fn model_infos() -> Vec<ModelInfoOf<T>> {
		let mut ids = T::Models::ids();
		ids.sort();
		ids.into_iter().filter_map(Self::model_info).collect()
	}

	/// A stored result.
	pub fn result(request_id: RequestId) -> Option<ResultOf<T>> {
		Results::<T>::get(request_id)
	}

	/// What one call of a model with this analysis, cost and size weighs, and whether it is
	/// admitted.
	pub fn call_info(analysis: &Analysis, cost: &ModelCost, size: u32) -> CallInfo {
		let weight = Self::call_weight(analysis, cost, size);
		let input_bytes = analysis.inputs.iter().map(|spec| spec.byte_len()).sum();
		CallInfo {
			admitted: <Self as CallAdmission>::admit(analysis, cost, size),
			run: weight.run(),
			load: weight.load,
			used: weight.used(cost.probe),
			calls_per_block: Self::calls_per_block(weight, cost.probe, input_bytes),
		}
	}
}

impl<T: Config> CallAdmission for Pallet<T> {
	fn admit(analysis: &Analysis, cost: &ModelCost, size: u32) -> Result<(), Vec<u8>> {
		let outputs = Self::result_bytes_bound(analysis);
		let limit = T::MaxResultBytes::get().min(T::MaxResultBytesPerBlock::get()) as u64;
		if outputs > limit {
			return Err(format!(
				"outputs of {outputs} bytes are above the {limit} bytes a result may hold"
			)
			.into_bytes());
		}
		let weight = Self::call_weight(analysis, cost, size).total();
		let block = T::BlockWeights::get();
		let normal = block.get(DispatchClass::Normal);
		let max = normal.max_extrinsic.unwrap_or(block.max_block);
		if weight.any_gt(max) {
			return Err(format!(
				"one call weighs {} ps (loading included: {} units of fuel and {} bytes of memory \
				 at most), above the {} ps one extrinsic may use",
				weight.ref_time(),
				cost.call.fuel,
				cost.call.memory,
				max.ref_time()
			)
			.into_bytes());
		}
		Ok(())
	}
}
