"""Statistics: averages, order statistics (median, quantiles), NaN-ignoring reductions,
spread, covariance and correlation.

Order statistics are one primitive: its value is NumPy's, and both rules weight each
entry by how much of the result it makes. The result is an interpolation between (at
most) two sorted entries, so it is piecewise linear in the data and its second
derivative is zero. Entries that tie with one of those sorted entries share its weight
evenly, the convention of `sort`, `max` and `min`. The rest are composites.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .._core.batching import along_axis, loop
from .._core.box import Box, all_value, any_value, getval, peek
from .._core.define import nondiff, stop_gradient
from .._core.primitive import Primitive
from .._core.vspace import (
    asarray,
    broadcast_to,
    foreign_of,
    is_lazy_array,
    lift,
    refuse_lazy,
    shape_of,
    values_list,
)
from . import reductions as _red
from ._arraylike import accept_array_likes
from ._common import _as_array, _axis, _no_out, _traced, numpy_call
from .contractions import matmul
from .cumulative import cumprod, cumsum
from .elementwise import clip, conj, imag, real, sqrt, where
from .elementwise import where as _select  # for functions whose where= is a mask
from .manipulation import diagonal
from .nondiff import isnan, logical_and, logical_not
from .shaping import array, concatenate, moveaxis, reshape, squeeze, transpose

# --- order statistics ---------------------------------------------------------------------

_ORDER_FUNCTIONS = {
    ("quantile", False): np.quantile,
    ("quantile", True): np.nanquantile,
    ("percentile", False): np.percentile,
    ("percentile", True): np.nanpercentile,
    ("median", False): np.median,
    ("median", True): np.nanmedian,
}


def _order_call(x, q, axis, keepdims, method, kind, ignore_nan):
    fun = _ORDER_FUNCTIONS[kind, ignore_nan]
    if kind == "median":
        return fun(x, axis=axis, keepdims=keepdims)
    return fun(x, q, axis=axis, keepdims=keepdims, method=method)


def _order_impl(
    x, q, axis=None, keepdims=False, method="linear", kind="quantile", ignore_nan=False
):
    out = _order_call(x, q, axis, keepdims, method, kind, ignore_nan)
    # In the data's precision: NumPy widens float32 data to float64 when q is a list.
    dtype = np.result_type(x, np.float16)
    return out if out.dtype == dtype else out.astype(dtype)


def _reduced_axes(axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    return tuple(sorted(_axis(a, ndim, "quantile") for a in axis))


def _order_weights_impl(x, q, axes, method, kind, ignore_nan):
    """The weight of each entry of `x` in each result, shaped (number of q, lines, line
    length) with the reduced `axes` of `x` moved last and flattened into one.

    The positions of the sorted entries that make each result come from the same NumPy
    function applied to 0, 1, ..., n-1, so every interpolation method is matched.
    """
    value = asarray(x)
    if is_lazy_array(value):
        refuse_lazy(kind, value, "its weights need a sort along the axes, which Dask lacks")
    like = foreign_of(value)  # (an array on a device: the weights made there too)
    moved = np.moveaxis(value, axes, tuple(range(value.ndim - len(axes), value.ndim)))
    lines = np.reshape(moved, (-1, math.prod(value.shape[a] for a in axes)))
    n = lines.shape[1]
    nq = 1 if kind == "median" else int(np.size(q))
    nan = np.isnan(lines)
    counts = n - nan.sum(axis=1) if ignore_nan else np.full(len(lines), n, like=like)
    positions = np.full((nq, len(lines)), np.nan, like=like)
    # Without NaNs to ignore every line counts n; else the counts are read (a few numbers).
    for count in values_list(np.unique(counts)) if ignore_nan else [n]:
        if count > 0:
            ranks = np.arange(count, dtype=float, like=like)
            at = np.ravel(_order_call(ranks, q, None, False, method, kind, False))
            positions = np.where(counts == count, at[:, None], positions)
    # Lines whose result is NaN: those holding a NaN, or (ignoring NaNs) only NaNs. The
    # first propagate NaN; the second have no entry that counts, so no derivative.
    undefined = np.isnan(positions) | (nan.any(axis=1) & (not ignore_nan))
    positions = np.where(undefined, 0.0, positions)
    low = np.floor(positions).astype(int)
    gamma = positions - low
    high = np.minimum(low + 1, np.maximum(counts - 1, 0))
    ordered = np.sort(lines, axis=1)  # NaNs last
    rows = np.arange(len(lines), like=like)
    weights = np.zeros((nq, *lines.shape), like=like)
    for share, rank in ((1.0 - gamma, low), (gamma, high)):
        hit = lines[None] == ordered[rows, rank][..., None]
        with np.errstate(invalid="ignore", divide="ignore"):
            weights += share[..., None] * hit / hit.sum(axis=-1, keepdims=True)
    weights[undefined] = 0.0 if ignore_nan else np.nan
    # In the real precision of x, so that float32 derivatives stay float32.
    return weights.astype(np.finfo(np.result_type(value, np.float16)).dtype)


# A function of the values without derivative (the weights are piecewise constant):
# every trace sees one member's plain values, so it is computed per member under vmap.
_quantile_weights = nondiff(_order_weights_impl, "quantile_weights")


def _quantile_weights_batch(batched, x, q, axes, method, kind, ignore_nan):
    """The weights of a batch of `x` at once: the batch axis is one more line axis, in
    front, so the lines of one call are those of each member in turn."""
    if any(batched[1:]):
        return _weights_loop(batched, x, q, axes, method, kind, ignore_nan)
    size = shape_of(x)[0]
    weights = _quantile_weights(x, q, tuple(a + 1 for a in axes), method, kind, ignore_nan)
    nq, _, n = shape_of(weights)
    return transpose(reshape(weights, (nq, size, -1, n)), (1, 0, 2, 3))


_weights_loop = loop(_quantile_weights)
_quantile_weights.defbatch(_quantile_weights_batch)


def _order_weights(x, q, kw):
    """The weights of the order statistic called with `q` and keywords `kw` on `x`, and
    the reduced axes of `x` (one member's, under vmap)."""
    axes = _reduced_axes(kw.get("axis"), len(shape_of(x)))
    # Plain values (a first-order pass) skip the search for traced values in q and axes.
    traced = isinstance(x, Box) or isinstance(q, Box)
    weights = (_quantile_weights if traced else _order_weights_impl)(
        x,
        q,
        axes,
        kw.get("method", "linear"),
        kw.get("kind", "quantile"),
        kw.get("ignore_nan", False),
    )
    return weights, axes


def _as_lines(t, axes):
    ndim = len(shape_of(t))
    moved = moveaxis(t, axes, tuple(range(ndim - len(axes), ndim)))
    return reshape(moved, (-1, int(np.prod([shape_of(t)[a] for a in axes], dtype=int))))


def _order_jvp(t, ans, x, q, **kw):
    weights, axes = _order_weights(x, q, kw)
    return reshape(_red.sum(_as_lines(t, axes) * weights, axis=-1), shape_of(ans))


def _order_vjp(g, ans, x, q, **kw):
    weights, axes = _order_weights(x, q, kw)
    nq, n_lines, _ = shape_of(weights)
    lines = _red.sum(reshape(g, (nq, n_lines, 1)) * weights, axis=0)
    shape = shape_of(x)
    ndim = len(shape)
    moved_shape = tuple(shape[i] for i in range(ndim) if i not in axes) + tuple(
        shape[a] for a in axes
    )
    return moveaxis(reshape(lines, moved_shape), tuple(range(ndim - len(axes), ndim)), axes)


def _order_batch(batched, x, q, axis=None, keepdims=False, **kw):
    """The order statistics of a batch of data at once: each member's reduced axes moved
    last and flattened into one, and the axes of q (which NumPy puts first) moved behind
    the batch axis. A batch of q, or of 0-d data, is mapped member by member."""
    size, *shape = shape_of(x)
    if batched[1] or not shape:
        return _order_loop(batched, x, q, axis=axis, keepdims=keepdims, **kw)
    axes = _reduced_axes(axis, len(shape))
    kept = [n for i, n in enumerate(shape) if i not in axes]
    moved = moveaxis(x, tuple(a + 1 for a in axes), tuple(range(len(kept) + 1, len(shape) + 1)))
    lines = reshape(moved, (size, *kept, math.prod(shape[a] for a in axes)))
    out = _order_statistic(lines, q, axis=len(kept) + 1, **kw)
    q_shape = shape_of(out)[: len(shape_of(out)) - len(kept) - 1]
    if keepdims:
        reduced = tuple(1 if i in axes else n for i, n in enumerate(shape))
        out = reshape(out, (*q_shape, size, *reduced))
    return moveaxis(out, len(q_shape), 0) if q_shape else out


_order_statistic = Primitive(_order_impl, "quantile")
_order_statistic.defvjp(_order_vjp)
_order_statistic.defjvp(_order_jvp)
_order_loop = loop(_order_statistic)
_order_statistic.defbatch(_order_batch)


def _order(a, q, axis, out, keepdims, method, kind, ignore_nan, name):
    _no_out(out, name)
    if _traced(q):
        # No derivative in q; a batch of q (under vmap) stays a batch.
        q = stop_gradient(_as_array(q))
    return _order_statistic(
        _as_array(a),
        q,
        axis=axis,
        keepdims=keepdims,
        method=method,
        kind=kind,
        ignore_nan=ignore_nan,
    )


def _quantile_like(np_fun, a, q, axis, out, overwrite, method, keepdims, weights, kind, nan):
    """The body shared by quantile, percentile and their NaN-ignoring forms."""
    name = np_fun.__name__
    if not isinstance(a, Box) and not _traced(q):
        extra = {} if weights is None else {"weights": weights}
        return np_fun(
            a,
            q,
            axis=axis,
            out=out,
            overwrite_input=overwrite,
            method=method,
            keepdims=keepdims,
            **extra,
        )
    if weights is not None:
        raise TypeError(f"wengert.numpy.{name}: weights= is not supported for traced arrays")
    return _order(a, q, axis, out, keepdims, method, kind, nan, name)


def quantile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: bool = False,
    *,
    weights: Any = None,
) -> Any:
    """The q-th quantiles along `axis`, differentiable in the data (not in `q`).

    Every NumPy method works; the default interpolates linearly between neighbouring
    sorted entries. Tied entries share the derivative evenly, as in `sort`.

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> wg.grad(lambda x: wnp.quantile(x, 0.25))(wnp.array([4.0, 1.0, 3.0]))
    array([0. , 0.5, 0.5])
    """
    return _quantile_like(
        np.quantile, a, q, axis, out, overwrite_input, method, keepdims, weights, "quantile", False
    )


