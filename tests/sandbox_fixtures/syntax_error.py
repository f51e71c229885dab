def cost(x):
    return x[0] +


def other(x):
    return 1.0
