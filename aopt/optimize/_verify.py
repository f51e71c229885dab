"""Decide whether a run converged, from the mathematics rather than SciPy's `success` flag.

The rule (documented in the README):
- the point must be feasible: constraint and bound violation <= 1e-6 (scaled by 1 + |value|);
- it must be stationary: the KKT residual, i.e. the norm (inf) of the objective gradient
  minus the best non-negative combination of active constraint and bound gradients,
  is <= 1e-4 * max(1, |f|); a derivative-free problem's gradient is estimated by
  central differences (these check evaluations are recorded with the run);
- for a problem with a known optimum f* (the benchmarks), the gap |f - f*| must be
  <= 1e-4 * max(1, |f*|), or f must be below f*. A stationary point with a larger gap is
  reported as a local minimum, not as converged;
- an optimizer that stopped on its own start point is converged only if the curvature
  there shows a minimum (the Hessian is positive definite), so a saddle start is caught;
- a point where the Lagrangian curves downward along a direction the active constraints
  allow is a saddle, not converged (checked up to 200 variables);
- an objective that reached -inf, or a best point more than 1e15 * (1 + |x0|) from the origin,
  has no finite minimum the run could converge to: reported as unbounded, not converged.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["verify", "unbounded_reason", "check_reserve", "FEASIBILITY_TOL", "STATIONARITY_TOL", "GAP_TOL"]

FEASIBILITY_TOL = 1e-6
STATIONARITY_TOL = 1e-4
GAP_TOL = 1e-4
RUNAWAY = 1e15  # a best point this far out (relative to the start) means the objective has no finite minimum
_ACTIVE_TOL = 1e-6


def check_reserve(dimension: int) -> int:
    """Evaluations the check may need after an optimizer (finite differences, probes around a
    plateau, a slope test): a plan that spends a budget keeps this many for it."""
    return 4 * dimension + 24 + 6 * (dimension + min(dimension, 8))  # + the probes around a plateau


def _probe(problem, x: np.ndarray, point: np.ndarray, f, tol: float = FEASIBILITY_TOL) -> float | None:
    """f at `point` moved into the bounds (a recorded evaluation when f is the run's objective), or
    None when that is x itself or violates the constraints by more than `tol`."""
    p = np.clip(point, problem.lower, problem.upper)
    if np.array_equal(p, x) or problem.constraint_violation(p) > tol:
        return None
    return float(f(p))


def _unbounded(problem, x: np.ndarray, f_min, start) -> str:
    """Why the run has no finite minimum to converge to, or "" when nothing says so."""
    if f_min is None or math.isnan(f_min) or np.isnan(x).any():
        return ""
    way = "below" if problem.sense == "minimize" else "above"
    advice = "add bounds or constraints, or check the objective's sign"
    def shown():
        return np.array2string(x, precision=4, threshold=6)

    if not np.all(np.isfinite(x)):
        return (f"no finite minimum: the optimizer ran off to x = {shown()}; the objective looks unbounded "
                f"{way} or only levels off at infinity; {advice}")
    if f_min == -math.inf:
        if problem.constraint_violation(x) > FEASIBILITY_TOL:
            return ""
        best = "-inf" if problem.sense == "minimize" else "+inf"
        return f"the objective reached {best} at x = {shown()}: it is unbounded {way}; {advice}"
    reference = 1.0 + (float(np.max(np.abs(start))) if start is not None and np.size(start) else 0.0)
    # only sides without a finite bound count: a box that reaches 1e17 may hold its minimum there
    open_side = np.where(x > 0, ~np.isfinite(problem.upper), ~np.isfinite(problem.lower))
    far = float(np.max(np.abs(x[open_side]))) if open_side.any() else 0.0
    if far > RUNAWAY * reference:
        f_user = problem.to_user(f_min)
        return (f"no finite minimum: the optimizer ran off to |x| = {far:.3g} (f = {f_user:.6g}); the "
                f"objective looks unbounded {way} or only levels off at infinity; {advice}")
    return ""


def unbounded_reason(problem, x, f_min, start=None) -> str:
    """Why a run's best point shows the objective has no finite minimum, or "" (no evaluations)."""
    return _unbounded(problem, np.asarray(x, dtype=float), f_min, start)


def _gradient(problem, x: np.ndarray, fun, hard_bounds: bool = True) -> np.ndarray:
    if problem.has_gradient:
        return np.asarray(problem.jac(x), dtype=float)
    from aopt.problems import finite_difference_gradient

    box = (problem.lower, problem.upper) if hard_bounds else (None, None)
    return finite_difference_gradient(fun or problem.fun, *box)(x)


def _active_set(problem, x: np.ndarray):
    """Gradients of the active constraints and bounds (as rows of g(x) >= 0 / h(x) = 0), with
    their multipliers' lower limits (0 for inequalities, -inf for equalities) and the
    constraints they came from (None for a bound)."""
    rows, lower, sources = [], [], []
    for c in problem.constraints:
        value = float(c.fun(x))
        if c.kind == "eq" or value <= _ACTIVE_TOL * (1 + abs(value)):
            rows.append(np.asarray(c.jac(x), dtype=float))
            lower.append(-np.inf if c.kind == "eq" else 0.0)
            sources.append(c)
    n = x.size
    for i, (lo, hi) in enumerate(problem.bounds):
        scale = _ACTIVE_TOL * (1 + abs(x[i]))
        for active, sign in ((math.isfinite(lo) and x[i] - lo <= scale, 1.0),
                             (math.isfinite(hi) and hi - x[i] <= scale, -1.0)):
            if active:
                e = np.zeros(n)
                e[i] = sign  # x_i - lo >= 0, or hi - x_i >= 0
                rows.append(e)
                lower.append(0.0)
                sources.append(None)
    return rows, lower, sources


def _kkt(problem, x: np.ndarray, grad: np.ndarray):
    """(residual, active rows, multipliers, sources): the inf-norm of grad - sum(lambda_i grad c_i)
    over active constraints, with lambda >= 0 for inequalities."""
    rows, lower, sources = _active_set(problem, x)
    if not rows:
        return (float(np.max(np.abs(grad))) if grad.size else 0.0), None, None, []
    from scipy.optimize import lsq_linear

    A = np.array(rows).T  # n x m: grad = A @ lambda
    fit = lsq_linear(A, grad, bounds=(np.array(lower), np.full(len(rows), np.inf)),
                     method="bvls" if len(rows) <= 500 else "trf")
    return float(np.max(np.abs(grad - A @ fit.x))), A, fit.x, sources


def _reduced_curvature(problem, x: np.ndarray, A, lam, sources):
    """The Lagrangian's curvature on the directions the active constraints allow at first order:
    (eigenvalues, eigenvectors, Z, weak) with Z a basis of those directions (null space of the
    equalities and the active constraints with a positive multiplier) and `weak` the gradients of
    active constraints with a zero multiplier (along which a direction may only move inward).
    None when there is no Hessian or it is not finite."""
    if problem.hess is None or x.size > 200:
        return None
    from aopt.problems import finite_difference_hessian

    with np.errstate(all="ignore"):
        H = np.asarray(problem.hess(x), dtype=float)
        if H.shape != (x.size, x.size) or not np.all(np.isfinite(H)):
            return None
        H = 0.5 * (H + H.T)
        strong, weak = [], []
        if A is not None:
            scale = 1e-7 * max(1.0, float(np.max(np.abs(A @ lam))) if lam.size else 1.0)
            for j, c in enumerate(sources):
                positive = lam[j] > scale or (c is not None and c.kind == "eq")
                (strong if positive else weak).append(A[:, j])
                if positive and c is not None and lam[j] != 0:
                    H = H - lam[j] * finite_difference_hessian(c.jac)(x)
        if not np.all(np.isfinite(H)):
            return None
        Z = np.eye(x.size)
        if strong:
            from scipy.linalg import null_space

            Z = null_space(np.array(strong))
        if Z.shape[1] == 0:
            return np.empty(0), np.empty((0, 0)), Z, weak
        values, vectors = np.linalg.eigh(Z.T @ H @ Z)
    return values, vectors, Z, weak


def _saddle_direction(problem, x: np.ndarray, A, lam, sources) -> bool:
    """True when the Lagrangian curves downward along a direction the constraints allow.

    Directions must keep every active constraint with a positive multiplier (and every
    equality) at first order; along active constraints with a zero multiplier they may
    only move inward. Only a direction proven feasible counts, so a true minimum is
    never reported as a saddle.
    """
    curvature = _reduced_curvature(problem, x, A, lam, sources)
    if curvature is None or not curvature[0].size:
        return False
    values, vectors, Z, weak = curvature
    if values[0] >= -1e-6 * max(1.0, float(np.max(np.abs(values)))):
        return False
    d = Z @ vectors[:, 0]
    for direction in (d, -d):
        if all(float(w @ direction) >= -1e-9 for w in weak):
            return True
    return False


def _stalled_at_flat_start(problem, x: np.ndarray, start, f_min: float, A, lam, sources, fun) -> bool:
    """True when the point is the start itself and nothing there shows a minimum.

    An optimizer started exactly on a stationary point that is not a minimum (the origin of
    -x*y*z, or of x**3) stops at once; first-order checks pass there. The Lagrangian's curvature
    on the directions the constraints allow settles most cases (positive: a minimum; negative
    with nothing active: not); where it is flat, or unknown (no Hessian), the objective is probed
    along the flat directions and mixtures of them (recorded evaluations, feasible points only):
    a lower value nearby is a stall, none is a minimum of higher order (x**4 at 0).
    """
    if start is None or x.size > 200:
        return False
    start = np.asarray(start, dtype=float)
    if start.shape != x.shape or not np.allclose(x, start, rtol=0, atol=1e-12):
        return False
    curvature = _reduced_curvature(problem, x, A, lam, sources)
    if curvature is not None:
        values, vectors, Z, _ = curvature
        if not values.size:
            return False  # a vertex: the active constraints leave no direction to move along
        scale = max(1.0, float(np.max(np.abs(values))))
        if values.min() > 1e-8 * scale:
            return False
        if values.min() < -1e-8 * scale and A is None:
            return True
        flat = Z @ vectors[:, values <= 1e-8 * scale]
    elif A is not None and x.size <= 20:
        flat = np.eye(x.size)  # no Hessian: probe every direction, feasible points only
    else:
        return False
    if flat.shape[1] > 20:
        return True  # too many flat directions to probe: no minimum shown
    rng = np.random.default_rng(0)
    directions = np.hstack([flat, flat @ rng.standard_normal((flat.shape[1], flat.shape[1] + 4))])
    directions = directions / np.linalg.norm(directions, axis=0)
    return _lower_nearby(problem, x, f_min, directions, fun or problem.fun)


def _keeps_decreasing(problem, x: np.ndarray, f_min: float, grad: np.ndarray, fun) -> bool:
    """Does the objective keep falling, step after step, far down its slope? (1, 10, 100 and 1000
    times 1 + |x| along -grad; probes are recorded). Tells a slope that only looks flat next to a
    huge |f| (x - y at |x| = 1e13) from a minimum. A box bounded on every side cannot be."""
    if problem.has_finite_bounds or not np.any(grad):
        return False
    d = -grad / np.linalg.norm(grad)
    tol = STATIONARITY_TOL * max(1.0, abs(f_min))
    last, scale = f_min, 1.0 + float(np.max(np.abs(x)))
    f = fun or problem.fun
    with np.errstate(all="ignore"):
        for t in (1.0, 10.0, 100.0, 1000.0):
            value = _probe(problem, x, x + t * scale * d, f)
            if value is None or not value < last - tol:
                return False
            last = value
    return True


def _still_falls(problem, x: np.ndarray, f_min: float, slope: np.ndarray, fun) -> bool:
    """Does f drop by more than 1e-4 |f| a short way down `slope` (1e-3 and 1e-2 times 1 + |x|)?

    The stationarity test is absolute, so a tiny objective (1e-7 * ((x-1)**2 + ...)) passes it
    at its start; a true minimum does not lose a relative 1e-4 of its value so close by, where
    such a slope does. Two recorded evaluations, feasible points only."""
    norm = float(np.linalg.norm(slope))
    if not norm or not np.all(np.isfinite(slope)):
        return False
    d = -slope / norm
    f = fun or problem.fun
    drop = 1e-4 * abs(f_min) + 1e-14 * (1.0 + abs(f_min))
    with np.errstate(all="ignore"):
        for t in (1e-3, 1e-2):
            value = _probe(problem, x, x + t * (1.0 + float(np.max(np.abs(x)))) * d, f)
            if value is not None and value < f_min - drop:
                return True
    return False


def _descent_along(problem, x: np.ndarray, f_min: float, slope: np.ndarray, fun, tol: float):
    """The largest decrease of f along -slope (steps of 1e-1 down to 1e-12 times 1 + |x|, kept in
    the bounds), or None when some step lowers f by more than `tol`. Recorded evaluations."""
    norm = float(np.linalg.norm(slope))
    if not norm or not np.all(np.isfinite(slope)):
        return 0.0
    d = -slope / norm
    f = fun or problem.fun
    size = 1.0 + float(np.max(np.abs(x)))
    best = 0.0
    with np.errstate(all="ignore"):
        for k in range(1, 13):
            # only feasible points count (the slope is the KKT residual's direction)
            value = _probe(problem, x, x + 10.0 ** -k * size * d, f, FEASIBILITY_TOL * (1 + abs(f_min)))
            if value is None:
                continue
            drop = f_min - value
            if drop > tol:
                return None
            best = max(best, drop)
    return best


def _lower_nearby(problem, x: np.ndarray, f_min: float, directions: np.ndarray, f) -> bool:
    """Is there a feasible point at a small distance along ±`directions` (columns) with a lower value?"""
    tol = 1e-12 * (1.0 + abs(f_min))
    with np.errstate(all="ignore"):
        for radius in (1e-3, 1e-1):
            step = radius * (1.0 + float(np.max(np.abs(x))))
            for d in directions.T:
                for sign in (1.0, -1.0):
                    value = _probe(problem, x, x + sign * step * d, f)
                    if value is not None and value < f_min - tol:
                        return True
    return False


def _not_a_minimum(problem, x, f_min, A, lam, sources, start, fun) -> bool:
    try:
        if _saddle_direction(problem, x, A, lam, sources):
            return True
    except (ValueError, np.linalg.LinAlgError, FloatingPointError):
        pass
    return _stalled_at_flat_start(problem, x, start, f_min, A, lam, sources, fun)


def _plateau(problem, x: np.ndarray, f_min: float, grad: np.ndarray, fun) -> str:
    """"" unless the objective is flat around x (every difference exactly zero): then probe farther
    out (1e-3 to 1e-1 of the box, or of 1 + |x|) along each coordinate and a few mixtures.

    Returns "lower" when a probe finds a lower value (a plateau the run is stuck on, as on a
    step function), "flat" when every probe is equal (nothing shows a minimum), "" when the
    point is not on a plateau or the probes see higher values only (a floor: a minimum).
    Probes are recorded evaluations inside the bounds.
    """
    if grad.size == 0 or np.any(grad != 0) or x.size > 200:
        return ""
    f = fun or problem.fun
    span = np.where(np.isfinite(problem.upper - problem.lower), problem.upper - problem.lower,
                    1.0 + np.abs(x))
    rng = np.random.default_rng(0)
    n = x.size
    directions = np.hstack([np.eye(n), rng.standard_normal((n, min(n, 8)))])
    directions = directions / np.linalg.norm(directions, axis=0)
    tol = 1e-12 * (1.0 + abs(f_min))
    higher = False
    with np.errstate(all="ignore"):
        for radius in (1e-3, 1e-2, 1e-1):
            for d in directions.T:
                for sign in (1.0, -1.0):
                    value = _probe(problem, x, x + sign * radius * span * d, f)
                    if value is None:
                        continue
                    if value < f_min - tol:
                        return "lower"
                    higher = higher or value > f_min + tol
            if higher:
                return ""
    return "flat"


def verify(problem, x, f_min: float, fun=None, start=None, *, hard_bounds: bool = True,
           f_scale: float | None = None) -> dict:
    """Check a candidate point; `f_min` is the objective in minimization form.

    `start` (the run's start point) lets the check notice an optimizer that never
    left a flat or saddle start point: that is not reported as converged.

    `fun` evaluates the objective when the problem has no gradient, and for the probes some
    checks make (pass the run's recording objective so that these calls are counted and kept;
    when it raises EvaluationBudgetReached, that propagates: the check could not finish).
    Finite differences keep inside the bounds (one-sided at a bound).

    `f_scale` is how much the objective varied over the run (|f(start) - f_min|): the
    stationarity tolerance scales with min(|f|, f_scale), so a constant offset in f
    (1e6 + x**2) does not loosen it. `hard_bounds` False (a benchmark's default domain)
    judges feasibility on the constraints only.

    Returns JSON-ready facts: `claim` (see _claims.py: optimum, local, not_converged,
    unbounded, infeasible; auto may raise local to global with its restarts' evidence),
    `converged`, `reason`, `kkt_residual`, `max_violation`, `gap_to_optimum` (None without a
    known optimum).
    """
    facts = _verify(problem, np.asarray(x, dtype=float), f_min, fun, start, hard_bounds, f_scale)
    facts.setdefault("claim", "not_converged")
    facts["converged"] = facts["claim"] in ("optimum", "global", "local")
    return facts


def _verify(problem, x, f_min, fun, start, hard_bounds, f_scale) -> dict:
    facts: dict = {"converged": False, "kkt_residual": None, "max_violation": None,
                   "gap_to_optimum": None, "reason": ""}
    unbounded = _unbounded(problem, x, f_min, start)
    if unbounded:
        facts["reason"], facts["unbounded"], facts["claim"] = unbounded, True, "unbounded"
        facts["max_violation"] = float(problem.constraint_violation(x, bounds=hard_bounds))
        return facts
    if not np.all(np.isfinite(x)) or f_min is None or not math.isfinite(f_min):
        facts["reason"] = "no finite point or value was found"
        return facts
    violation = float(problem.constraint_violation(x, bounds=hard_bounds))
    facts["max_violation"] = violation
    with np.errstate(all="ignore"):
        grad = _gradient(problem, x, fun, hard_bounds)
    A = lam = None
    sources: list = []
    if np.all(np.isfinite(grad)):
        residual, A, lam, sources = _kkt(problem, x, grad)
    else:
        residual = math.inf
    facts["kkt_residual"] = residual if math.isfinite(residual) else None
    feasible = violation <= FEASIBILITY_TOL * (1 + abs(f_min))
    scale = abs(f_min) if f_scale is None or not math.isfinite(f_scale) else min(abs(f_min), abs(f_scale))
    stationary = residual <= STATIONARITY_TOL * max(1.0, scale)
    no_descent = None
    if not stationary and math.isfinite(residual) and x.size <= 200 and \
            residual <= 1e3 * STATIONARITY_TOL * max(1.0, scale):
        # an ill-conditioned minimum (curvatures 1 and 1e6): a point 1e-7 off it has a slope of
        # 0.5, and yet no step along that slope lowers f by more than round-off would (with
        # constraints: no feasible step along the KKT residual's direction)
        slope = grad if A is None else grad - A @ lam
        no_descent = _descent_along(problem, x, f_min, slope, fun, 1e-9 * max(1.0, scale))
        stationary = no_descent is not None
    f_user = problem.to_user(f_min)
    f_star = getattr(problem, "f_star", None)
    kind = "KKT residual" if problem.constraints or problem.has_bounds else "gradient norm"
    if not feasible:
        if problem.constraints:
            facts["claim"] = "infeasible"
            facts["reason"] = (f"infeasible: the best point violates the constraints by {violation:.3g} "
                               f"(tolerance {FEASIBILITY_TOL:g})")
        else:
            facts["reason"] = f"not converged: the best point lies {violation:.3g} outside the bounds"
        return facts
    if f_star is not None and math.isfinite(f_star):
        gap = abs(f_user - f_star)
        better = f_user < f_star  # a known optimum only ever applies to a minimization
        facts["gap_to_optimum"] = gap
        if gap <= GAP_TOL * max(1.0, abs(f_star)) or better:
            facts["claim"] = "optimum"
            facts["reason"] = f"reached the known optimum f*={f_star:.6g} (gap {gap:.2g})"
            return facts
    def on_plateau() -> bool:
        flat = _plateau(problem, x, f_min, grad, fun)
        if flat:
            where = "lower values lie nearby" if flat == "lower" else "every probe nearby gave the same value"
            facts["reason"] = (f"not converged: the objective is flat around the best point (a plateau: its "
                               f"slope is exactly zero) and {where}; a plateau is not a minimum. Use a "
                               f"method that does not rely on slopes (CMA-ES, differential_evolution) or auto")
            facts["plateau"] = True
        return bool(flat)

    if f_star is not None and math.isfinite(f_star):
        if stationary and _not_a_minimum(problem, x, f_min, A, lam, sources, start, fun):
            facts["reason"] = (f"stopped at a stationary point that is not a minimum (a saddle, or a start "
                               f"the optimizer never left): f={f_user:.6g}, the known optimum is "
                               f"f*={f_star:.6g}; give another x0 or a seed, or use auto (which restarts)")
        elif stationary and on_plateau():
            pass
        elif stationary:
            facts["claim"] = "local"
            facts["reason"] = (f"a local minimum, not the known optimum: f={f_user:.6g}, the known optimum is "
                               f"f*={f_star:.6g} (gap {gap:.3g})")
        else:
            facts["reason"] = (f"not converged: gap to the known optimum f*={f_star:.6g} is {gap:.3g} "
                               f"and the {kind} is {residual:.3g}")
        return facts
    if stationary and A is None and residual > STATIONARITY_TOL and _keeps_decreasing(problem, x, f_min, grad, fun):
        way, trend = ("below", "decreasing") if problem.sense == "minimize" else ("above", "increasing")
        facts["reason"] = (f"no finite minimum: the {kind} {residual:.3g} is small only next to |f| = "
                           f"{abs(f_min):.3g}, and the objective keeps {trend} far along its slope: it "
                           f"looks unbounded {way}; add bounds or constraints")
        facts["unbounded"], facts["claim"] = True, "unbounded"
        return facts
    try:
        saddle = stationary and _saddle_direction(problem, x, A, lam, sources)
    except (ValueError, np.linalg.LinAlgError, FloatingPointError):
        saddle = False  # a curvature check that cannot be computed proves nothing
    if saddle:
        facts["reason"] = ("not converged: a saddle point, not a minimum: the objective curves downward "
                           "along a direction the constraints allow; try another x0, a seed, or auto "
                           "(which restarts)")
    elif stationary and _stalled_at_flat_start(problem, x, start, f_min, A, lam, sources, fun):
        facts["reason"] = ("not converged: the optimizer never left its start point, a stationary point "
                           "that is not a minimum: the check found lower values nearby (the best is "
                           "kept); give another x0 or a seed, or use auto (which restarts)")
    elif stationary and residual > 0 and _still_falls(problem, x, f_min, grad if A is None else grad - A @ lam, fun):
        facts["reason"] = (f"not converged: the {kind} {residual:.2g} is under the tolerance only because the "
                           f"objective's values are small (|f| = {abs(f_min):.3g}); it still falls along its "
                           f"slope. Rescale the objective, or tighten the method's tolerances (gtol, ftol)")
    elif stationary and on_plateau():
        pass
    elif stationary:
        facts["claim"] = "local"
        test = (f"{kind} {residual:.2g} <= tolerance" if no_descent is None else
                f"no step along the slope lowers f by more than {no_descent:.2g} ({kind} {residual:.2g})")
        facts["reason"] = (f"verified locally: {test} and the point is feasible; "
                           f"nothing here shows whether a deeper minimum exists elsewhere")
    else:
        facts["reason"] = f"not converged: {kind} {residual:.3g} is above the tolerance"
    return facts
