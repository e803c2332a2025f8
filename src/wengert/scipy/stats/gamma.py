"""The gamma distribution with shape `a`.

`logpdf` and `pdf` are differentiable in x, a, loc and scale; `cdf`, `logcdf`, `sf`,
`logsf`, `ppf`, `isf`, `median` and `interval` in x (or q, or confidence), loc and scale,
not in a (`special.gammainc` and its inverse have no rule in a). Outside the support
(x < loc) logpdf is -inf and cdf is 0, with zero derivatives. `entropy`, `mean`, `var`,
`std`, `moment`, `stats`, `support`, `nnlf` and `fit_loc_scale` are differentiable in all
their parameters; `rvs`, `fit`, `expect` and `freeze` are SciPy's, without derivative
(differentiating through them raises `wengert.MissingRuleError`).

>>> import wengert as wg
>>> round(float(wg.grad(logpdf)(2.0, 3.0)), 6)  # (a - 1) / x - 1
0.0
"""

from __future__ import annotations

import math

import numpy as np
import scipy.stats

from ... import numpy as wnp
from .. import special
from . import _special, _support
from ._support import broadcast_like, choose, mask, on_support, standardize, weak

_HALF_LOG_2PI_E = float(0.5 * (1.0 + np.log(2.0 * np.pi)))


def _logpdf_standard(z, a):
    return special.xlogy(a - 1.0, z) - z - weak(special.gammaln, a)


def logpdf(x, a, loc=0.0, scale=1.0):
    """Log of the gamma density.

    >>> round(float(logpdf(1.0, 1.0)), 6)  # exponential: -1
    -1.0
    """
    z = standardize(x, loc, scale)
    inside = mask(z, lambda v: v >= 0)
    return on_support(z, inside, 1.0, lambda s: _logpdf_standard(s, a), -wnp.inf) - weak(
        wnp.log, scale
    )


def pdf(x, a, loc=0.0, scale=1.0):
    """The gamma density.

    >>> round(float(pdf(1.0, 1.0)), 6)
    0.367879
    """
    return wnp.exp(logpdf(x, a, loc, scale))


def cdf(x, a, loc=0.0, scale=1.0):
    """P(X <= x), by `special.gammainc`; not differentiable in a.

    >>> round(float(cdf(1.0, 1.0)), 6)  # 1 - 1/e
    0.632121
    """
    z = standardize(x, loc, scale)
    return on_support(z, mask(z, lambda v: v >= 0), 1.0, lambda s: special.gammainc(a, s), 0.0)


def logcdf(x, a, loc=0.0, scale=1.0):
    """log P(X <= x).

    >>> round(float(logcdf(1.0, 1.0)), 6)
    -0.458675
    """
    probability = cdf(x, a, loc, scale)
    with np.errstate(divide="ignore"):  # log 0 = -inf outside the support
        return wnp.log(probability)


def sf(x, a, loc=0.0, scale=1.0):
    """P(X > x), by `special.gammaincc`.

    >>> round(float(sf(1.0, 1.0)), 6)
    0.367879
    """
    z = standardize(x, loc, scale)
    return on_support(z, mask(z, lambda v: v >= 0), 1.0, lambda s: special.gammaincc(a, s), 1.0)


def logsf(x, a, loc=0.0, scale=1.0):
    """log P(X > x).

    >>> round(float(logsf(1.0, 1.0)), 6)
    -1.0
    """
    probability = sf(x, a, loc, scale)
    with np.errstate(divide="ignore"):  # log 0 = -inf
        return wnp.log(probability)


def ppf(q, a, loc=0.0, scale=1.0):
    """The quantile function: the x with P(X <= x) = q; not differentiable in a.

    >>> round(float(ppf(0.5, 1.0)), 6)  # log 2
    0.693147
    """
    return loc + scale * weak(_special.gammaincinv, a, q)


def isf(q, a, loc=0.0, scale=1.0):
    """The inverse survival function: the x with P(X > x) = q; not differentiable in a.

    >>> round(float(isf(0.5, 1.0)), 6)
    0.693147
    """
    return loc + scale * weak(_special.gammainccinv, a, q)


