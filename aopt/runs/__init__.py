"""Runs: the lifecycle of tracked optimizations and the recorder that keeps every evaluation."""

from aopt.runs._manager import DEFAULT_MAX_EVALUATIONS, RunManager
from aopt.runs._problems import ProblemCatalog
from aopt.runs._recorder import RunRecorder

__all__ = ["DEFAULT_MAX_EVALUATIONS", "ProblemCatalog", "RunManager", "RunRecorder"]
