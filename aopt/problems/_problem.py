"""Problem and Constraint: the plain objects every other layer optimizes, records and shows."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from aopt.problems._bounds import encode_bounds
from aopt.problems._formulas import as_vector
from aopt.problems._kinds import ObjectiveParts

__all__ = ["Problem", "Constraint", "finite_difference_gradient", "finite_difference_hessian"]

_ELIDE = 12


@dataclass(frozen=True)
class Constraint:
    """One normalized constraint: fun(x) >= 0 for kind "ineq", fun(x) == 0 for kind "eq"."""

    text: str
    kind: str
    fun: Callable = field(compare=False, repr=False)
    jac: Callable = field(compare=False, repr=False)

    def violation(self, x) -> float:
        g = self.fun(x)
        if g != g:  # NaN: cannot be evaluated here, as bad as it gets
            return math.inf
        return max(0.0, -g) if self.kind == "ineq" else abs(g)


_FD_STEP = 6.0554544523933395e-06  # eps ** (1/3): the usual step of a central difference


def finite_difference_gradient(fun: Callable, lower=None, upper=None) -> Callable:
    """A gradient from finite differences of a scalar function (2n calls of `fun` a point).

    Central differences; with `lower`/`upper` (arrays, may hold infinities) every probe stays
    inside the bounds: next to a bound the difference is one-sided (forward at a lower bound,
    backward at an upper one), and a side narrower than the step shrinks the step to fit.
    """

    def grad(x):
        x = np.array(x, dtype=float)
        h = _FD_STEP * np.maximum(1.0, np.abs(x))
        up = np.full(x.size, np.inf) if upper is None else np.asarray(upper, dtype=float) - x
        down = np.full(x.size, np.inf) if lower is None else x - np.asarray(lower, dtype=float)
        out = np.empty(x.size)
        for i in range(x.size):
            a = min(h[i], max(up[i], 0.0))  # step forward
            b = min(h[i], max(down[i], 0.0))  # step backward
            if a < h[i] and b < h[i]:  # a box narrower than two steps: the widest difference it allows
                pass
            elif a < h[i]:
                a = 0.0  # at an upper bound: backward difference
            elif b < h[i]:
                b = 0.0  # at a lower bound: forward difference
            if a + b == 0.0:
                out[i] = 0.0  # a fixed variable (lower == upper): nothing to differentiate
                continue
            xp = x.copy()
            xm = x.copy()
            xp[i] += a
            xm[i] -= b
            out[i] = (fun(xp) - fun(xm)) / (a + b)
        return out

    return grad


def finite_difference_hessian(jac: Callable) -> Callable:
    """A Hessian from central differences of an exact gradient (symmetrized)."""

    def hess(x):
        x = np.array(x, dtype=float)
        n = x.size
        h = _FD_STEP * np.maximum(1.0, np.abs(x))
        out = np.empty((n, n))
        for i in range(n):
            xp = x.copy()
            xm = x.copy()
            xp[i] += h[i]
            xm[i] -= h[i]
            out[i] = (np.asarray(jac(xp), dtype=float) - np.asarray(jac(xm), dtype=float)) / (2.0 * h[i])
        return 0.5 * (out + out.T)

    return hess


def _negate(f: Callable) -> Callable:
    return lambda x: -f(x)


def _plain(v):
    """Plain Python floats/lists (no numpy scalars) for JSON."""
    if v is None:
        return None
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_plain(u) for u in v]
    return float(v)


def _elide(items: list) -> list:
    return items if len(items) <= _ELIDE else items[:6] + ["..."] + items[-3:]


class Problem:
    """An optimization problem: variables, bounds, constraints and an objective in minimization form.

    Build one with `make_problem`. `fun`, `jac` and `hess` are in
    minimization form (negated when `sense == "maximize"`); `to_user` maps a
    value back. `f_star`/`x_star` are the known optimum (benchmarks), in the
    user's sense. The callables come from a per-kind builder (see `_kinds.py`),
    so Problem knows nothing of how an objective is computed.
    """

    def __init__(self, *, name: str, kind: str, objective: str, parts: ObjectiveParts,
                 bounds: list[tuple[float, float]], constraints: list[Constraint],
                 constraint_texts: list[str], sense: str = "minimize", description: str = "",
                 properties: tuple[str, ...] = ()):
        self.name = name
        self.kind = kind
        self.objective = objective
        self.description = description
        self.variables = list(parts.variables)
        self.dimension = len(self.variables)
        self.bounds = [(float(lo), float(hi)) for lo, hi in bounds]
        self.lower = np.array([b[0] for b in self.bounds], dtype=float)
        self.upper = np.array([b[1] for b in self.bounds], dtype=float)
        self.constraints = list(constraints)
        self.constraint_texts = list(constraint_texts)
        self.sense = sense
        self.f_star = None if parts.f_star is None else float(parts.f_star)
        self.x_star = _plain(parts.x_star)
        self.x_stars = _plain(parts.x_stars) if parts.x_stars else ([self.x_star] if self.x_star else None)
        self.properties = tuple(properties)  # what the user said of the objective (make_problem)
        self.multimodal = bool(parts.multimodal) or "multimodal" in self.properties
        self.benchmark = parts.canonical_objective if kind == "benchmark" else None
        self.extra = dict(parts.extra)
        self.user_fun = parts.fun  # the objective in the user's sense
        sign = -1.0 if sense == "maximize" else 1.0
        self._sign = sign
        if sign > 0:
            self.fun = parts.fun
            self.jac = parts.jac
        else:
            self.fun = _negate(parts.fun)
            self.jac = None if parts.jac is None else _negate(parts.jac)
        if parts.hess is not None:
            self.hess = parts.hess if sign > 0 else _negate(parts.hess)
        else:
            self.hess = None if self.jac is None else finite_difference_hessian(self.jac)
        self.has_gradient = self.jac is not None
        self.hess_is_exact = parts.hess is not None
        if self.f_star is not None and not self._known_optimum_applies():
            # a benchmark maximized, or bounded/constrained away from its minimizers: its f* and
            # x* are not this problem's optimum, and must not decide `converged`
            self.f_star = self.x_star = self.x_stars = None

    def _known_optimum_applies(self) -> bool:
        if self.sense != "minimize":
            return False
        domain = self.extra.get("f_star_domain")
        if domain and any(lo < d_lo or hi > d_hi for (lo, hi), (d_lo, d_hi) in zip(self.bounds, domain)):
            return False  # bounds reach past the domain where f* is the minimum (Schwefel's)
        if not self.x_stars:
            return not self.constraints
        return any(len(x) == self.dimension and self.constraint_violation(x) <= 1e-9 for x in self.x_stars)

    # ------------------------------------------------------------ properties
    @property
    def has_finite_bounds(self) -> bool:
        return bool(np.all(np.isfinite(self.lower)) and np.all(np.isfinite(self.upper)))

    @property
    def has_bounds(self) -> bool:
        """Any finite bound at all."""
        return bool(np.any(np.isfinite(self.lower)) or np.any(np.isfinite(self.upper)))

    @property
    def has_constraints(self) -> bool:
        return bool(self.constraints)

    # ------------------------------------------------------------ evaluation
    def to_user(self, f_min) -> float:
        """A minimization-form value (what fun returns) in the user's sense."""
        return self._sign * float(f_min)

    def constraint_violation(self, x, bounds: bool = True) -> float:
        """Largest violation over constraints and (unless `bounds` is False: a benchmark's default
        domain, which is only a search region) bounds; 0.0 when x is feasible."""
        x = as_vector(x)
        if np.isnan(x).any():
            return math.inf
        worst = 0.0
        if bounds and self.dimension and (np.isfinite(self.lower).any() or np.isfinite(self.upper).any()):
            worst = float(max(0.0, np.max(np.fmax(self.lower - x, x - self.upper))))
        for c in self.constraints:
            v = c.violation(x)
            if v > worst:
                worst = float(v)
        return worst

    def is_feasible(self, x, tol: float = 1e-6) -> bool:
        return self.constraint_violation(x) <= tol

    def scipy_constraints(self) -> list[dict]:
        """Constraints as SciPy dicts {"type", "fun", "jac"} (ineq means fun >= 0)."""
        return [{"type": c.kind, "fun": c.fun, "jac": c.jac} for c in self.constraints]

    def scipy_bounds(self) -> list[tuple[Optional[float], Optional[float]]]:
        return [tuple(p) for p in encode_bounds(self.bounds)]

    def center(self) -> list[float]:
        """The centre of the bounds (0 on unbounded sides; a bound itself when the other is infinite)."""
        out = []
        for lo, hi in self.bounds:
            if math.isfinite(lo) and math.isfinite(hi):
                out.append(0.5 * (lo + hi))
            elif math.isfinite(lo):
                out.append(max(lo, 0.0))
            elif math.isfinite(hi):
                out.append(min(hi, 0.0))
            else:
                out.append(0.0)
        return out

    # ------------------------------------------------------------ records
    def to_record(self) -> dict:
        """Everything needed to rebuild this problem, JSON-ready (infinite bounds are None)."""
        record = {
            "name": self.name,
            "kind": self.kind,
            "objective": self.objective,
            "dimension": self.dimension,
            "variables": list(self.variables),
            "bounds": encode_bounds(self.bounds),
            "constraints": list(self.constraint_texts),
            "sense": self.sense,
            "description": self.description,
            "f_star": self.f_star,
            "x_star": self.x_star,
            "multimodal": self.multimodal,
        }
        if self.properties:
            record["properties"] = list(self.properties)
        if "code" in self.extra:  # paths, function names, hashes and copies of the user's files
            record["code"] = self.extra["code"]
        return record

    def fun_batch(self, X):
        """Minimization-form values at the rows of X in one call, when the kind can batch (code); else None."""
        runtime = self.runtime
        if runtime is None:
            return None
        values = runtime.fun_batch(X)
        return values if self._sign > 0 else -values

    @property
    def batches(self) -> bool:
        """True when evaluating many points at once is cheaper than one by one (a code objective)."""
        return self.runtime is not None

    @property
    def runtime(self):
        """The sandbox runtime of a code problem (None for other kinds)."""
        return self.extra.get("runtime")

    def close(self) -> None:
        """Release what evaluating this problem holds (a code problem's worker process)."""
        if self.runtime is not None:
            self.runtime.close()

    @classmethod
    def from_record(cls, record: dict) -> "Problem":
        """Rebuild a problem from `to_record()` output (extra keys are ignored)."""
        from aopt.problems._make import make_problem

        return make_problem(name=record["name"], objective=record["objective"],
                            dimension=record.get("dimension"), bounds=record.get("bounds"),
                            constraints=record.get("constraints") or None,
                            sense=record.get("sense") or "minimize",
                            description=record.get("description") or "", kind=record.get("kind"),
                            code_record=record.get("code"), properties=record.get("properties"))

    def summary(self) -> dict:
        """A compact JSON-ready description for a language model or a table."""
        enc = encode_bounds(self.bounds)
        if len({tuple(b) for b in enc}) == 1:
            bounds = enc[0] if enc else None
            if bounds == [None, None]:
                bounds = "unbounded"
        elif self.dimension <= _ELIDE:
            bounds = dict(zip(self.variables, enc))
        else:
            bounds = _elide(enc)
        out = {
            "name": self.name,
            "kind": self.kind,
            "objective": self.objective,
            "variables": _elide(list(self.variables)),
            "dimension": self.dimension,
            "bounds": bounds,
            "constraints": list(self.constraint_texts),
            "sense": self.sense,
        }
        if self.benchmark:
            out["benchmark"] = self.benchmark
        if self.f_star is not None:
            out["known_optimum"] = {"f": self.f_star, "x": _elide(list(self.x_star)) if self.x_star else None}
            if self.x_stars and len(self.x_stars) > 1:
                out["known_optimum"]["n_global_minima"] = len(self.x_stars)
        else:
            out["known_optimum"] = None
        out["multimodal"] = self.multimodal
        if self.properties:
            out["properties"] = list(self.properties)
        if self.description:
            out["description"] = self.description
        return out

    # ------------------------------------------------------------ python protocol
    def __eq__(self, other) -> bool:
        if not isinstance(other, Problem):
            return NotImplemented
        return self.to_record() == other.to_record()

    def __hash__(self) -> int:
        return hash((self.name, self.kind, self.objective, self.dimension))

    def __repr__(self) -> str:
        extra = f", constraints={len(self.constraints)}" if self.constraints else ""
        return (f"Problem(name={self.name!r}, kind={self.kind!r}, objective={self.objective!r:.60}, "
                f"dimension={self.dimension}, sense={self.sense!r}{extra})")
