//! Pre-execution: a block's inference calls made on all cores before and while the block executes.
//!
//! A block executes its extrinsics one after another on one thread, but each inference call is a
//! pure function of content-addressed bytes (engine, model, declared shapes, inputs). So:
//!
//! 1. When a block is imported for execution ([`PreExecutingImport`]), the runtime lists the
//!    calls its extrinsics will make (`InferenceApi::pre_execution`, at the parent's state), and
//!    they are queued for the workers. The import then goes on at once.
//! 2. Worker threads ([`PreExecution::new`], `--inference-workers`) make the queued calls
//!    through the node's [`InferenceCache`], reading model bytes from the parent's state.
//! 3. The block's execution asks the host function for each call in order; the cache serves the
//!    outcome a worker made, waits for one a worker is making, or makes one no worker has
//!    started ([`verinfer_executor::results`]). With W workers and the executing thread, a
//!    block of independent calls runs on W + 1 threads.
//!
//! Transactions entering the pool are made ahead the same way ([`warm_from_pool`]), at a lower
//! priority than blocks: by the time this node authors a block, or imports one another validator
//! authored from the same gossiped transactions, its calls are done. A pooled call is paid for
//! only once included, so a signer gets at most [`POOL_CALLS_PER_SIGNER`] made ahead per best
//! block ([`PoolBudget`]): a flood of calls from one account, more than it can pay for, costs the
//! node that many runs, not the flood; the rest run when a block that pays for them executes.
//!
//! Nothing here decides a result. A worker's outcome is the bytes the executing thread would
//! make itself (the same engine and path); an outcome that depends on state or on this host is
//! not kept. Turning pre-execution off (`--inference-workers 0`) changes only the time a block
//! takes, which `node/tests/pre_execution.rs` checks block by block, state root by state root.

use std::{
	collections::{BTreeMap, VecDeque},
	sync::{atomic::Ordering, Arc, Condvar, Mutex, MutexGuard, Weak},
	time::Instant,
};

use futures::{FutureExt, StreamExt};
use pallet_inference::runtime_api::InferenceApi;
use sc_consensus::{BlockCheckParams, BlockImport, BlockImportParams, ImportResult, StateAction};
use sc_transaction_pool_api::{InPoolTransaction, TransactionPool};
use sp_runtime::traits::Header as _;
use verinfer_executor::{
	cache::InferenceCache,
	sync::{lock, wait},
};
use verinfer_primitives::inference::RunRequest;
use verinfer_runtime::{opaque::Block, AccountId, Hash};

use super::InferenceClient;

/// Queued calls at most per queue: a block's are all queued (a block holds a few hundred at
/// most); the pool's beyond this are left to be made when a block needs them.
const MAX_QUEUED: usize = 4096;

/// Pooled calls made ahead per signer and best block. Each is bounded by its model's call limits
/// (a block's share at most); four cover a dApp's burst within a block time.
pub const POOL_CALLS_PER_SIGNER: u32 = 4;

/// How many pooled calls each signer has had queued at the current best block: a signer's calls
/// beyond [`POOL_CALLS_PER_SIGNER`] are not made ahead. Starts afresh at each new best block,
/// whose import has taken the included calls out of the pool (and paid for them).
#[derive(Default)]
pub struct PoolBudget {
	at: Option<Hash>,
	queued: BTreeMap<AccountId, u32>,
}

impl PoolBudget {
	/// Whether `signer` may have one more pooled call made ahead at best block `at`; counts it.
	pub fn admit(&mut self, at: Hash, signer: &AccountId) -> bool {
		if self.at != Some(at) {
			self.at = Some(at);
			self.queued.clear();
		}
		let queued = self.queued.entry(signer.clone()).or_default();
		if *queued >= POOL_CALLS_PER_SIGNER {
			return false;
		}
		*queued += 1;
		true
	}
}

/// A call to make ahead, and the block whose state holds its bytes.
struct Job {
	at: Hash,
	request: RunRequest,
}

#[derive(Default)]
struct Queues {
	/// Calls of blocks being imported: first.
	block: VecDeque<Job>,
	/// Calls of pooled transactions.
	pool: VecDeque<Job>,
	/// What each signer has had queued in `pool`.
	budget: PoolBudget,
	closed: bool,
}

