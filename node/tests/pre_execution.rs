//! Pre-execution changes how long a block takes, never what it holds: a dev chain of
//! inference-heavy blocks is exported and imported into fresh databases with pre-execution off
//! (`--inference-workers 0`) and on, and the imported chains' whole state (every result, hence the
//! state root) is compared byte for byte with the chain that made them. Import itself refuses a
//! block whose execution gives another state root than its header's.
//!
//! The chain benchmark (`scripts/bench.sh`, `--ignored chain_benchmark`) runs the same steps for
//! three model sizes and prints inferences per block, authoring and import times and the ratios.

mod common;

use std::{
	path::{Path, PathBuf},
	time::{Duration, Instant},
};

use common::{verinfer, Node, Rpc};
use sp_core::H256;
use sp_keyring::Sr25519Keyring::{self, Alice, Bob, Charlie, Dave};
use verinfer_precompile::{
	analysis::Analysis,
	cache::sha256,
	synthetic::{self, Targets},
};
use verinfer_runtime::{Runtime, RuntimeCall, MILLI_UNIT};

/// A dev chain seals a block every 2 s: long enough for a full block of calls to be submitted
/// before the next seals, short enough for the test.
const BLOCK_EVERY: &str = "manual-seal-2000";

/// How long the calls may take to be included.
const INCLUSION_WAIT: Duration = Duration::from_secs(180);

/// A model of `multiply_adds` as the chain weighs and runs them: compute-bound (a matrix product
/// whose rows are made from the input), with a one-element input and output, and a 1 MiB weight
/// once it does any products (see [`synthetic::combined`]).
fn model(multiply_adds: u64) -> Vec<u8> {
	synthetic::combined(
		Targets { multiply_adds, elements_touched: 0, input_bytes: 4, output_bytes: 4 },
		multiply_adds,
	)
}

struct Scratch(PathBuf);

impl Scratch {
	fn new(name: &str) -> Scratch {
		let dir = std::env::temp_dir().join(format!("verinfer-{name}-{}", std::process::id()));
		let _ = std::fs::remove_dir_all(&dir);
		std::fs::create_dir_all(&dir).unwrap();
		Scratch(dir)
	}

	fn path(&self, name: &str) -> String {
		self.0.join(name).display().to_string()
	}
}

impl Drop for Scratch {
	fn drop(&mut self) {
		let _ = std::fs::remove_dir_all(&self.0);
	}
}

/// A block the producing node authored: its number, how long preparing it took, extrinsics.
#[derive(Debug)]
struct Authored {
	number: u32,
	millis: u64,
	extrinsics: u32,
}

/// What a dev node made: the blocks holding the calls, and how long authoring them took.
struct Produced {
	model: H256,
	authored: Vec<Authored>,
}

/// Runs a dev node at `base`, registers `bytes` and has `calls` calls of it (each with other
/// inputs, from four accounts) included; stops the node once they are.
async fn produce(base: &str, bytes: &[u8], calls: u64, workers: usize) -> Produced {
	let workers = workers.to_string();
	let mut node = Node::start(&[
		"--dev",
		"--base-path",
		base,
		"--consensus",
		BLOCK_EVERY,
		"--inference-workers",
		&workers,
	]);
	let rpc = node.client().await;
	let file = format!("{base}/model.onnx");
	std::fs::write(&file, bytes).unwrap();
	let (code, stdout, stderr) = verinfer(&[
		"model",
		"register",
		&file,
		"--name",
		"heavy",
		"--suri",
		"//Alice",
		"--url",
		&node.rpc_url,
	]);
	assert_eq!(code, 0, "{stdout}{stderr}");
	let model = H256(sha256(bytes));
	let key = pallet_models::Analyses::<Runtime>::hashed_key_for(model);
	let analysis: Analysis = rpc.client.decoded(&key, None).await.unwrap().expect("analysed");
	let first_request = next_request_id(&rpc).await;

	// Every call its own inputs: no two share an outcome, so none is served by another's.
	let signers = [Alice, Bob, Charlie, Dave];
	let submitters = signers.iter().enumerate().map(|(index, signer)| {
		let (rpc, analysis) = (&rpc, &analysis);
		async move {
			// Nonces counted here: the pool's next nonce can lag while a block is imported.
			let mut nonce = rpc.account(&signer.to_account_id(), None).await.nonce;
			for call in (index as u64..calls).step_by(signers.len()) {
				let inputs = synthetic::inputs(&analysis.inputs, call);
				submit(rpc, *signer, nonce, model, inputs).await;
				nonce += 1;
			}
		}
	});
	futures::future::join_all(submitters).await;
	let deadline = Instant::now() + INCLUSION_WAIT;
	let last = first_request + calls - 1;
	while rpc.call("inference_result", jsonrpsee::rpc_params![last]).await.is_null() {
		assert!(Instant::now() < deadline, "the calls were not included in time");
		tokio::time::sleep(Duration::from_millis(250)).await;
	}
	let log = node.full_log();
	node.stop();
	let authored = log
		.lines()
		.filter_map(authored)
		.filter(|block| block.extrinsics > 2) // the timestamp inherent and a call or more
		.collect();
	Produced { model, authored }
}

