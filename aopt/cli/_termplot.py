"""A line chart drawn in braille characters, as rich Text: convergence curves in the terminal.

Written here rather than borrowed so that tick labels use paola's number format
(1e-06, never 0.0000) and the chart renders the same in tests and terminals.
"""

from __future__ import annotations

import math

from rich.text import Text

from aopt.cli._format import fmt_count, fmt_value

__all__ = ["braille_chart", "SERIES_COLORS", "nice_ticks"]

SERIES_COLORS = ("cyan", "magenta", "yellow", "green", "red", "blue", "bright_white")
_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))  # [row][col] of a 2x4 cell


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values (1-2-5 steps) covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(n - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step) * step
    ticks, t = [], start
    while t <= hi + step * 1e-9:
        ticks.append(0.0 if abs(t) < step * 1e-9 else t)
        t += step
    return ticks


def braille_chart(series, width: int = 80, height: int = 14, log: bool = False,
                  title: str | None = None, y_label: str = "best f") -> Text:
    """`series`: [(label, xs, ys)] drawn as step lines; `log`: ys are log10 values, labelled as powers."""
    series = [(lab, list(xs), list(ys)) for lab, xs, ys in series if len(xs)]
    out = Text()
    if title:
        out.append(title + "\n", style="bold")
    if not series:
        return out.append("(no evaluations to plot)", style="dim")
    all_x = [x for _, xs, _ in series for x in xs]
    all_y = [y for _, _, ys in series for y in ys]
    xmin, xmax = min(all_x), max(all_x)
    ymin, ymax = min(all_y), max(all_y)
    if ymax == ymin:
        pad = abs(ymin) * 0.1 or (0.5 if log else 1.0)
        ymin, ymax = ymin - pad, ymax + pad
    if xmax == xmin:
        xmax = xmin + 1
    if log:
        ticks = list(range(math.ceil(ymin), math.floor(ymax) + 1))
        while len(ticks) > 5:
            ticks = ticks[::2]
        labels = [fmt_value(10.0 ** t, 3) for t in ticks] or [fmt_value(10 ** ymin, 3)]
        ticks = ticks or [ymin]
    else:
        ticks = nice_ticks(ymin, ymax)
        labels = [fmt_value(t, 4) for t in ticks]
    lw = max(len(s) for s in labels)
    cols = max(width - lw - 2, 10)
    rows = max(height, 4)
    px, py = 2 * cols, 4 * rows
    bits = [[0] * cols for _ in range(rows)]
    owner = [[-1] * cols for _ in range(rows)]

    def dot(ix: int, iy: int, k: int) -> None:
        r, c = iy // 4, ix // 2
        bits[r][c] |= _BITS[iy % 4][ix % 2]
        owner[r][c] = k

    def to_px(x):
        return min(px - 1, max(0, round((x - xmin) / (xmax - xmin) * (px - 1))))

    def to_py(y):
        return min(py - 1, max(0, round((ymax - y) / (ymax - ymin) * (py - 1))))

    for k, (_, xs, ys) in enumerate(series):
        prev = None
        for x, y in zip(xs, ys):
            cx, cy = to_px(x), to_py(y)
            if prev is None:
                dot(cx, cy, k)
            else:
                ax, ay = prev
                for ix in range(min(ax, cx), max(ax, cx) + 1):  # step: across at the old level...
                    dot(ix, ay, k)
                for iy in range(min(ay, cy), max(ay, cy) + 1):  # ...then down to the new one
                    dot(cx, iy, k)
            prev = (cx, cy)
        if prev is not None:  # carry the final level to the right edge of this run
            for ix in range(prev[0], to_px(max(xs)) + 1):
                dot(ix, prev[1], k)

    tick_rows = {}
    for t, lab in zip(ticks, labels):
        tick_rows.setdefault(min(rows - 1, max(0, round((ymax - t) / (ymax - ymin) * (rows - 1)))), lab)
    for r in range(rows):
        lab = tick_rows.get(r)
        out.append((lab or "").rjust(lw) + (" ┤" if lab else " │"), style="dim")
        for c in range(cols):
            ch = chr(0x2800 + bits[r][c]) if bits[r][c] else " "
            k = owner[r][c]
            out.append(ch, style=SERIES_COLORS[k % len(SERIES_COLORS)] if k >= 0 else "")
        out.append("\n")
    out.append(" " * lw + " └" + "─" * cols + "\n", style="dim")
    left, mid, right = fmt_count(int(xmin)), fmt_count(int((xmin + xmax) / 2)), fmt_count(int(xmax))
    axis = [" "] * cols
    for pos, s in ((0, left), ((cols - len(mid)) // 2, mid), (cols - len(right), right)):
        for i, ch in enumerate(s):
            if 0 <= pos + i < cols:
                axis[pos + i] = ch
    out.append(" " * (lw + 2) + "".join(axis).rstrip() + "\n", style="dim")
    legend = Text(" " * (lw + 2))
    legend.append(f"evaluation → · {y_label}{' (log scale)' if log else ''}", style="dim")
    if len(series) > 1 or series[0][0]:
        for k, (lab, _, _) in enumerate(series):
            legend.append("   ")
            legend.append("━━ ", style=SERIES_COLORS[k % len(SERIES_COLORS)])
            legend.append(lab)
    out.append(legend)
    return out
