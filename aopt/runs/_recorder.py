"""RunRecorder: keeps every evaluation of a run, cheaply, and flushes it to the store in batches.

The hot path (`record`) appends the point's bytes, the value and a timestamp to
Python lists: well under a microsecond, no numpy work. Every `flush_interval`
seconds (0.1 s by default) what has accumulated is written to the store as arrays,
so a crash loses at most the last flush window; each flush also updates the run's
summary (evaluation count, best value and point) in the same transaction.

While evaluations come fast, the evaluating thread writes a due flush itself, at
its next evaluation: a background thread would have to be handed the GIL for
each of the store's calls, and each hand-off to a core that has gone idle costs
about half a millisecond of the optimizer's time (measured: a flush thread made
a cheap 20,000-evaluation run 6% slower, the same writes inline 2%). A
background thread still flushes when the evaluating thread has not come back for
another interval (a slow objective), so rows never wait more than about two
intervals (0.2 s).
"""

from __future__ import annotations

import math
import threading
import time
from typing import Callable

import numpy as np

from aopt.errors import InvalidInput

__all__ = ["RunRecorder", "FEASIBILITY_TOL"]

FEASIBILITY_TOL = 1e-6
# After this many bytes of evaluations the background thread folds the store's write-ahead log
# into the database (when the store can): a checkpoint inside a flush stalled the optimizer
# for ~25 ms every 16 MB.
CHECKPOINT_BYTES = 16 << 20


class _Batch:
    """Lists the hot path appends to; replaced (under the lock) once `chunk_size` is reached."""

    __slots__ = ("xs", "fs", "ts", "cvs", "start", "flushed")

    def __init__(self, start: int, with_cv: bool):
        self.xs: list[bytes] = []
        self.fs: list[float] = []
        self.ts: list[float] = []
        self.cvs: list[float] | None = [] if with_cv else None
        self.start = start  # global index of the first evaluation in this batch
        self.flushed = 0  # evaluations of this batch already in the store


def _floats(pieces: list[list[float]]) -> np.ndarray:
    if len(pieces) == 1:
        return np.array(pieces[0], dtype=np.float64)
    return np.concatenate([np.array(p, dtype=np.float64) for p in pieces])


