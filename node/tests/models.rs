//! The model registry on a real dev node: what genesis holds, and a registration submitted as a
//! signed extrinsic over JSON-RPC, checked in state and events.

mod common;

use std::time::Duration;

use codec::Decode;
use common::{read_fixture, Node};
use sp_core::H256;
use sp_keyring::Sr25519Keyring::{Alice, Bob};
use verinfer_executor::{
	digest::{model_id, sha256},
	ENGINE_BLOB,
};
use verinfer_primitives::analysis::Analysis;
use verinfer_runtime::{Runtime, RuntimeCall, RuntimeEvent, MILLI_UNIT};

const BLOCK_WAIT: Duration = Duration::from_secs(60);

type Model = pallet_models::ModelOf<Runtime>;

async fn model(rpc: &common::Rpc, id: H256) -> Option<Model> {
	let key = pallet_models::Models::<Runtime>::hashed_key_for(id);
	rpc.storage(&key, None).await.map(|bytes| Decode::decode(&mut &bytes[..]).expect("Model"))
}

#[tokio::test]
async fn the_dev_chain_starts_with_the_engine_blob_and_the_demo_models_active() {
	let mut node = Node::start(&["--dev", "--tmp"]);
	let rpc = node.client().await;

	let key = pallet_engine::Engine::<Runtime>::hashed_key();
	let engine =
		pallet_engine::EngineInfo::decode(&mut &rpc.storage(&key, None).await.unwrap()[..])
			.unwrap();
	let blob = ENGINE_BLOB.unwrap();
	assert_eq!((engine.sha256.0, engine.size as usize), (sha256(blob), blob.len()));

	for (file, name) in [("models/mlp.onnx", "demo-mlp"), ("models/cnn.onnx", "demo-cnn")] {
		let id = model_id(&read_fixture(file));
		let model = model(&rpc, id).await.unwrap_or_else(|| panic!("{name} is registered"));
		assert_eq!(model.status, pallet_models::ModelStatus::Active);
		assert_eq!((model.owner, model.fee), (Alice.to_account_id(), MILLI_UNIT));
		assert_eq!(model.metadata.name.to_vec(), name.as_bytes());
		let key = pallet_models::Analyses::<Runtime>::hashed_key_for(id);
		let analysis = Analysis::decode(&mut &rpc.storage(&key, None).await.unwrap()[..]).unwrap();
		assert!(analysis.is_accepted());
	}
	assert!(node.stop().success());
}

#[tokio::test]
async fn a_model_registered_by_a_signed_extrinsic_becomes_active_and_holds_the_deposit() {
	let mut node = Node::start(&["--dev", "--tmp"]);
	let rpc = node.client().await;
	rpc.wait_for_block(1, BLOCK_WAIT).await;

	let bytes = read_fixture("models/layernorm.onnx");
	let id = model_id(&bytes);
	let metadata = pallet_models::ModelMetadata {
		name: b"layernorm".to_vec().try_into().unwrap(),
		version: b"0.3.1".to_vec().try_into().unwrap(),
		description: b"LayerNormalization over [2, 8, 16]".to_vec().try_into().unwrap(),
	};
	let call = RuntimeCall::Models(pallet_models::Call::register {
		metadata,
		fee: 5 * MILLI_UNIT,
		declared: Default::default(),
		headroom_percent: pallet_models::DEFAULT_HEADROOM_PERCENT,
		bytes: bytes.clone().try_into().unwrap(),
	});
	let before = rpc.account(&Bob.to_account_id(), None).await;
	let xt = rpc.sign(Bob, call).await;
	let submitted_at = rpc.best_number().await;
	let tx_hash = rpc.submit(&xt).await;
	let (block, index) = rpc.wait_for_inclusion(tx_hash, submitted_at + 1, BLOCK_WAIT).await;

	let events = rpc.events(block).await;
	let registered = events.iter().any(|record| {
		record.phase == frame_system::Phase::ApplyExtrinsic(index)
			&& matches!(&record.event, RuntimeEvent::Models(pallet_models::Event::ModelRegistered {
				id: registered, owner, fee, ..
			}) if *registered == id && *owner == Bob.to_account_id() && *fee == 5 * MILLI_UNIT)
	});
	assert!(registered, "{events:?}");

	let model = model(&rpc, id).await.expect("registered");
	assert_eq!(model.status, pallet_models::ModelStatus::Active);
	let deposit = pallet_models::Pallet::<Runtime>::deposit_for(bytes.len() as u32);
	assert_eq!(model.deposit, deposit);
	let after = rpc.account(&Bob.to_account_id(), Some(block)).await;
	assert_eq!(after.data.reserved, before.data.reserved + deposit);
	assert!(node.stop().success());
}
