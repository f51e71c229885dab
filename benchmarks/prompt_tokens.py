"""How many tokens the agent sends with every model call before the conversation starts.

That is the system prompt plus the JSON schemas of the tools, exactly as langchain-openai
sends them (`convert_to_openai_tool`). Counted with tiktoken's o200k_base encoding (gpt-4o)
when its encoding file is available; tiktoken downloads that file on first use, so offline
(no cached file) the count falls back to the common estimate of 4 characters per token,
and the output says which was used. Run: `python benchmarks/prompt_tokens.py [--json]`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def counter():
    """(count function, method name): tiktoken when it works offline, else chars/4."""
    try:
        import tiktoken

        enc = tiktoken.get_encoding("o200k_base")
        return (lambda text: len(enc.encode(text))), "tiktoken o200k_base"
    except Exception:  # noqa: BLE001 - no encoding file and no network
        return (lambda text: (len(text) + 3) // 4), "estimate: characters / 4 (tiktoken encoding unavailable offline)"


def measure() -> dict:
    from langchain_core.utils.function_calling import convert_to_openai_tool

    from aopt.agent._prompt import system_prompt
    from aopt.tools import build_tools

    count, method = counter()
    prompt = system_prompt()
    tools = {t.name: json.dumps(convert_to_openai_tool(t), separators=(",", ":")) for t in build_tools(lambda: None)}
    per_tool = {name: count(text) for name, text in tools.items()}
    prompt_tokens = count(prompt)
    return {"method": method, "system_prompt_tokens": prompt_tokens, "system_prompt_chars": len(prompt),
            "tool_schema_tokens": sum(per_tool.values()),
            "tool_schema_chars": sum(len(t) for t in tools.values()),
            "per_tool": per_tool, "total_tokens": prompt_tokens + sum(per_tool.values())}


def main() -> None:
    result = measure()
    if "--json" in sys.argv:
        print(json.dumps(result, indent=1))
        return
    print(f"counted with {result['method']}")
    print(f"system prompt   {result['system_prompt_tokens']:6d} tokens ({result['system_prompt_chars']} chars)")
    print(f"tool schemas    {result['tool_schema_tokens']:6d} tokens ({result['tool_schema_chars']} chars)")
    for name, n in sorted(result["per_tool"].items(), key=lambda kv: -kv[1]):
        print(f"  {name:28s}{n:6d}")
    print(f"total per call  {result['total_tokens']:6d} tokens")


if __name__ == "__main__":
    main()
