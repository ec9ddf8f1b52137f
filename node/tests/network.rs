//! Multi-validator networks on loopback: real `verinfer` validators (Aura + GRANDPA, `--chain
//! local-N`) that must agree on every inference output, through a crash. Each test prints its
//! figures (`cargo test --test network -- --nocapture`).

mod common;

use std::time::{Duration, Instant};

use common::{fixture, hex, read_fixture, verinfer, Network, Rpc};
use serde_json::Value;
use sp_core::H256;
use sp_keyring::Sr25519Keyring::{self, Charlie, Dave, Eve};
use verinfer_precompile::{
	cache::sha256,
	host::Engine,
	tensor::{DType, Tensor},
	tensor_io::from_npy,
	tool, ENGINE_BLOB,
};
use verinfer_runtime::{RuntimeCall, MILLI_UNIT};

/// The tests share two cores: one network at a time keeps Aura's 6 s slots on time.
static ONE_NETWORK_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How long a network may take to finalize what a test waits for.
const FINALITY_WAIT: Duration = Duration::from_secs(180);

/// `input` with every f32 scaled by `factor`: a different call of the same model.
fn scaled(input: &Tensor, factor: f32) -> Tensor {
	assert_eq!(input.dtype, DType::F32);
	let data = input
		.data
		.chunks_exact(4)
		.flat_map(|v| (f32::from_le_bytes(v.try_into().unwrap()) * factor).to_le_bytes())
		.collect();
	Tensor::new(DType::F32, input.shape.clone(), data).unwrap()
}

async fn finalized(rpc: &Rpc) -> (u32, H256) {
	let hash = rpc.client.hash("chain_getFinalizedHead", jsonrpsee::rpc_params![]).await.unwrap();
	(rpc.client.number(Some(hash)).await.unwrap(), hash)
}

/// Waits until every node has finalized block `number`.
async fn wait_finalized(rpcs: &[&Rpc], number: u32) {
	let deadline = Instant::now() + FINALITY_WAIT;
	for rpc in rpcs {
		while finalized(rpc).await.0 < number {
			assert!(Instant::now() < deadline, "block #{number} was not finalized in time");
			tokio::time::sleep(Duration::from_millis(200)).await;
		}
	}
}

/// Every node has the same blocks up to `number` and the same state root at `number`; returns
/// that block's hash.
async fn assert_same_chain(rpcs: &[&Rpc], number: u32) -> H256 {
	let mut hashes = Vec::new();
	for rpc in rpcs {
		let mut chain = Vec::new();
		for n in 1..=number {
			chain.push(rpc.block_hash(n).await);
		}
		hashes.push(chain);
	}
	assert!(hashes.iter().all(|chain| chain == &hashes[0]), "the nodes' chains differ");
	let head = hashes[0][number as usize - 1];
	let mut roots = Vec::new();
	for rpc in rpcs {
		roots.push(
			rpc.call("chain_getHeader", jsonrpsee::rpc_params![head]).await["stateRoot"].clone(),
		);
	}
	assert!(roots.iter().all(|root| root == &roots[0]), "state roots differ: {roots:?}");
	head
}

/// The stored results `0..count` at `at`, as each node returns them; all equal.
async fn assert_same_results(rpcs: &[&Rpc], count: u64, at: H256) -> Vec<Value> {
	let mut first = Vec::new();
	for (index, rpc) in rpcs.iter().enumerate() {
		for id in 0..count {
			let result = rpc.call("inference_result", jsonrpsee::rpc_params![id, at]).await;
			assert!(!result.is_null(), "node {index} has no result {id}");
			if index == 0 {
				first.push(result);
			} else {
				assert_eq!(result, first[id as usize], "node {index} stores another result {id}");
			}
		}
	}
	first
}

/// Submits `inference.infer` of `model` on `input` signed by `signer`, through `rpc`.
async fn submit_infer(rpc: &Rpc, signer: Sr25519Keyring, model: H256, input: Tensor) {
	let call = RuntimeCall::Inference(pallet_inference::Call::infer {
		model,
		inputs: vec![input],
		max_fee: MILLI_UNIT,
	});
	rpc.client.submit_only(&signer.pair(), call).await.unwrap();
}

