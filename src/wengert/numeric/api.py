"""Numerical derivatives for users: of scalar functions of one variable, gradients, Jacobians."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .complex_step import complex_step
from .richardson import richardson
from .stencils import directional_derivative

METHODS = ("central", "forward", "backward", "richardson", "complex")
ORDERS = (1, 2, 3, 4)

# The keyword options each method passes on to the function that computes it.
_OPTIONS = {
    "central": ("accuracy", "step"),
    "forward": ("accuracy", "step"),
    "backward": ("accuracy", "step"),
    "richardson": ("accuracy", "step", "kind", "levels", "ratio"),
    "complex": ("step",),
}


def _check_method(method: Any, n: Any, options: dict, func: str) -> int:
    if method not in METHODS:
        raise ValueError(f"{func}: method must be one of {METHODS}, got {method!r}")
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"{func}: n must be an integer, got {type(n).__name__} {n!r}") from None
    if n not in ORDERS:
        raise ValueError(f"{func}: n must be 1, 2, 3 or 4, got {n}")
    if method == "complex" and n != 1:
        raise ValueError(
            f"{func}: method='complex' gives first derivatives only (n=1), got n={n}; "
            "use 'richardson' or a stencil method for higher derivatives"
        )
    unknown = sorted(set(options) - set(_OPTIONS[method]))
    if unknown:
        raise TypeError(
            f"{func}: method={method!r} takes the options {_OPTIONS[method]}, got {unknown}"
        )
    return n


def _along(fun: Callable, x: Any, v: Any, method: str, n: int, options: dict) -> np.ndarray:
    if method == "richardson":
        return richardson(fun, x, v, deriv=n, **options)[0]
    if method == "complex":
        return complex_step(fun, x, v, **options)
    return directional_derivative(fun, x, v, kind=method, deriv=n, **options)


def derivative(
    fun: Callable, x: Any, *, method: str = "richardson", n: int = 1, **options: Any
) -> np.ndarray:
    """The n-th derivative at a scalar `x` of a function of one variable, as an array.

    `method` is "central", "forward" or "backward" (options `accuracy` 2, 4 or 6 and
    `step`), "richardson" (options `accuracy`, `step`, `kind`, `levels`, `ratio`) or
    "complex" (option `step`, first derivatives only); n is 1 to 4. The result has fun's
    output shape, so a scalar function gives a 0-d array.

    >>> derivative(np.sin, 0.0)
    array(1.)
    >>> round(float(derivative(np.exp, 0.0, method="central", n=2, accuracy=4)), 6)
    1.0
    """
    func = "derivative"
    n = _check_method(method, n, options, func)
    if np.ndim(x) != 0:
        raise ValueError(
            f"{func}: x must be a scalar, got shape {np.shape(x)}; use gradient, jacobian "
            "or directional_derivative for array arguments"
        )
    return _along(fun, x, np.ones_like(x, dtype=np.float64), method, n, options)


def _columns(fun: Callable, x: np.ndarray, method: str, options: dict) -> Iterator[np.ndarray]:
    for i in range(x.size):
        e = np.zeros(x.shape, dtype=np.float64)
        e.flat[i] = 1.0
        yield np.asarray(_along(fun, x, e, method, 1, options))


def _as_point(x: Any, func: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind not in "biufc":
        raise TypeError(f"{func}: x must be numeric, got an array of dtype {x.dtype}")
    return x.astype(np.result_type(x, np.float64), copy=False)


def jacobian(fun: Callable, x: Any, *, method: str = "richardson", **options: Any) -> np.ndarray:
    """The Jacobian of `fun` at `x`, of shape output shape + x's shape, one column at a time.

    Column i is the derivative along the i-th unit vector, by `method` and `options` as in
    `derivative` (steps are then in the units of x's entries).

    >>> jacobian(lambda x: x**2, np.array([1.0, 2.0])).round(8)
    array([[2., 0.],
           [0., 4.]])
    """
    func = "jacobian"
    _check_method(method, 1, options, func)
    x = _as_point(x, func)
    if x.size == 0:
        out = np.asarray(fun(x))
        return np.zeros(out.shape + x.shape, dtype=np.result_type(out, np.float64))
    columns = list(_columns(fun, x, method, options))
    out_shape = columns[0].shape
    return np.stack(columns, axis=-1).reshape(out_shape + x.shape)


def gradient(fun: Callable, x: Any, *, method: str = "richardson", **options: Any) -> np.ndarray:
    """The gradient of a scalar function `fun` at `x`, shaped like `x`.

    Entry i is the derivative along the i-th unit vector, by `method` and `options` as in
    `derivative`; a function with a non-scalar output raises ValueError (use `jacobian`).

    >>> gradient(lambda x: np.sum(x**2), np.array([1.0, -3.0])).round(8)
    array([ 2., -6.])
    """
    func = "gradient"
    _check_method(method, 1, options, func)
    x = _as_point(x, func)
    if x.size == 0:
        out = np.asarray(fun(x))
        _check_scalar(out.shape, func)
        return np.zeros(x.shape, dtype=np.result_type(out, np.float64))
    entries = []
    for column in _columns(fun, x, method, options):
        _check_scalar(column.shape, func)
        entries.append(column)
    return np.stack(entries).reshape(x.shape)


def _check_scalar(shape: tuple[int, ...], func: str) -> None:
    if shape != ():
        raise ValueError(
            f"{func}: fun must return a scalar, but its output has shape {shape}; "
            "use jacobian for non-scalar outputs"
        )
