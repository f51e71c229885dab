"""Tab completion for the shell: slash commands, their options, run ids, problem and algorithm names."""

from __future__ import annotations

import shlex

from prompt_toolkit.completion import Completer, Completion

__all__ = ["SlashCompleter"]


class SlashCompleter(Completer):
    """Completes only lines that start with '/'; requests in plain words are left alone."""

    def __init__(self, commands):
        self.commands = commands

    def get_completions(self, document, complete_event):
        text = document.text_before_cursor
        if not text.startswith("/") or "\n" in text:
            return
        registry = self.commands.registry
        if " " not in text:
            word = text[1:].lower()
            for name in registry.names():
                if name.startswith(word):
                    yield Completion("/" + name, start_position=-len(text),
                                     display_meta=registry.commands[name].summary[:60])
            return
        head, _, _ = text.partition(" ")
        try:
            cmd = registry.resolve(head)
        except Exception:
            return
        try:
            words = shlex.split(text)
        except ValueError:
            return
        current = "" if text.endswith(" ") else words[-1]
        before = words[1:] if text.endswith(" ") else words[1:-1]
        action = None
        if before and before[-1].startswith("-"):
            action = next((a for a in cmd.options() if before[-1] in a.option_strings and a.nargs != 0
                           and not a.const and a.__class__.__name__ != "_StoreTrueAction"), None)
        if action is None and current.startswith("-"):
            for act in cmd.options():
                for flag in act.option_strings:
                    if flag.startswith(current) and flag.startswith("--"):
                        yield Completion(flag, start_position=-len(current), display_meta=act.help or "")
            return
        if action is None:
            positionals = cmd.positionals()
            if not positionals:
                return
            action = positionals[0]
        yield from self._values(action, current)

    def _values(self, action, current):
        if action.choices:
            values = [(str(c), "") for c in action.choices]
        elif getattr(action, "complete", None):
            try:
                values = self.commands.completion_values(action.complete)
            except Exception:  # an unreadable store must not break typing
                return
        else:
            return
        low = current.lower()
        for value, meta in values:
            if value.lower().startswith(low):
                yield Completion(value, start_position=-len(current), display_meta=meta)
