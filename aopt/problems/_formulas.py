"""Benchmark formulas and their analytic gradients, as plain vectorised numpy.

Each function takes a 1-D float64 array and returns a Python float (value) or a
new 1-D array (gradient). No Python loops over the dimension: a call on a 10-D
point costs a few microseconds. Formulas follow the Virtual Library of
Simulation Experiments (Surjanovic & Bingham) unless noted.
"""

from __future__ import annotations

import math

import numpy as np

_PI = math.pi
_TWO_PI = 2.0 * math.pi
_NDARRAY = np.ndarray
_F64 = np.dtype(np.float64)


def as_vector(x) -> np.ndarray:
    """x as a float64 ndarray, without a copy when it already is one."""
    if type(x) is _NDARRAY and x.dtype == _F64:
        return x
    return np.asarray(x, dtype=float)


# ---------------------------------------------------------------- any dimension

def sphere(x):
    x = as_vector(x)
    return float(x @ x)


def sphere_grad(x):
    return 2.0 * as_vector(x)


def sphere_hess(x):
    return 2.0 * np.eye(as_vector(x).size)


def rosenbrock(x):
    x = as_vector(x)
    a = x[1:] - x[:-1] * x[:-1]
    b = 1.0 - x[:-1]
    return float(100.0 * (a @ a) + b @ b)


def rosenbrock_grad(x):
    x = as_vector(x)
    a = x[1:] - x[:-1] * x[:-1]
    g = np.zeros_like(x)
    g[:-1] = -400.0 * x[:-1] * a - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * a
    return g


def rosenbrock_hess(x):
    x = as_vector(x)
    n = x.size
    diag = np.zeros(n)
    diag[:-1] = 1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0
    diag[1:] += 200.0
    off = -400.0 * x[:-1]
    return np.diag(diag) + np.diag(off, 1) + np.diag(off, -1)


def rastrigin(x):
    x = as_vector(x)
    return float(10.0 * x.size + x @ x - 10.0 * np.cos(_TWO_PI * x).sum())


def rastrigin_grad(x):
    x = as_vector(x)
    return 2.0 * x + 20.0 * _PI * np.sin(_TWO_PI * x)


def rastrigin_hess(x):
    x = as_vector(x)
    return np.diag(2.0 + 40.0 * _PI * _PI * np.cos(_TWO_PI * x))


def ackley(x):
    x = as_vector(x)
    n = x.size
    r = math.sqrt((x @ x) / n)
    c = np.cos(_TWO_PI * x).sum() / n
    return float(-20.0 * math.exp(-0.2 * r) - math.exp(c) + 20.0 + math.e)


def ackley_grad(x):
    """Gradient of Ackley; at the origin (a kink) the first term contributes 0."""
    x = as_vector(x)
    n = x.size
    r = math.sqrt((x @ x) / n)
    c = np.cos(_TWO_PI * x).sum() / n
    g = (_TWO_PI / n) * math.exp(c) * np.sin(_TWO_PI * x)
    if r > 0.0:
        g += (4.0 * math.exp(-0.2 * r) / (n * r)) * x
    return g


def _griewank_parts(x):
    s = 1.0 / np.sqrt(np.arange(1, x.size + 1))
    return s, np.cos(x * s)


def griewank(x):
    x = as_vector(x)
    _, c = _griewank_parts(x)
    return float(1.0 + (x @ x) / 4000.0 - np.prod(c))


def griewank_grad(x):
    x = as_vector(x)
    s, c = _griewank_parts(x)
    # product of the other cosines without dividing (a cosine may be 0)
    left = np.concatenate(([1.0], np.cumprod(c[:-1])))
    right = np.concatenate((np.cumprod(c[::-1][:-1])[::-1], [1.0]))
    return x / 2000.0 + s * np.sin(x * s) * left * right


SCHWEFEL_CONSTANT = 418.9828872724338
SCHWEFEL_X = 420.96874635998202


def schwefel(x):
    x = as_vector(x)
    return float(SCHWEFEL_CONSTANT * x.size - x @ np.sin(np.sqrt(np.abs(x))))


def schwefel_grad(x):
    # d/dx [x sin(sqrt|x|)] = sin(s) + s cos(s) / 2 with s = sqrt|x|
    s = np.sqrt(np.abs(as_vector(x)))
    return -(np.sin(s) + 0.5 * s * np.cos(s))


