//! `infer`: what a call stores and emits, what it is charged, and every refusal.

use frame_support::{assert_ok, dispatch::GetDispatchInfo};
use pallet_models::ModelStatus;
use sp_core::H256;
use sp_runtime::DispatchError;
use verinfer_primitives::tensor::{DType, Tensor};

use super::*;
use crate::{Call, Error, Event, NextRequestId, Results, WarmModels};

fn infer(caller: AccountId, model: ModelId, inputs: Vec<Tensor>) -> DispatchResultWithInfo {
	Inference::infer(RuntimeOrigin::signed(caller), model, inputs, FEE)
}

type DispatchResultWithInfo = frame_support::dispatch::DispatchResultWithPostInfo;

/// Asserts that `call` fails with `expected`, is charged only the checks, and changes nothing.
fn assert_refused(call: impl FnOnce() -> DispatchResultWithInfo, expected: Error<Test>) {
	let root = state_root();
	let error = call().unwrap_err();
	assert_eq!(error.error, DispatchError::from(expected));
	assert_eq!(error.post_info.actual_weight, Some(Inference::checks_weight()));
	assert_eq!(state_root(), root);
}

#[test]
fn infer_stores_exactly_the_outputs_the_engine_gives_outside_the_chain() {
	new_test_ext().execute_with(|| {
		for name in ["mlp", "cnn", "attention"] {
			let model = register(name);
			let inputs = input(name);
			let request_id = NextRequestId::<Test>::get();
			assert_ok!(infer(CALLER, model, inputs.clone()));

			let result = Results::<Test>::get(request_id).expect("a stored result");
			let expected = native_outputs(name, &inputs);
			assert_eq!(result.outputs, expected, "{name}");
			assert_eq!(result.output_hash.0, verinfer_executor::digest::outputs_hash(&expected));
			assert_eq!(
				(result.model, result.caller, result.at, result.fee),
				(model, CALLER, 1, FEE)
			);
		}
		assert_eq!(NextRequestId::<Test>::get(), 3);
	});
}

#[test]
fn infer_emits_the_outputs_when_small_and_only_their_hash_when_large() {
	new_test_ext().execute_with(|| {
		let model = register("mlp");
		assert_ok!(infer(CALLER, model, input("mlp")));
		MaxEventOutputBytes::set(8);
		assert_ok!(infer(CALLER, model, input("mlp")));

		let expected = native_outputs("mlp", &input("mlp"));
		let hash = H256::from(verinfer_executor::digest::outputs_hash(&expected));
		let completed: Vec<_> = inference_events()
			.into_iter()
			.filter_map(|event| match event {
				Event::InferenceCompleted {
					request_id,
					model: m,
					caller,
					fee,
					output_hash,
					outputs,
				} => {
					assert_eq!((m, caller, fee, output_hash), (model, CALLER, FEE, hash));
					Some((request_id, outputs))
				},
				_ => None,
			})
			.collect();
		assert_eq!(completed, vec![(0, Some(expected)), (1, None)]);
		MaxEventOutputBytes::set(1024);
	});
}

#[test]
fn the_first_call_of_a_model_in_a_block_pays_for_loading_it_and_later_ones_do_not() {
	new_test_ext().execute_with(|| {
		let model = register("cnn");
		let weight = call_weight(model);
		let call = Call::<Test>::infer { model, inputs: input("cnn"), max_fee: FEE };
		// Charged up front: the whole call plus reading the model, its analysis and its cost.
		let reads = <Test as frame_system::Config>::DbWeight::get().reads(3);
		assert_eq!(call.get_dispatch_info().call_weight, weight.total() + reads);

		// Afterwards, what the engine used (the same count on every validator).
		let used = weight.used(usage(model, input("cnn")));
		let first = infer(CALLER, model, input("cnn")).unwrap();
		let second = infer(CALLER, model, input("cnn")).unwrap();
		assert_eq!(first.actual_weight, Some(used + weight.load));
		assert_eq!(second.actual_weight, Some(used));
		assert!(weight.load.ref_time() > 0);
		assert!(used.ref_time() < weight.run().ref_time(), "the unused headroom is refunded");

		next_block();
		assert!(WarmModels::<Test>::get().is_empty());
		let next = infer(CALLER, model, input("cnn")).unwrap();
		assert_eq!(next.actual_weight, Some(used + weight.load));
	});
}

