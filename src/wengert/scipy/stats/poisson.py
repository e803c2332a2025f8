"""The Poisson distribution: differentiable in the rate `mu` (k is an integer count).

`entropy`, `mean`, `var`, `std`, `moment`, `stats` and `nnlf` are differentiable in mu too.
The quantiles (`ppf`, `isf`, `median`, `interval`) and `support` are whole numbers,
constant in mu where they are defined: their derivative is zero. `rvs`, `expect` and
`freeze` are SciPy's, without derivative (differentiating through them raises
`wengert.MissingRuleError`).

>>> import wengert as wg
>>> round(float(wg.grad(lambda mu: logpmf(3, mu))(2.0)), 6)  # k / mu - 1
0.5
"""

from __future__ import annotations

import numpy as np
import scipy.stats

from ... import numpy as wnp
from ..._core.box import all_value, peek
from .. import special
from . import _special, _support
from ._support import broadcast_like


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


def logsf(k, mu, loc=0):
    """log P(K > k).

    >>> round(float(logsf(1, 2.0)), 6)
    -0.520886
    """
    probability = sf(k, mu, loc)
    with np.errstate(divide="ignore"):  # log 0 = -inf
        return wnp.log(probability)


_scipy = scipy.stats.poisson
ppf = _support.constant(_scipy, "poisson", "ppf")
isf = _support.constant(_scipy, "poisson", "isf")


def median(mu, loc=0):
    """The median, the quantile at 1/2: a whole number, constant in mu.

    >>> float(median(3.2))
    3.0
    """
    return ppf(0.5, mu, loc)


def interval(confidence, mu, loc=0):
    """The central interval holding probability `confidence`: whole numbers, constant in mu.

    >>> [float(v) for v in interval(0.9, 3.0)]
    [1.0, 6.0]
    """
    return _support.interval_of("poisson.interval", confidence, lambda q: ppf(q, mu, loc))


# Whole numbers, constant in mu: listed as functions without a derivative (zero).
median.nondifferentiable = interval.nondifferentiable = True


def support(mu, loc=0):
    """The ends of the support, (loc, inf), constant in mu.

    >>> support(2.0, 1)
    (1, inf)
    """
    return broadcast_like(loc, mu), broadcast_like(np.inf, mu, loc)


def entropy(mu, loc=0):
    """The entropy -E[log P(K)], by summing the series (as SciPy).

    >>> round(float(entropy(3.2)), 6)
    1.966674
    """
    return broadcast_like(_special.poisson_entropy(0, mu), loc)


def mean(mu, loc=0):
    """The mean, loc + mu.

    >>> float(mean(2.5, 1))
    3.5
    """
    return mu + loc


def var(mu, loc=0):
    """The variance, mu.

    >>> float(var(2.5, 1))
    2.5
    """
    return broadcast_like(mu, loc)


def std(mu, loc=0):
    """The standard deviation, sqrt(mu).

    >>> float(std(4.0))
    2.0
    """
    return broadcast_like(wnp.sqrt(mu), loc)


def _stirling2(n: int) -> list[int]:
    """Stirling numbers of the second kind S(n, j), j = 0..n."""
    row = [1]
    for m in range(n):
        row = [0] + [j * row[j] + row[j - 1] for j in range(1, m + 1)] + [1]
    return row


def _standard_moment(mu, k: int):  # E[K^k] = sum_j S(k, j) mu^j (a Touchard polynomial)
    return sum((count * mu**j for j, count in enumerate(_stirling2(k)) if count), start=0.0)


def moment(order, mu, loc=0):
    """The non-central moment E[(K + loc)^order].

    >>> float(moment(2, 2.0))  # mu + mu^2
    6.0
    """
    standard = lambda k: _standard_moment(mu, k)
    return broadcast_like(_support.moment_of("poisson.moment", order, standard, loc), mu)


def stats(mu, loc=0, moments="mv"):
    """Mean ('m'), variance ('v'), skewness ('s') and excess kurtosis ('k'), as `moments` asks.

    >>> [float(v) for v in stats(4.0, moments="mvsk")]
    [4.0, 4.0, 0.5, 0.25]
    """
    return _support.stats_of(
        moments,
        lambda: mean(mu, loc),
        lambda: var(mu, loc),
        lambda: broadcast_like(1.0 / wnp.sqrt(mu), loc),
        lambda: broadcast_like(wnp.reciprocal(mu), loc),
    )


def nnlf(theta, x):
    """The negative log-likelihood of the counts `x` for ``theta = (mu, loc)``.

    >>> round(float(nnlf((1.0, 0), [0, 1])), 6)  # 2 mu
    2.0
    """
    return _support.nnlf_of(logpmf, theta, x, lambda mu: mu >= 0, discrete=True)


rvs = _support.PassThrough(_scipy, "poisson", "rvs")
expect = _support.PassThrough(_scipy, "poisson", "expect")
freeze = _support.PassThrough(_scipy, "poisson", "freeze", results="object")

__all__ = [
    "cdf",
    "entropy",
    "expect",
    "freeze",
    "interval",
    "isf",
    "logcdf",
    "logpmf",
    "logsf",
    "mean",
    "median",
    "moment",
    "nnlf",
    "pmf",
    "ppf",
    "rvs",
    "sf",
    "stats",
    "std",
    "support",
    "var",
]
