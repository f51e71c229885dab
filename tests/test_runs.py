"""Runs end to end through the API: solved to the right point, every evaluation recorded, faults survived."""

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
import textwrap

import numpy as np
import pytest

from aopt.errors import IncompatibleAlgorithm, InvalidInput, NotFound
from aopt.runs import RunManager
from aopt.storage import SQLiteStore


@pytest.fixture
def runs(tmp_path):
    store = SQLiteStore(tmp_path / "runs")
    yield RunManager(store)
    store.close()


def run(runs, objective, algorithm="auto", **kw):
    create = {k: kw.pop(k) for k in ("dimension", "bounds", "constraints", "sense") if k in kw}
    record, _ = runs.problems.create(kw.pop("name", "p"), objective, **create)
    run_id = runs.start_run(record["id"], algorithm, parent_run_id=kw.pop("parent_run_id", None))
    return runs.execute(run_id, **kw)


def count_calls(runs, problem_id):
    _, problem = runs.problems.load(problem_id)
    calls = {"n": 0}
    fun = problem.fun

    def counted(x):
        calls["n"] += 1
        return fun(x)

    problem.fun = counted
    return calls


def test_rosenbrock_bfgs_reaches_known_optimum(runs):
    r = run(runs, "rosenbrock", "BFGS", dimension=2, x0=[-1.2, 1.0])
    assert r["status"] == "completed"
    assert r["best_f"] == pytest.approx(0.0, abs=1e-8)
    assert np.allclose(r["best_x"], [1.0, 1.0], atol=1e-4)
    assert r["converged"] is True
    assert "known optimum" in r["convergence"]["reason"]


def test_every_call_is_recorded(runs):
    record, _ = runs.problems.create("q", "(x-3)**2 + (y+1)**4 + x*y")
    calls = count_calls(runs, record["id"])
    run_id = runs.start_run(record["id"], "Powell")
    r = runs.execute(run_id, x0=[0.5, 0.5])
    assert calls["n"] > 10
    assert r["n_evaluations"] == calls["n"]
    hist = runs.history(run_id)
    assert len(hist["f"]) == calls["n"]
    assert hist["x"].shape == (calls["n"], 2)
    assert np.all(np.diff(hist["t"]) >= 0)


def test_finite_difference_calls_are_counted(runs, monkeypatch):
    record, problem = runs.problems.create("fd", "(x-1)**2 + (y-2)**2")
    problem.has_gradient = False  # as a code objective without a gradient would be
    calls = count_calls(runs, record["id"])
    r = runs.execute(runs.start_run(record["id"], "BFGS"), x0=[0.0, 0.0])
    assert r["n_evaluations"] == calls["n"] > 6  # gradient by finite differences: 3 calls a point
    assert np.allclose(r["best_x"], [1, 2], atol=1e-4)


def test_constrained_minimum_on_the_boundary(runs):
    r = run(runs, "(x-1)**2 + (y-2)**2", "SLSQP", constraints=["x + y <= 1"])
    assert np.allclose(r["best_x"], [0.0, 1.0], atol=1e-5)
    assert r["best_f"] == pytest.approx(2.0, abs=1e-6)
    assert r["converged"] is True
    assert r["convergence"]["max_violation"] <= 1e-6


def test_equality_constraint_auto(runs):
    r = run(runs, "x**2 + y**2", "auto", constraints=["x*y == 2"], x0=[1.0, 3.0])
    assert r["best_f"] == pytest.approx(4.0, abs=1e-5)
    assert abs(abs(r["best_x"][0]) - 2 ** 0.5) < 1e-3
    assert r["converged"] is True


def test_maximize_reports_user_sense(runs):
    r = run(runs, "5 - (x-1)**2 - (y+2)**2", "L-BFGS-B", sense="maximize")
    assert r["best_f"] == pytest.approx(5.0, abs=1e-8)
    assert np.allclose(r["best_x"], [1, -2], atol=1e-4)
    hist = runs.history(r["id"])
    assert hist["f"].max() == pytest.approx(5.0, abs=1e-8)


