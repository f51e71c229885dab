"""Python-code objectives optimized end to end: user files run in a worker, faults end runs cleanly."""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from aopt.errors import InvalidInput, NotFound
from aopt.runs import RunManager
from aopt.storage import SQLiteStore

FIXTURES = Path(__file__).parent / "sandbox_fixtures"


@pytest.fixture
def runs(tmp_path):
    store = SQLiteStore(tmp_path / "store")
    yield RunManager(store)
    store.close()


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "model.py"
    shutil.copy(FIXTURES / "model.py", path)
    return path


def solve(runs, objective, algorithm="auto", problem_kw=None, **kw):
    record, problem = runs.problems.create("code", objective, **(problem_kw or {}))
    return runs.execute(runs.start_run(record["id"], algorithm), **kw)


def test_code_objective_with_gradient_reaches_the_optimum(runs, model):
    r = solve(runs, f"{model}:cost", "BFGS", {"dimension": 3, "gradient": f"{model}:grad"},
              x0=[-1, 1, 0.5])
    assert r["status"] == "completed", r["message"]
    assert r["best_f"] == pytest.approx(0.0, abs=1e-8)
    assert np.allclose(r["best_x"], [1, 1, 1], atol=1e-4)
    assert r["converged"] is True
    assert "model imported" in r["output"]


def test_code_objective_without_gradient_counts_finite_differences(runs, model):
    r = solve(runs, f"{model}:cost", "L-BFGS-B", {"dimension": 2}, x0=[0.0, 0.0])
    assert r["status"] == "completed"
    assert r["best_f"] < 1e-6
    hist = runs.history(r["id"])
    assert len(hist["f"]) == r["n_evaluations"] > 20


def test_code_constraint_and_expression_constraint(runs, model):
    r = solve(runs, f"{model}:cost", "SLSQP",
              {"dimension": 2, "gradient": f"{model}:grad",
               "constraints": [f"{model}:disk >= 0", "x1 <= 0.5"]}, x0=[0.0, 0.0])
    assert r["status"] == "completed", r["message"]
    assert r["best_x"][0] <= 0.5 + 1e-6
    assert r["convergence"]["max_violation"] <= 1e-6
    # the constrained optimum of Rosenbrock with x1 <= 0.5 sits on x1 = 0.5, x2 = 0.25
    assert np.allclose(r["best_x"], [0.5, 0.25], atol=1e-3)


def test_record_keeps_path_function_hash_and_source(runs, model):
    record, _ = runs.problems.create("code", f"{model}:cost", dimension=2)
    code = record["code"]["objective"]
    assert code["function"] == "cost" and Path(code["path"]) == model
    assert "def cost" in code["source"] and len(code["sha256"]) == 64


def test_changed_file_is_detected_and_refused(runs, model):
    record, _ = runs.problems.create("code", f"{model}:cost", dimension=2)
    model.write_text(model.read_text().replace("100.0", "10.0"))
    runs.problems._cache.clear()  # as a new process would load it
    run_id = runs.start_run(record["id"], "Nelder-Mead")
    r = runs.execute(run_id, max_evaluations=50)
    assert r["status"] == "failed"
    assert "changed" in r["message"]


def test_exception_in_user_code_fails_the_run_with_the_users_line(runs):
    r = solve(runs, f"{FIXTURES / 'failing.py'}:deep", "Nelder-Mead", {"dimension": 2})
    assert r["status"] == "failed"
    assert "failing.py" in r["message"] and "line" in r["message"]
    assert "_worker.py" not in r["message"]


def test_time_limit_ends_the_run_as_failed_and_names_the_limit(runs):
    r = solve(runs, f"{FIXTURES / 'failing.py'}:loop", "Nelder-Mead",
              {"dimension": 2, "limits": {"eval_timeout": 0.5}})
    assert r["status"] == "failed"
    assert "time limit" in r["message"]


def test_crash_keeps_best_point_so_far(runs, tmp_path):
    path = tmp_path / "crashy.py"
    path.write_text("import os\ncalls = 0\n"
                    "def f(x):\n    global calls\n    calls += 1\n"
                    "    if calls > 30:\n        os._exit(1)\n    return float((x[0]-1)**2 + x[1]**2)\n")
    r = solve(runs, f"{path}:f", "Nelder-Mead", {"dimension": 2})
    assert r["status"] == "failed"
    assert r["n_evaluations"] == 30
    assert r["best_f"] is not None
    assert "exit" in r["message"].lower()


def test_spec_errors_name_the_accepted_form(runs, tmp_path):
    with pytest.raises(NotFound):
        runs.problems.create("c", f"{tmp_path}/missing.py:f", dimension=2)
    with pytest.raises(InvalidInput, match="dimension"):
        runs.problems.create("c", f"{FIXTURES / 'model.py'}:cost")
    with pytest.raises(InvalidInput, match="gradient"):
        runs.problems.create("c", "x**2", gradient="model.py:grad")


def test_dimension_from_bounds(runs, model):
    record, problem = runs.problems.create("c", f"{model}:cost", bounds=[[-2, 2], [-2, 2], [-2, 2]])
    assert problem.dimension == 3 and problem.variables == ["x1", "x2", "x3"]


def test_differential_evolution_evaluates_code_in_batches(runs, model, monkeypatch):
    from aopt.sandbox import Worker

    sizes = []
    batch = Worker.evaluate_batch

    def spy(self, X):
        sizes.append(len(X))
        return batch(self, X)

    monkeypatch.setattr(Worker, "evaluate_batch", spy)
    r = solve(runs, f"{model}:cost", "differential_evolution",
              {"dimension": 2, "bounds": [-2, 2], "gradient": f"{model}:grad"}, seed=4,
              options={"polish": False, "maxiter": 30})
    assert r["status"] == "completed", r["message"]
    assert max(sizes) >= 20  # a whole population per round trip
    assert sum(sizes) <= r["n_evaluations"]
    assert len(runs.history(r["id"])["f"]) == r["n_evaluations"]
    assert r["best_f"] < 0.05
