"""Safe mathematical expressions: a whitelisted walk of Python's AST into sympy.

User text is never passed to eval/exec. It is parsed with `ast` (see
`_syntax.py`), every node is checked against a whitelist and turned into a
sympy expression on internal symbols (`v0, v1, ...`); sums over `range` are
unrolled with limits. The numerical functions are generated later by sympy's
printer (see `_compiled.py`), never from the user's text.
"""

from __future__ import annotations

import ast
import math
from typing import Optional, Sequence

from aopt.errors import InvalidInput
from aopt.problems._syntax import (_AGGREGATES, _ALIASES, _COMPARISONS, _DIMENSION_NAMES, _MODULES, _RESERVED,
                                   CONSTANTS, FUNCTIONS, MAX_EXPONENT, MAX_INDEX, MAX_INT, MAX_MAGNITUDE,
                                   MAX_RANGE, MAX_TERMS, accepted, natural_key, parse_text, preprocess,
                                   split_constraint)

__all__ = ["Translator", "accepted", "natural_key", "parse_text", "preprocess", "split_constraint"]

class Translator:
    """Turns one parsed expression into sympy, collecting its variables.

    `variables` (optional) fixes the accepted names (constraints use the
    objective's); otherwise scalar names and indexed vectors (x[0], x[1], ...)
    are collected as they appear.
    """

    def __init__(self, sp, src: str, variables: Optional[Sequence[str]] = None,
                 dimension: Optional[int] = None):
        self.sp = sp
        self.src = src
        self.dimension = dimension
        self.fixed = list(variables) if variables is not None else None
        self.symbols: dict[str, object] = {}
        if self.fixed is not None:
            self.symbols = {name: sp.Symbol(f"v{k}", real=True) for k, name in enumerate(self.fixed)}
        self.scalars: set[str] = set()
        self.vectors: dict[str, set[int]] = {}
        self.loop: dict[str, int] = {}
        self.terms = 0

    # ----------------------------------------------------------------- helpers
    def piece(self, node) -> str:
        try:
            seg = ast.get_source_segment(self.src, node) or ast.unparse(node)
        except Exception:  # pragma: no cover - unparse of odd nodes
            seg = type(node).__name__
        return seg if len(seg) <= 80 else seg[:77] + "..."

    def fail(self, node, why: str):
        raise InvalidInput(f"{why} in {self.piece(node)!r}. " + accepted())

    def symbol(self, key: str):
        sym = self.symbols.get(key)
        if sym is None:
            sym = self.symbols[key] = self.sp.Symbol(f"v{len(self.symbols)}", real=True)
        return sym

    # --------------------------------------------------------------- variables
    def scalar(self, node: ast.Name):
        name = node.id
        if self.fixed is not None:
            if name in self.symbols:
                return self.symbols[name]
            if f"{name}[0]" in self.symbols:
                self.fail(node, f"{name!r} is a vector; use its elements {name}[0], {name}[1], ...")
            self.fail(node, f"unknown variable {name!r}; the variables are {_show(self.fixed)}")
        if name in self.vectors:
            self.fail(node, f"{name!r} is used both as a vector ({name}[i]) and as a scalar")
        if len(name) > 64:
            self.fail(node, "variable names are at most 64 characters")
        self.scalars.add(name)
        return self.symbol(name)

    def element(self, node: ast.Subscript):
        base = node.value
        if not isinstance(base, ast.Name) or base.id in FUNCTIONS or base.id in CONSTANTS \
                or base.id in self.loop or base.id.startswith("_"):
            self.fail(node, "only a variable can be indexed, as in x[0] or x[i]")
        idx_node = node.slice
        index = self.integer(idx_node)
        if index < 0 or index > MAX_INDEX:
            self.fail(node, f"an index must be between 0 and {MAX_INDEX} (indices start at 0); got {index}")
        name = base.id
        key = f"{name}[{index}]"
        if self.fixed is not None:
            if key in self.symbols:
                return self.symbols[key]
            alias = f"{name}{index + 1}"  # benchmarks: x[0] is x1
            if alias in self.symbols and f"{name}1" in self.symbols:
                return self.symbols[alias]
            self.fail(node, f"unknown variable {key!r}; the variables are {_show(self.fixed)}")
        if name in self.scalars:
            self.fail(node, f"{name!r} is used both as a scalar and as a vector ({name}[i])")
        self.vectors.setdefault(name, set()).add(index)
        return self.symbol(key)

    # ---------------------------------------------------------- integer parts
    def integer(self, node) -> int:
        """An integer-valued index or range argument: constants, loop variables, n, + - * // % **."""
        if isinstance(node, ast.Constant) and type(node.value) is int:
            value = node.value
        elif isinstance(node, ast.Name) and node.id in self.loop:
            value = self.loop[node.id]
        elif isinstance(node, ast.Name) and node.id in _DIMENSION_NAMES and self.dimension is not None:
            value = self.dimension
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len" \
                and self.dimension is not None and len(node.args) == 1 and not node.keywords:
            value = self.dimension
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = self.integer(node.operand)
            value = -value if isinstance(node.op, ast.USub) else value
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv,
                                                                  ast.Mod, ast.Pow)):
            a, b = self.integer(node.left), self.integer(node.right)
            if isinstance(node.op, ast.Pow):
                if b < 0 or b > 64 or (abs(a) > 1 and b * math.log10(abs(a)) > 13):
                    self.fail(node, f"an integer power must stay below {MAX_INT}")
                value = a ** b
            elif isinstance(node.op, (ast.FloorDiv, ast.Mod)) and b == 0:
                self.fail(node, "division by zero")
            else:
                value = {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}.get(type(node.op)) \
                    if not isinstance(node.op, (ast.FloorDiv, ast.Mod)) else (
                        a // b if isinstance(node.op, ast.FloorDiv) else a % b)
        elif isinstance(node, ast.Name) and node.id in _DIMENSION_NAMES:
            self.fail(node, f"{node.id!r} means the dimension here, but no dimension was given")
        else:
            self.fail(node, "an index or range argument must be an integer built from constants and "
                            "loop variables")
        if abs(value) > MAX_INT:
            self.fail(node, f"integers here must stay below {MAX_INT}")
        return value

    def condition(self, node) -> bool:
        if isinstance(node, ast.BoolOp):
            vals = [self.condition(v) for v in node.values]
            return all(vals) if isinstance(node.op, ast.And) else any(vals)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not self.condition(node.operand)
        if isinstance(node, ast.Compare):
            left = self.integer(node.left)
            for op, right_node in zip(node.ops, node.comparators):
                right = self.integer(right_node)
                ok = {ast.Eq: left == right, ast.NotEq: left != right, ast.Lt: left < right,
                      ast.LtE: left <= right, ast.Gt: left > right, ast.GtE: left >= right}.get(type(op))
                if ok is None:
                    self.fail(node, "only ==, !=, <, <=, >, >= are accepted in a sum's 'if'")
                if not ok:
                    return False
                left = right
            return True
        self.fail(node, "a sum's 'if' must compare loop variables")

    # ----------------------------------------------------------------- unrolling
    def unroll(self, node) -> list:
        """The terms of a generator/list comprehension over range(...)."""
        gens = node.generators
        out: list = []

        def walk(k: int):
            if k == len(gens):
                self.terms += 1
                if self.terms > MAX_TERMS:
                    self.fail(node, f"sums unroll to more than {MAX_TERMS} terms")
                out.append(self.expr(node.elt))
                return
            gen = gens[k]
            if gen.is_async or not isinstance(gen.target, ast.Name) or gen.target.id.startswith("_"):
                self.fail(gen, "a loop must read 'for i in range(N)'")
            it = gen.iter
            if isinstance(it, (ast.List, ast.Tuple)):
                values = [self.integer(e) for e in it.elts]
            elif isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range" \
                    and 1 <= len(it.args) <= 3 and not it.keywords:
                args = [self.integer(a) for a in it.args]
                if len(args) == 3 and args[2] == 0:
                    self.fail(it, "range() step must not be zero")
                values = range(*args)
                if len(values) > MAX_RANGE:
                    self.fail(it, f"{self.piece(it)} has {len(values)} terms; at most {MAX_RANGE} are accepted")
            else:
                self.fail(it, "a loop must run over range(N), range(a, b) or range(a, b, step)")
            name = gen.target.id
            saved = self.loop.get(name)
            for v in values:
                self.loop[name] = v
                if all(self.condition(c) for c in gen.ifs):
                    walk(k + 1)
            if saved is None:
                self.loop.pop(name, None)
            else:
                self.loop[name] = saved

        walk(0)
        return out

    # --------------------------------------------------------------- real parts
    def number(self, value, node):
        sp = self.sp
        if type(value) is int:
            if value.bit_length() > 1000:
                self.fail(node, "the number is too large")
            return sp.Integer(value)
        if type(value) is float:
            if not math.isfinite(value):
                self.fail(node, "the number is too large")
            return sp.Float(value)
        kind = {str: "a string", bytes: "bytes", bool: "a boolean", complex: "a complex number"}.get(
            type(value), type(value).__name__)
        self.fail(node, f"{kind} is not accepted")

    def power(self, base, exponent, node):
        sp = self.sp
        if exponent.is_number:
            try:
                p = float(exponent)
            except (TypeError, ValueError, OverflowError):
                self.fail(node, "the exponent must be a real number")
            if not math.isfinite(p) or abs(p) > MAX_EXPONENT:
                self.fail(node, f"the exponent must be a number between -{MAX_EXPONENT} and {MAX_EXPONENT}")
            if base.is_number:
                try:
                    b = abs(float(base))
                except (TypeError, ValueError, OverflowError):
                    self.fail(node, "the number is too large")
                if b > 0 and abs(p * math.log10(b)) > MAX_MAGNITUDE:
                    self.fail(node, f"the number is too large (more than 1e{MAX_MAGNITUDE})")
        return sp.Pow(base, exponent)

    def call(self, node: ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in _MODULES:
            name = func.attr
        elif isinstance(func, ast.Name):
            name = func.id
        elif isinstance(func, ast.Attribute):
            self.fail(node, "attribute access (a.b) is not accepted")
        else:
            self.fail(node, "only calls of the listed math functions are accepted")
        name = _ALIASES.get(name, name)
        if name not in FUNCTIONS:
            self.fail(node, f"unknown function {name!r}")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            self.fail(node, f"{name}() takes plain positional arguments")
        lo, hi, build = FUNCTIONS[name]
        if name in _AGGREGATES and len(node.args) == 1 and isinstance(
                node.args[0], (ast.GeneratorExp, ast.ListComp, ast.List, ast.Tuple)):
            arg = node.args[0]
            args = [self.expr(e) for e in arg.elts] if isinstance(arg, (ast.List, ast.Tuple)) else self.unroll(arg)
            if not args and name in ("max", "min"):
                self.fail(node, f"{name}() of nothing")
            return build(self.sp, *args)
        if name in ("sum", "prod"):
            self.fail(node, f"{name}() takes one 'for i in range(N)' generator or a list")
        if len(node.args) < lo or (hi is not None and len(node.args) > hi):
            want = f"{lo}" if lo == hi else f"{lo} or more" if hi is None else f"{lo} to {hi}"
            self.fail(node, f"{name}() takes {want} argument(s); got {len(node.args)}")
        args = [self.expr(a) for a in node.args]
        if name == "pow":
            return self.power(args[0], args[1], node)
        return build(self.sp, *args)

    def expr(self, node):
        sp = self.sp
        if isinstance(node, ast.Constant):
            return self.number(node.value, node)
        if isinstance(node, ast.Name):
            name = node.id
            if name in self.loop:
                return sp.Integer(self.loop[name])
            if name in CONSTANTS and name not in self.symbols:
                return {"pi": sp.pi, "e": sp.E, "tau": 2 * sp.pi}[name]
            if name.lower() in ("nan", "inf", "infinity"):
                self.fail(node, f"{name!r} is not a finite number; an objective or constraint must be finite "
                                f"(use bounds or constraints for limits)")
            if name in FUNCTIONS or name in _ALIASES:
                self.fail(node, f"{name!r} is a function; call it, as in {name}(x)")
            if name.startswith("_"):
                self.fail(node, f"names starting with '_' are not accepted ({name!r})")
            if name in _RESERVED and name not in self.symbols:
                self.fail(node, f"{name!r} is a Python built-in or module name, not accepted as a variable")
            return self.scalar(node)
        if isinstance(node, ast.BinOp):
            op = type(node.op)
            if op not in (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.FloorDiv):
                self.fail(node, f"the operator {type(node.op).__name__} is not accepted")
            a, b = self.expr(node.left), self.expr(node.right)
            if op is ast.Add:
                return a + b
            if op is ast.Sub:
                return a - b
            if op is ast.Mult:
                return a * b
            if op is ast.Pow:
                return self.power(a, b, node)
            if b.is_zero:
                self.fail(node, "division by zero")
            if op is ast.Div:
                return a / b
            if op is ast.FloorDiv:
                return sp.floor(a / b)
            return a - b * sp.floor(a / b)  # Python's %, differentiable a.e.
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return -self.expr(node.operand)
            if isinstance(node.op, ast.UAdd):
                return self.expr(node.operand)
            self.fail(node, f"the operator {type(node.op).__name__} is not accepted")
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Subscript):
            return self.element(node)
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id in _MODULES and node.attr in CONSTANTS:
                return self.expr(ast.copy_location(ast.Name(id=node.attr, ctx=ast.Load()), node))
            self.fail(node, "attribute access (a.b) is not accepted")
        if isinstance(node, ast.Compare):
            self.fail(node, "a comparison is accepted only as a whole constraint (like 'x + y >= 1')")
        what = {ast.Lambda: "a lambda", ast.JoinedStr: "an f-string", ast.IfExp: "'a if c else b'",
                ast.BoolOp: "'and'/'or'", ast.NamedExpr: "':='", ast.Dict: "a dict", ast.Set: "a set",
                ast.List: "a list", ast.Tuple: "a tuple", ast.Slice: "a slice",
                ast.GeneratorExp: "a generator outside sum()/prod()/min()/max()",
                ast.ListComp: "a list comprehension outside sum()/prod()/min()/max()",
                ast.Starred: "'*'"}.get(type(node), type(node).__name__)
        self.fail(node, f"{what} is not accepted")

    def comparison(self, node: ast.Compare):
        """(kind, g) with g >= 0 ('ineq') or g == 0 ('eq')."""
        op = type(node.ops[0])
        if op not in _COMPARISONS:
            self.fail(node, "only >=, <=, ==, =, >, < are accepted in constraints")
        lhs, rhs = self.expr(node.left), self.expr(node.comparators[0])
        if op in (ast.GtE, ast.Gt):
            return "ineq", lhs - rhs
        if op in (ast.LtE, ast.Lt):
            return "ineq", rhs - lhs
        return "eq", lhs - rhs


def _show(names: Sequence[str]) -> str:
    names = list(names)
    if len(names) > 12:
        names = names[:6] + ["..."] + names[-3:]
    return ", ".join(names)
