//! The `verinfer` client subcommands against a real dev node, as model owners, hosts and dApp
//! developers run them: the real binary, judged by its output, its files and its exit status, and
//! the chain's state read back over JSON-RPC.

mod common;

use common::{fixture, verinfer, Node};
use sp_core::{crypto::Ss58Codec, H256};
use sp_keyring::Sr25519Keyring::{Bob, Charlie, Dave};
use verinfer_client::api::ModelState;
use verinfer_executor::{
	digest::{hex, sha256},
	engine::Engine,
	local,
};
use verinfer_formats::{json_npy::from_npy, write_tensor};
use verinfer_primitives::tensor::{DType, Tensor};
use verinfer_runtime::{AccountId, MILLI_UNIT, UNIT};

#[tokio::test]
async fn infer_stores_what_model_run_computes_and_result_reads_it_back() {
	let mut node = Node::start(&["--dev", "--tmp"]);
	let url = node.rpc_url.clone();
	let mlp = std::fs::read(fixture("models/mlp.onnx")).unwrap();
	let model = hex(&sha256(&mlp));
	let input = fixture("models/mlp.input0.npy");
	let engine = Engine::built_in().unwrap();
	let expected =
		local::run(&engine, &mlp, &[from_npy(&std::fs::read(&input).unwrap()).unwrap()]).unwrap();
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
	let bytes = verinfer_synthetic::matmul(1024, 640, 2);
	let (file, input) = (dir.join("matmul.onnx"), dir.join("x.npy"));
	std::fs::write(&file, &bytes).unwrap();
	let data = (0..1024u32).flat_map(|i| (i as f32 / 512.0 - 1.0).to_le_bytes()).collect();
	let x = Tensor::new(DType::F32, vec![1, 1024], data).unwrap();
	write_tensor(&input, &x).unwrap();
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

	let engine = Engine::built_in().unwrap();
	let expected = local::run(&engine, &bytes, &[x]).unwrap();
	let (code, stdout, stderr) = verinfer(&[
		"infer", "--model", &model, "--input", input, "--wait", "--suri", "//Alice", "--url", &url,
	]);
	assert_eq!(code, 0, "{stderr}");
	assert!(
		stdout.contains(&format!("outputs sha256 {}", hex(&expected.outputs_hash))),
		"{stdout}"
	);
	assert!(stdout.contains("fee paid    0.000000005 VINF"), "{stdout}");
	std::fs::remove_dir_all(dir).unwrap();
	assert!(node.stop().success());
}

/// The line of `output` that starts with `label`, without it.
fn field<'a>(output: &'a str, label: &str) -> &'a str {
	output
		.lines()
		.find_map(|line| line.strip_prefix(label))
		.unwrap_or_else(|| panic!("no `{label}` in\n{output}"))
		.trim()
}

