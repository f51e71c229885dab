"""compile_expression: a user's text into exact numerical functions (value, gradient, Hessian)."""

from __future__ import annotations

import ast
from typing import Optional, Sequence

import numpy as np

from aopt.errors import InvalidInput
from aopt.problems._expressions import Translator, accepted, natural_key, parse_text, preprocess
from aopt.problems._formulas import as_vector

__all__ = ["CompiledExpression", "compile_expression"]

SYMBOLIC_HESSIAN_MAX_DIM = 60  # above this, hess is None (Problem uses differences of jac)
MAX_VARIABLES = 2_000  # variables in one expression (exact gradients of huge sums get slow)


class CompiledExpression:
    """One compiled expression or constraint.

    `variables` are ordered: scalar names in natural sort order (x < y < z,
    x1 < x2 < x10), then each vector's elements x[0], x[1], ... in place of its
    name. `fun(v)`, `jac(v)`, `hess(v)` take one vector in that order.
    For a constraint, `kind` is "ineq" (fun(v) >= 0) or "eq" (fun(v) == 0);
    for a plain expression it is None.
    """

    def __init__(self, text: str, variables: list[str], symbols: list, expr, kind: Optional[str]):
        self.text = text
        self.variables = variables
        self.dimension = len(variables)
        self.kind = kind
        self.sympy_expr = expr  # on internal symbols v0, v1, ... (see self.symbols)
        self.symbols = symbols
        self._fun = _lambdify(symbols, expr)
        self._jac = None
        self._hess = None

    def fun(self, x) -> float:
        return float(self._fun(as_vector(x)))

    def jac(self, x) -> np.ndarray:
        if self._jac is None:
            import sympy as sp

            self._jac = _lambdify(self.symbols, _gradient(sp, self.sympy_expr, self.symbols))
        return np.array(self._jac(as_vector(x)), dtype=float)

    @property
    def has_symbolic_hessian(self) -> bool:
        return self.dimension <= SYMBOLIC_HESSIAN_MAX_DIM

    def hess(self, x) -> np.ndarray:
        if self._hess is None:
            import sympy as sp

            self._hess = _lambdify(self.symbols, _hessian(sp, self.sympy_expr, self.symbols))
        return np.array(self._hess(as_vector(x)), dtype=float).reshape(self.dimension, self.dimension)

    def __repr__(self) -> str:
        return f"CompiledExpression({self.text!r}, variables={self.variables!r}, kind={self.kind!r})"


def _terms(expr) -> tuple:
    return expr.args if expr.is_Add else (expr,)


def _gradient(sp, expr, symbols) -> list:
    """Exact gradient, term by term: a term of an unrolled sum is differentiated only by its own
    variables, so sum(... for i in range(1000)) costs O(terms), not O(terms * variables)."""
    parts: dict = {s: [] for s in symbols}
    for term in _terms(expr):
        for s in term.free_symbols:
            if s in parts:
                parts[s].append(_drop_derivatives(sp, sp.diff(term, s)))
    return [sp.Add(*parts[s]) for s in symbols]


def _hessian(sp, expr, symbols):
    """Exact Hessian (a sympy Matrix), term by term like _gradient, filled symmetrically."""
    index = {s: k for k, s in enumerate(symbols)}
    n = len(symbols)
    parts: dict = {}
    for term in _terms(expr):
        free = sorted((s for s in term.free_symbols if s in index), key=index.get)
        for a, si in enumerate(free):
            di = _drop_derivatives(sp, sp.diff(term, si))
            for sj in free[a:]:
                parts.setdefault((index[si], index[sj]), []).append(_drop_derivatives(sp, sp.diff(di, sj)))
    full = sp.zeros(n, n)
    for (i, j), items in parts.items():
        full[i, j] = full[j, i] = sp.Add(*items)
    return full


def _lambdify(symbols, expr):
    import sympy as sp

    return sp.lambdify([list(symbols)], expr, modules="numpy", cse=_chunked_cse)


_CHUNK = 100          # terms per generated line: Python's compiler recurses on long a + b + c + ...
_CSE_MAX_OPS = 1_500  # above this, common subexpressions are not searched (too slow to be worth it)


