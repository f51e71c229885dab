"""Markdown reports of runs: the problem, what was tried, a results table, the best solution, a plot."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from aopt.cli._format import fmt_bool, fmt_count, fmt_duration, fmt_options, fmt_value, fmt_vector
from aopt.cli._run_views import rank_runs
from aopt.cli._views import constraint_texts

__all__ = ["Report", "build_report"]


class Report:
    def __init__(self, markdown: str, path: Path | None, plot_path: Path | None, run_ids: list[int]):
        self.markdown, self.path, self.plot_path, self.run_ids = markdown, path, plot_path, run_ids

    @property
    def terminal_markdown(self) -> str:
        """The Markdown without the image link (the terminal shows its own chart instead)."""
        if self.plot_path is None:
            return self.markdown
        return self.markdown.replace(f"![convergence]({self.plot_path.name})", f"(picture: {self.plot_path})")

    def to_dict(self) -> dict:
        return {"path": str(self.path) if self.path else None,
                "plot": str(self.plot_path) if self.plot_path else None,
                "run_ids": self.run_ids, "markdown": self.markdown}


def _md(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _problem_section(problem: dict, runs: list[dict]) -> list[str]:
    out = [f"## Problem `{problem.get('name', runs[0].get('problem'))}`", ""]
    dim = problem.get("dimension") or len(problem.get("variables") or [])
    out.append(f"- objective: `{_md(problem.get('objective', '?'))}` ({problem.get('kind') or 'problem'}, "
               f"{problem.get('sense') or 'minimize'}, {dim} variables)")
    cons = constraint_texts(problem)
    out.append("- constraints: " + ("; ".join(f"`{_md(c)}`" for c in cons) if cons else "none"))
    bounds = problem.get("bounds")
    if bounds:
        uniq = {tuple(b) for b in bounds}
        text = (f"[{fmt_value(bounds[0][0])}, {fmt_value(bounds[0][1])}] for every variable" if len(uniq) == 1
                else fmt_vector([f"[{fmt_value(lo)}, {fmt_value(hi)}]" for lo, hi in bounds], limit=6))
        out.append(f"- bounds: {text}")
    if problem.get("f_star") is not None:
        out.append(f"- known optimum: f* = {fmt_value(problem['f_star'])}")
    out += ["", "### What was tried", ""]
    for r in runs:
        how = f"warm-started from run {r['parent_id']}" if r.get("parent_id") else \
            ((r.get("convergence") or {}).get("start") or "")
        out.append(f"{runs.index(r) + 1}. **Run {r['id']}**: {r.get('algorithm')}, options "
                   f"{fmt_options(r.get('options'))}" + (f", seed {r['seed']}" if r.get("seed") is not None else "")
                   + (f", {how}" if how else "") + f" — {r.get('status')} after "
                   f"{fmt_count(r.get('n_evaluations') or 0)} evaluations in {fmt_duration(r.get('duration_s'))}."
                   + (f" {_md(r['description'])}" if r.get("description") else ""))
    best_id, note = rank_runs(runs, problem.get("sense") or "minimize")
    out += ["", "### Results", "", "| run | algorithm | status | best f | evaluations | time | converged |",
            "|---:|---|---|---:|---:|---:|---|"]
    for r in runs:
        mark = " ★" if r["id"] == best_id else ""
        out.append(f"| {r['id']}{mark} | {r.get('algorithm')} | {r.get('status')} | {fmt_value(r.get('best_f'))} "
                   f"| {fmt_count(r.get('n_evaluations') or 0)} | {fmt_duration(r.get('duration_s'))} "
                   f"| {fmt_bool(r.get('converged'))} |")
    out += ["", f"{note}.", ""]
    if best_id is not None:
        best = next(r for r in runs if r["id"] == best_id)
        reason = (best.get("convergence") or {}).get("reason")
        out += ["### Best solution", "", f"f = **{fmt_value(best.get('best_f'), 10)}** (run {best_id}, "
                f"{best.get('algorithm')}); converged: {fmt_bool(best.get('converged'))}"
                + (f" — {_md(reason)}" if reason else ""), ""]
        names = problem.get("variables") or [f"x{i + 1}" for i in range(len(best.get("best_x") or []))]
        xs = best.get("best_x") or []
        if xs:
            out += ["| variable | value |", "|---|---:|"]
            for i, v in enumerate(xs[:30]):
                out.append(f"| {names[i] if i < len(names) else f'x{i + 1}'} | {fmt_value(v, 10)} |")
            if len(xs) > 30:
                out.append(f"| … | {len(xs) - 30} more |")
            out.append("")
    return out


def build_report(reader, runs: list[dict], title: str, folder: Path | None = None) -> Report:
    """Write `report-*.md` (and its convergence PNG) under `folder` (default: the store's reports/)."""
    from aopt.cli._plots import best_so_far, save_plot

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    ids = [r["id"] for r in runs]
    folder = Path(folder) if folder else reader.path / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    base = f"report-{'-'.join(map(str, ids[:6]))}{'-etc' if len(ids) > 6 else ''}-{stamp}"
    lines = [f"# {title}", "", f"_{datetime.now().strftime('%Y-%m-%d %H:%M')} · store `{reader.path}` · "
             f"{len(runs)} run{'s' if len(runs) != 1 else ''}_", ""]
    groups: dict = {}
    for r in runs:
        groups.setdefault(r.get("problem_id", r.get("problem")), []).append(r)
    for group in groups.values():
        lines += _problem_section(reader.problem_of(group[0]) or {"name": group[0].get("problem")}, group)
    curves = []
    for r in runs:
        if r.get("n_evaluations"):
            try:
                curves.append(best_so_far(f"run {r['id']} {r.get('algorithm')}", reader.history(r),
                                          reader.sense(r)))
            except Exception:  # a run without stored evaluations still gets its row in the table
                pass
    plot_path = None
    if any(c.xs for c in curves):
        plot_path = save_plot(curves, folder / f"{base}.png", title="convergence")
        lines += ["## Convergence", "", f"![convergence]({plot_path.name})", ""]
    path = folder / f"{base}.md"
    markdown = "\n".join(lines)
    path.write_text(markdown, encoding="utf-8")
    return Report(markdown, path, plot_path, ids)
