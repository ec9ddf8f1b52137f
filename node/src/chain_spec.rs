//! The chain specs the node knows by name: `dev` and `local`. Both are built from the runtime's
//! genesis presets (see `verinfer_runtime::genesis_config_presets`), so the genesis state is defined
//! once, in the runtime; then the node adds what only it has: the engine blob (15 MB, too large to
//! pass through the runtime's genesis JSON and heap) and the demo models, registered with that
//! engine exactly as a registration on chain would (natively, through the same host function).

use sc_service::{ChainType, Properties};
use sp_keyring::Sr25519Keyring;
use sp_runtime::BuildStorage;
use verinfer_runtime::{
	Runtime, MILLI_UNIT, SS58_PREFIX, TOKEN_DECIMALS, TOKEN_SYMBOL, WASM_BINARY,
};

/// A chain spec of this node: no extensions beyond the standard ones.
pub type ChainSpec = sc_service::GenericChainSpec;

/// What wallets (polkadot.js Apps) need to display balances and addresses.
fn properties() -> Properties {
	let mut properties = Properties::new();
	properties.insert("tokenSymbol".into(), TOKEN_SYMBOL.into());
	properties.insert("tokenDecimals".into(), TOKEN_DECIMALS.into());
	properties.insert("ss58Format".into(), SS58_PREFIX.into());
	properties
}

fn wasm_binary() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| {
		"the runtime Wasm blob is missing: this node was built with SKIP_WASM_BUILD".to_string()
	})
}

/// Where a chain spec's genesis comes from.
enum Genesis<'a> {
	/// The runtime's preset of that name.
	Preset(&'a str),
	/// A JSON patch over the runtime's default genesis.
	Patch(serde_json::Value),
}

/// A chain spec whose genesis is `genesis`, plus the engine blob and the demo models.
fn build(
	name: &str,
	id: &str,
	chain_type: ChainType,
	genesis: Genesis,
) -> Result<ChainSpec, String> {
	let builder = ChainSpec::builder(wasm_binary()?, None)
		.with_name(name)
		.with_id(id)
		// Peers only talk to peers of the same protocol id: dev and local nodes never mix.
		.with_protocol_id(id)
		.with_chain_type(chain_type)
		.with_properties(properties());
	let mut spec = match genesis {
		Genesis::Preset(preset) => builder.with_genesis_config_preset_name(preset),
		Genesis::Patch(patch) => builder.with_genesis_config_patch(patch),
	}
	.build();
	let mut storage = spec.build_storage()?;
	// The engine first: the registry analyses the demo models with it.
	engine_genesis().assimilate_storage(&mut storage)?;
	models_genesis().assimilate_storage(&mut storage)?;
	sc_service::ChainSpec::set_storage(&mut spec, storage);
	Ok(spec)
}

/// The demo models every named chain starts with, owned by Alice: small models of the fixture
/// corpus (`fixtures/models`), so that inference works on a fresh dev chain.
const DEMO_MODELS: &[(&str, &[u8])] = &[
	("demo-mlp", include_bytes!("../../fixtures/models/mlp.onnx")),
	("demo-cnn", include_bytes!("../../fixtures/models/cnn.onnx")),
];

/// The engine blob built into this node.
fn engine_genesis() -> pallet_engine::GenesisConfig<Runtime> {
	let blob = verinfer_executor::ENGINE_BLOB
		.expect("this node was built with the engine blob (not SKIP_WASM_BUILD)")
		.to_vec();
	pallet_engine::GenesisConfig { blob, ..Default::default() }
}

/// The demo models.
fn models_genesis() -> pallet_models::GenesisConfig<Runtime> {
	let models = DEMO_MODELS
		.iter()
		.map(|(name, bytes)| pallet_models::GenesisModel {
			owner: Sr25519Keyring::Alice.to_account_id(),
			bytes: bytes.to_vec(),
			name: name.to_string(),
			version: "1.0.0".into(),
			fee: MILLI_UNIT,
		})
		.collect();
	pallet_models::GenesisConfig { models }
}

/// The single-validator development chain (`--dev`).
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	build(
		"Verinfer Development",
		"verinfer_dev",
		ChainType::Development,
		Genesis::Preset(sp_genesis_builder::DEV_RUNTIME_PRESET),
	)
}

/// The local multi-validator testnet (`--chain local`): Alice, Bob and Charlie validate.
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	build(
		"Verinfer Local Testnet",
		"verinfer_local_testnet",
		ChainType::Local,
		Genesis::Preset(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
	)
}

/// A local testnet of `validators` validators (`--chain local-N`): the first N of `//Alice`,
/// `//Bob`, … `//Ferdie`. Four tolerate one crashed validator: GRANDPA finalizes with more than
/// two thirds of the votes, so three validators finalize only when all three vote.
pub fn local_chain_spec_of(validators: usize) -> Result<ChainSpec, String> {
	use verinfer_runtime::genesis_config_presets::{
		local_testnet_genesis_of, MAX_LOCAL_VALIDATORS,
	};
	let patch = local_testnet_genesis_of(validators).ok_or_else(|| {
		format!("a local testnet has 1 to {MAX_LOCAL_VALIDATORS} validators, not {validators}")
	})?;
	build(
		&format!("Verinfer Local Testnet ({validators} validators)"),
		"verinfer_local_testnet",
		ChainType::Local,
		Genesis::Patch(patch),
	)
}
