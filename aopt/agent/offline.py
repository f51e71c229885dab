"""paola's embedded offline model: a LangChain chat model that needs no network.

It understands the grammar documented in `GRAMMAR_HELP` and emits real tool calls,
so a request takes the same path (tools, runs, storage, rendering) with or without
a language model. It is deterministic and stateful only through the messages:
each call re-reads the conversation, replays this turn's tool results into the
plan of the last user message, and says the next tool call or the final answer.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator, Optional, Sequence

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool

from aopt.agent._grammar import parse_request
from aopt.agent._help import GRAMMAR_HELP
from aopt.agent._memory import Memory, split_history
from aopt.agent._planner import run_plan

__all__ = ["OfflineChatModel", "GRAMMAR_HELP", "plan_reply"]


def _tool_name(tool: Any) -> str | None:
    name = getattr(tool, "name", None)
    if isinstance(name, str):
        return name
    if isinstance(tool, dict):
        if isinstance(tool.get("name"), str):
            return tool["name"]
        fn = tool.get("function")
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            return fn["name"]
    try:
        return convert_to_openai_tool(tool)["function"]["name"]
    except Exception:  # noqa: BLE001 - an unusable tool is simply not bound
        return getattr(tool, "__name__", None)


def plan_reply(messages: Sequence[BaseMessage], tool_names: Optional[Sequence[str]] = None) -> AIMessage:
    """The offline model's next message for a conversation (a tool call or the final answer)."""
    try:
        text, past, starts, now, n_calls = split_history(messages)
        memory = Memory.from_calls(past, starts)
        request = parse_request(text)
        step = run_plan(request, memory, now, tool_names)
    except Exception as exc:  # noqa: BLE001 - the model must answer whatever the input
        return AIMessage(content=f"Something in that request confused me ({type(exc).__name__}); "
                                 f"please rephrase it, or type `help`.")
    if step.call is not None:
        name, args = step.call
        return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": f"call_{n_calls + 1}",
                                                  "type": "tool_call"}])
    return AIMessage(content=step.text or "Done.")


class OfflineChatModel(BaseChatModel):
    """A deterministic chat model for paola's request grammar; `bind_tools` makes it call tools."""

    bound_tool_names: Optional[list[str]] = None
    """Names of the bound tools; None until `bind_tools` (then every paola tool is assumed)."""
    stream_chunk_chars: int = 24

    @property
    def _llm_type(self) -> str:
        return "paola-offline"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": "offline", "tools": self.bound_tool_names}

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any) -> "OfflineChatModel":
        """A copy of this model that knows the names of `tools` (it calls no other tool)."""
        names = [n for n in (_tool_name(t) for t in tools) if n]
        return self.model_copy(update={"bound_tool_names": names})

    def _generate(self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
                  run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any) -> ChatResult:
        message = plan_reply(messages, self.bound_tool_names)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
                run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        message = plan_reply(messages, self.bound_tool_names)
        if message.tool_calls:
            chunks = [{"name": tc["name"], "args": json.dumps(tc["args"]), "id": tc["id"], "index": i,
                       "type": "tool_call_chunk"} for i, tc in enumerate(message.tool_calls)]
            chunk = ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=chunks,
                                                               chunk_position="last"))
            if run_manager:
                run_manager.on_llm_new_token("", chunk=chunk)
            yield chunk
            return
        pieces = re.findall(r"\S+\s*|\s+", message.content) or [""]
        buffer, out = "", []
        for piece in pieces:
            buffer += piece
            if len(buffer) >= self.stream_chunk_chars:
                out.append(buffer)
                buffer = ""
        if buffer or not out:
            out.append(buffer)
        for i, text in enumerate(out):
            last = i == len(out) - 1
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=text,
                                                               **({"chunk_position": "last"} if last else {})))
            if run_manager:
                run_manager.on_llm_new_token(text, chunk=chunk)
            yield chunk
