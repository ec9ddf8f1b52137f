"""Writes BENCHMARKS.md and benchmarks.png from one run of scripts/bench.sh.

`benchmarks.py DIR OUT_DIR`: DIR holds the engine benchmark's ours.jsonl, native.jsonl and
ort.jsonl, chain.jsonl (the `BENCH {json}` lines of node/tests/bench.rs) and machine.json.
"""

import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from report import engine_rows, engine_table, lines  # noqa: E402


def chain_table(chain, scaling):
    ceiling = {s["multiply_adds"]: s["speedup"] for s in scaling}
    out = [
        "| model | multiply-adds a call | calls | blocks | calls per block (mean / max) "
        "| authoring ms per call, off | on | import of the blocks, off (ms) | on (ms) "
        "| import speed-up | engine alone on every CPU | served ahead |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in chain:
        runs = lambda key: ", ".join(f"{t:.0f}" for t in c[key])
        top = ceiling.get(c["multiply_adds"])
        out.append(
            f"| {c['model']} | {c['multiply_adds']:,} | {c['calls']} | {c['blocks']} "
            f"| {c['calls_per_block_mean']:.1f} / {c['calls_per_block_max']} "
            f"| {c['authoring_ms_per_call_off']:.2f} | {c['authoring_ms_per_call_on']:.2f} "
            f"| {c['import_ms_off']:.0f} ({runs('import_ms_runs_off')}) "
            f"| {c['import_ms_on']:.0f} ({runs('import_ms_runs_on')}) "
            f"| **{c['import_speedup']:.2f}×** | {f'{top:.2f}×' if top else '–'} "
            f"| {c['served_ahead']} of {c['calls']} |")
    return "\n".join(out)


def registration_table(registrations):
    out = ["| model | bytes | time (s) | blocks (6 s each) |", "|---|---:|---:|---:|"]
    for r in registrations:
        out.append(f"| {r['model']} | {r['bytes']:,} | {r['seconds']:.1f} | {r['blocks']} |")
    return "\n".join(out)


def plot(rows, path):
    names = [r["name"] for r in rows]
    series = [("precompile (chain engine, cached)", "cached_ms", "#1f77b4"),
              ("tract native, default kernels", "native_ms", "#ff7f0e"),
              ("onnxruntime, 1 thread", "ort_ms", "#2ca02c")]
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(names) + 1.6))
    height = 0.26
    for i, (label, key, color) in enumerate(series):
        ax.barh([y + (i - 1) * height for y in range(len(names))], [r[key] for r in rows],
                height, label=label, color=color)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("median latency of one inference (ms, log scale)")
    ax.set_title("Verinfer engine vs native tract vs onnxruntime, one core")
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(axis="x", which="both", alpha=0.3)
    fig.tight_layout()
    # No timestamp in the file: the same figures give the same bytes.
    fig.savefig(path, dpi=110, metadata={"Software": None})


def main():
    src, out = sys.argv[1], sys.argv[2]
    ours, native, ort = (lines(os.path.join(src, f)) for f in
                         ("ours.jsonl", "native.jsonl", "ort.jsonl"))
    benches = lines(os.path.join(src, "chain.jsonl"))
    chain = [b for b in benches if b["kind"] == "chain"]
    registrations = [b for b in benches if b["kind"] == "registration"]
    machine = json.load(open(os.path.join(src, "machine.json")))
    scaling = lines(os.path.join(src, "scaling.jsonl"))
    rows = engine_rows(ours, native, ort)
    plot(rows, os.path.join(out, "benchmarks.png"))
    workers = chain[0]["workers"] if chain else "?"
    best = max(chain, key=lambda c: c["import_speedup"]) if chain else None

    md = f"""# Benchmarks

Measured by `scripts/bench.sh` in one run, so the ratios compare runs on the same machine at the
same time. Commit `{machine['commit']}`, {machine['date']}, {machine['cpu']}, {machine['cores']}
cores, {machine['memory']}.

Reproduce: `scripts/bench.sh` (about {machine['minutes']} minutes here). It rewrites this file and
`benchmarks.png`. Speed is only ever reported as ratios against a reference measured in the same
run; no test asserts a time.

## 1. Engine: one inference, the chain's precompile vs native tract vs onnxruntime

The precompile path is the engine blob (tract compiled to Wasm with simd128) run by wasmtime with
deterministic settings, as block execution runs it: *cold* is parsing, analysing and optimising
the model plus the first run; *cached* the median run of the loaded model (what every later call
in a block and every later block costs). Native tract uses its default kernels (AVX2/FMA chosen
at run time, so its bits can differ by CPU, which is why the chain does not use it); onnxruntime
runs one thread, as the engine runs one call on one core.

{engine_table(ours, native, ort)}

![latency per model: precompile vs native tract vs onnxruntime](benchmarks.png)

## 2. Chain: inferences per block, authoring and import, pre-execution off and on

A dev node seals a block every 2 s; four accounts submit {chain[0]['calls'] if chain else '?'}
calls of a synthetic compute-bound model (a matrix product whose rows are made from its
one-element input, `synthetic::combined`), each call with other inputs. *Authoring*: the node
that made the blocks, with `--inference-workers 0` and with {workers} workers (which also make
pooled transactions' calls ahead); time to prepare a block, per call included. *Import*: the
blocks of the second run exported and imported (`verinfer import-blocks`) into fresh databases
with pre-execution off and on: the sum of the blocks' import times, state root checked by import
and the whole state compared byte for byte by `node/tests/pre_execution.rs`. Blocks are capped
by weight, which charges every call its fixed costs (signature, fee split among up to 16 hosts,
storage) besides the model's multiply-adds; *small* does almost no inference, so pre-execution
has little to parallelise there. Each import is made {chain[0]['import_ms_runs_off'].__len__() if chain else '?'} times per mode, in turns; the table gives the
median and, in brackets, every run. *Engine alone on every CPU* is the ceiling: 200 calls of the
same model made on one thread, then split over every CPU, with no chain around them
(`engine-scaling`, same run). On a virtual machine that ceiling itself moves from run to run
(two vCPUs are not always two free cores), so read the chain's ratio against it.

{chain_table(chain, scaling)}

{f"Best import speed-up: **{best['import_speedup']:.2f}×** ({best['model']} model, {workers} workers on {machine['cores']} cores)." if best else ""}

## 3. Registration: time and blocks to register a model

`verinfer model register` against a dev node sealing a block every 6 s (the live chain's Aura
slot): one `register` call for a model up to one chunk (1 MiB), else `begin_upload`, the chunks
(up to 8 in the pool at once, 3 per block by block length) and `finalize`, each step final before
the command returns. The models are `synthetic::sized`: a weight of the given size, analysed by the
engine at `finalize`.

{registration_table(registrations)}
"""
    open(os.path.join(out, "BENCHMARKS.md"), "w").write(md)


if __name__ == "__main__":
    main()
