"""make_problem and Problem: bounds, constraints, sense, records, summaries, names."""

import json
import math

import numpy as np
import pytest

from aopt.errors import InvalidInput
from aopt.problems import Constraint, ObjectiveParts, Problem, make_problem, register_kind

INF = math.inf


def test_the_documented_examples():
    p = make_problem(name="rb", objective="rosenbrock", dimension=10)
    assert p.kind == "benchmark" and p.dimension == 10 and p.has_gradient and p.has_finite_bounds
    q = make_problem(name="q", objective="(x-3)**2 + y**2", constraints=["x + y >= 1"], bounds=[(-5, 5)])
    assert q.kind == "expression" and q.variables == ["x", "y"] and q.bounds == [(-5.0, 5.0)] * 2
    assert q.fun([3, 0]) == 0.0 and list(q.jac([4, 1])) == [2.0, 2.0]
    assert q.has_gradient and not q.multimodal and q.f_star is None and q.x_star is None


# ---------------------------------------------------------------------------- bounds

@pytest.mark.parametrize("bounds,expected", [
    (None, [(-INF, INF)] * 2),
    ((-1, 2), [(-1.0, 2.0)] * 2),
    ([-1, 2], [(-1.0, 2.0)] * 2),
    ([(-1, 2)], [(-1.0, 2.0)] * 2),
    ([[0, 1], [-2, 2]], [(0.0, 1.0), (-2.0, 2.0)]),
    ({"x": [0, 5], "y": [-2, 2]}, [(0.0, 5.0), (-2.0, 2.0)]),
    ({"y": (None, 3)}, [(-INF, INF), (-INF, 3.0)]),
    ([None, 4], [(-INF, 4.0)] * 2),
    (["-inf", "inf"], [(-INF, INF)] * 2),
    ([[0, "inf"], ["-inf", 1]], [(0.0, INF), (-INF, 1.0)]),
    (np.array([[0, 1], [2, 3]]), [(0.0, 1.0), (2.0, 3.0)]),
    ("[[0, 1], [2, 3]]", [(0.0, 1.0), (2.0, 3.0)]),
])
def test_bounds_forms(bounds, expected):
    p = make_problem("p", "x**2 + y**2", bounds=bounds)
    assert p.bounds == expected
    assert p.has_finite_bounds == all(math.isfinite(v) for b in expected for v in b)


@pytest.mark.parametrize("bounds,needle", [
    ((2, 1), "lower bound is above"),
    ([[0, 1], [3, -3]], "y"),
    ([[0, 1], [0, 1], [0, 1]], "3 bound pairs for 2 variables"),
    ({"z": [0, 1]}, "z"),
    ([float("nan"), 1], "NaN"),
    ([[0, 1, 2], [0, 1]], "pair"),
    ("between 0 and 1", "could not read"),
    (5, "pair"),
    ([["a", 1], [0, 1]], "not a number"),
    ([(INF, INF)], "lower bound cannot be +inf"),
])
def test_bad_bounds_say_what_is_accepted(bounds, needle):
    with pytest.raises(InvalidInput) as err:
        make_problem("p", "x**2 + y**2", bounds=bounds)
    assert needle in str(err.value) and "Accepted" in str(err.value)


def test_benchmark_bounds_override_and_names():
    p = make_problem("p", "sphere", dimension=3, bounds={"x2": [0, 1], "x[2]": [1, 2]})
    assert p.bounds == [(-5.12, 5.12)] * 0 + [(-INF, INF), (0.0, 1.0), (1.0, 2.0)]
    assert make_problem("p", "sphere", dimension=3, bounds=(-1, 1)).bounds == [(-1.0, 1.0)] * 3


def test_vector_bounds_by_name():
    p = make_problem("p", "sum(x[i]**2 for i in range(3))", bounds={"x": [0, 1]})
    assert p.bounds == [(0.0, 1.0)] * 3


# ---------------------------------------------------------------------------- constraints

