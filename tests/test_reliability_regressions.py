"""Bugs the reliability work found (fuzzing, crash and fault loops), each pinned by a test."""

import pytest

from aopt.errors import IncompatibleAlgorithm
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
