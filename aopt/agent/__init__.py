"""The agent: a LangChain 1.x tool-calling loop over paola's tools, with memory, a step cap and a log.

```python
from aopt.agent import AgentSession
session = AgentSession(ctx, model="offline")       # or "openai:gpt-4o-mini", None for the default
reply = session.ask("optimize 10D rosenbrock with SLSQP")
reply.text, reply.run_ids, reply.tool_calls, reply.interrupted
```

Importing this package is cheap: LangChain loads when an AgentSession is created (or any of
the names below other than ModelError / DEFAULT_MODEL_HELP / default_model_spec / resolve_model is
first used).
"""

from __future__ import annotations

from aopt._lazy import lazy_attributes
from aopt.agent._models import DEFAULT_MODEL_HELP, ModelError, default_model_spec, resolve_model

__all__ = [
    "AgentSession",
    "Reply",
    "ModelError",
    "DEFAULT_MODEL_HELP",
    "default_model_spec",
    "resolve_model",
    "replay_session",
    "run_script",
    "system_prompt",
    "list_agent_sessions",
]

_LAZY = {
    "AgentSession": ("aopt.agent._session", "AgentSession"),
    "Reply": ("aopt.agent._session", "Reply"),
    "replay_session": ("aopt.agent._replay", "replay_session"),
    "list_agent_sessions": ("aopt.agent._replay", "list_agent_sessions"),
    "run_script": ("aopt.agent._script", "run_script"),
    "system_prompt": ("aopt.agent._prompt", "system_prompt"),
}


__getattr__, __dir__ = lazy_attributes("aopt.agent", globals(), _LAZY)
