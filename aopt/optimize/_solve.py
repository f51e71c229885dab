"""Run one SciPy method on a problem through a recording objective."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from aopt.optimize._registry import AlgorithmInfo

__all__ = ["EvaluationBudgetReached", "Outcome", "budget_options", "solve_with", "solve_scipy", "batches"]


class EvaluationBudgetReached(Exception):
    """Raised by a recording objective when the run's evaluation budget is spent."""


@dataclass
class Outcome:
    """What one optimizer call ended with (minimization form)."""

    method: str
    x: np.ndarray | None
    fun: float | None
    n_iterations: int
    message: str
    scipy_success: bool | None
    stopped_by_budget: bool = False
    # the best value (minimization form) of each independent start inside this call, for methods
    # that restart (CMA-ES): auto counts how many agree as evidence of a global minimum
    restarts: tuple = ()
    # the lowest value this call saw (auto's phases compare them), when its caller tracked it
    phase_best: float = math.inf
    progressed: bool = True  # False when the call never went below its first value (a plateau)


# A method's own caps on evaluations or iterations are its registry entry's `budget_keys`. When
# the user names a budget (max_evaluations) and none of these, they are raised to it: SciPy's
# defaults (200 * n evaluations for Nelder-Mead, 15,000 for L-BFGS-B) would end the run long
# before the budget. (shgo's `iters` is left alone: each refinement multiplies its triangulation.)
_C_INT_MAX = 2**31 - 1


def budget_options(info: AlgorithmInfo, options: dict, budget: int | None, dimension: int) -> dict:
    """`options` with the method's own limits raised to `budget`, unless the user set any of them."""
    out = dict(options)
    caps = info.budget_keys
    if budget is None or not caps or any(k in out for k in caps):
        return out
    if info.name == "differential_evolution":  # maxiter counts generations of popsize * n points
        generations = budget // (int(out.get("popsize", 15)) * max(1, dimension)) + 1
        out["maxiter"] = min(max(1000, generations), _C_INT_MAX)  # never below SciPy's default
        return out
    # DIRECT allocates its work arrays for maxfun up front (~50 bytes each): 10**9 failed
    limit = 10**6 if info.name == "direct" else _C_INT_MAX
    for key in caps:
        out[key] = min(int(budget), limit)
    return out


def batches(problem, fun) -> bool:
    """Evaluate many points per call: the objective has a batch form and the problem gains from
    it (a code objective's worker); elsewhere the batch form would only loop."""
    return getattr(fun, "batch", None) is not None and bool(getattr(problem, "batches", False))


def _value_and_gradient(batch, problem):
    """f(x) and a forward-difference gradient from one batch of n + 1 points (as SciPy's own
    2-point differences: step sqrt(eps) * max(1, |x_i|), taken backward at an upper bound)."""
    lo, hi = problem.lower, problem.upper
    n = problem.dimension
    rows = np.arange(1, n + 1)

    def value_and_gradient(x):
        x = np.asarray(x, dtype=float)
        h = 1.4901161193847656e-08 * np.where(x >= 0, 1.0, -1.0) * np.maximum(1.0, np.abs(x))
        step = np.where((x + h <= hi) & (x + h >= lo), h, -h)
        points = np.tile(x, (n + 1, 1))
        points[rows, rows - 1] += step
        values = np.asarray(batch(points.T), dtype=float)
        with np.errstate(all="ignore"):
            grad = (values[1:] - values[0]) / step
        return float(values[0]), np.where(np.isfinite(grad), grad, 0.0)

    return value_and_gradient


def _scipy_bounds(problem):
    return [(lo if math.isfinite(lo) else None, hi if math.isfinite(hi) else None)
            for lo, hi in problem.bounds]


def _any_bound(problem) -> bool:
    return any(math.isfinite(lo) or math.isfinite(hi) for lo, hi in problem.bounds)


def _finite_bounds(problem):
    return [(float(lo), float(hi)) for lo, hi in problem.bounds]


def _nonlinear_constraint(problem):
    from scipy.optimize import NonlinearConstraint

    cons = problem.constraints

    def values(x):
        return np.array([c.fun(x) for c in cons], dtype=float)

    def jacobian(x):
        return np.array([np.asarray(c.jac(x), dtype=float) for c in cons])

    lower = np.zeros(len(cons))
    upper = np.array([0.0 if c.kind == "eq" else np.inf for c in cons])
    return NonlinearConstraint(values, lower, upper, jac=jacobian)


def solve_with(info: AlgorithmInfo, problem, fun, x0: np.ndarray, options: dict, seed: int | None,
               *, hard_bounds: bool = True) -> Outcome:
    """Run `info` on `fun` (the recording objective, minimization form) through its backend."""
    return info.solve(problem, fun, x0, options, seed, hard_bounds=hard_bounds)


