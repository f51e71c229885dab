"""AgentSession: one conversation with a model over the tools, with memory, a step cap and a log."""

from __future__ import annotations

import ctypes
import os
import signal
import threading
import uuid
from dataclasses import dataclass, field
from typing import Callable

from langchain.agents import create_agent
from langchain.agents.middleware import ModelRetryMiddleware
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.errors import GraphRecursionError

from aopt.errors import InvalidInput
from aopt.agent._log import SessionLog, message_event
from aopt.agent._middleware import INTERRUPTED, PaolaMiddleware, Turn, error_content
from aopt.agent._models import (ModelError, default_model_spec, explain_model_error, is_transient_error,
                                resolve_model)
from aopt.agent._prompt import system_prompt

__all__ = ["AgentSession", "Reply"]


@dataclass
class Reply:
    """The outcome of one request: the answer and what was done to reach it."""

    text: str
    run_ids: list[int] = field(default_factory=list)
    tool_calls: list[dict] = field(default_factory=list)
    interrupted: bool = False
    capped: bool = False  # the step cap ended the request (the text says what was done)
    steps: int = 0  # model calls made


class AgentSession:
    """A conversation with a model that acts through paola's tools on `ctx`'s store.

    `model`: a spec (`offline`, `openai:gpt-4o-mini`, any LangChain `provider:model`), None for the
    default (PAOLA_MODEL, else openai when OPENAI_API_KEY is set, else offline), or a LangChain
    chat model object. `max_steps` caps model calls per request (default PAOLA_MAX_STEPS or 25);
    `retry_budget` is how many extra runs the model may try after a run that did not converge
    (default PAOLA_RETRY_BUDGET or 2); `max_retries` and `retry_delay`
    govern retries with backoff on rate limits, timeouts and server errors.
    """

    def __init__(self, ctx, model=None, base_url: str | None = None, max_steps: int | None = None,
                 on_event: Callable[[dict], None] | None = None, *, retry_budget: int | None = None,
                 max_retries: int = 3, retry_delay: float = 1.0, timeout: float = 120.0):
        from aopt.tools import build_tools

        max_steps = _setting("PAOLA_MAX_STEPS", max_steps, 25, minimum=1)
        retry_budget = _setting("PAOLA_RETRY_BUDGET", retry_budget, 2, minimum=0)
        self.ctx = ctx
        self.base_url = base_url
        self.max_steps = max_steps
        self.retry_budget = retry_budget
        self.max_retries = max_retries
        self.retry_delay = retry_delay
        self.timeout = timeout
        self.on_event = on_event
        self.tools = build_tools(ctx)
        self._saver = InMemorySaver()
        self._thread_id = uuid.uuid4().hex
        self._carry: list = []  # a repaired conversation that seeds the next thread
        self._n_logged = 0  # messages of the conversation already in the transcript
        self._requests = 0
        self._model, self.model_name, self.is_offline = self._resolve(model)
        self.log = SessionLog(ctx.store, {"kind": "agent", "model": self.model_name,
                                          "max_steps": max_steps, "retry_budget": retry_budget})
        self.log.append({"type": "model", "name": self.model_name})
        self._middleware = PaolaMiddleware(max_steps=max_steps, emit=self._emit, log=self.log,
                                           final_answer=self._cap_answer, ask_model_for_final=not self.is_offline)
        self._graph = self._build()
        ctx.progress = self._progress

    # -- public surface ----------------------------------------------------------------------
    @property
    def session_id(self) -> int:
        return self.log.session_id

    @property
    def messages(self) -> list:
        """The conversation so far (without the system prompt)."""
        state = self._graph.get_state(self._config())
        values = getattr(state, "values", None) or {}
        return list(values.get("messages") or self._carry)

    def ask(self, text: str) -> Reply:
        """Carry out one request; Ctrl+C stops it but leaves a valid conversation (`reply.interrupted`)."""
        self._requests += 1
        turn = Turn(self._requests)
        self._middleware.turn = turn
        human = HumanMessage(content=text, id=uuid.uuid4().hex)
        inputs = {"messages": [*self._carry, human]}
        interrupted = False
        try:
            with self._interrupt_tool_threads(turn):
                try:
                    state = self._graph.invoke(inputs, self._config())
                    self._carry = []
                    answer = _last_answer(state.get("messages") or [])
                except KeyboardInterrupt:
                    interrupted = True
                    answer = self._cap_answer(turn, "Interrupted by the user.")
                    self._repair(turn, human, INTERRUPTED, answer)
                except GraphRecursionError:  # the step cap normally answers first; this is the backstop
                    turn.capped = True
                    answer = self._cap_answer(turn)
                    self._repair(turn, human, "not run: the step limit was reached", answer)
                except Exception as exc:
                    explained = explain_model_error(exc, self.model_name, self.base_url)
                    self._repair(turn, human, "not run: the request failed", None)
                    if explained is not None:
                        self.log.append({"type": "error", "request": turn.request, "message": str(explained)})
                        raise explained from None
                    raise
        finally:
            self._log_transcript()
            self.log.write_stats()
        self._emit({"type": "answer", "text": answer})
        return Reply(text=answer, run_ids=list(turn.run_ids), tool_calls=list(turn.tool_calls),
                     interrupted=interrupted, capped=turn.capped, steps=turn.model_calls)

    def switch_model(self, spec) -> str:
        """Use another model from now on, keeping the conversation; raises ModelError and keeps the old one."""
        model, name, offline = self._resolve(spec)
        self._model, self.model_name, self.is_offline = model, name, offline
        self._middleware.ask_model_for_final = not offline
        self._graph = self._build()
        self.log.append({"type": "model", "name": name})
        return name

    def clear(self) -> None:
        """Start a new conversation (the store and the session log are kept)."""
        self._log_transcript()
        self._thread_id = uuid.uuid4().hex
        self._carry = []
        self._n_logged = 0
        self.log.append({"type": "clear"})

    @property
    def tool_stats(self) -> dict:
        """Per-tool counts and timings of this session: {name: {calls, errors, total_s, max_s}}."""
        return {k: dict(v) for k, v in self.log.stats.items()}

    # -- building --------------------------------------------------------------------------
    def _resolve(self, model):
        if isinstance(model, BaseChatModel):
            name = getattr(model, "model_name", None) or getattr(model, "model", None) or type(model).__name__
            offline = type(model).__name__ == "OfflineChatModel"
            return model, ("offline" if offline else str(name)), offline
        spec = default_model_spec(model)
        chat = resolve_model(spec, self.base_url, max_retries=self.max_retries, timeout=self.timeout)
        offline = spec.lower() == "offline"
        return chat, ("offline" if offline else spec), offline

    def _build(self):
        middleware = [self._middleware]
        if not self.is_offline and not _has_own_retries(self._model) and self.max_retries > 0:
            middleware.append(ModelRetryMiddleware(max_retries=self.max_retries, retry_on=is_transient_error,
                                                   on_failure="error", initial_delay=self.retry_delay,
                                                   backoff_factor=2.0, max_delay=30.0))
        return create_agent(self._model, self.tools, middleware=middleware, checkpointer=self._saver,
                            system_prompt=system_prompt(self.max_steps, self.retry_budget))

    def _config(self) -> dict:
        # each step is a few graph nodes (model, its hook, tools); the cap in PaolaMiddleware comes first
        return {"configurable": {"thread_id": self._thread_id}, "recursion_limit": 4 * self.max_steps + 20}

    # -- events ----------------------------------------------------------------------------
    def _emit(self, event: dict) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _progress(self, info: dict) -> None:
        try:
            self._emit({"type": "progress", **info})
        except Exception:  # noqa: BLE001 - called from the recorder's thread; never break a run
            pass

    # -- the end of a step that did not finish normally -------------------------------------
    def _cap_answer(self, turn: Turn, reason: str | None = None) -> str:
        """An answer built from the store: what this request did, when the model could not say it."""
        if reason is None:
            reason = (f"I stopped at the step limit ({self.max_steps} model steps for one request; "
                      "a larger max_steps allows more).")
        lines = [reason]
        if turn.run_ids:
            lines.append("")
            lines.append("Runs in this request:")
            for run_id in turn.run_ids:
                lines.append("- " + self._run_line(run_id))
        elif turn.tool_calls:
            done = ", ".join(f"{c['name']}{' (error)' if c['error'] else ''}" for c in turn.tool_calls[-8:])
            lines.append(f"No run was started. Tool calls made: {done}.")
        else:
            lines.append("Nothing was done yet.")
        return "\n".join(lines)

    def _run_line(self, run_id: int) -> str:
        try:
            run = self.ctx.runs.get(run_id)
        except Exception:  # noqa: BLE001
            return f"run {run_id}"
        best = run.get("best_f")
        best = f"{best:.6g}" if isinstance(best, (int, float)) else "none"
        from aopt.optimize import claim_label

        result = claim_label(run)
        return (f"run {run_id} ({run.get('problem')}, {run.get('algorithm')}): {run.get('status')}, "
                f"best f = {best} after {run.get('n_evaluations') or 0} evaluations, "
                f"result: {'not checked' if result == '—' else result}")

    def _repair(self, turn: Turn, human, reason: str, answer: str | None) -> None:
        """Continue on a fresh thread whose history answers every tool call (no dangling calls)."""
        try:
            messages = list((self._graph.get_state(self._config()).values or {}).get("messages") or [])
        except Exception:  # noqa: BLE001
            messages = []
        if not any(getattr(m, "id", None) == human.id for m in messages):
            messages = [*(messages or self._carry), human]
        repaired = []
        i = 0
        while i < len(messages):
            m = messages[i]
            repaired.append(m)
            i += 1
            if not isinstance(m, AIMessage):
                continue
            calls = [c for c in (m.tool_calls or []) if c.get("id")]
            calls += [{"id": c.get("id"), "name": c.get("name") or "unknown"} for c in (m.invalid_tool_calls or [])
                      if c.get("id")]
            answered = set()
            while i < len(messages) and isinstance(messages[i], ToolMessage):
                answered.add(messages[i].tool_call_id)
                repaired.append(messages[i])
                i += 1
            for c in calls:
                if c["id"] in answered:
                    continue
                done = turn.completed.get(c["id"])
                if done is not None:
                    repaired.append(done)
                else:
                    repaired.append(ToolMessage(content=error_content("interrupted", reason), tool_call_id=c["id"],
                                                name=c["name"], status="error"))
                answered.add(c["id"])
        if answer:
            repaired.append(AIMessage(content=answer))
        self._carry = repaired
        self._thread_id = uuid.uuid4().hex

    def _log_transcript(self) -> None:
        try:
            messages = self.messages
        except Exception:  # noqa: BLE001
            return
        new = messages[self._n_logged:]
        if new:
            self.log.append(*[{**message_event(m), "request": self._requests} for m in new])
            self._n_logged = len(messages)

    # -- Ctrl+C with tools running in worker threads ---------------------------------------
    def _interrupt_tool_threads(self, turn: Turn):
        return _SigintToTools(turn)


