//! `verinfer`: the Verinfer validator node and its command-line tools.

// sc-cli fixes the error type (`sc_cli::Error`, ~180 bytes); it is returned once, at exit.
#[allow(clippy::result_large_err)]
fn main() -> sc_cli::Result<()> {
	verinfer_node::command::run()
}
