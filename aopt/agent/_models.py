"""The model factory: a spec such as `offline` or `openai:gpt-4o-mini` becomes a LangChain chat model.

Nothing heavy is imported until a model is actually built, so the shell can name the
model it will use without loading LangChain. Failures a user can fix (a provider package
that is not installed, a missing or rejected key, a server that cannot be reached) become
`ModelError`, whose message names the fix.
"""

from __future__ import annotations

import os

from aopt.errors import PaolaError

__all__ = ["ModelError", "DEFAULT_MODEL_HELP", "default_model_spec", "resolve_model", "explain_model_error",
           "is_transient_error", "DEFAULT_OPENAI_MODEL"]

DEFAULT_OPENAI_MODEL = "openai:gpt-4o-mini"

DEFAULT_MODEL_HELP = (
    "Choose a model with --model SPEC or PAOLA_MODEL: 'offline' (the embedded model, no network), "
    "or a LangChain 'provider:model' string such as openai:gpt-4o-mini, anthropic:claude-sonnet-4-5 "
    "or ollama:qwen2.5. openai:... needs OPENAI_API_KEY, or --base-url / OPENAI_BASE_URL for an "
    "OpenAI-compatible server (vLLM, llama.cpp, Ollama). With no spec and no OPENAI_API_KEY, "
    "paola uses the offline model."
)

# provider -> pip package, for the "install it" hint (LangChain's registry has the rest)
_PACKAGES = {
    "anthropic": "langchain-anthropic", "ollama": "langchain-ollama", "groq": "langchain-groq",
    "mistralai": "langchain-mistralai", "google_genai": "langchain-google-genai",
    "google_vertexai": "langchain-google-vertexai", "bedrock": "langchain-aws",
    "bedrock_converse": "langchain-aws", "deepseek": "langchain-deepseek", "xai": "langchain-xai",
    "fireworks": "langchain-fireworks", "together": "langchain-together", "cohere": "langchain-cohere",
    "huggingface": "langchain-huggingface", "openrouter": "langchain-openrouter",
    "perplexity": "langchain-perplexity", "azure_openai": "langchain-openai", "openai": "langchain-openai",
}


class ModelError(PaolaError):
    """The model cannot be used as asked; the message says what to install, set or start."""

    kind = "model_error"


def default_model_spec(spec: str | None = None) -> str:
    """The spec a session uses: `spec`, else `PAOLA_MODEL`, else openai when a key is set, else offline."""
    spec = (spec or os.environ.get("PAOLA_MODEL") or "").strip()
    if spec:
        return spec
    return DEFAULT_OPENAI_MODEL if os.environ.get("OPENAI_API_KEY") else "offline"


def _split(spec: str, base_url: str | None) -> tuple[str, str]:
    """(provider, model name) of a spec; bare OpenAI names and any name with a base URL are openai."""
    if ":" in spec:
        provider, name = spec.split(":", 1)
        provider = provider.strip().lower().replace("-", "_")
        if provider and name.strip():
            return provider, name.strip()
        raise ModelError(f"model spec {spec!r} is incomplete; write provider:model, e.g. openai:gpt-4o-mini. "
                         + DEFAULT_MODEL_HELP)
    if base_url or spec.lower().startswith(("gpt-", "o1", "o3", "o4", "chatgpt")):
        return "openai", spec
    raise ModelError(f"model spec {spec!r} names no provider; write provider:model "
                     f"(openai:{spec}, ollama:{spec}, ...) or 'offline'. " + DEFAULT_MODEL_HELP)


def resolve_model(spec: str | None = None, base_url: str | None = None, *, max_retries: int = 3,
                  timeout: float = 120.0):
    """A LangChain chat model for `spec` (see `default_model_spec`); raises ModelError naming the fix.

    `base_url` (or OPENAI_BASE_URL) points the OpenAI client at any compatible server; a local
    server needs no key. `max_retries` is the client's own retry count, with exponential backoff,
    on rate limits (429), timeouts, connection errors and server errors (5xx).
    """
    spec = default_model_spec(spec)
    if spec.lower() == "offline":
        try:
            from aopt.agent.offline import OfflineChatModel
        except ImportError as exc:
            raise ModelError("the offline model is not available in this build (aopt.agent.offline is "
                             f"missing: {exc}); choose another with --model. " + DEFAULT_MODEL_HELP) from None
        return OfflineChatModel()
    base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
    provider, name = _split(spec, base_url)
    if provider == "openai":
        return _openai(name, base_url, max_retries, timeout)
    return _other(provider, name, spec, base_url, max_retries, timeout)


def _openai(name: str, base_url: str | None, max_retries: int, timeout: float):
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        raise ModelError("openai models need the package langchain-openai: pip install langchain-openai "
                         "(or use --model offline)") from None
    key = os.environ.get("OPENAI_API_KEY")
    if not key:
        if not base_url:
            raise ModelError(f"openai:{name} needs an API key: set OPENAI_API_KEY, or point --base-url / "
                             "OPENAI_BASE_URL at an OpenAI-compatible server (vLLM, llama.cpp, Ollama), "
                             "or use --model offline")
        key = "not-needed"  # local servers ignore the key, but the client insists on one
    try:
        return ChatOpenAI(model=name, api_key=key, base_url=base_url, max_retries=max_retries,
                          timeout=timeout, temperature=0)
    except Exception as exc:  # pydantic validation of odd settings, a malformed URL
        raise ModelError(f"cannot set up openai:{name}: {_first_line(exc)}. " + DEFAULT_MODEL_HELP) from None


