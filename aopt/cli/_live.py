"""AgentPresenter: shows an agent step as it happens (tool calls, a live progress line, the answer)."""

from __future__ import annotations

import threading
import time

from rich.text import Text

from aopt.cli._format import fmt_count, fmt_duration, fmt_value, plural

__all__ = ["AgentPresenter", "short_args"]


def _short(v, limit: int = 28) -> str:
    if isinstance(v, str):
        s = repr(v)
    elif isinstance(v, float):
        s = fmt_value(v)
    elif isinstance(v, (list, tuple)):
        inner = ", ".join(_short(x, 10) for x in v[:4])
        s = "[" + inner + (", …" if len(v) > 4 else "") + "]"
    elif isinstance(v, dict):
        s = "{" + ", ".join(f"{k}: {_short(x, 10)}" for k, x in list(v.items())[:3]) + \
            (", …" if len(v) > 3 else "") + "}"
    else:
        s = str(v)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def short_args(args, limit: int = 70) -> str:
    """name='rb', objective='rosenbrock', dimension=10 — cut to `limit` characters."""
    if not isinstance(args, dict):
        return _short(args, limit)
    s = ", ".join(f"{k}={_short(v)}" for k, v in args.items() if v is not None and v != "")
    return s if len(s) <= limit else s[: limit - 1] + "…"


class AgentPresenter:
    """Receives the agent's events (`on_event`) and draws them on a rich Console.

    On a terminal the running tool and the optimization's progress share one line that
    is rewritten in place; elsewhere only finished tool calls are printed.
    """

    def __init__(self, console, live: bool | None = None):
        self.console = console
        self.live = console.is_terminal if live is None else live
        self._lock = threading.Lock()
        self._line = ""
        self._current = ""
        self.tool_calls: list[dict] = []

    # -- the live line -----------------------------------------------------------------------
    def _draw(self, text: str) -> None:
        if not self.live:
            return
        width = max(self.console.width - 1, 20)
        text = text if len(text) <= width else text[: width - 1] + "…"
        with self._lock:
            self.console.file.write("\r\x1b[2K\x1b[2m" + text + "\x1b[0m")
            self.console.file.flush()
            self._line = text

    def clear_line(self) -> None:
        with self._lock:
            if self._line and self.live:
                self.console.file.write("\r\x1b[2K")
                self.console.file.flush()
            self._line = ""

    def print(self, *objects, **kw) -> None:
        """Print above the live line (which is cleared first)."""
        self.clear_line()
        with self._lock:
            self.console.print(*objects, **kw)

    # -- events ------------------------------------------------------------------------------
    def begin(self, model_name: str) -> None:
        self.tool_calls = []
        self._draw(f"… thinking ({model_name})")

    def finish(self) -> None:
        self.clear_line()

    def __call__(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "tool_start":
            self._current = f"{event.get('name')}({short_args(event.get('args') or {})})"
            self._started = time.perf_counter()
            self._draw(f"▸ {self._current}")
        elif kind == "progress":
            self._draw(self.progress_text(event))
        elif kind == "tool_end":
            self.tool_end(event)

    def progress_text(self, event: dict) -> str:
        """'▸ run 3 · CMA-ES restart 3 · 4,200 of 10,000 evals · best 0.0012 · 2.1 s'; the phase and the
        budget only when the event has them."""
        run = f"run {event['run_id']} · " if event.get("run_id") is not None else ""
        phase = f"{event['phase']} · " if event.get("phase") else ""
        n, budget = event.get("n_evaluations"), event.get("max_evaluations")
        if isinstance(budget, (int, float)) and not isinstance(budget, bool) and budget > 0:
            evals = f"{fmt_count(n)} of {plural(budget, 'eval')}"
        else:
            evals = plural(n, "eval")
        return (f"▸ {run}{phase}{evals} · best {fmt_value(event.get('best_f'))} · "
                f"{fmt_duration(event.get('elapsed_s'))}   (Ctrl+C stops it and keeps the run)")

    def tool_end(self, event: dict) -> None:
        name = event.get("name") or "?"
        call = self._current if self._current.startswith(name + "(") else f"{name}(…)"
        self._current = ""
        self.tool_calls.append(event)
        error = event.get("error")
        summary = event.get("summary") or ""
        line = Text()
        if error:
            line.append("✗ ", style="red")
        else:
            line.append("✓ ", style="green")
        line.append(call, style="bold")
        text = str(error or summary)
        if text:
            line.append(" → ")
            line.append(text if len(text) < 200 else text[:199] + "…", style="red" if error else "")
        if event.get("duration_s") is not None:
            line.append(f"  {fmt_duration(event['duration_s'])}", style="dim")
        self.print(line, soft_wrap=False, overflow="fold")
