//! Verinfer's JSON-RPC methods on a real dev node, as a dApp or model owner calls them: JSON in,
//! JSON out, checked against the engine run outside the chain and against state.

mod common;

use std::time::Duration;

use common::{hex, read_fixture, Node, Rpc};
use jsonrpsee::{core::client::ClientT, rpc_params};
use serde_json::Value;
use sp_core::H256;
use sp_keyring::Sr25519Keyring::{self, Alice, Bob};
use verinfer_client::api::{
	DryRun, HostInfo, Inspection, ModelInfo, ModelState, StoredResult, Verdict,
};
use verinfer_executor::{digest::sha256, engine::Engine, local};
use verinfer_formats::json_npy::{from_json, from_npy, to_json};
use verinfer_primitives::tensor::Tensor;
use verinfer_runtime::{RuntimeCall, RuntimeEvent, MILLI_UNIT, UNIT};

const BLOCK_WAIT: Duration = Duration::from_secs(120);

fn tensor_json(tensor: &Tensor) -> Value {
	serde_json::from_str(&to_json(tensor).unwrap()).unwrap()
}

/// `json`, the answer of a method, read as the typed client reads it (`verinfer_client::api`):
/// every field read, none lost (it writes back to the same JSON).
fn typed<T: serde::Serialize + serde::de::DeserializeOwned>(json: &Value) -> T {
	let typed: T = serde_json::from_value(json.clone())
		.unwrap_or_else(|e| panic!("the client cannot read {json}: {e}"));
	assert_eq!(&serde_json::to_value(&typed).unwrap(), json, "the client's reading loses fields");
	typed
}

/// The error a method answers with: (code, message).
async fn rpc_error(
	rpc: &Rpc,
	method: &str,
	params: jsonrpsee::core::params::ArrayParams,
) -> (i32, String) {
	match rpc.raw().request::<Value, _>(method, params).await {
		Err(jsonrpsee::core::client::Error::Call(error)) => {
			(error.code(), error.message().to_string())
		},
		other => panic!("{method}: expected an error, got {other:?}"),
	}
}

/// Signs and submits `call`; returns the events of its extrinsic once included.
async fn submit(rpc: &Rpc, signer: Sr25519Keyring, call: RuntimeCall) -> Vec<RuntimeEvent> {
	rpc.submit_and_wait(signer, call, BLOCK_WAIT).await
}

