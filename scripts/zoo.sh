#!/usr/bin/env bash
# Generates the converter zoo with the pinned Python packages (in a venv under the target dir):
# small scikit-learn, XGBoost and LightGBM models as skl2onnx/onnxmltools convert them, plus
# onnx.helper graphs (LSTM, GRU, RNN, Scan, If, Loop, TreeEnsemble), each with onnxruntime reference
# outputs in ONNX's backend-test layout. See fixtures/zoo/zoo.py.
#
#   scripts/zoo.sh [OUT_DIR]      OUT_DIR by default $target/zoo (never committed)
#
# Idempotent: a second run reuses the venv, rewrites the same bytes and deletes stale case folders.
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")/.."
usage="usage: $0 [OUT_DIR]"
[ $# -le 1 ] || { echo "$usage" >&2; exit 2; }
case ${1:-} in -*) echo "$usage" >&2; exit 2 ;; esac
target=${CARGO_TARGET_DIR:-$HOME/.cache/verinfer-target}
out=${1:-$target/zoo}
case $out in /*) ;; *) out=$caller/$out ;; esac
venv=$target/zoo-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q -r fixtures/zoo/requirements.txt
# (a fixed hash seed: skl2onnx orders some models' opset_import by iterating a set)
export PYTHONDONTWRITEBYTECODE=1 PYTHONHASHSEED=0
exec "$venv/bin/python" fixtures/zoo/zoo.py "$out"
