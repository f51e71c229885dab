"""COCO BBOB harness: paola's `auto` (through the public tools, on a code objective) vs IPOP-CMA-ES.

For each dimension D, each of the 24 noiseless bbob functions and instances 1-3, with a
budget of `--budget-multiplier` * D evaluations (default 1000*D):

- auto: the harness writes a Python file (in a temp dir) that builds the cocoex problem
  at import and exposes `f(x)`; `create_problem` gets "FILE.py:f" with bounds [-5, 5],
  then `start_optimization_run(algorithm="auto")` and
  `run_scipy_optimization(max_evaluations=budget, seed=...)`, on a fresh store in a temp
  dir. The objective runs in paola's sandbox worker process. Wall time is the three tool
  calls (worker start-up included).
- pycma: IPOP-CMA-ES, `cma.fmin2(..., restarts=9, incpopsize=2)`, sigma0=2, x0 drawn
  uniformly in [-4, 4]^D from the seed (a new draw at each restart), bounds [-5, 5],
  calling the cocoex problem in-process. As in COCO's own experiments it stops at the
  final target (f* + 1e-8, `ftarget`) or at the budget (enforced exactly by the harness).

f* is `cocoex.BareProblem(...).best_value()` (cocoex 2.8 has no `final_target_fvalue1`;
BareProblem evaluates exactly like the suite's problem). A problem is solved when
f - f* <= 1e-8. The ECDF counts (problem, target) pairs reached, for 51 targets
log-uniform from 1e2 down to 1e-8, with the best value within the first 100*D and
1000*D evaluations. auto's best-so-far comes from the run's full evaluation history
(`RunManager.history`), counting only points inside the bounds.

Audit of auto's claims (each must be 0): a claim of "global" or "optimum" with
f - f* > 1e-2; a run with `converged` true and no claim label; a best point outside
[-5, 5]. A run that fails or raises counts as unsolved and is listed.

    python benchmarks/bbob.py                      # D = 2, 5, 10; instances 1-3; 1000*D
    python benchmarks/bbob.py --quick              # instance 1, D = 2, 5
    python benchmarks/bbob.py --dims 2 --functions 1-5,15 --json out.json
    python benchmarks/bbob.py --only auto

The exit code is always 0: this is a report; each goal line says GOAL MET or GOAL NOT MET.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

SOLVED = 1e-8
AUDIT_GAP = 1e-2
LOWER, UPPER = -5.0, 5.0
TARGETS = np.logspace(2, -8, 51)  # 1e2 ... 1e-8, 0.2 apart in log10
# goals per dimension: (solved fraction, ECDF at 1000*D)
GOALS = {2: (0.78, 0.86), 5: (0.51, 0.66), 10: (0.49, 0.61)}
WALL_RATIO_GOAL = 1.5
RUN_TIMEOUT_S = 600.0  # safety net for one auto run (sandbox limit)

OBJECTIVE_SOURCE = '''\
"""bbob f{f} instance {i} in {d}-D, written by benchmarks/bbob.py."""
import numpy as np
from cocoex.bare_problem import BareProblem

_PROBLEM = BareProblem("bbob", {f}, {d}, {i})


def f(x):
    return float(_PROBLEM(np.asarray(x, dtype=float)))
'''


# -- helpers --------------------------------------------------------------------------------

def parse_ints(text: str) -> list[int]:
    """"1-5,7,10-12" -> [1, 2, 3, 4, 5, 7, 10, 11, 12]."""
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-", 1)
            out.extend(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    return sorted(set(out))


def compact(values: list[int]) -> str:
    """[1, 2, 3, 5] -> "1-3,5"."""
    parts, start = [], None
    for k, v in enumerate(values):
        if start is None:
            start = v
        if k + 1 == len(values) or values[k + 1] != v + 1:
            parts.append(str(start) if start == v else f"{start}-{v}")
            start = None
    return ",".join(parts)


def problem_seed(seed: int, f: int, d: int, i: int) -> int:
    return int(np.random.SeedSequence([seed, f, d, i]).generate_state(1)[0] % (2**31 - 1))


def fopt(f: int, d: int, i: int) -> float:
    from cocoex.bare_problem import BareProblem

    return float(BareProblem("bbob", f, d, i).best_value())


def best_by(values: np.ndarray, n: int) -> float:
    """The best (lowest) value among the first n evaluations; inf when there is none."""
    head = values[:n]
    head = head[np.isfinite(head)]
    return float(head.min()) if head.size else math.inf


def name_of(f: int, d: int, i: int) -> str:
    return f"bbob_f{f:03d}_i{i:02d}_d{d:02d}"


# -- paola auto -----------------------------------------------------------------------------

def run_auto(ctx, tools, folder: Path, f: int, d: int, i: int, budget: int, seed: int, f_star: float,
             tag: str = "") -> dict:
    out = {"method": "auto", "function": f, "dimension": d, "instance": i, "budget": budget,
           "seed": seed, "fopt": f_star}
    name = name_of(f, d, i) + tag
    path = folder / f"{name}.py"
    path.write_text(OBJECTIVE_SOURCE.format(f=f, d=d, i=i))
    t0 = time.perf_counter()
    try:
        p = tools.create_problem.invoke({"name": name, "objective": f"{path}:f", "dimension": d,
                                         "bounds": [LOWER, UPPER]})
        if "error" in p:
            raise RuntimeError(f"create_problem: {p['error']}")
        r = tools.start_optimization_run.invoke({"problem_id": p["problem_id"], "algorithm": "auto"})
        if "error" in r:
            raise RuntimeError(f"start_optimization_run: {r['error']}")
        res = tools.run_scipy_optimization.invoke({"run_id": r["run_id"], "max_evaluations": budget,
                                                   "seed": seed})
        out["wall_s"] = time.perf_counter() - t0
        if "error" in res:
            raise RuntimeError(f"run_scipy_optimization: {res['error']}")
        run_id = r["run_id"]
        info = tools.get_run.invoke({"run_id": run_id})
        if "error" in info:
            raise RuntimeError(f"get_run: {info['error']}")
        # The tools round best_f to 10 significant digits and shorten best_x beyond 12
        # variables, too coarse for 1e-8 on |f*| up to 1000: read the stored record.
        record = ctx.runs.get(run_id)
        hist = ctx.runs.history(run_id)
    except Exception as exc:  # noqa: BLE001 - a failure is a result here
        out.setdefault("wall_s", time.perf_counter() - t0)
        out.update(status="error", error=f"{type(exc).__name__}: {exc}".strip()[:500],
                   best_f=None, gap=math.inf, gap_100d=math.inf, gap_1000d=math.inf, n_evaluations=0)
        return out
    conv = info.get("convergence") or {}
    best_f = record.get("best_f")
    best_x = record.get("best_x")
    # history: every evaluation; only points inside the bounds count toward best-so-far
    fv = np.asarray(hist["f"], dtype=float).copy()
    X = np.asarray(hist["x"], dtype=float).reshape(len(fv), -1) if len(fv) else np.empty((0, d))
    if len(fv):
        fv[~np.all((X >= LOWER) & (X <= UPPER), axis=1)] = np.nan
    order = np.argsort(np.asarray(hist["index"]), kind="stable")
    fv = fv[order]
    out.update(
        run_id=run_id, status=res.get("status"), message=res.get("message"), error=None,
        best_f=best_f, best_f_tool=res.get("best_f"),
        gap=(float(best_f) - f_star) if best_f is not None and math.isfinite(best_f) else math.inf,
        gap_100d=best_by(fv, 100 * d) - f_star, gap_1000d=best_by(fv, 1000 * d) - f_star,
        n_evaluations=int(record.get("n_evaluations") or 0),
        run_duration_s=record.get("duration_s"),
        converged=record.get("converged"), claim=conv.get("claim"), reason=conv.get("reason"),
        best_x=[float(v) for v in best_x] if best_x is not None else None,
        best_x_outside=bool(best_x is not None and any(not (LOWER <= v <= UPPER) for v in best_x)),
    )
    if out["status"] != "completed" and not out.get("error"):
        out["error"] = f"status {out['status']}: {out['message']}"[:500]
    return out


# -- pycma IPOP-CMA-ES ----------------------------------------------------------------------

class _Budget(Exception):
    pass


def run_pycma(f: int, d: int, i: int, budget: int, seed: int, f_star: float) -> dict:
    import cma
    from cocoex.bare_problem import BareProblem

    out = {"method": "pycma", "function": f, "dimension": d, "instance": i, "budget": budget,
           "seed": seed, "fopt": f_star}
    rng = np.random.default_rng(seed)
    values: list[float] = []
    t0 = time.perf_counter()
    try:
        problem = BareProblem("bbob", f, d, i)

        def objective(x):
            if len(values) >= budget:
                raise _Budget
            v = float(problem(np.asarray(x, dtype=float)))
            values.append(v)
            return v

        opts = {"maxfevals": budget, "ftarget": f_star + SOLVED, "bounds": [LOWER, UPPER],
                "verbose": -9, "seed": int(rng.integers(1, 2**31 - 1)), "verb_log": 0, "verb_disp": 0}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                cma.fmin2(objective, lambda: rng.uniform(-4, 4, d), 2.0, opts,
                          restarts={"maxrestarts": 9, "maxfevals": budget}, incpopsize=2)
            except _Budget:
                pass
        status, error = "completed", None
    except Exception as exc:  # noqa: BLE001
        status, error = "error", f"{type(exc).__name__}: {exc}"[:500]
    out["wall_s"] = time.perf_counter() - t0
    fv = np.asarray(values, dtype=float)
    best = best_by(fv, len(fv))
    out.update(status=status, error=error, best_f=best if math.isfinite(best) else None,
               gap=best - f_star, gap_100d=best_by(fv, 100 * d) - f_star,
               gap_1000d=best_by(fv, 1000 * d) - f_star, n_evaluations=len(fv))
    return out


# -- report ---------------------------------------------------------------------------------

def ecdf(rows: list[dict], key: str) -> float:
    if not rows:
        return float("nan")
    gaps = np.array([r[key] for r in rows], dtype=float)
    gaps[~np.isfinite(gaps)] = np.inf
    return float(np.mean(gaps[:, None] <= TARGETS[None, :]))


def solved(rows: list[dict]) -> float:
    """Fraction with f - f* <= 1e-8 in a run that completed (a failed run counts as unsolved)."""
    return (float(np.mean([r["gap"] <= SOLVED and r.get("status") == "completed" for r in rows]))
            if rows else float("nan"))


def verdict(ok: bool) -> str:
    return "GOAL MET" if ok else "GOAL NOT MET"


def audit(rows: list[dict]) -> dict:
    false_global = [r for r in rows if r.get("claim") in ("global", "optimum") and not r["gap"] <= AUDIT_GAP]
    unlabelled = [r for r in rows if r.get("converged") and not r.get("claim")]
    outside = [r for r in rows if r.get("best_x_outside")]
    return {"false_global": false_global, "unlabelled": unlabelled, "outside": outside}


def report(results: list[dict], dims: list[int], methods: list[str]) -> None:
    both = "auto" in methods and "pycma" in methods
    for d in dims:
        by = {m: [r for r in results if r["dimension"] == d and r["method"] == m] for m in methods}
        n = len(next(iter(by.values())))
        goal = GOALS.get(d)
        print(f"\n=== D = {d}: {n} problems, budget {results[0]['budget'] // results[0]['dimension'] if results else 0}*D"
              f" = {next((r['budget'] for r in results if r['dimension'] == d), 0)} evaluations ===")
        head = f"{'':46s}" + "".join(f"{m:>10s}" for m in methods)
        print(head + "   goal (auto)")

        def line(label, values, fmt, goal_text="", ok=None):
            cells = "".join(f"{v:>10{fmt}}" if isinstance(v, (int, float)) and not isinstance(v, bool)
                            else f"{str(v):>10s}" for v in values)
            tail = f"   {goal_text}  {verdict(ok)}" if ok is not None else (f"   {goal_text}" if goal_text else "")
            print(f"{label:46s}{cells}{tail}")

        s = {m: solved(by[m]) for m in methods}
        e100 = {m: ecdf(by[m], "gap_100d") for m in methods}
        e1000 = {m: ecdf(by[m], "gap_1000d") for m in methods}
        line("solved (f - f* <= 1e-8)", [s[m] for m in methods], ".3f",
             *((f">= {goal[0]:.2f}", s["auto"] >= goal[0]) if goal and "auto" in methods else ((f"(auto's goal: >= {goal[0]:.2f})" if goal else "(no goal)"),)))
        line("ECDF, 51 targets, at 100*D", [e100[m] for m in methods], ".3f")
        line("ECDF, 51 targets, at 1000*D", [e1000[m] for m in methods], ".3f",
             *((f">= {goal[1]:.2f}", e1000["auto"] >= goal[1]) if goal and "auto" in methods else ((f"(auto's goal: >= {goal[1]:.2f})" if goal else "(no goal)"),)))
        # a call that raised (no run happened) says nothing about speed: left out of the times
        ran = {m: [r for r in by[m] if r.get("status") != "error" and math.isfinite(r.get("wall_s", math.nan))]
               for m in methods}
        wall = {m: statistics.median(r["wall_s"] for r in ran[m]) if ran[m] else math.nan for m in methods}
        line("median wall per problem (s)", [wall[m] for m in methods], ".3f",
             "" if all(len(ran[m]) == len(by[m]) for m in methods) else
             "(calls that raised left out: " + ", ".join(f"{m} {len(by[m]) - len(ran[m])}" for m in methods) + ")")
        if both:
            ratio = wall["auto"] / wall["pycma"] if wall["pycma"] > 0 else math.nan
            line("wall ratio auto / pycma", [f"{ratio:.2f}x", ""], "s",
                 f"<= {WALL_RATIO_GOAL}x", ratio <= WALL_RATIO_GOAL)
        line("median evaluations used", [statistics.median(r["n_evaluations"] for r in by[m]) for m in methods], ".0f")
        for m in methods:
            failed = [r for r in by[m] if r.get("error")]
            if failed:
                print(f"  {m}: {len(failed)} failed run(s), counted unsolved:")
                groups: dict[str, list[str]] = {}
                for r in failed:
                    groups.setdefault(r["error"], []).append(f"f{r['function']}i{r['instance']}")
                for error, where in groups.items():
                    print(f"    {', '.join(where) if len(where) <= 8 else f'{len(where)} problems'}: {error}")
        if "auto" in methods:
            a = audit(by["auto"])
            claims: dict[str, int] = {}
            for r in by["auto"]:
                key = r.get("claim") or ("(converged, no label)" if r.get("converged") else
                                         "(none)" if r.get("converged") is None else "(not converged, no label)")
                claims[key] = claims.get(key, 0) + 1
            print("  auto claims: " + ", ".join(f"{k} {v}" for k, v in sorted(claims.items())))
            unaudited = sum(r.get("status") == "error" for r in by["auto"])
            note = f" ({unaudited} calls raised: not audited)" if unaudited else ""
            for label, key in (("AUDIT 'global'/'optimum' with f - f* > 1e-2", "false_global"),
                               ("AUDIT 'converged' without a claim label", "unlabelled"),
                               ("AUDIT best point outside [-5, 5]", "outside")):
                bad = a[key]
                line(label, [len(bad)] + [""] * (len(methods) - 1), "d", "== 0" + note, not bad and not unaudited)
                if bad:
                    shown = ", ".join(f"f{r['function']}i{r['instance']}" +
                                      (f"(gap {r['gap']:.3g})" if key == "false_global" else "") for r in bad[:12])
                    print(f"{'':48s}{shown}{' ...' if len(bad) > 12 else ''}")


# -- main -----------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dims", default="2,5,10", help="dimensions, e.g. 2,5,10,20 (default 2,5,10)")
    ap.add_argument("--functions", default="1-24", help="bbob functions, e.g. 1-5,15 (default 1-24)")
    ap.add_argument("--instances", default="1-3", help="instances, e.g. 1-3 (default 1-3)")
    ap.add_argument("--budget-multiplier", type=int, default=1000, help="budget = this * D (default 1000)")
    ap.add_argument("--quick", action="store_true", help="instance 1 only, D = 2, 5")
    ap.add_argument("--seed", type=int, default=1, help="base seed (default 1)")
    ap.add_argument("--only", choices=("auto", "pycma"), help="run only one method")
    ap.add_argument("--json", metavar="OUT", help="write per-problem results to this file")
    args = ap.parse_args(argv)

    dims = [2, 5] if args.quick else parse_ints(args.dims)
    instances = [1] if args.quick else parse_ints(args.instances)
    functions = [f for f in parse_ints(args.functions) if 1 <= f <= 24]
    methods = [args.only] if args.only else ["auto", "pycma"]
    print(f"COCO bbob: D {dims}, functions {compact(functions)}, "
          f"instances {instances}, budget {args.budget_multiplier}*D, seed {args.seed}, methods {methods}")

    results: list[dict] = []
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="paola_bbob_") as tmp:
        from aopt import tools
        from aopt.tools import Context, Settings, use_context

        folder = Path(tmp) / "objectives"
        folder.mkdir()
        ctx = Context.open(Path(tmp) / "store", settings=Settings(code_limits={"run_timeout": RUN_TIMEOUT_S}))
        try:
            with use_context(ctx):
                # warm-up, not counted: the first call of each method pays its imports
                for m in methods:
                    try:
                        if m == "auto":
                            run_auto(ctx, tools, folder, 1, 2, 1, 50, 0, fopt(1, 2, 1), tag="_warmup")
                        else:
                            run_pycma(1, 2, 1, 50, 0, fopt(1, 2, 1))
                    except Exception:  # noqa: BLE001 - a real run will report it
                        pass
                for d in dims:
                    budget = args.budget_multiplier * d
                    t_dim = time.perf_counter()
                    for f in functions:
                        cells = []
                        for i in instances:
                            seed = problem_seed(args.seed, f, d, i)
                            f_star = fopt(f, d, i)
                            for m in methods:
                                try:
                                    if m == "auto":
                                        r = run_auto(ctx, tools, folder, f, d, i, budget, seed, f_star)
                                    else:
                                        r = run_pycma(f, d, i, budget, seed, f_star)
                                except Exception as exc:  # noqa: BLE001 - never stop the report
                                    r = {"method": m, "function": f, "dimension": d, "instance": i,
                                         "budget": budget, "seed": seed, "fopt": f_star, "status": "error",
                                         "error": f"{type(exc).__name__}: {exc}"[:500],
                                         "trace": traceback.format_exc()[-2000:], "wall_s": math.nan,
                                         "gap": math.inf, "gap_100d": math.inf, "gap_1000d": math.inf,
                                         "n_evaluations": 0, "best_f": None}
                                results.append(r)
                                cells.append(f"{m} {r['gap']:.1e}/{r['n_evaluations']}/{r['wall_s']:.2f}s")
                        print(f"  D={d:<2d} f{f:<2d} " + "  ".join(cells), file=sys.stderr, flush=True)
                    print(f"  D={d}: {time.perf_counter() - t_dim:.0f} s", file=sys.stderr, flush=True)
        finally:
            ctx.close()

    report(results, dims, methods)
    total = time.perf_counter() - t_start
    spent = ", ".join(f"{m} {sum(r['wall_s'] for r in results if r['method'] == m and math.isfinite(r['wall_s'])):.0f} s"
                      for m in methods)
    print(f"\ntotal wall time {total:.0f} s ({spent})")
    if args.json:
        def clean(v):
            if isinstance(v, float) and not math.isfinite(v):
                return None if math.isnan(v) else ("inf" if v > 0 else "-inf")
            if isinstance(v, (np.floating, np.integer)):
                return clean(v.item())
            return v

        with open(args.json, "w") as fh:
            json.dump({"dims": dims, "functions": functions, "instances": instances,
                       "budget_multiplier": args.budget_multiplier, "seed": args.seed,
                       "targets": TARGETS.tolist(),
                       "results": [{k: clean(v) for k, v in r.items()} for r in results]}, fh, indent=1)
        print(f"per-problem results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
