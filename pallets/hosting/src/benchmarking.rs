//! Benchmarks of the hosting pallet, each call in its worst case: the host and model lists full
//! up to the last place, the unlocking chunks up to the cap, and calls that can stop a host
//! serving every model made to do so.

use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::traits::fungible::{Inspect, InspectHold, Mutate};
use frame_system::RawOrigin;

use crate::*;

const SEED: u32 = 0;

/// The stake the benchmarks bond in steps of: the minimum bond, or the existential deposit if
/// that is larger (so that every amount moved can create an account).
fn stake<T: Config>() -> BalanceOf<T> {
	T::MinBond::get().max(T::Currency::minimum_balance()).max(1u32.into())
}

/// Makes `who` a host with `steps` × [`stake`] bonded, funded for a hundred more.
fn bond_host<T: Config>(who: &T::AccountId, steps: u32) -> Result<(), BenchmarkError> {
	let funds = stake::<T>().saturating_mul((steps + 100).into());
	T::Currency::set_balance(who, funds.saturating_add(T::Currency::minimum_balance()));
	Pallet::<T>::bond(
		RawOrigin::Signed(who.clone()).into(),
		stake::<T>().saturating_mul(steps.into()),
	)?;
	Ok(())
}

/// An Active model, distinct for each `index`.
fn active_model<T: Config>(index: u32) -> ModelId {
	let mut bytes = [0u8; 32];
	bytes[..4].copy_from_slice(&index.to_be_bytes());
	bytes[31] = 1;
	let id = ModelId::from(bytes);
	T::BenchmarkHelper::activate_model(id);
	id
}

/// As many Active models as a host may serve, each served by as many hosts other than the
/// benchmarked one as leaves it a place.
fn models_with_other_hosts<T: Config>() -> Result<Vec<ModelId>, BenchmarkError> {
	let models: Vec<ModelId> = (0..T::MaxModelsPerHost::get()).map(active_model::<T>).collect();
	for index in 0..T::MaxHostsPerModel::get().saturating_sub(1) {
		let host: T::AccountId = account("host", index, SEED);
		bond_host::<T>(&host, 1)?;
		for model in &models {
			Pallet::<T>::serve(RawOrigin::Signed(host.clone()).into(), *model)?;
		}
	}
	Ok(models)
}

/// Has `who` serve every model of `models`.
fn serve_all<T: Config>(who: &T::AccountId, models: &[ModelId]) -> Result<(), BenchmarkError> {
	for model in models {
		Pallet::<T>::serve(RawOrigin::Signed(who.clone()).into(), *model)?;
	}
	Ok(())
}

