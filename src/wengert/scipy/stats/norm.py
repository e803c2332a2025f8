"""The normal distribution: differentiable in x (or q, or confidence), loc and scale everywhere.

Besides the functions of x, the members of ``scipy.stats.norm`` that describe the
distribution (`entropy`, `mean`, `var`, `std`, `median`, `interval`, `moment`, `stats`,
`support`, `nnlf`, `fit_loc_scale`) are differentiable in the parameters; `rvs`, `fit`,
`expect` and `freeze` are SciPy's, without derivative (differentiating through them raises
`wengert.MissingRuleError`).

>>> import wengert as wg
>>> round(float(wg.grad(cdf)(0.0)), 6)  # the density at 0
0.398942
"""

from __future__ import annotations

import numpy as np
import scipy.stats

from ... import numpy as wnp
from .. import special
from . import _support
from ._support import broadcast_like, standardize, weak

_LOG_SQRT_2PI = float(0.5 * np.log(2.0 * np.pi))
_ENTROPY = float(0.5 * (np.log(2.0 * np.pi) + 1.0))


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
    return loc + scale * weak(special.ndtri, q)


def isf(q, loc=0.0, scale=1.0):
    """The inverse survival function: the x with P(X > x) = q.

    >>> round(float(isf(0.025)), 6)
    1.959964
    """
    return loc - scale * weak(special.ndtri, q)


def entropy(loc=0.0, scale=1.0):
    """The differential entropy, (1 + log(2 pi)) / 2 + log(scale).

    >>> round(float(entropy()), 6)
    1.418939
    """
    return broadcast_like(_ENTROPY + weak(wnp.log, scale), loc)


def mean(loc=0.0, scale=1.0):
    """The mean, loc.

    >>> float(mean(1.5, 2.0))
    1.5
    """
    return broadcast_like(loc, scale)


def median(loc=0.0, scale=1.0):
    """The median, loc.

    >>> float(median(1.5, 2.0))
    1.5
    """
    return broadcast_like(loc, scale)


def var(loc=0.0, scale=1.0):
    """The variance, scale^2.

    >>> float(var(1.5, 2.0))
    4.0
    """
    return broadcast_like(scale * scale, loc)


def std(loc=0.0, scale=1.0):
    """The standard deviation, scale.

    >>> float(std(1.5, 2.0))
    2.0
    """
    return broadcast_like(scale, loc)


def _standard_moment(k: int) -> float:
    return 0.0 if k % 2 else float(np.prod(np.arange(k - 1, 0, -2, dtype=float)))


def moment(order, loc=0.0, scale=1.0):
    """The non-central moment E[X^order].

    >>> float(moment(2, 1.0, 2.0))  # loc^2 + scale^2
    5.0
    """
    value = _support.moment_of("norm.moment", order, _standard_moment, loc, scale)
    return broadcast_like(value, loc, scale)


def stats(loc=0.0, scale=1.0, moments="mv"):
    """Mean ('m'), variance ('v'), skewness ('s') and excess kurtosis ('k'), as `moments` asks.

    >>> [float(v) for v in stats(1.0, 2.0, moments="mvsk")]
    [1.0, 4.0, 0.0, 0.0]
    """
    zero = lambda: broadcast_like(0.0, loc, scale)
    return _support.stats_of(moments, lambda: mean(loc, scale), lambda: var(loc, scale), zero, zero)


def interval(confidence, loc=0.0, scale=1.0):
    """The central interval holding probability `confidence`.

    >>> [round(float(v), 6) for v in interval(0.95)]
    [-1.959964, 1.959964]
    """
    return _support.interval_of("norm.interval", confidence, lambda q: ppf(q, loc, scale))


def support(loc=0.0, scale=1.0):
    """The ends of the support, (-inf, inf) (constants).

    >>> support()
    (-inf, inf)
    """
    return broadcast_like(-np.inf, loc, scale), broadcast_like(np.inf, loc, scale)


def nnlf(theta, x):
    """The negative log-likelihood of the data `x` for ``theta = (loc, scale)``.

    >>> round(float(nnlf((0.0, 1.0), [0.0])), 6)
    0.918939
    """
    return _support.nnlf_of(logpdf, theta, x, lambda: True)


def fit_loc_scale(data):
    """Estimates of loc and scale from the mean and variance of `data`.

    >>> [float(v) for v in fit_loc_scale([1.0, 3.0])]
    [2.0, 1.0]
    """
    return _support.fit_loc_scale_of(stats, data)


rvs, fit, expect, freeze = _support.scipy_methods(scipy.stats.norm, "norm")

__all__ = list(_support.CONTINUOUS)
