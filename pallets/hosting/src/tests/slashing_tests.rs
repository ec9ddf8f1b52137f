//! Slashing: the fraction taken from active and unlocking stake, where it goes, and what a host
//! left below the minimum loses.

use frame_support::{assert_noop, assert_ok};
use sp_runtime::{DispatchError, Perbill};

use super::*;
use crate::{Error, Event, Hosts, SlashHosts, SlashReason};

fn reason(text: &str) -> SlashReason {
	text.as_bytes().to_vec().try_into().unwrap()
}

fn slash(host: AccountId, fraction: Perbill) {
	assert_ok!(Hosting::slash(RuntimeOrigin::root(), host, fraction, reason("wrong output")));
}

#[test]
fn a_slash_takes_the_fraction_of_active_and_of_each_chunk_each_rounded_down() {
	run(|| {
		bond(ALICE, 5_003);
		unbond(ALICE, 1_001);
		System::set_block_number(2);
		unbond(ALICE, 999);
		let issuance = total_issuance();
		slash(ALICE, Perbill::from_percent(10));
		// 10% of 3003, 1001 and 999, each rounded down: 300 + 100 + 99.
		let host = Hosts::<Test>::get(ALICE).unwrap();
		assert_eq!(host.active, 2_703);
		let chunks: Vec<_> = host.unlocking.iter().map(|chunk| (chunk.amount, chunk.at)).collect();
		assert_eq!(chunks, vec![(901, 1 + UNBONDING), (900, 2 + UNBONDING)]);
		assert_eq!(balances(ALICE), (ENDOWMENT - 5_003, 5_003 - 499));
		// The treasury did not exist: the slash created it with exactly the slashed sum.
		assert_eq!(balances(TREASURY), (499, 0));
		assert_eq!(total_issuance(), issuance);
		assert_eq!(
			hosting_events().last(),
			Some(&Event::Slashed {
				host: ALICE,
				amount: 499,
				burned: false,
				reason: reason("wrong output")
			})
		);
	});
}

#[test]
fn a_slash_too_small_to_create_the_treasury_is_burned() {
	run(|| {
		bond(ALICE, 1_000);
		let issuance = total_issuance();
		// 0.5% of 1000 is 5, below the existential deposit of 10.
		slash(ALICE, Perbill::from_rational(5u32, 1_000u32));
		assert_eq!(balances(ALICE), (ENDOWMENT - 1_000, 995));
		assert_eq!(balances(TREASURY), (0, 0));
		assert_eq!(total_issuance(), issuance - 5);
		assert_eq!(
			hosting_events().last(),
			Some(&Event::Slashed {
				host: ALICE,
				amount: 5,
				burned: true,
				reason: reason("wrong output")
			})
		);
	});
}

#[test]
fn once_the_treasury_exists_even_a_small_slash_goes_to_it() {
	run(|| {
		bond(ALICE, 10_000);
		slash(ALICE, Perbill::from_percent(1));
		assert_eq!(balances(TREASURY), (100, 0));
		// 0.1% of 9900 is 9, below the existential deposit, but the treasury exists now.
		slash(ALICE, Perbill::from_perthousand(1));
		assert_eq!(balances(TREASURY), (109, 0));
		assert_eq!(balances(ALICE), (ENDOWMENT - 10_000, 9_891));
	});
}

#[test]
fn a_host_slashed_below_the_minimum_stops_serving_every_model_until_it_tops_up() {
	run(|| {
		let (m1, m2) = (active_model(1), active_model(2));
		bond(ALICE, 1_000);
		bond(BOB, 1_000);
		serve(ALICE, m1);
		serve(ALICE, m2);
		serve(BOB, m1);
		slash(ALICE, Perbill::from_percent(10));
		assert_eq!(Hosts::<Test>::get(ALICE).unwrap().active, 900);
		assert!(models_of(ALICE).is_empty());
		assert_eq!(hosts_of(m1), vec![BOB]);
		assert!(hosts_of(m2).is_empty());
		let events = hosting_events();
		assert_eq!(
			events[events.len() - 2..],
			[
				Event::StoppedServing { host: ALICE, model: m1 },
				Event::StoppedServing { host: ALICE, model: m2 },
			]
		);
		assert_noop!(
			Hosting::serve(RuntimeOrigin::signed(ALICE), m1),
			Error::<Test>::BondBelowMinimum
		);
		assert_ok!(Hosting::bond_extra(RuntimeOrigin::signed(ALICE), 100));
		serve(ALICE, m1);
	});
}

#[test]
fn a_slash_that_leaves_the_minimum_keeps_the_host_serving() {
	run(|| {
		let m = active_model(1);
		bond(ALICE, 2_000);
		serve(ALICE, m);
		slash(ALICE, Perbill::from_percent(50));
		assert_eq!(hosts_of(m), vec![ALICE]);
	});
}

#[test]
fn a_full_slash_takes_everything_and_removes_the_host() {
	run(|| {
		let m = active_model(1);
		bond(ALICE, 3_000);
		serve(ALICE, m);
		unbond(ALICE, 1_000);
		assert_eq!(
			<Hosting as SlashHosts<AccountId>>::slash(&ALICE, Perbill::one(), reason("fraud")),
			Ok(3_000)
		);
		assert!(!Hosts::<Test>::contains_key(ALICE));
		assert!(hosts_of(m).is_empty());
		assert_eq!(balances(ALICE), (ENDOWMENT - 3_000, 0));
		assert_eq!(balances(TREASURY), (3_000, 0));
		assert_eq!(hosting_events().last(), Some(&Event::HostRemoved { host: ALICE }));
	});
}

#[test]
fn a_slash_through_the_trait_returns_what_it_took() {
	run(|| {
		bond(ALICE, 4_000);
		let taken = <Hosting as SlashHosts<AccountId>>::slash(
			&ALICE,
			Perbill::from_percent(25),
			reason("unreachable"),
		);
		assert_eq!(taken, Ok(1_000));
		assert_eq!(balances(TREASURY), (1_000, 0));
	});
}

#[test]
fn only_the_slash_origin_may_slash() {
	run(|| {
		bond(ALICE, 1_000);
		assert_noop!(
			Hosting::slash(
				RuntimeOrigin::signed(BOB),
				ALICE,
				Perbill::from_percent(50),
				reason("spite")
			),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn slashing_an_account_that_is_not_a_host_is_refused_and_changes_nothing() {
	run(|| {
		assert_noop!(
			Hosting::slash(RuntimeOrigin::root(), ALICE, Perbill::one(), reason("none")),
			Error::<Test>::NotBonded
		);
		assert_noop!(
			<Hosting as SlashHosts<AccountId>>::slash(&ALICE, Perbill::one(), reason("none")),
			Error::<Test>::NotBonded
		);
	});
}

#[test]
fn a_slash_reaches_stake_that_is_unbonding() {
	run(|| {
		bond(ALICE, 2_000);
		unbond(ALICE, 2_000);
		slash(ALICE, Perbill::from_percent(50));
		let host = Hosts::<Test>::get(ALICE).unwrap();
		assert_eq!(host.unlocking[0].amount, 1_000);
		System::set_block_number(1 + UNBONDING);
		assert_ok!(Hosting::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));
		assert_eq!(balances(ALICE), (ENDOWMENT - 1_000, 0));
	});
}
