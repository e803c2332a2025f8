"""The Poisson distribution: differentiable in the rate `mu` (k is an integer count).

>>> import wengert as wg
>>> round(float(wg.grad(lambda mu: logpmf(3, mu))(2.0)), 6)  # k / mu - 1
0.5
"""

from __future__ import annotations

import numpy as np

from ... import numpy as wnp
from ..._core.box import all_value, peek
from .. import special
from . import _support


def _count(k, loc, mu):
    """k - loc as a constant array (counts carry no derivative), in the precision of the
    rate `mu`, so that integer counts do not widen a float32 rate."""
    return _support.count_of(k, loc, np.result_type(peek(mu), 1.0))


def logpmf(k, mu, loc=0):
    """Log of P(K = k); -inf where k - loc is negative or not an integer.

    >>> round(float(logpmf(0, 2.0)), 6)
    -2.0
    """
    k = _count(k, loc, mu)
    valid = _support.is_count(k)
    k_safe = wnp.where(valid, k, 0.0)
    value = special.xlogy(k_safe, mu) - mu - special.gammaln(k_safe + 1.0)
    return value if all_value(valid, undecided=False) else wnp.where(valid, value, -np.inf)


def pmf(k, mu, loc=0):
    """P(K = k).

    >>> round(float(pmf(1, 2.0)), 6)
    0.270671
    """
    return wnp.exp(logpmf(k, mu, loc))


def cdf(k, mu, loc=0):
    """P(K <= k) = Q(floor(k) + 1, mu), by `special.gammaincc` (differentiable in mu).

    >>> round(float(cdf(1, 2.0)), 6)  # 3 exp(-2)
    0.406006
    """
    k = wnp.floor(_count(k, loc, mu))
    valid = k >= 0
    value = special.gammaincc(wnp.where(valid, k, 0.0) + 1.0, mu)
    return value if all_value(valid, undecided=False) else wnp.where(valid, value, 0.0)


def logcdf(k, mu, loc=0):
    """log P(K <= k).

    >>> round(float(logcdf(1, 2.0)), 6)
    -0.901388
    """
    probability = cdf(k, mu, loc)
    with np.errstate(divide="ignore"):  # log 0 = -inf outside the support
        return wnp.log(probability)


def sf(k, mu, loc=0):
    """P(K > k) = P(floor(k) + 1, mu), by `special.gammainc`.

    >>> round(float(sf(1, 2.0)), 6)
    0.593994
    """
    k = wnp.floor(_count(k, loc, mu))
    valid = k >= 0
    value = special.gammainc(wnp.where(valid, k, 0.0) + 1.0, mu)
    return value if all_value(valid, undecided=False) else wnp.where(valid, value, 1.0)


__all__ = ["cdf", "logcdf", "logpmf", "pmf", "sf"]
