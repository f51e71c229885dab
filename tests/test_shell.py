"""The paola> shell driven through prompt_toolkit's pipe input, and `paola < file` reading lines."""

import io
from types import SimpleNamespace

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from aopt.cli._shell import Shell
from tests.test_cli_support import sample_store


class FakeSession:
    """Stands in for aopt.agent.AgentSession: emits the documented events, returns a reply."""

    model_name = "offline"
    is_offline = True

    def __init__(self, reader, model, base_url, on_event):
        self.on_event = on_event
        self.asked, self.cleared = [], False

    def ask(self, text):
        self.asked.append(text)
        if text == "interrupt me":
            raise KeyboardInterrupt
        self.on_event({"type": "tool_start", "name": "run_scipy_optimization", "args": {"run_id": 1}})
        self.on_event({"type": "progress", "run_id": 1, "n_evaluations": 120, "best_f": 3e-7, "elapsed_s": 0.3})
        self.on_event({"type": "tool_end", "name": "run_scipy_optimization", "summary": "best f 3e-07",
                       "duration_s": 0.31, "error": None})
        return SimpleNamespace(text="**Done.** The best value is 3e-07.", run_ids=[1], tool_calls=[],
                               interrupted=False)

    def clear(self):
        self.cleared = True

    def switch_model(self, spec):
        self.model_name = spec


@pytest.fixture
def shell(tmp_path):
    sessions = []

    def factory(*args):
        sessions.append(FakeSession(*args))
        return sessions[-1]

    console = Console(width=100, file=io.StringIO(), color_system=None, highlight=False)
    sh = Shell(tmp_path / "store", console=console, session_factory=factory, live=False)
    sh.reader._store = sample_store()
    sh.sessions = sessions
    return sh


def drive(shell, keys: str) -> tuple[int, str]:
    with create_pipe_input() as inp:
        inp.send_text(keys)
        rc = shell.run(input=inp, output=DummyOutput())
    return rc, shell.console.file.getvalue()


def test_banner_names_the_offline_model_and_how_to_get_a_full_one(shell):
    rc, text = drive(shell, "/exit\r")
    assert rc == 0
    assert "model offline" in text and "5 runs" in text
    assert "OPENAI_API_KEY" in text and "--model" in text


def test_slash_commands_and_requests_at_the_prompt(shell):
    rc, text = drive(shell, "/runs\r/sh 2 --no-plot\rminimize rosenbrock\r/history\r/exit\r")
    assert "Nelder-Mead" in text and "Run 2" in text
    assert shell.sessions[0].asked == ["minimize rosenbrock"]
    assert "✓ run_scipy_optimization(run_id=1) → best f 3e-07" in text
    assert "Done. The best value is 3e-07." in text  # Markdown rendered, ** gone
    assert "1. minimize rosenbrock   runs 1" in text  # /history


def test_bad_command_keeps_the_shell_running(shell):
    rc, text = drive(shell, "/shwo 1\r/runs --limit 0\r/tree\r\x04")
    assert "did you mean /show?" in text
    assert "--limit must be a positive whole number" in text
    assert "runs by problem" in text  # still answering after the errors
    assert rc == 0


def test_ctrl_c_clears_the_line_and_ctrl_d_leaves(shell):
    rc, text = drive(shell, "minimize something\x03/runs\r\x04")
    assert shell.sessions == []  # the cleared request never reached the agent
    assert "Nelder-Mead" in text and text.rstrip().endswith("bye")


def test_escape_enter_makes_a_multi_line_request(shell):
    drive(shell, "minimize x**2\x1b\rsubject to x >= 1\r/exit\r")
    assert shell.sessions[0].asked == ["minimize x**2\nsubject to x >= 1"]


def test_interrupted_agent_step_returns_to_the_prompt(shell):
    rc, text = drive(shell, "interrupt me\r/runs --limit 1\r/exit\r")
    assert "interrupted" in text
    assert "differential_evolution" in text  # the next command still ran


def test_model_clear_and_history_commands(shell):
    rc, text = drive(shell, "/model\rhello\r/clear\r/history\r/model openai:gpt-4o-mini\r/exit\r")
    assert "model: offline" in text
    assert shell.sessions[0].cleared
    assert "no requests yet in this conversation" in text
    assert "model switched to openai:gpt-4o-mini" in text


def test_history_persists_per_store(shell, tmp_path):
    drive(shell, "/runs --limit 2\r/exit\r")
    assert "/runs --limit 2" in (tmp_path / "store" / "shell_history").read_text()


def test_non_tty_mode_reads_requests_line_by_line(shell):
    rc = shell.run_lines(io.StringIO("# a comment\n/runs --limit 1\n\nminimize rosenbrock\n/show 99\n"))
    text = shell.console.file.getvalue()
    assert "paola> /runs --limit 1" in text and "paola> minimize rosenbrock" in text
    assert "error: no run 99" in text
    assert rc == 1  # one line failed
    assert shell.sessions[0].asked == ["minimize rosenbrock"]
