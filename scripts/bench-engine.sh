#!/usr/bin/env bash
# The engine benchmark, everything in one run so that the ratios hold on a noisy machine: for each
# corpus model and a ResNet-50-sized CNN,
#   - the precompile path: the chain's engine blob in wasmtime, cold (load = parse, analyse,
#     optimise; then the first run) and cached (median of RUNS runs of the loaded model);
#   - tract natively with its default kernels (AVX2/FMA/AVX-512 chosen at run time);
#   - onnxruntime from Python, one thread;
# with the ratios, whether native tract gives the chain's bits, and the engine's compile time.
#
# Usage: scripts/bench-engine.sh   (RUNS=20 per model, RESNET_RUNS=5; SKIP_RESNET=1 to leave it out)
# The table is printed and written to $CARGO_TARGET_DIR/bench-engine.md; with BENCH_KEEP=DIR the
# three raw outputs (ours.jsonl, native.jsonl, ort.jsonl) are kept there (scripts/bench.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/verinfer-target}
runs=${RUNS:-20}
resnet_runs=${RESNET_RUNS:-5}
scripts/setup.sh

# The pinned Python packages (onnx, numpy, onnxruntime), in the fixtures' venv.
venv=$CARGO_TARGET_DIR/fixtures-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q -r fixtures/requirements.txt
resnet=$CARGO_TARGET_DIR/fixtures-resnet50
if [ -z "${SKIP_RESNET:-}" ] && [ ! -f "$resnet/resnet50.onnx" ]; then
	echo "== generating the ResNet-50-sized model" >&2
	fixtures/generate.sh --resnet50 "$resnet"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$venv/bin/python" - "$work/manifest.json" "$resnet" "$resnet_runs" <<'PY'
import json, os, sys
out, resnet, resnet_runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
models = os.path.abspath("fixtures/models")
corpus = json.load(open(os.path.join(models, "corpus.json")))["models"]
manifest = [{"name": m["name"], "model": os.path.join(models, m["model"]),
             "inputs": [os.path.join(models, i) for i in m["inputs"]]} for m in corpus]
if not os.environ.get("SKIP_RESNET"):
    manifest.append({"name": "resnet50", "model": os.path.join(resnet, "resnet50.onnx"),
                     "inputs": [os.path.join(resnet, "resnet50.input0.npy")], "runs": resnet_runs})
json.dump(manifest, open(out, "w"), indent=1)
PY

echo "== building: the precompile benchmark and native tract (release, no LTO)" >&2
cargo build --locked --workspace --example engine-bench
CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
	cargo build --locked --release --example native-bench \
	--manifest-path precompiles/engine/Cargo.toml --target-dir "$CARGO_TARGET_DIR/engine-native"

echo "== precompile path" >&2
"$CARGO_TARGET_DIR/debug/examples/engine-bench" "$runs" "$work/manifest.json" >"$work/ours.jsonl"
echo "== tract native" >&2
"$venv/bin/python" - "$work/manifest.json" "$runs" >"$work/native.sh" <<'PY'
import json, shlex, sys
for m in json.load(open(sys.argv[1])):
    print(" ".join(shlex.quote(a) for a in [str(m.get("runs", sys.argv[2])), m["model"], *m["inputs"]]))
PY
while read -r line; do
	eval "set -- $line"
	"$CARGO_TARGET_DIR/engine-native/release/examples/native-bench" "$@"
done <"$work/native.sh" >"$work/native.jsonl"
echo "== onnxruntime" >&2
"$venv/bin/python" scripts/bench/ort_bench.py "$runs" "$work/manifest.json" >"$work/ort.jsonl"

"$venv/bin/python" scripts/bench/report.py "$work/ours.jsonl" "$work/native.jsonl" "$work/ort.jsonl" |
	tee "$CARGO_TARGET_DIR/bench-engine.md"
if [ -n "${BENCH_KEEP:-}" ]; then
	mkdir -p "$BENCH_KEEP"
	cp "$work/ours.jsonl" "$work/native.jsonl" "$work/ort.jsonl" "$BENCH_KEEP/"
fi
