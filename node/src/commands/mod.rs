//! The client subcommands of `verinfer`, for model owners, dApps and hosts: `model`
//! ([`model`]: check and run locally; [`owner`]: register, list, show, set-fee, deprecate),
//! `infer` and `result` ([`infer`]), `host` ([`hosting`]). What they share is [`args`]; they talk
//! to a node through `verinfer_client`.
//!
//! **One exit-code policy** ([`Failure`]): 0 when the command did its work; 1, with one line on
//! stderr, when it could not (a file, the node, the network, a transaction the chain did not
//! include); 2, with one line on stderr, when the engine or the chain refused the model.

pub mod args;
pub mod conformance;
pub mod hosting;
pub mod infer;
pub mod model;
pub mod owner;

use std::fmt;

use verinfer_executor::{engine::HostError, local::LocalError};
use verinfer_formats::FileError;
use verinfer_primitives::engine::EngineError;

use verinfer_client::ClientError;

/// Why a command failed, which decides its exit status.
#[derive(Debug)]
pub enum Failure {
	/// The command could not do its work: exit status 1.
	Failed(String),
	/// The engine or the chain refused the model: exit status 2.
	Refused(String),
}

impl Failure {
	/// The process's exit status for this failure.
	pub fn status(&self) -> i32 {
		match self {
			Failure::Failed(_) => 1,
			Failure::Refused(_) => 2,
		}
	}
}

impl fmt::Display for Failure {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			Failure::Failed(reason) | Failure::Refused(reason) => f.write_str(reason),
		}
	}
}

impl From<ClientError> for Failure {
	fn from(error: ClientError) -> Self {
		Failure::Failed(error.to_string())
	}
}

impl From<FileError> for Failure {
	fn from(error: FileError) -> Self {
		Failure::Failed(error.to_string())
	}
}

impl From<HostError> for Failure {
	fn from(error: HostError) -> Self {
		Failure::Failed(error.to_string())
	}
}

impl From<LocalError> for Failure {
	fn from(error: LocalError) -> Self {
		match error {
			LocalError::Engine(EngineError::Refused(_)) => Failure::Refused(error.to_string()),
			_ => Failure::Failed(error.to_string()),
		}
	}
}

/// Ends a command: on failure, its reason as one line on stderr and its exit status.
pub fn finish(outcome: Result<(), Failure>) -> sc_cli::Result<()> {
	if let Err(failure) = outcome {
		eprintln!("error: {failure}");
		std::process::exit(failure.status());
	}
	Ok(())
}

/// Runs `command` to its end on a fresh single-threaded runtime, then [`finish`]es it.
pub fn finish_async<E: Into<Failure>>(
	command: impl std::future::Future<Output = Result<(), E>>,
) -> sc_cli::Result<()> {
	let outcome = tokio::runtime::Builder::new_current_thread()
		.enable_all()
		.build()
		.map_err(|error| Failure::Failed(format!("cannot start: {error}")))
		.and_then(|runtime| runtime.block_on(command).map_err(Into::into));
	finish(outcome)
}
