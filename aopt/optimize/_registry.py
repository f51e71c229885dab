"""The algorithm registry: what each SciPy method handles, and which choices make sense."""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field

from aopt.errors import IncompatibleAlgorithm, InvalidInput, NotFound

__all__ = [
    "AlgorithmInfo",
    "list_algorithms",
    "get_algorithm",
    "check_compatible",
    "validate_options",
    "algorithms_markdown",
    "BACKENDS",
]

# methods that may evaluate points outside the bounds they are given (see stays_in_bounds)
_MAY_LEAVE_BOUNDS = frozenset({"COBYLA", "trust-constr", "SLSQP", "shgo", "basinhopping"})


# backend name -> (module, the function that runs a method, the library as users know it, the
# function that fills the options a run of it needs from the problem, or None). The runner is
# `solve(info, problem, fun, x0, options, seed, *, hard_bounds) -> Outcome` (see _solve.py),
# the filler `defaults(problem, options, budget_named) -> options`; both are imported only
# when a run uses them, so listing algorithms loads no optimizer library.
BACKENDS: dict[str, tuple[str, str, str, str | None]] = {
    "scipy": ("aopt.optimize._solve", "solve_scipy", "SciPy", None),
    "pycma": ("aopt.optimize._cma", "solve_cma", "pycma", "cma_defaults"),
}


@dataclass(frozen=True)
class AlgorithmInfo:
    """One optimizer paola can run, with the properties the agent and `auto` reason about.

    An entry is the one place a method is described: its names, what it handles, its options,
    which of them cap its evaluations (`budget_keys`, raised to a budget the user names) and the
    backend that runs it. Adding a method is adding an entry (and, for a new library, a backend).
    """

    name: str
    family: str  # "local", "global" or "auto"
    handles_bounds: bool
    handles_constraints: bool  # nonlinear inequality constraints
    handles_equality: bool
    uses_gradient: bool
    needs_hessian: bool
    needs_bounds: bool
    stochastic: bool
    options: tuple[str, ...]
    summary: str
    aliases: tuple[str, ...] = field(default=())
    budget_keys: tuple[str, ...] = field(default=())
    backend: str = "scipy"

    @property
    def stays_in_bounds(self) -> bool:
        """True when every point it evaluates lies inside the bounds (when it is given bounds).

        COBYLA and trust-constr treat bounds like constraints and may step outside them;
        SLSQP's line search and the local searches inside shgo and basinhopping may too.
        """
        return self.handles_bounds and self.name not in _MAY_LEAVE_BOUNDS

    @property
    def library(self) -> str:
        return BACKENDS[self.backend][2]

    def solve(self, problem, fun, x0, options: dict, seed: int | None, *, hard_bounds: bool = True):
        """Run this algorithm on `fun` (the recording objective, minimization form) -> Outcome."""
        return _backend_function(self.backend, 1)(self, problem, fun, x0, options, seed, hard_bounds=hard_bounds)

    def with_defaults(self, problem, options: dict, *, budget_named: bool) -> dict:
        """`options` completed with what the backend sets from the problem (recorded with the run)."""
        if BACKENDS[self.backend][3] is None:
            return dict(options)
        return _backend_function(self.backend, 3)(problem, dict(options), budget_named)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "family": self.family,
            "library": self.library,
            "handles_bounds": self.handles_bounds,
            "handles_constraints": self.handles_constraints,
            "handles_equality_constraints": self.handles_equality,
            "uses_gradient": self.uses_gradient,
            "needs_bounds": self.needs_bounds,
            "stochastic": self.stochastic,
            "options": list(self.options),
            "summary": self.summary,
            "aliases": list(self.aliases),
        }


def _backend_function(backend: str, which: int):
    import importlib

    entry = BACKENDS[backend]
    return getattr(importlib.import_module(entry[0]), entry[which])


# shgo's simplicial complex has 2**n vertices: 10 variables take about a second, 12 take
# 13 s and 1 GB before the first evaluation, 20 never return.
SHGO_MAX_DIMENSION = 10

