"""The disk misbehaves: each fault is a clear store_error and the data already there is untouched."""

import pytest

from tests import reliability_harness as h


def test_a_read_only_store_folder(tmp_path):
    assert "not" in h.fault_read_only(tmp_path / "ro")["message"]


def test_a_full_disk_by_file_size_limit(tmp_path):
    h.fault_full_disk_fsize(tmp_path / "fsize")


def test_a_full_disk_on_a_tiny_tmpfs(tmp_path):
    if not h.can_unshare():
        pytest.skip("no private mount namespace here (unshare -m is not permitted)")
    assert "full" in h.fault_full_disk_tmpfs(tmp_path / "tmpfs")["message"]


@pytest.mark.parametrize("how", ["header", "pages", "truncated"])
def test_a_corrupted_database_is_refused_untouched(tmp_path, how):
    h.fault_corrupted(tmp_path / "c", how)


def test_a_store_from_a_newer_schema_is_refused_untouched(tmp_path):
    h.fault_newer_schema(tmp_path / "n")
