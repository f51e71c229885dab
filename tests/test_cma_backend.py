"""CMA-ES backend: solves, repeats with a seed, keeps to bounds, batches, honours budgets."""

from __future__ import annotations

import numpy as np
import pytest

from aopt.errors import InvalidInput
from aopt.optimize._cma import CMA_OPTIONS, cma_budget_key, solve_cma
from aopt.optimize._solve import EvaluationBudgetReached
from aopt.problems import make_problem


class Objective:
    """A recording objective like the run manager's: counts calls, keeps every point, may run out."""

    def __init__(self, problem, budget: int | None = None):
        self.problem = problem
        self.budget = budget
        self.points: list[np.ndarray] = []
        self.calls = 0
        self.batch_calls = 0
        self.phases: list[str] = []

    def _room(self) -> int:
        room = (self.budget - len(self.points)) if self.budget is not None else 10**12
        if room <= 0:
            raise EvaluationBudgetReached()
        return room

    def __call__(self, x):
        self._room()
        self.calls += 1
        self.points.append(np.array(x, dtype=float))
        return float(self.problem.fun(x))

    def batch(self, XT):
        X = np.atleast_2d(np.asarray(XT, dtype=float).T)
        room = self._room()
        self.batch_calls += 1
        values = np.array([float(self.problem.fun(x)) for x in X[:room]])
        self.points.extend(np.array(x) for x in X[:room])
        if len(X) > room:
            raise EvaluationBudgetReached()
        return values

    def set_phase(self, text):
        self.phases.append(text)


class Batching:
    """A problem that evaluates many points at once, as a code objective does."""

    batches = True

    def __init__(self, problem):
        self._problem = problem

    def __getattr__(self, name):
        return getattr(self._problem, name)


def run(problem, x0=None, options=None, seed=7, budget=None, batching=True):
    problem = Batching(problem) if batching else problem
    fun = Objective(problem, budget)
    x0 = np.zeros(problem.dimension) if x0 is None else np.asarray(x0, dtype=float)
    return solve_cma(None, problem, fun, x0, options or {}, seed), fun


@pytest.mark.parametrize("name, x0", [("sphere", [2.0] * 5), ("rosenbrock", [0.0] * 5)])
def test_solves_5d_smooth_problems(name, x0):
    out, fun = run(make_problem("p", name, dimension=5), x0, {"restarts": 0})
    assert out.method == "CMA-ES" and out.scipy_success is None and not out.stopped_by_budget
    assert out.fun < 1e-8
    assert out.fun == min(float(fun.problem.fun(p)) for p in fun.points)
    assert out.n_iterations > 0 and out.message.startswith("CMA-ES: 1 run (IPOP, final popsize 8), stopped: ")


def test_same_seed_same_points_and_another_seed_others():
    problem = make_problem("r", "rastrigin", dimension=3)
    options = {"restarts": 2, "maxfevals": 1_500}
    (_, a), (_, b), (_, c) = (run(problem, [1.0] * 3, options, seed=s) for s in (0, 0, 1))
    assert len(a.points) == len(b.points) == 1_500
    assert all(np.array_equal(p, q) for p, q in zip(a.points, b.points))
    assert not all(np.array_equal(p, q) for p, q in zip(a.points, c.points))


def test_bipop_is_reproducible_too():
    problem = make_problem("r", "rastrigin", dimension=2)
    options = {"bipop": True, "restarts": 3, "maxfevals": 3_000}
    (_, a), (_, b) = run(problem, [3.0, 3.0], options), run(problem, [3.0, 3.0], options)
    assert all(np.array_equal(p, q) for p, q in zip(a.points, b.points))


def test_every_point_inside_bounds_and_result_on_the_bound():
    problem = make_problem("q", "(x-10)**2 + (y-10)**2", bounds=[(-1, 1)])
    out, fun = run(problem, [5.0, -7.0], {"restarts": 1, "maxfevals": 3_000})
    points = np.array(fun.points)
    assert points.min() >= -1 and points.max() <= 1
    assert np.allclose(out.x, [1, 1], atol=1e-6) and out.fun == pytest.approx(162, abs=1e-4)


def test_half_bounded_variables_stay_on_their_side():
    problem = make_problem("h", "(x+3)**2 + (y-2)**2", bounds={"x": [0, None]})
    out, fun = run(problem, [4.0, 0.0], {"restarts": 0})
    assert min(p[0] for p in fun.points) >= 0
    assert np.allclose(out.x, [0, 2], atol=1e-5)


def test_one_batch_call_per_generation():
    out, fun = run(make_problem("s", "sphere", dimension=4), [1.0] * 4, {"restarts": 2, "popsize": 8})
    assert fun.calls == 0 and fun.batch_calls == out.n_iterations > 3


def test_population_size_per_batch_doubles_with_each_restart():
    problem = Batching(make_problem("s", "sphere", dimension=3))
    sizes = []
    fun = Objective(problem)
    real_batch = fun.batch
    fun.batch = lambda XT: (sizes.append(np.shape(XT)[1]), real_batch(XT))[1]
    out = solve_cma(None, problem, fun, np.ones(3), {"restarts": 2, "popsize": 5}, 3)
    assert set(sizes) == {5, 10, 20} and fun.calls == 0
    assert fun.phases == ["CMA-ES run 1", "CMA-ES restart 1 (IPOP, popsize 10)",
                          "CMA-ES restart 2 (IPOP, popsize 20)"]
    assert "3 runs (IPOP, final popsize 20)" in out.message
    assert len(out.restarts) == 3 and max(out.restarts) < 1e-8 and min(out.restarts) == out.fun


