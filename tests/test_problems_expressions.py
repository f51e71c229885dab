"""Safe expressions: what compiles, what it computes, and what is refused."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aopt.errors import InvalidInput
from aopt.problems import compile_expression, make_problem


def _fd_grad(f, x, h=1e-6):
    x = np.asarray(x, dtype=float)
    out = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        out.append((f(x + e) - f(x - e)) / (2 * h))
    return np.array(out)


@pytest.mark.parametrize("text,variables,point,expected", [
    ("(x-3)**2 + y**2", ["x", "y"], [1, 2], 8.0),
    ("x^2 + 3*sin(y)", ["x", "y"], [2, 0.5], 4 + 3 * math.sin(0.5)),
    ("sum((x[i]-i)**2 for i in range(5))", [f"x[{i}]" for i in range(5)], [0, 1, 2, 3, 5], 1.0),
    ("x1*x2 - log(x3)", ["x1", "x2", "x3"], [2, 3, math.e], 5.0),
    ("exp(-a)*cos(b)", ["a", "b"], [0.5, 0.3], math.exp(-0.5) * math.cos(0.3)),
    ("sqrt(x**2+1)", ["x"], [2], math.sqrt(5)),
    ("abs(x) + pi + e", ["x"], [-2], 2 + math.pi + math.e),
    ("max(x, y) + min(x, y)", ["x", "y"], [1, 4], 5.0),
    ("tanh(x) + log10(y)", ["x", "y"], [0.3, 100], math.tanh(0.3) + 2),
    ("x[0]**2 + x[1]**2", ["x[0]", "x[1]"], [3, 4], 25.0),
    ("sum(sum(x[i]*x[j] for j in range(3)) for i in range(3))", ["x[0]", "x[1]", "x[2]"], [1, 2, 3], 36.0),
    ("sum(100*(x[i+1]-x[i]**2)**2 + (1-x[i])**2 for i in range(3))",
     ["x[0]", "x[1]", "x[2]", "x[3]"], [1, 1, 1, 1], 0.0),
    ("np.sin(x) + math.cos(y)", ["x", "y"], [0.1, 0.2], math.sin(0.1) + math.cos(0.2)),
    ("2 ** x + x % 3", ["x"], [4], 16 + 1),
    ("hypot(x, y) + atan2(y, x)", ["x", "y"], [3, 4], 5 + math.atan2(4, 3)),
    ("sum(x[i] for i in range(0, 6, 2) if i != 2)", ["x[0]", "x[1]", "x[2]", "x[3]", "x[4]"],
     [1, 10, 100, 1000, 10000], 10001.0),
    ("cbrt(x) + log(y, 2)", ["x", "y"], [-8, 8], 1.0),
])
def test_expressions_compute_what_they_say(text, variables, point, expected):
    c = compile_expression(text)
    assert c.variables == variables and c.kind is None
    point = np.array(point, dtype=float)
    assert c.fun(point) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_prod_example_variables_start_at_zero():
    c = compile_expression("prod(x[i] for i in range(1, 4))")
    assert c.variables == ["x[0]", "x[1]", "x[2]", "x[3]"]
    assert c.fun([9, 2, 3, 4]) == 24.0


@pytest.mark.parametrize("text", [
    "(x-3)**2 + y**2", "x^2 + 3*sin(y)", "x1*x2 - log(x3)", "exp(-a)*cos(b)", "sqrt(x**2+1)",
    "tanh(x)*log10(y)", "sum((x[i]-i)**4 for i in range(4))", "x*y*z + y/z - z**3", "atan(x) + asinh(y)",
    "max(x**2, y) + min(x, y**3)", "abs(x - y) + sign(x)*x", "hypot(x, y)", "x**y",
])
def test_gradients_and_hessians_are_exact(text):
    c = compile_expression(text)
    rng = np.random.default_rng(3)
    x = rng.random(c.dimension) + 0.5
    assert np.allclose(c.jac(x), _fd_grad(c.fun, x), rtol=1e-6, atol=1e-6)
    H = c.hess(x)
    fd = np.array([_fd_grad(lambda v, i=i: c.jac(v)[i], x) for i in range(c.dimension)])
    assert np.allclose(H, fd, rtol=1e-5, atol=1e-5) and np.allclose(H, H.T)


def test_variable_order_is_natural():
    assert compile_expression("x10 + x2 + x1").variables == ["x1", "x2", "x10"]
    assert compile_expression("z + y + x").variables == ["x", "y", "z"]
    assert compile_expression("b*a2 + a10").variables == ["a2", "a10", "b"]


def test_dimension_extends_a_vector_and_mismatch_names_both():
    c = compile_expression("sum(x[i]**2 for i in range(3))", dimension=6)
    assert c.variables == [f"x[{i}]" for i in range(6)]
    c = compile_expression("sum(x[i]**2 for i in range(n))", dimension=4)
    assert c.dimension == 4 and c.fun([1, 1, 1, 1]) == 4.0
    with pytest.raises(InvalidInput) as err:
        compile_expression("x + y", dimension=3)
    assert "3" in str(err.value) and "2" in str(err.value)
    with pytest.raises(InvalidInput):
        compile_expression("x[4] + x[0]", dimension=2)


def test_constraints_compile_to_sign_convention():
    ge = compile_expression("x + y >= 1")
    assert ge.kind == "ineq" and ge.fun([1, 1]) == 1.0 and ge.fun([0, 0]) == -1.0
    le = compile_expression("x**2 + y**2 <= 4")
    assert le.kind == "ineq" and le.fun([0, 0]) == 4.0 and le.fun([2, 2]) == -4.0
    assert list(le.jac([1, 2])) == [-2.0, -4.0]
    eq = compile_expression("x*y == 2")
    assert eq.kind == "eq" and eq.fun([1, 2]) == 0.0 and list(eq.jac([1, 2])) == [2.0, 1.0]
    assert compile_expression("x*y = 2").kind == "eq"
    assert compile_expression("x >= 0.5*y").fun([1, 4]) == -1.0


FORBIDDEN = [
    "__import__('os').system('ls')", "x.__class__", "open('f')", "lambda: 1", "'a'", "os",
    "sum(x[i] for i in range(10**9))", "x**10**10", "os.system('ls')", "eval('1')", "exec('x=1')",
    "x if y else z", "[x, y]", "x[1:3]", "f'{x}'", "x and y", "(x := 2)", "b'x'", "1j*x", "True + x",
    "globals()", "x.real", "().__class__.__bases__", "__builtins__", "_x + 1", "sin", "foo(x)",
    "sin(x, y)", "x @ y", "x | y", "~x", "not x", "x != 1", "sum(x)", "*x", "10**10**10",
    "9**999 * x", "x[-1]", "x[y]", "x[0.5]", "sum(x[i] for i in 'abc')", "sum(x[i] for (i, j) in range(3))",
    "1/0 + x", "sqrt(-1) + x", "log(0) + x", "3", "pi", "", "   ", "x +", "x; import os",
    "import os", "x = y = 1", "x[0] + x",
]


@pytest.mark.parametrize("text", FORBIDDEN)
def test_forbidden_input_is_refused_with_a_helpful_message(text):
    with pytest.raises(InvalidInput) as err:
        compile_expression(text)
    assert str(err.value)


@pytest.mark.parametrize("text,piece", [
    ("__import__('os').system('ls')", "attribute"), ("x.__class__", "x.__class__"), ("open('f')", "open"),
    ("lambda: 1", "lambda"), ("'a'", "string"), ("sum(x[i] for i in range(10**9))", "range(10**9)"),
    ("x**10**10", "exponent"), ("foo(x) + 1", "foo"), ("x**2 + nan", "'nan' is not a finite number"),
    ("inf - x", "'inf' is not a finite number"), ("x * Infinity", "finite"),
])
def test_refusals_name_the_offending_piece_and_what_is_accepted(text, piece):
    with pytest.raises(InvalidInput) as err:
        compile_expression(text)
    msg = str(err.value)
    assert piece in msg and "Accepted" in msg


def test_constraint_with_fixed_variables_rejects_unknown_names():
    c = compile_expression("x[0] + x2 >= 1", variables=["x1", "x2"])
    assert c.variables == ["x1", "x2"] and c.fun([1, 1]) == 1.0
    with pytest.raises(InvalidInput, match="unknown variable"):
        compile_expression("z >= 1", variables=["x", "y"])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40))
def test_random_printable_text_compiles_or_is_an_invalid_input(text):
    try:
        c = compile_expression(text)
    except InvalidInput:
        return
    assert c.dimension >= 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list("xy()+-*/^ 0123.,[]i=<>") + ["sin", "sum", "**", " for i in range(3)",
                                                                  "x[i]", "e", "pi", "abs", "max"]),
                max_size=14).map("".join))
def test_random_math_like_text_compiles_or_is_an_invalid_input(text):
    try:
        c = compile_expression(text)
    except InvalidInput:
        return
    x = np.full(c.dimension, 0.7)
    with np.errstate(all="ignore"):
        v = c.fun(x)
    assert isinstance(v, float)


def test_objective_that_is_a_comparison_is_refused():
    with pytest.raises(InvalidInput, match="constraint"):
        make_problem("p", "x + y >= 1")


def test_compile_is_repeatable_and_never_runs_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for text in ["__import__('os').system('touch pwned')", "open('pwned', 'w')"]:
        with pytest.raises(InvalidInput):
            compile_expression(text)
    assert not (tmp_path / "pwned").exists()
