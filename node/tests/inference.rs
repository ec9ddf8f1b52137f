//! In-block inference on a real dev node, driven over JSON-RPC with signed extrinsics: a model too
//! large for one extrinsic is uploaded in chunks, called, and the output stored on chain is the
//! output `verinfer model run` prints for the same file and input, byte for byte.

mod common;

use std::{process::Command, time::Duration};

use codec::{Decode, Encode};
use common::{hex, unhex, Node, Rpc};
use sp_keyring::Sr25519Keyring::{self, Alice, Bob};
use verinfer_executor::digest::model_id;
use verinfer_formats::json_npy::from_npy;
use verinfer_primitives::tensor::{DType, Tensor};
use verinfer_runtime::{Runtime, RuntimeCall, RuntimeEvent, MILLI_UNIT};

const BLOCK_WAIT: Duration = Duration::from_secs(120);
/// The runtime's chunk size.
const CHUNK: usize = 1 << 20;

type Result = pallet_inference::ResultOf<Runtime>;

/// Signs and submits `call`; returns the events of its extrinsic once included.
async fn submit(rpc: &Rpc, signer: Sr25519Keyring, call: RuntimeCall) -> Vec<RuntimeEvent> {
	rpc.submit_and_wait(signer, call, BLOCK_WAIT).await
}

fn succeeded(events: &[RuntimeEvent]) -> bool {
	events.iter().any(|event| {
		matches!(event, RuntimeEvent::System(frame_system::Event::ExtrinsicSuccess { .. }))
	})
}

/// A deterministic f32 input of `len` elements.
fn input(len: u32) -> Tensor {
	let data = (0..len).flat_map(|i| ((i % 17) as f32 * 0.25 - 2.0).to_le_bytes()).collect();
	Tensor::new(DType::F32, vec![1, len], data).unwrap()
}

/// Runs `verinfer model run FILE --input INPUT --out OUT` and reads OUT back.
fn model_run(model: &std::path::Path, input: &std::path::Path) -> (Tensor, String) {
	let out = model.with_extension("out.npy");
	let output = Command::new(env!("CARGO_BIN_EXE_verinfer"))
		.args(["model", "run"])
		.arg(model)
		.arg("--input")
		.arg(input)
		.arg("--out")
		.arg(&out)
		.output()
		.expect("run verinfer");
	let stdout = String::from_utf8(output.stdout).unwrap();
	assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
	(from_npy(&std::fs::read(out).unwrap()).unwrap(), stdout)
}

