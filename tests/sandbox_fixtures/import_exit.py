import sys

sys.exit(2)


def cost(x):
    return 0.0
