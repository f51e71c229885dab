"""Functions that misbehave in every way the sandbox must survive."""

import ctypes
import os
import sys

import numpy as np


def _inner(x):
    return 1.0 / float(x[0] - x[0])  # ZeroDivisionError on purpose


def deep(x):
    return _middle(x)


def _middle(x):
    return _inner(x) + 1.0


def loop(x):
    while True:
        pass


def slow(x):
    import time

    time.sleep(0.3)
    return float(x[0])


def bomb(x):
    blocks = []
    while True:
        blocks.append(np.ones(50_000_000))  # 400 MB each


def exit3(x):
    sys.exit(3)


def hard_exit(x):
    os._exit(1)


def segfault(x):
    return ctypes.string_at(0)


def shout(x):
    sys.stdout.write("y" * 300_000 + "\n")
    os.write(2, b"from C-level fd 2\n")
    return float(x[0])


def nan(x):
    return float("nan")


def inf(x):
    return float("inf")


def text(x):
    return "hello"


def nothing(x):
    pass


def mapping(x):
    return {"f": 1.0}


def vector(x):
    return np.array([1.0, 2.0, 3.0])


def short_grad(x):
    return np.zeros(len(x) - 1)


def nan_when_negative(x):
    return float("nan") if x[0] < 0 else float(x[0])


not_a_function = 42


def fails_when_negative(x):
    if x[0] < 0:
        raise ValueError(f"x[0] must be >= 0, got {x[0]}")
    return float(x[0])


def spawn_and_loop(x):
    """Starts a grandchild process, records its pid, then never returns."""
    import subprocess

    proc = subprocess.Popen(["sleep", "60"])
    with open(os.environ["PAOLA_TEST_PIDFILE"], "w") as fh:
        fh.write(str(proc.pid))
    while True:
        pass
