"""RunManager: start, execute and finalize tracked optimization runs on one store."""

from __future__ import annotations

import math
import os
import time
import warnings
from datetime import datetime, timezone
from typing import Callable

import numpy as np

from aopt.errors import InvalidInput, NotFound
from aopt.runs._problems import ProblemCatalog

__all__ = ["RunManager", "DEFAULT_MAX_EVALUATIONS"]

# A safety cap so that no request runs forever when the user names no budget.
DEFAULT_MAX_EVALUATIONS = 1_000_000
MAX_EVALUATIONS_LIMIT = 10**12  # far beyond any run, well inside SQLite's 64-bit integers


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _run_id(value) -> int:
    if isinstance(value, bool):
        raise InvalidInput(f"run_id must be a run number such as 3; got {value!r}")
    if isinstance(value, str) and value.strip().lstrip("#").isdigit():
        value = int(value.strip().lstrip("#"))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or value < 1:
        raise InvalidInput(f"run_id must be a positive run number such as 3; got {value!r}")
    return value


class RunManager:
    """The run lifecycle over a store: `start_run` -> `execute` -> `finalize`."""

    def __init__(self, store):
        self.store = store
        self.problems = ProblemCatalog(store)

    # -- lifecycle -------------------------------------------------------------------------
    def start_run(self, problem, algorithm: str = "auto", description: str = "",
                  parent_run_id: int | None = None) -> int:
        """Create a run of `problem` (id or name) with `algorithm`; refuse impossible choices now."""
        from aopt.optimize import check_compatible, get_algorithm

        record, prob = self.problems.load(problem)
        info = get_algorithm(algorithm)
        check_compatible(info, prob, hard_bounds=self.problems.hard_bounds(prob))
        parent = None
        if parent_run_id is not None:
            parent = self.get(_run_id(parent_run_id))
            if parent["problem_id"] != record["id"]:
                parent_problem = self.problems.load(parent["problem_id"])[1]
                if parent_problem.dimension != prob.dimension:
                    raise InvalidInput(
                        f"parent run {parent['id']} solved {parent['problem']!r} in "
                        f"{parent_problem.dimension} dimensions; problem {prob.name!r} has "
                        f"{prob.dimension}, so it cannot warm-start from it")
        if not isinstance(description, str):
            raise InvalidInput(f"description must be text; got {type(description).__name__}")
        return self.store.create_run({
            "problem_id": record["id"], "problem": record["name"], "algorithm": info.name,
            "description": description[:2000], "parent_id": parent["id"] if parent else None,
            "status": "running", "started_at": _now(),
        })

    def execute(self, run_id, x0=None, options: dict | None = None, seed: int | None = None,
                max_evaluations: int | None = None,
                progress: Callable[[dict], None] | None = None) -> dict:
        """Run the optimizer and record every evaluation; returns the run record.

        Ctrl+C (KeyboardInterrupt) stops the optimizer, keeps the best point so far,
        records the run as `interrupted` and re-raises, as Optuna does.
        """
        try:
            return self._execute(run_id, x0, options, seed, max_evaluations, progress)
        except KeyboardInterrupt:
            self._interrupted_early(run_id)
            raise

    def _interrupted_early(self, run_id) -> None:
        """Ctrl+C before the optimizer started (imports, checks): the run must not stay `running`."""
        try:
            run = self.get(run_id)
        except (InvalidInput, NotFound):
            return
        if run["status"] == "running" and not run.get("finished_at"):
            self.store.update_run(run["id"], status="interrupted", finished_at=_now(), converged=False,
                                  message="interrupted by the user (Ctrl+C) before the optimizer started")

    def _execute(self, run_id, x0, options, seed, max_evaluations, progress) -> dict:
        from aopt.optimize import (EvaluationBudgetReached, budget_options, get_algorithm, run_auto,
                                   solve_with, starting_point, unbounded_reason, validate_options, verify,
                                   with_evidence, planned_budget)
        from aopt.runs._recorder import RunRecorder

        import scipy.optimize  # noqa: F401 - loaded before the clock starts, not inside the first evaluation

        run_id = _run_id(run_id)
        run = self.get(run_id)
        if run["status"] != "running" or run.get("finished_at") or run.get("n_evaluations"):
            raise InvalidInput(
                f"run {run_id} has already run (status {run['status']}). Start a new run, with "
                f"parent_run_id={run_id} to warm-start from its best point")
        _, problem = self.problems.load(run["problem_id"])
        info = get_algorithm(run["algorithm"])
        if info.name == "auto" and options:
            raise InvalidInput("auto chooses its own methods and options; name an algorithm "
                               f"to set options (got {sorted(options)!r})")
        budget = self._budget(max_evaluations)
        # a budget the user names is the run's limit: the method's own caps are raised to it
        opts = budget_options(info, validate_options(info, options),
                              max_evaluations and budget, problem.dimension)
        opts = info.with_defaults(problem, opts, budget_named=bool(max_evaluations))
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32):
            raise InvalidInput(f"seed must be a whole number from 0 to 4294967295; got {seed!r}")
        parent = self.get(run["parent_id"]) if run.get("parent_id") else None
        start, origin = starting_point(problem, x0=x0, parent_x=parent and parent.get("best_x"),
                                       parent_id=parent and parent["id"], seed=seed)
        if seed is None and (info.stochastic or info.name == "auto"):
            seed = int.from_bytes(os.urandom(4), "little")
        hard = self.problems.hard_bounds(problem)
        # constraints are judged per evaluation (the best point is the best feasible one); hard
        # bounds are never left: a point a method proposes outside them is evaluated at its
        # projection on the box (auto may run such methods; the check's probes go through it too)
        record_cv = bool(problem.constraints)
        clip = hard and problem.has_bounds
        clip_run = clip and (not info.stays_in_bounds or info.name == "auto")
        self.store.update_run(run_id, x0=start.tolist(), options=opts, seed=seed,
                              pid=os.getpid(), started_at=_now(), max_evaluations=max_evaluations)
        # the live line says "4,200 of 10,000": the named budget, or what the run plans with
        shown_budget = max_evaluations or opts.get("maxfevals") or (
            planned_budget(problem) if info.name == "auto" else None)
        recorder = RunRecorder(self.store, run_id, problem.dimension, to_user=problem.to_user,
                               with_cv=record_cv, progress=progress, max_evaluations=shown_budget)
        phases = _Phases(recorder, problem.to_user, None if info.name == "auto" else info.name)
        fun = _recording_objective(problem, recorder, budget, record_cv, EvaluationBudgetReached,
                                   clip=clip_run, phases=phases)
        t0 = time.perf_counter()
        status, message, outcomes, account, evidence = "completed", "", [], "", None
        phase = "before the optimizer finished"
        try:
            try:
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # SciPy's advice is summarized in the run's message
                    if info.name == "auto":
                        outcomes, account, evidence = run_auto(
                            problem, fun, start, seed, lambda: _best(recorder), lambda: recorder.n,
                            hard_bounds=hard, budget=max_evaluations and budget, first_f=lambda: recorder.first_f)
                    else:
                        outcomes = [solve_with(info, problem, fun, start, opts, seed, hard_bounds=hard)]
            except Exception as exc:  # SciPy rejected something, or user code failed: keep what ran
                status, message = "failed", _failure_message(info.name, exc)
            n_optimizer = recorder.n  # before the check's own evaluations
            if status == "failed":
                # SciPy gives up on some runaway searches (Powell: "no valid bracket" at |x| = 1e209)
                best = _best(recorder)
                why = unbounded_reason(problem, best[0], best[1], start) if best is not None else ""
                facts = _unverified(f"{why} ({message})" if why else message, origin)
                if why:
                    facts.update(claim="unbounded", unbounded=True)
            else:
                # The check may call the objective (finite differences when there is no gradient,
                # probes around a start the optimizer never left): those calls are recorded too and
                # share the run's budget, so n_evaluations stays the true number of calls.
                phase = "during the convergence check"
                phases.begin("convergence check", "check")  # its evaluations, apart from the last method's
                check = _recording_objective(problem, recorder, budget, record_cv, EvaluationBudgetReached,
                                             clip=clip)
                with np.errstate(all="ignore"):
                    best = _best(recorder)
                    try:
                        first = recorder.first_f
                        spread = abs(first - best[1]) if best is not None and first is not None \
                            and math.isfinite(first) else None
                        facts = (verify(problem, best[0], best[1], fun=check, start=start, hard_bounds=hard,
                                        f_scale=spread) if best is not None
                                 else _unverified(_nothing_found(recorder), origin))
                        if best is not None and problem.constraints and not facts.get("converged"):
                            facts = _verified_where_converged(problem, facts, best, outcomes, verify,
                                                              check, hard, spread)
                        if evidence:
                            facts = with_evidence(facts, evidence, maximize=problem.sense == "maximize")
                    except EvaluationBudgetReached:
                        facts = _unverified(f"not verified: the budget of {_evaluations(budget)} ran out "
                                            f"before the convergence check could evaluate what it needs", origin)
                    except Exception as exc:  # user code failing during the check
                        facts = _unverified(f"could not verify: {_failure_message(info.name, exc)}", origin)
        except KeyboardInterrupt:
            facts = _unverified(f"interrupted {phase}", origin)
            done = phases.done()
            if done:
                facts["phases"] = done
            recorder.close()
            self._keep_output(run_id, problem)
            self._finish(run_id, problem, recorder, "interrupted",
                         f"interrupted by the user (Ctrl+C) {phase}; the best point so far is kept", t0,
                         facts=facts, n_iterations=None)
            raise
        self._keep_output(run_id, problem)
        facts["start"] = origin
        done = phases.done()
        if info.name == "auto" or sum(p["method"] != "check" for p in done) > 1:
            facts["phases"] = done
        recorder.close()
        if status == "completed":
            last = outcomes[-1] if outcomes else None
            parts = [account] if account else []
            if last is not None:
                library = get_algorithm(last.method).library
                said = f"{library}: {last.message}" + ("" if last.scipy_success is None else
                                                      f" (success={last.scipy_success})")
                # auto's account says what each phase did; the last method's words close it
                parts.append(f"last step {last.method}, {said}" if info.name == "auto" else said)
            if last is not None and (last.stopped_by_budget or (max_evaluations and n_optimizer >= budget)):
                parts.append(f"stopped after the budget of {_evaluations(budget)}")
            message = "; ".join(parts)
            if recorder.n == 0:
                status, message = "failed", message or "the optimizer made no evaluation"
        # an optimizer stopped by the budget never reports its iterations: the count is unknown
        n_iter = None if any(o.stopped_by_budget for o in outcomes) else sum(o.n_iterations for o in outcomes)
        return self._finish(run_id, problem, recorder, status, message, t0, facts=facts,
                            n_iterations=n_iter)

    def _keep_output(self, run_id: int, problem) -> None:
        """Stop a code problem's worker and attach what the user's code printed to the run."""
        runtime = getattr(problem, "runtime", None)
        if runtime is None:
            return
        output = runtime.output()
        runtime.close()
        if output:
            self.store.update_run(run_id, output=output)

    def _budget(self, max_evaluations) -> int:
        if max_evaluations is None:
            return DEFAULT_MAX_EVALUATIONS
        if isinstance(max_evaluations, float) and max_evaluations.is_integer():
            max_evaluations = int(max_evaluations)
        if isinstance(max_evaluations, bool) or not isinstance(max_evaluations, int) or max_evaluations < 1:
            raise InvalidInput(f"max_evaluations must be a positive whole number such as 1000; "
                               f"got {max_evaluations!r}")
        if max_evaluations > MAX_EVALUATIONS_LIMIT:
            raise InvalidInput(f"max_evaluations must be at most {MAX_EVALUATIONS_LIMIT:,} (10**12); "
                               f"got {max_evaluations:.3g}")
        return max_evaluations

    def _finish(self, run_id, problem, recorder, status, message, t0, *, facts: dict,
                n_iterations: int | None = 0) -> dict:
        summary = recorder.summary()
        self.store.update_run(
            run_id, status=status, message=message, finished_at=_now(),
            duration_s=round(time.perf_counter() - t0, 6), n_iterations=n_iterations,
            n_evaluations=recorder.n_flushed, best_f=summary["best_f"], best_x=summary["best_x"],
            converged=bool(facts.get("converged")), convergence=facts)
        return self.get(run_id)

    def finalize(self, run_id, notes: str = "") -> dict:
        """Close a run: attach notes; a run that never executed is marked failed."""
        run_id = _run_id(run_id)
        run = self.get(run_id)
        if notes is not None and not isinstance(notes, str):
            raise InvalidInput(f"notes must be text; got {type(notes).__name__}")
        if notes:
            self.store.add_note(run_id, notes[:10_000])
        if run["status"] == "running" and not run.get("finished_at"):
            self.store.update_run(run_id, status="failed", finished_at=_now(),
                                  message="finalized before any optimization ran")
        return self.get(run_id)

    # -- reading ---------------------------------------------------------------------------
    def get(self, run_id) -> dict:
        return self.store.get_run(_run_id(run_id))

    def history(self, run_id, max_points: int | None = None) -> dict:
        """The run's evaluations as arrays (`index, x, f, cv, t`), f in the user's sense."""
        run = self.get(run_id)
        data = self.store.load_evaluations(run["id"], max_points=max_points)
        _, problem = self.problems.load(run["problem_id"])
        if problem.sense == "maximize":
            data["f"] = -data["f"]
        return data

    def dataframe(self, run_id):
        """The run's evaluations as a pandas DataFrame (needs pandas installed)."""
        try:
            import pandas as pd
        except ImportError:
            raise InvalidInput("dataframe() needs pandas: pip install pandas") from None
        run = self.get(run_id)
        _, problem = self.problems.load(run["problem_id"])
        h = self.history(run_id)
        frame = pd.DataFrame(h["x"], columns=problem.variables)
        frame.insert(0, "evaluation", h["index"])
        frame["f"] = h["f"]
        frame["constraint_violation"] = h["cv"]
        frame["time_s"] = h["t"]
        return frame


