"""auto against SciPy's own global optimizers on the classic test functions with known optima.

Each benchmark of paola's library (each has a published optimum: Rastrigin, Ackley, Griewank,
Schwefel, Levy, ... in 2, 5 and 10 variables, the fixed 2-D ones in 2; except the sphere, which
any method solves) is run through the same
RunManager as the shell with `auto` (its default budget) and with `differential_evolution`
and `dual_annealing` with SciPy's defaults. A run solves the problem when its best value is
within 1e-4 * max(1, |f*|) of f* (the claim "known optimum"). Printed: per problem the gap,
evaluations and time of each, then the solved counts, and an audit of auto's claims (no best
point outside the bounds, no "global"/"optimum" claim away from f*).

    python benchmarks/global_suite.py            # seed 1
    python benchmarks/global_suite.py --seeds 1-3
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

METHODS = ("auto", "differential_evolution", "dual_annealing")


def seeds_of(text: str) -> list[int]:
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1", help="seeds, e.g. 1-3 (default 1)")
    args = parser.parse_args()
    from aopt.problems import list_benchmarks
    from aopt.runs import RunManager
    from aopt.storage import open_store

    problems = [(b["name"], d) for b in list_benchmarks() if b["name"] != "sphere"
                for d in ((2, 5, 10) if b["dimension"] == "any" else (b["dimension"],))]

    solved = {m: 0 for m in METHODS}
    runs = {m: 0 for m in METHODS}
    seconds = {m: 0.0 for m in METHODS}
    audit_outside = audit_claims = 0
    with tempfile.TemporaryDirectory() as tmp:
        manager = RunManager(open_store(Path(tmp) / "store"))
        for seed in seeds_of(args.seeds):
            for name, d in problems:
                cells = []
                for method in METHODS:
                    record, problem = manager.problems.create(f"{name}{d}", name, d)
                    t0 = time.perf_counter()
                    run = manager.execute(manager.start_run(record["id"], method), seed=seed)
                    wall = time.perf_counter() - t0
                    gap = run["best_f"] - problem.f_star
                    ok = gap <= 1e-4 * max(1.0, abs(problem.f_star))
                    solved[method] += ok
                    runs[method] += 1
                    seconds[method] += wall
                    cells.append(f"{method[:6]:>6} {gap:9.2g} {run['n_evaluations']:>7,} {wall:5.2f}s")
                    if method == "auto":
                        x = np.asarray(run["best_x"])
                        audit_outside += bool(np.any(x < problem.lower) or np.any(x > problem.upper))
                        claim = (run.get("convergence") or {}).get("claim")
                        audit_claims += claim in ("global", "optimum") and not ok
                print(f"seed {seed} {name:>16} {d:>2}D  " + "  ".join(cells), flush=True)
    print()
    for method in METHODS:
        print(f"{method:>24}: solved {solved[method]} of {runs[method]}, {seconds[method]:.1f} s in all")
    print(f"{'audit':>24}: auto best points outside the bounds {audit_outside}; "
          f"'global'/'optimum' claims away from f* {audit_claims}")
    best_other = max(solved["differential_evolution"], solved["dual_annealing"])
    verdict = "GOAL MET" if solved["auto"] > best_other else "GOAL NOT MET"
    print(f"{'goal':>24}: auto solves more than either SciPy global method: {verdict}")


if __name__ == "__main__":
    main()
