//! The host functions as the runtime calls them: engine and model read from state by key, the
//! node's cache handed in as an extension.

use std::{
	collections::BTreeMap,
	sync::{atomic::Ordering, Arc},
};

use codec::Encode;
use sp_io::TestExternalities;
use verinfer_executor::{
	cache::{InferenceCache, MAX_LOADED_MODELS},
	digest::sha256,
	engine::Engine,
	ENGINE_BLOB,
};
use verinfer_fixtures::{corpus, npy, read};
use verinfer_interface::{inference, InferenceCacheExt};
use verinfer_primitives::{
	engine::{EngineError, Limits, Usage},
	inference::{Charged, InferenceError, Keep, RunRequest, StoredBytes, MAX_WARM_MODELS},
	probe::probe_inputs,
	Tensor,
};
use verinfer_synthetic as synthetic;

/// A call through the host function, within the most a call may use.
fn run(
	engine: StoredBytes,
	model: StoredBytes,
	inputs: Vec<Tensor>,
) -> Result<Vec<Tensor>, InferenceError> {
	inference::run(engine, model, vec![], inputs, Limits::CALL, Keep::Maybe).result
}

/// Puts `bytes` into state in chunks of `chunk` under `prefix ++ index`.
fn store(ext: &mut TestExternalities, prefix: &[u8], bytes: &[u8], chunk: usize) -> StoredBytes {
	let keys = bytes
		.chunks(chunk)
		.enumerate()
		.map(|(index, part)| {
			let key = [prefix, &(index as u32).to_be_bytes()].concat();
			// As a FRAME storage item of BoundedVec<u8, _> keeps it.
			ext.insert(key.clone(), part.to_vec().encode());
			key
		})
		.collect();
	StoredBytes { sha256: sha256(bytes), keys }
}

struct Chain {
	ext: TestExternalities,
	engine: StoredBytes,
	cache: Arc<InferenceCache>,
}

/// State holding the engine blob, and a cache, either empty or holding the engine compiled once
/// for all tests (compiling takes seconds).
fn chain_with(cache: InferenceCache) -> Chain {
	let mut ext = TestExternalities::default();
	let engine =
		store(&mut ext, b"engine", ENGINE_BLOB.expect("the engine blob is built"), 1 << 20);
	let cache = Arc::new(cache);
	ext.register_extension(InferenceCacheExt(cache.clone()));
	Chain { ext, engine, cache }
}

fn chain() -> Chain {
	let cache = InferenceCache::default();
	cache.insert_engine(sha256(ENGINE_BLOB.unwrap()), Engine::built_in().unwrap());
	chain_with(cache)
}

#[test]
fn a_model_stored_in_chunks_runs_and_a_cache_hit_returns_the_bytes_of_the_miss() {
	let mut chain = chain_with(InferenceCache::default());
	for (index, model) in corpus().into_iter().enumerate() {
		let stored = store(&mut chain.ext, &[b'm', index as u8], &model.model, 4096);
		let direct = Engine::built_in()
			.unwrap()
			.run(&model.model, &model.inputs, Limits::CALL)
			.unwrap()
			.result
			.unwrap();
		let (engine, inputs) = (chain.engine.clone(), model.inputs.clone());
		let (miss, hit) = chain.ext.execute_with(|| {
			let miss = run(engine.clone(), stored.clone(), inputs.clone());
			let hit = run(engine, stored, inputs);
			(miss, hit)
		});
		assert_eq!(miss.as_ref(), Ok(&direct), "{}", model.name);
		assert_eq!(hit, miss, "{}", model.name);
	}
	let stats = &chain.cache.stats;
	let models = corpus().len() as u64;
	assert_eq!(stats.engine_compiles.load(Ordering::Relaxed), 1);
	assert_eq!(stats.model_misses.load(Ordering::Relaxed), models);
	assert_eq!(stats.model_hits.load(Ordering::Relaxed), models);
}