def test_constraints_are_normalized_with_exact_jacobians():
    p = make_problem("c", "x**2 + y**2", constraints=["x + y >= 1", "x*y == 2", "x**2 + y**2 <= 4",
                                                         "x >= 0.5*y", "x - y = 1"])
    kinds = [c.kind for c in p.constraints]
    assert kinds == ["ineq", "eq", "ineq", "ineq", "eq"]
    assert all(isinstance(c, Constraint) for c in p.constraints)
    x = np.array([1.5, 0.5])
    ge, eq, le, half, eq2 = p.constraints
    assert ge.fun(x) == pytest.approx(1.0) and list(ge.jac(x)) == [1.0, 1.0]
    assert eq.fun(x) == pytest.approx(-1.25) and list(eq.jac(x)) == [0.5, 1.5]
    assert le.fun(x) == pytest.approx(1.5) and list(le.jac(x)) == [-3.0, -1.0]
    assert half.fun(x) == pytest.approx(1.25) and list(half.jac(x)) == [1.0, -0.5]
    assert eq2.fun(x) == pytest.approx(0.0)
    dicts = p.scipy_constraints()
    assert [d["type"] for d in dicts] == kinds and all(callable(d["fun"]) and callable(d["jac"]) for d in dicts)


def test_constraint_violation_covers_constraints_and_bounds():
    p = make_problem("c", "x + y", bounds=[(0, 10), (0, 10)], constraints=["x + y >= 1", "x - y == 0"])
    assert p.constraint_violation([1, 1]) == 0.0
    assert p.constraint_violation([0.25, 0.25]) == pytest.approx(0.5)   # x + y >= 1 short by 0.5
    assert p.constraint_violation([3, 1]) == pytest.approx(2.0)         # |x - y|
    assert p.constraint_violation([12, 12]) == pytest.approx(2.0)       # above the upper bound
    assert p.constraint_violation([-3, 4]) == pytest.approx(7.0)        # |x - y| beats the bound
    assert type(p.constraint_violation([1, 1])) is float


def test_chained_and_joined_constraints_are_split():
    p = make_problem("c", "x + y", constraints=["0 <= x <= 1", "y >= 0 and y <= 2"])
    assert len(p.constraints) == 4 and p.constraint_violation([0.5, 1]) == 0.0
    assert p.constraint_violation([2, 1]) == pytest.approx(1.0)
    assert make_problem("c", "x + y", constraints=["0 <= x <= 1"]).to_record()["constraints"] == ["0 <= x <= 1"]


def test_benchmark_constraints_use_x1_or_x_index():
    p = make_problem("c", "rosenbrock", dimension=3, constraints=["x1 + x[1] + x3 <= 2"])
    assert p.constraints[0].fun([1, 1, 1]) == -1.0
    with pytest.raises(InvalidInput, match="unknown variable"):
        make_problem("c", "rosenbrock", constraints=["x + y <= 1"])


@pytest.mark.parametrize("constraint,needle", [
    ("x + y", "no comparison"), ("x != 1", ">="),
    ("1 >= 0", "any variable"), ("", "non-empty"), ("__import__('os') >= 1", "Accepted"), (3, "string"),
])
def test_bad_constraints(constraint, needle):
    with pytest.raises(InvalidInput) as err:
        make_problem("c", "x**2 + y**2", constraints=[constraint])
    assert needle in str(err.value)


def test_a_name_only_a_constraint_uses_joins_the_variables():
    p = make_problem("c", "x**2 + y**2", constraints=["z >= 1"])
    assert p.variables == ["x", "y", "z"] and list(p.jac([1, 2, 3])) == [2.0, 4.0, 0.0]
    with pytest.raises(InvalidInput, match="unknown variable"):  # a benchmark's variables are fixed
        make_problem("c", "rosenbrock", constraints=["x1 + z <= 1"])


def test_scipy_style_constraint_dicts_are_accepted():
    p = make_problem("c", "x**2 + y**2", constraints=[{"type": "ineq", "fun": "x + y - 1"}])
    assert p.constraints[0].kind == "ineq" and p.constraints[0].fun([1, 1]) == 1.0


# ---------------------------------------------------------------------------- sense