class RunRecorder:
    """Buffers the evaluations of one run and flushes them by count and by time.

    `with_cv=True` records a constraint violation per evaluation and makes the best
    point the best feasible one (violation <= 1e-6), or the least infeasible.
    """

    def __init__(self, store, run_id: int, dimension: int, *, to_user: Callable[[float], float] = float,
                 with_cv: bool = False, chunk_size: int = 65536, flush_interval: float = 0.1,
                 progress: Callable[[dict], None] | None = None, max_evaluations: int | None = None):
        self.store = store
        self.run_id = run_id
        self.dimension = dimension
        self._row_bytes = 8 * dimension
        self._to_user = to_user
        self._with_cv = with_cv
        self._chunk = chunk_size
        self._interval = flush_interval
        self._progress = progress
        self.max_evaluations = max_evaluations  # shown by the live line ("4,200 of 10,000")
        self.phase = ""  # what runs now ("CMA-ES restart 3"), set by the run's phases
        self._first_f: float | None = None  # the first evaluation's value, kept when its batch rotates
        self._lock = threading.Lock()  # guards batch rotation and flushing
        self._full: list[_Batch] = []
        self._batch = _Batch(0, with_cv)
        self.n_flushed = 0
        self._unfolded = 0  # bytes flushed since the last checkpoint
        self.best_f = np.inf  # minimization form
        self._best_xb: bytes | None = None
        self.best_cv = np.inf
        self._t0 = time.perf_counter()
        # When the next flush is due: the evaluating thread writes it at its first evaluation past
        # this time (see _flush_due); the background thread one interval later still.
        self._due = self._t0 + flush_interval
        self._wake = threading.Event()
        self._stop = False
        self._checkpointing = False
        self._error: BaseException | None = None
        self._build_hot_path()
        self._thread = threading.Thread(target=self._loop, name=f"paola-recorder-{run_id}", daemon=True)
        self._thread.start()

    # -- hot path -----------------------------------------------------------------------------
    def _build_hot_path(self) -> None:
        """The closures every evaluation goes through: `record` and the objectives of `objective()`.

        They share the current batch's list appends as closure cells, the cheapest state CPython
        has: an attribute lookup per evaluation measured 5-6% of a Nelder-Mead run on a
        cheap objective. The batch is swapped (under the lock) only here, every `chunk_size` rows.
        """
        pc, row, chunk, inf, with_cv = time.perf_counter, self._row_bytes, self._chunk, math.inf, self._with_cv
        batch = self._batch
        xs_append, ts_append, fs_append = batch.xs.append, batch.ts.append, batch.fs.append
        cvs_append = batch.cvs.append if with_cv else None
        left = chunk  # evaluations before `after_row` must run: the batch is full or the budget spent
        best = inf  # best minimization-form value (unconstrained runs)
        due = self._due  # local copy of when the next flush falls due
        f = budget_error = None
        budget = inf

        def spent(x):
            """The objective once the budget is spent: no evaluation past it."""
            raise budget_error()

        def settle() -> None:
            """How many rows until `after_row` must run again; swap in `spent` at the budget."""
            nonlocal left, f
            n = batch.start + len(batch.fs)
            if n >= budget:
                f = spent
            left = max(1, min(chunk - len(batch.fs), budget - n))

        def after_row(now: float) -> None:
            """When the batch is full, the budget spent or a flush due: rotate, flush, stop, or raise
            a failed flush's error."""
            nonlocal batch, xs_append, ts_append, fs_append, cvs_append, due
            if len(batch.fs) >= chunk:
                self._rotate()
                batch = self._batch
                xs_append, ts_append, fs_append = batch.xs.append, batch.ts.append, batch.fs.append
                cvs_append = batch.cvs.append if with_cv else None
                now = inf  # a full batch is written at once: by count as well as by time
            settle()
            due = self._due
            if now > due:
                self._flush_due()
                due = self._due

        def as_bytes(x) -> bytes:
            return np.asarray(x, dtype=np.float64).reshape(-1).tobytes()

        def record(x, f: float, cv: float = 0.0) -> None:
            """Keep one evaluation (minimization-form value `f`, constraint violation `cv`)."""
            nonlocal left, best
            xb = x.tobytes()
            if len(xb) != row:
                xb = as_bytes(x)
            xs_append(xb)
            now = pc()
            ts_append(now)
            if with_cv:
                cvs_append(cv)
                self._track_constrained(xb, f, cv)
            elif f < best:
                best = self.best_f = f
                self._best_xb = xb
            fs_append(f)  # appended last: a row counts once its value is in
            left -= 1
            if not left or now > due:
                after_row(now)

        # `call` repeats `record`'s unconstrained branch inline on purpose: one Python call
        # fewer per evaluation on the hottest path paola has. Its budget costs nothing per call:
        # `settle` swaps `f` for `spent` once the budget is used.
        def call(x):
            nonlocal left, best
            value = f(x)  # a float, or a numpy scalar: both compare and store alike
            xb = x.tobytes()
            if len(xb) != row:
                xb = as_bytes(x)
            xs_append(xb)
            now = pc()
            ts_append(now)
            if value < best:
                best = self.best_f = value
                self._best_xb = xb
            fs_append(value)
            left -= 1
            if not left or now > due:
                after_row(now)
            return value if value == value else inf

        def objective(fun: Callable, limit: float, error: type) -> Callable:
            """The recording objective (one per recorder: a run has one objective)."""
            nonlocal f, budget, budget_error
            if with_cv:
                raise ValueError("a recorder with constraint violations records through record()")
            f, budget, budget_error = fun, limit, error
            settle()
            return call

        self.record = record
        self._make_objective = objective
        self._count = lambda: batch.start + len(batch.fs)

    def _flush_due(self) -> None:
        """A flush is due: write what is waiting from the evaluating thread.

        After a flush failed (a full disk, a store gone read-only), this raises its error,
        so the optimizer stops at the next evaluation instead of running to its budget.
        """
        if self._error is not None:
            raise self._error
        # not acquire(blocking=False) + release(): a Ctrl+C (an asynchronous KeyboardInterrupt
        # in tool threads) landing between the two would leave the lock held for good
        if self._lock.locked():
            self._due = time.perf_counter() + self._interval  # a flush is under way
            return
        try:
            self.flush()
        except Exception as exc:  # noqa: BLE001 - kept and re-raised, as the thread's are
            self._error = exc
            raise

    @property
    def n(self) -> int:
        """Evaluations recorded so far."""
        return self._count()

    def objective(self, f: Callable, budget: float, budget_error: type) -> Callable:
        """`f` wrapped to record each call: the hot path of an unconstrained run, kept to a minimum.

        Raises `budget_error` once `budget` evaluations are recorded; a NaN value is
        recorded as NaN and returned to the optimizer as +inf.
        """
        return self._make_objective(f, budget, budget_error)

    def _track_constrained(self, xb: bytes, f: float, cv: float) -> None:
        if cv <= FEASIBILITY_TOL:
            # a feasible point whose value is NaN or +inf is never the best
            if f < self.best_f or (self.best_cv > FEASIBILITY_TOL and f < math.inf):
                self.best_f, self._best_xb, self.best_cv = f, xb, cv
        elif self.best_cv > FEASIBILITY_TOL and cv < self.best_cv:
            self.best_f, self._best_xb, self.best_cv = f, xb, cv

    def _rotate(self) -> None:
        with self._lock:
            full = self._batch
            if full.start == 0 and full.fs:
                self._first_f = full.fs[0]
            # one assignment: a Ctrl+C (raised between bytecodes of this thread) cannot leave the
            # batch both full and current
            self._full, self._batch = self._full + [full], _Batch(full.start + len(full.fs), self._with_cv)

    @property
    def first_f(self) -> float | None:
        """The first evaluation's value (minimization form), or None before any."""
        if self._first_f is None and self._batch.start == 0 and self._batch.fs:
            return float(self._batch.fs[0])
        return None if self._first_f is None else float(self._first_f)

    @property
    def best_x(self) -> np.ndarray | None:
        if self._best_xb is None:
            return None
        return np.frombuffer(self._best_xb, dtype=np.float64).copy()

    # -- background flushing ------------------------------------------------------------------
    def _loop(self) -> None:
        """Flush only when the evaluating thread has not, an interval after the flush fell due.

        While evaluations come fast this wakes once per interval, finds the flush done and
        sleeps again; it writes when an evaluation is slow (or the optimizer has stopped calling).
        """
        pc = time.perf_counter
        checkpoint = getattr(self.store, "checkpoint", None)
        while not self._stop and self._error is None:
            if checkpoint is not None and self._unfolded >= CHECKPOINT_BYTES:
                self._unfolded = 0
                self._checkpointing = True
                try:
                    if not self._stop:
                        checkpoint()
                except Exception:  # noqa: BLE001 - an optimization; SQLite checkpoints at commit anyway
                    pass
                finally:
                    self._checkpointing = False
            wait = self._due + self._interval - pc()
            if wait > 0:
                self._wake.wait(wait)
                self._wake.clear()
                continue
            if self._stop or self._error is not None:  # closing, or a flush already failed
                return
            try:
                self.flush()
            except BaseException as exc:  # noqa: BLE001 - re-raised by the next evaluation and by close()
                self._error = exc
                self._due = -math.inf
                return

    def summary(self) -> dict:
        """The run-row fields that describe what has been recorded so far (user's sense)."""
        x = self.best_x
        ok = x is not None and np.isfinite(self.best_f)
        return {"n_evaluations": self.n_flushed,
                "best_f": float(self._to_user(self.best_f)) if ok else None,
                "best_x": x.tolist() if ok else None}

    def flush(self) -> None:
        """Write every recorded evaluation not yet in the store (thread-safe)."""
        with self._lock:
            if self._error is not None and threading.current_thread() is self._thread:
                return  # the evaluating thread's flush failed while this one waited: no second try
            self._due = time.perf_counter() + self._interval
            parts = []
            for batch in self._full + [self._batch]:
                n = len(batch.fs)  # rows with a value are complete in every list
                if batch.flushed < n:
                    parts.append((batch, batch.flushed, n))
            if not parts:
                self._full = []
                return
            d = self.dimension
            xb = (b"".join(parts[0][0].xs[parts[0][1]:parts[0][2]]) if len(parts) == 1
                  else b"".join(b"".join(b.xs[a:z]) for b, a, z in parts))
            X = np.frombuffer(xb, dtype=np.float64).reshape(-1, d)
            F = _floats([b.fs[a:z] for b, a, z in parts])
            T = _floats([b.ts[a:z] for b, a, z in parts]) - self._t0
            CV = _floats([b.cvs[a:z] for b, a, z in parts]) if self._with_cv else np.zeros(len(F))
            start = parts[0][0].start + parts[0][1]
            summary = self.summary()
            summary["n_evaluations"] = start + len(F)
            try:
                try:
                    self.store.append_evaluations(self.run_id, start, X, F, CV, T, summary=summary)
                except InvalidInput:
                    # A flush from the hot path interrupted (Ctrl+C) after its commit, before the
                    # bookkeeping below: those rows are stored; write only the rest.
                    done = self.store.get_run(self.run_id)["n_evaluations"] - start
                    if not 0 < done <= len(F):
                        raise
                    self.store.append_evaluations(self.run_id, start + done, X[done:], F[done:], CV[done:],
                                                  T[done:], summary=summary)
            except Exception as exc:
                self._error = exc  # set under the lock: no other thread tries the same rows again
                raise
            for b, _, z in parts:
                b.flushed = z
            self._full = [b for b in self._full if b.flushed < len(b.fs)]
            self.n_flushed = start + len(F)
            self._unfolded += X.nbytes + 3 * F.nbytes
            best_f = summary["best_f"]
        if self._progress is not None:
            self._progress({"run_id": self.run_id, "n_evaluations": self.n, "best_f": best_f,
                            "elapsed_s": time.perf_counter() - self._t0, "phase": self.phase,
                            "max_evaluations": self.max_evaluations})

    def close(self) -> None:
        """Stop the background thread and write everything recorded."""
        self._stop = True
        self._wake.set()
        if not self._checkpointing:
            # (a checkpoint under way is left to finish on its own: it writes no rows, and the
            # lock keeps any flush apart; waiting for its fsync would stall the end of the run)
            self._thread.join()
        if self._error is not None:
            raise self._error
        self.flush()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._t0
