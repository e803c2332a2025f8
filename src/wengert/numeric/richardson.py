"""Richardson extrapolation of finite differences, with an error estimate."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .stencils import (
    EPS,
    _apply,
    _check,
    _check_step,
    _line,
    _point_and_direction,
    _scale,
    _stencil,
)


def richardson_step(
    x: Any,
    v: Any = None,
    *,
    kind: str = "central",
    accuracy: int = 2,
    levels: int = 4,
    ratio: float = 2.0,
    deriv: int = 1,
) -> float:
    """The default starting step of `richardson`, larger than `default_step`.

    After extrapolation the truncation error is O(h^q), with q = accuracy + 2 (levels - 1)
    for central stencils and accuracy + levels - 1 for one-sided ones, while rounding is
    O(eps r^(d (levels - 1)) / h^d) from the finest step h / r^(levels - 1); balancing the
    two gives h = (eps r^(d (levels - 1)))^(1/(q + d)), scaled like `default_step`.

    >>> round(richardson_step(0.0), 4)  # central, accuracy 2, 4 levels: q = 8
    0.023
    """
    kind, accuracy, deriv = _check(kind, accuracy, deriv, "richardson_step")
    levels, ratio = _check_levels(levels, ratio)
    gap = 2 if kind == "central" else 1
    order = accuracy + gap * (levels - 1)
    base = (EPS * ratio ** (deriv * (levels - 1))) ** (1.0 / (order + deriv))
    return base * _scale(x, v, "richardson_step")


def _check_levels(levels: Any, ratio: Any) -> tuple[int, float]:
    try:
        levels = operator.index(levels)
    except TypeError:
        raise TypeError(f"richardson: levels must be an integer, got {levels!r}") from None
    if levels < 2:
        raise ValueError(f"richardson: levels must be at least 2, got {levels}")
    ratio = float(ratio)
    if not (np.isfinite(ratio) and ratio > 1.0):
        raise ValueError(f"richardson: ratio must be a finite float > 1, got {ratio!r}")
    return levels, ratio


def richardson(
    fun: Callable,
    x: Any,
    v: Any,
    *,
    step: float | None = None,
    kind: str = "central",
    accuracy: int = 2,
    levels: int = 4,
    ratio: float = 2.0,
    deriv: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """The directional derivative d^deriv/dt^deriv fun(x + t v) at t = 0, and an error estimate.

    The stencil is evaluated at steps h, h/r, ..., h/r^(levels-1) and a Neville tableau
    cancels the error terms h^p, h^(p+2), ... (central) or h^p, h^(p+1), ... (one-sided),
    so the start step h (by default `richardson_step`) can be large and the result is good
    to about 1e-13 relative on smooth functions (1e-12 from one-sided stencils); fun must
    be defined on the whole stencil, up to a few h from x along v. The error estimate is an
    array of the estimate's shape (real, non-negative): elementwise, the larger difference
    between the best value and the two next best (previous row and previous diagonal of
    the tableau), plus a bound on the rounding error carried through the tableau.

    >>> estimate, error = richardson(np.exp, 1.0, 1.0)
    >>> bool(abs(estimate - np.e) < 1e-12), bool(error < 1e-9)
    (True, True)
    >>> richardson(lambda x: np.stack([x**2, x**3]), np.array(2.0), 1.0)[0].round(12)
    array([ 4., 12.])
    """
    func = "richardson"
    kind, accuracy, deriv = _check(kind, accuracy, deriv, func)
    levels, ratio = _check_levels(levels, ratio)
    x, v = _point_and_direction(x, v, func)
    if step is None:
        h = richardson_step(
            x, v, kind=kind, accuracy=accuracy, levels=levels, ratio=ratio, deriv=deriv
        )
    else:
        h = _check_step(step, func)
    offsets, weights = _stencil(kind, accuracy, deriv)
    phi = _line(fun, x, v, func)
    gap = 2 if kind == "central" else 1
    best, spread, rounding = _extrapolate(
        phi, offsets, weights, h, deriv, accuracy, gap, levels, ratio
    )
    return np.asarray(best), np.asarray(spread + rounding, dtype=np.float64)


def _extrapolate(
    phi: Callable[[float], np.ndarray],
    offsets: Sequence[float],
    weights: Sequence[float],
    h: float,
    deriv: int,
    accuracy: int,
    gap: int,
    levels: int,
    ratio: float,
    eps: float = EPS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Neville tableau of a stencil whose error terms are h^accuracy, h^(accuracy+gap), ...

    Returns the best extrapolant, its spread (the larger difference from the two next best,
    which measures truncation and any failure of the error expansion, as at a kink) and a
    bound on the rounding error carried through the tableau, kept apart so that callers can
    tell noise from non-smoothness. `eps` is the relative rounding error of phi's values
    (larger than float64's when phi computes in lower precision).
    """
    # Row i holds the extrapolants from steps h / r^(i-j) .. h / r^i; the rounding bounds
    # go through the same linear combinations with absolute coefficients.
    previous: list[np.ndarray] = []
    previous_rounding: list[np.ndarray] = []
    for i in range(levels):
        value, magnitude = _apply(phi, offsets, weights, h / ratio**i, deriv)
        row, rounding = [value], [eps * magnitude]
        for j in range(1, i + 1):
            factor = ratio ** (accuracy + gap * (j - 1)) - 1.0
            row.append(row[j - 1] + (row[j - 1] - previous[j - 1]) / factor)
            rounding.append(
                rounding[j - 1] * (1.0 + 1.0 / factor) + previous_rounding[j - 1] / factor
            )
        if i < levels - 1:
            previous, previous_rounding = row, rounding
    best = row[-1]
    spread = np.maximum(np.abs(best - row[-2]), np.abs(best - previous[-1]))
    return best, spread, rounding[-1]
