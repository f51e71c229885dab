"""Every tool and slash command under random and hostile input: a result or a documented error, never
an undocumented exception, and a store that passes `PRAGMA integrity_check` and reopens afterwards.
(benchmarks/reliability.py runs the same with 10,000+ cases.)"""

import os

from hypothesis import HealthCheck, Phase, given, settings

from aopt.tools import Context
from tests.reliability_harness import (CANARY, TOOL_ORDER, SlashFuzzer, ToolFuzzer, check_store, seed_store,
                                       slash_line, tool_case)

QUICK = settings(max_examples=300, deadline=None, database=None, phases=[Phase.generate],
                 suppress_health_check=list(HealthCheck))


def test_every_tool_survives_random_and_hostile_arguments(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ctx = Context.open(tmp_path / "store")
    seed_store(ctx)
    fuzz = ToolFuzzer(ctx)

    @QUICK
    @given(tool_case())
    def case(c):
        fuzz.call(*c)

    case()
    ctx.close()
    check_store(tmp_path / "store")
    assert fuzz.cases >= 300 and set(fuzz.by_tool) == set(TOOL_ORDER)
    assert fuzz.outcomes.get("result", 0) > 50 and fuzz.outcomes.get("error:invalid_input", 0) > 10
    assert not (tmp_path / CANARY).exists()  # no injection ran


def test_slash_commands_survive_random_text(tmp_path, monkeypatch):
    ctx = Context.open(tmp_path / "store")
    seed_store(ctx)
    ctx.close()
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)  # /export and /report write here
    fuzz = SlashFuzzer(tmp_path / "store")

    @settings(QUICK, max_examples=200)
    @given(slash_line)
    def case(line):
        fuzz.call(line)

    case()
    for line in ("/runs", "/show 1", "/compare 1 2", "/plot 1 2", "/problems", "/tree", "/export 1"):
        assert fuzz.call(line) == "ok", fuzz.out.getvalue()
    fuzz.close()
    check_store(tmp_path / "store")
    assert fuzz.outcomes.get("error", 0) > 50
    assert all(not os.path.isabs(p) for p in os.listdir(work))
