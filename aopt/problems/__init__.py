"""Optimization problems: the problem model, a benchmark library and safe expressions.

    from aopt.problems import make_problem
    p = make_problem("rb", "rosenbrock", dimension=10)
    q = make_problem("q", "(x-3)**2 + y**2", constraints=["x + y >= 1"], bounds=[(-5, 5)])

Problems are plain objects (no storage knowledge); `to_record()` /
`Problem.from_record()` round-trip them through JSON.
"""

from aopt.problems._benchmarks import get_benchmark, list_benchmarks
from aopt.problems._compiled import CompiledExpression, compile_expression
from aopt.problems._kinds import ObjectiveParts, register_kind, registered_kinds
from aopt.problems._make import make_problem
from aopt.problems._problem import Constraint, Problem, finite_difference_gradient, finite_difference_hessian

__all__ = [
    "Problem",
    "Constraint",
    "finite_difference_gradient",
    "finite_difference_hessian",
    "make_problem",
    "list_benchmarks",
    "get_benchmark",
    "compile_expression",
    "CompiledExpression",
    "ObjectiveParts",
    "register_kind",
    "registered_kinds",
]
