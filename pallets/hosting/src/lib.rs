//! # Hosting pallet
//!
//! The accounts that serve the chain's models to clients, the stake they put behind it, what they
//! earn from the models' inference fees and what they lose when they misbehave.
//!
//! ## Terminology
//!
//! - **Bond**: stake held from the host's own account (a fungible hold, [`HoldReason::Bonded`]);
//!   it never leaves the account unless slashed.
//! - **Active**: the part of the bond that backs serving and earns rewards. Serving needs at least
//!   [`Config::MinBond`]; the active stake is either zero or at least that, except after a slash.
//! - **Unlocking**: stake on its way out, in chunks held for [`Config::UnbondingPeriod`] blocks
//!   and still slashable, so that a host cannot escape a slash by unbonding just before it.
//! - **Serving**: a host says it serves an Active model (of [`Config::Models`]); a model has at
//!   most [`Config::MaxHostsPerModel`] hosts, kept sorted by account id, and a host serves at most
//!   [`Config::MaxModelsPerHost`] models.
//!
//! ## Life of a host
//!
//! `bond` holds the first stake and creates the host; `bond_extra` adds to it; `set_metadata`
//! says where clients reach it; `serve` and `stop_serving` choose its models. `unbond` moves
//! active stake into an unlocking chunk; unbonding all of it stops serving every model.
//! `withdraw_unbonded` releases the matured chunks, and removes the host once nothing is left.
//!
//! ## Rewards
//!
//! The inference pallet pays the hosts' part of a call's fee through [`HostRewards::reward`]: each
//! host of the model gets `amount × active / total active`, rounded down in exact 128-bit integer
//! arithmetic, and what rounding leaves over goes to the host with the largest active stake (the
//! lowest account id among equals), so the whole amount is paid. The transfers are all-or-nothing.
//!
//! ## Slashing
//!
//! [`Config::SlashOrigin`] (the `slash` call) or another pallet (through [`SlashHosts`]) takes a
//! fraction of a host's active stake and of each unlocking chunk, each part rounded down
//! separately, so a host never loses more than the fraction of its bond and 100% takes it all.
//! The funds go from the hold to [`Config::Treasury`], which need not exist yet; an amount too
//! small to create it (below the existential deposit) is burned instead. A host left below the
//! minimum bond stops serving every model.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod runtime_api;
#[cfg(test)]
mod tests;
pub mod traits;
pub mod types;
pub mod weights;

use alloc::vec::Vec;
use frame_support::{
	pallet_prelude::*,
	storage::{with_transaction, TransactionOutcome},
	traits::{
		fungible::{Inspect, Mutate, MutateHold},
		tokens::{DepositConsequence, Fortitude, Precision, Preservation, Provenance, Restriction},
	},
};
use frame_system::pallet_prelude::*;
use pallet_models::{HostRewards, ModelId, ModelRegistry};
use sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{SaturatedConversion, Saturating, Zero},
	Perbill, Rounding,
};

pub use pallet::*;
#[cfg(feature = "runtime-benchmarks")]
pub use traits::BenchmarkHelper;
pub use traits::SlashHosts;
pub use types::*;
pub use weights::WeightInfo;

/// The balance type of the currency stake is held in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

