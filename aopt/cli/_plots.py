"""Convergence plots: best-so-far curves of runs, in the terminal or saved as PNG or HTML."""

from __future__ import annotations

import html
import math
from pathlib import Path

from aopt.errors import InvalidInput

__all__ = ["Curve", "best_so_far", "use_log_scale", "convergence_chart", "save_plot", "SAVE_FORMATS"]

SAVE_FORMATS = (".png", ".html", ".svg")
_FEASIBLE = 1e-6


class Curve:
    """The best-so-far value of one run against its evaluation number."""

    def __init__(self, label: str, xs: list[float], ys: list[float]):
        self.label, self.xs, self.ys = label, xs, ys


def best_so_far(label: str, history: dict, sense: str = "minimize") -> Curve:
    """Best feasible value so far at each recorded evaluation (NaNs and infeasible points skipped)."""
    idx, f = history.get("index"), history.get("f")
    cv = history.get("cv")
    if idx is None or f is None or len(f) == 0:
        return Curve(label, [], [])
    feasible_any = cv is not None and len(cv) and any(c <= _FEASIBLE for c in cv if c == c)
    better = (lambda a, b: a < b) if sense != "maximize" else (lambda a, b: a > b)
    xs, ys, best = [], [], None
    for i, (n, v) in enumerate(zip(idx, f)):
        v = float(v)
        if not math.isfinite(v):
            continue
        if feasible_any and not (float(cv[i]) <= _FEASIBLE):
            continue
        if best is None or better(v, best):
            best = v
            xs.append(int(n) + 1)
            ys.append(v)
    if xs and int(idx[-1]) + 1 > xs[-1]:
        xs.append(int(idx[-1]) + 1)
        ys.append(best)
    return Curve(label, xs, ys)


def use_log_scale(curves: list[Curve]) -> bool:
    ys = [y for c in curves for y in c.ys]
    return bool(ys) and min(ys) > 0 and max(ys) / min(ys) > 1e3


def convergence_chart(curves: list[Curve], width: int = 80, height: int = 14, title: str | None = None):
    """A rich Text chart of the curves (log scale when all values are positive and span decades)."""
    from aopt.cli._termplot import braille_chart

    log = use_log_scale(curves)
    series = [(c.label, c.xs, [math.log10(y) for y in c.ys] if log else c.ys) for c in curves]
    return braille_chart(series, width=width, height=height, log=log, title=title)


def save_plot(curves: list[Curve], path, title: str = "convergence") -> Path:
    """Write the curves to `path` (.png via matplotlib, .html or .svg self-contained); returns the path."""
    path = Path(path).expanduser()
    suffix = path.suffix.lower()
    if suffix not in SAVE_FORMATS:
        raise InvalidInput(f"--save needs a file ending in {', '.join(SAVE_FORMATS)}; got {str(path)!r}")
    if not any(c.xs for c in curves):
        raise InvalidInput("nothing to plot: these runs have no recorded evaluations")
    if path.parent and not path.parent.exists():
        raise InvalidInput(f"cannot save to {str(path)!r}: the folder {str(path.parent)!r} does not exist")
    if suffix == ".png":
        _save_png(curves, path, title)
    else:
        svg = svg_chart(curves, title)
        if suffix == ".svg":
            path.write_text(svg, encoding="utf-8")
        else:
            path.write_text(
                "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                f"<title>{html.escape(title)}</title>\n<style>body{{font-family:sans-serif;margin:2em}}"
                "</style></head>\n<body>\n" + svg + "\n</body></html>\n", encoding="utf-8")
    return path


def _save_png(curves: list[Curve], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4.5), dpi=110)
    ax = fig.add_subplot()
    for c in curves:
        ax.step(c.xs, c.ys, where="post", label=c.label, linewidth=1.8)
    if use_log_scale(curves):
        ax.set_yscale("log")
    ax.set_xlabel("evaluation")
    ax.set_ylabel("best f so far")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if any(c.label for c in curves):
        ax.legend()
    fig.tight_layout()
    fig.savefig(path)


_SVG_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2")


def svg_chart(curves: list[Curve], title: str, width: int = 760, height: int = 420) -> str:
    """A self-contained SVG step chart with axes, ticks and a legend (no scripts, no network)."""
    from aopt.cli._format import fmt_count, fmt_value
    from aopt.cli._termplot import nice_ticks

    log = use_log_scale(curves)
    tf = (lambda y: math.log10(y)) if log else (lambda y: y)
    xs = [x for c in curves for x in c.xs]
    ys = [tf(y) for c in curves for y in c.ys]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y0, y1 = y0 - 1, y1 + 1
    left, right, top, bottom = 80, 20, 40, 50
    pw, ph = width - left - right, height - top - bottom
    sx = lambda x: left + (x - x0) / (x1 - x0) * pw  # noqa: E731
    sy = lambda y: top + (y1 - y) / (y1 - y0) * ph  # noqa: E731
    e = html.escape
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15">{e(title)}</text>',
             f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>']
    yt = list(range(math.ceil(y0), math.floor(y1) + 1)) if log else nice_ticks(y0, y1)
    for t in yt:
        y = sy(t)
        label = fmt_value(10.0 ** t, 3) if log else fmt_value(t, 4)
        parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{e(label)}</text>')
    for t in nice_ticks(x0, x1, 6):
        x = sx(t)
        parts.append(f'<text x="{x:.1f}" y="{top + ph + 18}" text-anchor="middle">{fmt_count(round(t))}</text>')
    parts.append(f'<text x="{left + pw / 2}" y="{height - 10}" text-anchor="middle">evaluation</text>')
    parts.append(f'<text x="16" y="{top + ph / 2}" text-anchor="middle" '
                 f'transform="rotate(-90 16 {top + ph / 2})">best f so far{" (log)" if log else ""}</text>')
    for k, c in enumerate(curves):
        if not c.xs:
            continue
        color = _SVG_COLORS[k % len(_SVG_COLORS)]
        pts, prev = [], None
        for x, y in zip(c.xs, c.ys):
            if prev is not None:
                pts.append(f"{sx(x):.1f},{sy(tf(prev)):.1f}")
            pts.append(f"{sx(x):.1f},{sy(tf(y)):.1f}")
            prev = y
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(pts)}">'
                     f'<title>{e(c.label)}</title></polyline>')
        ly = top + 16 + 18 * k
        parts.append(f'<line x1="{left + pw - 170}" x2="{left + pw - 146}" y1="{ly - 4}" y2="{ly - 4}" '
                     f'stroke="{color}" stroke-width="3"/>')
        parts.append(f'<text x="{left + pw - 140}" y="{ly}">{e(c.label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
