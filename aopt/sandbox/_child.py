"""The worker process: imports the user's file and evaluates points sent over a pipe.

Run as a script by `Worker` (never imported for user code in paola's process).
It depends only on the standard library and NumPy so it starts fast; the
parent imports this module only for the protocol constants below.

Protocol (all little-endian; requests and responses strictly alternate):
  request  = REQ header (op, index, n, d) + n*d float64      (the points, row-major)
  response = RESP header (status, n, m, nbytes) + nbytes      (OK: n*m float64; ERROR/READY: UTF-8 JSON)
fds 1 and 2 go to the output pipe the parent drains; faulthandler writes to a
separate diagnostics pipe; EOF on the lifeline pipe means the parent is gone.
"""

import os
import struct
import sys

REQ = struct.Struct("<BxxxIII")  # op, index (constraint number), n rows, d columns
RESP = struct.Struct("<BxxxIII")  # status, n, m, payload bytes
RESP1 = struct.Struct("<BxxxIIId")  # an OK response holding one float
PROGRESS = struct.Struct("<dI")  # start time (CLOCK_MONOTONIC) and row of the point being evaluated

OP_OBJECTIVE, OP_GRADIENT, OP_CONSTRAINT, OP_QUIT = 1, 2, 3, 9
ST_OK, ST_ERROR, ST_READY = 0, 1, 2

_HERE = os.path.abspath(__file__)


class BadReturn(Exception):
    """A user function returned something that is not what its role needs."""


def _describe(value):
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    name = type(value).__name__
    article = "an" if name[:1].lower() in "aeiou" else "a"
    return f"{article} {name} ({text})"


# --------------------------------------------------------------------------- tracebacks


def _library_prefixes():
    import sysconfig

    prefixes = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        try:
            prefixes.add(os.path.realpath(sysconfig.get_paths()[key]) + os.sep)
        except KeyError:
            pass
    for p in sys.path:
        if p.endswith(("site-packages", "dist-packages")):
            prefixes.add(os.path.realpath(p) + os.sep)
    return tuple(prefixes)


_LIB = None


def _is_user_frame(filename, user_files):
    global _LIB
    if filename in user_files:
        return True
    if filename == _HERE or filename.startswith("<"):
        return False
    if _LIB is None:
        _LIB = _library_prefixes()
    return not os.path.realpath(filename).startswith(_LIB)


def _trim(te, user_files):
    import traceback

    frames = [f for f in te.stack if _is_user_frame(f.filename, user_files)]
    te.stack = traceback.StackSummary.from_list(frames)
    for sub in (te.__cause__, te.__context__):
        if sub is not None:
            _trim(sub, user_files)
    for sub in getattr(te, "exceptions", None) or ():
        _trim(sub, user_files)
    return frames


def _where(frames, exc):
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{os.path.basename(exc.filename)}, line {exc.lineno}"
    if not frames:
        return ""
    f = frames[-1]
    return f"{os.path.basename(f.filename)}, line {f.lineno}, in {f.name}"


def _summarize(exc, user_files):
    """(one-line 'Type: message', 'file, line N, in f', user-only traceback text)."""
    import traceback

    try:
        te = traceback.TracebackException.from_exception(exc)
        frames = _trim(te, user_files)
        text = "".join(te.format())
        line = "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1]
        return line, _where(frames, exc), text
    except BaseException:  # formatting must never take the worker down
        return f"{type(exc).__name__}: {exc}", "", ""


# --------------------------------------------------------------------------- the worker