#[frame_support::pallet]
pub mod pallet {
	use super::*;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The currency stake is held in and rewards are paid in.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ Mutate<Self::AccountId>;
		/// The runtime's hold reasons, of which [`HoldReason`] is part.
		type RuntimeHoldReason: From<HoldReason>;
		/// Which models exist and are Active: only those may be served.
		type Models: ModelRegistry;
		/// The least active stake a host serves with.
		#[pallet::constant]
		type MinBond: Get<BalanceOf<Self>>;
		/// Blocks unbonded stake stays held, and slashable, before it can be withdrawn.
		#[pallet::constant]
		type UnbondingPeriod: Get<BlockNumberFor<Self>>;
		/// Most unlocking chunks a host may have at once (bounds the host record).
		#[pallet::constant]
		type MaxUnlockingChunks: Get<u32>;
		/// Most models one host may serve.
		#[pallet::constant]
		type MaxModelsPerHost: Get<u32>;
		/// Most hosts one model may have (bounds the work of paying them).
		#[pallet::constant]
		type MaxHostsPerModel: Get<u32>;
		/// Where slashed stake goes.
		#[pallet::constant]
		type Treasury: Get<Self::AccountId>;
		/// Who may call `slash`: root or governance.
		type SlashOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Weights of the calls, and of paying a model's hosts.
		type WeightInfo: WeightInfo;
		/// Makes models Active for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper;
	}

	/// Why funds are held.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A host's stake, active or unlocking.
		Bonded,
	}

	/// Every host with anything bonded or unlocking.
	#[pallet::storage]
	pub type Hosts<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, Host<T>>;

	/// The hosts of each served model, sorted by account id. A model no host serves has no entry.
	#[pallet::storage]
	pub type ModelHosts<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		ModelId,
		BoundedVec<T::AccountId, T::MaxHostsPerModel>,
		ValueQuery,
	>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `amount` was bonded (first bond or extra); `active` is the host's active stake now.
		Bonded { host: T::AccountId, amount: BalanceOf<T>, active: BalanceOf<T> },
		/// `amount` left the active stake and unlocks at block `unlocks_at`.
		Unbonded {
			host: T::AccountId,
			amount: BalanceOf<T>,
			active: BalanceOf<T>,
			unlocks_at: BlockNumberFor<T>,
		},
		/// Matured unlocking stake was released to the host's free balance.
		Withdrawn { host: T::AccountId, amount: BalanceOf<T> },
		/// Nothing is bonded or unlocking any more: the host record, metadata included, is gone.
		HostRemoved { host: T::AccountId },
		/// The host's metadata changed.
		MetadataSet {
			host: T::AccountId,
			endpoint: BoundedVec<u8, MaxEndpointLen>,
			name: BoundedVec<u8, MaxHostNameLen>,
		},
		/// The host serves `model`.
		StartedServing { host: T::AccountId, model: ModelId },
		/// The host no longer serves `model`: it asked, unbonded everything, or was slashed
		/// below the minimum bond.
		StoppedServing { host: T::AccountId, model: ModelId },
		/// `amount` of the host's stake went to the treasury, or was burned (`burned`) when it was
		/// too small to create the treasury account.
		Slashed { host: T::AccountId, amount: BalanceOf<T>, burned: bool, reason: SlashReason },
		/// `payer` paid `total` to the hosts of `model`, split by active stake (the individual
		/// transfers are the currency's `Transfer` events).
		HostsRewarded { model: ModelId, payer: T::AccountId, total: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The amount must not be zero.
		ZeroAmount,
		/// The active stake would be below the minimum bond (and not zero).
		BondBelowMinimum,
		/// The account is already a host: use `bond_extra`.
		AlreadyBonded,
		/// The account is not a host.
		NotBonded,
		/// Less active stake than the amount.
		InsufficientActive,
		/// Too many unlocking chunks: withdraw the matured ones or wait for the next to mature.
		TooManyUnlockingChunks,
		/// No unlocking chunk has matured.
		NothingToWithdraw,
		/// The endpoint or the name is not UTF-8.
		InvalidMetadata,
		/// The model is not Active.
		ModelNotActive,
		/// The host already serves the model.
		AlreadyServing,
		/// The host does not serve the model.
		NotServing,
		/// The host serves as many models as it may.
		TooManyModels,
		/// The model has as many hosts as it may.
		TooManyHosts,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxUnlockingChunks::get() > 0, "a host must be able to unbond");
			assert!(T::MaxModelsPerHost::get() > 0, "a host must be able to serve a model");
			assert!(T::MaxHostsPerModel::get() > 0, "a model must be able to have a host");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Becomes a host by holding `amount` (at least the minimum bond) as active stake.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::bond())]
		pub fn bond(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!Hosts::<T>::contains_key(&who), Error::<T>::AlreadyBonded);
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			ensure!(amount >= T::MinBond::get(), Error::<T>::BondBelowMinimum);
			T::Currency::hold(&HoldReason::Bonded.into(), &who, amount)?;
			Hosts::<T>::insert(&who, Host::new(amount));
			Self::deposit_event(Event::Bonded { host: who, amount, active: amount });
			Ok(())
		}

		/// Adds `amount` to the active stake; the result must reach the minimum bond.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::bond_extra())]
		pub fn bond_extra(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			let mut host = Hosts::<T>::get(&who).ok_or(Error::<T>::NotBonded)?;
			let active = host.active.saturating_add(amount);
			ensure!(active >= T::MinBond::get(), Error::<T>::BondBelowMinimum);
			T::Currency::hold(&HoldReason::Bonded.into(), &who, amount)?;
			host.active = active;
			Hosts::<T>::insert(&who, host);
			Self::deposit_event(Event::Bonded { host: who, amount, active });
			Ok(())
		}

		/// Moves `amount` of active stake into a chunk that unlocks after the unbonding period.
		/// What stays active must be zero or at least the minimum bond; at zero the host stops
		/// serving every model.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::unbond())]
		pub fn unbond(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			let mut host = Hosts::<T>::get(&who).ok_or(Error::<T>::NotBonded)?;
			ensure!(amount <= host.active, Error::<T>::InsufficientActive);
			let active = host.active.saturating_sub(amount);
			ensure!(active.is_zero() || active >= T::MinBond::get(), Error::<T>::BondBelowMinimum);
			let now = frame_system::Pallet::<T>::block_number();
			let unlocks_at = now.saturating_add(T::UnbondingPeriod::get());
			// Unbonding twice in a block adds to one chunk, so the cap counts blocks, not calls.
			if let Some(chunk) = host.unlocking.iter_mut().find(|chunk| chunk.at == unlocks_at) {
				chunk.amount = chunk.amount.saturating_add(amount);
			} else {
				host.unlocking
					.try_push(UnlockChunk { amount, at: unlocks_at })
					.map_err(|_| Error::<T>::TooManyUnlockingChunks)?;
			}
			host.active = active;
			Self::deposit_event(Event::Unbonded { host: who.clone(), amount, active, unlocks_at });
			if active.is_zero() {
				Self::stop_serving_all(&who, &mut host);
			}
			Hosts::<T>::insert(&who, host);
			Ok(())
		}

		/// Releases every matured unlocking chunk to the free balance; removes the host when
		/// nothing is left bonded or unlocking.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::withdraw_unbonded())]
		pub fn withdraw_unbonded(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut host = Hosts::<T>::get(&who).ok_or(Error::<T>::NotBonded)?;
			let now = frame_system::Pallet::<T>::block_number();
			let mut amount = BalanceOf::<T>::zero();
			host.unlocking.retain(|chunk| {
				let matured = chunk.at <= now;
				if matured {
					amount = amount.saturating_add(chunk.amount);
				}
				!matured
			});
			ensure!(!amount.is_zero(), Error::<T>::NothingToWithdraw);
			T::Currency::release(&HoldReason::Bonded.into(), &who, amount, Precision::Exact)?;
			Self::deposit_event(Event::Withdrawn { host: who.clone(), amount });
			Self::store_or_remove(&who, host);
			Ok(())
		}

		/// Sets where clients reach the host and its display name, both UTF-8.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::set_metadata())]
		pub fn set_metadata(
			origin: OriginFor<T>,
			endpoint: BoundedVec<u8, MaxEndpointLen>,
			name: BoundedVec<u8, MaxHostNameLen>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(
				core::str::from_utf8(&endpoint).is_ok() && core::str::from_utf8(&name).is_ok(),
				Error::<T>::InvalidMetadata
			);
			let mut host = Hosts::<T>::get(&who).ok_or(Error::<T>::NotBonded)?;
			host.metadata = HostMetadata { endpoint: endpoint.clone(), name: name.clone() };
			Hosts::<T>::insert(&who, host);
			Self::deposit_event(Event::MetadataSet { host: who, endpoint, name });
			Ok(())
		}

		/// Starts serving an Active model.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::serve())]
		pub fn serve(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut host = Hosts::<T>::get(&who).ok_or(Error::<T>::NotBonded)?;
			ensure!(Self::may_serve(host.active), Error::<T>::BondBelowMinimum);
			ensure!(T::Models::is_active(&model), Error::<T>::ModelNotActive);
			ensure!(!host.models.contains(&model), Error::<T>::AlreadyServing);
			host.models.try_push(model).map_err(|_| Error::<T>::TooManyModels)?;
			let mut hosts = ModelHosts::<T>::get(model);
			let Err(position) = hosts.binary_search(&who) else {
				return Err(Error::<T>::AlreadyServing.into());
			};
			hosts.try_insert(position, who.clone()).map_err(|_| Error::<T>::TooManyHosts)?;
			ModelHosts::<T>::insert(model, hosts);
			Hosts::<T>::insert(&who, host);
			Self::deposit_event(Event::StartedServing { host: who, model });
			Ok(())
		}

		/// Stops serving a model.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::stop_serving())]
		pub fn stop_serving(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut host = Hosts::<T>::get(&who).ok_or(Error::<T>::NotBonded)?;
			let position =
				host.models.iter().position(|m| m == &model).ok_or(Error::<T>::NotServing)?;
			host.models.remove(position);
			Self::remove_from_model(&model, &who);
			Hosts::<T>::insert(&who, host);
			Self::deposit_event(Event::StoppedServing { host: who, model });
			Ok(())
		}

		/// Slashes `fraction` of `host`'s active and unlocking stake to the treasury (see the
		/// crate doc for the rounding); a host left below the minimum bond stops serving.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::slash())]
		pub fn slash(
			origin: OriginFor<T>,
			host: T::AccountId,
			fraction: Perbill,
			reason: SlashReason,
		) -> DispatchResult {
			T::SlashOrigin::ensure_origin(origin)?;
			<Self as SlashHosts<T::AccountId>>::slash(&host, fraction, reason).map(|_| ())
		}
	}
}