def percentile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: bool = False,
    *,
    weights: Any = None,
) -> Any:
    """The q-th percentiles along `axis` (`quantile` with q in percent).

    >>> import wengert.numpy as wnp
    >>> wnp.percentile(wnp.array([1.0, 2.0, 3.0]), 50)
    2.0
    """
    return _quantile_like(
        np.percentile,
        a,
        q,
        axis,
        out,
        overwrite_input,
        method,
        keepdims,
        weights,
        "percentile",
        False,
    )


def median(
    a: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    keepdims: bool = False,
) -> Any:
    """The median along `axis`: the middle sorted entry, or the mean of the two middle ones.

    Entries tied with a middle one share its derivative evenly, as in `sort`.

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> wg.grad(wnp.median)(wnp.array([5.0, 2.0, 2.0, 1.0]))
    array([0. , 0.5, 0.5, 0. ])
    """
    if not isinstance(a, Box):
        return numpy_call(
            np.median, a, axis=axis, out=out, overwrite_input=overwrite_input, keepdims=keepdims
        )
    return _order(a, None, axis, out, keepdims, "linear", "median", False, "median")


def nanquantile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: bool = False,
    *,
    weights: Any = None,
) -> Any:
    """`quantile` ignoring NaNs (NaN entries get a zero derivative).

    >>> import wengert.numpy as wnp
    >>> wnp.nanquantile(wnp.array([1.0, wnp.nan, 3.0]), 0.5)
    2.0
    """
    return _quantile_like(
        np.nanquantile,
        a,
        q,
        axis,
        out,
        overwrite_input,
        method,
        keepdims,
        weights,
        "quantile",
        True,
    )


