"""Minimise the 100-dimensional Rosenbrock function with exact second derivatives.

Newton-CG gets Hessian-vector products (the gradient is linearised once per point, then
each product is a cheap forward push), trust-exact gets the full Hessian (one
forward-over-reverse pass with all 100 directions at once). SciPy's default, BFGS with
finite-difference gradients, is run for comparison. Run:
``python examples/rosenbrock_newton.py``.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.optimize

import wengert.numpy as wnp
from wengert.optimize import minimize

N = 100


def rosenbrock(x):
    return wnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


class Counted:
    """Counts evaluations of the function (each derivative evaluation included)."""

    def __init__(self, fun):
        self.fun, self.calls = fun, 0

    def __call__(self, x):
        self.calls += 1
        return self.fun(x)


def main() -> None:
    x0 = np.full(N, -1.0)
    x0[::2] = -1.2
    print(f"Rosenbrock in {N} dimensions from x0 = (-1.2, -1, -1.2, ...); minimum at (1, ..., 1)")
    print(f"{'method':34} {'evaluations':>11} {'iterations':>10} {'max |x - 1|':>12} {'time':>8}")
    runs = [
        (
            "Newton-CG (wengert hessp)",
            lambda f: minimize(f, x0, method="Newton-CG", options={"xtol": 1e-10}),
        ),
        (
            "trust-exact (wengert hess)",
            lambda f: minimize(f, x0, method="trust-exact", options={"gtol": 1e-10}),
        ),
        (
            "BFGS, finite differences (SciPy)",
            lambda f: scipy.optimize.minimize(lambda x: float(f(x)), x0),
        ),
    ]
    for name, run in runs:
        f = Counted(rosenbrock)
        start = time.perf_counter()
        result = run(f)
        seconds = time.perf_counter() - start
        error = np.max(np.abs(result.x - 1.0))
        print(f"{name:34} {f.calls:11d} {result.nit:10d} {error:12.1e} {seconds:7.2f}s")


if __name__ == "__main__":
    main()