impl<T: Config> Pallet<T> {
	/// The hosts serving `model`, ordered by account id (the `HostingApi::hosts` runtime API).
	pub fn hosts_of(model: ModelId) -> Vec<HostInfo<T::AccountId, BalanceOf<T>>> {
		ModelHosts::<T>::get(model).into_iter().filter_map(Self::host_info).collect()
	}

	/// Every host, ordered by account id (the `HostingApi::all` runtime API).
	pub fn all_hosts() -> Vec<HostInfo<T::AccountId, BalanceOf<T>>> {
		let mut accounts: Vec<T::AccountId> = Hosts::<T>::iter_keys().collect();
		accounts.sort();
		accounts.into_iter().filter_map(Self::host_info).collect()
	}

	/// One host, while it has anything bonded or unlocking (the `HostingApi::host` runtime API).
	pub fn host_info(account: T::AccountId) -> Option<HostInfo<T::AccountId, BalanceOf<T>>> {
		let host = Hosts::<T>::get(&account)?;
		Some(HostInfo {
			unlocking: host.unlocking_total(),
			active: host.active,
			metadata: host.metadata,
			models: host.models.into_inner(),
			account,
		})
	}

	/// Whether a host with `active` stake may serve.
	fn may_serve(active: BalanceOf<T>) -> bool {
		!active.is_zero() && active >= T::MinBond::get()
	}

