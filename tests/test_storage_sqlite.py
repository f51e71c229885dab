"""SQLiteStore: the conformance suite, plus what only a file on disk can get wrong."""

from __future__ import annotations

import multiprocessing as mp
import os
import sqlite3
import stat
import subprocess
import sys

import numpy as np
import pytest

from aopt.errors import StoreError
from aopt.storage import SQLiteStore, Store, default_store_path, open_store
from aopt.storage._schema import MIGRATIONS, SCHEMA_VERSION, migrate

from .storage_conformance import StoreConformance


class TestSQLiteStore(StoreConformance):
    def make_store(self, tmp_path):
        return SQLiteStore(tmp_path / "store")

    def reopen_args(self, store):
        return SQLiteStore, (str(store.path),)


def _bytes(path):
    return path.read_bytes()


def test_a_folder_with_one_database_in_wal_mode(tmp_path):
    store = SQLiteStore(tmp_path / "a" / "b")
    assert isinstance(store, Store)
    assert store.db_path == tmp_path / "a" / "b" / "paola.db"
    store.close()
    con = sqlite3.connect(tmp_path / "a" / "b" / "paola.db")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == SCHEMA_VERSION
    con.close()


def _written_by_newer_paola(folder):
    SQLiteStore(folder).close()
    con = sqlite3.connect(folder / "paola.db")
    con.execute("INSERT INTO schema_version VALUES (?, '2099-01-01T00:00:00Z')", (SCHEMA_VERSION + 5,))
    con.commit()
    con.close()


def test_newer_schema_is_refused_and_left_untouched(tmp_path):
    folder = tmp_path / "newer"
    _written_by_newer_paola(folder)
    before = _bytes(folder / "paola.db")
    with pytest.raises(StoreError, match=rf"newer paola \(schema {SCHEMA_VERSION + 5}, this version knows "
                                         rf"{SCHEMA_VERSION}\); upgrade paola") as err:
        SQLiteStore(folder)
    assert str(folder / "paola.db") in str(err.value)
    assert _bytes(folder / "paola.db") == before


def test_garbage_file_is_refused_and_left_untouched(tmp_path):
    folder = tmp_path / "garbage"
    folder.mkdir()
    garbage = os.urandom(5000)
    (folder / "paola.db").write_bytes(garbage)
    with pytest.raises(StoreError, match="not a paola store") as err:
        SQLiteStore(folder)
    assert str(folder / "paola.db") in str(err.value)
    assert _bytes(folder / "paola.db") == garbage
    assert sorted(p.name for p in folder.iterdir()) == ["paola.db"]


def test_corrupt_database_is_refused_and_left_untouched(tmp_path):
    folder = tmp_path / "corrupt"
    folder.mkdir()
    body = b"SQLite format 3\x00" + os.urandom(8000)
    (folder / "paola.db").write_bytes(body)
    with pytest.raises(StoreError, match="paola.db"):
        SQLiteStore(folder)
    assert _bytes(folder / "paola.db") == body


def test_someone_elses_sqlite_database_is_refused(tmp_path):
    folder = tmp_path / "foreign"
    folder.mkdir()
    con = sqlite3.connect(folder / "paola.db")
    con.execute("CREATE TABLE invoices (id INTEGER)")
    con.commit()
    con.close()
    before = _bytes(folder / "paola.db")
    with pytest.raises(StoreError, match="not a paola store.*invoices"):
        SQLiteStore(folder)
    assert _bytes(folder / "paola.db") == before


def test_a_file_where_the_folder_should_be(tmp_path):
    path = tmp_path / "runs"
    path.write_text("notes")
    with pytest.raises(StoreError, match="is a file"):
        SQLiteStore(path)
    assert path.read_text() == "notes"


