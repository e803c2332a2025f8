"""The modified Bessel function of the first kind of order 0, NumPy's `i0`.

Its derivative is the function of order 1, ``i0' = i1``, and ``i1' = i0 - i1 / x``, so
that every order of derivative is a sum of the two. NumPy has no `i1`; here it is a
primitive of its own, computed in double precision from its power series for small
arguments and its asymptotic expansion for large ones (relative error below 1e-13).
"""

from __future__ import annotations

import numpy as np

from .._core.define import elementwise
from .._core.vspace import asarray, is_lazy_array
from ._arraylike import accept_array_likes
from .elementwise import where

# Below this |x| the power series, above it the asymptotic expansion (which at 30 reaches
# rounding level after fewer than 30 terms; the series needs fewer than 90 at 30).
_SERIES_LIMIT = 30.0
_SERIES_TERMS = 90
_ASYMPTOTIC_TERMS = 30


def _i1_impl(x):
    """I_1(x) in double precision, in x's floating dtype."""
    x = asarray(x)
    dtype = np.result_type(x, np.float16)
    if type(x) is not np.ndarray and is_lazy_array(x):  # (one task per block, not ~250)
        return x.map_blocks(_i1_impl, dtype=dtype)
    z = x.astype(np.float64)
    ax = np.abs(z)
    small = ax <= _SERIES_LIMIT
    # Series: sum over k of (x/2)^(2k+1) / (k! (k+1)!), every term of one sign.
    h = np.where(small, z, 0.0) / 2.0
    term = h.copy()
    total = h.copy()
    for k in range(1, _SERIES_TERMS):
        term = term * (h * h) / (k * (k + 1))
        total = total + term
    # Asymptotic: e^|x| / sqrt(2 pi |x|) * sum over k of (-1)^k prod_j (4 - (2j-1)^2) /
    # (k! (8|x|)^k), with I_1 odd.
    big = np.where(small, _SERIES_LIMIT + 1.0, ax)
    term = np.ones_like(big)
    series = np.ones_like(big)
    for k in range(1, _ASYMPTOTIC_TERMS):
        term = -term * (4.0 - (2 * k - 1) ** 2) / (k * 8.0 * big)
        series = series + term
    with np.errstate(over="ignore"):
        asymptotic = np.sign(z) * np.exp(big - 0.5 * np.log(2.0 * np.pi * big)) * series
    out = np.where(small, total, asymptotic).astype(dtype)
    return out[()] if out.ndim == 0 else out


def _i1_over_x(x):
    """i1(x) / x, which is 1/2 at 0 (written there as its Taylor polynomial)."""
    zero = x == 0
    safe = where(zero, 1.0, x)
    return where(zero, 0.5 + x * x / 16.0, _i1(safe) / safe)


i0 = elementwise(np.i0, lambda ans, x: _i1(x), "i0")
i0.__doc__ = """The modified Bessel function of the first kind of order 0 (NumPy's i0).

>>> import wengert as wg
>>> import wengert.numpy as wnp
>>> round(float(wg.grad(wnp.i0)(1.0)), 12)  # i1(1)
0.565159103992
"""
_i1 = elementwise(_i1_impl, lambda ans, x: i0(x) - _i1_over_x(x), "i1")

__all__ = ["i0"]

# Generated source (Program.source) computes i1 with its implementation (NumPy alone).
_i1.defsource(_i1_impl)

# Lists and tuples holding traced values are read as arrays by the public functions.
accept_array_likes(globals(), __all__)
