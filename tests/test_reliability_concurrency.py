"""Eight processes on one store, and the shell reading while another process writes."""

from tests.reliability_harness import concurrency_trial, reader_beside_writer


def test_eight_processes_share_one_store(tmp_path):
    result = concurrency_trial(tmp_path / "store", processes=8, runs_each=3)
    assert result["runs"] == 24


def test_the_shell_reading_never_disturbs_a_writer(tmp_path):
    result = reader_beside_writer(tmp_path / "store", budget=60_000)
    assert result["reads"] > 0