def levy(x):
    x = as_vector(x)
    w = 1.0 + (x - 1.0) / 4.0
    wi = w[:-1] - 1.0
    wn = w[-1] - 1.0
    return float(math.sin(_PI * w[0]) ** 2
                 + wi @ (wi * (1.0 + 10.0 * np.sin(_PI * w[:-1] + 1.0) ** 2))
                 + wn * wn * (1.0 + math.sin(_TWO_PI * w[-1]) ** 2))


def levy_grad(x):
    x = as_vector(x)
    w = 1.0 + (x - 1.0) / 4.0
    g = np.zeros_like(w)
    g[0] = _PI * math.sin(_TWO_PI * w[0])
    wi = w[:-1] - 1.0
    t = _PI * w[:-1] + 1.0
    g[:-1] += 2.0 * wi * (1.0 + 10.0 * np.sin(t) ** 2) + 10.0 * _PI * wi * wi * np.sin(2.0 * t)
    wn = w[-1] - 1.0
    g[-1] += (2.0 * wn * (1.0 + math.sin(_TWO_PI * w[-1]) ** 2)
              + _TWO_PI * wn * wn * math.sin(2.0 * _TWO_PI * w[-1]))
    return g / 4.0


def _zakharov_s(x):
    return 0.5 * np.arange(1, x.size + 1) @ x


def zakharov(x):
    x = as_vector(x)
    s = _zakharov_s(x)
    return float(x @ x + s * s + s ** 4)


def zakharov_grad(x):
    x = as_vector(x)
    s = _zakharov_s(x)
    return 2.0 * x + (2.0 * s + 4.0 * s ** 3) * 0.5 * np.arange(1, x.size + 1)


def zakharov_hess(x):
    x = as_vector(x)
    s = _zakharov_s(x)
    c = 0.5 * np.arange(1, x.size + 1)
    return 2.0 * np.eye(x.size) + (2.0 + 12.0 * s * s) * np.outer(c, c)


STYBLINSKI_TANG_X = -2.9035340277711770
STYBLINSKI_TANG_F = -39.16616570377142


def styblinski_tang(x):
    x = as_vector(x)
    x2 = x * x
    return float(0.5 * (x2 @ x2 - 16.0 * x2.sum() + 5.0 * x.sum()))


def styblinski_tang_grad(x):
    x = as_vector(x)
    return 2.0 * x ** 3 - 16.0 * x + 2.5


def styblinski_tang_hess(x):
    return np.diag(6.0 * as_vector(x) ** 2 - 16.0)


# ---------------------------------------------------------------- two dimensions

def beale(x):
    a, b = as_vector(x)
    return float((1.5 - a + a * b) ** 2 + (2.25 - a + a * b * b) ** 2 + (2.625 - a + a * b ** 3) ** 2)


def beale_grad(x):
    a, b = as_vector(x)
    t1 = 1.5 - a + a * b
    t2 = 2.25 - a + a * b * b
    t3 = 2.625 - a + a * b ** 3
    return np.array([2.0 * (t1 * (b - 1.0) + t2 * (b * b - 1.0) + t3 * (b ** 3 - 1.0)),
                     2.0 * (t1 * a + t2 * 2.0 * a * b + t3 * 3.0 * a * b * b)])


def booth(x):
    a, b = as_vector(x)
    return float((a + 2.0 * b - 7.0) ** 2 + (2.0 * a + b - 5.0) ** 2)


def booth_grad(x):
    a, b = as_vector(x)
    t1 = a + 2.0 * b - 7.0
    t2 = 2.0 * a + b - 5.0
    return np.array([2.0 * t1 + 4.0 * t2, 4.0 * t1 + 2.0 * t2])


def booth_hess(x):
    return np.array([[10.0, 8.0], [8.0, 10.0]])


def himmelblau(x):
    a, b = as_vector(x)
    return float((a * a + b - 11.0) ** 2 + (a + b * b - 7.0) ** 2)


def himmelblau_grad(x):
    a, b = as_vector(x)
    t1 = a * a + b - 11.0
    t2 = a + b * b - 7.0
    return np.array([4.0 * a * t1 + 2.0 * t2, 2.0 * t1 + 4.0 * b * t2])


_BRANIN_B = 5.1 / (4.0 * _PI ** 2)
_BRANIN_C = 5.0 / _PI
_BRANIN_T = 1.0 / (8.0 * _PI)


def branin(x):
    a, b = as_vector(x)
    t = b - _BRANIN_B * a * a + _BRANIN_C * a - 6.0
    return float(t * t + 10.0 * (1.0 - _BRANIN_T) * math.cos(a) + 10.0)


