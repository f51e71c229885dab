"""Objective and constraint extraction for the offline grammar: 'minimize <expression> subject to ...'."""

from __future__ import annotations

import re

from aopt.agent._extract import Clause
from aopt.agent._lexicon import find_benchmarks

__all__ = ["find_objective", "find_constraints", "identifiers", "implicit_products", "slug", "FUNCS"]

_OBJ_VERB = (r"\b(?:(?P<find>find|compute|get|what\s+is|what's)\s+(?:the\s+)?(?P<fsense>min(?:imum|imizer|imiser|ima)?|"
             r"max(?:imum|imizer|imiser|ima)?|optimum|argmin|argmax|smallest\s+value|largest\s+value|lowest\s+value|"
             r"highest\s+value)(?:\s+(?:value|point))?\s+of|(?P<verb>minimi[sz]e|maximi[sz]e|optimi[sz]e|minimum\s+of|"
             r"maximum\s+of|argmin|argmax|(?<![\w\s])min|(?<![\w\s])max|^\s*(?:please\s+)?(?:min|max)|solve)\b)\s*:?\s*")
_MAX_SENSE = (r"\bmaximi[sz]|\bfind\s+(?:the\s+)?(?:max|largest|highest)|\bmaximum\s+(?:value\s+)?of\b|\bargmax\b|"
              r"\b(?:largest|highest)\s+value|^\s*(?:please\s+)?max\b")
_TERM = re.compile(r"\s*(?:[,;?!]|\.(?:\s|$)|\s(?:(?:subject\s+to|subj\.?\s+to|such\s+that|where|with|for|using|use|"
                   r"via|by|within|inside|from|starting|start|over|between|bounded|given|if|when|then|under|"
                   r"constrained|x0|seed|budget|max|maxiter|bounds?|box|domain)\b|s\.\s?t\.?|st\.|"
                   r"and\s+(?=(?:then|compare|show|plot)\b)|in\s+(?=[\[(]|\d|r\b)|on\s+(?=[\[(]))|$)")
FUNCS = {"sin", "cos", "tan", "exp", "log", "log10", "log2", "sqrt", "abs", "sum", "prod", "range", "pi", "e",
          "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan", "atan", "asin", "acos", "min", "max", "for", "in",
          "inf", "pow", "floor", "ceil", "sign", "len", "and", "or", "not", "if", "else", "exp2", "log1p",
          "expm1", "hypot", "atan2", "arctan2", "norm", "dot", "mean", "cbrt", "square", "np", "math"}


def identifiers(expr: str) -> list[str]:
    return [w for w in re.findall(r"[A-Za-z_]\w*", expr) if w.lower() not in FUNCS]


def _looks_like_math(obj: str) -> bool:
    if re.search(r"[a-z]{3,}\s+[a-z]{3,}", obj, re.I) or len(obj) > 1000:
        return False
    if find_benchmarks(obj.lower()) and not re.search(r"[+*/^=<>]", obj):
        return False
    if re.search(r"[+*/^()]|\*\*|[a-z0-9_\])]\s*-\s*[a-z0-9(]|\d[a-z]", obj, re.I):
        return not find_benchmarks(obj.lower()) or bool(re.search(r"[+*/^]", obj))
    return bool(re.fullmatch(r"\s*[a-zA-Z](?:_?\d+)?\s*", obj))


def _strip_objective(obj: str, products: bool = True) -> str:
    obj = obj.strip().strip("`'\"").strip()
    obj = re.sub(r"^(?:the\s+)?(?:(?:objective|expression|function|value)\s+(?:of\s+)?)?", "", obj, flags=re.I)
    m = re.match(r"^[A-Za-z]\w*\s*(?:\([^()]*\))?\s*(?::=|=(?!=)|:)\s*(?=\S)", obj)
    if m and "=" not in obj[m.end():]:
        obj = obj[m.end():]
    obj = obj.strip().rstrip(".?!").strip().strip("`'\"").strip()
    return implicit_products(obj) if products else obj


