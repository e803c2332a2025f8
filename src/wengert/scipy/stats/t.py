"""Student's t distribution.

`logpdf` and `pdf` are differentiable in x, df, loc and scale; `cdf`, `logcdf` and `sf`
in x, loc and scale, not in df (`special.stdtr` has no df rule).

>>> import wengert as wg
>>> round(float(wg.grad(logpdf)(1.0, 3.0)), 6)  # -(df + 1) x / (df + x^2)
-1.0
"""

from __future__ import annotations

import numpy as np

from ... import numpy as wnp
from .. import special
from ._support import standardize, weak

_LOG_PI = float(np.log(np.pi))


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


__all__ = ["cdf", "logcdf", "logpdf", "pdf", "sf"]