def test_bounds_are_honoured_and_active_bound_converges(runs):
    r = run(runs, "(x-3)**2", "L-BFGS-B", bounds=[0, 2])
    assert r["best_x"] == pytest.approx([2.0])
    assert r["best_f"] == pytest.approx(1.0)
    assert r["converged"] is True


def test_incompatible_algorithm_is_refused_with_a_suggestion(runs):
    record, _ = runs.problems.create("c", "x**2 + y**2", constraints=["x + y >= 1"])
    with pytest.raises(IncompatibleAlgorithm, match="SLSQP"):
        runs.start_run(record["id"], "Nelder-Mead")
    with pytest.raises(IncompatibleAlgorithm, match="constraints"):
        runs.start_run(record["id"], "direct")
    free, _ = runs.problems.create("free", "x**2 + y**2")
    with pytest.raises(IncompatibleAlgorithm, match="finite bounds"):
        runs.start_run(free["id"], "direct")
    eq, _ = runs.problems.create("eq", "x**2 + y**2", constraints=["x*y == 2"])
    with pytest.raises(IncompatibleAlgorithm, match="equality"):
        runs.start_run(eq["id"], "COBYLA")
    boxed, _ = runs.problems.create("boxed", "x**2 + y**2", bounds=[1, 2])
    with pytest.raises(IncompatibleAlgorithm, match="bounds"):
        runs.start_run(boxed["id"], "BFGS")


def test_unknown_algorithm_and_option(runs):
    record, _ = runs.problems.create("s", "sphere", dimension=3)
    with pytest.raises(NotFound, match="Nelder-Mead"):
        runs.start_run(record["id"], "nelder-meed")
    run_id = runs.start_run(record["id"], "BFGS")
    with pytest.raises(InvalidInput, match="gtol"):
        runs.execute(run_id, options={"gtoll": 1e-3})


def test_budget_is_exact(runs):
    r = run(runs, "rosenbrock", "Nelder-Mead", dimension=5, x0=[0.0] * 5, max_evaluations=300)
    assert r["n_evaluations"] == 300
    assert "budget" in r["message"]
    # SciPy stops itself at the budget (its cap is raised to it) and reports its iterations; when
    # paola's own stop ends a method, the count is unknown (None), never a made-up 0
    assert r["n_iterations"] is None or r["n_iterations"] > 0
    assert r["status"] == "completed"


def test_warm_start_uses_parent_best(runs):
    first = run(runs, "rosenbrock", "Nelder-Mead", dimension=2, x0=[-1.2, 1], max_evaluations=60)
    child_id = runs.start_run(first["problem_id"], "BFGS", parent_run_id=first["id"])
    child = runs.execute(child_id)
    assert child["parent_id"] == first["id"]
    assert np.allclose(child["x0"], first["best_x"])
    assert child["best_f"] <= first["best_f"]


def test_seeded_global_runs_repeat(runs):
    a = run(runs, "ackley", "differential_evolution", dimension=3, seed=7, x0=[1, 1, 1],
            max_evaluations=3000)
    b = run(runs, "ackley", "differential_evolution", dimension=3, seed=7, x0=[1, 1, 1],
            max_evaluations=3000)
    assert a["seed"] == b["seed"] == 7
    assert a["best_f"] == b["best_f"]
    assert a["n_evaluations"] == b["n_evaluations"]


def test_stochastic_run_without_seed_records_one(runs):
    r = run(runs, "booth", "dual_annealing", max_evaluations=2000)
    assert isinstance(r["seed"], int)


@pytest.mark.parametrize("algorithm", [
    "Nelder-Mead", "Powell", "CG", "BFGS", "Newton-CG", "L-BFGS-B", "TNC", "COBYLA", "COBYQA",
    "SLSQP", "trust-constr", "dogleg", "trust-ncg", "trust-exact", "trust-krylov",
])
def test_every_local_method_solves_a_smooth_problem(runs, algorithm):
    r = run(runs, "(x-1)**2 + 2*(y+0.5)**2 + 0.5*(z-2)**2", algorithm, x0=[3.0, 2.0, -1.0])
    assert r["status"] == "completed", r["message"]
    assert r["best_f"] == pytest.approx(0.0, abs=1e-5)
    assert np.allclose(r["best_x"], [1, -0.5, 2], atol=5e-3)