#[test]
fn a_cache_hit_does_not_read_the_model_from_state() {
	let mut chain = chain();
	let model = read("models", "mlp.onnx");
	let stored = store(&mut chain.ext, b"mlp", &model, 100);
	let inputs = vec![npy("models", "mlp.input0.npy")];
	let engine = chain.engine.clone();
	let first = chain.ext.execute_with(|| run(engine.clone(), stored.clone(), inputs.clone()));
	// The bytes leave state; the loaded model still answers, with the same bytes.
	for key in &stored.keys {
		chain.ext.execute_with(|| sp_io::storage::clear(key));
	}
	let engine = chain.engine.clone();
	let second = chain.ext.execute_with(|| run(engine, stored, inputs));
	assert!(first.is_ok());
	assert_eq!(second, first);
}

#[test]
fn missing_or_altered_model_bytes_are_deterministic_errors() {
	let mut chain = chain();
	let model = read("models", "mlp.onnx");
	let mut stored = store(&mut chain.ext, b"mlp", &model, 100);
	let inputs = vec![npy("models", "mlp.input0.npy")];
	let engine = chain.engine.clone();

	let mut missing = stored.clone();
	missing.keys.push(b"nowhere".to_vec());
	let altered = StoredBytes { sha256: sha256(b"other bytes"), ..stored.clone() };
	stored.keys.truncate(0);
	let (missing, altered) = chain.ext.execute_with(|| {
		(run(engine.clone(), missing, inputs.clone()), inference::analyse(engine, altered, vec![]))
	});
	assert_eq!(missing, Err(InferenceError::MissingBytes { key: (model.len() / 100 + 1) as u32 }));
	assert_eq!(altered, Err(InferenceError::HashMismatch));
}

#[test]
fn a_value_that_is_not_an_encoded_byte_vector_is_a_deterministic_error() {
	let mut chain = chain();
	let model = read("models", "mlp.onnx");
	let mut stored = store(&mut chain.ext, b"mlp", &model, 100);
	// Raw bytes where an encoded vector belongs: the compact length prefix does not fit.
	chain.ext.insert(b"raw".to_vec(), vec![0xff; 10]);
	stored.keys.insert(0, b"raw".to_vec());
	let engine = chain.engine.clone();
	let result = chain.ext.execute_with(|| inference::analyse(engine, stored, vec![]));
	assert_eq!(result, Err(InferenceError::MalformedBytes { key: 0 }));
}

#[test]
fn analysis_and_refusals_come_through_the_host_function() {
	let mut chain = chain();
	let stored = store(&mut chain.ext, b"rand", &read("hostile", "random_normal.onnx"), 1 << 20);
	let engine = chain.engine.clone();
	let (analysis, run) = chain.ext.execute_with(|| {
		(
			inference::analyse(engine.clone(), stored.clone(), vec![]),
			run(engine, stored, vec![npy("hostile", "random_normal.input0.npy")]),
		)
	});
	let analysis = analysis.unwrap();
	assert!(!analysis.is_accepted());
	assert_eq!(run, Err(InferenceError::Engine(EngineError::Refused(analysis.refusals))));
}

#[test]
fn an_engine_blob_that_can_never_run_is_a_deterministic_error_not_a_host_failure() {
	let mut chain = chain_with(InferenceCache::default());
	let model = store(&mut chain.ext, b"mlp", &read("models", "mlp.onnx"), 4096);
	// Not Wasm; an empty module (valid Wasm, no engine ABI); the blob truncated mid-section.
	let blob = ENGINE_BLOB.unwrap();
	let invalid = "not a Wasm module the engine configuration accepts (bulk memory, threads and \
	               relaxed SIMD are not)";
	let cases: [(&[u8], &str); 3] = [
		(b"garbage", invalid),
		(b"\0asm\x01\0\0\0", "the engine blob lacks an export of the engine ABI"),
		(&blob[..blob.len() / 2], invalid),
	];
	for (index, (bytes, reason)) in cases.into_iter().enumerate() {
		let engine = store(&mut chain.ext, &[b'e', index as u8], bytes, 1 << 20);
		let model = model.clone();
		let result = chain.ext.execute_with(|| inference::analyse(engine, model, vec![]));
		assert_eq!(result, Err(InferenceError::InvalidEngine(reason.as_bytes().to_vec())));
	}
	assert_eq!(chain.cache.stats.engine_compiles.load(Ordering::Relaxed), 0);
}

