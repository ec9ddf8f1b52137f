//! Dev chains of inference-heavy blocks, for the pre-execution test and the chain benchmark: a
//! dev node that registers a model and includes many calls of it, then `export-blocks`,
//! `import-blocks` into fresh databases with pre-execution off or on, and `export-state`.

use std::{
	path::PathBuf,
	time::{Duration, Instant},
};

use sp_core::H256;
use sp_keyring::Sr25519Keyring::{self, Alice, Bob, Charlie, Dave};
use verinfer_executor::digest::model_id;
use verinfer_primitives::{analysis::Analysis, Tensor};
use verinfer_runtime::{Runtime, RuntimeCall, MILLI_UNIT};
use verinfer_synthetic::{self as synthetic, Targets};

use super::{verinfer, Node, Rpc};

/// A dev chain seals a block every 2 s: long enough for a full block of calls to be submitted
/// before the next seals, short enough for the test.
pub const BLOCK_EVERY: &str = "manual-seal-2000";

/// How long the calls may take to be included.
pub const INCLUSION_WAIT: Duration = Duration::from_secs(180);

/// How long no call may be included before the missing ones are sent again: blocks come every
/// 2 s.
pub const STALL: Duration = Duration::from_secs(20);

/// A model of `multiply_adds` as the chain weighs and runs them: compute-bound (a matrix product
/// whose rows are made from the input), with a one-element input and output, and a 1 MiB weight
/// once it does any products (see [`synthetic::combined`]).
pub fn model(multiply_adds: u64) -> Vec<u8> {
	synthetic::combined(
		Targets { multiply_adds, elements_touched: 0, input_bytes: 4, output_bytes: 4 },
		multiply_adds,
	)
}

pub struct Scratch(pub PathBuf);

impl Scratch {
	pub fn new(name: &str) -> Scratch {
		let dir = std::env::temp_dir().join(format!("verinfer-{name}-{}", std::process::id()));
		let _ = std::fs::remove_dir_all(&dir);
		std::fs::create_dir_all(&dir).unwrap();
		Scratch(dir)
	}

	pub fn path(&self, name: &str) -> String {
		self.0.join(name).display().to_string()
	}
}

impl Drop for Scratch {
	fn drop(&mut self) {
		// VERINFER_KEEP_SCRATCH=1 keeps the chains and exported blocks, e.g. to profile an import.
		if std::env::var_os("VERINFER_KEEP_SCRATCH").is_none() {
			let _ = std::fs::remove_dir_all(&self.0);
		}
	}
}

/// A block the producing node authored: its number, how long preparing it took, extrinsics.
#[derive(Debug)]
pub struct Authored {
	pub number: u32,
	pub millis: u64,
	pub extrinsics: u32,
}

/// What a dev node made: the blocks holding the calls, how long authoring them took, and the
/// weight each consumed (picoseconds, every class).
pub struct Produced {
	pub model: H256,
	pub authored: Vec<Authored>,
	pub weights: Vec<(u32, u64)>,
}

/// The inputs of call `k` of a model with this analysis.
pub type Inputs<'a> = &'a (dyn Fn(&Analysis, u64) -> Vec<Tensor> + Sync);

/// Inputs made from the specs, each call's its own ([`synthetic::inputs`]).
pub fn synthetic_inputs(analysis: &Analysis, call: u64) -> Vec<Tensor> {
	synthetic::inputs(&analysis.inputs, call)
}

/// Runs a dev node at `base`, registers `bytes` and has `calls` calls of it (each with other
/// inputs, from four accounts) included; stops the node once they are.
pub async fn produce(base: &str, bytes: &[u8], calls: u64, workers: usize) -> Produced {
	produce_with(base, bytes, calls, workers, &synthetic_inputs).await
}

