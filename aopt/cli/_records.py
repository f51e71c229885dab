"""StoreReader: what the CLI reads from the store (runs, problems, histories), with no model and no SciPy."""

from __future__ import annotations

import os
from pathlib import Path

from aopt.errors import InvalidInput, NotFound

__all__ = ["StoreReader", "parse_run_id", "store_path", "STATUSES"]

STATUSES = ("running", "completed", "failed", "interrupted")


def store_path(path=None) -> Path:
    """The store folder: `path`, else `AOPT_STORE`, else `./.aopt_runs`."""
    return Path(path or os.environ.get("AOPT_STORE") or ".aopt_runs").expanduser()


def parse_run_id(text) -> int:
    """'3', '#3' or 3 -> 3; anything else is an InvalidInput naming what is accepted."""
    if isinstance(text, int) and not isinstance(text, bool) and text > 0:
        return text
    s = str(text).strip().lstrip("#")
    if s.isdigit() and int(s) > 0:
        return int(s)
    raise InvalidInput(f"run id must be a run number such as 3; got {str(text)!r}")


class StoreReader:
    """Read access to one store, opened on first use; a store folder that does not exist reads as empty."""

    def __init__(self, path=None, store=None, command_prefix: str = "/"):
        self.path = store_path(path)
        self._store = store
        # how hints name a command: "/runs" in the shell, "paola runs" on the command line
        self.command_prefix = command_prefix

    def cmd(self, text: str) -> str:
        """A command as the user would type it here: cmd("runs") is "/runs" or "paola runs"."""
        return f"{self.command_prefix}{text}"

    # -- the store -----------------------------------------------------------------------
    @property
    def exists(self) -> bool:
        return self._store is not None or self.path.exists()

    @property
    def store(self):
        if self._store is None:
            from aopt.storage import open_store

            self._store = open_store(str(self.path))
        return self._store

    def close(self) -> None:
        if self._store is not None:
            close = getattr(self._store, "close", None)
            if close:
                close()
            self._store = None

    # -- runs ------------------------------------------------------------------------------
    def runs(self, problem=None, status=None, limit: int | None = 50, offset: int = 0) -> list[dict]:
        """Runs newest first; `limit=None` for all of them."""
        if status is not None and status not in STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(STATUSES)}; got {status!r}")
        if not self.exists:
            return []
        if limit is None:
            limit = max(self.count(problem, status), 1)
        return list(self.store.list_runs(problem=problem, status=status, limit=limit, offset=offset))

    def count(self, problem=None, status=None) -> int:
        if not self.exists:
            return 0
        return int(self.store.count_runs(problem=problem, status=status))

    def run(self, ref) -> dict:
        run_id = parse_run_id(ref)
        if not self.exists:
            raise NotFound(f"no run {run_id}: the store {self.path} has no runs yet")
        try:
            return self.store.get_run(run_id)
        except NotFound:
            total = self.count()
            hint = f"runs are numbered 1 to {self.latest_id()}" if total else "the store has no runs yet"
            raise NotFound(f"no run {run_id} in {self.path}; {hint} (see {self.cmd('runs')})") from None

    def latest_id(self) -> int:
        rows = self.runs(limit=1)
        return int(rows[0]["id"]) if rows else 0

    def children(self, run_id: int) -> list[dict]:
        return sorted((r for r in self.runs(limit=None) if r.get("parent_id") == run_id),
                      key=lambda r: r["id"])

    # -- problems ----------------------------------------------------------------------------
    def problems(self) -> list[dict]:
        if not self.exists:
            return []
        return list(self.store.list_problems())

    def problem_names(self) -> list[str]:
        return sorted({p["name"] for p in self.problems()})

    def problem(self, ref) -> dict:
        """A problem by id or name (the newest with that name)."""
        text = str(ref).strip().lstrip("#")
        if text.isdigit():
            if not self.exists:
                raise NotFound(f"no problem {text}: the store {self.path} is empty")
            try:
                return self.store.get_problem(int(text))
            except NotFound:
                ids = [p["id"] for p in self.problems()]
                hint = f"problems are numbered 1 to {max(ids)}" if ids else "there are no problems yet"
                raise NotFound(f"no problem {text} in {self.path}; {hint} (see {self.cmd('problems')})") from None
        found = self.store.find_problem(text) if self.exists else None
        if found is None:
            names = self.problem_names()
            known = ", ".join(names[:20]) if names else "none yet"
            raise NotFound(f"no problem named {text!r}; known problems: {known}")
        return found

    def namesakes(self, problem: dict) -> list[int]:
        """Ids of the other problems with the same name as `problem`."""
        return [p["id"] for p in self.problems() if p.get("name") == problem.get("name")
                and p.get("id") != problem.get("id")]

    def check_problem_filter(self, ref) -> None:
        """NotFound, naming the known problems, when `ref` (a name or an id) names no problem."""
        if ref is None:
            return
        text = str(ref).strip().lstrip("#")
        if not text.isdigit() and text in self.problem_names():
            return
        self.problem(text)

    def problem_of(self, run: dict) -> dict | None:
        try:
            return self.store.get_problem(run["problem_id"])
        except (NotFound, KeyError, TypeError):
            return None

    # -- evaluations -------------------------------------------------------------------------
    def history(self, run: dict, max_points: int | None = 2000) -> dict:
        """The run's evaluations (`index, x, f, cv, t` arrays), f in the user's sense."""
        data = dict(self.store.load_evaluations(run["id"], max_points=max_points))
        problem = self.problem_of(run) or {}
        if problem.get("sense") == "maximize" and len(data.get("f", ())):
            data["f"] = -data["f"]
        return data

    def sense(self, run: dict) -> str:
        return (self.problem_of(run) or {}).get("sense") or "minimize"
