"""A misbehaving model: each fault ends in a retry that succeeds or a clear message, the conversation
stays valid (every tool call answered) and the store stays consistent."""

import json
import os
import signal
import threading
import time

import pytest
from langchain_core.messages import AIMessage, ToolMessage

from aopt.agent import AgentSession, ModelError
from aopt.tools import Context
from tests.openai_stub import ChatStub, last_tool_result, status, text, tool_call
from tests.reliability_harness import check_store
from tests.test_agent import assert_valid_conversation, call, scripted

FAULTS: list[str] = []  # the faults this module tried (benchmarks/reliability.py counts them)


@pytest.fixture
def ctx(tmp_path):
    c = Context.open(tmp_path / "store")
    yield c
    c.close()


def openai_session(ctx, stub, **kw):
    kw.setdefault("max_retries", 2)
    return AgentSession(ctx, model="openai:stub-model", base_url=stub.base_url, **kw)


def holds(ctx, session, fault: str) -> None:
    """After a fault: a valid conversation, a consistent store, and a session that still answers."""
    assert_valid_conversation(session.messages)
    check_store(ctx.store.path)
    FAULTS.append(fault)


def slow(seconds: float, then: dict):
    def item(body):
        time.sleep(seconds)
        return then
    return item


SOLVE = [tool_call("create_problem", {"name": "q", "objective": "(x-3)**2 + y**2"}),
         lambda body: tool_call("start_optimization_run", {"problem_id": last_tool_result(body)["problem_id"],
                                                           "algorithm": "BFGS"}),
         lambda body: tool_call("run_scipy_optimization", {"run_id": last_tool_result(body)["run_id"]})]


@pytest.mark.parametrize("fault, first", [
    ("timeout", slow(3.0, text("too late"))),
    ("429", status(429, "rate limited", headers={"retry-after-ms": "5"})),
    ("500", status(500, "internal error", headers={"retry-after-ms": "5"})),
    ("503", status(503, "overloaded", headers={"retry-after-ms": "5"})),
])
def test_a_transient_failure_in_the_middle_of_a_request_is_retried_and_the_run_completes(ctx, fault, first):
    script = [SOLVE[0], SOLVE[1], first, SOLVE[2], text("Run 1 reached f = 0.")]
    with ChatStub(script) as stub:
        session = openai_session(ctx, stub, timeout=0.5)
        reply = session.ask("minimize (x-3)^2 + y^2 with BFGS")
    assert reply.text == "Run 1 reached f = 0." and reply.run_ids == [1]
    assert ctx.runs.get(1)["status"] == "completed"
    holds(ctx, session, fault)


def test_a_server_that_keeps_failing_is_a_clear_message_and_the_next_request_works(ctx):
    with ChatStub([SOLVE[0], status(500, "down"), status(500, "down"), status(500, "down"),
                   text("back")]) as stub:
        session = openai_session(ctx, stub)
        with pytest.raises(ModelError) as err:
            session.ask("minimize (x-3)^2 + y^2")
        assert "500" in str(err.value) or "server" in str(err.value).lower()
        assert len(ctx.store.list_problems()) == 1  # the tool call before the failure is kept
        assert session.ask("are you there?").text == "back"
    holds(ctx, session, "500 until retries run out")


@pytest.mark.parametrize("raw", ['{"name": "p", "objective": "sph', '{name: p}', "", "null",
                                 '{"name": "p", "objective": "sphere", "dimension": }'])
def test_malformed_or_truncated_arguments_are_answered_and_the_model_corrects_itself(ctx, raw):
    script = [tool_call("create_problem", raw),
              tool_call("create_problem", {"name": "p", "objective": "sphere"}), text("created")]
    with ChatStub(script) as stub:
        session = openai_session(ctx, stub)
        reply = session.ask("make a sphere problem")
    assert reply.text == "created" and reply.tool_calls[0]["error"]
    tool_msgs = [m for m in stub.requests[1]["messages"] if m["role"] == "tool"]
    assert tool_msgs and "error" in tool_msgs[0]["content"]
    assert [p["name"] for p in ctx.store.list_problems()] == ["p"]
    holds(ctx, session, "malformed arguments")


