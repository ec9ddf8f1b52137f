//! The node's JSON-RPC extensions, merged into the standard Substrate RPC (`system_*`, `chain_*`,
//! `state_*`, `author_*`) that `sc_service::spawn_tasks` installs.
//!
//! - `system_accountNextIndex`: an account's next nonce, counting its transactions in the pool.
//! - `payment_queryInfo` / `payment_queryFeeDetails`: the fee a transaction will pay.
//! - `engine_createBlock` / `engine_finalizeBlock`: seal on demand, only in the sealing modes.
//! - `models_*`, `inference_*`, `hosts_*`: Verinfer's own, typed in `verinfer_client::api` (the
//!   client calls the traits this serves): `models.rs`, `inference.rs`, `hosts.rs`, over the state
//!   they share (`verinfer.rs`).

mod hosts;
mod inference;
mod models;
mod verinfer;

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
use verinfer_runtime::{opaque::Block, AccountId, Balance, BlockNumber, Hash, Nonce};

/// What the RPC extensions need from the node.
pub struct FullDeps<C, P> {
	/// The client, to call runtime APIs.
	pub client: Arc<C>,
	/// The transaction pool, for pending nonces.
	pub pool: Arc<P>,
	/// Where `engine_*` sends sealing commands; `None` outside the sealing modes.
	pub seal_commands_sink: Option<mpsc::Sender<EngineCommand<Hash>>>,
	/// The node's compiled engines, which `models_inspect` analyses with.
	pub inference_cache: Arc<verinfer_executor::cache::InferenceCache>,
}

/// Builds the RPC extensions.
pub fn create_full<C, P, B>(
	deps: FullDeps<C, P>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	B: sc_client_api::Backend<Block> + Send + Sync + 'static,
	C: ProvideRuntimeApi<Block>
		+ sc_client_api::StorageProvider<Block, B>
		+ HeaderBackend<Block>
		+ HeaderMetadata<Block, Error = BlockChainError>
		+ Send
		+ Sync
		+ 'static,
	C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>
		+ pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>
		+ BlockBuilder<Block>
		+ pallet_inference::runtime_api::InferenceApi<Block, AccountId, Balance, BlockNumber>
		+ pallet_hosting::runtime_api::HostingApi<Block, AccountId, Balance>,
	P: TransactionPool + 'static,
{
	use pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer};
	use substrate_frame_rpc_system::{System, SystemApiServer};
	use verinfer_client::api::{HostsApiServer, InferenceApiServer, ModelsApiServer};

	let FullDeps { client, pool, seal_commands_sink, inference_cache } = deps;
	let mut module = RpcModule::new(());
	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client.clone()).into_rpc())?;
	let verinfer = verinfer::Verinfer::<C, B>::new(client, inference_cache);
	module.merge(ModelsApiServer::into_rpc(verinfer.clone()))?;
	module.merge(InferenceApiServer::into_rpc(verinfer.clone()))?;
	module.merge(HostsApiServer::into_rpc(verinfer))?;
	if let Some(sink) = seal_commands_sink {
		module.merge(ManualSeal::new(sink).into_rpc())?;
	}
	Ok(module)
}
