"""SessionLog: the durable record of an agent session (transcript, tool calls, per-tool timings).

Each event is a JSON-ready dict with a `type`:
  message    one conversation message (role, content, tool_calls, tool_call_id, name)
  tool_call  name, args, summary, duration_s, error, ids (problem_id/run_id it produced)
  stats      per-tool counts and timings so far: {name: {calls, errors, total_s, max_s}}
  model      the model in use (on start and on every switch)
Events go to the store's session API (`add_session`, `append_session_events`); a store
without it gets JSON lines files under `<store>/sessions/` instead.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["SessionLog", "load_session_events", "message_event"]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _store_folder(store) -> Path:
    for attr in ("path", "root", "folder"):
        value = getattr(store, attr, None)
        if value:
            p = Path(value)
            return p if p.is_dir() or not p.suffix else p.parent
    return Path(os.environ.get("AOPT_STORE") or ".aopt_runs")


def _has_session_api(store) -> bool:
    return callable(getattr(store, "add_session", None)) and callable(getattr(store, "append_session_events", None))


def message_event(message) -> dict:
    """A conversation message as a transcript event."""
    event = {"type": "message", "role": getattr(message, "type", "unknown"), "content": message.content}
    if getattr(message, "tool_calls", None):
        event["tool_calls"] = [{"id": c.get("id"), "name": c["name"], "args": c.get("args", {})}
                               for c in message.tool_calls]
    if getattr(message, "invalid_tool_calls", None):
        event["invalid_tool_calls"] = [dict(c) for c in message.invalid_tool_calls]
    if getattr(message, "tool_call_id", None):
        event["tool_call_id"] = message.tool_call_id
        event["name"] = getattr(message, "name", None)
        event["status"] = getattr(message, "status", "success")
    return event


class SessionLog:
    """Appends a session's events to the store (or to `<store>/sessions/N.jsonl`)."""

    def __init__(self, store, record: dict):
        self.store = store
        self.stats: dict[str, dict] = {}
        record = {"created_at": _now(), "pid": os.getpid(), **record}
        if _has_session_api(store):
            self.session_id = int(store.add_session(record))
            self.path = None
        else:
            folder = _store_folder(store) / "sessions"
            folder.mkdir(parents=True, exist_ok=True)
            n = 1 + max((int(p.stem) for p in folder.glob("*.jsonl") if p.stem.isdigit()), default=0)
            self.session_id = n
            self.path = folder / f"{n}.jsonl"
            self._write([{"type": "session", **record}])

    def append(self, *events: dict) -> None:
        """Write events now; a failing log never breaks the conversation."""
        stamped = [{"t": _now(), **e} for e in events]
        try:
            self._write(stamped)
        except Exception:  # noqa: BLE001 - the log is a record, not a dependency
            pass

    def _write(self, events: list[dict]) -> None:
        events = json.loads(json.dumps(events, default=str))  # JSON-ready whatever came in
        if self.path is None:
            self.store.append_session_events(self.session_id, events)
        else:
            with open(self.path, "a", encoding="utf-8") as fh:
                for e in events:
                    fh.write(json.dumps(e, ensure_ascii=False) + "\n")

    def tool_call(self, name: str, args: dict, summary: str, duration_s: float, error: str | None,
                  ids: dict, request: int) -> None:
        s = self.stats.setdefault(name, {"calls": 0, "errors": 0, "total_s": 0.0, "max_s": 0.0})
        s["calls"] += 1
        s["errors"] += error is not None
        s["total_s"] = round(s["total_s"] + duration_s, 6)
        s["max_s"] = round(max(s["max_s"], duration_s), 6)
        self.append({"type": "tool_call", "request": request, "name": name, "args": args, "summary": summary,
                     "duration_s": round(duration_s, 6), "error": error, "ids": ids})

    def write_stats(self) -> None:
        self.append({"type": "stats", "tools": self.stats})


def load_session_events(store, session_id: int) -> list[dict]:
    """Every event of a session, in order (store session API first, else the JSON lines file)."""
    from aopt.errors import NotFound

    if callable(getattr(store, "get_session", None)):
        try:
            found = store.get_session(int(session_id))
        except NotFound:
            found = None
        if found is not None:
            events = found.get("events") if isinstance(found, dict) else None
            if events is None and callable(getattr(store, "session_events", None)):
                events = store.session_events(int(session_id))
            if events is not None:
                return [e.get("event", e) if isinstance(e, dict) and "event" in e and isinstance(e["event"], dict)
                        else e for e in events]
    path = _store_folder(store) / "sessions" / f"{int(session_id)}.jsonl"
    if path.exists():
        with open(path, encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
    raise NotFound(f"no session {session_id} in this store; `paola sessions` or the store's session list "
                   "shows the sessions there are")
