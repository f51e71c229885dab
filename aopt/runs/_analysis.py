"""Compact views of runs for a language model: summaries, comparisons and a diagnosis."""

from __future__ import annotations

import math

import numpy as np

from aopt.errors import InvalidInput
from aopt.optimize import claim_label, claim_of, claim_sentence

__all__ = ["run_summary", "compare_runs", "analyze_run", "compact_vector"]

_MAX_SHOWN = 12


def _round(v):
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, (int, np.integer)):
        return int(v)
    v = float(v)
    if not math.isfinite(v):
        return None if math.isnan(v) else (str(v))
    return float(f"{v:.10g}")


def compact_vector(values, limit: int = _MAX_SHOWN):
    """A list short enough for a prompt: long vectors keep their head and tail."""
    if values is None:
        return None
    values = [_round(v) for v in values]
    if len(values) <= limit:
        return values
    return values[: limit - 3] + [f"... {len(values) - limit + 1} more ..."] + values[-2:]


def run_summary(run: dict) -> dict:
    """The facts a model needs about a run, with no history.

    `claim` says what the result proves (optimum, global, local, not_converged, unbounded, infeasible; None
    when never checked) and `claim_text` says it in words; `converged` is true for the first three.
    """
    conv = run.get("convergence") or {}
    out = {
        "run_id": run["id"],
        "problem": run.get("problem"),
        "problem_id": run.get("problem_id"),
        "algorithm": run.get("algorithm"),
        "status": run.get("status"),
        "best_f": _round(run.get("best_f")),
        "best_x": compact_vector(run.get("best_x")),
        "n_evaluations": int(run.get("n_evaluations") or 0),
        "n_iterations": int(run["n_iterations"]) if run.get("n_iterations") is not None else None,
        "converged": bool(run.get("converged")) if run.get("converged") is not None else None,
        "claim": claim_of(run),
        "claim_text": claim_sentence(run),
        "convergence_reason": conv.get("reason"),
        "message": run.get("message") or "",
        "duration_s": _round(run.get("duration_s")),
    }
    if isinstance(conv.get("evidence"), dict) and out["claim"] == "global":
        out["evidence"] = conv["evidence"]
    if run.get("parent_id"):
        out["parent_run_id"] = run["parent_id"]
    if run.get("seed") is not None:
        out["seed"] = run["seed"]
    return out


def compare_runs(manager, run_ids) -> dict:
    """Side by side; refuses to rank runs of different problems against each other."""
    if not isinstance(run_ids, (list, tuple)) or len(run_ids) < 2:
        raise InvalidInput(f"run_ids must list at least two runs, e.g. [3, 4]; got {run_ids!r}")
    runs = [manager.get(r) for r in run_ids]
    rows = [run_summary(r) for r in runs]
    problems = {r["problem_id"] for r in runs}
    result: dict = {"runs": rows}
    if len(problems) > 1:
        result["best_run_id"] = None
        result["note"] = ("these runs solve different problems (" +
                          ", ".join(sorted({str(r['problem']) for r in runs})) +
                          "), so they are not ranked against each other")
        return result
    _, problem = manager.problems.load(runs[0]["problem_id"])
    sign = -1.0 if problem.sense == "maximize" else 1.0
    candidates = [r for r in runs if r.get("best_f") is not None]
    if candidates:
        feasible = [r for r in candidates if ((r.get("convergence") or {}).get("max_violation") or 0) <= 1e-6
                    and claim_of(r) != "infeasible"]
        pool = feasible or candidates
        best = min(pool, key=lambda r: (sign * r["best_f"], r.get("n_evaluations") or 0))
        result["best_run_id"] = best["id"]
        result["sense"] = problem.sense
        # the best value wins whatever the runs claim; the note says what the best one proves
        result["note"] = (f"run {best['id']} ({best['algorithm']}) has the best value "
                          f"{_round(best['best_f'])} for problem {best['problem']!r}"
                          + (f" ({claim_label(best)})" if claim_of(best) is not None else ""))
    else:
        result["best_run_id"] = None
        result["note"] = "none of these runs has a value yet"
    return result


def analyze_run(manager, run_id) -> dict:
    """Explain a run: convergence, stagnation, violation, evaluations spent, what to try next."""
    from aopt.optimize import choose_auto, get_algorithm

    run = manager.get(run_id)
    _, problem = manager.problems.load(run["problem_id"])
    hist = manager.history(run["id"], max_points=None if (run.get("n_evaluations") or 0) <= 200_000 else 200_000)
    f = hist["f"]
    conv = run.get("convergence") or {}
    out: dict = {"run": run_summary(run)}
    n = len(f)
    if n:
        sign = -1.0 if problem.sense == "maximize" else 1.0
        finite = np.where(np.isfinite(f), sign * f, np.inf)
        best_curve = np.minimum.accumulate(finite)
        last_gain_at = int(hist["index"][int(np.argmin(finite))])
        total = int(hist["index"][-1]) + 1
        first = best_curve[0]
        final = best_curve[-1]
        out["progress"] = {
            "first_f": _round(sign * first) if math.isfinite(first) else None,
            "best_f": _round(sign * final) if math.isfinite(final) else None,
            "best_found_at_evaluation": last_gain_at,
            "evaluations": total,
            "evaluations_after_last_improvement": total - 1 - last_gain_at,
            "nan_evaluations": int(np.sum(np.isnan(f))),
        }
        stagnated = total > 50 and (total - 1 - last_gain_at) > 0.5 * total
        out["stagnation"] = stagnated
    out["convergence"] = conv
    suggestions = []
    info = get_algorithm(run["algorithm"])
    if run.get("status") == "interrupted":
        suggestions.append(f"continue from its best point: start a run with parent_run_id={run['id']}")
    if not run.get("converged"):
        reason = conv.get("reason") or ""
        if "local minimum" in reason or getattr(problem, "multimodal", False):
            if problem.has_finite_bounds and not problem.constraints:
                suggestions.append("the problem has many local minima: try differential_evolution "
                                   "or dual_annealing (global, use the bounds)")
            else:
                suggestions.append("try basinhopping, or restarts from other points (auto restarts)")
        if "budget" in (run.get("message") or ""):
            suggestions.append("the evaluation budget ran out: raise max_evaluations, or warm-start "
                               f"a new run with parent_run_id={run['id']}")
        if "infeasible" in reason:
            suggestions.append("the point violates constraints: try trust-constr or SLSQP from "
                               "another start point")
        if not info.uses_gradient and problem.has_gradient and not problem.constraints:
            suggestions.append("exact gradients are available: L-BFGS-B or BFGS usually converge "
                               f"faster (warm start with parent_run_id={run['id']})")
        if not suggestions:
            first, why = choose_auto(problem)
            suggestions.append(f"try {first} ({why}), warm-started with parent_run_id={run['id']}")
    elif claim_of(run) == "local" and (getattr(problem, "multimodal", False) or conv.get("gap_to_optimum")):
        what = ("the known optimum is lower" if conv.get("gap_to_optimum")
                else "the problem has many local minima, so a deeper one may exist")
        suggestions.append(f"this is a local minimum and {what}: try auto (restarts from spread-out starts give "
                           "global evidence when they agree) or differential_evolution")
    out["suggestions"] = suggestions
    return out
