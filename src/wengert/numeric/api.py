"""Numerical derivatives for users: of scalar functions, gradients and Jacobians."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .differences import _difference, complex_step, directional_derivative, richardson
from .stencils import default_step, fd_weights, stencil_offsets

METHODS = ("central", "forward", "backward", "richardson", "complex")


def _along_basis(fun, x, method, **opts) -> Callable[[np.ndarray], np.ndarray]:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "richardson":
        return lambda v: richardson(fun, x, v, **opts)[0]
    if method == "complex":
        return lambda v: complex_step(fun, x, v, **opts)
    return lambda v: directional_derivative(fun, x, v, kind=method, **opts)


def derivative(fun: Callable, x: float, *, method: str = "richardson", n: int = 1, **opts) -> Any:
    """The n-th derivative of a scalar function of one variable at `x`.

    `method` is "central", "forward", "backward" (with ``accuracy`` 2, 4 or 6),
    "richardson" or "complex" (first derivatives only).

    >>> round(float(derivative(np.sin, 0.0)), 12)
    1.0
    >>> round(float(derivative(np.exp, 0.0, method="central", n=2, accuracy=4)), 6)
    1.0
    """
    if not 1 <= n <= 4:
        raise ValueError(f"derivative: n must be 1, 2, 3 or 4, got {n}")
    if n == 1:
        return _along_basis(fun, x, method, **opts)(np.ones_like(np.asarray(x, dtype=float)))
    if method in ("complex", "richardson"):
        raise ValueError(f"derivative: method {method!r} gives first derivatives only (n=1)")
    accuracy = opts.get("accuracy", 2)
    offsets = stencil_offsets(method, accuracy, n)
    h = opts.get("step") or default_step(x, method, accuracy, n)
    return _difference(lambda t: np.asarray(fun(x + t)), offsets, fd_weights(offsets, n), h, n)


def jacobian(fun: Callable, x: Any, *, method: str = "richardson", **opts) -> np.ndarray:
    """Jacobian of `fun` at `x`, shaped output shape + input shape, one column at a time.

    >>> jacobian(lambda x: x ** 2, np.array([1.0, 2.0])).round(8)
    array([[2., 0.],
           [0., 4.]])
    """
    x = np.asarray(x, dtype=float)
    column = _along_basis(fun, x, method, **opts)
    cols = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = 1.0
        cols.append(np.asarray(column(e.reshape(x.shape))))
    out = np.stack(cols, axis=-1)
    return out.reshape(out.shape[:-1] + x.shape)


def gradient(fun: Callable, x: Any, *, method: str = "richardson", **opts) -> np.ndarray:
    """Gradient of a scalar function `fun` at `x` (shaped like `x`).

    >>> gradient(lambda x: np.sum(x ** 2), np.array([1.0, -3.0])).round(8)
    array([ 2., -6.])
    """
    out = jacobian(fun, x, method=method, **opts)
    if out.shape != np.shape(x):
        out_shape = out.shape[: out.ndim - np.ndim(x)]
        raise ValueError(
            f"gradient needs a scalar function; the output has shape {out_shape}. "
            "Use jacobian instead."
        )
    return out
