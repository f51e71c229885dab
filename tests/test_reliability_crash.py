"""SIGKILL at random moments (creating, running, finalizing, inside a flush): the store opens, no run is
lost or duplicated, a cut run shows what was flushed, at most 0.25 s of evaluations are missing.
(benchmarks/reliability.py kills 50+ times.)"""

import pytest

from tests.reliability_harness import CRASH_PHASES, crash_trial


def test_kills_at_random_moments_lose_nothing_that_was_flushed(tmp_path):
    known: dict = {}
    missing = []
    for seed, phase in enumerate(CRASH_PHASES * 2):
        result = crash_trial(tmp_path / "store", phase, seed, known)
        if result["missing_s"] is not None:
            missing.append(result["missing_s"])
    assert len(missing) == 2 and max(missing) <= 0.25, missing
    assert len(known) > 4