def test_read_only_folder_gives_a_store_error(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running with privileges that write through permissions")
        with pytest.raises(StoreError, match="not writable"):
            SQLiteStore(folder)
        with pytest.raises(StoreError, match="cannot create"):
            SQLiteStore(folder / "inner")
    finally:
        folder.chmod(stat.S_IRWXU)


def test_unreadable_database_gives_a_store_error(tmp_path):
    folder = tmp_path / "unreadable"
    SQLiteStore(folder).close()
    db = folder / "paola.db"
    db.chmod(0)
    try:
        if os.access(db, os.R_OK):
            pytest.skip("running with privileges that read through permissions")
        with pytest.raises(StoreError, match="paola.db"):
            SQLiteStore(folder)
    finally:
        db.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_older_store_is_migrated_with_its_data(tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    con = sqlite3.connect(folder / "paola.db", isolation_level=None)
    assert migrate(con, folder / "paola.db", MIGRATIONS[:1]) == 1
    con.execute("INSERT INTO problems (name, created_at, record) VALUES ('rb', '2024-01-01T00:00:00Z', "
                "'{\"name\": \"rb\", \"dimension\": 2}')")
    con.execute("INSERT INTO runs (problem_id, problem, algorithm, status, best_x) "
                "VALUES (1, 'rb', 'BFGS', 'completed', '[1.0, 1.0]')")
    con.close()
    store = SQLiteStore(folder)
    assert store.get_run(1)["best_x"] == [1.0, 1.0]
    assert store.get_problem(1)["dimension"] == 2
    session = store.add_session({"model": "offline"})  # a table version 2 added
    assert store.get_session(session)["events"] == []
    store.close()
    con = sqlite3.connect(folder / "paola.db")
    assert [v for (v,) in con.execute("SELECT version FROM schema_version ORDER BY version")] == \
        list(range(1, SCHEMA_VERSION + 1))
    con.close()


def test_orphans_are_persisted_by_mark_interrupted_orphans(tmp_path):
    store = SQLiteStore(tmp_path / "s")
    pid = store.add_problem({"name": "p"})
    gone = store.create_run({"problem_id": pid, "pid": os.getpid(), "proc_start": -1})
    assert store.mark_interrupted_orphans() == [gone]
    store.close()
    con = sqlite3.connect(tmp_path / "s" / "paola.db")
    assert con.execute("SELECT status, message FROM runs WHERE id = ?", (gone,)).fetchone() == \
        ("interrupted", f"process {os.getpid()} ended without finishing the run")
    con.close()


def test_locked_past_the_timeout_is_a_store_error(tmp_path):
    store = SQLiteStore(tmp_path / "s", timeout=0.2)
    holder = sqlite3.connect(tmp_path / "s" / "paola.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match="locked"):
            store.add_problem({"name": "p"})
        assert store.list_runs() == []  # readers are not blocked by a writer
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.add_problem({"name": "p"}) == 1
    store.close()


def test_listing_runs_does_not_import_numpy(tmp_path):
    folder = tmp_path / "s"
    store = SQLiteStore(folder)
    store.create_run({"problem_id": store.add_problem({"name": "p"})})
    store.close()
    code = ("import sys; from aopt.storage import open_store; s = open_store(sys.argv[1]); "
            "assert len(s.list_runs()) == 1 and s.get_run(1); s.count_runs(status='running'); "
            "assert 'numpy' not in sys.modules, 'numpy imported'")
    subprocess.run([sys.executable, "-c", code, str(folder)], check=True)


def test_open_store_uses_the_environment_then_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv("AOPT_STORE", str(tmp_path / "env"))
    assert default_store_path() == tmp_path / "env"
    store = open_store()
    assert store.path == tmp_path / "env" and (tmp_path / "env" / "paola.db").exists()
    store.close()
    monkeypatch.delenv("AOPT_STORE")
    monkeypatch.chdir(tmp_path)
    assert str(default_store_path()) == ".aopt_runs"
    open_store().close()
    assert (tmp_path / ".aopt_runs" / "paola.db").exists()
    open_store(tmp_path / "given").close()
    assert (tmp_path / "given" / "paola.db").exists()


def _busy_process(path, k, out):
    store = SQLiteStore(path)
    try:
        problem = store.add_problem({"name": f"w{k}"})
        ids = []
        for i in range(25):
            run_id = store.create_run({"problem_id": problem, "algorithm": "BFGS"})
            for a in range(0, 30, 10):
                store.append_evaluations(run_id, a, np.full((10, 3), float(i)), np.arange(10.0),
                                         np.zeros(10), np.zeros(10), summary={"best_f": 0.0})
            store.update_run(run_id, status="completed")
            store.list_runs(limit=10)
            store.count_runs(status="running")
            ids.append(run_id)
        out.put(ids)
    except BaseException as exc:  # noqa: BLE001 - sent to the parent to fail the test
        out.put(repr(exc))
    finally:
        store.close()


def test_several_processes_write_one_store(tmp_path):
    path = str(tmp_path / "shared")
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_busy_process, args=(path, k, out)) for k in range(6)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert all(isinstance(r, list) for r in results), results
    ids = [i for r in results for i in r]
    assert len(ids) == len(set(ids)) == 150
    store = SQLiteStore(path)
    assert store.count_runs() == 150 and store.count_runs(status="completed") == 150
    for run_id in ids[::15]:
        assert store.get_run(run_id)["n_evaluations"] == len(store.load_evaluations(run_id)["f"]) == 30
    store.close()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files through /proc")
def test_threads_that_end_do_not_leak_connections(tmp_path):
    import threading

    store = SQLiteStore(tmp_path / "s")
    run_id = store.create_run({"problem_id": store.add_problem({"name": "p"})})

    def reader():
        store.get_run(run_id)

    def open_files():
        return len(os.listdir("/proc/self/fd"))

    first = [threading.Thread(target=reader) for _ in range(5)]
    for t in first:
        t.start()
    for t in first:
        t.join()
    once = threading.Thread(target=reader)  # its connection closes those of the five ended threads
    once.start()
    once.join()
    before = open_files()
    for _ in range(100):  # as many runs, each with its recorder thread
        t = threading.Thread(target=reader)
        t.start()
        t.join()
    assert open_files() <= before + 4
    store.close()