class _SigintToTools:
    """While a request runs in the main thread, Ctrl+C also reaches tools running in worker threads.

    LangGraph runs parallel tool calls in a thread pool; a KeyboardInterrupt in the main thread
    alone would leave those optimizations running. The run manager turns the KeyboardInterrupt it
    receives into an `interrupted` run and re-raises.
    """

    def __init__(self, turn: Turn):
        self.turn = turn
        self.previous = None
        self.installed = False

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            try:
                self.previous = signal.signal(signal.SIGINT, self._handler)
                self.installed = True
            except ValueError:
                pass
        return self

    def _handler(self, signum, frame):
        main = threading.main_thread().ident
        for ident in list(self.turn.threads):
            if ident != main:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(KeyboardInterrupt))
        raise KeyboardInterrupt

    def __exit__(self, *exc):
        if self.installed:
            signal.signal(signal.SIGINT, self.previous if self.previous is not None else signal.default_int_handler)
        return False


def _setting(env: str, value, default: int, minimum: int) -> int:
    """An integer setting: the argument, else the environment variable, else the default."""
    source = "argument"
    if value is None:
        value, source = os.environ.get(env) or default, env
    try:
        number = int(value)
        if isinstance(value, bool) or number < minimum or (isinstance(value, float) and value != number):
            raise ValueError
    except (TypeError, ValueError):
        name = env if source == env else env.removeprefix("PAOLA_").lower()
        raise InvalidInput(f"{name} must be a whole number of at least {minimum} (e.g. {default}); got {value!r}") from None
    return number


def _has_own_retries(model) -> bool:
    """OpenAI's client retries with backoff itself (honouring Retry-After); others get ModelRetryMiddleware."""
    return type(model).__name__ in ("ChatOpenAI", "AzureChatOpenAI")


def _last_answer(messages: list) -> str:
    for m in reversed(messages):
        if isinstance(m, AIMessage):
            return m.text.strip() or ("(the model gave no answer)" if not m.tool_calls else "")
    return ""
