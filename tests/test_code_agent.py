"""Code written by a model runs only when allowed and confirmed; registered functions are used by name."""

import io
import shutil
from pathlib import Path

import pytest
from rich.console import Console

from aopt import tools
from aopt.agent import AgentSession
from aopt.cli._confirm import confirm_code
from aopt.cli._main import main
from aopt.tools import Context, Settings, build_tools, use_context
from tests.test_agent import call, from_last_tool, scripted

SOURCE = "import numpy as np\n\ndef loss(x):\n    return float(np.sum((x - 2.0) ** 2))\n"
FIXTURES = Path(__file__).parent / "sandbox_fixtures"


def code_script(answer="done"):
    return [call("create_problem_from_code", {"name": "fit", "source": SOURCE, "function": "loss",
                                              "dimension": 3}),
            from_last_tool(lambda r: call("start_optimization_run", {"problem_id": r["problem_id"],
                                                                     "algorithm": "L-BFGS-B"})
                           if "problem_id" in r else answer),
            from_last_tool(lambda r: call("run_scipy_optimization", {"run_id": r["run_id"]})),
            answer]


def test_without_allow_code_the_tool_is_not_offered_and_refuses(tmp_path):
    ctx = Context.open(tmp_path / "s")
    assert "create_problem_from_code" not in {t.name for t in build_tools(ctx)}
    with use_context(ctx):
        out = tools.create_problem_from_code.invoke({"name": "f", "source": SOURCE, "function": "loss",
                                                      "dimension": 2})
    assert out["error"]["kind"] == "code_not_allowed"
    assert "--allow-code" in out["error"]["message"]
    assert ctx.store.list_problems() == []
    ctx.close()


def test_a_model_calling_the_hidden_tool_gets_an_error_message(tmp_path):
    ctx = Context.open(tmp_path / "s")
    session = AgentSession(ctx, model=scripted(code_script()[0], "code is switched off"))
    reply = session.ask("fit my model")
    assert reply.tool_calls[0]["error"]
    assert reply.text == "code is switched off"
    assert ctx.store.list_problems() == []
    ctx.close()


def test_allowed_and_confirmed_code_runs_in_the_sandbox(tmp_path):
    shown = []
    ctx = Context.open(tmp_path / "s", settings=Settings(allow_code=True))
    ctx.confirm_code = lambda source, function: shown.append((source, function)) or True
    session = AgentSession(ctx, model=scripted(*code_script()))
    reply = session.ask("fit my model")
    assert shown == [(SOURCE, "loss")]
    run = ctx.runs.get(reply.run_ids[0])
    assert run["status"] == "completed"
    assert run["best_x"] == pytest.approx([2, 2, 2], abs=1e-4)
    problem = ctx.store.get_problem(run["problem_id"])
    assert problem["kind"] == "code" and problem["code"]["objective"]["source"] == SOURCE
    assert Path(problem["code"]["objective"]["path"]).parent == tmp_path / "s" / "code"
    ctx.close()


def test_declined_code_creates_nothing(tmp_path):
    ctx = Context.open(tmp_path / "s", settings=Settings(allow_code=True))
    ctx.confirm_code = lambda source, function: False
    session = AgentSession(ctx, model=scripted(code_script()[0], "ok, not run"))
    reply = session.ask("fit my model")
    assert "declined" in (reply.tool_calls[0]["summary"] + str(reply.tool_calls[0]["error"]))
    assert ctx.store.list_problems() == [] and reply.run_ids == []
    ctx.close()


def test_confirmation_shows_the_code_and_reads_the_answer():
    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None)
    assert confirm_code(console, ask=lambda prompt: "y")(SOURCE, "loss") is True
    assert "def loss(x):" in out.getvalue() and "loss(x)" in out.getvalue()
    assert confirm_code(console, ask=lambda prompt: "")(SOURCE, "loss") is False
    assert confirm_code(console, assume_yes=True)(SOURCE, "loss") is True


def test_registered_function_is_used_by_name(tmp_path, capsys):
    shutil.copy(FIXTURES / "model.py", tmp_path / "model.py")
    store = str(tmp_path / "s")
    assert main(["register", "my_cost", f"{tmp_path / 'model.py'}:cost", "--gradient",
                 f"{tmp_path / 'model.py'}:grad", "--store", store]) == 0
    assert main(["functions", "--store", store]) == 0
    assert "my_cost" in capsys.readouterr().out
    assert main(["ask", "minimize my_cost in 3 dims with BFGS", "--store", store, "--json"]) == 0
    ctx = Context.open(store)
    run = ctx.runs.get(1)
    assert run["status"] == "completed" and run["converged"] is True
    assert run["best_f"] == pytest.approx(0.0, abs=1e-8)
    problem = ctx.store.get_problem(run["problem_id"])
    assert problem["code"]["gradient"]["function"] == "grad"
    ctx.close()


def test_a_registered_name_of_letters_only_is_used_too(tmp_path, capsys):
    # "minimize mycost in 4 dims" silently re-ran the previous problem: the offline model only
    # took names with "_" or a digit for registered functions
    shutil.copy(FIXTURES / "model.py", tmp_path / "model.py")
    store = str(tmp_path / "s")
    assert main(["register", "mycost", f"{tmp_path / 'model.py'}:cost", "--store", store]) == 0
    assert main(["ask", "minimize mycost in 3 dims with Powell", "--store", store, "--json"]) == 0
    ctx = Context.open(store)
    run = ctx.runs.get(1)
    assert run["status"] == "completed" and run["best_f"] < 1e-3
    assert ctx.store.get_problem(run["problem_id"])["objective"].endswith("model.py:cost")
    ctx.close()
    capsys.readouterr()
    main(["ask", "minimize energy in 3 dims", "--store", store])
    out = capsys.readouterr().out
    assert "no function is registered as 'energy'" in out and "mycost" in out


def test_unregistered_name_says_how_to_register(tmp_path):
    ctx = Context.open(tmp_path / "s")
    with use_context(ctx):
        out = tools.create_problem.invoke({"name": "c", "objective": "my_cost", "dimension": 4})
    assert out["error"]["kind"] == "not_found" and "/register" in out["error"]["message"]
    ctx.close()


def test_show_warns_when_the_file_changed(tmp_path, capsys):
    path = tmp_path / "model.py"
    shutil.copy(FIXTURES / "model.py", path)
    store = str(tmp_path / "s")
    assert main(["ask", f"minimize {path}:cost in 2 dimensions with Nelder-Mead", "--store", store]) == 0
    capsys.readouterr()
    assert main(["show", "1", "--store", store, "--no-plot"]) == 0
    shown = capsys.readouterr().out
    assert "model.py:cost" in shown and "model imported" in shown and "changed" not in shown
    path.write_text(path.read_text() + "\n# edited\n")
    assert main(["show", "1", "--store", store, "--no-plot"]) == 0
    assert "changed since this problem was defined" in " ".join(capsys.readouterr().out.split())
