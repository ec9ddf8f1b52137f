//! What this runtime charges for the engine's work against the time the work takes, for
//! `scripts/bench-prices.sh`: `price-bench RUNS FIXTURES_DIR ENGINE.wasm [MODEL.onnx INPUT.npy…]…`.
//!
//! For every model of the fixture corpus (`models/corpus.json`, on its inputs), of the
//! hostile-cost corpus (`hostile/cost.json`, on its hostile inputs) and any given on the command
//! line, it does what the chain does and times each step (the median of RUNS):
//! - **register**: measure the model within the registration's limits (a load, two probe runs);
//! - **load**: load it, as the first call of the model in a block does on a cache miss;
//! - **call**: run it on its inputs within the call limits its measurement gives;
//!
//! and sets each time beside the engine's share of the weight charged for it *after the refund*
//! (the usage the engine reported, priced by the runtime's `EngineCost`): the least the chain
//! charges for that work. The pallets' own work (storage, fees, the input and output bytes) is
//! charged on top, by their benchmarked weights, and is left out here: the ratio is the engine's
//! alone. Prints a Markdown table, then what metering itself costs: each accepted model's call
//! with fuel metering against the same engine without it (a configuration no validator uses),
//! then one JSON line with the worst ratio and the fuel overhead.

use std::{path::PathBuf, time::Instant};

use serde_json::{json, Value};
use verinfer_executor::engine::{declared_as, deterministic_config, Engine, Metered};
use verinfer_fixtures::cost_fixtures;
use verinfer_formats::{read_file, read_tensor};
use verinfer_primitives::{
	engine::{EngineError, Limits, ModelCost, Usage, DEFAULT_HEADROOM_PERCENT},
	Tensor,
};
use verinfer_runtime::Runtime;

/// One model to price: its name, bytes, inputs.
struct Case {
	name: String,
	model: Vec<u8>,
	inputs: Vec<Tensor>,
}

/// `ok`, or the error's first words.
fn outcome<T>(result: &Result<T, EngineError>) -> String {
	match result {
		Ok(_) => "ok".into(),
		Err(error) => error.to_string().chars().take(60).collect(),
	}
}

/// The median of `runs` timings of `work`, in seconds, and the last outcome.
fn timed<T>(runs: usize, mut work: impl FnMut() -> T) -> (f64, T) {
	let mut times = Vec::with_capacity(runs);
	let mut last = None;
	for _ in 0..runs.max(1) {
		let start = Instant::now();
		last = Some(work());
		times.push(start.elapsed().as_secs_f64());
	}
	times.sort_by(f64::total_cmp);
	(times[times.len() / 2], last.expect("ran at least once"))
}