@pytest.mark.parametrize("algorithm", ["differential_evolution", "dual_annealing", "shgo", "direct",
                                       "basinhopping"])
def test_every_global_method_solves_himmelblau(runs, algorithm):
    r = run(runs, "himmelblau", algorithm, seed=1, max_evaluations=20000,
            **({"options": {"niter": 20}} if algorithm == "basinhopping" else {}))
    assert r["best_f"] == pytest.approx(0.0, abs=1e-4), r["message"]


def test_auto_solves_multimodal_benchmark_globally(runs):
    r = run(runs, "rastrigin", "auto", dimension=4, x0=[2.2, -1.1, 3.3, 0.9], seed=3)
    assert r["converged"] is True and r["convergence"]["claim"] == "optimum"
    assert r["best_f"] == pytest.approx(0.0, abs=1e-6)
    assert "CMA-ES" in r["message"]


def test_local_minimum_is_labelled_local_not_the_optimum(runs):
    r = run(runs, "rastrigin", "BFGS", dimension=2, x0=[2.1, 2.1])
    assert r["convergence"]["claim"] == "local"  # verified locally: `converged`, but only local
    assert "local minimum, not the known optimum" in r["convergence"]["reason"]


def test_keyboard_interrupt_keeps_best_and_marks_interrupted(runs):
    record, problem = runs.problems.create("kb", "rosenbrock", dimension=4)
    fun = problem.fun
    calls = {"n": 0}

    def interrupting(x):
        calls["n"] += 1
        if calls["n"] == 250:
            raise KeyboardInterrupt
        return fun(x)

    problem.fun = interrupting
    run_id = runs.start_run(record["id"], "Nelder-Mead")
    with pytest.raises(KeyboardInterrupt):
        runs.execute(run_id, x0=[0, 0, 0, 0])
    r = runs.get(run_id)
    assert r["status"] == "interrupted"
    assert r["n_evaluations"] == 249
    assert r["best_f"] is not None and r["best_f"] < fun(np.zeros(4))
    assert len(runs.history(run_id)["f"]) == 249


def test_bad_inputs_name_what_is_accepted(runs):
    record, _ = runs.problems.create("b", "sphere", dimension=3)
    run_id = runs.start_run(record["id"], "BFGS")
    with pytest.raises(InvalidInput, match="3 values"):
        runs.execute(run_id, x0=[1, 2])
    with pytest.raises(InvalidInput, match="finite"):
        runs.execute(run_id, x0=[1, float("nan"), 2])
    with pytest.raises(InvalidInput, match="max_evaluations"):
        runs.execute(run_id, max_evaluations=-5)
    with pytest.raises(NotFound):
        runs.get(9999)
    runs.execute(run_id)
    with pytest.raises(InvalidInput, match="already run"):
        runs.execute(run_id)


def test_history_as_dataframe(runs):
    pytest.importorskip("pandas")
    r = run(runs, "(a-1)**2 + (b-2)**2", "BFGS")
    frame = runs.dataframe(r["id"])
    assert list(frame.columns) == ["evaluation", "a", "b", "f", "constraint_violation", "time_s"]
    assert len(frame) == r["n_evaluations"]
    assert frame["f"].min() == pytest.approx(r["best_f"])


_KILLED_CHILD = textwrap.dedent("""
    import sys
    from aopt.runs import RunManager
    from aopt.storage import SQLiteStore
    runs = RunManager(SQLiteStore(sys.argv[1]))
    record, _ = runs.problems.create("slow", "rosenbrock", dimension=30)
    run_id = runs.start_run(record["id"], "Nelder-Mead")
    print(run_id, flush=True)
    runs.execute(run_id, options={"maxfev": 10**9, "maxiter": 10**9, "xatol": 0, "fatol": 0})
""")


