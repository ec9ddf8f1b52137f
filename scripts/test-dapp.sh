#!/usr/bin/env bash
# The JS dApp (examples/dapp, @polkadot/api) against a fresh dev node: it calls the demo model and
# must get, byte for byte, what `verinfer model run` gives for the same input. Uses the node binary
# `cargo test --workspace` built (scripts/test.sh runs this after it); builds it if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/verinfer-target}
verinfer=$CARGO_TARGET_DIR/debug/verinfer

scripts/setup.sh
[ -x "$verinfer" ] || cargo build --locked -p verinfer-node
# Exactly the versions in the lockfile.
(cd examples/dapp && npm ci --no-audit --no-fund --loglevel=error)

work=$(mktemp -d)
node_pid=
cleanup() {
	[ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

"$verinfer" --dev --tmp --rpc-port 0 --port 0 --no-telemetry --no-prometheus --no-mdns \
	>"$work/node.log" 2>&1 &
node_pid=$!
for _ in $(seq 600); do
	addr=$(sed -n 's/.*Running JSON-RPC server: addr=\([0-9.:]*\).*/\1/p' "$work/node.log" | head -1)
	[ -n "$addr" ] && break
	kill -0 "$node_pid" 2>/dev/null || { cat "$work/node.log" >&2; echo "the node exited" >&2; exit 1; }
	sleep 0.2
done
[ -n "$addr" ] || { tail -40 "$work/node.log" >&2; echo "the node did not open its RPC port" >&2; exit 1; }

if ! node examples/dapp/infer.mjs --url "ws://$addr" --out "$work/dapp" | tee "$work/dapp.txt"; then
	tail -40 "$work/node.log" >&2
	exit 1
fi
"$verinfer" model run fixtures/models/mlp.onnx --input "$work/dapp/input0.npy" \
	--out "$work/reference.npy" >"$work/reference.txt"

dapp_hash=$(sed -n 's/^outputs sha256 //p' "$work/dapp.txt")
reference_hash=$(sed -n 's/^outputs sha256 //p' "$work/reference.txt")
if ! cmp "$work/dapp/output0.npy" "$work/reference.npy" || [ "$dapp_hash" != "$reference_hash" ]; then
	echo "the dApp's output differs from verinfer model run's: $dapp_hash vs $reference_hash" >&2
	exit 1
fi
echo "the dApp's output equals verinfer model run's byte for byte (outputs sha256 $dapp_hash)" >&2
