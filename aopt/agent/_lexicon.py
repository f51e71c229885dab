"""The offline model's vocabulary: benchmark and algorithm names, synonyms, numbers.

Names are matched case- and punctuation-insensitively; benchmark and algorithm
names of five letters or more also match with a typo (difflib, same first letter).
"""

from __future__ import annotations

import difflib
import math
import re

__all__ = [
    "BENCHMARKS", "FIXED_2D", "MULTIMODAL", "ALGORITHMS", "GLOBAL_ALGORITHMS", "CONSTRAINED_ALGORITHMS",
    "normalize_text", "squash", "find_benchmarks", "find_algorithms", "parse_number", "parse_vector",
    "NUM", "WORD_NUMBERS", "fmt_num",
]

# canonical benchmark name -> aliases (squashed: lowercase letters and digits only)
BENCHMARKS: dict[str, tuple[str, ...]] = {
    "sphere": ("sphere", "sumofsquares", "parabola", "paraboloid", "dejong", "dejong1"),
    "rosenbrock": ("rosenbrock", "banana", "rosenbrocks"),
    "rastrigin": ("rastrigin", "rastrigins"),
    "ackley": ("ackley", "ackleys"),
    "griewank": ("griewank", "griewangk", "griewanks"),
    "schwefel": ("schwefel", "schwefels"),
    "levy": ("levy", "levi", "levys"),
    "zakharov": ("zakharov", "zakharovs"),
    "styblinski-tang": ("styblinskitang", "styblinski", "stybtang", "styblinskytang"),
    "beale": ("beale", "beales"),
    "booth": ("booth", "booths"),
    "himmelblau": ("himmelblau", "himmelblaus", "himmelbau"),
    "branin": ("branin", "braninhoo", "branins"),
    "six-hump camel": ("sixhumpcamel", "sixhumpcamelback", "camelback", "sixhump", "camel6", "camel",
                       "sixhumpedcamel"),
    "goldstein-price": ("goldsteinprice", "goldstein", "goldsteinprices"),
    "easom": ("easom", "easoms"),
}
FIXED_2D = {"beale", "booth", "himmelblau", "branin", "six-hump camel", "goldstein-price", "easom"}
MULTIMODAL = {"rastrigin", "ackley", "griewank", "schwefel", "levy", "styblinski-tang", "himmelblau",
              "branin", "six-hump camel", "goldstein-price", "easom"}



def _algorithm_vocabulary():
    """Every algorithm's names, from the registry (aopt.optimize), the one place they are written."""
    from aopt.optimize import list_algorithms

    table, global_, constrained = {}, [], []
    for info in list_algorithms():
        key = re.sub(r"[^a-z0-9]", "", info.name.lower())  # as squash() below
        table[info.name] = tuple(dict.fromkeys([key, *(re.sub(r"[^a-z0-9]", "", a.lower()) for a in info.aliases)]))
        if info.family == "global":
            global_.append(info.name)
        if info.handles_constraints and info.name != "auto":
            constrained.append(info.name)
    return table, tuple(global_), tuple(constrained)


ALGORITHMS, GLOBAL_ALGORITHMS, CONSTRAINED_ALGORITHMS = _algorithm_vocabulary()
# aliases that are ordinary words: they count only after "with/using/via/by" or in capitals
_WEAK_ALGORITHM_ALIASES = {"direct", "automatic", "automatically", "evolution", "evolutionary",
                           "basin", "newton", "simplex", "sa", "da", "nm", "auto", "annealing"}
_STRONG_BEFORE = re.compile(r"(?:\bwith|\busing|\buse|\bvia|\bby|\band|\bor|\bthen|\btry|,|\bvs\.?|\bversus|"
                            r"\balgorithms?|\bmethods?|\boptimi[sz]ers?|\bsolvers?)(?:\s+(?:the|a|an))?$")
_STRONG_AFTER = re.compile(r"^\W*(?:method|algorithm|optimi[sz]er|solver|search)")

# common English words never taken as a typo of a name
_COMMON = set("""
about above after again algorithm algorithms all also among another answer anything around before below
between both bound bounds budget check close compare constraint constraints continue could default
dimension dimensions dimensional direction domain each evaluate evaluations every find first from function
given global great having himself index inside instead interval later least level limit local lower maximize
maximum minimize minimum method methods model never number optimize other output please point points
problem problems random range rather result results round second seeds shape should show single small
smaller solve space square start started state steps subject such their these things third those three
times under until upper using value values variable variables where which while within without world would
write zeros simple simply bounded better basic bench booths camels cobble power powers newer branch brain
""".split())

NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_NUM_TOKEN = re.compile(
    r"^\s*([-+]?)\s*(?:(inf(?:inity)?|∞)|(\d+(?:\.\d*)?|\.\d+)(?:[eE]([-+]?\d+))?\s*(\*?\s*(?:pi|π))?|(pi|π))\s*$",
    re.IGNORECASE)
WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
                "thirty": 30, "fifty": 50, "hundred": 100}

_UNICODE = {
    "\u2212": "-", "\u2013": "-", "\u2014": " - ", "\u2010": "-", "\u2011": "-", "\u2264": "<=",
    "\u2265": ">=", "\u2260": "!=", "\u00d7": "*", "\u00b7": "*", "\u22c5": "*", "\u2217": "*",
    "\u00b2": "^2", "\u00b3": "^3", "\u2074": "^4", "\u2019": "'", "\u2018": "'", "\u201c": '"',
    "\u201d": '"', "\u2208": " in ", "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u2026": "...",
    "\uff0c": ",", "\u00f7": "/", "\u2032": "'", "\u2080": "0", "\u2081": "1", "\u2082": "2", "\u2083": "3",
}