def nanpercentile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: bool = False,
    *,
    weights: Any = None,
) -> Any:
    """`percentile` ignoring NaNs.

    >>> import wengert.numpy as wnp
    >>> wnp.nanpercentile(wnp.array([1.0, wnp.nan, 3.0]), 100)
    3.0
    """
    return _quantile_like(
        np.nanpercentile,
        a,
        q,
        axis,
        out,
        overwrite_input,
        method,
        keepdims,
        weights,
        "percentile",
        True,
    )


def nanmedian(
    a: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    keepdims: bool = False,
) -> Any:
    """`median` ignoring NaNs.

    >>> import wengert.numpy as wnp
    >>> wnp.nanmedian(wnp.array([1.0, wnp.nan, 3.0, 4.0]))
    3.0
    """
    if not isinstance(a, Box):
        return np.nanmedian(
            a, axis=axis, out=out, overwrite_input=overwrite_input, keepdims=keepdims
        )
    return _order(a, None, axis, out, keepdims, "linear", "median", True, "nanmedian")


# --- averages and spread ------------------------------------------------------------------


def average(
    a: Any,
    axis: Any = None,
    weights: Any = None,
    returned: bool = False,
    *,
    keepdims: bool = False,
) -> Any:
    """The mean along `axis`, weighted by `weights` (differentiable in both).

    With ``returned=True`` also the sum of the weights, broadcast like the average.

    >>> import wengert.numpy as wnp
    >>> wnp.average(wnp.array([1.0, 3.0]), weights=wnp.array([3.0, 1.0]))
    1.5
    """
    if not _traced(a, weights):
        return numpy_call(
            np.average, a, axis=axis, weights=weights, returned=returned, keepdims=keepdims
        )
    a = _as_array(a)
    shape = shape_of(a)
    if axis is not None:
        axis = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
        axis = tuple(_axis(ax, len(shape), "average") for ax in axis)
    if weights is None:
        avg = _red.mean(a, axis=axis, keepdims=keepdims)
        scale = np.result_type(peek(avg)).type(math.prod(shape) / max(math.prod(shape_of(avg)), 1))
    else:
        w = _as_array(weights, like=a)
        if shape_of(w) != shape:
            if axis is None:
                raise TypeError(
                    "wengert.numpy.average: axis must be specified when shapes of a and "
                    "weights differ."
                )
            if shape_of(w) != tuple(shape[ax] for ax in axis):
                raise ValueError(
                    "wengert.numpy.average: shape of weights must be consistent with shape "
                    "of a along specified axis."
                )
            w = transpose(w, tuple(np.argsort(axis)))
            w = reshape(w, tuple(n if i in axis else 1 for i, n in enumerate(shape)))
        scale = _red.sum(w, axis=axis, keepdims=keepdims)
        # Raised if any member of a batch (under vmap) has weights summing to zero, as a
        # loop over the members would.
        if any_value(scale == 0.0, undecided=False):
            raise ZeroDivisionError(
                "wengert.numpy.average: weights sum to zero, can't be normalized"
            )
        avg = _red.sum(a * w, axis=axis, keepdims=keepdims) / scale
    if not returned:
        return avg
    if shape_of(scale) != shape_of(avg):
        scale = broadcast_to(lift(scale, avg), shape_of(avg))
    return avg, scale