#[test]
fn the_warm_set_holds_sixteen_models_whose_images_fit_two_gib_together() {
	const GIB: u64 = 1 << 30;
	let id = |byte: u8| ModelId::repeat_byte(byte);
	assert!(Inference::joins_warm_set(&[], GIB));
	assert!(Inference::joins_warm_set(&[(id(1), GIB)], GIB));
	// A third image of a GiB would not fit: its calls pay their loads.
	assert!(!Inference::joins_warm_set(&[(id(1), GIB), (id(2), GIB)], 1));
	assert!(!Inference::joins_warm_set(&[(id(1), GIB + GIB / 2)], GIB));
	let sixteen: Vec<(ModelId, u64)> = (0..16).map(|byte| (id(byte), 1 << 20)).collect();
	assert!(Inference::joins_warm_set(&sixteen[..15], 1 << 20));
	assert!(!Inference::joins_warm_set(&sixteen, 1 << 20));
}

#[test]
fn an_unknown_model_is_refused_and_charged_only_the_checks() {
	new_test_ext().execute_with(|| {
		let unknown = ModelId::repeat_byte(7);
		assert_refused(|| infer(CALLER, unknown, input("mlp")), Error::ModelNotFound);
	});
}

#[test]
fn a_model_still_uploading_is_refused() {
	new_test_ext().execute_with(|| {
		let bytes = fixture("models/mlp.onnx");
		let model = verinfer_executor::digest::model_id(&bytes);
		assert_ok!(Models::begin_upload(
			RuntimeOrigin::signed(OWNER),
			model,
			bytes.len() as u32,
			metadata("mlp"),
			FEE,
			Default::default(),
			pallet_models::DEFAULT_HEADROOM_PERCENT,
		));
		assert!(matches!(
			pallet_models::Models::<Test>::get(model).unwrap().status,
			ModelStatus::Uploading { .. }
		));
		assert_refused(|| infer(CALLER, model, input("mlp")), Error::ModelNotActive);
	});
}

#[test]
fn a_deprecated_model_is_refused_but_its_past_results_stay() {
	new_test_ext().execute_with(|| {
		let model = register("mlp");
		assert_ok!(infer(CALLER, model, input("mlp")));
		assert_ok!(Models::deprecate(RuntimeOrigin::signed(OWNER), model));
		assert_refused(|| infer(CALLER, model, input("mlp")), Error::ModelDeprecated);
		assert!(Results::<Test>::get(0).is_some());
	});
}

#[test]
fn inputs_that_do_not_match_the_model_are_refused_before_anything_runs() {
	new_test_ext().execute_with(|| {
		let model = register("mlp");
		let good = input("mlp").remove(0);
		let as_f64 = Tensor {
			dtype: DType::F64,
			shape: good.shape.clone(),
			data: good.data.iter().chain(&good.data).copied().collect(),
		};
		let reshaped = Tensor { shape: vec![4, 1], ..good.clone() };
		let truncated = Tensor { data: good.data[1..].to_vec(), ..good.clone() };
		let cases: Vec<(Vec<Tensor>, Error<Test>)> = vec![
			(vec![], Error::InputCountMismatch),
			(vec![good.clone(), good.clone()], Error::InputCountMismatch),
			(vec![as_f64], Error::InputDtypeMismatch { index: 0 }),
			(vec![reshaped], Error::InputShapeMismatch { index: 0 }),
			(vec![truncated], Error::InvalidInput { index: 0 }),
		];
		for (inputs, expected) in cases {
			assert_refused(|| infer(CALLER, model, inputs), expected);
		}
	});
}

