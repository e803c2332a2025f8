"""The beta distribution with shapes `a` and `b`.

`logpdf` and `pdf` are differentiable in x, a, b, loc and scale; `cdf`, `logcdf` and `sf`
in x, loc and scale, not in a or b (`special.betainc` has no rule in them). Outside the
support [loc, loc + scale] logpdf is -inf and cdf is 0 or 1, with zero derivatives.

>>> import wengert as wg
>>> round(float(wg.grad(cdf)(0.5, 2.0, 2.0)), 6)  # the density 6 x (1 - x) at 1/2
1.5
"""

from __future__ import annotations

import numpy as np

from ... import numpy as wnp
from ..._core.box import any_value
from .. import special
from ._support import mask, on_support, standardize, weak


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


__all__ = ["cdf", "logcdf", "logpdf", "pdf", "sf"]
