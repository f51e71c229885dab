"""The SQLite schema as an ordered list of migrations, and the code that applies them.

Version N of the schema is what you get after applying ``MIGRATIONS[:N]``. A store
records every version applied in ``schema_version``; opening an older store applies
the missing migrations in one ``BEGIN IMMEDIATE`` transaction. Never edit a released
migration: append a new one.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

from aopt.errors import StoreError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "read_version", "migrate"]

# Each migration is a tuple of single SQL statements (not a script: executescript()
# would commit the surrounding transaction).
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: problems, runs, evaluation chunks, notes
    (
        """CREATE TABLE problems (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            created_at TEXT NOT NULL,
            record TEXT NOT NULL)""",
        "CREATE INDEX problems_by_name ON problems(name, id)",
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            problem_id INTEGER,
            problem TEXT,
            algorithm TEXT,
            status TEXT NOT NULL DEFAULT 'running',
            best_f REAL,
            best_x TEXT,
            n_evaluations INTEGER NOT NULL DEFAULT 0,
            n_iterations INTEGER,
            n_gradient_evaluations INTEGER,
            x0 TEXT,
            options TEXT,
            seed INTEGER,
            started_at TEXT,
            finished_at TEXT,
            duration_s REAL,
            message TEXT,
            converged INTEGER,
            convergence TEXT,
            parent_id INTEGER,
            description TEXT,
            pid INTEGER,
            proc_start INTEGER,
            host TEXT)""",
        "CREATE INDEX runs_by_status ON runs(status, id)",
        "CREATE INDEX runs_by_problem ON runs(problem, id)",
        "CREATE INDEX runs_by_problem_id ON runs(problem_id, id)",
        "CREATE INDEX runs_by_problem_status ON runs(problem, status, id)",
        # x is the last column: reading f/cv/t never walks x's overflow pages.
        """CREATE TABLE eval_chunks (
            run_id INTEGER NOT NULL,
            start INTEGER NOT NULL,
            count INTEGER NOT NULL,
            dim INTEGER NOT NULL,
            f BLOB NOT NULL,
            cv BLOB,
            t BLOB,
            x BLOB NOT NULL)""",
        "CREATE UNIQUE INDEX eval_chunks_by_run ON eval_chunks(run_id, start)",
        """CREATE TABLE notes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id INTEGER NOT NULL,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL)""",
        "CREATE INDEX notes_by_run ON notes(run_id, id)",
    ),
    # 2: agent sessions and their event logs (transcripts, tool calls)
    (
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            created_at TEXT NOT NULL,
            record TEXT NOT NULL)""",
        """CREATE TABLE session_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            event TEXT NOT NULL)""",
        "CREATE INDEX session_events_by_session ON session_events(session_id, id)",
    ),
    # 3: what a code objective printed, and the evaluation budget a run was given
    (
        "ALTER TABLE runs ADD COLUMN output TEXT",
        "ALTER TABLE runs ADD COLUMN max_evaluations INTEGER",
    ),
    # 4: user functions registered once by name ("minimize my_cost in 4 dims")
    (
        """CREATE TABLE functions (
            name TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            record TEXT NOT NULL)""",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)


def read_version(con: sqlite3.Connection, path) -> int:
    """The schema version of the open database: 0 when it is empty (a new store).

    Raises StoreError for a SQLite database that holds tables but is not a paola store.
    """
    names = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "schema_version" in names:
        row = con.execute("SELECT MAX(version) FROM schema_version").fetchone()
        return int(row[0] or 0)
    names.discard("sqlite_sequence")
    if names:
        raise StoreError(f"{path} is a SQLite database but not a paola store (it has tables "
                         f"{', '.join(sorted(names)[:5])} and no schema_version); it was left untouched. "
                         f"Choose another store folder with --store or AOPT_STORE")
    return 0


def newer_schema_error(path, found: int, known: int) -> StoreError:
    return StoreError(f"store {path} was written by a newer paola (schema {found}, this version "
                      f"knows {known}); upgrade paola to open it. The store was not modified")


def migrate(con: sqlite3.Connection, path, migrations: tuple[tuple[str, ...], ...] | None = None) -> int:
    """Bring the database to the last version of `migrations`; return the version reached.

    Runs inside BEGIN IMMEDIATE, so two processes opening a new store at once apply each
    migration exactly once. A store newer than `migrations` raises StoreError untouched.
    """
    migrations = MIGRATIONS if migrations is None else migrations
    known = len(migrations)
    con.execute("BEGIN IMMEDIATE")
    try:
        version = read_version(con, path)
        if version > known:
            raise newer_schema_error(path, version, known)
        if version == 0:
            con.execute("CREATE TABLE IF NOT EXISTS schema_version ("
                        "version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
        now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        for number in range(version + 1, known + 1):
            for statement in migrations[number - 1]:
                con.execute(statement)
            con.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (number, now))
        con.execute("COMMIT")
        return max(version, known)
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
