//! What an owner does with an Active model: fee, transfer, deprecation, removal.

use frame_support::{assert_noop, assert_ok};

use super::*;
use crate::{Analyses, Chunks, Error, Event, ModelStatus, Models as ModelsStorage};

#[test]
fn only_the_owner_sets_the_fee() {
	new_test_ext().execute_with(|| {
		let id = upload(ALICE, &fixture("models/mlp.onnx"), "mlp");
		assert_noop!(Models::set_fee(RuntimeOrigin::signed(BOB), id, 1), Error::<Test>::NotOwner);
		assert_ok!(Models::set_fee(RuntimeOrigin::signed(ALICE), id, 42));
		assert_eq!(ModelsStorage::<Test>::get(id).unwrap().fee, 42);
		assert_eq!(model_events().last(), Some(&Event::FeeChanged { id, fee: 42 }));
	});
}

#[test]
fn a_transfer_moves_ownership_and_the_held_deposit_to_the_new_owner() {
	new_test_ext().execute_with(|| {
		let bytes = fixture("models/mlp.onnx");
		let id = upload(ALICE, &bytes, "mlp");
		let deposit = DEPOSIT_BASE + DEPOSIT_PER_BYTE * bytes.len() as Balance;
		assert_ok!(Models::transfer(RuntimeOrigin::signed(ALICE), id, BOB));
		assert_eq!(ModelsStorage::<Test>::get(id).unwrap().owner, BOB);
		assert_eq!(balances(ALICE), (ENDOWMENT - deposit, 0));
		// Alice's deposit is now held on Bob's account: his free balance is untouched.
		assert_eq!(balances(BOB), (ENDOWMENT, deposit));
		assert_noop!(Models::set_fee(RuntimeOrigin::signed(ALICE), id, 1), Error::<Test>::NotOwner);
	});
}

#[test]
fn only_a_deprecated_model_may_be_removed_and_removal_releases_everything() {
	new_test_ext().execute_with(|| {
		let id = upload(ALICE, &fixture("models/cnn.onnx"), "cnn");
		assert_noop!(
			Models::remove(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::NotDeprecated
		);
		assert_noop!(Models::deprecate(RuntimeOrigin::signed(BOB), id), Error::<Test>::NotOwner);
		assert_ok!(Models::deprecate(RuntimeOrigin::signed(ALICE), id));
		assert_eq!(ModelsStorage::<Test>::get(id).unwrap().status, ModelStatus::Deprecated);
		assert_noop!(Models::deprecate(RuntimeOrigin::signed(ALICE), id), Error::<Test>::NotActive);

		assert_ok!(Models::remove(RuntimeOrigin::signed(ALICE), id));
		assert!(!ModelsStorage::<Test>::contains_key(id));
		assert_eq!(Chunks::<Test>::iter_prefix(id).count(), 0);
		assert!(!Analyses::<Test>::contains_key(id));
		assert_eq!(balances(ALICE), (ENDOWMENT, 0));
		assert_eq!(model_events().last(), Some(&Event::ModelRemoved { id }));
	});
}
