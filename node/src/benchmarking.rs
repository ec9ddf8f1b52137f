//! `verinfer benchmark …` (built with `--features runtime-benchmarks`): pallet weights for
//! `weights.rs`, the import cost of existing blocks, and the machine's fitness as a validator.

use frame_benchmarking_cli::{BenchmarkCmd, SUBSTRATE_REFERENCE_HARDWARE};
use sc_cli::SubstrateCli;
use sp_runtime::traits::HashingFor;
use verinfer_runtime::opaque::Block;

use crate::{cli::Cli, service};

/// Runs one benchmark subcommand.
pub fn run(cli: &Cli, cmd: &BenchmarkCmd) -> sc_cli::Result<()> {
	let runner = cli.create_runner(cmd)?;
	match cmd {
		// Runs the runtime's benchmarks in the node's Wasm executor with the node's host functions,
		// so that the weights measure exactly what block execution runs.
		BenchmarkCmd::Pallet(cmd) => runner.sync_run(|config| {
			cmd.run_with_spec::<HashingFor<Block>, service::HostFunctions>(Some(config.chain_spec))
		}),
		BenchmarkCmd::Block(cmd) => runner.sync_run(|config| {
			let consensus =
				cli.consensus(config.chain_spec.chain_type() == sc_service::ChainType::Development);
			let partial = service::new_partial(&config, consensus, cli.inference_workers())?;
			cmd.run(partial.client)
		}),
		BenchmarkCmd::Machine(cmd) => {
			runner.sync_run(|config| cmd.run(&config, SUBSTRATE_REFERENCE_HARDWARE.clone()))
		},
		BenchmarkCmd::Storage(_) | BenchmarkCmd::Overhead(_) | BenchmarkCmd::Extrinsic(_) => {
			Err("this benchmark is not wired into the Verinfer node; use `pallet`, `block` or \
			     `machine`"
				.into())
		},
	}
}
