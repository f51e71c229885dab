"""The slash-command registry: declaration, prefix dispatch, nearest-name suggestions, help, completion data.

A command is one function declared with `@slash(...)`; its docstring is its help
(first line the summary), its argparse parser its usage. An action can carry a
`complete` attribute ("run", "problem", "algorithm", "command", "model") saying
which values Tab offers for it.
"""

from __future__ import annotations

import argparse
import difflib
import shlex
from dataclasses import dataclass, field
from typing import Callable

from aopt.errors import InvalidInput

__all__ = ["Command", "CommandRegistry", "UsageError", "ExitShell", "slash"]


class UsageError(InvalidInput):
    """A slash command or its arguments were malformed; the message shows the usage."""


class ExitShell(Exception):
    """Raised by /exit to leave the shell."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # never exit the shell on a bad argument
        usage = " ".join(self.format_usage().split()[1:])
        raise UsageError(f"{self.prog}: {message}; usage: {usage}")

    def exit(self, status=0, message=None):
        raise UsageError(message or self.format_usage())


@dataclass
class Command:
    name: str
    func: Callable
    parser: argparse.ArgumentParser
    aliases: tuple[str, ...] = ()
    hidden: bool = False

    @property
    def summary(self) -> str:
        return (self.func.__doc__ or "").strip().splitlines()[0]

    @property
    def details(self) -> str:
        lines = (self.func.__doc__ or "").strip().splitlines()[1:]
        return "\n".join(line.strip() for line in lines).strip()

    @property
    def usage(self) -> str:
        """'/show RUN [options]': positionals in full, options summarised (see /help CMD)."""
        words = [f"/{self.name}"]
        for a in self.positionals():
            m = a.metavar or a.dest
            words.append({"?": f"[{m}]", "*": f"[{m} ...]", "+": f"{m} [{m} ...]"}.get(a.nargs, m))
        if self.options():
            words.append("[options]")
        return " ".join(words)

    @property
    def full_usage(self) -> str:
        return " ".join(self.parser.format_usage().split()[1:])

    def options(self) -> list[argparse.Action]:
        return [a for a in self.parser._actions if a.option_strings]

    def positionals(self) -> list[argparse.Action]:
        return [a for a in self.parser._actions if not a.option_strings]

    def parse(self, argv: list[str]) -> argparse.Namespace:
        return self.parser.parse_args(argv)


def slash(name: str, *args_spec: tuple, aliases: tuple[str, ...] = (), hidden: bool = False):
    """Declare a slash command: `args_spec` items are (flags, kwargs) for argparse, kwargs may hold
    `complete` (what Tab offers for the value)."""
    def wrap(func):
        parser = _Parser(prog=f"/{name}", add_help=False, allow_abbrev=True)
        for flags, kwargs in args_spec:
            kwargs = dict(kwargs)
            complete = kwargs.pop("complete", None)
            flags = (flags,) if isinstance(flags, str) else flags
            action = parser.add_argument(*flags, **kwargs)
            action.complete = complete
        func.__slash__ = Command(name, func, parser, aliases, hidden)
        return func
    return wrap


def arg(*flags, **kwargs) -> tuple:
    return flags, kwargs


@dataclass
class CommandRegistry:
    """Commands by name; `resolve` accepts exact names, aliases and unique prefixes."""

    commands: dict[str, Command] = field(default_factory=dict)

    @classmethod
    def collect(cls, obj) -> "CommandRegistry":
        reg = cls()
        for attr in dir(type(obj)):
            cmd = getattr(getattr(type(obj), attr), "__slash__", None)
            if cmd is not None:
                bound = Command(cmd.name, getattr(obj, attr), cmd.parser, cmd.aliases, cmd.hidden)
                reg.commands[cmd.name] = bound
        return reg

    def names(self, include_hidden: bool = False) -> list[str]:
        return sorted(n for n, c in self.commands.items() if include_hidden or not c.hidden)

    def _all_names(self) -> dict[str, str]:
        out = {}
        for name, cmd in self.commands.items():
            out[name] = name
            for a in cmd.aliases:
                out[a] = name
        return out

    def resolve(self, word: str) -> Command:
        """'/ru' -> /runs; an ambiguous prefix or unknown name is a UsageError that says what exists."""
        word = word.lstrip("/").lower()
        names = self._all_names()
        if word in names:
            return self.commands[names[word]]
        if not word:
            raise UsageError("empty command: type /help for the list of commands")
        matches = sorted({names[n] for n in names if n.startswith(word)})
        if len(matches) == 1:
            return self.commands[matches[0]]
        if matches:
            raise UsageError(f"/{word} is ambiguous: it could be " + ", ".join(f"/{m}" for m in matches))
        close = difflib.get_close_matches(word, list(names), n=1, cutoff=0.5)
        hint = f"did you mean /{names[close[0]]}? " if close else ""
        raise UsageError(f"unknown command /{word}; {hint}(/help lists the commands)")

    def split(self, line: str) -> tuple[Command, list[str]]:
        """'/show 3 --json' -> (show command, ['3', '--json'])."""
        try:
            words = shlex.split(line.strip())
        except ValueError as exc:
            raise UsageError(f"cannot read {line.strip()!r}: {exc}") from None
        if not words:
            raise UsageError("empty command: type /help for the list of commands")
        return self.resolve(words[0]), words[1:]