#[test]
fn the_engine_blob_with_a_custom_section_appended_is_another_engine_that_gives_the_same_bytes() {
	let mut chain = chain();
	let model = store(&mut chain.ext, b"mlp", &read("models", "mlp.onnx"), 4096);
	let inputs = vec![npy("models", "mlp.input0.npy")];
	// A custom section (id 0): its name, then any bytes. Wasm semantics ignore it.
	let name = b"verinfer-test";
	let section = [&[name.len() as u8][..], name, b"payload"].concat();
	let other = [ENGINE_BLOB.unwrap(), &[0, section.len() as u8], &section].concat();
	let other = store(&mut chain.ext, b"other", &other, 1 << 20);
	assert_ne!(other.sha256, chain.engine.sha256);
	let engine = chain.engine.clone();
	let (original, replaced) = chain
		.ext
		.execute_with(|| (run(engine, model.clone(), inputs.clone()), run(other, model, inputs)));
	assert_eq!(original.unwrap(), replaced.unwrap());
}

/// The corpus stored in `chain`, as the calls a block would make, and the state those calls read.
fn corpus_requests(chain: &mut Chain) -> (Vec<RunRequest>, BTreeMap<Vec<u8>, Vec<u8>>) {
	let mut requests: Vec<RunRequest> = corpus()
		.into_iter()
		.enumerate()
		.map(|(index, model)| RunRequest {
			engine: chain.engine.clone(),
			model: store(&mut chain.ext, &[b'm', index as u8], &model.model, 4096),
			declared: vec![],
			inputs: model.inputs,
			limits: Limits::CALL,
		})
		.collect();
	// A model the engine refuses (a verdict, kept) and one whose bytes in state are not those it
	// is named by (depends on state, never kept).
	requests.push(RunRequest {
		engine: chain.engine.clone(),
		model: store(&mut chain.ext, b"rand", &read("hostile", "random_normal.onnx"), 1 << 20),
		declared: vec![],
		inputs: vec![npy("hostile", "random_normal.input0.npy")],
		limits: Limits::CALL,
	});
	let mut altered = requests[0].clone();
	altered.model.sha256 = sha256(b"other bytes");
	requests.push(altered);
	let keys: Vec<Vec<u8>> = requests
		.iter()
		.flat_map(|request| request.engine.keys.iter().chain(&request.model.keys))
		.cloned()
		.collect();
	let state = chain.ext.execute_with(|| {
		keys.into_iter()
			.filter_map(|key| sp_io::storage::get(&key).map(|value| (key, value.to_vec())))
			.collect()
	});
	(requests, state)
}

#[test]
fn measuring_a_model_gives_its_load_and_its_costliest_probe_and_keeps_it_loaded() {
	let mut chain = chain();
	let model = read("models", "mlp.onnx");
	let stored = store(&mut chain.ext, b"mlp", &model, 1 << 20);
	let engine = chain.engine.clone();
	let measured = chain
		.ext
		.execute_with(|| inference::measure(engine.clone(), stored.clone(), vec![], Limits::LOAD));
	let measurement = measured.result.expect("the mlp measures");

	// Each probe run through the host function, from the kept model: no second load.
	let probes = probe_inputs(&measurement.analysis.inputs);
	let runs: Vec<Charged<Vec<Tensor>>> = chain.ext.execute_with(|| {
		probes
			.iter()
			.map(|inputs| {
				let inputs = inputs.clone();
				inference::run(
					engine.clone(),
					stored.clone(),
					vec![],
					inputs,
					Limits::CALL,
					Keep::Maybe,
				)
			})
			.collect()
	});
	assert_eq!(chain.cache.stats.model_misses.load(Ordering::Relaxed), 0);
	assert_eq!(chain.cache.stats.model_hits.load(Ordering::Relaxed), 2);
	let most = runs.iter().map(|run| run.usage.fuel).max().unwrap();
	assert_eq!(measurement.probe.fuel, most);
	let probed: u64 = runs.iter().map(|run| run.usage.fuel).sum();
	assert_eq!(measured.usage.fuel, measurement.load.fuel + probed, "the whole work is charged");
	assert!(measurement.load.fuel > 100 * most, "loading costs far more than a run");

	// With half what the probe used, the same call runs out, charged its limit.
	let limits = Limits { fuel: runs[0].usage.fuel / 2, ..Limits::CALL };
	let starved = chain.ext.execute_with(|| {
		inference::run(engine, stored, vec![], probes[0].clone(), limits, Keep::Maybe)
	});
	assert_eq!(
		starved,
		Charged {
			result: Err(InferenceError::Engine(EngineError::OutOfFuel { limit: limits.fuel })),
			usage: Usage { fuel: limits.fuel, memory: starved.usage.memory },
		}
	);
}

