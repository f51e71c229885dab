"""Argument extractors of the offline grammar: dimension, bounds, start point, budget, seed, options.

Each extractor reads a `Clause` and blanks out what it consumed, so a number is
never read twice (the 10 of "10D" is not also a budget).
"""

from __future__ import annotations

import math
import re

from aopt.agent._lexicon import WORD_NUMBERS, parse_number, parse_vector

__all__ = ["Clause", "extract_seed", "extract_budget", "extract_dimension", "extract_start",
           "extract_bounds", "extract_run_ids", "parse_amount", "VAR", "NUMX", "RANGE", "AMOUNT"]

NUMX = (r"[-+]?\s*(?:(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?(?:\s*\*?\s*(?:pi|π))?|inf(?:inity)?|pi|π|∞)")
RANGE = rf"[\[(]\s*({NUMX})\s*[,;]\s*({NUMX})\s*[\])]"
VAR = r"[a-z](?:_?\d{1,3}|\[\d{1,3}\])?"
_WORDNUM = "|".join(sorted(WORD_NUMBERS, key=len, reverse=True))
_SCALES = {"hundred": 100, "k": 1e3, "thousand": 1e3, "thousands": 1e3, "m": 1e6, "mil": 1e6, "mio": 1e6,
           "million": 1e6, "millions": 1e6, "mln": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9}
_SCALE = r"(?:thousands?|millions?|mil|mio|mln|billion|bn|hundred|k|m|b)"
# an amount: 500, 2,000,000, 1.5e6, 500k, 2M, 2 million, 50 thousand, a million, two hundred thousand
AMOUNT = (rf"(?:(?:\d{{1,3}}(?:,\d{{3}})+|\d+(?:\.\d+)?(?:e\+?\d+)?)(?:\s*{_SCALE}(?:\s+{_SCALE})?)?\b|"
          rf"(?:an?|{_WORDNUM})\s+(?:hundred\s+)?(?:thousand|million|billion)\b|(?:{_WORDNUM})\b)")
_INT = rf"({AMOUNT})"
_EVALS = (r"(?:(?:objective\s+|cost\s+)?(?:function|objective|func|f)\s*[- ]?)?(?:evaluations?|evals?|fevals?|fevs?|"
          r"calls|nfev)\b")


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


def parse_amount(text: str) -> int | None:
    """'2 million', '2M', '2e6', '2,000,000', '500k', 'a million', 'fifty thousand' -> int; None otherwise."""
    words = re.findall(r"\d[\d,]*(?:\.\d+)?(?:e\+?\d+)?|[a-z]+", (text or "").lower())
    if not words:
        return None
    first, rest = words[0], words[1:]
    try:
        if first[0].isdigit():
            value = float(first.replace(",", ""))
        elif first in ("a", "an"):
            value = 1.0
        elif first in WORD_NUMBERS:
            value = float(WORD_NUMBERS[first])
        else:
            return None
    except (ValueError, OverflowError):
        return None
    for w in rest:
        if w not in _SCALES:
            return None
        value *= _SCALES[w]
    if not math.isfinite(value) or value < 0 or value > 1e12:
        return None
    return int(round(value))


def extract_seed(c: Clause) -> int | None:
    m = c.take(r"\b(?:random\s+|rng\s+)?seed(?:ed)?\s*(?:with|=|:|of|is|to|number|value)?\s*#?\s*(\d{1,12})\b")
    return int(m.group(1)) if m else None


# SciPy option names a request may set ("maxfev=2000", "popsize 20", "strategy=best1bin"); the tool checks
# that the chosen method accepts them. Lowercase spelling -> SciPy's spelling.
_OPT_INT = ("popsize", "maxcor", "niter", "maxls", "maxfev", "maxfun", "maxCGit", "minfev", "iters", "interval",
            "niter_success", "subproblem_maxiter")
_OPT_FLOAT = ("gtol", "ftol", "xtol", "xatol", "fatol", "xrtol", "tol", "atol", "catol", "eps", "mutation",
              "recombination", "stepsize", "initial_temp", "rhobeg", "f_target", "feasibility_tol", "barrier_tol",
              "initial_tr_radius", "final_tr_radius", "initial_trust_radius", "max_trust_radius",
              "restart_temp_ratio", "target_accept_rate", "stepwise_factor", "f_min", "f_min_rtol", "vol_tol",
              "len_tol", "c1", "c2", "eta", "visit", "accept", "stepmx", "accuracy", "initial_constr_penalty",
              "initial_barrier_parameter", "initial_barrier_tolerance")
_OPT_BOOL = ("adaptive", "polish", "disp", "locally_biased", "no_local_search", "rescale")
_OPT_TEXT = ("strategy", "init", "updating", "sampling_method", "local_method", "factorization_method")
_OPT_NAMES = {n.lower(): n for n in _OPT_INT + _OPT_FLOAT + _OPT_BOOL + _OPT_TEXT}
# names that read as ordinary words need "=" or ":" ("eta = 0.1", never "eta 0.1")
_OPT_LOOSE = {n for n in _OPT_NAMES if "_" in n or n.startswith("max") or n.endswith("tol") or n in (
    "popsize", "niter", "minfev", "eps", "mutation", "recombination", "stepsize", "rhobeg")}
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?"