#[test]
fn a_fee_above_the_callers_maximum_is_refused() {
	new_test_ext().execute_with(|| {
		let model = register("mlp");
		assert_refused(
			|| Inference::infer(RuntimeOrigin::signed(CALLER), model, input("mlp"), FEE - 1),
			Error::FeeAboveMax,
		);
		assert_ok!(Inference::infer(RuntimeOrigin::signed(CALLER), model, input("mlp"), FEE));
	});
}

#[test]
fn a_caller_who_cannot_pay_the_fee_is_refused_before_the_model_runs() {
	new_test_ext().execute_with(|| {
		let model = register("mlp");
		assert_refused(|| infer(POOR, model, input("mlp")), Error::InsufficientBalance);
	});
}

#[test]
fn a_dry_run_gives_the_outputs_and_weight_of_a_call_and_changes_nothing() {
	new_test_ext().execute_with(|| {
		let model = register("cnn");
		let root = state_root();
		let dry = Inference::dry_run(model, input("cnn")).unwrap();
		assert_eq!(state_root(), root);
		assert_eq!(dry.weight, Inference::infer_weight(model));
		assert_eq!(dry.fee, FEE);

		assert_ok!(infer(CALLER, model, input("cnn")));
		let stored = Results::<Test>::get(0).unwrap();
		assert_eq!((dry.outputs, dry.output_hash), (stored.outputs, stored.output_hash));
	});
}

#[test]
fn a_dry_run_explains_a_refusal() {
	new_test_ext().execute_with(|| {
		let model = register("mlp");
		assert_eq!(
			Inference::dry_run(model, vec![]),
			Err(crate::DryRunError::Refused(Error::<Test>::InputCountMismatch.into()))
		);
		assert_eq!(
			Inference::dry_run(ModelId::zero(), vec![]),
			Err(crate::DryRunError::Refused(Error::<Test>::ModelNotFound.into()))
		);
	});
}

#[test]
fn the_runtime_api_lists_models_by_id_with_their_analysis_and_call_weight() {
	new_test_ext().execute_with(|| {
		let mut ids = vec![register("mlp"), register("cnn"), register("attention")];
		ids.sort();
		let infos = Inference::model_infos();
		assert_eq!(infos.iter().map(|info| info.id).collect::<Vec<_>>(), ids);
		for info in infos {
			let analysis = info.analysis.expect("accepted models have an analysis");
			let cost = info.cost.expect("accepted models have a cost");
			let weight = Inference::call_weight(&analysis, &cost, info.model.size).total();
			assert_eq!(info.call_weight, Some(weight));
		}
		assert_eq!(Inference::model_info(ModelId::zero()), None);
	});
}

#[test]
fn a_call_that_runs_out_of_fuel_fails_charged_its_whole_limit_and_changes_nothing() {
	new_test_ext().execute_with(|| {
		let model = register("cnn");
		// The costs shrank after the model was registered (a runtime upgrade, say): a call may
		// now use half of what this one needs.
		let needed = usage(model, input("cnn")).fuel;
		pallet_models::Costs::<Test>::mutate(model, |cost| {
			cost.as_mut().unwrap().call.fuel = needed / 2;
		});
		let weight = call_weight(model);
		let (root, before) = (state_root(), free(CALLER));
		let error = infer(CALLER, model, input("cnn")).unwrap_err();
		assert_eq!(error.error, Error::<Test>::OutOfFuel.into());
		assert_eq!(
			Inference::dry_run(model, input("cnn")),
			Err(crate::DryRunError::Failed(
				verinfer_primitives::inference::InferenceError::Engine(
					verinfer_primitives::engine::EngineError::OutOfFuel { limit: needed / 2 }
				)
			))
		);
		// All of its fuel, the most memory it may use and the load: no refund of fuel.
		let fuel_used = weight.cost.weight(needed / 2, 0);
		let charged = error.post_info.actual_weight.unwrap();
		assert!(charged.ref_time() >= (weight.base + fuel_used + weight.load).ref_time());
		assert!(charged.all_lte(weight.total()));
		assert_eq!((state_root(), free(CALLER)), (root, before));
	});
}

