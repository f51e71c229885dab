"""The storage contract every backend implements (SQLite today; PostgreSQL could follow)."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["Store"]


@runtime_checkable
class Store(Protocol):
    """A durable store of problems, runs, evaluations, notes and agent sessions.

    The contract
    ============
    Every backend passes ``tests/storage_conformance.py``. What it promises:

    Records
        Every record returned is a new ``dict`` of plain Python types (``int``,
        ``float``, ``str``, ``bool``, ``None``, ``list``, ``dict``): JSON-ready and
        safe for the caller to modify. Times are UTC ISO-8601 text ending in ``Z``
        (``"2025-01-31T12:00:00.123Z"``). Ids are positive integers assigned by the
        store, increasing in creation order, never reused, unique across every
        process sharing the store.

    Errors
        ``NotFound`` when an id names nothing; ``InvalidInput`` for a malformed
        argument (the message names it and says what is accepted); ``StoreError``
        when the store itself cannot be used: unreadable, not a store, locked past
        the timeout, written by a newer version, closed. A store that raises
        ``StoreError`` on opening was not modified. An error leaves nothing half
        written: every method is one transaction.

    Concurrency
        One store object may be used from several threads at once (a recorder
        thread appends evaluations while the main thread reads). Several processes
        on one machine may open the same store and write at once; writers wait for
        one another up to the timeout instead of failing. A reader sees each write
        whole or not at all.

    Problems
        ``add_problem(record) -> int``
            Store a problem record (a JSON-ready dict with a non-empty text
            ``name``; other keys are kept as given). Returns its id. ``id`` and
            ``created_at`` keys in `record` are ignored. InvalidInput otherwise.
        ``get_problem(problem_id) -> dict``
            The record as stored, plus ``id`` and ``created_at``. NotFound.
        ``find_problem(name) -> dict | None``
            The newest problem with exactly that name, or None.
        ``list_problems() -> list[dict]``
            Every problem, oldest first.

    Runs
        Fields of a run record (``get_run``, ``list_runs``): ``id, problem_id,
        problem`` (the problem's name), ``algorithm, status`` (``running``,
        ``completed``, ``failed``, ``interrupted``), ``best_f, best_x`` (list),
        ``n_evaluations, n_iterations, n_gradient_evaluations, x0`` (list),
        ``options`` (dict), ``seed, started_at, finished_at, duration_s, message,
        converged`` (bool or None), ``convergence`` (dict), ``parent_id,
        description, pid, proc_start, host``, and ``notes`` (every note, joined by
        a blank line, "" when none) with ``note_list`` (the notes, oldest first).

        ``create_run(record) -> int``
            A new run from `record` (any of the fields above except ``id``;
            ``notes`` text becomes the first note). Defaults: ``status`` running,
            ``started_at`` now, ``n_evaluations`` 0, and the owner (``pid``,
            ``proc_start``, ``host``) is the calling process. ``problem`` is filled
            from ``problem_id``. InvalidInput for an unknown field or a bad value;
            NotFound when ``problem_id`` or ``parent_id`` names nothing.
        ``update_run(run_id, **fields) -> None``
            Set fields (same names; JSON fields are given as Python values). An
            unknown field raises InvalidInput listing the valid ones; nothing is
            written then. Setting ``pid`` records that process as the owner.
            NotFound for an unknown run.
        ``get_run(run_id) -> dict``
            The run record. NotFound.
        ``list_runs(problem=None, status=None, limit=50, offset=0) -> list[dict]``
            Newest first (by id). `problem` is a problem name or id; `status` one
            of the four statuses (InvalidInput otherwise, listing them). `limit`
            None means all.
        ``count_runs(problem=None, status=None) -> int``
            How many runs ``list_runs`` would give without a limit.
        ``add_note(run_id, text) -> None``
            Append a note to a run. NotFound.
        ``mark_interrupted_orphans() -> list[int]``
            Store ``interrupted`` on every orphaned run (below); returns their ids.

        Orphans: a run stored as ``running`` whose owning process is gone (on this
        host: the pid has ended, or now belongs to a process started at another
        time) is returned, listed, filtered and counted as ``interrupted``, with
        ``message`` "process PID ended without finishing the run" when it had none.
        Runs owned by another host are taken at their word.

    Evaluations
        ``append_evaluations(run_id, start, X, f, cv, t, summary=None) -> None``
            Append evaluations ``start .. start+n-1``: X float64 (n, d); f, cv, t
            float64 (n,). cv may be None (all zero), t None (unknown, read back as
            NaN). Chunks must be appended in order: `start` must equal the number
            of evaluations already stored (InvalidInput otherwise), and every chunk
            of a run has the same d. In the same transaction the run fields in
            `summary` are applied (``n_evaluations`` defaults to ``start + n``), so
            a run's ``n_evaluations`` never disagrees with its stored evaluations,
            even after SIGKILL. NotFound for an unknown run.
        ``load_evaluations(run_id, max_points=None) -> dict``
            ``{"index", "x", "f", "cv", "t"}`` as numpy arrays (index int64, x
            (n, d), the rest (n,)), bit-for-bit what was appended. With
            `max_points` (at least 3), at most that many evaluations: always the
            first, the last and the best-so-far improvements (of f among feasible
            points, cv <= 1e-6; of cv when none is feasible) when they fit, then an
            even spread of the rest; index says which evaluations they are.
        ``evaluation_bytes(run_id) -> int``
            Bytes the run's evaluations occupy in the store (payload).
        ``checkpoint() -> None`` (optional; not part of the protocol's type)
            Housekeeping that would otherwise stall a later ``append_evaluations``
            (SQLite: folding the write-ahead log into the database), done now on the
            calling thread. A run's recorder calls it from its background thread when
            the backend has it.

    Agent sessions (transcripts and tool-call logs; the store does not interpret them)
        ``add_session(record) -> int``; ``append_session_events(session_id, events)``
        appends JSON-ready dicts in order; ``get_session(session_id) -> dict`` is the
        record plus ``id``, ``created_at`` and ``events`` (list, in order);
        ``list_sessions() -> list[dict]`` newest first, each with ``n_events`` and
        no events. NotFound for an unknown session.

    Registered functions (user code named once, used by name later)
        ``register_function(record)``: `record` has a non-empty text ``name``; a
        second registration of the same name replaces the first.
        ``get_function(name) -> dict | None`` (the record plus ``created_at``);
        ``list_functions() -> list[dict]`` by name.

    Lifetime
        ``close()`` releases the store; using it afterwards raises StoreError.
    """

    def add_problem(self, record: dict) -> int: ...

    def get_problem(self, problem_id: int) -> dict: ...

    def find_problem(self, name: str) -> dict | None: ...

    def list_problems(self) -> list[dict]: ...

    def create_run(self, record: dict) -> int: ...

    def update_run(self, run_id: int, **fields: Any) -> None: ...

    def get_run(self, run_id: int) -> dict: ...

    def list_runs(self, problem: str | int | None = None, status: str | None = None,
                  limit: int | None = 50, offset: int = 0) -> list[dict]: ...

    def count_runs(self, problem: str | int | None = None, status: str | None = None) -> int: ...

    def add_note(self, run_id: int, text: str) -> None: ...

    def mark_interrupted_orphans(self) -> list[int]: ...

    def append_evaluations(self, run_id: int, start: int, X: Any, f: Any, cv: Any, t: Any,
                           summary: dict | None = None) -> None: ...

    def load_evaluations(self, run_id: int, max_points: int | None = None) -> dict: ...

    def evaluation_bytes(self, run_id: int) -> int: ...

    def add_session(self, record: dict) -> int: ...

    def append_session_events(self, session_id: int, events: list[dict]) -> None: ...

    def get_session(self, session_id: int) -> dict: ...

    def list_sessions(self) -> list[dict]: ...

    def register_function(self, record: dict) -> None: ...

    def get_function(self, name: str) -> dict | None: ...

    def list_functions(self) -> list[dict]: ...

    def close(self) -> None: ...
