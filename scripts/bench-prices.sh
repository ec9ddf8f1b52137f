#!/usr/bin/env bash
# What the runtime charges for the engine's work against the time the work takes, on an optimised
# (release) build: for every model of the fixture corpus and of the hostile-cost corpus
# (fixtures/hostile/cost.json), registering it (a metered load and two probe runs), loading
# it, and calling it on its (hostile) inputs, each timed and set beside the engine's share of the
# weight the chain charges after the refund. Every ratio measured/charged must be at most 1: the
# runtime's EngineCost (runtime/src/configs.rs) is calibrated from the worst of them.
# Then, on a dev chain (the node's dev build), blocks full of each accepted hostile model's calls
# are imported without pre-execution, and each block's import time is set against the weight it
# consumed (node/tests/bench.rs, hostile_blocks_benchmark): at most 1 too.
#
# Usage: scripts/bench-prices.sh [MODEL.onnx INPUT.npy…]…   (RUNS=5 timings per step, the median)
# The table is printed and written to $CARGO_TARGET_DIR/bench-prices.md. The first build compiles
# the runtime natively in release (SKIP_WASM_BUILD: the runtime's Wasm blob is not needed), about
# 25 minutes on 2 cores; later runs reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/verinfer-target}
runs=${RUNS:-5}
scripts/setup.sh
# The engine blob, as the node embeds it (cached: <target>/engine-wasm), then the benchmark.
cargo build --locked -p verinfer-executor
engine=$CARGO_TARGET_DIR/engine-wasm/wasm32-unknown-unknown/release/verinfer_engine.wasm
SKIP_WASM_BUILD=1 cargo build --locked --release -p verinfer-runtime --example price-bench
echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores" |
	tee "$CARGO_TARGET_DIR/bench-prices.md"
"$CARGO_TARGET_DIR/release/examples/price-bench" "$runs" fixtures "$engine" "$@" |
	tee -a "$CARGO_TARGET_DIR/bench-prices.md"
[ $# -eq 0 ] || exit 0
echo "== blocks of hostile calls, imported without pre-execution" >&2
cargo test --locked -p verinfer-node --test bench -- --ignored --nocapture hostile_blocks_benchmark |
	sed -n 's/^BENCH //p' | tee "$CARGO_TARGET_DIR/bench-hostile-blocks.jsonl" >&2
echo | tee -a "$CARGO_TARGET_DIR/bench-prices.md"
echo "| model | blocks | calls per block | worst import/weight |" | tee -a "$CARGO_TARGET_DIR/bench-prices.md"
echo "|---|--:|--:|--:|" | tee -a "$CARGO_TARGET_DIR/bench-prices.md"
python3 - "$CARGO_TARGET_DIR/bench-hostile-blocks.jsonl" <<'PY' | tee -a "$CARGO_TARGET_DIR/bench-prices.md"
import json, sys
for line in open(sys.argv[1]):
    b = json.loads(line)
    calls = [block["calls"] for block in b["blocks"]]
    print(f"| {b['model']} | {len(calls)} | {max(calls) if calls else 0} | {b['worst_import_over_weight']} |")
PY
