"""The shell's slash commands: each one method, its docstring its help, answered from the store."""

from __future__ import annotations

from pathlib import Path

from rich.markdown import Markdown
from rich.table import Table
from rich.text import Text

from aopt.cli._records import STATUSES
from aopt.cli._registry import CommandRegistry, ExitShell, UsageError, arg, slash
from aopt.cli._views import SORT_KEYS
from aopt.errors import InvalidInput, PaolaError

__all__ = ["SlashCommands"]

_RUNS = dict(nargs="+", metavar="RUN", complete="run")


class SlashCommands:
    """Slash commands bound to one shell: its console, store reader and agent link."""

    def __init__(self, console, reader, agent=None):
        self.console = console
        self.reader = reader
        self.agent = agent
        self.transcript: list[dict] = []  # this session's requests: {"request", "answer", "run_ids"}
        self.registry = CommandRegistry.collect(self)

    # -- dispatch --------------------------------------------------------------------------
    def run(self, line: str) -> bool:
        """Run one slash command line; errors are printed on one line. False when it failed."""
        try:
            cmd, argv = self.registry.split(line)
            if "--help" in argv or "-h" in argv:
                self.help(_ns(command=cmd.name))
                return True
            cmd.func(cmd.parse(argv))
            return True
        except ExitShell:
            raise
        except (PaolaError, ValueError) as exc:
            self.error(str(exc))
            return False

    def error(self, message: str) -> None:
        self.console.print(Text("error: ", style="bold red") + Text(message), soft_wrap=True)

    def _runs(self, refs) -> list[dict]:
        return [self.reader.run(r) for r in refs]

    def session_run_ids(self) -> list[int]:
        seen: list[int] = []
        for turn in self.transcript:
            for r in turn.get("run_ids") or []:
                if r not in seen:
                    seen.append(r)
        return seen

    def chart(self, runs: list[dict], title: str | None = None, height: int = 12):
        from aopt.cli._plots import best_so_far, convergence_chart

        curves = [best_so_far(f"run {r['id']} {r.get('algorithm')}" if len(runs) > 1 else "",
                              self.reader.history(r), self.reader.sense(r))
                  for r in runs if r.get("n_evaluations")]
        if not curves:
            return Text("(no evaluations recorded yet)", style="dim")
        return convergence_chart(curves, width=min(self.console.width, 110), height=height, title=title)

    # -- completion data -------------------------------------------------------------------
    def completion_values(self, kind: str) -> list[tuple[str, str]]:
        """(value, description) pairs Tab offers for a kind of argument."""
        if kind == "run":
            return [(str(r["id"]), f"{r.get('problem')} · {r.get('algorithm')} · {r.get('status')}")
                    for r in self.reader.runs(limit=50)]
        if kind == "problem":
            return [(n, "problem") for n in self.reader.problem_names()]
        if kind == "algorithm":
            from aopt.optimize import list_algorithms

            return [(a.name, a.family) for a in list_algorithms()]
        if kind == "command":
            return [(n, self.registry.commands[n].summary) for n in self.registry.names()]
        if kind == "model":
            return [("offline", "embedded, no network"), ("openai:gpt-4o-mini", "needs OPENAI_API_KEY"),
                    ("ollama:qwen2.5", "local Ollama server")]
        return []

    # -- the commands ----------------------------------------------------------------------
    @slash("help", arg("command", nargs="?", complete="command"), aliases=("?",))
    def help(self, a):
        """Show the commands, or what one command does: /help show.

        Anything that does not start with / is a request for the agent, e.g.
        "minimize rosenbrock in 10 dimensions with BFGS". Keys: Tab completes,
        Esc then Enter adds a line, Ctrl+C clears the line or stops a running step,
        Ctrl+D or /exit leaves.
        """
        if a.command:
            cmd = self.registry.resolve(a.command)
            self.console.print(Text(cmd.full_usage, style="bold"))
            self.console.print(cmd.summary)
            if cmd.details:
                self.console.print(Text(cmd.details, style="dim"))
            for act in cmd.options():
                choices = f" (one of: {', '.join(map(str, act.choices))})" if act.choices else ""
                self.console.print(f"  {', '.join(act.option_strings):<16} {act.help or ''}{choices}")
            if cmd.aliases:
                self.console.print(f"  aliases: {', '.join('/' + x for x in cmd.aliases)}")
            return
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for name in self.registry.names():
            cmd = self.registry.commands[name]
            table.add_row(cmd.usage, cmd.summary)
        self.console.print(table)
        self.console.print(Text("Anything else is a request for the agent. A unique prefix runs a "
                                "command (/sh 3). /help CMD explains one.", style="dim"))

    @slash("runs", arg("--problem", metavar="P", complete="problem", help="only runs of this problem"),
           arg("--status", choices=STATUSES, help="only runs with this status"),
           arg("--limit", type=int, default=20, metavar="N", help="how many to show (default 20)"),
           arg("--sort", choices=tuple(SORT_KEYS), default="id", help="order (default: newest first)"))
    def runs(self, a):
        """List stored runs, newest first, with their best value, evaluations, time and result (what it proves)."""
        from aopt.cli._views import runs_table, sort_runs

        if a.limit < 1:
            raise UsageError(f"--limit must be a positive whole number; got {a.limit}")
        self.reader.check_problem_filter(a.problem)  # an unknown problem is one error line, nothing else
        total = self.reader.count(a.problem, a.status)
        if a.sort in ("id", "newest"):
            rows = self.reader.runs(a.problem, a.status, limit=a.limit)
        else:
            rows = sort_runs(self.reader.runs(a.problem, a.status, limit=None), a.sort)[: a.limit]
        if not rows:
            what = " matching" if (a.problem or a.status) else ""
            self.console.print(Text(f"no{what} runs yet in {self.reader.path}", style="dim"))
            return
        self.console.print(runs_table(rows, total=total))

    @slash("show", arg("run", metavar="RUN", complete="run"),
           arg("--no-plot", action="store_true", help="leave out the convergence plot"))
    def show(self, a):
        """One run in full: problem, algorithm, options, start, result (what it proves), phases, lineage, plot."""
        from aopt.cli._run_views import run_detail

        run = self.reader.run(a.run)
        chart = None if a.no_plot else self.chart([run], title="convergence (best f so far)")
        self.console.print(run_detail(run, self.reader.problem_of(run), self.reader.children(run["id"]), chart))

    @slash("compare", arg("runs", **_RUNS))
    def compare(self, a):
        """Runs side by side with the best highlighted (runs of different problems are not ranked)."""
        from aopt.cli._run_views import comparison

        if len(a.runs) < 2:
            raise UsageError(f"{self.reader.cmd('compare')} needs at least two runs, e.g. "
                             f"{self.reader.cmd('compare 3 4')}")
        runs = self._runs(a.runs)
        self.console.print(comparison(runs, self.reader.sense(runs[0])))

    @slash("plot", arg("runs", **_RUNS),
           arg("--save", metavar="FILE", help="write a picture: FILE.png, FILE.html or FILE.svg"))
    def plot(self, a):
        """Convergence (best value so far against evaluations) of one or more runs."""
        from aopt.cli._plots import best_so_far, save_plot

        runs = self._runs(a.runs)
        if a.save:
            curves = [best_so_far(f"run {r['id']} {r.get('algorithm')}", self.reader.history(r),
                                  self.reader.sense(r)) for r in runs]
            title = "convergence of " + ", ".join(f"run {r['id']}" for r in runs)
            path = save_plot(curves, a.save, title=title)
            self.console.print(f"wrote {path}")
            return
        self.console.print(self.chart(runs, height=16))

    @slash("tree", arg("run", nargs="?", metavar="RUN", complete="run"))
    def tree(self, a):
        """The lineage of runs (warm starts, restarts) as a tree per problem, the best marked ★."""
        from aopt.cli._run_views import lineage_tree

        runs = self.reader.runs(limit=None)
        focus = self.reader.run(a.run)["id"] if a.run else None
        if not runs:
            self.console.print(Text(f"no runs yet in {self.reader.path}", style="dim"))
            return
        from aopt.cli._format import problem_labels

        problems = self.reader.problems()
        senses = {p["id"]: p.get("sense") or "minimize" for p in problems}
        self.console.print(lineage_tree(runs, senses, focus, problem_labels(problems)))

    @slash("problems")
    def problems(self, a):
        """The problems defined so far, with how many runs each has."""
        from aopt.cli._views import problems_table

        rows = self.reader.problems()
        if not rows:
            self.console.print(Text("no problems yet: ask for one, e.g. 'minimize sphere in 3 dimensions'",
                                    style="dim"))
            return
        counts: dict = {}  # by problem id: several problems can share a name
        for r in self.reader.runs(limit=None):
            counts[r.get("problem_id")] = counts.get(r.get("problem_id"), 0) + 1
        self.console.print(problems_table(rows, counts))

    @slash("problem", arg("name", metavar="NAME", complete="problem"))
    def problem(self, a):
        """One problem: objective, variables and bounds, constraints, known optimum, and its runs."""
        from aopt.cli._views import problem_panel

        p = self.reader.problem(a.name)
        runs = self.reader.runs(problem=p["id"], limit=20)  # this problem's runs, not its namesakes'
        self.console.print(problem_panel(p, runs, self.reader.namesakes(p), self.reader.command_prefix))

    @slash("register", arg("name", metavar="NAME"), arg("function", metavar="FILE.py:FUNCTION"),
           arg("--gradient", metavar="FILE.py:FUNCTION", help="its gradient, same form"),
           arg("--description", default="", help="what the function computes"))
    def register(self, a):
        """Name your own Python function once, then use the name in requests ("minimize NAME in 4 dims").

        The file is not imported here: it runs in a sandbox worker when a run evaluates it.
        """
        from aopt.cli._codecheck import check_defines
        from aopt.runs import ProblemCatalog

        check_defines(a.function)  # a missing function fails here, not at the first run
        if a.gradient:
            check_defines(a.gradient, "gradient")
        record = ProblemCatalog(self.reader.store).register_function(a.name, a.function, a.gradient,
                                                                     a.description)
        self.console.print(f"registered [bold]{record['name']}[/] = {record['objective']}"
                           + (f" (gradient {record['gradient']})" if record.get("gradient") else ""))

    @slash("functions")
    def functions(self, a):
        """The Python functions registered by name (see /register)."""
        rows = self.reader.store.list_functions()
        if not rows:
            self.console.print(Text(f"no functions registered: {self.reader.cmd('register NAME FILE.py:FUNCTION')}",
                                    style="dim"))
            return
        for r in rows:
            self.console.print(f"[bold]{r['name']}[/]  {r['objective']}"
                               + (f"  gradient {r['gradient']}" if r.get("gradient") else "")
                               + (f"  — {r['description']}" if r.get("description") else ""))

    @slash("algorithms")
    def algorithms(self, a):
        """The optimizers paola can run and what each handles (bounds, constraints, gradients)."""
        from aopt.cli._views import algorithms_table
        from aopt.optimize import list_algorithms

        self.console.print(algorithms_table([i.to_dict() for i in list_algorithms()]))

    @slash("export", arg("run", metavar="RUN", complete="run"),
           arg("--format", choices=("csv", "json", "script"), default="csv", help="file format (default csv)"),
           arg("-o", "--output", metavar="PATH", help="where to write (default ./run-N.EXT)"))
    def export(self, a):
        """Write a run's evaluation history (CSV or JSON) or a Python script that reruns it."""
        from aopt.cli._export import EXTENSIONS, export_run

        run = self.reader.run(a.run)
        from aopt.cli._format import plural

        path = Path(a.output or f"run-{run['id']}{EXTENSIONS[a.format]}").expanduser()
        if not path.parent.exists():
            raise InvalidInput(f"cannot write {str(path)!r}: the folder {str(path.parent)!r} does not exist")
        text = export_run(self.reader, run, a.format, getattr(self.agent, "ctx", None) and
                          (lambda: self.agent.ctx), filename=path.name)
        path.write_text(text, encoding="utf-8")
        self.console.print(f"wrote {path} ({a.format}, {plural(run.get('n_evaluations') or 0, 'evaluation')})")

    @slash("report", arg("runs", nargs="*", metavar="RUN", complete="run"),
           arg("-o", "--output", metavar="FOLDER", help="folder for the report (default: STORE/reports)"))
    def report(self, a):
        """A Markdown report of runs (default: this session's runs), written under the store and shown."""
        from aopt.cli._report import build_report

        if a.runs:
            runs = self._runs(a.runs)
            title = "paola report: " + ", ".join(f"run {r['id']}" for r in runs)
        else:
            ids = self.session_run_ids()
            if not ids:
                raise UsageError(f"no runs in this session yet; name runs to report on, e.g. "
                                 f"{self.reader.cmd('report 3 4')}")
            runs = self._runs(ids)
            title = "paola session report"
        report = build_report(self.reader, runs, title, Path(a.output) if a.output else None)
        self.console.print(Markdown(report.terminal_markdown))
        for group in _by_problem(runs):  # one chart per problem: values of different problems do not compare
            title = None
            if len(group) < len(runs):
                from aopt.cli._format import problem_labels

                label = problem_labels(runs).get(group[0].get("problem_id"), group[0].get("problem"))
                title = f"convergence: {label}"
            self.console.print(self.chart(group, title=title))
        self.console.print(Text(f"report written to {report.path}", style="bold"))

    @slash("model", arg("spec", nargs="?", metavar="SPEC", complete="model"))
    def model(self, a):
        """Show the model in use, or switch: /model openai:gpt-4o-mini (the conversation is kept if it can be)."""
        from aopt.cli._agent_link import OFFLINE_HINT

        if self.agent is None:
            raise UsageError("no agent in this shell")
        if not a.spec:
            self.console.print(f"model: [bold]{self.agent.model_name}[/]")
            if self.agent.is_offline:
                self.console.print(Text(OFFLINE_HINT, style="dim"))
            return
        name = self.agent.switch_model(a.spec)
        self.console.print(f"model switched to [bold]{name}[/]")

    @slash("clear")
    def clear(self, a):
        """Start a new conversation (runs and problems stay in the store)."""
        if self.agent is not None:
            self.agent.clear()
        self.transcript.clear()
        self.console.print("new conversation started")

    @slash("history")
    def history(self, a):
        """This conversation so far: each request, the runs it made and the first line of the answer."""
        if not self.transcript:
            self.console.print(Text("no requests yet in this conversation", style="dim"))
            return
        from aopt.cli._format import plain_markdown

        for i, turn in enumerate(self.transcript, 1):
            runs = turn.get("run_ids") or []
            answer = [plain_markdown(line) for line in (turn.get("answer") or "").strip().splitlines()]
            self.console.print(Text.assemble((f"{i}. ", "bold"), (turn["request"], "bold cyan"),
                                             (f"   runs {', '.join(map(str, runs))}" if runs else "", "dim")))
            if answer:
                self.console.print(Text("   " + answer[0][:150], style="dim"))

    @slash("exit", aliases=("quit",))
    def exit(self, a):
        """Leave paola (Ctrl+D does the same)."""
        raise ExitShell()


def _by_problem(runs: list[dict]) -> list[list[dict]]:
    """Runs grouped by problem id, in order of first appearance."""
    groups: dict = {}
    for r in runs:
        groups.setdefault(r.get("problem_id", r.get("problem")), []).append(r)
    return list(groups.values())


class _ns:
    def __init__(self, **kw):
        self.__dict__.update(kw)
