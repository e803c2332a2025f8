"""Finite differences along a direction, and Richardson extrapolation of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .stencils import EPS, default_step, stencil


def _along(fun: Callable, x: Any, v: Any) -> Callable[[float], np.ndarray]:
    x = np.asarray(x, dtype=np.result_type(x, float))
    v = np.asarray(v, dtype=np.result_type(v, float))
    if x.shape != v.shape:
        raise ValueError(f"direction shape {v.shape} differs from point shape {x.shape}")
    scalar = x.ndim == 0
    return lambda t: np.asarray(fun(x[()] + t * v[()] if scalar else x + t * v))


def _difference(phi: Callable, offsets, weights, h: float, deriv: int = 1) -> np.ndarray:
    total = None
    for offset, weight in zip(offsets, weights):
        if weight == 0.0:
            continue
        term = weight * phi(offset * h)
        total = term if total is None else total + term
    return total / h**deriv


def directional_derivative(
    fun: Callable,
    x: Any,
    v: Any,
    *,
    kind: str = "central",
    accuracy: int = 2,
    step: float | None = None,
) -> np.ndarray:
    """d/dt fun(x + t v) at t = 0 by a finite-difference stencil.

    >>> round(float(directional_derivative(np.sin, 0.0, 1.0)), 9)
    1.0
    """
    offsets, weights = stencil(kind, accuracy)
    h = default_step(x, kind, accuracy) if step is None else step
    return _difference(_along(fun, x, v), offsets, weights, h)


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
) -> tuple[np.ndarray, np.ndarray]:
    """Directional derivative by Richardson extrapolation, with an error estimate.

    Differences at steps h, h/r, h/r^2, ... are combined in a Neville tableau that
    cancels the error terms h^p, h^(p+2), ... (central) or h^p, h^(p+1), ...
    (one-sided). The error estimate (same shape as the result) is the difference
    between the two best extrapolants, plus the rounding error of the finest level.
    The starting step is large (eps^(1/(p+1+2*levels)) in relative terms) since the
    extrapolation, not a small step, removes the truncation error.

    >>> est, err = richardson(np.exp, 1.0, 1.0)
    >>> bool(abs(est - np.e) < 1e-12)
    True
    """
    offsets, weights = stencil(kind, accuracy)
    phi = _along(fun, x, v)
    scale = max(1.0, float(np.max(np.abs(x))) if np.size(x) else 1.0)
    h = (EPS ** (1.0 / (accuracy + 1 + 2 * levels)) * scale) if step is None else step
    gap = 2 if kind == "central" else 1
    rows: list[list[np.ndarray]] = []
    for i in range(levels):
        row = [_difference(phi, offsets, weights, h / ratio**i)]
        for j in range(1, i + 1):
            factor = ratio ** (accuracy + gap * (j - 1))
            row.append(row[j - 1] + (row[j - 1] - rows[i - 1][j - 1]) / (factor - 1.0))
        rows.append(row)
    best = rows[-1][-1]
    previous = rows[-1][-2] if levels > 1 else rows[-1][-1]
    f0 = phi(0.0)
    rounding = EPS * np.sum(np.abs(weights)) * (np.abs(f0) + 1.0) / (h / ratio ** (levels - 1))
    error = np.abs(best - previous) + rounding
    return best, error


def complex_step(fun: Callable, x: Any, v: Any, *, step: float = 1e-20) -> np.ndarray:
    """Im fun(x + i h v) / h: the derivative of a real-analytic function, to rounding.

    No subtraction happens, so the step can be tiny and the result is exact to machine
    precision; it needs `fun` to accept complex input and to be analytic (no abs, no
    comparisons on the perturbed value).

    >>> float(complex_step(np.sin, 0.5, 1.0)) == float(np.cos(0.5))
    True
    """
    x = np.asarray(x, dtype=float)
    v = np.asarray(v, dtype=float)
    z = x + 1j * step * v
    out = np.asarray(fun(z[()] if z.ndim == 0 else z))
    if not np.iscomplexobj(out):
        raise TypeError(
            "complex_step: the function returned a real value for a complex input, so it "
            "dropped the imaginary perturbation (abs, float(), real parts or comparisons); "
            "use a finite-difference method for it instead."
        )
    return out.imag / step
