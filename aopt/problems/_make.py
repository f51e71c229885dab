"""make_problem: validate what a user (or a model) asked for and build a Problem."""

from __future__ import annotations

import ast
import numbers
import re
from typing import Optional

from aopt.errors import InvalidInput
from aopt.problems._benchmarks import (MAX_DIMENSION, build_benchmark, find_benchmark, nearest_benchmark,
                                       unknown_benchmark_error)
from aopt.problems._bounds import normalize_bounds
from aopt.problems._code import build_code_parts, is_code_spec, parse_code_constraint
from aopt.problems._compiled import compile_expression
from aopt.problems._syntax import parse_text, split_constraint
from aopt.problems._kinds import ObjectiveParts, get_kind_builder, register_kind
from aopt.problems._problem import Constraint, Problem

__all__ = ["make_problem", "build_expression", "SENSES", "MAX_CONSTRAINTS", "PROPERTIES"]

# What a user may say of an objective that paola cannot see in it (a code objective above all);
# `auto` plans with them (see aopt/optimize/_auto.py).
PROPERTIES = {
    "multimodal": "many local minima: search the whole box globally",
    "smooth": "continuously differentiable: gradient methods (finite differences) work",
    "noisy": "values carry noise: no finite-difference gradients, population methods",
    "expensive": "each evaluation is slow: spend evaluations sparingly",
    "convex": "one minimum: a local method's answer is the global one",
}

MAX_NAME = 100
MAX_DESCRIPTION = 10_000
MAX_CONSTRAINTS = 1_000
SENSES = {"minimize": "minimize", "minimise": "minimize", "min": "minimize", "minimization": "minimize",
          "minimisation": "minimize", "maximize": "maximize", "maximise": "maximize", "max": "maximize",
          "maximization": "maximize", "maximisation": "maximize"}
_WORDS = re.compile(r"[A-Za-z][A-Za-z0-9 _'\-]*")


def build_expression(objective: str, dimension: Optional[int]) -> ObjectiveParts:
    """The 'expression' kind builder: a safe mathematical expression in its variables."""
    try:
        tree = parse_text(objective)
    except InvalidInput:
        if isinstance(objective, str) and _WORDS.fullmatch(objective.strip()):
            raise unknown_benchmark_error(objective.strip()) from None  # "six hump camels"
        raise
    body = tree.body
    if isinstance(body, ast.Name) and len(body.id) >= 4 and (
            nearest_benchmark(body.id) is not None or (len(body.id) >= 6 and body.id.isalpha())):
        raise unknown_benchmark_error(objective.strip())  # "michalewicz", "rosenbrok"
    compiled = compile_expression(objective, dimension=dimension)
    if compiled.kind is not None:
        raise InvalidInput(f"the objective {objective!r:.200} is a comparison; give the function to optimize "
                           f"as the objective and put comparisons in constraints")
    return _expression_parts(objective, compiled)


def _expression_parts(objective: str, compiled) -> ObjectiveParts:
    return ObjectiveParts(variables=compiled.variables, fun=compiled.fun, jac=compiled.jac,
                          hess=compiled.hess if compiled.has_symbolic_hessian else None,
                          multimodal=bool(_PERIODIC.search(objective)))


# An objective with a periodic function (Eggholder, Holder table, cross-in-tray...) is taken to
# have many local minima: `auto` searches a finite box globally instead of trusting one descent.
_PERIODIC = re.compile(r"\b(?:sin|cos|tan)\s*\(")


register_kind("benchmark", build_benchmark)
register_kind("expression", build_expression)


def _check_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"a problem name must be a non-empty string; got {name!r:.60}")
    name = name.strip()
    if len(name) > MAX_NAME:
        raise InvalidInput(f"the problem name has {len(name)} characters; at most {MAX_NAME} are accepted")
    if not name.isprintable():
        raise InvalidInput(f"the problem name {name!r} contains control characters; use printable text")
    return name


