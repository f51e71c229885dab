"""The benchmark library: formulas, known optima, analytic gradients, names and dimensions."""

import math

import numpy as np
import pytest

from aopt.errors import InvalidInput, NotFound
from aopt.problems import get_benchmark, list_benchmarks, make_problem

NAMES = [b["name"] for b in list_benchmarks()]
ANY_DIM = [b["name"] for b in list_benchmarks() if b["dimension"] == "any"]
CASES = [(name, dim) for name in NAMES
         for dim in ((2, 3, 7) if name in ANY_DIM else (2,))]
NON_SMOOTH_AT_OPTIMUM = {"ackley"}


def _fd_grad(f, x, h=1e-6):
    g = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        step = h * max(1.0, abs(x[i]))
        e[i] = step
        g[i] = (f(x + e) - f(x - e)) / (2 * step)
    return g


def test_the_required_benchmarks_are_all_there():
    required = {"sphere", "rosenbrock", "rastrigin", "ackley", "griewank", "schwefel", "levy", "zakharov",
                "styblinski-tang", "beale", "booth", "himmelblau", "branin", "six-hump-camel",
                "goldstein-price", "easom"}
    assert required <= set(NAMES)


@pytest.mark.parametrize("name,dim", CASES)
def test_every_known_optimum_is_reached_at_its_x_star(name, dim):
    p = make_problem("b", name, dimension=dim)
    assert p.dimension == dim and p.variables == [f"x{i}" for i in range(1, dim + 1)]
    assert p.f_star is not None and p.x_star is not None
    tol = 1e-6 * max(1.0, abs(p.f_star))
    for x in p.x_stars:
        assert len(x) == dim
        assert abs(p.fun(np.array(x)) - p.f_star) < tol, (name, x)
        assert p.constraint_violation(x) == 0.0  # inside the default domain
    assert p.x_star == p.x_stars[0]


@pytest.mark.parametrize("name,dim", CASES)
def test_analytic_gradients_match_central_differences(name, dim):
    p = make_problem("b", name, dimension=dim)
    rng = np.random.default_rng(7)
    lo, hi = np.array(p.bounds).T
    span = np.minimum(hi - lo, 20.0)  # stay in the region where the formulas are well scaled
    centre = (lo + hi) / 2
    for _ in range(5):
        x = centre + (rng.random(dim) - 0.5) * span
        g = p.jac(x)
        assert isinstance(g, np.ndarray) and g.shape == (dim,)
        fd = _fd_grad(p.fun, x)
        assert np.allclose(g, fd, rtol=1e-5, atol=1e-5 * max(1.0, np.abs(fd).max())), (name, x, g, fd)


@pytest.mark.parametrize("name,dim", [c for c in CASES if c[0] not in NON_SMOOTH_AT_OPTIMUM])
def test_gradient_vanishes_at_every_global_minimum(name, dim):
    p = make_problem("b", name, dimension=dim)
    for x in p.x_stars:
        assert np.linalg.norm(p.jac(np.array(x))) < 1e-6 * max(1.0, abs(p.f_star)), (name, x)


def test_ackley_gradient_at_its_kink_is_zero_not_nan():
    p = make_problem("a", "ackley", dimension=4)
    assert np.all(p.jac(np.zeros(4)) == 0.0)


@pytest.mark.parametrize("name", ["sphere", "rosenbrock", "rastrigin", "zakharov", "styblinski-tang", "booth",
                                  "beale", "levy"])
def test_hessians_match_differences_of_the_gradient(name):
    p = make_problem("b", name, dimension=None if name in ("booth", "beale") else 4)
    x = np.random.default_rng(1).random(p.dimension) - 0.3
    H = p.hess(x)
    fd = np.array([_fd_grad(lambda v, i=i: p.jac(v)[i], x) for i in range(p.dimension)])
    assert np.allclose(H, fd, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(fd).max()))


@pytest.mark.parametrize("spelling,name", [
    ("Six Hump Camel", "six-hump-camel"), ("camel6", "six-hump-camel"), ("sixhumpcamel", "six-hump-camel"),
    ("six_hump_camel", "six-hump-camel"), ("styblinski tang", "styblinski-tang"),
    ("Styblinski-Tang", "styblinski-tang"), ("goldstein price", "goldstein-price"),
    ("GOLDSTEIN_PRICE", "goldstein-price"), ("Rosenbrock", "rosenbrock"), ("rosenbrock function", "rosenbrock"),
    ("Branin-Hoo", "branin"), (" easom ", "easom"), ("Himmelblau's", "himmelblau"),
])
def test_names_are_case_space_and_punctuation_insensitive(spelling, name):
    p = make_problem("b", spelling)
    assert p.kind == "benchmark" and p.benchmark == name
    assert get_benchmark(spelling)["name"] == name


