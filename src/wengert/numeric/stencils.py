"""Finite-difference weights, stencils, step sizes, and stencils applied along a direction."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from fractions import Fraction
from functools import cache
from typing import Any

import numpy as np

KINDS = ("central", "forward", "backward")
# The orders of accuracy offered per kind: a symmetric stencil's order is even; one-sided
# ones have every order, down to the textbook (f(x + h) - f(x)) / h of order 1.
ACCURACIES = {
    "central": (2, 4, 6),
    "forward": (1, 2, 3, 4, 5, 6),
    "backward": (1, 2, 3, 4, 5, 6),
}
EPS = float(np.finfo(np.float64).eps)

# Up to this many offsets the weights are computed in exact rational arithmetic and rounded
# once; beyond it, in floating point (still stable, but the big rationals would be slow).
_EXACT_POINTS = 32


def fd_weights(offsets: Sequence[float] | np.ndarray, deriv: int = 1) -> np.ndarray:
    """Weights w with f^(deriv)(0) ~ sum_k w_k f(offsets_k h) / h^deriv, by Fornberg's recursion.

    The recursion runs in exact rational arithmetic on the (exactly representable) offsets,
    so each weight is the correctly rounded exact one, and the formula is exact for
    polynomials of degree below len(offsets).

    >>> fd_weights([-1, 0, 1])
    array([-0.5,  0. ,  0.5])
    >>> fd_weights([-1, 0, 1], deriv=2)
    array([ 1., -2.,  1.])
    """
    z = np.asarray(offsets, dtype=np.float64)
    deriv = _as_int("fd_weights", "deriv", deriv)
    if z.ndim != 1:
        raise ValueError(f"fd_weights: offsets must be one-dimensional, got shape {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError(f"fd_weights: offsets must be finite, got {z}")
    if np.unique(z).size != z.size:
        raise ValueError(f"fd_weights: offsets must be distinct, got {z}")
    if not 0 <= deriv < z.size:
        raise ValueError(
            f"fd_weights: deriv={deriv} needs at least {deriv + 1} offsets, got {z.size}; "
            "pass more offsets or a lower deriv"
        )
    exact = z.size <= _EXACT_POINTS
    nodes = [Fraction(float(a)) if exact else float(a) for a in z]
    return np.array([float(w) for w in _fornberg(nodes, deriv)], dtype=np.float64)


def _fornberg(z: list, m: int) -> list:
    """Weights at 0 of the m-th derivative on nodes z (Fornberg 1988), in z's number type."""
    zero, one = 0 * z[0], 0 * z[0] + 1
    n = len(z)
    c = [[zero] * (m + 1) for _ in range(n)]
    c[0][0] = one
    c1, c4 = one, z[0]
    for i in range(1, n):
        mn = min(i, m)
        c2, c5, c4 = one, c4, z[i]
        for j in range(i):
            c3 = z[i] - z[j]
            c2 = c2 * c3
            if j == i - 1:
                for k in range(mn, 0, -1):
                    c[i][k] = c1 * (k * c[i - 1][k - 1] - c5 * c[i - 1][k]) / c2
                c[i][0] = -c1 * c5 * c[i - 1][0] / c2
            for k in range(mn, 0, -1):
                c[j][k] = (c4 * c[j][k] - k * c[j][k - 1]) / c3
            c[j][0] = c4 * c[j][0] / c3
        c1 = c2
    return [row[m] for row in c]


