//! Hostile and malformed models and inputs: each gets a clear, typed error from the engine, and
//! neither the engine host nor the test process goes down.

mod common;

use common::engine;
use verinfer_fixtures::cost_fixtures;
use verinfer_fixtures::{corpus, npy, read};
use verinfer_primitives::{
	analysis::{Refusal, ENGINE_MEMORY_LIMIT, MAX_INTERMEDIATE_BYTES, MAX_NODES},
	engine::{EngineError, Limits, ModelCost, Usage, DEFAULT_HEADROOM_PERCENT},
	DType, Tensor,
};

fn refusals(dir: &str, file: &str) -> Vec<Refusal> {
	let analysis = engine().analyse(&read(dir, file), &[], Limits::LOAD).unwrap().result.unwrap();
	assert!(!analysis.is_accepted(), "{file} was accepted");
	// Loading refuses for the same reasons.
	match engine().load(&read(dir, file), &[], Limits::LOAD).unwrap().result {
		Err(EngineError::Refused(reasons)) => assert_eq!(reasons, analysis.refusals),
		Err(other) => panic!("{file}: load failed differently: {other}"),
		Ok(_) => panic!("{file}: load accepted a refused model"),
	}
	analysis.refusals
}

fn mlp() -> Vec<u8> {
	read("models", "mlp.onnx")
}

#[test]
fn garbage_bytes_are_not_a_model() {
	let garbage: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
	let error = engine().analyse(&garbage, &[], Limits::LOAD).unwrap().result.unwrap_err();
	assert!(matches!(error, EngineError::MalformedModel(_)), "{error}");
}

#[test]
fn an_empty_file_is_not_a_model() {
	let error = engine().analyse(&[], &[], Limits::LOAD).unwrap().result.unwrap_err();
	assert_eq!(error, EngineError::MalformedModel(b"the model has no graph".to_vec()));
}

#[test]
fn every_truncation_of_a_model_is_refused_cleanly() {
	let model = mlp();
	for len in (0..model.len()).step_by(7) {
		match engine()
			.run(&model[..len], &[npy("models", "mlp.input0.npy")], Limits::CALL)
			.unwrap()
			.result
		{
			Err(EngineError::MalformedModel(_)) | Err(EngineError::Refused(_)) => {},
			other => panic!("truncated to {len} bytes: {other:?}"),
		}
	}
}

#[test]
fn a_graph_of_ten_thousand_nodes_is_refused_by_the_node_limit() {
	let found = refusals("hostile", "many_nodes.onnx");
	assert_eq!(found, vec![Refusal::TooManyNodes { nodes: 10_000, limit: MAX_NODES }]);
}

#[test]
fn huge_declared_dimensions_are_refused_before_anything_is_allocated() {
	let found = refusals("hostile", "huge_dims.onnx");
	let bytes = 4 * 2_147_483_647u64 * 2_147_483_647;
	assert_eq!(
		found,
		vec![Refusal::IntermediatesTooLarge { bytes, limit: MAX_INTERMEDIATE_BYTES }]
	);
}

#[test]
fn a_model_whose_intermediates_exceed_the_limit_is_refused() {
	let found = refusals("hostile", "memory_bomb.onnx");
	assert!(
		matches!(found[..], [Refusal::IntermediatesTooLarge { bytes, limit }]
			if bytes > limit && limit == MAX_INTERMEDIATE_BYTES),
		"{found:?}"
	);
}

#[test]
fn random_operators_are_refused_by_name() {
	let found = refusals("hostile", "random_normal.onnx");
	assert_eq!(found, vec![Refusal::OperatorNotAllowed(b"RandomNormal".to_vec())]);
}

#[test]
fn loops_are_refused_by_name() {
	let found = refusals("hostile", "loop.onnx");
	assert!(found.contains(&Refusal::OperatorNotAllowed(b"Loop".to_vec())), "{found:?}");
}

#[test]
fn operators_of_other_domains_are_refused_with_their_domain() {
	let found = refusals("hostile", "unknown_domain.onnx");
	assert_eq!(found, vec![Refusal::OperatorNotAllowed(b"com.microsoft:FusedGemm".to_vec())]);
}

