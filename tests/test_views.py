"""What a person sees: runs table, run detail, comparison, lineage tree, plots, rendered at a fixed width."""

import io

from rich.console import Console

from aopt.cli._format import fmt_duration, fmt_value, fmt_vector
from aopt.cli._plots import best_so_far, convergence_chart
from aopt.cli._records import StoreReader
from aopt.cli._run_views import comparison, lineage_tree, rank_runs, run_detail
from aopt.cli._views import runs_table, sort_runs
from tests.test_cli_support import problem, run, sample_store


def render(renderable, width=100) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None, highlight=False)
    console.print(renderable)
    return console.file.getvalue()


def test_tiny_values_keep_their_digits():
    assert fmt_value(3e-7) == "3e-07"
    assert fmt_value(1.5e-12) == "1.5e-12"
    assert fmt_value(0.0) == "0"
    assert fmt_value(123456789.0) == "1.23457e+08"
    assert fmt_value(None) == "—"
    assert fmt_value(float("nan")) == "nan"
    assert fmt_duration(0.25) == "250 ms" and fmt_duration(125) == "2m 05s"
    assert fmt_vector(list(range(20))).endswith("(20 values)")


def test_runs_table_shows_tiny_best_values_and_every_column():
    store = sample_store()
    text = render(runs_table(store.list_runs(), total=5))
    for heading in ("id", "problem", "algorithm", "status", "best f", "evals", "time", "result"):
        assert heading in text
    assert "3e-07" in text and "1.5e-12" in text and "2e-13" in text
    assert "0.000000" not in text
    assert "interrupted" in text and "5,000" in text
    lines = [l for l in text.splitlines() if l.strip().startswith(("1 ", "2 ", "3 ", "4 ", "5 "))]
    assert [l.split()[0] for l in lines] == ["5", "4", "3", "2", "1"]  # newest first
    assert "rb ← 2" in text  # the warm start is visible


def test_runs_table_says_when_rows_are_left_out():
    store = sample_store()
    assert "2 of 5 runs shown" in render(runs_table(store.list_runs(limit=2), total=5))


def test_sort_by_best_puts_runs_without_a_value_last():
    runs = sort_runs(sample_store().list_runs(), "best")
    assert [r["id"] for r in runs] == [4, 2, 1, 5, 3]


def test_run_detail_shows_problem_algorithm_result_lineage_and_plot():
    store = sample_store()
    reader = StoreReader("/nonexistent", store=store)
    r = store.get_run(2)
    chart = convergence_chart([best_so_far("", reader.history(r))], width=90)
    text = render(run_detail(r, store.get_problem(1), [store.get_run(4)], chart))
    assert "Run 2" in text and "BFGS" in text and "completed" in text
    assert "rosenbrock" in text and "[-5, 5]" in text  # objective and bounds
    assert "1.5e-12" in text
    assert "result       local minimum: gradient norm 1e-09" in text
    assert "continued by run 4 (L-BFGS-B)" in text
    assert "centre of the bounds" in text
    assert "log scale" in text and "┤" in text  # the convergence plot


def test_compare_highlights_the_best_run_of_one_problem():
    store = sample_store()
    runs = [store.get_run(i) for i in (1, 2, 4)]
    text = render(comparison(runs))
    assert "run 4 ★" in text
    assert "run 4 (L-BFGS-B) has the best value 2e-13" in text


def test_compare_refuses_to_rank_runs_of_different_problems():
    store = sample_store()
    runs = [store.get_run(1), store.get_run(5)]
    best, note = rank_runs(runs)
    assert best is None
    text = render(comparison(runs))
    assert "★" not in text
    assert "different problems (rb and sp)" in text and "not ranked" in text


def test_compare_respects_maximize_and_feasibility():
    p = problem(1, "m", sense="maximize")
    a, b = run(1, p, best_f=5.0), run(2, p, best_f=9.0)
    assert rank_runs([a, b], "maximize")[0] == 2
    b["convergence"] = {"max_violation": 0.5}
    assert rank_runs([a, b], "maximize")[0] == 1  # infeasible loses


def test_tree_nests_warm_starts_and_marks_the_best():
    store = sample_store()
    text = render(lineage_tree(store.list_runs(), {"rb": "minimize", "sp": "minimize"}))
    lines = text.splitlines()
    i2 = next(i for i, l in enumerate(lines) if "#2 BFGS" in l)
    assert "#4 L-BFGS-B" in lines[i2 + 1] and "★ best" in lines[i2 + 1]
    assert lines[i2 + 1].index("#4") > lines[i2].index("#2")  # nested under its parent
    assert "rb  (4 runs)" in text and "sp  (1 run)" in text


def test_tree_of_one_run_shows_its_lineage_only():
    store = sample_store()
    text = render(lineage_tree(store.list_runs(), focus=4))
    assert "#2 BFGS" in text and "#4 L-BFGS-B" in text and "◀" in text
    assert "#1 " not in text and "#5 " not in text


def test_terminal_plot_labels_decades_readably():
    curve = best_so_far("run 1", {"index": list(range(5)), "f": [1.0, 1e-3, 1e-5, 2e-7, 3e-7],
                                  "cv": [0.0] * 5})
    assert curve.ys[-1] == 2e-7  # best so far never goes back up
    text = render(convergence_chart([curve], width=70))
    assert "1e-06" in text or "1e-05" in text
    assert "0.0000" not in text


def test_views_tell_apart_problems_that_share_a_name():
    from aopt.cli._views import problems_table
    from tests.test_cli_support import namesake_store

    store = namesake_store()
    runs = store.list_runs()
    table = render(runs_table(runs), width=120)
    assert "expr_x_y_z #1" in table and "expr_x_y_z #2" in table
    assert "q #" not in table  # a name used once stays as it is
    text = render(comparison([store.get_run(1), store.get_run(2)], "maximize"))
    assert "different problems (expr_x_y_z #1 and expr_x_y_z #2)" in text
    tree = render(lineage_tree(runs, {1: "maximize", 2: "maximize", 3: "minimize", 5: "minimize"}))
    assert "expr_x_y_z #1  (1 run)" in tree and "expr_x_y_z #2  (1 run)" in tree
    assert tree.count("★ best") == 4  # one per problem, none lost to a shared name
    counts = render(problems_table(store.list_problems(), {1: 1, 2: 1, 3: 1, 5: 1}), width=120)
    row = next(l for l in counts.splitlines() if l.split()[:1] == ["4"])
    assert row.split()[-1] == "0"  # problem 4 has no runs of its own


def test_one_is_singular_in_views():
    from tests.test_cli_support import namesake_store

    store = namesake_store()
    tree = render(lineage_tree(store.list_runs()))
    assert "· 1 eval ·" in tree and "1 evals" not in tree
    r = dict(store.get_run(4), n_iterations=1, n_gradient_evaluations=1)
    detail = render(run_detail(r, store.get_problem(5)))
    assert "1 (+1 gradient), 1 iteration" in detail