def ptp(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    """Range (maximum minus minimum) along `axis`; ties share as in `max` and `min`.

    >>> import wengert.numpy as wnp
    >>> wnp.ptp(wnp.array([2.0, 5.0, 1.0]))
    4.0
    """
    if not isinstance(a, Box):
        return np.ptp(a, axis=axis, out=out, keepdims=keepdims)
    _no_out(out, "ptp")
    return _red.max(a, axis=axis, keepdims=keepdims) - _red.min(a, axis=axis, keepdims=keepdims)


# --- reductions ignoring NaNs -------------------------------------------------------------
# NaN entries are replaced by constants, so they get no derivative; each function takes
# NumPy's arguments (where=, initial=, mean=, correction=) and, untraced, is NumPy's own.


def _nan_filled(a, fill):
    """`a` with NaNs replaced by `fill` (a constant, so NaN entries get no derivative),
    and the mask of the NaNs (a batch of masks under vmap)."""
    mask = isnan(a)
    # Without a NaN anywhere (in any member of a batch) the replacement changes nothing.
    return (where(mask, fill, a) if any_value(mask, undecided=True) else a), mask


def _kept(mask, where):
    """The entries that count: not NaN, and selected by `where`."""
    keep = logical_not(mask)
    return keep if where is True else logical_and(keep, where)


def _count_impl(keep, axis, keepdims):
    return np.sum(keep, axis=axis, keepdims=keepdims)


# The number of entries that count along `axis` (no derivative); a batch of masks is
# counted along each member's axes, one further along.
_count = nondiff(_count_impl, "count_kept")
_count.defbatch(along_axis(_count, 1))


def _divide_counted(total, count, bad, fill=np.nan):
    """`total` / `count`, with `fill` (and no derivative) where `bad`."""
    dtype = np.result_type(peek(total))
    real_dtype = np.empty(0, dtype).real.dtype
    if not any_value(bad, undecided=True):  # no bad entry in any member of a batch
        return total / _as_array(count).astype(real_dtype)
    safe = where(bad, 1, count).astype(real_dtype)
    return where(bad, fill, total / safe)


def nansum(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    keepdims: bool = False,
    initial: Any = None,
    where: Any = True,
) -> Any:
    """Sum along `axis` treating NaNs as zero.

    >>> import wengert.numpy as wnp
    >>> wnp.nansum(wnp.array([1.0, wnp.nan, 2.0]))
    3.0
    """
    if not _traced(a, initial):
        extra = _red.given(initial=initial, where=where)
        return numpy_call(np.nansum, a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **extra)
    _no_out(out, "nansum")
    filled = _nan_filled(_as_array(a), 0.0)[0]
    return _red.sum(filled, axis, dtype, keepdims=keepdims, initial=initial, where=where)


def nanprod(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    keepdims: bool = False,
    initial: Any = None,
    where: Any = True,
) -> Any:
    """Product along `axis` treating NaNs as one.

    >>> import wengert.numpy as wnp
    >>> wnp.nanprod(wnp.array([2.0, wnp.nan, 3.0]))
    6.0
    """
    if not _traced(a, initial):
        extra = _red.given(initial=initial, where=where)
        return numpy_call(
            np.nanprod, a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **extra
        )
    _no_out(out, "nanprod")
    filled = _nan_filled(_as_array(a), 1.0)[0]
    return _red.prod(filled, axis, dtype, keepdims=keepdims, initial=initial, where=where)


def nancumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """Cumulative sum treating NaNs as zero.

    >>> import wengert.numpy as wnp
    >>> wnp.nancumsum(wnp.array([1.0, wnp.nan, 2.0]))
    array([1., 1., 3.])
    """
    if not isinstance(a, Box):
        return np.nancumsum(a, axis=axis, dtype=dtype, out=out)
    return cumsum(_nan_filled(a, 0.0)[0], axis=axis, dtype=dtype, out=out)


def nancumprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """Cumulative product treating NaNs as one.

    >>> import wengert.numpy as wnp
    >>> wnp.nancumprod(wnp.array([2.0, wnp.nan, 3.0]))
    array([2., 2., 6.])
    """
    if not isinstance(a, Box):
        return np.nancumprod(a, axis=axis, dtype=dtype, out=out)
    return cumprod(_nan_filled(a, 1.0)[0], axis=axis, dtype=dtype, out=out)


def nanmean(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    keepdims: bool = False,
    *,
    where: Any = True,
) -> Any:
    """Mean along `axis` of the entries that are not NaN (NaN, with no derivative, where
    there are none).

    >>> import wengert.numpy as wnp
    >>> wnp.nanmean(wnp.array([1.0, wnp.nan, 2.0]))
    1.5
    """
    if not isinstance(a, Box):
        extra = _red.given(where=where)
        return np.nanmean(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **extra)
    _no_out(out, "nanmean")
    filled, mask = _nan_filled(a, 0.0)
    count = _count(_kept(mask, where), axis, keepdims)
    total = _red.sum(filled, axis, dtype, keepdims=keepdims, where=where)
    empty = count == 0
    if any_value(empty, undecided=False):
        warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=2)
    return _divide_counted(total, count, empty)