def test_sigkill_leaves_an_interrupted_run_with_flushed_evaluations(tmp_path):
    path = tmp_path / "killed"
    child = subprocess.Popen([sys.executable, "-c", _KILLED_CHILD, str(path)], stdout=subprocess.PIPE,
                             text=True)
    run_id = int(child.stdout.readline())
    time.sleep(1.5)
    child.send_signal(signal.SIGKILL)
    child.wait()
    store = SQLiteStore(path)
    r = store.get_run(run_id)
    assert r["status"] == "interrupted"
    assert r["n_evaluations"] > 1000
    hist = store.load_evaluations(run_id)
    assert len(hist["f"]) == r["n_evaluations"]
    assert r["best_f"] == pytest.approx(float(np.min(hist["f"])))
    store.close()


def _worker(path, k, out):
    from aopt.tools import Context, build_tools

    ctx = Context.open(path)
    tools = {t.name: t for t in build_tools(ctx)}
    ids = []
    for i in range(5):
        p = tools["create_problem"].invoke({"name": f"w{k}_{i}", "objective": "(x-1)**2 + y**2"})
        r = tools["start_optimization_run"].invoke({"problem_id": p["problem_id"], "algorithm": "BFGS"})
        res = tools["run_scipy_optimization"].invoke({"run_id": r["run_id"]})
        assert res["status"] == "completed", res
        tools["list_runs"].invoke({})
        ids.append(r["run_id"])
    out.put(ids)
    ctx.close()


