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

            grad = [_drop_derivatives(sp, sp.diff(self.sympy_expr, s)) for s in self.symbols]
            self._jac = _lambdify(self.symbols, grad)
        return np.array(self._jac(as_vector(x)), dtype=float)

    @property
    def has_symbolic_hessian(self) -> bool:
        return self.dimension <= SYMBOLIC_HESSIAN_MAX_DIM

    def hess(self, x) -> np.ndarray:
        if self._hess is None:
            import sympy as sp

            n = len(self.symbols)
            grad = [_drop_derivatives(sp, sp.diff(self.sympy_expr, s)) for s in self.symbols]
            rows = [[_drop_derivatives(sp, sp.diff(grad[i], self.symbols[j])) if j >= i else None
                     for j in range(n)] for i in range(n)]
            full = [[rows[i][j] if j >= i else rows[j][i] for j in range(n)] for i in range(n)]
            self._hess = _lambdify(self.symbols, full)
        return np.array(self._hess(as_vector(x)), dtype=float).reshape(self.dimension, self.dimension)

    def __repr__(self) -> str:
        return f"CompiledExpression({self.text!r}, variables={self.variables!r}, kind={self.kind!r})"


def _lambdify(symbols, expr):
    import sympy as sp

    return sp.lambdify([list(symbols)], expr, modules="numpy", cse=True)


def _drop_derivatives(sp, d):
    """Derivatives of floor/ceil/sign are 0 almost everywhere (sympy leaves them symbolic)."""
    if d.has(sp.Derivative, sp.DiracDelta):
        d = d.replace(lambda e: isinstance(e, (sp.Derivative, sp.DiracDelta)), lambda e: sp.S.Zero)
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
    if sum(sizes.values()) > 100_000:
        raise InvalidInput(f"{text!r:.200} has too many variables (at most 100000)")
    keyed = [(natural_key(s), s) for s in tr.scalars]
    keyed += [(natural_key(b) + ((0, i),), f"{b}[{i}]") for b, n in sizes.items() for i in range(n)]
    keyed.sort(key=lambda t: t[0])
    names = [name for _, name in keyed]
    return names, [tr.symbol(name) for name in names]
