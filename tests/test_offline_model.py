"""The offline chat model: tool calls planned from the messages, ids threaded from results, final answers."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool

from aopt.agent.offline import GRAMMAR_HELP, OfflineChatModel

TOOLS = ["create_problem", "start_optimization_run", "run_scipy_optimization", "finalize_optimization_run",
         "list_problems", "list_runs", "get_run", "compare_runs", "list_algorithms", "analyze_run"]


def model():
    return OfflineChatModel().bind_tools([{"name": n, "description": n, "parameters": {}} for n in TOOLS])


def run_result(run_id, algorithm="BFGS", best_f=3e-7, converged=True, problem="rosenbrock_2d", **extra):
    return {"run_id": run_id, "problem": problem, "problem_id": 7, "algorithm": algorithm, "status": "completed",
            "best_f": best_f, "best_x": [1.0, 0.9999997], "n_evaluations": 42, "n_iterations": 12,
            "converged": converged, "convergence_reason": "gradient norm 1e-9 <= tolerance" if converged else
            "stopped at a local minimum", "message": "", "duration_s": 0.01, **extra}


class Conversation:
    """Plays the tools' part: answers each tool call of the model with a scripted result."""

    def __init__(self, m=None):
        self.m = m or model()
        self.messages = [SystemMessage("you are paola")]

    def say(self, text):
        self.messages.append(HumanMessage(text))
        return self.next()

    def next(self):
        reply = self.m.invoke(self.messages)
        self.messages.append(reply)
        return reply

    def answer(self, result):
        call = self.messages[-1].tool_calls[0]
        self.messages.append(ToolMessage(json.dumps(result), tool_call_id=call["id"], name=call["name"]))
        return self.next()


def only_call(message):
    assert len(message.tool_calls) == 1, message
    call = message.tool_calls[0]
    return call["name"], call["args"]


def test_bind_tools_returns_a_copy_that_knows_the_tool_names():
    base = OfflineChatModel()
    bound = base.bind_tools([{"name": "list_runs", "description": "x", "parameters": {}}])
    assert base.bound_tool_names is None
    assert bound.bound_tool_names == ["list_runs"]
    assert bound._llm_type == "paola-offline"


def test_a_benchmark_request_threads_problem_and_run_ids():
    c = Conversation()
    name, args = only_call(c.say("optimize 10D rosenbrok with SLSQP, seed 3 and 500 evaluations"))
    assert name == "create_problem"
    assert args == {"name": "rosenbrock_10d", "objective": "rosenbrock", "dimension": 10}
    name, args = only_call(c.answer({"problem_id": 7, "name": "rosenbrock_10d", "multimodal": False}))
    assert (name, args["problem_id"], args["algorithm"]) == ("start_optimization_run", 7, "SLSQP")
    name, args = only_call(c.answer({"run_id": 12, "problem_id": 7, "algorithm": "SLSQP"}))
    assert (name, args) == ("run_scipy_optimization", {"run_id": 12, "seed": 3, "max_evaluations": 500})
    name, args = only_call(c.answer(run_result(12, "SLSQP")))
    assert (name, args) == ("finalize_optimization_run", {"run_id": 12})
    final = c.answer(run_result(12, "SLSQP"))
    assert not final.tool_calls
    text = final.content
    assert "Run 12" in text and "SLSQP" in text
    assert "3e-07" in text  # six significant digits, a small value is not shown as 0
    assert "result: **local minimum** (gradient norm 1e-9 <= tolerance)" in text and "42 evaluations" in text
    assert "**yes**" not in text


def test_tool_call_ids_are_unique_and_deterministic():
    c = Conversation()
    ids = [c.say("optimize sphere with BFGS").tool_calls[0]["id"]]
    ids.append(c.answer({"problem_id": 1}).tool_calls[0]["id"])
    ids.append(c.answer({"run_id": 2}).tool_calls[0]["id"])
    assert ids == ["call_1", "call_2", "call_3"]
    again = model().invoke(c.messages[:-1])
    assert again.tool_calls[0]["id"] == "call_3"