def _failure_message(algorithm: str, exc: Exception) -> str:
    from aopt.errors import PaolaError

    if isinstance(exc, PaolaError):  # user code: the sandbox says which limit or what went wrong
        return f"{type(exc).__name__}: {exc}" if not str(exc).startswith(("user code", "the ")) else str(exc)
    return f"{algorithm} failed: {type(exc).__name__}: {exc}"


def _verified_where_converged(problem, facts, best, outcomes, verify, check, hard, spread) -> dict:
    """With constraints, the lowest value recorded can lie a hair outside them (within the 1e-6
    tolerance), where f is lower than at the constrained minimum and the KKT test fails. When a
    search's own final point, as good within 1e-6 (relative), verifies, the claim is that
    point's, and the reason says so."""
    _, f_best = best
    for out in sorted((o for o in outcomes if o.x is not None and o.fun is not None and math.isfinite(o.fun)),
                      key=lambda o: o.fun):
        if abs(out.fun - f_best) > 1e-6 * max(1.0, abs(f_best)):
            continue
        alternative = verify(problem, out.x, out.fun, fun=check, hard_bounds=hard, f_scale=spread)
        if alternative.get("converged"):
            alternative["reason"] += (f"; checked at the point {out.method} converged to (f = "
                                      f"{problem.to_user(out.fun):.10g}); the best value recorded, "
                                      f"{abs(out.fun - f_best):.2g} lower, lies within the feasibility tolerance")
            return alternative
    return facts


