//! Bonding, unbonding and withdrawal: what is held, when it unlocks, and what is refused.

use frame_support::{assert_noop, assert_ok, BoundedVec};
use sp_runtime::TokenError;

use super::*;
use crate::{Error, Event, HostMetadata, Hosts, UnlockChunk};

fn chunks_of(who: AccountId) -> Vec<(Balance, u64)> {
	Hosts::<Test>::get(who)
		.map(|host| host.unlocking.iter().map(|chunk| (chunk.amount, chunk.at)).collect())
		.unwrap_or_default()
}

fn active_of(who: AccountId) -> Balance {
	Hosts::<Test>::get(who).map_or(0, |host| host.active)
}

#[test]
fn bonding_holds_the_amount_and_creates_the_host() {
	run(|| {
		bond(ALICE, 5_000);
		assert_eq!(balances(ALICE), (ENDOWMENT - 5_000, 5_000));
		let host = Hosts::<Test>::get(ALICE).unwrap();
		assert_eq!(host.active, 5_000);
		assert!(host.unlocking.is_empty() && host.models.is_empty());
		assert_eq!(host.metadata, HostMetadata::default());
		assert_eq!(
			hosting_events(),
			vec![Event::Bonded { host: ALICE, amount: 5_000, active: 5_000 }]
		);
	});
}

#[test]
fn a_first_bond_below_the_minimum_or_of_nothing_is_refused_and_changes_nothing() {
	run(|| {
		assert_noop!(
			Hosting::bond(RuntimeOrigin::signed(ALICE), MIN_BOND - 1),
			Error::<Test>::BondBelowMinimum
		);
		assert_noop!(Hosting::bond(RuntimeOrigin::signed(ALICE), 0), Error::<Test>::ZeroAmount);
		assert_eq!(balances(ALICE), (ENDOWMENT, 0));
	});
}

#[test]
fn bonding_more_than_the_account_can_hold_fails_and_changes_nothing() {
	run(|| {
		// The hold must leave the existential deposit free: all of it cannot be held.
		assert_noop!(
			Hosting::bond(RuntimeOrigin::signed(POOR), POOR_ENDOWMENT),
			TokenError::FundsUnavailable
		);
		assert_noop!(
			Hosting::bond(RuntimeOrigin::signed(ALICE), ENDOWMENT),
			TokenError::FundsUnavailable
		);
	});
}

#[test]
fn bonding_twice_is_refused_and_bond_extra_adds_to_the_active_stake() {
	run(|| {
		bond(ALICE, 1_000);
		assert_noop!(
			Hosting::bond(RuntimeOrigin::signed(ALICE), 1_000),
			Error::<Test>::AlreadyBonded
		);
		assert_ok!(Hosting::bond_extra(RuntimeOrigin::signed(ALICE), 250));
		assert_eq!(active_of(ALICE), 1_250);
		assert_eq!(balances(ALICE), (ENDOWMENT - 1_250, 1_250));
		assert_eq!(
			hosting_events().last(),
			Some(&Event::Bonded { host: ALICE, amount: 250, active: 1_250 })
		);
	});
}

#[test]
fn bond_extra_needs_a_bond_and_an_amount() {
	run(|| {
		assert_noop!(
			Hosting::bond_extra(RuntimeOrigin::signed(ALICE), 1_000),
			Error::<Test>::NotBonded
		);
		bond(ALICE, 1_000);
		assert_noop!(
			Hosting::bond_extra(RuntimeOrigin::signed(ALICE), 0),
			Error::<Test>::ZeroAmount
		);
		assert_noop!(
			Hosting::bond_extra(RuntimeOrigin::signed(ALICE), ENDOWMENT),
			TokenError::FundsUnavailable
		);
	});
}