def nanvar(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: float = 0,
    keepdims: bool = False,
    *,
    where: Any = True,
    mean: Any = None,
    correction: Any = None,
) -> Any:
    """Variance along `axis` of the entries that are not NaN, divided by count - ddof (NaN,
    with no derivative, where that is not positive).

    >>> import wengert.numpy as wnp
    >>> wnp.nanvar(wnp.array([1.0, wnp.nan, 3.0]))
    1.0
    """
    if not _traced(a, mean):
        extra = _red.given(where=where, mean=mean, correction=correction)
        return numpy_call(
            np.nanvar, a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **extra
        )
    _no_out(out, "nanvar")
    if correction is not None:
        if ddof != 0:
            raise ValueError("wengert.numpy.nanvar: ddof and correction can't both be given.")
        ddof = correction
    a = _as_array(a)
    filled, mask = _nan_filled(a, 0.0)
    keep = _kept(mask, where)
    if mean is None:
        count = _count(keep, axis, True)
        total = _red.sum(filled, axis, dtype, keepdims=True, where=where)
        mean = _divide_counted(total, count, count == 0)
    centred = filled - mean
    if not all_value(
        keep, undecided=False
    ):  # NaN entries (and entries masked out) add no deviation
        centred = _select(keep, centred, 0.0)
    if np.iscomplexobj(peek(centred)):
        squares = real(centred * conj(centred))
    else:
        squares = centred * centred
    total = _red.sum(squares, axis, dtype, keepdims=keepdims, where=where)
    dof = _count(keep, axis, keepdims) - ddof
    bad = dof <= 0
    if any_value(bad, undecided=False):
        warnings.warn("Degrees of freedom <= 0 for slice.", RuntimeWarning, stacklevel=2)
    return _divide_counted(total, dof, bad)


