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


@pytest.mark.parametrize("tool, args", [
    ("get_run", {"run_id": 10**100}), ("analyze_run", {"run_id": 2**63}),
    ("finalize_optimization_run", {"run_id": 2**64}), ("start_optimization_run", {"problem_id": 2**70}),
    ("start_optimization_run", {"problem_id": "p", "parent_run_id": 2**64}),
    ("list_runs", {"problem": str(10**30)}), ("compare_runs", {"run_ids": [2**63, 1]}),
    ("run_scipy_optimization", {"run_id": 2**63 + 5}),
])
def test_ids_beyond_sqlite_integers_are_invalid_input_not_overflow_error(tmp_path, tool, args):
    # the fuzzer's first find: OverflowError ("Python int too large to convert to SQLite INTEGER")
    from aopt.tools import Context, build_tools

    ctx = Context.open(tmp_path / "store")
    tools = {t.name: t for t in build_tools(ctx)}
    tools["create_problem"].invoke({"name": "p", "objective": "sphere"})
    out = tools[tool].invoke(args)
    assert out["error"]["kind"] == "invalid_input" and "below 2**63" in out["error"]["message"]
    ctx.close()


def test_slash_show_with_a_huge_run_number_is_an_error_line(tmp_path):
    import io

    from rich.console import Console

    from aopt.cli._commands import SlashCommands
    from aopt.cli._records import StoreReader

    store = SQLiteStore(tmp_path / "s")
    manager = RunManager(store)
    manager.problems.create("p", "sphere")
    manager.start_run("p", "BFGS")
    out = io.StringIO()
    commands = SlashCommands(Console(file=out, width=80, color_system=None), StoreReader(store=store))
    assert commands.run("/show " + "9" * 100) is False
    assert "error: run id must be a whole number below 2**63; got a number of 100 digits" in out.getvalue()


def test_an_overdue_flush_is_done_by_the_hot_path_itself(runs):
    # A CPU-bound optimizer starved the flush thread of the GIL: 0.6-1.0 s between flushes, so a
    # SIGKILL lost up to 0.5 s of evaluations (the crash loop's find). Past its due time, the
    # next evaluation writes what is waiting.
    import time

    import numpy as np

    from aopt.runs._recorder import RunRecorder

    runs.problems.create("s", "sphere", dimension=2)
    run_id = runs.start_run("s", "BFGS")
    recorder = RunRecorder(runs.store, run_id, 2, flush_interval=0.2)
    recorder._stop = True  # a starved thread: it never flushes
    recorder._wake.set()
    recorder._thread.join()
    objective = recorder.objective(lambda x: float(x @ x), 10**6, RuntimeError)
    for i in range(5):
        objective(np.array([i, 1.0]))
    assert recorder.n_flushed == 0
    time.sleep(0.35)  # past the due time (one flush interval)
    objective(np.array([9.0, 9.0]))
    assert recorder.n_flushed == 6 and len(runs.store.load_evaluations(run_id)["f"]) == 6
    recorder.record(np.array([1.0, 2.0]), 5.0)
    recorder.close()
    assert len(runs.store.load_evaluations(run_id)["f"]) == 7


def test_rows_before_a_slow_evaluation_reach_the_store_without_another_evaluation(runs):
    # Fast evaluations are flushed by the evaluating thread itself; while it sits in a slow one
    # (or the optimizer stops calling), the background thread must still write what is waiting.
    import time

    import numpy as np

    from aopt.runs._recorder import RunRecorder

    runs.problems.create("s", "sphere", dimension=2)
    run_id = runs.start_run("s", "BFGS")
    recorder = RunRecorder(runs.store, run_id, 2)  # the default interval: 0.1 s
    objective = recorder.objective(lambda x: float(x @ x), 10**6, RuntimeError)
    for i in range(3):
        objective(np.array([i, 1.0]))
    t0 = time.perf_counter()
    while len(runs.store.load_evaluations(run_id)["f"]) < 3 and time.perf_counter() - t0 < 5:
        time.sleep(0.01)
    waited = time.perf_counter() - t0
    assert list(runs.store.load_evaluations(run_id)["f"]) == [1.0, 2.0, 5.0]
    assert runs.get(run_id)["n_evaluations"] == 3 and runs.get(run_id)["best_f"] == 1.0
    assert waited < 2.0  # about two intervals; generous for a loaded machine
    recorder.close()


