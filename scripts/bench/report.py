"""Joins the three benchmark outputs into the table scripts/bench-engine.sh prints.

`report.py OURS.jsonl NATIVE.jsonl ORT.jsonl` (NATIVE: one line per model, in manifest order).
Ratios are our median over theirs: how many times slower the deterministic engine is.
"""

import json
import sys


def lines(path):
    return [json.loads(line) for line in open(path) if line.strip()]


def main():
    ours, native, ort = (lines(p) for p in sys.argv[1:4])
    engine, models = ours[0], ours[1:]
    ort = {o["name"]: o for o in ort}
    print(f"Engine blob: {engine['engine_bytes']:,} bytes; compiling it: "
          f"{engine['engine_compile_ms'] / 1e3:.1f} s; loading the compiled code from the disk cache: "
          f"{engine['engine_disk_load_ms']:.0f} ms.")
    print()
    print("| model | multiply-adds | load (ms) | precompile cold (ms) | precompile cached (ms) "
          "| tract native (ms) | onnxruntime 1 thread (ms) | cached / native | cached / onnxruntime "
          "| native bits = chain bits |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for ours_row, native_row in zip(models, native):
        name = ours_row["name"]
        cold = ours_row["load_ms"] + ours_row["first_run_ms"]
        cached, nat, rt = ours_row["run_ms"], native_row["run_ms"], ort[name]["run_ms"]
        same = "yes" if native_row["outputs_sha256"] == ours_row["outputs_sha256"] else "no"
        print(f"| {name} | {ours_row['multiply_adds']:,} | {ours_row['load_ms']:.1f} | {cold:.2f} "
              f"| {cached:.3f} | {nat:.3f} | {rt:.3f} | {cached / nat:.1f}× | {cached / rt:.1f}× "
              f"| {same} |")


if __name__ == "__main__":
    main()
