//! Paying a model's hosts: the stake-weighted split, the dust rule, and all-or-nothing transfers.

use frame_support::assert_noop;
use pallet_models::HostRewards;
use sp_runtime::{DispatchError, TokenError};

use super::*;
use crate::Event;

fn reward(model: ModelId, payer: AccountId, amount: Balance) -> Result<Balance, DispatchError> {
	<Hosting as HostRewards<AccountId, Balance>>::reward(&model, &payer, amount)
}

/// `hosts` bond their stakes and serve model 1, which is returned.
fn served_by(hosts: &[(AccountId, Balance)]) -> ModelId {
	let m = active_model(1);
	for &(host, stake) in hosts {
		bond(host, stake);
		serve(host, m);
	}
	m
}

#[test]
fn fees_are_split_in_proportion_to_active_stake_and_paid_free() {
	run(|| {
		let m = served_by(&[(ALICE, 1_000), (BOB, 2_000), (CHARLIE, 3_000)]);
		assert_eq!(reward(m, DAVE, 600), Ok(600));
		assert_eq!(balances(ALICE), (ENDOWMENT - 1_000 + 100, 1_000));
		assert_eq!(balances(BOB), (ENDOWMENT - 2_000 + 200, 2_000));
		assert_eq!(balances(CHARLIE), (ENDOWMENT - 3_000 + 300, 3_000));
		assert_eq!(balances(DAVE), (ENDOWMENT - 600, 0));
		assert_eq!(
			hosting_events().last(),
			Some(&Event::HostsRewarded { model: m, payer: DAVE, total: 600 })
		);
	});
}

#[test]
fn unlocking_stake_earns_nothing() {
	run(|| {
		let m = served_by(&[(ALICE, 2_000), (BOB, 1_000)]);
		unbond(ALICE, 1_000);
		assert_eq!(reward(m, DAVE, 100), Ok(100));
		assert_eq!(balances(ALICE).0, ENDOWMENT - 2_000 + 50);
		assert_eq!(balances(BOB).0, ENDOWMENT - 1_000 + 50);
	});
}

#[test]
fn rounding_dust_goes_to_the_host_with_the_largest_stake() {
	run(|| {
		// 100 × 1000/3001 = 33.32 and 100 × 1001/3001 = 33.36: 33 each, 1 left over.
		let m = served_by(&[(ALICE, 1_000), (BOB, 1_001), (CHARLIE, 1_000)]);
		assert_eq!(reward(m, DAVE, 100), Ok(100));
		assert_eq!(balances(ALICE).0, ENDOWMENT - 1_000 + 33);
		assert_eq!(balances(BOB).0, ENDOWMENT - 1_001 + 34);
		assert_eq!(balances(CHARLIE).0, ENDOWMENT - 1_000 + 33);
		assert_eq!(balances(DAVE).0, ENDOWMENT - 100);
	});
}

#[test]
fn dust_among_equal_largest_stakes_goes_to_the_lowest_account() {
	run(|| {
		let m = served_by(&[(CHARLIE, 1_000), (BOB, 1_000), (ALICE, 1_000)]);
		assert_eq!(reward(m, DAVE, 101), Ok(101));
		assert_eq!(balances(ALICE).0, ENDOWMENT - 1_000 + 35);
		assert_eq!(balances(BOB).0, ENDOWMENT - 1_000 + 33);
		assert_eq!(balances(CHARLIE).0, ENDOWMENT - 1_000 + 33);
	});
}

#[test]
fn with_no_host_nothing_is_paid_and_nothing_moves() {
	run(|| {
		let m = active_model(1);
		let root = state_root();
		assert_eq!(reward(m, DAVE, 600), Ok(0));
		assert_eq!(state_root(), root);
		assert_eq!(balances(DAVE), (ENDOWMENT, 0));
	});
}

#[test]
fn a_zero_reward_moves_nothing() {
	run(|| {
		let m = served_by(&[(ALICE, 1_000)]);
		let root = state_root();
		assert_eq!(reward(m, DAVE, 0), Ok(0));
		assert_eq!(state_root(), root);
	});
}

#[test]
fn a_payer_who_cannot_pay_every_host_moves_nothing() {
	run(|| {
		let m = served_by(&[(ALICE, 1_000), (BOB, 2_000), (CHARLIE, 3_000)]);
		// Shares 200, 400 and 600 of POOR's 1200: the first two could be paid, the third would
		// leave nothing, and the payer must stay alive.
		assert_noop!(reward(m, POOR, POOR_ENDOWMENT), TokenError::NotExpendable);
		// Shares 600, 1200 and 1800: the first could be paid, the second is more than is left.
		assert_noop!(reward(m, POOR, 3 * POOR_ENDOWMENT), TokenError::FundsUnavailable);
		assert_eq!(balances(POOR), (POOR_ENDOWMENT, 0));
	});
}

#[test]
fn the_reward_weight_callers_reserve_is_that_of_paying_the_most_hosts_a_model_may_have() {
	use crate::WeightInfo;
	assert_eq!(
		<Hosting as HostRewards<AccountId, Balance>>::reward_weight(),
		<<Test as crate::Config>::WeightInfo as WeightInfo>::reward(MAX_HOSTS)
	);
}