def test_default_dimension_is_two_and_any_dimension_works():
    assert make_problem("b", "rastrigin").dimension == 2
    p = make_problem("b", "rosenbrock", dimension=30)
    assert p.dimension == 30 and p.fun(np.ones(30)) == 0.0 and p.f_star == 0.0
    st = make_problem("b", "styblinski-tang", dimension=5)
    assert st.f_star == pytest.approx(-39.16616570377142 * 5)


@pytest.mark.parametrize("name", ["beale", "booth", "himmelblau", "branin", "six hump camel",
                                  "goldstein-price", "easom"])
def test_two_dimensional_benchmarks_refuse_other_dimensions(name):
    assert make_problem("b", name, dimension=2).dimension == 2
    with pytest.raises(InvalidInput) as err:
        make_problem("b", name, dimension=3)
    msg = str(err.value)
    assert get_benchmark(name)["name"] in msg and "2" in msg and "3" in msg


def test_rosenbrock_needs_two_variables():
    with pytest.raises(InvalidInput, match="rosenbrock"):
        make_problem("b", "rosenbrock", dimension=1)


def test_default_bounds_are_the_published_domains():
    assert make_problem("b", "rastrigin", dimension=3).bounds == [(-5.12, 5.12)] * 3
    assert make_problem("b", "schwefel").bounds == [(-500.0, 500.0)] * 2
    assert make_problem("b", "ackley").bounds == [(-32.768, 32.768)] * 2
    assert make_problem("b", "branin").bounds == [(-5.0, 10.0), (0.0, 15.0)]
    assert make_problem("b", "camel6").bounds == [(-3.0, 3.0), (-2.0, 2.0)]
    assert make_problem("b", "griewank").has_finite_bounds


def test_several_global_minima_are_all_listed():
    assert len(make_problem("b", "himmelblau").x_stars) == 4
    assert len(make_problem("b", "branin").x_stars) == 3
    assert len(make_problem("b", "six-hump camel").x_stars) == 2


def test_multimodal_flags():
    multimodal = {b["name"] for b in list_benchmarks() if b["multimodal"]}
    assert {"rastrigin", "ackley", "griewank", "schwefel", "levy", "styblinski-tang", "himmelblau",
            "branin", "six-hump-camel", "easom", "goldstein-price"} <= multimodal
    assert not {"sphere", "rosenbrock", "booth", "zakharov"} & multimodal
    assert make_problem("b", "rastrigin").multimodal and not make_problem("b", "sphere").multimodal


def test_list_benchmarks_is_json_ready():
    import json

    infos = list_benchmarks()
    json.dumps(infos)
    by_name = {b["name"]: b for b in infos}
    assert by_name["rosenbrock"]["dimension"] == "any" and by_name["branin"]["dimension"] == 2
    for info in infos:
        assert {"name", "dimension", "default_bounds", "f_star", "description", "multimodal"} <= set(info)


def test_unknown_benchmark_is_not_found_with_a_suggestion():
    with pytest.raises(NotFound) as err:
        get_benchmark("rosenbrok")
    assert "rosenbrock" in str(err.value) and "sphere" in str(err.value)
    with pytest.raises(InvalidInput, match="rosenbrock"):  # as an objective it is also an invalid input
        make_problem("b", "rosenbrok")
    with pytest.raises(NotFound):
        make_problem("b", "michalewicz")
    with pytest.raises(NotFound):
        make_problem("b", "six hump camels")


def test_schwefel_optimum_is_essentially_zero():
    p = make_problem("s", "schwefel", dimension=10)
    assert abs(p.f_star) < 1e-5 and abs(p.fun(p.x_star) - p.f_star) < 1e-6
    assert p.x_star[0] == pytest.approx(420.9687, abs=1e-4)


def test_fun_returns_plain_floats_and_accepts_lists():
    p = make_problem("b", "rosenbrock", dimension=4)
    v = p.fun([0.5, 0.5, 0.5, 0.5])
    assert type(v) is float and math.isfinite(v)
    assert p.fun(np.array([1, 1, 1, 1])) == 0.0  # integer arrays too
