#!/usr/bin/env bash
# The main job: install prerequisites, build the node, and run a development chain in the
# foreground with JSON-RPC on 127.0.0.1:9944. Ctrl-C stops it. Extra arguments go to the node,
# e.g. `scripts/dev.sh --consensus manual-seal-1000` or `scripts/dev.sh --base-path /tmp/chain`.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/verinfer-target}

scripts/setup.sh
# The same profile the tests use, so that `scripts/test.sh` and this script share one build.
# --workspace: the feature set `cargo test --workspace` resolves, so that nothing is rebuilt.
cargo build --workspace --locked

cat >&2 <<'MSG'

  Verinfer dev chain starting: JSON-RPC (WebSocket and HTTP) on 127.0.0.1:9944.
  Connect polkadot.js Apps: https://polkadot.js.org/apps/?rpc=ws%3A%2F%2F127.0.0.1%3A9944#/explorer
  Accounts //Alice … //Ferdie are funded; Alice is sudo. Ctrl-C stops the chain.

MSG
# exec: Ctrl-C goes straight to the node, which shuts down cleanly.
exec "$CARGO_TARGET_DIR/debug/verinfer" --dev --rpc-port 9944 --rpc-cors all "$@"
