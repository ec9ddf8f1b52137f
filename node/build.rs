//! Embeds the git commit and build profile into the `--version` string, and reruns on git changes.
use substrate_build_script_utils::{generate_cargo_keys, rerun_if_git_head_changed};

fn main() {
	generate_cargo_keys();
	rerun_if_git_head_changed();
}
