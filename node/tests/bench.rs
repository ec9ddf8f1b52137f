//! The chain benchmarks behind `scripts/bench.sh`, ignored by `cargo test`: each prints one
//! `BENCH {json}` line per case on stdout.
//!
//! - `chain_benchmark`: for three model sizes, a dev chain authored with pre-execution off and
//!   on (authoring time per call), and the blocks the second made imported with it off and on
//!   (import time of the same blocks, and the speed-up);
//! - `registration_benchmark`: time and blocks to register a 1 MB and a 20 MB model on a dev
//!   chain sealing a block every 6 s, as the live chain's Aura slots do;
//! - `hostile_blocks_benchmark`: for each model of the hostile-cost corpus that registration
//!   accepts, blocks full of its calls on their hostile inputs, imported without pre-execution
//!   (every call made in the block), each block's import time against the weight it consumed.

mod common;

use std::time::Instant;

use common::{
	blocks::{
		import, model, on_chain, produce, produce_with, total_micros, Authored, Imported, Scratch,
	},
	verinfer, Node,
};
use verinfer_fixtures::cost_fixtures;
use verinfer_primitives::{analysis::Analysis, Tensor};

/// The chain benchmark behind `scripts/bench.sh`: for three model sizes, a dev chain authored
/// with pre-execution off and on (authoring time per call), and the on-chain's blocks imported
/// with it off and on (import time of the same blocks). One JSON line per size on stdout.
#[tokio::test]
#[ignore = "a benchmark: scripts/bench.sh runs it"]
async fn chain_benchmark() {
	let calls: u64 = std::env::var("BENCH_CALLS").ok().and_then(|n| n.parse().ok()).unwrap_or(300);
	let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
	let repeats: usize =
		std::env::var("BENCH_REPEATS").ok().and_then(|n| n.parse().ok()).unwrap_or(3);
	let only = std::env::var("BENCH_MODELS").unwrap_or_default();
	for (name, multiply_adds) in [("small", 0), ("medium", 5_000_000), ("large", 50_000_000)] {
		if !only.is_empty() && !only.split(',').any(|model| model == name) {
			continue;
		}
		let scratch = Scratch::new(&format!("bench-{name}"));
		let bytes = model(multiply_adds);
		let authored_off = produce(&scratch.path("made-off"), &bytes, calls, 0).await.authored;
		let made = scratch.path("made-on");
		let authored_on = produce(&made, &bytes, calls, workers).await.authored;
		let blocks = scratch.path("blocks.bin");
		on_chain(&["export-blocks", "--binary", &blocks], &made);
		// Off and on in turns, REPEATS times each; the run of median total time stands for each.
		let (mut runs_off, mut runs_on) = (Vec::new(), Vec::new());
		for repeat in 0..repeats {
			for (runs, mode_workers) in [(&mut runs_off, 0), (&mut runs_on, workers)] {
				let base = scratch.path(&format!("import-{repeat}-{mode_workers}"));
				runs.push(import(&blocks, &base, mode_workers));
				let _ = std::fs::remove_dir_all(&base);
			}
		}
		let median = |mut runs: Vec<Vec<Imported>>| {
			runs.sort_by_key(|run| total_micros(run));
			let totals: Vec<f64> = runs.iter().map(|run| total_micros(run) as f64 / 1e3).collect();
			(runs.swap_remove(runs.len() / 2), totals)
		};
		let ((imported_off, totals_off), (imported_on, totals_on)) =
			(median(runs_off), median(runs_on));

		let per_call = |authored: &[Authored]| {
			let millis: u64 = authored.iter().map(|block| block.millis).sum();
			// Each block holds the timestamp inherent and the calls.
			let included: u32 = authored.iter().map(|block| block.extrinsics - 1).sum();
			millis as f64 / included as f64
		};
		let per_block: Vec<u64> = imported_on.iter().map(|block| block.calls).collect();
		let (import_off, import_on) = (total_micros(&imported_off), total_micros(&imported_on));
		let line = serde_json::json!({
			"kind": "chain",
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
			"import_ms_runs_off": totals_off,
			"import_ms_runs_on": totals_on,
			"import_blocks_off": imported_off.iter().map(|b| (b.number, b.micros, b.calls)).collect::<Vec<_>>(),
			"import_blocks_on": imported_on.iter().map(|b| (b.number, b.micros, b.calls, b.ahead)).collect::<Vec<_>>(),
			"served_ahead": imported_on.iter().map(|block| block.ahead).sum::<u64>(),
			"made_in_block_on": imported_on.iter().map(|block| block.made).sum::<u64>(),
		});
		println!("BENCH {line}");
	}
}

