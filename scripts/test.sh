#!/usr/bin/env bash
# Every test: prerequisites, formatting, the workspace's unit tests, the end-to-end tests that
# start real `verinfer` nodes (node/tests/) and drive them over JSON-RPC, the JS dApp, the
# conformance harness (scripts/conformance.sh: ONNX's backend tests and the converter zoo), and the
# cross-architecture determinism proof (scripts/determinism.sh: x86-64 without AVX and aarch64, under qemu-user).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/verinfer-target}

scripts/setup.sh

step() { printf '\n\033[1;34m==> %s\033[0m\n' "$*" >&2; }
started=$SECONDS

step "cargo fmt --check (the workspace and the engine's own workspace)"
cargo fmt --all -- --check
cargo fmt --all --manifest-path precompiles/engine/Cargo.toml -- --check

step "cargo test --workspace (unit tests and end-to-end tests against real nodes)"
# CARGO_TIMINGS=1 also writes cargo's build-time report (target dir, cargo-timings/).
cargo test --workspace --locked ${CARGO_TIMINGS:+--timings}

step "the pallets' benchmarks, once each at their lowest and highest components (mock runtime, real engine)"
# The benchmarks that scripts/benchmark-weights.sh turns into weights.rs: kept runnable.
cargo test --locked -p pallet-engine -p pallet-models -p pallet-inference -p pallet-hosting --features runtime-benchmarks

step "scripts/test-dapp.sh (the @polkadot/api dApp against a dev node, compared with verinfer model run)"
scripts/test-dapp.sh

step "scripts/conformance.sh (ONNX's backend tests and the converter zoo through verinfer model test)"
scripts/conformance.sh

step "scripts/determinism.sh (the corpus on x86-64 natively, as a CPU without AVX, and on aarch64)"
scripts/determinism.sh

step "all tests passed in $((SECONDS - started)) s"
