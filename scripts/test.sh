#!/usr/bin/env bash
# Every test: prerequisites, formatting, the workspace's unit tests, and the end-to-end tests that
# start real `verinfer` nodes (node/tests/) and drive them over JSON-RPC.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/verinfer-target}

scripts/setup.sh

step() { printf '\n\033[1;34m==> %s\033[0m\n' "$*" >&2; }
started=$SECONDS

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo test --workspace (unit tests and end-to-end tests against real nodes)"
# CARGO_TIMINGS=1 also writes cargo's build-time report (target dir, cargo-timings/).
cargo test --workspace --locked ${CARGO_TIMINGS:+--timings}

step "all tests passed in $((SECONDS - started)) s"