def test_several_algorithms_then_compare_the_new_runs():
    c = Conversation()
    name, _ = only_call(c.say("optimize rastrigin 5D with Nelder-Mead and with differential evolution, then "
                              "compare them"))
    assert name == "create_problem"
    calls = []
    reply = c.answer({"problem_id": 3, "multimodal": True})
    scripted = {"start_optimization_run": iter([{"run_id": 20}, {"run_id": 21}]),
                "run_scipy_optimization": iter([run_result(20, "Nelder-Mead", 4.97, False, "rastrigin_5d"),
                                                run_result(21, "differential_evolution", 0.0, True, "rastrigin_5d")])}
    while reply.tool_calls:
        name, args = only_call(reply)
        calls.append((name, args))
        if name in scripted:
            result = next(scripted[name])
        elif name == "finalize_optimization_run":
            result = {"run_id": args["run_id"]}
        else:
            result = {"runs": [run_result(20, "Nelder-Mead", 4.97, False), run_result(21, "differential_evolution", 0.0)],
                      "best_run_id": 21}
        reply = c.answer(result)
    assert [n for n, _ in calls] == ["start_optimization_run", "run_scipy_optimization", "finalize_optimization_run",
                                     "start_optimization_run", "run_scipy_optimization", "finalize_optimization_run",
                                     "compare_runs"]
    assert calls[0][1]["algorithm"] == "Nelder-Mead" and calls[3][1]["algorithm"] == "differential_evolution"
    assert calls[1][1] == {"run_id": 20} and calls[4][1] == {"run_id": 21}
    assert calls[-1][1] == {"run_ids": [20, 21]}
    text = reply.content
    assert "Best: run 21" in text
    assert "Run 20 did not converge" in text and "global method" in text


def history_with_two_runs():
    c = Conversation()
    c.say("optimize 2D rosenbrock with BFGS")
    c.answer({"problem_id": 7, "name": "rosenbrock_2d"})
    c.answer({"run_id": 3, "problem_id": 7, "algorithm": "BFGS"})
    c.answer(run_result(3))
    c.answer(run_result(3))
    c.say("now with powell")
    c.answer({"run_id": 4, "problem_id": 7, "algorithm": "Powell"})
    c.answer(run_result(4, "Powell", 2e-5, False))
    final = c.answer(run_result(4, "Powell", 2e-5, False))
    assert "continue run 4 with L-BFGS-B" in final.content
    return c


def test_follow_ups_resolve_earlier_runs_and_problems():
    c = history_with_two_runs()
    assert only_call(c.say("try it again with BFGS and seed 5")) == (
        "start_optimization_run", {"problem_id": 7, "algorithm": "BFGS", "description": "try it again with BFGS and seed 5"})
    c.messages = c.messages[:-2]
    name, args = only_call(c.say("again with seed 5"))
    assert args["algorithm"] == "Powell"  # no algorithm named: the last run's
    c.messages = c.messages[:-2]
    name, args = only_call(c.say("continue run 3 with L-BFGS-B"))
    assert (name, args["problem_id"], args["algorithm"], args["parent_run_id"]) == (
        "start_optimization_run", 7, "L-BFGS-B", 3)
    c.messages = c.messages[:-2]
    assert only_call(c.say("compare the last two")) == ("compare_runs", {"run_ids": [3, 4]})
    c.messages = c.messages[:-2]
    assert only_call(c.say("show run 5")) == ("get_run", {"run_id": 5})
    c.messages = c.messages[:-2]
    assert only_call(c.say("show the last run")) == ("get_run", {"run_id": 4})
    c.messages = c.messages[:-2]
    assert only_call(c.say("why did it not converge?")) == ("analyze_run", {"run_id": 4})


def test_continue_an_unknown_run_reads_it_first():
    c = Conversation()
    assert only_call(c.say("continue run 9 with nelder mead")) == ("get_run", {"run_id": 9})
    name, args = only_call(c.answer(run_result(9, "BFGS", problem_id=5)))
    assert (name, args["problem_id"], args["parent_run_id"], args["algorithm"]) == (
        "start_optimization_run", 5, 9, "Nelder-Mead")


def test_compare_the_last_two_without_history_asks_the_store():
    c = Conversation()
    assert only_call(c.say("compare the last two")) == ("list_runs", {"limit": 2})
    assert only_call(c.answer({"runs": [{"run_id": 8}, {"run_id": 6}], "total": 8})) == (
        "compare_runs", {"run_ids": [6, 8]})


def test_references_with_nothing_to_refer_to_ask_back():
    reply = Conversation().say("try it again with BFGS")
    assert not reply.tool_calls
    assert "Which problem" in reply.content and "BFGS" in reply.content


@pytest.mark.parametrize("text, call", [
    ("list my runs", ("list_runs", {})),
    ("which algorithms handle constraints?", ("list_algorithms", {"handles_constraints": True})),
    ("analyze run 3", ("analyze_run", {"run_id": 3})),
    ("list problems", ("list_problems", {})),
    ("compare runs 2 and 4", ("compare_runs", {"run_ids": [2, 4]})),
    ("minimize (x-3)^2 + y^2 subject to x + y >= 1",
     ("create_problem", {"name": "expr_x_3_2_y_2", "objective": "(x-3)^2 + y^2", "constraints": ["x + y >= 1"]})),
])
def test_first_call_of_each_kind(text, call):
    assert only_call(Conversation().say(text)) == call