def _unverified(reason: str, origin: str) -> dict:
    return {"converged": False, "claim": "not_converged", "reason": reason, "kkt_residual": None,
            "max_violation": None, "gap_to_optimum": None, "start": origin}


def _evaluations(n: int) -> str:
    return f"{n} evaluation{'' if n == 1 else 's'}"


def _nothing_found(recorder) -> str:
    if recorder.n:
        return (f"no evaluation gave a finite value: all {recorder.n} were NaN or infinite (the start "
                f"may lie outside the objective's domain: give x0 where it is defined, or bounds)")
    return "no evaluation was recorded"


def _best(recorder):
    if recorder.best_x is None:
        return None
    return recorder.best_x, float(recorder.best_f)


class _Phases:
    """The phases of a run (auto's portfolio, CMA-ES restarts): what ran, its evaluations, its best.

    A backend calls `fun.set_phase(text, method)` when a phase begins; the live line shows the
    text, and the run's `convergence["phases"]` lists each phase with the evaluations it used
    and the best value at its end (user's sense).
    """

    def __init__(self, recorder, to_user, method: str | None = None):
        self.recorder = recorder
        self.to_user = to_user
        self.method = method  # the run's algorithm, for a backend that names only its restarts
        self.items: list[dict] = []

    def begin(self, text: str, method: str | None = None) -> None:
        if method is None:
            method = self.items[-1]["method"] if self.items else self.method  # a backend naming its restarts
        self._close()
        self.recorder.phase = str(text)
        self.items.append({"phase": str(text), "method": method, "start": self.recorder.n})

    def _close(self) -> None:
        if self.items and "evaluations" not in self.items[-1]:
            last = self.items[-1]
            last["evaluations"] = self.recorder.n - last.pop("start")
            best = self.recorder.best_f
            last["best_f"] = float(self.to_user(best)) if math.isfinite(best) else None

    def done(self) -> list[dict]:
        self._close()
        return [p for p in self.items if p["evaluations"] or len(self.items) == 1]


