"""Errors raised by the sandbox. Every one says what happened, where, and what to change.

`SandboxError.kind` names the cause so callers (tools, the run layer) can react
without parsing messages:

| kind | class | the worker afterwards |
|---|---|---|
| `"import_error"` | `UserCodeError` | never started (file failed to import) |
| `"missing_function"` | `UserCodeError` | never started (no such function in the file) |
| `"code_changed"` | `UserCodeError` | never started (file differs from the stored hash) |
| `"user_exception"` | `UserCodeError` | alive: the exception was caught in the worker |
| `"bad_return"` | `UserCodeError` | alive (non-number, wrong shape, or non-finite with `nan_policy="raise"`) |
| `"timeout"` | `LimitExceeded` (`limit="eval_timeout"`) | stopped |
| `"run_timeout"` | `LimitExceeded` (`limit="run_timeout"`) | stopped |
| `"memory"` | `LimitExceeded` (`limit="memory_mb"`) | stopped |
| `"exit"` | `WorkerDied` | stopped (`sys.exit`, `os._exit`) |
| `"crash"` | `WorkerDied` | stopped (killed by a signal: segfault, abort, ...) |
| `"stopped"` | `WorkerDied` | a call on a worker that had already stopped or was closed |
"""

from __future__ import annotations

from typing import Optional, Sequence

from aopt.errors import PaolaError

__all__ = ["SandboxError", "UserCodeError", "LimitExceeded", "WorkerDied"]


class SandboxError(PaolaError):
    """User code run in the worker failed, or the worker hit a limit; `kind` says which.

    `str(err)` is the message followed by the user-only traceback when there is
    one. Attributes: `kind`, `message` (one paragraph, no traceback),
    `traceback` (user frames only, may be ""), `output` (tail of the captured
    stdout/stderr when the worker stopped, else ""), `index` (row of the batch
    that failed, or None), `x` (that point as a list, or None), `partial`
    (values computed before the failing row of a batch, as a list).
    """

    kind = "sandbox"

    def __init__(
        self,
        message: str,
        kind: Optional[str] = None,
        *,
        traceback: str = "",
        output: str = "",
        index: Optional[int] = None,
        x: Optional[Sequence[float]] = None,
        partial: Optional[Sequence[float]] = None,
    ) -> None:
        self.message = message
        if kind is not None:
            self.kind = kind
        self.traceback = traceback or ""
        self.output = output or ""
        self.index = index
        self.x = list(x) if x is not None else None
        self.partial = list(partial) if partial is not None else []
        super().__init__(self._full_text())

    def _full_text(self) -> str:
        text = self.message
        if self.traceback:
            text += "\n" + self.traceback.rstrip("\n")
        return text


class UserCodeError(SandboxError):
    """The user's file or function misbehaved (import, exception, bad return value)."""

    kind = "user_exception"


class LimitExceeded(SandboxError):
    """A limit was hit (`limit` is `"eval_timeout"`, `"run_timeout"` or `"memory_mb"`); the worker was stopped."""

    kind = "timeout"

    def __init__(self, message: str, kind: Optional[str] = None, *, limit: str = "", value: float = 0.0, **kw) -> None:
        self.limit = limit
        self.value = value
        super().__init__(message, kind, **kw)


class WorkerDied(SandboxError):
    """The worker process ended (exit, crash, or it had already stopped)."""

    kind = "crash"

    def __init__(self, message: str, kind: Optional[str] = None, *, returncode: Optional[int] = None, **kw) -> None:
        self.returncode = returncode
        super().__init__(message, kind, **kw)
