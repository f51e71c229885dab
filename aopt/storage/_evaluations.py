"""Evaluation chunks as raw little-endian float64 blobs: encoding, downsampling, reading.

This module imports numpy; the store imports it only inside its evaluation methods so
that listing runs never pays for numpy.
"""

from __future__ import annotations

import sqlite3

import numpy as np

from aopt.errors import InvalidInput

__all__ = ["encode_chunk", "pick_indices", "read_evaluations", "FEASIBLE_CV"]

FEASIBLE_CV = 1e-6  # a point whose constraint violation is at most this counts as feasible
_F8 = np.dtype("<f8")


def _vector(name: str, value, n: int | None):
    try:
        a = np.asarray(value, dtype=_F8)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{name} must be an array of numbers; got {type(value).__name__}") from exc
    if a.ndim != 1 or (n is not None and len(a) != n):
        want = f"length {n}" if n is not None else "one dimension"
        raise InvalidInput(f"{name} must be a 1-D array of {want}; got shape {a.shape}")
    return np.ascontiguousarray(a)


def encode_chunk(X, f, cv, t) -> tuple[int, int, bytes, bytes | None, bytes | None, bytes]:
    """Check one chunk and return (n, d, f, cv, t, x) with the arrays as raw bytes.

    cv comes back None when every violation is zero (unconstrained runs spend no space
    on it); t is None when not given.
    """
    F = _vector("f", f, None)
    n = len(F)
    try:
        x = np.asarray(X, dtype=_F8)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"X must be an array of numbers of shape (n, d); got {type(X).__name__}") from exc
    if x.ndim == 1 and n and x.size % n == 0:
        x = x.reshape(n, -1)
    if x.ndim != 2 or x.shape[0] != n or (n and x.shape[1] == 0):
        raise InvalidInput(f"X must have shape (n, d) with n = len(f) = {n}; got shape {x.shape}")
    d = int(x.shape[1]) if n else 0
    cvb = None
    if cv is not None:
        C = _vector("cv", cv, n)
        if C.view(np.uint64).any():
            cvb = C.tobytes()
    tb = None if t is None else _vector("t", t, n).tobytes()
    return n, d, F.tobytes(), cvb, tb, np.ascontiguousarray(x).tobytes()


def pick_indices(f, cv, max_points: int):
    """At most `max_points` sorted indices: first, last, best-so-far improvements, then an even spread.

    Improvements are of f among feasible points (cv <= FEASIBLE_CV); when no point is
    feasible, of the violation itself. When the improvements alone do not fit, an even
    selection of them is kept, always including the overall best.
    """
    n = len(f)
    if n <= max_points:
        return np.arange(n, dtype=np.int64)
    key = np.where(np.isnan(f), np.inf, f)
    infeasible = cv > FEASIBLE_CV
    if infeasible.any():
        key = np.where(infeasible, np.inf, key) if not infeasible.all() else cv.copy()
    best = np.minimum.accumulate(key)
    improved = np.flatnonzero(key[1:] < best[:-1]) + 1
    must = np.union1d(np.array([0, n - 1], dtype=np.int64), improved)
    if len(must) > max_points:
        # an even selection of the improvements, ending with the last one (the overall best)
        keep = improved[np.linspace(len(improved) - 1, 0, max_points - 2).round().astype(np.int64)]
        return np.union1d(np.array([0, n - 1], dtype=np.int64), keep)
    free = np.ones(n, dtype=bool)
    free[must] = False
    candidates = np.flatnonzero(free)
    room = max_points - len(must)
    spread = candidates[np.linspace(0, len(candidates) - 1, room).round().astype(np.int64)]
    return np.union1d(must, spread)


def _x_rows(con: sqlite3.Connection, rowid: int, rows, d: int) -> np.ndarray:
    """The rows `rows` (offsets within one chunk) of that chunk's x blob, read in place."""
    width = 8 * d
    out = bytearray(len(rows) * width)
    with con.blobopen("eval_chunks", "x", rowid, readonly=True) as blob:
        for k, r in enumerate(rows.tolist()):
            blob.seek(r * width)
            out[k * width:(k + 1) * width] = blob.read(width)
    return np.frombuffer(out, dtype=_F8).reshape(len(rows), d)


def _column(meta, blobs, n: int, missing: float):
    """One array from per-chunk blobs; chunks without a blob hold `missing`."""
    if all(b is None for b in blobs):
        return np.zeros(n) if missing == 0.0 else np.full(n, missing)
    if all(b is not None for b in blobs):
        return np.concatenate([np.frombuffer(b, dtype=_F8) for b in blobs])
    out = np.full(n, missing)
    for (_, start, count, _), b in zip(meta, blobs):
        if b is not None:
            out[start:start + count] = np.frombuffer(b, dtype=_F8)
    return out


def read_evaluations(con: sqlite3.Connection, run_id: int, max_points: int | None) -> dict:
    """Read a run's evaluations (inside the caller's read transaction)."""
    meta, fs, cvs, ts = [], [], [], []
    for rowid, start, count, dim, fb, cvb, tb in con.execute(
            "SELECT rowid, start, count, dim, f, cv, t FROM eval_chunks WHERE run_id = ? ORDER BY start",
            (run_id,)):
        meta.append((rowid, start, count, dim))
        fs.append(np.frombuffer(fb, dtype=_F8))
        cvs.append(cvb)
        ts.append(tb)
    if not meta:
        empty = np.empty(0)
        return {"index": np.empty(0, dtype=np.int64), "x": np.empty((0, 0)), "f": empty,
                "cv": empty.copy(), "t": empty.copy()}
    f = np.concatenate(fs)
    cv, t = _column(meta, cvs, len(f), 0.0), _column(meta, ts, len(f), np.nan)
    d = meta[0][3]
    if max_points is None or len(f) <= max_points:
        xs = [np.frombuffer(b, dtype=_F8) for (b,) in con.execute(
            "SELECT x FROM eval_chunks WHERE run_id = ? ORDER BY start", (run_id,))]
        x = np.concatenate(xs).reshape(len(f), d)
        return {"index": np.arange(len(f), dtype=np.int64), "x": x, "f": f, "cv": cv, "t": t}
    idx = pick_indices(f, cv, max_points)
    starts = np.array([m[1] for m in meta], dtype=np.int64)
    chunk_of = np.searchsorted(starts, idx, side="right") - 1
    bounds = np.flatnonzero(np.diff(chunk_of)) + 1
    parts = []
    for group in np.split(np.arange(len(idx)), bounds):
        c = int(chunk_of[group[0]])
        parts.append(_x_rows(con, meta[c][0], idx[group] - starts[c], d))
    x = np.concatenate(parts)
    return {"index": idx, "x": x, "f": f[idx], "cv": cv[idx], "t": t[idx]}