@pytest.mark.parametrize("sense", ["maximize", "max", "maximise", "MAXIMIZE"])
def test_maximize_negates_and_to_user_maps_back(sense):
    p = make_problem("m", "-(x-1)**2 - (y+2)**2 + 5", sense=sense)
    assert p.sense == "maximize"
    assert p.fun([1, -2]) == -5.0 and p.to_user(p.fun([1, -2])) == 5.0
    assert list(p.jac([2, -2])) == [2.0, 0.0]
    assert np.allclose(p.hess([0, 0]), [[2, 0], [0, 2]])


def test_a_maximized_benchmark_has_no_known_optimum():
    # easom's f* = -1 is its minimum: judging a maximization against it called any value above
    # -1 "converged" (rastrigin maximized was converged after 2 evaluations)
    p = make_problem("m", "easom", sense="max")
    assert p.f_star is None and p.x_star is None and p.fun([math.pi, math.pi]) == pytest.approx(1.0)


def test_bounds_or_constraints_that_exclude_the_minimizer_drop_the_known_optimum():
    assert make_problem("s", "sphere", dimension=2, bounds=[1, 2]).f_star is None
    assert make_problem("r", "rosenbrock", dimension=2, constraints=["x1 + x2 <= 1"]).f_star is None
    kept = make_problem("r2", "rosenbrock", dimension=2, constraints=["x1 + x2 <= 3"])
    assert kept.f_star == 0.0 and kept.x_star == [1.0, 1.0]


def test_invalid_sense_lists_the_accepted_ones():
    with pytest.raises(InvalidInput) as err:
        make_problem("m", "x**2", sense="biggest")
    assert "minimize" in str(err.value) and "maximize" in str(err.value)


# ---------------------------------------------------------------------------- dimension, names

def test_expression_dimension_rules():
    assert make_problem("d", "sum(x[i]**2 for i in range(3))", dimension=8).dimension == 8
    assert make_problem("d", "x**2 + y**2", dimension=2).dimension == 2
    with pytest.raises(InvalidInput) as err:
        make_problem("d", "x**2 + y**2", dimension=5)
    assert "5" in str(err.value) and "2" in str(err.value)
    for bad in (0, -1, 2.5, "ten", True):
        with pytest.raises(InvalidInput, match="dimension"):
            make_problem("d", "sphere", dimension=bad)
    assert make_problem("d", "sphere", dimension=4.0).dimension == 4


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "bad\nname", None, 3])
def test_bad_names(name):
    with pytest.raises(InvalidInput):
        make_problem(name, "sphere")


def test_good_names_and_objective_errors():
    assert make_problem("  my problem #1  ", "sphere").name == "my problem #1"
    assert make_problem("é" * 100, "sphere").name == "é" * 100
    for bad in ("", None, 42):
        with pytest.raises(InvalidInput):
            make_problem("p", bad)


# ---------------------------------------------------------------------------- records and summaries

@pytest.mark.parametrize("kwargs", [
    dict(objective="rosenbrock", dimension=5),
    dict(objective="six hump camel", bounds=[(-1, 1), (-1, 1)], sense="maximize", description="camel"),
    dict(objective="(x-3)^2 + y**2", constraints=["x + y >= 1", "x*y = 2"], bounds={"x": [0, None]}),
    dict(objective="sum((x[i]-i)**2 for i in range(3))", dimension=6, bounds=(-10, 10)),
])
def test_record_round_trip_through_json(kwargs):
    p = make_problem(name="rec", **kwargs)
    rec = p.to_record()
    text = json.dumps(rec, allow_nan=False)  # infinities are encoded as None
    for key in ("name", "kind", "objective", "dimension", "variables", "bounds", "constraints", "sense",
                "description", "f_star", "x_star"):
        assert key in rec
    q = Problem.from_record(json.loads(text))
    assert q == p and q.to_record() == rec
    x = np.linspace(0.1, 0.9, p.dimension)
    assert q.fun(x) == p.fun(x) and np.array_equal(q.jac(x), p.jac(x))
    assert q.constraint_violation(x) == p.constraint_violation(x)