/// Unbonds one [`stake`] at each of `count` consecutive blocks from block 1, making `count`
/// unlocking chunks.
fn unbond_chunks<T: Config>(who: &T::AccountId, count: u32) -> Result<(), BenchmarkError> {
	for block in 1..=count {
		frame_system::Pallet::<T>::set_block_number(block.into());
		Pallet::<T>::unbond(RawOrigin::Signed(who.clone()).into(), stake::<T>())?;
	}
	Ok(())
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn bond() {
		let caller: T::AccountId = whitelisted_caller();
		T::Currency::set_balance(&caller, stake::<T>().saturating_mul(10u32.into()));

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), stake::<T>());

		assert_eq!(Hosts::<T>::get(&caller).map(|host| host.active), Some(stake::<T>()));
	}

	#[benchmark]
	fn bond_extra() -> Result<(), BenchmarkError> {
		let caller: T::AccountId = whitelisted_caller();
		bond_host::<T>(&caller, 1)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), stake::<T>());

		let active = stake::<T>().saturating_mul(2u32.into());
		assert_eq!(Hosts::<T>::get(&caller).map(|host| host.active), Some(active));
		Ok(())
	}

	/// The last stake leaves with one place left for its chunk, and the host stops serving a
	/// full list of models, each with a full list of hosts.
	#[benchmark]
	fn unbond() -> Result<(), BenchmarkError> {
		let caller: T::AccountId = whitelisted_caller();
		let chunks = T::MaxUnlockingChunks::get();
		bond_host::<T>(&caller, chunks)?;
		unbond_chunks::<T>(&caller, chunks.saturating_sub(1))?;
		let models = models_with_other_hosts::<T>()?;
		serve_all::<T>(&caller, &models)?;
		frame_system::Pallet::<T>::set_block_number(chunks.into());

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), stake::<T>());

		let host = Hosts::<T>::get(&caller).ok_or("the host is gone")?;
		assert!(host.active.is_zero() && host.models.is_empty());
		assert_eq!(host.unlocking.len() as u32, chunks);
		Ok(())
	}

	/// Every chunk of a full list has matured, and the host record goes.
	#[benchmark]
	fn withdraw_unbonded() -> Result<(), BenchmarkError> {
		let caller: T::AccountId = whitelisted_caller();
		let chunks = T::MaxUnlockingChunks::get();
		bond_host::<T>(&caller, chunks)?;
		unbond_chunks::<T>(&caller, chunks)?;
		let matured = T::UnbondingPeriod::get().saturating_add(chunks.into());
		frame_system::Pallet::<T>::set_block_number(matured);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()));

		assert!(!Hosts::<T>::contains_key(&caller));
		assert!(T::Currency::total_balance_on_hold(&caller).is_zero());
		Ok(())
	}

	#[benchmark]
	fn set_metadata() -> Result<(), BenchmarkError> {
		let caller: T::AccountId = whitelisted_caller();
		bond_host::<T>(&caller, 1)?;
		let endpoint = BoundedVec::truncate_from(
			alloc::vec![b'e'; <MaxEndpointLen as Get<u32>>::get() as usize],
		);
		let name = BoundedVec::truncate_from(
			alloc::vec![b'n'; <MaxHostNameLen as Get<u32>>::get() as usize],
		);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), endpoint.clone(), name);

		assert_eq!(Hosts::<T>::get(&caller).map(|host| host.metadata.endpoint), Some(endpoint));
		Ok(())
	}

	/// The host takes its last place for models and the model its last place for hosts.
	#[benchmark]
	fn serve() -> Result<(), BenchmarkError> {
		let caller: T::AccountId = whitelisted_caller();
		bond_host::<T>(&caller, 1)?;
		let models = models_with_other_hosts::<T>()?;
		let (last, first) = models.split_last().ok_or("no model may be served")?;
		serve_all::<T>(&caller, first)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), *last);

		assert_eq!(ModelHosts::<T>::get(last).len() as u32, T::MaxHostsPerModel::get());
		Ok(())
	}

	/// The host leaves a full list of hosts.
	#[benchmark]
	fn stop_serving() -> Result<(), BenchmarkError> {
		let caller: T::AccountId = whitelisted_caller();
		bond_host::<T>(&caller, 1)?;
		let models = models_with_other_hosts::<T>()?;
		serve_all::<T>(&caller, &models)?;
		let last = *models.last().ok_or("no model may be served")?;

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), last);

		assert!(ModelHosts::<T>::get(last).binary_search(&caller).is_err());
		Ok(())
	}

	/// All of a host with a full list of chunks, serving a full list of models each with a full
	/// list of hosts, goes to a treasury account the slash creates.
	#[benchmark]
	fn slash() -> Result<(), BenchmarkError> {
		let host: T::AccountId = whitelisted_caller();
		let chunks = T::MaxUnlockingChunks::get();
		bond_host::<T>(&host, chunks + 1)?;
		unbond_chunks::<T>(&host, chunks)?;
		let models = models_with_other_hosts::<T>()?;
		serve_all::<T>(&host, &models)?;
		let origin =
			T::SlashOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let reason = BoundedVec::truncate_from(
			alloc::vec![b'r'; <MaxSlashReasonLen as Get<u32>>::get() as usize],
		);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, host.clone(), Perbill::one(), reason);

		assert!(!Hosts::<T>::contains_key(&host));
		assert!(models
			.iter()
			.all(|model| ModelHosts::<T>::get(model).binary_search(&host).is_err()));
		Ok(())
	}

	/// Paying the `h` hosts of a model.
	#[benchmark]
	fn reward(h: Linear<0, { T::MaxHostsPerModel::get() }>) -> Result<(), BenchmarkError> {
		let model = active_model::<T>(0);
		for index in 0..h {
			let host: T::AccountId = account("host", index, SEED);
			bond_host::<T>(&host, 1)?;
			Pallet::<T>::serve(RawOrigin::Signed(host).into(), model)?;
		}
		let payer: T::AccountId = whitelisted_caller();
		let amount = stake::<T>();
		T::Currency::set_balance(&payer, amount.saturating_mul(10u32.into()));
		let paid;

		#[block]
		{
			paid = <Pallet<T> as HostRewards<T::AccountId, BalanceOf<T>>>::reward(
				&model, &payer, amount,
			)?;
		}

		assert_eq!(paid, if h == 0 { Zero::zero() } else { amount });
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::tests::new_test_ext(), crate::tests::Test);
}
