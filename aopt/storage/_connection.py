"""One SQLite database file shared by threads and processes: checks, connections, transactions.

Each thread gets its own connection (a recorder thread writes while the main thread
reads); a forked child opens fresh ones. Writes run in ``BEGIN IMMEDIATE`` so a
read-then-write never deadlocks; SQLite's busy timeout waits for other writers, and a
retry loop catches the "database is locked" cases the busy handler does not cover.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable, TypeVar

from aopt.errors import StoreError

from ._schema import MIGRATIONS, migrate, newer_schema_error, read_version

__all__ = ["SQLiteDatabase", "DB_NAME"]

DB_NAME = "paola.db"
_HEADER = b"SQLite format 3\x00"
_DAMAGED = ("it holds text that is not valid UTF-8, so the file is damaged; it was left untouched. "
            "Restore it from a backup or choose another store with --store or AOPT_STORE")
_PAGE_SIZE = 16384  # fewer overflow pages for the evaluation blobs
# SQLite checkpoints the WAL inside the commit that makes it this long (in pages): a stall of
# tens of milliseconds on whichever thread commits. A run's recorder checkpoints from its own
# thread long before (see checkpoint()); this is the fallback for writers that never do.
_AUTOCHECKPOINT_PAGES = 4096
_T = TypeVar("_T")

# Database files this process has open through SQLite, by (device, inode), with how many
# SQLiteDatabase objects hold each. POSIX drops every lock a process holds on a file when it
# closes *any* descriptor of it: reading the header of a file SQLite already has open would
# release this process's shared lock, so another process closing its store would take this
# one for gone and delete the WAL under it ("disk I/O error" from then on).
_OPEN_FILES: dict[tuple[int, int], int] = {}
_OPEN_FILES_LOCK = threading.Lock()


def _file_key(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _is_lock_error(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(exc) or "busy" in str(exc)


class SQLiteDatabase:
    """The database file `folder/paola.db`, checked, migrated and ready for transactions."""

    def __init__(self, folder, timeout: float = 30.0):
        self.folder = Path(folder).expanduser()
        self.file = self.folder / DB_NAME
        self.timeout = float(timeout)
        self._local = threading.local()
        self._lock = threading.Lock()
        # (pid, thread, connection) of every connection opened; a thread's connection is
        # closed once the thread has ended (each run's recorder thread opens one).
        self._connections: list[tuple[int, threading.Thread, sqlite3.Connection]] = []
        self._closed = False
        self._key: tuple[int, int] | None = None
        self._check_paths()
        con = self._connection()
        try:
            self._prepare(con)
        except BaseException:
            self.close()
            raise
        key = _file_key(self.file)
        if key is not None:
            with _OPEN_FILES_LOCK:
                _OPEN_FILES[key] = _OPEN_FILES.get(key, 0) + 1
            self._key = key

    # -- opening -------------------------------------------------------------------------

    def _check_paths(self) -> None:
        folder, file = self.folder, self.file
        if folder.exists() and not folder.is_dir():
            raise StoreError(f"store path {folder} is a file; a store is a folder that holds {DB_NAME}. "
                             f"Give its folder, or another path, with --store or AOPT_STORE")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the store folder {folder}: {exc.strerror or exc}") from exc
        if file.exists():
            if not file.is_file():
                raise StoreError(f"store file {file} is not a regular file; it was left untouched")
            with _OPEN_FILES_LOCK:
                already_open = _file_key(file) in _OPEN_FILES
            if already_open:  # checked when first opened; opening it again here would drop SQLite's locks
                return
            try:
                with open(file, "rb") as fh:
                    head = fh.read(len(_HEADER))
            except OSError as exc:
                raise StoreError(f"store file {file} is unreadable ({exc.strerror or exc}); "
                                 f"it was left untouched. Check its permissions") from exc
            if head and head != _HEADER:
                raise StoreError(f"{file} is not a paola store (not a SQLite database); it was left "
                                 f"untouched. Move it away or choose another store with --store or AOPT_STORE")
            if not os.access(file, os.R_OK | os.W_OK):
                raise StoreError(f"store file {file} is not readable and writable by this user; "
                                 f"it was left untouched. Check its permissions")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise StoreError(f"store folder {folder} is not writable; paola writes {DB_NAME} and its "
                             f"-wal and -shm files there. Check its permissions or choose another store")

    def _prepare(self, con: sqlite3.Connection) -> None:
        """Refuse foreign or newer databases untouched; switch to WAL and migrate."""
        known = len(MIGRATIONS)
        version = self.run(lambda c: read_version(c, self.file), write=False)
        if version > known:
            raise newer_schema_error(self.file, version, known)
        if version == known:
            return
        if version == 0:
            self.run(lambda c: c.execute(f"PRAGMA page_size = {_PAGE_SIZE}"), write=False)
        mode = self.run(lambda c: c.execute("PRAGMA journal_mode = WAL").fetchone()[0], write=False)
        if str(mode).lower() != "wal":
            raise StoreError(f"store {self.file} cannot use write-ahead logging (journal mode {mode}); "
                             f"put the store on a local disk")
        self.run(lambda c: migrate(c, self.file), write=False)

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection (a fresh one after fork)."""
        if self._closed:
            raise StoreError(f"store {self.folder} is closed; open it again")
        pid = os.getpid()
        con = getattr(self._local, "con", None)
        if con is not None and self._local.pid == pid:
            return con
        try:
            con = sqlite3.connect(str(self.file), timeout=self.timeout, isolation_level=None,
                                  check_same_thread=False)
            con.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            con.execute("PRAGMA synchronous = NORMAL")
            con.execute("PRAGMA mmap_size = 268435456")
            con.execute("PRAGMA cache_size = -16000")
            con.execute(f"PRAGMA wal_autocheckpoint = {_AUTOCHECKPOINT_PAGES}")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store {self.file}: {exc}") from exc
        except UnicodeDecodeError as exc:  # sqlite3 decoding text of a damaged file
            raise StoreError(f"cannot open the store {self.file}: {_DAMAGED}") from exc
        self._local.con, self._local.pid = con, pid
        with self._lock:
            ended = [c for p, t, c in self._connections if p == pid and not t.is_alive()]
            self._connections = [(p, t, c) for p, t, c in self._connections if p != pid or t.is_alive()]
            self._connections.append((pid, threading.current_thread(), con))
        for old in ended:
            old.close()
        return con

    # -- transactions --------------------------------------------------------------------

    def run(self, fn: Callable[[sqlite3.Connection], _T], write: bool = True, read_snapshot: bool = False) -> _T:
        """Call fn(connection) in a transaction: BEGIN IMMEDIATE when `write`, a deferred read
        transaction when `read_snapshot`, else autocommit. Retries while the store is locked.
        """
        con = self._connection()
        if con.in_transaction:
            # a KeyboardInterrupt delivered to this thread (Ctrl+C reaches tool threads as one)
            # between BEGIN and the bookkeeping left a transaction open: it would hold the write
            # lock against every other connection until the busy timeout
            self._rollback(con)
        deadline = time.monotonic() + self.timeout
        delay = 0.005
        while True:
            began = False
            try:
                if write or read_snapshot:
                    con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                    began = True
                result = fn(con)
                if began:
                    con.execute("COMMIT")
                return result
            except sqlite3.OperationalError as exc:
                self._rollback(con)
                if not _is_lock_error(exc):
                    raise StoreError(f"store {self.file}: {exc}") from exc
                if time.monotonic() >= deadline:
                    raise StoreError(f"store {self.file} stayed locked by another process for "
                                     f"{self.timeout:g} s; try again when it has finished") from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
            except sqlite3.Error as exc:
                self._rollback(con)
                raise StoreError(f"store {self.file}: {exc}") from exc
            except UnicodeDecodeError as exc:
                self._rollback(con)
                raise StoreError(f"store {self.file}: {_DAMAGED}") from exc
            except BaseException:
                self._rollback(con)
                raise

    def checkpoint(self) -> None:
        """Copy the WAL's committed pages into the database file from this thread (PASSIVE: it
        never waits for readers or writers), so that no commit elsewhere has to."""
        try:
            self._connection().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"store {self.file}: {exc}") from exc

    @staticmethod
    def _rollback(con: sqlite3.Connection) -> None:
        # not "if this call began one": an asynchronous KeyboardInterrupt can land right after
        # BEGIN, before that is noted; in autocommit mode an open transaction is always this call's
        if con.in_transaction:
            try:
                con.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    def close(self) -> None:
        """Close this thread's connection and those of ended threads (a live thread's closes when
        it ends); later use raises StoreError."""
        self._closed = True
        key, self._key = self._key, None
        pid, me = os.getpid(), threading.current_thread()
        with self._lock:
            # another live thread may be inside a call on its connection (a run's recorder
            # checkpointing or flushing): closing it under that call crashes the process; it is
            # closed when that thread's local state goes, and `_closed` stops any new call
            mine = [c for p, t, c in self._connections if p == pid and (t is me or not t.is_alive())]
            foreign_open = any(p == pid and t is not me and t.is_alive() for p, t, _ in self._connections)
            self._connections = []
        if key is not None and not foreign_open:
            # (while another thread's connection stays open it keeps SQLite's locks: the file stays
            # registered, so no later opening reads its header with open()/close())
            with _OPEN_FILES_LOCK:
                if _OPEN_FILES.get(key, 0) <= 1:
                    _OPEN_FILES.pop(key, None)
                else:
                    _OPEN_FILES[key] -= 1
        for con in mine:
            try:
                con.close()
            except sqlite3.Error:
                pass
        self._local = threading.local()