def normalize_text(text: str) -> str:
    """Unicode operators to ASCII, one line; keeps the letters' case."""
    out = []
    for ch in text:
        rep = _UNICODE.get(ch)
        if rep is not None:
            out.append(rep)
        elif ch in "\r\n\t\f\v":
            out.append(" ")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(" ")
    return "".join(out)


def squash(text: str) -> str:
    """Lowercase letters and digits only: 'L-BFGS-B' -> 'lbfgsb'."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _fuzzy(word: str, table: dict[str, tuple[str, ...]], cutoff: float) -> str | None:
    if len(word) < 5 or word in _COMMON or not word.isalpha():
        return None
    best, best_ratio = None, cutoff
    for canon, aliases in table.items():
        for alias in aliases:
            if len(alias) < 5 or alias[0] != word[0]:
                continue
            ratio = difflib.SequenceMatcher(None, word, alias).ratio()
            if ratio > best_ratio:
                best, best_ratio = canon, ratio
    return best


_GENERIC = {"function", "functions", "problem", "benchmark", "method", "algorithm", "test", "search", "with", "and",
            "the", "for", "from", "using", "via", "dims", "dim", "over", "into", "then", "run", "runs", "its"}
_WORD = re.compile(r"[a-z0-9]+(?:'s)?")


def _ngram_matches(work: str, table, weak=frozenset(), allow_fuzzy=True, cutoff=0.8):
    """(start, end, canonical) for names in `work` (already lowercase), longest first, no overlap."""
    words = [(m.start(), m.end(), m.group().removesuffix("'s")) for m in _WORD.finditer(work)]
    lookup = {alias: canon for canon, aliases in table.items() for alias in aliases}
    found, i = [], 0
    while i < len(words):
        hit = None
        for n in (4, 3, 2, 1):
            if i + n > len(words):
                continue
            seg = words[i:i + n]
            # the words of one name are joined by spaces, hyphens or underscores only
            gap_ok = all(re.fullmatch(r"[\s\-_/]*", work[seg[k][1]:seg[k + 1][0]]) for k in range(n - 1))
            if not gap_ok:
                continue
            key = "".join(w for _, _, w in seg)
            canon = lookup.get(key)
            if canon is None and n == 1 and allow_fuzzy:
                canon = _fuzzy(key, table, cutoff)
            if canon is None and n == 2 and allow_fuzzy and len(key) >= 9 and \
                    all(len(w) >= 3 and w.isalpha() and w not in _COMMON and w not in _GENERIC for _, _, w in seg):
                canon = _fuzzy(key, table, 0.85)
            if canon is not None:
                if n == 1 and key in weak and not _strong(work, seg[0][0], seg[0][1]):
                    continue
                hit = (seg[0][0], seg[-1][1], canon, n)
                break
        if hit:
            found.append(hit[:3])
            i += hit[3]
        else:
            i += 1
    return found


def _strong(work: str, start: int, end: int) -> bool:
    before = work[max(0, start - 30):start].rstrip()
    return bool(_STRONG_BEFORE.search(before) or _STRONG_AFTER.match(work[end:end + 20]))


def find_benchmarks(work: str) -> list[tuple[int, int, str]]:
    """Benchmark names in lowercase text: [(start, end, canonical)]."""
    return _ngram_matches(work, BENCHMARKS, cutoff=0.79)


def find_algorithms(work: str, original: str | None = None) -> list[tuple[int, int, str]]:
    """Algorithm names in lowercase text; weak aliases ('direct', 'newton') need a 'with'/'using'
    before them or capitals in the original text."""
    hits = _ngram_matches(work, ALGORITHMS, weak=_WEAK_ALGORITHM_ALIASES, cutoff=0.82)
    if original is not None:
        for m in re.finditer(r"\b(DIRECT|DE|NM|SA)\b", original):
            if not any(s <= m.start() < e for s, e, _ in hits) and work[m.start():m.end()].strip():
                hits.append((m.start(), m.end(), {"DIRECT": "direct", "DE": "differential_evolution",
                                                  "NM": "Nelder-Mead", "SA": "dual_annealing"}[m.group(1)]))
    return sorted(hits)


def parse_number(text: str) -> float | None:
    """'1e-3', '-2', 'inf', 'pi', '2pi' -> float; None when it is not a number."""
    m = _NUM_TOKEN.match(text or "")
    if not m:
        return None
    sign = -1.0 if m.group(1) == "-" else 1.0
    if m.group(2):
        return sign * math.inf
    if m.group(6):
        return sign * math.pi
    try:
        value = float(m.group(3) + ("e" + m.group(4) if m.group(4) else ""))
    except (ValueError, OverflowError):
        return None
    if m.group(5):
        value *= math.pi
    return sign * value


def parse_vector(text: str) -> list[float] | None:
    """'(1, 2)', '[0,0,0]', '1 2 3', '1; 2' -> list of floats; None unless every item is a number."""
    body = text.strip().strip("[](){}").strip()
    if not body:
        return None
    parts = [p for p in re.split(r"\s*[,;]\s*|\s+", body) if p]
    values = [parse_number(p) for p in parts]
    if not values or any(v is None or not math.isfinite(v) for v in values):
        return None
    return [float(v) for v in values]


def fmt_num(value) -> str:
    """6 significant digits; small values stay visible (3e-07, never 0)."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"
    return f"{v:.6g}"
