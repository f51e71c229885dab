"""A static check that FILE.py defines FUNCTION, made by reading the file: user code is never run here.

User code only runs in a sandbox worker; importing the file in the shell would run it in paola's
process. So /register parses the file (ast) and looks for a top-level def, class, assignment or
import binding the name. A file that builds names dynamically (``from x import *``,
``globals()[...] = ...``) cannot be judged this way and is let through to the worker.
"""

from __future__ import annotations

import ast

from aopt.errors import InvalidInput

__all__ = ["check_defines", "top_level_names"]


def _targets(node) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, (ast.Tuple, ast.List)):
        return [n for elt in node.elts for n in _targets(elt)]
    if isinstance(node, ast.Starred):
        return _targets(node.value)
    return []


def top_level_names(tree: ast.Module) -> tuple[set[str], bool]:
    """(names bound at module level, whether the module may bind names a parse cannot see)."""
    names: set[str] = set()
    dynamic = False
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(n for t in node.targets for n in _targets(t))
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            names.update(_targets(node.target))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    dynamic = True
                else:
                    names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While, ast.AsyncWith, ast.AsyncFor)):
            for field in ("body", "orelse", "finalbody"):
                stack.extend(getattr(node, field, []) or [])
            for handler in getattr(node, "handlers", []) or []:
                stack.extend(handler.body)
            if isinstance(node, (ast.For, ast.AsyncFor)):
                names.update(_targets(node.target))
            for item in getattr(node, "items", []) or []:
                if item.optional_vars is not None:
                    names.update(_targets(item.optional_vars))
        elif hasattr(ast, "TryStar") and isinstance(node, ast.TryStar):
            stack.extend(node.body + node.orelse + node.finalbody)
            for handler in node.handlers:
                stack.extend(handler.body)
        elif hasattr(ast, "Match") and isinstance(node, ast.Match):
            dynamic = True
    for node in ast.walk(tree):
        if isinstance(node, ast.NamedExpr):  # a walrus in a module-level expression
            names.update(_targets(node.target))
        elif isinstance(node, ast.Name) and node.id in ("globals", "exec", "setattr", "vars"):
            dynamic = True  # globals()[...] = ..., exec(...): names a parse cannot see
    return names, dynamic


def check_defines(spec: str, what: str = "function") -> None:
    """InvalidInput (or NotFound for a missing file) unless the file of "FILE.py:FUNCTION" defines FUNCTION."""
    from aopt.sandbox import load_code_spec

    code = load_code_spec(spec)  # checks the form and that the file exists; reads it, runs nothing
    try:
        tree = ast.parse(code.source, filename=code.path)
    except SyntaxError as exc:
        raise InvalidInput(f"{code.path} is not valid Python (line {exc.lineno}: {exc.msg}); fix it and "
                           "register again") from None
    names, dynamic = top_level_names(tree)
    if code.function in names or dynamic:
        return
    defined = sorted(n for n in names if not n.startswith("_"))
    funcs = sorted(n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
    shown = funcs or defined
    known = (f"; it defines {', '.join(shown[:12])}" + (" …" if len(shown) > 12 else "")) if shown else \
        "; it defines no functions"
    raise InvalidInput(f"{code.path} has no {what} named {code.function!r}{known}")
