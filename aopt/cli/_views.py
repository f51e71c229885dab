"""Rich tables of runs, problems and algorithms. Each function returns a renderable."""

from __future__ import annotations

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from aopt.cli._format import (claim_text, fmt_count, fmt_duration, fmt_value, fmt_vector, fmt_when,
                              problem_labels, status_text)

__all__ = ["runs_table", "problems_table", "problem_panel", "algorithms_table", "SORT_KEYS",
           "sort_runs", "constraint_texts"]

# /runs --sort KEY: what each key sorts by (None last), and whether larger comes first
SORT_KEYS = {
    "id": (lambda r: r["id"], True),
    "newest": (lambda r: r["id"], True),
    "oldest": (lambda r: r["id"], False),
    "best": (lambda r: r.get("best_f"), False),
    "evals": (lambda r: r.get("n_evaluations"), True),
    "time": (lambda r: r.get("duration_s"), True),
    "problem": (lambda r: (r.get("problem") or "").lower(), False),
    "algorithm": (lambda r: (r.get("algorithm") or "").lower(), False),
    "status": (lambda r: r.get("status") or "", False),
}


def sort_runs(runs: list[dict], key: str) -> list[dict]:
    """Runs sorted by a /runs --sort key; runs without that value go last."""
    get, descending = SORT_KEYS[key]
    have = [r for r in runs if get(r) is not None]
    missing = [r for r in runs if get(r) is None]
    return sorted(have, key=get, reverse=descending) + missing


class RunsTable:
    """The run list: id, problem, algorithm, status, best f, evaluations, time, result (the claim), started.

    Built at render time so it fits the width: the start time is left out below 96 columns, or
    when the other columns would have to fold to make room for it, and numbers are never cut.
    """

    def __init__(self, runs: list[dict], total: int | None = None, title: str | None = None):
        self.runs, self.total, self.title = runs, total, title

    def __rich_console__(self, console, options):
        from rich.measure import Measurement

        width = options.max_width
        table = self.table(width)
        if width >= 96 and Measurement.get(console, options.update_width(4 * width), table).maximum > width:
            table = self.table(width, started=False)
        yield table

    def table(self, width: int = 100, started: bool = True) -> Table:
        caption = None
        if self.total is not None and self.total > len(self.runs):
            caption = f"{len(self.runs)} of {self.total} runs shown (use --limit)"
        table = Table(title=self.title, caption=caption, box=box.SIMPLE_HEAD, header_style="bold",
                      pad_edge=False, collapse_padding=True)
        table.add_column("id", justify="right", style="bold", no_wrap=True)
        table.add_column("problem", overflow="fold", max_width=22)
        table.add_column("algorithm", max_width=26, overflow="fold")
        table.add_column("status", no_wrap=True)
        table.add_column("best f", justify="right", no_wrap=True)
        table.add_column("evals", justify="right", no_wrap=True)
        table.add_column("time", justify="right", no_wrap=True)
        table.add_column("result", overflow="fold", max_width=21)
        started = started and width >= 96
        if started:
            table.add_column("started", style="dim", no_wrap=True)
        labels = problem_labels(self.runs)  # 'name #ID' where shown problems share a name
        for r in self.runs:
            parent = f" ← {r['parent_id']}" if r.get("parent_id") else ""
            row = [str(r["id"]), labels.get(r.get("problem_id"), r.get("problem") or "?") + parent, r.get("algorithm") or "?",
                   status_text(r.get("status")), fmt_value(r.get("best_f")),
                   fmt_count(r.get("n_evaluations") or 0), fmt_duration(r.get("duration_s")),
                   claim_text(r)]
            if started:
                row.append(fmt_when(r.get("started_at"))[5:16])
            table.add_row(*row)
        return table


def runs_table(runs: list[dict], total: int | None = None, title: str | None = None) -> RunsTable:
    """The run list as a renderable (see RunsTable)."""
    return RunsTable(runs, total, title)


def constraint_texts(problem: dict) -> list[str]:
    out = []
    for c in problem.get("constraints") or []:
        out.append(c.get("text", str(c)) if isinstance(c, dict) else str(c))
    return out


