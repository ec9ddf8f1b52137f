#!/usr/bin/env bash
# The cross-architecture proof: the fixture corpus and the converter zoo (analysis and outputs of
# every model, hostile ones included, with the fuel and memory each call used, and each run again
# with half the fuel it needs, which stops it with OutOfFuel) gives identical digests on
#   1. x86-64 natively (this CPU: AVX2, FMA, AVX-512 where present),
#   2. x86-64 under qemu-user as a Nehalem CPU (SSE4.2, no AVX, no FMA),
#   3. aarch64 under qemu-user (NEON),
# all with the same engine blob. Fails unless every line matches.
#
# Usage: scripts/determinism.sh            (installs qemu-user and the aarch64 cross toolchain if
#                                           missing: Debian packages and a rustup target)
# Takes minutes: under emulation wasmtime compiles the 15 MB engine blob slowly.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/verinfer-target}

scripts/setup.sh
missing=()
command -v qemu-x86_64 >/dev/null || missing+=(qemu-user)
command -v qemu-aarch64 >/dev/null || missing+=(qemu-user)
command -v aarch64-linux-gnu-gcc >/dev/null || missing+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
if [ ${#missing[@]} -gt 0 ]; then
	echo "== installing ${missing[*]}" >&2
	sudo=$([ "$(id -u)" = 0 ] || echo sudo)
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
toolchain=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
rustup +"$toolchain" target list --installed | grep -qx aarch64-unknown-linux-gnu ||
	rustup +"$toolchain" target add aarch64-unknown-linux-gnu >/dev/null

echo "== building corpus-digests for x86_64 and aarch64" >&2
cargo build --locked --workspace --bin corpus-digests
SKIP_WASM_BUILD=1 \
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
	CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
	AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar \
	cargo build --locked --workspace --bin corpus-digests --target aarch64-unknown-linux-gnu

echo "== the converter zoo (scripts/zoo.sh): trees, linear models, SVMs, recurrent nets, control flow" >&2
zoo=$CARGO_TARGET_DIR/zoo
scripts/zoo.sh "$zoo" >&2

blob=$CARGO_TARGET_DIR/engine-wasm/wasm32-unknown-unknown/release/verinfer_engine.wasm
native=$CARGO_TARGET_DIR/debug/corpus-digests
arm=$CARGO_TARGET_DIR/aarch64-unknown-linux-gnu/debug/corpus-digests
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# qemu-x86_64 (user mode) crashes when wasmtime handles a trap by signal, which two hostile models
# cause: constant_bomb (the engine exhausts its memory limit and traps) and int_division (its
# all-zeros registration probe divides by zero, a trap the measurement leaves out); qemu-aarch64
# does not. Their x86-64-without-AVX digests are checked in-process instead, by tests/codegen.rs;
# so are those of the depth limit (`stack-depth-*` lines), whose recursions end in a trap too.
QEMU_X86_SKIP=(constant_bomb.onnx int_division.onnx)
skip_args=(--skip stack-depth)
for file in "${QEMU_X86_SKIP[@]}"; do skip_args+=(--skip "$file"); done

run() { # name, command…
	local name=$1
	shift
	local start=$SECONDS
	echo "== $name" >&2
	"$@" --engine "$blob" --cases "$zoo" fixtures >"$out/$name"
	echo "$name: $((SECONDS - start)) s, $(grep '^cpu' "$out/$name")" >&2
}
run x86_64-native "$native"
run x86_64-nehalem qemu-x86_64 -cpu Nehalem "$native" "${skip_args[@]}"
run aarch64 qemu-aarch64 -L /usr/aarch64-linux-gnu "$arm"

# The cpu line differs by design; every other line must not.
for name in x86_64-nehalem aarch64; do
	exclude=(-e '^cpu')
	if [ "$name" = x86_64-nehalem ]; then
		for file in "${QEMU_X86_SKIP[@]}"; do exclude+=(-e "^$file "); done
		exclude+=(-e '^stack-depth-')
	fi
	if ! diff <(grep -v "${exclude[@]}" "$out/x86_64-native") <(grep -v '^cpu' "$out/$name") >&2; then
		echo "DIFFERENT: x86_64-native vs $name" >&2
		exit 1
	fi
done
echo
echo "| model | analysis | outputs | run fuel | half fuel (out of fuel) | x86_64 native | x86_64 Nehalem (qemu) | aarch64 (qemu) |"
echo "|---|---|---|---|---|---|---|---|"
grep -v -e '^cpu' -e '^engine' "$out/x86_64-native" |
	awk -v skip=" ${QEMU_X86_SKIP[*]} " '{ nehalem = (index(skip, " " $1 " ") || $1 ~ /^stack-depth-/) ? "codegen.rs" : "="
		outputs = "-"; fuel = "-"; half = "-"
		for (i = 1; i < NF; i++) {
			if ($i == "outputs") { outputs = substr($(i + 1), 1, 18) "…"; if ($(i + 2) == "(fuel") fuel = $(i + 3) }
			if ($i == "half-fuel") half = ($(i + 1) == "-") ? "-" : substr($(i + 1), 1, 18) "…"
		}
		printf "| %s | %s… | %s | %s | %s | = | %s | = |\n", $1, substr($3, 1, 18), outputs, fuel, half, nehalem }'
echo
grep -e '^engine' -e '^cpu' "$out"/* | sed "s|$out/||"
echo "identical on all three configurations"
