"""Bugs the reliability work found (fuzzing, crash and fault loops), each pinned by a test."""

import pytest

from aopt.errors import IncompatibleAlgorithm, InvalidInput
from aopt.runs import RunManager
from aopt.storage import SQLiteStore


@pytest.fixture
def runs(tmp_path):
    store = SQLiteStore(tmp_path / "store")
    yield RunManager(store)
    store.close()


def test_shgo_is_refused_above_ten_variables_instead_of_never_returning(runs):
    # shgo's triangulation is exponential in the dimension: 20 variables never reached the
    # first evaluation, whatever max_evaluations said.
    runs.problems.create("r20", "rosenbrock", dimension=20)
    with pytest.raises(IncompatibleAlgorithm, match=r"shgo.*20 variables.*at most 10.*differential_evolution"):
        runs.start_run("r20", "shgo")
    runs.problems.create("r10", "rosenbrock", dimension=10)
    run = runs.execute(runs.start_run("r10", "shgo"), max_evaluations=50)
    assert run["status"] == "completed" and run["n_evaluations"] == 50


@pytest.mark.parametrize("algorithm, options, match", [
    ("differential_evolution", {"popsize": 10**8}, "'popsize' must be at most 1,000"),
    ("shgo", {"n": 10**9}, "'n' must be at most 10,000"),
    ("L-BFGS-B", {"maxcor": 10**9}, "'maxcor' must be at most 1,000"),
    ("direct", {"maxfun": 1e300}, "'maxfun' must be at most 2,147,483,647"),
])
def test_huge_size_options_are_refused_before_they_allocate_or_overflow(runs, algorithm, options, match):
    # popsize=1e8 allocated 6.7 GB, shgo n=1e9 never returned, maxfun=1e300 overflowed a C long
    runs.problems.create("r", "rosenbrock", dimension=3)
    run_id = runs.start_run("r", algorithm)
    with pytest.raises(InvalidInput, match=match):
        runs.execute(run_id, options=options, max_evaluations=50)
    assert runs.execute(run_id, options={next(iter(options)): 5}, max_evaluations=50)["status"] == "completed"