#[derive(Default)]
struct Shared {
	queues: Mutex<Queues>,
	queued: Condvar,
}

impl Shared {
	fn lock(&self) -> MutexGuard<'_, Queues> {
		lock(&self.queues)
	}

	fn next(&self) -> Option<Job> {
		let mut queues = self.lock();
		loop {
			if queues.closed {
				return None;
			}
			if let Some(job) = queues.block.pop_front().or_else(|| queues.pool.pop_front()) {
				return Some(job);
			}
			queues = wait(&self.queued, queues);
		}
	}
}

/// Which queue a call goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
	Block,
	Pool,
}

/// The pre-execution workers and their queues; see the module documentation.
pub struct PreExecution<C> {
	client: Arc<C>,
	cache: Arc<InferenceCache>,
	shared: Arc<Shared>,
	workers: usize,
}

impl<C: InferenceClient> PreExecution<C> {
	/// Starts `workers` worker threads (none: pre-execution is off).
	pub fn new(
		client: Arc<C>,
		cache: Arc<InferenceCache>,
		workers: usize,
	) -> std::io::Result<Arc<PreExecution<C>>> {
		let shared = Arc::new(Shared::default());
		for index in 0..workers {
			let (shared, cache) = (shared.clone(), cache.clone());
			// Weak: the workers must not keep the database open once the node has shut down.
			let client = Arc::downgrade(&client);
			std::thread::Builder::new()
				.name(format!("pre-execution-{index}"))
				.spawn(move || work(&shared, &cache, &client))?;
		}
		Ok(Arc::new(PreExecution { client, cache, shared, workers }))
	}

	/// Worker threads; 0 when pre-execution is off.
	pub fn workers(&self) -> usize {
		self.workers
	}

	/// Queues the calls `extrinsics` will make if applied on top of `at`; how many were queued.
	pub fn queue(
		&self,
		source: Source,
		at: Hash,
		extrinsics: Vec<<Block as sp_runtime::traits::Block>::Extrinsic>,
	) -> usize {
		if self.workers == 0 || extrinsics.is_empty() {
			return 0;
		}
		let requests = match self.client.runtime_api().pre_execution(at, extrinsics) {
			Ok(requests) => requests,
			Err(error) => {
				// A runtime without the API, or state gone: the block simply executes as is.
				log::debug!(target: "pre-execution", "No calls listed at {at}: {error}");
				return 0;
			},
		};
		let mut queues = self.shared.lock();
		let Queues { block, pool, budget, .. } = &mut *queues;
		let mut queued = 0;
		for (signer, request) in requests {
			let queue = match source {
				Source::Block => &mut *block,
				// A block pays for every call it holds; the pool for none yet.
				Source::Pool if !budget.admit(at, &signer) => continue,
				Source::Pool => &mut *pool,
			};
			if queue.len() >= MAX_QUEUED || !self.cache.plan(&request) {
				continue;
			}
			queue.push_back(Job { at, request });
			queued += 1;
		}
		drop(queues);
		self.shared.queued.notify_all();
		queued
	}
}

impl<C> Drop for PreExecution<C> {
	fn drop(&mut self) {
		self.shared.lock().closed = true;
		self.shared.queued.notify_all();
	}
}

/// A worker: makes queued calls until the queues close or the node is gone.
fn work<C: InferenceClient>(shared: &Shared, cache: &InferenceCache, client: &Weak<C>) {
	while let Some(job) = shared.next() {
		let Some(client) = client.upgrade() else { return };
		let mut read = |key: &[u8]| client.read(job.at, key);
		if let Err(failure) = cache.pre_execute(&job.request, &mut read) {
			// The execution makes the call itself and meets the failure there, if it is real.
			log::debug!(target: "pre-execution", "A call made ahead failed on this host: {failure}");
		}
	}
}

/// A block import that queues the block's calls before the block is executed.
pub struct PreExecutingImport<I, C> {
	inner: I,
	pre_execution: Arc<PreExecution<C>>,
}