/// Waits until `rpc`'s finalized block holds results `0..count`; returns that block, and samples
/// the finality lag meanwhile into `lags`.
async fn wait_results_final(rpc: &Rpc, count: u64, lags: &mut Vec<u32>) -> (u32, H256) {
	let deadline = Instant::now() + FINALITY_WAIT;
	loop {
		let (number, hash) = finalized(rpc).await;
		let last = rpc.call("inference_result", jsonrpsee::rpc_params![count - 1, hash]).await;
		if !last.is_null() {
			return (number, hash);
		}
		assert!(Instant::now() < deadline, "the calls were not all finalized in time");
		lags.push(finality_lag(rpc).await);
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}

/// Best minus finalized on `rpc`, sampled.
async fn finality_lag(rpc: &Rpc) -> u32 {
	rpc.best_number().await - finalized(rpc).await.0
}

#[tokio::test]
async fn three_validators_agree_on_every_inference_output_block_and_state_root() {
	let _one = ONE_NETWORK_AT_A_TIME.lock().await;
	let started = Instant::now();
	let network = Network::start(3);
	let mut rpcs = Vec::new();
	for index in 0..3 {
		rpcs.push(network.node(index).client().await);
	}
	let all: Vec<&Rpc> = rpcs.iter().collect();

	// A model owner registers a model through validator 0 (the CLI waits for finality).
	let file = fixture("models/layernorm.onnx");
	let url = network.node(0).rpc_url.clone();
	let (code, stdout, stderr) = verinfer(&[
		"model",
		"register",
		&file,
		"--name",
		"ln",
		"--fee",
		"0.001VINF",
		"--suri",
		"//Bob",
		"--url",
		&url,
	]);
	assert_eq!(code, 0, "{stdout}{stderr}");
	let model = H256(sha256(&read_fixture("models/layernorm.onnx")));
	let registered_at = started.elapsed();

	// K calls from three accounts, each through another validator, over several blocks.
	const ROUNDS: usize = 4;
	let signers = [Charlie, Dave, Eve];
	let input = from_npy(&read_fixture("models/layernorm.input0.npy")).unwrap();
	let engine = Engine::new(ENGINE_BLOB.unwrap()).unwrap();
	let bytes = read_fixture("models/layernorm.onnx");
	let mut expected = Vec::new();
	let mut lags = Vec::new();
	let first_block = rpcs[0].best_number().await + 1;
	for round in 0..ROUNDS {
		for (index, signer) in signers.iter().enumerate() {
			let x = scaled(&input, 1.0 + (round * signers.len() + index) as f32 / 8.0);
			expected.push(hex(&tool::run(&engine, &bytes, std::slice::from_ref(&x))
				.unwrap()
				.outputs_hash));
			submit_infer(&rpcs[index], *signer, model, x).await;
		}
		let best = rpcs[0].best_number().await;
		rpcs[0].wait_for_block(best + 1, Duration::from_secs(60)).await;
		lags.push(finality_lag(&rpcs[0]).await);
	}
	let calls = (ROUNDS * signers.len()) as u64;

	// Wait until validator 0 has finalized every call, then until all have finalized that block.
	let (head_number, head) = wait_results_final(&rpcs[0], calls, &mut lags).await;
	wait_finalized(&all, head_number).await;
	assert_eq!(assert_same_chain(&all, head_number).await, head);
	let results = assert_same_results(&all, calls, head).await;

	// And every stored output is what `verinfer model run` computes for its input.
	let mut stored: Vec<String> =
		results.iter().map(|r| r["outputHash"].as_str().unwrap().to_string()).collect();
	stored.sort();
	expected.sort();
	assert_eq!(stored, expected);
	let blocks: std::collections::BTreeSet<u64> =
		results.iter().map(|r| r["at"].as_u64().unwrap()).collect();
	assert!(blocks.len() > 1, "the calls went into one block: {blocks:?}");
	println!(
		"agreement: 3 validators, {calls} inferences in blocks {blocks:?} (first submitted for \
		 #{first_block}); identical hashes #1..#{head_number}, state root and results on every \
		 node; finality lag (best - finalized) max {} mean {:.1} blocks; registration {:.0} s, \
		 total {:.0} s",
		lags.iter().max().unwrap(),
		lags.iter().sum::<u32>() as f64 / lags.len() as f64,
		registered_at.as_secs_f64(),
		started.elapsed().as_secs_f64()
	);
}

#[tokio::test]
async fn a_crashed_validator_does_not_stop_four_and_agrees_after_restart() {
	let _one = ONE_NETWORK_AT_A_TIME.lock().await;
	let mut network = Network::start(4);
	let rpc0 = network.node(0).client().await;
	let mlp = H256(sha256(&read_fixture("models/mlp.onnx")));
	let input = from_npy(&read_fixture("models/mlp.input0.npy")).unwrap();
	wait_finalized(&[&rpc0], 2).await;
	submit_infer(&rpc0, Charlie, mlp, scaled(&input, 1.0)).await;

	// Dave's validator crashes: the other three are more than two thirds of GRANDPA's votes.
	let (crashed_at, _) = finalized(&rpc0).await;
	network.kill(3);
	let down = Instant::now();
	for round in 0..3 {
		submit_infer(&rpc0, Charlie, mlp, scaled(&input, 2.0 + round as f32)).await;
		let best = rpc0.best_number().await;
		rpc0.wait_for_block(best + 1, Duration::from_secs(60)).await;
	}
	wait_finalized(&[&rpc0], crashed_at + 4).await;
	let (finalized_while_down, _) = wait_results_final(&rpc0, 4, &mut Vec::new()).await;
	let produced_while_down = rpc0.best_number().await - crashed_at;

	// It restarts on its database, catches up and agrees.
	network.restart(3);
	let restarted = Instant::now();
	let rpc3 = network.node(3).client().await;
	let (target, _) = finalized(&rpc0).await;
	wait_finalized(&[&rpc3], target).await;
	let catch_up = restarted.elapsed();
	let rpc1 = network.node(1).client().await;
	let rpc2 = network.node(2).client().await;
	let all = [&rpc0, &rpc1, &rpc2, &rpc3];
	wait_finalized(&all, target).await;
	let head = assert_same_chain(&all, target).await;
	assert_same_results(&all, 4, head).await;
	println!(
		"crash fault: 4 validators, one killed at finalized #{crashed_at}; while it was down \
		 ({:.0} s) the chain grew {produced_while_down} blocks and finalized up to \
		 #{finalized_while_down}; restarted, it finalized #{target} in {:.1} s and agrees on \
		 hashes, state root and 4 results",
		restarted.duration_since(down).as_secs_f64(),
		catch_up.as_secs_f64()
	);
}