#[tokio::test]
async fn models_inference_and_hosts_are_readable_and_callable_in_json() {
	let mut node = Node::start(&["--dev", "--tmp"]);
	let rpc = node.client().await;
	rpc.wait_for_block(1, BLOCK_WAIT).await;
	let mlp = read_fixture("models/mlp.onnx");
	let mlp_id = hex(&sha256(&mlp));

	// models_list / models_get: the demo models, with their analysis and call weight.
	let models = rpc.call("models_list", rpc_params![]).await;
	let names: Vec<&str> =
		models.as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
	assert!(names.contains(&"demo-mlp") && names.contains(&"demo-cnn"), "{models}");
	let model = rpc.call("models_get", rpc_params![&mlp_id]).await;
	assert_eq!(model["status"], "active");
	assert_eq!(model["owner"], Alice.to_account_id().to_string());
	assert_eq!(model["fee"], MILLI_UNIT.to_string());
	assert_eq!(model["analysis"]["inputs"][0]["shape"], serde_json::json!([1, 4]));
	assert!(model["callWeight"]["refTime"].as_u64().unwrap() > 0);
	assert_eq!(rpc.call("models_get", rpc_params![hex(&[7; 32])]).await, Value::Null);
	let id = H256(sha256(&mlp));
	assert_eq!(rpc.model(id).await, Some(typed::<ModelInfo>(&model)));
	let listed: Vec<ModelInfo> = typed(&models);
	assert!(listed.iter().any(|listed| listed.id == id && listed.status == ModelState::Active));

	// inference_dryRun: the outputs `verinfer model run` computes, in JSON.
	let input = from_npy(&read_fixture("models/mlp.input0.npy")).unwrap();
	let engine = Engine::built_in().unwrap();
	let expected = local::run(&engine, &mlp, std::slice::from_ref(&input)).unwrap();
	let dry = rpc.call("inference_dryRun", rpc_params![&mlp_id, vec![tensor_json(&input)]]).await;
	let outputs: Vec<Tensor> = dry["outputs"]
		.as_array()
		.unwrap()
		.iter()
		.map(|output| from_json(&output.to_string()).unwrap())
		.collect();
	assert_eq!(outputs, expected.outputs);
	assert_eq!(dry["outputHash"], hex(&expected.outputs_hash));
	assert_eq!(dry["fee"], MILLI_UNIT.to_string());
	let typed_dry: DryRun = typed(&dry);
	assert_eq!(typed_dry.fee, MILLI_UNIT);
	assert_eq!(rpc.client.dry_run(id, vec![input.clone()]).await.unwrap(), typed_dry);

	// A refusal names the pallet error; a tensor that is not one is a parameter error.
	let wrong = Tensor::new(input.dtype, vec![1, 2], input.data[..8].to_vec()).unwrap();
	let (code, message) =
		rpc_error(&rpc, "inference_dryRun", rpc_params![&mlp_id, vec![tensor_json(&wrong)]]).await;
	assert_eq!(code, 9001, "{message}");
	assert!(message.contains("InputShapeMismatch"), "{message}");
	let (code, _) = rpc_error(
		&rpc,
		"inference_dryRun",
		rpc_params![&mlp_id, vec![serde_json::json!({"dtype": "f32", "shape": [1, 4]})]],
	)
	.await;
	assert_eq!(code, -32602);

	// inference_result: a call's stored result in JSON.
	let infer = RuntimeCall::Inference(pallet_inference::Call::infer {
		model: sha256(&mlp).into(),
		inputs: vec![input.clone()],
		max_fee: MILLI_UNIT,
	});
	let events = submit(&rpc, Bob, infer).await;
	let request_id = events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::Inference(pallet_inference::Event::InferenceCompleted {
				request_id,
				..
			}) => Some(*request_id),
			_ => None,
		})
		.unwrap_or_else(|| panic!("{events:?}"));
	let result = rpc.call("inference_result", rpc_params![request_id]).await;
	assert_eq!(result["outputHash"], dry["outputHash"]);
	assert_eq!(result["outputs"], dry["outputs"]);
	assert_eq!(result["caller"], Bob.to_account_id().to_string());
	assert_eq!(rpc.call("inference_result", rpc_params![request_id + 1]).await, Value::Null);
	let stored: StoredResult = typed(&result);
	assert_eq!((&stored.caller, stored.output_hash), (&Bob.to_account_id(), typed_dry.output_hash));
	assert_eq!(rpc.result(request_id, None).await, Some(stored));

	// hosts_list: Bob bonds and serves the model.
	let bond = RuntimeCall::Hosting(pallet_hosting::Call::bond { amount: 10 * UNIT });
	assert!(!submit(&rpc, Bob, bond).await.is_empty());
	let serve = RuntimeCall::Hosting(pallet_hosting::Call::serve { model: sha256(&mlp).into() });
	assert!(!submit(&rpc, Bob, serve).await.is_empty());
	let hosts = rpc.call("hosts_list", rpc_params![&mlp_id]).await;
	assert_eq!(hosts[0]["account"], Bob.to_account_id().to_string(), "{hosts}");
	assert_eq!(hosts[0]["active"], (10 * UNIT).to_string());
	assert_eq!(hosts[0]["models"], serde_json::json!([mlp_id]));
	assert_eq!(rpc.call("hosts_list", rpc_params![]).await, hosts);
	assert_eq!(rpc.hosts(id).await, typed::<Vec<HostInfo>>(&hosts));
	assert!(node.stop().success());
}

#[tokio::test]
async fn models_inspect_gives_the_chains_verdict_and_is_unsafe() {
	let mut node = Node::start(&["--dev", "--tmp"]);
	let rpc = node.client().await;
	let cnn = read_fixture("models/cnn.onnx");
	let report = rpc.call("models_inspect", rpc_params![hex(&cnn)]).await;
	assert_eq!(report["verdict"], "accepted", "{report}");
	assert_eq!(report["id"], hex(&sha256(&cnn)));
	assert_eq!(report["analysis"]["cost"]["multiplyAdds"], 526_336);
	assert!(report["callsPerBlock"].as_u64().unwrap() > 1, "{report}");
	let model = rpc.call("models_get", rpc_params![hex(&sha256(&cnn))]).await;
	assert_eq!(report["analysis"], model["analysis"], "inspect analyses as registration did");
	let inspection: Inspection = typed(&report);
	assert_eq!(inspection.verdict, Verdict::Accepted);
	assert_eq!(rpc.client.inspect(&cnn, vec![]).await.unwrap(), inspection);

	let hostile = read_fixture("hostile/random_normal.onnx");
	let report = rpc.call("models_inspect", rpc_params![hex(&hostile)]).await;
	assert_eq!(report["verdict"], "refused");
	assert!(report["reasons"].to_string().contains("RandomNormal"), "{report}");
	assert_eq!(typed::<Inspection>(&report).verdict, Verdict::Refused);
	let report = rpc.call("models_inspect", rpc_params![hex(b"not a model")]).await;
	assert_eq!(report["verdict"], "refused", "{report}");
	assert!(typed::<Inspection>(&report).analysis.is_none(), "{report}");
	assert!(node.stop().success());

	let mut node = Node::start(&["--dev", "--tmp", "--rpc-methods", "safe"]);
	let rpc = node.client().await;
	let (code, message) = rpc_error(&rpc, "models_inspect", rpc_params![hex(&cnn)]).await;
	assert!(message.contains("unsafe"), "{code}: {message}");
	assert!(node.stop().success());
}