#[tokio::test]
async fn a_model_uploaded_in_chunks_runs_in_a_block_and_stores_what_model_run_prints() {
	// 1,024 × 640 f32 weights: 2.6 MB, three chunks.
	let (k, n) = (1024, 640);
	let bytes = verinfer_synthetic::matmul(k, n, 1);
	assert!(bytes.len() > 2 * CHUNK, "{} bytes", bytes.len());
	let id = model_id(&bytes);
	let dir = std::env::temp_dir().join(format!("verinfer-inference-{}", std::process::id()));
	std::fs::create_dir_all(&dir).unwrap();
	let (model_file, input_file) = (dir.join("matmul.onnx"), dir.join("x.npy"));
	std::fs::write(&model_file, &bytes).unwrap();
	let x = input(k);
	verinfer_formats::write_tensor(&input_file, &x).unwrap();
	let (expected, stdout) = model_run(&model_file, &input_file);

	let mut node = Node::start(&["--dev", "--tmp"]);
	let rpc = node.client().await;
	rpc.wait_for_block(1, BLOCK_WAIT).await;

	let metadata = pallet_models::ModelMetadata {
		name: b"matmul-1024x640".to_vec().try_into().unwrap(),
		version: b"1.0.0".to_vec().try_into().unwrap(),
		description: Default::default(),
	};
	let fee = 3 * MILLI_UNIT;
	let begin = RuntimeCall::Models(pallet_models::Call::begin_upload {
		id,
		size: bytes.len() as u32,
		metadata,
		fee,
		declared: Default::default(),
		headroom_percent: pallet_models::DEFAULT_HEADROOM_PERCENT,
	});
	assert!(succeeded(&submit(&rpc, Bob, begin).await));
	for (index, chunk) in bytes.chunks(CHUNK).enumerate() {
		let call = RuntimeCall::Models(pallet_models::Call::upload_chunk {
			id,
			index: index as u32,
			bytes: chunk.to_vec().try_into().unwrap(),
		});
		assert!(succeeded(&submit(&rpc, Bob, call).await), "chunk {index}");
	}
	let events = submit(&rpc, Bob, RuntimeCall::Models(pallet_models::Call::finalize { id })).await;
	assert!(
		events.iter().any(|event| matches!(event,
			RuntimeEvent::Models(pallet_models::Event::ModelRegistered { id: registered, .. })
				if *registered == id)),
		"{events:?}"
	);

	// A dry run over the runtime API gives the same bytes without a transaction.
	let dry = rpc
		.call(
			"state_call",
			jsonrpsee::rpc_params!["InferenceApi_dry_run", hex(&(id, vec![x.clone()]).encode())],
		)
		.await;
	let dry = <core::result::Result<
		pallet_inference::DryRun<verinfer_runtime::Balance>,
		pallet_inference::DryRunError,
	>>::decode(&mut &unhex(dry.as_str().unwrap())[..])
	.unwrap()
	.expect("the dry run succeeds");
	assert_eq!(dry.outputs, vec![expected.clone()]);

	let owner_before = rpc.account(&Bob.to_account_id(), None).await.data.free;
	let infer = RuntimeCall::Inference(pallet_inference::Call::infer {
		model: id,
		inputs: vec![x],
		max_fee: fee,
	});
	let events = submit(&rpc, Alice, infer).await;
	let (request_id, output_hash) = events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::Inference(pallet_inference::Event::InferenceCompleted {
				request_id,
				model,
				caller,
				fee: paid,
				output_hash,
				..
			}) => {
				assert_eq!((*model, caller, *paid), (id, &Alice.to_account_id(), fee));
				Some((*request_id, *output_hash))
			},
			_ => None,
		})
		.unwrap_or_else(|| panic!("no InferenceCompleted: {events:?}"));

	let key = pallet_inference::Results::<Runtime>::hashed_key_for(request_id);
	let stored = Result::decode(&mut &rpc.storage(&key, None).await.unwrap()[..]).unwrap();
	assert_eq!(stored.outputs, vec![expected.clone()], "the chain's output is model run's");
	assert_eq!(stored.output_hash, output_hash);
	assert!(stdout.contains(&format!("outputs sha256 {}", hex(&output_hash.0))), "{stdout}");
	// No host serves it: the owner receives the whole fee.
	let owner_after = rpc.account(&Bob.to_account_id(), None).await.data.free;
	assert_eq!(owner_after, owner_before + fee);

	std::fs::remove_dir_all(dir).unwrap();
	assert!(node.stop().success());
}

#[tokio::test]
async fn a_call_with_inputs_that_do_not_fit_the_model_fails_and_stores_nothing() {
	let mut node = Node::start(&["--dev", "--tmp"]);
	let rpc = node.client().await;
	rpc.wait_for_block(1, BLOCK_WAIT).await;

	// The demo MLP takes f32 [1, 4].
	let mlp = verinfer_fixtures::read("models", "mlp.onnx");
	let before = rpc.account(&Alice.to_account_id(), None).await.data.free;
	let infer = RuntimeCall::Inference(pallet_inference::Call::infer {
		model: model_id(&mlp),
		inputs: vec![input(5)],
		max_fee: MILLI_UNIT,
	});
	let events = submit(&rpc, Alice, infer).await;
	let failed = events.iter().find_map(|event| match event {
		RuntimeEvent::System(frame_system::Event::ExtrinsicFailed { dispatch_error, .. }) => {
			Some(*dispatch_error)
		},
		_ => None,
	});
	let expected: sp_runtime::DispatchError =
		pallet_inference::Error::<Runtime>::InputShapeMismatch { index: 0 }.into();
	let sp_runtime::DispatchError::Module(expected) = expected else { unreachable!() };
	match failed {
		Some(sp_runtime::DispatchError::Module(error)) => {
			assert_eq!((error.index, error.error), (expected.index, expected.error))
		},
		other => panic!("expected InputShapeMismatch, got {other:?}"),
	}
	let key = pallet_inference::NextRequestId::<Runtime>::hashed_key();
	assert_eq!(rpc.storage(&key, None).await, None, "no result was stored");
	// Only the transaction fee was paid, not the model's.
	let transaction_fee = events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::TransactionPayment(
				pallet_transaction_payment::Event::TransactionFeePaid { actual_fee, .. },
			) => Some(*actual_fee),
			_ => None,
		})
		.expect("a transaction fee");
	let after = rpc.account(&Alice.to_account_id(), None).await.data.free;
	assert_eq!(before - after, transaction_fee);
	assert!(node.stop().success());
}
