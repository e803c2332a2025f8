"""Helpers shared by the distributions: standardizing, and values outside the support."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ... import numpy as wnp
from ..._core.box import getval


def weak(fun: Callable, *args):
    """``fun(*args)``, as a Python number when every argument is one (a default scale of
    1.0, a constant shape): a NumPy float64 scalar would widen float32 values, a Python
    number does not."""
    out = fun(*args)
    if isinstance(out, np.generic) and all(type(a) in (float, int) for a in args):
        return out.item()
    return out


def standardize(x, loc, scale):
    """``(x - loc) / scale``, differentiable in all three."""
    return (x - loc) / scale


def on_support(z, inside: np.ndarray, safe: float, fun: Callable, outside: float):
    """``fun(z)`` where `inside` holds and the constant `outside` elsewhere.

    `fun` is evaluated at `safe` outside the support, so no NaN or infinity from there
    reaches a derivative.
    """
    inside = np.asarray(inside)
    if np.all(inside):
        return fun(z)
    value = fun(wnp.where(inside, z, safe))
    return wnp.where(inside, value, outside)


def mask(z, test: Callable) -> np.ndarray:
    """A boolean mask from the values under any boxes (it carries no derivative)."""
    return test(np.asarray(getval(z)))
