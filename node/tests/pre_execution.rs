//! Pre-execution changes how long a block takes, never what it holds: a dev chain of
//! inference-heavy blocks is exported and imported into fresh databases with pre-execution off
//! (`--inference-workers 0`) and on, and the imported chains' whole state (every result, hence the
//! state root) is compared byte for byte with the chain that made them. Import itself refuses a
//! block whose execution gives another state root than its header's.
//!
//! `node/tests/bench.rs` runs the same steps for three model sizes (`scripts/bench.sh`).

mod common;

use std::time::Duration;

use common::{
	blocks::{import, model, on_chain, produce, results_in, state, total_micros, Scratch},
	read_fixture, Node,
};
use sp_keyring::Sr25519Keyring::Alice;
use verinfer_executor::digest::model_id;
use verinfer_formats::json_npy::from_npy;
use verinfer_runtime::{RuntimeCall, MILLI_UNIT};

#[tokio::test]
async fn a_chain_imported_with_pre_execution_off_and_on_has_the_same_blocks_results_and_state() {
	const CALLS: u64 = 150;
	let scratch = Scratch::new("pre-execution");
	let (made, off, on) = (scratch.path("made"), scratch.path("off"), scratch.path("on"));
	let blocks = scratch.path("blocks.bin");
	let produced = produce(&made, &model(20_000_000), CALLS, 2).await;
	on_chain(&["export-blocks", "--binary", &blocks], &made);

	let imported_off = import(&blocks, &off, 0);
	let imported_on = import(&blocks, &on, 2);
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

/// The node's Prometheus text at `port`.
fn metrics(port: u16) -> String {
	use std::io::{Read, Write};
	let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
	stream.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
	let mut text = String::new();
	stream.read_to_string(&mut text).unwrap();
	text
}

/// The value of the sample of metric `name` whose labels include `label` (`key="value"`, or ""
/// for any), if any. The node labels every sample with its chain too.
fn sample(text: &str, name: &str, label: &str) -> Option<f64> {
	text.lines().find_map(|line| {
		let (series, value) = line.rsplit_once(' ')?;
		let labels = series.strip_prefix(name)?;
		let labelled = labels.is_empty() || labels.starts_with('{');
		(labelled && labels.contains(label)).then(|| value.parse().ok()).flatten()
	})
}

#[tokio::test]
async fn the_node_reports_inference_calls_latency_cache_use_and_engine_compiles_to_prometheus() {
	let port = common::free_port();
	let port_arg = port.to_string();
	let node = Node::start(&["--dev", "--prometheus-port", &port_arg, "--inference-workers", "2"]);
	let rpc = node.client().await;
	let text = metrics(port);
	assert_eq!(sample(&text, "verinfer_inference_workers", ""), Some(2.0), "{text}");

	// Two calls of the demo MLP on different inputs: the second runs the model the first loaded.
	let model = model_id(&read_fixture("models/mlp.onnx"));
	let mut input = from_npy(&read_fixture("models/mlp.input0.npy")).unwrap();
	for _ in 0..2 {
		input.data[0] ^= 0x01; // another f32 in the first element
		let call = RuntimeCall::Inference(pallet_inference::Call::infer {
			model,
			inputs: vec![input.clone()],
			max_fee: MILLI_UNIT,
		});
		rpc.submit_and_wait(Alice, call, Duration::from_secs(60)).await;
	}

	let text = metrics(port);
	let served: f64 = ["ahead", "waited", "made"]
		.iter()
		.filter_map(|how| {
			sample(&text, "verinfer_inference_calls_total", &format!("served=\"{how}\""))
		})
		.sum();
	assert!(served >= 2.0, "both calls are counted, however served:\n{text}");
	let at_least = |name: &str, label: &str, least: f64| {
		let value = sample(&text, name, label).unwrap_or(0.0);
		assert!(value >= least, "{name}{{{label}}} is {value}, not {least} or more:\n{text}");
	};
	at_least("verinfer_inference_call_seconds_count", "", 2.0);
	at_least("verinfer_inference_model_cache_total", "result=\"hit\"", 1.0);
	at_least("verinfer_inference_engine_compile_seconds_count", "", 1.0);
}