/// Every request through the host function, in order, as a block executes them.
fn execute(chain: &mut Chain, requests: &[RunRequest]) -> Vec<Charged<Vec<Tensor>>> {
	let requests = requests.to_vec();
	chain.ext.execute_with(|| {
		requests
			.into_iter()
			.map(|r| inference::run(r.engine, r.model, r.declared, r.inputs, r.limits, Keep::Maybe))
			.collect()
	})
}

/// Makes `requests` ahead on `workers` threads, as the node's pre-execution workers do.
fn pre_execute(
	cache: &Arc<InferenceCache>,
	requests: &[RunRequest],
	state: &BTreeMap<Vec<u8>, Vec<u8>>,
	workers: usize,
) -> Vec<std::thread::JoinHandle<()>> {
	for request in requests {
		assert!(cache.plan(request));
	}
	(0..workers)
		.map(|worker| {
			let (cache, requests, state) = (cache.clone(), requests.to_vec(), state.clone());
			std::thread::spawn(move || {
				// Workers take the calls from different ends, so they meet in the middle.
				let mut order: Vec<&RunRequest> = requests.iter().collect();
				if worker % 2 == 1 {
					order.reverse();
				}
				for request in order {
					let mut read = |key: &[u8]| state.get(key).cloned();
					cache.pre_execute(request, &mut read).expect("no host failure");
				}
			})
		})
		.collect()
}

#[test]
fn calls_made_ahead_give_the_bytes_the_execution_makes_itself_and_state_dependent_ones_are_made_again(
) {
	let mut plain = chain();
	let (requests, _) = corpus_requests(&mut plain);
	let made = execute(&mut plain, &requests);
	assert_eq!(made.last(), Some(&Charged::unrun(InferenceError::HashMismatch)));
	assert!(matches!(
		made[made.len() - 2].result,
		Err(InferenceError::Engine(EngineError::Refused(_)))
	));
	assert!(made[0].usage.fuel > 0);

	// Everything made ahead first: each pure call is a hit, the state-dependent one a miss.
	let mut ahead = chain();
	let (requests, state) = corpus_requests(&mut ahead);
	for worker in pre_execute(&ahead.cache, &requests, &state, 2) {
		worker.join().unwrap();
	}
	assert_eq!(ahead.cache.planned(), 0);
	assert_eq!(execute(&mut ahead, &requests), made);
	let stats = &ahead.cache.stats;
	assert_eq!(stats.pre_executed.load(Ordering::Relaxed), requests.len() as u64);
	assert_eq!(stats.result_hits.load(Ordering::Relaxed), requests.len() as u64 - 1);
	assert_eq!(stats.result_misses.load(Ordering::Relaxed), 1);
	assert!(stats.saved_nanos.load(Ordering::Relaxed) > 0);

	// Workers and the execution at once: whoever makes a call, the bytes are the same.
	let mut racing = chain();
	let (requests, state) = corpus_requests(&mut racing);
	let workers = pre_execute(&racing.cache, &requests, &state, 2);
	assert_eq!(execute(&mut racing, &requests), made);
	for worker in workers {
		worker.join().unwrap();
	}
	let stats = &racing.cache.stats;
	let calls =
		stats.result_hits.load(Ordering::Relaxed) + stats.result_misses.load(Ordering::Relaxed);
	assert_eq!(calls, requests.len() as u64);
	assert_eq!(racing.cache.planned(), 0);
}

