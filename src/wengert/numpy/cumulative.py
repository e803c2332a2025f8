"""Cumulative sums and products, and differences.

A cumulative sum's reverse rule is a reversed cumulative sum; a cumulative product's rules
are exact at zeros (its masks are each member's own under vmap).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.batching import along_axis
from .._core.box import Box, any_value, peek
from .._core.define import linear, nondiff
from .._core.primitive import Primitive
from .._core.vspace import broadcast_to, eye_like, foreign_of, full_shaped, shape_of
from ..errors import NoValueError
from . import reductions as _red
from ._arraylike import accept_array_likes
from ._common import _along, _as_array, _axis, _flip_axis, _no_out, _traced, numpy_call
from .elementwise import where
from .shaping import (
    concatenate,
    expand_dims,
    moveaxis,
    ravel,
    reshape,
)

# --- cumulative sums and products -------------------------------------------------------


def _cumsum_impl(x, axis=None, dtype=None):
    return np.cumsum(x, axis=axis, dtype=dtype)


def _reverse_cumsum(g: Any, axis: int) -> Any:
    """Sums from each entry to the end along `axis`: the transpose of a cumulative sum."""
    return _flip_axis(_cumsum(_flip_axis(g, axis), axis=axis), axis)


def _cumsum_vjp(g, ans, x, axis=None, dtype=None):
    if axis is None:
        return reshape(_reverse_cumsum(g, 0), shape_of(x))
    return _reverse_cumsum(g, _axis(axis, len(shape_of(x)), "cumsum"))


_cumsum = linear(_cumsum_impl, _cumsum_vjp, "cumsum")
_cumsum.defbatch(along_axis(_cumsum, 1, flatten_none=True))


def cumsum(a: Any, axis: int | None = None, dtype: Any = None, out: Any = None) -> Any:
    """Cumulative sum along `axis` (of the flattened array for None).

    Linear: its forward rule is itself and its reverse rule sums from the end.

    >>> import wengert.numpy as wnp
    >>> wnp.cumsum(wnp.array([1.0, 2.0, 3.0]))
    array([1., 3., 6.])
    """
    _no_out(out, "cumsum")
    return _cumsum(a, axis=axis, dtype=dtype)


def _cumprod_impl(x, axis):
    return np.cumprod(x, axis=axis)


def _zero_masks_impl(x, axis):
    """Where each line along `axis` has its first zero, and where it is at or past it."""
    zero = x == 0
    count = np.cumsum(zero, axis=axis)
    return zero & (count == 1), count >= 1


# Constant masks, from each member's own values under vmap.
_zero_masks = nondiff(_zero_masks_impl, "cumprod_zero_masks")
_zero_masks.defbatch(lambda batched, x, axis: _zero_masks(x, axis + 1))


def _partials_of_others(d, x, axis, reverse: bool):
    """The reverse (or forward) rule of a cumulative product without a branch on values,
    exact at zeros: with P[j, k] the product of x_i for i <= k, i != j (O(n^2) work, for
    formulas), the cotangent of x_j is the sum over k >= j of d_k P[j, k] (the tangent of
    y_k the sum over j <= k of d_j P[j, k])."""
    xm = moveaxis(x, axis, -1)
    n = shape_of(xm)[-1]
    like = foreign_of(x)
    eye = eye_like(n, dtype=bool, like=like)
    others = _cumprod(where(eye, 1.0, expand_dims(xm, -2)), len(shape_of(xm)))
    upper = np.triu(np.ones((n, n), dtype=bool, like=like))  # [j, k]: k >= j
    weights = where(upper, others, 0.0)
    dm = moveaxis(d, axis, -1)
    if reverse:
        out = _red.sum(weights * expand_dims(dm, -2), axis=-1)
    else:
        out = _red.sum(weights * expand_dims(dm, -1), axis=-2)
    return moveaxis(out, -1, axis)


def _cumprod_vjp(g, ans, x, axis):
    """Exact at zeros: with the first zero z of a line set to one, the product splits as
    ans = c1 * m (c1 the cumulative product of the changed line, m equal to x_z from z on),
    and the rule recurses on the changed line, which has one zero fewer."""
    try:
        no_zero = not any_value(x == 0)
    except NoValueError:  # a formula (symbolic): one that holds at zeros too
        return _partials_of_others(g, x, axis, reverse=True)
    if no_zero:
        return _reverse_cumsum(g * ans, axis) / x
    first, from_first = _zero_masks(x, axis)
    x1 = where(first, 1.0, x)
    c1 = _cumprod(x1, axis)
    xz = _red.sum(where(first, x, 0.0), axis=axis, keepdims=True)
    m = where(from_first, xz, 1.0)
    return where(first, _reverse_cumsum(g * c1, axis), _cumprod_vjp(g * m, c1, x1, axis))


def _cumprod_jvp(t, ans, x, axis):
    try:
        no_zero = not any_value(x == 0)
    except NoValueError:  # a formula (symbolic): one that holds at zeros too
        return _partials_of_others(t, x, axis, reverse=False)
    if no_zero:
        return ans * _cumsum(t / x, axis=axis)
    first, from_first = _zero_masks(x, axis)
    x1 = where(first, 1.0, x)
    c1 = _cumprod(x1, axis)
    xz = _red.sum(where(first, x, 0.0), axis=axis, keepdims=True)
    tz = _red.sum(where(first, t, 0.0), axis=axis, keepdims=True)
    m = where(from_first, xz, 1.0)
    inner = _cumprod_jvp(where(first, 0.0, t), c1, x1, axis)
    return inner * m + c1 * where(from_first, tz, 0.0)


_cumprod = Primitive(_cumprod_impl, "cumprod")
_cumprod.defbatch(along_axis(_cumprod, 1, flatten_none=True))
_cumprod.defvjp(_cumprod_vjp)
_cumprod.defjvp(_cumprod_jvp)


def cumprod(a: Any, axis: int | None = None, dtype: Any = None, out: Any = None) -> Any:
    """Cumulative product along `axis` (of the flattened array for None).

    Both rules are exact where entries are zero, to every order (no division by zero).

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> wg.grad(lambda x: wnp.cumprod(x)[-1])(wnp.array([2.0, 0.0, 3.0]))
    array([0., 6., 0.])
    """
    _no_out(out, "cumprod")
    if not isinstance(a, Box):
        return np.cumprod(a, axis=axis, dtype=dtype)
    if dtype is not None:
        a = a.astype(dtype)
    if axis is None:
        return _cumprod(ravel(a), 0)
    return _cumprod(a, _axis(axis, a.ndim, "cumprod"))


def cumulative_sum(
    x: Any,
    /,
    *,
    axis: int | None = None,
    dtype: Any = None,
    out: Any = None,
    include_initial: bool = False,
) -> Any:
    """The array-API cumulative sum: `cumsum`, optionally starting with a zero.

    >>> import wengert.numpy as wnp
    >>> wnp.cumulative_sum(wnp.array([1.0, 2.0]), include_initial=True)
    array([0., 1., 3.])
    """
    return _cumulative(x, axis, dtype, out, include_initial, cumsum, 0.0, "cumulative_sum")


def cumulative_prod(
    x: Any,
    /,
    *,
    axis: int | None = None,
    dtype: Any = None,
    out: Any = None,
    include_initial: bool = False,
) -> Any:
    """The array-API cumulative product: `cumprod`, optionally starting with a one.

    >>> import wengert.numpy as wnp
    >>> wnp.cumulative_prod(wnp.array([2.0, 3.0]), include_initial=True)
    array([1., 2., 6.])
    """
    return _cumulative(x, axis, dtype, out, include_initial, cumprod, 1.0, "cumulative_prod")


def _cumulative(x, axis, dtype, out, include_initial, fun, initial, name):
    np_fun = getattr(np, name, None)
    if not isinstance(x, Box) and np_fun is not None:
        if out is None and not include_initial:  # (keywords other libraries may lack)
            return np_fun(x, axis=axis, dtype=dtype)
        return np_fun(x, axis=axis, dtype=dtype, out=out, include_initial=include_initial)
    _no_out(out, name)
    ndim = len(shape_of(x))
    if axis is None:
        if ndim > 1:
            raise ValueError(f"wengert.numpy.{name}: axis is required for arrays of ndim > 1")
        axis = 0
    if ndim == 0:
        x = reshape(x, (1,))
        ndim = 1
    axis = _axis(axis, ndim, name)
    result = fun(x, axis=axis, dtype=dtype)
    if not include_initial:
        return result
    shape = list(shape_of(result))
    shape[axis] = 1
    start = full_shaped(result, initial, tuple(shape))
    return concatenate([start, result], axis=axis)


def diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = None, append: Any = None) -> Any:
    """The n-th differences along `axis`, after joining `prepend` and `append` to `a`.

    `prepend` and `append` may be traced; None means nothing is joined (NumPy's default).

    >>> import wengert.numpy as wnp
    >>> wnp.diff(wnp.array([1.0, 4.0, 9.0]), prepend=0.0)
    array([1., 3., 5.])
    """
    if not _traced(a, prepend, append):
        kw = {k: v for k, v in (("prepend", prepend), ("append", append)) if v is not None}
        return numpy_call(np.diff, a, n=n, axis=axis, **kw)
    if n == 0:
        return a
    if n < 0:
        raise ValueError(f"wengert.numpy.diff: order must be non-negative, got n={n}")
    a = _as_array(a)
    ndim = len(shape_of(a))
    if ndim == 0:
        raise ValueError("wengert.numpy.diff requires an input of at least one dimension")
    axis = _axis(axis, ndim, "diff")

    def edge(extra):
        extra = _as_array(extra)
        if len(shape_of(extra)) == 0:
            shape = list(shape_of(a))
            shape[axis] = 1
            extra = broadcast_to(extra, tuple(shape))
        return extra

    parts = [a]
    if prepend is not None:
        parts.insert(0, edge(prepend))
    if append is not None:
        parts.append(edge(append))
    if len(parts) > 1:
        a = concatenate(parts, axis=axis)
    upper = _along(ndim, axis, slice(1, None))
    lower = _along(ndim, axis, slice(None, -1))
    for _ in range(n):
        a = a[upper] - a[lower]
    return a


def ediff1d(ary: Any, to_end: Any = None, to_begin: Any = None) -> Any:
    """Differences of the flattened array, with `to_begin` and `to_end` joined around them.

    >>> import wengert.numpy as wnp
    >>> wnp.ediff1d(wnp.array([1.0, 2.0, 4.0]), to_begin=-1.0)
    array([-1.,  1.,  2.])
    """
    if not _traced(ary, to_end, to_begin):
        return np.ediff1d(ary, to_end=to_end, to_begin=to_begin)
    ary = ravel(_as_array(ary))
    dtype = np.result_type(peek(ary))  # NumPy casts the joined values to ary's dtype
    parts = [ary[1:] - ary[:-1]]
    if to_begin is not None:
        parts.insert(0, ravel(_as_array(to_begin, dtype)))
    if to_end is not None:
        parts.append(ravel(_as_array(to_end, dtype)))
    return concatenate(parts) if len(parts) > 1 else parts[0]


__all__ = [
    "cumprod",
    "cumsum",
    "cumulative_prod",
    "cumulative_sum",
    "diff",
    "ediff1d",
]

# Generated source (Program.source) computes these primitives with their implementations,
# copied (they use NumPy alone), or with the public function that they call.
_cumsum.defsource(_cumsum_impl)
_zero_masks.defsource(_zero_masks_impl)
_cumprod.defsource(_cumprod_impl)

# Lists and tuples holding traced values are read as arrays by the public functions.
accept_array_likes(globals(), __all__)
