"""The OpenAI path (langchain-openai) against a chat-completions server on loopback started by the test."""

import socket

import pytest

from aopt.agent import AgentSession, ModelError, default_model_spec, resolve_model
from aopt.tools import Context
from tests.openai_stub import ChatStub, last_tool_result, status, text, tool_call, tool_calls


@pytest.fixture
def ctx(tmp_path):
    c = Context.open(tmp_path / "store")
    yield c
    c.close()


def session(ctx, stub, **kw):
    return AgentSession(ctx, model="openai:stub-model", base_url=stub.base_url, **kw)


def start_run(body):
    return tool_call("start_optimization_run", {"problem_id": last_tool_result(body)["problem_id"],
                                                "algorithm": "L-BFGS-B"})


def run_it(body):
    return tool_call("run_scipy_optimization", {"run_id": last_tool_result(body)["run_id"]})


def test_a_request_runs_tools_through_the_openai_client(ctx):
    script = [tool_call("create_problem", {"name": "q", "objective": "(x-3)**2 + (y+1)**2"}),
              start_run, run_it, text("Run 1 reached f = 0 at (3, -1).")]
    with ChatStub(script) as stub:
        reply = session(ctx, stub).ask("minimize (x-3)^2 + (y+1)^2")
    assert reply.text == "Run 1 reached f = 0 at (3, -1)."
    assert reply.run_ids == [1] and ctx.runs.get(1)["best_f"] == pytest.approx(0, abs=1e-8)
    first = stub.requests[0]
    assert first["model"] == "stub-model"
    assert first["messages"][0]["role"] == "system" and "paola" in first["messages"][0]["content"]
    assert {t["function"]["name"] for t in first["tools"]} >= {"create_problem", "run_scipy_optimization"}
    roles = [m["role"] for m in stub.requests[-1]["messages"]]
    assert roles == ["system", "user", "assistant", "tool", "assistant", "tool", "assistant", "tool"]


def test_a_429_is_retried_then_succeeds(ctx):
    with ChatStub([status(429, "slow down", headers={"retry-after-ms": "5"}), text("hello")]) as stub:
        reply = session(ctx, stub).ask("hi")
    assert reply.text == "hello" and len(stub.requests) == 2


def test_a_server_error_is_retried(ctx):
    with ChatStub([status(503, "busy", headers={"retry-after-ms": "5"}), text("up again")]) as stub:
        assert session(ctx, stub).ask("hi").text == "up again"


def test_malformed_arguments_go_back_to_the_model(ctx):
    with ChatStub([tool_call("get_run", "{run_id: 1,"), text("I will fix that.")]) as stub:
        reply = session(ctx, stub).ask("show run 1")
    assert reply.text == "I will fix that."
    tool_msg = [m for m in stub.requests[-1]["messages"] if m["role"] == "tool"][0]
    assert "not a valid JSON object" in tool_msg["content"]
    assert reply.tool_calls[0]["name"] == "get_run" and reply.tool_calls[0]["error"]


def test_parallel_tool_calls_in_one_message(ctx):
    both = tool_calls(("list_algorithms", {"handles_constraints": True}, "a"), ("list_problems", {}, "b"))
    with ChatStub([both, text("two lists")]) as stub:
        reply = session(ctx, stub).ask("what is there?")
    assert reply.text == "two lists"
    ids = [m["tool_call_id"] for m in stub.requests[-1]["messages"] if m["role"] == "tool"]
    assert sorted(ids) == ["a", "b"]


def test_follow_ups_send_the_whole_conversation(ctx):
    with ChatStub([text("first"), text("second")]) as stub:
        s = session(ctx, stub)
        s.ask("optimize something")
        s.ask("now try it with BFGS")
    users = [m["content"] for m in stub.requests[-1]["messages"] if m["role"] == "user"]
    assert users == ["optimize something", "now try it with BFGS"]


def test_a_rejected_key_is_a_clear_message(ctx):
    with ChatStub([status(401, "Incorrect API key provided")]) as stub:
        with pytest.raises(ModelError, match="the OpenAI server rejected the API key; set OPENAI_API_KEY"):
            session(ctx, stub).ask("hi")


def test_an_unknown_model_names_the_fix(ctx):
    with ChatStub([status(404, "model not found")]) as stub:
        with pytest.raises(ModelError, match="has no model 'stub-model'"):
            session(ctx, stub).ask("hi")


def test_an_unreachable_server_is_a_clear_message(ctx):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again at once: nothing listens there
    agent = AgentSession(ctx, model="openai:m", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
    with pytest.raises(ModelError, match="cannot reach the model server at http://127.0.0.1"):
        agent.ask("hi")


def test_model_specs_and_their_errors(monkeypatch):
    assert default_model_spec() == "offline"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert default_model_spec() == "openai:gpt-4o-mini"
    monkeypatch.setenv("PAOLA_MODEL", "ollama:qwen2.5")
    assert default_model_spec() == "ollama:qwen2.5"
    assert default_model_spec("offline") == "offline"
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(ModelError, match="needs an API key: set OPENAI_API_KEY"):
        resolve_model("openai:gpt-4o-mini")
    assert resolve_model("openai:local", base_url="http://127.0.0.1:9/v1").model_name == "local"
    with pytest.raises(ModelError, match="names no provider"):
        resolve_model("mystery")
    with pytest.raises(ModelError, match="unknown model provider 'nosuch'"):
        resolve_model("nosuch:model")


def test_a_provider_without_its_package_says_what_to_install():
    try:
        import langchain_anthropic  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("langchain-anthropic is installed here")
    with pytest.raises(ModelError, match="pip install langchain-anthropic"):
        resolve_model("anthropic:claude-sonnet-4-5")


def test_openai_base_url_from_the_environment(monkeypatch, ctx):
    with ChatStub([text("via env")]) as stub:
        monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
        agent = AgentSession(ctx, model="openai:m")
        assert agent.ask("hi").text == "via env"


def test_a_streaming_chat_model_object_works_too(ctx):
    from langchain_openai import ChatOpenAI

    script = [tool_call("list_algorithms", {"handles_constraints": True}), text("SLSQP and COBYLA, among others.")]
    with ChatStub(script) as stub:
        model = ChatOpenAI(model="stub", api_key="k", base_url=stub.base_url, streaming=True, max_retries=0)
        reply = AgentSession(ctx, model=model).ask("which algorithms handle constraints?")
    assert reply.text == "SLSQP and COBYLA, among others."
    assert all(r.get("stream") for r in stub.requests)
    assert reply.tool_calls[0]["summary"].endswith("algorithms") and reply.tool_calls[0]["error"] is None
