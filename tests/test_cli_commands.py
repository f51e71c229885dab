"""Slash commands: prefixes, ambiguity, nearest suggestions, help, errors, files written, completion."""

import io

import pytest
from prompt_toolkit.document import Document

from aopt.cli._commands import SlashCommands
from aopt.cli._completion import SlashCompleter
from aopt.cli._records import StoreReader
from aopt.cli._registry import ExitShell
from rich.console import Console
from tests.test_cli_support import sample_store


@pytest.fixture
def shell(tmp_path):
    console = Console(width=100, file=io.StringIO(), color_system=None, highlight=False)
    return SlashCommands(console, StoreReader(tmp_path / "store", store=sample_store()))


def out(shell, line):
    shell.console.file.seek(0)
    shell.console.file.truncate()
    ok = shell.run(line)
    return ok, shell.console.file.getvalue()


def test_unique_prefix_runs_the_command(shell):
    ok, text = out(shell, "/ru")
    assert ok and "L-BFGS-B" in text and "best f" in text
    ok, text = out(shell, "/sh 2 --no-plot")
    assert ok and "Run 2" in text


def test_exact_name_wins_over_longer_names(shell):
    ok, text = out(shell, "/problem rb")
    assert ok and "Problem 1 rb" in text


def test_ambiguous_prefix_lists_the_candidates(shell):
    ok, text = out(shell, "/r 1")
    assert not ok
    assert "/r is ambiguous" in text and "/report" in text and "/runs" in text


def test_unknown_command_suggests_the_nearest(shell):
    ok, text = out(shell, "/shwo 3")
    assert not ok and "unknown command /shwo; did you mean /show?" in text


def test_help_for_one_command(shell):
    ok, text = out(shell, "/help runs")
    assert ok and "--status" in text and "--sort" in text and "List stored runs" in text
    ok, text = out(shell, "/help")
    assert "/compare RUN [RUN ...]" in text and "/exit" in text


def test_bad_input_gives_one_clear_line(shell):
    for line, expected in [("/show 99", "no run 99"), ("/show abc", "run id must be a run number"),
                           ("/runs --status bogus", "invalid choice: 'bogus'"),
                           ("/runs --limit x", "invalid int value"),
                           ("/compare 1", "at least two runs"),
                           ("/problem nope", "no problem named 'nope'; known problems: rb, sp"),
                           ("/plot 1 --save out.gif", "--save needs a file ending in .png")]:
        ok, text = out(shell, line)
        assert not ok, line
        assert text.startswith("error: ") and expected in text, (line, text)


def test_exit_and_quit_leave(shell):
    with pytest.raises(ExitShell):
        shell.run("/exit")
    with pytest.raises(ExitShell):
        shell.run("/quit")


def test_runs_filters_and_sorting(shell):
    ok, text = out(shell, "/runs --problem sp")
    assert ok and "differential_evolution" in text and "Nelder-Mead" not in text
    ok, text = out(shell, "/runs --status failed")
    assert "Powell" in text and "BFGS" not in text
    ok, text = out(shell, "/runs --sort best --limit 2")
    rows = [l.split()[0] for l in text.splitlines() if l.strip()[:1].isdigit() and "runs shown" not in l]
    assert rows == ["4", "2"]


def test_plot_saves_a_png_a_person_can_open(shell, tmp_path):
    path = tmp_path / "x.png"
    ok, text = out(shell, f"/plot 1 2 --save {path}")
    assert ok and f"wrote {path}" in text
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image

    pixels = matplotlib.image.imread(str(path))
    assert pixels.std() > 0.01  # not a blank picture


def test_plot_saves_self_contained_html(shell, tmp_path):
    path = tmp_path / "x.html"
    ok, _ = out(shell, f"/plot 1 4 --save {path}")
    html = path.read_text()
    assert ok and html.startswith("<!DOCTYPE html>") and "<svg" in html and "<polyline" in html
    assert "run 1 Nelder-Mead" in html and "http" not in html.replace("http://www.w3.org/2000/svg", "")


def test_export_writes_csv_with_variable_columns(shell, tmp_path):
    path = tmp_path / "r.csv"
    ok, _ = out(shell, f"/export 2 -o {path}")
    lines = path.read_text().splitlines()
    assert ok and lines[0] == "evaluation,x1,x2,f,constraint_violation,time_s"
    assert len(lines) == 41


def test_report_is_written_under_the_store_and_shown(shell):
    ok, text = out(shell, "/report 1 2 4")
    assert ok and "What was tried" in text and "Best solution" in text
    reports = list((shell.reader.path / "reports").glob("report-1-2-4-*.md"))
    assert len(reports) == 1
    md = reports[0].read_text()
    assert "| 4 ★ | L-BFGS-B |" in md and "![convergence](" in md


def test_report_of_an_empty_session_says_what_to_do(shell):
    ok, text = out(shell, "/report")
    assert not ok and "name runs to report on" in text


def complete(shell, text):
    comp = SlashCompleter(shell)
    return [c.text for c in comp.get_completions(Document(text), None)]


