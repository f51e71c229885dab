"""Bounds in the forms people write them, normalized to one (lo, hi) float pair per variable."""

from __future__ import annotations

import json
import math
import numbers
import re
from typing import Optional, Sequence

import numpy as np

from aopt.errors import InvalidInput

__all__ = ["normalize_bounds", "encode_bounds", "ACCEPTED_BOUNDS"]

INF = math.inf
ACCEPTED_BOUNDS = ("Accepted bounds: none (the default domain), one pair [lo, hi] for every variable, a list "
                   "with one pair per variable, or a dict {name: [lo, hi]} (missing names unbounded); "
                   "None, 'inf' or '-inf' mean unbounded on that side, and lo <= hi.")
_INF_WORDS = {"inf": INF, "+inf": INF, "infinity": INF, "+infinity": INF, "-inf": -INF, "-infinity": -INF,
              "none": None, "null": None, "": None}


def _is_scalar(v) -> bool:
    return v is None or isinstance(v, (numbers.Real, str, np.generic)) and not isinstance(v, bool)


def _value(v, side: str, name: str):
    default = -INF if side == "lower" else INF
    if v is None:
        return default
    if isinstance(v, bool):
        raise InvalidInput(f"the {side} bound of {name} is {v!r}; a bound must be a number. {ACCEPTED_BOUNDS}")
    if isinstance(v, str):
        key = v.strip().lower()
        if key in _INF_WORDS:
            w = _INF_WORDS[key]
            return default if w is None else w
        try:
            v = float(key)
        except ValueError:
            raise InvalidInput(f"the {side} bound of {name} is {v!r}, not a number. {ACCEPTED_BOUNDS}") from None
    try:
        f = float(v)
    except (TypeError, ValueError, OverflowError):
        raise InvalidInput(f"the {side} bound of {name} is {v!r:.60}, not a number. {ACCEPTED_BOUNDS}") from None
    if math.isnan(f):
        raise InvalidInput(f"the {side} bound of {name} is NaN. {ACCEPTED_BOUNDS}")
    return f


def _pair(p, name: str) -> tuple[float, float]:
    if isinstance(p, dict):
        keys = {str(k).lower(): v for k, v in p.items()}
        lo = next((keys[k] for k in ("lo", "low", "lower", "min", "lb") if k in keys), None)
        hi = next((keys[k] for k in ("hi", "high", "upper", "max", "ub") if k in keys), None)
        p = (lo, hi)
    if isinstance(p, np.ndarray):
        p = p.tolist()
    if not isinstance(p, (list, tuple)) or len(p) != 2 or not all(_is_scalar(v) for v in p):
        raise InvalidInput(f"the bounds of {name} are {p!r:.80}; expected a pair [lo, hi]. {ACCEPTED_BOUNDS}")
    lo, hi = _value(p[0], "lower", name), _value(p[1], "upper", name)
    if lo == INF or hi == -INF:
        raise InvalidInput(f"the bounds of {name} are [{lo}, {hi}]; a lower bound cannot be +inf nor an upper "
                           f"bound -inf. {ACCEPTED_BOUNDS}")
    if lo > hi:
        raise InvalidInput(f"the bounds of {name} are [{lo:g}, {hi:g}]: the lower bound is above the upper "
                           f"bound. {ACCEPTED_BOUNDS}")
    return (lo, hi)


def _aliases(variables: Sequence[str]) -> dict[str, str]:
    """Other spellings of variable names: x[0] <-> x1 for benchmarks, plus exact names."""
    out = {v: v for v in variables}
    for v in variables:
        m = re.fullmatch(r"([A-Za-z_]\w*?)(\d+)", v)
        if m and f"{m.group(1)}1" in out:
            out.setdefault(f"{m.group(1)}[{int(m.group(2)) - 1}]", v)
    return out


def normalize_bounds(bounds, variables: Sequence[str],
                     defaults: Optional[Sequence[tuple[float, float]]] = None) -> list[tuple[float, float]]:
    """One (lo, hi) per variable, from any accepted form (see ACCEPTED_BOUNDS)."""
    n = len(variables)
    if bounds is None:
        if defaults is not None:
            return [(float(lo), float(hi)) for lo, hi in defaults]
        return [(-INF, INF)] * n
    if isinstance(bounds, str):
        text = re.sub(r"(?i)(-?)\binf(inity)?\b", lambda m: '"' + m.group(1) + 'inf"', bounds)
        try:
            bounds = json.loads(text.replace("(", "[").replace(")", "]").replace("'", '"'))
        except ValueError:
            raise InvalidInput(f"could not read bounds {bounds!r:.100}. {ACCEPTED_BOUNDS}") from None
    if isinstance(bounds, np.ndarray):
        bounds = bounds.tolist()
    if isinstance(bounds, dict):
        names = _aliases(variables)
        if {str(k).lower() for k in bounds} <= {"lo", "low", "lower", "min", "lb", "hi", "high", "upper", "max", "ub"}:
            return [_pair(bounds, "every variable")] * n
        out = {v: (-INF, INF) for v in variables}
        vectors = {v.split("[")[0] for v in variables if "[" in v}
        for key, pair in bounds.items():
            key = str(key).strip()
            if key in vectors:  # {"x": [lo, hi]} for every element of vector x
                for v in variables:
                    if v.startswith(key + "["):
                        out[v] = _pair(pair, v)
            elif key in names:
                out[names[key]] = _pair(pair, key)
            elif key and all(re.fullmatch(re.escape(key) + r"\d+", v) for v in variables):
                for v in variables:  # {"x": [lo, hi]} for x1 ... xn (a code objective's variables)
                    out[v] = _pair(pair, v)
            else:
                raise InvalidInput(f"bounds name an unknown variable {key!r}; the variables are "
                                   f"{', '.join(variables)}. {ACCEPTED_BOUNDS}")
        return [out[v] for v in variables]
    if not isinstance(bounds, (list, tuple)):
        raise InvalidInput(f"bounds must be a pair, a list of pairs or a dict; got {type(bounds).__name__}. "
                           f"{ACCEPTED_BOUNDS}")
    if len(bounds) == 2 and all(_is_scalar(v) for v in bounds):
        return [_pair(bounds, "every variable")] * n
    if len(bounds) == 1:
        return [_pair(bounds[0], "every variable")] * n
    if len(bounds) != n:
        raise InvalidInput(f"got {len(bounds)} bound pairs for {n} variables ({', '.join(variables)}); give one "
                           f"pair per variable or a single pair for all. {ACCEPTED_BOUNDS}")
    return [_pair(p, v) for p, v in zip(bounds, variables)]


def encode_bounds(bounds: Sequence[tuple[float, float]]) -> list[list[Optional[float]]]:
    """JSON-ready bounds: infinities become None."""
    return [[None if math.isinf(lo) else float(lo), None if math.isinf(hi) else float(hi)] for lo, hi in bounds]
