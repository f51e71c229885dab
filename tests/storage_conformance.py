"""The Store contract as tests: every backend's test module subclasses StoreConformance.

A subclass provides `make_store(tmp_path)` (a fresh, empty store) and
`reopen_args(store)` (a picklable (factory, args) that opens the same store in another
process). Nothing here knows which backend it is testing.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import threading

import numpy as np
import pytest

from aopt.errors import InvalidInput, NotFound, StoreError

STATUSES = ("running", "completed", "failed", "interrupted")


def _create_run_and_vanish(factory, args, problem_id, out) -> None:
    """Child process: start a run and exit without finishing it."""
    store = factory(*args)
    out.put(store.create_run({"problem_id": problem_id, "algorithm": "BFGS"}))
    store.close()


def _context():
    return mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")


def _chunks(rng, n, d, size):
    """n evaluations of dimension d cut into chunks of at most `size`, as a recorder writes them."""
    X, f, cv, t = rng.normal(size=(n, d)), rng.normal(size=n), np.zeros(n), np.cumsum(rng.random(n))
    for a in range(0, n, size):
        yield a, X[a:a + size], f[a:a + size], cv[a:a + size], t[a:a + size]


class StoreConformance:
    """Behaviour every Store backend must show."""

    def make_store(self, tmp_path):
        raise NotImplementedError

    def reopen_args(self, store):
        raise NotImplementedError

    @pytest.fixture
    def store(self, tmp_path):
        store = self.make_store(tmp_path)
        yield store
        store.close()

    @pytest.fixture
    def problem_id(self, store):
        return store.add_problem({"name": "rb", "kind": "benchmark", "dimension": 2})

    # -- registered functions ----------------------------------------------------------------

    def test_registered_functions_replace_by_name(self, store):
        assert store.get_function("my_cost") is None
        store.register_function({"name": "my_cost", "objective": "/a/m.py:cost"})
        store.register_function({"name": "my_cost", "objective": "/b/m.py:cost", "gradient": None})
        store.register_function({"name": "aaa", "objective": "/c.py:f"})
        assert store.get_function("my_cost")["objective"] == "/b/m.py:cost"
        assert [f["name"] for f in store.list_functions()] == ["aaa", "my_cost"]
        with pytest.raises(InvalidInput):
            store.register_function({"objective": "/x.py:f"})

    # -- problems --------------------------------------------------------------------------

    def test_problem_round_trip(self, store):
        record = {"name": "q", "kind": "expression", "objective": "(x-3)**2 + y**2",
                  "bounds": [[-5.0, 5.0], [None, 1.5]], "constraints": ["x + y >= 1"],
                  "meta": {"nested": [1, 2, {"a": True}]}}
        pid = store.add_problem(record)
        got = store.get_problem(pid)
        assert got.pop("id") == pid
        assert got.pop("created_at").endswith("Z")
        assert got == record

    def test_problem_ids_increase_and_list_is_oldest_first(self, store):
        ids = [store.add_problem({"name": f"p{i}"}) for i in range(3)]
        assert ids == sorted(ids) and len(set(ids)) == 3
        assert [p["id"] for p in store.list_problems()] == ids

    def test_find_problem_returns_the_newest_with_that_name(self, store):
        store.add_problem({"name": "same", "v": 1})
        newest = store.add_problem({"name": "same", "v": 2})
        assert store.find_problem("same")["id"] == newest
        assert store.find_problem("same")["v"] == 2
        assert store.find_problem("missing") is None

    def test_unknown_problem_is_not_found(self, store):
        with pytest.raises(NotFound, match="123"):
            store.get_problem(123)

    @pytest.mark.parametrize("record", [{}, {"name": ""}, {"name": 3}, "rb", {"name": "x", "f": object()}])
    def test_bad_problem_record_is_refused(self, store, record):
        with pytest.raises(InvalidInput):
            store.add_problem(record)
        assert store.list_problems() == []

    # -- runs ------------------------------------------------------------------------------

    def test_create_run_defaults(self, store, problem_id):
        run_id = store.create_run({"problem_id": problem_id, "algorithm": "SLSQP"})
        run = store.get_run(run_id)
        assert run["id"] == run_id
        assert run["problem"] == "rb" and run["problem_id"] == problem_id
        assert run["status"] == "running"
        assert run["started_at"].endswith("Z") and run["started_at"][:2] == "20"
        assert run["pid"] == os.getpid()
        assert run["n_evaluations"] == 0
        assert run["finished_at"] is None and run["best_f"] is None
        assert run["notes"] == "" and run["note_list"] == []
        json.dumps(run)

    def test_run_lifecycle_and_json_fields(self, store, problem_id):
        run_id = store.create_run({"problem_id": problem_id, "algorithm": "BFGS", "description": "first try"})
        store.update_run(run_id, x0=np.array([-1.2, 1.0]), options={"gtol": 1e-8, "maxiter": np.int64(50)},
                         seed=np.int64(7))
        store.update_run(run_id, status="completed", best_f=np.float64(1.5e-12), best_x=[1.0, 1.0],
                         n_iterations=33, n_gradient_evaluations=40, converged=np.bool_(True),
                         convergence={"converged": True, "reason": "gradient below 1e-6", "grad_norm": 1e-9},
                         finished_at="2030-01-01T00:00:00.000Z", duration_s=0.25, message="ok")
        run = store.get_run(run_id)
        assert run["status"] == "completed"
        assert run["x0"] == [-1.2, 1.0] and run["best_x"] == [1.0, 1.0]
        assert run["options"] == {"gtol": 1e-8, "maxiter": 50}
        assert run["seed"] == 7 and type(run["seed"]) is int
        assert run["best_f"] == 1.5e-12 and type(run["best_f"]) is float
        assert run["converged"] is True
        assert run["convergence"]["reason"] == "gradient below 1e-6"
        assert run["description"] == "first try" and run["message"] == "ok"
        assert run["n_iterations"] == 33 and run["n_gradient_evaluations"] == 40
        assert json.loads(json.dumps(run)) == run

    def test_unknown_field_is_refused_listing_the_valid_ones(self, store, problem_id):
        run_id = store.create_run({"problem_id": problem_id})
        with pytest.raises(InvalidInput, match="bestf.*best_f"):
            store.update_run(run_id, status="completed", bestf=1.0)
        assert store.get_run(run_id)["status"] == "running"  # nothing written
        with pytest.raises(InvalidInput, match="colour"):
            store.create_run({"problem_id": problem_id, "colour": "red"})
        assert store.count_runs() == 1

    @pytest.mark.parametrize("fields", [{"status": "done"}, {"n_iterations": "many"}, {"best_f": "low"},
                                        {"converged": "yes"}, {"options": {"f": object()}}])
    def test_bad_field_values_are_refused(self, store, problem_id, fields):
        run_id = store.create_run({"problem_id": problem_id})
        with pytest.raises(InvalidInput):
            store.update_run(run_id, **fields)

    def test_unknown_ids_are_not_found(self, store, problem_id):
        with pytest.raises(NotFound):
            store.get_run(999)
        with pytest.raises(NotFound):
            store.update_run(999, status="failed")
        with pytest.raises(NotFound):
            store.add_note(999, "x")
        with pytest.raises(NotFound):
            store.append_evaluations(999, 0, np.zeros((1, 2)), [1.0], [0.0], [0.0])
        with pytest.raises(NotFound):
            store.load_evaluations(999)
        with pytest.raises(NotFound):
            store.evaluation_bytes(999)
        with pytest.raises(NotFound):
            store.create_run({"problem_id": 999})
        with pytest.raises(NotFound):
            store.create_run({"problem_id": problem_id, "parent_id": 999})

    def test_notes(self, store, problem_id):
        run_id = store.create_run({"problem_id": problem_id, "notes": "started by hand"})
        store.add_note(run_id, "looks converged")
        run = store.get_run(run_id)
        assert run["note_list"] == ["started by hand", "looks converged"]
        assert "started by hand" in run["notes"] and "looks converged" in run["notes"]
        assert store.list_runs()[0]["note_list"] == run["note_list"]

    def test_list_runs_newest_first_with_limit_and_offset(self, store, problem_id):
        ids = [store.create_run({"problem_id": problem_id}) for _ in range(7)]
        assert [r["id"] for r in store.list_runs()] == ids[::-1]
        assert [r["id"] for r in store.list_runs(limit=3)] == ids[::-1][:3]
        assert [r["id"] for r in store.list_runs(limit=3, offset=3)] == ids[::-1][3:6]
        assert [r["id"] for r in store.list_runs(limit=None)] == ids[::-1]
        assert store.count_runs() == 7

    def test_filters_by_problem_and_status(self, store, problem_id):
        other = store.add_problem({"name": "sphere"})
        a = store.create_run({"problem_id": problem_id})
        b = store.create_run({"problem_id": other})
        c = store.create_run({"problem_id": other})
        store.update_run(b, status="completed")
        store.update_run(c, status="failed")
        assert [r["id"] for r in store.list_runs(problem="sphere")] == [c, b]
        assert [r["id"] for r in store.list_runs(problem=other)] == [c, b]
        assert [r["id"] for r in store.list_runs(problem=str(problem_id))] == [a]
        assert [r["id"] for r in store.list_runs(status="completed")] == [b]
        assert [r["id"] for r in store.list_runs(problem="sphere", status="failed")] == [c]
        assert [r["id"] for r in store.list_runs(status="running")] == [a]
        assert store.list_runs(problem="nothing") == []
        assert store.count_runs(problem="sphere") == 2
        assert store.count_runs(status="failed") == 1
        assert store.count_runs(problem="nothing") == 0

    def test_invalid_status_filter_lists_the_statuses(self, store):
        with pytest.raises(InvalidInput, match="running, completed, failed, interrupted"):
            store.list_runs(status="finished")
        with pytest.raises(InvalidInput, match="running, completed, failed, interrupted"):
            store.count_runs(status="finished")

    # -- orphans ---------------------------------------------------------------------------

    def test_run_of_a_vanished_process_is_interrupted(self, store, problem_id):
        factory, args = self.reopen_args(store)
        ctx = _context()
        out = ctx.Queue()
        child = ctx.Process(target=_create_run_and_vanish, args=(factory, args, problem_id, out))
        child.start()
        orphan = out.get(timeout=60)
        child.join(timeout=60)
        assert child.exitcode == 0
        mine = store.create_run({"problem_id": problem_id})
        run = store.get_run(orphan)
        assert run["status"] == "interrupted"
        assert str(child.pid) in run["message"]
        assert store.get_run(mine)["status"] == "running"
        assert [r["id"] for r in store.list_runs(status="interrupted")] == [orphan]
        assert [r["id"] for r in store.list_runs(status="running")] == [mine]
        assert store.count_runs(status="interrupted") == 1 and store.count_runs(status="running") == 1
        assert {r["id"]: r["status"] for r in store.list_runs()} == {orphan: "interrupted", mine: "running"}
        assert store.mark_interrupted_orphans() == [orphan]
        assert store.mark_interrupted_orphans() == []
        assert store.get_run(orphan)["status"] == "interrupted"
        assert store.get_run(mine)["status"] == "running"

    @pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="process start times need /proc")
    def test_reused_pid_is_not_mistaken_for_the_owner(self, store, problem_id):
        run_id = store.create_run({"problem_id": problem_id, "pid": os.getpid(), "proc_start": 1})
        assert store.get_run(run_id)["status"] == "interrupted"

    def test_finished_runs_keep_their_status(self, store, problem_id):
        run_id = store.create_run({"problem_id": problem_id, "pid": 2 ** 22 + 12345})
        store.update_run(run_id, status="completed")
        assert store.get_run(run_id)["status"] == "completed"

    # -- evaluations -----------------------------------------------------------------------

    def test_evaluations_round_trip_exactly(self, store, problem_id):
        run_id = store.create_run({"problem_id": problem_id})
        rng = np.random.default_rng(1)
        X = rng.normal(size=(250, 3)) * 10.0 ** rng.integers(-300, 300, size=(250, 3))
        X[0] = [-0.0, np.inf, np.nan]
        f, cv, t = rng.normal(size=250), np.abs(rng.normal(size=250)), np.cumsum(rng.random(250))
        f[5], cv[:10] = np.nan, 0.0
        for a in range(0, 250, 64):
            store.append_evaluations(run_id, a, X[a:a + 64], f[a:a + 64], cv[a:a + 64], t[a:a + 64])
        h = store.load_evaluations(run_id)
        assert h["x"].shape == (250, 3) and h["x"].dtype == np.float64
        assert h["x"].tobytes() == X.tobytes()
        assert h["f"].tobytes() == f.tobytes()
        assert h["cv"].tobytes() == cv.tobytes()
        assert h["t"].tobytes() == t.tobytes()
        assert list(h["index"]) == list(range(250))
        assert store.get_run(run_id)["n_evaluations"] == 250
        assert store.evaluation_bytes(run_id) >= 250 * (3 + 3) * 8

    def test_empty_history(self, store, problem_id):
        run_id = store.create_run({"problem_id": problem_id})
        h = store.load_evaluations(run_id, max_points=100)
        assert len(h["f"]) == len(h["index"]) == len(h["x"]) == 0
        assert store.evaluation_bytes(run_id) == 0

    def test_missing_cv_and_t(self, store, problem_id):
        run_id = store.create_run({"problem_id": problem_id})
        store.append_evaluations(run_id, 0, np.ones((4, 2)), [1.0, 2.0, 3.0, 4.0], None, None)
        h = store.load_evaluations(run_id)
        assert list(h["cv"]) == [0.0] * 4
        assert np.isnan(h["t"]).all()

    def test_summary_is_applied_with_the_chunk(self, store, problem_id):
        run_id = store.create_run({"problem_id": problem_id})
        store.append_evaluations(run_id, 0, np.zeros((3, 2)), [3.0, 1.0, 2.0], [0.0] * 3, [0.1, 0.2, 0.3],
                                 summary={"best_f": 1.0, "best_x": np.array([0.0, 0.0])})
        run = store.get_run(run_id)
        assert run["n_evaluations"] == 3 and run["best_f"] == 1.0 and run["best_x"] == [0.0, 0.0]
        store.append_evaluations(run_id, 3, np.zeros((2, 2)), [5.0, 6.0], [0.0] * 2, [0.4, 0.5],
                                 summary={"n_evaluations": 5, "best_f": 1.0})
        assert store.get_run(run_id)["n_evaluations"] == 5

    def test_failed_append_writes_neither_chunk_nor_summary(self, store, problem_id):
        run_id = store.create_run({"problem_id": problem_id})
        store.append_evaluations(run_id, 0, np.zeros((2, 2)), [3.0, 1.0], [0.0] * 2, [0.1, 0.2])
        with pytest.raises(InvalidInput, match="next start is 2"):
            store.append_evaluations(run_id, 5, np.zeros((1, 2)), [0.5], [0.0], [0.3], summary={"best_f": 0.5})
        with pytest.raises(InvalidInput, match="2-dimensional"):
            store.append_evaluations(run_id, 2, np.zeros((1, 3)), [0.5], [0.0], [0.3], summary={"best_f": 0.5})
        with pytest.raises(InvalidInput, match="unknown run field"):
            store.append_evaluations(run_id, 2, np.zeros((1, 2)), [0.5], [0.0], [0.3], summary={"bst": 0.5})
        with pytest.raises(InvalidInput, match="shape"):
            store.append_evaluations(run_id, 2, np.zeros((2, 2)), [0.5], [0.0], [0.3])
        run = store.get_run(run_id)
        assert run["n_evaluations"] == 2 and run["best_f"] is None
        assert len(store.load_evaluations(run_id)["f"]) == 2

    def test_downsampling_keeps_first_last_and_every_improvement(self, store, problem_id):
        run_id = store.create_run({"problem_id": problem_id})
        rng = np.random.default_rng(3)
        n = 20_000
        f = rng.random(n) + 1.0
        improvements = [0, 17, 900, 4321, 12_000, 19_998]
        for k, i in enumerate(improvements):
            f[i] = 1.0 - k
        X = rng.normal(size=(n, 4))
        for a, x, ff, cv, t in _chunks(rng, n, 4, 3000):
            store.append_evaluations(run_id, a, X[a:a + len(ff)], f[a:a + len(ff)], cv, t)
        full = store.load_evaluations(run_id)
        h = store.load_evaluations(run_id, max_points=200)
        idx = list(h["index"])
        assert 150 <= len(idx) <= 200 and idx == sorted(set(idx))
        assert idx[0] == 0 and idx[-1] == n - 1
        assert set(improvements) <= set(idx)
        assert np.array_equal(h["x"], full["x"][h["index"]])
        assert np.array_equal(h["f"], f[h["index"]])
        assert np.array_equal(h["t"], full["t"][h["index"]])
        assert len(store.load_evaluations(run_id, max_points=n)["f"]) == n
        with pytest.raises(InvalidInput, match="max_points"):
            store.load_evaluations(run_id, max_points=1)

    def test_downsampling_tracks_feasible_improvements(self, store, problem_id):
        run_id = store.create_run({"problem_id": problem_id})
        n = 5000
        f = np.linspace(10.0, 0.0, n)  # every point improves on f...
        cv = np.ones(n)
        feasible = [100, 2500, 4000]  # ...but only these are feasible
        cv[feasible] = 0.0
        store.append_evaluations(run_id, 0, np.zeros((n, 1)), f, cv, np.zeros(n))
        idx = set(store.load_evaluations(run_id, max_points=50)["index"].tolist())
        assert {0, n - 1, *feasible} <= idx and len(idx) <= 50

    def test_downsampling_when_improvements_do_not_fit(self, store, problem_id):
        run_id = store.create_run({"problem_id": problem_id})
        n = 10_000
        f = np.linspace(5.0, -5.0, n)  # every evaluation is an improvement
        f[-1] = 100.0  # the last is not the best
        store.append_evaluations(run_id, 0, np.zeros((n, 2)), f, np.zeros(n), np.zeros(n))
        idx = store.load_evaluations(run_id, max_points=64)["index"].tolist()
        assert len(idx) <= 64 and {0, n - 2, n - 1} <= set(idx)

    def test_reading_while_a_thread_appends(self, store, problem_id):
        run_id = store.create_run({"problem_id": problem_id})
        errors = []

        def writer():
            try:
                for k in range(40):
                    store.append_evaluations(run_id, 10 * k, np.full((10, 2), k), np.full(10, -k),
                                             np.zeros(10), np.zeros(10), summary={"best_f": -k})
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        thread = threading.Thread(target=writer)
        thread.start()
        while thread.is_alive():
            run = store.get_run(run_id)
            h = store.load_evaluations(run_id, max_points=50)
            assert len(h["f"]) <= 50
            assert run["n_evaluations"] % 10 == 0
            store.list_runs()
        thread.join()
        assert not errors
        assert store.get_run(run_id)["n_evaluations"] == 400
        assert len(store.load_evaluations(run_id)["f"]) == 400

    # -- sessions --------------------------------------------------------------------------

    def test_sessions(self, store):
        first = store.add_session({"model": "offline", "title": "rosenbrock"})
        second = store.add_session({"model": "openai:gpt-4o-mini"})
        store.append_session_events(first, [{"type": "user", "text": "optimize 10D rosenbrock"},
                                            {"type": "tool_start", "name": "create_problem", "args": {"d": 10}}])
        store.append_session_events(first, [{"type": "answer", "text": "done"}])
        s = store.get_session(first)
        assert s["id"] == first and s["model"] == "offline" and s["created_at"].endswith("Z")
        assert [e["type"] for e in s["events"]] == ["user", "tool_start", "answer"]
        assert s["events"][1]["args"] == {"d": 10}
        listed = store.list_sessions()
        assert [x["id"] for x in listed] == [second, first]
        assert listed[1]["n_events"] == 3 and "events" not in listed[1]
        with pytest.raises(NotFound):
            store.get_session(999)
        with pytest.raises(NotFound):
            store.append_session_events(999, [{"type": "x"}])
        with pytest.raises(InvalidInput):
            store.append_session_events(first, ["not a dict"])

    # -- lifetime --------------------------------------------------------------------------

    def test_closed_store_refuses_use(self, tmp_path):
        store = self.make_store(tmp_path)
        store.close()
        with pytest.raises(StoreError, match="closed"):
            store.list_runs()

    def test_data_survives_reopening(self, tmp_path):
        store = self.make_store(tmp_path)
        pid = store.add_problem({"name": "kept"})
        run_id = store.create_run({"problem_id": pid})
        store.append_evaluations(run_id, 0, np.ones((2, 2)), [1.0, 2.0], [0.0, 0.0], [0.0, 1.0])
        factory, args = self.reopen_args(store)
        store.close()
        again = factory(*args)
        try:
            assert again.get_problem(pid)["name"] == "kept"
            assert again.get_run(run_id)["n_evaluations"] == 2
            assert len(again.load_evaluations(run_id)["f"]) == 2
        finally:
            again.close()