def test_completion_of_commands_options_and_values(shell):
    assert "/show" in complete(shell, "/sh")
    assert set(complete(shell, "/r")) == {"/runs", "/report", "/register"}
    assert complete(shell, "/runs --st") == ["--status"]
    assert complete(shell, "/runs --status ") == ["running", "completed", "failed", "interrupted"]
    assert complete(shell, "/runs --problem ") == ["rb", "sp"]
    assert complete(shell, "/show ") == ["5", "4", "3", "2", "1"]
    assert complete(shell, "/problem s") == ["sp"]
    assert "runs" in complete(shell, "/help ")
    assert complete(shell, "minimize rosenbrock") == []  # requests are not completed


@pytest.fixture
def namesakes(tmp_path):
    from tests.test_cli_support import namesake_store

    console = Console(width=120, file=io.StringIO(), color_system=None, highlight=False)
    return SlashCommands(console, StoreReader(tmp_path / "store", store=namesake_store()))


def test_problems_sharing_a_name_are_counted_and_looked_up_by_id(namesakes):
    ok, text = out(namesakes, "/problems")
    runs_col = {l.split()[0]: l.split()[-1] for l in text.splitlines() if l.split()[:1] in (["1"], ["2"], ["4"])}
    assert ok and runs_col == {"1": "1", "2": "1", "4": "0"}  # not "2" for each expr_x_y_z
    ok, text = out(namesakes, "/problem rastrigin_5d")
    assert ok and "Problem 4 rastrigin_5d" in text
    assert "no runs yet" in text and "Nelder-Mead" not in text  # run 3 belongs to problem 3
    assert "2 problems are named rastrigin_5d" in text and "/problem 3" in text
    ok, text = out(namesakes, "/problem 3")
    assert ok and "Problem 3 rastrigin_5d" in text and "Nelder-Mead" in text
    ok, text = out(namesakes, "/compare 1 2")
    assert ok and "different problems (expr_x_y_z #1 and expr_x_y_z #2)" in " ".join(text.split())
    ok, text = out(namesakes, "/tree")
    assert ok and text.count("★ best") == 4 and "expr_x_y_z #2  (1 run)" in text


def test_one_is_singular_in_command_output(namesakes, tmp_path):
    ok, text = out(namesakes, f"/export 4 -o {tmp_path / 'r.csv'}")
    assert ok and "(csv, 1 evaluation)" in text
    ok, text = out(namesakes, "/report 4")
    assert ok and "1 variable)" in text and "1 evaluation in" in text and "1 run_" not in text
    assert "1 variables" not in text and "1 evaluations" not in text
    ok, text = out(namesakes, "/tree")
    assert "(1 run)" in text and "· 1 eval ·" in text


def test_unknown_problem_filter_is_one_error_line(shell):
    ok, text = out(shell, "/runs --problem nope")
    assert not ok
    assert text.startswith("error: no problem named 'nope'; known problems: rb, sp")
    assert "no matching runs" not in text and len(text.strip().splitlines()) == 1
    ok, text = out(shell, "/runs --problem 9")
    assert not ok and text.startswith("error: no problem 9") and "(see /problems)" in text


def test_history_shows_the_answer_as_plain_text(shell):
    shell.transcript.append({"request": "maximize x + 2y + 2z", "run_ids": [6],
                             "answer": "**Run 6** on 'expr\\_x\\_y\\_z' (x + 2\\*y + 2\\*z \\<= 72): "
                                       "`SLSQP` found 72.\n\nMore."})
    ok, text = out(shell, "/history")
    assert ok and "Run 6 on 'expr_x_y_z' (x + 2*y + 2*z <= 72): SLSQP found 72." in text
    assert "\\_" not in text and "**" not in text and "`" not in text


def test_register_checks_the_function_exists_without_importing(shell, tmp_path):
    code = tmp_path / "model.py"
    code.write_text("import sys\nsys.exit('imported!')\n\ndef cost(x):\n    return sum(x)\n")
    ok, text = out(shell, f"/register my_cost {code}:missing")
    assert not ok and text.startswith("error: ")
    assert str(code) in text and "'missing'" in text and "cost" in text
    ok, text = out(shell, f"/register my_cost {code}:cost --gradient {code}:grad")
    assert not ok and "no gradient named 'grad'" in text
    (tmp_path / "bad.py").write_text("def cost(x:\n")
    ok, text = out(shell, f"/register my_cost {tmp_path / 'bad.py'}:cost")
    assert not ok and "is not valid Python (line 1" in text


def test_session_report_plots_each_problem_apart(namesakes):
    namesakes.transcript.append({"request": "r", "answer": "", "run_ids": [1, 2, 4]})
    ok, text = out(namesakes, "/report")
    assert ok and "convergence: expr_x_y_z #1" in text and "convergence: q" in text
    md_file = next((namesakes.reader.path / "reports").glob("report-1-2-4-*.md"))
    md = md_file.read_text()
    pictures = [l for l in md.splitlines() if l.startswith("![convergence](")]
    assert len(pictures) == 3 and len(set(pictures)) == 3  # one per problem, not one mixed plot
    for line in pictures:
        assert (md_file.parent / line[len("![convergence]("):-1]).exists()


def test_report_text_from_a_request_is_not_read_as_markdown():
    from aopt.cli._report import _md_text

    assert _md_text("maximize x*y*z subject to x + 2*y <= 72 | a_b") == \
        "maximize x\\*y\\*z subject to x + 2\\*y \\<= 72 \\| a\\_b"
