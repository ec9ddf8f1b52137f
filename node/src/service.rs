//! The node service: client, database, transaction pool, networking, block production and finality.
//!
//! Two ways to produce blocks, chosen by [`Consensus`]:
//! - **Aura + GRANDPA** for real networks: authors take turns by slot, GRANDPA finalises.
//! - **Instant / manual seal** for development: this node alone seals blocks (on each incoming
//!   transaction and/or on a timer) and finalises them at once. Blocks still carry an Aura
//!   pre-digest and timestamps one slot apart, so the same runtime runs in both modes.

use std::{pin::Pin, sync::Arc, time::Duration};

use futures::{channel::mpsc, Stream, StreamExt};
use sc_client_api::BlockBackend;
use sc_consensus_aura::{ImportQueueParams, SlotProportion, StartAuraParams};
use sc_consensus_grandpa::SharedVoterState;
use sc_consensus_manual_seal::{
	consensus::aura::AuraConsensusDataProvider, EngineCommand, ManualSealParams,
};
use sc_service::{error::Error as ServiceError, Configuration, TaskManager, WarpSyncConfig};
use sc_telemetry::{Telemetry, TelemetryWorker};
use sc_transaction_pool_api::{OffchainTransactionPoolFactory, TransactionPool};
use sp_consensus_aura::{
	sr25519::{AuthorityPair as AuraPair, AuthoritySignature as AuraSignature},
	Slot, SlotDuration,
};
use verinfer_executor::cache::InferenceCache;
use verinfer_runtime::{apis::RuntimeApi, opaque::Block, Hash};

use crate::{
	cli::Consensus,
	inference::pre_execution::{warm_from_pool, PreExecutingImport, PreExecution},
};

/// Host functions the runtime may call: Substrate's standard set and the inference precompile
/// (plus the benchmarking ones when the node is built to run benchmarks).
#[cfg(not(feature = "runtime-benchmarks"))]
pub type HostFunctions =
	(sp_io::SubstrateHostFunctions, verinfer_interface::inference::HostFunctions);
#[cfg(feature = "runtime-benchmarks")]
pub type HostFunctions = (
	sp_io::SubstrateHostFunctions,
	verinfer_interface::inference::HostFunctions,
	frame_benchmarking::benchmarking::HostFunctions,
);

pub type FullClient =
	sc_service::TFullClient<Block, RuntimeApi, sc_executor::WasmExecutor<HostFunctions>>;
type FullBackend = sc_service::TFullBackend<Block>;
type FullSelectChain = sc_consensus::LongestChain<FullBackend, Block>;
type FullPool = sc_transaction_pool::TransactionPoolHandle<Block, FullClient>;
type GrandpaBlockImport =
	sc_consensus_grandpa::GrandpaBlockImport<FullBackend, Block, FullClient, FullSelectChain>;
type GrandpaLink = sc_consensus_grandpa::LinkHalf<Block, FullClient, FullSelectChain>;

/// How often (in blocks) GRANDPA produces a justification even without an authority-set change:
/// the interval at which a syncing node can check finality proofs.
const GRANDPA_JUSTIFICATION_PERIOD: u32 = 512;

/// The parts of the service built before networking.
pub type Service = sc_service::PartialComponents<
	FullClient,
	FullBackend,
	FullSelectChain,
	sc_consensus::DefaultImportQueue<Block>,
	FullPool,
	(
		Option<(GrandpaBlockImport, GrandpaLink)>,
		Option<Telemetry>,
		Arc<InferenceCache>,
		Arc<PreExecution<FullClient>>,
	),
>;