	/// Stores `host`, or removes it when nothing is bonded or unlocking.
	fn store_or_remove(who: &T::AccountId, host: Host<T>) {
		if host.active.is_zero() && host.unlocking.is_empty() {
			Hosts::<T>::remove(who);
			Self::deposit_event(Event::HostRemoved { host: who.clone() });
		} else {
			Hosts::<T>::insert(who, host);
		}
	}

	/// Stops `who` serving every model of `host` (which the caller stores).
	fn stop_serving_all(who: &T::AccountId, host: &mut Host<T>) {
		for model in core::mem::take(&mut host.models) {
			Self::remove_from_model(&model, who);
			Self::deposit_event(Event::StoppedServing { host: who.clone(), model });
		}
	}

	/// Removes `who` from `model`'s hosts, and the entry when it was the last.
	fn remove_from_model(model: &ModelId, who: &T::AccountId) {
		let mut hosts = ModelHosts::<T>::get(model);
		if let Ok(position) = hosts.binary_search(who) {
			hosts.remove(position);
		}
		if hosts.is_empty() {
			ModelHosts::<T>::remove(model);
		} else {
			ModelHosts::<T>::insert(model, hosts);
		}
	}

	fn do_slash(
		who: &T::AccountId,
		fraction: Perbill,
		reason: SlashReason,
	) -> Result<BalanceOf<T>, DispatchError> {
		let mut host = Hosts::<T>::get(who).ok_or(Error::<T>::NotBonded)?;
		// Each part rounds down on its own: never more than `fraction` of the whole, and 100% of
		// each part is the part.
		let mut amount = fraction.mul_floor(host.active);
		host.active = host.active.saturating_sub(amount);
		for chunk in host.unlocking.iter_mut() {
			let cut = fraction.mul_floor(chunk.amount);
			chunk.amount = chunk.amount.saturating_sub(cut);
			amount = amount.saturating_add(cut);
		}
		host.unlocking.retain(|chunk| !chunk.amount.is_zero());
		let burned = Self::take_bonded(who, amount)?;
		Self::deposit_event(Event::Slashed { host: who.clone(), amount, burned, reason });
		if !Self::may_serve(host.active) {
			Self::stop_serving_all(who, &mut host);
		}
		Self::store_or_remove(who, host);
		Ok(amount)
	}