def _chunked_cse(expr):
    """sympy's cse, then long sums/products split into assignments of at most _CHUNK terms.

    `expr` is one expression, a list of them (a gradient) or a Matrix (a Hessian);
    the reduced result keeps that shape, as lambdify expects.
    """
    import sympy as sp

    items = list(expr) if isinstance(expr, (list, tuple, sp.MatrixBase)) else [expr]
    if sum(sp.count_ops(e, visual=False) for e in items) <= _CSE_MAX_OPS:
        replacements, reduced = sp.cse(expr, list=False)
    else:
        replacements, reduced = [], expr
    out: list = []
    counter = iter(range(10 ** 9))

    def chop(e):
        if not isinstance(e, sp.Basic) or e.is_Atom or not e.args:
            return e
        args = [chop(a) for a in e.args]
        while (e.is_Add or e.is_Mul) and len(args) > _CHUNK:
            parts = []
            for k in range(0, len(args), _CHUNK):
                sym = sp.Symbol(f"_k{next(counter)}")
                out.append((sym, e.func(*args[k:k + _CHUNK], evaluate=False)))
                parts.append(sym)
            args = parts
        if all(a is b for a, b in zip(args, e.args)) and len(args) == len(e.args):
            return e
        return e.func(*args, evaluate=False) if (e.is_Add or e.is_Mul) else e.func(*args)

    for sym, sub in replacements:
        out.append((sym, chop(sub)))
    if isinstance(reduced, sp.MatrixBase):
        reduced = reduced.applyfunc(chop)
    elif isinstance(reduced, (list, tuple)):
        reduced = [chop(e) for e in reduced]
    else:
        reduced = chop(reduced)
    return out, reduced


def _drop_derivatives(sp, d):
    """Derivatives of floor/ceil/sign are 0 almost everywhere (sympy leaves them symbolic)."""
    kinds = (sp.Derivative, sp.Subs, sp.DiracDelta)
    if d.has(*kinds):
        d = d.replace(lambda e: isinstance(e, kinds), lambda e: sp.S.Zero)
    return d


def compile_expression(text: str, variables: Optional[Sequence[str]] = None,
                       dimension: Optional[int] = None) -> CompiledExpression:
    """Compile a mathematical expression (or a constraint 'lhs >= rhs') safely.

    The text is parsed with `ast` against a whitelist and never evaluated.
    `^` means power and a lone `=` means `==`. Without `variables`, the
    variables are the names found (ordered as CompiledExpression says);
    `dimension` then extends a single vector x[i] to that many elements and
    is an error when it does not match. With `variables`, only those names
    are accepted (x[0] also names x1 when the variables are x1..xn) and the
    functions take all of them.
    """
    import sympy as sp

    tree = parse_text(text)
    translator = Translator(sp, preprocess(text), variables=variables, dimension=dimension)
    try:
        body = tree.body
        if isinstance(body, ast.Compare):
            if len(body.ops) > 1:
                translator.fail(body, "a chained comparison must be split into separate constraints")
            kind, expr = translator.comparison(body)
        else:
            kind, expr = None, translator.expr(body)
        expr = sp.sympify(expr)
        if expr.has(sp.zoo, sp.oo, -sp.oo, sp.nan, sp.I):
            raise InvalidInput(f"{text!r:.200} is not a finite real expression (division by zero, "
                               f"infinity or an imaginary number)")
        names, symbols = _order_variables(translator, text, dimension)
        if not names:
            raise InvalidInput(f"{text!r:.200} has no variables; an objective or constraint needs at least one "
                               f"(like x or x[0]). " + accepted())
        return CompiledExpression(text.strip(), names, symbols, expr, kind)
    except InvalidInput:
        raise
    except (RecursionError, MemoryError):
        raise InvalidInput(f"{text!r:.200} is nested too deeply") from None
    except Exception as exc:  # a sympy corner we did not foresee: still the user's input
        raise InvalidInput(f"could not compile {text!r:.200}: {type(exc).__name__}: {exc}. " + accepted()) from None


def _order_variables(tr: Translator, text: str, dimension: Optional[int]):
    """Ordered variable names and their symbols; extends a lone vector to `dimension`."""
    if tr.fixed is not None:
        return list(tr.fixed), [tr.symbols[name] for name in tr.fixed]
    sizes = {base: max(idx) + 1 for base, idx in tr.vectors.items()}
    total = len(tr.scalars) + sum(sizes.values())
    if dimension is not None and dimension != total:
        if len(sizes) == 1 and dimension > total:
            base = next(iter(sizes))
            sizes[base] += dimension - total
        else:
            found = sorted(tr.scalars, key=natural_key) + [f"{b}[0..{n - 1}]" for b, n in sizes.items()]
            raise InvalidInput(f"dimension={dimension} does not match the expression {text!r:.200}, which has "
                               f"{total} variable(s): {', '.join(found)}. Give dimension={total} or none")
    if sum(sizes.values()) + len(tr.scalars) > MAX_VARIABLES:
        raise InvalidInput(f"{text!r:.200} has too many variables (at most {MAX_VARIABLES} in an expression; "
                           f"use a benchmark for larger problems)")
    keyed = [(natural_key(s), s) for s in tr.scalars]
    keyed += [(natural_key(b) + ((0, i),), f"{b}[{i}]") for b, n in sizes.items() for i in range(n)]
    keyed.sort(key=lambda t: t[0])
    names = [name for _, name in keyed]
    return names, [tr.symbol(name) for name in names]
