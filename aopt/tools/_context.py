"""The one object tools are handed: the store, the run manager and settings."""

from __future__ import annotations

import contextlib
import contextvars
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

__all__ = ["Context", "Settings", "current_context", "use_context"]


@dataclass
class Settings:
    """User choices that change what tools may do."""

    allow_code: bool = False  # may the model define problems from Python source?
    # defaults for code objectives' sandbox: eval_timeout (s), run_timeout (s), memory_mb
    code_limits: dict = field(default_factory=dict)


@dataclass
class Context:
    """Store + run manager + settings, passed to every tool (no module-level state)."""

    store: object
    runs: object
    settings: Settings = field(default_factory=Settings)
    # called from the recorder's thread about every 0.1 s during an optimization with
    # {"run_id", "n_evaluations", "best_f", "elapsed_s"} and, when known, "phase" (what runs now, e.g.
    # "CMA-ES restart 3") and "max_evaluations" (the budget); the shell draws its live line from it
    progress: Callable[[dict], None] | None = None
    # asked before code written by a model runs: confirm_code(source, function) -> bool;
    # None means no one to ask (a script that enabled allow_code has consented)
    confirm_code: Callable[[str, str], bool] | None = None

    @classmethod
    def open(cls, path: str | os.PathLike | None = None, settings: Settings | None = None) -> "Context":
        """A context on the store at `path` (default: `AOPT_STORE` or `./.aopt_runs`)."""
        from aopt.runs import RunManager
        from aopt.storage import open_store

        store = open_store(path)
        return cls(store=store, runs=RunManager(store), settings=settings or Settings())

    @property
    def problems(self):
        return self.runs.problems

    def close(self) -> None:
        self.store.close()


_current: contextvars.ContextVar[Context | None] = contextvars.ContextVar("paola_context", default=None)
# The context on the AOPT_STORE store, shared by every call that no `use_context` covers. Not a
# context variable: `tool.invoke` runs each tool in a copy of the caller's context, so a value
# set there is gone after the call, and each call opened the store anew.
_default: list[Context] = []
_default_lock = threading.Lock()


def current_context() -> Context:
    """The context set by `use_context`, else one on the `AOPT_STORE` store (made on first use)."""
    ctx = _current.get()
    if ctx is not None:
        return ctx
    wanted = str(Path(os.environ.get("AOPT_STORE") or ".aopt_runs").resolve())
    with _default_lock:
        if _default and getattr(_default[0], "_env_path", None) == wanted:
            return _default[0]
        if _default:
            _default.pop().close()
        ctx = Context.open(wanted)
        ctx._env_path = wanted
        _default.append(ctx)
        return ctx


@contextlib.contextmanager
def use_context(ctx: Context):
    """Make module-level tools (`aopt.tools.create_problem`, ...) act on `ctx` inside the block."""
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
