"""The built-in benchmark library: formulas, standard domains and known optima.

Names are looked up case-, space-, underscore- and hyphen-insensitively, with
common aliases ("camel6", "six hump camel", "goldstein price", ...).
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from typing import Callable, Optional

from aopt.errors import InvalidInput, NotFound
from aopt.problems import _formulas as F
from aopt.problems._kinds import ObjectiveParts

__all__ = ["Benchmark", "BENCHMARKS", "find_benchmark", "list_benchmarks", "get_benchmark",
           "build_benchmark", "normalize_name", "UnknownBenchmark"]

MAX_DIMENSION = 100_000


class UnknownBenchmark(NotFound, InvalidInput):
    """A name that looks like a benchmark but is not one (both NotFound and InvalidInput)."""

    kind = "not_found"


@dataclass(frozen=True)
class Benchmark:
    name: str
    fun: Callable
    grad: Callable
    bounds: tuple  # one (lo, hi) for every variable, or a tuple of pairs (fixed dimension)
    f_star: Callable[[int], float]
    x_stars: Callable[[int], list[list[float]]]
    description: str
    multimodal: bool
    dimension: Optional[int] = None  # None: any dimension >= min_dimension
    min_dimension: int = 1
    hess: Optional[Callable] = None
    aliases: tuple = field(default_factory=tuple)
    # False when f* is the minimum on the published domain only (Schwefel's falls further
    # outside it): with wider bounds, f* is then not the problem's optimum
    f_star_everywhere: bool = True

    def bounds_for(self, n: int) -> list[tuple[float, float]]:
        if isinstance(self.bounds[0], tuple):
            return [tuple(map(float, b)) for b in self.bounds]
        return [(float(self.bounds[0]), float(self.bounds[1]))] * n

    def info(self) -> dict:
        """A JSON-ready description (what list_benchmarks/get_benchmark return)."""
        n = self.dimension or 2
        b = self.bounds_for(n)
        return {
            "name": self.name,
            "dimension": self.dimension if self.dimension else "any",
            "min_dimension": self.dimension or self.min_dimension,
            "default_dimension": n,
            "default_bounds": list(b[0]) if len(set(b)) == 1 else [list(p) for p in b],
            "f_star": self.f_star(n),
            "x_star": self.x_stars(n)[0],
            "n_global_minima": len(self.x_stars(n)),
            "description": self.description,
            "multimodal": self.multimodal,
            "aliases": list(self.aliases),
        }


def _const(v: float) -> Callable[[int], float]:
    return lambda n: float(v)


def _fill(v: float) -> Callable[[int], list[list[float]]]:
    return lambda n: [[float(v)] * n]


def _points(*pts) -> Callable[[int], list[list[float]]]:
    return lambda n: [[float(c) for c in p] for p in pts]


def _schwefel_f_star(n: int) -> float:
    # the value at x* of the 418.9828872724338*n form: ~1e-12 per dimension, rounded to 0
    return round(F.schwefel([F.SCHWEFEL_X] * n), 9) + 0.0


_PI = math.pi
_BRANIN_Y = lambda x: 6.0 + 5.1 / (4 * _PI ** 2) * x * x - 5.0 / _PI * x  # noqa: E731

_LIST = [
    Benchmark("sphere", F.sphere, F.sphere_grad, (-5.12, 5.12), _const(0.0), _fill(0.0),
              "Sum of squares; convex, unimodal, the easiest smooth test.", False,
              hess=F.sphere_hess, aliases=("dejong", "dejong1", "sumofsquares", "quadratic")),
    Benchmark("rosenbrock", F.rosenbrock, F.rosenbrock_grad, (-5.0, 10.0), _const(0.0), _fill(1.0),
              "Banana-shaped curved valley; unimodal in 2-D but hard for first-order methods.", False,
              min_dimension=2, hess=F.rosenbrock_hess, aliases=("rosen", "banana")),
    Benchmark("rastrigin", F.rastrigin, F.rastrigin_grad, (-5.12, 5.12), _const(0.0), _fill(0.0),
              "Sphere plus a cosine ripple: a regular grid of many local minima.", True,
              hess=F.rastrigin_hess),
    Benchmark("ackley", F.ackley, F.ackley_grad, (-32.768, 32.768), _const(0.0), _fill(0.0),
              "Nearly flat outer region with many small local minima and a deep central hole.", True),
    Benchmark("griewank", F.griewank, F.griewank_grad, (-600.0, 600.0), _const(0.0), _fill(0.0),
              "Quadratic bowl times a product of cosines: many widespread, regular local minima.", True,
              aliases=("griewangk",)),
    Benchmark("schwefel", F.schwefel, F.schwefel_grad, (-500.0, 500.0), _schwefel_f_star,
              _fill(F.SCHWEFEL_X),
              "Deceptive: the global minimum is near a corner, far from the second best.", True,
              f_star_everywhere=False),
    Benchmark("levy", F.levy, F.levy_grad, (-10.0, 10.0), _const(0.0), _fill(1.0),
              "Many local minima along a sine-modulated landscape.", True),
    Benchmark("zakharov", F.zakharov, F.zakharov_grad, (-5.0, 10.0), _const(0.0), _fill(0.0),
              "Plate-shaped, unimodal, with a quartic term that grows fast.", False,
              hess=F.zakharov_hess),
    Benchmark("styblinski-tang", F.styblinski_tang, F.styblinski_tang_grad, (-5.0, 5.0),
              lambda n: F.STYBLINSKI_TANG_F * n, _fill(F.STYBLINSKI_TANG_X),
              "Separable quartic with 2^n local minima; f* = -39.16616570377142*n.", True,
              hess=F.styblinski_tang_hess, aliases=("styblinski", "stybtang", "styblinskitang")),
    Benchmark("dixon-price", F.dixon_price, F.dixon_price_grad, (-10.0, 10.0), _const(0.0),
              lambda n: [F.dixon_price_x_star(n)],
              "Valley-shaped, unimodal; x*_i = 2^(-(2^i - 2)/2^i).", False, aliases=("dixonprice",)),
    Benchmark("beale", F.beale, F.beale_grad, (-4.5, 4.5), _const(0.0), _points((3.0, 0.5)),
              "Sharp peaks at the corners of the domain; unimodal in practice.", False, dimension=2),
    Benchmark("booth", F.booth, F.booth_grad, (-10.0, 10.0), _const(0.0), _points((1.0, 3.0)),
              "Convex quadratic in two variables.", False, dimension=2, hess=F.booth_hess),
    Benchmark("matyas", F.matyas, F.matyas_grad, (-10.0, 10.0), _const(0.0), _points((0.0, 0.0)),
              "Flat, convex quadratic plate.", False, dimension=2),
    Benchmark("himmelblau", F.himmelblau, F.himmelblau_grad, (-5.0, 5.0), _const(0.0),
              _points((3.0, 2.0), (-2.805118086952745, 3.131312518250573),
                      (-3.779310253377747, -3.283185991286170), (3.584428340330492, -1.848126526964404)),
              "Four identical global minima.", True, dimension=2),
    Benchmark("branin", F.branin, F.branin_grad, ((-5.0, 10.0), (0.0, 15.0)), _const(10.0 / (8.0 * _PI)),
              _points((-_PI, _BRANIN_Y(-_PI)), (_PI, _BRANIN_Y(_PI)), (3 * _PI, _BRANIN_Y(3 * _PI))),
              "Branin-Hoo: three global minima on a rectangular domain.", True, dimension=2,
              aliases=("braninhoo", "braninrcos", "branin1")),
    Benchmark("six-hump-camel", F.six_hump_camel, F.six_hump_camel_grad, ((-3.0, 3.0), (-2.0, 2.0)),
              _const(-1.0316284534898774),
              _points((0.08984201310031806, -0.7126564030207396), (-0.08984201310031806, 0.7126564030207396)),
              "Six local minima, two of them global.", True, dimension=2,
              aliases=("camel6", "sixhump", "camelback", "sixhumpcamelback", "camel", "sixcamel")),
    Benchmark("three-hump-camel", F.three_hump_camel, F.three_hump_camel_grad, (-5.0, 5.0), _const(0.0),
              _points((0.0, 0.0)), "Three local minima, one global at the origin.", True, dimension=2,
              aliases=("camel3", "threehump")),
    Benchmark("goldstein-price", F.goldstein_price, F.goldstein_price_grad, (-2.0, 2.0), _const(3.0),
              _points((0.0, -1.0)), "Several local minima and a huge range of values.", True,
              dimension=2, aliases=("goldstein", "goldprice")),
    Benchmark("easom", F.easom, F.easom_grad, (-100.0, 100.0), _const(-1.0), _points((_PI, _PI)),
              "A single narrow hole in a flat plateau.", True, dimension=2),
]

BENCHMARKS: dict[str, Benchmark] = {b.name: b for b in _LIST}


def normalize_name(text: str) -> str:
    """Lower case with spaces, underscores, hyphens, dots and apostrophes removed."""
    key = re.sub(r"['’]s\b", "", str(text).lower())  # "Himmelblau's function"
    key = re.sub(r"[\s_\-.'’]+", "", key)
    for suffix in ("function", "benchmark", "problem"):
        if key.endswith(suffix) and len(key) > len(suffix):
            key = key[: -len(suffix)]
    if key.startswith("the") and key[3:] in _INDEX:
        key = key[3:]
    return key


_INDEX: dict[str, Benchmark] = {}
for _b in _LIST:
    for _key in (_b.name, *_b.aliases):
        _INDEX[re.sub(r"[\s_\-.'’]+", "", _key.lower())] = _b


def find_benchmark(text: str) -> Optional[Benchmark]:
    """The benchmark a name refers to, or None."""
    if not isinstance(text, str) or len(text) > 60:
        return None
    return _INDEX.get(normalize_name(text))


def nearest_benchmark(text: str) -> Optional[str]:
    keys = difflib.get_close_matches(normalize_name(text), list(_INDEX), n=1, cutoff=0.6)
    return _INDEX[keys[0]].name if keys else None


def unknown_benchmark_error(text: str) -> UnknownBenchmark:
    near = nearest_benchmark(text)
    hint = f" Did you mean {near!r}?" if near else ""
    return UnknownBenchmark(f"no benchmark named {text!r}.{hint} Known benchmarks: {', '.join(BENCHMARKS)}")


def list_benchmarks() -> list[dict]:
    """Every built-in benchmark as a JSON-ready dict (name, dimension rule, bounds, f*, ...)."""
    return [b.info() for b in _LIST]


def get_benchmark(name: str) -> dict:
    """One benchmark's info by name or alias; NotFound (listing the names) when unknown."""
    bench = find_benchmark(name)
    if bench is None:
        raise unknown_benchmark_error(name)
    return bench.info()


