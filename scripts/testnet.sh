#!/usr/bin/env bash
# A local testnet of N validators (default 3) on loopback, as operators run one: a chain spec
# exported to a file and shared, session keys inserted into each validator's keystore, a node key
# per validator, bootnodes wired to the first. Aura + GRANDPA. Runs in the foreground; Ctrl-C (or
# any exit) stops every validator.
#
#   scripts/testnet.sh [N]            N = 1…6 validators: //Alice, //Bob, … //Ferdie
#
# Environment: RPC_PORT (first validator's JSON-RPC port, default 9944; the others follow),
# P2P_PORT (default 30333), TESTNET_DIR (base paths, logs and the spec; default a new temp dir,
# removed on exit unless set).
#
# GRANDPA finalizes with more than two thirds of the votes: 3 validators finalize only while all
# three run; 4 tolerate one down.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/verinfer-target}
verinfer=$CARGO_TARGET_DIR/debug/verinfer

validators=${1:-3}
names=(Alice Bob Charlie Dave Eve Ferdie)
if ! [[ $validators =~ ^[1-6]$ ]]; then
	echo "usage: scripts/testnet.sh [N]   (N = 1…6 validators)" >&2
	exit 2
fi
rpc_port=${RPC_PORT:-9944}
p2p_port=${P2P_PORT:-30333}

scripts/setup.sh
cargo build --workspace --locked

if [ -n "${TESTNET_DIR:-}" ]; then
	dir=$TESTNET_DIR
	mkdir -p "$dir"
	keep=1
else
	dir=$(mktemp -d)
	keep=
fi
pids=()
tail_pid=
stop() {
	trap - EXIT INT TERM
	[ -z "$tail_pid" ] || kill "$tail_pid" 2>/dev/null || true
	for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	[ -n "$keep" ] || rm -rf "$dir"
	echo "testnet stopped" >&2
}
trap stop EXIT INT TERM

spec=$dir/spec.json
"$verinfer" export-chain-spec --chain "local-$validators" --output "$spec" 2>/dev/null

bootnode=
for ((i = 0; i < validators; i++)); do
	name=${names[$i]}
	base=$dir/$(tr '[:upper:]' '[:lower:]' <<<"$name")
	mkdir -p "$base"
	# Session keys: Aura (sr25519) and GRANDPA (ed25519), from the well-known dev seeds.
	"$verinfer" key insert --base-path "$base" --chain "$spec" --scheme sr25519 \
		--suri "//$name" --key-type aura
	"$verinfer" key insert --base-path "$base" --chain "$spec" --scheme ed25519 \
		--suri "//$name" --key-type gran
	[ -f "$base/node-key" ] || "$verinfer" key generate-node-key --file "$base/node-key" 2>/dev/null
	peer_id=$("$verinfer" key inspect-node-key --file "$base/node-key")
	"$verinfer" --chain "$spec" --validator --name "$name" --base-path "$base" \
		--node-key-file "$base/node-key" --port $((p2p_port + i)) --rpc-port $((rpc_port + i)) \
		--rpc-cors all --no-mdns --no-telemetry --no-prometheus ${bootnode:+--bootnodes "$bootnode"} \
		>"$dir/$name.log" 2>&1 &
	pids+=($!)
	[ -n "$bootnode" ] || bootnode=/ip4/127.0.0.1/tcp/$p2p_port/p2p/$peer_id
	printf '  %-8s JSON-RPC ws://127.0.0.1:%d   p2p %d   peer %s   log %s\n' "$name" \
		$((rpc_port + i)) $((p2p_port + i)) "$peer_id" "$dir/$name.log" >&2
done

cat >&2 <<MSG

  Verinfer testnet: $validators validators (Aura + GRANDPA), chain spec $spec.
  Try: $verinfer model list --url ws://127.0.0.1:$rpc_port
  Ctrl-C stops every validator.

MSG
# Follow the first validator's log; any validator exiting stops the testnet.
tail -n +1 -f "$dir/${names[0]}.log" &
tail_pid=$!
wait -n "${pids[@]}" || true
echo "a validator exited: see the logs above" >&2
exit 1
