"""The beta distribution with shapes `a` and `b`.

`logpdf` and `pdf` are differentiable in x, a, b, loc and scale; `cdf`, `logcdf`, `sf`,
`logsf`, `ppf`, `isf`, `median` and `interval` in x (or q, or confidence), loc and scale,
not in a or b (`special.betainc` and its inverse have no rule in them). Outside the support
[loc, loc + scale] logpdf is -inf and cdf is 0 or 1, with zero derivatives. `entropy`,
`mean`, `var`, `std`, `moment`, `stats`, `support`, `nnlf` and `fit_loc_scale` are
differentiable in all their parameters; `rvs`, `fit`, `expect` and `freeze` are SciPy's,
without derivative (differentiating through them raises `wengert.MissingRuleError`).

>>> import wengert as wg
>>> round(float(wg.grad(cdf)(0.5, 2.0, 2.0)), 6)  # the density 6 x (1 - x) at 1/2
1.5
"""

from __future__ import annotations

import math

import numpy as np
import scipy.stats

from ... import numpy as wnp
from ..._core.box import any_value
from .. import special
from . import _special, _support
from ._support import broadcast_like, mask, on_support, standardize, weak


def _logpdf_standard(z, a, b):
    return special.xlogy(a - 1.0, z) + special.xlog1py(b - 1.0, -z) - weak(special.betaln, a, b)


def logpdf(x, a, b, loc=0.0, scale=1.0):
    """Log of the beta density.

    >>> round(float(logpdf(0.5, 2.0, 2.0)), 6)  # log 1.5
    0.405465
    """
    z = standardize(x, loc, scale)
    inside = mask(z, lambda v: (v >= 0) & (v <= 1))
    value = on_support(z, inside, 0.5, lambda s: _logpdf_standard(s, a, b), -wnp.inf)
    return value - weak(wnp.log, scale)


def pdf(x, a, b, loc=0.0, scale=1.0):
    """The beta density.

    >>> round(float(pdf(0.5, 2.0, 2.0)), 6)
    1.5
    """
    return wnp.exp(logpdf(x, a, b, loc, scale))


def cdf(x, a, b, loc=0.0, scale=1.0):
    """P(X <= x), by `special.betainc`; not differentiable in a or b.

    >>> round(float(cdf(0.5, 2.0, 3.0)), 6)
    0.6875
    """
    z = standardize(x, loc, scale)
    below = mask(z, lambda v: v <= 0)
    inside = mask(z, lambda v: (v > 0) & (v < 1))
    value = on_support(z, inside, 0.5, lambda s: special.betainc(a, b, s), 1.0)
    return wnp.where(below, 0.0, value) if any_value(below, undecided=True) else value


def logcdf(x, a, b, loc=0.0, scale=1.0):
    """log P(X <= x).

    >>> round(float(logcdf(0.5, 2.0, 3.0)), 6)
    -0.374693
    """
    probability = cdf(x, a, b, loc, scale)
    with np.errstate(divide="ignore"):  # log 0 = -inf outside the support
        return wnp.log(probability)


def sf(x, a, b, loc=0.0, scale=1.0):
    """P(X > x).

    >>> round(float(sf(0.5, 2.0, 3.0)), 6)
    0.3125
    """
    return 1.0 - cdf(x, a, b, loc, scale)


def logsf(x, a, b, loc=0.0, scale=1.0):
    """log P(X > x).

    >>> round(float(logsf(0.5, 2.0, 3.0)), 6)
    -1.163151
    """
    probability = sf(x, a, b, loc, scale)
    with np.errstate(divide="ignore"):  # log 0 = -inf outside the support
        return wnp.log(probability)


def ppf(q, a, b, loc=0.0, scale=1.0):
    """The quantile function: the x with P(X <= x) = q; not differentiable in a or b.

    >>> round(float(ppf(0.25, 2.0, 1.0)), 6)  # sqrt(q)
    0.5
    """
    return loc + scale * weak(_special.betaincinv, a, b, q)


def isf(q, a, b, loc=0.0, scale=1.0):
    """The inverse survival function: the x with P(X > x) = q; not differentiable in a or b.

    >>> round(float(isf(0.75, 2.0, 1.0)), 6)
    0.5
    """
    return loc + scale * weak(_special.betainccinv, a, b, q)


def entropy(a, b, loc=0.0, scale=1.0):
    """The differential entropy (SciPy's formula for a, b below about 5e6; SciPy switches to
    expansions beyond, where this loses digits).

    >>> round(float(entropy(1.0, 1.0)), 6)  # uniform on [0, 1]
    0.0
    """
    value = (
        special.betaln(a, b)
        - (a - 1.0) * special.digamma(a)
        - (b - 1.0) * special.digamma(b)
        + (a + b - 2.0) * special.digamma(a + b)
    )
    return broadcast_like(value + weak(wnp.log, scale), loc)


