"""A run in full (/show), runs side by side (/compare) and the lineage of runs (/tree)."""

from __future__ import annotations

import math

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from aopt.cli._format import (CLAIM_STYLES, claim_evidence, claim_text, fmt_claim, fmt_count, fmt_duration,
                              fmt_options, fmt_value, fmt_vector, fmt_when, plural, problem_labels, status_text)
from aopt.cli._views import constraint_texts, variables_table
from aopt.optimize import VERIFIED_CLAIMS, claim_of

__all__ = ["run_detail", "comparison", "rank_runs", "lineage_tree", "run_label", "phases_table"]

_FEASIBLE = 1e-6


def _facts(rows) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for k, v in rows:
        table.add_row(k, v if isinstance(v, Text) else Text(str(v)))
    return table


def run_detail(run: dict, problem: dict | None = None, children: list[dict] | None = None,
               chart=None) -> Group:
    """Everything about one run: problem, algorithm and options, start, result (the claim and why), the
    phases of an auto run, lineage, plot."""
    problem = problem or {}
    conv = run.get("convergence") or {}
    title = Text.assemble((f"Run {run['id']}", "bold"), "  ", (run.get("problem") or "?", "bold cyan"),
                          "  ", (run.get("algorithm") or "?", "bold"), "  ", status_text(run.get("status")))
    parts = [title]
    if run.get("description"):
        parts.append(Text(run["description"], style="italic"))
    prob_rows = [("problem", f"{problem.get('name', run.get('problem'))} (id {run.get('problem_id')}, "
                             f"{problem.get('kind') or 'problem'}, {problem.get('sense') or 'minimize'})"),
                 ("objective", str(problem.get("objective", "?")))]
    prob_rows += code_rows(problem)
    cons = constraint_texts(problem)
    prob_rows.append(("constraints", "; ".join(cons) if cons else "none"))
    if problem.get("f_star") is not None:
        prob_rows.append(("known optimum", fmt_value(problem["f_star"])))
    prob_rows += [("algorithm", run.get("algorithm") or "?"),
                  ("options", fmt_options(run.get("options"))),
                  ("seed", "—" if run.get("seed") is None else str(run["seed"])),
                  ("start", conv.get("start") or ("given x0" if run.get("x0") is not None else "—"))]
    parts.append(_facts(prob_rows))
    if problem.get("variables") or run.get("best_x") or run.get("x0"):
        parts.append(variables_table(problem, best_x=run.get("best_x"), x0=run.get("x0")))
    claim = claim_of(run)
    best = Text(fmt_value(run.get("best_f"), 10),
                style=f"bold {CLAIM_STYLES[claim]}" if claim in VERIFIED_CLAIMS else "bold")
    result = [("best f", best), ("result", claim_text(run, sentence=True))]
    evidence = claim_evidence(run)
    if evidence:
        result.append(("evidence", evidence))
    checks = [(k, conv.get(k)) for k in ("grad_norm", "kkt_residual", "max_violation", "gap_to_optimum")
              if conv.get(k) is not None]
    if checks:
        result.append(("checks", ", ".join(f"{k.replace('_', ' ')} {fmt_value(v, 3)}" for k, v in checks)))
    n_grad = run.get("n_gradient_evaluations")
    result += [("evaluations", fmt_count(run.get("n_evaluations") or 0)
                + (f" (+{plural(n_grad, 'gradient')})" if n_grad else "")
                + (f", {plural(run['n_iterations'], 'iteration')}" if run.get("n_iterations") is not None
                   else ", iterations not reported (stopped by the budget)" if run.get("status") == "completed"
                   else "")),
               ("time", f"{fmt_duration(run.get('duration_s'))}  "
                        f"(started {fmt_when(run.get('started_at'))}, finished {fmt_when(run.get('finished_at'))})")]
    if run.get("message"):
        result.append(("message", run["message"]))
    if run.get("notes"):
        notes = run["notes"]
        result.append(("notes", "\n".join(notes) if isinstance(notes, list) else str(notes)))
    if run.get("output"):
        result.append(("output", _tail(run["output"])))
    lineage = []
    if run.get("parent_id"):
        lineage.append(f"warm-started from run {run['parent_id']}")
    if children:
        lineage.append("continued by " + ", ".join(f"run {c['id']} ({c.get('algorithm')})" for c in children))
    if lineage:
        result.append(("lineage", "; ".join(lineage)))
    parts.append(_facts(result))
    phases = phases_table(run)
    if phases is not None:
        parts.append(phases)
    if chart is not None:
        parts.append(chart)
    return Group(*parts)


