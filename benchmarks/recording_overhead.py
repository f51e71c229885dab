"""Recording overhead: a tracked Nelder-Mead run vs the same raw scipy.optimize.minimize call.

Goal (issue 2): 10-D Rosenbrock, 20,000 evaluations, tracked <= 1.10x raw, measured in
one process. Raw and tracked runs alternate; the ratio is printed for the best of the
repetitions (as timeit reports: the least disturbed by other work on the machine) and
for their medians.

    python benchmarks/recording_overhead.py
"""

from __future__ import annotations

import statistics
import tempfile
import time

import numpy as np
from scipy.optimize import minimize

from aopt.runs import RunManager
from aopt.storage import SQLiteStore

N_EVAL = 20_000
REPEATS = 21


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(tmp)
        runs = RunManager(store)
        record, problem = runs.problems.create("rosenbrock_10d", "rosenbrock", dimension=10)
        x0 = np.full(10, -1.2)
        options = {"maxfev": N_EVAL, "maxiter": N_EVAL, "xatol": 0.0, "fatol": 0.0}
        bounds = [(lo, hi) for lo, hi in problem.bounds]

        def raw() -> tuple[float, int]:
            t = time.perf_counter()
            res = minimize(problem.fun, x0, method="Nelder-Mead", bounds=bounds, options=options)
            return time.perf_counter() - t, res.nfev

        def tracked() -> tuple[float, int]:
            run_id = runs.start_run(record["id"], "Nelder-Mead")
            t = time.perf_counter()
            run = runs.execute(run_id, x0=x0.tolist(), options=options)
            return time.perf_counter() - t, run["n_evaluations"]

        raw()
        tracked()  # warm up both paths
        raw_times, tracked_times = [], []
        for _ in range(REPEATS):
            r, n_raw = raw()
            k, n_tracked = tracked()
            raw_times.append(r)
            tracked_times.append(k)
        r, k = min(raw_times), min(tracked_times)
        rm, km = statistics.median(raw_times), statistics.median(tracked_times)
        last = store.list_runs(limit=1)[0]
        nbytes = store.evaluation_bytes(last["id"])
        print(f"evaluations per run: raw {n_raw}, tracked {n_tracked} (all stored: {last['n_evaluations']})")
        print(f"raw scipy.optimize.minimize: {r * 1e3:.1f} ms  ({r / n_raw * 1e6:.2f} us/evaluation)")
        print(f"tracked paola run:           {k * 1e3:.1f} ms  ({k / n_tracked * 1e6:.2f} us/evaluation)")
        print(f"recording overhead ratio: {k / r:.3f}x best of {REPEATS} (goal <= 1.10x); "
              f"{km / rm:.3f}x median")
        print(f"stored bytes per evaluation: {nbytes / max(1, last['n_evaluations']):.1f}")
        store.close()


if __name__ == "__main__":
    main()