def _recording_objective(problem, recorder, budget, record_cv, budget_error, clip: bool = False,
                         phases: _Phases | None = None):
    """The function SciPy calls: evaluate, record, enforce the budget. Kept lean: it is the hot path.

    A NaN value is recorded as NaN and reported to the optimizer as +inf. With `clip` (hard
    bounds), a point a method proposes outside the bounds is evaluated and recorded at its
    projection on the box, so no evaluation ever leaves the bounds.
    """
    f = problem.fun
    record = recorder.record
    violation = problem.constraint_violation
    inf = math.inf
    lower, upper = problem.lower, problem.upper

    if record_cv or clip:
        def objective(x):
            if recorder.n >= budget:
                raise budget_error()
            if clip:
                x = np.minimum(np.maximum(np.asarray(x, dtype=float), lower), upper)
            value = float(f(x))
            record(x, value, float(violation(x)) if record_cv else 0.0)
            return inf if value != value else value
    else:
        objective = recorder.objective(f, budget, budget_error)

    def batch(XT):
        """Vectorized form (SciPy passes points as the columns of XT); records every point."""
        X = np.atleast_2d(np.asarray(XT, dtype=float).T)
        if clip:
            X = np.minimum(np.maximum(X, lower), upper)
        room = budget - recorder.n
        if room <= 0:
            raise budget_error()
        values = np.asarray(problem.fun_batch(X[:room]), dtype=float)
        for x, value in zip(X[:room], values):
            record(x, float(value), float(violation(x)) if record_cv else 0.0)
        if len(X) > room:
            raise budget_error()
        return np.where(np.isnan(values), inf, values)

    objective.batch = batch
    objective.set_phase = phases.begin if phases is not None else (lambda text, method=None: None)
    return objective