def phases_table(run: dict) -> Table | None:
    """The phases of an auto run (restarts, polish, ...): each with its method, evaluations and the best value
    at its end; ★ marks the first phase that reached the run's best value. None when the run has no phases."""
    phases = [p for p in (run.get("convergence") or {}).get("phases") or [] if isinstance(p, dict)]
    if not phases:
        return None
    best_f = run.get("best_f")

    def reached(p) -> bool:
        f = p.get("best_f")
        return (isinstance(f, (int, float)) and isinstance(best_f, (int, float))
                and math.isclose(f, best_f, rel_tol=1e-12, abs_tol=1e-300))

    star = next((i for i, p in enumerate(phases) if reached(p)), None)
    table = Table(title="phases", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD,
                  header_style="bold", pad_edge=False)
    table.add_column("phase", overflow="fold")
    table.add_column("method", overflow="fold")
    table.add_column("evals", justify="right", no_wrap=True)
    table.add_column("best f", justify="right", no_wrap=True)
    for i, p in enumerate(phases):
        mark = i == star
        table.add_row(str(p.get("phase") or f"phase {i + 1}"), str(p.get("method") or "—"),
                      fmt_count(p.get("evaluations")),
                      Text(fmt_value(p.get("best_f")) + (" ★" if mark else ""), style="bold" if mark else ""))
    return table


def _tail(text: str, lines: int = 12) -> Text:
    rows = text.rstrip("\n").splitlines()
    shown = "\n".join(rows[-lines:])
    if len(rows) > lines:
        shown = f"[... {plural(len(rows) - lines, 'earlier line')}; paola show N --json has all ...]\n" + shown
    return Text(shown, style="dim")


def code_rows(problem: dict) -> list:
    """For a problem defined by Python code: the file, function and hash, and whether it changed."""
    import hashlib

    code = problem.get("code") or {}
    spec = code.get("objective")
    if not spec:
        return []
    rows = []
    for label, item in (("code", spec), ("gradient", code.get("gradient"))):
        if not item:
            continue
        path = item.get("path", "?")
        line = Text(f"{path}:{item.get('function')}  sha256 {str(item.get('sha256', ''))[:12]}")
        try:
            with open(path, "rb") as fh:
                current = hashlib.sha256(fh.read()).hexdigest()
        except OSError:
            current = None
        if current is None:
            line.append("  ⚠ the file is gone (the stored copy is in the problem record)", style="yellow")
        elif current != item.get("sha256"):
            line.append("  ⚠ the file has changed since this problem was defined", style="bold yellow")
        rows.append((label, line))
    return rows


def _violation(run: dict) -> float:
    return float((run.get("convergence") or {}).get("max_violation") or 0.0)


def _feasible(run: dict) -> bool:
    return _violation(run) <= _FEASIBLE and claim_of(run) != "infeasible"


def rank_runs(runs: list[dict], sense: str = "minimize") -> tuple[int | None, str]:
    """(best run id, a sentence why); refuses to rank runs of different problems.

    The best value among the feasible runs wins, whatever the runs claim (a local minimum with a worse value
    is not preferred); the sentence says what the best run's result proves.
    """
    problems = {r.get("problem_id", r.get("problem")) for r in runs}
    if len(problems) > 1:
        return None, (f"these runs solve different problems ({_and(_problem_names(runs))}), so they are "
                      "not ranked against each other")
    with_value = [r for r in runs if r.get("best_f") is not None]
    if not with_value:
        return None, "none of these runs has a value yet"
    feasible = [r for r in with_value if _feasible(r)]
    pool = feasible or with_value
    sign = -1.0 if sense == "maximize" else 1.0
    best = min(pool, key=lambda r: (sign * r["best_f"], r.get("n_evaluations") or 0))
    said = [fmt_claim(best)] if claim_of(best) is not None else []
    if not feasible:
        said.append("no run is feasible")
    return best["id"], (f"run {best['id']} ({best.get('algorithm')}) has the best value "
                        f"{fmt_value(best['best_f'])}" + (f" ({'; '.join(said)})" if said else ""))