def _check_sense(sense) -> str:
    key = sense.strip().lower() if isinstance(sense, str) else None
    if key not in SENSES:
        raise InvalidInput(f"sense {sense!r:.60} is not accepted; use \"minimize\" or \"maximize\"")
    return SENSES[key]


def _check_dimension(dimension) -> Optional[int]:
    if dimension is None:
        return None
    value = dimension
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 1 <= value <= MAX_DIMENSION:
        raise InvalidInput(f"dimension must be a whole number from 1 to {MAX_DIMENSION}; got {dimension!r:.60}")
    return int(value)


def _check_description(description) -> str:
    if description is None:
        return ""
    if not isinstance(description, str):
        raise InvalidInput(f"description must be text; got {type(description).__name__}")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"description has {len(description)} characters; at most {MAX_DESCRIPTION}")
    return description.strip()


def _constraint_texts(constraints) -> list[str]:
    """Constraint strings from a string, a list of strings, or SciPy-like dicts {"type", "fun": "text"}."""
    if constraints is None:
        return []
    if isinstance(constraints, (str, dict)):
        constraints = [constraints]
    if not isinstance(constraints, (list, tuple)):
        raise InvalidInput(f"constraints must be a list of strings like 'x + y >= 1'; got "
                           f"{type(constraints).__name__}")
    if len(constraints) > MAX_CONSTRAINTS:
        raise InvalidInput(f"{len(constraints)} constraints given; at most {MAX_CONSTRAINTS} are accepted")
    texts = []
    for item in constraints:
        if isinstance(item, dict):
            kind = str(item.get("type", "ineq")).strip().lower()
            body = next((item[k] for k in ("fun", "expr", "expression", "text") if k in item), None)
            if kind not in ("ineq", "eq") or not isinstance(body, str):
                raise InvalidInput(f"constraint {item!r:.100} is not accepted; use a string like 'x + y >= 1' "
                                   f"or {{'type': 'ineq' or 'eq', 'fun': 'x + y - 1'}}")
            item = f"{body} >= 0" if kind == "ineq" else f"{body} == 0"
        if not isinstance(item, str) or not item.strip():
            raise InvalidInput(f"each constraint must be a non-empty string like 'x + y >= 1'; got {item!r:.60}")
        texts.append(item.strip())
    return texts


def _compile_constraints(texts: list[str], variables: list[str]) -> list[Constraint]:
    out = []
    for text in texts:
        for part in split_constraint(text):
            compiled = compile_expression(part, variables=variables, dimension=len(variables))
            if compiled.kind is None:
                raise InvalidInput(f"constraint {text!r:.200} has no comparison; write it like 'x + y >= 1' "
                                   f"using >=, <=, == (or =)")
            if not compiled.sympy_expr.free_symbols:
                raise InvalidInput(f"constraint {text!r:.200} does not depend on any variable "
                                   f"({', '.join(variables[:12])})")
            out.append(Constraint(part, compiled.kind, compiled.fun, compiled.jac))
    return out


def _with_constraint_variables(objective: str, parts: ObjectiveParts, texts: list[str]) -> ObjectiveParts:
    """The objective's variables plus those only the constraints name ("minimize x subject to
    x >= y, y >= 2" has variables x, y), all in natural order; the objective's derivative in
    the new ones is zero. Indexed variables (x[i]) are left as they are."""
    known, extra = set(parts.variables), []
    for text in texts:
        for part in split_constraint(text):
            try:
                names = compile_expression(part).variables
            except InvalidInput:
                continue  # reported with its own message when the constraints are compiled
            extra += [v for v in names if v not in known and v not in extra]
    if not extra or any("[" in v for v in list(parts.variables) + extra):
        return parts
    from aopt.problems._syntax import natural_key

    # one natural order over all of them (x1 < x2 < x10), as for the objective's own: bounds
    # and x0 given per variable follow it
    variables = sorted(list(parts.variables) + extra, key=natural_key)
    return _expression_parts(objective, compile_expression(objective, variables=variables,
                                                           dimension=len(variables)))


