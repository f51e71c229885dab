"""Every surface says what a run's result proves (its claim) the same way: never a bare "yes" for a local result.

Runs with each claim are written straight into a real store (as the run manager would leave them), then read
through what a user sees: /runs, /show, /compare, /report, the JSON of `paola show|runs|export`, the tools'
results, the offline agent's answers and the live progress line.
"""

import io
import json

import pytest
from rich.console import Console

from aopt.cli import main
from aopt.cli._commands import SlashCommands
from aopt.cli._format import claim_text
from aopt.cli._live import AgentPresenter
from aopt.cli._records import StoreReader
from aopt.cli._report import build_report
from aopt.cli._run_views import comparison, lineage_tree, rank_runs, run_detail
from aopt.cli._views import runs_table
from aopt.optimize import claim_sentence
from aopt.tools import Context, build_tools

PHASES = [{"phase": "CMA-ES restart 1", "method": "CMA-ES", "evaluations": 4200, "best_f": 0.9949590571},
          {"phase": "CMA-ES restart 2", "method": "CMA-ES", "evaluations": 3000, "best_f": 1.5e-12},
          {"phase": "local polish", "method": "L-BFGS-B", "evaluations": 40, "best_f": 1.5e-12}]

# name -> (algorithm, best_f, converged, convergence facts)
RUNS = {
    "optimum": ("L-BFGS-B", 1e-10, True, {"claim": "optimum", "reason": "reached the known optimum f*=0 (gap 1e-10)",
                                          "gap_to_optimum": 1e-10}),
    "global": ("auto", 1.5e-12, True, {"claim": "global", "reason": "4 of 5 restarts from spread-out starts agree",
                                       "evidence": {"restarts": 5, "agree": 4, "tol": 1e-6}, "phases": PHASES}),
    "local": ("BFGS", 0.9949590571, True, {"claim": "local", "kkt_residual": 3e-9,
                                           "reason": "KKT residual 3e-09 <= tolerance and the point is feasible"}),
    "not_converged": ("Nelder-Mead", 0.5, False, {"claim": "not_converged",
                                                  "reason": "not converged: gradient norm 0.3 is above the tolerance"}),
    "unbounded": ("BFGS", -1e30, False, {"claim": "unbounded", "unbounded": True,
                                         "reason": "no finite minimum: the objective looks unbounded below"}),
    "infeasible": ("SLSQP", -2.0, False, {"claim": "infeasible", "max_violation": 0.5,
                                          "reason": "infeasible: constraint violation 0.5 exceeds the tolerance"}),
    # stored before claims existed: converged, no claim
    "old": ("Powell", 0.9949590571, True, {"converged": True, "reason": "gradient norm 1e-09 <= tolerance"}),
}


@pytest.fixture
def claims(tmp_path):
    """(store folder, {name: run id}): one rastrigin run per claim, plus an old run without a claim."""
    ctx = Context.open(tmp_path / "s")
    problem, _ = ctx.runs.problems.create("ras", "rastrigin", 2)
    ids = {}
    for name, (algorithm, best_f, converged, facts) in RUNS.items():
        run_id = ctx.store.create_run({"problem_id": problem["id"], "algorithm": algorithm})
        ctx.store.update_run(run_id, status="completed", best_f=best_f, best_x=[0.5, -0.5], n_iterations=10,
                             n_evaluations=sum(p["evaluations"] for p in PHASES) if name == "global" else 120,
                             converged=converged, convergence={"converged": converged, **facts},
                             finished_at="2030-01-01T00:00:01.000Z", duration_s=1.5, message="done")
        ids[name] = run_id
    ctx.close()
    return str(tmp_path / "s"), ids


def render(renderable, width=120) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None, highlight=False)
    console.print(renderable)
    return console.file.getvalue()


def row_of(text: str, run_id: int) -> str:
    return next(line for line in text.splitlines() if line.strip().startswith(f"{run_id} "))