def problems_table(problems: list[dict], run_counts: dict | None = None) -> Table:
    """The problems; `run_counts` maps a problem id to its number of runs."""
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    table.add_column("id", justify="right", style="bold")
    table.add_column("name")
    table.add_column("kind")
    table.add_column("dim", justify="right")
    table.add_column("sense")
    table.add_column("objective", overflow="ellipsis", no_wrap=True, max_width=40)
    table.add_column("constraints", justify="right")
    if run_counts is not None:
        table.add_column("runs", justify="right")
    for p in problems:
        row = [str(p.get("id", "")), p.get("name") or "?", p.get("kind") or "",
               str(p.get("dimension") or len(p.get("variables") or []) or "?"),
               p.get("sense") or "minimize", str(p.get("objective") or ""),
               str(len(p.get("constraints") or []))]
        if run_counts is not None:
            row.append(str(run_counts.get(p.get("id"), 0)))
        table.add_row(*row)
    return table


def _bounds_text(bounds, i) -> str:
    try:
        lo, hi = bounds[i]
    except (TypeError, IndexError, ValueError):
        return "unbounded"
    lo_s = "-inf" if lo is None else fmt_value(lo)
    hi_s = "inf" if hi is None else fmt_value(hi)
    if lo_s in ("-inf", "—") and hi_s in ("inf", "—"):
        return "unbounded"
    return f"[{lo_s}, {hi_s}]"


def variables_table(problem: dict, best_x=None, x0=None, limit: int = 12) -> Table:
    """One row per variable: bounds, and the start and best values when given."""
    names = list(problem.get("variables") or [])
    n = len(names) or len(best_x or x0 or [])
    if not names:
        names = [f"x{i + 1}" for i in range(n)]
    table = Table(box=box.SIMPLE, show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("variable")
    table.add_column("bounds")
    if x0 is not None:
        table.add_column("x0", justify="right")
    if best_x is not None:
        table.add_column("best x", justify="right")
    shown = list(range(n)) if n <= limit else list(range(limit - 2)) + [None] + [n - 2, n - 1]
    for i in shown:
        if i is None:
            table.add_row(f"… {n - limit + 1} more", "", *([""] * ((x0 is not None) + (best_x is not None))))
            continue
        row = [names[i], _bounds_text(problem.get("bounds"), i)]
        if x0 is not None:
            row.append(fmt_value(x0[i]) if i < len(x0) else "—")
        if best_x is not None:
            row.append(fmt_value(best_x[i]) if i < len(best_x) else "—")
        table.add_row(*row)
    return table


def problem_panel(problem: dict, runs: list[dict] | None = None, namesakes: list[int] | None = None,
                  prefix: str = "/") -> Group:
    """One problem: objective, sense, variables and bounds, constraints, known optimum, its runs.

    `namesakes`: ids of other problems with the same name, which are mentioned (their runs are not shown);
    `prefix` starts the command that shows one ("/" in the shell, "paola " outside it).
    """
    head = Text.assemble((f"Problem {problem.get('id', '')} ", "bold"), (problem.get("name") or "?", "bold cyan"),
                         f"  ({problem.get('kind') or 'problem'}, {problem.get('sense') or 'minimize'})")
    parts = [head]
    if namesakes:
        others = ", ".join(f"{prefix}problem {i}" for i in namesakes)
        parts.append(Text(f"{len(namesakes) + 1} problems are named {problem.get('name')}; this is problem "
                          f"{problem.get('id')} (the other{'s' if len(namesakes) > 1 else ''}: {others})",
                          style="yellow"))
    parts.append(Text(f"objective   {problem.get('objective')}"))
    if problem.get("description"):
        parts.append(Text(f"description {problem['description']}"))
    cons = constraint_texts(problem)
    parts.append(Text("constraints " + ("; ".join(cons) if cons else "none")))
    if problem.get("f_star") is not None:
        parts.append(Text(f"known optimum f* = {fmt_value(problem['f_star'])}"
                          + (f" at {fmt_vector(problem['x_star'])}" if problem.get("x_star") else "")))
    parts.append(variables_table(problem))
    if runs is not None:
        parts.append(runs_table(runs, title=f"runs of problem {problem.get('id')} {problem.get('name')}") if runs
                     else Text("no runs yet", style="dim"))
    return Group(*parts)


def algorithms_table(algorithms: list[dict]) -> Table:
    """Algorithms and what each handles (✓ / ·)."""
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("family")
    for col in ("bounds", "constr.", "gradient", "stoch."):
        table.add_column(col, justify="center")
    table.add_column("what it is", overflow="fold")
    tick = lambda v: Text("✓", style="green") if v else Text("·", style="dim")  # noqa: E731
    for a in algorithms:
        table.add_row(a["name"], a.get("family", ""), tick(a.get("handles_bounds")),
                      tick(a.get("handles_constraints")), tick(a.get("uses_gradient")),
                      tick(a.get("stochastic")), a.get("summary", ""))
    return table
