"""Optimizers: the algorithm registry, SciPy backends, `auto`, and verified convergence."""

from aopt.optimize._auto import MAX_RESTARTS, choose_auto, run_auto
from aopt.optimize._registry import (
    AlgorithmInfo,
    check_compatible,
    get_algorithm,
    list_algorithms,
    validate_options,
)
from aopt.optimize._solve import EvaluationBudgetReached, Outcome, budget_options, solve_with
from aopt.optimize._start import starting_point
from aopt.optimize._verify import unbounded_reason, verify

__all__ = [
    "AlgorithmInfo",
    "EvaluationBudgetReached",
    "budget_options",
    "MAX_RESTARTS",
    "Outcome",
    "check_compatible",
    "choose_auto",
    "get_algorithm",
    "list_algorithms",
    "run_auto",
    "solve_with",
    "starting_point",
    "validate_options",
    "unbounded_reason",
    "verify",
]
