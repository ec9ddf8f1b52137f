#!/usr/bin/env bash
# Every benchmark in one run, so that the ratios hold on a noisy machine, and BENCHMARKS.md with
# benchmarks.png written from it:
#   1. engine: the corpus models and a ResNet-50-sized CNN, the precompile path vs native tract vs
#      onnxruntime (scripts/bench-engine.sh);
#   2. chain: inferences per block, authoring and import time for three model sizes, with
#      pre-execution off and on (node/tests/bench.rs, chain_benchmark);
#   3. registration: time and blocks to register a 1 MB and a 20 MB model (registration_benchmark).
#
# Usage: scripts/bench.sh   (RUNS, RESNET_RUNS, SKIP_RESNET as for bench-engine.sh; BENCH_CALLS
# calls per model size, 300 by default; BENCH_REPEATS imports per mode, 3 by default, the median
# reported). Raw outputs stay in $CARGO_TARGET_DIR/bench.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/verinfer-target}
started=$(date +%s)
out=$CARGO_TARGET_DIR/bench
rm -rf "$out"
mkdir -p "$out"

echo "== 1. engine" >&2
BENCH_KEEP=$out scripts/bench-engine.sh

echo "== 2. the engine alone on one thread and on every CPU: pre-execution's ceiling" >&2
cargo build --locked -p verinfer-executor --example engine-scaling
"$CARGO_TARGET_DIR/debug/examples/engine-scaling" 200 0 5000000 50000000 | tee "$out/scaling.jsonl"

echo "== 2-3. chain and registration (real dev nodes)" >&2
cargo test --locked -p verinfer-node --test bench -- --ignored --nocapture --test-threads 1 |
	tee "$out/bench.log"
# libtest prints a test's name and its first output on one line: take the JSON wherever it starts.
grep -o 'BENCH {.*' "$out/bench.log" | sed 's/^BENCH //' >"$out/chain.jsonl"

venv=$CARGO_TARGET_DIR/fixtures-venv
"$venv/bin/pip" install -q -r scripts/bench/requirements.txt
"$venv/bin/python" - "$out/machine.json" "$started" <<'PY'
import json, os, platform, subprocess, sys, time
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
           platform.machine())
kib = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                        text=True).stdout.strip()
json.dump({"commit": commit, "date": time.strftime("%Y-%m-%d"), "cpu": cpu,
           "cores": os.cpu_count(), "memory": f"{kib / 2**20:.0f} GiB",
           "minutes": round((time.time() - int(sys.argv[2])) / 60)}, open(sys.argv[1], "w"))
PY
"$venv/bin/python" scripts/bench/benchmarks.py "$out" .
echo "== wrote BENCHMARKS.md and benchmarks.png" >&2
