"""How the SQLite store scales: listing among 100,000 runs, opening a run of 1,000,000 evaluations.

A plain script: it prints figures against the goals and asserts nothing.

    python benchmarks/store_scale.py [--runs 100000] [--evaluations 1000000] [--dim 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aopt.storage import SQLiteStore  # noqa: E402
from aopt.storage._fields import RUN_FIELDS, encode_run_fields  # noqa: E402
from aopt.storage._owners import host_name  # noqa: E402

CHUNK = 8192  # the recorder's buffer size


def timed(fn, repeats: int = 15) -> tuple[float, float]:
    """(first call, median of the following calls) in milliseconds."""
    t0 = time.perf_counter()
    fn()
    first = (time.perf_counter() - t0) * 1e3
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return first, statistics.median(times)


def build_runs(store: SQLiteStore, n_runs: int, n_problems: int = 100) -> None:
    rng = np.random.default_rng(0)
    problems = [store.add_problem({"name": f"p{k}", "kind": "benchmark", "dimension": 10})
                for k in range(n_problems)]
    statuses = rng.choice(["completed", "failed", "interrupted", "running"], size=n_runs,
                          p=[0.90, 0.05, 0.04, 0.01])
    names = list(RUN_FIELDS)
    host = host_name()
    rows = []
    for i in range(n_runs):
        k = int(rng.integers(n_problems))
        fields = encode_run_fields({
            "problem_id": problems[k], "problem": f"p{k}", "algorithm": "SLSQP", "status": str(statuses[i]),
            "best_f": float(rng.random()), "best_x": rng.random(10).tolist(), "n_evaluations": 1000,
            "n_iterations": 80, "x0": [0.0] * 10, "options": {"maxiter": 100}, "seed": i,
            "started_at": "2025-01-01T00:00:00.000Z", "finished_at": "2025-01-01T00:00:01.000Z",
            "duration_s": 1.0, "message": "Optimization terminated successfully", "converged": True,
            "convergence": {"converged": True, "reason": "kkt"}, "description": "",
            # running rows belong to processes that are long gone (pids above pid_max)
            "pid": 4_194_304 + i, "proc_start": 1, "host": host,
        })
        rows.append([fields.get(name) for name in names])
    sql = f"INSERT INTO runs ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    store._db.run(lambda c: c.executemany(sql, rows))


def build_evaluations(store: SQLiteStore, n: int, d: int) -> int:
    rng = np.random.default_rng(1)
    problem = store.add_problem({"name": "big", "kind": "benchmark", "dimension": d})
    run_id = store.create_run({"problem_id": problem, "algorithm": "Nelder-Mead"})
    best = np.inf
    t = 0.0
    for start in range(0, n, CHUNK):
        m = min(CHUNK, n - start)
        X = rng.normal(size=(m, d))
        f = 100.0 * np.exp(-np.arange(start, start + m) / (n / 8)) + rng.random(m)
        T = t + np.cumsum(np.full(m, 2e-6))
        t = float(T[-1])
        i = int(np.argmin(f))
        best = min(best, float(f[i]))
        store.append_evaluations(run_id, start, X, f, np.zeros(m), T,
                                 summary={"n_evaluations": start + m, "best_f": best, "best_x": X[i]})
    store.update_run(run_id, status="completed")
    return run_id


_FRESH = """
import sys, time
t0 = time.perf_counter()
import numpy
t1 = time.perf_counter()
from aopt.storage import SQLiteStore
store = SQLiteStore(sys.argv[1])
t2 = time.perf_counter()
store.get_run(int(sys.argv[2]))
store.load_evaluations(int(sys.argv[2]), max_points=2000)
t3 = time.perf_counter()
print(f"{(t3 - t2) * 1e3:.1f} ms (plus {(t2 - t1) * 1e3:.1f} ms to import and open the store, "
      f"{(t1 - t0) * 1e3:.1f} ms to import numpy)")
"""


def fresh_process_open(folder: Path, run_id: int) -> str:
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", _FRESH, str(folder), str(run_id)], capture_output=True,
                         text=True, env=env, check=True)
    return out.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--evaluations", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "store"
        store = SQLiteStore(folder)
        t0 = time.perf_counter()
        build_runs(store, args.runs)
        print(f"insert {args.runs} runs (one transaction): {time.perf_counter() - t0:.2f} s")
        store.close()

        store = SQLiteStore(folder)  # a fresh connection, as `paola runs` would have
        n = args.runs
        cases = [
            (f"list newest 50 of {n} runs", lambda: store.list_runs(limit=50)),
            ("list newest 50, status=completed", lambda: store.list_runs(status="completed", limit=50)),
            ("list newest 50, status=interrupted (derived)", lambda: store.list_runs(status="interrupted", limit=50)),
            ("list newest 50, status=running", lambda: store.list_runs(status="running", limit=50)),
            ("list newest 50, problem=p7", lambda: store.list_runs(problem="p7", limit=50)),
            ("list newest 50, problem=p7 status=failed", lambda: store.list_runs(problem="p7", status="failed")),
            ("list 50 at offset 50000", lambda: store.list_runs(limit=50, offset=50_000)),
            (f"count {n} runs", lambda: store.count_runs()),
            ("count status=interrupted", lambda: store.count_runs(status="interrupted")),
        ]
        for label, fn in cases:
            first, median = timed(fn)
            print(f"{label}: {median:.1f} ms (first {first:.1f} ms; goal < 100 ms)")

        d, n_eval = args.dim, args.evaluations
        t0 = time.perf_counter()
        run_id = build_evaluations(store, n_eval, d)
        build_s = time.perf_counter() - t0
        print(f"append {n_eval} {d}-D evaluations in chunks of {CHUNK}: {build_s:.2f} s "
              f"({build_s / n_eval * 1e6:.2f} us/evaluation)")
        store.close()

        store = SQLiteStore(folder)

        def open_run():
            store.get_run(run_id)
            return store.load_evaluations(run_id, max_points=2000)

        first, median = timed(open_run, repeats=9)
        picked = open_run()
        print(f"open a run of {n_eval} {d}-D evaluations (get_run + load_evaluations max_points=2000): "
              f"{median:.1f} ms (first {first:.1f} ms; goal < 200 ms; {len(picked['index'])} points)")
        print(f"  same, in a fresh process (as `paola show` would): {fresh_process_open(folder, run_id)}")
        first, median = timed(lambda: store.load_evaluations(run_id), repeats=3)
        print(f"load all {n_eval} evaluations: {median:.1f} ms (first {first:.1f} ms)")
        nbytes = store.evaluation_bytes(run_id)
        print(f"bytes per evaluation: {nbytes / n_eval:.1f} stored payload ({(d + 2) * 8} raw x, f, t; "
              f"cv all zero so not stored)")
        store.close()
        sizes = ", ".join(f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in sorted(folder.iterdir()))
        print(f"store on disk after close: {sizes}")


if __name__ == "__main__":
    main()
