"""Finite-difference weights, stencils and step sizes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

KINDS = ("central", "forward", "backward")
ACCURACIES = (2, 4, 6)
EPS = float(np.finfo(np.float64).eps)


def fd_weights(offsets: Sequence[float], deriv: int = 1) -> np.ndarray:
    """Weights w with f^(deriv)(x) ~ sum_k w_k f(x + offsets_k h) / h^deriv (Fornberg).

    Fornberg's recursion is exact for polynomials up to degree len(offsets) - 1 and
    numerically stable, unlike solving the Vandermonde system directly.

    >>> fd_weights([-1, 0, 1])
    array([-0.5,  0. ,  0.5])
    """
    z = np.asarray(offsets, dtype=float)
    n = len(z)
    if not 0 <= deriv < n:
        raise ValueError(f"fd_weights: deriv={deriv} needs at least {deriv + 1} offsets, got {n}")
    c = np.zeros((n, deriv + 1))
    c1, c4 = 1.0, z[0]
    c[0, 0] = 1.0
    for i in range(1, n):
        mn = min(i, deriv)
        c2, c5, c4 = 1.0, c4, z[i]
        for j in range(i):
            c3 = z[i] - z[j]
            c2 *= c3
            if j == i - 1:
                for k in range(mn, 0, -1):
                    c[i, k] = c1 * (k * c[i - 1, k - 1] - c5 * c[i - 1, k]) / c2
                c[i, 0] = -c1 * c5 * c[i - 1, 0] / c2
            for k in range(mn, 0, -1):
                c[j, k] = (c4 * c[j, k] - k * c[j, k - 1]) / c3
            c[j, 0] = c4 * c[j, 0] / c3
        c1 = c2
    return c[:, deriv]


def stencil_offsets(kind: str, accuracy: int, deriv: int = 1) -> np.ndarray:
    """Offsets of the stencil of the given kind with truncation error O(h^accuracy)."""
    _check(kind, accuracy)
    if kind == "central":
        half = (deriv - 1) // 2 + accuracy // 2
        return np.arange(-half, half + 1, dtype=float)
    npoints = deriv + accuracy
    offsets = np.arange(npoints, dtype=float)
    return offsets if kind == "forward" else -offsets[::-1]


def stencil(kind: str = "central", accuracy: int = 2, deriv: int = 1):
    """(offsets, weights) of a first-or-higher-derivative stencil.

    >>> stencil("central", 4)[1]
    array([ 0.08333333, -0.66666667,  0.        ,  0.66666667, -0.08333333])
    """
    offsets = stencil_offsets(kind, accuracy, deriv)
    return offsets, fd_weights(offsets, deriv)


def _check(kind: str, accuracy: int) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if accuracy not in ACCURACIES:
        raise ValueError(f"accuracy must be one of {ACCURACIES}, got {accuracy!r}")


def default_step(x, kind: str = "central", accuracy: int = 2, deriv: int = 1) -> float:
    """A step that balances truncation error O(h^p) against rounding error O(eps/h^d).

    Minimising h^p + eps/h^d gives h ~ eps^(1/(p+d)), scaled by the size of x so that
    the step stays meaningful for large arguments.

    >>> round(default_step(0.0), 8)
    6.06e-06
    """
    _check(kind, accuracy)
    scale = max(1.0, float(np.max(np.abs(x))) if np.size(x) else 1.0)
    return EPS ** (1.0 / (accuracy + deriv)) * scale
