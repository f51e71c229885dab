"""Number, time and vector formatting for people: 3e-07 stays 3e-07, never 0.000000."""

from __future__ import annotations

import math
from datetime import datetime, timezone

__all__ = ["fmt_value", "fmt_duration", "fmt_when", "fmt_vector", "fmt_bool", "fmt_count",
           "fmt_options", "STATUS_STYLES", "status_text", "plural", "plain_markdown", "problem_labels",
           "CLAIM_STYLES", "fmt_claim", "claim_text", "claim_evidence"]

STATUS_STYLES = {"completed": "green", "failed": "red", "interrupted": "yellow", "running": "cyan"}
# what a run's result proves (see aopt.optimize's claims): proven or strongly evidenced in green,
# a local minimum plain cyan (a deeper one may exist), nothing proven yellow, no finite answer red
CLAIM_STYLES = {"optimum": "green", "global": "green", "local": "cyan", "not_converged": "yellow",
                "unbounded": "red", "infeasible": "red"}


def fmt_value(v, digits: int = 6) -> str:
    """A number in at most `digits` significant digits; tiny and huge values in exponent form."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return str(v)
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"
    return f"{v:.{digits}g}"


def fmt_count(n) -> str:
    """A whole number with thousands separators (12,345); — when unknown."""
    if n is None:
        return "—"
    try:
        return f"{int(n):,}"
    except (TypeError, ValueError):
        return str(n)


def plural(n, word: str, words: str | None = None) -> str:
    """'1 evaluation', '2 evaluations', '1,200 evaluations' (words: the plural when it is not word + s)."""
    try:
        one = int(n) == 1
    except (TypeError, ValueError):
        one = False
    return f"{fmt_count(n)} {word if one else (words or word + 's')}"


def plain_markdown(text: str) -> str:
    """One line of Markdown as the plain text a reader sees: no escapes, no ** or `, links as their text."""
    import re

    from markdown_it import MarkdownIt

    line = re.sub(r"^\s{0,3}(#{1,6}\s+|[-*+]\s+|>\s*)", "", str(text or ""))
    try:
        tokens = MarkdownIt("commonmark").parseInline(line)
    except Exception:  # never fail a view on odd text
        return line
    out = []
    for tok in tokens:
        for child in tok.children or []:
            if child.type in ("text", "code_inline", "html_inline"):
                out.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                out.append(" ")
            elif child.type == "image":
                out.append(child.content or "")
    return "".join(out)


def problem_labels(records) -> dict:
    """{problem id: label} for runs or problems: the name, with ' #ID' added where names are shared.

    Several problems can have the same name (each request makes a new one); the id tells them apart.
    Problem records are keyed by `id`, runs by `problem_id`.
    """
    ids_by_name: dict = {}
    pairs = []
    for r in records:
        if "problem_id" in r:  # a run
            pid, name = r.get("problem_id"), r.get("problem")
        else:  # a problem
            pid, name = r.get("id"), r.get("name")
        name = name or "?"
        pairs.append((pid, name))
        ids_by_name.setdefault(name, set()).add(pid)
    return {pid: (name if len(ids_by_name[name]) == 1 else f"{name} #{pid}") for pid, name in pairs}


def fmt_duration(seconds) -> str:
    """0.4 ms, 120 ms, 1.23 s, 2m 05s, 1h 02m."""
    if seconds is None:
        return "—"
    s = float(seconds)
    if s < 0 or math.isnan(s):
        return "—"
    if s < 1e-3:
        return f"{s * 1e3:.2g} ms"
    if s < 1:
        return f"{s * 1e3:.0f} ms"
    if s < 60:
        return f"{s:.3g} s"
    if s < 3600:
        m, r = divmod(int(round(s)), 60)
        return f"{m}m {r:02d}s"
    h, r = divmod(int(round(s)), 3600)
    return f"{h}h {r // 60:02d}m"


def fmt_when(stamp) -> str:
    """An ISO timestamp as local 'YYYY-MM-DD HH:MM:SS'; the input unchanged if it does not parse."""
    if not stamp:
        return "—"
    try:
        when = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return str(stamp)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def fmt_vector(values, limit: int = 8, digits: int = 6) -> str:
    """[1, 2.5, 3e-07]; long vectors keep their head and tail and say how many values there are."""
    if values is None:
        return "—"
    try:
        values = list(values)
    except TypeError:
        return fmt_value(values, digits)
    shown = [fmt_value(v, digits) for v in values]
    if len(shown) > limit:
        shown = shown[: limit - 2] + ["…"] + shown[-2:]
        return "[" + ", ".join(shown) + f"]  ({len(values)} values)"
    return "[" + ", ".join(shown) + "]"


def fmt_bool(v) -> str:
    if v is None:
        return "—"
    return "yes" if v else "no"


def fmt_options(options) -> str:
    """{'maxiter': 200} as 'maxiter=200'; (defaults) when empty."""
    if not options:
        return "(defaults)"
    if isinstance(options, dict):
        return ", ".join(f"{k}={fmt_value(v) if isinstance(v, float) else v}" for k, v in options.items())
    return str(options)


def status_text(status):
    """The run status as a styled rich Text."""
    from rich.text import Text

    status = status or "—"
    return Text(status, style=STATUS_STYLES.get(status, ""))


def fmt_claim(run, sentence: bool = False) -> str:
    """What the run's result proves: its claim label ("local minimum"), or with `sentence` the claim and its
    reason ("local minimum: KKT residual 3e-09 ..."); never a bare yes for a local result."""
    from aopt.optimize import claim_label, claim_sentence

    return claim_sentence(run) if sentence else claim_label(run)


def claim_text(run, sentence: bool = False):
    """fmt_claim as a rich Text coloured by the claim (green proven, cyan local, yellow not, red none)."""
    from rich.text import Text

    from aopt.optimize import claim_of

    return Text(fmt_claim(run, sentence), style=CLAIM_STYLES.get(claim_of(run), "dim"))


def claim_evidence(run) -> str | None:
    """The evidence behind a global claim: '4 of 5 restarts agree within 1e-06'; None for any other claim."""
    from aopt.optimize import claim_of

    if claim_of(run) != "global":
        return None
    evidence = (run.get("convergence") or {}).get("evidence") or {}
    if not evidence.get("restarts"):
        return None
    text = f"{evidence.get('agree', '?')} of {plural(evidence['restarts'], 'restart')} agree on the best value"
    if evidence.get("tol") is not None:
        text += f" within {fmt_value(evidence['tol'], 3)}"
    return text
