"""Replay: re-execute a logged session's tool calls on a store, without any model.

Ids a replayed call refers to are mapped to the ones created during the replay: the problem
made by the session's first `create_problem` is the replay's first new problem, and so on.
Calls that failed in the original session (errors, interruptions) changed nothing and are
skipped. The replay is logged as a session of its own (kind "replay").
"""

from __future__ import annotations

import time
from typing import Callable

from aopt.agent._compact import error_of, ids_of, summarize
from aopt.agent._log import SessionLog, load_session_events

__all__ = ["replay_session", "list_agent_sessions", "session_tool_calls"]


def list_agent_sessions(ctx) -> list[dict]:
    """The store's sessions, newest first (id, created_at, model, n_events, ...)."""
    return list(ctx.store.list_sessions())


def session_tool_calls(ctx, session_id: int) -> list[dict]:
    """The tool_call events of a session, in order."""
    return [e for e in load_session_events(ctx.store, session_id) if e.get("type") == "tool_call"]


def _mapped(value, table: dict):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("#").isdigit():
        key = int(value.strip().lstrip("#"))
        return table.get(key, value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return table.get(value, value)
    return value


def _map_args(args: dict, problems: dict, runs: dict) -> dict:
    out = dict(args)
    if "problem_id" in out:
        out["problem_id"] = _mapped(out["problem_id"], problems)
    for key in ("run_id", "parent_run_id"):
        if key in out and out[key] is not None:
            out[key] = _mapped(out[key], runs)
    if isinstance(out.get("run_ids"), list):
        out["run_ids"] = [_mapped(v, runs) for v in out["run_ids"]]
    return out


def replay_session(ctx, session_id: int, on_event: Callable[[dict], None] | None = None) -> list[dict]:
    """Re-run the successful tool calls of session `session_id` on `ctx`; returns one dict per call:
    `{"name", "args" (mapped), "original_args", "result", "summary", "error", "duration_s"}`."""
    from aopt.tools import build_tools

    calls = session_tool_calls(ctx, session_id)
    tools = {t.name: t for t in build_tools(ctx)}
    emit = on_event or (lambda event: None)
    problems: dict[int, int] = {}
    runs: dict[int, int] = {}
    results: list[dict] = []
    log = SessionLog(ctx.store, {"kind": "replay", "replay_of": int(session_id)})
    previous = ctx.progress
    ctx.progress = lambda info: emit({"type": "progress", **info})
    try:
        for call in calls:
            name = call.get("name")
            if call.get("error") or name not in tools:
                continue
            args = _map_args(call.get("args") or {}, problems, runs)
            emit({"type": "tool_start", "name": name, "args": args})
            t0 = time.perf_counter()
            result = tools[name].invoke(args)
            duration = time.perf_counter() - t0
            error = error_of(result)
            summary = ("error: " + error[:200]) if error else summarize(name, result)
            new, old = ids_of(result), call.get("ids") or {}
            if error is None and name == "create_problem" and "problem_id" in old and "problem_id" in new:
                problems[int(old["problem_id"])] = new["problem_id"]
            if error is None and name == "start_optimization_run" and "run_id" in old and "run_id" in new:
                runs[int(old["run_id"])] = new["run_id"]
            log.tool_call(name, args, summary, duration, error, new if error is None else {}, 1)
            emit({"type": "tool_end", "name": name, "summary": summary, "duration_s": round(duration, 6),
                  "error": error})
            results.append({"name": name, "args": args, "original_args": call.get("args") or {}, "result": result,
                            "summary": summary, "error": error, "duration_s": round(duration, 6)})
    finally:
        ctx.progress = previous
        log.write_stats()
    return results
