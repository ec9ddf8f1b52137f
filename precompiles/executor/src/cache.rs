//! The node's inference caches: compiled engine modules and loaded models, shared by every block
//! execution through an `Arc` (see `verinfer_interface::InferenceCacheExt`).
//!
//! - **Engines** by the SHA-256 of their blob. Compiling the blob takes seconds; it happens once
//!   per engine per process.
//! - **Loaded models** by (engine, model, declared input shapes): the image of an engine instance
//!   that parsed and optimised the model (see [`LoadedModel`]). Every run starts a fresh instance
//!   from the image, so concurrent calls share one loaded model and never each other's state; the
//!   least recently used go when there are more than [`MAX_LOADED_MODELS`] or their images hold
//!   more than [`MAX_LOADED_MEMORY`], except those **pinned** for the latest block: the chain
//!   charges a model's load once per block and refunds it to the block's later calls (its warm
//!   set, at most [`MAX_WARM_MODELS`] models and [`MAX_WARM_IMAGE_BYTES`]), and says so with
//!   [`Keep::Block`]; the cache keeps every model a block's successful calls pinned until a later
//!   block pins its own, whatever dry runs and pre-execution load meanwhile. So a refunded load is
//!   never a real one: at most one load per pinned model per block, and that one was charged.
//!
//! **A hit gives the same bytes as a miss**, and the same fuel: a run starts from the image the
//! load left, whether the load happened a moment ago or a thousand calls earlier, and the load is
//! a pure function of the engine, the model and the declared shapes. Hits never read the model
//! from state: the content is named by its SHA-256 ([`StoredBytes::sha256`]), which a miss
//! verifies.
//!
//! - **Results made ahead** ([`crate::results`]): the node pre-executes a block's calls on worker
//!   threads ([`InferenceCache::plan`], [`InferenceCache::pre_execute`]); [`InferenceCache::run`]
//!   takes their outcome instead of making the call again.

use std::{
	collections::{BTreeMap, BTreeSet},
	path::PathBuf,
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc, Mutex, OnceLock,
	},
	time::{Duration, Instant},
	vec::Vec,
};

use codec::{DecodeAll, Encode};

use verinfer_primitives::{
	analysis::Analysis,
	engine::{Limits, Measurement},
	inference::{
		Charged, InferenceError, Keep, RunRequest, StoredBytes, MAX_WARM_IMAGE_BYTES,
		MAX_WARM_MODELS,
	},
	tensor::Tensor,
	DeclaredShape,
};

use crate::{
	digest::sha256,
	engine::{Engine, EngineBlob, HostError, LoadedModel},
	results::{Claim, Claimed, Done, ResultKey, Results},
	sync::lock,
};

/// Loaded models kept at most: 32, twice a block's warm set. A validator serves a working set of
/// models; beyond it, a miss costs one load (parse and optimise), not a wrong result.
pub const MAX_LOADED_MODELS: usize = 2 * MAX_WARM_MODELS as usize;

/// Bytes the images of loaded models, and the idle instances made from them, may hold together:
/// 4 GiB, twice a block's warm set. Each image holds its weights and tract's plan, at most
/// [`ENGINE_MEMORY_LIMIT`](verinfer_primitives::analysis::ENGINE_MEMORY_LIMIT).
pub const MAX_LOADED_MEMORY: usize = 2 * MAX_WARM_IMAGE_BYTES as usize;

/// Models pinned at most: a block's warm set twice over, for two blocks of the same height
/// (forks) executed one after the other.
const MAX_PINNED: usize = 2 * MAX_WARM_MODELS as usize;

/// Reads the storage value at a key.
pub type ReadStorage<'a> = dyn FnMut(&[u8]) -> Option<Vec<u8>> + 'a;

/// How a call went: the chain's result, or a failure of this host.
pub type Outcome<T> = Result<Result<T, InferenceError>, HostError>;

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ModelKey {
	engine: [u8; 32],
	model: [u8; 32],
	declared: Vec<u8>,
}

