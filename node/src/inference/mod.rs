//! The node's side of inference: the cache every runtime execution shares, the chain's engine
//! compiled as the node starts, pre-execution of a block's calls on worker threads, and metrics.
//! [`start`] sets it all up for a client; the service only wires what it returns.
//!
//! - [`pre_execution`]: a block's (and the pool's) inference calls made ahead on worker threads;
//! - [`metrics`]: what the cache and the workers report to Prometheus.

pub mod metrics;
pub mod pre_execution;

use std::sync::Arc;

use pallet_inference::runtime_api::InferenceApi;
use sc_client_api::{ExecutorProvider, StorageProvider};
use sc_service::{error::Error as ServiceError, Configuration, TaskManager};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::storage::StorageKey;
use verinfer_executor::cache::InferenceCache;
use verinfer_interface::InferenceCacheExt;
use verinfer_runtime::{opaque::Block, AccountId, Balance, BlockNumber, Hash};

use pre_execution::PreExecution;

/// The runtime API pre-execution and the engine warm-up call.
pub trait RuntimeInferenceApi: InferenceApi<Block, AccountId, Balance, BlockNumber> {}
impl<A: InferenceApi<Block, AccountId, Balance, BlockNumber>> RuntimeInferenceApi for A {}

/// What the node's inference needs of its client: the runtime's `InferenceApi`, the best block,
/// and state reads.
pub trait InferenceClient:
	ProvideRuntimeApi<Block, Api: RuntimeInferenceApi> + HeaderBackend<Block> + Send + Sync + 'static
{
	/// The value at `key` in the state of block `at`, if any.
	fn read(&self, at: Hash, key: &[u8]) -> Option<Vec<u8>>;
}

impl<C> InferenceClient for C
where
	C: ProvideRuntimeApi<Block>
		+ StorageProvider<Block, sc_service::TFullBackend<Block>>
		+ HeaderBackend<Block>
		+ Send
		+ Sync
		+ 'static,
	C::Api: RuntimeInferenceApi,
{
	fn read(&self, at: Hash, key: &[u8]) -> Option<Vec<u8>> {
		self.storage(at, &StorageKey(key.to_vec())).ok().flatten().map(|data| data.0)
	}
}

/// Hands the node's inference cache to every runtime execution: block import and authoring,
/// runtime API calls, the transaction pool's checks.
struct InferenceExtensions(Arc<InferenceCache>);

impl sc_client_api::execution_extensions::ExtensionsFactory<Block> for InferenceExtensions {
	fn extensions_for(&self, _: Hash, _: BlockNumber) -> sp_externalities::Extensions {
		let mut extensions = sp_externalities::Extensions::new();
		extensions.register(InferenceCacheExt(self.0.clone()));
		extensions
	}
}

/// Sets up inference for `client`: the cache (its compiled engines kept on disk), handed to every
/// runtime execution; the chain's engine compiled in the background; the metrics, when
/// `config` has a Prometheus registry; `workers` pre-execution workers (none: off).
pub fn start<C: InferenceClient + ExecutorProvider<Block>>(
	client: &Arc<C>,
	config: &Configuration,
	workers: usize,
	tasks: &TaskManager,
) -> Result<(Arc<InferenceCache>, Arc<PreExecution<C>>), ServiceError> {
	// Compiled engines persist in the user's cache directory (beside the chain's database when
	// there is none), shared by every node of this user: a restart, or another node on the same
	// machine, loads them in milliseconds. Files are named by the blob's hash and wasmtime's
	// compatibility hash and written atomically (see `Engine::compile`).
	let engine_dir = verinfer_executor::cache::default_disk_dir()
		.unwrap_or_else(|| config.data_path.join("engine-cache"));
	let cache = Arc::new(InferenceCache::with_disk_cache(engine_dir));
	client.execution_extensions().set_extensions_factory(InferenceExtensions(cache.clone()));
	warm_engine(client, &cache, tasks);
	if let Some(registry) = config.prometheus_registry() {
		let metrics = metrics::InferenceMetrics::register(registry, workers)?;
		cache.set_observer(Arc::new(metrics));
	}
	let pre_execution = PreExecution::new(client.clone(), cache.clone(), workers)
		.map_err(|error| ServiceError::Other(format!("pre-execution workers: {error}")))?;
	Ok((cache, pre_execution))
}

/// Compiles (or loads from the disk cache) the chain's engine as the node starts, on a blocking
/// task: compiling takes seconds, which the first block that calls a model would otherwise spend,
/// and lose its slot to. A block execution that needs the engine meanwhile waits for this
/// compilation rather than start another (the cache compiles each engine once).
fn warm_engine<C: InferenceClient>(
	client: &Arc<C>,
	cache: &Arc<InferenceCache>,
	tasks: &TaskManager,
) {
	let (client, cache) = (client.clone(), cache.clone());
	let warm = async move {
		let at = client.info().best_hash;
		let stored = match client.runtime_api().engine(at) {
			Ok(Some(stored)) => stored,
			Ok(None) => return,
			Err(error) => return log::warn!("🧮 Engine warm-up: {error}"),
		};
		match cache.engine(&stored, &mut |key: &[u8]| client.read(at, key)) {
			Ok(Ok(_)) => log::info!("🧮 Inference engine ready"),
			Ok(Err(error)) => log::warn!("🧮 The chain's engine blob cannot run: {error}"),
			Err(error) => log::warn!("🧮 Engine warm-up: {error}"),
		}
	};
	tasks.spawn_handle().spawn_blocking("verinfer-engine-warm-up", None, warm);
}
