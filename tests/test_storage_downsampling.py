"""Downsampling a history for display keeps what a convergence plot must show."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from aopt.storage._evaluations import FEASIBLE_CV, pick_indices


def improvements(f, cv):
    """Indices where the best feasible f so far strictly improves (reference, a plain loop)."""
    feasible = cv <= FEASIBLE_CV
    if not feasible.any():
        key = cv
    else:
        key = np.where(feasible & ~np.isnan(f), f, np.inf)
    out, best = [], np.inf
    for i, k in enumerate(key):
        if k < best:
            out.append(i)
            best = k
    return out


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 3000), max_points=st.integers(3, 400), seed=st.integers(0, 2**31),
       constrained=st.booleans(), trend=st.sampled_from([0.0, 1.0, 100.0]))
def test_picked_indices_keep_first_last_and_best(n, max_points, seed, constrained, trend):
    rng = np.random.default_rng(seed)
    f = rng.normal(size=n) - trend * np.linspace(0, 1, n)
    cv = np.where(rng.random(n) < 0.5, rng.random(n), 0.0) if constrained else np.zeros(n)
    idx = pick_indices(f, cv, max_points)
    assert idx.dtype == np.int64
    assert list(idx) == sorted(set(idx.tolist()))
    assert len(idx) <= max(max_points, 0) or n <= max_points
    if n <= max_points:
        assert list(idx) == list(range(n))
        return
    assert idx[0] == 0 and idx[-1] == n - 1
    imp = improvements(f, cv)
    if imp:
        assert imp[-1] in set(idx.tolist())  # the best point is always shown
    if len(set(imp) | {0, n - 1}) <= max_points:
        assert set(imp) <= set(idx.tolist())
        assert len(idx) == max_points  # the rest is filled with an even spread