def nanstd(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: float = 0,
    keepdims: bool = False,
    *,
    where: Any = True,
    mean: Any = None,
    correction: Any = None,
) -> Any:
    """Standard deviation along `axis` of the entries that are not NaN (the square root of
    `nanvar`; where it is zero the derivative is taken as 0, as in `std`).

    >>> import wengert.numpy as wnp
    >>> wnp.nanstd(wnp.array([1.0, wnp.nan, 3.0]))
    1.0
    """
    if not _traced(a, mean):
        extra = _red.given(where=where, mean=mean, correction=correction)
        return numpy_call(
            np.nanstd, a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **extra
        )
    _no_out(out, "nanstd")
    variance = nanvar(
        a,
        axis=axis,
        dtype=dtype,
        ddof=ddof,
        keepdims=keepdims,
        where=where,
        mean=mean,
        correction=correction,
    )
    return _red._sqrt_flat_at_zero(variance)


# Maximum and minimum ignoring NaNs are primitives: see reductions.
nanmax = _red.nanmax
nanmin = _red.nanmin


# --- covariance and correlation -----------------------------------------------------------


def cov(
    m: Any,
    y: Any = None,
    rowvar: bool = True,
    bias: bool = False,
    ddof: int | None = None,
    fweights: Any = None,
    aweights: Any = None,
    *,
    dtype: Any = None,
) -> Any:
    """Covariance matrix of the variables in the rows of `m` (columns if not `rowvar`),
    differentiable in the data and in `aweights`.

    >>> import wengert.numpy as wnp
    >>> wnp.cov(wnp.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
    array([[ 1., -1.],
           [-1.,  1.]])
    """
    if not _traced(m, y, fweights, aweights):
        return numpy_call(np.cov, m, y, rowvar, bias, ddof, fweights, aweights, dtype=dtype)
    if ddof is not None and ddof != int(ddof):
        raise ValueError("wengert.numpy.cov: ddof must be integer")
    x = array(_as_array(m), ndmin=2)
    if not rowvar and shape_of(x)[0] != 1:
        x = transpose(x)
    if shape_of(x)[0] == 0:
        return np.zeros((0, 0), like=foreign_of(x))
    if y is not None:
        y = array(_as_array(y), ndmin=2)
        if not rowvar and shape_of(y)[0] != 1:
            y = transpose(y)
        x = concatenate([x, y], axis=0)
    if dtype is not None:
        x = x.astype(dtype)
    if ddof is None:
        ddof = 0 if bias else 1
    w = None
    # The checks of the weights see every member of a batch (under vmap), and refuse
    # the whole batch if one member's weights are bad, as a loop over the members would.
    if fweights is not None:
        fw = _as_array(fweights, like=x)
        value = asarray(getval(fw))
        if not np.all(value == np.around(value)) or np.any(value < 0):
            raise ValueError("wengert.numpy.cov: fweights must be non-negative integers")
        # Frequencies are counts: no derivative in them.
        w = stop_gradient(fw).astype(np.finfo(np.result_type(peek(x), 1.0)).dtype)
    if aweights is not None:
        aw = _as_array(aweights, like=x)
        if any_value(aw < 0, undecided=False):
            raise ValueError("wengert.numpy.cov: aweights cannot be negative")
        w = aw if w is None else w * aw
    avg, w_sum = average(x, axis=1, weights=w, returned=True)
    w_sum = w_sum[0]
    if w is None:
        fact = shape_of(x)[1] - ddof
    elif ddof == 0:
        fact = w_sum
    elif aweights is None:
        fact = w_sum - ddof
    else:
        fact = w_sum - ddof * _red.sum(w * aw) / w_sum
    if isinstance(fact, Box):
        fact = where(fact <= 0, 0.0, fact)  # without a derivative there
    elif fact <= 0:
        fact = 0.0
    x = x - reshape(avg, (-1, 1))
    x_t = transpose(x) if w is None else transpose(x * w)
    if np.iscomplexobj(peek(x_t)):
        x_t = conj(x_t)
    with np.errstate(invalid="ignore", divide="ignore"):
        return squeeze(matmul(x, x_t) * (1.0 / fact))


