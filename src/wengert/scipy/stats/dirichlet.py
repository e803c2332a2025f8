"""The Dirichlet distribution, differentiable in the quantiles x and in alpha.

As in SciPy, the components run along the FIRST axis of x: x has shape (K,) or (K, N)
for alpha of shape (K,), and may omit the last component (shape (K-1, ...)), which is
then 1 minus the sum of the others. The density formula is evaluated as given, without
checking that x lies on the simplex, so that derivatives exist in every direction; on
the simplex only directions that keep the sum at 1 have a meaning for the density.

>>> import numpy as np
>>> round(float(logpdf(np.array([0.2, 0.3, 0.5]), np.ones(3))), 6)  # log Gamma(3)
0.693147
"""

from __future__ import annotations

from ... import numpy as wnp
from ..._core.vspace import shape_of
from .. import special


def _lnB(alpha):
    return wnp.sum(special.gammaln(alpha)) - special.gammaln(wnp.sum(alpha))


def _components(x, alpha):
    """x with all K components along axis 0 (the last one filled in if omitted)."""
    if len(shape_of(alpha)) != 1:
        raise ValueError(f"dirichlet: alpha must be one-dimensional, got shape {shape_of(alpha)}")
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


__all__ = ["logpdf", "pdf"]