/// Builds the client, database, transaction pool and the import queue for `consensus`, with
/// `inference_workers` pre-execution workers (see [`crate::inference`]).
pub fn new_partial(
	config: &Configuration,
	consensus: Consensus,
	inference_workers: usize,
) -> Result<Service, ServiceError> {
	let telemetry = config
		.telemetry_endpoints
		.clone()
		.filter(|x| !x.is_empty())
		.map(|endpoints| -> Result<_, sc_telemetry::Error> {
			let worker = TelemetryWorker::new(16)?;
			let telemetry = worker.handle().new_telemetry(endpoints);
			Ok((worker, telemetry))
		})
		.transpose()?;

	let executor = sc_service::new_wasm_executor::<HostFunctions>(&config.executor);
	let (client, backend, keystore_container, task_manager) =
		sc_service::new_full_parts::<Block, RuntimeApi, _>(
			config,
			telemetry.as_ref().map(|(_, telemetry)| telemetry.handle()),
			executor,
			Vec::new(),
		)?;
	let client = Arc::new(client);
	let (inference_cache, pre_execution) =
		crate::inference::start(&client, config, inference_workers, &task_manager)?;

	let telemetry = telemetry.map(|(worker, telemetry)| {
		task_manager.spawn_handle().spawn("telemetry", None, worker.run());
		telemetry
	});

	let select_chain = sc_consensus::LongestChain::new(backend.clone());

	let transaction_pool = Arc::from(
		sc_transaction_pool::Builder::new(
			task_manager.spawn_essential_handle(),
			client.clone(),
			config.role.is_authority().into(),
		)
		.with_options(config.transaction_pool.clone())
		.with_prometheus(config.prometheus_registry())
		.build(),
	);

	let (import_queue, grandpa) = if consensus.is_sealing() {
		// Sealed blocks are trusted by construction: this node made them.
		let queue = sc_consensus_manual_seal::import_queue(
			Box::new(PreExecutingImport::new(client.clone(), pre_execution.clone())),
			&task_manager.spawn_essential_handle(),
			config.prometheus_registry(),
		);
		(queue, None)
	} else {
		let (grandpa_block_import, grandpa_link) = sc_consensus_grandpa::block_import(
			client.clone(),
			GRANDPA_JUSTIFICATION_PERIOD,
			&client,
			select_chain.clone(),
			telemetry.as_ref().map(|x| x.handle()),
		)?;
		let cidp_client = client.clone();
		let queue =
			sc_consensus_aura::import_queue::<AuraPair, _, _, _, _, _>(ImportQueueParams {
				block_import: PreExecutingImport::new(
					grandpa_block_import.clone(),
					pre_execution.clone(),
				),
				justification_import: Some(Box::new(grandpa_block_import.clone())),
				client: client.clone(),
				create_inherent_data_providers: move |parent_hash, _| {
					let cidp_client = cidp_client.clone();
					async move {
						let slot_duration = sc_consensus_aura::standalone::slot_duration_at(
							&*cidp_client,
							parent_hash,
						)?;
						Ok(aura_inherent_data(slot_duration))
					}
				},
				spawner: &task_manager.spawn_essential_handle(),
				registry: config.prometheus_registry(),
				check_for_equivocation: Default::default(),
				telemetry: telemetry.as_ref().map(|x| x.handle()),
				compatibility_mode: Default::default(),
			})?;
		(queue, Some((grandpa_block_import, grandpa_link)))
	};

	Ok(sc_service::PartialComponents {
		client,
		backend,
		task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (grandpa, telemetry, inference_cache, pre_execution),
	})
}