def test_point_by_point_when_the_problem_does_not_batch():
    out, fun = run(make_problem("s", "sphere", dimension=3), [1.0] * 3, {"restarts": 0}, batching=False)
    assert fun.batch_calls == 0 and fun.calls == len(fun.points) > 0 and out.fun < 1e-8


def test_run_budget_stops_the_search():
    out, fun = run(make_problem("r", "rastrigin", dimension=4), [2.0] * 4, budget=500)
    assert out.stopped_by_budget and len(fun.points) == 500
    assert "budget" in out.message


def test_maxfevals_caps_evaluations_over_all_restarts_exactly():
    out, fun = run(make_problem("r", "rastrigin", dimension=4), [2.0] * 4, {cma_budget_key: 777})
    assert not out.stopped_by_budget and len(fun.points) == 777
    assert "stopped: maxfevals (777 evaluations)" in out.message
    runs = int(out.message.split(": ")[1].split(" run")[0])
    assert len(out.restarts) == runs - 1  # the run the cap cut short is no independent result


def test_ftarget_stops_early_in_the_users_sense():
    out, fun = run(make_problem("s", "sphere", dimension=3), [2.0] * 3, {"ftarget": 1e-3})
    assert out.fun <= 1e-3 and "stopped: ftarget" in out.message and len(fun.points) < 500
    neg = make_problem("m", "-(x**2 + y**2)", sense="maximize")
    out, fun = run(neg, [2.0, 2.0], {"ftarget": -1e-3})
    assert out.fun <= 1e-3 and "ftarget" in out.message


@pytest.mark.parametrize("options, named", [
    ({"popsize": 1}, "popsize"), ({"popsize": 2.5}, "popsize"), ({"restarts": -1}, "restarts"),
    ({"bipop": "yes"}, "bipop"), ({"incpopsize": 0.5}, "incpopsize"), ({"maxfevals": 0}, "maxfevals"),
    ({"tolfun": -1}, "tolfun"), ({"tolx": float("nan")}, "tolx"), ({"sigma0": 0}, "sigma0"),
    ({"sigma0": 50}, "sigma0"), ({"ftarget": "low"}, "ftarget"),
    ({"restart_from_best": 1}, "restart_from_best"),
    ({"maxiter": 10}, "maxiter"),
])
def test_bad_options_are_refused_by_name(options, named):
    with pytest.raises(InvalidInput, match=named):
        run(make_problem("s", "sphere", dimension=2), options=options)


def test_options_tuple_lists_every_accepted_name():
    assert set(CMA_OPTIONS) == {"sigma0", "popsize", "restarts", "bipop", "incpopsize", "maxfevals",
                                "tolfun", "tolx", "ftarget", "restart_from_best"}


def test_one_dimension():
    out, fun = run(make_problem("one", "(x-2)**2 + 1", bounds=[(-5, 5)]), [-4.0], {"restarts": 1})
    assert all(p.shape == (1,) for p in fun.points)
    assert out.x.shape == (1,) and out.x[0] == pytest.approx(2, abs=1e-5) and out.fun == pytest.approx(1)


def test_fixed_variables_are_held_and_the_rest_searched():
    problem = make_problem("f", "(x-1)**2 + (y-2)**2 + z**2", bounds={"y": [3, 3]})
    out, fun = run(problem, [0.0, 0.0, 0.0], {"restarts": 0})
    assert all(p[1] == 3 for p in fun.points)
    assert np.allclose(out.x, [1, 3, 0], atol=1e-5)


def test_bipop_interleaves_small_population_runs():
    out, fun = run(make_problem("r", "rastrigin", dimension=2), [3.0, 3.0],
                   {"bipop": True, "restarts": 3, "sigma0": 2.0})
    assert "BIPOP" in out.message and "with a small population" in out.message
    assert any("BIPOP small" in p for p in fun.phases) and any("(BIPOP, popsize" in p for p in fun.phases)
    assert out.fun < 1e-6


def test_global_random_state_is_left_as_it_was():
    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    run(make_problem("s", "sphere", dimension=2), options={"restarts": 0})
    assert np.random.rand() == expected


def test_keyboard_interrupt_propagates():
    problem = make_problem("s", "sphere", dimension=2)
    fun = Objective(problem)

    def interrupted(x):
        if len(fun.points) > 20:
            raise KeyboardInterrupt
        return Objective.__call__(fun, x)

    state = np.random.get_state()
    with pytest.raises(KeyboardInterrupt):
        solve_cma(None, problem, interrupted, np.ones(2), {}, 1)
    assert np.array_equal(np.random.get_state()[1], state[1])


def test_restart_from_best_and_no_seed_still_solve():
    out, fun = run(make_problem("s", "sphere", dimension=3), [2.0] * 3,
                   {"restarts": 1, "restart_from_best": True, "incpopsize": 1.5}, seed=None)
    assert out.fun < 1e-8 and "2 runs (IPOP, final popsize 10)" in out.message
