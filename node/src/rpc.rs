//! The node's JSON-RPC extensions, merged into the standard Substrate RPC (`system_*`, `chain_*`,
//! `state_*`, `author_*`) that `sc_service::spawn_tasks` installs.
//!
//! - `system_accountNextIndex`: an account's next nonce, counting its transactions in the pool.
//! - `payment_queryInfo` / `payment_queryFeeDetails`: the fee a transaction will pay.
//! - `engine_createBlock` / `engine_finalizeBlock`: seal on demand, only in the sealing modes.

use std::sync::Arc;

use futures::channel::mpsc;
use jsonrpsee::RpcModule;
use sc_consensus_manual_seal::{
	rpc::{ManualSeal, ManualSealApiServer},
	EngineCommand,
};
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_block_builder::BlockBuilder;
use sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata};
use verinfer_runtime::{opaque::Block, AccountId, Balance, Hash, Nonce};

/// What the RPC extensions need from the node.
pub struct FullDeps<C, P> {
	/// The client, to call runtime APIs.
	pub client: Arc<C>,
	/// The transaction pool, for pending nonces.
	pub pool: Arc<P>,
	/// Where `engine_*` sends sealing commands; `None` outside the sealing modes.
	pub seal_commands_sink: Option<mpsc::Sender<EngineCommand<Hash>>>,
}

/// Builds the RPC extensions.
pub fn create_full<C, P>(
	deps: FullDeps<C, P>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ HeaderMetadata<Block, Error = BlockChainError>
		+ Send
		+ Sync
		+ 'static,
	C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>
		+ pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>
		+ BlockBuilder<Block>,
	P: TransactionPool + 'static,
{
	use pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer};
	use substrate_frame_rpc_system::{System, SystemApiServer};

	let FullDeps { client, pool, seal_commands_sink } = deps;
	let mut module = RpcModule::new(());
	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client).into_rpc())?;
	if let Some(sink) = seal_commands_sink {
		module.merge(ManualSeal::new(sink).into_rpc())?;
	}
	Ok(module)
}