impl ModelKey {
	fn new(engine: &StoredBytes, model: &StoredBytes, declared: &[DeclaredShape]) -> ModelKey {
		ModelKey { engine: engine.sha256, model: model.sha256, declared: declared.encode() }
	}
}

struct Loaded {
	key: ModelKey,
	model: LoadedModel,
	last_used: u64,
}

/// The loaded models, and those the latest block pinned.
#[derive(Default)]
struct LoadedModels {
	models: Vec<Loaded>,
	/// The latest block that pinned models, and the models it pinned (loaded or not: one
	/// pre-execution loaded and another evicted is loaded again once, by the block's charge).
	pinned_block: u64,
	pinned: BTreeSet<ModelKey>,
}

impl LoadedModels {
	/// Pins `key` for `block`; whether it was pinned now (and not before).
	fn pin(&mut self, key: &ModelKey, block: u64) -> bool {
		if block > self.pinned_block {
			self.pinned_block = block;
			self.pinned.clear();
		}
		block == self.pinned_block
			&& self.pinned.len() < MAX_PINNED
			&& self.pinned.insert(key.clone())
	}

	/// Keeps `model`, then drops the least recently used unpinned models while there are too
	/// many or their images hold too much, then the idle instances of the least recently used
	/// while everything still holds too much.
	fn keep(&mut self, key: ModelKey, model: LoadedModel, last_used: u64) {
		// Two threads may have loaded the same model at once: keep one.
		self.models.retain(|entry| entry.key != key);
		self.models.push(Loaded { key, model, last_used });
		self.models.sort_by_key(|entry| core::cmp::Reverse(entry.last_used));
		let images = |models: &[Loaded]| -> usize {
			models.iter().map(|entry| entry.model.image_bytes()).sum()
		};
		while self.models.len() > MAX_LOADED_MODELS || images(&self.models) > MAX_LOADED_MEMORY {
			let Some(oldest) =
				self.models.iter().rposition(|entry| !self.pinned.contains(&entry.key))
			else {
				break;
			};
			self.models.remove(oldest);
		}
		let mut memory: usize = self.models.iter().map(|entry| entry.model.memory_bytes()).sum();
		for entry in self.models.iter().rev() {
			if memory <= MAX_LOADED_MEMORY {
				break;
			}
			memory -= entry.model.memory_bytes() - entry.model.image_bytes();
			entry.model.drop_idle();
		}
	}
}

/// Counters of cache use since the node started.
#[derive(Default, Debug)]
pub struct CacheStats {
	pub engine_compiles: AtomicU64,
	pub model_hits: AtomicU64,
	pub model_misses: AtomicU64,
	/// Calls of [`InferenceCache::run`] served by a result made ahead.
	pub result_hits: AtomicU64,
	/// Calls of [`InferenceCache::run`] made on the calling thread.
	pub result_misses: AtomicU64,
	/// Calls made ahead by [`InferenceCache::pre_execute`].
	pub pre_executed: AtomicU64,
	/// Time hits saved the calling thread, in nanoseconds: what making the call took, less any
	/// wait for the worker making it.
	pub saved_nanos: AtomicU64,
}

/// How a call of [`InferenceCache::run`] was served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Served {
	/// By a result made ahead.
	Ahead,
	/// By a result a worker was making, after waiting for it.
	Waited,
	/// Made on the calling thread.
	Made,
}

/// What the node measures about inference (its Prometheus metrics).
pub trait CacheObserver: Send + Sync {
	/// A call of [`InferenceCache::run`], how it was served and how long it took the caller.
	fn call(&self, served: Served, latency: Duration);
	/// A call made ahead by a worker, and how long it took.
	fn pre_executed(&self, took: Duration);
	/// Time a hit saved the calling thread.
	fn saved(&self, saved: Duration);
	/// A lookup in the loaded-model cache; a miss loads (parses and optimises) the model.
	fn model_cache(&self, hit: bool);
	/// An engine blob compiled (or loaded from the disk cache), and how long it took.
	fn engine_compiled(&self, took: Duration);
}

