"""End to end: the real `paola` in a pseudo-terminal, checked by what a person would see."""

import os
import re
import shutil
import sys
from pathlib import Path

import pexpect
import pytest

ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]|\x1b[()][AB012]|\r")


def _agent_available() -> bool:
    try:
        from aopt.agent import AgentSession  # noqa: F401
    except ImportError:
        return False
    return True


def _paola() -> list[str]:
    exe = shutil.which("paola", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "aopt"]


@pytest.fixture
def store(tmp_path):
    from aopt.tools import Context

    ctx = Context.open(tmp_path / "store")
    rec, _ = ctx.runs.problems.create("rb", "rosenbrock", 3)
    ctx.runs.execute(ctx.runs.start_run(rec["id"], "BFGS"))
    ctx.close()
    return tmp_path / "store"


def test_a_session_in_a_terminal(store):
    argv = _paola()
    env = {**os.environ, "AOPT_STORE": str(store), "TERM": "xterm-256color"}
    env.pop("OPENAI_API_KEY", None)
    env.pop("PAOLA_MODEL", None)
    child = pexpect.spawn(argv[0], argv[1:], env=env, encoding="utf-8", dimensions=(50, 120), timeout=40)
    seen = []
    try:
        child.expect("paola>")
        seen.append(child.before)
        banner = ANSI.sub("", child.before)
        assert "model offline" in banner and "OPENAI_API_KEY" in banner

        def run(line, expect, timeout=40):
            """Type a line, wait for text a person would see, then for the prompt to come back."""
            child.sendline(line)
            child.expect(expect, timeout=timeout)
            seen = child.before + child.after
            child.expect("paola>", timeout=timeout)
            return ANSI.sub("", seen + child.before)

        shown = run("/runs", "completed")
        assert "BFGS" in shown and "rb" in shown

        shown = run("/show 1", "evaluation →")
        assert "Run 1" in shown and "rosenbrock" in shown and "result" in shown and "┤" in shown

        shown = run("/shwo 1", "did you mean")
        assert "/show" in shown

        if _agent_available():
            shown = run("minimize sphere in 3 dimensions with BFGS", "run_scipy_optimization", timeout=90)
            child.sendline("minimize rastrigin in 50 dimensions with differential evolution")
            child.expect("evals", timeout=90)  # the live line is up: the optimization is running
            child.sendintr()
            child.expect("interrupted", timeout=30)
            child.expect("paola>", timeout=30)
            shown = run("/runs --status interrupted", "interrupted")
            assert "rastrigin" in shown or "differential_evolution" in shown

        child.sendline("/exit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