def stencil(
    kind: str = "central", accuracy: int = 2, deriv: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Offsets and weights of the `deriv`-th derivative stencil with truncation error O(h^accuracy).

    Central stencils are symmetric (-q..q, with q the smallest giving that order, so -1..1
    for accuracy 2, -3..3 for 6; accuracy 2, 4 or 6), forward ones use 0..deriv+accuracy-1
    and backward ones the mirror image (accuracy 1 to 6; accuracy 1 is the textbook
    (f(x + h) - f(x)) / h); the weight at 0 of a central first-derivative stencil is 0 and is
    kept.

    >>> offsets, weights = stencil("central", 4)
    >>> offsets
    array([-2., -1.,  0.,  1.,  2.])
    >>> weights * 12
    array([ 1., -8.,  0.,  8., -1.])
    >>> stencil("forward", 2)
    (array([0., 1., 2.]), array([-1.5,  2. , -0.5]))
    >>> stencil("forward", 1)
    (array([0., 1.]), array([-1.,  1.]))
    """
    offsets, weights = _stencil(*_check(kind, accuracy, deriv, "stencil"))
    return np.array(offsets), np.array(weights)


@cache
def _stencil(kind: str, accuracy: int, deriv: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    if kind == "central":
        # A symmetric stencil on 2q+1 points has error order 2q+1-deriv, rounded up to even.
        q = (deriv - 1) // 2 + accuracy // 2
        offsets = np.arange(-q, q + 1, dtype=np.float64)
    else:
        offsets = np.arange(deriv + accuracy, dtype=np.float64)
        if kind == "backward":
            offsets = 0.0 - offsets[::-1]
    return tuple(float(o) for o in offsets), tuple(float(w) for w in fd_weights(offsets, deriv))


def _as_int(func: str, name: str, value: Any) -> int:
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(
            f"{func}: {name} must be an integer, got {type(value).__name__} {value!r}"
        ) from None


def _check(kind: Any, accuracy: Any, deriv: Any, func: str) -> tuple[str, int, int]:
    if kind not in KINDS:
        raise ValueError(f"{func}: kind must be one of {KINDS}, got {kind!r}")
    offered = ACCURACIES[kind]
    if isinstance(accuracy, bool) or accuracy not in offered:
        hint = " (accuracy 1, 3 and 5 are one-sided: kind 'forward' or 'backward')"
        raise ValueError(
            f"{func}: accuracy must be one of {offered} for {kind} stencils, got {accuracy!r}"
            + (hint if kind == "central" and accuracy in (1, 3, 5) else "")
        )
    deriv = _as_int(func, "deriv", deriv)
    if deriv < 1:
        raise ValueError(f"{func}: deriv must be a positive integer, got {deriv}")
    return kind, int(accuracy), deriv


def default_step(
    x: Any,
    kind: str = "central",
    accuracy: int = 2,
    *,
    deriv: int = 1,
    direction: Any = None,
) -> float:
    """A float64 step h = eps^(1/(accuracy+deriv)) * max(1, max|x|) for a stencil at `x`.

    A stencil of order p for the d-th derivative has truncation error ~ C h^p and rounding
    error ~ eps |f| / h^d (the values it subtracts each carry a relative error eps); their
    sum is smallest near h = eps^(1/(p+d)), leaving an error ~ eps^(p/(p+d)), e.g. about
    6e-6 and 4e-11 for central differences of order 2, and the textbook sqrt(eps) ~ 1.5e-8
    and error ~ 1.5e-8 for the one-sided difference of order 1. The factor max(1, |x|) keeps the
    step relative for large arguments and absolute near 0. With a `direction` v (the step
    is then in t along x + t v) the scale is the smallest max(1, |x_i|) / |v_i| over the
    moved components, so that no component moves by more than its own relative step.

    >>> default_step(0.0)  # eps ** (1/3)
    6.055454452393343e-06
    >>> default_step(1e4, "central", 4) / default_step(0.0, "central", 4)
    10000.0
    >>> default_step(0.0, "forward", 1) == np.sqrt(np.finfo(np.float64).eps)
    True
    """
    kind, accuracy, deriv = _check(kind, accuracy, deriv, "default_step")
    return EPS ** (1.0 / (accuracy + deriv)) * _scale(x, direction, "default_step")


def _scale(x: Any, direction: Any, func: str) -> float:
    """max(1, max|x|), or with a direction the smallest max(1, |x_i|) / |v_i| over v_i != 0."""
    x = np.asarray(x)
    if x.dtype.kind not in "biufc":
        raise TypeError(f"{func}: x must be numeric, got an array of dtype {x.dtype}")
    ax = np.abs(x).astype(np.float64)
    if not np.all(np.isfinite(ax)):
        raise ValueError(f"{func}: x has non-finite entries; a step cannot be chosen there")
    if direction is None:
        return max(1.0, float(np.max(ax, initial=0.0)))
    av = np.abs(np.asarray(direction)).astype(np.float64)
    if av.shape != ax.shape:
        raise ValueError(
            f"{func}: the direction has shape {av.shape} but x has shape {ax.shape}; "
            "they must match"
        )
    moved = av > 0
    if not np.any(moved):
        return 1.0
    return float(np.min(np.maximum(1.0, ax[moved]) / av[moved]))


def _point_and_direction(x: Any, v: Any, func: str) -> tuple[np.ndarray, np.ndarray]:
    """x and v as arrays of a float (or complex) dtype, checked to be finite and of one shape."""
    x = np.asarray(x)
    v = np.asarray(v)
    for name, a in (("x", x), ("v", v)):
        if a.dtype.kind not in "biufc":
            raise TypeError(f"{func}: {name} must be numeric, got an array of dtype {a.dtype}")
    x = x.astype(np.result_type(x, np.float64), copy=False)
    v = v.astype(np.result_type(v, np.float64), copy=False)
    if x.shape != v.shape:
        raise ValueError(
            f"{func}: the direction v has shape {v.shape} but the point x has shape {x.shape}; "
            "pass a v of x's shape"
        )
    for name, a in (("x", x), ("v", v)):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{func}: {name} has non-finite entries")
    return x, v


def _line(fun: Callable, x: np.ndarray, v: np.ndarray, func: str) -> Callable[[float], np.ndarray]:
    """t -> fun(x + t v) as an array of at least float64 precision, with a fixed shape."""
    scalar = x.ndim == 0
    shape: list[tuple[int, ...]] = []

    def phi(t: float) -> np.ndarray:
        point = x + t * v
        out = np.asarray(fun(point[()] if scalar else point))
        if out.dtype.kind not in "biufc":
            raise TypeError(
                f"{func}: the function must return numbers, got {type(out).__name__} "
                f"of dtype {out.dtype}"
            )
        if not shape:
            shape.append(out.shape)
        elif out.shape != shape[0]:
            raise ValueError(
                f"{func}: the function returned shape {out.shape} at one point and "
                f"{shape[0]} at another; its output shape must not depend on x"
            )
        return out.astype(np.result_type(out, np.float64), copy=False)

    return phi


def _apply(
    phi: Callable[[float], np.ndarray],
    offsets: Sequence[float],
    weights: Sequence[float],
    h: float,
    deriv: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The stencil's estimate sum_k w_k phi(o_k h) / h^d, and sum_k |w_k phi(o_k h)| / h^d."""
    total = magnitude = None
    for offset, weight in zip(offsets, weights):
        if weight == 0.0:
            continue
        term = weight * phi(offset * h)
        total = term if total is None else total + term
        magnitude = np.abs(term) if magnitude is None else magnitude + np.abs(term)
    scale = h**deriv
    return total / scale, magnitude / scale


def _check_step(step: Any, func: str) -> float:
    try:
        h = float(step)
    except (TypeError, ValueError):
        raise TypeError(
            f"{func}: step must be a positive float, got {type(step).__name__}"
        ) from None
    if not (np.isfinite(h) and h > 0.0):
        raise ValueError(f"{func}: step must be a positive finite float, got {step!r}")
    return h


def directional_derivative(
    fun: Callable,
    x: Any,
    v: Any,
    *,
    kind: str = "central",
    accuracy: int = 2,
    step: float | None = None,
    deriv: int = 1,
) -> np.ndarray:
    """The derivative d^deriv/dt^deriv fun(x + t v) at t = 0 by one finite-difference stencil.

    `step` is the step in t; by default `default_step(x, kind, accuracy, deriv=deriv,
    direction=v)`. The result has fun's output shape (a 0-d array for a scalar output) and is
    complex when fun returns complex values.

    >>> directional_derivative(np.sin, 0.0, 1.0)
    array(1.)
    >>> x = np.array([1.0, 2.0])
    >>> directional_derivative(lambda x: x**2, x, np.array([1.0, -1.0]), accuracy=4).round(9)
    array([ 2., -4.])
    """
    func = "directional_derivative"
    kind, accuracy, deriv = _check(kind, accuracy, deriv, func)
    x, v = _point_and_direction(x, v, func)
    if step is None:
        h = default_step(x, kind, accuracy, deriv=deriv, direction=v)
    else:
        h = _check_step(step, func)
    offsets, weights = _stencil(kind, accuracy, deriv)
    estimate, _ = _apply(_line(fun, x, v, func), offsets, weights, h, deriv)
    return np.asarray(estimate)