def test_runs_table_shows_each_claim_and_never_a_bare_yes(claims):
    folder, ids = claims
    reader = StoreReader(folder)
    text = render(runs_table(reader.runs()))
    assert "result" in text.splitlines()[1] and "conv." not in text
    expected = {"optimum": "known optimum", "global": "global evidence (4/5)", "local": "local minimum",
                "not_converged": "not converged", "unbounded": "unbounded", "infeasible": "infeasible",
                "old": "local minimum"}
    for name, label in expected.items():
        assert label in row_of(text, ids[name]), (name, row_of(text, ids[name]))
    assert " yes " not in text and " no " not in text
    reader.close()


def test_the_runs_command_and_narrow_terminals_show_the_claim(claims, capsys):
    folder, ids = claims
    assert main(["runs", "--store", folder]) == 0
    out = capsys.readouterr().out
    assert "local minimum" in out and "known optimum" in out and " yes " not in out
    assert "local minimum" in row_of(render(runs_table(StoreReader(folder).runs()), width=80), ids["local"])


def test_claim_colours():
    def style(claim):
        return str(claim_text({"status": "completed", "convergence": {"claim": claim}}).style)

    assert style("optimum") == style("global") == "green"
    assert style("local") == "cyan"
    assert style("not_converged") == "yellow"
    assert style("unbounded") == style("infeasible") == "red"
    assert str(claim_text({"status": "running", "convergence": None}).style) == "dim"


def test_show_says_the_claim_sentence(claims):
    folder, ids = claims
    reader = StoreReader(folder)
    run = reader.run(ids["local"])
    text = render(run_detail(run, reader.problem_of(run)))
    assert "result       local minimum: KKT residual 3e-09 <= tolerance and the point is feasible" in text
    assert "phases" not in text and "evidence" not in text
    assert "result       reached the known optimum" in render(run_detail(reader.run(ids["optimum"])))
    assert "result       not converged: gradient norm 0.3" in render(run_detail(reader.run(ids["not_converged"])))
    assert "result       local minimum: gradient norm 1e-09" in render(run_detail(reader.run(ids["old"])))
    reader.close()


def test_show_gives_the_evidence_and_the_phases_of_a_global_run(claims):
    folder, ids = claims
    reader = StoreReader(folder)
    text = render(run_detail(reader.run(ids["global"])))
    assert "global evidence: 4 of 5 restarts from spread-out starts agree" in text
    assert "evidence     4 of 5 restarts agree on the best value within 1e-06" in text
    assert "phases" in text
    rows = [line.split() for line in text.splitlines() if "restart" in line and "CMA-ES" in line]
    assert rows[0][-2:] == ["4,200", "0.994959"]
    assert rows[1][-3:] == ["3,000", "1.5e-12", "★"]  # the phase that found the best value
    polish = next(line for line in text.splitlines() if "local polish" in line)
    assert "L-BFGS-B" in polish and "40" in polish and "★" not in polish
    reader.close()


def test_the_show_command_prints_the_claim_and_phases(claims, capsys):
    folder, ids = claims
    console = Console(width=120, file=io.StringIO(), color_system=None, highlight=False)
    SlashCommands(console, StoreReader(folder)).run(f"/show {ids['global']} --no-plot")
    text = console.file.getvalue()
    assert "global evidence" in text and "CMA-ES restart 2" in text and "local polish" in text
    assert main(["show", str(ids["local"]), "--store", folder, "--no-plot"]) == 0
    out = capsys.readouterr().out
    assert "local minimum" in out and "yes" not in out


def test_compare_shows_claims_and_ranks_by_value_not_by_claim(claims):
    folder, ids = claims
    reader = StoreReader(folder)
    local, loose = reader.run(ids["local"]), reader.run(ids["not_converged"])
    best, note = rank_runs([local, loose])
    assert best == ids["not_converged"]  # a local minimum is not preferred to a better value
    assert "has the best value 0.5 (not converged)" in note
    text = render(comparison([reader.run(ids[n]) for n in ("optimum", "global", "local", "infeasible")]))
    result = next(line for line in text.splitlines() if line.strip().startswith("result"))
    for label in ("known optimum", "global evidence (4/5)", "local minimum", "infeasible"):
        assert label in result
    # the infeasible run has the lowest value but is not ranked first
    assert f"★ run {ids['global']} (auto) has the best value 1.5e-12 (global evidence (4/5))" in text
    assert "converged" not in text.replace("not converged", "")
    reader.close()


