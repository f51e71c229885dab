"""Worker: a long-lived child process that evaluates the user's Python functions.

The child (`_child.py`, started as a script with the same interpreter) sets
its memory limit, imports the user's file once and answers requests over
pipes: a 16-byte header plus raw float64 rows each way. The parent waits with
a deadline, drains the user's output into a bounded tail, and kills the whole
process group when a limit is hit or the child dies, so no process is left.
"""

from __future__ import annotations

import json
import math
import mmap
import os
import select
import signal
import struct
import subprocess
import sys
import time
import weakref
from typing import Optional, Sequence, Union

import numpy as np

from aopt.errors import InvalidInput
from aopt.sandbox import _child as proto
from aopt.sandbox._errors import SandboxError, UserCodeError, WorkerDied
from aopt.sandbox._failures import FailureReports, fmt_point
from aopt.sandbox._limits import Limits
from aopt.sandbox._output import OutputTail

# How long each side polls without sleeping before it blocks: a round trip that sleeps costs
# 40-50 us more on an idle machine (CPU wake-up), one that spins ~10 us.
SPIN_SECONDS = 2e-4
from aopt.sandbox._spec import CodeSpec, load_code_spec

__all__ = ["Worker", "NAN_POLICIES"]

NAN_POLICIES = ("inf", "raise")
_CHILD = os.path.abspath(proto.__file__)
_INF = math.inf

Spec = Union[str, CodeSpec]


class _Process:
    """The child process and the parent's ends of its pipes; closed exactly once."""

    def __init__(self, proc, fds, mm, keep=None):
        self.proc = proc
        self.fds = fds
        self.mm = mm
        self.keep = keep

    def kill(self) -> None:
        proc = self.proc
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the group: also whatever the user's code started
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.kill()
        except ProcessLookupError:
            pass
        proc.wait()

    def close(self) -> None:
        if self.proc is None:
            return
        self.kill()
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            self.mm.close()
        except (BufferError, ValueError):
            pass
        if self.keep is not None:
            self.keep.close()
        self.proc = None


