"""The vocabulary of safe expressions (functions, constants, limits) and parsing without running.

`^` means power, a lone `=` means `==`, and a few unicode operators are
spelled out; the text is then parsed by `ast` and never evaluated.
"""

from __future__ import annotations

import ast
import builtins
import math
import re
import warnings

from aopt.errors import InvalidInput

__all__ = ["ACCEPTED", "FUNCTIONS", "CONSTANTS", "accepted", "natural_key", "preprocess", "parse_text",
           "split_constraint"]

MAX_TEXT = 20_000        # characters in one expression
MAX_RANGE = 10_000       # terms in one range(...)
MAX_TERMS = 20_000       # unrolled terms in all sums of one expression
MAX_EXPONENT = 1_000     # |p| in x**p for a numeric p
MAX_INT = 10 ** 12       # integers computed in indices and range arguments
MAX_INDEX = 100_000      # largest accepted x[i]
MAX_MAGNITUDE = 300      # log10 of the largest number a constant power may produce

ACCEPTED = ("Accepted: numbers; variables (x, y, x1, theta, or indexed x[0], x[i]); + - * / ** (or ^) %; "
            "unary -; constants pi, e, tau; functions {funcs}; sum(...)/prod(...)/min(...)/max(...) over "
            "'for i in range(N)' (at most {mr} terms); comparisons >=, <=, ==, =, >, < only in constraints.")


def _f1(name):
    return lambda sp, a: getattr(sp, name)(a)


# name -> (min args, max args, builder(sp, *args))
FUNCTIONS = {
    "sin": (1, 1, _f1("sin")), "cos": (1, 1, _f1("cos")), "tan": (1, 1, _f1("tan")),
    "asin": (1, 1, _f1("asin")), "acos": (1, 1, _f1("acos")), "atan": (1, 1, _f1("atan")),
    "sinh": (1, 1, _f1("sinh")), "cosh": (1, 1, _f1("cosh")), "tanh": (1, 1, _f1("tanh")),
    "asinh": (1, 1, _f1("asinh")), "acosh": (1, 1, _f1("acosh")), "atanh": (1, 1, _f1("atanh")),
    "exp": (1, 1, _f1("exp")), "sqrt": (1, 1, _f1("sqrt")),
    "log": (1, 2, lambda sp, a, b=None: sp.log(a) if b is None else sp.log(a) / sp.log(b)),
    "ln": (1, 1, _f1("log")),
    "log10": (1, 1, lambda sp, a: sp.log(a) / sp.log(10)),
    "log2": (1, 1, lambda sp, a: sp.log(a) / sp.log(2)),
    "log1p": (1, 1, lambda sp, a: sp.log(1 + a)),
    "expm1": (1, 1, lambda sp, a: sp.exp(a) - 1),
    "cbrt": (1, 1, lambda sp, a: sp.sign(a) * sp.Abs(a) ** sp.Rational(1, 3)),
    "abs": (1, 1, _f1("Abs")), "fabs": (1, 1, _f1("Abs")),
    "sign": (1, 1, _f1("sign")), "floor": (1, 1, _f1("floor")), "ceil": (1, 1, _f1("ceiling")),
    "square": (1, 1, lambda sp, a: a ** 2),
    "pow": (2, 2, None),  # checked like **
    "hypot": (2, 2, lambda sp, a, b: sp.sqrt(a ** 2 + b ** 2)),
    "atan2": (2, 2, lambda sp, a, b: sp.atan2(a, b)),
    "max": (1, None, lambda sp, *a: sp.Max(*a)), "min": (1, None, lambda sp, *a: sp.Min(*a)),
    "sum": (1, None, lambda sp, *a: sp.Add(*a)), "prod": (1, None, lambda sp, *a: sp.Mul(*a)),
}
_ALIASES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh", "arccosh": "acosh",
            "arctanh": "atanh", "arctan2": "atan2", "absolute": "abs", "power": "pow", "amax": "max",
            "amin": "min", "maximum": "max", "minimum": "min", "product": "prod", "ceiling": "ceil"}
_MODULES = {"np", "numpy", "math"}  # np.sin(x) is read as sin(x); nothing is imported or run
CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}
_AGGREGATES = {"sum", "prod", "max", "min"}
_DIMENSION_NAMES = {"n", "d", "dim", "dimension", "N"}
_RESERVED = set(dir(builtins)) | _MODULES | {"os", "sys", "subprocess", "shutil", "importlib", "socket",
                                             "pathlib", "scipy", "sympy", "builtins", "pickle", "ctypes"}
_COMPARISONS = {ast.GtE: ">=", ast.Gt: ">", ast.LtE: "<=", ast.Lt: "<", ast.Eq: "=="}

_REPLACEMENTS = (("≤", "<="), ("≥", ">="), ("−", "-"), ("×", "*"), ("⋅", "*"), ("·", "*"),
                 ("=>", ">="), ("=<", "<="), ("^", "**"))


def accepted() -> str:
    names = sorted(set(FUNCTIONS) | set(_ALIASES))
    return ACCEPTED.format(funcs=", ".join(names), mr=MAX_RANGE)


def natural_key(name: str) -> tuple:
    """Sort key giving x < y < z and x1 < x2 < x10 (digit runs compare as numbers)."""
    return tuple((0, int(t)) if t.isdigit() else (1, t) for t in re.split(r"(\d+)", name) if t)


def preprocess(text) -> str:
    """The text as Python syntax: '^' is power, a lone '=' is '==', unicode operators spelled out."""
    if not isinstance(text, str):
        raise InvalidInput(f"an expression must be a string; got {type(text).__name__} {text!r:.60}")
    src = text.strip()
    if not src:
        raise InvalidInput("the expression is empty. " + accepted())
    if len(src) > MAX_TEXT:
        raise InvalidInput(f"the expression has {len(src)} characters; at most {MAX_TEXT} are accepted")
    for old, new in _REPLACEMENTS:
        src = src.replace(old, new)
    return re.sub(r"(?<![<>=!])=(?!=)", "==", src)  # a lone '=' means equality


def parse_text(text) -> ast.Expression:
    """Parse (never run) a user's expression; InvalidInput when it is not one."""
    src = preprocess(text)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(src, mode="eval")
    except SyntaxError as exc:
        raise InvalidInput(f"could not parse {text!r:.200}: {exc.msg}. " + accepted()) from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        raise InvalidInput(f"could not parse {text!r:.200}: {type(exc).__name__}. " + accepted()) from None


def split_constraint(text: str) -> list[str]:
    """Split 'a <= b <= c' and 'p and q' into single comparisons (as text)."""
    tree = parse_text(text)
    parts: list[ast.AST] = []

    def visit(node):
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
            for v in node.values:
                visit(v)
        elif isinstance(node, ast.Compare) and len(node.ops) > 1:
            left = node.left
            for op, right in zip(node.ops, node.comparators):
                parts.append(ast.Compare(left=left, ops=[op], comparators=[right]))
                left = right
        else:
            parts.append(node)

    visit(tree.body)
    if len(parts) == 1:
        return [text.strip()]
    return [ast.unparse(p) for p in parts]