def solve_scipy(info: AlgorithmInfo, problem, fun, x0: np.ndarray, options: dict, seed: int | None,
                *, hard_bounds: bool = True) -> Outcome:
    """The SciPy backend: call `scipy.optimize`'s `info.name` on `fun`.

    Gradients and Hessians come from the problem, never from finite differences,
    when the problem has them. `EvaluationBudgetReached` raised by `fun` ends the
    call early; KeyboardInterrupt propagates to the caller.
    """
    import scipy.optimize as so

    # No per-iteration callback: every SciPy method reports `nit`, and a callback costs
    # about a microsecond per iteration on cheap objectives.
    callback = None
    counter = [0]
    jac = problem.jac if problem.has_gradient else None
    opts = dict(options)
    name = info.name
    if info.family == "global" and problem.has_finite_bounds:
        box = np.array(_finite_bounds(problem))
        x0 = np.clip(x0, box[:, 0], box[:, 1])
    try:
        if info.family == "local":
            kwargs = {"method": name, "callback": callback, "options": opts}
            if info.uses_gradient and jac is not None:
                kwargs["jac"] = jac
            elif info.uses_gradient and not problem.constraints and batches(problem, fun) \
                    and "eps" not in opts and not info.needs_hessian:
                # a code objective: the value and its forward differences in one round trip
                fun, kwargs["jac"] = _value_and_gradient(fun.batch, problem), True
            if info.needs_hessian:
                kwargs["hess"] = problem.hess
            if info.handles_bounds and _any_bound(problem):
                kwargs["bounds"] = _scipy_bounds(problem)
                lo = np.array([b[0] for b in problem.bounds])
                hi = np.array([b[1] for b in problem.bounds])
                x0 = np.clip(x0, lo, hi)
            if problem.constraints:
                kwargs["constraints"] = problem.scipy_constraints()
            res = so.minimize(fun, x0, **kwargs)
        elif name == "differential_evolution":
            extra = {"constraints": _nonlinear_constraint(problem)} if problem.constraints else {}
            if batches(problem, fun) and not problem.constraints and "updating" not in opts:
                # one round trip per generation to a code objective's worker
                fun, extra = fun.batch, {"vectorized": True, "updating": "deferred"}
            res = so.differential_evolution(fun, _finite_bounds(problem), rng=seed, x0=x0,
                                            callback=callback, **extra, **opts)
        elif name == "dual_annealing":
            # the local search gets the box too: without it SciPy's L-BFGS-B wanders outside
            # (SciPy then drops the result, but the evaluations were made)
            minimizer = {"method": "L-BFGS-B", "bounds": _finite_bounds(problem)}
            if jac is not None:
                minimizer["jac"] = jac
            res = so.dual_annealing(fun, _finite_bounds(problem), rng=seed, x0=x0,
                                    minimizer_kwargs=minimizer, callback=callback, **opts)
        elif name == "shgo":
            minimizer = {"method": "SLSQP"}
            if jac is not None:
                minimizer["jac"] = jac
            extra = {"constraints": problem.scipy_constraints()} if problem.constraints else {}
            res = so.shgo(fun, _finite_bounds(problem), minimizer_kwargs=minimizer,
                          callback=callback, **extra, **opts)
        elif name == "direct":
            res = so.direct(fun, _finite_bounds(problem), callback=callback, **opts)
        elif name == "basinhopping":
            local = opts.pop("local_method", "SLSQP" if problem.constraints else "L-BFGS-B")
            minimizer = {"method": local}
            if jac is not None:
                minimizer["jac"] = jac
            if _any_bound(problem):
                minimizer["bounds"] = _scipy_bounds(problem)
            if problem.constraints:
                minimizer["constraints"] = problem.scipy_constraints()
            res = so.basinhopping(fun, x0, minimizer_kwargs=minimizer, rng=seed,
                                  callback=callback, **opts)
        else:  # pragma: no cover - the registry and this dispatch are kept in step
            raise AssertionError(f"no dispatch for {name}")
    except EvaluationBudgetReached:
        return Outcome(name, None, None, counter[0], "stopped: evaluation budget reached", None, True)
    message = res.message
    if isinstance(message, (list, tuple)):
        message = "; ".join(str(m) for m in message)
    nit = getattr(res, "nit", None)
    n_iter = int(nit) if isinstance(nit, (int, np.integer)) else counter[0]
    x = np.asarray(res.x, dtype=float) if getattr(res, "x", None) is not None else None
    f = float(res.fun) if getattr(res, "fun", None) is not None and np.ndim(res.fun) == 0 else None
    return Outcome(name, x, f, n_iter, str(message), bool(getattr(res, "success", False)))