#[tokio::test]
async fn an_owner_a_host_and_a_dapp_drive_every_subcommand_and_the_chain_agrees() {
	let mut node = Node::start(&["--dev", "--tmp"]);
	let rpc = node.client().await;
	let url = node.rpc_url.clone();
	let on_chain = |args: &[&str]| verinfer(&[args, &["--url", &url]].concat());
	let ok = |args: &[&str]| {
		let (code, stdout, stderr) = on_chain(args);
		assert_eq!(code, 0, "{args:?}: {stdout}{stderr}");
		stdout
	};
	let fails = |args: &[&str], code: i32, expected: &str| {
		let (actual, stdout, stderr) = on_chain(args);
		assert_eq!(actual, code, "{args:?}: {stdout}{stderr}");
		assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
		assert!(stderr.contains(expected), "{args:?}: expected `{expected}` in {stderr}");
	};
	let model = |id: &str| {
		let (rpc, id) = (&rpc, H256::from_slice(&common::unhex(id)));
		async move { rpc.model(id).await.expect("registered") }
	};
	let free = |who: AccountId| {
		let rpc = &rpc;
		async move { rpc.account(&who, None).await.data.free }
	};
	let (bob, charlie, dave) = (Bob.to_account_id(), Charlie.to_account_id(), Dave.to_account_id());
	let file = fixture("models/layernorm.onnx");
	let input = fixture("models/layernorm.input0.npy");
	let id = hex(&sha256(&std::fs::read(&file).unwrap()));

	// The owner checks and runs the model locally, then registers it.
	let (code, checked, _) = verinfer(&["model", "check", &file]);
	assert_eq!(code, 0);
	assert_eq!(field(&checked, "verdict"), "accepted");
	let (code, ran, _) = verinfer(&["model", "run", &file, "--input", &input]);
	assert_eq!(code, 0);
	let expected_hash = field(&ran, "outputs sha256").to_string();
	let registered = ok(&[
		"model",
		"register",
		&file,
		"--name",
		"layernorm",
		"--version",
		"2.1.0",
		"--description",
		"a layer norm",
		"--fee",
		"0.002VINF",
		"--suri",
		"//Bob",
	]);
	assert_eq!(field(&registered, "model id"), id);
	let registered = model(&id).await;
	assert_eq!(registered.owner, bob);
	assert_eq!(registered.fee, 2 * MILLI_UNIT);
	assert_eq!(registered.status, ModelState::Active);

	// Everyone can list and inspect it.
	let listed = ok(&["model", "list"]);
	let row = listed.lines().find(|line| line.starts_with(&id)).expect("the model is listed");
	for word in ["active", "0.002 VINF", "layernorm 2.1.0"] {
		assert!(row.contains(word), "{word}: {row}");
	}
	assert!(listed.contains("demo-mlp") && listed.contains("demo-cnn"), "{listed}");
	let shown = ok(&["model", "show", &id]);
	assert_eq!(field(&shown, "owner"), bob.to_ss58check());
	assert_eq!(field(&shown, "fee"), "0.002 VINF");
	assert_eq!(field(&shown, "description"), "a layer norm");
	assert!(field(&shown, "call weight").ends_with(" ms"), "{shown}");
	assert!(field(&shown, "hosts").starts_with("none"), "{shown}");

	// A host bonds, adds to the bond, says where it is and serves the model.
	assert_eq!(field(&ok(&["host", "bond", "20VINF", "--suri", "//Charlie"]), "bonded"), "20 VINF");
	assert_eq!(field(&ok(&["host", "bond", "5VINF", "--suri", "//Charlie"]), "bonded"), "25 VINF");
	let endpoint = "https://charlie.example:9944";
	ok(&[
		"host",
		"set-metadata",
		"--endpoint",
		endpoint,
		"--name",
		"charlie",
		"--suri",
		"//Charlie",
	]);
	ok(&["host", "serve", &id, "--suri", "//Charlie"]);
	let hosts = rpc.hosts(model(&id).await.id).await;
	assert_eq!(hosts[0].account, charlie);
	assert_eq!(hosts[0].active, 25 * UNIT);
	assert_eq!(hosts[0].endpoint, endpoint);
	let host = ok(&["host", "show", &charlie.to_ss58check()]);
	assert_eq!(host, ok(&["host", "show", "--suri", "//Charlie"]));
	assert_eq!(field(&host, "bonded"), "25 VINF");
	assert_eq!(field(&host, "endpoint"), endpoint);
	assert_eq!(field(&host, "serves"), format!("{id} layernorm"));
	let shown = ok(&["model", "show", &id]);
	assert_eq!(
		field(&shown, "host"),
		format!("{} bonded 25 VINF {endpoint}", charlie.to_ss58check())
	);

	// A dApp calls it: the owner gets 70 % of the fee, the host 30 %.
	let (bob_before, charlie_before) = (free(bob.clone()).await, free(charlie.clone()).await);
	let called = ok(&["infer", "--model", &id, "--input", &input, "--wait", "--suri", "//Dave"]);
	assert_eq!(field(&called, "outputs sha256"), expected_hash);
	assert_eq!(field(&called, "fee paid"), "0.002 VINF");
	assert_eq!(free(bob.clone()).await - bob_before, 2 * MILLI_UNIT * 7 / 10);
	assert_eq!(free(charlie.clone()).await - charlie_before, 2 * MILLI_UNIT * 3 / 10);
	let request = field(&called, "request id").to_string();
	let result = ok(&["result", &request]);
	assert_eq!(field(&result, "outputs sha256"), expected_hash);
	assert_eq!(field(&result, "caller"), dave.to_ss58check());

	// The owner re-prices; nobody else may.
	ok(&["model", "set-fee", &id, "0.05VINF", "--suri", "//Bob"]);
	assert_eq!(model(&id).await.fee, 50 * MILLI_UNIT);
	fails(&["model", "set-fee", &id, "1", "--suri", "//Dave"], 1, "Models(NotOwner)");

	// The host stops serving and unbonds: the stake stays held for the unbonding period.
	ok(&["host", "stop-serving", &id, "--suri", "//Charlie"]);
	assert_eq!(rpc.hosts(model(&id).await.id).await, vec![]);
	let unbonded = ok(&["host", "unbond", "5VINF", "--suri", "//Charlie"]);
	assert_eq!(field(&unbonded, "bonded"), "20 VINF");
	assert_eq!(field(&unbonded, "unbonding"), "5 VINF");
	let host = ok(&["host", "show", "--suri", "//Charlie"]);
	assert!(field(&host, "unbonding").starts_with("5 VINF released at block #"), "{host}");
	assert_eq!(field(&host, "serves"), "no models");
	fails(&["host", "withdraw", "--suri", "//Charlie"], 1, "nothing to withdraw yet");
	assert_eq!(rpc.account(&charlie, None).await.data.reserved, 25 * UNIT);

	// The owner deprecates the model: new calls are refused, the stored result stays.
	ok(&["model", "deprecate", &id, "--suri", "//Bob"]);
	assert_eq!(model(&id).await.status, ModelState::Deprecated);
	assert_eq!(field(&ok(&["model", "show", &id]), "status"), "deprecated");
	let dave_before = free(dave.clone()).await;
	fails(
		&["infer", "--model", &id, "--input", &input, "--wait", "--suri", "//Dave"],
		1,
		"Inference(ModelDeprecated)",
	);
	// Dave paid the transaction fee for the refused call, and not the model's 0.05 VINF.
	let paid = dave_before - free(dave.clone()).await;
	assert!(paid > 0 && paid < 50 * MILLI_UNIT, "Dave paid {paid}");
	assert_eq!(field(&ok(&["result", &request]), "outputs sha256"), expected_hash);

	// What a user gets wrong is one line.
	let garbage =
		std::env::temp_dir().join(format!("verinfer-garbage-{}.onnx", std::process::id()));
	std::fs::write(&garbage, b"this is not an ONNX model").unwrap();
	let garbage = garbage.to_str().unwrap();
	fails(
		&["model", "register", garbage, "--name", "x", "--suri", "//Bob"],
		2,
		"refused the model",
	);
	std::fs::remove_file(garbage).unwrap();
	fails(&["host", "bond", "1VINF", "--suri", "//Eve"], 1, "Hosting(BondBelowMinimum)");
	fails(&["host", "bond", "10VINF", "--suri", "//Nobody"], 1, "Inability to pay some fees");
	// A malformed argument is clap's usage error (exit 2), which names the expected form.
	let (code, _, stderr) = on_chain(&["host", "bond", "10 DOT", "--suri", "//Eve"]);
	assert_eq!(code, 2);
	assert!(stderr.contains("expected plancks (1000000000) or VINF"), "{stderr}");
	fails(&["host", "serve", &hex(&[7; 32]), "--suri", "//Charlie"], 1, "ModelNotActive");
	fails(&["host", "show", "--suri", "//Ferdie"], 1, "is not a host");
	fails(&["model", "show", &hex(&[7; 32])], 1, "no model 0x0707");
	assert!(node.stop().success());
}