def make_problem(name: str, objective: str, dimension: Optional[int] = None, bounds=None,
                 constraints=None, sense: str = "minimize", description: str = "",
                 *, kind: Optional[str] = None, gradient: Optional[str] = None,
                 code_record: Optional[dict] = None, limits: Optional[dict] = None,
                 properties=None) -> Problem:
    """Build a Problem from a benchmark name or a mathematical expression.

    `objective` is a benchmark name (case, space, '_' and '-' insensitive, with
    aliases such as "camel6") or an expression like "(x-3)^2 + y**2" or
    "sum((x[i]-i)**2 for i in range(5))". Scalar variables are ordered
    naturally (x < y, x1 < x2 < x10); x[i] gives x[0]..x[n-1]. `bounds`: None,
    one [lo, hi] pair, one pair per variable, or {name: [lo, hi]}.
    `constraints`: strings like "x + y >= 1" or "x*y = 2". `kind` forces a
    registered kind (the default detects "benchmark" or "expression").

    A "FILE.py:FUNCTION" objective is the "code" kind (see `_code.py`): the
    function runs in a sandbox worker; `gradient` may name its gradient the same
    way, constraints may be "FILE.py:FUNC >= 0", and `limits` sets the worker's
    `eval_timeout`, `run_timeout` and `memory_mb`.

    `properties` lists what the user knows of the objective: any of PROPERTIES'
    names ("multimodal", "smooth", "noisy", "expensive", "convex").
    """
    name = _check_name(name)
    traits = _check_properties(properties)
    sense = _check_sense(sense)
    description = _check_description(description)
    dimension = _check_dimension(dimension)
    if not isinstance(objective, str) or not objective.strip():
        raise InvalidInput(f"objective must be a benchmark name or an expression; got {objective!r:.60}")
    objective = objective.strip()
    if kind is None:
        if is_code_spec(objective):
            kind = "code"
        else:
            kind = "benchmark" if find_benchmark(objective) is not None else "expression"
    if gradient is not None and kind != "code":
        raise InvalidInput("gradient= is for code objectives (\"FILE.py:FUNCTION\"); benchmarks and "
                           "expressions have exact gradients already")
    texts = _constraint_texts(constraints)
    if kind == "code":
        if dimension is None and isinstance(bounds, (list, tuple)) and bounds and all(
                isinstance(b, (list, tuple)) for b in bounds):
            dimension = len(bounds)
        parts, code_cons, _ = build_code_parts(objective, dimension, gradient=gradient, constraint_texts=texts,
                                               code_record=code_record, limits=limits)
        cons = code_cons + _compile_constraints([t for t in texts if parse_code_constraint(t) is None],
                                                parts.variables)
    else:
        parts = get_kind_builder(kind)(objective, dimension)
        if kind == "expression" and dimension is None:
            parts = _with_constraint_variables(objective, parts, texts)
        cons = _compile_constraints(texts, parts.variables)
    problem_bounds = normalize_bounds(bounds, parts.variables, parts.default_bounds)
    return Problem(name=name, kind=kind, objective=objective, parts=parts, bounds=problem_bounds,
                   constraints=cons, constraint_texts=texts, sense=sense, description=description,
                   properties=traits)


def _check_properties(properties) -> tuple[str, ...]:
    if properties is None:
        return ()
    if isinstance(properties, str):
        properties = [p for p in re.split(r"[,\s]+", properties) if p]
    if not isinstance(properties, (list, tuple, set, frozenset)):
        raise InvalidInput(f"properties must be a list of names from {', '.join(PROPERTIES)}; "
                           f"got {type(properties).__name__}")
    out = []
    for item in properties:
        key = item.strip().lower() if isinstance(item, str) else None
        if key not in PROPERTIES:
            raise InvalidInput(f"unknown property {item!r:.60}; accepted: {', '.join(PROPERTIES)}")
        if key not in out:
            out.append(key)
    if "convex" in out and "multimodal" in out:
        raise InvalidInput("properties 'convex' and 'multimodal' contradict each other; give one of them")
    return tuple(sorted(out))
