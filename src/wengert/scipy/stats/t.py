"""Student's t distribution.

`logpdf` and `pdf` are differentiable in x, df, loc and scale; `cdf`, `logcdf`, `sf`,
`logsf`, `ppf`, `isf` and `interval` in x (or q, or confidence), loc and scale, not in df
(`special.stdtr` and its inverse have no df rule). `entropy`, `mean`, `var`, `std`,
`median`, `moment`, `stats`, `nnlf` and `fit_loc_scale` are differentiable in all their
parameters; `rvs`, `fit`, `expect` and `freeze` are SciPy's, without derivative
(differentiating through them raises `wengert.MissingRuleError`).

>>> import wengert as wg
>>> round(float(wg.grad(logpdf)(1.0, 3.0)), 6)  # -(df + 1) x / (df + x^2)
-1.0
"""

from __future__ import annotations

import numpy as np
import scipy.stats

from ... import numpy as wnp
from .. import special
from . import _special, _support
from ._support import broadcast_like, choose, on_support, standardize, weak

_LOG_PI = float(np.log(np.pi))
_NORM_ENTROPY = float(0.5 * (np.log(2.0 * np.pi) + 1.0))


def logpdf(x, df, loc=0.0, scale=1.0):
    """Log of the t density with `df` degrees of freedom.

    >>> round(float(logpdf(0.0, 1.0)), 6)  # Cauchy: -log(pi)
    -1.14473
    """
    z = standardize(x, loc, scale)
    log_norm = (
        weak(special.gammaln, 0.5 * (df + 1.0))
        - weak(special.gammaln, 0.5 * df)
        - 0.5 * (weak(wnp.log, df) + _LOG_PI)
        - weak(wnp.log, scale)
    )
    return log_norm - 0.5 * (df + 1.0) * wnp.log1p(z * z / df)


def pdf(x, df, loc=0.0, scale=1.0):
    """The t density.

    >>> round(float(pdf(0.0, 1.0)), 6)
    0.31831
    """
    return wnp.exp(logpdf(x, df, loc, scale))


def cdf(x, df, loc=0.0, scale=1.0):
    """P(X <= x), by `special.stdtr`; not differentiable in df.

    >>> float(cdf(0.0, 4.0))
    0.5
    """
    return special.stdtr(df, standardize(x, loc, scale))


def logcdf(x, df, loc=0.0, scale=1.0):
    """log P(X <= x).

    >>> round(float(logcdf(0.0, 4.0)), 6)
    -0.693147
    """
    return wnp.log(cdf(x, df, loc, scale))


def sf(x, df, loc=0.0, scale=1.0):
    """P(X > x).

    >>> float(sf(0.0, 4.0))
    0.5
    """
    return special.stdtr(df, -standardize(x, loc, scale))


def logsf(x, df, loc=0.0, scale=1.0):
    """log P(X > x).

    >>> round(float(logsf(0.0, 4.0)), 6)
    -0.693147
    """
    return wnp.log(sf(x, df, loc, scale))


def ppf(q, df, loc=0.0, scale=1.0):
    """The quantile function: the x with P(X <= x) = q; not differentiable in df.

    >>> round(float(ppf(0.975, 4.0)), 6)
    2.776445
    """
    return loc + scale * weak(_special.stdtrit, df, q)


def isf(q, df, loc=0.0, scale=1.0):
    """The inverse survival function: the x with P(X > x) = q; not differentiable in df.

    >>> round(float(isf(0.025, 4.0)), 6)
    2.776445
    """
    return loc - scale * weak(_special.stdtrit, df, q)


def _entropy_regular(df):
    half, half1 = 0.5 * df, 0.5 * (df + 1.0)
    return (
        half1 * (special.digamma(half1) - special.digamma(half))
        + 0.5 * wnp.log(df)
        + special.betaln(half, 0.5)
    )


def _entropy_large(df):  # SciPy's expansion in 1 / df, for df >= 100
    return _NORM_ENTROPY + (
        1.0 / df + df**-2.0 / 4 - df**-3.0 / 6 - df**-4.0 / 8 + 0.3 * df**-5.0 + df**-6.0 / 4
    )


def entropy(df, loc=0.0, scale=1.0):
    """The differential entropy.

    >>> round(float(entropy(1.0)), 6)  # Cauchy: log(4 pi)
    2.531024
    """
    value = choose(df >= 100, lambda: _entropy_large(df), lambda: _entropy_regular(df))
    return broadcast_like(value + weak(wnp.log, scale), loc)


def _standard_mean(df):
    return on_support(df, df > 1, 2.0, lambda d: 0.0 * d, np.inf)


