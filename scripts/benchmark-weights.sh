#!/usr/bin/env bash
# Regenerates the weights of Verinfer's pallets (pallets/*/src/weights.rs) from their benchmarks.
#
# The node is built with `runtime-benchmarks` and runs each pallet's benchmarks with
# `verinfer benchmark pallet`: the runtime in the node's Wasm executor, the inference host
# functions and the engine exactly as block execution runs them, on the dev chain's genesis (which
# holds the engine blob). This machine is the reference hardware: weights are picoseconds here.
#
#   scripts/benchmark-weights.sh                 # every pallet
#   scripts/benchmark-weights.sh pallet_inference  # one
#   STEPS=50 REPEAT=20 scripts/benchmark-weights.sh  # more samples (default 10 × 5)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/verinfer-target}
STEPS=${STEPS:-10}
REPEAT=${REPEAT:-5}

pallets=("$@")
[ ${#pallets[@]} -gt 0 ] || pallets=(pallet_engine pallet_models pallet_inference pallet_hosting)

cargo build -p verinfer-node --features runtime-benchmarks
bin="$CARGO_TARGET_DIR/debug/verinfer"

for pallet in "${pallets[@]}"; do
	dir="pallets/${pallet#pallet_}"
	[ -d "$dir" ] || { echo "no such pallet directory: $dir" >&2; exit 1; }
	echo "[weights] $pallet ($STEPS steps × $REPEAT repeats)" >&2
	"$bin" benchmark pallet \
		--chain dev \
		--pallet "$pallet" \
		--extrinsic '*' \
		--steps "$STEPS" \
		--repeat "$REPEAT" \
		--wasm-execution compiled \
		--heap-pages 4096 \
		--template scripts/weights/template.hbs \
		--output "$dir/src/weights.rs"
done
