//! Multi-validator networks on loopback: real `verinfer` validators (Aura + GRANDPA, `--chain
//! local-N`) that must agree on every inference output, through a crash, a node syncing from
//! genesis, a storm of bad input and sustained load. Each test prints its figures
//! (`cargo test --test network -- --nocapture`).
//!
//! `VERINFER_SOAK=1` runs the long versions: 50 rounds of calls before the sync (≥ 50 inference
//! blocks) and 90 s of load, instead of 4 rounds and 30 s.

mod common;

use std::time::{Duration, Instant};

use common::{fixture, hex, read_fixture, verinfer, Network, Rpc};
use sp_core::H256;
use sp_keyring::Sr25519Keyring::{self, Alice, Bob, Charlie, Dave, Eve, Ferdie};
use verinfer_client::api::StoredResult;
use verinfer_executor::{digest::model_id, engine::Engine, local};
use verinfer_formats::json_npy::from_npy;
use verinfer_primitives::tensor::{DType, Tensor};
use verinfer_runtime::{RuntimeCall, RuntimeEvent, MILLI_UNIT};

/// The tests share two cores: one network at a time keeps Aura's 6 s slots on time.
static ONE_NETWORK_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How long a network may take to finalize what a test waits for.
const FINALITY_WAIT: Duration = Duration::from_secs(180);