def test_tree_marks_verified_claims(claims):
    folder, ids = claims
    reader = StoreReader(folder)
    text = render(lineage_tree(reader.runs()))
    line = next(l for l in text.splitlines() if f"#{ids['local']} " in l)
    assert "✓ local minimum" in line
    assert "✗ unbounded" in next(l for l in text.splitlines() if f"#{ids['unbounded']} " in l)
    assert "✓" not in next(l for l in text.splitlines() if f"#{ids['not_converged']} " in l)
    reader.close()


def test_report_has_a_claim_column_and_the_best_runs_claim(claims, tmp_path):
    folder, ids = claims
    reader = StoreReader(folder)
    runs = [reader.run(ids[n]) for n in ("local", "not_converged", "old")]
    report = build_report(reader, runs, "claims", folder=tmp_path / "reports")
    md = report.markdown
    assert "| run | algorithm | status | best f | evaluations | time | result |" in md
    assert f"| {ids['local']} | BFGS |" in md and "| local minimum |" in md and "| not converged |" in md
    assert "result: not converged: gradient norm 0.3 is above the tolerance" in md  # the best by value
    assert "converged: yes" not in md
    global_report = build_report(reader, [reader.run(ids["global"]), reader.run(ids["local"])], "g",
                                 folder=tmp_path / "reports")
    assert ("result: global evidence: 4 of 5 restarts from spread-out starts agree (4 of 5 restarts agree on "
            "the best value within 1e-06)") in global_report.markdown
    reader.close()


