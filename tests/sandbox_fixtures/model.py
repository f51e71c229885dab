"""A well-behaved model: Rosenbrock with its gradient, and two constraints."""

import numpy as np

print("model imported")


def cost(x):
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


def grad(x):
    g = np.zeros_like(x)
    g[:-1] = -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    return g


def disk(x):
    """x0^2 + x1^2 <= 4, as >= 0."""
    return 4.0 - x[0] ** 2 - x[1] ** 2


def pair(x):
    return np.array([x[0] + x[1] - 1.0, x[0] - x[1]])


def batch_cost(X):
    return np.sum(X**2, axis=1)


def noisy(x):
    print("evaluating at", x.tolist())
    return float(x[0])
