"""The agent loop driven by scripted fake chat models: errors reach the model, caps end with an answer,
Ctrl+C leaves a valid conversation, memory carries follow-ups, and the session is logged."""

import json
import subprocess
import sys
from typing import Any, Callable

import pytest
from langchain_core.exceptions import ModelAPIError, ModelAuthenticationError
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from aopt.agent import AgentSession, ModelError
from aopt.tools import Context


class ScriptedChatModel(GenericFakeChatModel):
    """GenericFakeChatModel whose items may be callables of the conversation, and which accepts tools."""

    seen: list = []

    def bind_tools(self, tools, **kwargs):
        return self

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append(list(messages))
        item = next(self.messages)
        if isinstance(item, BaseException):
            raise item
        if callable(item):
            item = item(messages)
        if isinstance(item, str):
            item = AIMessage(content=item)
        from langchain_core.outputs import ChatGeneration, ChatResult
        return ChatResult(generations=[ChatGeneration(message=item)])


def scripted(*items) -> ScriptedChatModel:
    return ScriptedChatModel(messages=iter(items), seen=[])


def call(name: str, args: dict | None = None, call_id: str | None = None) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args or {}, "id": call_id or f"c_{name}",
                                              "type": "tool_call"}])


def from_last_tool(make: Callable[[dict], AIMessage]) -> Callable:
    """An item that reads the last tool result (JSON) and builds the next message from it."""
    def item(messages):
        last = next(m for m in reversed(messages) if isinstance(m, ToolMessage))
        return make(json.loads(last.content))
    return item


@pytest.fixture
def ctx(tmp_path):
    c = Context.open(tmp_path / "store")
    yield c
    c.close()


def assert_valid_conversation(messages: list) -> None:
    """Every tool call of every AI message is answered by a ToolMessage right after it."""
    i = 0
    while i < len(messages):
        m = messages[i]
        i += 1
        if isinstance(m, AIMessage) and m.tool_calls:
            ids = {c["id"] for c in m.tool_calls}
            answered = set()
            while i < len(messages) and isinstance(messages[i], ToolMessage):
                answered.add(messages[i].tool_call_id)
                i += 1
            assert ids <= answered, f"dangling tool calls {ids - answered}"


def solve_script(objective="sphere", algorithm="BFGS", dimension=3, answer="done"):
    return [call("create_problem", {"name": "p", "objective": objective, "dimension": dimension}),
            from_last_tool(lambda r: call("start_optimization_run", {"problem_id": r["problem_id"],
                                                                     "algorithm": algorithm})),
            from_last_tool(lambda r: call("run_scipy_optimization", {"run_id": r["run_id"]})),
            answer]


def test_a_full_request_runs_every_tool_and_reports_its_runs(ctx):
    events = []
    session = AgentSession(ctx, model=scripted(*solve_script()), on_event=events.append)
    reply = session.ask("minimize the sphere with BFGS")
    assert reply.text == "done" and not reply.interrupted and not reply.capped
    assert reply.run_ids == [1]
    assert [c["name"] for c in reply.tool_calls] == ["create_problem", "start_optimization_run",
                                                     "run_scipy_optimization"]
    assert all(c["error"] is None and c["duration_s"] >= 0 for c in reply.tool_calls)
    assert ctx.runs.get(1)["status"] == "completed"
    kinds = [e["type"] for e in events]
    assert kinds.count("tool_start") == 3 and kinds.count("tool_end") == 3 and kinds[-1] == "answer"
    assert ctx.progress is not None  # optimizations report progress to on_event


def test_a_tool_error_goes_back_to_the_model_which_corrects_itself(ctx):
    model = scripted(call("start_optimization_run", {"problem_id": 999, "algorithm": "BFGS"}),
                     *solve_script(answer="fixed it"))
    reply = AgentSession(ctx, model=model).ask("run problem 999")
    assert reply.text == "fixed it"
    first = reply.tool_calls[0]
    assert first["error"] and "999" in first["error"]
    error_msg = [m for m in model.seen[1] if isinstance(m, ToolMessage)][0]
    assert json.loads(error_msg.content)["error"]["kind"] == "not_found"