def _check_dimension(bench: Benchmark, dimension: Optional[int]) -> int:
    if bench.dimension is not None:
        if dimension is not None and dimension != bench.dimension:
            raise InvalidInput(f"benchmark {bench.name!r} is defined only for dimension {bench.dimension}; "
                               f"got dimension={dimension}. Accepted: dimension={bench.dimension} or none")
        return bench.dimension
    n = 2 if dimension is None else dimension
    if n < bench.min_dimension or n > MAX_DIMENSION:
        raise InvalidInput(f"benchmark {bench.name!r} needs dimension between {bench.min_dimension} and "
                           f"{MAX_DIMENSION}; got dimension={dimension}")
    return n


def build_benchmark(objective: str, dimension: Optional[int]) -> ObjectiveParts:
    """The 'benchmark' kind builder."""
    bench = find_benchmark(objective)
    if bench is None:
        raise unknown_benchmark_error(objective)
    n = _check_dimension(bench, dimension)
    x_stars = bench.x_stars(n)
    return ObjectiveParts(
        variables=[f"x{i}" for i in range(1, n + 1)],
        fun=bench.fun, jac=bench.grad, hess=bench.hess,
        default_bounds=bench.bounds_for(n),
        f_star=float(bench.f_star(n)), x_star=list(x_stars[0]),
        x_stars=[list(p) for p in x_stars],
        multimodal=bench.multimodal, canonical_objective=bench.name,
        extra={} if bench.f_star_everywhere else {"f_star_domain": [list(b) for b in bench.bounds_for(n)]},
    )
