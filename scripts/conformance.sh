#!/usr/bin/env bash
# The conformance harness: ONNX's backend tests from the onnx wheel the fixtures pin (its own test
# cases, no download: `node`, the operator tests, and `pytorch`, pytorch's converted and operator
# tests), and the converter zoo (scripts/zoo.sh: scikit-learn, XGBoost, LightGBM
# and onnx-helper models with onnxruntime references), each run through `verinfer model test`
# against the expected failures committed in fixtures/conformance/, each explained there.
#
#   scripts/conformance.sh [node|pytorch|zoo]...     every suite by default
#
# A case whose model uses an operator off the allowlist is out of scope and counted apart, by
# operator; every other case passes within tolerance of its reference or is listed. Uses the node
# binary `cargo test --workspace` built (scripts/test.sh runs this after it); builds it if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/verinfer-target}
verinfer=$CARGO_TARGET_DIR/debug/verinfer
[ $# -gt 0 ] || set -- node pytorch zoo
for suite in "$@"; do
	case $suite in node | pytorch | zoo) ;; *) echo "usage: $0 [node|pytorch|zoo]..." >&2; exit 2 ;; esac
done

scripts/setup.sh
[ -x "$verinfer" ] || cargo build --locked -p verinfer-node

# The onnx wheel's backend test data, in the fixtures' venv.
onnx_data() {
	local venv=$CARGO_TARGET_DIR/fixtures-venv
	[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
	"$venv/bin/pip" install -q -r fixtures/requirements.txt
	"$venv/bin/python" -c 'import onnx.backend.test as t, os; print(os.path.join(os.path.dirname(t.__file__), "data"))'
}

for suite in "$@"; do
	printf '\n== %s\n' "$suite"
	expect=fixtures/conformance/$suite.expected
	case $suite in
	node) "$verinfer" model test --expect "$expect" "$(onnx_data)"/node/*/ ;;
	pytorch)
		data=$(onnx_data)
		"$verinfer" model test --expect "$expect" "$data"/pytorch-converted/*/ "$data"/pytorch-operator/*/
		;;
	zoo)
		scripts/zoo.sh "$CARGO_TARGET_DIR/zoo"
		# The copies node/tests/ml.rs registers on a chain must be what the zoo generates.
		for case in fixtures/zoo/e2e/*/; do
			diff -r "$case" "$CARGO_TARGET_DIR/zoo/$(basename "$case")" ||
				{ echo "fixtures/zoo/e2e/$(basename "$case") differs from the zoo's: copy it again" >&2; exit 1; }
		done
		"$verinfer" model test --expect "$expect" --rtol 1e-3 --atol 1e-5 "$CARGO_TARGET_DIR"/zoo/*/
		;;
	esac
done
