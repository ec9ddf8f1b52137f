//! `verinfer infer` and `verinfer result` against a real dev node, as a dApp developer runs them:
//! the real binary, judged by its output, its files and its exit status.

mod common;

use std::process::Command;

use common::Node;
use verinfer_precompile::{
	cache::sha256,
	host::Engine,
	tensor_io::from_npy,
	tool::{self, hex},
	ENGINE_BLOB,
};

fn fixture(path: &str) -> String {
	std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
		.join("../scripts/fixtures")
		.join(path)
		.display()
		.to_string()
}

/// Runs `verinfer ARGS…`: (exit code, stdout, stderr).
fn verinfer(args: &[&str]) -> (i32, String, String) {
	let output = Command::new(env!("CARGO_BIN_EXE_verinfer")).args(args).output().unwrap();
	(
		output.status.code().expect("exited"),
		String::from_utf8(output.stdout).unwrap(),
		String::from_utf8(output.stderr).unwrap(),
	)
}

#[tokio::test]
async fn infer_stores_what_model_run_computes_and_result_reads_it_back() {
	let mut node = Node::start(&["--dev", "--tmp"]);
	let url = node.rpc_url.clone();
	let mlp = std::fs::read(fixture("models/mlp.onnx")).unwrap();
	let model = hex(&sha256(&mlp));
	let input = fixture("models/mlp.input0.npy");
	let engine = Engine::new(ENGINE_BLOB.unwrap()).unwrap();
	let expected =
		tool::run(&engine, &mlp, &[from_npy(&std::fs::read(&input).unwrap()).unwrap()]).unwrap();
	let out = std::env::temp_dir().join(format!("verinfer-infer-{}.npy", std::process::id()));

	let (code, stdout, stderr) = verinfer(&[
		"infer",
		"--model",
		&model,
		"--input",
		&input,
		"--wait",
		"--suri",
		"//Bob",
		"--url",
		&url,
		"--out",
		out.to_str().unwrap(),
	]);
	assert_eq!(code, 0, "{stderr}");
	assert!(stdout.contains("request id  0"), "{stdout}");
	let hash_line = format!("outputs sha256 {}", hex(&expected.outputs_hash));
	assert!(stdout.contains(&hash_line), "{stdout}");
	assert_eq!(from_npy(&std::fs::read(&out).unwrap()).unwrap(), expected.outputs[0]);
	std::fs::remove_file(&out).unwrap();

	let (code, stdout, stderr) = verinfer(&["result", "0", "--url", &url]);
	assert_eq!(code, 0, "{stderr}");
	assert!(stdout.contains(&hash_line), "{stdout}");
	assert!(stdout.contains(&model), "{stdout}");

	// Without --wait: the transaction hash once the pool took it.
	let (code, stdout, stderr) = verinfer(&[
		"infer", "--model", &model, "--input", &input, "--suri", "//Bob", "--url", &url,
	]);
	assert_eq!(code, 0, "{stderr}");
	assert!(stdout.starts_with("submitted   0x"), "{stdout}");
	assert!(node.stop().success());
}

#[tokio::test]
async fn every_mistake_a_user_can_make_is_one_line_and_exit_1() {
	let mut node = Node::start(&["--dev", "--tmp"]);
	let url = node.rpc_url.clone();
	let mlp = hex(&sha256(&std::fs::read(fixture("models/mlp.onnx")).unwrap()));
	let input = fixture("models/mlp.input0.npy");
	let wrong_shape = fixture("tensors/f32_raw.pb");
	let infer = |model: &str, input: &str, suri: &str, url: &str| {
		verinfer(&[
			"infer", "--model", model, "--input", input, "--wait", "--suri", suri, "--url", url,
		])
	};
	let cases = [
		(
			infer(&mlp, &input, "//Bob", "ws://127.0.0.1:1"),
			"cannot reach a node at ws://127.0.0.1:1",
		),
		(infer(&mlp, &input, "not a key", &url), "invalid key"),
		(infer(&hex(&[7; 32]), &input, "//Bob", &url), "no model 0x0707"),
		(
			infer(&mlp, &wrong_shape, "//Bob", &url),
			"the chain refused it: Inference(InputShapeMismatch) of input 0",
		),
		(infer(&mlp, "/nonexistent.npy", "//Bob", &url), "/nonexistent.npy"),
		(verinfer(&["result", "99", "--url", &url]), "no result 99"),
	];
	for ((code, stdout, stderr), expected) in cases {
		assert_eq!(code, 1, "{expected}: {stdout}{stderr}");
		assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
		assert!(stderr.contains(expected), "{expected}: {stderr}");
	}
	assert!(node.stop().success());
}

#[tokio::test]
async fn model_register_uploads_a_large_model_in_chunks_and_infer_runs_it() {
	let mut node = Node::start(&["--dev", "--tmp"]);
	let url = node.rpc_url.clone();
	let dir = std::env::temp_dir().join(format!("verinfer-register-{}", std::process::id()));
	std::fs::create_dir_all(&dir).unwrap();
	// 1,024 × 640 f32 weights: 2.6 MB, three chunks.
	let bytes = verinfer_precompile::synthetic::matmul(1024, 640, 2);
	let (file, input) = (dir.join("matmul.onnx"), dir.join("x.npy"));
	std::fs::write(&file, &bytes).unwrap();
	let data = (0..1024u32).flat_map(|i| (i as f32 / 512.0 - 1.0).to_le_bytes()).collect();
	let x = verinfer_precompile::tensor::Tensor::new(
		verinfer_precompile::tensor::DType::F32,
		vec![1, 1024],
		data,
	)
	.unwrap();
	tool::write_tensor(&input, &x).unwrap();
	let (file, input) = (file.to_str().unwrap(), input.to_str().unwrap());
	let register = |file: &str| {
		verinfer(&[
			"model", "register", file, "--name", "matmul", "--fee", "5000", "--suri", "//Bob",
			"--url", &url,
		])
	};

	let (code, stdout, stderr) = register(file);
	assert_eq!(code, 0, "{stderr}");
	let model = hex(&sha256(&bytes));
	assert!(stdout.contains(&format!("model id    {model}")), "{stdout}");
	assert!(stderr.contains("uploaded chunk 3/3"), "{stderr}");

	let (code, _, stderr) = register(file);
	assert_eq!(code, 1);
	assert!(stderr.contains("already on this chain"), "{stderr}");
	let (code, _, stderr) = register(&fixture("hostile/random_normal.onnx"));
	assert_eq!(code, 2, "{stderr}");
	assert!(stderr.contains("the chain refused the model") && stderr.contains("RandomNormal"));

	let engine = Engine::new(ENGINE_BLOB.unwrap()).unwrap();
	let expected = tool::run(&engine, &bytes, &[x]).unwrap();
	let (code, stdout, stderr) = verinfer(&[
		"infer", "--model", &model, "--input", input, "--wait", "--suri", "//Alice", "--url", &url,
	]);
	assert_eq!(code, 0, "{stderr}");
	assert!(
		stdout.contains(&format!("outputs sha256 {}", hex(&expected.outputs_hash))),
		"{stdout}"
	);
	assert!(stdout.contains("fee paid    5000"), "{stdout}");
	std::fs::remove_dir_all(dir).unwrap();
	assert!(node.stop().success());
}
