"""Argument extractors of the offline grammar: dimension, bounds, start point, budget, seed, options.

Each extractor reads a `Clause` and blanks out what it consumed, so a number is
never read twice (the 10 of "10D" is not also a budget).
"""

from __future__ import annotations

import math
import re

from aopt.agent._lexicon import WORD_NUMBERS, parse_number, parse_vector

__all__ = ["Clause", "extract_seed", "extract_budget", "extract_dimension", "extract_start",
           "extract_bounds", "extract_run_ids", "VAR", "NUMX", "RANGE"]

NUMX = (r"[-+]?\s*(?:(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?(?:\s*\*?\s*(?:pi|π))?|inf(?:inity)?|pi|π|∞)")
RANGE = rf"[\[(]\s*({NUMX})\s*[,;]\s*({NUMX})\s*[\])]"
VAR = r"[a-z](?:_?\d{1,3}|\[\d{1,3}\])?"
_INT = r"(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?(?:e\+?\d+)?)(\s*k\b)?"
_EVALS = r"(?:(?:function|objective|func|f)\s*[- ]?)?(?:evaluations?|evals?|fevals?|fevs?|calls|nfev)\b"
_WORDNUM = "|".join(sorted(WORD_NUMBERS, key=len, reverse=True))


class Clause:
    """One clause of a request: the original text, and a lowercase working copy of the same length."""

    def __init__(self, text: str):
        self.text = text
        self.low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
        self.work = self.low

    def blank(self, start: int, end: int) -> None:
        self.work = self.work[:start] + " " * (end - start) + self.work[end:]

    def take(self, pattern: str, flags: int = 0):
        """The first match of `pattern` in the working text, blanked; None when absent."""
        m = re.search(pattern, self.work, flags)
        if m:
            self.blank(m.start(), m.end())
        return m

    def take_all(self, pattern: str):
        out = list(re.finditer(pattern, self.work))
        for m in out:
            self.blank(m.start(), m.end())
        return out

    def has(self, pattern: str) -> bool:
        return re.search(pattern, self.work) is not None

    def original(self, start: int, end: int) -> str:
        return self.text[start:end]


def _to_int(digits: str, k: str | None) -> int | None:
    try:
        value = float(digits.replace(",", ""))
    except ValueError:
        return None
    if k:
        value *= 1000
    if not math.isfinite(value) or value < 0 or value > 1e12:
        return None
    return int(value)


def extract_seed(c: Clause) -> int | None:
    m = c.take(r"\b(?:random\s+|rng\s+)?seed(?:ed)?\s*(?:with|=|:|of|is|to|number|value)?\s*#?\s*(\d{1,12})\b")
    return int(m.group(1)) if m else None


def extract_budget(c: Clause) -> tuple[int | None, dict]:
    """(max_evaluations, options) from 'with 500 evaluations', 'budget of 2000', 'maxiter 50'..."""
    options: dict = {}
    budget = None
    m = c.take(r"\b(?:max(?:imum)?[_ ]?(?:number\s+of\s+)?iter(?:ation)?s?|max\s*iter|iter(?:ation)?s?[_ ]?(?:limit|"
               r"budget|cap|max)|iteration\s+limit)\s*(?:of|=|:|is|to|at)?\s*" + _INT)
    if not m:
        m = c.take(r"(?<![\w.])" + _INT + r"\s+(?:max(?:imum)?\s+)?iter(?:ation)?s?\b")
    if m:
        n = _to_int(m.group(1), m.group(2))
        if n:
            options["maxiter"] = n
    m = c.take(r"\b(?:(?:max(?:imum)?|evaluation|eval|function\s+evaluation)[_ ]?(?:budget|evals?|evaluations|fevals?"
               r"|nfev|fev|function\s+evaluations|calls)|budget|maxfev|maxfun|max_evaluations|max_evals|"
               r"evaluation\s+limit|limit)\s*(?:of|=|:|is|to|at)?\s*" + _INT + r"(?:\s*" + _EVALS + r")?")
    if not m:
        m = c.take(r"(?<![\w.\[(,-])" + _INT + r"\s*(?:max(?:imum)?\s+|total\s+)?" + _EVALS)
    if m:
        budget = _to_int(m.group(1), m.group(2))
    for key, value in re.findall(r"\b(popsize|maxcor|gtol|ftol|xtol|xatol|fatol|niter|mutation|recombination|"
                                 r"stepsize|initial_temp|maxls|eps)\s*(?:=|:|of|to)?\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)"
                                 r"(?:e[-+]?\d+)?)", c.work):
        v = float(value)
        options[key] = int(v) if key in ("popsize", "maxcor", "niter", "maxls") else v
    c.take_all(r"\b(?:popsize|maxcor|gtol|ftol|xtol|xatol|fatol|niter|mutation|recombination|stepsize|initial_temp"
               r"|maxls|eps)\s*(?:=|:|of|to)?\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?")
    return budget, options


