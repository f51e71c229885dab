"""SQLiteStore: the embedded default store, one SQLite file in WAL mode under a folder."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from aopt.errors import InvalidInput, NotFound

from ._connection import SQLiteDatabase
from ._fields import (RUN_COLUMNS, check_status, decode_run_row,
                      encode_run_fields, from_json, now_iso, to_json)
from ._owners import host_name, orphan_message, owner_gone, process_start

__all__ = ["SQLiteStore"]

_SELECT_RUN = f"SELECT {', '.join(RUN_COLUMNS)} FROM runs"


def _whole(value, what: str) -> int:
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if not -2**63 <= value < 2**63:  # SQLite's integers are 64-bit
            shown = str(value) if len(str(value)) <= 24 else f"a number of {len(str(abs(value)))} digits"
            raise InvalidInput(f"{what} must be a whole number below 2**63; got {shown}")
        return value
    raise InvalidInput(f"{what} must be a whole number; got {value!r}")


def _json_dict(value, what: str) -> str:
    """`value` (a dict) as JSON text; InvalidInput when it is not a JSON-ready dict."""
    if not isinstance(value, dict):
        raise InvalidInput(f"{what} must be a dict; got {type(value).__name__}")
    try:
        return to_json(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{what} must be JSON-ready (lists, dicts, numbers, text): {exc}") from exc


def _record(value, what: str) -> dict:
    """A record to store, checked, without the keys the store assigns (id, created_at)."""
    _json_dict(value, what)
    return {k: v for k, v in value.items() if k not in ("id", "created_at")}


class SQLiteStore:
    """The run store in `path/paola.db` (the folder is created if missing).

    Follows the `aopt.storage.Store` contract; safe to share between threads and
    between processes on one machine. `timeout` is how long a write waits for others.
    """

    def __init__(self, path, timeout: float = 30.0):
        self._db = SQLiteDatabase(path, timeout=timeout)
        self._host = host_name()

    @property
    def path(self) -> Path:
        """The store folder."""
        return self._db.folder

    @property
    def db_path(self) -> Path:
        """The SQLite database file inside the folder."""
        return self._db.file

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self._db.folder)!r})"

    def close(self) -> None:
        self._db.close()

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database file now, from the calling thread.

        Optional for a store: a run's recorder calls it, when present, from its background
        thread, so that the evaluating thread never pays for it inside a flush.
        """
        self._db.checkpoint()

    def __enter__(self) -> "SQLiteStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- problems ------------------------------------------------------------------------

    def add_problem(self, record: dict) -> int:
        body = _record(record, "problem record")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(f"problem record needs a non-empty text 'name'; got {name!r}")
        text = to_json(body)
        return self._db.run(lambda c: c.execute(
            "INSERT INTO problems (name, created_at, record) VALUES (?, ?, ?)",
            (name, now_iso(), text)).lastrowid)

    @staticmethod
    def _stored(row) -> dict:
        """(id, created_at, record JSON) -> the record with id and created_at."""
        pid, created, text = row
        out = json.loads(text)
        out["id"], out["created_at"] = pid, created
        return out

    def get_problem(self, problem_id: int) -> dict:
        pid = _whole(problem_id, "problem id")
        row = self._db.run(lambda c: c.execute(
            "SELECT id, created_at, record FROM problems WHERE id = ?", (pid,)).fetchone(), write=False)
        if row is None:
            raise NotFound(f"no problem with id {pid}; list_problems() shows the stored ones")
        return self._stored(row)

    def find_problem(self, name: str) -> dict | None:
        row = self._db.run(lambda c: c.execute(
            "SELECT id, created_at, record FROM problems WHERE name = ? ORDER BY id DESC LIMIT 1",
            (str(name),)).fetchone(), write=False)
        return None if row is None else self._stored(row)

    def list_problems(self) -> list[dict]:
        rows = self._db.run(lambda c: c.execute(
            "SELECT id, created_at, record FROM problems ORDER BY id").fetchall(), write=False)
        return [self._stored(r) for r in rows]

    # -- registered functions ------------------------------------------------------------

    def register_function(self, record: dict) -> None:
        body = _record(record, "function record")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(f"function record needs a non-empty text 'name'; got {name!r}")
        text = to_json(body)
        self._db.run(lambda c: c.execute(
            "INSERT OR REPLACE INTO functions (name, created_at, record) VALUES (?, ?, ?)",
            (name.strip(), now_iso(), text)))

    def get_function(self, name: str) -> dict | None:
        row = self._db.run(lambda c: c.execute(
            "SELECT created_at, record FROM functions WHERE name = ?", (str(name).strip(),)).fetchone(),
            write=False)
        if row is None:
            return None
        out = json.loads(row[1])
        out["created_at"] = row[0]
        return out

    def list_functions(self) -> list[dict]:
        rows = self._db.run(lambda c: c.execute(
            "SELECT created_at, record FROM functions ORDER BY name").fetchall(), write=False)
        return [dict(json.loads(r[1]), created_at=r[0]) for r in rows]

    # -- runs ----------------------------------------------------------------------------

    def _owner_fields(self, fields: dict) -> dict:
        """Fill proc_start and host for a pid given without them (known only for local pids)."""
        if fields.get("pid") is not None:
            pid = _whole(fields["pid"], "run field pid")
            fields.setdefault("proc_start", process_start(pid))
            fields.setdefault("host", self._host)
        return fields

    def create_run(self, record: dict) -> int:
        record = _record(record, "run record")
        note = record.pop("notes", None)
        if note is not None and not isinstance(note, str):
            raise InvalidInput(f"run notes must be text; got {type(note).__name__}")
        fields = {"status": "running", "started_at": now_iso(), **record}
        if "pid" not in record:
            fields["pid"] = os.getpid()
        columns = encode_run_fields(self._owner_fields(fields))

        def write(c: sqlite3.Connection) -> int:
            if columns.get("problem_id") is not None:
                row = c.execute("SELECT name FROM problems WHERE id = ?", (columns["problem_id"],)).fetchone()
                if row is None:
                    raise NotFound(f"no problem with id {columns['problem_id']} for the new run")
                columns.setdefault("problem", row[0])
            if columns.get("parent_id") is not None and c.execute(
                    "SELECT 1 FROM runs WHERE id = ?", (columns["parent_id"],)).fetchone() is None:
                raise NotFound(f"no run with id {columns['parent_id']} to use as the parent run")
            names = list(columns)
            run_id = c.execute(f"INSERT INTO runs ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                               [columns[n] for n in names]).lastrowid
            if note:
                c.execute("INSERT INTO notes (run_id, text, created_at) VALUES (?, ?, ?)", (run_id, note, now_iso()))
            return run_id

        return self._db.run(write)

    @staticmethod
    def _update(c: sqlite3.Connection, run_id: int, columns: dict) -> None:
        if not columns:
            if c.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
                raise NotFound(f"no run with id {run_id}")
            return
        names = list(columns)
        cur = c.execute(f"UPDATE runs SET {', '.join(n + ' = ?' for n in names)} WHERE id = ?",
                        [columns[n] for n in names] + [run_id])
        if cur.rowcount == 0:
            raise NotFound(f"no run with id {run_id}")

    def update_run(self, run_id: int, **fields) -> None:
        rid = _whole(run_id, "run id")
        columns = encode_run_fields(self._owner_fields(fields))
        self._db.run(lambda c: self._update(c, rid, columns))

    def add_note(self, run_id: int, text: str) -> None:
        rid = _whole(run_id, "run id")
        if not isinstance(text, str):
            raise InvalidInput(f"a note must be text; got {type(text).__name__}")

        def write(c):
            if c.execute("SELECT 1 FROM runs WHERE id = ?", (rid,)).fetchone() is None:
                raise NotFound(f"no run with id {rid} to add a note to")
            c.execute("INSERT INTO notes (run_id, text, created_at) VALUES (?, ?, ?)", (rid, text, now_iso()))

        self._db.run(write)

    def _derive(self, c: sqlite3.Connection, runs: list[dict]) -> list[dict]:
        """Attach notes and turn running rows whose owner is gone into 'interrupted'."""
        if not runs:
            return runs
        ids = [r["id"] for r in runs]
        notes: dict[int, list[str]] = {i: [] for i in ids}
        for run_id, text in c.execute(
                "SELECT run_id, text FROM notes WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY id",
                (json.dumps(ids),)):
            notes[run_id].append(text)
        verdicts: dict[tuple, bool] = {}
        for r in runs:
            r["note_list"] = notes[r["id"]]
            r["notes"] = "\n\n".join(r["note_list"])
            owner = (r["pid"], r["proc_start"], r["host"])
            if r["status"] == "running":
                if owner not in verdicts:
                    verdicts[owner] = owner_gone(*owner, self._host)
                if verdicts[owner]:
                    r["status"] = "interrupted"
                    r["message"] = r["message"] or orphan_message(r["pid"])
        return runs

    def _orphans(self, c: sqlite3.Connection) -> list[int]:
        """Ids of rows stored as running whose owning process is gone."""
        verdicts: dict[tuple, bool] = {}
        out = []
        for run_id, pid, start, host in c.execute(
                "SELECT id, pid, proc_start, host FROM runs WHERE status = 'running'"):
            owner = (pid, start, host)
            if owner not in verdicts:
                verdicts[owner] = owner_gone(pid, start, host, self._host)
            if verdicts[owner]:
                out.append(run_id)
        return out

    def get_run(self, run_id: int) -> dict:
        rid = _whole(run_id, "run id")

        def read(c):
            row = c.execute(_SELECT_RUN + " WHERE id = ?", (rid,)).fetchone()
            return None if row is None else self._derive(c, [decode_run_row(row)])[0]

        run = self._db.run(read, write=False)
        if run is None:
            raise NotFound(f"no run with id {rid}; list_runs() shows the stored ones")
        return run

    def _where(self, c: sqlite3.Connection, problem, status) -> tuple[str, list]:
        clauses, args = [], []
        if isinstance(problem, str):
            name = problem.strip()
            if name.isdigit() and c.execute("SELECT 1 FROM problems WHERE name = ?", (name,)).fetchone() is None:
                problem = int(name)  # "3" names problem 3 unless a problem is called "3"
            else:
                clauses.append("problem = ?")
                args.append(name)
        if problem is not None and not isinstance(problem, str):
            clauses.append("problem_id = ?")
            args.append(_whole(problem, "problem (a name or an id)"))
        if status == "interrupted":
            clauses.append("(status = 'interrupted' OR id IN (SELECT value FROM json_each(?)))")
            args.append(json.dumps(self._orphans(c)))
        elif status == "running":
            clauses.append("status = 'running' AND id NOT IN (SELECT value FROM json_each(?))")
            args.append(json.dumps(self._orphans(c)))
        elif status is not None:
            clauses.append("status = ?")
            args.append(status)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args

    @staticmethod
    def _status(status):
        return None if status is None else check_status(status, "status filter")

    def list_runs(self, problem=None, status=None, limit: int | None = 50, offset: int = 0) -> list[dict]:
        status = self._status(status)
        if limit is not None:
            limit = _whole(limit, "limit")
            if limit < 0:
                raise InvalidInput(f"limit must be 0 or more; got {limit}")
        offset = _whole(offset, "offset")
        if offset < 0:
            raise InvalidInput(f"offset must be 0 or more; got {offset}")

        def read(c):
            where, args = self._where(c, problem, status)
            rows = c.execute(f"{_SELECT_RUN}{where} ORDER BY id DESC LIMIT ? OFFSET ?",
                             args + [-1 if limit is None else limit, offset]).fetchall()
            return self._derive(c, [decode_run_row(r) for r in rows])

        return self._db.run(read, write=False, read_snapshot=True)

    def count_runs(self, problem=None, status=None) -> int:
        status = self._status(status)

        def read(c):
            where, args = self._where(c, problem, status)
            return c.execute(f"SELECT COUNT(*) FROM runs{where}", args).fetchone()[0]

        return int(self._db.run(read, write=False, read_snapshot=True))

    def mark_interrupted_orphans(self) -> list[int]:
        def write(c):
            ids = self._orphans(c)
            for run_id, pid in c.execute("SELECT id, pid FROM runs WHERE id IN (SELECT value FROM json_each(?))",
                                         (json.dumps(ids),)).fetchall():
                c.execute("UPDATE runs SET status = 'interrupted', "
                          "message = COALESCE(NULLIF(message, ''), ?) WHERE id = ?", (orphan_message(pid), run_id))
            return ids

        return self._db.run(write)

    # -- evaluations ---------------------------------------------------------------------

    def append_evaluations(self, run_id: int, start: int, X, f, cv, t, summary: dict | None = None) -> None:
        from ._evaluations import encode_chunk

        rid, start = _whole(run_id, "run id"), _whole(start, "start")
        n, d, fb, cvb, tb, xb = encode_chunk(X, f, cv, t)
        fields = dict(summary or {})
        fields.setdefault("n_evaluations", start + n)
        columns = encode_run_fields(fields)

        def write(c):
            end, dim = c.execute("SELECT COALESCE(MAX(start + count), 0), MAX(dim) FROM eval_chunks "
                                 "WHERE run_id = ?", (rid,)).fetchone()
            if start != end:
                if c.execute("SELECT 1 FROM runs WHERE id = ?", (rid,)).fetchone() is None:
                    raise NotFound(f"no run with id {rid} to record evaluations for")
                raise InvalidInput(f"evaluations of run {rid} must be appended in order: the next "
                                   f"start is {end}; got start={start}")
            if n and dim is not None and d != dim:
                raise InvalidInput(f"run {rid} stores {dim}-dimensional points; got X with {d} columns")
            self._update(c, rid, columns)
            if n:
                c.execute("INSERT INTO eval_chunks (run_id, start, count, dim, f, cv, t, x) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (rid, start, n, d, fb, cvb, tb, xb))

        self._db.run(write)

    def load_evaluations(self, run_id: int, max_points: int | None = None) -> dict:
        from ._evaluations import read_evaluations

        rid = _whole(run_id, "run id")
        if max_points is not None:
            max_points = _whole(max_points, "max_points")
            if max_points < 3:
                raise InvalidInput(f"max_points must be at least 3 (first, best and last) or None; got {max_points}")

        def read(c):
            if c.execute("SELECT 1 FROM runs WHERE id = ?", (rid,)).fetchone() is None:
                raise NotFound(f"no run with id {rid}")
            return read_evaluations(c, rid, max_points)

        return self._db.run(read, write=False, read_snapshot=True)

    def evaluation_bytes(self, run_id: int) -> int:
        rid = _whole(run_id, "run id")

        def read(c):
            if c.execute("SELECT 1 FROM runs WHERE id = ?", (rid,)).fetchone() is None:
                raise NotFound(f"no run with id {rid}")
            return c.execute("SELECT COALESCE(SUM(length(f) + COALESCE(length(cv), 0) + COALESCE(length(t), 0)"
                             " + length(x)), 0) FROM eval_chunks WHERE run_id = ?", (rid,)).fetchone()[0]

        return int(self._db.run(read, write=False, read_snapshot=True))

    # -- agent sessions ------------------------------------------------------------------

    def add_session(self, record: dict) -> int:
        text = _json_dict(_record(record, "session record"), "session record")
        return self._db.run(lambda c: c.execute(
            "INSERT INTO sessions (created_at, record) VALUES (?, ?)", (now_iso(), text)).lastrowid)

    def append_session_events(self, session_id: int, events: list[dict]) -> None:
        sid = _whole(session_id, "session id")
        if not isinstance(events, (list, tuple)):
            raise InvalidInput(f"events must be a list of dicts; got {type(events).__name__}")
        now = now_iso()
        rows = [(sid, now, _json_dict(e, "a session event")) for e in events]

        def write(c):
            if c.execute("SELECT 1 FROM sessions WHERE id = ?", (sid,)).fetchone() is None:
                raise NotFound(f"no session with id {sid}")
            c.executemany("INSERT INTO session_events (session_id, created_at, event) VALUES (?, ?, ?)", rows)

        self._db.run(write)

    def get_session(self, session_id: int) -> dict:
        sid = _whole(session_id, "session id")

        def read(c):
            row = c.execute("SELECT id, created_at, record FROM sessions WHERE id = ?", (sid,)).fetchone()
            if row is None:
                raise NotFound(f"no session with id {sid}")
            out = self._stored(row)
            out["events"] = [from_json(e) for (e,) in c.execute(
                "SELECT event FROM session_events WHERE session_id = ? ORDER BY id", (sid,))]
            return out

        return self._db.run(read, write=False, read_snapshot=True)

    def list_sessions(self) -> list[dict]:
        def read(c):
            rows = c.execute("SELECT s.id, s.created_at, s.record, COUNT(e.id) FROM sessions s "
                             "LEFT JOIN session_events e ON e.session_id = s.id "
                             "GROUP BY s.id ORDER BY s.id DESC").fetchall()
            return [self._stored(row[:3]) | {"n_events": row[3]} for row in rows]

        return self._db.run(read, write=False)