def test_algorithm_question_is_answered_from_the_tool():
    c = Conversation()
    c.say("which algorithms handle constraints?")
    reply = c.answer({"algorithms": [{"name": "SLSQP", "summary": "SQP", "handles_equality_constraints": True},
                                     {"name": "COBYLA", "summary": "linear models"}]})
    assert "SLSQP" in reply.content and "COBYLA" in reply.content and "constraints" in reply.content


def test_a_tool_error_stops_the_plan_and_is_explained():
    c = Conversation()
    c.say("minimize x^2 + y^2 subject to x + y >= 1 with BFGS")
    reply = c.answer({"problem_id": 2})
    assert only_call(reply)[0] == "start_optimization_run"
    reply = c.answer({"error": {"kind": "incompatible_algorithm", "message": "BFGS cannot handle constraints; "
                                                                             "use SLSQP"}})
    assert not reply.tool_calls
    assert "BFGS cannot handle constraints" in reply.content and "SLSQP" in reply.content


def test_a_failed_algorithm_among_several_does_not_stop_the_others():
    c = Conversation()
    c.say("minimize x^2 + y^2 subject to x + y >= 1 with BFGS and SLSQP")
    c.answer({"problem_id": 2})
    reply = c.answer({"error": {"kind": "incompatible_algorithm", "message": "BFGS cannot handle constraints"}})
    name, args = only_call(reply)
    assert (name, args["algorithm"]) == ("start_optimization_run", "SLSQP")


def test_an_unbound_tool_is_reported_unavailable():
    m = OfflineChatModel().bind_tools([{"name": "list_runs", "description": "x", "parameters": {}}])
    reply = Conversation(m).say("compare runs 1 and 2")
    assert not reply.tool_calls and "compare_runs" in reply.content and "not available" in reply.content


def test_not_understood_answer_shows_examples_and_how_to_switch_model():
    reply = Conversation().say("please make me a sandwich")
    assert not reply.tool_calls
    text = reply.content
    assert "did not understand" in text
    assert "optimize 10D Rosenbrock with SLSQP" in text
    assert "--model openai:gpt-4o-mini" in text and "OPENAI_API_KEY" in text
    assert "/model" in text and "PAOLA_MODEL" in text


def test_not_understood_says_what_was_understood():
    text = Conversation().say("BFGS?").content
    assert "Which problem" in text or "BFGS" in text


def test_grammar_help_documents_the_grammar():
    assert "subject to" in GRAMMAR_HELP and "continue run 3 with L-BFGS-B" in GRAMMAR_HELP
    assert Conversation().say("help").content.startswith("## What the offline model understands")


def test_streaming_gives_the_same_answer_in_chunks():
    m = model()
    msgs = [HumanMessage("what benchmarks are there?")]
    chunks = list(m.stream(msgs))
    assert len(chunks) > 1
    assert "".join(c.content for c in chunks) == m.invoke(msgs).content
    calls = list(m.stream([HumanMessage("list my runs")]))
    assert sum(len(c.tool_call_chunks) for c in calls) == 1


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gets_an_answer_or_a_tool_call(text):
    reply = model().invoke([HumanMessage(text)])
    assert isinstance(reply, AIMessage)
    assert reply.tool_calls or reply.content


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["optimize", "minimize", "rosenbrock", "10D", "with", "BFGS", "and", "then",
                                 "compare", "run", "3", "x^2", "+", "y", "s.t.", ">=", "1", "[", "]", "(", ",",
                                 "-2", "<=", "seed", "evaluations", "continue", "it", "again", "show", "−", "≤"]),
                max_size=25))
def test_grammar_soup_never_raises(words):
    reply = model().invoke([HumanMessage(" ".join(words))])
    assert reply.tool_calls or reply.content


def test_huge_input_is_handled():
    reply = model().invoke([HumanMessage("optimize rosenbrock " + "(" * 5000 + "x" * 100_000)])
    assert reply.tool_calls or reply.content


