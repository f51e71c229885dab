"""The errors a user can cause. Each message names the input and what is accepted."""

from __future__ import annotations

__all__ = [
    "PaolaError",
    "InvalidInput",
    "NotFound",
    "IncompatibleAlgorithm",
    "StoreError",
]


class PaolaError(Exception):
    """Base of every error paola raises on purpose (bad input, missing thing, bad store)."""

    kind = "error"


class InvalidInput(PaolaError, ValueError):
    """An argument was malformed or out of range; the message says what is accepted."""

    kind = "invalid_input"


class NotFound(PaolaError, LookupError):
    """A problem, run, algorithm or benchmark that does not exist was named."""

    kind = "not_found"


class IncompatibleAlgorithm(InvalidInput):
    """The algorithm cannot handle this problem (constraints, bounds...); the message suggests one."""

    kind = "incompatible_algorithm"


class StoreError(PaolaError):
    """The run store is unreadable, locked past the timeout, or from a newer schema."""

    kind = "store_error"
