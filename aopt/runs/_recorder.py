"""RunRecorder: keeps every evaluation of a run, cheaply, and flushes it to the store in batches.

The hot path (`record`) writes one row into a preallocated numpy buffer and bumps a
counter: about a microsecond. A background thread writes what has accumulated to the
store every `flush_interval` seconds (0.1 s by default; never more than 0.25 s apart
unless the store itself blocks) and whenever a buffer of `chunk_size` rows fills, so a
crash loses at most the last flush window. Each flush also updates the run's summary
(evaluation count, best value and point) in the same transaction.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

import numpy as np

__all__ = ["RunRecorder"]

_FEASIBLE = 1e-6


class _Buffer:
    __slots__ = ("X", "F", "CV", "T", "start", "flushed")

    def __init__(self, size: int, dim: int, start: int):
        self.X = np.empty((size, dim))
        self.F = np.empty(size)
        self.CV = np.zeros(size)
        self.T = np.empty(size)
        self.start = start  # global index of row 0
        self.flushed = 0  # rows already written to the store


class RunRecorder:
    """Buffers evaluations of one run and flushes them by count and by time."""

    def __init__(self, store, run_id: int, dimension: int, *, to_user: Callable[[float], float] = float,
                 chunk_size: int = 8192, flush_interval: float = 0.1,
                 progress: Callable[[dict], None] | None = None):
        self.store = store
        self.run_id = run_id
        self.dimension = dimension
        self._to_user = to_user
        self._chunk = chunk_size
        self._interval = flush_interval
        self._progress = progress
        self._lock = threading.Lock()  # guards buffer rotation and snapshots
        self._full: list[_Buffer] = []
        self._cur = _Buffer(chunk_size, dimension, 0)
        self._i = 0  # rows used in the current buffer
        self.n = 0  # evaluations recorded
        self.n_flushed = 0
        self.best_f = np.inf  # minimization form
        self.best_x: np.ndarray | None = None
        self.best_cv = np.inf
        self._t0 = time.perf_counter()
        self._wake = threading.Event()
        self._stop = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name=f"paola-recorder-{run_id}", daemon=True)
        self._thread.start()

    # -- hot path -----------------------------------------------------------------------------
    def record(self, x: np.ndarray, f: float, cv: float = 0.0) -> None:
        """Keep one evaluation (minimization-form value `f`, constraint violation `cv`)."""
        i = self._i
        if i == self._chunk:
            self._rotate()
            i = 0
        buf = self._cur
        buf.X[i] = x
        buf.F[i] = f
        buf.T[i] = time.perf_counter() - self._t0
        if cv:
            buf.CV[i] = cv
        self._i = i + 1
        self.n += 1
        if cv <= _FEASIBLE:
            if f < self.best_f or self.best_cv > _FEASIBLE:
                self.best_f, self.best_x, self.best_cv = f, np.array(x, dtype=float), cv
        elif self.best_cv > _FEASIBLE and cv < self.best_cv:
            self.best_f, self.best_x, self.best_cv = f, np.array(x, dtype=float), cv

    def _rotate(self) -> None:
        with self._lock:
            self._full.append(self._cur)
            self._cur = _Buffer(self._chunk, self.dimension, self.n)
            self._i = 0
        self._wake.set()

    # -- background flushing ------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop:
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._stop:
                break
            try:
                self.flush()
            except BaseException as exc:  # noqa: BLE001 - kept and re-raised by close()
                self._error = exc
                return

    def summary(self) -> dict:
        """The run-row fields that describe what has been recorded so far (user's sense)."""
        best = None if self.best_x is None else self.best_x.tolist()
        best_f = None if self.best_x is None or not np.isfinite(self.best_f) else float(self._to_user(self.best_f))
        return {"n_evaluations": self.n_flushed, "best_f": best_f, "best_x": best}

    def flush(self) -> None:
        """Write every recorded evaluation not yet in the store (thread-safe)."""
        with self._lock:
            pending = self._full
            self._full = []
            cur, used = self._cur, self._i
        parts = []
        for buf in pending:
            size = len(buf.F)
            if buf.flushed < size:
                parts.append((buf, buf.flushed, size))
        if cur.flushed < used:
            parts.append((cur, cur.flushed, used))
        if not parts:
            return
        X = np.concatenate([b.X[a:z] for b, a, z in parts])
        F = np.concatenate([b.F[a:z] for b, a, z in parts])
        CV = np.concatenate([b.CV[a:z] for b, a, z in parts])
        T = np.concatenate([b.T[a:z] for b, a, z in parts])
        start = parts[0][0].start + parts[0][1]
        summary = self.summary()
        summary["n_evaluations"] = start + len(F)
        self.store.append_evaluations(self.run_id, start, X, F, CV, T, summary=summary)
        for b, _, z in parts:
            b.flushed = z
        self.n_flushed = start + len(F)
        if self._progress is not None:
            self._progress({"run_id": self.run_id, "n_evaluations": self.n, "best_f": summary["best_f"],
                            "elapsed_s": time.perf_counter() - self._t0})

    def close(self) -> None:
        """Stop the background thread and write everything recorded."""
        self._stop = True
        self._wake.set()
        self._thread.join()
        if self._error is not None:
            raise self._error
        self.flush()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._t0