def _entropy_regular(a):
    return special.digamma(a) * (1.0 - a) + a + special.gammaln(a)


def _entropy_large(a):  # SciPy's expansion in 1 / a, for a >= 250
    return (
        _HALF_LOG_2PI_E + 0.5 * wnp.log(a) - 1.0 / (3.0 * a) - a**-2.0 / 12 - a**-3.0 / 90
    ) + a**-4.0 / 120


def entropy(a, loc=0.0, scale=1.0):
    """The differential entropy.

    >>> round(float(entropy(1.0)), 6)  # exponential: 1
    1.0
    """
    value = choose(a < 250, lambda: _entropy_regular(a), lambda: _entropy_large(a))
    return broadcast_like(value + weak(wnp.log, scale), loc)


def mean(a, loc=0.0, scale=1.0):
    """The mean, loc + a scale.

    >>> float(mean(2.0, 1.0, 3.0))
    7.0
    """
    return loc + scale * a


def var(a, loc=0.0, scale=1.0):
    """The variance, a scale^2.

    >>> float(var(2.0, 1.0, 3.0))
    18.0
    """
    return broadcast_like(a * scale * scale, loc)


def std(a, loc=0.0, scale=1.0):
    """The standard deviation, sqrt(a) scale.

    >>> float(std(4.0, 1.0, 3.0))
    6.0
    """
    return broadcast_like(wnp.sqrt(a) * scale, loc)


def median(a, loc=0.0, scale=1.0):
    """The median, the quantile at 1/2; not differentiable in a.

    >>> round(float(median(1.0)), 6)
    0.693147
    """
    return ppf(0.5, a, loc, scale)


def _standard_moment(a, k: int):  # E[Y^k] = a (a + 1) ... (a + k - 1)
    return math.prod((a + j for j in range(1, k)), start=a)


def moment(order, a, loc=0.0, scale=1.0):
    """The non-central moment E[X^order].

    >>> float(moment(2, 2.0))  # a (a + 1)
    6.0
    """
    standard = lambda k: _standard_moment(a, k)
    return broadcast_like(_support.moment_of("gamma.moment", order, standard, loc, scale), a)


def stats(a, loc=0.0, scale=1.0, moments="mv"):
    """Mean ('m'), variance ('v'), skewness ('s') and excess kurtosis ('k'), as `moments` asks.

    >>> [float(v) for v in stats(4.0, moments="mvsk")]
    [4.0, 4.0, 1.0, 1.5]
    """
    return _support.stats_of(
        moments,
        lambda: broadcast_like(mean(a, loc, scale), scale),
        lambda: var(a, loc, scale),
        lambda: broadcast_like(2.0 / wnp.sqrt(a), loc, scale),
        lambda: broadcast_like(6.0 / a, loc, scale),
    )


def interval(confidence, a, loc=0.0, scale=1.0):
    """The central interval holding probability `confidence`; not differentiable in a.

    >>> [round(float(v), 6) for v in interval(0.5, 1.0)]  # log(4/3), log 4
    [0.287682, 1.386294]
    """
    return _support.interval_of("gamma.interval", confidence, lambda q: ppf(q, a, loc, scale))


def support(a, loc=0.0, scale=1.0):
    """The ends of the support, (loc, inf).

    >>> support(2.0, 1.0)
    (1.0, inf)
    """
    return broadcast_like(loc, a, scale), broadcast_like(np.inf, a, loc, scale)


def nnlf(theta, x):
    """The negative log-likelihood of the data `x` for ``theta = (a, loc, scale)``.

    >>> round(float(nnlf((1.0, 0.0, 1.0), [1.0, 2.0])), 6)  # exponential: x1 + x2
    3.0
    """
    return _support.nnlf_of(logpdf, theta, x, lambda a: a > 0)


def fit_loc_scale(data, a):
    """Estimates of loc and scale from the mean and variance of `data`.

    >>> [float(v) for v in fit_loc_scale([1.0, 3.0], 1.0)]
    [1.0, 1.0]
    """
    return _support.fit_loc_scale_of(stats, data, a)


rvs, fit, expect, freeze = _support.scipy_methods(scipy.stats.gamma, "gamma")

__all__ = list(_support.CONTINUOUS)
