"""Sandbox overhead: calling a user function in the worker process vs calling it in-process.

Goal (issue): at most 50 microseconds of overhead per evaluation. A cheap
10-D Rosenbrock in a temporary file is evaluated N times one point at a time
(what most SciPy local methods do) and in batches of 100, against the same
function imported in this process. Prints medians of alternating repetitions.

    python benchmarks/sandbox_overhead.py
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aopt.sandbox import Limits, Worker  # noqa: E402

N_EVAL = 20_000
BATCH = 100
REPEATS = 5
GOAL_US = 50.0

SOURCE = """
import numpy as np

def rosenbrock(x):
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))
"""


def _time_single(fun, X) -> float:
    t0 = time.perf_counter()
    for x in X:
        fun(x)
    return time.perf_counter() - t0


def _time_batched(fun_batch, X) -> float:
    t0 = time.perf_counter()
    for i in range(0, len(X), BATCH):
        fun_batch(X[i : i + BATCH])
    return time.perf_counter() - t0


def main() -> None:
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(N_EVAL, 10))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rosen.py"
        path.write_text(SOURCE)
        spec = importlib.util.spec_from_file_location("rosen_inprocess", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        local = module.rosenbrock

        t0 = time.perf_counter()
        worker = Worker(f"{path}:rosenbrock", limits=Limits(eval_timeout=10))
        start_s = time.perf_counter() - t0
        with worker:
            assert worker.evaluate(X[0]) == local(X[0])
            local_batch = lambda B: np.array([local(x) for x in B])  # noqa: E731
            rows = {"in-process": [], "worker single": [], "worker batch": []}
            for _ in range(REPEATS):
                rows["in-process"].append(_time_single(local, X))
                rows["worker single"].append(_time_single(worker.evaluate, X))
                rows["worker batch"].append(_time_batched(worker.evaluate_batch, X))
            local_batched = statistics.median(_time_batched(local_batch, X) for _ in range(REPEATS))

    per = {k: statistics.median(v) / N_EVAL * 1e6 for k, v in rows.items()}
    single_over = per["worker single"] - per["in-process"]
    batch_over = per["worker batch"] - local_batched / N_EVAL * 1e6
    print(f"sandbox overhead: 10-D Rosenbrock, {N_EVAL} evaluations, median of {REPEATS}")
    print(f"  worker start-up (spawn + import)      {start_s * 1e3:8.1f} ms")
    print(f"  in-process call                       {per['in-process']:8.2f} us/eval")
    print(f"  worker, one point per call            {per['worker single']:8.2f} us/eval")
    print(f"  worker, batches of {BATCH:<4d}              {per['worker batch']:8.2f} us/eval")
    print(f"  overhead, single                      {single_over:8.2f} us/eval  (goal <= {GOAL_US:.0f})")
    print(f"  overhead, batched                     {batch_over:8.2f} us/eval  (goal <= {GOAL_US:.0f})")
    ok = single_over <= GOAL_US and batch_over <= GOAL_US
    print("  goal met" if ok else "  GOAL MISSED")


if __name__ == "__main__":
    main()