def test_a_damaged_database_with_invalid_text_is_a_store_error(tmp_path, monkeypatch):
    # random bytes over the pages made sqlite3 raise UnicodeDecodeError on opening, which escaped
    import sqlite3

    from aopt.errors import StoreError
    from aopt.storage import _connection

    SQLiteStore(tmp_path / "s").close()

    class Garbled(sqlite3.Connection):
        def execute(self, sql, *args):
            if sql.startswith("PRAGMA synchronous"):
                raise UnicodeDecodeError("utf-8", b"\x95", 0, 1, "invalid start byte")
            return super().execute(sql, *args)

    real = sqlite3.connect
    monkeypatch.setattr(_connection.sqlite3, "connect", lambda *a, **k: real(*a, **k, factory=Garbled))
    with pytest.raises(StoreError, match="not valid UTF-8, so the file is damaged"):
        SQLiteStore(tmp_path / "s")


def test_a_flush_interrupted_after_its_commit_does_not_write_twice(runs):
    # With the hot path flushing (above), Ctrl+C can land between the store's commit and the
    # recorder's bookkeeping; the next flush then found the rows already there and failed, leaving
    # the run 'running'. It now writes only what is missing.
    import numpy as np

    from aopt.runs._recorder import RunRecorder

    runs.problems.create("s", "sphere", dimension=2)
    run_id = runs.start_run("s", "BFGS")
    recorder = RunRecorder(runs.store, run_id, 2, flush_interval=3600)
    objective = recorder.objective(lambda x: float(x @ x), 10**6, RuntimeError)
    real = runs.store.append_evaluations

    def commit_then_interrupt(*a, **k):
        real(*a, **k)
        raise KeyboardInterrupt

    for i in range(4):
        objective(np.array([i, 0.0]))
    runs.store.append_evaluations = commit_then_interrupt
    with pytest.raises(KeyboardInterrupt):
        recorder.flush()
    runs.store.append_evaluations = real
    objective(np.array([7.0, 7.0]))
    recorder.close()
    h = runs.store.load_evaluations(run_id)
    assert list(h["index"]) == [0, 1, 2, 3, 4] and h["f"][-1] == 98.0


def test_ctrl_c_before_the_optimizer_starts_does_not_leave_the_run_running(runs, monkeypatch):
    # a SIGINT 0.3 s into a request landed in execute's imports and checks: the run stayed
    # 'running' for the rest of the session
    import aopt.optimize

    runs.problems.create("s", "sphere", dimension=2)
    run_id = runs.start_run("s", "BFGS")

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(aopt.optimize, "validate_options", interrupted)
    with pytest.raises(KeyboardInterrupt):
        runs.execute(run_id)
    run = runs.get(run_id)
    assert run["status"] == "interrupted" and "before the optimizer started" in run["message"]


def test_a_failing_store_stops_the_optimizer_at_once(runs):
    # The flush thread's error (a full disk, a store gone read-only) used to surface only when the
    # run closed, after the optimizer had spent its whole budget.
    import numpy as np
    import pytest

    from aopt.errors import StoreError
    from aopt.runs._recorder import RunRecorder

    runs.problems.create("s2", "sphere", dimension=2)
    run_id = runs.start_run("s2", "BFGS")
    recorder = RunRecorder(runs.store, run_id, 2, flush_interval=0.01)
    objective = recorder.objective(lambda x: float(x @ x), 10**9, RuntimeError)

    def broken(*args, **kwargs):
        raise StoreError("disk I/O error while writing evaluations")

    runs.store.append_evaluations = broken
    with pytest.raises(StoreError):
        for i in range(10**6):
            objective(np.array([i, 1.0]))
    assert recorder.n < 10**6
    with pytest.raises(StoreError):
        recorder.close()


def test_ctrl_c_landing_anywhere_in_a_tool_threads_flush_leaves_the_store_writable(tmp_path, monkeypatch):
    # The evaluating thread writes its own flushes, and the agent delivers Ctrl+C to tool threads
    # as an asynchronous KeyboardInterrupt, which can land between the store's BEGIN and its
    # bookkeeping: the open transaction then held the write lock, so finishing the run as
    # 'interrupted' (and every other writer) waited out the 30 s busy timeout.
    import ctypes
    import random
    import threading
    import time

    from aopt.runs import _recorder

    class Eager(_recorder.RunRecorder):  # a flush every few evaluations: interrupts often land in one
        def __init__(self, *a, **k):
            super().__init__(*a, **{**k, "flush_interval": 0.0005})

    monkeypatch.setattr(_recorder, "RunRecorder", Eager)
    store = SQLiteStore(tmp_path / "s", timeout=3.0)
    runs = RunManager(store)
    runs.problems.create("r", "rosenbrock", dimension=50)
    rng = random.Random(7)
    for trial in range(12):
        run_id = runs.start_run("r", "Nelder-Mead")
        outcome = {}

        def work():
            try:
                runs.execute(run_id, options={"maxiter": 10**7, "maxfev": 10**7}, max_evaluations=10**7)
            except KeyboardInterrupt:
                outcome["interrupted"] = True
            except BaseException as exc:  # noqa: BLE001 - reported below
                outcome["error"] = exc

        worker = threading.Thread(target=work)
        worker.start()
        t0 = time.perf_counter()
        while not runs.get(run_id)["n_evaluations"] and time.perf_counter() - t0 < 10:
            time.sleep(0.001)  # the optimizer is running and flushing
        time.sleep(rng.random() * 0.02)
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(worker.ident), ctypes.py_object(KeyboardInterrupt))
        worker.join(timeout=20)
        assert not worker.is_alive()
        assert outcome == {"interrupted": True}, (trial, outcome)
        run = runs.get(run_id)
        assert run["status"] == "interrupted" and run["n_evaluations"] > 0, (trial, run["status"])
        assert run["n_evaluations"] == len(store.load_evaluations(run_id)["f"])
        runs.problems.create(f"after{trial}", "sphere")  # a write from another thread is not locked out