#[test]
fn without_an_engine_nothing_runs() {
	new_test_ext().execute_with(|| {
		let model = register("mlp");
		pallet_engine::Engine::<Test>::kill();
		assert_refused(|| infer(CALLER, model, input("mlp")), Error::NoEngine);
	});
}

#[test]
fn outputs_larger_than_a_result_may_hold_fail_the_call_after_it_ran_and_are_not_stored() {
	new_test_ext().execute_with(|| {
		let model = register("attention");
		let weight = call_weight(model);
		let used = weight.used(usage(model, input("attention")));
		// The limit shrank after the model was admitted (a runtime upgrade, say).
		MaxResultBytes::set(512);
		let root = state_root();
		let error = infer(CALLER, model, input("attention")).unwrap_err();
		MaxResultBytes::set(64 * 1024);
		assert_eq!(error.error, Error::<Test>::OutputTooLarge.into());
		// The model ran: the call is charged what it used, and the load.
		assert_eq!(error.post_info.actual_weight, Some(used + weight.load));
		assert_eq!(state_root(), root);
	});
}

#[test]
fn an_engine_failure_fails_the_call_charging_the_work_and_storing_nothing() {
	let mut ext = new_test_ext();
	let model = ext.execute_with(|| register("mlp"));
	// A node that has not loaded the model (registration keeps it loaded in the process-wide
	// cache): it reads the bytes from state.
	ext.register_extension(verinfer_interface::InferenceCacheExt(Default::default()));
	ext.execute_with(|| {
		// Bytes in state that no longer match the model id: the engine's read fails, the same way
		// on every validator.
		pallet_models::Chunks::<Test>::mutate(model, 0, |chunk| {
			chunk.as_mut().unwrap()[10] ^= 0xff;
		});
		let root = state_root();
		let error = infer(CALLER, model, input("mlp")).unwrap_err();
		assert_eq!(error.error, Error::<Test>::InferenceFailed.into());
		// The checks and reading the model: no engine work to charge.
		let weight = call_weight(model);
		assert_eq!(error.post_info.actual_weight, Some(weight.base + weight.load));
		assert_eq!(state_root(), root);
		assert_eq!(
			Inference::dry_run(model, input("mlp")),
			Err(crate::DryRunError::Failed(
				verinfer_primitives::inference::InferenceError::HashMismatch
			))
		);
	});
}

#[test]
fn pre_execution_names_the_call_infer_makes_and_leaves_out_calls_the_checks_refuse() {
	new_test_ext().execute_with(|| {
		let model = register("mlp");
		let request = Inference::pre_execution(&CALLER, model, input("mlp"), FEE)
			.expect("an admissible call is made ahead");
		assert_eq!(request.inputs, input("mlp"));
		assert_eq!(Some(&request.engine), Engine::engine_bytes().as_ref());
		// Made through the host function as the node's workers make it: the bytes `infer` stores.
		assert_eq!(request.limits, pallet_models::Costs::<Test>::get(model).unwrap().call);
		let ahead = verinfer_interface::inference::run(
			request.engine,
			request.model,
			request.declared,
			request.inputs,
			request.limits,
			verinfer_primitives::inference::Keep::Maybe,
		)
		.result
		.unwrap();
		let request_id = NextRequestId::<Test>::get();
		assert_ok!(infer(CALLER, model, input("mlp")));
		assert_eq!(Results::<Test>::get(request_id).unwrap().outputs, ahead);

		let root = state_root();
		let refused = [
			Inference::pre_execution(&CALLER, H256::repeat_byte(7), input("mlp"), FEE),
			Inference::pre_execution(&CALLER, model, input("cnn"), FEE),
			Inference::pre_execution(&CALLER, model, input("mlp"), FEE - 1),
			Inference::pre_execution(&POOR, model, input("mlp"), FEE),
		];
		assert_eq!(refused, [None, None, None, None]);
		assert_eq!(state_root(), root);
	});
}
