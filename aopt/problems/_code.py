"""The "code" kind: an objective defined by a function in a user's Python file.

    make_problem("fit", "model.py:cost", dimension=4, gradient="model.py:grad",
                 constraints=["model.py:g >= 0", "x1 + x2 <= 3"])

The file is never imported in paola's process: a `CodeRuntime` starts a sandbox
worker (`aopt.sandbox.Worker`) on the first evaluation, keeps it for the whole run
and is closed by the run manager. Variables are x1..xn, n = `dimension` (or the
number of bounds pairs). A code constraint `FILE.py:FUNC` returns one number and is
read as `FUNC(x) >= 0` unless written with `<=`, `>=` or `==` and a number. The
problem's record keeps the path, function name, sha256 and a copy of each file, so a
later `/show` says exactly what was optimized and warns when the file has changed.
"""

from __future__ import annotations

import re
from typing import Optional

import numpy as np

from aopt.errors import InvalidInput

__all__ = ["CodeRuntime", "is_code_spec", "parse_code_constraint", "build_code_parts",
           "code_variables", "CODE_LIMITS"]

_SPEC = re.compile(r"^\s*(?P<path>[^<>=!]+?\.py)\s*:\s*(?P<func>[A-Za-z_]\w*)\s*$")
_CONSTRAINT = re.compile(r"^\s*(?P<spec>[^<>=!]+?\.py\s*:\s*[A-Za-z_]\w*)\s*"
                         r"(?:(?P<op><=|>=|==|=)\s*(?P<rhs>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?))?\s*$")

# Defaults for code problems (seconds, MiB); a Context's settings may override them.
CODE_LIMITS = {"eval_timeout": 60.0, "run_timeout": None, "memory_mb": 4096}


def is_code_spec(text) -> bool:
    """True for "path/to/file.py:function"."""
    return isinstance(text, str) and _SPEC.match(text) is not None


def parse_code_constraint(text: str) -> Optional[tuple[str, str, float]]:
    """("file.py:func", "ineq"/"eq", sign-and-offset form) or None when `text` is not a code constraint.

    Returns (spec, op, rhs) with op one of ">=", "<=", "==".
    """
    m = _CONSTRAINT.match(text) if isinstance(text, str) else None
    if m is None:
        return None
    op = m.group("op") or ">="
    return m.group("spec").replace(" ", ""), ("==" if op == "=" else op), float(m.group("rhs") or 0.0)


def code_variables(dimension: int) -> list[str]:
    return [f"x{i + 1}" for i in range(dimension)]


class CodeRuntime:
    """The sandbox worker behind one code problem: started on first use, closed after a run."""

    def __init__(self, objective, gradient=None, constraints=(), limits: Optional[dict] = None):
        self.objective = objective  # CodeSpec
        self.gradient = gradient
        self.constraints = list(constraints)
        self.limits = dict(CODE_LIMITS, **(limits or {}))
        self._worker = None
        self._output = ""

    def worker(self):
        from aopt.sandbox import Limits, Worker

        w = self._worker
        if w is None or not w.alive:
            if w is not None:
                self._output += w.output()
                w.close()
            self._worker = w = Worker(self.objective, gradient=self.gradient, constraints=self.constraints,
                                      limits=Limits(**self.limits))
        return w

    def fun(self, x) -> float:
        return self.worker().evaluate(x)

    def fun_batch(self, X) -> np.ndarray:
        """Values at the rows of X, in one round trip to the worker."""
        return self.worker().evaluate_batch(X)

    def jac(self, x) -> np.ndarray:
        return self.worker().gradient(x)

    def constraint_value(self, x, i: int) -> float:
        values = self.worker().constraint(x, i)
        if np.size(values) != 1:
            raise InvalidInput(f"constraint function {self.constraints[i].function} returned "
                               f"{np.size(values)} values; a code constraint must return one number")
        return float(np.reshape(values, -1)[0])

    def output(self) -> str:
        """What the user's code printed so far (stdout and stderr, the last 64 KiB)."""
        current = self._worker.output() if self._worker is not None else ""
        return self._output + current

    def close(self) -> None:
        if self._worker is not None:
            self._output += self._worker.output()
            self._worker.close()
            self._worker = None


def _check_limits(limits) -> dict:
    if limits is None:
        return {}
    if not isinstance(limits, dict) or set(limits) - set(CODE_LIMITS):
        raise InvalidInput(f"limits must be a mapping with keys among {', '.join(CODE_LIMITS)} "
                           f"(seconds, seconds, MiB; None switches one off); got {limits!r:.100}")
    from aopt.sandbox import Limits

    Limits(**limits)  # validates the values, with a message naming the bad one
    return dict(limits)


def build_code_parts(objective: str, dimension: Optional[int], *, gradient=None, constraint_texts=(),
                     code_record: Optional[dict] = None, limits: Optional[dict] = None):
    """ObjectiveParts + code Constraints for a code objective.

    `code_record` (from a stored problem) rebuilds the exact specs that were stored,
    hashes included, instead of reading the files again.
    """
    from aopt.problems._kinds import ObjectiveParts
    from aopt.problems._problem import Constraint, finite_difference_gradient
    from aopt.sandbox import CodeSpec, load_code_spec

    if dimension is None:
        raise InvalidInput(f"the code objective {objective!r} needs dimension= (the length of the vector x "
                           f"its function takes), or one bounds pair per variable")
    if code_record:
        limits = code_record.get("limits") or limits
        spec = CodeSpec.from_record(code_record["objective"])
        grad = CodeSpec.from_record(code_record["gradient"]) if code_record.get("gradient") else None
        cons_specs = [CodeSpec.from_record(c["spec"]) for c in code_record.get("constraints", [])]
        cons_forms = [(c["op"], c["rhs"], c["text"]) for c in code_record.get("constraints", [])]
    else:
        spec = load_code_spec(objective)
        grad = load_code_spec(gradient) if gradient else None
        cons_specs, cons_forms = [], []
        for text in constraint_texts:
            parsed = parse_code_constraint(text)
            if parsed is None:
                continue
            cons_specs.append(load_code_spec(parsed[0]))
            cons_forms.append((parsed[1], parsed[2], text))
    runtime = CodeRuntime(spec, grad, cons_specs, _check_limits(limits))
    constraints = []
    for i, (op, rhs, text) in enumerate(cons_forms):
        if op == ">=":
            def g(x, i=i, rhs=rhs):
                return runtime.constraint_value(x, i) - rhs
        else:  # "<=" and "==" keep rhs - value >= 0 / value - rhs == 0
            def g(x, i=i, rhs=rhs, op=op):
                v = runtime.constraint_value(x, i)
                return rhs - v if op == "<=" else v - rhs
        constraints.append(Constraint(text, "eq" if op == "==" else "ineq", g, finite_difference_gradient(g)))
    record = {
        "objective": spec.to_record(),
        "gradient": grad.to_record() if grad else None,
        "constraints": [{"spec": s.to_record(), "op": op, "rhs": rhs, "text": text}
                        for s, (op, rhs, text) in zip(cons_specs, cons_forms)],
        "limits": runtime.limits,
    }
    parts = ObjectiveParts(variables=code_variables(dimension), fun=runtime.fun,
                           jac=runtime.jac if grad else None, canonical_objective=objective,
                           extra={"code": record, "runtime": runtime})
    return parts, constraints, runtime
