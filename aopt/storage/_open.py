"""Where the store lives by default, and opening it."""

from __future__ import annotations

import os
from pathlib import Path

from ._sqlite import SQLiteStore

__all__ = ["default_store_path", "open_store"]

DEFAULT_FOLDER = ".aopt_runs"


def default_store_path() -> Path:
    """`AOPT_STORE` when set, else `./.aopt_runs` (relative to the current folder)."""
    return Path(os.environ.get("AOPT_STORE") or DEFAULT_FOLDER).expanduser()


def open_store(path: str | os.PathLike | None = None) -> SQLiteStore:
    """Open (creating if needed) the store at `path`, or at `default_store_path()`."""
    return SQLiteStore(default_store_path() if path is None or str(path) == "" else path)