async fn submit(
	rpc: &Rpc,
	signer: Sr25519Keyring,
	nonce: verinfer_runtime::Nonce,
	model: H256,
	inputs: Vec<verinfer_precompile::Tensor>,
) {
	let call = RuntimeCall::Inference(pallet_inference::Call::infer {
		model,
		inputs,
		max_fee: MILLI_UNIT,
	});
	let xt = rpc.client.sign_with_nonce(&signer.pair(), call, nonce).await.unwrap();
	rpc.submit(&xt).await;
}

async fn next_request_id(rpc: &Rpc) -> u64 {
	let key = pallet_inference::NextRequestId::<Runtime>::hashed_key().to_vec();
	rpc.client.decoded(&key, None).await.unwrap().unwrap_or(0)
}

/// `🎁 Prepared block for proposing at N (X ms) … extrinsics_count: K`.
fn authored(line: &str) -> Option<Authored> {
	let rest = line.split("Prepared block for proposing at ").nth(1)?;
	let (number, rest) = rest.split_once(" (")?;
	let (millis, rest) = rest.split_once(" ms)")?;
	let extrinsics = rest.split("extrinsics_count: ").nth(1)?;
	Some(Authored {
		number: number.parse().ok()?,
		millis: millis.parse().ok()?,
		extrinsics: extrinsics.trim().parse().ok()?,
	})
}

/// A block import as the node logged it (`pre-execution` debug).
#[derive(Debug, Clone, Copy)]
struct Imported {
	number: u32,
	micros: u64,
	calls: u64,
	ahead: u64,
	made: u64,
}

/// `Imported #N in X µs: C inference calls, A served ahead, M made in the block, Q queued`.
fn imported(line: &str) -> Option<Imported> {
	let rest = line.split("Imported #").nth(1)?;
	let (number, rest) = rest.split_once(" in ")?;
	let (micros, rest) = rest.split_once(" µs: ")?;
	let (calls, rest) = rest.split_once(" inference calls, ")?;
	let (ahead, rest) = rest.split_once(" served ahead, ")?;
	let (made, _) = rest.split_once(" made in the block")?;
	Some(Imported {
		number: number.parse().ok()?,
		micros: micros.parse().ok()?,
		calls: calls.parse().ok()?,
		ahead: ahead.parse().ok()?,
		made: made.parse().ok()?,
	})
}

/// `verinfer <args> --dev --base-path <base>`; panics unless it succeeds; its stderr.
fn on_chain(args: &[&str], base: &str) -> (String, String) {
	let mut all = args.to_vec();
	all.extend(["--dev", "--base-path", base]);
	let (code, stdout, stderr) = verinfer(&all);
	assert_eq!(code, 0, "verinfer {all:?}\n{stderr}");
	(stdout, stderr)
}

/// Imports `blocks` into a fresh database at `base` with `workers` pre-execution workers, as a
/// node that has run before (its compiled engine on disk, copied from `warm`) would; the blocks
/// that ran inference.
fn import(blocks: &str, base: &str, warm: &str, workers: usize) -> Vec<Imported> {
	let engine_cache = |base: &str| Path::new(base).join("chains/verinfer_dev/engine-cache");
	std::fs::create_dir_all(engine_cache(base)).unwrap();
	for entry in std::fs::read_dir(engine_cache(warm)).unwrap() {
		let entry = entry.unwrap();
		std::fs::copy(entry.path(), engine_cache(base).join(entry.file_name())).unwrap();
	}
	let workers = workers.to_string();
	let (_, log) = on_chain(
		&[
			"import-blocks",
			"--binary",
			blocks,
			"--inference-workers",
			&workers,
			"-l",
			"pre-execution=debug",
		],
		base,
	);
	log.lines().filter_map(imported).collect()
}

/// The whole state at the best block, as `export-state` writes it.
fn state(base: &str) -> String {
	on_chain(&["export-state"], base).0
}

/// Stored results in an exported state.
fn results_in(state: &str) -> usize {
	// `Inference.Results`: the pallet's and the map's names, each hashed with twox-128.
	let prefix =
		[sp_io::hashing::twox_128(b"Inference"), sp_io::hashing::twox_128(b"Results")].concat();
	let prefix = sp_core::bytes::to_hex(&prefix, false);
	let spec: serde_json::Value = serde_json::from_str(state).unwrap();
	let top = spec["genesis"]["raw"]["top"].as_object().expect("a raw state");
	top.keys().filter(|key| key.starts_with(&prefix)).count()
}

fn total_micros(blocks: &[Imported]) -> u64 {
	blocks.iter().map(|block| block.micros).sum()
}