/// [`produce`], with call `k`'s inputs from `inputs`, which must differ from call to call (no two
/// calls sharing an outcome, none is served by another's).
pub async fn produce_with(
	base: &str,
	bytes: &[u8],
	calls: u64,
	workers: usize,
	inputs: Inputs<'_>,
) -> Produced {
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
	let model = model_id(bytes);
	let key = pallet_models::Analyses::<Runtime>::hashed_key_for(model);
	let analysis: Analysis = rpc.client.decoded(&key, None).await.unwrap().expect("analysed");
	let first_request = rpc.next_request_id().await;
	let first_block = rpc.best_number().await + 1;

	// Every call its own inputs: no two share an outcome, so none is served by another's. Call
	// k is sender k mod 4's (k div 4)-th transaction.
	let signers = [Alice, Bob, Charlie, Dave];
	let mut first_nonces = Vec::new();
	for signer in signers {
		first_nonces.push(rpc.account(&signer.to_account_id(), None).await.nonce);
	}
	let send = |from: &[verinfer_runtime::Nonce]| {
		let from = from.to_vec();
		let (rpc, analysis, first_nonces) = (&rpc, &analysis, &first_nonces);
		futures::future::join_all(signers.iter().enumerate().map(move |(index, signer)| {
			let from = from[index];
			async move {
				// Nonces counted here: the pool's next nonce can lag while a block is imported.
				for call in (index as u64..calls).step_by(signers.len()) {
					let nonce = first_nonces[index] + (call / signers.len() as u64) as u32;
					if nonce >= from {
						submit(rpc, *signer, nonce, model, inputs(analysis, call)).await;
					}
				}
			}
		}))
	};
	send(&first_nonces).await;
	let deadline = Instant::now() + INCLUSION_WAIT;
	let last = first_request + calls - 1;
	let mut progress = (first_request, Instant::now());
	let last_block = loop {
		if let Some(result) = rpc.result(last, None).await {
			break result.at;
		}
		let results = rpc.next_request_id().await;
		if Instant::now() > deadline {
			let made = results - first_request;
			panic!("{made} of {calls} calls have results in time\n{}", node.log_tail());
		}
		if results != progress.0 {
			progress = (results, Instant::now());
		} else if progress.1.elapsed() > STALL {
			// Seen once in a few runs of hundreds of calls: one sender's calls stop being
			// included after a few, with nothing in the pool's logs. Its rest are sent again from
			// its nonce (the pool refuses those it still has).
			let mut nonces = Vec::new();
			for signer in signers {
				nonces.push(rpc.account(&signer.to_account_id(), None).await.nonce);
			}
			eprintln!("no call included for {STALL:?}: sending again from nonces {nonces:?}");
			send(&nonces).await;
			progress.1 = Instant::now();
		}
		tokio::time::sleep(Duration::from_millis(250)).await;
	};
	let key = frame_system::BlockWeight::<Runtime>::hashed_key();
	let mut weights = Vec::new();
	for number in first_block..=last_block as u32 {
		let at = rpc.block_hash(number).await;
		let consumed: frame_system::ConsumedWeight =
			rpc.client.decoded(&key, Some(at)).await.unwrap().unwrap_or_default();
		weights.push((number, consumed.total().ref_time()));
	}
	// The log line of the last block may still be on its way from the node's stderr.
	node.wait_for_log(&format!("Prepared block for proposing at {last_block} "), STALL);
	let log = node.full_log();
	node.stop();
	let authored = log
		.lines()
		.filter_map(authored)
		// The blocks of calls: the timestamp inherent and one call or more.
		.filter(|block| block.number >= first_block && block.extrinsics > 1)
		.collect();
	Produced { model, authored, weights }
}

pub async fn submit(
	rpc: &Rpc,
	signer: Sr25519Keyring,
	nonce: verinfer_runtime::Nonce,
	model: H256,
	inputs: Vec<Tensor>,
) {
	let call = RuntimeCall::Inference(pallet_inference::Call::infer {
		model,
		inputs,
		max_fee: MILLI_UNIT,
	});
	let xt = rpc.client.sign_with_nonce(&signer.pair(), call, nonce).await.unwrap();
	// Sent again after a stall, the pool refuses a nonce it still has: that is fine.
	let _ = rpc.client.submit_extrinsic(&xt).await;
}

/// `🎁 Prepared block for proposing at N (X ms) … extrinsics_count: K`.
pub fn authored(line: &str) -> Option<Authored> {
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
pub struct Imported {
	pub number: u32,
	pub micros: u64,
	pub calls: u64,
	pub ahead: u64,
	pub made: u64,
}

/// `Imported #N in X µs: C inference calls, A served ahead, M made in the block, Q queued`.
pub fn imported(line: &str) -> Option<Imported> {
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
pub fn on_chain(args: &[&str], base: &str) -> (String, String) {
	let mut all = args.to_vec();
	all.extend(["--dev", "--base-path", base]);
	let (code, stdout, stderr) = verinfer(&all);
	assert_eq!(code, 0, "verinfer {all:?}\n{stderr}");
	(stdout, stderr)
}

/// Imports `blocks` into a fresh database at `base` with `workers` pre-execution workers, as a
/// node that has run before would (its compiled engine on disk: nodes share the user's cache
/// directory, which the node that made the blocks filled); the blocks that ran inference.
pub fn import(blocks: &str, base: &str, workers: usize) -> Vec<Imported> {
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
pub fn state(base: &str) -> String {
	on_chain(&["export-state"], base).0
}

/// Stored results in an exported state.
pub fn results_in(state: &str) -> usize {
	// `Inference.Results`: the pallet's and the map's names, each hashed with twox-128.
	let prefix =
		[sp_io::hashing::twox_128(b"Inference"), sp_io::hashing::twox_128(b"Results")].concat();
	let prefix = sp_core::bytes::to_hex(&prefix, false);
	let spec: serde_json::Value = serde_json::from_str(state).unwrap();
	let top = spec["genesis"]["raw"]["top"].as_object().expect("a raw state");
	top.keys().filter(|key| key.starts_with(&prefix)).count()
}

pub fn total_micros(blocks: &[Imported]) -> u64 {
	blocks.iter().map(|block| block.micros).sum()
}