@pytest.mark.parametrize("raw", ["[1, 2]", "42", '"text"'])
def test_arguments_that_are_json_but_not_an_object_are_a_clear_message(ctx, raw):
    # found by this module: langchain-openai cannot build the message, pydantic's ValidationError escaped
    with ChatStub([tool_call("create_problem", raw), text("fine")]) as stub:
        session = openai_session(ctx, stub)
        with pytest.raises(ModelError, match="not a JSON object of named arguments"):
            session.ask("make a problem")
        assert session.ask("again").text == "fine"
    holds(ctx, session, "arguments not an object")


def test_calls_to_tools_that_do_not_exist_are_answered(ctx):
    with ChatStub([tool_call("delete_everything", {"really": True}), tool_call("__import__", "os"),
                   text("ok")]) as stub:
        session = openai_session(ctx, stub)
        reply = session.ask("clean up")
    assert reply.text == "ok" and all(c["error"] for c in reply.tool_calls)
    assert "delete_everything" in reply.tool_calls[0]["error"]
    holds(ctx, session, "unknown tool")


def test_a_model_that_never_stops_calling_tools_is_capped_with_an_answer(ctx):
    with ChatStub(SOLVE, default=tool_call("list_runs", {})) as stub:
        session = openai_session(ctx, stub, max_steps=6)
        reply = session.ask("loop")
    assert reply.capped and "run 1" in reply.text and len(stub.requests) <= 8
    last = session.messages[-1]
    assert isinstance(last, AIMessage) and not last.tool_calls
    holds(ctx, session, "never stops calling tools")


def test_a_model_that_answers_without_calling_a_tool_changes_nothing(ctx):
    with ChatStub([text("The minimum is surely 42.")]) as stub:
        session = openai_session(ctx, stub)
        reply = session.ask("minimize x^2")
    assert reply.text == "The minimum is surely 42." and reply.run_ids == [] and reply.tool_calls == []
    assert ctx.store.list_runs() == [] and ctx.store.list_problems() == []
    holds(ctx, session, "answers without tools")


def test_an_empty_answer_is_said_plainly(ctx):
    session = AgentSession(ctx, model=scripted(AIMessage(content="")))
    reply = session.ask("hello?")
    assert reply.text == "(the model gave no answer)"
    holds(ctx, session, "empty answer")


def test_ctrl_c_while_the_model_thinks_leaves_a_valid_conversation(ctx):
    session = AgentSession(ctx, model=scripted(call("create_problem", {"name": "p", "objective": "sphere"}),
                                               KeyboardInterrupt(), "still here"))
    reply = session.ask("make a problem")
    assert reply.interrupted and len(ctx.store.list_problems()) == 1
    assert session.ask("and now?").text == "still here"
    holds(ctx, session, "Ctrl+C during a model call")


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="needs the main thread")
def test_a_real_sigint_mid_optimization_keeps_the_run_as_interrupted(ctx):
    # a run that would take minutes; SIGINT arrives with its first progress report, as Ctrl+C would
    script = [call("create_problem", {"name": "r", "objective": "rosenbrock", "dimension": 8}),
              lambda m: call("start_optimization_run", {"problem_id": 1, "algorithm": "Nelder-Mead"}),
              lambda m: call("run_scipy_optimization", {"run_id": 1, "max_evaluations": 10**8,
                                                        "options": {"maxiter": 10**8, "maxfev": 10**8,
                                                                    "xatol": 0, "fatol": 0}}),
              "what next?"]
    sent = []

    def on_event(event):
        if event["type"] == "progress" and not sent:
            sent.append(event)
            os.kill(os.getpid(), signal.SIGINT)

    session = AgentSession(ctx, model=scripted(*script), on_event=on_event)
    reply = session.ask("optimize rosenbrock for a long time")
    assert reply.interrupted and reply.run_ids == [1]
    run = ctx.runs.get(1)
    assert run["status"] == "interrupted" and run["n_evaluations"] > 0 and run["best_f"] is not None
    tool_answer = [m for m in session.messages if isinstance(m, ToolMessage)][-1]
    assert "interrupted" in json.loads(tool_answer.content)["error"]["message"]
    assert session.ask("and now?").text == "what next?"
    holds(ctx, session, "SIGINT mid-optimization")