_TRUST = ("initial_trust_radius", "max_trust_radius", "eta", "gtol", "maxiter", "disp")

_ALGORITHMS: tuple[AlgorithmInfo, ...] = (
    AlgorithmInfo("auto", "auto", True, True, True, True, False, False, False, (),
                  "paola picks a method from the problem's properties (see README: the auto rule).",
                  ("automatic", "automatically", "autoselect", "autoselection")),
    AlgorithmInfo("Nelder-Mead", "local", True, False, False, False, False, False, False,
                  ("maxiter", "maxfev", "xatol", "fatol", "adaptive", "initial_simplex", "disp"),
                  "Derivative-free simplex search; robust for small, noisy or non-smooth problems.",
                  ("simplex", "nm", "neldermead", "nelder", "neldermeade", "downhillsimplex", "amoeba"),
                  budget_keys=("maxfev", "maxiter")),
    AlgorithmInfo("Powell", "local", True, False, False, False, False, False, False,
                  ("maxiter", "maxfev", "xtol", "ftol", "direc", "disp"),
                  "Derivative-free conjugate-direction search; good on smooth problems without gradients.",
                  ("powells",),
                  budget_keys=("maxfev", "maxiter")),
    AlgorithmInfo("CG", "local", False, False, False, True, False, False, False,
                  ("maxiter", "gtol", "norm", "eps", "c1", "c2", "disp"),
                  "Nonlinear conjugate gradient; low memory, unconstrained.",
                  ("conjugategradient", "conjugategradients", "nonlinearcg"),
                  budget_keys=("maxiter",)),
    AlgorithmInfo("BFGS", "local", False, False, False, True, False, False, False,
                  ("maxiter", "gtol", "norm", "eps", "xrtol", "c1", "c2", "disp"),
                  "Quasi-Newton; the default workhorse for smooth unconstrained problems.",
                  ("quasinewton",),
                  budget_keys=("maxiter",)),
    AlgorithmInfo("Newton-CG", "local", False, False, False, True, True, False, False,
                  ("maxiter", "xtol", "eps", "c1", "c2", "disp"),
                  "Truncated Newton with exact Hessians; unconstrained.", ("ncg", "newton", "newtonconjugategradient"),
                  budget_keys=("maxiter",)),
    AlgorithmInfo("L-BFGS-B", "local", True, False, False, True, False, False, False,
                  ("maxcor", "ftol", "gtol", "eps", "maxfun", "maxiter", "maxls", "disp"),
                  "Limited-memory quasi-Newton with bounds; fast for large smooth problems.",
                  ("lbfgs", "lbfgsb", "limitedmemorybfgs", "lbfgsbounded"),
                  budget_keys=("maxfun", "maxiter")),
    AlgorithmInfo("TNC", "local", True, False, False, True, False, False, False,
                  ("eps", "scale", "offset", "maxCGit", "eta", "stepmx", "accuracy", "minfev",
                   "ftol", "xtol", "gtol", "rescale", "maxfun", "disp"),
                  "Truncated Newton with bounds.", ("truncatednewton",),
                  budget_keys=("maxfun",)),
    AlgorithmInfo("COBYLA", "local", True, True, False, False, False, False, False,
                  ("rhobeg", "tol", "maxiter", "catol", "f_target", "disp"),
                  "Derivative-free linear approximations; inequality constraints only.",
                  budget_keys=("maxiter",)),
    AlgorithmInfo("COBYQA", "local", True, True, True, False, False, False, False,
                  ("maxfev", "maxiter", "f_target", "feasibility_tol", "initial_tr_radius",
                   "final_tr_radius", "scale", "disp"),
                  "Derivative-free quadratic models; bounds, inequality and equality constraints.",
                  budget_keys=("maxfev", "maxiter")),
    AlgorithmInfo("SLSQP", "local", True, True, True, True, False, False, False,
                  ("ftol", "eps", "maxiter", "disp"),
                  "Sequential quadratic programming; the first choice for smooth constrained problems.",
                  ("sqp", "sequentialquadraticprogramming", "sequentialleastsquares"),
                  budget_keys=("maxiter",)),
    AlgorithmInfo("trust-constr", "local", True, True, True, True, False, False, False,
                  ("gtol", "xtol", "barrier_tol", "maxiter", "initial_tr_radius",
                   "initial_constr_penalty", "initial_barrier_parameter",
                   "initial_barrier_tolerance", "factorization_method", "verbose", "disp"),
                  "Interior-point / trust-region; robust for hard constrained problems.",
                  ("trustconstr", "interiorpoint", "trustregionconstrained", "trustregion", "trustconstraint"),
                  budget_keys=("maxiter",)),
    AlgorithmInfo("dogleg", "local", False, False, False, True, True, False, False, _TRUST,
                  "Dog-leg trust region with exact Hessians; unconstrained, convex-ish problems.",
                  budget_keys=("maxiter",)),
    AlgorithmInfo("trust-ncg", "local", False, False, False, True, True, False, False, _TRUST,
                  "Newton conjugate-gradient trust region; unconstrained.", ("trustncg",),
                  budget_keys=("maxiter",)),
    AlgorithmInfo("trust-exact", "local", False, False, False, True, True, False, False,
                  _TRUST + ("subproblem_maxiter",),
                  "Nearly exact trust region; unconstrained, small to medium dimension.",
                  ("trustexact",),
                  budget_keys=("maxiter",)),
    AlgorithmInfo("trust-krylov", "local", False, False, False, True, True, False, False,
                  _TRUST + ("inexact",),
                  "Krylov trust region; unconstrained, large problems.", ("trustkrylov",),
                  budget_keys=("maxiter",)),
    AlgorithmInfo("differential_evolution", "global", True, True, True, False, False, True, True,
                  ("strategy", "maxiter", "popsize", "tol", "mutation", "recombination",
                   "polish", "init", "atol", "updating", "disp"),
                  "Population-based global search; needs finite bounds; handles constraints.",
                  ("de", "differentialevolution", "diffevolution", "evolution", "diffevo", "evolutionary",
                   "differentialevo"),
                  budget_keys=("maxiter",)),
    AlgorithmInfo("dual_annealing", "global", True, False, False, False, False, True, True,
                  ("maxiter", "initial_temp", "restart_temp_ratio", "visit", "accept",
                   "maxfun", "no_local_search"),
                  "Generalized simulated annealing with local search; needs finite bounds.",
                  ("dualannealing", "annealing", "simulatedannealing", "sa", "da"),
                  budget_keys=("maxfun", "maxiter")),
    AlgorithmInfo("shgo", "global", True, True, True, False, False, True, False,
                  ("n", "iters", "sampling_method"),
                  "Simplicial homology global optimization; bounded, low dimension, constraints.",
                  ("simplicialhomology", "simplicialhomologyglobaloptimization")),
    AlgorithmInfo("direct", "global", True, False, False, False, False, True, False,
                  ("eps", "maxfun", "maxiter", "locally_biased", "f_min", "f_min_rtol",
                   "vol_tol", "len_tol"),
                  "DIRECT: deterministic global search by dividing the box; needs finite bounds.",
                  ("dividingrectangles",),
                  budget_keys=("maxfun", "maxiter")),
    AlgorithmInfo("basinhopping", "global", True, True, True, True, False, False, True,
                  ("niter", "T", "stepsize", "interval", "niter_success", "target_accept_rate",
                   "stepwise_factor", "local_method"),
                  "Random hops with local minimizations (L-BFGS-B, or SLSQP when constrained).",
                  ("basin", "basinhop"),
                  budget_keys=("niter",)),  # hops, each a local search of one evaluation or more
    AlgorithmInfo("CMA-ES", "global", True, False, False, False, False, False, True,
                  ("sigma0", "popsize", "restarts", "bipop", "incpopsize", "maxfevals", "tolfun",
                   "tolx", "ftarget", "restart_from_best"),
                  "Covariance matrix adaptation evolution strategy (pycma) with IPOP/BIPOP restarts; "
                  "the standard for hard black-box problems in 3 to 100 dimensions.",
                  ("cma", "cmaes", "ipop", "ipopcmaes", "covariancematrixadaptation"),
                  budget_keys=("maxfevals",), backend="pycma"),
)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