	/// Moves `amount` of `who`'s bonded funds to the treasury, or burns it when it cannot create
	/// the treasury account (`true`). Forced: freezes on the host's account do not protect it.
	fn take_bonded(who: &T::AccountId, amount: BalanceOf<T>) -> Result<bool, DispatchError> {
		if amount.is_zero() {
			return Ok(false);
		}
		let reason = HoldReason::Bonded.into();
		let treasury = T::Treasury::get();
		if T::Currency::can_deposit(&treasury, amount, Provenance::Extant)
			== DepositConsequence::Success
		{
			T::Currency::transfer_on_hold(
				&reason,
				who,
				&treasury,
				amount,
				Precision::Exact,
				Restriction::Free,
				Fortitude::Force,
			)?;
			Ok(false)
		} else {
			T::Currency::burn_held(&reason, who, amount, Precision::Exact, Fortitude::Force)?;
			Ok(true)
		}
	}

	/// Each host of `model` with its share of `amount`: `amount × active / total active`, rounded
	/// down, plus the remainder for the host with the largest active stake (the first, so the
	/// lowest account id, among equals). Empty when no host, or no stake, backs the model.
	fn shares(model: &ModelId, amount: BalanceOf<T>) -> Vec<(T::AccountId, BalanceOf<T>)> {
		let stakes: Vec<(T::AccountId, u128)> = ModelHosts::<T>::get(model)
			.into_iter()
			.map(|who| {
				let active = Hosts::<T>::get(&who).map_or(0, |host| host.active.saturated_into());
				(who, active)
			})
			.collect();
		let total = stakes.iter().fold(0u128, |total, (_, active)| total.saturating_add(*active));
		if total == 0 {
			return Vec::new();
		}
		let amount: u128 = amount.saturated_into();
		let mut shares: Vec<(T::AccountId, u128)> = stakes
			.iter()
			.map(|(who, active)| {
				// `active ≤ total`, so the share is at most `amount` and never overflows.
				let share =
					multiply_by_rational_with_rounding(amount, *active, total, Rounding::Down)
						.unwrap_or(0);
				(who.clone(), share)
			})
			.collect();
		let paid = shares.iter().fold(0u128, |paid, (_, share)| paid.saturating_add(*share));
		let mut largest = 0;
		for (index, (_, active)) in stakes.iter().enumerate() {
			if *active > stakes[largest].1 {
				largest = index;
			}
		}
		if let Some((_, share)) = shares.get_mut(largest) {
			*share = share.saturating_add(amount.saturating_sub(paid));
		}
		shares.into_iter().map(|(who, share)| (who, share.saturated_into())).collect()
	}

