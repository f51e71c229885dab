"""run_script: a standalone Python script that reproduces a stored run through the tools.

The script recreates the problem (same definition), starts a run with the same algorithm and
executes it with the recorded start point, options, seed and evaluation budget, so a
deterministic run gives the same best_f. It acts on the store named by AOPT_STORE.
"""

from __future__ import annotations

import math
import pprint
import re

from aopt.errors import InvalidInput

__all__ = ["run_script"]

_TEMPLATE = '''\
"""Reproduce paola run {run_id}: {algorithm} on problem {problem!r}.

Originally: {status}, best_f = {best_f}, {n_evaluations} evaluations ({started_at}).
Run with `python {filename}`; results go to the store named by AOPT_STORE (default ./.aopt_runs).
"""

from aopt.tools import (create_problem, finalize_optimization_run, run_scipy_optimization,
                        start_optimization_run)


def fail_on_error(result):
    if isinstance(result, dict) and "error" in result:
        raise SystemExit(f"error: {{result['error']['message']}}")
    return result


problem = fail_on_error(create_problem.invoke({problem_args}))
run = fail_on_error(start_optimization_run.invoke({{
    "problem_id": problem["problem_id"],
    "algorithm": {algorithm!r},
    "description": {description!r},
}}))
result = fail_on_error(run_scipy_optimization.invoke({{
    "run_id": run["run_id"],
    "x0": {x0},
    "options": {options},
    "seed": {seed!r},
    "max_evaluations": {max_evaluations!r},
}}))
final = finalize_optimization_run.invoke({{"run_id": run["run_id"], "notes": {notes!r}}})

print(f"run {{result['run_id']}}: {{result['status']}}, best_f = {{result['best_f']!r}}, "
      f"{{result['n_evaluations']}} evaluations (original run {run_id}: best_f = {best_f!r})")
'''


def _literal(value, indent: int = 4) -> str:
    """A Python literal for JSON-ready data (infinities written as float('inf'))."""
    def clean(v):
        if isinstance(v, float) and not math.isfinite(v):
            return _Raw("float('inf')" if v > 0 else "float('-inf')") if not math.isnan(v) else _Raw("float('nan')")
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        if hasattr(v, "tolist"):
            return clean(v.tolist())
        return v
    text = pprint.pformat(clean(value), indent=1, width=100, sort_dicts=False)
    return text.replace("\n", "\n" + " " * indent)


class _Raw:
    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


def _budget(run: dict):
    """The evaluation budget that stopped the run, when one did (else None: the optimizer stopped itself)."""
    found = re.search(r"budget of (\d+) evaluations", run.get("message") or "")
    return int(found.group(1)) if found else None


def run_script(ctx, run_id) -> str:
    """The text of a Python script that reproduces run `run_id` of `ctx`'s store through the tools."""
    run = ctx.runs.get(run_id)
    problem = ctx.store.get_problem(run["problem_id"])
    if problem.get("kind") not in ("benchmark", "expression", None):
        raise InvalidInput(f"run {run['id']} solves a {problem.get('kind')} problem, which a script cannot "
                           "recreate through create_problem; export it as csv or json instead")
    if run.get("x0") is None:
        raise InvalidInput(f"run {run['id']} never executed (status {run.get('status')}), so there is nothing "
                           "to reproduce; export a run that ran")
    args = {"name": problem["name"], "objective": problem["objective"]}
    if problem.get("kind") == "benchmark" or problem.get("dimension") is not None:
        args["dimension"] = problem.get("dimension")
    if problem.get("bounds_given", True) and problem.get("bounds") is not None:
        args["bounds"] = problem["bounds"]
    if problem.get("constraints"):
        args["constraints"] = list(problem["constraints"])
    if (problem.get("sense") or "minimize") != "minimize":
        args["sense"] = problem["sense"]
    if problem.get("description"):
        args["description"] = problem["description"]
    notes = f"reproduction of run {run['id']}"
    return _TEMPLATE.format(
        run_id=run["id"], algorithm=run["algorithm"], problem=problem["name"], status=run.get("status"),
        best_f=run.get("best_f"), n_evaluations=run.get("n_evaluations"), started_at=run.get("started_at"),
        filename=f"paola_run_{run['id']}.py", problem_args=_literal(args),
        description=f"reproduces run {run['id']}", x0=_literal(run.get("x0")),
        options=_literal(run.get("options") or {}), seed=run.get("seed"), max_evaluations=_budget(run),
        notes=notes)
