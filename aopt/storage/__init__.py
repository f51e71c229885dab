"""Durable storage of problems, runs, evaluations, notes and agent sessions.

`Store` is the contract (see its docstring); `SQLiteStore` the embedded backend;
`open_store()` opens the store named by `AOPT_STORE` or `./.aopt_runs`.
"""

from ._open import default_store_path, open_store
from ._protocol import Store
from ._sqlite import SQLiteStore

__all__ = ["Store", "SQLiteStore", "open_store", "default_store_path"]
