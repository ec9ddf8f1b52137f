//! Models are refused at registration when one call cannot fit the chain.

use frame_support::{assert_ok, traits::Get};
use pallet_models::Event as ModelEvent;
use verinfer_primitives::engine::Usage;

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

/// Fills a block call by call as `CheckWeight` does: each call must find room for its full weight
/// (loading included for the first), and leaves what it used after its refund (here, what the
/// costliest probe used).
fn filled_call_by_call(weight: crate::CallWeight, probe: Usage) -> u64 {
	use frame_support::dispatch::DispatchClass;
	let block = <Test as frame_system::Config>::BlockWeights::get();
	let normal = block.get(DispatchClass::Normal);
	let (mut used, mut calls) = (Weight::zero(), 0);
	loop {
		let full = if calls == 0 { weight.total() } else { weight.run() } + normal.base_extrinsic;
		if !(used + full).all_lte(normal.max_total.unwrap())
			|| !full.all_lte(normal.max_extrinsic.unwrap())
		{
			return calls;
		}
		used += weight.used(probe) + normal.base_extrinsic;
		if calls == 0 {
			used += weight.load;
		}
		calls += 1;
	}
}

#[test]
fn the_calls_that_fit_a_block_are_those_a_block_filled_call_by_call_takes() {
	new_test_ext().execute_with(|| {
		for name in ["mlp", "cnn", "attention"] {
			let id = register(name);
			let weight = call_weight(id);
			let probe = pallet_models::Costs::<Test>::get(id).unwrap().probe;
			// Inputs small enough that the block's length is not what limits.
			let calls = Inference::calls_per_block(weight, probe, 16);
			assert_eq!(calls, filled_call_by_call(weight, probe), "{name}");
			// Refunds count: more calls fit than their full weights would allow.
			let block = <Test as frame_system::Config>::BlockWeights::get();
			assert!(calls > block.max_block.ref_time() / weight.total().ref_time(), "{name}");
			// Small blocks: the first call (its load included), then warm ones, or none.
			for block_ms in [30, 60, 120] {
				MaxBlockRefTime::set(block_ms * 1_000_000_000);
				let calls = Inference::calls_per_block(weight, probe, 16);
				assert_eq!(calls, filled_call_by_call(weight, probe), "{name} {block_ms}");
			}
			MaxBlockRefTime::set(2_000_000_000_000);
		}
	});
}

#[test]
fn the_calls_that_fit_a_block_are_bounded_by_its_length_for_large_inputs() {
	new_test_ext().execute_with(|| {
		let id = register("mlp");
		let weight = call_weight(id);
		let probe = pallet_models::Costs::<Test>::get(id).unwrap().probe;
		// 1 MiB of inputs per call: three fit in the normal class's 3.75 MiB of a 5 MiB block.
		let length: frame_system::limits::BlockLength =
			<<Test as frame_system::Config>::BlockLength as Get<_>>::get();
		let normal = *length.max.get(frame_support::dispatch::DispatchClass::Normal) as u64;
		assert_eq!(Inference::calls_per_block(weight, probe, 1 << 20), normal / ((1 << 20) + 256));
	});
}
