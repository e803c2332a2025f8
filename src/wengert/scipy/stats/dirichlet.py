"""The Dirichlet distribution, differentiable in the quantiles x and in alpha.

As in SciPy, the components run along the FIRST axis of x: x has shape (K,) or (K, N)
for alpha of shape (K,), and may omit the last component (shape (K-1, ...)), which is
then 1 minus the sum of the others. The density formula is evaluated as given, without
checking that x lies on the simplex, so that derivatives exist in every direction; on
the simplex only directions that keep the sum at 1 have a meaning for the density.
`mean`, `var`, `cov` and `entropy` are differentiable in alpha; `rvs` is SciPy's, without
derivative (differentiating through it raises `wengert.MissingRuleError`).

>>> import numpy as np
>>> round(float(logpdf(np.array([0.2, 0.3, 0.5]), np.ones(3))), 6)  # log Gamma(3)
0.693147
"""

from __future__ import annotations

import scipy.stats

from ... import numpy as wnp
from ..._core.vspace import shape_of
from .. import special
from . import _support


def _lnB(alpha):
    return wnp.sum(special.gammaln(alpha)) - special.gammaln(wnp.sum(alpha))


def _check(alpha):
    if len(shape_of(alpha)) != 1:
        raise ValueError(f"dirichlet: alpha must be one-dimensional, got shape {shape_of(alpha)}")


def _components(x, alpha):
    """x with all K components along axis 0 (the last one filled in if omitted)."""
    _check(alpha)
    k = shape_of(alpha)[0]
    if not shape_of(x) or shape_of(x)[0] not in (k, k - 1):
        raise ValueError(
            f"dirichlet: x of shape {shape_of(x)} must have {k} (or {k - 1}) components "
            f"along its first axis for alpha of shape {shape_of(alpha)}"
        )
    if shape_of(x)[0] == k - 1:
        x = wnp.concatenate([x, 1.0 - wnp.sum(x, axis=0, keepdims=True)], axis=0)
    return x


def logpdf(x, alpha):
    """Log of the Dirichlet density (a scalar for x of shape (K,), else shape (N,)).

    >>> import numpy as np
    >>> round(float(logpdf(np.array([0.25, 0.75]), np.array([2.0, 1.0]))), 6)  # log(2 x)
    -0.693147
    """
    x = _components(x, alpha)
    terms = wnp.transpose(special.xlogy(alpha - 1.0, wnp.transpose(x)))
    return wnp.sum(terms, axis=0) - _lnB(alpha)


def pdf(x, alpha):
    """The Dirichlet density.

    >>> import numpy as np
    >>> round(float(pdf(np.array([0.25, 0.75]), np.array([2.0, 1.0]))), 6)
    0.5
    """
    return wnp.exp(logpdf(x, alpha))


def mean(alpha):
    """The mean, alpha / sum(alpha).

    >>> import numpy as np
    >>> mean(np.array([1.0, 3.0])).tolist()
    [0.25, 0.75]
    """
    _check(alpha)
    return wnp.squeeze(alpha / wnp.sum(alpha))


def var(alpha):
    """The variances of the components, a_i (a_0 - a_i) / (a_0^2 (a_0 + 1)), a_0 = sum(alpha).

    >>> import numpy as np
    >>> var(np.array([1.0, 1.0])).tolist()  # uniform on [0, 1]: 1/12
    [0.08333333333333333, 0.08333333333333333]
    """
    _check(alpha)
    total = wnp.sum(alpha)
    return wnp.squeeze(alpha * (total - alpha) / (total * total * (total + 1.0)))


def cov(alpha):
    """The covariance matrix, (diag(p) - p p^T) / (a_0 + 1) with p = alpha / a_0.

    >>> import numpy as np
    >>> cov(np.array([1.0, 1.0])).tolist()
    [[0.08333333333333333, -0.08333333333333333], [-0.08333333333333333, 0.08333333333333333]]
    """
    _check(alpha)
    total = wnp.sum(alpha)
    p = alpha / total
    return wnp.squeeze((wnp.diag(p) - wnp.outer(p, p)) / (total + 1.0))


def entropy(alpha):
    """The differential entropy, log B(alpha) + (a_0 - K) psi(a_0) - sum (a_i - 1) psi(a_i).

    >>> import numpy as np
    >>> round(float(entropy(np.ones(3))), 6)  # uniform on the simplex: -log 2
    -0.693147
    """
    _check(alpha)
    total = wnp.sum(alpha)
    k = shape_of(alpha)[0]
    return (
        _lnB(alpha)
        + (total - k) * special.digamma(total)
        - wnp.sum((alpha - 1.0) * special.digamma(alpha))
    )


rvs = _support.PassThrough(scipy.stats.dirichlet, "dirichlet", "rvs")

__all__ = ["cov", "entropy", "logpdf", "mean", "pdf", "rvs", "var"]
