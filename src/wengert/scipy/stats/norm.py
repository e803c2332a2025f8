"""The normal distribution: differentiable in x (or q), loc and scale everywhere.

>>> import wengert as wg
>>> round(float(wg.grad(cdf)(0.0)), 6)  # the density at 0
0.398942
"""

from __future__ import annotations

import numpy as np

from ... import numpy as wnp
from .. import special
from ._support import standardize, weak

_LOG_SQRT_2PI = float(0.5 * np.log(2.0 * np.pi))


def logpdf(x, loc=0.0, scale=1.0):
    """Log of the normal density at `x`.

    >>> round(float(logpdf(1.0, 1.0, 2.0)), 6)
    -1.612086
    """
    z = standardize(x, loc, scale)
    return -0.5 * z * z - weak(wnp.log, scale) - _LOG_SQRT_2PI


def pdf(x, loc=0.0, scale=1.0):
    """The normal density at `x`.

    >>> round(float(pdf(0.0)), 6)
    0.398942
    """
    return wnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0.0, scale=1.0):
    """P(X <= x), by `special.ndtr`.

    >>> float(cdf(0.0))
    0.5
    """
    return special.ndtr(standardize(x, loc, scale))


def logcdf(x, loc=0.0, scale=1.0):
    """log P(X <= x), by `special.log_ndtr` (accurate far into the lower tail).

    >>> round(float(logcdf(-40.0)), 3)
    -804.608
    """
    return special.log_ndtr(standardize(x, loc, scale))


def sf(x, loc=0.0, scale=1.0):
    """P(X > x).

    >>> float(sf(0.0))
    0.5
    """
    return special.ndtr(-standardize(x, loc, scale))


def logsf(x, loc=0.0, scale=1.0):
    """log P(X > x).

    >>> round(float(logsf(40.0)), 3)
    -804.608
    """
    return special.log_ndtr(-standardize(x, loc, scale))


def ppf(q, loc=0.0, scale=1.0):
    """The quantile function: the x with P(X <= x) = q, differentiable in q, loc, scale.

    >>> round(float(ppf(0.975)), 6)
    1.959964
    """
    return loc + scale * special.ndtri(q)


__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf"]
