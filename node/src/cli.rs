//! Command-line interface: the standard Substrate node flags, the block-production mode, and the
//! node's subcommands.

use std::{fmt, str::FromStr, time::Duration};

/// How the node produces blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consensus {
	/// Seal a block as soon as a transaction enters the pool; with `every`, also seal one (empty if
	/// need be) at that interval, so that the chain advances while idle.
	InstantSeal { every: Option<Duration> },
	/// Seal a block at a fixed interval, whether or not there are transactions.
	ManualSeal { every: Duration },
	/// Aura block authoring in slots with GRANDPA finality: what real networks run.
	Aura,
}

impl Consensus {
	/// What `--dev` runs unless `--consensus` says otherwise: transactions are included at once and
	/// an empty block every 6 s (one Aura slot) keeps the chain moving.
	pub const DEV_DEFAULT: Consensus = Consensus::InstantSeal {
		every: Some(Duration::from_millis(verinfer_runtime::SLOT_DURATION)),
	};

	/// Whether blocks are sealed by this node alone (instant or manual seal) rather than by Aura.
	pub fn is_sealing(&self) -> bool {
		!matches!(self, Consensus::Aura)
	}
}

/// The interval part of `manual-seal-<ms>` / `instant-seal-<ms>`.
fn parse_interval(ms: &str, input: &str) -> Result<Duration, String> {
	match ms.parse::<u64>() {
		Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
		_ => Err(format!("`{input}`: the interval must be a positive number of milliseconds")),
	}
}

impl FromStr for Consensus {
	type Err = String;

	fn from_str(s: &str) -> Result<Self, Self::Err> {
		if s == "aura" {
			Ok(Consensus::Aura)
		} else if s == "instant-seal" {
			Ok(Consensus::InstantSeal { every: None })
		} else if let Some(ms) = s.strip_prefix("instant-seal-") {
			Ok(Consensus::InstantSeal { every: Some(parse_interval(ms, s)?) })
		} else if let Some(ms) = s.strip_prefix("manual-seal-") {
			Ok(Consensus::ManualSeal { every: parse_interval(ms, s)? })
		} else {
			Err(format!(
				"unknown consensus `{s}`: expected `aura`, `instant-seal`, `instant-seal-<ms>` or \
				 `manual-seal-<ms>`"
			))
		}
	}
}

impl fmt::Display for Consensus {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			Consensus::Aura => write!(f, "aura"),
			Consensus::InstantSeal { every: None } => write!(f, "instant-seal"),
			Consensus::InstantSeal { every: Some(every) } => {
				write!(f, "instant-seal-{}", every.as_millis())
			},
			Consensus::ManualSeal { every } => write!(f, "manual-seal-{}", every.as_millis()),
		}
	}
}

/// The `verinfer` command line.
#[derive(Debug, clap::Parser)]
pub struct Cli {
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	#[clap(flatten)]
	pub run: sc_cli::RunCmd,

	/// How blocks are produced: `aura` (Aura + GRANDPA, for networks), `instant-seal` (a block per
	/// incoming transaction), `instant-seal-<ms>` (that, plus a block every <ms> when idle) or
	/// `manual-seal-<ms>` (a block every <ms>). The sealing modes finalize at once and need a
	/// development chain. Default: `instant-seal-6000` with `--dev`, `aura` otherwise.
	#[arg(long, value_name = "MODE")]
	pub consensus: Option<Consensus>,

	/// Threads that make inference calls ahead of a block's sequential execution: the calls of
	/// each block imported, and of transactions entering the pool (pre-execution). 0 turns it
	/// off; results are the same either way, only the time changes. Default: one per CPU.
	#[arg(long, value_name = "N", global = true)]
	pub inference_workers: Option<usize>,
}

impl Cli {
	/// The pre-execution workers this run uses: the flag, else one per CPU.
	pub fn inference_workers(&self) -> usize {
		self.inference_workers.unwrap_or_else(|| {
			std::thread::available_parallelism().map(|cpus| cpus.get()).unwrap_or(1)
		})
	}

	/// The consensus this run uses: the flag, else the default for the chain type.
	pub fn consensus(&self, is_dev_chain: bool) -> Consensus {
		self.consensus.unwrap_or(if is_dev_chain {
			Consensus::DEV_DEFAULT
		} else {
			Consensus::Aura
		})
	}
}

/// The node's subcommands beside running it.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once at start-up; boxing buys nothing.
pub enum Subcommand {
	/// ONNX models: check or run one locally with the chain's engine; register, list, show,
	/// re-price or deprecate them on a chain.
	#[command(subcommand)]
	Model(crate::commands::model::ModelCmd),

	/// Call a model on chain: sign and submit `inference.infer` with input tensors from files.
	Infer(crate::commands::infer::InferCmd),

	/// Read a stored inference result by request id.
	Result(crate::commands::infer::ResultCmd),

	/// Hosting: bond stake, serve models for a share of their fees, unbond and withdraw.
	#[command(subcommand)]
	Host(crate::commands::hosting::HostCmd),

	/// Key management: generate, inspect, insert into the keystore.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Write a chain spec (JSON) for a named chain, e.g. to start a network from a shared file.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Benchmarks: runtime pallets (weights), storage, overhead, machine.
	#[cfg(feature = "runtime-benchmarks")]
	#[command(subcommand)]
	Benchmark(frame_benchmarking_cli::BenchmarkCmd),

	/// Database meta columns information.
	ChainInfo(sc_cli::ChainInfoCmd),
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn consensus_modes_parse_and_print_back_the_same() {
		for text in ["aura", "instant-seal", "instant-seal-6000", "manual-seal-250"] {
			let parsed: Consensus = text.parse().unwrap();
			assert_eq!(parsed.to_string(), text);
		}
		assert_eq!(
			"manual-seal-250".parse::<Consensus>(),
			Ok(Consensus::ManualSeal { every: Duration::from_millis(250) })
		);
	}

	#[test]
	fn consensus_modes_that_cannot_work_are_refused_with_the_reason() {
		assert!("manual-seal-0".parse::<Consensus>().unwrap_err().contains("positive"));
		assert!("manual-seal-x".parse::<Consensus>().unwrap_err().contains("milliseconds"));
		assert!("manual-seal".parse::<Consensus>().unwrap_err().contains("unknown consensus"));
		assert!("babe".parse::<Consensus>().unwrap_err().contains("expected `aura`"));
	}

	#[test]
	fn dev_chains_default_to_instant_seal_and_others_to_aura() {
		use clap::Parser;
		let cli = Cli::parse_from(["verinfer"]);
		assert_eq!(cli.consensus(true), Consensus::DEV_DEFAULT);
		assert_eq!(cli.consensus(false), Consensus::Aura);
		let cli = Cli::parse_from(["verinfer", "--consensus", "manual-seal-100"]);
		assert_eq!(
			cli.consensus(true),
			Consensus::ManualSeal { every: Duration::from_millis(100) }
		);
	}
}