#[test]
fn bond_extra_after_unbonding_everything_must_reach_the_minimum_again() {
	run(|| {
		bond(ALICE, 1_000);
		unbond(ALICE, 1_000);
		assert_noop!(
			Hosting::bond_extra(RuntimeOrigin::signed(ALICE), MIN_BOND - 1),
			Error::<Test>::BondBelowMinimum
		);
		assert_ok!(Hosting::bond_extra(RuntimeOrigin::signed(ALICE), MIN_BOND));
		assert_eq!(active_of(ALICE), MIN_BOND);
		assert_eq!(balances(ALICE), (ENDOWMENT - 2_000, 2_000));
	});
}

#[test]
fn unbonding_moves_stake_to_a_chunk_that_unlocks_after_the_unbonding_period() {
	run(|| {
		bond(ALICE, 3_000);
		unbond(ALICE, 1_000);
		assert_eq!(active_of(ALICE), 2_000);
		assert_eq!(chunks_of(ALICE), vec![(1_000, 1 + UNBONDING)]);
		// Unbonding stake stays held.
		assert_eq!(balances(ALICE), (ENDOWMENT - 3_000, 3_000));
		assert_eq!(
			hosting_events().last(),
			Some(&Event::Unbonded {
				host: ALICE,
				amount: 1_000,
				active: 2_000,
				unlocks_at: 1 + UNBONDING
			})
		);
	});
}

#[test]
fn a_chunk_is_withdrawable_at_its_unlock_block_and_not_one_block_before() {
	run(|| {
		bond(ALICE, 3_000);
		unbond(ALICE, 1_000);
		System::set_block_number(UNBONDING);
		assert_noop!(
			Hosting::withdraw_unbonded(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::NothingToWithdraw
		);
		System::set_block_number(1 + UNBONDING);
		assert_ok!(Hosting::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));
		assert_eq!(balances(ALICE), (ENDOWMENT - 2_000, 2_000));
		assert_eq!(active_of(ALICE), 2_000);
		assert!(chunks_of(ALICE).is_empty());
		assert_eq!(hosting_events().last(), Some(&Event::Withdrawn { host: ALICE, amount: 1_000 }));
	});
}

#[test]
fn withdrawal_releases_only_the_matured_chunks() {
	run(|| {
		bond(ALICE, 5_000);
		unbond(ALICE, 1_000);
		System::set_block_number(3);
		unbond(ALICE, 700);
		assert_eq!(chunks_of(ALICE), vec![(1_000, 1 + UNBONDING), (700, 3 + UNBONDING)]);
		System::set_block_number(2 + UNBONDING);
		assert_ok!(Hosting::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));
		assert_eq!(chunks_of(ALICE), vec![(700, 3 + UNBONDING)]);
		assert_eq!(balances(ALICE), (ENDOWMENT - 4_000, 4_000));
	});
}

#[test]
fn unbonding_twice_in_a_block_adds_to_one_chunk() {
	run(|| {
		bond(ALICE, 5_000);
		unbond(ALICE, 1_000);
		unbond(ALICE, 500);
		assert_eq!(chunks_of(ALICE), vec![(1_500, 1 + UNBONDING)]);
		assert_eq!(active_of(ALICE), 3_500);
	});
}

#[test]
fn a_new_chunk_past_the_cap_is_refused_but_a_full_list_still_merges() {
	run(|| {
		bond(ALICE, 10_000);
		for block in 1..=MAX_CHUNKS as u64 {
			System::set_block_number(block);
			unbond(ALICE, 1_000);
		}
		System::set_block_number(MAX_CHUNKS as u64 + 1);
		assert_noop!(
			Hosting::unbond(RuntimeOrigin::signed(ALICE), 1_000),
			Error::<Test>::TooManyUnlockingChunks
		);
		System::set_block_number(MAX_CHUNKS as u64);
		unbond(ALICE, 1_000);
		assert_eq!(
			chunks_of(ALICE),
			vec![(1_000, 1 + UNBONDING), (1_000, 2 + UNBONDING), (2_000, 3 + UNBONDING)]
		);
		assert_eq!(active_of(ALICE), 6_000);
	});
}