def _options(c: Clause) -> dict:
    options: dict = {}
    names = "|".join(sorted(_OPT_NAMES, key=len, reverse=True))
    pat = (rf"(?<![\w.])({names})(?:\s*(=|:)\s*|\s+(?:of\s+|to\s+)?)"
           rf"({AMOUNT}|{_NUMBER}|true|false|yes|no|on|off|[a-z][\w\-]*)(?![\w.])")
    for m in list(re.finditer(pat, c.work)):
        key, strict, raw = _OPT_NAMES[m.group(1)], bool(m.group(2)), m.group(3)
        if not strict and m.group(1) not in _OPT_LOOSE:
            continue
        value = None
        if key in _OPT_INT:
            value = parse_amount(raw)
        elif key in _OPT_FLOAT:
            if re.fullmatch(_NUMBER, raw):
                value = float(raw)
        elif key in _OPT_BOOL:
            value = {"true": True, "yes": True, "on": True, "1": True,
                     "false": False, "no": False, "off": False, "0": False}.get(raw)
        elif strict and re.fullmatch(r"[a-z][\w\-]*", raw):
            value = c.original(m.start(3), m.end(3))
        if value is None:
            continue
        options[key] = value
        c.blank(m.start(), m.end())
    return options


def extract_budget(c: Clause) -> tuple[int | None, dict]:
    """(max_evaluations, options) from 'with 500 evaluations', 'budget of 2 million', 'maxiter 50',
    'maxfev=2000'... (maxfev/maxfun are SciPy options, kept as written; the planner fits them to the method)."""
    options: dict = {}
    budget = None
    m = c.take(r"\b(?:max(?:imum)?[_ ]?(?:number\s+of\s+)?iter(?:ation)?s?|max\s*iter|iter(?:ation)?s?[_ ]?(?:limit|"
               r"budget|cap|max)|iteration\s+limit)\s*(?:of|=|:|is|to|at)?\s*" + _INT)
    if not m:
        m = c.take(r"(?<![\w.])" + _INT + r"\s+(?:max(?:imum)?\s+)?iter(?:ation)?s?\b")
    if m:
        n = parse_amount(m.group(1))
        if n:
            options["maxiter"] = n
    options.update(_options(c))
    m = c.take(r"\b(?:(?:max(?:imum)?|evaluation|eval|function\s+evaluation)[_ ]?(?:budget|evals?|evaluations|fevals?"
               r"|nfev|fev|function\s+evaluations|calls)|budget|max_evaluations|max_evals|"
               r"evaluation\s+limit|limit)\s*(?:of|=|:|is|to|at)?\s*" + _INT + r"(?:\s*" + _EVALS + r")?")
    if not m:
        m = c.take(r"(?<![\w.\[(,-])" + _INT + r"\s*(?:-\s*)?(?:max(?:imum)?\s+|total\s+)?(?:" + _EVALS +
                   r"|(?:function\s+)?eval(?:uation)?\s+(?:budget|limit|cap)\b)")
    if m:
        budget = parse_amount(m.group(1))
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
    m = c.take(_START + rf"\s*(?:=|:|at|of|is)?\s*(\[[^\[\]]*\]|\([^()]*\)|{NUMX}(?:\s*,\s*{NUMX})*)"
               r"(?![\w.]|\s*(?:to|\.\.)\s*[-+\d.])(?:\s*\^?\s*\*?\s*(\d+))?")
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
    var = rf"(?:{names})(?![\w\[])"
    # several variables named together: "x, y and z", "x,y,z", "x & y"
    many = rf"{var}(?:\s*(?:,\s*(?:and\s+)?|\band\b|&)\s*{var})*"
    per: dict = {}

    def each(names_text: str, p) -> None:
        if p:
            for name in re.split(r"\s*(?:,|\band\b|&)\s*", names_text.strip()):
                if re.fullmatch(var, name):
                    per[name] = p

    # 0 <= x <= 5 ; -2 < y < 2 ; 5 >= x >= 0 ; 0 <= x, y <= 1
    for m in c.take_all(rf"(?<![\w.\]\)])({NUMX})\s*(<=?|>=?)\s*({many})\s*(<=?|>=?)\s*({NUMX})(?![\w.(\[])"):
        if m.group(2)[0] == m.group(4)[0]:
            each(m.group(3), _pair(m.group(1), m.group(5)))
    # for x, y in [0, 5] ; x ∈ [0, 5] ; x within (-1, 1)
    for m in c.take_all(rf"(?:\bfor\s+(?:all\s+)?|\bwith\s+|\bwhere\s+)?\b({many})\s+(?:are\s+|is\s+|both\s+|each\s+|"
                        rf"all\s+)?(?:in|within|inside|lies\s+in|lie\s+in|ranges?\s+(?:over|in))\s*(?:the\s+)?"
                        rf"(?:interval\s+)?{RANGE}"):
        each(m.group(1), _pair(m.group(2), m.group(3)))
    # x between 0 and 1 ; x from 0 to 5 ; x, y and z between 0 and 42
    for m in c.take_all(rf"(?:\bfor\s+(?:all\s+)?|\bwith\s+|\bwhere\s+)?\b({many})\s+(?:is\s+|are\s+|both\s+|each\s+|"
                        rf"all\s+)?(?:between|from|ranging\s+from|range\s+from|ranges\s+from)\s+({NUMX})\s+"
                        rf"(?:and|to|\.\.)\s+({NUMX})"):
        each(m.group(1), _pair(m.group(2), m.group(3)))
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
