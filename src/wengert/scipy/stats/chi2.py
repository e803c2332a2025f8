"""The chi-squared distribution: the gamma distribution with a = df/2 and scale 2.

`logpdf` and `pdf` are differentiable in x, df, loc and scale; `cdf`, `logcdf`, `sf`,
`logsf`, `ppf`, `isf`, `median` and `interval` in x (or q, or confidence), loc and scale,
not in df. `entropy`, `mean`, `var`, `std`, `moment`, `stats`, `support`, `nnlf` and
`fit_loc_scale` are differentiable in all their parameters; `rvs`, `fit`, `expect` and
`freeze` are SciPy's, without derivative (differentiating through them raises
`wengert.MissingRuleError`).

>>> round(float(cdf(2.0, 2.0)), 6)  # 1 - exp(-1)
0.632121
"""

from __future__ import annotations

import scipy.stats

from . import _support, gamma


def logpdf(x, df, loc=0.0, scale=1.0):
    """Log of the chi-squared density with `df` degrees of freedom.

    >>> round(float(logpdf(2.0, 2.0)), 6)  # log(exp(-1) / 2)
    -1.693147
    """
    return gamma.logpdf(x, 0.5 * df, loc, 2.0 * scale)


def pdf(x, df, loc=0.0, scale=1.0):
    """The chi-squared density.

    >>> round(float(pdf(2.0, 2.0)), 6)
    0.18394
    """
    return gamma.pdf(x, 0.5 * df, loc, 2.0 * scale)


def cdf(x, df, loc=0.0, scale=1.0):
    """P(X <= x); not differentiable in df.

    >>> round(float(cdf(2.0, 2.0)), 6)
    0.632121
    """
    return gamma.cdf(x, 0.5 * df, loc, 2.0 * scale)


def logcdf(x, df, loc=0.0, scale=1.0):
    """log P(X <= x).

    >>> round(float(logcdf(2.0, 2.0)), 6)
    -0.458675
    """
    return gamma.logcdf(x, 0.5 * df, loc, 2.0 * scale)


def sf(x, df, loc=0.0, scale=1.0):
    """P(X > x).

    >>> round(float(sf(2.0, 2.0)), 6)
    0.367879
    """
    return gamma.sf(x, 0.5 * df, loc, 2.0 * scale)


def logsf(x, df, loc=0.0, scale=1.0):
    """log P(X > x).

    >>> round(float(logsf(2.0, 2.0)), 6)
    -1.0
    """
    return gamma.logsf(x, 0.5 * df, loc, 2.0 * scale)


def ppf(q, df, loc=0.0, scale=1.0):
    """The quantile function: the x with P(X <= x) = q; not differentiable in df.

    >>> round(float(ppf(0.5, 2.0)), 6)  # 2 log 2
    1.386294
    """
    return gamma.ppf(q, 0.5 * df, loc, 2.0 * scale)


def isf(q, df, loc=0.0, scale=1.0):
    """The inverse survival function: the x with P(X > x) = q; not differentiable in df.

    >>> round(float(isf(0.5, 2.0)), 6)
    1.386294
    """
    return gamma.isf(q, 0.5 * df, loc, 2.0 * scale)


def entropy(df, loc=0.0, scale=1.0):
    """The differential entropy (by the gamma's, which switches to its expansion at df = 500
    where SciPy's chi2 does at df = 250; the two agree to about 1e-13 in between).

    >>> round(float(entropy(2.0)), 6)  # exponential with scale 2: 1 + log 2
    1.693147
    """
    return gamma.entropy(0.5 * df, loc, 2.0 * scale)


def mean(df, loc=0.0, scale=1.0):
    """The mean, loc + df scale.

    >>> float(mean(3.0))
    3.0
    """
    return gamma.mean(0.5 * df, loc, 2.0 * scale)


def var(df, loc=0.0, scale=1.0):
    """The variance, 2 df scale^2.

    >>> float(var(3.0))
    6.0
    """
    return gamma.var(0.5 * df, loc, 2.0 * scale)


def std(df, loc=0.0, scale=1.0):
    """The standard deviation.

    >>> float(std(8.0))
    4.0
    """
    return gamma.std(0.5 * df, loc, 2.0 * scale)


def median(df, loc=0.0, scale=1.0):
    """The median, the quantile at 1/2; not differentiable in df.

    >>> round(float(median(2.0)), 6)
    1.386294
    """
    return gamma.median(0.5 * df, loc, 2.0 * scale)


def moment(order, df, loc=0.0, scale=1.0):
    """The non-central moment E[X^order].

    >>> float(moment(2, 3.0))  # df (df + 2)
    15.0
    """
    return gamma.moment(order, 0.5 * df, loc, 2.0 * scale)


def stats(df, loc=0.0, scale=1.0, moments="mv"):
    """Mean ('m'), variance ('v'), skewness ('s') and excess kurtosis ('k'), as `moments` asks.

    >>> [float(v) for v in stats(8.0, moments="mvsk")]
    [8.0, 16.0, 1.0, 1.5]
    """
    return gamma.stats(0.5 * df, loc, 2.0 * scale, moments)


def interval(confidence, df, loc=0.0, scale=1.0):
    """The central interval holding probability `confidence`; not differentiable in df.

    >>> [round(float(v), 6) for v in interval(0.5, 2.0)]
    [0.575364, 2.772589]
    """
    return gamma.interval(confidence, 0.5 * df, loc, 2.0 * scale)


def support(df, loc=0.0, scale=1.0):
    """The ends of the support, (loc, inf).

    >>> support(2.0, 1.0)
    (1.0, inf)
    """
    return gamma.support(0.5 * df, loc, 2.0 * scale)


def nnlf(theta, x):
    """The negative log-likelihood of the data `x` for ``theta = (df, loc, scale)``.

    >>> round(float(nnlf((2.0, 0.0, 0.5), [1.0, 2.0])), 6)  # exponential: x1 + x2
    3.0
    """
    return _support.nnlf_of(logpdf, theta, x, lambda df: df > 0)


def fit_loc_scale(data, df):
    """Estimates of loc and scale from the mean and variance of `data`.

    >>> [float(v) for v in fit_loc_scale([1.0, 3.0], 2.0)]
    [1.0, 0.5]
    """
    return _support.fit_loc_scale_of(stats, data, df)


rvs, fit, expect, freeze = _support.scipy_methods(scipy.stats.chi2, "chi2")

__all__ = list(_support.CONTINUOUS)
