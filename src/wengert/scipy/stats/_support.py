"""Helpers shared by the distributions: standardizing, and values outside the support."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ... import numpy as wnp
from ..._core.box import all_value
from ..._core.define import nondiff


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


def on_support(z, inside, safe: float, fun: Callable, outside: float):
    """``fun(z)`` where `inside` holds and the constant `outside` elsewhere.

    `fun` is evaluated at `safe` outside the support, so no NaN or infinity from there
    reaches a derivative.
    """
    if all_value(inside, undecided=False):  # (in every member of a batch: the same result)
        return fun(z)
    value = fun(wnp.where(inside, z, safe))
    return wnp.where(inside, value, outside)


def _mask_impl(z, test: Callable) -> np.ndarray:
    return test(np.asarray(z))


# A mask carries no derivative; under vmap each member's is computed from its own values.
_mask = nondiff(_mask_impl, "support_mask", elementwise=True)


def mask(z, test: Callable):
    """A boolean mask ``test(z)`` of the values (it carries no derivative)."""
    return _mask(z, test)


def _count_impl(k, loc, dtype):
    return np.asarray(k, dtype=dtype) - np.asarray(loc, dtype=dtype)


def _is_count_impl(k):
    return (k >= 0) & (k == np.floor(k))


# Counts (k - loc of a discrete distribution, in `dtype`) and where they are whole and
# non-negative: no derivative, and under vmap a batch of counts stays one.
count_of = nondiff(_count_impl, "count", elementwise=True)
is_count = nondiff(_is_count_impl, "is_count", elementwise=True)

# Generated source (Program.source) computes these primitives with their implementations,
# copied (they use NumPy alone), or with the public function that they call.
_mask.defsource(_mask_impl)
count_of.defsource(_count_impl)
is_count.defsource(_is_count_impl)
