"""The four product tools and the read-only ones, called as a script or a model would."""

import json

import pytest

from aopt import tools
from aopt.tools import Context, build_tools, use_context


def strict_json(value):
    """Round-trips only plain JSON types (numpy scalars would fail here)."""
    return json.loads(json.dumps(value, allow_nan=False))


@pytest.fixture
def t(tmp_path):
    ctx = Context.open(tmp_path / "s")
    with use_context(ctx):
        yield tools
    ctx.close()


def solve(t, objective, algorithm="auto", **kw):
    p = t.create_problem.invoke({"name": "p", "objective": objective,
                                 **{k: kw.pop(k) for k in ("dimension", "bounds", "constraints", "sense")
                                    if k in kw}})
    assert "error" not in p, p
    r = t.start_optimization_run.invoke({"problem_id": p["problem_id"], "algorithm": algorithm})
    assert "error" not in r, r
    res = t.run_scipy_optimization.invoke({"run_id": r["run_id"], **kw})
    fin = t.finalize_optimization_run.invoke({"run_id": r["run_id"], "notes": "done"})
    return p, res, fin


def test_the_four_tools_solve_a_constrained_problem(t):
    p, res, fin = solve(t, "(x-3)^2 + y^2", "SLSQP", constraints=["x + y <= 1"])
    assert p["variables"] == ["x", "y"]
    assert res["status"] == "completed"
    assert res["best_f"] == pytest.approx(2.0, abs=1e-6)  # (3,0) projected onto x+y=1 is (2,-1)
    assert res["best_x"] == pytest.approx([2.0, -1.0], abs=1e-5)
    assert res["converged"] is True
    assert strict_json(res) == res
    assert fin["status"] == "completed"
    full = t.get_run.invoke({"run_id": res["run_id"]})
    assert full["notes"] == "done"
    assert strict_json(full) == full


def test_module_tools_use_the_environment_store(tmp_path, monkeypatch):
    monkeypatch.setenv("AOPT_STORE", str(tmp_path / "env-store"))
    p = tools.create_problem.invoke({"name": "sph", "objective": "sphere", "dimension": 3})
    assert (tmp_path / "env-store").exists()
    assert tools.list_problems.invoke({})["problems"][-1]["problem_id"] == p["problem_id"]


def test_user_errors_come_back_as_error_dicts(t):
    bad = t.create_problem.invoke({"name": "x", "objective": "__import__('os').system('ls')"})
    assert bad["error"]["kind"] == "invalid_input"
    missing = t.get_run.invoke({"run_id": 404})
    assert missing["error"]["kind"] == "not_found"
    p = t.create_problem.invoke({"name": "c", "objective": "x**2 + y**2", "constraints": ["x + y >= 1"]})
    refused = t.start_optimization_run.invoke({"problem_id": p["problem_id"], "algorithm": "BFGS"})
    assert refused["error"]["kind"] == "incompatible_algorithm"
    assert "SLSQP" in refused["error"]["message"]
    by_name = t.start_optimization_run.invoke({"problem_id": "c", "algorithm": "slsqp"})
    assert by_name["algorithm"] == "SLSQP"
    unknown = t.start_optimization_run.invoke({"problem_id": "nope", "algorithm": "BFGS"})
    assert unknown["error"]["kind"] == "not_found"


def test_compare_names_best_and_refuses_different_problems(t):
    p = t.create_problem.invoke({"name": "r", "objective": "rosenbrock", "dimension": 2})
    ids = []
    for algo, budget in (("Nelder-Mead", 40), ("BFGS", None)):
        r = t.start_optimization_run.invoke({"problem_id": p["problem_id"], "algorithm": algo})
        t.run_scipy_optimization.invoke({"run_id": r["run_id"], "x0": [-1.2, 1], "max_evaluations": budget})
        ids.append(r["run_id"])
    cmp = t.compare_runs.invoke({"run_ids": ids})
    assert cmp["best_run_id"] == ids[1]
    _, other, _ = solve(t, "sphere", "BFGS", dimension=2)
    mixed = t.compare_runs.invoke({"run_ids": [ids[0], other["run_id"]]})
    assert mixed["best_run_id"] is None
    assert "different problems" in mixed["note"]


def test_list_algorithms_filters(t):
    cons = {a["name"] for a in t.list_algorithms.invoke({"handles_constraints": True})["algorithms"]}
    assert {"SLSQP", "trust-constr", "COBYLA", "COBYQA"} <= cons
    assert "BFGS" not in cons and "Nelder-Mead" not in cons


def test_analyze_suggests_a_global_method_after_a_local_minimum(t):
    _, res, _ = solve(t, "rastrigin", "BFGS", dimension=2, x0=[2.1, 2.1])
    report = t.analyze_run.invoke({"run_id": res["run_id"]})
    assert report["run"]["claim"] == "local"
    assert any("differential_evolution" in s for s in report["suggestions"])
    assert report["progress"]["evaluations"] == res["n_evaluations"]


def test_results_stay_compact_for_a_model(t):
    _, res, _ = solve(t, "sphere", "L-BFGS-B", dimension=50)
    assert len(res["best_x"]) <= 12
    full = t.get_run.invoke({"run_id": res["run_id"]})
    assert len(json.dumps(full)) < 4000


def test_list_runs_filters_and_counts(t):
    solve(t, "booth", "BFGS")
    solve(t, "booth", "L-BFGS-B")
    listing = t.list_runs.invoke({"status": "completed", "limit": 1})
    assert listing["total"] == 2 and len(listing["runs"]) == 1
    assert t.list_runs.invoke({"status": "bogus"})["error"]["kind"] == "invalid_input"


def test_build_tools_binds_a_context(tmp_path):
    ctx = Context.open(tmp_path / "bound")
    bound = {tool.name: tool for tool in build_tools(ctx)}
    p = bound["create_problem"].invoke({"name": "b", "objective": "x**2"})
    assert ctx.store.get_problem(p["problem_id"])["name"] == "b"
    ctx.close()