	/// Checks the pallet's invariants: every host's hold is its active plus unlocking stake, no
	/// host record is empty, only hosts that may serve do, and the model and host lists agree,
	/// the former sorted.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use frame_support::traits::fungible::InspectHold;
		for (who, host) in Hosts::<T>::iter() {
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::Bonded.into(), &who) == host.total(),
				"a host's hold differs from its active and unlocking stake"
			);
			ensure!(
				!host.active.is_zero() || !host.unlocking.is_empty(),
				"a host record holds nothing"
			);
			ensure!(
				host.models.is_empty() || Self::may_serve(host.active),
				"a host below the minimum bond serves"
			);
			ensure!(
				host.unlocking.iter().all(|chunk| !chunk.amount.is_zero()),
				"an unlocking chunk is empty"
			);
			for model in &host.models {
				ensure!(
					ModelHosts::<T>::get(model).binary_search(&who).is_ok(),
					"a host's model does not list the host"
				);
			}
		}
		for (model, hosts) in ModelHosts::<T>::iter() {
			ensure!(!hosts.is_empty(), "a model has an empty host list");
			ensure!(hosts.windows(2).all(|pair| pair[0] < pair[1]), "a host list is not sorted");
			for who in &hosts {
				ensure!(
					Hosts::<T>::get(who).is_some_and(|host| host.models.contains(&model)),
					"a model lists a host that does not serve it"
				);
			}
		}
		Ok(())
	}
}

impl<T: Config> SlashHosts<T::AccountId> for Pallet<T> {
	type Balance = BalanceOf<T>;

	fn slash(
		host: &T::AccountId,
		fraction: Perbill,
		reason: SlashReason,
	) -> Result<BalanceOf<T>, DispatchError> {
		with_transaction(|| match Self::do_slash(host, fraction, reason) {
			Ok(amount) => TransactionOutcome::Commit(Ok(amount)),
			Err(error) => TransactionOutcome::Rollback(Err(error)),
		})
	}
}

impl<T: Config> HostRewards<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn reward_weight() -> Weight {
		T::WeightInfo::reward(T::MaxHostsPerModel::get())
	}

	fn reward(
		model: &ModelId,
		payer: &T::AccountId,
		amount: BalanceOf<T>,
	) -> Result<BalanceOf<T>, DispatchError> {
		if amount.is_zero() {
			return Ok(amount);
		}
		let shares = Self::shares(model, amount);
		if shares.is_empty() {
			return Ok(Zero::zero());
		}
		with_transaction(|| {
			let paid = shares.iter().filter(|(_, share)| !share.is_zero()).try_for_each(
				|(host, share)| {
					T::Currency::transfer(payer, host, *share, Preservation::Preserve).map(|_| ())
				},
			);
			match paid {
				Ok(()) => {
					Self::deposit_event(Event::HostsRewarded {
						model: *model,
						payer: payer.clone(),
						total: amount,
					});
					TransactionOutcome::Commit(Ok(amount))
				},
				Err(error) => TransactionOutcome::Rollback(Err(error)),
			}
		})
	}
}
