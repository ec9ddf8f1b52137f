//! Models are refused at registration when one call cannot fit the chain.

use frame_support::{assert_ok, traits::Get};
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

/// Fills a block call by call as `CheckWeight` does: each call must fit at its full weight, and
/// consumes its actual weight (the load only for the first).
fn filled_call_by_call(weight: crate::CallWeight) -> u64 {
	use frame_support::dispatch::DispatchClass;
	let block = <Test as frame_system::Config>::BlockWeights::get();
	let normal = block.get(DispatchClass::Normal);
	let cold = weight.total() + normal.base_extrinsic;
	let warm = weight.run + normal.base_extrinsic;
	let (mut used, mut calls) = (Weight::zero(), 0);
	while (used + cold).all_lte(normal.max_total.unwrap())
		&& cold.all_lte(normal.max_extrinsic.unwrap())
	{
		used += if calls == 0 { cold } else { warm };
		calls += 1;
	}
	calls
}

#[test]
fn the_calls_that_fit_a_block_are_those_a_block_filled_call_by_call_takes() {
	new_test_ext().execute_with(|| {
		for name in ["mlp", "cnn", "attention"] {
			let id = register(name);
			let analysis = pallet_models::Analyses::<Test>::get(id).unwrap();
			let size = pallet_models::Models::<Test>::get(id).unwrap().size;
			let weight = Inference::call_weight(&analysis, size);
			// Inputs small enough that the block's length is not what limits.
			assert_eq!(
				Inference::calls_per_block(weight, 16),
				filled_call_by_call(weight),
				"{name}"
			);
			// A block of 30 ms: cnn's first call (its 5 ms load included) and then warm ones.
			MaxBlockRefTime::set(30_000_000_000);
			assert_eq!(
				Inference::calls_per_block(weight, 16),
				filled_call_by_call(weight),
				"{name}"
			);
			MaxBlockRefTime::set(2_000_000_000_000);
		}
	});
}

#[test]
fn the_calls_that_fit_a_block_are_bounded_by_its_length_for_large_inputs() {
	new_test_ext().execute_with(|| {
		let id = register("mlp");
		let analysis = pallet_models::Analyses::<Test>::get(id).unwrap();
		let weight = Inference::call_weight(&analysis, 498);
		// 1 MiB of inputs per call: three fit in the normal class's 3.75 MiB of a 5 MiB block.
		let length: frame_system::limits::BlockLength =
			<<Test as frame_system::Config>::BlockLength as Get<_>>::get();
		let normal = *length.max.get(frame_support::dispatch::DispatchClass::Normal) as u64;
		assert_eq!(Inference::calls_per_block(weight, 1 << 20), normal / ((1 << 20) + 256));
	});
}