def _problem_names(runs: list[dict]) -> list[str]:
    """The distinct problems of `runs` in run order, with '#ID' where two share a name."""
    labels = problem_labels(runs)
    seen: list[str] = []
    for r in runs:
        label = labels.get(r.get("problem_id"), r.get("problem") or "?")
        if label not in seen:
            seen.append(label)
    return seen


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def comparison(runs: list[dict], sense: str = "minimize") -> Group:
    """Runs side by side, one column each; the best column highlighted when they share a problem."""
    best_id, note = rank_runs(runs, sense)
    labels = problem_labels(runs)
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    table.add_column("")
    for r in runs:
        star = " ★" if r["id"] == best_id else ""
        table.add_column(f"run {r['id']}{star}", justify="right",
                         style="bold green" if r["id"] == best_id else None, overflow="fold")
    rows = [
        ("problem", lambda r: labels.get(r.get("problem_id"), r.get("problem") or "?")),
        ("algorithm", lambda r: r.get("algorithm") or "?"),
        ("status", lambda r: status_text(r.get("status"))),
        ("best f", lambda r: fmt_value(r.get("best_f"))),
        ("result", claim_text),
        ("evaluations", lambda r: fmt_count(r.get("n_evaluations") or 0)),
        ("iterations", lambda r: fmt_count(r["n_iterations"]) if r.get("n_iterations") is not None else "?"),
        ("time", lambda r: fmt_duration(r.get("duration_s"))),
        ("max violation", lambda r: fmt_value((r.get("convergence") or {}).get("max_violation"), 3)),
        ("options", lambda r: fmt_options(r.get("options"))),
        ("seed", lambda r: "—" if r.get("seed") is None else str(r["seed"])),
        ("parent", lambda r: str(r["parent_id"]) if r.get("parent_id") else "—"),
        ("best x", lambda r: fmt_vector(r.get("best_x"), limit=4, digits=4)),
    ]
    for label, get in rows:
        table.add_row(label, *[get(r) for r in runs])
    style = "yellow" if best_id is None and "different problems" in note else "bold"
    return Group(table, Text(("★ " if best_id else "") + note, style=style))


def run_label(run: dict, best: bool = False, focus: bool = False) -> Text:
    """'#3 BFGS completed f=1e-08 · 250 evals · 1.2 s ✓ local minimum' with marks for the best and the focused
    run; a run that proved nothing has no mark, one with no finite answer a red ✗."""
    t = Text.assemble((f"#{run['id']} ", "bold"), (run.get("algorithm") or "?", "bold"), " ",
                      status_text(run.get("status")), f"  f={fmt_value(run.get('best_f'))}",
                      (f" · {plural(run.get('n_evaluations') or 0, 'eval')} · "
                       f"{fmt_duration(run.get('duration_s'))}", "dim"))
    claim = claim_of(run)
    if claim in VERIFIED_CLAIMS:
        t.append(f" ✓ {fmt_claim(run)}", style=CLAIM_STYLES[claim])
    elif claim in ("unbounded", "infeasible"):
        t.append(f" ✗ {fmt_claim(run)}", style=CLAIM_STYLES[claim])
    if best:
        t.append("  ★ best", style="bold green")
    if focus:
        t.append("  ◀", style="bold cyan")
    return t


def lineage_tree(runs: list[dict], senses: dict | None = None, focus: int | None = None,
                 labels: dict | None = None) -> Tree:
    """Runs grouped by problem, each warm start or restart under the run it continued from.

    Grouped by problem id (several problems can share a name; their groups show '#ID');
    `senses` maps a problem id (or, failing that, its name) to minimize or maximize; `labels` a problem
    id to its label (default: from the runs shown, see problem_labels).
    """
    senses = senses or {}
    by_id = {r["id"]: r for r in runs}
    kids: dict = {}
    for r in sorted(runs, key=lambda r: r["id"]):
        kids.setdefault(r.get("parent_id") if r.get("parent_id") in by_id else None, []).append(r)
    if focus is not None and focus in by_id:
        root = by_id[focus]
        while root.get("parent_id") in by_id:
            root = by_id[root["parent_id"]]
        chain, stack = [], [root]
        while stack:
            r = stack.pop()
            chain.append(r)
            stack.extend(kids.get(r["id"], []))
        runs = chain
        roots = [root]
    else:
        roots = kids.get(None, [])
    problems: dict = {}
    for r in sorted(runs, key=lambda r: r["id"]):
        problems.setdefault(r.get("problem_id", r.get("problem")), []).append(r)
    labels = {**problem_labels(runs), **(labels or {})}
    tree = Tree(Text("runs by problem" if focus is None else f"lineage of run {focus}", style="bold"))
    for key, group in problems.items():
        name = group[0].get("problem") or "?"
        sense = senses.get(key) or senses.get(name) or "minimize"
        best_id, _ = rank_runs(group, sense)
        label = labels.get(group[0].get("problem_id"), name)
        branch = tree.add(Text.assemble((label, "bold cyan"), (f"  ({plural(len(group), 'run')})", "dim")))
        ids = {r["id"] for r in group}

        def add(node, run):
            child = node.add(run_label(run, best=run["id"] == best_id, focus=run["id"] == focus))
            for k in kids.get(run["id"], []):
                if k["id"] in ids:
                    add(child, k)

        for r in roots:
            if r["id"] in ids:
                add(branch, r)
    return tree