def extract_dimension(c: Clause) -> int | None:
    pats = [
        rf"\b(\d{{1,6}}|{_WORDNUM})\s*-?\s*(?:d|dim|dims|dimensions?|dimensional|dimension-al|vars?|variables?|"
        r"parameters?|unknowns|coordinates|decision\s+variables)\b(?!\s*=)",
        r"\b(?:n|d|dim|dims|ndim|n_dim|n_dims|dimension|dimensions|dimensionality|nvars|n_vars|num_vars|"
        r"number\s+of\s+(?:dimensions|variables|parameters))\s*(?:=|:|of|is|to)?\s*(\d{1,6})\b",
        r"\bin\s+r\s*\^?\s*(\d{1,6})\b",
    ]
    for p in pats:
        m = c.take(p)
        if m:
            word = m.group(1)
            n = WORD_NUMBERS.get(word) if word in WORD_NUMBERS else int(word)
            if n and n > 0:
                return n
    return None


def _named_vector(text: str) -> list[float] | None:
    pairs = re.findall(rf"({VAR})\s*=\s*({NUMX})", text)
    if not pairs:
        return None
    values = {}
    for name, num in pairs:
        v = parse_number(num.replace(" ", ""))
        if v is None:
            return None
        values[name] = v
    return [values[k] for k in sorted(values, key=_natural)]


