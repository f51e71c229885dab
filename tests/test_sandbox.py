"""The sandbox worker: user code runs in a child process that nothing it does can escape or outlive."""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from aopt.errors import PaolaError
from aopt.sandbox import LimitExceeded, Limits, SandboxError, UserCodeError, Worker, WorkerDied

FIX = Path(__file__).parent / "sandbox_fixtures"
MODEL = FIX / "model.py"
FAILING = FIX / "failing.py"
FAST = Limits(eval_timeout=5, memory_mb=1024)


def spec(name: str, file: Path = FAILING) -> str:
    return f"{file}:{name}"


def children() -> set[int]:
    """Pids of this process's children (zombies included), read from /proc."""
    me, found = os.getpid(), set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == me:
            found.add(int(entry))
    return found


@pytest.fixture
def no_leaks():
    before = children()
    yield
    assert children() - before == set(), "a worker process was left behind"


def assert_reaped(worker: Worker) -> None:
    assert not worker.alive
    assert worker.returncode is not None
    with pytest.raises(ChildProcessError):
        os.waitpid(worker.pid, os.WNOHANG)


def fresh_worker_works() -> None:
    with Worker(spec("cost", MODEL), limits=FAST) as w:
        assert w.evaluate([1.0, 1.0]) == 0.0


def in_process_model():
    module_spec = importlib.util.spec_from_file_location("sandbox_fixture_model", MODEL)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- normal use


def test_values_match_in_process(no_leaks):
    model = in_process_model()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(25, 4))
    with Worker(spec("cost", MODEL), gradient=spec("grad", MODEL),
                constraints=[spec("disk", MODEL), spec("pair", MODEL)], limits=FAST) as w:
        assert w.evaluate(X[0]) == model.cost(X[0])
        np.testing.assert_array_equal(w.evaluate_batch(X), [model.cost(x) for x in X])
        np.testing.assert_array_equal(w.gradient(X[1]), model.grad(X[1]))
        np.testing.assert_array_equal(w.constraint(X[2], 0), [model.disk(X[2])])
        np.testing.assert_array_equal(w.constraints(X[2]), np.r_[model.disk(X[2]), model.pair(X[2])])
        assert w.n_constraints == 2
        assert w.counts["objective"] == 26 and w.counts["gradient"] == 1
        assert w.evaluate_batch(np.empty((0, 4))).shape == (0,)


def test_vectorized_objective_gets_the_whole_batch(no_leaks):
    X = np.arange(12.0).reshape(4, 3)
    with Worker(spec("batch_cost", MODEL), vectorized=True, limits=FAST) as w:
        np.testing.assert_array_equal(w.evaluate_batch(X), np.sum(X**2, axis=1))


def test_output_is_captured_and_can_be_cleared(no_leaks):
    with Worker(spec("noisy", MODEL), limits=FAST) as w:
        assert w.output() == "model imported\n"
        w.evaluate([2.0, 3.0])
        assert "evaluating at [2.0, 3.0]" in w.output(clear=True)
        assert w.output() == ""


def test_huge_output_is_truncated_and_worker_keeps_working(no_leaks):
    limits = Limits(eval_timeout=5, output_bytes=4096)
    with Worker(spec("shout"), limits=limits) as w:
        assert w.evaluate([1.0, 2.0]) == 1.0
        assert w.evaluate([3.0, 2.0]) == 3.0
        text = w.output()
        assert text.startswith("[... ")
        assert "bytes truncated ...]" in text
        assert len(text) < 4096 + 100
        assert text.endswith("from C-level fd 2\n")  # fd-level writes are captured too


def test_user_exception_is_summarized_with_user_frames_only(no_leaks):
    with Worker(spec("deep"), limits=FAST) as w:
        with pytest.raises(UserCodeError) as info:
            w.evaluate([1.0, 2.0])
    err = info.value
    assert err.kind == "user_exception"
    assert "ZeroDivisionError" in err.message and "failing.py, line 11, in _inner" in err.message
    tb = err.traceback
    assert "failing.py\", line 15, in deep" in tb and "line 19, in _middle" in tb and "line 11, in _inner" in tb
    assert "_child.py" not in tb and "sandbox" not in tb.replace("sandbox_fixtures", "")
    assert str(err).startswith(err.message) and "Traceback" in str(err)


