"""What the model and the log see of a tool result: compact JSON and a one-line summary.

The tools already return short results; this is the safety net that keeps any result small
(long lists cut to head and tail, long text cut, floats rounded), since the full data stays in
the store and the model can ask for it with get_run.
"""

from __future__ import annotations

import json
import math

__all__ = ["compact", "compact_json", "parse_content", "summarize", "error_of", "ids_of", "claim_facts"]

MAX_LIST = 24
MAX_TEXT = 600
MAX_CHARS = 6000


def compact(value, depth: int = 0):
    """A JSON-ready copy of `value` short enough for a prompt."""
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return float(f"{value:.8g}")
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + f"... ({len(value)} chars)"
    if isinstance(value, dict):
        if depth > 6:
            return "{...}"
        return {str(k): compact(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = list(value)
        if len(items) > MAX_LIST:
            items = items[: MAX_LIST - 4] + [f"... {len(items) - MAX_LIST + 2} more ..."] + items[-2:]
        return [compact(v, depth + 1) for v in items]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return compact(value.tolist(), depth)
    return compact(str(value), depth)


def compact_json(value) -> str:
    """Compact JSON text for a ToolMessage, never longer than MAX_CHARS."""
    text = json.dumps(compact(value), separators=(",", ":"), ensure_ascii=False, default=str)
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS] + f'... (cut at {MAX_CHARS} of {len(text)} chars; ask get_run for one run)'
    return text


def parse_content(content):
    """The tool's result back from a ToolMessage's content (JSON text), else the text itself."""
    if isinstance(content, (dict, list)):
        return content
    try:
        return json.loads(content)
    except (TypeError, ValueError):
        return content


def error_of(result) -> str | None:
    """The error message of a tool result, or None when it succeeded."""
    if isinstance(result, dict) and "error" in result:
        err = result["error"]
        if isinstance(err, dict):
            return str(err.get("message") or err)
        return str(err)
    return None


def ids_of(result) -> dict:
    """The ids a result names (problem_id, run_id), used to map ids when a session is replayed."""
    if not isinstance(result, dict):
        return {}
    return {k: result[k] for k in ("problem_id", "run_id") if isinstance(result.get(k), int)}


def _num(v) -> str:
    return f"{v:.6g}" if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)


def claim_facts(result: dict) -> dict:
    """The convergence facts of a run summary (a tool result), for aopt.optimize's claim helpers; summaries
    from before claims (no `claim`) are read by their `converged` and reason."""
    conv = result.get("convergence") if isinstance(result.get("convergence"), dict) else {}
    facts = {"converged": result.get("converged"), "reason": result.get("convergence_reason"), **conv}
    for key in ("claim", "evidence"):
        if result.get(key):
            facts[key] = result[key]
    return facts


def _claim(result: dict) -> str:
    """What a run summary's result proves, as its claim label ("local minimum", "not converged", ...)."""
    from aopt.optimize import claim_label

    label = claim_label(claim_facts(result))
    return "result not checked" if label == "—" else label


def summarize(name: str, result) -> str:
    """One line a person can read in a log or a live view."""
    err = error_of(result)
    if err is not None:
        return "error: " + err[:200]
    if not isinstance(result, dict):
        text = str(result)
        return text[:160]
    if name == "create_problem":
        dim = result.get("dimension")
        return f"problem {result.get('problem_id')} {result.get('name')!r} ({result.get('kind')}, {dim} variable{'' if dim == 1 else 's'})"
    if name == "start_optimization_run":
        return f"run {result.get('run_id')} of {result.get('problem')!r} with {result.get('algorithm')}"
    if name in ("run_scipy_optimization", "finalize_optimization_run", "get_run"):
        return (f"run {result.get('run_id')} {result.get('status')}: best_f={_num(result.get('best_f'))} "
                f"after {result.get('n_evaluations')} evaluations, {_claim(result)}")
    if name == "list_runs":
        return f"{len(result.get('runs') or [])} of {result.get('total')} runs"
    if name == "list_problems":
        return f"{len(result.get('problems') or [])} problems"
    if name == "list_algorithms":
        return f"{len(result.get('algorithms') or [])} algorithms"
    if name == "compare_runs":
        return f"best run {result.get('best_run_id')}"
    if name == "analyze_run":
        text = json.dumps(compact(result), default=str)
        return text[:160]
    return json.dumps(compact(result), default=str)[:160]
