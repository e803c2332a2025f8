"""The multivariate normal distribution, differentiable in x, mean and cov.

`cov` may be a scalar (a multiple of the identity), a 1-D array (a diagonal) or a 2-D
positive definite matrix; a 2-D `cov` is read through its symmetric part
``(cov + cov.T) / 2`` (the derivative in cov is the symmetric one). The last axis of `x`
holds the components; as in SciPy, the result is squeezed (a float for a single point).
`entropy` and `fit` (the maximum likelihood estimates) are differentiable too. `cdf`,
`logcdf`, `rvs` and `marginal` are SciPy's, without derivative (differentiating through them
raises `wengert.MissingRuleError`).

>>> import numpy as np
>>> round(float(logpdf(np.zeros(2), np.zeros(2), np.eye(2))), 6)  # -log(2 pi)
-1.837877
"""

from __future__ import annotations

import math

import numpy as np
import scipy.stats

from ... import numpy as wnp
from ..._core.box import peek
from ..._core.vspace import shape_of
from ...numpy.indexing import take_index
from .. import linalg
from . import _support
from ._support import weak

_LOG_2PI = float(np.log(2.0 * np.pi))


def _dimension(mean, cov) -> int:
    """The number of components, inferred as SciPy does: from mean, else from cov."""
    if mean is not None:
        return math.prod(shape_of(mean))  # one member's size, under vmap too
    return 1 if len(shape_of(cov)) < 2 else shape_of(cov)[-1]


def _points(x, dim: int):
    """x as an (N, dim) array of points, following SciPy's reading of its shape."""
    shape = shape_of(x)
    if len(shape) == 0 or (len(shape) == 1 and dim == 1):
        return wnp.reshape(x, (-1, 1))
    if shape[-1] != dim:
        raise ValueError(f"multivariate_normal: x of shape {shape} does not have {dim} components")
    return wnp.reshape(x, (-1, dim))


def _logdet(cov, dim: int):
    """log det of the covariance, and its lower Cholesky factor when cov is a matrix."""
    ndim = len(shape_of(cov))
    if ndim == 0:
        return dim * weak(wnp.log, cov), None
    if ndim == 1:
        return wnp.sum(wnp.log(cov)), None
    factor = linalg.cholesky(cov, lower=True)
    idx = np.arange(dim)
    diagonal = take_index(factor, (idx, idx))  # (also on an untraced Dask array)
    return 2.0 * wnp.sum(wnp.log(diagonal)), factor


def logpdf(x, mean=None, cov=1.0):
    """Log of the multivariate normal density at the points `x`.

    >>> import numpy as np
    >>> round(float(logpdf(np.array([1.0, 0.0]), np.zeros(2), np.eye(2))), 6)
    -2.337877
    """
    dim = _dimension(mean, cov)
    points = _points(x, dim)
    diff = points if mean is None else points - wnp.reshape(mean, (1, -1))
    logdet, factor = _logdet(cov, dim)
    ndim = len(shape_of(cov))
    if ndim == 0:
        maha = wnp.sum(diff * diff, axis=1) / cov
    elif ndim == 1:
        maha = wnp.sum(diff * diff / cov, axis=1)
    else:
        y = linalg.solve_triangular(factor, wnp.transpose(diff), lower=True)
        maha = wnp.sum(y * y, axis=0)
    return wnp.squeeze(-0.5 * (dim * _LOG_2PI + logdet + maha))


def pdf(x, mean=None, cov=1.0):
    """The multivariate normal density at the points `x`.

    >>> import numpy as np
    >>> round(float(pdf(np.zeros(2), np.zeros(2), np.eye(2))), 6)  # 1 / (2 pi)
    0.159155
    """
    return wnp.exp(logpdf(x, mean, cov))


def entropy(mean=None, cov=1.0):
    """Differential entropy, (d/2)(1 + log 2 pi) + log det(cov) / 2.

    >>> import numpy as np
    >>> round(float(entropy(np.zeros(2), np.eye(2))), 6)  # 1 + log(2 pi)
    2.837877
    """
    logdet, _ = _logdet(cov, _dimension(mean, cov))
    return 0.5 * (_dimension(mean, cov) * (1.0 + _LOG_2PI) + logdet)


def fit(x, fix_mean=None, fix_cov=None):
    """Maximum likelihood estimates of the mean and covariance from the points in the rows of
    `x` (the covariance divides by the number of points), either of them fixed if given.

    >>> mean, cov = fit(np.array([[0.0, 1.0], [2.0, 1.0]]))
    >>> mean.tolist(), cov.tolist()
    ([1.0, 1.0], [[1.0, 0.0], [0.0, 0.0]])
    """
    x = wnp.asarray(x)
    if len(shape_of(x)) != 2:
        raise ValueError(f"multivariate_normal.fit: x must be two-dimensional, got {shape_of(x)}")
    n, dim = shape_of(x)
    if fix_mean is None:
        mean = wnp.mean(x, axis=0)
    else:
        mean = wnp.atleast_1d(fix_mean)
        if shape_of(mean) != (dim,):
            raise ValueError(
                "multivariate_normal.fit: fix_mean must be one-dimensional, of the length "
                f"{dim} of the points, got shape {shape_of(mean)}"
            )
    if fix_cov is not None:
        cov = wnp.atleast_2d(fix_cov)
        if shape_of(cov) != (dim, dim):
            raise ValueError(
                f"multivariate_normal.fit: fix_cov must have shape {(dim, dim)}, got "
                f"{shape_of(cov)}"
            )
        # SciPy's check of the values (no derivative is involved).
        scipy.stats.multivariate_normal.fit(np.zeros((1, dim)), fix_cov=np.asarray(peek(cov)))
        return mean, cov
    centered = x - mean
    return mean, wnp.matmul(wnp.transpose(centered), centered) / n


_scipy = scipy.stats.multivariate_normal
cdf = _support.PassThrough(_scipy, "multivariate_normal", "cdf")
logcdf = _support.PassThrough(_scipy, "multivariate_normal", "logcdf")
rvs = _support.PassThrough(_scipy, "multivariate_normal", "rvs")
marginal = _support.PassThrough(_scipy, "multivariate_normal", "marginal", results="object")

__all__ = ["cdf", "entropy", "fit", "logcdf", "logpdf", "marginal", "pdf", "rvs"]