def test_worker_survives_an_exception_and_bad_returns(no_leaks):
    with Worker(spec("fails_when_negative"), limits=FAST) as w:
        with pytest.raises(UserCodeError, match=r"ValueError: x\[0\] must be >= 0"):
            w.evaluate([-1.0])
        assert w.evaluate([2.0]) == 2.0
        with pytest.raises(UserCodeError) as info:
            w.evaluate_batch([[1.0], [4.0], [-3.0], [5.0]])
        assert info.value.index == 2 and info.value.partial == [1.0, 4.0] and info.value.x == [-3.0]
        assert "row 2 of a batch of 4" in info.value.message
        assert w.alive and w.evaluate([7.0]) == 7.0


# ---------------------------------------------------------------- import problems


def test_syntax_error_names_file_and_line(no_leaks):
    with pytest.raises(UserCodeError) as info:
        Worker(spec("cost", FIX / "syntax_error.py"), limits=FAST)
    assert info.value.kind == "import_error"
    assert "syntax_error.py" in info.value.message and "line 2" in info.value.message
    assert "SyntaxError" in str(info.value)


def test_import_error_names_file_line_and_module(no_leaks):
    with pytest.raises(UserCodeError) as info:
        Worker(spec("cost", FIX / "import_error.py"), limits=FAST)
    msg = info.value.message
    assert info.value.kind == "import_error"
    assert "No module named 'this_module_does_not_exist_paola'" in msg and "import_error.py, line 4" in msg


def test_sys_exit_at_import_is_an_import_error(no_leaks):
    with pytest.raises(UserCodeError, match=r"sys.exit\(2\)") as info:
        Worker(spec("cost", FIX / "import_exit.py"), limits=FAST)
    assert info.value.kind == "import_error"


def test_missing_function_lists_the_functions_in_the_file(no_leaks):
    with pytest.raises(UserCodeError) as info:
        Worker(spec("costt", MODEL), limits=FAST)
    msg = info.value.message
    assert info.value.kind == "missing_function"
    assert "defines no function 'costt'" in msg and "did you mean 'cost'?" in msg
    assert "batch_cost, cost, disk, grad, noisy, pair" in msg
    with pytest.raises(UserCodeError, match="is an int"):
        Worker(spec("not_a_function"), limits=FAST)


# ---------------------------------------------------------------- limits and deaths


def test_endless_loop_hits_the_evaluation_time_limit(no_leaks):
    w = Worker(spec("loop"), limits=Limits(eval_timeout=0.5))
    t0 = time.monotonic()
    with pytest.raises(LimitExceeded) as info:
        w.evaluate([1.0, 2.0])
    assert time.monotonic() - t0 < 3
    err = info.value
    assert err.kind == "timeout" and err.limit == "eval_timeout"
    assert "exceeded the 0.5 s time limit per evaluation" in err.message
    assert re.search(r"it was at failing.py, line 2[34], in loop", err.message)  # where it was stuck
    assert_reaped(w)
    with pytest.raises(WorkerDied) as again:
        w.evaluate([1.0, 2.0])
    assert again.value.kind == "stopped" and "start a new Worker" in again.value.message
    fresh_worker_works()


def test_time_limit_applies_to_each_point_of_a_batch(no_leaks):
    with Worker(spec("slow"), limits=Limits(eval_timeout=0.5)) as w:
        np.testing.assert_array_equal(w.evaluate_batch([[1.0], [2.0], [3.0]]), [1.0, 2.0, 3.0])  # 0.9 s in all


def test_run_time_limit(no_leaks):
    w = Worker(spec("slow"), limits=Limits(eval_timeout=5, run_timeout=0.8))
    with pytest.raises(LimitExceeded) as info:
        for _ in range(10):
            w.evaluate([1.0])
    assert info.value.kind == "run_timeout" and info.value.limit == "run_timeout"
    assert "run exceeded the 0.8 s time limit per run" in info.value.message
    assert_reaped(w)


def test_memory_bomb_hits_the_memory_limit(no_leaks):
    w = Worker(spec("bomb"), limits=Limits(eval_timeout=10, memory_mb=300))
    with pytest.raises(LimitExceeded) as info:
        w.evaluate([1.0])
    assert info.value.kind == "memory" and info.value.limit == "memory_mb"
    assert "worker exceeded the 300 MiB memory limit" in info.value.message
    assert_reaped(w)
    fresh_worker_works()


def test_memory_limit_below_the_baseline_is_explained(no_leaks):
    with pytest.raises(LimitExceeded, match="below what the worker needs"):
        Worker(spec("cost", MODEL), limits=Limits(memory_mb=20))


