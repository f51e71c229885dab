"""The `paola` command: the interactive shell, slash commands and subcommands for scripts.

Kept light at import time: LangChain and SciPy load in the background or on first use.
"""

from aopt.cli._main import main

__all__ = ["main"]