def test_several_processes_share_one_store(tmp_path):
    path = str(tmp_path / "shared")
    SQLiteStore(path).close()
    mpc = mp.get_context("fork")
    out = mpc.Queue()
    procs = [mpc.Process(target=_worker, args=(path, k, out)) for k in range(4)]
    for p in procs:
        p.start()
    ids = [i for _ in procs for i in out.get(timeout=120)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert len(ids) == len(set(ids)) == 20
    store = SQLiteStore(path)
    assert store.count_runs() == 20
    assert all(r["status"] == "completed" for r in store.list_runs(limit=50))
    store.close()


def test_a_saddle_start_is_not_called_converged_and_auto_restarts(runs):
    stuck = run(runs, "x*y*z", "SLSQP", sense="maximize",
                constraints=["x + y + z <= 3", "x >= 0", "y >= 0", "z >= 0"])
    # SLSQP stops on its start, the origin; the check's probes (recorded) find lower values beside it
    assert np.max(np.abs(stuck["best_x"])) < 0.01 and stuck["best_f"] >= 0
    assert stuck["converged"] is False
    assert "start point" in stuck["convergence"]["reason"]
    auto = run(runs, "x*y*z", "auto", sense="maximize", seed=5,
               constraints=["x + y + z <= 3", "x >= 0", "y >= 0", "z >= 0"])
    assert auto["best_f"] == pytest.approx(1.0, abs=1e-6)
    assert np.allclose(auto["best_x"], [1, 1, 1], atol=1e-3)
    assert auto["converged"] is True


def test_a_true_minimum_at_the_start_is_still_converged(runs):
    r = run(runs, "x**2 + 3*y**2", "BFGS")  # starts at the origin, which is the minimum
    assert r["converged"] is True


def test_a_saddle_found_by_the_optimizer_is_not_converged(runs):
    # from this start SLSQP lands on (x, 0, 0): stationary, feasible, but y = z = t > 0 increases x*y*z
    r = run(runs, "x*y*z", "SLSQP", sense="maximize", seed=2,
            constraints=["x + y + z <= 3", "x >= 0", "y >= 0", "z >= 0"])
    assert r["best_f"] == pytest.approx(0.0, abs=1e-12)
    assert r["converged"] is False
    assert "saddle" in r["convergence"]["reason"]


def test_a_long_run_checkpoints_the_store_from_the_recorders_thread(runs, monkeypatch):
    # SQLite folds its write-ahead log into the database inside whichever commit finds it long:
    # a ~25 ms stall of the optimizer every 16 MB. The recorder's thread does it instead.
    import threading

    from aopt.runs import _recorder

    class Frequent(_recorder.RunRecorder):  # wakes every few ms, so a short run shows it
        def __init__(self, *a, **k):
            super().__init__(*a, **{**k, "flush_interval": 0.005})

    monkeypatch.setattr(_recorder, "RunRecorder", Frequent)
    monkeypatch.setattr(_recorder, "CHECKPOINT_BYTES", 64 << 10)
    calls = []
    real = runs.store.checkpoint

    def checkpoint():
        calls.append(threading.current_thread().name)
        real()

    runs.store.checkpoint = checkpoint
    run_id = runs.start_run(runs.problems.create("r", "rosenbrock", dimension=10)[0]["id"], "Nelder-Mead")
    rec = runs.execute(run_id, options={"maxfev": 20_000, "maxiter": 20_000, "xatol": 0, "fatol": 0})
    assert rec["n_evaluations"] == 20_000 == len(runs.history(run_id)["f"])
    assert calls and set(calls) == {f"paola-recorder-{run_id}"}


@pytest.mark.parametrize("objective, algorithm, why", [
    ("x - y", "BFGS", "ran off"),                  # decreases linearly without bound
    ("x - y", "auto", "ran off"),
    ("-exp(x) + y**2", "Nelder-Mead", "reached -inf"),  # overflows to -inf
])
def test_an_unbounded_objective_is_not_called_converged(runs, objective, algorithm, why):
    # x - y at |x| = 5e155 has a gradient norm of 1, "small" next to |f| = 1e156: it was reported
    # converged. A run with no finite minimum now says so and is not converged.
    rec = run(runs, objective, algorithm, name=f"u{algorithm}{len(objective)}")
    assert rec["status"] == "completed" and rec["converged"] is False
    assert why in rec["convergence"]["reason"] and "unbounded" in rec["convergence"]["reason"]
    assert rec["convergence"]["unbounded"] is True
    if algorithm == "auto":
        assert "no restart" in rec["message"] and "restart 1" not in rec["message"]


def test_a_maximized_unbounded_objective_says_above(runs):
    rec = run(runs, "x + y", "BFGS", sense="maximize")
    assert rec["converged"] is False and "unbounded above" in rec["convergence"]["reason"]
    assert rec["best_f"] > 1e15


def test_a_far_but_finite_minimum_is_still_converged(runs):
    rec = run(runs, "(x - 1e6)**2 + (y + 2e6)**2", "BFGS")
    assert rec["converged"] is True and np.allclose(rec["best_x"], [1e6, -2e6])



@pytest.mark.parametrize("objective, algorithm, kw, best_f", [
    ("x*y", "SLSQP", dict(bounds=[0, 10], constraints=["x + y <= 10"], sense="maximize"), 25.0),  # start = optimum
    ("x**4 + y**4", "L-BFGS-B", dict(bounds=[-1, 1]), 0.0),  # a minimum with a zero Hessian
    ("x + y", "L-BFGS-B", dict(bounds=[0, 1], x0=[0, 0]), 0.0),  # a corner, gradient (1, 1)
])
def test_a_minimum_at_the_start_is_converged_even_where_the_hessian_says_little(runs, objective, algorithm,
                                                                                kw, best_f):
    rec = run(runs, objective, algorithm, name=f"s{len(objective)}", **kw)
    assert rec["converged"] is True, rec["convergence"]["reason"]
    assert rec["best_f"] == pytest.approx(best_f, abs=1e-9)


def test_bounds_a_method_may_step_over_still_bound_the_best_point(runs):
    # COBYLA treats bounds as constraints and dual_annealing's local search ran unbounded: the
    # reported best lay outside the bounds the user gave
    for algorithm in ("COBYLA", "dual_annealing", "trust-constr", "SLSQP"):
        rec = run(runs, "(x-10)**2 + (y+10)**2", algorithm, name=f"b{algorithm}",
                  bounds=[[-1, 1], [-2, 2]], seed=3)
        assert -1 - 1e-9 <= rec["best_x"][0] <= 1 + 1e-9 and -2 - 1e-9 <= rec["best_x"][1] <= 2 + 1e-9
        assert rec["best_f"] == pytest.approx(145.0, rel=1e-3)


def test_a_maximized_benchmark_is_judged_by_its_gradient_not_by_its_minimum(runs):
    rec = run(runs, "rastrigin", "Nelder-Mead", dimension=2, sense="maximize", seed=1, max_evaluations=2)
    assert rec["converged"] is False
    top = run(runs, "sphere", "auto", name="top", dimension=2, sense="maximize", bounds=[-1, 1], seed=2)
    assert top["best_f"] == pytest.approx(2.0) and top["converged"] is True


def test_auto_restarts_from_elsewhere_when_the_start_is_outside_the_domain(runs):
    rec = run(runs, "x - log(x)", "auto", seed=4)  # the default start x = 0 gives +inf
    assert rec["converged"] is True and rec["best_f"] == pytest.approx(1.0) and "random point" in rec["message"]
    named = run(runs, "x - log(x)", "BFGS", name="named")
    assert named["converged"] is False and "NaN or infinite" in named["convergence"]["reason"]


def test_fixed_variables_are_refused_by_methods_that_need_a_proper_box(runs):
    runs.problems.create("fx", "(x-1)**2 + (y-1)**2", bounds=[[0, 5], [3, 3]])
    for algorithm in ("direct", "dual_annealing"):
        with pytest.raises(IncompatibleAlgorithm, match="fixes y"):
            runs.start_run("fx", algorithm)
    assert runs.execute(runs.start_run("fx", "differential_evolution"), seed=1)["best_x"][1] == 3.0


def test_a_named_budget_outlasts_scipys_own_default_limits(runs):
    # "50D rosenbrock with Nelder-Mead, max 2,000,000 evaluations" stopped at SciPy's default
    # 200 * n: a budget the user names is now the run's limit
    rec = run(runs, "rosenbrock", "Nelder-Mead", dimension=10, max_evaluations=6000,
              options={"xatol": 0, "fatol": 0})
    assert rec["n_evaluations"] == 6000 and "budget of 6000" in rec["message"]
    assert rec["options"]["maxfev"] == 6000  # raised to the budget, recorded with the run
    capped = run(runs, "rosenbrock", "Nelder-Mead", name="capped", dimension=10, max_evaluations=6000,
                 options={"maxfev": 500, "xatol": 0, "fatol": 0})
    assert capped["n_evaluations"] <= 501 + 12  # an explicit option still wins (+ the check's probes)


def test_a_benchmark_does_not_start_on_its_own_minimum(runs):
    rec = run(runs, "rastrigin", "Nelder-Mead", dimension=4)
    assert rec["x0"] == [2.56, -2.56, 2.56, -2.56] and "known minimum" in rec["convergence"]["start"]
    assert rec["n_evaluations"] > 50
    plain = run(runs, "(x-1)**2 + y**2", "L-BFGS-B", name="plain", bounds=[-2, 2])
    assert plain["x0"] == [0.0, 0.0]  # not a benchmark: the centre of the bounds


def test_a_variable_named_only_in_a_constraint_is_a_variable(runs):
    # "minimize x subject to x >= y, y >= 2" was refused ("unknown variable 'y'")
    rec = run(runs, "x", "auto", constraints=["x >= y", "y >= 2"])
    assert rec["converged"] is True and rec["best_f"] == pytest.approx(2.0)
    _, problem = runs.problems.load(rec["problem_id"])
    assert problem.variables == ["x", "y"]


@pytest.mark.parametrize("algorithm, kw", [
    ("L-BFGS-B", {}), ("COBYLA", {}), ("trust-ncg", {}), ("L-BFGS-B", {"sense": "maximize"}),
])
def test_a_slope_that_only_looks_flat_next_to_a_huge_f_is_unbounded(runs, algorithm, kw):
    # x - y stopped at |f| = 1e13 with a gradient norm of 1 <= 1e-4 * |f|: it was "converged"
    objective = "x + y" if kw.get("sense") == "maximize" else "x - y"
    rec = run(runs, objective, algorithm, name=f"u{algorithm}{len(kw)}", **kw)
    assert rec["converged"] is False and "unbounded" in rec["convergence"]["reason"]


def test_the_convergence_check_keeps_to_the_budget(runs):
    # probing around a start the optimizer never left took 4 more evaluations past max_evaluations=1
    rec = run(runs, "-x*y*z", "SLSQP", constraints=["x >= 0", "y >= 0", "z >= 0"], max_evaluations=1)
    assert rec["n_evaluations"] == 1 and rec["converged"] is False
    assert "budget of 1 evaluation ran out" in rec["convergence"]["reason"]


def test_global_methods_use_a_named_budget(runs):
    rec = run(runs, "schwefel", "basinhopping", dimension=4, max_evaluations=20000, seed=5)
    assert rec["n_evaluations"] == 20000  # SciPy's 100 hops ended it at a few hundred


def test_auto_converges_on_a_smooth_constrained_classic(runs):
    # Rosenbrock inside the disk x1^2 + x2^2 <= 1.5: SLSQP's default ftol stopped at a KKT
    # residual of 3.5e-3 and auto's trust-constr fallback made it worse
    rec = run(runs, "rosenbrock", "auto", dimension=2, constraints=["x1**2 + x2**2 <= 1.5"])
    assert rec["converged"] is True and rec["best_f"] == pytest.approx(0.0086157, rel=1e-4)


def test_a_runaway_that_scipy_gives_up_on_still_says_unbounded(runs):
    # Powell raised "no valid bracket" at |x| = 1e209 (a failed run with SciPy's message only), and
    # maximizing x + y ran x to inf ("no finite point or value was found")
    failed = run(runs, "x - y", "Powell")
    assert failed["converged"] is False and "unbounded below" in failed["convergence"]["reason"]
    up = run(runs, "x + y", "Powell", name="up", sense="maximize")
    assert up["converged"] is False and "unbounded above" in up["convergence"]["reason"]


def test_a_tiny_objective_is_not_converged_at_its_start_and_auto_goes_on(runs):
    # 1e-7 * ((x-1)^2 + (y+2)^2) from (30, 30): the gradient 6e-6 passed the absolute tolerance,
    # L-BFGS-B's own gtol stopped it after one evaluation, and the run was "converged"
    named = run(runs, "1e-12*(x-1)**2", "BFGS", name="tiny")
    assert named["converged"] is False and "values are small" in named["convergence"]["reason"]
    rec = run(runs, "1e-7*((x-1)**2 + (y+2)**2)", "auto", name="tiny2", x0=[30, 30])
    assert rec["converged"] is True and np.allclose(rec["best_x"], [1, -2], atol=1e-4)


def test_auto_searches_globally_when_an_expression_is_periodic(runs):
    # Holder table written out: auto took the first local minimum (-16.27) and called it converged
    rec = run(runs, "-abs(sin(x)*cos(y)*exp(abs(1 - sqrt(x**2 + y**2)/pi)))", "auto", bounds=[-10, 10], seed=1)
    assert rec["best_f"] == pytest.approx(-19.2085, abs=1e-3) and "global race" in rec["message"]


def test_a_warm_start_at_the_optimum_costs_few_check_evaluations(runs):
    # a child run started on its parent's constrained optimum probed ~100 points around it (240
    # under auto): the Lagrangian's positive curvature along the constraint now settles it
    parent = run(runs, "sum((x[i]-2)**2 for i in range(10))", "SLSQP", constraints=["sum(x[i] for i in range(10)) <= 1"])
    assert parent["converged"] is True
    child_id = runs.start_run(parent["problem_id"], "SLSQP", parent_run_id=parent["id"])
    child = runs.execute(child_id, max_evaluations=30)
    assert child["converged"] is True and child["n_evaluations"] <= 10


def test_a_minimum_far_out_inside_finite_bounds_is_not_called_unbounded(runs):
    rec = run(runs, "(x - 2e16)**2 / 1e32", "Powell", bounds=[[-1e17, 1e17]], x0=[0])
    assert "unbounded" not in rec["convergence"]["reason"]


def test_direct_is_not_asked_to_allocate_for_a_huge_budget():
    from aopt.optimize import budget_options, get_algorithm

    assert budget_options(get_algorithm("direct"), {}, 10**9, 5)["maxfun"] == 10**6
