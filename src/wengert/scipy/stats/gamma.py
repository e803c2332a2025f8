"""The gamma distribution with shape `a`.

`logpdf` and `pdf` are differentiable in x, a, loc and scale; `cdf`, `logcdf` and `sf`
in x, loc and scale, not in a (`special.gammainc` has no rule in a). Outside the
support (x < loc) logpdf is -inf and cdf is 0, with zero derivatives.

>>> import wengert as wg
>>> round(float(wg.grad(logpdf)(2.0, 3.0)), 6)  # (a - 1) / x - 1
0.0
"""

from __future__ import annotations

import numpy as np

from ... import numpy as wnp
from .. import special
from ._support import mask, on_support, standardize, weak


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


__all__ = ["cdf", "logcdf", "logpdf", "pdf", "sf"]
