"""Problem kinds: how an objective spec becomes callables.

Each kind ("benchmark", "expression", later "code") registers one builder
`build(objective: str, dimension: int | None) -> ObjectiveParts`. `Problem`
only sees the parts, so a new kind supplies fun/jac without touching the
benchmark or expression code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from aopt.errors import InvalidInput

__all__ = ["ObjectiveParts", "register_kind", "get_kind_builder", "registered_kinds"]


@dataclass
class ObjectiveParts:
    """What a kind supplies for one objective, in the user's sense (not negated)."""

    variables: list[str]
    fun: Callable
    jac: Optional[Callable] = None
    hess: Optional[Callable] = None  # None: finite differences of jac
    default_bounds: Optional[list[tuple[float, float]]] = None  # None: unbounded
    f_star: Optional[float] = None
    x_star: Optional[list[float]] = None
    x_stars: Optional[list[list[float]]] = None
    multimodal: bool = False
    canonical_objective: Optional[str] = None  # e.g. the benchmark's canonical name
    extra: dict = field(default_factory=dict)  # kind-specific facts kept in the record


_BUILDERS: dict[str, Callable[[str, Optional[int]], ObjectiveParts]] = {}


def register_kind(kind: str, build: Callable[[str, Optional[int]], ObjectiveParts]) -> None:
    """Register (or replace) the builder of a problem kind."""
    _BUILDERS[kind] = build


def get_kind_builder(kind: str) -> Callable[[str, Optional[int]], ObjectiveParts]:
    try:
        return _BUILDERS[kind]
    except KeyError:
        raise InvalidInput(f"unknown problem kind {kind!r}; accepted: {', '.join(sorted(_BUILDERS))}") from None


def registered_kinds() -> list[str]:
    return sorted(_BUILDERS)
