"""The interactive `paola>` shell: requests go to the agent, slash commands are answered from the store."""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.text import Text

from aopt import __version__
from aopt.cli._agent_link import OFFLINE_HINT, AgentLink
from aopt.cli._commands import SlashCommands
from aopt.cli._format import plural
from aopt.cli._live import AgentPresenter
from aopt.cli._records import StoreReader
from aopt.cli._registry import ExitShell
from aopt.errors import PaolaError

__all__ = ["Shell"]

PROMPT = "paola> "


class Shell:
    """One shell on one store. `run()` is interactive; `run_lines(stream)` reads requests line by line."""

    def __init__(self, store=None, model: str | None = None, base_url: str | None = None,
                 console: Console | None = None, session_factory=None, live: bool | None = None,
                 allow_code: bool = False):
        from aopt.cli._confirm import confirm_code

        self.console = console or Console(highlight=False)
        self.reader = StoreReader(store)
        self.presenter = AgentPresenter(self.console, live=live)
        self.agent = AgentLink(self.reader, model, base_url, on_event=self.presenter,
                               session_factory=session_factory, allow_code=allow_code,
                               confirm_code=confirm_code(self.console, before=self.presenter.finish))
        self.commands = SlashCommands(self.console, self.reader, self.agent)
        self.failures = 0
        self._run_count: int | None = None

    # -- one line ---------------------------------------------------------------------------
    def handle(self, line: str) -> bool:
        """Run one request or slash command; False when it failed. Raises ExitShell on /exit."""
        text = line.strip()
        if not text:
            return True
        try:
            if text.startswith("/"):
                ok = self.commands.run(text)
            else:
                ok = self.ask(text)
        except ExitShell:
            raise
        except KeyboardInterrupt:
            self.presenter.finish()
            self.console.print(Text("interrupted", style="yellow"))
            ok = False
        except Exception as exc:  # a bug must not end the session
            self.presenter.finish()
            self.commands.error(f"{type(exc).__name__}: {exc}")
            ok = False
        self._run_count = None
        if not ok:
            self.failures += 1
        return ok

    def ask(self, text: str) -> bool:
        """Hand a request to the agent and show its tool calls, live progress and answer."""
        from rich.markdown import Markdown

        self.presenter.begin(self.agent.model_name)
        started = time.perf_counter()
        try:
            reply = self.agent.ask(text)
        except KeyboardInterrupt:
            self.presenter.finish()
            self.console.print(Text("interrupted: the step was stopped; any run it started is kept as "
                                    "interrupted (see /runs)", style="yellow"))
            self.commands.transcript.append({"request": text, "answer": "(interrupted)", "run_ids": []})
            return False
        except PaolaError as exc:
            self.presenter.finish()
            self.commands.error(str(exc))
            return False
        finally:
            self.presenter.finish()
        run_ids = list(getattr(reply, "run_ids", []) or [])
        answer = getattr(reply, "text", "") or ""
        self.commands.transcript.append({"request": text, "answer": answer, "run_ids": run_ids})
        if answer:
            self.console.print(Markdown(answer))
        if getattr(reply, "interrupted", False):
            kept = ", ".join(f"run {r}" for r in run_ids)
            self.console.print(Text("interrupted" + (f": {kept} kept as interrupted" if kept else ""),
                                    style="yellow"))
            return False
        tail = f"{time.perf_counter() - started:.1f} s"
        if run_ids:
            tail += " · runs " + ", ".join(map(str, run_ids)) + " · /show N for details"
        self.console.print(Text(tail, style="dim"))
        return True

    # -- the banner and toolbar ---------------------------------------------------------------
    def run_count(self) -> int:
        if self._run_count is None:
            try:
                self._run_count = self.reader.count()
            except PaolaError:
                self._run_count = 0
        return self._run_count

    def banner(self) -> None:
        self.console.print(Text.assemble((f"paola {__version__}", "bold"),
                                         " — describe a function to minimize; /help for commands"))
        self.console.print(Text.assemble("model ", (self.agent.model_name, "bold cyan"), " · store ",
                                         (str(self.reader.path), "bold"), f" · {plural(self.run_count(), 'run')}"))
        if self.agent.is_offline:
            self.console.print(Text(OFFLINE_HINT, style="dim"))

    def toolbar(self):
        loading = "" if self.agent.ready else " (loading…)"
        return [("class:bottom-toolbar", f" model {self.agent.model_name}{loading} │ store "
                 f"{self.reader.path} │ {plural(self.run_count(), 'run')} │ Tab completes · Esc Enter new line · "
                 "Ctrl+D exits ")]

    # -- loops ------------------------------------------------------------------------------
    def prompt_session(self, input=None, output=None):
        from prompt_toolkit import PromptSession
        from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
        from prompt_toolkit.history import FileHistory, InMemoryHistory
        from prompt_toolkit.key_binding import KeyBindings

        from aopt.cli._completion import SlashCompleter

        keys = KeyBindings()

        @keys.add("escape", "enter")
        def _newline(event):
            event.current_buffer.insert_text("\n")

        try:
            self.reader.path.mkdir(parents=True, exist_ok=True)
            history = FileHistory(str(self.reader.path / "shell_history"))
        except OSError:
            history = InMemoryHistory()
        session = PromptSession(history=history, auto_suggest=AutoSuggestFromHistory(),
                                completer=SlashCompleter(self.commands), complete_while_typing=True,
                                bottom_toolbar=self.toolbar, key_bindings=keys, input=input, output=output,
                                refresh_interval=0.5, prompt_continuation="     … ")

        def start_preload(_app):  # the prompt is on screen: now load LangChain and SciPy
            session.app.after_render.remove_handler(start_preload)
            self.agent.preload()

        session.app.after_render.add_handler(start_preload)
        return session

    def run(self, input=None, output=None) -> int:
        """The interactive loop; returns the exit code (0)."""
        self.banner()
        session = self.prompt_session(input, output)
        while True:
            try:
                line = session.prompt([("bold", PROMPT)])
            except KeyboardInterrupt:  # Ctrl+C at the prompt clears the line
                continue
            except EOFError:  # Ctrl+D
                break
            try:
                self.handle(line)
            except ExitShell:
                break
        self.console.print(Text("bye", style="dim"))
        return 0

    def run_lines(self, stream=None, echo: bool = True) -> int:
        """Non-interactive: one request or command per line (blank lines and # comments skipped).

        Returns 0 when every line succeeded, else 1.
        """
        stream = stream or sys.stdin
        self.agent.preload()
        for raw in stream:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if echo:
                self.console.print(Text(PROMPT + line, style="bold"))
            try:
                self.handle(line)
            except ExitShell:
                break
        return 1 if self.failures else 0
