"""A run's evaluation history as CSV or JSON (columns: evaluation, each variable, f,
constraint_violation, time_s), or as a Python script that reruns it."""

from __future__ import annotations

import csv
import io
import json
import math

from aopt.errors import InvalidInput

__all__ = ["EXPORT_FORMATS", "export_run", "run_record_json", "RECORD_FIELDS"]

EXPORT_FORMATS = ("csv", "json", "script")
EXTENSIONS = {"csv": ".csv", "json": ".json", "script": ".py"}

RECORD_FIELDS = ("id", "problem", "algorithm", "status", "best_f", "best_x", "n_evaluations",
                 "n_iterations", "x0", "options", "seed", "started_at", "finished_at", "duration_s",
                 "message", "converged", "claim", "parent_id", "notes")
_HIDDEN = ("pid", "proc_start", "host")


def _clean(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if hasattr(v, "tolist"):
        return _clean(v.tolist())
    return v


def run_record_json(run: dict) -> dict:
    """The run record for `show --json`: the documented fields first, then the rest the store keeps.

    `claim` is what the result proves (optimum, global, local, not_converged, unbounded, infeasible; None
    when it was never checked), read from the convergence facts, also for runs stored before claims.
    """
    from aopt.optimize import claim_of

    out = {k: _clean(run.get(k)) for k in RECORD_FIELDS}
    out["claim"] = claim_of(run)
    for k, v in run.items():
        if k not in out and k not in _HIDDEN:
            out[k] = _clean(v)
    return out


def _variables(problem: dict | None, d: int) -> list[str]:
    names = list((problem or {}).get("variables") or [])
    return names if len(names) == d else [f"x{i + 1}" for i in range(d)]


def export_run(reader, run: dict, fmt: str, ctx_factory=None, filename: str | None = None) -> str:
    """The export text of one run in `fmt` (csv, json or script); `filename`: where a script is written."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"export format must be one of {', '.join(EXPORT_FORMATS)}; got {fmt!r}")
    if fmt == "script":
        return _script(reader, run, ctx_factory, filename)
    hist = reader.history(run, max_points=None)
    problem = reader.problem_of(run)
    x = hist.get("x")
    d = int(x.shape[1]) if x is not None and getattr(x, "ndim", 1) == 2 else len(run.get("best_x") or [])
    names = _variables(problem, d)
    columns = ["evaluation", *names, "f", "constraint_violation", "time_s"]
    n = len(hist.get("f", ()))
    rows = ([int(hist["index"][i]), *[float(v) for v in x[i]], float(hist["f"][i]),
             float(hist["cv"][i]), float(hist["t"][i])] for i in range(n))
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        for row in rows:
            w.writerow([row[0], *[repr(v) for v in row[1:]]])
        return buf.getvalue()
    return json.dumps({"run": run_record_json(run), "variables": names, "columns": columns,
                       "evaluations": [dict(zip(columns, _clean(r))) for r in rows]}, indent=1) + "\n"


def _script(reader, run: dict, ctx_factory, filename: str | None = None) -> str:
    try:
        from aopt.agent import run_script
    except ImportError:
        raise InvalidInput("--format script is not available in this build; use csv or json") from None
    ctx = ctx_factory() if ctx_factory else None
    if ctx is None:
        from aopt.runs import RunManager
        from aopt.tools import Context

        ctx = Context(store=reader.store, runs=RunManager(reader.store))
    text = run_script(ctx, run["id"])
    if filename:  # the docstring says how to run it: under the name it was actually written to
        default = f"paola_run_{run['id']}.py"
        text = text.replace(f"python {default}", f"python {filename}")
    return text