/// Calls of the same small model, distinct by `salt`, stored in `chain`.
fn salted_models(chain: &mut Chain, salts: std::ops::Range<u64>) -> Vec<StoredBytes> {
	salts
		.map(|salt| {
			let model = synthetic::elementwise(16, salt);
			store(&mut chain.ext, &[b"salted", &salt.to_be_bytes()[..]].concat(), &model, 4096)
		})
		.collect()
}

/// A call of a [`salted_models`] model, keeping it as `keep` says.
fn call_salted(chain: &mut Chain, model: &StoredBytes, keep: Keep) -> Charged<Vec<Tensor>> {
	let x = Tensor::new(verinfer_primitives::DType::F32, vec![1, 1], 1f32.to_le_bytes().to_vec())
		.unwrap();
	let (engine, model) = (chain.engine.clone(), model.clone());
	chain.ext.execute_with(|| inference::run(engine, model, vec![], vec![x], Limits::CALL, keep))
}

#[test]
fn models_pinned_for_the_block_stay_loaded_while_other_models_come_and_go() {
	let mut chain = chain();
	let warm = salted_models(&mut chain, 0..MAX_WARM_MODELS as u64);
	let others = salted_models(&mut chain, 1000..1000 + MAX_LOADED_MODELS as u64 + 1);
	// Block 7 pins its warm set; then dry runs (or pre-execution) load more models than the
	// cache keeps, and block 7's calls still find theirs loaded: their refunded loads are not
	// made again.
	for model in &warm {
		assert!(call_salted(&mut chain, model, Keep::Block(7)).result.is_ok());
	}
	for model in &others {
		assert!(call_salted(&mut chain, model, Keep::Maybe).result.is_ok());
	}
	let loaded =
		|chain: &Chain, model: &StoredBytes| chain.cache.is_loaded(&chain.engine, model, &[]);
	assert!(warm.iter().all(|model| loaded(&chain, model)), "the warm set was evicted");
	assert!(!others.iter().all(|model| loaded(&chain, model)), "the cache kept every model");
	let misses = chain.cache.stats.model_misses.load(Ordering::Relaxed);
	for model in &warm {
		assert!(call_salted(&mut chain, model, Keep::Block(7)).result.is_ok());
	}
	assert_eq!(chain.cache.stats.model_misses.load(Ordering::Relaxed), misses);

	// Once block 8 pins its own, block 7's models are unpinned and go first.
	let next = salted_models(&mut chain, 2000..2001);
	assert!(call_salted(&mut chain, &next[0], Keep::Block(8)).result.is_ok());
	for model in &others {
		assert!(call_salted(&mut chain, model, Keep::Maybe).result.is_ok());
	}
	assert!(loaded(&chain, &next[0]));
	assert!(!warm.iter().all(|model| loaded(&chain, model)), "block 7's pins outlived it");
}

#[test]
fn a_failed_call_pins_nothing() {
	let mut chain = chain();
	let failing = salted_models(&mut chain, 0..1);
	let others = salted_models(&mut chain, 1000..1000 + MAX_LOADED_MODELS as u64 + 1);
	// Out of fuel: the block's change to its warm set is reverted with the call, so the node
	// must not keep the model for it.
	let (engine, model) = (chain.engine.clone(), failing[0].clone());
	let x = Tensor::new(verinfer_primitives::DType::F32, vec![1, 1], vec![0; 4]).unwrap();
	let starved = Limits { fuel: 1, ..Limits::CALL };
	let failed = chain
		.ext
		.execute_with(|| inference::run(engine, model, vec![], vec![x], starved, Keep::Block(3)));
	assert!(matches!(failed.result, Err(InferenceError::Engine(EngineError::OutOfFuel { .. }))));
	for model in &others {
		assert!(call_salted(&mut chain, model, Keep::Maybe).result.is_ok());
	}
	assert!(!chain.cache.is_loaded(&chain.engine, &failing[0], &[]));
}
