//! Parses the command line and runs the node or one of its subcommands.

use sc_cli::SubstrateCli;
use sc_service::{ChainType, PartialComponents};

use crate::{
	chain_spec,
	cli::{Cli, Consensus, Subcommand},
	commands, service,
};

impl SubstrateCli for Cli {
	fn impl_name() -> String {
		"Verinfer Node".into()
	}

	fn impl_version() -> String {
		env!("SUBSTRATE_CLI_IMPL_VERSION").into()
	}

	fn description() -> String {
		env!("CARGO_PKG_DESCRIPTION").into()
	}

	fn author() -> String {
		env!("CARGO_PKG_AUTHORS").into()
	}

	fn support_url() -> String {
		"https://github.com/verinfer/verinfer/issues".into()
	}

	fn copyright_start_year() -> i32 {
		2026
	}

	fn load_spec(&self, id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
		Ok(match id {
			"dev" => Box::new(chain_spec::development_chain_spec()?),
			"" | "local" => Box::new(chain_spec::local_chain_spec()?),
			// `local-N`: a local testnet of N validators.
			local if local_validators(local).is_some() => {
				let validators = local_validators(local)
					.and_then(|n| n.parse().ok())
					.ok_or_else(|| format!("`{local}`: too many validators"))?;
				Box::new(chain_spec::local_chain_spec_of(validators)?)
			},
			path => {
				Box::new(chain_spec::ChainSpec::from_json_file(std::path::PathBuf::from(path))?)
			},
		})
	}
}

/// The N of a chain id `local-N`.
fn local_validators(id: &str) -> Option<&str> {
	id.strip_prefix("local-").filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The consensus a command runs with: what the flag says, else the chain type's default.
fn consensus_for(cli: &Cli, chain_spec: &dyn sc_service::ChainSpec) -> sc_cli::Result<Consensus> {
	let chain_type = chain_spec.chain_type();
	let consensus = cli.consensus(chain_type == ChainType::Development);
	if consensus.is_sealing() && chain_type == ChainType::Live {
		return Err(sc_cli::Error::Input(format!(
			"--consensus {consensus} seals blocks on this node alone; it is for development and \
			 local chains, not the live chain `{}`",
			chain_spec.id()
		)));
	}
	Ok(consensus)
}

/// The client, database and import queue for a subcommand that works on the chain's data.
pub(crate) fn new_partial(
	cli: &Cli,
	config: &sc_service::Configuration,
) -> sc_cli::Result<service::Service> {
	let consensus = consensus_for(cli, &*config.chain_spec)?;
	Ok(service::new_partial(config, consensus, cli.inference_workers())?)
}

/// Runs the command line.
pub fn run() -> sc_cli::Result<()> {
	let cli = Cli::from_args();

	match &cli.subcommand {
		Some(Subcommand::Model(cmd)) => commands::model::run(cmd),
		Some(Subcommand::Infer(cmd)) => commands::infer::run_infer(cmd),
		Some(Subcommand::Result(cmd)) => commands::infer::run_result(cmd),
		Some(Subcommand::Host(cmd)) => commands::hosting::run(cmd),
		Some(Subcommand::Key(cmd)) => cmd.run(&cli),
		Some(Subcommand::ExportChainSpec(cmd)) => {
			let chain_spec = cli.load_spec(&cmd.chain)?;
			cmd.run(chain_spec)
		},
		Some(Subcommand::CheckBlock(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					new_partial(&cli, &config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		},
		Some(Subcommand::ExportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = new_partial(&cli, &config)?;
				Ok((cmd.run(client, config.database), task_manager))
			})
		},
		Some(Subcommand::ExportState(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = new_partial(&cli, &config)?;
				Ok((cmd.run(client, config.chain_spec), task_manager))
			})
		},
		Some(Subcommand::ImportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					new_partial(&cli, &config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		},
		Some(Subcommand::PurgeChain(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.database))
		},
		Some(Subcommand::Revert(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, backend, .. } =
					new_partial(&cli, &config)?;
				let aux_revert = Box::new(|client, _, blocks| {
					sc_consensus_grandpa::revert(client, blocks)?;
					Ok(())
				});
				Ok((cmd.run(client, backend, Some(aux_revert)), task_manager))
			})
		},
		#[cfg(feature = "runtime-benchmarks")]
		Some(Subcommand::Benchmark(cmd)) => crate::benchmarking::run(&cli, cmd),
		Some(Subcommand::ChainInfo(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run::<verinfer_runtime::opaque::Block>(&config))
		},
		None => {
			let runner = cli.create_runner(&cli.run)?;
			runner.run_node_until_exit(|config| async move {
				let consensus = consensus_for(&cli, &*config.chain_spec)?;
				log::info!("⛓  Block production: {consensus}");
				match config.network.network_backend {
					sc_network::config::NetworkBackendType::Libp2p => {
						service::new_full::<
							sc_network::NetworkWorker<
								verinfer_runtime::opaque::Block,
								verinfer_runtime::Hash,
							>,
						>(config, consensus, cli.inference_workers())
						.map_err(sc_cli::Error::Service)
					},
					sc_network::config::NetworkBackendType::Litep2p => {
						service::new_full::<sc_network::Litep2pNetworkBackend>(
							config,
							consensus,
							cli.inference_workers(),
						)
						.map_err(sc_cli::Error::Service)
					},
				}
			})
		},
	}
}