class _Child:
    def __init__(self, cfg):
        self.req = cfg["req"]
        self.resp = cfg["resp"]
        self.vectorized = bool(cfg.get("vectorized"))
        self.functions = cfg["functions"]
        self.user_files = set()
        self.objective = self.gradient = None
        self.constraints = []
        self.constraint_sizes = []
        self.buf = bytearray(1 << 16)
        self.progress = None
        if cfg.get("progress") is not None:
            import mmap

            self.progress = mmap.mmap(cfg["progress"], PROGRESS.size)

    # ---- messages
    def write(self, data):
        view = memoryview(data)
        while view:
            k = os.write(self.resp, view)
            view = view[k:]

    def send_json(self, status, record):
        import json

        payload = json.dumps(record).encode("utf-8", "replace")
        self.write(RESP.pack(status, 0, 0, len(payload)) + payload)

    def send_error(self, kind, message, **extra):
        record = {"kind": kind, "message": message}
        record.update(extra)
        self.send_json(ST_ERROR, record)

    def read_exact(self, nbytes):
        out = bytearray(nbytes)
        view = memoryview(out)
        got = 0
        while got < nbytes:
            k = os.readv(self.req, [view[got:]])
            if k == 0:
                return None
            got += k
        return out

    # ---- start-up
    def load(self):
        import hashlib
        import importlib.util

        modules = {}
        for i, entry in enumerate(self.functions):
            path = entry["path"]
            self.user_files.add(path)
            module = modules.get(path)
            if module is None:
                with open(path, "rb") as fh:
                    data = fh.read()
                want = entry.get("sha256")
                if want and hashlib.sha256(data).hexdigest() != want:
                    self.send_error(
                        "code_changed",
                        f"{path} has changed since the problem was defined (stored sha256 {want[:12]}..., "
                        f"now {hashlib.sha256(data).hexdigest()[:12]}...); define the problem again to use the new code",
                    )
                    return False
                folder = os.path.dirname(path)
                if folder not in sys.path:
                    sys.path.insert(0, folder)
                stem = os.path.splitext(os.path.basename(path))[0]
                name = stem
                if not stem.isidentifier() or stem in sys.modules or stem in sys.stdlib_module_names:
                    name = f"paola_user_{i}_{''.join(c if c.isalnum() else '_' for c in stem)}"
                spec = importlib.util.spec_from_file_location(name, path)
                module = importlib.util.module_from_spec(spec)
                sys.modules[name] = module
                try:
                    exec(compile(data, path, "exec", dont_inherit=True), module.__dict__)
                except BaseException as exc:  # noqa: BLE001 - every failure is the user's to see
                    sys.modules.pop(name, None)
                    self.report_import_failure(path, exc)
                    return False
                modules[path] = module
            func = self.lookup(module, entry)
            if func is None:
                return False
            role = entry["role"]
            if role == "objective":
                self.objective = func
            elif role == "gradient":
                self.gradient = func
            else:
                self.constraints.append(func)
                self.constraint_sizes.append(None)
        return True

    def report_import_failure(self, path, exc):
        line, where, text = _summarize(exc, self.user_files)
        base = os.path.basename(path)
        if isinstance(exc, SystemExit):
            line = f"the file called sys.exit({exc.code!r}) while being imported"
        elif isinstance(exc, MemoryError):
            self.send_error("memory", f"MemoryError while importing {base}", where=where, traceback=text)
            return
        at = f" ({where})" if where else ""
        self.send_error("import_error", f"could not import {path}: {line}{at}", where=where, traceback=text)

    def lookup(self, module, entry):
        import difflib
        import inspect

        obj = module
        try:
            for part in entry["function"].split("."):
                obj = getattr(obj, part)
        except AttributeError:
            obj = None
        if obj is not None and callable(obj):
            return obj
        mod_name = module.__name__
        defined = sorted(
            n
            for n, v in vars(module).items()
            if not n.startswith("_") and callable(v) and getattr(v, "__module__", None) == mod_name
        )
        path = entry["path"]
        if obj is not None:
            msg = f"{entry['function']!r} in {path} is {_describe(obj)}, not a function"
        else:
            msg = f"{path} defines no function {entry['function']!r}"
        close = difflib.get_close_matches(entry["function"], defined, n=1)
        if close:
            msg += f"; did you mean {close[0]!r}?"
        msg += f". Functions defined in the file: {', '.join(defined) if defined else '(none)'}"
        self.send_error("missing_function", msg, defined=defined)
        return None

    # ---- evaluation
    def failure(self, exc, role, index, values):
        """Report an exception raised by a user function; returns True when the worker must stop."""
        name = {OP_OBJECTIVE: "objective", OP_GRADIENT: "gradient", OP_CONSTRAINT: "constraint"}[role]
        if isinstance(exc, BadReturn):
            self.send_error("bad_return", str(exc), index=index, values=values, role=name)
            return False
        line, where, text = _summarize(exc, self.user_files)
        extra = {"index": index, "values": values, "where": where, "traceback": text, "role": name}
        if isinstance(exc, SystemExit):
            self.send_error("exit", f"user code called sys.exit({exc.code!r})", **extra)
            return True
        if isinstance(exc, MemoryError):
            self.send_error("memory", "MemoryError", **extra)
            return True
        self.send_error("user_exception", line, exc_type=type(exc).__name__, **extra)
        return False

    def as_number(self, v):
        import numpy as np

        if isinstance(v, (bool, np.bool_)):
            raise BadReturn(f"returned {_describe(v)}; an objective must return one number (a float)")
        if isinstance(v, (int, float, np.integer, np.floating)):
            return float(v)
        if v is None:
            raise BadReturn("returned None; an objective must return one number (a float). Did you forget `return`?")
        if isinstance(v, (str, bytes, dict, set, complex, np.complexfloating)):
            raise BadReturn(f"returned {_describe(v)}; an objective must return one number (a float)")
        try:
            a = np.asarray(v, dtype=float)
        except (TypeError, ValueError):
            raise BadReturn(f"returned {_describe(v)}, which is not a number; an objective must return one float") from None
        if a.size != 1:
            raise BadReturn(
                f"returned an array of shape {a.shape}; an objective must return one number "
                "(for several values, return their sum or norm, or declare them as constraints)"
            )
        return float(a.reshape(-1)[0])

    def as_vector(self, v, role, d, ci):
        import numpy as np

        if v is None:
            raise BadReturn("returned None; did you forget `return`?")
        if isinstance(v, (str, bytes, dict, set)):
            raise BadReturn(f"returned {_describe(v)}; numbers were expected")
        try:
            a = np.asarray(v, dtype=float)
        except (TypeError, ValueError):
            raise BadReturn(f"returned {_describe(v)}, which is not an array of numbers") from None
        if role == OP_GRADIENT:
            if a.size != d:
                raise BadReturn(
                    f"returned a gradient of shape {a.shape} for a point of dimension {d}; "
                    f"the gradient must have one entry per variable ({d} numbers)"
                )
            return a.reshape(d)
        if a.ndim > 1:
            raise BadReturn(f"returned an array of shape {a.shape}; a constraint returns one number or a 1-D array")
        a = a.reshape(-1)
        known = self.constraint_sizes[ci]
        if known is None:
            self.constraint_sizes[ci] = a.size
        elif a.size != known:
            raise BadReturn(f"returned {a.size} values here but {known} at earlier points; the size must not change")
        return a

    def evaluate(self, op, index, n, d, payload):
        import numpy as np

        X = np.frombuffer(payload, dtype=np.float64, count=n * d).reshape(n, d)
        if op == OP_OBJECTIVE:
            func = self.objective
        elif op == OP_GRADIENT:
            func = self.gradient
        else:
            func = self.constraints[index]
        if op == OP_OBJECTIVE and self.vectorized:
            try:
                out = np.asarray(func(X), dtype=float)
                if out.shape not in ((n,), (n, 1)):
                    raise BadReturn(f"(vectorized) returned shape {out.shape} for {n} points; expected ({n},)")
            except BaseException as exc:  # noqa: BLE001
                return self.failure(exc, op, None, [])
            self.write(RESP.pack(ST_OK, n, 1, 8 * n) + out.reshape(n).tobytes())
            return False
        rows = []
        progress = self.progress if n > 1 else None
        clock = __import__("time").monotonic
        for i in range(n):
            if progress is not None:
                PROGRESS.pack_into(progress, 0, clock(), i)
            try:
                v = func(X[i])
                if op == OP_OBJECTIVE:
                    v = v if type(v) is float else self.as_number(v)
                else:
                    v = self.as_vector(v, op, d, index)
            except BaseException as exc:  # noqa: BLE001
                values = [r for r in rows] if op == OP_OBJECTIVE else []
                return self.failure(exc, op, i, values)
            rows.append(v)
        if op == OP_OBJECTIVE:
            data = struct.pack(f"<{n}d", *rows)
            m = 1
        else:
            m = rows[0].size if rows else 0
            if any(r.size != m for r in rows):
                self.send_error("bad_return", "returned arrays of different sizes within one batch", role="constraint")
                return False
            data = np.ascontiguousarray(rows, dtype=np.float64).tobytes() if m else b""
        self.write(RESP.pack(ST_OK, n, m, len(data)) + data)
        return False

    def serve(self):
        import numpy as np

        buf = self.buf
        view = memoryview(buf)
        hsize = REQ.size
        objective = self.objective
        as_number = self.as_number
        flush_out, flush_err = sys.stdout.flush, sys.stderr.flush
        import select
        import time

        ready = select.poll()
        ready.register(self.req, select.POLLIN)
        poll, clock = ready.poll, time.perf_counter
        while True:
            # the next request usually follows within microseconds: poll without sleeping for a
            # moment (waking a sleeping process costs tens of microseconds), then block
            spin_end = clock() + 2e-4
            while not poll(0) and clock() < spin_end:
                pass
            got = os.readv(self.req, [buf])
            if got == 0:
                return
            while got < hsize:
                k = os.readv(self.req, [view[got:]])
                if k == 0:
                    return
                got += k
            op, index, n, d = REQ.unpack_from(buf)
            if op == OP_QUIT:
                return
            need = hsize + 8 * n * d
            if need <= len(buf):
                while got < need:
                    k = os.readv(self.req, [view[got:need]])
                    if k == 0:
                        return
                    got += k
                payload = bytes(view[hsize:need])
            else:
                rest = self.read_exact(need - got)
                if rest is None:
                    return
                payload = bytes(view[hsize:got]) + rest
            if op == OP_OBJECTIVE and n == 1 and not self.vectorized:
                # the hot path: one point, one number
                try:
                    v = objective(np.frombuffer(payload, dtype=np.float64).copy())
                    if type(v) is not float:
                        v = as_number(v)
                except BaseException as exc:  # noqa: BLE001
                    flush_out()
                    flush_err()
                    if self.failure(exc, op, 0, []):
                        return
                    continue
                flush_out()
                flush_err()
                os.write(self.resp, RESP1.pack(ST_OK, 1, 1, 8, v))
                continue
            stop = self.evaluate(op, index, n, d, bytearray(payload))
            flush_out()
            flush_err()
            if stop:
                return