def test_from_record_ignores_store_keys():
    rec = make_problem("r", "booth").to_record()
    rec.update(id=3, created_at="2024-01-01", bounds_given=False)
    assert Problem.from_record(rec).name == "r"


def _only_plain(value):
    if isinstance(value, dict):
        return all(isinstance(k, str) and _only_plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_only_plain(v) for v in value)
    return value is None or type(value) in (str, int, float, bool)


def test_summary_is_compact_and_plain():
    s = make_problem("big", "rastrigin", dimension=30).summary()
    json.dumps(s)
    assert _only_plain(s)
    assert len(s["variables"]) < 15 and "..." in s["variables"] and s["variables"][0] == "x1"
    assert s["dimension"] == 30 and s["bounds"] == [-5.12, 5.12] and s["known_optimum"]["f"] == 0.0
    assert s["sense"] == "minimize" and s["kind"] == "benchmark" and s["constraints"] == []
    q = make_problem("q", "(x-3)**2 + y**2", bounds={"x": [0, 1]}, constraints=["x + y >= 1"]).summary()
    assert q["bounds"] == {"x": [0.0, 1.0], "y": [None, None]} and q["constraints"] == ["x + y >= 1"]
    assert q["known_optimum"] is None
    assert _only_plain(make_problem("r", "branin").to_record())


# ---------------------------------------------------------------------------- kinds

def test_a_new_kind_plugs_in_without_touching_the_others():
    def build(objective, dimension):
        n = dimension or 3
        return ObjectiveParts(variables=[f"x{i}" for i in range(1, n + 1)],
                              fun=lambda x: float(np.sum(np.abs(x))), jac=None,
                              default_bounds=[(-1.0, 1.0)] * n)

    register_kind("test-abs", build)
    p = make_problem("k", "anything", dimension=4, kind="test-abs", constraints=["x1 >= 0.5"])
    assert p.kind == "test-abs" and p.dimension == 4 and p.fun([1, -1, 0, 0]) == 2.0
    assert not p.has_gradient and p.jac is None
    assert p.constraint_violation([0, 0, 0, 0]) == 0.5
    assert Problem.from_record(p.to_record()) == p
    with pytest.raises(InvalidInput, match="kind"):
        make_problem("k", "x", kind="nope")


def test_objective_hessian_exact_for_expressions_and_benchmarks():
    p = make_problem("h", "x**3*y + exp(y)")
    assert np.allclose(p.hess([1.0, 0.0]), [[0.0, 3.0], [3.0, 1.0]])
    r = make_problem("h", "rosenbrock", dimension=3)
    assert np.allclose(r.hess([1, 1, 1]), [[802, -400, 0], [-400, 1002, -400], [0, -400, 200]])
    g = make_problem("h", "griewank", dimension=3)  # no closed form: differences of the exact gradient
    assert g.hess([0.1, 0.2, 0.3]).shape == (3, 3)


def test_violation_is_infinite_where_nothing_can_be_evaluated():
    p = make_problem("v", "x + y", constraints=["sqrt(x) >= 1"])
    with np.errstate(all="ignore"):
        assert p.constraint_violation([-1.0, 0.0]) == math.inf
        assert p.constraint_violation([float("nan"), 0.0]) == math.inf


def test_short_bare_names_are_variables_long_unknown_words_are_benchmark_typos():
    assert make_problem("v", "t", bounds=(0, 1)).variables == ["t"]
    with pytest.raises(InvalidInput, match="rastrigin"):
        make_problem("v", "rastrigen")


def test_constraint_only_variables_take_their_natural_place():
    # they were appended after the objective's, so per-variable bounds went to the wrong ones
    p = make_problem("g", "5.3578547*x3**2 + x1*x5", constraints=["x2*x4 >= 0"],
                     bounds=[[78, 102], [33, 45], [27, 45], [27, 45], [27, 45]])
    assert p.variables == ["x1", "x2", "x3", "x4", "x5"] and p.bounds[1] == (33.0, 45.0)
    assert list(p.jac([1, 2, 3, 4, 5])) == pytest.approx([5.0, 0.0, 6 * 5.3578547, 0.0, 1.0])