/// Builds and starts the full node.
pub fn new_full<N: sc_network::NetworkBackend<Block, Hash>>(
	config: Configuration,
	consensus: Consensus,
	inference_workers: usize,
) -> Result<TaskManager, ServiceError> {
	let sc_service::PartialComponents {
		client,
		backend,
		mut task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (grandpa, mut telemetry, inference_cache, pre_execution),
	} = new_partial(&config, consensus, inference_workers)?;
	if pre_execution.workers() > 0 {
		log::info!("🧮 Inference pre-execution: {} workers", pre_execution.workers());
		// Blocking: listing a batch's calls is a runtime call.
		task_manager.spawn_handle().spawn_blocking(
			"pre-execution-pool",
			Some("inference"),
			warm_from_pool(pre_execution, transaction_pool.clone()),
		);
	}

	let mut net_config = sc_network::config::FullNetworkConfiguration::<Block, Hash, N>::new(
		&config.network,
		config.prometheus_registry().cloned(),
	);
	let metrics = N::register_notification_metrics(config.prometheus_registry());

	// GRANDPA gossips votes on its own notification protocol, and serves warp-sync proofs.
	let mut grandpa_protocol = None;
	let mut warp_sync_config = None;
	if let Some((_, grandpa_link)) = &grandpa {
		let genesis_hash = client
			.block_hash(0)?
			.ok_or_else(|| ServiceError::Other("the database has no genesis block".into()))?;
		let protocol_name =
			sc_consensus_grandpa::protocol_standard_name(&genesis_hash, &config.chain_spec);
		let (protocol_config, notification_service) =
			sc_consensus_grandpa::grandpa_peers_set_config::<_, N>(
				protocol_name.clone(),
				metrics.clone(),
				net_config.peer_store_handle(),
			);
		net_config.add_notification_protocol(protocol_config);
		grandpa_protocol = Some((protocol_name, notification_service));
		warp_sync_config = Some(WarpSyncConfig::WithProvider(Arc::new(
			sc_consensus_grandpa::warp_proof::NetworkProvider::new(
				backend.clone(),
				grandpa_link.shared_authority_set().clone(),
				Vec::default(),
			),
		)));
	}

	// The last element, a bitswap handle, serves IPFS-style block fetching: not used here.
	let (network, system_rpc_tx, tx_handler_controller, sync_service, _bitswap) =
		sc_service::build_network(sc_service::BuildNetworkParams {
			config: &config,
			net_config,
			client: client.clone(),
			transaction_pool: transaction_pool.clone(),
			spawn_handle: task_manager.spawn_handle(),
			spawn_essential_handle: task_manager.spawn_essential_handle(),
			import_queue,
			block_announce_validator_builder: None,
			warp_sync_config,
			block_relay: None,
			metrics,
			gap_sync_body_policy: None,
		})?;

	let role = config.role;
	let prometheus_registry = config.prometheus_registry().cloned();

	// In the sealing modes, `engine_createBlock` / `engine_finalizeBlock` let tools seal on demand.
	let (seal_commands_sink, seal_commands) = mpsc::channel::<EngineCommand<Hash>>(1024);

	let rpc_extensions_builder = {
		let client = client.clone();
		let pool = transaction_pool.clone();
		let seal_commands_sink = consensus.is_sealing().then_some(seal_commands_sink);
		Box::new(move |_| {
			let deps = crate::rpc::FullDeps {
				client: client.clone(),
				pool: pool.clone(),
				seal_commands_sink: seal_commands_sink.clone(),
				inference_cache: inference_cache.clone(),
			};
			crate::rpc::create_full::<_, _, FullBackend>(deps).map_err(Into::into)
		})
	};

	let name = config.network.node_name.clone();
	let force_authoring = config.force_authoring;
	let disable_grandpa = config.disable_grandpa;

	sc_service::spawn_tasks(sc_service::SpawnTasksParams {
		network: network.clone(),
		client: client.clone(),
		keystore: keystore_container.keystore(),
		task_manager: &mut task_manager,
		transaction_pool: transaction_pool.clone(),
		rpc_builder: rpc_extensions_builder,
		backend,
		system_rpc_tx,
		tx_handler_controller,
		sync_service: sync_service.clone(),
		config,
		telemetry: telemetry.as_mut(),
		tracing_execute_block: None,
	})?;

	let proposer_factory = || {
		sc_basic_authorship::ProposerFactory::new(
			task_manager.spawn_handle(),
			client.clone(),
			transaction_pool.clone(),
			prometheus_registry.as_ref(),
			telemetry.as_ref().map(|x| x.handle()),
		)
	};
	let slot_duration = sc_consensus_aura::slot_duration(&*client)?;

	match grandpa {
		Some((block_import, grandpa_link)) => {
			if role.is_authority() {
				let aura = sc_consensus_aura::start_aura::<AuraPair, _, _, _, _, _, _, _, _, _, _>(
					StartAuraParams {
						slot_duration,
						client: client.clone(),
						select_chain,
						block_import,
						proposer_factory: proposer_factory(),
						create_inherent_data_providers: move |_, ()| async move {
							Ok(aura_inherent_data(slot_duration))
						},
						force_authoring,
						backoff_authoring_blocks: None::<()>,
						keystore: keystore_container.keystore(),
						sync_oracle: sync_service.clone(),
						justification_sync_link: sync_service.clone(),
						// Leave a third of the slot for the block to propagate and be imported.
						block_proposal_slot_portion: SlotProportion::new(2f32 / 3f32),
						max_block_proposal_slot_portion: None,
						telemetry: telemetry.as_ref().map(|x| x.handle()),
						compatibility_mode: Default::default(),
					},
				)?;
				// Authoring is essential: if it fails, the node stops rather than idle silently.
				task_manager.spawn_essential_handle().spawn_blocking(
					"aura",
					Some("block-authoring"),
					aura,
				);
			}

			if !disable_grandpa {
				let (protocol_name, notification_service) = grandpa_protocol
					.ok_or_else(|| ServiceError::Other("GRANDPA protocol not configured".into()))?;
				// Only authorities vote; other nodes follow finality from justifications.
				let keystore = role.is_authority().then(|| keystore_container.keystore());
				let grandpa_params = sc_consensus_grandpa::GrandpaParams {
					config: sc_consensus_grandpa::Config {
						gossip_duration: Duration::from_millis(333),
						justification_generation_period: GRANDPA_JUSTIFICATION_PERIOD,
						name: Some(name),
						observer_enabled: false,
						keystore,
						local_role: role,
						telemetry: telemetry.as_ref().map(|x| x.handle()),
						protocol_name,
					},
					link: grandpa_link,
					network,
					sync: sync_service,
					notification_service,
					voting_rule: sc_consensus_grandpa::VotingRulesBuilder::default().build(),
					prometheus_registry,
					shared_voter_state: SharedVoterState::empty(),
					telemetry: telemetry.as_ref().map(|x| x.handle()),
					offchain_tx_pool_factory: OffchainTransactionPoolFactory::new(transaction_pool),
				};
				task_manager.spawn_essential_handle().spawn_blocking(
					"grandpa-voter",
					None,
					sc_consensus_grandpa::run_grandpa_voter(grandpa_params)?,
				);
			}
		},
		None => {
			let triggers = seal_triggers(consensus, &transaction_pool);
			let commands = futures::stream::select(triggers, seal_commands);
			let timestamps = DevTimestamps { client: client.clone(), slot_duration };
			let sealing = sc_consensus_manual_seal::run_manual_seal(ManualSealParams {
				block_import: client.clone(),
				env: proposer_factory(),
				client: client.clone(),
				pool: transaction_pool.clone(),
				commands_stream: commands,
				select_chain,
				consensus_data_provider: Some(Box::new(
					AuraConsensusDataProvider::new_with_slot_duration(slot_duration),
				)),
				create_inherent_data_providers: move |parent_hash, ()| {
					let timestamp = timestamps.next(parent_hash);
					async move { timestamp.map_err(Into::into) }
				},
			});
			task_manager.spawn_essential_handle().spawn_blocking(
				"manual-seal",
				Some("block-authoring"),
				sealing,
			);
		},
	}

	Ok(task_manager)
}

