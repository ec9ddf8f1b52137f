//! Results are kept for the retention period, then pruned in `on_idle`, oldest first, within the
//! weight the block has left.

use codec::Encode;
use frame_support::{assert_ok, traits::fungible::Mutate};

use super::*;
use crate::{Config, Error, Event, OldestResult, Results, WeightInfo};

fn infer(model: ModelId) {
	assert_ok!(Inference::infer(RuntimeOrigin::signed(CALLER), model, input("mlp"), FEE));
}

#[test]
fn results_stay_for_the_retention_period_and_are_pruned_after_it() {
	new_test_ext().execute_with(|| {
		let model = register("mlp");
		infer(model);
		infer(model);
		next_block();
		infer(model);

		// Block 1 + RETENTION: the first two are due, not yet the third.
		while System::block_number() < 1 + RETENTION - 1 {
			next_block();
		}
		idle(Weight::MAX);
		assert!(Results::<Test>::get(0).is_some(), "kept for the whole period");
		next_block();
		idle(Weight::MAX);
		assert_eq!((Results::<Test>::get(0), Results::<Test>::get(1)), (None, None));
		assert!(Results::<Test>::get(2).is_some());
		assert_eq!(OldestResult::<Test>::get(), 2);
		assert!(inference_events().contains(&Event::ResultsPruned { first: 0, last: 1 }));

		next_block();
		idle(Weight::MAX);
		assert_eq!(Results::<Test>::get(2), None);
		assert_eq!(OldestResult::<Test>::get(), 3);
	});
}

#[test]
fn pruning_stops_at_the_weight_it_is_given_and_resumes_in_a_later_block() {
	new_test_ext().execute_with(|| {
		let model = register("mlp");
		for _ in 0..3 {
			infer(model);
		}
		while System::block_number() < 1 + RETENTION {
			next_block();
		}
		let db = <Test as frame_system::Config>::DbWeight::get();
		let one = db.reads_writes(2, 1) + <Test as Config>::WeightInfo::prune_result();
		assert_eq!(idle(one - Weight::from_parts(1, 0)), Weight::zero());
		assert!(Results::<Test>::get(0).is_some());

		assert_eq!(idle(one), one);
		assert_eq!((Results::<Test>::get(0).is_none(), OldestResult::<Test>::get()), (true, 1));

		idle(Weight::MAX);
		assert_eq!(OldestResult::<Test>::get(), 3);
		assert!((0..3).all(|id| Results::<Test>::get(id).is_none()));
	});
}

#[test]
fn with_nothing_expired_on_idle_changes_nothing() {
	new_test_ext().execute_with(|| {
		let model = register("mlp");
		infer(model);
		let root = state_root();
		idle(Weight::MAX);
		assert_eq!(state_root(), root);
	});
}

/// The deposit a stored result of `model`'s call holds: base + per byte of its outputs.
fn deposit_of(request_id: u64) -> Balance {
	let result = Results::<Test>::get(request_id).expect("stored");
	RESULT_DEPOSIT_BASE + RESULT_DEPOSIT_PER_BYTE * result.outputs.encode().len() as Balance
}

#[test]
fn a_result_holds_a_deposit_for_its_bytes_from_the_caller_until_it_is_pruned() {
	new_test_ext().execute_with(|| {
		let model = register("mlp");
		infer(model);
		infer(model);
		let (first, second) = (deposit_of(0), deposit_of(1));
		assert!(first > RESULT_DEPOSIT_BASE, "priced by the byte");
		assert_eq!(Results::<Test>::get(0).unwrap().deposit, first);
		assert_eq!(held_for_results(CALLER), first + second);

		while System::block_number() < 1 + RETENTION {
			next_block();
		}
		let before = free(CALLER);
		idle(Weight::MAX);
		assert_eq!(Results::<Test>::get(0), None);
		assert_eq!(held_for_results(CALLER), 0, "released with the result");
		assert_eq!(free(CALLER), before + first + second);
	});
}

#[test]
fn a_block_stores_at_most_its_share_of_result_bytes_and_refuses_the_rest_before_running() {
	new_test_ext().execute_with(|| {
		let model = register("mlp");
		let analysis = pallet_models::Analyses::<Test>::get(model).unwrap();
		let most = Inference::result_bytes_bound(&analysis) as u32;
		infer(model);
		infer(model);
		let stored = crate::BlockResultBytes::<Test>::get();
		assert_eq!(stored, Results::<Test>::get(0).unwrap().outputs.encode().len() as u32 * 2);
		// The block's room: one byte short of what a third call's outputs may take.
		MaxResultBytesPerBlock::set(stored + most - 1);

		let root = state_root();
		let refused = Inference::infer(RuntimeOrigin::signed(CALLER), model, input("mlp"), FEE)
			.expect_err("the block has no room for a third result");
		assert_eq!(refused.error, Error::<Test>::BlockResultsFull.into());
		assert_eq!(
			refused.post_info.actual_weight,
			Some(<Test as Config>::WeightInfo::infer(0)),
			"charged the checks alone: nothing ran"
		);
		assert_eq!(state_root(), root, "nothing changed");

		MaxResultBytesPerBlock::set(stored + most);
		infer(model);
		next_block();
		assert_eq!(crate::BlockResultBytes::<Test>::get(), 0);
		MaxResultBytesPerBlock::set(1 << 20);
	});
}

#[test]
fn a_caller_who_can_pay_the_fee_but_not_the_result_deposit_is_refused_before_running() {
	new_test_ext().execute_with(|| {
		let model = register("mlp");
		let analysis = pallet_models::Analyses::<Test>::get(model).unwrap();
		let most = Inference::result_deposit(Inference::result_bytes_bound(&analysis));
		// The fee, the existential deposit kept, and one unit short of the deposit.
		Balances::set_balance(&POOR, FEE + 1 + most - 1);
		let root = state_root();
		let refused = Inference::infer(RuntimeOrigin::signed(POOR), model, input("mlp"), FEE)
			.expect_err("the deposit cannot be held");
		assert_eq!(refused.error, Error::<Test>::InsufficientBalance.into());
		assert_eq!(state_root(), root);

		Balances::set_balance(&POOR, FEE + 1 + most);
		assert_ok!(Inference::infer(RuntimeOrigin::signed(POOR), model, input("mlp"), FEE));
	});
}