def _standard_var(df):
    finite = lambda d: on_support(d, d > 2, 3.0, lambda e: e / (e - 2.0), np.inf)
    return on_support(df, df > 1, 3.0, finite, np.nan)


def _standard_skew(df):
    return on_support(df, df > 3, 4.0, lambda d: 0.0 * d, np.nan)


def _standard_kurtosis(df):
    finite = lambda d: on_support(d, d > 4, 5.0, lambda e: 6.0 / (e - 4.0), np.inf)
    return on_support(df, df > 2, 5.0, finite, np.nan)


def mean(df, loc=0.0, scale=1.0):
    """The mean, loc (inf for df <= 1).

    >>> float(mean(3.0, 1.5))
    1.5
    """
    return broadcast_like(loc + scale * _standard_mean(df), df)


def var(df, loc=0.0, scale=1.0):
    """The variance, scale^2 df / (df - 2) (inf for 1 < df <= 2, nan for df <= 1).

    >>> float(var(4.0))
    2.0
    """
    return broadcast_like(scale * scale * _standard_var(df), loc)


def std(df, loc=0.0, scale=1.0):
    """The standard deviation.

    >>> round(float(std(4.0)), 6)
    1.414214
    """
    return wnp.sqrt(var(df, loc, scale))


def median(df, loc=0.0, scale=1.0):
    """The median, loc.

    >>> float(median(3.0, 1.5))
    1.5
    """
    return broadcast_like(loc, df, scale)


def _standard_moment(df, k: int):
    """E[T^k]: 0 for odd k, df^(k/2) (k - 1)!! / prod_{j <= k/2} (df - 2j) for even k, if
    k < df; else inf for even k (and k = 1), nan for odd."""
    if k % 2:
        value = lambda d: 0.0 * d
    else:
        value = lambda d: (
            d ** (k // 2)
            * wnp.prod(
                wnp.stack([(2.0 * j - 1.0) / (d - 2.0 * j) for j in range(1, k // 2 + 1)]), axis=0
            )
        )
    outside = np.inf if k % 2 == 0 or k == 1 else np.nan
    return on_support(df, df > k, k + 1.0, value, outside)


def moment(order, df, loc=0.0, scale=1.0):
    """The non-central moment E[X^order] (inf or nan where order >= df, as in SciPy).

    >>> float(moment(2, 4.0))  # df / (df - 2)
    2.0
    """
    standard = lambda k: _standard_moment(df, k)
    value = _support.moment_of("t.moment", order, standard, loc, scale)
    return broadcast_like(value, df, loc, scale)


def stats(df, loc=0.0, scale=1.0, moments="mv"):
    """Mean ('m'), variance ('v'), skewness ('s') and excess kurtosis ('k'), as `moments` asks.

    >>> [float(v) for v in stats(6.0, moments="mvsk")]
    [0.0, 1.5, 0.0, 3.0]
    """
    return _support.stats_of(
        moments,
        lambda: broadcast_like(mean(df, loc, scale), scale),
        lambda: var(df, loc, scale),
        lambda: broadcast_like(_standard_skew(df), loc, scale),
        lambda: broadcast_like(_standard_kurtosis(df), loc, scale),
    )


def interval(confidence, df, loc=0.0, scale=1.0):
    """The central interval holding probability `confidence`; not differentiable in df.

    >>> [round(float(v), 6) for v in interval(0.95, 4.0)]
    [-2.776445, 2.776445]
    """
    return _support.interval_of("t.interval", confidence, lambda q: ppf(q, df, loc, scale))


def support(df, loc=0.0, scale=1.0):
    """The ends of the support, (-inf, inf) (constants).

    >>> support(3.0)
    (-inf, inf)
    """
    return broadcast_like(-np.inf, df, loc, scale), broadcast_like(np.inf, df, loc, scale)


def nnlf(theta, x):
    """The negative log-likelihood of the data `x` for ``theta = (df, loc, scale)``.

    >>> round(float(nnlf((1.0, 0.0, 1.0), [0.0])), 6)  # log(pi)
    1.14473
    """
    return _support.nnlf_of(logpdf, theta, x, lambda df: df > 0)


def fit_loc_scale(data, df):
    """Estimates of loc and scale from the mean and variance of `data`.

    >>> [float(v) for v in fit_loc_scale([1.0, 3.0], 4.0)]
    [2.0, 0.7071067811865476]
    """
    return _support.fit_loc_scale_of(stats, data, df)


rvs, fit, expect, freeze = _support.scipy_methods(scipy.stats.t, "t")

__all__ = list(_support.CONTINUOUS)
