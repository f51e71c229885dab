"""`paola` on the command line: the shell, and subcommands for scripts (exit codes 0 ok, 1 failed, 2 bad usage)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from aopt.errors import InvalidInput, PaolaError

__all__ = ["main", "build_parser"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

_DESCRIPTION = """\
paola: a conversational optimization workbench.

With no command, opens the interactive paola> shell: type a request
("minimize rosenbrock in 10 dimensions with BFGS") or a slash command (/help).
Reading requests from a file works too: paola < requests.txt
"""

_EPILOG = """\
environment: AOPT_STORE (store folder), PAOLA_MODEL (model spec), OPENAI_API_KEY,
OPENAI_BASE_URL. With no model spec and no OPENAI_API_KEY the offline model is used.
exit codes: 0 ok, 1 the request failed (unknown run, failed run, model error), 2 bad usage.
"""

# subcommands answered by the shell's slash commands, with the same arguments
_PASSTHROUGH = {
    "compare": "runs of one problem side by side, the best marked",
    "plot": "convergence of runs in the terminal; --save FILE.png|.html writes a picture",
    "tree": "the lineage of runs (warm starts, restarts) as a tree",
    "problems": "the stored problems",
    "problem": "one problem and its runs",
    "algorithms": "the optimizers paola can run",
    "register": "name your own Python function (FILE.py:FUNCTION) for later requests",
    "functions": "the registered Python functions",
}


def _globals(parser: argparse.ArgumentParser, suppress: bool) -> None:
    d = (lambda v: argparse.SUPPRESS) if suppress else (lambda v: v)
    g = parser.add_argument_group("options every command takes")
    g.add_argument("--store", metavar="PATH", default=d(None),
                   help="the run store folder (env AOPT_STORE, default ./.aopt_runs)")
    g.add_argument("--model", metavar="SPEC", default=d(None),
                   help="offline, or provider:model such as openai:gpt-4o-mini (env PAOLA_MODEL)")
    g.add_argument("--base-url", metavar="URL", default=d(None),
                   help="an OpenAI-compatible server (env OPENAI_BASE_URL)")
    g.add_argument("--allow-code", action="store_true", default=d(False),
                   help="let the model define objectives in Python (shown, and run in a sandbox only "
                        "after you confirm; env PAOLA_ALLOW_CODE=1)")


def build_parser() -> argparse.ArgumentParser:
    from aopt import __version__

    parser = argparse.ArgumentParser(prog="paola", description=_DESCRIPTION, epilog=_EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"paola {__version__}")
    _globals(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name, help):
        p = sub.add_parser(name, help=help, description=help)
        _globals(p, suppress=True)
        return p

    p = add("ask", "one request through the agent, then exit")
    p.add_argument("text", nargs="+", help="the request, e.g. 'minimize sphere in 3 dimensions'")
    p.add_argument("--json", action="store_true", help="print runs created and the final answer as JSON")
    p.add_argument("--yes", action="store_true",
                   help="with --allow-code: run code the model writes without asking")

    p = add("runs", "list stored runs, newest first")
    p.add_argument("--json", action="store_true", help="print the run records as JSON")
    p.add_argument("--problem", metavar="P", help="only runs of this problem")
    p.add_argument("--status", choices=("running", "completed", "failed", "interrupted"))
    p.add_argument("--limit", type=int, default=20, metavar="N", help="at most N runs (default 20)")
    p.add_argument("--sort", default="id", metavar="KEY",
                   help="id (newest first), oldest, best, evals, time, problem, algorithm, status")

    p = add("show", "one run in full")
    p.add_argument("run", metavar="N", help="run id")
    p.add_argument("--json", action="store_true", help="print the run record as JSON")
    p.add_argument("--no-plot", action="store_true", help="leave out the convergence plot")

    p = add("export", "a run's evaluation history (or a script that reruns it)")
    p.add_argument("run", metavar="N", help="run id")
    p.add_argument("--format", choices=("csv", "json", "script"), default="csv")
    p.add_argument("-o", "--output", metavar="PATH", help="write to PATH (default: standard output)")

    p = add("report", "a Markdown report of runs (default: the newest problem's runs)")
    p.add_argument("runs", nargs="*", metavar="N", help="run ids")
    p.add_argument("-o", "--output", metavar="FOLDER", help="folder for the report (default STORE/reports)")
    p.add_argument("--json", action="store_true", help="print the report's path and Markdown as JSON")

    p = add("replay", "replay a stored conversation session")
    p.add_argument("session", metavar="SESSION", help="session id")

    for name, help in _PASSTHROUGH.items():
        p = add(name, help)
        p.add_argument("args", nargs=argparse.REMAINDER, help=f"as /{name} in the shell (paola {name} --help)")
    return parser


def _console(stderr: bool = False):
    from rich.console import Console

    console = Console(highlight=False, stderr=stderr, soft_wrap=False)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        # piped or redirected (`paola runs | grep ...`): rich's 80 columns split names across lines
        console = Console(highlight=False, stderr=stderr, soft_wrap=False, width=200)
    return console


def _dump(data) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `paola` command; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help / --version (0) or bad usage (2)
        return int(exc.code or 0)
    base_url = args.base_url or os.environ.get("OPENAI_BASE_URL")
    try:
        if args.command is None:
            return _shell(args, base_url)
        return _COMMANDS[args.command](args, base_url)
    except InvalidInput as exc:
        _console(stderr=True).print(f"[bold red]paola: error:[/] {exc}", soft_wrap=True)
        return EXIT_USAGE
    except PaolaError as exc:
        _console(stderr=True).print(f"[bold red]paola: error:[/] {exc}", soft_wrap=True)
        return EXIT_FAILED
    except KeyboardInterrupt:
        _console(stderr=True).print("[yellow]interrupted[/]")
        return EXIT_FAILED
    except BrokenPipeError:  # `paola runs | head`
        return EXIT_OK


def _allow_code(args) -> bool:
    return bool(getattr(args, "allow_code", False)) or os.environ.get("PAOLA_ALLOW_CODE", "").strip().lower() in (
        "1", "true", "yes", "on")


def _shell(args, base_url) -> int:
    from aopt.cli._shell import Shell

    shell = Shell(args.store, args.model, base_url, allow_code=_allow_code(args))
    if sys.stdin.isatty() and sys.stdout.isatty():
        return shell.run()
    return shell.run_lines(sys.stdin)


def _reader(args):
    from aopt.cli._records import StoreReader

    return StoreReader(args.store, command_prefix="paola ")  # hints say `paola runs`, not /runs


def _cmd_runs(args, base_url) -> int:
    from aopt.cli._export import run_record_json
    from aopt.cli._views import SORT_KEYS, runs_table, sort_runs

    if args.limit < 1:
        raise InvalidInput(f"--limit must be a positive whole number; got {args.limit}")
    if args.sort not in SORT_KEYS:
        raise InvalidInput(f"--sort must be one of {', '.join(SORT_KEYS)}; got {args.sort!r}")
    reader = _reader(args)
    reader.check_problem_filter(args.problem)  # an unknown problem is an error, not "no runs yet"
    total = reader.count(args.problem, args.status)
    if args.sort in ("id", "newest"):
        rows = reader.runs(args.problem, args.status, limit=args.limit)
    else:
        rows = sort_runs(reader.runs(args.problem, args.status, limit=None), args.sort)[: args.limit]
    if args.json:
        _dump({"runs": [run_record_json(r) for r in rows], "total": total, "store": str(reader.path)})
    elif rows:
        _console().print(runs_table(rows, total=total))
    else:
        _console().print(f"no runs yet in {reader.path}")
    return EXIT_OK


def _cmd_show(args, base_url) -> int:
    from aopt.cli._export import run_record_json

    reader = _reader(args)
    run = reader.run(args.run)
    if args.json:
        _dump(run_record_json(run))
        return EXIT_OK
    from aopt.cli._commands import SlashCommands

    commands = SlashCommands(_console(), reader)
    commands.show(argparse.Namespace(run=args.run, no_plot=args.no_plot))
    return EXIT_OK


def _cmd_export(args, base_url) -> int:
    from pathlib import Path

    from aopt.cli._export import export_run

    reader = _reader(args)
    run = reader.run(args.run)
    text = export_run(reader, run, args.format,
                      filename=Path(args.output).name if args.output else None)
    if args.output:
        path = Path(args.output).expanduser()
        if not path.parent.exists():
            raise InvalidInput(f"cannot write {str(path)!r}: the folder {str(path.parent)!r} does not exist")
        path.write_text(text, encoding="utf-8")
        _console(stderr=True).print(f"wrote {path}")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _cmd_report(args, base_url) -> int:
    from pathlib import Path

    from aopt.cli._report import build_report

    reader = _reader(args)
    if args.runs:
        runs = [reader.run(r) for r in args.runs]
        title = "paola report: " + ", ".join(f"run {r['id']}" for r in runs)
    else:
        newest = reader.runs(limit=1)
        if not newest:
            raise PaolaError(f"no runs to report on in {reader.path}")
        runs = list(reversed(reader.runs(problem=newest[0]["problem_id"], limit=20)))
        title = f"paola report: problem {newest[0]['problem_id']} {newest[0]['problem']}"
    report = build_report(reader, runs, title, Path(args.output) if args.output else None)
    if args.json:
        _dump(report.to_dict())
    else:
        from rich.markdown import Markdown

        console = _console()
        console.print(Markdown(report.terminal_markdown))
        console.print(f"report written to {report.path}")
    return EXIT_OK


def _cmd_ask(args, base_url) -> int:
    from aopt.cli._agent_link import AgentLink
    from aopt.cli._export import run_record_json
    from aopt.cli._live import AgentPresenter

    reader = _reader(args)
    console = _console(stderr=args.json)
    presenter = AgentPresenter(console)
    from aopt.cli._confirm import confirm_code

    link = AgentLink(reader, args.model, base_url, on_event=presenter, allow_code=_allow_code(args),
                     confirm_code=confirm_code(console, assume_yes=args.yes))
    text = " ".join(args.text)
    presenter.begin(link.model_name)
    try:
        reply = link.ask(text)
    finally:
        presenter.finish()
    run_ids = list(getattr(reply, "run_ids", []) or [])
    runs = [reader.run(r) for r in run_ids]
    failed = bool(getattr(reply, "interrupted", False)) or (bool(runs) and
                                                            all(r.get("status") != "completed" for r in runs))
    if args.json:
        _dump({"request": text, "model": link.model_name, "answer": reply.text, "run_ids": run_ids,
               "runs": [run_record_json(r) for r in runs],
               "tool_calls": list(getattr(reply, "tool_calls", []) or []),
               "interrupted": bool(getattr(reply, "interrupted", False))})
    else:
        from rich.markdown import Markdown

        console.print(Markdown(reply.text or ""))
    return EXIT_FAILED if failed else EXIT_OK


def _cmd_replay(args, base_url) -> int:
    """Re-run the tool calls of a stored session; exit 1 when any of them failed."""
    from aopt.cli._agent_link import AgentLink
    from aopt.cli._live import AgentPresenter

    try:
        from aopt.agent import replay_session
    except ImportError:
        raise PaolaError("replay is not available in this build (aopt.agent.replay_session is missing)") from None
    text = str(args.session).strip().lstrip("#")
    if not text.isdigit():
        raise InvalidInput(f"SESSION must be a session number such as 3; got {args.session!r}")
    reader = _reader(args)
    console = _console()
    presenter = AgentPresenter(console)
    link = AgentLink(reader, "offline", base_url, on_event=presenter)
    link.session()
    results = replay_session(link.ctx, int(text), on_event=presenter) or []
    presenter.finish()
    failed = [r for r in results if r.get("error")]
    if not presenter.tool_calls:  # the replay did not report its calls as events: list them here
        for r in results:
            presenter.tool_end({"name": r.get("name"), "summary": r.get("summary"),
                                "error": r.get("error"), "duration_s": r.get("duration_s")})
    from aopt.cli._format import plural

    console.print(f"replayed {plural(len(results), 'tool call')} of session {text}"
                  + (f"; {len(failed)} failed" if failed else ""))
    return EXIT_FAILED if failed else EXIT_OK


def _take_globals(args) -> None:
    """Pull --store/--model/--base-url out of a passthrough command's own arguments."""
    rest, words = [], list(args.args)
    while words:
        word = words.pop(0)
        flag, eq, value = word.partition("=")
        if flag in ("--store", "--model", "--base-url"):
            if not eq:
                if not words:
                    raise InvalidInput(f"{flag} needs a value")
                value = words.pop(0)
            setattr(args, flag[2:].replace("-", "_"), value)
        else:
            rest.append(word)
    args.args = rest


def _cmd_passthrough(args, base_url) -> int:
    from aopt.cli._commands import SlashCommands

    _take_globals(args)
    commands = SlashCommands(_console(), _reader(args))
    cmd = commands.registry.commands[args.command]
    if "--help" in args.args or "-h" in args.args:
        commands.help(argparse.Namespace(command=args.command))
        return EXIT_OK
    cmd.func(cmd.parse(args.args))
    return EXIT_OK


_COMMANDS = {"runs": _cmd_runs, "show": _cmd_show, "export": _cmd_export, "report": _cmd_report,
             "ask": _cmd_ask, "replay": _cmd_replay, **{k: _cmd_passthrough for k in _PASSTHROUGH}}
