"""The chi-squared distribution: the gamma distribution with a = df/2 and scale 2.

`logpdf` and `pdf` are differentiable in x, df, loc and scale; `cdf`, `logcdf` and `sf`
in x, loc and scale, not in df.

>>> round(float(cdf(2.0, 2.0)), 6)  # 1 - exp(-1)
0.632121
"""

from __future__ import annotations

from . import gamma


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


__all__ = ["cdf", "logcdf", "logpdf", "pdf", "sf"]