_BY_KEY: dict[str, AlgorithmInfo] = {}
for _info in _ALGORITHMS:
    _BY_KEY[_key(_info.name)] = _info
    for _alias in _info.aliases:
        _BY_KEY[_key(_alias)] = _info


def list_algorithms() -> list[AlgorithmInfo]:
    """Every algorithm paola can run, `auto` first."""
    return list(_ALGORITHMS)


def get_algorithm(name: str) -> AlgorithmInfo:
    """Look an algorithm up by name, ignoring case and punctuation ("nelder mead", "lbfgsb", "DE")."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"algorithm must be a non-empty name such as 'BFGS'; got {name!r}")
    info = _BY_KEY.get(_key(name))
    if info is None:
        names = [a.name for a in _ALGORITHMS]
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.5) or difflib.get_close_matches(
            _key(name), list(_BY_KEY), n=1, cutoff=0.6)
        hint = f" Did you mean {(_BY_KEY.get(close[0]) or get_algorithm(close[0])).name!r}?" if close else ""
        raise NotFound(f"unknown algorithm {name!r}.{hint} Known algorithms: {', '.join(names)}.")
    return info


def _suggest(problem, *, constrained: bool, equality: bool) -> str:
    if constrained:
        picks = ["SLSQP", "trust-constr", "COBYQA"] if equality else ["SLSQP", "trust-constr", "COBYLA", "COBYQA"]
        if problem.has_finite_bounds:
            picks.append("differential_evolution")
    elif problem.has_finite_bounds:
        picks = ["L-BFGS-B", "Nelder-Mead", "differential_evolution"]
    else:
        picks = ["BFGS", "L-BFGS-B", "Nelder-Mead"]
    return ", ".join(picks) + " or auto"


def check_compatible(info: AlgorithmInfo, problem, *, hard_bounds: bool) -> None:
    """Refuse a choice the algorithm cannot honour, with the reason and a suggestion.

    `hard_bounds` is False for a benchmark's default search domain, which methods
    without bound support may ignore; bounds a user gave are always honoured.
    """
    if info.name == "auto":
        return
    has_cons = bool(problem.constraints)
    has_eq = any(c.kind == "eq" for c in problem.constraints)
    if has_cons and not info.handles_constraints:
        raise IncompatibleAlgorithm(
            f"{info.name} cannot handle the constraints of problem {problem.name!r} "
            f"({'; '.join(c.text for c in problem.constraints)}). "
            f"Use {_suggest(problem, constrained=True, equality=has_eq)}.")
    if has_eq and not info.handles_equality:
        raise IncompatibleAlgorithm(
            f"{info.name} handles inequality constraints only, and problem {problem.name!r} has an "
            f"equality constraint. Use {_suggest(problem, constrained=True, equality=True)}.")
    if info.needs_bounds and not problem.has_finite_bounds:
        raise IncompatibleAlgorithm(
            f"{info.name} searches inside finite bounds, and problem {problem.name!r} has unbounded "
            f"variables. Give bounds for every variable, or use "
            f"{_suggest(problem, constrained=has_cons, equality=has_eq)}.")
    bounded = any(math.isfinite(lo) or math.isfinite(hi) for lo, hi in problem.bounds)
    if bounded and hard_bounds and not info.handles_bounds:
        raise IncompatibleAlgorithm(
            f"{info.name} cannot keep to the bounds of problem {problem.name!r}. Use a method that "
            f"handles bounds: L-BFGS-B, TNC, Powell, Nelder-Mead, SLSQP or trust-constr.")
    fixed = [name for name, (lo, hi) in zip(problem.variables, problem.bounds) if lo == hi]
    if fixed and info.name in ("direct", "dual_annealing"):
        raise IncompatibleAlgorithm(
            f"{info.name} needs lower < upper for every variable, and problem {problem.name!r} fixes "
            f"{', '.join(fixed[:5])}{' …' if len(fixed) > 5 else ''} (equal bounds). Use "
            f"differential_evolution or shgo for a global search, or L-BFGS-B locally.")
    if info.name == "shgo" and problem.dimension > SHGO_MAX_DIMENSION:
        raise IncompatibleAlgorithm(
            f"shgo triangulates the search box, which grows exponentially with the dimension: problem "
            f"{problem.name!r} has {problem.dimension} variables and shgo accepts at most "
            f"{SHGO_MAX_DIMENSION}. Use {_suggest(problem, constrained=has_cons, equality=has_eq)}.")
    if info.needs_hessian and not problem.has_gradient:
        raise IncompatibleAlgorithm(
            f"{info.name} needs exact second derivatives, which problem {problem.name!r} does not "
            f"provide. Use BFGS, L-BFGS-B or a derivative-free method such as Powell.")


_NUMERIC_OK = (int, float)
# Whole-number options end in C ints; those that size arrays are capped lower: a population of
# 10**8 allocated gigabytes before the first evaluation, and shgo with n=10**9 never returned.
_MAX_COUNT = 2**31 - 1
_MAX_SIZE = {"popsize": 1_000, "n": 10_000, "maxcor": 1_000}


def validate_options(info: AlgorithmInfo, options: dict | None) -> dict:
    """Return the options as a plain dict, refusing unknown names with the valid ones listed."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise InvalidInput(f"options must be a mapping of option name to value, e.g. "
                           f"{{'maxiter': 100}}; got {type(options).__name__}")
    clean = {}
    for key, value in options.items():
        if key not in info.options:
            valid = ", ".join(info.options) or "none"
            hint = difflib.get_close_matches(str(key), info.options, n=1)
            did = f" Did you mean {hint[0]!r}?" if hint else ""
            raise InvalidInput(f"unknown option {key!r} for {info.name}.{did} Valid options: {valid}.")
        if isinstance(value, float) and not math.isfinite(value) and key not in ("f_min", "f_target"):
            raise InvalidInput(f"option {key!r} must be a finite number; got {value!r}")
        if key in ("maxiter", "maxfev", "maxfun", "niter", "popsize", "n", "iters", "maxcor", "maxls",
                   "maxCGit", "minfev", "interval", "niter_success", "subproblem_maxiter"):
            top = _MAX_SIZE.get(key, _MAX_COUNT)
            if isinstance(value, bool) or not isinstance(value, _NUMERIC_OK) or value != int(value) or value < 1:
                raise InvalidInput(f"option {key!r} must be a positive whole number; got {value!r}")
            if value > top:
                raise InvalidInput(f"option {key!r} must be at most {top:,}; got {value!r}"
                                   + (" (it sizes what is held in memory)" if key in _MAX_SIZE else ""))
            value = int(value)
        clean[key] = value
    return clean


def algorithms_markdown() -> str:
    """The README's algorithm table, generated from the registry (a test keeps the README in step)."""
    def yes(flag: bool) -> str:
        return "yes" if flag else ""

    rows = ["| algorithm | library | kind | bounds | constraints | gradient | other names |",
            "|---|---|---|---|---|---|---|"]
    for a in _ALGORITHMS:
        if a.name == "auto":
            continue
        constraints = "eq + ineq" if a.handles_equality else ("ineq" if a.handles_constraints else "")
        bounds = "needs finite" if a.needs_bounds else yes(a.handles_bounds)
        gradient = "Hessian" if a.needs_hessian else yes(a.uses_gradient)
        rows.append(f"| {a.name} | {a.library} | {a.family} | {bounds} | {constraints} | {gradient} | "
                    f"{', '.join(a.aliases)} |")
    return "\n".join(rows)
