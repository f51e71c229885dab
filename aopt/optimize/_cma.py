"""CMA-ES (pycma) with IPOP or BIPOP restarts, through a recording objective.

Our own restart loop over `cma.CMAEvolutionStrategy` rather than `cma.fmin2`: each generation
is one call of the objective's batch form (one sandbox round trip for a code objective), the
run's phases are named as restarts begin, the total evaluations stop exactly at `maxfevals`,
and BIPOP's random choices come from the run's seed instead of NumPy's global generator.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from aopt.errors import InvalidInput
from aopt.optimize._registry import AlgorithmInfo
from aopt.optimize._solve import EvaluationBudgetReached, Outcome, batches

__all__ = ["CMA_OPTIONS", "cma_budget_key", "cma_defaults", "solve_cma"]

METHOD = "CMA-ES"
CMA_OPTIONS = ("sigma0", "popsize", "restarts", "bipop", "incpopsize", "maxfevals", "tolfun", "tolx",
               "ftarget", "restart_from_best")
cma_budget_key = "maxfevals"  # the option that caps CMA-ES's evaluations over all its restarts

_SEED_MODULUS = 2**32 - 1  # np.random.seed takes 0..2**32-1 and pycma reads 0 as "random"
_MAX_POPSIZE = 1_000  # what a user may ask for (as for differential_evolution)
_MAX_RESTARTS = 1_000
_MAX_INCPOPSIZE = 10
# IPOP doubles the population at each restart: 10 * 2**20 points of 100 variables would hold
# gigabytes. Populations stop growing at this many numbers (points x variables), 80 MB a copy.
_MAX_POPULATION_NUMBERS = 10**7
# the first step, a fraction of each variable's box width (COCO's customary 2 on [-5, 5]), or of
# max(1, |x0_i|) when unbounded
_SIGMA_FRACTION = 0.2


@dataclass(frozen=True)
class CMASettings:
    """The CMA-ES options after validation (None means pycma's own default)."""

    sigma0: float | None = None
    popsize: int | None = None
    restarts: int = 9
    bipop: bool = False
    incpopsize: float = 2
    maxfevals: int | None = None
    tolfun: float | None = None
    tolx: float | None = None
    ftarget: float | None = None  # in the user's sense, as the user wrote it
    restart_from_best: bool = False


def _whole(key, value, low, high) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value != int(value) or not low <= value <= high:
        raise InvalidInput(f"option {key!r} of CMA-ES must be a whole number from {low:,} to {high:,}; "
                           f"got {value!r}")
    return int(value)


def _number(key, value, *, low: float | None = None, what: str = "a finite number") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or (low is not None and value < low):
        raise InvalidInput(f"option {key!r} of CMA-ES must be {what}; got {value!r}")
    return float(value)


def _flag(key, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidInput(f"option {key!r} of CMA-ES must be true or false; got {value!r}")
    return bool(value)


def cma_settings(options: dict | None) -> CMASettings:
    """Validate CMA-ES options; each refusal names the option and what it accepts."""
    options = dict(options or {})
    unknown = [k for k in options if k not in CMA_OPTIONS]
    if unknown:
        raise InvalidInput(f"unknown option {unknown[0]!r} for CMA-ES. "
                           f"Valid options: {', '.join(CMA_OPTIONS)}.")
    out = {}
    for key, value in options.items():
        if key == "sigma0":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or value <= 0:
                raise InvalidInput(f"option 'sigma0' of CMA-ES must be a positive number (the initial "
                                   f"step, in the variables' units); got {value!r}")
            out[key] = float(value)
        elif key == "popsize":
            out[key] = _whole(key, value, 2, _MAX_POPSIZE)
        elif key == "restarts":
            out[key] = _whole(key, value, 0, _MAX_RESTARTS)
        elif key == "maxfevals":
            out[key] = _whole(key, value, 1, 10**15)
        elif key == "incpopsize":
            out[key] = _number(key, value, low=1, what=f"a number from 1 to {_MAX_INCPOPSIZE} (the factor "
                               f"by which each IPOP restart grows the population)")
            if out[key] > _MAX_INCPOPSIZE:
                raise InvalidInput(f"option 'incpopsize' of CMA-ES must be a number from 1 to "
                                   f"{_MAX_INCPOPSIZE}; got {value!r}")
        elif key in ("tolfun", "tolx"):
            out[key] = _number(key, value, low=0, what="a number >= 0 (0 switches the test off)")
        elif key == "ftarget":
            out[key] = _number(key, value, what="a finite number (stop once a value this good is found)")
        else:  # bipop, restart_from_best
            out[key] = _flag(key, value)
    return CMASettings(**out)


class _Embedding:
    """The space CMA-ES searches: the free variables, padded to two when only one is free.

    pycma warns that 1-D "is not supported and may bail or work poorly"; a dummy second
    variable the objective never sees is pycma's own advice (issues 86 and 302). Variables
    fixed by equal bounds are left out (a zero-width box has no BoundTransform).
    """

    def __init__(self, problem, x0: np.ndarray):
        self.lower = np.asarray(problem.lower, dtype=float)
        self.upper = np.asarray(problem.upper, dtype=float)
        self.x0 = np.clip(np.asarray(x0, dtype=float), self.lower, self.upper)
        self.free = np.flatnonzero(self.lower < self.upper)
        pad = self.free[:1] if len(self.free) == 1 else self.free[:0]
        self.index = np.concatenate([self.free, pad])  # the full-space variable behind each CMA coordinate
        self.z0 = self.x0[self.index]

    @property
    def size(self) -> int:
        return len(self.index)

    def to_x(self, Z) -> np.ndarray:
        """Full points (rows) from CMA points (rows), inside the box."""
        Z = np.asarray(Z, dtype=float)
        X = np.tile(self.x0, (len(Z), 1))
        X[:, self.free] = Z[:, :len(self.free)]
        return np.clip(X, self.lower, self.upper)  # BoundTransform keeps to the box; rounding may not

    def to_z(self, x) -> np.ndarray:
        return np.asarray(x, dtype=float)[self.index]

    def bounds(self):
        """pycma's [lower, upper] lists (None where unbounded), or None when nothing is bounded."""
        lo, hi = self.lower[self.index], self.upper[self.index]
        if not (np.isfinite(lo).any() or np.isfinite(hi).any()):
            return None
        return [[float(v) if math.isfinite(v) else None for v in lo],
                [float(v) if math.isfinite(v) else None for v in hi]]

    def scales(self) -> np.ndarray:
        """Each coordinate's natural scale: its box width, or max(1, |x0_i|) when unbounded."""
        lo, hi = self.lower[self.index], self.upper[self.index]
        width = hi - lo
        return np.where(np.isfinite(width), width, np.maximum(1.0, np.abs(self.z0)))


def _pycma_seed(seed: int, irun: int) -> int:
    """A nonzero seed for pycma (0 and None mean "random" there), one per restart as in fmin2."""
    return (int(seed) + irun) % _SEED_MODULUS + 1


def _minimization_target(problem, ftarget: float | None) -> float | None:
    if ftarget is None:
        return None
    return -ftarget if getattr(problem, "sense", "minimize") == "maximize" else ftarget


class _Evaluator:
    """Evaluates CMA generations through the recording objective, counting and keeping the best."""

    def __init__(self, fun, problem, embedding: _Embedding, maxfevals: int | None):
        self.batch = fun.batch if batches(problem, fun) else None
        self.fun = fun
        self.embedding = embedding
        self.maxfevals = maxfevals
        self.n = 0
        self.best_x: np.ndarray | None = None
        self.best_f = math.inf
        self.run_best = math.inf  # the best value since the current run began

    @property
    def room(self) -> float:
        return math.inf if self.maxfevals is None else self.maxfevals - self.n

    def __call__(self, Z) -> np.ndarray:
        X = self.embedding.to_x(Z)
        if self.batch is not None:
            values = np.asarray(self.batch(X.T), dtype=float).reshape(-1)
        else:
            values = np.array([float(self.fun(x)) for x in X])
        self.n += len(X)
        if len(values):
            i = int(np.argmin(values))
            self.run_best = min(self.run_best, float(values[i]))
            if values[i] < self.best_f or self.best_x is None:
                self.best_x, self.best_f = X[i].copy(), float(values[i])
        return values


def cma_defaults(problem, options: dict, budget_named: bool) -> dict:
    """The options a CMA-ES run needs from the problem: without a named budget its restarts stop at
    auto's default budget (not the run's safety cap), and on a benchmark with a known optimum they
    stop once it is reached (`ftarget`, in the user's sense)."""
    from aopt.optimize._auto import TARGET_RTOL, default_budget

    out = dict(options)
    if not budget_named and "maxfevals" not in out:
        out["maxfevals"] = default_budget(problem.dimension)
    f_star = getattr(problem, "f_star", None)
    if "ftarget" not in out and f_star is not None and math.isfinite(f_star):
        out["ftarget"] = f_star + TARGET_RTOL * max(1.0, abs(f_star))
    return out


def _sigma(settings: CMASettings, problem, embedding: _Embedding) -> tuple[float, np.ndarray | None]:
    """pycma's sigma0 and per-coordinate scales (CMA_stds)."""
    if settings.sigma0 is None:
        # one step for all coordinates, and per-coordinate scales only where the widths differ
        # (pycma's CMA_stds): equal widths run plain CMA-ES, as in COCO's experiments
        scales = embedding.scales()
        typical = float(np.exp(np.mean(np.log(np.maximum(scales, 1e-300))))) if scales.size else 1.0
        relative = scales / typical
        same = bool(np.allclose(relative, 1.0, rtol=1e-12))
        return _SIGMA_FRACTION * typical, None if same else relative
    if problem.has_finite_bounds and embedding.size:
        widest = float(np.max(embedding.upper[embedding.index] - embedding.lower[embedding.index]))
        if settings.sigma0 > widest:
            raise InvalidInput(f"option 'sigma0' of CMA-ES must be at most the widest bound interval "
                               f"({widest:g}): a larger step samples little but the bounds; got "
                               f"{settings.sigma0!r}")
    return settings.sigma0, None


def solve_cma(info: AlgorithmInfo, problem, fun, x0: np.ndarray, options: dict, seed: int | None,
              *, hard_bounds: bool = True) -> Outcome:
    """Run CMA-ES with restarts on `fun` (the recording objective, minimization form).

    Every evaluated point lies inside the problem's bounds, whether or not they are
    `hard_bounds` (CMA-ES keeps to any bounds it is given). `EvaluationBudgetReached`
    ends the run early; KeyboardInterrupt propagates.
    """
    settings = cma_settings(options)
    embedding = _Embedding(problem, x0)
    sigma0, stds = _sigma(settings, problem, embedding)
    evaluator = _Evaluator(fun, problem, embedding, settings.maxfevals)
    set_phase = getattr(fun, "set_phase", None)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % _SEED_MODULUS)
    if embedding.size == 0:  # every variable fixed by its bounds: one point to evaluate
        if callable(set_phase):
            set_phase(f"{METHOD} run 1")
        try:
            evaluator(embedding.z0[None, :])
        except EvaluationBudgetReached:
            return Outcome(METHOD, None, None, 0, "stopped: evaluation budget reached", None, True)
        return Outcome(METHOD, evaluator.best_x, evaluator.best_f, 0,
                       f"{METHOD}: every variable is fixed by its bounds; evaluated the one point", None)

    import cma  # heavy: only when CMA-ES runs

    state = np.random.get_state()  # pycma seeds and samples from NumPy's global generator
    run = _RestartLoop(cma, settings, problem, embedding, evaluator, sigma0, stds, seed, set_phase,
                       getattr(fun, "enough", None))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pycma's advice (1-D, sigma vs bounds) is not the user's
            run.run()
    except EvaluationBudgetReached:
        return Outcome(METHOD, evaluator.best_x, None if evaluator.best_x is None else evaluator.best_f,
                       run.generations, "stopped: evaluation budget reached", None, True,
                       restarts=tuple(run.finished_bests))
    finally:
        np.random.set_state(state)
    return Outcome(METHOD, evaluator.best_x, None if evaluator.best_x is None else evaluator.best_f,
                   run.generations, run.message(), None, restarts=tuple(run.finished_bests))


class _RestartLoop:
    """IPOP (a larger population at each restart) or BIPOP (interleaving small-population runs
    with a random smaller step) as in pycma's fmin2, the runs' evaluations shared through `evaluator`."""

    def __init__(self, cma, settings: CMASettings, problem, embedding: _Embedding, evaluator: _Evaluator,
                 sigma0: float, stds, seed: int, set_phase, enough=None):
        self.cma = cma
        # the caller's early stop (auto: enough restarts agree), asked with the finished runs' bests
        self.enough = enough if callable(enough) else None
        self.settings = settings
        self.embedding = embedding
        self.evaluator = evaluator
        self.sigma0 = sigma0
        self.seed = seed
        self.set_phase = set_phase if callable(set_phase) else None
        self.rng = np.random.default_rng(_pycma_seed(seed, 0))  # BIPOP's draws
        self.base = {"verbose": -9, "verb_disp": 0, "verb_log": 0, "verb_time": False,
                     "bounds": embedding.bounds(), "CMA_stds": None if stds is None else list(stds),
                     "maxfevals": math.inf}
        for key in ("tolfun", "tolx"):
            if getattr(settings, key) is not None:
                self.base[key] = getattr(settings, key)
        target = _minimization_target(problem, settings.ftarget)
        if target is not None:
            self.base["ftarget"] = target
        self.generations = 0
        self.runs = 0
        self.small_runs = 0
        self.popsize = 0
        self.stop: list[str] = []
        # the best value of each run that ended on its own criteria (not cut short by a budget):
        # independent starts, whose agreement auto counts as evidence of a global minimum
        self.finished_bests: list[float] = []

    def _max_popsize(self, popsize0: int) -> int:
        return max(popsize0, _MAX_POPULATION_NUMBERS // self.embedding.size)

    def run(self) -> None:
        s = self.settings
        mode = "BIPOP" if s.bipop else "IPOP"
        popsize0 = s.popsize or 4 + int(3 * math.log(self.embedding.size))
        cap = self._max_popsize(popsize0)
        maxiter0 = None
        small_evals = large_evals = 0
        irun = 0
        while True:
            sigma_factor, maxiter, small = 1.0, maxiter0, irun == 0
            if irun == 0:
                popsize = popsize0
            elif s.bipop and small_evals < max(1, large_evals):
                # a short local run: a random smaller step and population, at most half the
                # evaluations the large runs have used (Hansen 2009, as pycma's fmin2)
                small = True
                self.small_runs += 1
                sigma_factor = 0.01 ** self.rng.uniform()
                grown = s.incpopsize ** (irun - self.small_runs)
                popsize = max(2, int(popsize0 * grown ** (self.rng.uniform() ** 2)))
                maxiter = max(1, min(maxiter0, int(0.5 * large_evals / popsize)))
            else:
                popsize = int(round(popsize0 * s.incpopsize ** (irun - self.small_runs)))
            popsize = min(popsize, cap)
            if self.set_phase is not None:
                kind = f"{mode} small" if s.bipop and small and irun else mode
                self.set_phase(f"{METHOD} run 1" if irun == 0 else
                               f"{METHOD} restart {irun} ({kind}, popsize {popsize})")
            es, evals = self._one_run(irun, popsize, sigma_factor, maxiter)
            if maxiter0 is None:
                maxiter0 = int(es.opts["maxiter"])
            if small:
                small_evals += evals
            else:
                large_evals += evals
            irun += 1
            if ("ftarget" in self.stop or "maxfevals" in self.stop
                    or irun - self.small_runs > s.restarts):
                return
            if self.enough is not None and self.enough(list(self.finished_bests)):
                self.stop = ["agreement"]
                return

    def _one_run(self, irun: int, popsize: int, sigma_factor: float, maxiter):
        opts = dict(self.base, popsize=popsize, seed=_pycma_seed(self.seed, irun))
        if maxiter is not None:
            opts["maxiter"] = maxiter
        start = self.embedding.z0
        if self.settings.restart_from_best and self.evaluator.best_x is not None:
            start = self.embedding.to_z(self.evaluator.best_x)
        elif irun > 0:
            # a restart begins somewhere new (as fmin2 with a drawn x0): inside a finite box, a
            # point drawn uniformly from the run's seed; elsewhere around the start, one scale out
            lo, hi = self.embedding.lower[self.embedding.index], self.embedding.upper[self.embedding.index]
            finite = np.isfinite(lo) & np.isfinite(hi)
            spread = self.embedding.z0 + self.rng.standard_normal(self.embedding.size) * self.embedding.scales()
            drawn = self.rng.uniform(np.where(finite, lo, 0.0), np.where(finite, hi, 1.0))
            start = np.clip(np.where(finite, drawn, spread), lo, hi)
        es = self.cma.CMAEvolutionStrategy(start, sigma_factor * self.sigma0, opts)
        self.runs += 1
        self.popsize = popsize
        evaluator = self.evaluator
        first = evaluator.n
        evaluator.run_best = math.inf
        generation0, first_best = self.generations, math.inf
        self.stop = []
        while not es.stop():
            if evaluator.room <= 0:
                self.stop = ["maxfevals"]
                break
            Z = es.ask()
            if evaluator.room < len(Z):  # the last points the total allows; the generation is not told
                evaluator(Z[:int(evaluator.room)])
                self.generations += 1
                self.stop = ["maxfevals"]
                break
            values = evaluator(Z)
            if self.generations == generation0:
                first_best = float(np.min(values))
            self.generations += 1
            es.tell(Z, values.tolist())
        if not self.stop:
            self.stop = [str(k) for k in es.stop()] or ["unknown"]
            # a run that never improved on its first generation (a plateau: every point alike)
            # found nothing, and agrees with nothing
            if evaluator.run_best < first_best:
                self.finished_bests.append(evaluator.run_best)
        return es, evaluator.n - first

    def message(self) -> str:
        s = self.settings
        runs = f"{self.runs} run{'' if self.runs == 1 else 's'}"
        mode = "BIPOP" if s.bipop else "IPOP"
        small = f", {self.small_runs} with a small population" if s.bipop and self.small_runs else ""
        why = ", ".join(self.stop)
        if "maxfevals" in self.stop:
            why = f"maxfevals ({self.evaluator.n} evaluations)"
        elif "agreement" in self.stop:
            why = f"{len(self.finished_bests)} runs, enough of them agreeing on the best value"
        elif "ftarget" not in self.stop and self.runs - self.small_runs > s.restarts:
            why = f"{why} (after {s.restarts} restart{'' if s.restarts == 1 else 's'}, the most allowed)"
        return f"{METHOD}: {runs} ({mode}{small}, final popsize {self.popsize}), stopped: {why}"