def test_json_records_carry_the_claim(claims, capsys):
    folder, ids = claims
    assert main(["show", str(ids["local"]), "--json", "--store", folder]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["claim"] == "local" and record["converged"] is True
    keys = list(record)
    assert keys.index("claim") == keys.index("converged") + 1
    assert main(["runs", "--json", "--store", folder]) == 0
    runs = {r["id"]: r for r in json.loads(capsys.readouterr().out)["runs"]}
    assert {name: runs[i]["claim"] for name, i in ids.items()} == {
        "optimum": "optimum", "global": "global", "local": "local", "not_converged": "not_converged",
        "unbounded": "unbounded", "infeasible": "infeasible", "old": "local"}
    assert main(["export", str(ids["old"]), "--format", "json", "--store", folder]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["run"]["claim"] == "local" and exported["run"]["converged"] is True


def test_tool_results_carry_claim_and_claim_text(claims):
    folder, ids = claims
    ctx = Context.open(folder)
    tools = {t.name: t for t in build_tools(ctx)}
    run = tools["get_run"].invoke({"run_id": ids["local"]})
    assert run["claim"] == "local" and run["converged"] is True
    assert run["claim_text"] == claim_sentence(ctx.runs.get(ids["local"]))
    assert run["claim_text"].startswith("local minimum: KKT residual")
    glob = tools["get_run"].invoke({"run_id": ids["global"]})
    assert glob["claim"] == "global" and glob["evidence"] == {"restarts": 5, "agree": 4, "tol": 1e-6}
    listed = {r["run_id"]: r for r in tools["list_runs"].invoke({})["runs"]}
    assert listed[ids["old"]]["claim"] == "local" and listed[ids["unbounded"]]["claim"] == "unbounded"
    compared = tools["compare_runs"].invoke({"run_ids": [ids["local"], ids["infeasible"], ids["optimum"]]})
    assert compared["best_run_id"] == ids["optimum"] and "(known optimum)" in compared["note"]
    analysis = tools["analyze_run"].invoke({"run_id": ids["local"]})
    assert analysis["run"]["claim"] == "local"
    assert any("a deeper one may exist" in s and "differential_evolution" in s
               for s in analysis["suggestions"])  # rastrigin has many local minima
    ctx.close()


def test_the_offline_agent_says_local_for_a_local_run(claims):
    from aopt.agent import AgentSession

    folder, ids = claims
    ctx = Context.open(folder)
    session = AgentSession(ctx, model="offline")
    text = session.ask(f"show run {ids['local']}").text
    assert "result: **local minimum** (KKT residual 3e-09" in text
    assert "converged: **yes**" not in text and "**yes**" not in text
    text = session.ask(f"show run {ids['old']}").text
    assert "result: **local minimum** (gradient norm 1e-09" in text
    text = session.ask(f"show run {ids['not_converged']}").text
    assert "result: **not converged** (gradient norm 0.3 is above the tolerance)" in text
    text = session.ask(f"compare runs {ids['local']} and {ids['not_converged']}").text
    assert "| local minimum |" in text and "| not converged |" in text
    assert f"**Best: run {ids['not_converged']}**" in text
    text = session.ask("list my runs").text
    assert "| global evidence (4/5) |" in text and "| yes |" not in text
    ctx.close()


def test_offline_answers_and_summaries_from_run_summaries():
    from aopt.agent._answer import Answer, best_of
    from aopt.agent._compact import summarize

    local = {"run_id": 3, "algorithm": "BFGS", "problem": "rastrigin_2d", "status": "completed", "best_f": 0.995,
             "best_x": [1.0, 0.0], "n_evaluations": 40, "converged": True, "claim": "local",
             "convergence_reason": "KKT residual 3e-09 <= tolerance"}
    answer = Answer()
    answer.run(local, {"name": "rastrigin_2d", "objective": "rastrigin"})
    text = answer.render()
    assert "result: **local minimum** (KKT residual 3e-09 <= tolerance)" in text
    assert "a deeper one may exist" in text  # rastrigin has many local minima
    assert "local minimum" in summarize("get_run", local)
    old = {k: v for k, v in local.items() if k != "claim"}  # a tool result from before claims
    assert "local minimum" in summarize("finalize_optimization_run", old)
    better = {**local, "run_id": 4, "best_f": 0.1, "converged": False, "claim": "not_converged"}
    assert best_of([local, better]) == 4  # the better value wins over a local claim
    infeasible = {**local, "run_id": 5, "best_f": -5.0, "converged": False, "claim": "infeasible"}
    assert best_of([local, infeasible]) == 3


def test_the_step_limit_answer_says_the_claim(claims):
    from aopt.agent import AgentSession

    folder, ids = claims
    ctx = Context.open(folder)
    line = AgentSession(ctx, model="offline")._run_line(ids["local"])
    assert line.endswith("result: local minimum") and "converged" not in line
    ctx.close()


def test_the_system_prompt_asks_for_the_claim():
    from aopt.agent._prompt import system_prompt

    prompt = system_prompt()
    assert "optimum, global, local, not_converged, unbounded, infeasible" in prompt
    assert "never call a local result globally optimal" in prompt and "claim_text" in prompt


def test_live_line_shows_the_phase_and_the_budget():
    presenter = AgentPresenter(Console(file=io.StringIO()), live=False)
    text = presenter.progress_text({"run_id": 3, "phase": "CMA-ES restart 3", "n_evaluations": 4200,
                                    "max_evaluations": 10000, "best_f": 1.2e-3, "elapsed_s": 2.1})
    assert text.startswith("▸ run 3 · CMA-ES restart 3 · 4,200 of 10,000 evals · best 0.0012 · 2.1 s")
    plain = presenter.progress_text({"run_id": 3, "phase": "", "n_evaluations": 1, "max_evaluations": None,
                                     "best_f": None, "elapsed_s": 0.5})
    assert plain.startswith("▸ run 3 · 1 eval · best — · 500 ms")
    assert presenter.progress_text({}).startswith("▸ — evals · best — · —")