def implicit_products(obj: str) -> str:
    """Products a person writes without '*': 2x, 100(y - x^2), (x-1)(y+2)."""
    obj = re.sub(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(?=\()", r"\1*", obj)
    obj = re.sub(r"(?<![\w.])(\d+(?:\.\d+)?)(?=[a-df-zA-DF-Z_]|e(?![-+]?\d))", r"\1*", obj)
    return re.sub(r"\)\s*(?=\()|\)(?=[A-Za-z_])", ")*", obj)


def find_objective(c: Clause):
    """(kind, objective text, sense) from 'minimize <expr> ...'; blanks the objective in the clause."""
    sense = "maximize" if re.search(_MAX_SENSE, c.work) else "minimize"
    m = re.search(_OBJ_VERB, c.work)
    if m:
        start = m.end()
        depth, i = 0, start
        while i < len(c.work):
            ch = c.work[i]
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
            elif depth <= 0 and _TERM.match(c.work, i) and (i > start or ch in ",;") and \
                    _TERM.match(c.work, i).end() > i:
                break
            i += 1
        raw = c.text[start:i]
        code = _CODE_SPEC.match(c.text, start)
        if code:  # a user's Python function: model.py:cost
            c.blank(m.start(), code.end())
            return "code", code.group(1), sense
        obj = _strip_objective(raw)
        named = _named_function(obj)
        if named:  # a function registered by name: "minimize my_cost in 4 dims"
            c.blank(m.start(), i)
            return "code", named, sense
        if obj and _looks_like_math(_strip_objective(raw, products=False)) and len(obj) <= 1000:
            c.blank(m.start(), i)
            return "expression", obj, sense
    return None, None, sense


_CODE_SPEC = re.compile(r"\s*[`'\"]?((?:[\w./~-]|\\ )+?\.py:[A-Za-z_]\w*)[`'\"]?(?=[\s,;.]|$)")
_EVERYDAY = {"more", "further", "now", "there", "here", "those", "these", "both", "each", "other", "another",
             "again", "anything", "everything", "nothing", "something", "stuff", "things", "please", "quickly",
             "globally", "locally", "instead", "too", "also", "then", "first", "next", "previous", "latest"}
_NOT_NAMES = {"it", "this", "that", "them", "again", "the", "problem", "function", "objective", "something",
              "run", "runs", "me", "everything", "all", "same", "one", "last", "previous", "best", "result"}


def _named_function(obj: str) -> str | None:
    """A bare identifier that reads as the name of a registered function (my_cost, loss2)."""
    if not re.fullmatch(r"[A-Za-z_]\w{2,}", obj or "") or obj.lower() in _NOT_NAMES or obj.lower() in FUNCS:
        return None
    if find_benchmarks(obj.lower()):
        return None
    if "_" in obj or re.search(r"\d", obj) or not obj.isalpha():
        return obj
    # an all-letter word ("mycost", "energy"): a registered name, unless it is near a benchmark's
    # name (a typo the tool answers with "did you mean ...") or an everyday word; create_problem
    # says "no function is registered as ..." (listing those that are) when it is not one
    from aopt.problems._benchmarks import nearest_benchmark

    if obj.lower() in _EVERYDAY or nearest_benchmark(obj) is not None:
        return None
    return obj


def slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return slug[:24].rstrip("_") or "1"


def find_constraints(c: Clause, objective_ids: set) -> list[str]:
    """Comparisons left in the clause: 'x + y >= 1', 'x*y == 2' (split at top-level and/,/;)."""
    work, out = c.work, []
    seps = re.compile(r"\s*(?:,|;|\band\b|\bsubject\s+to\b|\bsubj\.?\s+to\b|\bs\.\s?t\.?|\bst\.|\bsuch\s+that\b|"
                      r"\bwhere\b|\bwith\b|\bgiven(?:\s+that)?\b|\bconstrained\s+by\b|\bconstraints?\b:?|"
                      r"\busing\b|\bvia\b|\bif\b|\bunder\b)\s*")
    depth, bounds = 0, [0]
    i = 0
    original = c.text

    def consumed(k: int) -> bool:  # read by another extractor (bounds, budget...): never part of a constraint
        return work[k] == " " and not original[k].isspace()

    while i < len(work):
        ch = work[i]
        if consumed(i):
            j = i
            while j < len(work) and (consumed(j) or work[j].isspace()):
                j += 1
            m = seps.match(work, j)
            bounds.extend([i, m.end() if m and m.end() > j else j])
            i = bounds[-1]
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth <= 0:
            m = seps.match(work, i)
            if m and m.end() > i and (m.group().strip() or ch.isspace() is False):
                bounds.extend([i, m.end()])
                i = m.end()
                continue
        i += 1
    bounds.append(len(work))
    ids = {i.lower() for i in objective_ids}
    pending: list[tuple[int, int, str]] = []  # "x, y, z >= 0": the bare names before "z >= 0"
    for k in range(0, len(bounds) - 1, 2):
        s, e = bounds[k], bounds[k + 1]
        piece = work[s:e]
        sep = work[e:bounds[k + 2]] if k + 2 < len(bounds) else ""
        text = c.text[s:e].strip().strip(".?!").strip()
        if re.fullmatch(r"[A-Za-z_]\w*(?:\[\d{1,3}\])?", text) and (text.lower() in ids or re.fullmatch(
                r"[A-Za-z](?:_?\d{1,3}|\[\d{1,3}\])?", text)) and re.fullmatch(r"\s*(?:,|\band\b|&)\s*", sep):
            pending.append((s, e, text))
            continue
        names, pending = pending, []
        if not re.search(r"<=|>=|==|!=|=|<|>", piece):
            continue
        words = {w.lower() for w in re.findall(r"[A-Za-z_]\w*", text)}
        strange = {w for w in words - ids - FUNCS if len(w) >= 4}
        if strange or not re.search(r"[\w)]", text):
            continue
        shared = re.fullmatch(r"([A-Za-z_]\w*(?:\[\d{1,3}\])?)\s*(<=|>=|==|!=|=|<|>)\s*(.+)", text)
        if names and shared and not re.search(r"<|>|=", shared.group(3)):
            for ns, ne, name in names:
                out.append(implicit_products(f"{name} {shared.group(2)} {shared.group(3)}"))
                c.blank(ns, ne)
        out.append(implicit_products(text))
        c.blank(s, e)
    return out