/// Whether to run the long (soak) versions of the scenarios.
fn soak() -> bool {
	std::env::var_os("VERINFER_SOAK").is_some()
}

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
	rpc.client.finalized().await.unwrap()
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
async fn assert_same_results(rpcs: &[&Rpc], count: u64, at: H256) -> Vec<StoredResult> {
	let mut first = Vec::new();
	for (index, rpc) in rpcs.iter().enumerate() {
		for id in 0..count {
			let result = rpc.result(id, Some(at)).await;
			let result = result.unwrap_or_else(|| panic!("node {index} has no result {id}"));
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
		if rpc.result(count - 1, Some(hash)).await.is_some() {
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
async fn three_validators_agree_on_every_inference_output_and_a_new_node_syncs_to_the_same_state() {
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
	let model = model_id(&read_fixture("models/layernorm.onnx"));
	let registered_at = started.elapsed();

	// K calls from three accounts, each through another validator, over several blocks.
	let rounds = if soak() { 50 } else { 4 };
	let signers = [Charlie, Dave, Eve];
	let input = from_npy(&read_fixture("models/layernorm.input0.npy")).unwrap();
	let engine = Engine::built_in().unwrap();
	let bytes = read_fixture("models/layernorm.onnx");
	let mut expected = Vec::new();
	let mut lags = Vec::new();
	let first_block = rpcs[0].best_number().await + 1;
	for round in 0..rounds {
		for (index, signer) in signers.iter().enumerate() {
			let x = scaled(&input, 1.0 + (round * signers.len() + index) as f32 / 8.0);
			expected.push(hex(&local::run(&engine, &bytes, std::slice::from_ref(&x))
				.unwrap()
				.outputs_hash));
			submit_infer(&rpcs[index], *signer, model, x).await;
		}
		let best = rpcs[0].best_number().await;
		rpcs[0].wait_for_block(best + 1, Duration::from_secs(60)).await;
		lags.push(finality_lag(&rpcs[0]).await);
	}
	let calls = (rounds * signers.len()) as u64;

	// Wait until validator 0 has finalized every call, then until all have finalized that block.
	let (head_number, head) = wait_results_final(&rpcs[0], calls, &mut lags).await;
	wait_finalized(&all, head_number).await;
	assert_eq!(assert_same_chain(&all, head_number).await, head);
	let results = assert_same_results(&all, calls, head).await;

	// And every stored output is what `verinfer model run` computes for its input.
	let mut stored: Vec<String> = results.iter().map(|r| hex(&r.output_hash.0)).collect();
	stored.sort();
	expected.sort();
	assert_eq!(stored, expected);
	let blocks: std::collections::BTreeSet<u32> = results.iter().map(|r| r.at).collect();
	assert!(blocks.len() > 1, "the calls went into one block: {blocks:?}");
	println!(
		"agreement: 3 validators, {calls} inferences in {} blocks #{}..#{} (first submitted for \
		 #{first_block}); identical hashes #1..#{head_number}, state root and results on every \
		 node; finality lag (best - finalized) max {} mean {:.1} blocks; registration {:.0} s, \
		 total {:.0} s",
		blocks.len(),
		blocks.first().unwrap(),
		blocks.last().unwrap(),
		lags.iter().max().unwrap(),
		lags.iter().sum::<u32>() as f64 / lags.len() as f64,
		registered_at.as_secs_f64(),
		started.elapsed().as_secs_f64()
	);

	// A node that is not a validator joins with an empty database: it imports every block,
	// re-executing every inference, and reaches the same state.
	let joined = Instant::now();
	let full = network.join_full_node();
	let full_rpc = full.client().await;
	let (rpc_up, had) = (Instant::now(), full_rpc.best_number().await);
	full_rpc.wait_for_block(head_number, FINALITY_WAIT).await;
	let imported = rpc_up.elapsed();
	wait_finalized(&[&full_rpc], head_number).await;
	let synced = joined.elapsed();
	let all: Vec<&Rpc> = rpcs.iter().chain([&full_rpc]).collect();
	assert_eq!(assert_same_chain(&all, head_number).await, head);
	assert_same_results(&all, calls, head).await;
	println!(
		"sync from genesis: a new full node imported #1..#{head_number} ({calls} inferences), \
		 finalized and agrees {:.1} s after it started ({:.1} inferences/s with start-up); it \
		 had #{had} when its RPC opened and imported the remaining {} blocks in {:.2} s",
		synced.as_secs_f64(),
		calls as f64 / synced.as_secs_f64(),
		head_number - had.min(head_number),
		imported.as_secs_f64()
	);
}

#[tokio::test]
async fn a_crashed_validator_does_not_stop_four_and_agrees_after_restart() {
	let _one = ONE_NETWORK_AT_A_TIME.lock().await;
	let mut network = Network::start(4);
	let rpc0 = network.node(0).client().await;
	let mlp = model_id(&read_fixture("models/mlp.onnx"));
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

/// The pallet error a failed extrinsic's events name, or `None` when it succeeded.
fn dispatch_error(events: &[RuntimeEvent]) -> Option<String> {
	events.iter().find_map(|event| match event {
		RuntimeEvent::System(frame_system::Event::ExtrinsicFailed { dispatch_error, .. }) => {
			Some(verinfer_runtime::describe_error(*dispatch_error))
		},
		_ => None,
	})
}

/// Submits `call` signed by `signer` through `rpc` and waits for its final block; the events.
async fn watch(rpc: &Rpc, signer: Sr25519Keyring, call: RuntimeCall) -> Vec<RuntimeEvent> {
	rpc.client.submit_and_watch(&signer.pair(), call, FINALITY_WAIT).await.unwrap().events
}

#[tokio::test]
async fn bad_input_from_many_accounts_and_sustained_load_lose_nothing_and_stop_nobody() {
	let _one = ONE_NETWORK_AT_A_TIME.lock().await;
	let network = Network::start(3);
	let mut rpcs = Vec::new();
	for index in 0..3 {
		rpcs.push(network.node(index).client().await);
	}
	let all: Vec<&Rpc> = rpcs.iter().collect();
	let mlp = model_id(&read_fixture("models/mlp.onnx"));
	let input = from_npy(&read_fixture("models/mlp.input0.npy")).unwrap();
	wait_finalized(&all, 1).await;
	let requests_before = rpcs[0].next_request_id().await;

	// The storm: every kind of bad input, from five accounts through three validators, while
	// Charlie's valid calls go in beside it.
	let garbage = || {
		RuntimeCall::Models(pallet_models::Call::register {
			metadata: metadata("garbage"),
			fee: 0,
			declared: Default::default(),
			headroom_percent: pallet_models::DEFAULT_HEADROOM_PERCENT,
			bytes: b"not an ONNX model at all".to_vec().try_into().unwrap(),
		})
	};
	let hostile = || {
		RuntimeCall::Models(pallet_models::Call::register {
			metadata: metadata("random"),
			fee: 0,
			declared: Default::default(),
			headroom_percent: pallet_models::DEFAULT_HEADROOM_PERCENT,
			bytes: read_fixture("hostile/random_normal.onnx").try_into().unwrap(),
		})
	};
	let storm_started = Instant::now();
	let valid = async {
		for round in 0..6 {
			submit_infer(&rpcs[0], Charlie, mlp, scaled(&input, 1.0 + round as f32)).await;
		}
	};
	let refused_models = async {
		let garbage = watch(&rpcs[1], Dave, garbage()).await;
		let hostile = watch(&rpcs[1], Dave, hostile()).await;
		(garbage, hostile)
	};
	let truncated = async {
		// Two chunks announced, one sent, then finalize.
		let id = H256([0x7a; 32]);
		let begin = RuntimeCall::Models(pallet_models::Call::begin_upload {
			id,
			size: (1 << 20) + 10,
			metadata: metadata("truncated"),
			fee: 0,
			declared: Default::default(),
			headroom_percent: pallet_models::DEFAULT_HEADROOM_PERCENT,
		});
		assert_eq!(dispatch_error(&watch(&rpcs[2], Eve, begin).await), None);
		let chunk = RuntimeCall::Models(pallet_models::Call::upload_chunk {
			id,
			index: 0,
			bytes: vec![0u8; 1 << 20].try_into().unwrap(),
		});
		assert_eq!(dispatch_error(&watch(&rpcs[2], Eve, chunk).await), None);
		let finalize = RuntimeCall::Models(pallet_models::Call::finalize { id });
		dispatch_error(&watch(&rpcs[2], Eve, finalize).await)
	};
	let bad_calls = async {
		let wrong_shape = Tensor::new(DType::F32, vec![1, 5], vec![0; 20]).unwrap();
		let call = |model, x: Tensor| {
			RuntimeCall::Inference(pallet_inference::Call::infer {
				model,
				inputs: vec![x],
				max_fee: MILLI_UNIT,
			})
		};
		let shape = dispatch_error(&watch(&rpcs[0], Ferdie, call(mlp, wrong_shape)).await);
		let unknown =
			dispatch_error(&watch(&rpcs[0], Ferdie, call(H256([9; 32]), input.clone())).await);
		(shape, unknown)
	};
	let oversized = async {
		// 6 MiB: more than a whole block may hold (5 MiB).
		let remark = RuntimeCall::System(frame_system::Call::remark { remark: vec![1; 6 << 20] });
		let xt = rpcs[1].client.sign(&Bob.pair(), remark).await.unwrap();
		rpcs[1].client.submit_extrinsic(&xt).await.expect_err("a 6 MiB extrinsic is refused")
	};
	let (_, (garbage, hostile), truncated, (shape, unknown), oversized) =
		tokio::join!(valid, refused_models, truncated, bad_calls, oversized);

	let refusal = |events: &[RuntimeEvent]| {
		events.iter().find_map(|event| match event {
			RuntimeEvent::Models(pallet_models::Event::ModelRefused { reason, .. }) => {
				Some(String::from_utf8_lossy(reason).into_owned())
			},
			_ => None,
		})
	};
	let garbage = refusal(&garbage).expect("the garbage model is refused");
	let hostile = refusal(&hostile).expect("the hostile model is refused");
	assert!(hostile.contains("RandomNormal"), "{hostile}");
	assert_eq!(truncated.as_deref(), Some("Models(UploadIncomplete)"));
	assert_eq!(shape.as_deref(), Some("Inference(InputShapeMismatch) of input 0"));
	assert_eq!(unknown.as_deref(), Some("Inference(ModelNotFound)"));
	assert!(oversized.to_string().contains("Invalid Transaction"), "{oversized}");

	// Charlie's six calls are all in, and every validator still finalizes, in agreement.
	let (head_number, head) =
		wait_results_final(&rpcs[0], requests_before + 6, &mut Vec::new()).await;
	wait_finalized(&all, head_number + 2).await;
	assert_same_chain(&all, head_number).await;
	assert_same_results(&all, requests_before + 6, head).await;
	println!(
		"bad input storm: garbage model refused ({garbage}), hostile model refused, truncated \
		 upload UploadIncomplete, wrong shape InputShapeMismatch, unknown model ModelNotFound, \
		 6 MiB extrinsic refused by the pool ({oversized}); the 6 valid calls beside them all \
		 included; 3 validators agree at #{head_number}, {:.0} s",
		storm_started.elapsed().as_secs_f64()
	);

	// Load: four accounts keep the validators' pools fed, each with up to OUTSTANDING calls
	// waiting, so that every block is as full as the chain allows, for a while.
	const OUTSTANDING: u64 = 40;
	let duration = Duration::from_secs(if soak() { 90 } else { 30 });
	let senders = [Alice, Bob, Dave, Eve];
	let nonces_before = {
		let mut nonces = Vec::new();
		for sender in senders {
			nonces.push(rpcs[0].account(&sender.to_account_id(), None).await.nonce);
		}
		nonces
	};
	let requests_before = rpcs[0].next_request_id().await;
	let first_block = rpcs[0].best_number().await + 1;
	let load_started = Instant::now();
	let mut lags = Vec::new();
	let submitters = senders.iter().enumerate().map(|(index, sender)| {
		let rpc = &rpcs[index % 3];
		let (input, nonce_before) = (&input, nonces_before[index]);
		async move {
			let (mut accepted, mut rejected) = (0u64, 0u64);
			let mut round = 0u32;
			while load_started.elapsed() < duration {
				let nonce = rpc.account(&sender.to_account_id(), None).await.nonce;
				if accepted - (nonce - nonce_before) as u64 >= OUTSTANDING {
					tokio::time::sleep(Duration::from_millis(300)).await;
					continue;
				}
				let call = RuntimeCall::Inference(pallet_inference::Call::infer {
					model: mlp,
					inputs: vec![scaled(input, 1.0 + round as f32 / 64.0)],
					max_fee: MILLI_UNIT,
				});
				round += 1;
				match rpc.client.submit_only(&sender.pair(), call).await {
					Ok(_) => accepted += 1,
					Err(_) => {
						rejected += 1;
						tokio::time::sleep(Duration::from_millis(200)).await;
					},
				}
			}
			(accepted, rejected)
		}
	});
	let sampler = async {
		while load_started.elapsed() < duration {
			lags.push(finality_lag(&rpcs[0]).await);
			tokio::time::sleep(Duration::from_secs(1)).await;
		}
	};
	let (counts, ()) = tokio::join!(futures::future::join_all(submitters), sampler);
	let accepted: u64 = counts.iter().map(|(a, _)| a).sum();
	let rejected: u64 = counts.iter().map(|(_, r)| r).sum();

	// Every accepted call runs exactly once: one result each, and each sender's nonce moved by
	// exactly its accepted calls.
	let (head_number, head) =
		wait_results_final(&rpcs[0], requests_before + accepted, &mut lags).await;
	let extra = rpcs[0].result(requests_before + accepted, Some(head)).await;
	assert!(extra.is_none(), "more results than accepted calls");
	for ((sender, (sent, _)), before) in senders.iter().zip(&counts).zip(&nonces_before) {
		let nonce = rpcs[0].account(&sender.to_account_id(), Some(head)).await.nonce;
		assert_eq!((nonce - before) as u64, *sent, "{sender:?}'s transactions");
	}
	wait_finalized(&all, head_number).await;
	assert_same_chain(&all, head_number).await;
	let mut per_block = std::collections::BTreeMap::<u32, u32>::new();
	for id in requests_before..requests_before + accepted {
		let result = rpcs[0].result(id, Some(head)).await.expect("a result per accepted call");
		*per_block.entry(result.at).or_default() += 1;
	}
	let blocks = head_number - first_block + 1;
	println!(
		"load: {:.0} s, 4 accounts through 3 validators, {OUTSTANDING} calls waiting each: \
		 {accepted} calls accepted, {rejected} refused by the pool, all {accepted} run exactly once by #{head_number}; inferences per \
		 block: mean {:.1} over {blocks} blocks, max {}; finality lag max {} mean {:.1} blocks",
		duration.as_secs_f64(),
		accepted as f64 / blocks as f64,
		per_block.values().max().unwrap_or(&0),
		lags.iter().max().unwrap(),
		lags.iter().sum::<u32>() as f64 / lags.len() as f64
	);
}

fn metadata(name: &str) -> pallet_models::ModelMetadata {
	pallet_models::ModelMetadata {
		name: name.as_bytes().to_vec().try_into().unwrap(),
		version: b"1.0.0".to_vec().try_into().unwrap(),
		description: Default::default(),
	}
}