#[test]
fn inputs_of_the_wrong_shape_dtype_or_count_are_refused_with_what_was_expected() {
	let corpus = corpus();
	let mlp = corpus.iter().find(|m| m.name == "mlp").unwrap();
	let loaded = engine().load(&mlp.model, &[], Limits::LOAD).unwrap().result.unwrap();
	let input = &mlp.inputs[0];

	let wrong_shape = Tensor { shape: vec![4, 1], ..input.clone() };
	match loaded.run(&[wrong_shape], Limits::CALL).unwrap().result {
		Err(EngineError::InputMismatch { index: 0, expected, got_dtype, got_shape }) => {
			assert_eq!((expected.dtype, expected.shape), (DType::F32, vec![1, 4]));
			assert_eq!((got_dtype, got_shape), (DType::F32, vec![4, 1]));
		},
		other => panic!("{other:?}"),
	}
	let wrong_dtype = Tensor { dtype: DType::I32, ..input.clone() };
	assert!(matches!(
		loaded.run(&[wrong_dtype], Limits::CALL).unwrap().result,
		Err(EngineError::InputMismatch { got_dtype: DType::I32, .. })
	));
	assert_eq!(
		loaded.run(&[], Limits::CALL).unwrap().result,
		Err(EngineError::InputCountMismatch { expected: 1, got: 0 })
	);
	let short_data = Tensor { data: vec![0; 15], ..input.clone() };
	assert!(matches!(
		loaded.run(&[short_data], Limits::CALL).unwrap().result,
		Err(EngineError::InvalidInput { index: 0, .. })
	));
	// None of this disturbed the loaded model.
	assert_eq!(
		loaded.run(&mlp.inputs, Limits::CALL).unwrap().result,
		engine().run(&mlp.model, &mlp.inputs, Limits::CALL).unwrap().result
	);
}

#[test]
fn a_declared_shape_that_contradicts_the_model_is_refused() {
	let analysis =
		engine().analyse(&mlp(), &[Some(vec![2, 4])], Limits::LOAD).unwrap().result.unwrap();
	assert!(
		matches!(analysis.refusals[..], [Refusal::DeclaredShapeMismatch { input: 0, .. }]),
		"{:?}",
		analysis.refusals
	);
}

#[test]
fn a_constant_too_large_for_the_engine_fails_with_the_memory_limit_not_the_host() {
	let result =
		engine().analyse(&read("hostile", "constant_bomb.onnx"), &[], Limits::LOAD).unwrap().result;
	assert_eq!(result, Err(EngineError::MemoryLimitExceeded { limit: ENGINE_MEMORY_LIMIT }));
}

/// The hostile-cost corpus meets registration as the chain runs it: each model the corpus says
/// registration must refuse runs out of the registration's fuel or memory, within them; each it
/// must accept is measured, and its hostile input then runs within the call limits the
/// measurement gives (or stops for fuel), never beyond them. (That the charge covers the time is
/// the prices benchmark's to show: `scripts/bench-prices.sh`.)
#[test]
fn every_hostile_cost_model_is_refused_by_its_measurement_or_runs_within_its_call_limits() {
	let fixtures = verinfer_fixtures::dir();
	let registration = Limits::REGISTRATION;
	let within = |usage: Usage, limits: Limits, what: &str| {
		assert!(usage.fuel <= limits.fuel, "{what}: {usage:?} beyond {limits:?}");
		assert!(usage.memory <= limits.memory_cap(), "{what}: {usage:?} beyond {limits:?}");
	};
	let corpus = cost_fixtures(&fixtures).unwrap();
	assert!(corpus.len() >= 10, "the corpus is read");
	for fixture in corpus {
		let name = fixture.file.as_str();
		let measured = engine().measure(&fixture.model, &[], registration).unwrap();
		within(measured.usage, registration, name);
		match (fixture.accepted, measured.result) {
			(false, Err(EngineError::OutOfFuel { limit })) => assert_eq!(limit, registration.fuel),
			(false, Err(EngineError::MemoryLimitExceeded { limit })) => {
				assert_eq!(limit, registration.memory_cap())
			},
			(true, Ok(done)) => {
				let call = ModelCost::new(&done.measurement, DEFAULT_HEADROOM_PERCENT).call;
				let ran = done.loaded.run(&fixture.inputs, call).unwrap();
				within(ran.usage, call, name);
				match ran.result {
					Ok(outputs) => assert_eq!(outputs.len(), 1, "{name}"),
					Err(EngineError::OutOfFuel { .. }) => assert_eq!(ran.usage.fuel, call.fuel),
					Err(other) => panic!("{name}: the hostile input failed: {other}"),
				}
			},
			(accepted, result) => panic!(
				"{name} (registration must {}): {:?}",
				if accepted { "accept it" } else { "refuse it for fuel or memory" },
				result.map(|done| done.measurement.probe)
			),
		}
	}
}
