"""Optimizers: the algorithm registry and its backends (SciPy, pycma), `auto`, verified claims.

The claim vocabulary and the registry load without numpy; the rest is imported on first
use, so `paola runs` (which only formats claims) stays quick.
"""

from aopt._lazy import lazy_attributes
from aopt.optimize._claims import (CLAIMS, VERIFIED_CLAIMS, claim_label, claim_of, claim_sentence,
                                   with_evidence)
from aopt.optimize._registry import (
    BACKENDS,
    AlgorithmInfo,
    algorithms_markdown,
    check_compatible,
    get_algorithm,
    list_algorithms,
    validate_options,
)

_LAZY = {
    "MAX_RESTARTS": ("aopt.optimize._auto", "MAX_RESTARTS"),
    "choose_auto": ("aopt.optimize._auto", "choose_auto"),
    "default_budget": ("aopt.optimize._auto", "default_budget"),
    "planned_budget": ("aopt.optimize._auto", "planned_budget"),
    "run_auto": ("aopt.optimize._auto", "run_auto"),
    "EvaluationBudgetReached": ("aopt.optimize._solve", "EvaluationBudgetReached"),
    "Outcome": ("aopt.optimize._solve", "Outcome"),
    "budget_options": ("aopt.optimize._solve", "budget_options"),
    "solve_with": ("aopt.optimize._solve", "solve_with"),
    "starting_point": ("aopt.optimize._start", "starting_point"),
    "unbounded_reason": ("aopt.optimize._verify", "unbounded_reason"),
    "verify": ("aopt.optimize._verify", "verify"),
}

__all__ = [
    "BACKENDS", "AlgorithmInfo", "algorithms_markdown", "check_compatible", "get_algorithm",
    "list_algorithms", "validate_options",
    "CLAIMS", "VERIFIED_CLAIMS", "claim_label", "claim_of", "claim_sentence", "with_evidence",
    *_LAZY,
]


__getattr__, __dir__ = lazy_attributes("aopt.optimize", globals(), _LAZY)
