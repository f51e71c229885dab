"""Limits of a worker: time per evaluation and per run, address space, captured output."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from aopt.errors import InvalidInput

__all__ = ["Limits"]


@dataclass(frozen=True)
class Limits:
    """Per-worker limits; None switches a limit off.

    eval_timeout: wall seconds one evaluation may take (a batch: each point; a
        vectorized objective: each call).
    run_timeout: wall seconds from the worker's start until its last evaluation.
    start_timeout: wall seconds to start the worker and import the user's file.
    memory_mb: address-space limit (RLIMIT_AS) of the worker, set before the
        user's file is imported; it includes Python and NumPy (~100-150 MiB).
    output_bytes: how much of the user's stdout/stderr is kept (the last bytes).
    """

    eval_timeout: Optional[float] = 60.0
    run_timeout: Optional[float] = None
    start_timeout: Optional[float] = 60.0
    memory_mb: Optional[int] = 4096
    output_bytes: int = 64 * 1024

    def __post_init__(self) -> None:
        for name in ("eval_timeout", "run_timeout", "start_timeout", "memory_mb"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (value > 0) or math.isnan(value):
                raise InvalidInput(f"Limits.{name} must be a positive number or None; got {value!r}")
        if isinstance(self.output_bytes, bool) or not isinstance(self.output_bytes, int) or self.output_bytes < 256:
            raise InvalidInput(f"Limits.output_bytes must be an integer >= 256; got {self.output_bytes!r}")

    def to_record(self) -> dict:
        return {
            "eval_timeout": self.eval_timeout,
            "run_timeout": self.run_timeout,
            "start_timeout": self.start_timeout,
            "memory_mb": self.memory_mb,
            "output_bytes": self.output_bytes,
        }
