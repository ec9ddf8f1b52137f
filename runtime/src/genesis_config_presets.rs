//! Genesis presets: the `development` chain (one validator, Alice, sealing on its own) and the
//! `local_testnet` chain (Alice, Bob and Charlie validating with Aura + GRANDPA).
//!
//! Both endow the well-known development accounts so that a newcomer can sign transactions with
//! `//Alice` … `//Ferdie` at once.

use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

use crate::{AccountId, BalancesConfig, RuntimeGenesisConfig, SudoConfig, UNIT};

/// Free balance given to each endowed development account: plenty for fees, deposits and stakes.
pub const ENDOWMENT: crate::Balance = 1_000_000 * UNIT;

/// The validators of a preset: an Aura key and a GRANDPA key each.
fn authorities(names: &[(Sr25519Keyring, Ed25519Keyring)]) -> Vec<(AuraId, GrandpaId)> {
	names.iter().map(|(aura, grandpa)| (aura.public().into(), grandpa.public().into())).collect()
}

/// The genesis state shared by the presets, as a JSON patch over the default genesis config.
fn genesis(
	initial_authorities: Vec<(AuraId, GrandpaId)>,
	endowed_accounts: Vec<AccountId>,
	root: AccountId,
) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed_accounts.iter().cloned().map(|k| (k, ENDOWMENT)).collect::<Vec<_>>(),
		},
		aura: pallet_aura::GenesisConfig {
			authorities: initial_authorities
				.iter()
				.map(|(aura, _)| aura.clone())
				.collect::<Vec<_>>(),
		},
		grandpa: pallet_grandpa::GenesisConfig {
			authorities: initial_authorities
				.iter()
				.map(|(_, grandpa)| (grandpa.clone(), 1))
				.collect::<Vec<_>>(),
		},
		sudo: SudoConfig { key: Some(root) },
	})
}

/// The single-validator development chain: Alice authors and is root.
pub fn development_config_genesis() -> Value {
	genesis(
		authorities(&[(Sr25519Keyring::Alice, Ed25519Keyring::Alice)]),
		Sr25519Keyring::well_known().map(|k| k.to_account_id()).collect(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// Most validators a local testnet may have: the six well-known development keys.
pub const MAX_LOCAL_VALIDATORS: usize = 6;

/// A local testnet whose first `validators` well-known keys (`//Alice`, `//Bob`, … `//Ferdie`)
/// author and vote; Alice is root. `None` when `validators` is 0 or above
/// [`MAX_LOCAL_VALIDATORS`].
pub fn local_testnet_genesis_of(validators: usize) -> Option<Value> {
	if validators == 0 || validators > MAX_LOCAL_VALIDATORS {
		return None;
	}
	let keys: Vec<_> =
		Sr25519Keyring::well_known().zip(Ed25519Keyring::well_known()).take(validators).collect();
	Some(genesis(
		authorities(&keys),
		Sr25519Keyring::well_known().map(|k| k.to_account_id()).collect(),
		Sr25519Keyring::Alice.to_account_id(),
	))
}

/// The local multi-validator testnet: Alice, Bob and Charlie author and vote; Alice is root.
pub fn local_testnet_genesis() -> Value {
	local_testnet_genesis_of(3).expect("3 is a valid number of validators")
}

/// The JSON of the preset named `id`, if there is one.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_testnet_genesis(),
		_ => return None,
	};
	Some(
		serde_json::to_string(&patch)
			.expect("serialization to json is expected to work. qed.")
			.into_bytes(),
	)
}

/// The names of the presets this runtime offers.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
	]
}