#[test]
fn unbonding_that_would_leave_active_stake_below_the_minimum_is_refused() {
	run(|| {
		bond(ALICE, 1_500);
		assert_noop!(
			Hosting::unbond(RuntimeOrigin::signed(ALICE), 501),
			Error::<Test>::BondBelowMinimum
		);
		unbond(ALICE, 500);
		assert_eq!(active_of(ALICE), MIN_BOND);
	});
}

#[test]
fn unbonding_needs_a_bond_an_amount_and_enough_active_stake() {
	run(|| {
		assert_noop!(Hosting::unbond(RuntimeOrigin::signed(ALICE), 1), Error::<Test>::NotBonded);
		bond(ALICE, 1_500);
		assert_noop!(Hosting::unbond(RuntimeOrigin::signed(ALICE), 0), Error::<Test>::ZeroAmount);
		assert_noop!(
			Hosting::unbond(RuntimeOrigin::signed(ALICE), 1_501),
			Error::<Test>::InsufficientActive
		);
	});
}

#[test]
fn withdrawing_the_last_chunk_with_nothing_active_removes_the_host() {
	run(|| {
		bond(ALICE, 2_000);
		unbond(ALICE, 2_000);
		assert_eq!(active_of(ALICE), 0);
		System::set_block_number(1 + UNBONDING);
		assert_ok!(Hosting::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));
		assert!(!Hosts::<Test>::contains_key(ALICE));
		assert_eq!(balances(ALICE), (ENDOWMENT, 0));
		let events = hosting_events();
		assert_eq!(
			events[events.len() - 2..],
			[Event::Withdrawn { host: ALICE, amount: 2_000 }, Event::HostRemoved { host: ALICE }]
		);
		// Gone, the account may bond afresh.
		bond(ALICE, 1_000);
	});
}

#[test]
fn withdrawing_needs_a_bond() {
	run(|| {
		assert_noop!(
			Hosting::withdraw_unbonded(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::NotBonded
		);
	});
}

#[test]
fn a_host_with_stake_unlocking_cannot_bond_afresh_but_can_bond_extra() {
	run(|| {
		bond(ALICE, 1_000);
		unbond(ALICE, 1_000);
		assert_noop!(
			Hosting::bond(RuntimeOrigin::signed(ALICE), 1_000),
			Error::<Test>::AlreadyBonded
		);
		assert_ok!(Hosting::bond_extra(RuntimeOrigin::signed(ALICE), 1_000));
		assert_eq!(
			Hosts::<Test>::get(ALICE).unwrap().unlocking.into_inner(),
			vec![UnlockChunk { amount: 1_000, at: 1 + UNBONDING }]
		);
	});
}

#[test]
fn metadata_is_set_by_a_bonded_host_in_utf8() {
	run(|| {
		let endpoint: BoundedVec<u8, _> =
			b"https://alice.example:9944".to_vec().try_into().unwrap();
		let name: BoundedVec<u8, _> = "Alice’s GPUs".as_bytes().to_vec().try_into().unwrap();
		assert_noop!(
			Hosting::set_metadata(RuntimeOrigin::signed(ALICE), endpoint.clone(), name.clone()),
			Error::<Test>::NotBonded
		);
		bond(ALICE, 1_000);
		let invalid = vec![0xff, 0xfe];
		assert_noop!(
			Hosting::set_metadata(
				RuntimeOrigin::signed(ALICE),
				invalid.clone().try_into().unwrap(),
				name.clone()
			),
			Error::<Test>::InvalidMetadata
		);
		assert_noop!(
			Hosting::set_metadata(
				RuntimeOrigin::signed(ALICE),
				endpoint.clone(),
				invalid.try_into().unwrap()
			),
			Error::<Test>::InvalidMetadata
		);
		assert_ok!(Hosting::set_metadata(
			RuntimeOrigin::signed(ALICE),
			endpoint.clone(),
			name.clone()
		));
		assert_eq!(
			Hosts::<Test>::get(ALICE).unwrap().metadata,
			HostMetadata { endpoint: endpoint.clone(), name: name.clone() }
		);
		assert_eq!(
			hosting_events().last(),
			Some(&Event::MetadataSet { host: ALICE, endpoint, name })
		);
	});
}
