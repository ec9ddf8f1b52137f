//! The chain specs the node knows by name: `dev` and `local`. Both are built from the runtime's
//! genesis presets (see `verinfer_runtime::genesis_config_presets`), so the genesis state is defined
//! once, in the runtime.

use sc_service::{ChainType, Properties};
use verinfer_runtime::{SS58_PREFIX, TOKEN_DECIMALS, TOKEN_SYMBOL, WASM_BINARY};

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

/// A chain spec whose genesis is the runtime's preset `preset`.
fn from_preset(
	name: &str,
	id: &str,
	chain_type: ChainType,
	preset: &str,
) -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name(name)
		.with_id(id)
		// Peers only talk to peers of the same protocol id: dev and local nodes never mix.
		.with_protocol_id(id)
		.with_chain_type(chain_type)
		.with_genesis_config_preset_name(preset)
		.with_properties(properties())
		.build())
}

/// The single-validator development chain (`--dev`).
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	from_preset(
		"Verinfer Development",
		"verinfer_dev",
		ChainType::Development,
		sp_genesis_builder::DEV_RUNTIME_PRESET,
	)
}

/// The local multi-validator testnet (`--chain local`): Alice, Bob and Charlie validate.
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	from_preset(
		"Verinfer Local Testnet",
		"verinfer_local_testnet",
		ChainType::Local,
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET,
	)
}
