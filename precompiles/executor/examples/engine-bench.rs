//! The precompile path timed, for `scripts/bench-engine.sh`: `engine-bench RUNS MANIFEST.json`.
//!
//! The manifest is `[{"name", "model", "inputs": [paths], "runs"?}]`. Prints JSON lines: first the engine's
//! compile time (cold, and loading the compiled code from the disk cache), then per model the
//! load time (parse, analyse, optimise: what a cache miss pays), the first run in that fresh
//! instance, the median of RUNS cached runs, and the SHA-256 of the outputs as the chain records it.

use std::time::Instant;

use serde_json::Value;
use verinfer_executor::{
	digest::{hex, outputs_hash},
	engine::{declared_as, Engine, EngineBlob},
	ENGINE_BLOB,
};
use verinfer_formats::read_tensor;
use verinfer_primitives::engine::Limits;

fn ms(start: Instant) -> f64 {
	start.elapsed().as_secs_f64() * 1e3
}

/// The benchmark measures what a run takes; it does not bound it.
const UNBOUNDED: Limits = Limits { fuel: u64::MAX, ..Limits::CALL };

fn main() {
	let args: Vec<String> = std::env::args().skip(1).collect();
	let runs: usize = args[0].parse().expect("RUNS");
	let manifest: Value = serde_json::from_slice(&std::fs::read(&args[1]).unwrap()).unwrap();
	let blob = ENGINE_BLOB.expect("built with the engine blob");

	let start = Instant::now();
	let engine = Engine::new(blob).unwrap();
	let compile_ms = ms(start);
	let cache = std::env::temp_dir().join(format!("verinfer-bench-{}", std::process::id()));
	let checked = EngineBlob::check(blob).unwrap();
	Engine::compile(&checked, Some(&cache)).unwrap();
	// A node's restart: the blob is checked (and instrumented) again, the code read from disk.
	let start = Instant::now();
	Engine::compile(&EngineBlob::check(blob).unwrap(), Some(&cache)).unwrap();
	let disk_ms = ms(start);
	std::fs::remove_dir_all(&cache).ok();
	println!(
		"{{\"engine_bytes\": {}, \"engine_compile_ms\": {compile_ms:.1}, \
		 \"engine_disk_load_ms\": {disk_ms:.1}}}",
		blob.len()
	);

	for entry in manifest.as_array().unwrap() {
		let name = entry["name"].as_str().unwrap();
		let runs = entry["runs"].as_u64().map_or(runs, |r| r as usize);
		let model = std::fs::read(entry["model"].as_str().unwrap()).unwrap();
		let inputs: Vec<_> = entry["inputs"]
			.as_array()
			.unwrap()
			.iter()
			.map(|p| read_tensor(p.as_str().unwrap().as_ref()).unwrap())
			.collect();
		let start = Instant::now();
		let load = engine.load(&model, &declared_as(&inputs), Limits::LOAD).unwrap();
		let load_ms = ms(start);
		let loaded = load.result.unwrap();
		let start = Instant::now();
		let first = loaded.run(&inputs, UNBOUNDED).unwrap();
		let first_ms = ms(start);
		let outputs = first.result.unwrap();
		let mut times: Vec<f64> = (0..runs)
			.map(|_| {
				let start = Instant::now();
				loaded.run(&inputs, UNBOUNDED).unwrap().result.unwrap();
				ms(start)
			})
			.collect();
		times.sort_by(f64::total_cmp);
		let run_ms = times[times.len() / 2];
		let cost = &loaded.analysis().cost;
		println!(
			"{{\"name\": \"{name}\", \"multiply_adds\": {}, \"load_ms\": {load_ms:.3}, \
			 \"first_run_ms\": {first_ms:.4}, \"run_ms\": {run_ms:.4}, \"runs\": {runs}, \
			 \"load_fuel\": {}, \"run_fuel\": {}, \"image_bytes\": {}, \"run_memory\": {}, \
			 \"run_ns_per_fuel\": {:.4}, \"load_ns_per_fuel\": {:.4}, \
			 \"outputs_sha256\": \"{}\"}}",
			cost.multiply_adds,
			load.usage.fuel,
			first.usage.fuel,
			loaded.image_bytes(),
			first.usage.memory,
			run_ms * 1e6 / first.usage.fuel as f64,
			load_ms * 1e6 / load.usage.fuel as f64,
			hex(&outputs_hash(&outputs))
		);
	}
}
