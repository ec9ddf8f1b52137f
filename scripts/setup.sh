#!/usr/bin/env bash
# Installs everything a build of Verinfer needs, idempotently: a second run changes nothing and takes
# a second. Safe to call from every other script.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
		log "need root for: $*"; exit 1
	fi
}

# protoc: litep2p and libp2p compile their protobuf definitions at build time.
if ! command -v protoc >/dev/null; then
	log "installing protobuf-compiler"
	as_root apt-get update -qq
	DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq protobuf-compiler >/dev/null
fi

# Node.js 18+ and npm: the JS dApp (examples/dapp) that scripts/test-dapp.sh runs. Debian 12 ships 18.
if ! command -v npm >/dev/null || ! node -e 'process.exit(Number(process.versions.node.split(".")[0] < 18))'; then
	log "installing nodejs and npm"
	as_root apt-get update -qq
	DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq nodejs npm >/dev/null
fi

# The toolchain pinned in rust-toolchain.toml, with the Wasm target and rust-src that
# substrate-wasm-builder needs. rustup does not install them on its own here.
command -v rustup >/dev/null || { log "rustup is required (https://rustup.rs)"; exit 1; }
toolchain=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
installed_targets=$(rustup +"$toolchain" target list --installed 2>/dev/null || true)
# wasm32v1-none: the runtime; wasm32-unknown-unknown: the inference engine blob.
for target in wasm32v1-none wasm32-unknown-unknown; do
	if ! grep -qx "$target" <<<"$installed_targets"; then
		log "adding target $target to $toolchain"
		rustup +"$toolchain" target add "$target" >/dev/null
	fi
done
installed_components=$(rustup +"$toolchain" component list --installed 2>/dev/null || true)
for component in rust-src clippy rustfmt; do
	if ! grep -q "^$component" <<<"$installed_components"; then
		log "adding component $component to $toolchain"
		rustup +"$toolchain" component add "$component" >/dev/null
	fi
done
