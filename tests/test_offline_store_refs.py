"""References to runs with nothing earlier in the conversation are resolved from the store."""

from aopt.agent import AgentSession
from aopt.tools import Context, build_tools


def test_show_the_best_run_in_a_new_conversation_ranks_the_stored_runs(tmp_path):
    ctx = Context.open(tmp_path / "s")
    tools = {t.name: t for t in build_tools(ctx)}
    p = tools["create_problem"].invoke({"name": "rb", "objective": "rosenbrock", "dimension": 2})
    ids = []
    for algorithm, budget in (("BFGS", None), ("Nelder-Mead", 30)):
        r = tools["start_optimization_run"].invoke({"problem_id": p["problem_id"], "algorithm": algorithm})
        tools["run_scipy_optimization"].invoke({"run_id": r["run_id"], "x0": [-1.2, 1],
                                                "max_evaluations": budget})
        ids.append(r["run_id"])
    reply = AgentSession(ctx, model="offline").ask("show the best run")
    shown = [c for c in reply.tool_calls if c["name"] == "get_run"]
    assert shown and shown[-1]["args"]["run_id"] == ids[0]  # BFGS reached the optimum; the newest did not
    assert f"Run {ids[0]}" in reply.text
    ctx.close()