def _lifeline(fd):
    """Exit as soon as the parent goes away (EOF on a pipe only the parent holds open)."""
    try:
        os.read(fd, 1)
    finally:
        os._exit(70)


def main():
    import json

    cfg = json.loads(sys.argv[1])
    if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(_HERE):
        del sys.path[0]  # the sandbox folder is not the user's
    import faulthandler
    import signal
    import threading

    diag = os.fdopen(cfg["diag"], "wb", buffering=0)
    faulthandler.enable(file=diag, all_threads=False)
    faulthandler.register(signal.SIGUSR1, file=diag, all_threads=False)
    threading.Thread(target=_lifeline, args=(cfg["life"],), daemon=True).start()
    try:
        sys.stdout.reconfigure(line_buffering=True)
        sys.stderr.reconfigure(line_buffering=True)
    except (AttributeError, ValueError):
        pass
    child = _Child(cfg)
    import numpy  # noqa: F401  - before the memory limit, so it is counted but never fails

    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    limit = cfg.get("memory")
    if limit:
        try:
            with open("/proc/self/status") as fh:
                vm = next((int(l.split()[1]) * 1024 for l in fh if l.startswith("VmSize:")), 0)
        except OSError:
            vm = 0
        if vm and vm >= limit:
            child.send_error(
                "memory",
                f"the memory limit ({limit >> 20} MiB) is below what the worker needs before any user code runs "
                f"({vm >> 20} MiB for Python and NumPy); raise memory_mb",
            )
            return
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if not child.load():
        return
    child.send_json(ST_READY, {"pid": os.getpid()})
    child.serve()


if __name__ == "__main__":
    try:
        main()
    except BaseException:  # noqa: BLE001 - a sandbox bug: show it in the captured output
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(0)
