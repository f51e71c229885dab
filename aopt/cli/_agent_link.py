"""AgentLink: the shell's handle on the agent, whose heavy imports (LangChain, SciPy) load in the background.

The prompt appears first; a daemon thread imports `aopt.agent` and its dependencies
while the person types. The session itself is built on the first request, in the
main thread, on the shell's own store, so Ctrl+C reaches the optimizer it runs.
"""

from __future__ import annotations

import os
import threading
from typing import Callable

__all__ = ["AgentLink", "expected_model", "OFFLINE_HINT"]

OFFLINE_HINT = ("The offline model understands a fixed grammar of requests (try: "
                "'minimize rosenbrock in 5 dimensions with BFGS'). For a full model, set OPENAI_API_KEY, "
                "or start with --model openai:gpt-4o-mini, --model ollama:qwen2.5, or --base-url for any "
                "OpenAI-compatible server; /model SPEC switches now.")

# (module, attribute): aopt.agent is cheap to import; its AgentSession attribute pulls in LangChain
_PRELOAD = (("aopt.agent", "AgentSession"), ("aopt.tools", None), ("aopt.runs", None),
            ("scipy.optimize", None))


def expected_model(spec: str | None = None) -> str:
    """The model a session will use, decided without importing LangChain (same rule as the agent)."""
    spec = spec or os.environ.get("PAOLA_MODEL")
    if spec:
        return spec
    return "openai:gpt-4o-mini" if os.environ.get("OPENAI_API_KEY") else "offline"


def _default_factory(reader, model, base_url, on_event, allow_code=False, confirm_code=None):
    """An AgentSession on the shell's own store (one connection for commands and agent)."""
    from aopt.agent import AgentSession
    from aopt.runs import RunManager
    from aopt.tools import Context, Settings

    store = reader.store
    ctx = Context(store=store, runs=RunManager(store), settings=Settings(allow_code=allow_code),
                  confirm_code=confirm_code)
    session = AgentSession(ctx, model=model, base_url=base_url, on_event=on_event)
    if getattr(ctx, "progress", None) is None:  # the live line needs progress even if the session
        ctx.progress = lambda p: on_event({"type": "progress", **p})  # does not forward it
    if getattr(session, "ctx", None) is None:
        try:
            session.ctx = ctx
        except AttributeError:
            pass
    return session


class AgentLink:
    """Lazily built AgentSession sharing the shell's store; `preload()` warms the imports."""

    def __init__(self, reader, model: str | None = None, base_url: str | None = None,
                 on_event: Callable[[dict], None] | None = None, session_factory=None,
                 allow_code: bool = False, confirm_code: Callable[[str, str], bool] | None = None):
        self.reader = reader
        self.allow_code = allow_code
        self.confirm_code = confirm_code
        self.model_spec = model
        self.base_url = base_url
        self.on_event = on_event or (lambda event: None)
        self._factory = session_factory or _default_factory
        self._session = None
        self._thread: threading.Thread | None = None
        self.preload_error: BaseException | None = None

    # -- what the toolbar and banner show --------------------------------------------------
    @property
    def model_name(self) -> str:
        if self._session is not None:
            return getattr(self._session, "model_name", None) or expected_model(self.model_spec)
        return expected_model(self.model_spec)

    @property
    def is_offline(self) -> bool:
        if self._session is not None and hasattr(self._session, "is_offline"):
            return bool(self._session.is_offline)
        return self.model_name == "offline"

    @property
    def ready(self) -> bool:
        """True once the agent's modules are imported (a request will start at once)."""
        return self._session is not None or (self._thread is not None and not self._thread.is_alive())

    @property
    def session_id(self):
        return getattr(self._session, "session_id", None)

    # -- loading ---------------------------------------------------------------------------
    def preload(self) -> None:
        """Import the agent's dependencies in a daemon thread (once)."""
        if self._thread is not None or self._session is not None or self._factory is not _default_factory:
            return

        def work():
            import importlib

            for name, attr in _PRELOAD:
                try:
                    module = importlib.import_module(name)
                    if attr:
                        getattr(module, attr)
                except BaseException as exc:  # reported on first use, not in the middle of typing
                    self.preload_error = exc
                    return

        self._thread = threading.Thread(target=work, name="paola-preload", daemon=True)
        self._thread.start()

    def session(self):
        """The AgentSession, built on first use (waits for the preload thread)."""
        if self._session is None:
            if self._thread is not None:
                while self._thread.is_alive():
                    self._thread.join(0.1)  # short waits keep Ctrl+C responsive
            if self.preload_error is not None and not isinstance(self.preload_error, ImportError):
                self.preload_error = None  # retried below, where the real error surfaces
            try:
                extra = ({"allow_code": self.allow_code, "confirm_code": self.confirm_code}
                         if self._factory is _default_factory else {})
                self._session = self._factory(self.reader, self.model_spec, self.base_url, self.on_event,
                                              **extra)
            except ImportError as exc:
                from aopt.errors import PaolaError

                raise PaolaError(f"the agent could not be loaded ({exc}); slash commands still work "
                                 "(/help)") from None
        return self._session

    @property
    def ctx(self):
        """The tools' Context of the session, once it exists."""
        return getattr(self._session, "ctx", None)

    # -- conversation ----------------------------------------------------------------------
    def ask(self, text: str):
        return self.session().ask(text)

    def switch_model(self, spec: str) -> str:
        """Switch models, keeping the conversation when the session can; returns the new name."""
        if self._session is None:
            if spec != "offline" and spec != self.model_spec:
                from aopt.agent import resolve_model

                resolve_model(spec, self.base_url)  # raises ModelError naming the fix
            self.model_spec = spec
            return self.model_name
        self._session.switch_model(spec)
        self.model_spec = spec
        return self.model_name

    def clear(self) -> None:
        if self._session is not None:
            self._session.clear()
