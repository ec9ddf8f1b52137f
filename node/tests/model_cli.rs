//! `verinfer model check` and `verinfer model run`, run as a user runs them: the real binary on the
//! fixture files, judged by its output and exit status.

use verinfer_executor::{digest::hex, engine::Engine, local};
use verinfer_formats::json_npy::from_npy;
use verinfer_primitives::engine::Limits;

mod common;

use common::fixture;

/// Runs `verinfer model ARGS…`: (exit code, stdout, stderr).
fn verinfer_model(args: &[&str]) -> (i32, String, String) {
	common::verinfer(&[&["model"], args].concat())
}

#[test]
fn model_run_prints_the_outputs_and_the_hash_the_library_computes_and_writes_them() {
	let out = std::env::temp_dir().join(format!("verinfer-cli-{}.npy", std::process::id()));
	let (code, stdout, stderr) = verinfer_model(&[
		"run",
		&fixture("models/cnn.onnx"),
		"--input",
		&fixture("models/cnn.input0.npy"),
		"--out",
		out.to_str().unwrap(),
	]);
	assert_eq!(code, 0, "{stderr}");

	let engine = Engine::built_in().unwrap();
	let model = std::fs::read(fixture("models/cnn.onnx")).unwrap();
	let input = from_npy(&std::fs::read(fixture("models/cnn.input0.npy")).unwrap()).unwrap();
	let report = local::run(&engine, &model, &[input]).unwrap();
	assert!(stdout.contains(&format!("outputs sha256 {}", hex(&report.outputs_hash))), "{stdout}");
	assert!(stdout.contains(&format!("model id    {}", hex(&report.check.model_id))), "{stdout}");
	assert!(stdout.contains("verdict     accepted"), "{stdout}");
	assert!(stdout.contains("output      y f32 [1, 10]"), "{stdout}");
	let written = from_npy(&std::fs::read(&out).unwrap()).unwrap();
	assert_eq!(written, report.outputs[0]);
	std::fs::remove_file(out).unwrap();
}

#[test]
fn model_check_names_the_refused_operator_and_exits_2() {
	let (code, stdout, _) = verinfer_model(&["check", &fixture("hostile/random_normal.onnx")]);
	assert_eq!(code, 2);
	assert!(stdout.contains("verdict     refused"), "{stdout}");
	assert!(stdout.contains("operator RandomNormal is not allowed"), "{stdout}");
}

#[test]
fn user_errors_are_one_line_and_a_nonzero_exit() {
	let (code, stdout, stderr) = verinfer_model(&["check", "/nonexistent/model.onnx"]);
	assert_eq!((code, stdout.as_str()), (1, ""));
	assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
	assert!(stderr.starts_with("error: /nonexistent/model.onnx: "), "{stderr}");

	let (code, _, stderr) = verinfer_model(&[
		"run",
		&fixture("models/mlp.onnx"),
		"--input",
		&fixture("tensors/f32_raw.pb"),
	]);
	assert_eq!(code, 2, "{stderr}");
	assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
	assert!(stderr.contains("[2, 4] does not fit the model's [1, 4]"), "{stderr}");

	let (code, _, stderr) = verinfer_model(&[
		"run",
		&fixture("models/mlp.onnx"),
		"--input",
		&fixture("models/corpus.json"),
	]);
	assert_eq!(code, 1);
	assert!(stderr.starts_with("error: ") && stderr.contains("corpus.json"), "{stderr}");
}

#[test]
fn model_check_prints_what_a_call_weighs_on_this_runtime_and_how_many_fit_a_block() {
	let (code, stdout, stderr) = verinfer_model(&["check", &fixture("models/cnn.onnx")]);
	assert_eq!(code, 0, "{stderr}");

	type Inference = pallet_inference::Pallet<verinfer_runtime::Runtime>;
	let engine = Engine::built_in().unwrap();
	let model = std::fs::read(fixture("models/cnn.onnx")).unwrap();
	let measured = local::check(&engine, &model, &[], Limits::REGISTRATION)
		.unwrap()
		.measurement
		.unwrap()
		.result
		.unwrap();
	let cost = pallet_models::ModelCost::new(&measured, pallet_models::DEFAULT_HEADROOM_PERCENT);
	let weight = Inference::call_weight(&measured.analysis, &cost, model.len() as u32);
	let calls = Inference::calls_per_block(weight, cost.probe, 3 * 32 * 32 * 4);
	let ms = |picoseconds: u64| picoseconds as f64 / 1e9;
	let expected = format!(
		"fuel        {} to load, {} for the costliest probe run, {} at most per call (150 %)\n\
		 memory      {} bytes of image, {} at most per call\n\
		 call weight {:.2} ms charged, {:.2} ms after the refund of a call like the probes, \
		 {:.2} ms more for the first call in a block (loading)\n\
		 per block   {calls} calls",
		measured.load.fuel,
		measured.probe.fuel,
		cost.call.fuel,
		cost.image_bytes(),
		cost.call.memory,
		ms(weight.run().ref_time()),
		ms(weight.used(cost.probe).ref_time()),
		ms(weight.load.ref_time()),
	);
	assert!(stdout.contains(&expected), "{stdout}\nexpected:\n{expected}");
	assert!(measured.probe.fuel > 1_000_000 && calls > 1, "{stdout}");
}

#[test]
fn model_check_refuses_a_model_whose_measurement_outruns_the_registration_fuel() {
	// MaxPool over a 64×64 window: accepted by the static analysis, seconds of work per call.
	// The check stops where registration would, at the registration's fuel.
	let (code, stdout, _) = verinfer_model(&["check", &fixture("hostile/maxpool_window_64.onnx")]);
	assert_eq!(code, 2, "{stdout}");
	let limit = Limits::REGISTRATION.fuel;
	assert!(
		stdout.contains(&format!(
			"on chain    refused: measuring it (a load and two probe runs) needs more than the \
			 {limit} units of fuel a registration may use"
		)),
		"{stdout}"
	);
}