/// Compiled engines and loaded models; see the module documentation.
#[derive(Default)]
pub struct InferenceCache {
	/// Where compiled engines are kept across restarts, if anywhere.
	disk: Option<PathBuf>,
	engines: Mutex<BTreeMap<[u8; 32], Arc<Engine>>>,
	loaded: Mutex<LoadedModels>,
	clock: AtomicU64,
	results: Results,
	observer: OnceLock<Arc<dyn CacheObserver>>,
	pub stats: CacheStats,
}

impl InferenceCache {
	/// The process-wide cache, for executions that were given none (genesis builds, tools,
	/// tests), keeping compiled engines in [`default_disk_dir`].
	pub fn global() -> Arc<InferenceCache> {
		static GLOBAL: OnceLock<Arc<InferenceCache>> = OnceLock::new();
		GLOBAL
			.get_or_init(|| {
				Arc::new(InferenceCache { disk: default_disk_dir(), ..Default::default() })
			})
			.clone()
	}

	/// A cache that keeps compiled engines in `dir` too (see [`Engine::compile`]).
	pub fn with_disk_cache(dir: PathBuf) -> InferenceCache {
		InferenceCache { disk: Some(dir), ..Default::default() }
	}

	/// Adds an engine compiled beforehand (at node start, say) for the blob of SHA-256 `sha256`.
	pub fn insert_engine(&self, sha256: [u8; 32], engine: Arc<Engine>) {
		lock(&self.engines).insert(sha256, engine);
	}

	/// The engine whose blob is `blob`, compiled once.
	pub fn engine(&self, blob: &StoredBytes, read: &mut ReadStorage) -> Outcome<Arc<Engine>> {
		let mut engines = lock(&self.engines);
		if let Some(engine) = engines.get(&blob.sha256) {
			return Ok(Ok(engine.clone()));
		}
		let bytes = match fetch(blob, read) {
			Ok(bytes) => bytes,
			Err(error) => return Ok(Err(error)),
		};
		let checked = match EngineBlob::check(&bytes) {
			Ok(checked) => checked,
			Err(reason) => {
				return Ok(Err(InferenceError::InvalidEngine(reason.as_bytes().to_vec())))
			},
		};
		let started = Instant::now();
		let engine = Arc::new(Engine::compile(&checked, self.disk.as_deref())?);
		self.stats.engine_compiles.fetch_add(1, Ordering::Relaxed);
		self.observe(|observer| observer.engine_compiled(started.elapsed()));
		engines.insert(blob.sha256, engine.clone());
		Ok(Ok(engine))
	}

	/// Analyses the stored model with the stored engine, within `limits`.
	pub fn analyse(
		&self,
		engine: &StoredBytes,
		model: &StoredBytes,
		declared: &[DeclaredShape],
		limits: Limits,
		read: &mut ReadStorage,
	) -> Outcome<Analysis> {
		let (engine, bytes) = match self.engine_and_model(engine, model, read)? {
			Ok(found) => found,
			Err(error) => return Ok(Err(error)),
		};
		Ok(engine.analyse(&bytes, declared, limits)?.result.map_err(InferenceError::Engine))
	}

	/// Measures the stored model with the stored engine (see [`Engine::measure`]), within
	/// `limits`, and keeps it loaded for the calls to come.
	pub fn measure(
		&self,
		engine: &StoredBytes,
		model: &StoredBytes,
		declared: &[DeclaredShape],
		limits: Limits,
		read: &mut ReadStorage,
	) -> Result<Charged<Measurement>, HostError> {
		let key = ModelKey::new(engine, model, declared);
		let (engine, bytes) = match self.engine_and_model(engine, model, read)? {
			Ok(found) => found,
			Err(error) => return Ok(Charged::unrun(error)),
		};
		let measured = engine.measure(&bytes, declared, limits)?;
		let result = measured.result.map_err(InferenceError::Engine).map(|measured| {
			self.keep(key, measured.loaded);
			measured.measurement
		});
		Ok(Charged { result, usage: measured.usage })
	}

	/// Reports to the node's observer, if it set one.
	fn observe(&self, report: impl FnOnce(&dyn CacheObserver)) {
		if let Some(observer) = self.observer.get() {
			report(&**observer);
		}
	}

