//! Models are refused at registration when one call cannot fit the chain.

use frame_support::assert_ok;
use pallet_models::Event as ModelEvent;

use super::*;

fn refusal(id: ModelId) -> Option<String> {
	System::events().into_iter().find_map(|record| match record.event {
		RuntimeEvent::Models(ModelEvent::ModelRefused { id: refused, reason, .. })
			if refused == id =>
		{
			Some(String::from_utf8(reason.into_inner()).unwrap())
		},
		_ => None,
	})
}

#[test]
fn a_model_whose_outputs_exceed_what_a_result_may_hold_is_refused_and_its_deposit_returned() {
	new_test_ext().execute_with(|| {
		// attention's output is 1×8×32 f32: 1,024 bytes.
		MaxResultBytes::set(1_000);
		let before = free(OWNER);
		let id = register("attention");
		MaxResultBytes::set(64 * 1024);
		let reason = refusal(id).expect("refused");
		assert!(reason.contains("above the 1000 bytes a result may hold"), "{reason}");
		assert!(pallet_models::Models::<Test>::get(id).is_none());
		assert_eq!(free(OWNER), before);
	});
}

#[test]
fn a_model_too_heavy_for_one_extrinsic_is_refused() {
	new_test_ext().execute_with(|| {
		// A block of 5 ms: cnn's call (a 5 ms load included) does not fit three quarters of it.
		MaxBlockRefTime::set(5_000_000_000);
		let id = register("cnn");
		MaxBlockRefTime::set(2_000_000_000_000);
		let reason = refusal(id).expect("refused");
		assert!(reason.contains("one extrinsic may use"), "{reason}");
		assert!(pallet_models::Models::<Test>::get(id).is_none());
	});
}

#[test]
fn a_model_that_fits_is_accepted() {
	new_test_ext().execute_with(|| {
		let id = register("cnn");
		assert_eq!(refusal(id), None);
		assert_ok!(Inference::infer(RuntimeOrigin::signed(CALLER), id, input("cnn"), FEE));
	});
}
