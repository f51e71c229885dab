"""How failures in the worker become clear `SandboxError`s: which limit, where, at which point.

`FailureReports` is mixed into `Worker`; it reads the worker's specs, limits,
captured output and diagnostics pipe, stops the child when needed and raises.
"""

from __future__ import annotations

import math
import os
import select
import signal
import subprocess
import time

import numpy as np

from aopt.sandbox import _child as proto
from aopt.sandbox._errors import LimitExceeded, SandboxError, UserCodeError, WorkerDied

__all__ = ["FailureReports", "fmt_point"]

_INF = math.inf
_SIGNAL_NAMES = {
    signal.SIGSEGV: "SIGSEGV (segmentation fault)",
    signal.SIGBUS: "SIGBUS (bus error)",
    signal.SIGILL: "SIGILL (illegal instruction)",
    signal.SIGFPE: "SIGFPE (arithmetic error)",
    signal.SIGABRT: "SIGABRT (abort)",
    signal.SIGKILL: "SIGKILL (killed, possibly by the system's out-of-memory killer)",
    signal.SIGTERM: "SIGTERM (terminated)",
}
_MEMORY_HINTS = (b"MemoryError", b"bad_alloc", b"Cannot allocate memory", b"out of memory", b"Unable to allocate")


def _paren(*parts: str) -> str:
    """' (a; b)' from the non-empty parts, or ''."""
    parts = [p for p in parts if p]
    return f" ({'; '.join(parts)})" if parts else ""


def fmt_point(x) -> str:
    """A point, short enough for one line of an error message."""
    return np.array2string(np.asarray(x, dtype=float), precision=6, threshold=8, edgeitems=3, separator=", ")