/// The inherent data of an Aura block (authored or imported): the wall-clock timestamp and the slot
/// it falls in.
fn aura_inherent_data(
	slot_duration: SlotDuration,
) -> (sp_consensus_aura::inherents::InherentDataProvider, sp_timestamp::InherentDataProvider) {
	let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
	let slot = sp_consensus_aura::inherents::InherentDataProvider::from_timestamp_and_slot_duration(
		*timestamp,
		slot_duration,
	);
	(slot, timestamp)
}

/// The stream of "seal a block now" commands for a sealing [`Consensus`]: one per transaction
/// entering the pool (instant seal) and/or one per interval. Every sealed block is finalised at
/// once: a single development node has no one to wait for.
fn seal_triggers(
	consensus: Consensus,
	pool: &Arc<FullPool>,
) -> Pin<Box<dyn Stream<Item = EngineCommand<Hash>> + Send>> {
	fn seal() -> EngineCommand<Hash> {
		EngineCommand::SealNewBlock {
			create_empty: true,
			finalize: true,
			parent_hash: None,
			sender: None,
		}
	}
	fn every(interval: Duration) -> Pin<Box<dyn Stream<Item = EngineCommand<Hash>> + Send>> {
		futures::stream::unfold((), move |()| async move {
			futures_timer::Delay::new(interval).await;
			Some((seal(), ()))
		})
		.boxed()
	}
	match consensus {
		Consensus::InstantSeal { every: interval } => {
			let on_transaction = pool.import_notification_stream().map(|_| seal()).boxed();
			match interval {
				Some(interval) => futures::stream::select(on_transaction, every(interval)).boxed(),
				None => on_transaction,
			}
		},
		Consensus::ManualSeal { every: interval } => every(interval),
		// Aura authors in slots; nothing to trigger.
		Consensus::Aura => futures::stream::pending().boxed(),
	}
}

/// Timestamps for sealed development blocks.
///
/// Aura requires each block to be in a later slot than its parent, and the timestamp pallet requires
/// each timestamp to be at least half a slot after the previous one. Sealing can be faster than one
/// block per slot, so a sealed block gets the start of the current wall-clock slot, or of the slot
/// after its parent's if that is later: the chain's clock follows the wall clock while blocks are
/// slower than the slot duration, and runs ahead of it during bursts.
#[derive(Clone)]
struct DevTimestamps {
	client: Arc<FullClient>,
	slot_duration: SlotDuration,
}

impl DevTimestamps {
	fn next(&self, parent_hash: Hash) -> Result<sp_timestamp::InherentDataProvider, String> {
		let parent = self
			.client
			.header(parent_hash)
			.map_err(|e| e.to_string())?
			.ok_or_else(|| format!("parent header {parent_hash} not found"))?;
		// The genesis block has no pre-digest: any slot follows it.
		let parent_slot = sc_consensus_aura::find_pre_digest::<Block, AuraSignature>(&parent)
			.unwrap_or(Slot::from(0));
		let now_slot = Slot::from_timestamp(sp_timestamp::Timestamp::current(), self.slot_duration);
		let slot = now_slot.max(parent_slot + 1);
		let millis = u64::from(slot).saturating_mul(self.slot_duration.as_millis());
		Ok(sp_timestamp::InherentDataProvider::new(millis.into()))
	}
}