// By hand: a derive would ask the client to be `Clone`, where only the `Arc` is cloned.
impl<I: Clone, C> Clone for PreExecutingImport<I, C> {
	fn clone(&self) -> Self {
		PreExecutingImport { inner: self.inner.clone(), pre_execution: self.pre_execution.clone() }
	}
}

impl<I, C> PreExecutingImport<I, C> {
	pub fn new(inner: I, pre_execution: Arc<PreExecution<C>>) -> Self {
		PreExecutingImport { inner, pre_execution }
	}
}

#[async_trait::async_trait]
impl<I, C> BlockImport<Block> for PreExecutingImport<I, C>
where
	I: BlockImport<Block> + Send + Sync,
	C: InferenceClient,
{
	type Error = I::Error;

	async fn check_block(
		&self,
		block: BlockCheckParams<Block>,
	) -> Result<ImportResult, Self::Error> {
		self.inner.check_block(block).await
	}

	async fn import_block(
		&self,
		block: BlockImportParams<Block>,
	) -> Result<ImportResult, Self::Error> {
		// Only a block about to be executed: one this node authored comes with its state changes.
		let executes =
			matches!(block.state_action, StateAction::Execute | StateAction::ExecuteIfPossible);
		let Some(body) = block.body.as_ref().filter(|_| executes) else {
			return self.inner.import_block(block).await;
		};
		let number = *block.header.number();
		let started = Instant::now();
		let stats = &self.pre_execution.cache.stats;
		let served = || {
			(stats.result_hits.load(Ordering::Relaxed), stats.result_misses.load(Ordering::Relaxed))
		};
		let before = served();
		let queued =
			self.pre_execution.queue(Source::Block, *block.header.parent_hash(), body.clone());
		let imported = self.inner.import_block(block).await;
		let (ahead, made) = (served().0 - before.0, served().1 - before.1);
		// Per block, for `scripts/bench.sh` and `node/tests/pre_execution.rs`: with blocks
		// imported one at a time, the counters' changes are this block's.
		if ahead + made > 0 {
			log::debug!(
				target: "pre-execution",
				"Imported #{number} in {} µs: {} inference calls, {ahead} served ahead, {made} \
				 made in the block, {queued} queued",
				started.elapsed().as_micros(),
				ahead + made,
			);
		}
		imported
	}
}

/// Queues the calls of transactions as they enter the pool, at the best block.
pub async fn warm_from_pool<C, P>(pre_execution: Arc<PreExecution<C>>, pool: Arc<P>)
where
	C: InferenceClient,
	P: TransactionPool<Block = Block, Hash = Hash> + 'static,
{
	let mut imported = pool.import_notification_stream();
	while let Some(hash) = imported.next().await {
		// Everything that arrived meanwhile, in one runtime call.
		let mut hashes = vec![hash];
		while let Some(Some(hash)) = imported.next().now_or_never() {
			hashes.push(hash);
		}
		let extrinsics: Vec<_> = hashes
			.iter()
			.filter_map(|hash| pool.ready_transaction(hash))
			.map(|transaction| (**transaction.data()).clone())
			.collect();
		let best = pre_execution.client.info().best_hash;
		pre_execution.queue(Source::Pool, best, extrinsics);
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_signer_gets_a_bounded_number_of_pooled_calls_made_ahead_per_best_block() {
		let (alice, bob) = (AccountId::new([1; 32]), AccountId::new([2; 32]));
		let (best, next) = (Hash::repeat_byte(1), Hash::repeat_byte(2));
		let mut budget = PoolBudget::default();
		let admitted = |budget: &mut PoolBudget, at, signer| {
			(0..100).filter(|_| budget.admit(at, signer)).count() as u32
		};
		// A flood of a hundred calls from one signer: four made ahead, whoever else signs.
		assert_eq!(admitted(&mut budget, best, &alice), POOL_CALLS_PER_SIGNER);
		assert_eq!(admitted(&mut budget, best, &bob), POOL_CALLS_PER_SIGNER);
		assert!(!budget.admit(best, &alice));
		// A new best block: its import took the included calls out of the pool.
		assert_eq!(admitted(&mut budget, next, &alice), POOL_CALLS_PER_SIGNER);
	}
}