	/// Sets what the node measures with; the first observer set stays.
	pub fn set_observer(&self, observer: Arc<dyn CacheObserver>) {
		let _ = self.observer.set(observer);
	}

	/// Makes the call `request`: the outcome made ahead if there is one, else made here from the
	/// loaded model. With [`Keep::Block`], the model is pinned for the block first, and stays
	/// pinned if the call succeeds (see the module documentation).
	pub fn run(
		&self,
		request: &RunRequest,
		keep: Keep,
		read: &mut ReadStorage,
	) -> Result<Charged<Vec<Tensor>>, HostError> {
		let pinned = match keep {
			Keep::Block(block) => {
				let key = ModelKey::new(&request.engine, &request.model, &request.declared);
				lock(&self.loaded).pin(&key, block).then_some(key)
			},
			Keep::Maybe => None,
		};
		let outcome = self.serve(request, read);
		if let Some(key) = pinned {
			if !matches!(outcome, Ok(Charged { result: Ok(_), .. })) {
				lock(&self.loaded).pinned.remove(&key);
			}
		}
		outcome
	}

	/// The outcome of `request`: made ahead, or made now.
	fn serve(
		&self,
		request: &RunRequest,
		read: &mut ReadStorage,
	) -> Result<Charged<Vec<Tensor>>, HostError> {
		let started = Instant::now();
		let key = ResultKey::of(request);
		let claimed = match self.results.claim(&key) {
			Claim::Done { done, waited } => {
				let saved = done.took.saturating_sub(waited);
				self.stats.result_hits.fetch_add(1, Ordering::Relaxed);
				self.stats.saved_nanos.fetch_add(saved.as_nanos() as u64, Ordering::Relaxed);
				let served = if waited.is_zero() { Served::Ahead } else { Served::Waited };
				self.observe(|observer| {
					observer.call(served, started.elapsed());
					observer.saved(saved);
				});
				return Ok(done.outcome);
			},
			Claim::Claimed => Some(Claimed::new(&self.results, key)),
			Claim::Absent => None,
		};
		self.stats.result_misses.fetch_add(1, Ordering::Relaxed);
		let outcome = self.make(request, read);
		if let Some(claimed) = claimed {
			let took = started.elapsed();
			claimed.finish(
				outcome.as_ref().ok().map(|outcome| Done { outcome: outcome.clone(), took }),
			);
		}
		self.observe(|observer| observer.call(Served::Made, started.elapsed()));
		outcome
	}

	/// Plans `request` for pre-execution: false if it was already planned or made, or there is
	/// no room (see [`crate::results`]).
	pub fn plan(&self, request: &RunRequest) -> bool {
		self.results.plan(ResultKey::of(request))
	}

	/// Makes a planned call ahead, on the calling (worker) thread, unless the execution or another
	/// worker claimed it first; whether it made it. A host failure drops the call, which the
	/// execution then makes itself.
	pub fn pre_execute(
		&self,
		request: &RunRequest,
		read: &mut ReadStorage,
	) -> Result<bool, HostError> {
		let key = ResultKey::of(request);
		if !self.results.start(&key) {
			return Ok(false);
		}
		let claimed = Claimed::new(&self.results, key);
		let started = Instant::now();
		let outcome = self.make(request, read);
		let took = started.elapsed();
		let (done, failure) = match outcome {
			Ok(outcome) => (Some(Done { outcome, took }), None),
			Err(failure) => (None, Some(failure)),
		};
		claimed.finish(done);
		self.stats.pre_executed.fetch_add(1, Ordering::Relaxed);
		self.observe(|observer| observer.pre_executed(took));
		failure.map_or(Ok(true), Err)
	}

	/// Planned calls not yet made.
	pub fn planned(&self) -> usize {
		self.results.open()
	}