def _natural(name: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


_START = (r"(?:\bx_?0\b|\binitial\s+(?:point|guess|value|iterate|x|position)|\bstart(?:ing)?\s*(?:point|guess|value|"
          r"position|vector)?\s*(?:at|from|in|=|:|of|is)?|\bbeginning\s+(?:at|from)|\bfrom\s+(?:the\s+)?(?:point|"
          r"position)?|\binit(?:ial)?\s*=)")


def extract_start(c: Clause):
    """A start point: list of floats, "zeros"/"ones", or None."""
    m = c.take(_START + r"\s*(?:=|:|at|of|is)?\s*(?:the\s+)?(?:point\s+)?(origin|zeros?|all\s+zeros|ones|all\s+ones)\b")
    if m:
        return "ones" if "one" in m.group(1) else "zeros"
    m = c.take(_START + rf"\s*(?:=|:|at|of|is)?\s*[\[(]?\s*((?:{VAR}\s*=\s*{NUMX}\s*(?:,|and|;)?\s*)+)[\])]?")
    if m:
        vec = _named_vector(m.group(1))
        if vec:
            return vec
    m = c.take(_START + rf"\s*(?:=|:|at|of|is)?\s*(\[[^\[\]]*\]|\([^()]*\)|{NUMX}(?:\s*,\s*{NUMX})*)(?:\s*\^?\s*\*?\s*(\d+))?")
    if m:
        vec = parse_vector(m.group(1).replace(" ", "") if "," in m.group(1) else m.group(1))
        if vec is None:
            vec = parse_vector(m.group(1))
        if vec is not None:
            if m.group(2) and len(vec) == 1 and m.group(1).startswith("["):
                vec = vec * int(m.group(2))
            return vec
    return None


def _num(text: str) -> float | None:
    return parse_number(text.replace(" ", ""))


def _pair(lo: str, hi: str):
    a, b = _num(lo), _num(hi)
    if a is None or b is None:
        return None
    if a > b:
        a, b = b, a
    return [a, b]


def extract_bounds(c: Clause, extra_vars: tuple[str, ...] = ()):
    """(pair or list of pairs or None, {var: [lo, hi]}, dimension from a '^n' power or None)."""
    names = "|".join([re.escape(v) for v in sorted(extra_vars, key=len, reverse=True) if len(v) > 1] + [VAR])
    var = rf"(?:{names})"
    per: dict = {}
    # 0 <= x <= 5 ; -2 < y < 2 ; 5 >= x >= 0
    for m in c.take_all(rf"(?<![\w.\]\)])({NUMX})\s*(<=?|>=?)\s*({var})\s*(<=?|>=?)\s*({NUMX})(?![\w.(\[])"):
        if m.group(2)[0] == m.group(4)[0]:
            p = _pair(m.group(1), m.group(5))
            if p:
                per[m.group(3)] = p
    # for x, y in [0, 5] ; x ∈ [0, 5] ; x within (-1, 1)
    for m in c.take_all(rf"(?:\bfor\s+|\bwith\s+)?\b({var}(?:\s*(?:,|and)\s*{var})*)\s+(?:are\s+|is\s+|both\s+|each\s+|all\s+)?"
                        rf"(?:in|within|inside|lies\s+in|lie\s+in|ranges?\s+(?:over|in))\s*(?:the\s+)?(?:interval\s+)?{RANGE}"):
        p = _pair(m.group(2), m.group(3))
        if p:
            for name in re.findall(var, m.group(1)):
                per[name] = p
    # x between 0 and 1 ; x from 0 to 5
    for m in c.take_all(rf"\b({var})\s+(?:is\s+)?(?:between|from|ranging\s+from)\s+({NUMX})\s+(?:and|to|\.\.)\s+({NUMX})"):
        p = _pair(m.group(2), m.group(3))
        if p:
            per[m.group(1)] = p
    pair = None
    dim = None
    # bounds [[0, 1], [0, 2]]
    m = c.take(rf"\bbounds?\s*(?:=|:|of|are)?\s*\[\s*({RANGE}(?:\s*,\s*{RANGE})+)\s*\]")
    if m:
        pairs = [_pair(a, b) for a, b in re.findall(RANGE, m.group(1))]
        if all(pairs):
            pair = pairs
    if pair is None:
        m = c.take(rf"(?:\b(?:within|in|inside|on|over|bounds?|bounded\s+(?:by|in|to|on)|box|domain|range|limits?|"
                   rf"search\s+(?:space|domain|region|box)|interval|all\s+variables\s+in|each\s+variable\s+in)"
                   rf"\s*(?:of|=|:|is|are|by)?\s*(?:the\s+)?(?:box|domain|interval|range|cube|hypercube|square)?\s*)?"
                   rf"{RANGE}(?:\s*\^\s*\(?(\d+|n|d)\)?)?")
        if m:
            pair = _pair(m.group(1), m.group(2))
            if m.group(3) and m.group(3).isdigit():
                dim = int(m.group(3))
    if pair is None:
        m = c.take(rf"\b(?:bounds?|bounded|box|domain|range|limits?|variables?|search)\s*(?:of|=|:|is|are|by|between|"
                   rf"from|in)?\s*({NUMX})\s*(?:to|and|\.\.|\.\.\.)\s*({NUMX})")
        if not m:
            m = c.take(rf"\bbetween\s+({NUMX})\s+and\s+({NUMX})")
        if m:
            pair = _pair(m.group(1), m.group(2))
    return pair, per, dim


_CONNECT = r"(?:\s*(?:,|and|&|vs\.?|versus|with|to|or|\+)\s*(?:runs?\s*)?(?:#|no\.?|number|id)?\s*|\s+)"


def extract_run_ids(c: Clause, bare: bool = False) -> list[int]:
    """Run ids after 'run'/'runs'/'#' ('runs 2, 3 and 4', '#3 vs #4'); every integer when `bare`."""
    ids: list[int] = []
    for m in c.take_all(rf"(?:\bruns?\b\s*(?:#|no\.?|number|ids?)?|#)\s*(\d{{1,9}})((?:{_CONNECT}#?\d{{1,9}}\b)*)"):
        ids.append(int(m.group(1)))
        ids.extend(int(x) for x in re.findall(r"\d+", m.group(2)))
    if bare and not ids:
        for m in c.take_all(r"(?<![\w.\-])(\d{1,9})(?![\w.])"):
            ids.append(int(m.group(1)))
    seen, out = set(), []
    for i in ids:
        if i not in seen:
            seen.add(i)
            out.append(i)
    return out
