//! The engine blob, run in wasmtime exactly as the node will: real models from the fixture corpus.

use std::path::PathBuf;

use verinfer_precompile::{
	engine::EngineError,
	host::Engine,
	tensor_io::{from_npy, to_json},
	DType, Tensor, ENGINE_BLOB,
};

fn fixture(name: &str) -> Vec<u8> {
	let path =
		PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/fixtures/models").join(name);
	std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn engine() -> Engine {
	let blob = ENGINE_BLOB.expect("the engine blob is built (not SKIP_WASM_BUILD)");
	Engine::new(blob).expect("the engine blob compiles in wasmtime")
}

fn floats(tensor: &Tensor) -> Vec<f32> {
	tensor.data.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()
}

#[test]
fn the_mlp_fixture_runs_and_matches_the_numpy_reference() {
	let engine = engine();
	let input = from_npy(&fixture("mlp.input0.npy")).unwrap();
	let expected = from_npy(&fixture("mlp.expected.npy")).unwrap();
	let outputs = engine.run(&fixture("mlp.onnx"), &[input]).unwrap().unwrap();
	assert_eq!(outputs.len(), 1);
	let output = &outputs[0];
	assert_eq!((output.dtype, output.shape.clone()), (DType::F32, vec![1, 3]));
	for (got, want) in floats(output).iter().zip(floats(&expected)) {
		// Summation order may differ from NumPy's: a few ulps.
		assert!((got - want).abs() <= 1e-5 * want.abs().max(1.0), "{got} vs {want}");
	}
}

#[test]
fn running_the_same_model_twice_gives_the_same_bytes() {
	let engine = engine();
	let input = from_npy(&fixture("mlp.input0.npy")).unwrap();
	let first = engine.run(&fixture("mlp.onnx"), std::slice::from_ref(&input)).unwrap().unwrap();
	let second = engine.run(&fixture("mlp.onnx"), &[input]).unwrap().unwrap();
	assert_eq!(
		first,
		second,
		"{} vs {}",
		to_json(&first[0]).unwrap(),
		to_json(&second[0]).unwrap()
	);
}

#[test]
fn garbage_and_truncated_models_are_refused_as_malformed_without_a_trap() {
	let engine = engine();
	let input = from_npy(&fixture("mlp.input0.npy")).unwrap();
	let model = fixture("mlp.onnx");
	for bytes in [&b"not an onnx model at all"[..], &model[..model.len() / 2], &[]] {
		match engine.run(bytes, std::slice::from_ref(&input)).unwrap() {
			Err(EngineError::MalformedModel(_)) | Err(EngineError::Rejected(_)) => {},
			other => panic!("expected a refusal, got {other:?}"),
		}
	}
}

#[test]
fn an_input_of_the_wrong_shape_is_refused() {
	let engine = engine();
	let wrong = Tensor::new(DType::F32, vec![1, 5], vec![0; 20]).unwrap();
	match engine.run(&fixture("mlp.onnx"), &[wrong]).unwrap() {
		Err(EngineError::Rejected(message)) | Err(EngineError::Failed(message)) => {
			assert!(!message.is_empty())
		},
		other => panic!("expected a refusal, got {other:?}"),
	}
}