def mean(a, b, loc=0.0, scale=1.0):
    """The mean, loc + scale a / (a + b).

    >>> float(mean(1.0, 3.0))
    0.25
    """
    return loc + scale * (a / (a + b))


def var(a, b, loc=0.0, scale=1.0):
    """The variance, scale^2 a b / ((a + b)^2 (a + b + 1)).

    >>> float(var(1.0, 1.0))  # uniform: 1/12
    0.08333333333333333
    """
    total = a + b
    return broadcast_like(scale * scale * (a * b / (total * total * (total + 1.0))), loc)


def std(a, b, loc=0.0, scale=1.0):
    """The standard deviation.

    >>> round(float(std(1.0, 1.0)), 6)
    0.288675
    """
    return wnp.sqrt(var(a, b, loc, scale))


def median(a, b, loc=0.0, scale=1.0):
    """The median, the quantile at 1/2; not differentiable in a or b.

    >>> float(median(2.0, 2.0))
    0.5
    """
    return ppf(0.5, a, b, loc, scale)


def _standard_moment(a, b, k: int):  # E[Y^k] = prod_{j < k} (a + j) / (a + b + j)
    return math.prod(((a + j) / (a + b + j) for j in range(1, k)), start=a / (a + b))


def moment(order, a, b, loc=0.0, scale=1.0):
    """The non-central moment E[X^order].

    >>> round(float(moment(2, 1.0, 1.0)), 6)  # uniform: 1/3
    0.333333
    """
    standard = lambda k: _standard_moment(a, b, k)
    return broadcast_like(_support.moment_of("beta.moment", order, standard, loc, scale), a, b)


def _skew(a, b):
    total = a + b
    return 2.0 * (b - a) * wnp.sqrt(total + 1.0) / ((total + 2.0) * wnp.sqrt(a * b))


def _kurtosis(a, b):
    total, product = a + b, a * b
    numerator = 6.0 * ((a - b) ** 2 * (total + 1.0) - product * (total + 2.0))
    return numerator / (product * (total + 2.0) * (total + 3.0))


def stats(a, b, loc=0.0, scale=1.0, moments="mv"):
    """Mean ('m'), variance ('v'), skewness ('s') and excess kurtosis ('k'), as `moments` asks.

    >>> [round(float(v), 6) for v in stats(1.0, 1.0, moments="mvsk")]  # uniform
    [0.5, 0.083333, 0.0, -1.2]
    """
    return _support.stats_of(
        moments,
        lambda: broadcast_like(mean(a, b, loc, scale), scale),
        lambda: var(a, b, loc, scale),
        lambda: broadcast_like(_skew(a, b), loc, scale),
        lambda: broadcast_like(_kurtosis(a, b), loc, scale),
    )


def interval(confidence, a, b, loc=0.0, scale=1.0):
    """The central interval holding probability `confidence`; not differentiable in a or b.

    >>> [round(float(v), 6) for v in interval(0.5, 1.0, 1.0)]
    [0.25, 0.75]
    """
    return _support.interval_of("beta.interval", confidence, lambda q: ppf(q, a, b, loc, scale))


def support(a, b, loc=0.0, scale=1.0):
    """The ends of the support, (loc, loc + scale).

    >>> support(2.0, 3.0, 1.0, 2.0)
    (1.0, 3.0)
    """
    return broadcast_like(loc, a, b, scale), broadcast_like(loc + scale, a, b)


def nnlf(theta, x):
    """The negative log-likelihood of the data `x` for ``theta = (a, b, loc, scale)``.

    >>> round(float(nnlf((1.0, 1.0, 0.0, 2.0), [0.5, 1.0])), 6)  # 2 log 2
    1.386294
    """
    return _support.nnlf_of(logpdf, theta, x, lambda a, b: wnp.logical_and(a > 0, b > 0))


def fit_loc_scale(data, a, b):
    """Estimates of loc and scale from the mean and variance of `data`.

    >>> [round(float(v), 6) for v in fit_loc_scale([1.0, 3.0], 1.0, 1.0)]
    [0.267949, 3.464102]
    """
    return _support.fit_loc_scale_of(stats, data, a, b)


rvs, fit, expect, freeze = _support.scipy_methods(scipy.stats.beta, "beta")

__all__ = list(_support.CONTINUOUS)