#[tokio::test]
async fn a_chain_imported_with_pre_execution_off_and_on_has_the_same_blocks_results_and_state() {
	const CALLS: u64 = 150;
	let scratch = Scratch::new("pre-execution");
	let (made, off, on) = (scratch.path("made"), scratch.path("off"), scratch.path("on"));
	let blocks = scratch.path("blocks.bin");
	let produced = produce(&made, &model(20_000_000), CALLS, 2).await;
	on_chain(&["export-blocks", "--binary", &blocks], &made);

	let imported_off = import(&blocks, &off, &made, 0);
	let imported_on = import(&blocks, &on, &made, 2);
	for (mode, imported) in [("off", &imported_off), ("on", &imported_on)] {
		let calls: u64 = imported.iter().map(|block| block.calls).sum();
		assert_eq!(calls, CALLS, "pre-execution {mode}: every call ran once, in its block");
	}
	assert!(imported_off.iter().all(|block| block.ahead == 0), "nothing is made ahead when off");
	let ahead: u64 = imported_on.iter().map(|block| block.ahead).sum();
	assert!(ahead > 0, "with workers, calls are served from pre-execution: {imported_on:?}");

	// The same blocks give the same state, byte for byte, whoever made the calls.
	let state_made = state(&made);
	assert_eq!(results_in(&state_made), CALLS as usize);
	assert!(state(&off) == state_made, "the chain imported without pre-execution differs");
	assert!(state(&on) == state_made, "the chain imported with pre-execution differs");

	let (micros_off, micros_on) = (total_micros(&imported_off), total_micros(&imported_on));
	println!(
		"{CALLS} calls of a 20 M multiply-add model ({}) in blocks {:?}; import of those blocks: \
		 {:.0} ms without pre-execution, {:.0} ms with 2 workers ({ahead} of {CALLS} calls served \
		 ahead): {:.2}×",
		produced.model,
		imported_on.iter().map(|block| block.number).collect::<Vec<_>>(),
		micros_off as f64 / 1e3,
		micros_on as f64 / 1e3,
		micros_off as f64 / micros_on as f64,
	);
}

/// The chain benchmark behind `scripts/bench.sh`: for three model sizes, a dev chain authored
/// with pre-execution off and on (authoring time per call), and the on-chain's blocks imported
/// with it off and on (import time of the same blocks). One JSON line per size on stdout.
#[tokio::test]
#[ignore = "a benchmark: scripts/bench.sh runs it"]
async fn chain_benchmark() {
	let calls: u64 = std::env::var("BENCH_CALLS").ok().and_then(|n| n.parse().ok()).unwrap_or(300);
	let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
	for (name, multiply_adds) in [("small", 0), ("medium", 5_000_000), ("large", 50_000_000)] {
		let scratch = Scratch::new(&format!("bench-{name}"));
		let bytes = model(multiply_adds);
		let authored_off = produce(&scratch.path("made-off"), &bytes, calls, 0).await.authored;
		let made = scratch.path("made-on");
		let authored_on = produce(&made, &bytes, calls, workers).await.authored;
		let blocks = scratch.path("blocks.bin");
		on_chain(&["export-blocks", "--binary", &blocks], &made);
		let imported_off = import(&blocks, &scratch.path("off"), &made, 0);
		let imported_on = import(&blocks, &scratch.path("on"), &made, workers);

		let per_call = |authored: &[Authored]| {
			let millis: u64 = authored.iter().map(|block| block.millis).sum();
			// Each block holds the timestamp inherent and the calls.
			let included: u32 = authored.iter().map(|block| block.extrinsics - 1).sum();
			millis as f64 / included as f64
		};
		let per_block: Vec<u64> = imported_on.iter().map(|block| block.calls).collect();
		let (import_off, import_on) = (total_micros(&imported_off), total_micros(&imported_on));
		let line = serde_json::json!({
			"model": name,
			"multiply_adds": multiply_adds,
			"model_bytes": bytes.len(),
			"calls": calls,
			"workers": workers,
			"blocks": per_block.len(),
			"calls_per_block_mean": calls as f64 / per_block.len() as f64,
			"calls_per_block_max": per_block.iter().max(),
			"authoring_ms_per_call_off": per_call(&authored_off),
			"authoring_ms_per_call_on": per_call(&authored_on),
			"authoring_blocks_off": authored_off.iter().map(|b| (b.number, b.millis, b.extrinsics)).collect::<Vec<_>>(),
			"authoring_blocks_on": authored_on.iter().map(|b| (b.number, b.millis, b.extrinsics)).collect::<Vec<_>>(),
			"import_ms_off": import_off as f64 / 1e3,
			"import_ms_on": import_on as f64 / 1e3,
			"import_ms_per_block_off": import_off as f64 / 1e3 / imported_off.len() as f64,
			"import_ms_per_block_on": import_on as f64 / 1e3 / imported_on.len() as f64,
			"import_speedup": import_off as f64 / import_on as f64,
			"served_ahead": imported_on.iter().map(|block| block.ahead).sum::<u64>(),
			"made_in_block_on": imported_on.iter().map(|block| block.made).sum::<u64>(),
		});
		println!("BENCH {line}");
	}
}
