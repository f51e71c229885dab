"""End-to-end requests through the embedded offline model, session replay and the export script."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aopt.agent import AgentSession, replay_session, run_script
from aopt.tools import Context

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def ctx(tmp_path):
    c = Context.open(tmp_path / "store")
    yield c
    c.close()


def test_offline_requests_with_follow_ups_and_progress(ctx):
    events = []
    session = AgentSession(ctx, model="offline", on_event=events.append)
    assert session.model_name == "offline" and session.is_offline
    first = session.ask("optimize 10D Rosenbrock with SLSQP")
    assert first.run_ids == [1] and ctx.runs.get(1)["algorithm"] == "SLSQP"
    assert ctx.runs.get(1)["status"] == "completed" and "Run 1" in first.text
    second = session.ask("now try it with BFGS")
    assert second.run_ids == [2] and ctx.runs.get(2)["algorithm"] == "BFGS"
    assert ctx.runs.get(2)["problem_id"] == ctx.runs.get(1)["problem_id"]
    third = session.ask("compare the last two")
    assert [c["name"] for c in third.tool_calls] == ["compare_runs"] and "Best" in third.text
    assert any(e["type"] == "progress" and e["run_id"] in (1, 2) for e in events)
    assert events[-1] == {"type": "answer", "text": third.text}


def test_offline_multi_step_request_is_carried_out_in_full(ctx):
    reply = AgentSession(ctx, model="offline").ask(
        "optimize rastrigin 3D with Nelder-Mead and differential evolution with seed 3 and max 600 "
        "evaluations, then compare them")
    assert len(reply.run_ids) == 2
    assert {ctx.runs.get(r)["algorithm"] for r in reply.run_ids} == {"Nelder-Mead", "differential_evolution"}
    assert reply.tool_calls[-1]["name"] == "compare_runs"


def test_replay_reexecutes_tool_calls_with_new_ids(ctx, tmp_path):
    session = AgentSession(ctx, model="offline")
    session.ask("optimize sphere 4D with BFGS")
    session.ask("try it again with Powell")
    original = [ctx.runs.get(r) for r in (1, 2)]
    other = Context.open(tmp_path / "other")
    try:
        other.runs.problems.create("filler", "booth")  # ids in the new store differ from the old ones
        seen = []
        # the session lives in ctx's store; replay it onto the other store by copying its events
        record = ctx.store.get_session(session.session_id)
        sid = other.store.add_session({"kind": "copy"})
        other.store.append_session_events(sid, record["events"])
        results = replay_session(other, sid, on_event=seen.append)
        names = [r["name"] for r in results]
        assert names.count("run_scipy_optimization") == 2 and names[0] == "create_problem"
        assert results[0]["result"]["problem_id"] == 2  # problem 1 there is the filler
        runs = other.store.list_runs()
        assert sorted(r["algorithm"] for r in runs) == ["BFGS", "Powell"]
        assert all(r["problem_id"] == 2 for r in runs)
        by_alg = {r["algorithm"]: r for r in runs}
        for old in original:
            assert by_alg[old["algorithm"]]["best_f"] == pytest.approx(old["best_f"], rel=1e-9, abs=1e-12)
        assert {"tool_start", "tool_end"} <= {e["type"] for e in seen}
    finally:
        other.close()


def test_export_script_reproduces_the_run_in_a_subprocess(ctx, tmp_path):
    reply = AgentSession(ctx, model="offline").ask(
        "run ackley in 3 dims with DE, seed 42, max 700 evaluations")
    run = ctx.runs.get(reply.run_ids[0])
    script = tmp_path / "repro.py"
    script.write_text(run_script(ctx, run["id"]))
    env = {**os.environ, "AOPT_STORE": str(tmp_path / "fresh"), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    fresh = Context.open(tmp_path / "fresh")
    try:
        again = fresh.runs.get(1)
        assert again["best_f"] == run["best_f"] and again["n_evaluations"] == run["n_evaluations"]
        assert again["algorithm"] == run["algorithm"] and again["seed"] == 42
    finally:
        fresh.close()


def test_export_script_keeps_constraints_bounds_and_sense(ctx, tmp_path):
    record, _ = ctx.runs.problems.create("c", "x*y", bounds=[[0, 5], [-2, 8]], constraints=["x + y <= 10"],
                                         sense="maximize")
    run_id = ctx.runs.start_run(record["id"], "SLSQP")
    run = ctx.runs.execute(run_id, x0=[1.0, 1.0])
    text = run_script(ctx, run_id)
    assert "'sense': 'maximize'" in text and "x + y <= 10" in text
    env = {**os.environ, "AOPT_STORE": str(tmp_path / "fresh"), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", text], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    fresh = Context.open(tmp_path / "fresh")
    try:
        assert fresh.runs.get(1)["best_f"] == run["best_f"]
    finally:
        fresh.close()


def test_a_run_that_does_not_converge_is_said_plainly(ctx):
    reply = AgentSession(ctx, model="offline").ask(
        "run rastrigin in 4 dims with DE, seed 1, max 200 evaluations")
    run = ctx.runs.get(reply.run_ids[0])
    assert run["converged"] is False
    assert "did not converge" in reply.text or "not converged" in reply.text