def branin_grad(x):
    a, b = as_vector(x)
    t = b - _BRANIN_B * a * a + _BRANIN_C * a - 6.0
    return np.array([2.0 * t * (_BRANIN_C - 2.0 * _BRANIN_B * a) - 10.0 * (1.0 - _BRANIN_T) * math.sin(a),
                     2.0 * t])


def six_hump_camel(x):
    a, b = as_vector(x)
    a2 = a * a
    b2 = b * b
    return float((4.0 - 2.1 * a2 + a2 * a2 / 3.0) * a2 + a * b + (-4.0 + 4.0 * b2) * b2)


def six_hump_camel_grad(x):
    a, b = as_vector(x)
    return np.array([8.0 * a - 8.4 * a ** 3 + 2.0 * a ** 5 + b, a - 8.0 * b + 16.0 * b ** 3])


def goldstein_price(x):
    a, b = as_vector(x)
    p = 1.0 + (a + b + 1.0) ** 2 * (19.0 - 14.0 * a + 3.0 * a * a - 14.0 * b + 6.0 * a * b + 3.0 * b * b)
    q = 30.0 + (2.0 * a - 3.0 * b) ** 2 * (18.0 - 32.0 * a + 12.0 * a * a + 48.0 * b - 36.0 * a * b
                                          + 27.0 * b * b)
    return float(p * q)


def goldstein_price_grad(x):
    a, b = as_vector(x)
    s = a + b + 1.0
    u = 19.0 - 14.0 * a + 3.0 * a * a - 14.0 * b + 6.0 * a * b + 3.0 * b * b
    du = -14.0 + 6.0 * a + 6.0 * b  # du/da == du/db
    c = 2.0 * a - 3.0 * b
    v = 18.0 - 32.0 * a + 12.0 * a * a + 48.0 * b - 36.0 * a * b + 27.0 * b * b
    p = 1.0 + s * s * u
    q = 30.0 + c * c * v
    dp = 2.0 * s * u + s * s * du
    dqa = 4.0 * c * v + c * c * (-32.0 + 24.0 * a - 36.0 * b)
    dqb = -6.0 * c * v + c * c * (48.0 - 36.0 * a + 54.0 * b)
    return np.array([dp * q + p * dqa, dp * q + p * dqb])


def easom(x):
    a, b = as_vector(x)
    return float(-math.cos(a) * math.cos(b) * math.exp(-((a - _PI) ** 2 + (b - _PI) ** 2)))


def easom_grad(x):
    a, b = as_vector(x)
    e = math.exp(-((a - _PI) ** 2 + (b - _PI) ** 2))
    ca, cb = math.cos(a), math.cos(b)
    return np.array([math.sin(a) * cb * e + 2.0 * (a - _PI) * ca * cb * e,
                     ca * math.sin(b) * e + 2.0 * (b - _PI) * ca * cb * e])


def matyas(x):
    a, b = as_vector(x)
    return float(0.26 * (a * a + b * b) - 0.48 * a * b)


def matyas_grad(x):
    a, b = as_vector(x)
    return np.array([0.52 * a - 0.48 * b, 0.52 * b - 0.48 * a])


def three_hump_camel(x):
    a, b = as_vector(x)
    return float(2.0 * a * a - 1.05 * a ** 4 + a ** 6 / 6.0 + a * b + b * b)


def three_hump_camel_grad(x):
    a, b = as_vector(x)
    return np.array([4.0 * a - 4.2 * a ** 3 + a ** 5 + b, a + 2.0 * b])


def dixon_price(x):
    x = as_vector(x)
    i = np.arange(2, x.size + 1)
    t = 2.0 * x[1:] ** 2 - x[:-1]
    return float((x[0] - 1.0) ** 2 + i @ (t * t))


def dixon_price_grad(x):
    x = as_vector(x)
    i = np.arange(2, x.size + 1)
    t = 2.0 * x[1:] ** 2 - x[:-1]
    g = np.zeros_like(x)
    g[0] = 2.0 * (x[0] - 1.0)
    g[:-1] -= 2.0 * i * t
    g[1:] += 8.0 * i * t * x[1:]
    return g


def dixon_price_x_star(n: int) -> list[float]:
    i = np.arange(1, n + 1)
    return [float(v) for v in 2.0 ** (-(2.0 ** i - 2.0) / 2.0 ** i)]