# -- with LangChain's create_agent and small fake tools ------------------------------------------------------
def fake_tools(log):
    state = {"problem": 0, "run": 0}

    @tool
    def create_problem(name: str, objective: str, dimension: int | None = None, bounds: list | dict | None = None,
                       constraints: list[str] | None = None, sense: str = "minimize") -> dict:
        """Define a problem."""
        state["problem"] += 1
        log.append(("create_problem", name))
        return {"problem_id": state["problem"], "name": name, "sense": sense, "multimodal": False}

    @tool
    def start_optimization_run(problem_id: int, algorithm: str = "auto", description: str = "",
                               parent_run_id: int | None = None) -> dict:
        """Start a run."""
        state["run"] += 1
        log.append(("start", problem_id, algorithm, parent_run_id))
        return {"run_id": state["run"], "problem_id": problem_id, "algorithm": algorithm}

    @tool
    def run_scipy_optimization(run_id: int, x0: list[float] | None = None, seed: int | None = None,
                               max_evaluations: int | None = None, options: dict | None = None) -> dict:
        """Run it."""
        log.append(("run", run_id))
        return run_result(run_id, "BFGS", 1e-3 * run_id, problem_id=1)

    @tool
    def finalize_optimization_run(run_id: int, notes: str = "") -> dict:
        """Finalize it."""
        return run_result(run_id, "BFGS", 1e-3 * run_id, problem_id=1)

    @tool
    def compare_runs(run_ids: list[int]) -> dict:
        """Compare."""
        log.append(("compare", run_ids))
        return {"runs": [run_result(r, "BFGS", 1e-3 * r, problem_id=1) for r in run_ids], "best_run_id": min(run_ids)}

    return [create_problem, start_optimization_run, run_scipy_optimization, finalize_optimization_run, compare_runs]


def test_create_agent_drives_the_fake_tools():
    from langchain.agents import create_agent

    log = []
    agent = create_agent(model=OfflineChatModel(), tools=fake_tools(log))
    out = agent.invoke({"messages": [{"role": "user", "content": "optimize sphere 3D with BFGS and with CG, "
                                                                 "then compare them"}]})
    assert log == [("create_problem", "sphere_3d"), ("start", 1, "BFGS", None), ("run", 1), ("start", 1, "CG", None),
                   ("run", 2), ("compare", [1, 2])]
    assert "Best: run 1" in out["messages"][-1].content
    out = agent.invoke({"messages": out["messages"] + [{"role": "user", "content": "continue run 2 with powell"}]})
    assert log[-2:] == [("start", 1, "Powell", 2), ("run", 3)]
    assert "Run 3" in out["messages"][-1].content
    out = agent.invoke({"messages": out["messages"] + [{"role": "user", "content": "list my runs"}]})
    assert "not available" in out["messages"][-1].content


def test_end_to_end_with_the_real_tools(tmp_path, monkeypatch):
    monkeypatch.setenv("AOPT_STORE", str(tmp_path / "store"))
    from langchain.agents import create_agent

    from aopt.tools import ALL_TOOLS

    agent = create_agent(model=OfflineChatModel(), tools=ALL_TOOLS)
    out = agent.invoke({"messages": [{"role": "user", "content": "optimize 2D rosenbrock with BFGS"}]})
    results = [json.loads(m.content) for m in out["messages"] if m.type == "tool"]
    final = results[-1]
    assert final["status"] == "completed" and final["algorithm"] == "BFGS"
    assert abs(final["best_f"]) < 1e-6 and final["converged"] is True
    answer = out["messages"][-1].content
    from aopt.optimize import CLAIMS

    assert final["claim"] in ("optimum", "local")
    assert f"Run {final['run_id']}" in answer and f"result: **{CLAIMS[final['claim']][0]}**" in answer
    out = agent.invoke({"messages": out["messages"] + [{"role": "user", "content": "list my runs"}]})
    assert "rosenbrock_2d" in out["messages"][-1].content


@pytest.mark.parametrize("run, expected, not_expected", [
    ({"run_id": 4, "algorithm": "SLSQP", "converged": False, "best_f": 9.8e44, "n_evaluations": 300,
      "convergence_reason": "no finite minimum: the optimizer ran off to |x| = 4.8e21; the objective looks "
                            "unbounded above"}, "add bounds or constraints", "continue run"),
    ({"run_id": 10, "algorithm": "BFGS", "converged": False, "best_f": None, "n_evaluations": 2,
      "convergence_reason": "no evaluation gave a finite value: all 2 were NaN or infinite"},
     "domain", "continue run"),
    ({"run_id": 35, "algorithm": "Nelder-Mead", "converged": False, "best_f": 516.0, "n_evaluations": 2_000_000,
      "message": "stopped after the budget of 2000000 evaluations"}, "4000000 evaluations", "5000 evaluations"),
])
def test_advice_after_a_failed_run_fits_the_failure(run, expected, not_expected):
    # a warm start was suggested for runs with no best point or an unbounded objective, and
    # "5000 more evaluations" after a budget of two million
    from aopt.agent._answer import Answer

    advice = Answer()._suggest(run, {"name": "p"})
    assert expected in advice and not_expected not in advice
