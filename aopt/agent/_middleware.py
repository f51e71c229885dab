"""PaolaMiddleware: what the agent loop adds around every model and tool call.

- every tool call is timed, reported to `on_event`, logged, and its result compacted for the model;
- an unexpected exception in a tool becomes an error ToolMessage the model can read (invalid
  arguments already are, by LangChain's ToolNode), and so does a tool call whose arguments are not
  valid JSON (an `invalid_tool_call`), instead of silently ending the loop;
- the model gets at most `max_steps` calls per request; the next one produces the final answer
  (the model without tools, or a summary of the runs made when it cannot give one).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from langchain.agents.middleware import AgentMiddleware, hook_config
from langchain_core.messages import AIMessage, SystemMessage, ToolMessage

from aopt.agent._compact import compact_json, error_of, ids_of, parse_content, summarize

__all__ = ["PaolaMiddleware", "Turn", "error_content"]

RUN_TOOLS = ("start_optimization_run", "run_scipy_optimization")
INTERRUPTED = "interrupted by the user"

_FINAL_NOTE = ("\n\nThe step limit for this request is reached: do not call any tool. Answer now: what was "
               "done, the runs and their results (each result's claim), and what the user could ask next.")


def error_content(kind: str, message: str) -> str:
    return json.dumps({"error": {"kind": kind, "message": message}})


@dataclass
class Turn:
    """What happened during one request: model calls, tool calls, runs, completed tool messages."""

    request: int
    model_calls: int = 0
    capped: bool = False
    tool_calls: list[dict] = field(default_factory=list)
    run_ids: list[int] = field(default_factory=list)
    completed: dict[str, ToolMessage] = field(default_factory=dict)
    threads: set[int] = field(default_factory=set)

    def add_run(self, run_id) -> None:
        if isinstance(run_id, int) and not isinstance(run_id, bool) and run_id not in self.run_ids:
            self.run_ids.append(run_id)


class PaolaMiddleware(AgentMiddleware):
    """Tool events, error messages, compact results and the step cap for one AgentSession."""

    def __init__(self, *, max_steps: int, emit: Callable[[dict], None], log, final_answer: Callable[[Turn], str],
                 ask_model_for_final: bool = True):
        super().__init__()
        self.max_steps = max_steps
        self.emit = emit
        self.log = log
        self.final_answer = final_answer
        self.ask_model_for_final = ask_model_for_final
        self.turn = Turn(0)

    @property
    def name(self) -> str:
        return "paola"

    # -- the model --------------------------------------------------------------------------
    def wrap_model_call(self, request, handler):
        turn = self.turn
        turn.model_calls += 1
        if turn.model_calls <= self.max_steps:
            return handler(request)
        turn.capped = True
        text = None
        if self.ask_model_for_final:
            text = self._model_final(request, handler)
        if not text:
            text = self.final_answer(turn)
        return AIMessage(content=text)

    def _model_final(self, request, handler) -> str | None:
        """One more call, with no tools, asking for the answer; None when the model cannot give one."""
        base = request.system_message.text if request.system_message else ""
        try:
            response = handler(request.override(tools=[], tool_choice=None,
                                                system_message=SystemMessage(content=base + _FINAL_NOTE)))
        except KeyboardInterrupt:
            raise
        except Exception:  # noqa: BLE001 - fall back to the summary of what was done
            return None
        messages = getattr(response, "result", None) or [response]
        last = messages[-1] if messages else None
        if not isinstance(last, AIMessage) or last.tool_calls or not last.text.strip():
            return None
        return last.text.strip()

    @hook_config(can_jump_to=["model"])
    def after_model(self, state, runtime) -> dict[str, Any] | None:
        """Answer tool calls with malformed arguments, so the model sees why and can retry."""
        messages = state["messages"]
        last = messages[-1] if messages else None
        if not isinstance(last, AIMessage) or not last.invalid_tool_calls:
            return None
        answered: set = set()  # `last` is the newest message: none of its calls is answered yet
        replies = []
        for call in last.invalid_tool_calls:
            call_id = call.get("id")
            if not call_id or call_id in answered:
                continue
            name = call.get("name") or "unknown"
            raw = call.get("args")
            reason = " ".join(str(call.get("error") or "parse error").split("Received ")[-1].split())[:200]
            error = (f"the arguments of {name} are not a valid JSON object ({reason}); got {str(raw)[:300]!r}. "
                     f"Call {name} again with a JSON object of its arguments")
            replies.append(ToolMessage(content=error_content("invalid_arguments", error), tool_call_id=call_id,
                                       name=name, status="error"))
            self._record(name, {"raw_arguments": str(raw)[:2000]}, None, 0.0, error, {})
        if not replies:
            return None
        update: dict[str, Any] = {"messages": replies}
        if not last.tool_calls:
            update["jump_to"] = "model"  # otherwise the loop would end with no answer
        return update

    # -- the tools --------------------------------------------------------------------------
    def wrap_tool_call(self, request, handler):
        call = request.tool_call
        name, args, call_id = call["name"], dict(call.get("args") or {}), call.get("id")
        turn = self.turn
        self._emit({"type": "tool_start", "name": name, "args": args})
        me = threading.get_ident()
        turn.threads.add(me)
        t0 = time.perf_counter()
        try:
            message = handler(request)
        except KeyboardInterrupt:
            if name == "run_scipy_optimization":
                turn.add_run(_int(args.get("run_id")))
            self._record(name, args, None, time.perf_counter() - t0, INTERRUPTED, {})
            raise
        except Exception as exc:  # noqa: BLE001 - a bug must reach the model as a message, not end the step
            message = ToolMessage(
                content=error_content("internal_error", f"{name} failed unexpectedly: {type(exc).__name__}: "
                                      f"{str(exc)[:500]}. This is not about your arguments' format; try "
                                      "different values or another approach"),
                tool_call_id=call_id, name=name, status="error")
        finally:
            turn.threads.discard(me)
        duration = time.perf_counter() - t0
        if not isinstance(message, ToolMessage):
            self._record(name, args, None, duration, None, {})
            return message
        result = parse_content(message.content)
        error = error_of(result)
        if error is None and message.status == "error":
            error = str(message.content)[:1000]
        if isinstance(result, (dict, list)):
            message.content = compact_json(result)
        ids = ids_of(result) if error is None else {}
        if error is None and name in RUN_TOOLS:
            turn.add_run(ids.get("run_id"))
        self._record(name, args, result, duration, error, ids)
        if call_id:
            turn.completed[call_id] = message
        return message

    def _record(self, name, args, result, duration, error, ids) -> None:
        summary = ("error: " + error[:200]) if error else summarize(name, result)
        entry = {"name": name, "args": args, "summary": summary, "duration_s": round(duration, 6), "error": error}
        self.turn.tool_calls.append(entry)
        if self.log is not None:
            self.log.tool_call(name, args, summary, duration, error, ids, self.turn.request)
        self._emit({"type": "tool_end", "name": name, "summary": summary, "duration_s": round(duration, 6),
                    "error": error})

    def _emit(self, event: dict) -> None:
        try:
            self.emit(event)
        except KeyboardInterrupt:
            raise
        except Exception:  # noqa: BLE001 - a broken display must not break the step
            pass


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
