//! Serving models: who may serve what, the caps, the sorted host lists, and the runtime API view.

use frame_support::{assert_noop, assert_ok, BoundedVec};

use super::*;
use crate::{Error, Event, HostInfo, HostMetadata, ModelHosts};

#[test]
fn a_bonded_host_serves_an_active_model_and_is_listed_on_both_sides() {
	run(|| {
		let m = active_model(1);
		bond(ALICE, 1_000);
		serve(ALICE, m);
		assert_eq!(hosts_of(m), vec![ALICE]);
		assert_eq!(models_of(ALICE), vec![m]);
		assert_eq!(hosting_events().last(), Some(&Event::StartedServing { host: ALICE, model: m }));
	});
}

#[test]
fn a_model_that_is_not_active_is_refused_and_nothing_changes() {
	run(|| {
		bond(ALICE, 1_000);
		assert_noop!(
			Hosting::serve(RuntimeOrigin::signed(ALICE), model(1)),
			Error::<Test>::ModelNotActive
		);
	});
}

#[test]
fn serving_needs_a_bond_of_at_least_the_minimum() {
	run(|| {
		let m = active_model(1);
		assert_noop!(Hosting::serve(RuntimeOrigin::signed(ALICE), m), Error::<Test>::NotBonded);
		bond(ALICE, 1_000);
		unbond(ALICE, 1_000);
		assert_noop!(
			Hosting::serve(RuntimeOrigin::signed(ALICE), m),
			Error::<Test>::BondBelowMinimum
		);
	});
}

#[test]
fn serving_a_model_twice_is_refused() {
	run(|| {
		let m = active_model(1);
		bond(ALICE, 1_000);
		serve(ALICE, m);
		assert_noop!(
			Hosting::serve(RuntimeOrigin::signed(ALICE), m),
			Error::<Test>::AlreadyServing
		);
	});
}

#[test]
fn a_host_serves_at_most_max_models_per_host() {
	run(|| {
		bond(ALICE, 1_000);
		for n in 1..=MAX_MODELS as u8 {
			serve(ALICE, active_model(n));
		}
		let one_more = active_model(MAX_MODELS as u8 + 1);
		assert_noop!(
			Hosting::serve(RuntimeOrigin::signed(ALICE), one_more),
			Error::<Test>::TooManyModels
		);
	});
}

#[test]
fn a_model_has_at_most_max_hosts_per_model() {
	run(|| {
		let m = active_model(1);
		for host in [ALICE, BOB, CHARLIE] {
			bond(host, 1_000);
			serve(host, m);
		}
		assert_eq!(hosts_of(m).len() as u32, MAX_HOSTS);
		bond(DAVE, 1_000);
		assert_noop!(Hosting::serve(RuntimeOrigin::signed(DAVE), m), Error::<Test>::TooManyHosts);
	});
}

#[test]
fn a_models_hosts_are_sorted_by_account_whatever_order_they_join_in() {
	run(|| {
		let m = active_model(1);
		for host in [DAVE, ALICE, CHARLIE] {
			bond(host, 1_000);
			serve(host, m);
		}
		assert_eq!(hosts_of(m), vec![ALICE, CHARLIE, DAVE]);
		assert_ok!(Hosting::stop_serving(RuntimeOrigin::signed(CHARLIE), m));
		bond(BOB, 1_000);
		serve(BOB, m);
		assert_eq!(hosts_of(m), vec![ALICE, BOB, DAVE]);
	});
}

#[test]
fn stopping_removes_the_host_from_the_model_and_the_last_host_removes_the_list() {
	run(|| {
		let (m1, m2) = (active_model(1), active_model(2));
		bond(ALICE, 1_000);
		bond(BOB, 1_000);
		serve(ALICE, m1);
		serve(ALICE, m2);
		serve(BOB, m1);
		assert_ok!(Hosting::stop_serving(RuntimeOrigin::signed(ALICE), m1));
		assert_eq!(hosts_of(m1), vec![BOB]);
		assert_eq!(models_of(ALICE), vec![m2]);
		assert_eq!(
			hosting_events().last(),
			Some(&Event::StoppedServing { host: ALICE, model: m1 })
		);
		assert_ok!(Hosting::stop_serving(RuntimeOrigin::signed(BOB), m1));
		assert!(!ModelHosts::<Test>::contains_key(m1));
	});
}

#[test]
fn stopping_a_model_the_host_does_not_serve_is_refused() {
	run(|| {
		let m = active_model(1);
		assert_noop!(
			Hosting::stop_serving(RuntimeOrigin::signed(ALICE), m),
			Error::<Test>::NotBonded
		);
		bond(ALICE, 1_000);
		bond(BOB, 1_000);
		serve(BOB, m);
		assert_noop!(
			Hosting::stop_serving(RuntimeOrigin::signed(ALICE), m),
			Error::<Test>::NotServing
		);
	});
}

#[test]
fn unbonding_everything_stops_serving_every_model() {
	run(|| {
		let (m1, m2) = (active_model(1), active_model(2));
		bond(ALICE, 1_000);
		bond(BOB, 1_000);
		serve(ALICE, m1);
		serve(ALICE, m2);
		serve(BOB, m2);
		unbond(ALICE, 1_000);
		assert!(models_of(ALICE).is_empty());
		assert!(!ModelHosts::<Test>::contains_key(m1));
		assert_eq!(hosts_of(m2), vec![BOB]);
		let events = hosting_events();
		assert_eq!(
			events[events.len() - 3..],
			[
				Event::Unbonded {
					host: ALICE,
					amount: 1_000,
					active: 0,
					unlocks_at: 1 + UNBONDING
				},
				Event::StoppedServing { host: ALICE, model: m1 },
				Event::StoppedServing { host: ALICE, model: m2 },
			]
		);
	});
}

#[test]
fn a_partial_unbond_that_keeps_the_minimum_keeps_serving() {
	run(|| {
		let m = active_model(1);
		bond(ALICE, 1_500);
		serve(ALICE, m);
		unbond(ALICE, 500);
		assert_eq!(hosts_of(m), vec![ALICE]);
	});
}

#[test]
fn the_runtime_api_shows_each_host_with_its_stake_metadata_and_models() {
	run(|| {
		let (m1, m2) = (active_model(1), active_model(2));
		bond(BOB, 3_000);
		bond(ALICE, 1_000);
		let endpoint: BoundedVec<u8, _> = b"https://bob.example".to_vec().try_into().unwrap();
		let name: BoundedVec<u8, _> = b"bob".to_vec().try_into().unwrap();
		assert_ok!(Hosting::set_metadata(
			RuntimeOrigin::signed(BOB),
			endpoint.clone(),
			name.clone()
		));
		serve(BOB, m2);
		serve(BOB, m1);
		serve(ALICE, m1);
		unbond(BOB, 500);
		let bob = HostInfo {
			account: BOB,
			active: 2_500,
			unlocking: 500,
			metadata: HostMetadata { endpoint, name },
			models: vec![m2, m1],
		};
		let alice = HostInfo {
			account: ALICE,
			active: 1_000,
			unlocking: 0,
			metadata: HostMetadata::default(),
			models: vec![m1],
		};
		assert_eq!(Hosting::host_info(BOB), Some(bob.clone()));
		assert_eq!(Hosting::host_info(CHARLIE), None);
		assert_eq!(Hosting::hosts_of(m1), vec![alice, bob.clone()]);
		assert_eq!(Hosting::hosts_of(m2), vec![bob]);
		assert_eq!(Hosting::hosts_of(model(3)), vec![]);
	});
}