class Worker(FailureReports):
    """Evaluates `objective` (and optionally `gradient`, `constraints`) in a sandboxed child process.

    Each spec is "FILE.py:FUNCTION" or a `CodeSpec`. The child starts (and the
    file is imported) in the constructor, so import errors surface at once.
    A function receives a 1-D float64 array x (its own copy); an objective
    returns one number, a gradient one number per variable, a constraint one
    number or a 1-D array. With `vectorized=True` the objective is called once
    per batch with an (n, d) array and returns n numbers.

    NaN policy (`nan_policy`): "inf" (default) passes a NaN objective value on
    as +inf, a failed point the optimizer moves away from, and a NaN constraint
    value as -inf (maximally violated); ±inf are passed on unchanged; every
    non-finite value is counted in `counts["nonfinite"]`. "raise" makes any
    non-finite value an error (kind "bad_return"). Non-numbers and wrong
    shapes are always errors. After "user_exception" and "bad_return" the
    worker stays usable; after a limit, an exit or a crash it is stopped and
    a new Worker is needed.
    """

    def __init__(
        self,
        objective: Spec,
        gradient: Optional[Spec] = None,
        constraints: Sequence[Spec] = (),
        *,
        limits: Optional[Limits] = None,
        nan_policy: str = "inf",
        vectorized: bool = False,
        check_hash: bool = True,
        base_dir: Union[str, os.PathLike, None] = None,
    ) -> None:
        if nan_policy not in NAN_POLICIES:
            raise InvalidInput(f"nan_policy {nan_policy!r} is not accepted; use one of {', '.join(NAN_POLICIES)}")
        if limits is None:
            limits = Limits()
        elif not isinstance(limits, Limits):
            raise InvalidInput(f"limits must be a Limits(...) object; got {type(limits).__name__}")
        self.objective_spec = load_code_spec(objective, base_dir)
        self.gradient_spec = load_code_spec(gradient, base_dir) if gradient is not None else None
        if isinstance(constraints, (str, CodeSpec)):
            constraints = [constraints]
        self.constraint_specs = [load_code_spec(c, base_dir) for c in constraints]
        self.limits = limits
        self.nan_policy = nan_policy
        self.vectorized = bool(vectorized)
        self.check_hash = bool(check_hash)
        self.counts = {"objective": 0, "gradient": 0, "constraints": 0, "nonfinite": 0}
        self._out = OutputTail(limits.output_bytes)
        self._stopped: Optional[str] = None
        self._started = time.monotonic()
        self._run_deadline = self._started + limits.run_timeout if limits.run_timeout else _INF
        self._eval_timeout = float(limits.eval_timeout) if limits.eval_timeout else _INF
        self._res: Optional[_Process] = None
        self._pid: Optional[int] = None
        self._returncode: Optional[int] = None
        self._start()

    # ------------------------------------------------------------------ lifecycle
    def _start(self) -> None:
        roles = [("objective", self.objective_spec)]
        if self.gradient_spec is not None:
            roles.append(("gradient", self.gradient_spec))
        roles += [("constraint", s) for s in self.constraint_specs]
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        out_r, out_w = os.pipe()
        diag_r, diag_w = os.pipe()
        life_r, life_w = os.pipe()
        keep = None
        try:
            prog = os.memfd_create("paola-sandbox-progress")
        except (AttributeError, OSError):
            import tempfile

            keep = tempfile.TemporaryFile()
            prog = os.dup(keep.fileno())
        os.ftruncate(prog, mmap.PAGESIZE)
        mm = mmap.mmap(prog, proto.PROGRESS.size)
        cfg = {
            "req": req_r, "resp": resp_w, "diag": diag_w, "life": life_r, "progress": prog,
            "memory": int(self.limits.memory_mb * 1024 * 1024) if self.limits.memory_mb else None,
            "vectorized": self.vectorized,
            "functions": [
                {"role": role, "path": s.path, "function": s.function, "sha256": s.sha256 if self.check_hash else None}
                for role, s in roles
            ],
        }
        env = dict(os.environ)
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(name, "1")  # one BLAS thread: small address space, no oversubscription
        child_ends = (req_r, resp_w, out_w, diag_w, life_r, prog)
        try:
            proc = subprocess.Popen(
                [sys.executable, _CHILD, json.dumps(cfg)],
                stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w,
                pass_fds=(req_r, resp_w, diag_w, life_r, prog),
                start_new_session=True, env=env,
            )
        except BaseException:
            for fd in child_ends + (req_w, resp_r, out_r, diag_r, life_w):
                os.close(fd)
            mm.close()
            raise
        for fd in child_ends:
            os.close(fd)
        os.set_blocking(out_r, False)
        os.set_blocking(diag_r, False)
        self._req, self._resp, self._outfd, self._diag = req_w, resp_r, out_r, diag_r
        self._mm = mm
        self._pid = proc.pid
        self._res = _Process(proc, (req_w, resp_r, out_r, diag_r, life_w), mm, keep)
        self._finalizer = weakref.finalize(self, _Process.close, self._res)
        self._poller = select.poll()
        self._poller.register(resp_r, select.POLLIN)
        self._poller.register(out_r, select.POLLIN)
        self._out_open = True
        self._buf = bytearray(1 << 16)
        start_limit = self.limits.start_timeout or _INF
        try:
            status, _, _, payload = self._receive(time.monotonic() + start_limit, "start", None, 0)
        except BaseException:
            self._kill("the worker failed to start")
            raise
        if status == proto.ST_ERROR:
            self._raise_child_error(json.loads(payload), "start", None, 0)
        if status != proto.ST_READY:  # pragma: no cover - protocol bug
            self._kill("protocol error")
            raise WorkerDied("the worker answered its start with an unexpected message", "crash")

    @property
    def pid(self) -> Optional[int]:
        """The child's process id (kept after it stopped, for diagnostics)."""
        return self._pid

    @property
    def alive(self) -> bool:
        return self._stopped is None

    @property
    def returncode(self) -> Optional[int]:
        """Exit status of the child once it has been reaped (negative: killed by that signal)."""
        proc = self._res.proc if self._res is not None else None
        return self._returncode if proc is None else proc.poll()

    @property
    def n_constraints(self) -> int:
        return len(self.constraint_specs)

    def close(self) -> None:
        """Stop the child (politely, then by force) and release its pipes. Idempotent."""
        if self._res is None:
            return
        if self._stopped is None:
            try:
                os.write(self._req, proto.REQ.pack(proto.OP_QUIT, 0, 0, 0))
                self._res.proc.wait(timeout=1.0)
            except (OSError, subprocess.TimeoutExpired):
                pass
            self._stopped = "the worker was closed"
        self._kill(self._stopped)

    def __enter__(self) -> "Worker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "alive" if self.alive else "stopped"
        return f"<Worker {self.objective_spec.filename}:{self.objective_spec.function} pid={self.pid} {state}>"

    def _wait_exit(self, timeout: float) -> None:
        try:
            self._res.proc.wait(timeout=timeout)
        except (subprocess.TimeoutExpired, AttributeError):
            pass

    def _kill(self, reason: str) -> None:
        if self._stopped is None:
            self._stopped = reason
        res = self._res
        if res is None or res.proc is None:
            return
        self._drain_output()
        proc = res.proc
        res.close()
        self._returncode = proc.returncode
        self._finalizer.detach()

    # ------------------------------------------------------------------ output
    def _drain_output(self) -> None:
        if not self._out_open:
            return
        while True:
            try:
                data = os.read(self._outfd, 1 << 16)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._out_open = False
                try:
                    self._poller.unregister(self._outfd)
                except (KeyError, ValueError):
                    pass
                return
            self._out.feed(data)

    def output(self, clear: bool = False) -> str:
        """The user's captured stdout and stderr (the last `Limits.output_bytes`, with a truncation marker)."""
        if self._res is not None and self._res.proc is not None:
            self._drain_output()
        text = self._out.text()
        if clear:
            self._out.clear()
        return text

    # ------------------------------------------------------------------ the round trip
    def _receive(self, eval_deadline: float, what: str, X, index: int):
        """Wait for one response; enforce the limits; return (status, n, m, payload)."""
        poll = self._poller.poll
        resp = self._resp
        batch = X is not None and X.shape[0] > 1
        # Spin briefly first: a fast function answers within microseconds, and sleeping in
        # poll() until the kernel wakes us costs tens of microseconds on an idle machine.
        spin_end = time.perf_counter() + SPIN_SECONDS
        events = poll(0)
        while not events and time.perf_counter() < spin_end:
            events = poll(0)
        while True:
            deadline = eval_deadline if eval_deadline < self._run_deadline else self._run_deadline
            if events:
                pass
            elif deadline == _INF:
                events = poll()
            else:
                wait = deadline - time.monotonic()
                events = poll(max(0, math.ceil(wait * 1000))) if wait > 0 else []
            ready = False
            for fd, _ in events:
                if fd == resp:
                    ready = True
                else:
                    self._drain_output()
            if ready:
                return self._read_response(what, X, index)
            if events:
                events = None
                continue
            now = time.monotonic()
            if now < deadline:
                continue
            if deadline == eval_deadline and batch and what != "start":
                t0, row = proto.PROGRESS.unpack_from(self._mm, 0)
                if t0 + self._eval_timeout > now + 1e-3:
                    eval_deadline = t0 + self._eval_timeout  # the current row started later: its own deadline
                    continue
            self._limit_hit(deadline == eval_deadline and eval_deadline < self._run_deadline, what, X, index)

    def _read_response(self, what, X, index):
        buf = self._buf
        try:
            got = os.readv(self._resp, [buf])
        except OSError:
            got = 0
        if got == 0:
            self._died(what, X, index)
        hsize = proto.RESP.size
        view = memoryview(buf)
        while got < hsize:
            k = os.readv(self._resp, [view[got:]])
            if k == 0:
                self._died(what, X, index)
            got += k
        status, n, m, nbytes = proto.RESP.unpack_from(buf)
        need = hsize + nbytes
        if need <= len(buf):
            while got < need:
                k = os.readv(self._resp, [view[got:need]])
                if k == 0:
                    self._died(what, X, index)
                got += k
            return status, n, m, bytes(view[hsize:need])
        parts = [bytes(view[hsize:got])]
        remaining = need - got
        while remaining:
            chunk = os.read(self._resp, min(remaining, 1 << 20))
            if not chunk:
                self._died(what, X, index)
            parts.append(chunk)
            remaining -= len(chunk)
        return status, n, m, b"".join(parts)

    def _request(self, op: int, index: int, X: np.ndarray):
        """Send X (n, d) for `op`; return (status, n, m, payload); raise on errors and limits."""
        if self._stopped is not None:
            raise WorkerDied(f"the worker has stopped ({self._stopped}); start a new Worker", "stopped")
        now = time.monotonic()
        if now >= self._run_deadline:
            self._limit_hit(False, self._what(op, index), X, index)
        n, d = X.shape
        message = proto.REQ.pack(op, index, n, d) + X.tobytes()
        what = self._what(op, index)
        try:
            try:
                sent = os.write(self._req, message)
                while sent < len(message):
                    sent += os.write(self._req, memoryview(message)[sent:])
            except OSError:
                self._died(what, X, index)
            result = self._receive(now + self._eval_timeout, what, X, index)
        except SandboxError:
            raise
        except BaseException:
            # Ctrl+C or anything unexpected mid-request: the protocol state is unknown, so stop the child.
            self._kill("interrupted during an evaluation")
            raise
        if result[0] == proto.ST_ERROR:
            self._raise_child_error(json.loads(result[3]), what, X, index)
        return result

    def _what(self, op: int, index: int) -> str:
        if op == proto.OP_OBJECTIVE:
            spec, role = self.objective_spec, "objective"
        elif op == proto.OP_GRADIENT:
            spec, role = self.gradient_spec, "gradient"
        else:
            spec, role = self.constraint_specs[index], f"constraint {index}"
        return f"{role} {spec.function}(x) in {spec.filename}"

    # ------------------------------------------------------------------ public evaluation API
    def evaluate(self, x) -> float:
        """The objective at one point (NaN handled by `nan_policy`)."""
        x = np.ascontiguousarray(x, dtype=np.float64).reshape(1, -1)
        status, n, m, payload = self._request(proto.OP_OBJECTIVE, 0, x)
        self.counts["objective"] += 1
        v = _unpack_d(payload)[0]
        if v - v != 0.0:  # not finite
            return float(self._nonfinite_objective(np.array([v]), x)[0])
        return v

    def evaluate_batch(self, X) -> np.ndarray:
        """The objective at each row of X (n, d), in one round trip; returns shape (n,)."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise InvalidInput(f"evaluate_batch needs a 2-D array of points (n, d); got shape {X.shape}")
        if X.shape[0] == 0:
            return np.empty(0)
        status, n, m, payload = self._request(proto.OP_OBJECTIVE, 0, X)
        self.counts["objective"] += X.shape[0]
        f = np.frombuffer(payload, dtype=np.float64).copy()
        if not np.isfinite(f).all():
            f = self._nonfinite_objective(f, X)
        return f

    def gradient(self, x) -> np.ndarray:
        """The user's gradient at x, shape (d,)."""
        if self.gradient_spec is None:
            raise InvalidInput("this worker has no gradient function; pass gradient='FILE.py:FUNCTION'")
        x = np.ascontiguousarray(x, dtype=np.float64).reshape(1, -1)
        status, n, m, payload = self._request(proto.OP_GRADIENT, 0, x)
        self.counts["gradient"] += 1
        g = np.frombuffer(payload, dtype=np.float64).copy()
        if not np.isfinite(g).all():
            self.counts["nonfinite"] += 1
            if self.nan_policy == "raise":
                raise UserCodeError(
                    f"{self._what(proto.OP_GRADIENT, 0)} returned a non-finite gradient {fmt_point(g)} "
                    f"(x = {fmt_point(x[0])}); non-finite values are errors with nan_policy='raise'", "bad_return", x=x[0],
                )
        return g

    def constraint(self, x, index: int) -> np.ndarray:
        """Constraint function number `index` at x, as a 1-D array (NaN -> -inf under nan_policy 'inf')."""
        if not 0 <= index < len(self.constraint_specs):
            raise InvalidInput(f"constraint index {index} is out of range; this worker has {len(self.constraint_specs)}")
        x = np.ascontiguousarray(x, dtype=np.float64).reshape(1, -1)
        status, n, m, payload = self._request(proto.OP_CONSTRAINT, index, x)
        self.counts["constraints"] += 1
        c = np.frombuffer(payload, dtype=np.float64).copy()
        if not np.isfinite(c).all():
            self.counts["nonfinite"] += 1
            if self.nan_policy == "raise":
                raise UserCodeError(
                    f"{self._what(proto.OP_CONSTRAINT, index)} returned {fmt_point(c)} (x = {fmt_point(x[0])}); "
                    "non-finite values are errors with nan_policy='raise'", "bad_return", x=x[0],
                )
            c[np.isnan(c)] = -_INF
        return c

    def constraints(self, x) -> np.ndarray:
        """All constraint functions at x, concatenated in the order given."""
        parts = [self.constraint(x, i) for i in range(len(self.constraint_specs))]
        return np.concatenate(parts) if parts else np.empty(0)

_unpack_d = struct.Struct("<d").unpack