def test_module_level_tools_keep_one_store_and_survive_other_processes(tmp_path, monkeypatch):
    # The README's script style (aopt.tools.create_problem.invoke without use_context) opened the
    # store anew on every call, and each opening read paola.db's header with open()/close(): on
    # POSIX that dropped this process's SQLite locks, so `paola runs` in another process, on
    # closing, deleted the WAL under it and every later call failed with "disk I/O error".
    import os
    import subprocess
    import sys

    from aopt.tools import create_problem, run_scipy_optimization, start_optimization_run

    monkeypatch.setenv("AOPT_STORE", str(tmp_path / "shared"))
    p = create_problem.invoke({"name": "q", "objective": "(x-3)**2 + y**2", "constraints": ["x + y <= 1"]})
    run = start_optimization_run.invoke({"problem_id": p["problem_id"], "algorithm": "SLSQP"})
    assert abs(run_scipy_optimization.invoke({"run_id": run["run_id"]})["best_f"] - 2.0) < 1e-6
    fds = len(os.listdir("/proc/self/fd"))
    for i in range(3):
        out = subprocess.run([sys.executable, "-m", "aopt", "runs"], capture_output=True, text=True,
                             env={**os.environ, "AOPT_STORE": str(tmp_path / "shared")}, timeout=120)
        assert out.returncode == 0, out.stderr
        made = create_problem.invoke({"name": f"after{i}", "objective": "x**2"})
        assert "error" not in made, made
        assert (tmp_path / "shared" / "paola.db-wal").exists()
    assert len(os.listdir("/proc/self/fd")) <= fds + 2  # one store, not one per call
    assert SQLiteStore(tmp_path / "shared").list_problems()[-1]["name"] == "after2"


def test_ctrl_c_during_the_convergence_check_closes_the_recorder_and_keeps_the_run(runs, monkeypatch):
    # A KeyboardInterrupt in verify() skipped recorder.close(): the run was marked "interrupted
    # before the optimizer started" and its recorder thread kept running against the store.
    import threading

    import aopt.optimize

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(aopt.optimize, "verify", interrupted)
    runs.problems.create("s", "rosenbrock", dimension=3)
    run_id = runs.start_run("s", "Nelder-Mead")
    with pytest.raises(KeyboardInterrupt):
        runs.execute(run_id, options={"maxfev": 500, "xatol": 0, "fatol": 0})
    run = runs.get(run_id)
    assert run["status"] == "interrupted" and "during the convergence check" in run["message"]
    assert run["n_evaluations"] == 500 == len(runs.store.load_evaluations(run_id)["f"])
    assert run["best_f"] is not None
    assert not [t for t in threading.enumerate() if t.name == f"paola-recorder-{run_id}"]


def test_a_failed_flush_is_not_tried_again_by_the_background_thread(runs):
    # After the evaluating thread's flush failed, the background thread (waiting on the lock
    # behind it) wrote the same rows again: close() waited out a second store timeout.
    import threading
    import time

    import numpy as np

    from aopt.errors import StoreError
    from aopt.runs._recorder import RunRecorder

    runs.problems.create("s3", "sphere", dimension=2)
    run_id = runs.start_run("s3", "BFGS")
    recorder = RunRecorder(runs.store, run_id, 2, flush_interval=0.05)
    objective = recorder.objective(lambda x: float(x @ x), 10**9, RuntimeError)
    calls = []

    def slow_failure(*args, **kwargs):
        calls.append(threading.current_thread().name)
        time.sleep(0.3)  # the background thread's due time passes while this one fails
        raise StoreError("disk I/O error while writing evaluations")

    runs.store.append_evaluations = slow_failure
    with pytest.raises(StoreError):
        for i in range(10**7):
            objective(np.array([i, 1.0]))
    with pytest.raises(StoreError):
        recorder.close()
    assert len(calls) == 1
