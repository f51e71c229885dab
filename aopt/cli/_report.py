"""Markdown reports of runs: the problem, what was tried, a results table, the best solution, a plot."""

from __future__ import annotations

import re

from datetime import datetime
from pathlib import Path

from aopt.cli._format import (claim_evidence, fmt_claim, fmt_count, fmt_duration, fmt_options, fmt_value,
                              fmt_vector, plural, problem_labels)
from aopt.cli._run_views import rank_runs
from aopt.cli._views import constraint_texts

__all__ = ["Report", "build_report"]


class Report:
    """A written report; `plot_paths` holds one convergence picture per problem (`plot_path` the first)."""

    def __init__(self, markdown: str, path: Path | None, plot_paths, run_ids: list[int]):
        if plot_paths is None:
            plot_paths = []
        elif isinstance(plot_paths, (str, Path)):
            plot_paths = [plot_paths]
        self.markdown, self.path, self.run_ids = markdown, path, run_ids
        self.plot_paths = [Path(p) for p in plot_paths]

    @property
    def plot_path(self) -> Path | None:
        return self.plot_paths[0] if self.plot_paths else None

    @property
    def terminal_markdown(self) -> str:
        """The Markdown without the image links (the terminal shows its own charts instead)."""
        text = self.markdown
        for p in self.plot_paths:
            text = text.replace(f"![convergence]({p.name})", f"(picture: {p})")
        return text

    def to_dict(self) -> dict:
        return {"path": str(self.path) if self.path else None,
                "plot": str(self.plot_path) if self.plot_path else None,
                "plots": [str(p) for p in self.plot_paths],
                "run_ids": self.run_ids, "markdown": self.markdown}


def _md(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_text(text) -> str:
    """Plain words in Markdown: the request "x*y*z subject to x + 2*y" must not turn into italics."""
    return _md(re.sub(r"([\\`*_\[\]<>#])", r"\\\1", str(text)))


def _problem_section(problem: dict, runs: list[dict], label: str | None = None) -> list[str]:
    out = [f"## Problem `{label or problem.get('name', runs[0].get('problem'))}`", ""]
    dim = problem.get("dimension") or len(problem.get("variables") or [])
    out.append(f"- objective: `{_md(problem.get('objective', '?'))}` ({problem.get('kind') or 'problem'}, "
               f"{problem.get('sense') or 'minimize'}, {plural(dim, 'variable')})")
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
                   f"{plural(r.get('n_evaluations') or 0, 'evaluation')} in {fmt_duration(r.get('duration_s'))}."
                   + (f" {_md_text(r['description'])}" if r.get("description") else ""))
    best_id, note = rank_runs(runs, problem.get("sense") or "minimize")
    out += ["", "### Results", "", "| run | algorithm | status | best f | evaluations | time | result |",
            "|---:|---|---|---:|---:|---:|---|"]
    for r in runs:
        mark = " ★" if r["id"] == best_id else ""
        out.append(f"| {r['id']}{mark} | {r.get('algorithm')} | {r.get('status')} | {fmt_value(r.get('best_f'))} "
                   f"| {fmt_count(r.get('n_evaluations') or 0)} | {fmt_duration(r.get('duration_s'))} "
                   f"| {_md(fmt_claim(r))} |")
    out += ["", f"{note}.", ""]
    if best_id is not None:
        best = next(r for r in runs if r["id"] == best_id)
        evidence = claim_evidence(best)
        out += ["### Best solution", "", f"f = **{fmt_value(best.get('best_f'), 10)}** (run {best_id}, "
                f"{best.get('algorithm')}); result: {_md_text(fmt_claim(best, sentence=True))}"
                + (f" ({_md_text(evidence)})" if evidence else ""), ""]
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
             f"{plural(len(runs), 'run')}_", ""]
    groups: dict = {}
    for r in runs:
        groups.setdefault(r.get("problem_id", r.get("problem")), []).append(r)
    labels = problem_labels(runs)
    plot_paths = []
    for n, group in enumerate(groups.values(), 1):
        label = labels.get(group[0].get("problem_id"), group[0].get("problem"))
        lines += _problem_section(reader.problem_of(group[0]) or {"name": group[0].get("problem")}, group, label)
        # one convergence plot per problem: best values of different problems (or senses) do not compare
        curves = []
        for r in group:
            if r.get("n_evaluations"):
                try:
                    curves.append(best_so_far(f"run {r['id']} {r.get('algorithm')}", reader.history(r),
                                              reader.sense(r)))
                except Exception:  # a run without stored evaluations still gets its row in the table
                    pass
        if any(c.xs for c in curves):
            name = f"{base}.png" if len(groups) == 1 else f"{base}-p{n}.png"
            plot_path = save_plot(curves, folder / name, title=f"convergence: {label}")
            plot_paths.append(plot_path)
            lines += ["### Convergence", "", f"![convergence]({plot_path.name})", ""]
    path = folder / f"{base}.md"
    markdown = "\n".join(lines)
    path.write_text(markdown, encoding="utf-8")
    return Report(markdown, path, plot_paths, ids)
