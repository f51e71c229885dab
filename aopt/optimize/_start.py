"""Where a run starts: given, warm-started from a parent, drawn from a seed, or the centre."""

from __future__ import annotations

import math

import numpy as np

from aopt.errors import InvalidInput

__all__ = ["starting_point"]


def _validate_x0(problem, x0) -> np.ndarray:
    try:
        x = np.asarray(x0, dtype=float)
    except (TypeError, ValueError):
        raise InvalidInput(f"x0 must be a list of {problem.dimension} numbers, one per variable "
                           f"({', '.join(problem.variables[:6])}{'...' if problem.dimension > 6 else ''}); "
                           f"got {x0!r}") from None
    if x.ndim == 0 and problem.dimension == 1:
        x = x.reshape(1)
    if x.ndim != 1 or x.size != problem.dimension:
        raise InvalidInput(f"x0 must have {problem.dimension} values (one per variable "
                           f"{', '.join(problem.variables[:6])}{'...' if problem.dimension > 6 else ''}); "
                           f"got {np.size(x)}")
    if not np.all(np.isfinite(x)):
        raise InvalidInput(f"x0 must contain finite numbers only; got {x.tolist()!r}")
    for i, (lo, hi) in enumerate(problem.bounds):
        if not lo <= x[i] <= hi:
            raise InvalidInput(f"x0 puts {problem.variables[i]} = {x[i]:g} outside its bounds "
                               f"[{lo:g}, {hi:g}]")
    return x


def starting_point(problem, x0=None, parent_x=None, parent_id=None, seed=None
                   ) -> tuple[np.ndarray, str]:
    """The start and a phrase saying where it came from (recorded with the run)."""
    if x0 is not None:
        return _validate_x0(problem, x0), "given"
    if parent_x is not None:
        x = np.asarray(parent_x, dtype=float)
        if x.size == problem.dimension and np.all(np.isfinite(x)):
            lo = np.array([b[0] for b in problem.bounds])
            hi = np.array([b[1] for b in problem.bounds])
            return np.clip(x, lo, hi), f"warm start from run {parent_id}"
    lo = np.array([b[0] for b in problem.bounds], dtype=float)
    hi = np.array([b[1] for b in problem.bounds], dtype=float)
    if seed is not None:
        rng = np.random.default_rng(seed)
        x = np.empty(problem.dimension)
        for i in range(problem.dimension):
            if math.isfinite(lo[i]) and math.isfinite(hi[i]):
                x[i] = rng.uniform(lo[i], hi[i])
            else:
                x[i] = min(max(rng.normal(), lo[i]), hi[i])
        return x, f"drawn with seed {seed}"
    x = np.zeros(problem.dimension)
    for i in range(problem.dimension):
        if math.isfinite(lo[i]) and math.isfinite(hi[i]):
            x[i] = 0.5 * (lo[i] + hi[i])
        elif math.isfinite(lo[i]):
            x[i] = max(0.0, lo[i] + 1.0)
        elif math.isfinite(hi[i]):
            x[i] = min(0.0, hi[i] - 1.0)
    if _is_known_minimizer(problem, x):
        # many benchmarks have their minimum at the centre of their domain (sphere, rastrigin,
        # ackley...): a run started there finds it at once and compares nothing
        span = np.where(np.isfinite(hi - lo), hi - lo, 4.0)
        signs = np.where(np.arange(problem.dimension) % 2 == 0, 1.0, -1.0)
        x = np.clip(x + 0.25 * span * signs, lo, hi)
        return x, "a quarter of the box off centre (the centre is this benchmark's known minimum)"
    if not (np.isfinite(lo).any() or np.isfinite(hi).any()):
        return x, "the origin (no bounds)"
    return x, "centre of the bounds"


def _is_known_minimizer(problem, x: np.ndarray) -> bool:
    stars = getattr(problem, "x_stars", None) or []
    return any(len(s) == x.size and np.allclose(s, x, rtol=0, atol=1e-9) for s in stars)