def _other(provider: str, name: str, spec: str, base_url: str | None, max_retries: int, timeout: float):
    try:
        from langchain.chat_models import init_chat_model
    except ImportError:
        raise ModelError("provider models need the package langchain: pip install langchain") from None
    kwargs = {"base_url": base_url} if base_url else {}
    try:
        return init_chat_model(name, model_provider=provider, max_retries=0, timeout=timeout, **kwargs)
    except ImportError:
        package = _PACKAGES.get(provider, "langchain-" + provider.replace("_", "-"))
        raise ModelError(f"model {spec!r} needs the package {package}: pip install {package} "
                         "(or use --model offline, or openai:... with OPENAI_API_KEY)") from None
    except ValueError as exc:
        text = str(exc)
        if "Unsupported" in text or "provider" in text.lower() and "infer" in text.lower():
            raise ModelError(f"unknown model provider {provider!r} in {spec!r}. " + DEFAULT_MODEL_HELP) from None
        raise ModelError(f"cannot set up {spec}: {_first_line(exc)}; check the provider's API key "
                         "variable and settings, or use --model offline") from None
    except Exception as exc:  # usually a missing key, reported by the provider's own validator
        raise ModelError(f"cannot set up {spec}: {_first_line(exc)}; set the provider's API key "
                         "(e.g. ANTHROPIC_API_KEY), or use --model offline") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def _status(exc: BaseException) -> int | None:
    code = getattr(exc, "status_code", None)
    if code is None:
        code = getattr(getattr(exc, "response", None), "status_code", None)
    return code if isinstance(code, int) else None


def is_transient_error(exc: BaseException) -> bool:
    """Worth retrying with backoff: rate limits, timeouts, connection failures, server errors."""
    from langchain_core.exceptions import ModelError as LCModelError

    if isinstance(exc, LCModelError):
        return bool(exc.is_retryable)
    code = _status(exc)
    if code is not None:
        return code in (408, 409, 429) or code >= 500
    name = type(exc).__name__
    return any(word in name for word in ("RateLimit", "Timeout", "Connect", "ServiceUnavailable",
                                         "InternalServer", "Overloaded"))


def explain_model_error(exc: BaseException, model_name: str, base_url: str | None = None) -> ModelError | None:
    """A ModelError naming the fix for a failed model call, or None when `exc` is not a model failure."""
    name = type(exc).__name__
    code = _status(exc)
    where = base_url or os.environ.get("OPENAI_BASE_URL") or ""
    server = f"the model server at {where}" if where else "the model server"
    is_openai = model_name.startswith("openai:") or bool(where)
    detail = _first_line(exc)
    if code == 401 or "Authentication" in name:
        if is_openai:
            return ModelError("the OpenAI server rejected the API key; set OPENAI_API_KEY to a valid key "
                              f"(or use --model offline). Server said: {detail}")
        return ModelError(f"{model_name}: the provider rejected the API key; set the provider's key "
                          f"variable to a valid key (or use --model offline). Server said: {detail}")
    if code == 403 or "PermissionDenied" in name:
        return ModelError(f"{server} refused access to {model_name} with this key (403); use a key with "
                          f"access to that model or choose another with --model. Server said: {detail}")
    if code == 404 or "NotFound" in name:
        return ModelError(f"{server} has no model {model_name.split(':', 1)[-1]!r} (404); choose one it "
                          f"serves with --model provider:NAME, or check --base-url. Server said: {detail}")
    if code == 429 or "RateLimit" in name:
        return ModelError(f"{server} is still rate-limiting {model_name} after the retries (429); wait and "
                          f"try again, or check the account's quota. Server said: {detail}")
    if "Timeout" in name:
        return ModelError(f"{server} did not answer in time ({model_name}); try again, or check the server "
                          "is running (--base-url / OPENAI_BASE_URL), or use --model offline")
    if "Connect" in name or isinstance(exc, ConnectionError):
        return ModelError(f"cannot reach {server} for {model_name}; start the server or fix --base-url / "
                          "OPENAI_BASE_URL (or check the network), or use --model offline")
    if code is not None and code >= 500:
        return ModelError(f"{server} failed ({code}) for {model_name} after the retries; try again later. "
                          f"Server said: {detail}")
    if code == 400 or "BadRequest" in name or "InvalidRequest" in name or "ContextOverflow" in name:
        return ModelError(f"{server} rejected the request for {model_name} ({code or 400}): {detail}. "
                          "If the conversation is long, /clear starts a new one")
    if _bad_tool_call_arguments(exc):
        return ModelError(f"{model_name} sent a tool call whose arguments are not a JSON object of named "
                          "arguments (e.g. a list or a number), so the request stopped there; ask again, "
                          "or try another model with /model")
    from langchain_core.exceptions import ModelError as LCModelError

    if isinstance(exc, LCModelError) or (code is not None and code >= 400):
        return ModelError(f"the model call to {model_name} failed: {detail}")
    return None


def _bad_tool_call_arguments(exc: BaseException) -> bool:
    """The provider's reply could not become a message: a tool call's arguments were JSON but not
    an object (langchain-openai builds the AIMessage, and pydantic refuses `args=[1, 2]`)."""
    errors = getattr(exc, "errors", None)
    if type(exc).__name__ != "ValidationError" or not callable(errors):
        return False
    try:
        return any(str(e.get("loc", ("",))[0]) in ("tool_calls", "invalid_tool_calls") for e in errors())
    except Exception:  # noqa: BLE001
        return False
