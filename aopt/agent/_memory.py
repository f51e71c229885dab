"""What the offline model knows, read only from the message history.

The model keeps no state of its own: each call it reads the tool calls and tool
results in the messages, before the last user message (earlier turns, for
references like "it", "the last two") and after it (the steps of this turn).
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ToolCall", "Memory", "split_history", "parse_result", "is_error", "message_text"]


@dataclass
class ToolCall:
    name: str
    args: dict
    id: str
    result: Any = None  # parsed tool result; None when no ToolMessage answered the call


def message_text(message) -> str:
    content = getattr(message, "content", message)
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict) and isinstance(block.get("text"), str):
                parts.append(block["text"])
        return " ".join(parts)
    return "" if content is None else str(content)


def parse_result(message) -> Any:
    """A ToolMessage's content as data: JSON, a Python literal, or {"text": ...}."""
    text = message_text(message).strip()
    status = getattr(message, "status", "success")
    value: Any = None
    if text[:1] in "{[":
        try:
            value = json.loads(text)
        except ValueError:
            try:
                value = ast.literal_eval(text) if len(text) < 200_000 else None
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                value = None
    if value is None:
        value = {"text": text}
    if status == "error" and not (isinstance(value, dict) and "error" in value):
        value = {"error": {"kind": "tool_error", "message": text[:500] or "the tool failed"}}
    return value


def is_error(result: Any) -> bool:
    return result is None or (isinstance(result, dict) and result.get("error") is not None)


def _calls(messages) -> list[ToolCall]:
    calls: list[ToolCall] = []
    by_id: dict[str, ToolCall] = {}
    for m in messages:
        kind = getattr(m, "type", "")
        if kind == "ai":
            for tc in getattr(m, "tool_calls", None) or []:
                args = tc.get("args") if isinstance(tc.get("args"), dict) else {}
                call = ToolCall(str(tc.get("name") or ""), args, str(tc.get("id") or ""))
                calls.append(call)
                if call.id:
                    by_id[call.id] = call
        elif kind == "tool":
            call = by_id.get(str(getattr(m, "tool_call_id", "")))
            if call is None:
                name = getattr(m, "name", None)
                pending = [c for c in calls if c.result is None and (not name or c.name == name)]
                call = pending[0] if pending else None
            if call is not None:
                call.result = parse_result(m)
    return calls


def split_history(messages):
    """(last user text, tool calls of earlier turns, where each earlier turn starts in that list,
    tool calls of this turn, number of tool calls so far)."""
    messages = list(messages or [])
    last_human = None
    for i in range(len(messages) - 1, -1, -1):
        if getattr(messages[i], "type", "") == "human":
            last_human = i
            break
    if last_human is None:
        calls = _calls(messages)
        return "", calls, [0], [], len(calls)
    past: list[ToolCall] = []
    starts: list[int] = []
    segment: list = []
    for m in messages[:last_human] + [messages[last_human]]:
        if getattr(m, "type", "") == "human":
            if segment:
                starts.append(len(past))
                past.extend(_calls(segment))
            segment = []
        else:
            segment.append(m)
    now = _calls(messages[last_human + 1:])
    return message_text(messages[last_human]), past, starts, now, len(past) + len(now)


@dataclass
class Memory:
    """Problems and runs seen in tool results, and which runs each turn created."""

    problems: dict = field(default_factory=dict)  # problem_id -> {"args": ..., **summary}
    runs: dict = field(default_factory=dict)  # run_id -> facts
    created: list = field(default_factory=list)  # run ids in the order they were started
    groups: list = field(default_factory=list)  # run ids started by each turn
    focus: Any = None  # the run talked about last
    last_problem_id: Any = None
    best_run_id: Any = None
    seq: int = 0  # counts absorbed results: tells which came last
    best_seq: int = -1
    group_seq: int = -1

    def new_group(self) -> None:
        self.groups.append([])

    def absorb(self, call: ToolCall) -> None:
        r = call.result
        if not isinstance(r, dict) or r.get("error") is not None:
            return
        name = call.name
        self.seq += 1
        if name == "create_problem" and r.get("problem_id") is not None:
            self.problems[r["problem_id"]] = {"args": dict(call.args), **r}
            self.last_problem_id = r["problem_id"]
        elif name == "start_optimization_run" and r.get("run_id") is not None:
            rid = r["run_id"]
            self.runs.setdefault(rid, {}).update(r)
            if rid not in self.created:
                self.created.append(rid)
                if not self.groups:
                    self.groups.append([])
                self.groups[-1].append(rid)
                if len(self.groups[-1]) >= 2:
                    self.group_seq = self.seq
            self.focus = rid
            if r.get("problem_id") is not None:
                self.last_problem_id = r["problem_id"]
        elif name in ("run_scipy_optimization", "finalize_optimization_run", "get_run") and \
                r.get("run_id") is not None:
            self.runs.setdefault(r["run_id"], {}).update(r)
            self.focus = r["run_id"]
            if name == "get_run" and r.get("problem_id") is not None:
                self.last_problem_id = r["problem_id"]
        elif name == "analyze_run" and isinstance(r.get("run"), dict) and r["run"].get("run_id") is not None:
            self.runs.setdefault(r["run"]["run_id"], {}).update(r["run"])
            self.focus = r["run"]["run_id"]
        elif name in ("list_runs", "compare_runs"):
            for row in r.get("runs") or []:
                if isinstance(row, dict) and row.get("run_id") is not None:
                    self.runs.setdefault(row["run_id"], {}).update(row)
            if name == "compare_runs" and r.get("best_run_id") is not None:
                self.best_run_id = r["best_run_id"]
                self.best_seq = self.seq
                self.focus = r["best_run_id"]

    @classmethod
    def from_calls(cls, calls: list[ToolCall], turn_starts: list[int] = ()) -> "Memory":
        mem = cls()
        starts = set(turn_starts)
        for i, call in enumerate(calls):
            if i in starts:
                mem.new_group()
            mem.absorb(call)
        return mem

    def problem_of(self, run_id) -> Any:
        return (self.runs.get(run_id) or {}).get("problem_id")

    def last_run(self) -> Any:
        return self.focus if self.focus is not None else (self.created[-1] if self.created else None)

    def last_group(self, minimum: int = 2) -> list:
        for group in reversed(self.groups):
            if len(group) >= minimum:
                return list(group)
        return []

    def sense_of(self, problem_id) -> str:
        return (self.problems.get(problem_id) or {}).get("sense") or "minimize"
