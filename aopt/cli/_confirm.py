"""Asking the person before code written by a model runs."""

from __future__ import annotations

import sys
from typing import Callable

from rich.console import Console
from rich.panel import Panel
from rich.syntax import Syntax

__all__ = ["confirm_code"]


def confirm_code(console: Console, *, assume_yes: bool = False, before: Callable[[], None] | None = None,
                 ask: Callable[[str], str] | None = None) -> Callable[[str, str], bool]:
    """A `confirm_code(source, function)` that shows the code and asks y/N.

    With no terminal to ask on (and no `assume_yes`), the answer is no.
    """

    def confirm(source: str, function: str) -> bool:
        if before is not None:
            before()  # end the live line first
        console.print(Panel(Syntax(source, "python", line_numbers=True, word_wrap=True),
                            title=f"the model wants to run {function}(x) in the sandbox",
                            border_style="yellow"))
        if assume_yes:
            console.print("[dim]running it: --yes was given[/]")
            return True
        reader = ask
        if reader is None:
            if not sys.stdin.isatty():
                console.print("[yellow]not run: there is no terminal to confirm on "
                              "(paola ask --allow-code --yes runs it without asking)[/]")
                return False
            reader = input
        try:
            answer = reader("Run this code? [y/N] ")
        except (EOFError, KeyboardInterrupt):
            answer = ""
        ok = answer.strip().lower() in ("y", "yes")
        if not ok:
            console.print("[yellow]not run[/]")
        return ok

    return confirm