def test_invalid_arguments_and_unknown_tools_are_answered_not_raised(ctx):
    model = scripted(call("run_scipy_optimization", {"run_id": "not a number", "x0": "nope"}),
                     call("make_coffee", {}),
                     "sorry")
    reply = AgentSession(ctx, model=model).ask("go")
    assert reply.text == "sorry"
    tool_msgs = [m for m in model.seen[-1] if isinstance(m, ToolMessage)]
    assert len(tool_msgs) == 2 and all(m.status == "error" for m in tool_msgs)
    assert "run_id" in tool_msgs[0].content  # pydantic's complaint names the argument
    assert "make_coffee" in tool_msgs[1].content and "create_problem" in tool_msgs[1].content
    assert all(c["error"] for c in reply.tool_calls)


def test_an_unexpected_exception_in_a_tool_becomes_a_tool_message(ctx, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("disk on fire")
    monkeypatch.setattr(ctx.runs, "execute", boom)
    model = scripted(*solve_script()[:3], "it failed")
    reply = AgentSession(ctx, model=model).ask("go")
    assert reply.text == "it failed"
    last = [m for m in model.seen[-1] if isinstance(m, ToolMessage)][-1]
    err = json.loads(last.content)["error"]
    assert err["kind"] == "internal_error" and "disk on fire" in err["message"]


def test_malformed_json_arguments_are_sent_back_and_the_loop_continues(ctx):
    bad = AIMessage(content="", invalid_tool_calls=[{"name": "get_run", "args": "{run_id: 1", "id": "bad1",
                                                     "error": "JSONDecodeError", "type": "invalid_tool_call"}])
    model = scripted(bad, "ok, let me stop")
    reply = AgentSession(ctx, model=model).ask("show run 1")
    assert reply.text == "ok, let me stop"
    answer = [m for m in model.seen[-1] if isinstance(m, ToolMessage)]
    assert answer and answer[0].tool_call_id == "bad1" and "not a valid JSON object" in answer[0].content


def test_a_runaway_loop_hits_the_cap_and_still_answers_with_what_was_done(ctx):
    loop = [call("list_problems", call_id=f"c{i}") for i in range(50)]
    model = scripted(*solve_script()[:3], *loop)
    session = AgentSession(ctx, model=model, max_steps=5)
    reply = session.ask("loop forever")
    assert reply.capped and reply.steps == 6
    assert "step limit" in reply.text and "run 1" in reply.text and "best f = " in reply.text and "result: " in reply.text
    last = session.messages[-1]
    assert isinstance(last, AIMessage) and not last.tool_calls
    assert_valid_conversation(session.messages)


def test_the_cap_prefers_the_models_own_final_answer(ctx):
    loop = [call("list_problems", call_id=f"c{i}") for i in range(2)]
    model = scripted(*loop, "Here is my summary.")
    reply = AgentSession(ctx, model=model, max_steps=2).ask("loop")
    assert reply.capped and reply.text == "Here is my summary."
    assert "step limit" in model.seen[-1][0].content  # the last call was told to answer without tools


def interrupting_objective(ctx, problem_id, after=30):
    """Make the problem's objective raise KeyboardInterrupt (as Ctrl+C would) after some evaluations."""
    _, problem = ctx.runs.problems.load(problem_id)
    fun, calls = problem.fun, {"n": 0}

    def objective(x):
        calls["n"] += 1
        if calls["n"] == after:
            raise KeyboardInterrupt
        return fun(x)
    problem.fun = objective


def test_ctrl_c_during_a_step_leaves_a_valid_conversation_and_an_interrupted_run(ctx):
    def start(r):
        interrupting_objective(ctx, r["problem_id"])
        return call("start_optimization_run", {"problem_id": r["problem_id"], "algorithm": "Nelder-Mead"})
    model = scripted(call("create_problem", {"name": "r", "objective": "rosenbrock", "dimension": 4}),
                     from_last_tool(start),
                     from_last_tool(lambda r: call("run_scipy_optimization", {"run_id": r["run_id"]})),
                     "what next?")
    session = AgentSession(ctx, model=model)
    reply = session.ask("optimize rosenbrock")
    assert reply.interrupted and reply.run_ids == [1]
    assert "Interrupted" in reply.text and "run 1" in reply.text
    assert ctx.runs.get(1)["status"] == "interrupted"
    msgs = session.messages
    assert_valid_conversation(msgs)
    tool_answer = [m for m in msgs if isinstance(m, ToolMessage)][-1]
    assert "interrupted by the user" in tool_answer.content
    # the conversation goes on
    reply2 = session.ask("and now?")
    assert reply2.text == "what next?" and not reply2.interrupted
    assert_valid_conversation(session.messages)
    assert any(isinstance(m, HumanMessage) and m.content == "optimize rosenbrock" for m in model.seen[-1])


def test_ctrl_c_keeps_results_of_parallel_calls_that_finished(ctx):
    def two(r):
        return AIMessage(content="", tool_calls=[
            {"name": "list_problems", "args": {}, "id": "a", "type": "tool_call"},
            {"name": "run_scipy_optimization", "args": {"run_id": r["run_id"]}, "id": "b", "type": "tool_call"}])

    def start(r):
        interrupting_objective(ctx, r["problem_id"])
        return call("start_optimization_run", {"problem_id": r["problem_id"], "algorithm": "Powell"})
    model = scripted(call("create_problem", {"name": "r", "objective": "rosenbrock", "dimension": 3}),
                     from_last_tool(start), from_last_tool(two))
    session = AgentSession(ctx, model=model)
    reply = session.ask("go")
    assert reply.interrupted
    msgs = session.messages
    assert_valid_conversation(msgs)
    answers = {m.tool_call_id: m.content for m in msgs if isinstance(m, ToolMessage)}
    assert "problems" in answers["a"]
    assert "interrupted by the user" in answers["b"]
    assert ctx.runs.get(1)["status"] == "interrupted"


def test_memory_carries_follow_ups_and_clear_forgets(ctx):
    model = scripted("first answer", "second answer", "fresh start")
    session = AgentSession(ctx, model=model)
    session.ask("remember the number 7")
    session.ask("what number?")
    assert [m.content for m in model.seen[1] if isinstance(m, HumanMessage)] == ["remember the number 7",
                                                                                "what number?"]
    session.clear()
    session.ask("hello")
    assert [m.content for m in model.seen[2] if isinstance(m, HumanMessage)] == ["hello"]


def test_transient_model_errors_are_retried_with_backoff(ctx):
    model = scripted(ModelAPIError("503 overloaded"), "after retry")
    session = AgentSession(ctx, model=model, retry_delay=0.01)
    assert session.ask("hi").text == "after retry"
    assert len(model.seen) == 2


def test_a_rejected_key_is_a_clear_error_and_the_session_survives(ctx):
    model = scripted(call("list_problems"), ModelAuthenticationError("401 bad key"), "works again")
    session = AgentSession(ctx, model=model, retry_delay=0.01)
    with pytest.raises(ModelError, match="rejected the API key"):
        session.ask("hi")
    assert_valid_conversation(session.messages)
    assert session.ask("again").text == "works again"


def test_the_session_log_has_transcript_tool_calls_and_timings(ctx):
    session = AgentSession(ctx, model=scripted(*solve_script(), "bye"))
    session.ask("solve")
    session.ask("thanks")
    events = ctx.store.get_session(session.session_id)["events"]
    types = [e["type"] for e in events]
    assert {"model", "message", "tool_call", "stats"} <= set(types)
    roles = [e["role"] for e in events if e["type"] == "message"]
    assert roles[0] == "human" and roles.count("tool") == 3 and roles[-1] == "ai"
    calls = [e for e in events if e["type"] == "tool_call"]
    assert [c["name"] for c in calls] == ["create_problem", "start_optimization_run", "run_scipy_optimization"]
    assert calls[2]["args"] == {"run_id": 1} and calls[2]["duration_s"] > 0 and calls[2]["error"] is None
    assert calls[0]["ids"] == {"problem_id": 1}
    stats = [e for e in events if e["type"] == "stats"][-1]["tools"]
    assert stats["run_scipy_optimization"]["calls"] == 1 and stats["create_problem"]["errors"] == 0
    assert session.tool_stats == stats


def test_the_model_sees_compact_results(ctx):
    model = scripted(*solve_script(objective="sphere", dimension=200)[:3], "ok")
    AgentSession(ctx, model=model).ask("big sphere")
    content = [m for m in model.seen[-1] if isinstance(m, ToolMessage)][-1].content
    result = json.loads(content)
    assert len(content) < 2000 and len(result["best_x"]) < 30


def test_switching_models_keeps_the_conversation(ctx):
    first = scripted("one")
    session = AgentSession(ctx, model=first)
    session.ask("a")
    second = scripted("two", "three")
    session.switch_model(second)
    assert session.ask("b").text == "two"
    assert [m.content for m in second.seen[0] if isinstance(m, HumanMessage)] == ["a", "b"]
    with pytest.raises(ModelError):
        session.switch_model("nosuchprovider:x")
    assert session.ask("c").text  # the old model is kept


def test_the_system_prompt_states_the_step_cap_and_retry_budget(ctx):
    model = scripted("hi")
    AgentSession(ctx, model=model, max_steps=7, retry_budget=1).ask("hello")
    prompt = model.seen[0][0].content
    assert "7 model steps" in prompt and "at most 1 extra run" in prompt and "not converged" in prompt


def test_importing_the_package_does_not_load_langchain():
    code = "import sys, aopt.agent; print('langchain' in sys.modules or 'langgraph' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_ctrl_c_while_waiting_for_the_model_keeps_finished_tool_results(ctx):
    model = scripted(call("list_problems", call_id="lp"), KeyboardInterrupt(), "later")
    session = AgentSession(ctx, model=model)
    reply = session.ask("list then think")
    assert reply.interrupted and [c["name"] for c in reply.tool_calls] == ["list_problems"]
    msgs = session.messages
    assert_valid_conversation(msgs)
    assert isinstance(msgs[-1], AIMessage) and "Interrupted" in msgs[-1].content
    assert session.ask("go on").text == "later"


def test_ctrl_c_reaches_optimizations_running_in_parallel_worker_threads(ctx):
    import os
    import signal
    import threading
    import time

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals need the main thread")

    def two_runs(messages):
        for name in ("a", "b"):
            p = ctx.runs.problems.create(name, "rastrigin", dimension=8)[0]
            ctx.runs.start_run(p["id"], "differential_evolution")
        return AIMessage(content="", tool_calls=[
            {"name": "run_scipy_optimization", "args": {"run_id": i, "max_evaluations": 10_000_000}, "id": f"r{i}",
             "type": "tool_call"} for i in (1, 2)])

    progress = threading.Event()
    session = AgentSession(ctx, model=scripted(two_runs),
                           on_event=lambda e: e["type"] == "progress" and progress.set())

    def press_ctrl_c():
        progress.wait(20)
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGINT)
    threading.Thread(target=press_ctrl_c, daemon=True).start()
    t0 = time.perf_counter()
    reply = session.ask("run both")
    assert reply.interrupted and time.perf_counter() - t0 < 30
    assert {ctx.runs.get(i)["status"] for i in (1, 2)} == {"interrupted"}
    assert sorted(reply.run_ids) == [1, 2]
    assert_valid_conversation(session.messages)


def test_step_cap_and_retry_budget_come_from_the_environment(ctx, monkeypatch):
    from aopt.errors import InvalidInput

    monkeypatch.setenv("PAOLA_MAX_STEPS", "2")
    monkeypatch.setenv("PAOLA_RETRY_BUDGET", "0")
    session = AgentSession(ctx, model=scripted(*[call("list_problems", call_id=f"c{i}") for i in range(5)]))
    assert session.max_steps == 2 and session.retry_budget == 0
    assert session.ask("loop").capped
    monkeypatch.setenv("PAOLA_MAX_STEPS", "lots")
    with pytest.raises(InvalidInput, match="PAOLA_MAX_STEPS must be a whole number"):
        AgentSession(ctx, model=scripted())
