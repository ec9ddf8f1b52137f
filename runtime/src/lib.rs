//! # Verinfer runtime
//!
//! The FRAME runtime of the Verinfer chain. This crate holds the chain's types and the composition of
//! its pallets; each concern lives in its own module:
//!
//! - [`configs`]: the `Config` of every pallet and the chain-wide parameters (block weights and
//!   length, fees, existential deposit).
//! - [`apis`]: the runtime APIs the node and clients call (block building, transaction validation,
//!   Aura, GRANDPA, nonces, fee queries, genesis presets).
//! - [`genesis_config_presets`]: the `development` and `local_testnet` genesis states.
//!
//! Built twice: natively (`std`, for the node's types and tests) and to Wasm by substrate-wasm-builder
//! (the blob that becomes `:code` at genesis and that every validator executes).

#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime`-style macros expand to large recursive types.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

use alloc::vec::Vec;

pub mod apis;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarks;
pub mod configs;
pub mod genesis_config_presets;

use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::{runtime_version, RuntimeVersion};

pub use frame_system::Call as SystemCall;
pub use pallet_balances::Call as BalancesCall;
pub use pallet_timestamp::Call as TimestampCall;
#[cfg(any(feature = "std", test))]
pub use sp_runtime::BuildStorage;

/// An index to a block.
pub type BlockNumber = u32;
/// Alias to 512-bit hash when used in the context of a transaction signature on the chain.
pub type Signature = MultiSignature;
/// An account is identified by the public key of its signing scheme.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Balance of an account, in plancks (10^-[`TOKEN_DECIMALS`] of a token).
pub type Balance = u128;
/// Index of a transaction in the chain.
pub type Nonce = u32;
/// A hash of some data used by the chain.
pub type Hash = sp_core::H256;

/// Opaque types: what the node's consensus and networking machinery needs without knowing the
/// runtime's call types, so the node keeps syncing across runtime upgrades.
pub mod opaque {
	use super::*;
	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block hash type.
	pub type Hash = <BlakeTwo256 as sp_runtime::traits::Hash>::Output;

	impl_opaque_keys! {
		/// The session keys a validator registers: its Aura (authoring) and GRANDPA (finality) keys.
		pub struct SessionKeys {
			pub aura: Aura,
			pub grandpa: Grandpa,
		}
	}
}

#[runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("verinfer"),
	impl_name: alloc::borrow::Cow::Borrowed("verinfer"),
	authoring_version: 1,
	// Bump on every change of runtime logic; a node only uses the on-chain Wasm anyway.
	spec_version: 100,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	// Bump when the encoding of calls or transaction extensions changes (invalidates signed txs).
	transaction_version: 1,
	system_version: 1,
};

/// Target block time. Aura's slot duration is derived from it (twice the timestamp pallet's minimum
/// period). It cannot change once the chain runs: authoring would stop.
pub const MILLISECS_PER_BLOCK: u64 = 6000;
/// Aura slot duration.
pub const SLOT_DURATION: u64 = MILLISECS_PER_BLOCK;

/// Time measured in blocks.
pub const MINUTES: BlockNumber = 60_000 / (MILLISECS_PER_BLOCK as BlockNumber);
pub const HOURS: BlockNumber = MINUTES * 60;
pub const DAYS: BlockNumber = HOURS * 24;

/// The token's ticker, shown by wallets through the chain spec's properties.
pub const TOKEN_SYMBOL: &str = "VINF";
/// Decimal places of one token: 1 VINF = 10^12 plancks, as on most Substrate chains.
pub const TOKEN_DECIMALS: u8 = 12;
/// One token in plancks.
pub const UNIT: Balance = 10u128.pow(TOKEN_DECIMALS as u32);
pub const MILLI_UNIT: Balance = UNIT / 1_000;
pub const MICRO_UNIT: Balance = MILLI_UNIT / 1_000;
/// The least balance an account may hold; below it the account is reaped. Small enough to be
/// irrelevant to users, large enough that dust accounts cost an attacker real money.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;
/// SS58 address prefix: 42 is the generic Substrate prefix every wallet understands.
pub const SS58_PREFIX: u16 = 42;

/// The address format for describing accounts.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header type as expected by this runtime.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block type as expected by this runtime.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// The transaction extensions every signed transaction carries, in order. Clients (polkadot.js,
/// subxt, our own tests) learn this list from the metadata.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	// Last, so that it sees the weight every earlier extension reclaimed.
	frame_system::WeightReclaim<Runtime>,
);

/// Unchecked extrinsic type as expected by this runtime.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// The payload being signed in transactions.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// The host-function call `extrinsic` would make if applied now, and its signer, if it is a signed
/// `infer` that passes `infer`'s checks (see `InferenceApi::pre_execution`). Read-only: the signature is not
/// checked, because nothing is applied; a forged one only makes the node compute ahead what the
/// block's execution would refuse, and a block (or pool) that holds it is refused anyway.
pub fn pre_execution(
	extrinsic: UncheckedExtrinsic,
) -> Option<(AccountId, verinfer_primitives::inference::RunRequest)> {
	use sp_runtime::traits::StaticLookup;
	let generic::Preamble::Signed(address, ..) = extrinsic.preamble else { return None };
	let caller = <Runtime as frame_system::Config>::Lookup::lookup(address).ok()?;
	match extrinsic.function {
		RuntimeCall::Inference(pallet_inference::Call::infer { model, inputs, max_fee }) => {
			Inference::pre_execution(&caller, model, inputs, max_fee).map(|run| (caller, run))
		},
		_ => None,
	}
}

/// A dispatch error by its pallet error's name, as `Inference(InputShapeMismatch) of input 0` (a
/// pallet error's `Debug` shows its name only): what the node's RPC and the CLI print when the
/// chain refuses a call. Native only: in Wasm, `Debug` names are stripped.
#[cfg(feature = "std")]
pub fn describe_error(error: sp_runtime::DispatchError) -> alloc::string::String {
	use pallet_inference::Error;
	match RuntimeError::from_dispatch_error(error) {
		Some(
			named @ RuntimeError::Inference(
				Error::InvalidInput { index }
				| Error::InputDtypeMismatch { index }
				| Error::InputShapeMismatch { index },
			),
		) => alloc::format!("{named:?} of input {index}"),
		Some(named) => alloc::format!("{named:?}"),
		None => alloc::format!("{error:?}"),
	}
}

/// Migrations to run on runtime upgrade, beyond the pallets' own.
type Migrations = ();

/// Executive: dispatches blocks and extrinsics to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;

	#[runtime::pallet_index(2)]
	pub type Aura = pallet_aura;

	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;

	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;

	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;

	#[runtime::pallet_index(6)]
	pub type Sudo = pallet_sudo;

	// Before the registry: genesis stores the engine, then registers the demo models with it.
	#[runtime::pallet_index(7)]
	pub type Engine = pallet_engine;

	#[runtime::pallet_index(8)]
	pub type Models = pallet_models;

	#[runtime::pallet_index(9)]
	pub type Inference = pallet_inference;

	#[runtime::pallet_index(10)]
	pub type Hosting = pallet_hosting;
}