fn main() {
	let args: Vec<String> = std::env::args().skip(1).collect();
	let runs: usize = args.first().and_then(|r| r.parse().ok()).expect("RUNS");
	let fixtures = PathBuf::from(args.get(1).expect("FIXTURES_DIR"));
	// The engine blob, from a file: this example is built with SKIP_WASM_BUILD, so as not to build
	// the runtime's Wasm blob in release, which skips the engine's too.
	let blob = read_file(args.get(2).expect("ENGINE.wasm").as_ref()).unwrap();
	let engine = Engine::new(&blob).expect("the engine compiles");
	let cost = <Runtime as pallet_engine::Config>::EngineCost::get();
	let registration = <Runtime as pallet_models::Config>::RegistrationLimits::get();
	// Seconds the chain charges for `usage`.
	let charged = |usage: Usage| cost.of(usage).ref_time() as f64 * 1e-12;

	let mut cases = Vec::new();
	let corpus: Value =
		serde_json::from_slice(&read_file(&fixtures.join("models/corpus.json")).unwrap()).unwrap();
	for model in corpus["models"].as_array().unwrap() {
		let path = |name: &Value| fixtures.join("models").join(name.as_str().unwrap());
		cases.push(Case {
			name: model["name"].as_str().unwrap().into(),
			model: read_file(&path(&model["model"])).unwrap(),
			inputs: model["inputs"]
				.as_array()
				.unwrap()
				.iter()
				.map(|input| read_tensor(&path(input)).unwrap())
				.collect(),
		});
	}
	for fixture in cost_fixtures(&fixtures).unwrap() {
		cases.push(Case {
			name: format!("hostile/{}", fixture.file.trim_end_matches(".onnx")),
			model: fixture.model,
			inputs: fixture.inputs,
		});
	}
	// Extra models: a path, then its inputs, up to the next `.onnx`.
	for arg in args.iter().skip(3) {
		if arg.ends_with(".onnx") {
			let name = PathBuf::from(arg).file_stem().unwrap().to_string_lossy().into_owned();
			cases.push(Case { name, model: read_file(arg.as_ref()).unwrap(), inputs: vec![] });
		} else {
			let last = cases.last_mut().expect("a model before its inputs");
			last.inputs.push(read_tensor(arg.as_ref()).unwrap());
		}
	}

	println!(
		"EngineCost: {} ps per unit of fuel, {} ps per byte of engine memory; \
		 registration limits {} fuel, {} bytes; median of {runs} runs\n",
		cost.ps_per_fuel, cost.ps_per_memory_byte, registration.fuel, registration.memory
	);
	println!(
		"| model | step | fuel | memory (bytes) | charged (ms) | measured (ms) | measured/charged | \
		 outcome |"
	);
	println!("|---|---|--:|--:|--:|--:|--:|---|");
	let mut worst = (0.0f64, String::new());
	let mut row = |name: &str, step: &str, usage: Usage, seconds: f64, outcome: &str| {
		let ratio = seconds / charged(usage).max(1e-12);
		println!(
			"| {name} | {step} | {} | {} | {:.3} | {:.3} | {ratio:.3} | {outcome} |",
			usage.fuel,
			usage.memory,
			charged(usage) * 1e3,
			seconds * 1e3
		);
		if ratio > worst.0 {
			worst = (ratio, format!("{name} {step}"));
		}
	};

	let mut accepted = Vec::new();
	for case in &cases {
		let declared = declared_as(&case.inputs);
		let (seconds, measured) =
			timed(runs, || engine.measure(&case.model, &declared, registration).unwrap());
		row(&case.name, "register", measured.usage, seconds, &outcome(&measured.result));
		let Ok(done) = measured.result else { continue };
		accepted.push(case);

		let (seconds, load) =
			timed(runs, || engine.load(&case.model, &declared, Limits::LOAD).unwrap());
		row(&case.name, "load", load.usage, seconds, &outcome(&load.result));

		let call = ModelCost::new(&done.measurement, DEFAULT_HEADROOM_PERCENT).call;
		let (seconds, ran): (f64, Metered<Vec<Tensor>>) =
			timed(runs, || done.loaded.run(&case.inputs, call).unwrap());
		row(&case.name, "call", ran.usage, seconds, &outcome(&ran.result));
	}

	// What fuel metering costs: the accepted models' calls, metered and not.
	let unmetered = Engine::with_config(deterministic_config().consume_fuel(false), &blob).unwrap();
	println!(
		"\n| model | call, metered (ms) | call, without fuel (ms) | overhead |\n|---|--:|--:|--:|"
	);
	let mut overheads = Vec::new();
	for case in accepted {
		let declared = declared_as(&case.inputs);
		let time = |engine: &Engine| {
			let loaded = engine.load(&case.model, &declared, Limits::LOAD).unwrap().result.unwrap();
			timed(runs * 4, || loaded.run(&case.inputs, Limits::CALL).unwrap()).0
		};
		let (metered, plain) = (time(&engine), time(&unmetered));
		overheads.push((metered / plain, plain >= 0.005));
		println!(
			"| {} | {:.3} | {:.3} | {:+.1} % |",
			case.name,
			metered * 1e3,
			plain * 1e3,
			(metered / plain - 1.0) * 100.0
		);
	}
	// The median overhead, of every call and of those doing real work (5 ms and more), whose
	// time the engine's fixed cost per call does not blur.
	let median_percent = |long_only: bool| {
		let mut ratios: Vec<f64> =
			overheads.iter().filter(|(_, long)| *long || !long_only).map(|(r, _)| *r).collect();
		ratios.sort_by(f64::total_cmp);
		ratios.get(ratios.len() / 2).map(|ratio| ((ratio - 1.0) * 1000.0).round() / 10.0)
	};
	println!(
		"\n{}",
		json!({
			"fuel_overhead_median_percent": median_percent(false),
			"fuel_overhead_median_percent_calls_over_5ms": median_percent(true),
			"worst_ratio": (worst.0 * 1000.0).round() / 1000.0,
			"worst": worst.1,
			"ps_per_fuel": cost.ps_per_fuel,
			"ps_per_memory_byte": cost.ps_per_memory_byte,
		})
	);
}
