"""Polynomials (coefficients highest power first): division, least-squares fit, roots,
and the polynomial of given roots, differentiable in their coefficients and data.

Each follows NumPy's own steps with wengert's functions, so its values are NumPy's and
its derivatives come from the steps' rules: `polydiv` is long division, `polyfit` a
least-squares solve with scaled columns, `roots` the eigenvalues of the companion matrix
(differentiable where the roots are simple), `poly` repeated convolution.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._core.box import Box, all_value, any_value, peek
from .._core.vspace import eye_like, foreign_of, is_lazy_array, refuse_lazy, shape_of
from ._arraylike import accept_array_likes
from ._common import _shared, _traced, numpy_call
from .contractions import dot, outer
from .elementwise import conj, imag, real, sqrt
from .linalg import eigvals, inv, lstsq
from .nondiff import isclose
from .reductions import sum as _sum
from .shaping import array, asarray, atleast_1d, concatenate, stack
from .signal import convolve, vander
from .sorting import sort


def polydiv(u: Any, v: Any) -> tuple:
    """Quotient and remainder of the division of polynomial `u` by `v`.

    >>> import wengert.numpy as wnp
    >>> wnp.polydiv(wnp.array([1.0, -3.0, 2.0]), wnp.array([1.0, -1.0]))
    (array([ 1., -2.]), array([0.]))
    """
    if not _traced(u, v):
        return np.polydiv(u, v)
    u, v = atleast_1d(asarray(u)) + 0.0, atleast_1d(asarray(v)) + 0.0
    dtype = np.result_type(peek(u[0] + v[0]))
    m, n = shape_of(u)[0] - 1, shape_of(v)[0] - 1
    scale = 1.0 / v[0]
    r = u.astype(dtype)
    quotient = []
    for k in range(m - n + 1):
        d = scale * r[k]
        quotient.append(d)
        r = concatenate([r[:k], r[k : k + n + 1] - d * v, r[k + n + 1 :]])
    q = stack(quotient).astype(dtype) if quotient else np.zeros((1,), dtype, like=foreign_of(u))
    while shape_of(r)[-1] > 1 and all_value(isclose(r[0], 0.0, rtol=1e-14)):
        r = r[1:]
    return q, r


def polyfit(
    x: Any,
    y: Any,
    deg: int,
    rcond: Any = None,
    full: bool = False,
    w: Any = None,
    cov: Any = False,
) -> Any:
    """Least-squares fit of a polynomial of degree `deg` to points ``(x, y)``: its
    coefficients (and, as NumPy, with `full` or `cov` the fit's diagnostics), differentiable
    in `x`, `y` and the weights `w`.

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> x = wnp.array([0.0, 1.0, 2.0, 3.0])
    >>> wnp.round(wnp.polyfit(x, 2.0 * x + 1.0, 1), 12)
    array([2., 1.])
    """
    if not _traced(x, y, w):
        return numpy_call(np.polyfit, x, y, deg, rcond=rcond, full=full, w=w, cov=cov)
    order = int(deg) + 1
    x, y = asarray(x) + 0.0, asarray(y) + 0.0
    if deg < 0:
        raise ValueError("expected deg >= 0")
    if len(shape_of(x)) != 1:
        raise TypeError("expected 1D vector for x")
    if shape_of(x)[0] == 0:
        raise TypeError("expected non-empty vector for x")
    if not 1 <= len(shape_of(y)) <= 2:
        raise TypeError("expected 1D or 2D array for y")
    if shape_of(x)[0] != shape_of(y)[0]:
        raise TypeError("expected x and y to have same length")
    if rcond is None:
        rcond = shape_of(x)[0] * np.finfo(peek(x).dtype).eps
    lhs, rhs = vander(x, order), y
    if w is not None:
        w = asarray(w) + 0.0
        if len(shape_of(w)) != 1:
            raise TypeError("expected a 1-d array for weights")
        if shape_of(w)[0] != shape_of(y)[0]:
            raise TypeError("expected w and y to have the same length")
        lhs = lhs * w[:, None]
        rhs = rhs * (w[:, None] if len(shape_of(rhs)) == 2 else w)
    scale = sqrt(_sum(lhs * lhs, axis=0))
    lhs = lhs / scale
    c, resids, rank, s = lstsq(lhs, rhs, rcond)
    c = (c.T / scale).T
    if not full and any_value(rank != order):  # (a batch of ranks under vmap)
        warnings.warn("Polyfit may be poorly conditioned", np.exceptions.RankWarning, stacklevel=2)
    if full:
        return c, resids, rank, s, rcond
    if not cov:
        return c
    vbase = inv(dot(lhs.T, lhs)) / outer(scale, scale)
    if cov == "unscaled":
        fac = 1
    else:
        if shape_of(x)[0] <= order:
            raise ValueError(
                "the number of data points must exceed order to scale the covariance matrix"
            )
        fac = resids / (shape_of(x)[0] - order)
    if len(shape_of(y)) == 1:
        return c, vbase * fac
    return c, vbase[:, :, None] * fac


def roots(p: Any) -> Any:
    """The roots of the polynomial with coefficients `p`: the eigenvalues of its companion
    matrix (real where they all are, as NumPy's), differentiable where they are simple.

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> wnp.sort(wnp.roots(wnp.array([1.0, -3.0, 2.0])))
    array([1., 2.])
    """
    if is_lazy_array(peek(p)):
        refuse_lazy(
            "roots",
            peek(p),
            "the number of roots depends on the leading zeros' values (a data-dependent "
            "shape), and they are eigenvalues, which Dask does not compute",
        )
    if not isinstance(p, Box):
        return np.roots(p)
    p = atleast_1d(p)
    if len(shape_of(p)) != 1:
        raise ValueError("Input must be a rank-1 array.")
    span = _shared(p, _nonzero_span, "the leading and trailing zero coefficients", "roots")
    if span is None:
        return np.zeros(0, like=foreign_of(p))
    trailing = shape_of(p)[0] - span[1] - 1
    if span != (0, shape_of(p)[0] - 1):
        p = p[span[0] : span[1] + 1]
    if p.dtype.kind not in "fc":
        p = p.astype(float)
    n = shape_of(p)[0]
    if n > 1:
        companion = concatenate(
            [
                array(-p[1:] / p[0], ndmin=2),
                eye_like(n - 2, n - 1, dtype=p.dtype, like=foreign_of(p)),
            ],
            axis=0,
        )
        out = eigvals(companion)
        if p.dtype.kind != "c" and all_value(imag(out) == 0):
            out = real(out)  # NumPy's eigvals: real when every root is
    else:
        out = np.zeros(0, like=foreign_of(p))
    if trailing:
        zeros = np.zeros(trailing, dtype=np.result_type(peek(out)), like=foreign_of(p))
        out = concatenate([out, zeros])
    return out


def _nonzero_span(value: np.ndarray) -> tuple[int, int] | None:
    """The first and last positions of nonzero entries, None if there are none."""
    found = np.flatnonzero(value)
    return (int(found[0]), int(found[-1])) if len(found) else None


def poly(seq_of_zeros: Any) -> Any:
    """The coefficients of the monic polynomial with the given roots (or the
    characteristic polynomial of a square matrix), real where the roots come in conjugate
    pairs, as NumPy's.

    >>> import wengert.numpy as wnp
    >>> wnp.poly(wnp.array([1.0, 2.0]))
    array([ 1., -3.,  2.])
    """
    if not isinstance(seq_of_zeros, Box):
        return np.poly(seq_of_zeros)
    zeros = atleast_1d(seq_of_zeros)
    shape = shape_of(zeros)
    if len(shape) == 2 and shape[0] == shape[1] and shape[0] != 0:
        zeros = eigvals(zeros)
    elif len(shape) == 1:
        zeros = zeros.astype(np.mintypecode(zeros.dtype.char))
    else:
        raise ValueError("input must be 1d or non-empty square 2d array.")
    if shape_of(zeros)[0] == 0:
        return 1.0
    dtype = zeros.dtype
    like = foreign_of(zeros)
    a = np.ones((1,), dtype=dtype, like=like)
    for k in range(shape_of(zeros)[0]):
        a = convolve(a, stack([np.ones((), dtype=dtype, like=like), -zeros[k]]), mode="full")
    if dtype.kind == "c":
        roots_ = zeros.astype(complex)
        if all_value(sort(roots_) == sort(conj(roots_))):
            a = real(a)
    return a


__all__ = ["poly", "polydiv", "polyfit", "roots"]

# Lists and tuples holding traced values are read as arrays by the public functions.
accept_array_likes(globals(), __all__)
