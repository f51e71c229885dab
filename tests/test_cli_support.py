"""Shared test data for the CLI tests: an in-memory store with the storage protocol's read methods.

(Named test_cli_* so that it lives beside the CLI tests; it holds no tests itself.)
"""

from __future__ import annotations

import numpy as np

from aopt.errors import NotFound


def problem(id, name, objective="rosenbrock", kind="benchmark", dim=2, sense="minimize", constraints=(),
            bounds=None, f_star=None):
    return {"id": id, "name": name, "kind": kind, "objective": objective, "dimension": dim,
            "variables": [f"x{i + 1}" for i in range(dim)], "sense": sense,
            "bounds": bounds or [(-5.0, 5.0)] * dim, "constraints": list(constraints), "f_star": f_star}


def run(id, problem_rec, algorithm="BFGS", status="completed", best_f=1e-3, n=100, parent=None,
        converged=True, **extra):
    d = problem_rec["dimension"]
    rec = {"id": id, "problem_id": problem_rec["id"], "problem": problem_rec["name"], "algorithm": algorithm,
           "status": status, "best_f": best_f, "best_x": [1.0] * d, "n_evaluations": n,
           "n_iterations": n // 10, "n_gradient_evaluations": 0, "x0": [0.0] * d, "options": {},
           "seed": None, "started_at": "2026-05-09T07:35:25.000Z", "finished_at": "2026-05-09T07:35:26.000Z",
           "duration_s": 0.25, "message": "SciPy: Optimization terminated successfully.",
           "converged": converged, "convergence": {"converged": converged, "reason": "gradient norm 1e-09",
                                                   "start": "centre of the bounds"},
           "parent_id": parent, "notes": "", "description": "", "pid": 1}
    rec.update(extra)
    return rec


class FakeStore:
    """Just enough of the Store protocol for reading: runs, problems and evaluations in memory."""

    def __init__(self, problems=(), runs=(), evaluations=None):
        self.problems = {p["id"]: p for p in problems}
        self.run_rows = {r["id"]: r for r in runs}
        self.evaluations = evaluations or {}

    def list_runs(self, problem=None, status=None, limit=50, offset=0):
        # like the real store: a name matches every problem of that name, an int one problem id
        def of(r):
            if problem is None:
                return True
            if isinstance(problem, int) or str(problem).isdigit():
                return r["problem_id"] == int(problem)
            return r["problem"] == problem

        rows = [r for r in sorted(self.run_rows.values(), key=lambda r: -r["id"])
                if of(r) and (status is None or r["status"] == status)]
        return rows[offset:offset + limit]

    def count_runs(self, problem=None, status=None):
        return len(self.list_runs(problem, status, limit=10**9))

    def get_run(self, run_id):
        try:
            return dict(self.run_rows[run_id])
        except KeyError:
            raise NotFound(f"no run {run_id}") from None

    def get_problem(self, problem_id):
        try:
            return self.problems[problem_id]
        except KeyError:
            raise NotFound(f"no problem {problem_id}") from None

    def find_problem(self, name):
        found = [p for p in self.problems.values() if p["name"] == name]
        return found[-1] if found else None

    def list_problems(self):
        return list(self.problems.values())

    def load_evaluations(self, run_id, max_points=None):
        f = np.asarray(self.evaluations.get(run_id, []), dtype=float)
        n = len(f)
        d = self.problems[self.run_rows[run_id]["problem_id"]]["dimension"]
        return {"index": np.arange(n), "x": np.zeros((n, d)) + 0.5, "f": f, "cv": np.zeros(n),
                "t": np.linspace(0, 0.25, n)}


def sample_store():
    """Two problems; runs 1-4 on rosenbrock (4 warm-started from 2), run 5 on sphere; tiny values."""
    rb = problem(1, "rb", f_star=0.0)
    sp = problem(2, "sp", objective="sphere", dim=3)
    runs = [run(1, rb, "Nelder-Mead", best_f=3e-7, n=150),
            run(2, rb, "BFGS", best_f=1.5e-12, n=40),
            run(3, rb, "Powell", status="failed", best_f=None, n=0, converged=False),
            run(4, rb, "L-BFGS-B", best_f=2e-13, n=12, parent=2),
            run(5, sp, "differential_evolution", status="interrupted", best_f=0.25, n=5000,
                converged=False)]
    curve = lambda n, f0: [f0 * 10 ** (-8 * i / max(n - 1, 1)) for i in range(n)]  # noqa: E731
    evaluations = {1: curve(150, 24.2), 2: curve(40, 24.2), 4: curve(12, 1e-9), 5: curve(200, 30.0)}
    return FakeStore([rb, sp], runs, evaluations)


def namesake_store():
    """Problems that share names, as repeated requests make them: expr_x_y_z twice (1 run each, maximize),
    rastrigin_5d twice (only the first, problem 3, has a run; problem 4 is the newest), one variable in q."""
    e1 = problem(1, "expr_x_y_z", objective="x + 2*y + 2*z", kind="expression", dim=3, sense="maximize",
                 constraints=["x + 2*y + 2*z <= 72"])
    e2 = problem(2, "expr_x_y_z", objective="x + 2*y + 2*z", kind="expression", dim=3, sense="maximize",
                 constraints=["x + 2*y + 2*z <= 72"])
    r1 = problem(3, "rastrigin_5d", objective="rastrigin", dim=5)
    r2 = problem(4, "rastrigin_5d", objective="rastrigin", dim=5)
    q = problem(5, "q", objective="x**2", kind="expression", dim=1)
    runs = [run(1, e1, "SLSQP", best_f=72.0, n=5), run(2, e2, "SLSQP", best_f=70.0, n=7),
            run(3, r1, "Nelder-Mead", best_f=3.0, n=1), run(4, q, "L-BFGS-B", best_f=1e-9, n=1)]
    evaluations = {1: [10.0, 50.0, 60.0, 70.0, 72.0], 2: [5.0, 20.0, 40.0, 60.0, 65.0, 69.0, 70.0],
                   3: [3.0], 4: [1e-9]}
    return FakeStore([e1, e2, r1, r2, q], runs, evaluations)
