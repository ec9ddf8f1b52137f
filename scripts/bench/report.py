"""Joins the three engine benchmark outputs into the table scripts/bench-engine.sh prints (and
scripts/bench/benchmarks.py puts in BENCHMARKS.md).

`report.py OURS.jsonl NATIVE.jsonl ORT.jsonl` (NATIVE: one line per model, in manifest order).
Ratios are our median over theirs: how many times slower the deterministic engine is.
"""

import json
import sys


def lines(path):
    return [json.loads(line) for line in open(path) if line.strip()]


def engine_rows(ours, native, ort):
    """One dict per model: our cold and cached latency, native tract's, onnxruntime's."""
    ort = {o["name"]: o for o in ort}
    rows = []
    for ours_row, native_row in zip(ours[1:], native):
        name = ours_row["name"]
        rows.append({
            "name": name,
            "multiply_adds": ours_row["multiply_adds"],
            "load_ms": ours_row["load_ms"],
            "cold_ms": ours_row["load_ms"] + ours_row["first_run_ms"],
            "cached_ms": ours_row["run_ms"],
            "native_ms": native_row["run_ms"],
            "ort_ms": ort[name]["run_ms"],
            "same_bits": native_row["outputs_sha256"] == ours_row["outputs_sha256"],
        })
    return rows


def engine_table(ours, native, ort):
    engine = ours[0]
    out = [
        f"Engine blob: {engine['engine_bytes']:,} bytes; compiling it: "
        f"{engine['engine_compile_ms'] / 1e3:.1f} s; loading the compiled code from the disk "
        f"cache: {engine['engine_disk_load_ms']:.0f} ms.",
        "",
        "| model | multiply-adds | load (ms) | precompile cold (ms) | precompile cached (ms) "
        "| tract native (ms) | onnxruntime 1 thread (ms) | cached / native | cached / onnxruntime "
        "| native bits = chain bits |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in engine_rows(ours, native, ort):
        out.append(
            f"| {r['name']} | {r['multiply_adds']:,} | {r['load_ms']:.1f} | {r['cold_ms']:.2f} "
            f"| {r['cached_ms']:.3f} | {r['native_ms']:.3f} | {r['ort_ms']:.3f} "
            f"| {r['cached_ms'] / r['native_ms']:.1f}× | {r['cached_ms'] / r['ort_ms']:.1f}× "
            f"| {'yes' if r['same_bits'] else 'no'} |")
    return "\n".join(out)


def main():
    print(engine_table(*(lines(p) for p in sys.argv[1:4])))


if __name__ == "__main__":
    main()
