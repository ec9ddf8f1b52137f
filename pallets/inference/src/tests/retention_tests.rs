//! Results are kept for the retention period, then pruned in `on_idle`, oldest first, within the
//! weight the block has left.

use frame_support::assert_ok;

use super::*;
use crate::{Event, OldestResult, Results};

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

use crate::{Config, WeightInfo};
