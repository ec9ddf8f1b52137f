//! The Verinfer validator node: the service (Aura + GRANDPA, or instant/manual seal for
//! development), its JSON-RPC, and the `verinfer` command line with the client subcommands that
//! model owners, dApps and hosts use (through `verinfer_client`). The `verinfer` binary is
//! [`command::run`].

// sc-cli's runner and sc-service's builders fix the error types (`sc_cli::Error`,
// `sc_service::Error`, ~180 bytes); they are returned once, at start-up, so their size costs nothing.
#![allow(clippy::result_large_err)]

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod chain_spec;
pub mod cli;
pub mod command;
pub mod commands;
pub mod inference;
pub mod rpc;
pub mod service;