def test_sys_exit_in_user_code(no_leaks):
    w = Worker(spec("exit3"), limits=FAST)
    with pytest.raises(WorkerDied) as info:
        w.evaluate([1.0])
    assert info.value.kind == "exit" and "user code called sys.exit(3)" in info.value.message
    assert_reaped(w)
    fresh_worker_works()


def test_os_exit_in_user_code(no_leaks):
    w = Worker(spec("hard_exit"), limits=FAST)
    with pytest.raises(WorkerDied) as info:
        w.evaluate([1.0])
    assert info.value.kind == "exit" and info.value.returncode == 1
    assert "exited with status 1" in info.value.message
    assert_reaped(w)
    fresh_worker_works()


def test_segfault_in_user_code(no_leaks):
    w = Worker(spec("segfault"), limits=FAST)
    with pytest.raises(WorkerDied) as info:
        w.evaluate([1.0])
    assert info.value.kind == "crash" and info.value.returncode == -signal.SIGSEGV
    assert "SIGSEGV" in info.value.message and "failing.py, line 49, in segfault" in info.value.message
    assert_reaped(w)
    fresh_worker_works()


def test_processes_started_by_user_code_are_killed_too(no_leaks, tmp_path, monkeypatch):
    pidfile = tmp_path / "grandchild.pid"
    monkeypatch.setenv("PAOLA_TEST_PIDFILE", str(pidfile))
    w = Worker(spec("spawn_and_loop"), limits=Limits(eval_timeout=1.0))
    with pytest.raises(LimitExceeded):
        w.evaluate([1.0])
    grandchild = int(pidfile.read_text())
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{grandchild}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            break  # gone
        if state in ("Z", "X"):
            break  # dead; reaping it is its new parent's business
        time.sleep(0.02)
    else:
        pytest.fail("the process started by user code is still running")


def test_ctrl_c_while_waiting_stops_the_worker(no_leaks):
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, interrupt)
    w = Worker(spec("loop"), limits=FAST)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(KeyboardInterrupt):
            w.evaluate([1.0])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert_reaped(w)


# ---------------------------------------------------------------- return values


def test_nan_is_a_failed_point_by_default_and_an_error_on_request(no_leaks):
    with Worker(spec("nan_when_negative"), limits=FAST) as w:
        assert w.evaluate([-1.0]) == np.inf
        np.testing.assert_array_equal(w.evaluate_batch([[1.0], [-1.0]]), [1.0, np.inf])
        assert w.counts["nonfinite"] == 2
    with Worker(spec("inf"), limits=FAST) as w:
        assert w.evaluate([1.0]) == np.inf
    with Worker(spec("nan_when_negative"), limits=FAST, nan_policy="raise") as w:
        with pytest.raises(UserCodeError, match="returned nan") as info:
            w.evaluate_batch([[1.0], [-2.0]])
        assert info.value.kind == "bad_return" and info.value.index == 1
        assert w.evaluate([3.0]) == 3.0


@pytest.mark.parametrize(
    "name, expected",
    [
        ("text", "returned a str ('hello')"),
        ("nothing", "returned None"),
        ("mapping", "returned a dict"),
        ("vector", "returned an array of shape (3,); an objective must return one number"),
    ],
)
def test_non_numbers_and_vectors_from_an_objective_are_errors(no_leaks, name, expected):
    with Worker(spec(name), limits=FAST) as w:
        with pytest.raises(UserCodeError) as info:
            w.evaluate([1.0, 2.0])
        assert info.value.kind == "bad_return" and expected in info.value.message
        assert f"{name}(x) in failing.py" in info.value.message
        assert w.alive


def test_gradient_of_the_wrong_length_is_an_error(no_leaks):
    with Worker(spec("cost", MODEL), gradient=spec("short_grad"), limits=FAST) as w:
        with pytest.raises(UserCodeError, match=r"gradient of shape \(2,\) for a point of dimension 3"):
            w.gradient([1.0, 2.0, 3.0])


def test_nan_constraint_counts_as_violated(no_leaks):
    with Worker(spec("cost", MODEL), constraints=[spec("nan")], limits=FAST) as w:
        assert w.constraints([1.0, 2.0]).tolist() == [-np.inf]


def test_errors_are_paola_errors():
    assert issubclass(SandboxError, PaolaError)
    with pytest.raises(PaolaError, match="nan_policy"):
        Worker(spec("cost", MODEL), nan_policy="ignore")
    with pytest.raises(PaolaError, match="eval_timeout"):
        Limits(eval_timeout=-1)
