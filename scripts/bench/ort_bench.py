"""onnxruntime, single thread, for scripts/bench-engine.sh: `ort_bench.py RUNS MANIFEST.json`.

Prints one JSON line per model: session creation time and the median of RUNS runs. Default graph
optimisations (what a user of onnxruntime gets); one intra-op and one inter-op thread, as the
chain's engine runs one call on one core.
"""

import json
import statistics
import sys
import time

import numpy as np
import onnxruntime as ort


def main():
    runs, manifest = int(sys.argv[1]), json.load(open(sys.argv[2]))
    for entry in manifest:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        start = time.perf_counter()
        session = ort.InferenceSession(entry["model"], options, providers=["CPUExecutionProvider"])
        load_ms = (time.perf_counter() - start) * 1e3
        feeds = {i.name: np.load(p) for i, p in zip(session.get_inputs(), entry["inputs"])}
        session.run(None, feeds)
        times = []
        for _ in range(entry.get("runs", runs)):
            start = time.perf_counter()
            session.run(None, feeds)
            times.append((time.perf_counter() - start) * 1e3)
        print(json.dumps({"name": entry["name"], "load_ms": round(load_ms, 3),
                          "run_ms": round(statistics.median(times), 4),
                          "runs": entry.get("runs", runs)}))


if __name__ == "__main__":
    main()