	/// Makes a call on this thread, from the loaded model, loading it on a miss.
	fn make(
		&self,
		request: &RunRequest,
		read: &mut ReadStorage,
	) -> Result<Charged<Vec<Tensor>>, HostError> {
		let loaded =
			match self.loaded_model(&request.engine, &request.model, &request.declared, read)? {
				Ok(loaded) => loaded,
				Err(error) => return Ok(Charged::unrun(error)),
			};
		let run = loaded.run(&request.inputs, request.limits)?;
		Ok(Charged { result: run.result.map_err(InferenceError::Engine), usage: run.usage })
	}

	/// The model loaded for `declared` by `engine`: kept, or loaded now (within [`Limits::LOAD`])
	/// and kept.
	fn loaded_model(
		&self,
		engine: &StoredBytes,
		model: &StoredBytes,
		declared: &[DeclaredShape],
		read: &mut ReadStorage,
	) -> Outcome<LoadedModel> {
		let key = ModelKey::new(engine, model, declared);
		if let Some(loaded) = self.lookup(&key) {
			self.stats.model_hits.fetch_add(1, Ordering::Relaxed);
			self.observe(|observer| observer.model_cache(true));
			return Ok(Ok(loaded));
		}
		self.stats.model_misses.fetch_add(1, Ordering::Relaxed);
		self.observe(|observer| observer.model_cache(false));
		let (engine, bytes) = match self.engine_and_model(engine, model, read)? {
			Ok(found) => found,
			Err(error) => return Ok(Err(error)),
		};
		let loaded = match engine.load(&bytes, declared, Limits::LOAD)?.result {
			Ok(loaded) => loaded,
			Err(error) => return Ok(Err(InferenceError::Engine(error))),
		};
		self.keep(key, loaded.clone());
		Ok(Ok(loaded))
	}

	/// The compiled engine and the model's bytes.
	fn engine_and_model(
		&self,
		engine: &StoredBytes,
		model: &StoredBytes,
		read: &mut ReadStorage,
	) -> Outcome<(Arc<Engine>, Vec<u8>)> {
		Ok(self.engine(engine, read)?.and_then(|engine| Ok((engine, fetch(model, read)?))))
	}

	fn lookup(&self, key: &ModelKey) -> Option<LoadedModel> {
		let last_used = self.clock.fetch_add(1, Ordering::Relaxed);
		let mut loaded = lock(&self.loaded);
		let entry = loaded.models.iter_mut().find(|entry| &entry.key == key)?;
		entry.last_used = last_used;
		Some(entry.model.clone())
	}

	fn keep(&self, key: ModelKey, model: LoadedModel) {
		let last_used = self.clock.fetch_add(1, Ordering::Relaxed);
		lock(&self.loaded).keep(key, model, last_used);
	}

	/// Whether the model `model` is loaded for the `declared` shapes by the engine `engine`.
	pub fn is_loaded(
		&self,
		engine: &StoredBytes,
		model: &StoredBytes,
		declared: &[DeclaredShape],
	) -> bool {
		let key = ModelKey::new(engine, model, declared);
		lock(&self.loaded).models.iter().any(|entry| entry.key == key)
	}
}

/// Where compiled engines are kept between runs unless told otherwise:
/// `$XDG_CACHE_HOME/verinfer/engine`, else `~/.cache/verinfer/engine`.
pub fn default_disk_dir() -> Option<PathBuf> {
	let base = std::env::var_os("XDG_CACHE_HOME")
		.map(PathBuf::from)
		.or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
	Some(base.join("verinfer").join("engine"))
}

/// The bytes `stored` names, read from state and checked against their SHA-256.
pub fn fetch(stored: &StoredBytes, read: &mut ReadStorage) -> Result<Vec<u8>, InferenceError> {
	let mut bytes = Vec::new();
	for (index, key) in stored.keys.iter().enumerate() {
		let key_index = index as u32;
		let value = read(key).ok_or(InferenceError::MissingBytes { key: key_index })?;
		let chunk = Vec::<u8>::decode_all(&mut &value[..])
			.map_err(|_| InferenceError::MalformedBytes { key: key_index })?;
		bytes.extend_from_slice(&chunk);
	}
	if sha256(&bytes) != stored.sha256 {
		return Err(InferenceError::HashMismatch);
	}
	Ok(bytes)
}