def corrcoef(x: Any, y: Any = None, rowvar: bool = True, *, dtype: Any = None) -> Any:
    """Correlation coefficients: `cov` scaled by the standard deviations, clipped to
    [-1, 1] as NumPy does (so an entry at exactly +-1 has its derivative halved, as in
    `clip`; the diagonal is constant and its derivative is zero up to rounding).

    >>> import wengert.numpy as wnp
    >>> wnp.corrcoef(wnp.array([0.0, 1.0, 2.0]), wnp.array([1.0, 3.0, 2.0]))
    array([[1. , 0.5],
           [0.5, 1. ]])
    """
    if not _traced(x, y):
        return numpy_call(np.corrcoef, x, y, rowvar, dtype=dtype)
    c = cov(x, y, rowvar, dtype=dtype)
    if len(shape_of(c)) == 0:
        return c / c
    d = diagonal(c)
    stddev = sqrt(real(d))
    c = c / reshape(stddev, (-1, 1))
    c = c / reshape(stddev, (1, -1))
    if np.iscomplexobj(peek(c)):
        return clip(real(c), -1, 1) + 1j * clip(imag(c), -1, 1)
    return clip(c, -1, 1)


__all__ = [
    "average",
    "corrcoef",
    "cov",
    "median",
    "nancumprod",
    "nancumsum",
    "nanmax",
    "nanmean",
    "nanmedian",
    "nanmin",
    "nanpercentile",
    "nanprod",
    "nanquantile",
    "nanstd",
    "nansum",
    "nanvar",
    "percentile",
    "ptp",
    "quantile",
]

# Generated source (Program.source) computes these primitives with their implementations,
# copied (they use NumPy alone), or with the public function that they call.
_quantile_weights.defsource(_order_weights_impl)
_order_statistic.defsource(_order_impl)
_count.defsource(_count_impl)

# Lists and tuples holding traced values are read as arrays by the public functions.
accept_array_likes(globals(), __all__)
