"""`paola` subcommands through main([...]): JSON output, files written, exit codes scripts rely on."""

import json
import subprocess
import sys

import pytest

from aopt.cli import main


@pytest.fixture
def store(tmp_path):
    """A real store made through the run API: two rosenbrock runs (the second warm-started), one constrained."""
    from aopt.tools import Context

    ctx = Context.open(tmp_path / "runs")
    rb, _ = ctx.runs.problems.create("rb", "rosenbrock", 3)
    first = ctx.runs.start_run(rb["id"], "BFGS")
    ctx.runs.execute(first)
    second = ctx.runs.start_run(rb["id"], "Nelder-Mead", parent_run_id=first)
    ctx.runs.execute(second, max_evaluations=50)
    q, _ = ctx.runs.problems.create("q", "(x-3)**2 + y**2", constraints=["x + y >= 1"], bounds=[(-5, 5)])
    ctx.runs.execute(ctx.runs.start_run(q["id"], "SLSQP"))
    ctx.close()
    return str(tmp_path / "runs")


def test_runs_json_lists_records_newest_first(store, capsys):
    assert main(["runs", "--json", "--store", store]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in data["runs"]] == [3, 2, 1] and data["total"] == 3
    assert data["runs"][2]["algorithm"] == "BFGS" and data["runs"][1]["parent_id"] == 1
    assert main(["runs", "--json", "--store", store, "--problem", "rb", "--limit", "1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in data["runs"]] == [2] and data["total"] == 2


def test_global_options_go_before_or_after_the_command(store, capsys):
    assert main(["--store", store, "runs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 3


def test_runs_table_shows_tiny_values(store, capsys):
    assert main(["runs", "--store", store]) == 0
    out = capsys.readouterr().out
    assert "SLSQP" in out and "e-" in out and "0.000000" not in out


def test_show_json_has_the_documented_record(store, capsys):
    assert main(["show", "1", "--json", "--store", store]) == 0
    record = json.loads(capsys.readouterr().out)
    for key in ("id", "problem", "algorithm", "status", "best_f", "best_x", "n_evaluations", "n_iterations",
                "x0", "options", "seed", "started_at", "finished_at", "duration_s", "message", "converged",
                "parent_id", "notes"):
        assert key in record, key
    assert record["status"] == "completed" and record["converged"] is True
    assert record["best_f"] < 1e-8 and len(record["best_x"]) == 3


def test_show_renders_the_run(store, capsys):
    assert main(["show", "3", "--store", store]) == 0
    out = capsys.readouterr().out
    assert "x + y >= 1" in out and "SLSQP" in out and "result" in out


def test_export_csv_and_json(store, capsys, tmp_path):
    assert main(["export", "1", "--store", store]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "evaluation,x1,x2,x3,f,constraint_violation,time_s"
    path = tmp_path / "h.json"
    assert main(["export", "3", "--format", "json", "-o", str(path), "--store", store]) == 0
    data = json.loads(path.read_text())
    assert data["variables"] == ["x", "y"] and data["evaluations"][0]["evaluation"] == 0
    assert set(data["evaluations"][0]) == {"evaluation", "x", "y", "f", "constraint_violation", "time_s"}


def test_report_writes_markdown_under_the_store(store, capsys):
    assert main(["report", "1", "2", "--json", "--store", store]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["path"].startswith(store) and data["path"].endswith(".md")
    assert "### Results" in data["markdown"] and data["plot"].endswith(".png")


def test_exit_codes(store, capsys):
    assert main(["show", "99", "--store", store]) == 1  # the request failed: no such run
    assert "no run 99" in capsys.readouterr().err
    assert main(["show", "abc", "--store", store]) == 2  # bad usage
    assert main(["runs", "--bogus"]) == 2
    assert main(["runs", "--limit", "0", "--store", store]) == 2
    assert main(["export", "1", "--format", "xml", "--store", store]) == 2
    assert main(["compare", "1", "3", "--store", store]) == 0
    assert "not ranked" in capsys.readouterr().out
    assert main(["--help"]) == 0
    assert "exit codes" in capsys.readouterr().out


def test_an_empty_store_reads_as_empty_without_creating_it(tmp_path, capsys):
    where = tmp_path / "nothing"
    assert main(["runs", "--store", str(where)]) == 0
    assert "no runs yet" in capsys.readouterr().out
    assert not where.exists()


def test_paola_reads_requests_from_a_file(store, tmp_path):
    requests = tmp_path / "requests.txt"
    requests.write_text("/runs --limit 2\n/show 1 --no-plot\n/tree\n")
    with open(requests) as stdin:
        done = subprocess.run([sys.executable, "-m", "aopt", "--store", store], stdin=stdin,
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "paola> /runs --limit 2" in done.stdout and "Run 1" in done.stdout
    assert "runs by problem" in done.stdout


def test_ask_json_reports_runs_and_answer(store, capsys, monkeypatch):
    from types import SimpleNamespace

    from aopt.cli import _agent_link

    class Session:
        model_name, is_offline = "offline", True

        def ask(self, text):
            return SimpleNamespace(text=f"Ran **{text}**.", run_ids=[1], interrupted=False,
                                   tool_calls=[{"name": "get_run", "args": {"run_id": 1}, "summary": "ok",
                                                "duration_s": 0.01, "error": None}])

    monkeypatch.setattr(_agent_link, "_default_factory", lambda *a, **k: Session())
    assert main(["ask", "show", "run", "1", "--json", "--store", store]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["answer"] == "Ran **show run 1**." and data["run_ids"] == [1]
    assert data["runs"][0]["algorithm"] == "BFGS" and data["model"] == "offline"


def test_hints_outside_the_shell_name_paola_commands(store, capsys):
    assert main(["show", "999", "--store", store]) == 1
    err = capsys.readouterr().err
    assert "(see paola runs)" in err and "see /runs" not in err
    assert main(["runs", "--problem", "nope", "--store", store]) == 1
    captured = capsys.readouterr()
    assert "no problem named 'nope'" in captured.err and "no runs yet" not in captured.out


def test_exported_script_names_its_own_file(store, tmp_path, capsys):
    path = tmp_path / "again.py"
    assert main(["export", "1", "--format", "script", "-o", str(path), "--store", store]) == 0
    text = path.read_text()
    assert "python again.py" in text and "paola_run_1.py" not in text


def test_register_fails_at_once_for_a_missing_function(store, tmp_path, capsys):
    code = tmp_path / "model.py"
    code.write_text("def cost(x):\n    return sum(v * v for v in x)\n")
    assert main(["register", "my_cost", f"{code}:nope", "--store", store]) == 2
    err = capsys.readouterr().err
    assert str(code) in err and "no function named 'nope'" in err and "it defines cost" in err
    assert main(["register", "my_cost", f"{code}:cost", "--store", store]) == 0
    assert "registered my_cost" in capsys.readouterr().out
