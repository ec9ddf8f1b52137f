//! `verinfer`: the Verinfer validator node.

#![warn(missing_docs)]
// sc-cli's runner and sc-service's builders fix the error types (`sc_cli::Error`,
// `sc_service::Error`, ~180 bytes); they are returned once, at start-up, so their size costs nothing.
#![allow(clippy::result_large_err)]

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod chain_spec;
mod cli;
mod client;
mod command;
mod infer;
mod model;
mod register;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
	command::run()
}