class FailureReports:
    """The failure half of `Worker` (see there); not used on its own."""
    def _nonfinite_objective(self, f: np.ndarray, X: np.ndarray) -> np.ndarray:
        bad = ~np.isfinite(f)
        self.counts["nonfinite"] += int(bad.sum())
        if self.nan_policy == "raise":
            i = int(np.argmax(bad))
            where = f", row {i} of the batch" if X.shape[0] > 1 else ""
            raise UserCodeError(
                f"{self._what(proto.OP_OBJECTIVE, 0)} returned {f[i]} (x = {fmt_point(X[i])}{where}); "
                "non-finite values are errors with nan_policy='raise' (use nan_policy='inf' to treat them as failed points)",
                "bad_return", index=i, x=X[i], partial=f[:i],
            )
        f = f.copy()
        f[np.isnan(f)] = _INF
        return f

    def _point_text(self, X, index) -> str:
        if X is None or index is None or X.shape[0] == 0:
            return ""
        row = X[index] if index < X.shape[0] else X[0]
        where = f", row {index} of a batch of {X.shape[0]}" if X.shape[0] > 1 else ""
        return f"x = {fmt_point(row)}{where}"

    def _raise_child_error(self, rec: dict, what: str, X, index) -> None:
        kind = rec.get("kind", "user_exception")
        message = rec.get("message", "")
        where = rec.get("where") or ""
        row = rec.get("index")
        x = X[row] if (X is not None and row is not None and row < X.shape[0]) else None
        point = self._point_text(X, row)
        at = _paren(where, point)
        common = {"traceback": rec.get("traceback", ""), "index": row, "x": x, "partial": rec.get("values") or []}
        if kind in ("import_error", "missing_function", "code_changed", "exit"):
            self._wait_exit(1.0)  # the child ends by itself after these
        if kind in ("import_error", "missing_function", "code_changed"):
            self._kill(message)
            raise UserCodeError(message, kind, output=self._out.text(4096), **common)
        if kind == "user_exception":
            raise UserCodeError(f"{what} raised {message}{at}", kind, **common)
        if kind == "bad_return":
            raise UserCodeError(f"{what} {message}{_paren(point)}", kind, **common)
        if kind == "memory":
            self._kill(f"memory limit of {self.limits.memory_mb} MiB exceeded")
            detail = message if what == "start" and not where else f"MemoryError in {what}{at}"
            raise LimitExceeded(
                f"worker exceeded the {self.limits.memory_mb} MiB memory limit: {detail}; the worker was stopped. "
                "Raise Limits(memory_mb=...) if the model really needs more.",
                "memory", limit="memory_mb", value=self.limits.memory_mb or 0, output=self._out.text(4096), **common,
            )
        if kind == "exit":
            self._kill(message)
            raise WorkerDied(f"{what}: {message}{at}; the worker stopped", "exit", output=self._out.text(4096), **common)
        self._kill(message)  # pragma: no cover - unknown kinds
        raise SandboxError(f"{what}: {message}", kind, **common)

    def _diagnostic_location(self, wait: float) -> str:
        """Where the child was, from faulthandler's dump on the diagnostics pipe ("" when unknown)."""
        chunks = []
        end = time.monotonic() + wait
        poller = select.poll()
        poller.register(self._diag, select.POLLIN)
        while True:
            left = end - time.monotonic()
            if left <= 0 or not poller.poll(max(1, int(left * 1000))):
                break
            try:
                data = os.read(self._diag, 1 << 16)
            except BlockingIOError:
                continue
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
            end = min(end, time.monotonic() + 0.05)  # the dump arrives in pieces; stop when it pauses
        text = b"".join(chunks).decode("utf-8", "replace")
        user_files = {self.objective_spec.path, *(s.path for s in self.constraint_specs)}
        if self.gradient_spec is not None:
            user_files.add(self.gradient_spec.path)
        for line in text.splitlines():
            line = line.strip()
            if not line.startswith('File "'):
                continue
            path, _, rest = line[6:].partition('"')
            if path in user_files:
                rest = rest.strip(", ").replace(" in ", ", in ", 1)
                return f"{os.path.basename(path)}, {rest}"
        return ""

    def _limit_hit(self, per_eval: bool, what: str, X, index) -> None:
        res = self._res
        location = ""
        if res is not None and res.proc is not None and res.proc.poll() is None:
            try:
                os.kill(res.proc.pid, signal.SIGUSR1)  # faulthandler: dump the stack to the diagnostics pipe
                location = self._diagnostic_location(0.3)
            except ProcessLookupError:
                pass
        at = f"it was at {location}" if location else ""
        if per_eval:
            row = None
            if X is not None and X.shape[0] > 1:
                row = proto.PROGRESS.unpack_from(self._mm, 0)[1]
            point = _paren(self._point_text(X, row if row is not None else 0), at)
            if what == "start":
                limit, value = "start_timeout", self.limits.start_timeout
                text = f"starting the worker and importing the user's file exceeded the {value:g} s start-up time limit{_paren(at)}"
            else:
                limit, value = "eval_timeout", self.limits.eval_timeout
                text = f"evaluation of {what} exceeded the {value:g} s time limit per evaluation{point}"
            self._kill(text)
            raise LimitExceeded(f"{text}; the worker was stopped", "timeout", limit=limit, value=value,
                                output=self._out.text(4096), index=row)
        value = self.limits.run_timeout
        elapsed = time.monotonic() - self._started
        text = (f"run exceeded the {value:g} s time limit per run"
                f"{_paren(f'{elapsed:.1f} s since the worker started, during {what}', at)}")
        self._kill(text)
        raise LimitExceeded(f"{text}; the worker was stopped", "run_timeout", limit="run_timeout", value=value,
                            output=self._out.text(4096))

    def _died(self, what: str, X, index) -> None:
        res = self._res
        proc = res.proc
        try:
            proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            pass
        location = self._diagnostic_location(0.05)
        code = proc.poll()
        self._drain_output()
        tail = self._out.text(2048)
        tail_bytes = tail.encode("utf-8", "replace")
        at = f" at {location}" if location else ""
        point = _paren(self._point_text(X, index if X is not None and X.shape[0] == 1 else None))
        during = "while importing the user's file" if what == "start" else f"during {what}{point}"
        last = f"\nlast output:\n{tail.rstrip()}" if tail.strip() else ""
        if self.limits.memory_mb and code not in (0, None) and any(h in tail_bytes for h in _MEMORY_HINTS):
            self._kill("memory limit exceeded")
            raise LimitExceeded(
                f"worker exceeded the {self.limits.memory_mb} MiB memory limit {during}{at} (the process died with "
                f"status {code}); the worker was stopped{last}",
                "memory", limit="memory_mb", value=self.limits.memory_mb, output=tail,
            )
        if code is not None and code < 0:
            name = _SIGNAL_NAMES.get(-code) or f"signal {-code}"
            text = f"the worker crashed with {name} {during}{at}"
            self._kill(text)
            raise WorkerDied(text + last, "crash", returncode=code, output=tail)
        status = "" if code is None else f" with status {code}"
        text = f"the worker process exited{status} {during}{at} (os._exit or an exit from C code)"
        self._kill(text)
        raise WorkerDied(text + last, "exit", returncode=code, output=tail)