#[tokio::test]
#[ignore = "a benchmark: scripts/bench.sh runs it"]
async fn registration_benchmark() {
	for (name, size) in [("1 MB", 1_000_000u32), ("20 MB", 20_000_000)] {
		let scratch = Scratch::new("bench-register");
		let base = scratch.path("chain");
		let node = Node::start(&["--dev", "--base-path", &base, "--consensus", "manual-seal-6000"]);
		let rpc = node.client().await;
		let file = scratch.path("model.onnx");
		std::fs::write(&file, verinfer_synthetic::sized(size, 1)).unwrap();
		let before = rpc.best_number().await;
		let started = Instant::now();
		let (code, stdout, stderr) = verinfer(&[
			"model",
			"register",
			&file,
			"--name",
			"big",
			"--suri",
			"//Alice",
			"--url",
			&node.rpc_url,
		]);
		let seconds = started.elapsed().as_secs_f64();
		assert_eq!(code, 0, "{stdout}{stderr}");
		let blocks = rpc.client.finalized_number().await.unwrap() - before;
		let line = serde_json::json!({
			"kind": "registration",
			"model": name,
			"bytes": size,
			"seconds": seconds,
			"blocks": blocks,
			"block_seconds": 6,
		});
		println!("BENCH {line}");
	}
}

/// Blocks full of the hostile-cost corpus' calls: for each model registration accepts, `calls`
/// calls on its hostile inputs (each call's first input byte changed, so that no two calls share
/// an outcome) fill blocks on a dev chain; the blocks are imported into a fresh database without
/// pre-execution, so every call runs in the block, and each block's import time is set against
/// the weight it consumed (after refunds). One JSON line per model: the worst block's ratio must
/// be at most 1.
#[tokio::test]
#[ignore = "a benchmark: scripts/bench-prices.sh runs it"]
async fn hostile_blocks_benchmark() {
	let calls: u64 = std::env::var("BENCH_CALLS").ok().and_then(|n| n.parse().ok()).unwrap_or(12);
	let fixtures = verinfer_fixtures::dir();
	for fixture in cost_fixtures(&fixtures).unwrap().into_iter().filter(|f| f.accepted) {
		let name = fixture.file.trim_end_matches(".onnx").to_string();
		let scratch = Scratch::new(&format!("bench-hostile-{name}"));
		let made = scratch.path("made");
		let hostile = fixture.inputs.clone();
		let inputs = move |_: &Analysis, call: u64| -> Vec<Tensor> {
			let mut inputs = hostile.clone();
			if let Some(byte) = inputs.first_mut().and_then(|input| input.data.first_mut()) {
				*byte ^= (call % 255) as u8 + 1;
			}
			inputs
		};
		let produced = produce_with(&made, &fixture.model, calls, 0, &inputs).await;
		let blocks = scratch.path("blocks.bin");
		on_chain(&["export-blocks", "--binary", &blocks], &made);
		let imported = import(&blocks, &scratch.path("import"), 0);
		let weight_of = |number: u32| {
			produced.weights.iter().find(|(n, _)| *n == number).map_or(0, |(_, w)| *w)
		};
		// Import time (µs) over consumed weight (ps → µs), per block of calls.
		let per_block: Vec<(u32, u64, u64, f64)> = imported
			.iter()
			.filter(|block| block.calls > 0)
			.map(|block| {
				let weight_micros = weight_of(block.number) / 1_000_000;
				let ratio = block.micros as f64 / weight_micros.max(1) as f64;
				(block.number, block.calls, block.micros, ratio)
			})
			.collect();
		let worst = per_block.iter().map(|block| block.3).fold(0.0, f64::max);
		let line = serde_json::json!({
			"kind": "hostile_blocks",
			"model": name,
			"calls": calls,
			"blocks": per_block.iter().map(|(number, calls, micros, _)| {
				serde_json::json!({
					"number": number,
					"calls": calls,
					"import_ms": *micros as f64 / 1e3,
					"weight_ms": weight_of(*number) as f64 / 1e9,
				})
			}).collect::<Vec<_>>(),
			"worst_import_over_weight": (worst * 1000.0).round() / 1000.0,
		});
		println!("BENCH {line}");
	}
}
