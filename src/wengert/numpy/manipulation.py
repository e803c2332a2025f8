"""Array manipulation: cumulative sums and products, sorting, selection, padding,
rearranging, splitting and building arrays.

Most functions are composites of primitives that move entries around (indexing,
concatenation, reshaping), so both derivative rules follow from theirs. Cumulative sums
and products, sorting and splitting are primitives of their own: a cumulative sum's
reverse rule is a reversed cumulative sum, a cumulative product's rules are exact at
zeros, sorting shares the derivative evenly among tied entries, and a split's reverse
rule is one concatenation instead of a scatter per piece.

Index arguments (indices, shifts, pad widths, split points, conditions) carry no
derivative. Without traced arguments every function here is NumPy's own.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._core.batching import along_axis, spread
from .._core.box import Box, getval
from .._core.define import linear, nondiff, stop_gradient
from .._core.primitive import Primitive
from .._core.vspace import broadcast_to, shape_of
from ..errors import InPlaceWriteError
from . import reductions as _red
from .contractions import tensordot
from .elementwise import nonzero, where
from .indexing import index_update, take_index
from .nondiff import logical_not, logical_or
from .shaping import (
    array,
    atleast_3d,
    concatenate,
    moveaxis,
    ravel,
    reshape,
    squeeze,
    stack,
    transpose,
    vstack,
)

# --- helpers ------------------------------------------------------------------------------

_AxisError = getattr(getattr(np, "exceptions", np), "AxisError", ValueError)


def _traced(*values: Any) -> bool:
    """Whether any value, or any entry of a list or tuple among them, is traced."""
    for value in values:
        if isinstance(value, Box):
            return True
        if isinstance(value, (list, tuple)) and _traced(*value):
            return True
    return False


def _as_array(value: Any, dtype: Any = None) -> Any:
    """A traced value as it is, a list holding traced values stacked, else a NumPy array
    (of `dtype` if given: a constant that NumPy casts to another value's dtype)."""
    if isinstance(value, Box):
        return value
    if isinstance(value, (list, tuple)) and _traced(*value):
        return array(value)
    return np.asarray(value, dtype=dtype)


def _real_dtype(x: Any) -> np.dtype:
    """The real floating dtype matching `x` (float32 for float32 and complex64)."""
    return np.finfo(np.result_type(getval(x), np.float16)).dtype


def _axis(axis: int, ndim: int, name: str) -> int:
    """`axis` as a non-negative index, or NumPy's AxisError naming the function."""
    axis = operator.index(axis)
    if not -ndim <= axis < ndim:
        raise _AxisError(axis, ndim, f"wengert.numpy.{name}")
    return axis % ndim


def _constant(value: Any, what: str, name: str) -> Any:
    """An argument that fixes the shape of the result (repeats, split points, positions,
    pad widths): traced values give their value (no derivative flows through it), but a
    batch of them under vmap would give each member a result of its own shape."""
    if isinstance(value, (list, tuple)) and _traced(*value):
        return type(value)(_constant(v, what, name) for v in value)
    if not isinstance(value, Box):
        return value
    value = stop_gradient(value)
    if isinstance(value, Box):
        raise ValueError(
            f"wengert.numpy.{name}: {what} computed from the values that vmap maps over "
            "would give each member a result of another shape, which vmap cannot stack; "
            "pass it as a constant."
        )
    return value


def _index_array(value: Any) -> Any:
    """Integer indices as an array, or as they are where vmap maps over them (a batch of
    indices, without derivative)."""
    if isinstance(value, Box) or (isinstance(value, (list, tuple)) and _traced(*value)):
        value = stop_gradient(_as_array(value))
        if isinstance(value, Box):
            return value
    return np.asarray(value)


def _no_out(out: Any, name: str) -> None:
    if out is not None:
        raise InPlaceWriteError(
            f"wengert.numpy.{name}(..., out=...) writes in place into an array, which "
            "cannot be differentiated; drop out= and use the result."
        )


def _along(ndim: int, axis: int, index: Any) -> tuple:
    """An index tuple that applies `index` along `axis` and takes everything else."""
    return (slice(None),) * axis + (index,) + (slice(None),) * (ndim - axis - 1)


def _flip_axis(x: Any, axis: int) -> Any:
    return x[_along(len(shape_of(x)), axis, slice(None, None, -1))]


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


def _cumprod_vjp(g, ans, x, axis):
    """Exact at zeros: with the first zero z of a line set to one, the product splits as
    ans = c1 * m (c1 the cumulative product of the changed line, m equal to x_z from z on),
    and the rule recurses on the changed line, which has one zero fewer."""
    if not np.any(getval(x) == 0):
        return _reverse_cumsum(g * ans, axis) / x
    first, from_first = _zero_masks(x, axis)
    x1 = where(first, 1.0, x)
    c1 = _cumprod(x1, axis)
    xz = _red.sum(where(first, x, 0.0), axis=axis, keepdims=True)
    m = where(from_first, xz, 1.0)
    return where(first, _reverse_cumsum(g * c1, axis), _cumprod_vjp(g * m, c1, x1, axis))


def _cumprod_jvp(t, ans, x, axis):
    if not np.any(getval(x) == 0):
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
    start = np.full(shape, initial, dtype=getval(result).dtype)
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
        return np.diff(a, n=n, axis=axis, **kw)
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
    dtype = np.result_type(getval(ary))  # NumPy casts the joined values to ary's dtype
    parts = [ary[1:] - ary[:-1]]
    if to_begin is not None:
        parts.insert(0, ravel(_as_array(to_begin, dtype)))
    if to_end is not None:
        parts.append(ravel(_as_array(to_end, dtype)))
    return concatenate(parts) if len(parts) > 1 else parts[0]


# --- sorting ------------------------------------------------------------------------------


def _value_groups(values: np.ndarray, axis: int) -> np.ndarray | None:
    """A group number for each entry, shared by equal entries of the same line along
    `axis`; None if no line has two equal entries."""
    moved = np.moveaxis(values, axis, -1)
    n = moved.shape[-1]
    if n < 2:
        return None
    flat = moved.reshape(-1, n)
    order = np.argsort(flat, axis=1, kind="stable")
    ordered = np.take_along_axis(flat, order, 1)
    starts = np.ones(flat.shape, dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    if starts.all():
        return None
    groups = np.empty(flat.shape, dtype=np.intp)
    np.put_along_axis(groups, order, (np.cumsum(starts.ravel()) - 1).reshape(flat.shape), 1)
    return np.moveaxis(groups.reshape(moved.shape), -1, axis)


def _tie_average_impl(v, groups):
    """Each entry replaced by the mean of the entries of its group."""
    v = np.asarray(v)
    ids = groups.ravel()
    counts = np.bincount(ids)
    if np.iscomplexobj(v):
        sums = np.bincount(ids, weights=v.real.ravel()) + 1j * np.bincount(
            ids, weights=v.imag.ravel()
        )
    else:
        sums = np.bincount(ids, weights=v.ravel())
    return (sums / counts)[groups].astype(v.dtype, copy=False)


# Averaging over groups is symmetric: the map is its own transpose.
_tie_average = linear(
    _tie_average_impl, lambda g, ans, v, groups: _tie_average(g, groups), "tie_average"
)


def _tie_average_batch(batched, v, groups):
    """Each member's groups renumbered apart, then one average over all of them."""
    size = shape_of(v if batched[0] else groups)[0]
    if not batched[0]:
        v = broadcast_to(v, (size, *shape_of(v)))
    count = int(np.max(getval(groups), initial=-1)) + 1
    ndim = len(shape_of(groups)) - batched[1]
    offsets = (np.arange(size) * count).reshape((size,) + (1,) * ndim)
    return _tie_average(v, groups + offsets)


_tie_average.defbatch(_tie_average_batch)


def _source_impl(x, ans, axis):
    """For each entry of the rearranged `ans`, the index along `axis` of an entry of `x`
    with the same value, and the inverse of that permutation."""
    from_x = np.argsort(x, axis=axis, kind="stable")
    from_ans = np.argsort(ans, axis=axis, kind="stable")
    source = np.empty_like(from_x)
    np.put_along_axis(source, from_ans, from_x, axis)
    inverse = np.empty_like(from_x)
    np.put_along_axis(inverse, from_x, from_ans, axis)
    return source, inverse


def _groups_impl(values, axis):
    """`_value_groups`, with each entry a group of its own where nothing ties."""
    groups = _value_groups(values, axis)
    if groups is None:
        return np.arange(np.size(values)).reshape(np.shape(values))
    return groups


# Permutations and tie groups are constants, from each member's own values under vmap
# (tie groups are then numbered across the whole batch, which _tie_average allows).
_source = nondiff(_source_impl, "rearrangement_source")
_groups = nondiff(_groups_impl, "tie_groups")
_groups.defbatch(lambda batched, values, axis: _groups(values, axis + 1))


def _source_batch(batched, x, ans, axis):
    size = shape_of(x if batched[0] else ans)[0]
    return _source(*spread((x, ans), batched, size), axis + 1)


_source.defbatch(_source_batch)


def _tie_groups(ans, axis):
    """The tie groups of `ans` along `axis`, or None where no line has two equal values
    (in no member of a batch: the test is made on all of them at once)."""
    value = getval(ans)
    lead = np.ndim(value) - len(shape_of(ans))  # batch axes in front
    groups = _value_groups(value, axis + lead)
    if groups is None or not lead:
        return groups
    return _groups(ans, axis)


def _rearranged_vjp(g, ans, x, axis, **kw):
    groups = _tie_groups(ans, axis)
    if groups is not None:
        g = _tie_average(g, groups)
    return take_along_axis(g, _source(x, ans, axis)[1], axis)


def _rearranged_jvp(t, ans, x, axis, **kw):
    t = take_along_axis(t, _source(x, ans, axis)[0], axis)
    groups = _tie_groups(ans, axis)
    return t if groups is None else _tie_average(t, groups)


def _sort_impl(x, axis):
    return np.sort(x, axis=axis)


def _partition_impl(x, axis, kth):
    return np.partition(x, kth, axis=axis)


# Sorting and partitioning rearrange the entries of each line; both rules move
# derivatives along with the values, sharing them evenly among equal values.
_sort = Primitive(_sort_impl, "sort")
_sort.defbatch(along_axis(_sort, 1))
_sort.defvjp(_rearranged_vjp)
_sort.defjvp(_rearranged_jvp)
_partition = Primitive(_partition_impl, "partition")
_partition.defbatch(along_axis(_partition, 1))
_partition.defvjp(_rearranged_vjp)
_partition.defjvp(_rearranged_jvp)


def sort(
    a: Any,
    axis: int | None = -1,
    kind: str | None = None,
    order: Any = None,
    *,
    stable: bool | None = None,
) -> Any:
    """The entries sorted along `axis` (of the flattened array for None).

    Sorting permutes entries, so the derivative of each sorted entry is that of the entry
    moved there. Entries that tie share it evenly: every sorted position holding a tied
    value gets the mean of the tied entries' derivatives. This is the convention of `max`
    and `min` (so ``sort(x)[-1]`` and ``max(x)`` agree) and makes `median` and `quantile`
    symmetric in tied entries.

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> wg.grad(lambda x: wnp.sort(x)[0])(wnp.array([3.0, 1.0, 1.0]))
    array([0. , 0.5, 0.5])
    """
    if not isinstance(a, Box):
        extra = {} if stable is None else {"stable": stable}
        return np.sort(a, axis=axis, kind=kind, order=order, **extra)
    if order is not None:
        raise TypeError("wengert.numpy.sort: order= (structured arrays) cannot be traced")
    if axis is None:
        return _sort(ravel(a), 0)
    return _sort(a, _axis(axis, a.ndim, "sort"))


def partition(
    a: Any, kth: Any, axis: int | None = -1, kind: str = "introselect", order: Any = None
) -> Any:
    """The entries rearranged along `axis` so that the k-th is where sorting would put
    it, smaller ones before and larger ones after (flattened for None).

    Derivatives move with the values; entries with equal values share them evenly, as in
    `sort`.

    >>> import wengert.numpy as wnp
    >>> wnp.partition(wnp.array([3.0, 1.0, 2.0]), 1)[1]
    2.0
    """
    if not isinstance(a, Box):
        return np.partition(a, getval(kth), axis=axis, kind=kind, order=order)
    if order is not None:
        raise TypeError("wengert.numpy.partition: order= (structured arrays) cannot be traced")
    kth = _constant(kth, "kth", "partition")
    kth = tuple(int(k) for k in kth) if np.ndim(kth) else int(kth)
    if axis is None:
        return _partition(ravel(a), 0, kth=kth)
    return _partition(a, _axis(axis, a.ndim, "partition"), kth=kth)


# --- selection ----------------------------------------------------------------------------


def take(a: Any, indices: Any, axis: int | None = None, out: Any = None, mode: str = "raise"):
    """Entries at `indices` along `axis` (of the flattened array for None).

    Differentiable in `a`; repeated indices add their cotangents.

    >>> import wengert.numpy as wnp
    >>> wnp.take(wnp.array([[1.0, 2.0], [3.0, 4.0]]), [1, 1, 0], axis=1)
    array([[2., 2., 1.],
           [4., 4., 3.]])
    """
    idx = _index_array(indices)
    if not isinstance(a, Box) and not isinstance(idx, Box):
        return np.take(a, idx, axis=axis, out=out, mode=mode)
    _no_out(out, "take")
    a = _as_array(a)
    if axis is None:
        a, axis = ravel(a), 0
    ndim = len(shape_of(a))
    axis = _axis(axis, ndim, "take")
    n = shape_of(a)[axis]
    if mode == "wrap":
        idx = _wrap(idx, n)
    elif mode == "clip":
        idx = _clip(idx, 0, n - 1)
    elif mode != "raise":
        raise ValueError(
            f"wengert.numpy.take: mode must be 'raise', 'wrap' or 'clip', not {mode!r}"
        )
    return take_index(a, _along(ndim, axis, idx))


# Index arithmetic, member by member under vmap.
_wrap = nondiff(np.mod)
_clip = nondiff(np.clip, "clip_index", elementwise=True)


def take_along_axis(arr: Any, indices: Any, axis: int | None = -1) -> Any:
    """Entries picked by `indices` along `axis`, matched in the other axes (as after
    `argsort`).

    >>> import wengert.numpy as wnp
    >>> x = wnp.array([[3.0, 1.0], [0.0, 2.0]])
    >>> wnp.take_along_axis(x, wnp.argsort(x, axis=1), axis=1)
    array([[1., 3.],
           [0., 2.]])
    """
    idx = _index_array(indices)
    if not isinstance(arr, Box) and not isinstance(idx, Box):
        return np.take_along_axis(arr, idx, axis=axis)
    arr = _as_array(arr)
    if axis is None:
        arr, axis = ravel(arr), 0
    ndim = len(shape_of(arr))
    if len(shape_of(idx)) != ndim:
        raise ValueError(
            f"wengert.numpy.take_along_axis: indices of ndim {len(shape_of(idx))} for an "
            f"array of ndim {ndim}; they must match"
        )
    axis = _axis(axis, ndim, "take_along_axis")
    shape = shape_of(arr)
    fancy = []
    for dim in range(ndim):
        if dim == axis:
            fancy.append(idx)
        else:
            fancy.append(
                np.arange(shape[dim]).reshape([-1 if d == dim else 1 for d in range(ndim)])
            )
    return take_index(arr, tuple(fancy))


def choose(a: Any, choices: Any, out: Any = None, mode: str = "raise") -> Any:
    """Entries of ``choices[a]``, with `a` and every choice broadcast together.

    Differentiable in the choices.

    >>> import wengert.numpy as wnp
    >>> wnp.choose([1, 0, 1], [wnp.array([1.0, 2.0, 3.0]), 10.0])
    array([10.,  2., 10.])
    """
    idx = _index_array(a)
    if not _traced(choices) and not isinstance(idx, Box):
        return np.choose(idx, choices, out=out, mode=mode)
    _no_out(out, "choose")
    dtype = np.result_type(getval(idx))
    if not np.can_cast(dtype, np.intp, "safe"):
        raise TypeError(
            f"wengert.numpy.choose: the index array has dtype {dtype}, which cannot be "
            "cast safely to an integer index (as in NumPy); pass integer indices."
        )
    options = [_as_array(c) if isinstance(c, (list, tuple)) else c for c in choices]
    # NumPy's promotion of the choices, Python numbers weak (a 1.0 keeps float32 choices).
    dtype = np.result_type(*[getval(c) for c in options])
    options = [_as_array(c, dtype) for c in options]
    k = len(options)
    if mode == "wrap":
        idx = _wrap(idx, k)
    elif mode == "clip":
        idx = _clip(idx, 0, k - 1)
    elif np.any((getval(idx) < 0) | (getval(idx) >= k)):  # (in any member of a batch)
        raise ValueError("wengert.numpy.choose: invalid entry in choice array")
    shape = np.broadcast_shapes(shape_of(idx), *[shape_of(c) for c in options])
    stacked = stack([broadcast_to(c, shape) for c in options])
    picks = reshape(broadcast_to(idx, shape), (1, *shape))
    return take_along_axis(stacked, picks, 0)[0]


def compress(condition: Any, a: Any, axis: int | None = None, out: Any = None) -> Any:
    """The slices of `a` along `axis` where `condition` holds.

    >>> import wengert.numpy as wnp
    >>> wnp.compress([True, False, True], wnp.array([1.0, 2.0, 3.0]))
    array([1., 3.])
    """
    cond = _index_array(condition)
    if not isinstance(a, Box) and not isinstance(cond, Box):
        return np.compress(cond, a, axis=axis, out=out)
    _no_out(out, "compress")
    if len(shape_of(cond)) != 1:
        raise ValueError("wengert.numpy.compress: condition must be a 1-d array")
    # Under vmap, a batch of conditions works where every member selects as many.
    return take(a, nonzero(cond)[0], axis=axis)


def extract(condition: Any, arr: Any) -> Any:
    """The entries of `arr` where `condition` holds, flattened.

    >>> import wengert.numpy as wnp
    >>> x = wnp.array([[1.0, -2.0], [-3.0, 4.0]])
    >>> wnp.extract(x > 0, x)
    array([1., 4.])
    """
    cond = _index_array(condition)
    if not isinstance(arr, Box) and not isinstance(cond, Box):
        return np.extract(cond, arr)
    return take(ravel(_as_array(arr)), nonzero(ravel(cond))[0])


def select(condlist: Sequence, choicelist: Sequence, default: Any = 0) -> Any:
    """Entries of the first choice whose condition holds, else `default`.

    Differentiable in the choices and in `default`.

    >>> import wengert.numpy as wnp
    >>> x = wnp.array([-1.0, 0.5, 2.0])
    >>> wnp.select([x < 0, x > 1], [-x, x * 10.0], default=x)
    array([ 1. ,  0.5, 20. ])
    """
    if not _traced(condlist, choicelist, default):
        return np.select(condlist, choicelist, default)
    if len(condlist) != len(choicelist):
        raise ValueError(
            "wengert.numpy.select: list of cases must be same length as list of conditions"
        )
    if not condlist:
        raise ValueError("wengert.numpy.select with an empty condition list is not possible")
    result = default
    for cond, choice in zip(reversed(list(condlist)), reversed(list(choicelist))):
        result = where(_as_bool(cond), choice, result)
    return result


def _as_bool(condition: Any) -> Any:
    """A condition as a boolean array (traced by vmap, a batch of them)."""
    if isinstance(condition, Box) or (isinstance(condition, (list, tuple)) and _traced(*condition)):
        return _to_bool(_as_array(condition))
    return np.asarray(condition, dtype=bool)


_to_bool = nondiff(lambda c: np.asarray(c).astype(bool), "to_bool", elementwise=True)


def piecewise(x: Any, condlist: Any, funclist: Sequence, *args: Any, **kw: Any) -> Any:
    """Where each condition holds, the matching function of `x` (or constant); later
    conditions override earlier ones, and one extra function applies where none holds.

    Under `vmap`, conditions computed from the mapped values select different entries in
    each member: each function is then applied to all of `x` (so it must act entry by
    entry, as in JAX) and kept where its condition holds.

    >>> import wengert.numpy as wnp
    >>> x = wnp.array([-2.0, 3.0])
    >>> wnp.piecewise(x, [x < 0], [lambda v: -v, lambda v: v ** 2])
    array([2., 9.])
    """
    if not _traced(x, condlist):
        return np.piecewise(x, condlist, funclist, *args, **kw)
    x = _as_array(x)
    n_funcs = len(funclist)
    if isinstance(condlist, Box):  # one condition, or (2-d and more) one per row as NumPy
        if len(shape_of(condlist)) < 2:
            condlist = [condlist]
    elif np.isscalar(condlist) or (
        not isinstance(condlist[0], (list, np.ndarray, Box)) and len(shape_of(x)) != 0
    ):
        condlist = [condlist]
    if len(condlist) not in (n_funcs - 1, n_funcs):
        raise ValueError(
            f"wengert.numpy.piecewise: with {len(condlist)} condition(s), either "
            f"{len(condlist)} or {len(condlist) + 1} functions are expected"
        )
    result = np.zeros_like(getval(x), shape=shape_of(x))
    if _traced(*condlist):
        return _piecewise_traced(x, condlist, funclist, result, args, kw)
    conds = np.asarray(condlist, dtype=bool)
    if len(conds) == n_funcs - 1:
        conds = np.concatenate([conds, ~np.any(conds, axis=0, keepdims=True)], axis=0)
    for cond, fun in zip(conds, funclist):
        if not callable(fun):
            result = index_update(result, cond, fun)
        elif np.any(cond):
            result = index_update(result, cond, fun(x[cond], *args, **kw))
    return result


def _piecewise_traced(x, condlist, funclist, result, args, kw):
    """piecewise with conditions computed from the values vmap maps over: each member
    selects its own entries, so each function is applied to all of `x` (it must act
    entry by entry, as in JAX) and its values are kept where its condition holds. The
    entries it does not keep reach it as constants, so that no NaN or infinity of its
    derivative there can reach the derivative of the result."""
    conds = [_as_bool(c) for c in condlist]
    if len(conds) == len(funclist) - 1:
        others = conds[0]
        for cond in conds[1:]:
            others = logical_or(others, cond)
        conds.append(logical_not(others))
    constant = stop_gradient(x)
    for cond, fun in zip(conds, funclist):
        if callable(fun):
            with np.errstate(all="ignore"):  # values where the condition fails are unused
                fun = fun(where(cond, x, constant), *args, **kw)
        result = where(cond, fun, result)
    return result


# --- padding ------------------------------------------------------------------------------


def _pairs(value: Any, ndim: int, as_index: bool, dtype: Any = None) -> list:
    """(before, after) for each axis from NumPy's short forms (scalar, pair, per axis);
    values (not indices) in `dtype`, the padded array's, as NumPy casts them."""
    if isinstance(value, dict):
        out = [(0, 0)] * ndim
        for ax, width in value.items():
            out[_axis(ax, ndim, "pad")] = _pairs(width, 1, as_index, dtype)[0]
        return out
    if as_index:
        value = _constant(value, "a pad width or length", "pad")
    traced = _traced(value)
    arr = _as_array(value) if traced else np.asarray(value, dtype=dtype)
    if traced and dtype is not None and np.result_type(getval(arr)) != dtype:
        arr = arr.astype(dtype)
    if as_index:
        arr = np.round(arr).astype(np.intp)
        if np.any(arr < 0):
            raise ValueError("wengert.numpy.pad: index can't contain negative values")
    shape = shape_of(arr)
    size = int(np.prod(shape))
    if len(shape) < 3 and size == 1:
        one = reshape(arr, ()) if traced else arr.reshape(())[()]
        return [(one, one)] * ndim
    if len(shape) < 3 and size == 2 and shape != (2, 1):
        flat = reshape(arr, (2,))
        return [(flat[0], flat[1])] * ndim
    table = broadcast_to(arr, (ndim, 2))
    return [(table[i, 0], table[i, 1]) for i in range(ndim)]


def _block(like, axis: int, width: int) -> list:
    shape = list(shape_of(like))
    shape[axis] = width
    return shape


def _filled(shape, value, like):
    if isinstance(value, Box):
        return broadcast_to(value, tuple(shape))
    return np.full(shape, value, dtype=getval(like).dtype)


def _pad_axis(x, axis, before, after, mode, options):
    n = shape_of(x)[axis]
    ndim = len(shape_of(x))
    parts = []
    if mode in ("constant", "empty"):
        values = options["constant_values"] if mode == "constant" else (0, 0)
        for width, value in ((before, values[0]), (after, values[1])):
            parts.append(_filled(_block(x, axis, width), value, x) if width else None)
    elif mode in ("edge", "wrap") or (
        mode in ("reflect", "symmetric") and options["reflect_type"] == "even"
    ):
        kw = {"reflect_type": "even"} if mode in ("reflect", "symmetric") else {}
        index = np.pad(np.arange(n), (before, after), mode=mode, **kw)
        parts = [
            take(x, index[:before], axis=axis) if before else None,
            take(x, index[before + n :], axis=axis) if after else None,
        ]
    elif mode in ("reflect", "symmetric"):
        # The odd reflection is linear with coefficients other than 0 and 1: apply the
        # rows of its matrix that make the pad.
        eye = np.eye(n, dtype=_real_dtype(x))
        rows = np.pad(eye, ((before, after), (0, 0)), mode=mode, reflect_type="odd")
        for block in (rows[:before], rows[before + n :]):
            parts.append(
                moveaxis(tensordot(block, x, ([1], [axis])), 0, axis) if len(block) else None
            )
    elif mode == "linear_ramp":
        ones = np.ones(n, dtype=_real_dtype(x))
        fraction = np.pad(ones, (before, after), mode="linear_ramp", end_values=0)
        ends = options["end_values"]
        for width, part, edge, value in (
            (before, fraction[:before], 0, ends[0]),
            (after, fraction[before + n :], n - 1, ends[1]),
        ):
            if not width:
                parts.append(None)
                continue
            shape = [1] * ndim
            shape[axis] = width
            edge_value = x[_along(ndim, axis, slice(edge, edge + 1))]
            parts.append(value + (edge_value - value) * part.reshape(shape))
    elif mode in ("maximum", "minimum", "mean", "median"):
        from .statistics import median

        stat = {"maximum": _red.max, "minimum": _red.min, "mean": _red.mean, "median": median}[mode]
        lengths = options["stat_length"]
        for width, length, first in ((before, lengths[0], True), (after, lengths[1], False)):
            if not width:
                parts.append(None)
                continue
            length = n if length is None else max(1, min(int(length), n))
            region = slice(0, length) if first else slice(n - length, n)
            value = stat(x[_along(ndim, axis, region)], axis=axis, keepdims=True)
            parts.append(broadcast_to(value, tuple(_block(x, axis, width))))
    else:
        raise ValueError(f"wengert.numpy.pad: mode {mode!r} is not supported")
    pieces = [p for p in (parts[0], x, parts[1]) if p is not None]
    return concatenate(pieces, axis=axis) if len(pieces) > 1 else x


_PAD_OPTIONS = {
    "constant": ("constant_values",),
    "empty": (),
    "edge": (),
    "wrap": (),
    "reflect": ("reflect_type",),
    "symmetric": ("reflect_type",),
    "linear_ramp": ("end_values",),
    "maximum": ("stat_length",),
    "minimum": ("stat_length",),
    "mean": ("stat_length",),
    "median": ("stat_length",),
}


def pad(array: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Any:
    """`array` padded along each axis, in any of NumPy's modes except a callable one.

    Differentiable in the array and, for the constant and linear-ramp modes, in
    `constant_values` and `end_values`. Axes are padded in order, as NumPy does (so
    corners come from the axis padded last). Mode 'empty' pads with zeros (NumPy leaves
    those entries undefined).

    >>> import wengert.numpy as wnp
    >>> wnp.pad(wnp.array([1.0, 2.0, 3.0]), (2, 1), mode="reflect")
    array([3., 2., 1., 2., 3., 2.])
    """
    if not _traced(array, *kwargs.values()):
        return np.pad(array, pad_width, mode=mode, **kwargs)
    if callable(mode) or mode not in _PAD_OPTIONS:
        raise ValueError(f"wengert.numpy.pad: mode {mode!r} is not supported for traced values")
    unknown = set(kwargs) - set(_PAD_OPTIONS[mode])
    if unknown:
        raise ValueError(
            f"wengert.numpy.pad: unsupported keyword arguments for mode {mode!r}: {sorted(unknown)}"
        )
    x = _as_array(array)
    ndim = len(shape_of(x))
    dtype = np.result_type(getval(x))
    widths = _pairs(pad_width, ndim, as_index=True)
    per_axis = {
        "constant_values": _pairs(kwargs.get("constant_values", 0), ndim, False, dtype),
        "end_values": _pairs(kwargs.get("end_values", 0), ndim, False, dtype),
        "stat_length": _pairs(kwargs.get("stat_length"), ndim, True)
        if kwargs.get("stat_length") is not None
        else [(None, None)] * ndim,
    }
    reflect_type = kwargs.get("reflect_type", "even")
    if reflect_type not in ("even", "odd"):
        raise ValueError(
            f"wengert.numpy.pad: reflect_type must be 'even' or 'odd', not {reflect_type!r}"
        )
    for axis, (before, after) in enumerate(widths):
        before, after = int(before), int(after)
        if before == 0 and after == 0:
            continue
        options = {name: pairs[axis] for name, pairs in per_axis.items()}
        options["reflect_type"] = reflect_type
        x = _pad_axis(x, axis, before, after, mode, options)
    return x


# --- rearranging --------------------------------------------------------------------------


def roll(a: Any, shift: Any, axis: Any = None) -> Any:
    """Entries shifted cyclically by `shift` along `axis` (of the flattened array for None).

    >>> import wengert.numpy as wnp
    >>> wnp.roll(wnp.array([1.0, 2.0, 3.0]), 1)
    array([3., 1., 2.])
    """
    if isinstance(shift, Box):
        shift = stop_gradient(shift)  # no derivative; under vmap, a batch of shifts
    if isinstance(shift, Box):
        return _roll_each(a, shift, axis)
    if not isinstance(a, Box):
        return np.roll(a, shift, axis=axis)
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), a.shape)
    shifts = {}
    for s, ax in np.broadcast(shift, axis):
        ax = _axis(ax, a.ndim, "roll")
        shifts[ax] = shifts.get(ax, 0) + int(s)
    for ax, s in shifts.items():
        n = a.shape[ax]
        s = s % n if n else 0
        if s:
            tail = a[_along(a.ndim, ax, slice(n - s, None))]
            head = a[_along(a.ndim, ax, slice(None, n - s))]
            a = concatenate([tail, head], axis=ax)
    return a


def _roll_each(a: Any, shift: Any, axis: Any) -> Any:
    """`roll` by a shift that vmap maps over: each member takes its entries from its own
    positions (a gather)."""
    if len(shape_of(shift)) or not (axis is None or isinstance(axis, (int, np.integer))):
        raise ValueError(
            "wengert.numpy.roll: a shift computed from the values that vmap maps over must be "
            "one number, for one axis (or None); roll by each shift in turn."
        )
    a = _as_array(a)
    if axis is None:
        return reshape(_roll_each(ravel(a), shift, 0), shape_of(a))
    axis = _axis(axis, len(shape_of(a)), "roll")
    n = shape_of(a)[axis]
    return take(a, _wrap(np.arange(n) - shift, n), axis=axis)


def flip(m: Any, axis: Any = None) -> Any:
    """Entries in reverse order along `axis` (every axis for None).

    >>> import wengert.numpy as wnp
    >>> wnp.flip(wnp.array([[1.0, 2.0], [3.0, 4.0]]), axis=1)
    array([[2., 1.],
           [4., 3.]])
    """
    if not isinstance(m, Box):
        return np.flip(m, axis=axis)
    if axis is None:
        axes = range(m.ndim)
    elif isinstance(axis, (int, np.integer)):
        axes = (axis,)
    else:
        axes = axis
    index = [slice(None)] * m.ndim
    for ax in axes:
        index[_axis(ax, m.ndim, "flip")] = slice(None, None, -1)
    return m[tuple(index)]


def fliplr(m: Any) -> Any:
    """Entries in reverse order along axis 1 (left to right).

    >>> import wengert.numpy as wnp
    >>> wnp.fliplr(wnp.array([[1.0, 2.0]]))
    array([[2., 1.]])
    """
    if len(shape_of(m)) < 2:
        raise ValueError("wengert.numpy.fliplr: input must be >= 2-d")
    return flip(m, 1)


def flipud(m: Any) -> Any:
    """Entries in reverse order along axis 0 (up to down).

    >>> import wengert.numpy as wnp
    >>> wnp.flipud(wnp.array([1.0, 2.0]))
    array([2., 1.])
    """
    if len(shape_of(m)) < 1:
        raise ValueError("wengert.numpy.flipud: input must be >= 1-d")
    return flip(m, 0)


def rot90(m: Any, k: int = 1, axes: tuple[int, int] = (0, 1)) -> Any:
    """The array rotated by 90 degrees `k` times in the plane of `axes`.

    >>> import wengert.numpy as wnp
    >>> wnp.rot90(wnp.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[2., 4.],
           [1., 3.]])
    """
    if not isinstance(m, Box):
        return np.rot90(m, k, axes)
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("wengert.numpy.rot90: len(axes) must be 2")
    a0, a1 = (_axis(ax, m.ndim, "rot90") for ax in axes)
    if a0 == a1:
        raise ValueError("wengert.numpy.rot90: axes must be different")
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, a0), a1)
    order = list(range(m.ndim))
    order[a0], order[a1] = order[a1], order[a0]
    if k == 1:
        return transpose(flip(m, a1), order)
    return flip(transpose(m, order), a1)


def rollaxis(a: Any, axis: int, start: int = 0) -> Any:
    """The array with `axis` moved to sit before position `start` (NumPy's older form of
    `moveaxis`).

    >>> import wengert.numpy as wnp
    >>> wnp.rollaxis(wnp.ones((2, 3, 4)), 2).shape
    (4, 2, 3)
    """
    if not isinstance(a, Box):
        return np.rollaxis(a, axis, start)
    n = a.ndim
    axis = _axis(axis, n, "rollaxis")
    if start < 0:
        start += n
    if not 0 <= start < n + 1:
        raise _AxisError(f"wengert.numpy.rollaxis: start {start} is out of bounds for {n} axes")
    if axis < start:
        start -= 1
    return a if axis == start else moveaxis(a, axis, start)


def tile(A: Any, reps: Any) -> Any:
    """`A` repeated `reps` times along each axis.

    >>> import wengert.numpy as wnp
    >>> wnp.tile(wnp.array([1.0, 2.0]), (2, 2))
    array([[1., 2., 1., 2.],
           [1., 2., 1., 2.]])
    """
    if not isinstance(A, Box):
        return np.tile(A, reps)
    reps = tuple(reps) if np.iterable(reps) else (reps,)
    shape = A.shape
    if len(reps) > len(shape):
        shape = (1,) * (len(reps) - len(shape)) + shape
    reps = (1,) * (len(shape) - len(reps)) + tuple(int(r) for r in reps)
    split = [d for n in shape for d in (1, n)]
    spread = [d for r, n in zip(reps, shape) for d in (r, n)]
    out = broadcast_to(reshape(A, split), tuple(spread))
    return reshape(out, tuple(r * n for r, n in zip(reps, shape)))


def repeat(a: Any, repeats: Any, axis: int | None = None) -> Any:
    """Each entry repeated `repeats` times along `axis` (of the flattened array for None).

    >>> import wengert.numpy as wnp
    >>> wnp.repeat(wnp.array([1.0, 2.0]), [1, 3])
    array([1., 2., 2., 2.])
    """
    repeats = _constant(repeats, "repeats", "repeat")
    if not isinstance(a, Box):
        return np.repeat(a, repeats, axis=axis)
    if axis is None:
        a, axis = ravel(a), 0
    axis = _axis(axis, a.ndim, "repeat")
    counts = np.asarray(repeats)
    if counts.size == 1:
        r = int(counts.reshape(()))
        shape = a.shape
        expanded = reshape(a, (*shape[: axis + 1], 1, *shape[axis + 1 :]))
        spread = broadcast_to(expanded, (*shape[: axis + 1], r, *shape[axis + 1 :]))
        return reshape(spread, (*shape[:axis], shape[axis] * r, *shape[axis + 1 :]))
    return take(a, np.repeat(np.arange(a.shape[axis]), counts), axis=axis)


def resize(a: Any, new_shape: Any) -> Any:
    """An array of `new_shape` filled with the entries of `a` repeated in order.

    >>> import wengert.numpy as wnp
    >>> wnp.resize(wnp.array([1.0, 2.0, 3.0]), (2, 2))
    array([[1., 2.],
           [3., 1.]])
    """
    if not isinstance(a, Box):
        return np.resize(a, new_shape)
    index = np.resize(np.arange(a.size), new_shape)
    if a.size == 0:
        return np.zeros(index.shape, dtype=a.dtype)
    return ravel(a)[index]


# --- diagonals and triangles --------------------------------------------------------------


def _diagonal_index(n: int, m: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    if offset >= 0:
        k = max(0, min(n, m - offset))
        return np.arange(k), np.arange(k) + offset
    k = max(0, min(n + offset, m))
    return np.arange(k) - offset, np.arange(k)


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """The diagonal at `offset` of the planes spanned by `axis1` and `axis2`, as a last axis.

    >>> import wengert.numpy as wnp
    >>> wnp.diagonal(wnp.array([[1.0, 2.0], [3.0, 4.0]]), 1)
    array([2.])
    """
    if not isinstance(a, Box):
        return np.diagonal(a, offset, axis1, axis2)
    a1, a2 = _axis(axis1, a.ndim, "diagonal"), _axis(axis2, a.ndim, "diagonal")
    if a1 == a2:
        raise ValueError("wengert.numpy.diagonal: axis1 and axis2 cannot be the same")
    moved = moveaxis(a, (a1, a2), (-2, -1))
    rows, cols = _diagonal_index(moved.shape[-2], moved.shape[-1], int(offset))
    return moved[..., rows, cols]


def trace(
    a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None, out: Any = None
) -> Any:
    """Sum along a diagonal.

    >>> import wengert.numpy as wnp
    >>> wnp.trace(wnp.array([[1.0, 2.0], [3.0, 4.0]]))
    5.0
    """
    if not isinstance(a, Box):
        return np.trace(a, offset, axis1, axis2, dtype=dtype, out=out)
    _no_out(out, "trace")
    return _red.sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


def diag(v: Any, k: int = 0) -> Any:
    """The k-th diagonal of a 2-d array, or a 2-d array with the 1-d `v` on its k-th
    diagonal.

    >>> import wengert.numpy as wnp
    >>> wnp.diag(wnp.array([1.0, 2.0]))
    array([[1., 0.],
           [0., 2.]])
    """
    if not isinstance(v, Box):
        return np.diag(v, k)
    if v.ndim == 1:
        n = v.shape[0] + abs(int(k))
        rows, cols = _diagonal_index(n, n, int(k))
        zeros = np.zeros_like(getval(v), shape=(n, n))
        return index_update(zeros, (rows, cols), v)
    if v.ndim == 2:
        return diagonal(v, k)
    raise ValueError("wengert.numpy.diag: input must be 1- or 2-d")


def diagflat(v: Any, k: int = 0) -> Any:
    """A 2-d array with the flattened `v` on its k-th diagonal.

    >>> import wengert.numpy as wnp
    >>> wnp.diagflat(wnp.array([[1.0], [2.0]]))
    array([[1., 0.],
           [0., 2.]])
    """
    if not isinstance(v, Box):
        return np.diagflat(v, k)
    return diag(ravel(v), k)


def _triangle(m, mask):
    return where(np.broadcast_to(mask, m.shape), m, np.zeros((), dtype=m.dtype))


def tril(m: Any, k: int = 0) -> Any:
    """The array with the entries above the k-th diagonal set to zero.

    >>> import wengert.numpy as wnp
    >>> wnp.tril(wnp.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[1., 0.],
           [3., 4.]])
    """
    if not isinstance(m, Box):
        return np.tril(m, k)
    n, cols = m.shape[-2:]
    return _triangle(m, np.tri(n, cols, k, dtype=bool))


def triu(m: Any, k: int = 0) -> Any:
    """The array with the entries below the k-th diagonal set to zero.

    >>> import wengert.numpy as wnp
    >>> wnp.triu(wnp.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[1., 2.],
           [0., 4.]])
    """
    if not isinstance(m, Box):
        return np.triu(m, k)
    n, cols = m.shape[-2:]
    return _triangle(m, ~np.tri(n, cols, k - 1, dtype=bool))


# --- products -----------------------------------------------------------------------------


def kron(a: Any, b: Any) -> Any:
    """Kronecker product: blocks ``a[i] * b``.

    >>> import wengert.numpy as wnp
    >>> wnp.kron(wnp.array([1.0, 2.0]), wnp.array([1.0, 10.0]))
    array([ 1., 10.,  2., 20.])
    """
    if not _traced(a, b):
        return np.kron(a, b)
    a, b = _as_array(a), _as_array(b)
    sa, sb = shape_of(a), shape_of(b)
    ndim = max(len(sa), len(sb))
    sa = (1,) * (ndim - len(sa)) + tuple(sa)
    sb = (1,) * (ndim - len(sb)) + tuple(sb)
    a2 = reshape(a, tuple(d for n in sa for d in (n, 1)))
    b2 = reshape(b, tuple(d for n in sb for d in (1, n)))
    return reshape(a2 * b2, tuple(x * y for x, y in zip(sa, sb)))


def cross(
    a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: int | None = None
) -> Any:
    """Cross product of 3-vectors (or 2-vectors, read as having a zero third component)
    along the given axes, broadcasting the others.

    >>> import wengert.numpy as wnp
    >>> wnp.cross(wnp.array([1.0, 0.0, 0.0]), wnp.array([0.0, 1.0, 0.0]))
    array([0., 0., 1.])
    """
    if not _traced(a, b):
        return np.cross(a, b, axisa, axisb, axisc, axis)
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = _as_array(a), _as_array(b)
    a = moveaxis(a, _axis(axisa, len(shape_of(a)), "cross"), -1)
    b = moveaxis(b, _axis(axisb, len(shape_of(b)), "cross"), -1)
    na, nb = shape_of(a)[-1], shape_of(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError(
            "wengert.numpy.cross: incompatible dimensions for cross product "
            "(dimension must be 2 or 3)"
        )
    a0, a1 = a[..., 0], a[..., 1]
    b0, b1 = b[..., 0], b[..., 1]
    z = a0 * b1 - a1 * b0
    if na == 2 and nb == 2:
        return z
    if na == 3 and nb == 3:
        a2, b2 = a[..., 2], b[..., 2]
        parts = [a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, z]
    elif na == 3:
        a2 = a[..., 2]
        parts = [-a2 * b1, a2 * b0, z]
    else:
        b2 = b[..., 2]
        parts = [a1 * b2, -a0 * b2, z]
    shape = np.broadcast_shapes(*[shape_of(p) for p in parts])
    out = stack([broadcast_to(p, shape) for p in parts], axis=-1)
    return moveaxis(out, -1, _axis(axisc, len(shape) + 1, "cross"))


# --- splitting ----------------------------------------------------------------------------


def _split_impl(x, bounds, axis):
    return tuple(x[_along(x.ndim, axis, slice(lo, hi))] for lo, hi in bounds)


def _split_vjp(g, ans, x, bounds, axis):
    ndim = len(shape_of(x))
    n = shape_of(x)[axis]
    pieces = [p for p, (lo, hi) in zip(g, bounds) if hi > lo]
    spans = [(lo, hi) for lo, hi in bounds if hi > lo]
    if (
        spans
        and spans[0][0] == 0
        and spans[-1][1] == n
        and all(spans[i][1] == spans[i + 1][0] for i in range(len(spans) - 1))
    ):
        return concatenate(pieces, axis=axis) if len(pieces) > 1 else pieces[0]
    # Pieces that overlap or leave gaps: add each back at its place.
    from .indexing import index_add

    dtype = np.result_type(getval(x), getval(g[0]), 0.0)
    total = np.zeros_like(getval(x), dtype=dtype, shape=shape_of(x))
    for piece, (lo, hi) in zip(pieces, spans):
        total = index_add(total, _along(ndim, axis, slice(lo, hi)), piece)
    return total


_split = Primitive(_split_impl, "split", multiple_results=True)
_split.defbatch(along_axis(_split, 2))
_split.defvjp(_split_vjp)
_split.defjvp_all(lambda ts, ans, x, bounds, axis: _split(ts[0], bounds, axis))


def _split_bounds(n: int, indices_or_sections: Any, even: bool, name: str) -> tuple:
    if np.ndim(indices_or_sections) == 0:
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError(f"wengert.numpy.{name}: number sections must be larger than 0.")
        each, extra = divmod(n, sections)
        if even and extra:
            raise ValueError(
                f"wengert.numpy.{name}: array split does not result in an equal division"
            )
        sizes = [each + 1] * extra + [each] * (sections - extra)
        points = np.cumsum([0, *sizes])
        return tuple((int(points[i]), int(points[i + 1])) for i in range(sections))
    points = [0, *[int(i) for i in indices_or_sections], n]
    bounds = []
    for lo, hi in itertools.pairwise(points):
        start, stop, _ = slice(lo, hi).indices(n)
        bounds.append((start, max(start, stop)))
    return tuple(bounds)


def _split_along(ary, indices_or_sections, axis, even, name):
    axis = _axis(axis, ary.ndim, name)
    cuts = _constant(indices_or_sections, "indices_or_sections", name)
    bounds = _split_bounds(ary.shape[axis], cuts, even, name)
    return list(_split(ary, bounds, axis))


def split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list:
    """Pieces of `ary` along `axis`: that many equal ones, or cut at the given indices.

    >>> import wengert.numpy as wnp
    >>> wnp.split(wnp.array([1.0, 2.0, 3.0, 4.0]), [1])
    [array([1.]), array([2., 3., 4.])]
    """
    if not isinstance(ary, Box):
        return np.split(ary, indices_or_sections, axis)
    return _split_along(ary, indices_or_sections, axis, True, "split")


def array_split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list:
    """Like `split`, but a number of sections need not divide the axis evenly.

    >>> import wengert.numpy as wnp
    >>> wnp.array_split(wnp.array([1.0, 2.0, 3.0]), 2)
    [array([1., 2.]), array([3.])]
    """
    if not isinstance(ary, Box):
        return np.array_split(ary, indices_or_sections, axis)
    return _split_along(ary, indices_or_sections, axis, False, "array_split")


def hsplit(ary: Any, indices_or_sections: Any) -> list:
    """`split` along axis 1 (axis 0 for 1-d arrays).

    >>> import wengert.numpy as wnp
    >>> wnp.hsplit(wnp.array([[1.0, 2.0]]), 2)
    [array([[1.]]), array([[2.]])]
    """
    if not isinstance(ary, Box):
        return np.hsplit(ary, indices_or_sections)
    if ary.ndim == 0:
        raise ValueError("wengert.numpy.hsplit only works on arrays of 1 or more dimensions")
    return split(ary, indices_or_sections, 1 if ary.ndim > 1 else 0)


def vsplit(ary: Any, indices_or_sections: Any) -> list:
    """`split` along axis 0 of an array of 2 or more dimensions.

    >>> import wengert.numpy as wnp
    >>> wnp.vsplit(wnp.array([[1.0], [2.0]]), 2)
    [array([[1.]]), array([[2.]])]
    """
    if not isinstance(ary, Box):
        return np.vsplit(ary, indices_or_sections)
    if ary.ndim < 2:
        raise ValueError("wengert.numpy.vsplit only works on arrays of 2 or more dimensions")
    return split(ary, indices_or_sections, 0)


def dsplit(ary: Any, indices_or_sections: Any) -> list:
    """`split` along axis 2 of an array of 3 or more dimensions.

    >>> import wengert.numpy as wnp
    >>> [p.shape for p in wnp.dsplit(wnp.ones((1, 1, 4)), 2)]
    [(1, 1, 2), (1, 1, 2)]
    """
    if not isinstance(ary, Box):
        return np.dsplit(ary, indices_or_sections)
    if ary.ndim < 3:
        raise ValueError("wengert.numpy.dsplit only works on arrays of 3 or more dimensions")
    return split(ary, indices_or_sections, 2)


def unstack(x: Any, /, *, axis: int = 0) -> tuple:
    """The slices of `x` along `axis`, as a tuple.

    >>> import wengert.numpy as wnp
    >>> wnp.unstack(wnp.array([[1.0, 2.0], [3.0, 4.0]]), axis=1)
    (array([1., 3.]), array([2., 4.]))
    """
    if not isinstance(x, Box):
        return np.unstack(x, axis=axis)
    axis = _axis(axis, x.ndim, "unstack")
    pieces = _split_along(x, x.shape[axis], axis, True, "unstack")
    return tuple(squeeze(p, axis) for p in pieces)


# --- building arrays ----------------------------------------------------------------------


def dstack(tup: Sequence) -> Any:
    """Arrays joined along a third axis (after making each at least 3-d).

    >>> import wengert.numpy as wnp
    >>> wnp.dstack([wnp.array([1.0, 2.0]), wnp.array([3.0, 4.0])]).shape
    (1, 2, 2)
    """
    if not _traced(*tup):
        return np.dstack(tup)
    arrays = [atleast_3d(_as_array(t)) for t in tup]
    return concatenate(arrays, axis=2)


def column_stack(tup: Sequence) -> Any:
    """1-d arrays as columns, and 2-d arrays as they are, joined along axis 1.

    >>> import wengert.numpy as wnp
    >>> wnp.column_stack([wnp.array([1.0, 2.0]), wnp.array([3.0, 4.0])])
    array([[1., 3.],
           [2., 4.]])
    """
    if not _traced(*tup):
        return np.column_stack(tup)
    arrays = []
    for t in tup:
        t = _as_array(t)
        if len(shape_of(t)) < 2:
            t = reshape(t, (-1, 1))
        arrays.append(t)
    return concatenate(arrays, axis=1)


def row_stack(tup: Sequence) -> Any:
    """Arrays joined along axis 0 (another name of `vstack`).

    >>> import wengert.numpy as wnp
    >>> wnp.row_stack([wnp.array([1.0]), wnp.array([2.0])])
    array([[1.],
           [2.]])
    """
    return vstack([_as_array(t) for t in tup]) if _traced(*tup) else np.vstack(tup)


def block(arrays: Any) -> Any:
    """An array assembled from nested lists of blocks (innermost lists join along the
    last axis, the next ones along the one before, ...).

    >>> import wengert.numpy as wnp
    >>> wnp.block([[wnp.eye(2), wnp.zeros((2, 1))], [wnp.ones((1, 2)), wnp.ones((1, 1))]])
    array([[1., 0., 0.],
           [0., 1., 0.],
           [1., 1., 1.]])
    """
    if not _traced(arrays):
        return np.block(arrays)

    def depth(x):
        if isinstance(x, tuple):
            raise TypeError("wengert.numpy.block: arrays are given in lists, not tuples")
        if isinstance(x, list):
            if not x:
                raise ValueError("wengert.numpy.block: lists cannot be empty")
            depths = {depth(e) for e in x}
            if len(depths) != 1:
                raise ValueError("wengert.numpy.block: list depths are mismatched")
            return 1 + depths.pop()
        return 0

    def leaves(x):
        return [leaf for e in x for leaf in leaves(e)] if isinstance(x, list) else [x]

    total = depth(arrays)
    ndim = max(total, *[len(shape_of(_as_array(x))) for x in leaves(arrays)])

    def assemble(x, level):
        if isinstance(x, list):
            return concatenate([assemble(e, level + 1) for e in x], axis=level - total)
        x = _as_array(x)
        shape = shape_of(x)
        return reshape(x, (1,) * (ndim - len(shape)) + tuple(shape))

    return assemble(arrays, 0)


def broadcast_arrays(*args: Any) -> tuple:
    """The arguments broadcast to their common shape.

    >>> import wengert.numpy as wnp
    >>> [a.shape for a in wnp.broadcast_arrays(wnp.ones(3), wnp.ones((2, 1)))]
    [(2, 3), (2, 3)]
    """
    if not _traced(*args):
        return np.broadcast_arrays(*args)
    arrays = [_as_array(a) for a in args]
    shape = np.broadcast_shapes(*[shape_of(a) for a in arrays])
    return tuple(broadcast_to(a, shape) if shape_of(a) != shape else a for a in arrays)


def meshgrid(*xi: Any, copy: bool = True, sparse: bool = False, indexing: str = "xy") -> tuple:
    """Coordinate arrays from coordinate vectors ('xy': Cartesian, 'ij': matrix indexing).

    >>> import wengert.numpy as wnp
    >>> [g.shape for g in wnp.meshgrid(wnp.ones(3), wnp.ones(2))]
    [(2, 3), (2, 3)]
    """
    if not _traced(*xi):
        return np.meshgrid(*xi, copy=copy, sparse=sparse, indexing=indexing)
    if indexing not in ("xy", "ij"):
        raise ValueError("wengert.numpy.meshgrid: valid values for indexing are 'xy' and 'ij'")
    ndim = len(xi)
    shape = [1] * ndim
    out = []
    for i, x in enumerate(xi):
        s = list(shape)
        s[i] = -1
        out.append(reshape(_as_array(x), tuple(s)))
    if indexing == "xy" and ndim > 1:
        out[0] = reshape(out[0], (1, -1) + (1,) * (ndim - 2))
        out[1] = reshape(out[1], (-1, 1) + (1,) * (ndim - 2))
    if not sparse:
        out = list(broadcast_arrays(*out))
    return tuple(out)


def linspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: Any = None,
    axis: int = 0,
    *,
    device: Any = None,
) -> Any:
    """`num` evenly spaced values from `start` to `stop`, differentiable in both ends.

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> wg.grad(lambda b: wnp.sum(wnp.linspace(0.0, b, 5)))(2.0)
    2.5
    """
    if not _traced(start, stop):
        return np.linspace(start, stop, num, endpoint, retstep, dtype, axis, device=device)
    if dtype is not None and not np.issubdtype(np.dtype(dtype), np.inexact):
        # Integer results: piecewise constant, without derivative.
        start, stop = (_as_array(v) if isinstance(v, (list, tuple)) else v for v in (start, stop))
        return _linspace_exact(start, stop, num, endpoint, retstep, dtype, axis)
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"wengert.numpy.linspace: number of samples, {num}, must be non-negative")
    start, stop = (_as_array(v) if isinstance(v, (list, tuple)) else v for v in (start, stop))
    # NumPy's dtype for the result: Python numbers at the ends are weak.
    dt = np.result_type(getval(start), getval(stop), float(num))
    start, stop = _as_array(start, dt), _as_array(stop, dt)
    shape = np.broadcast_shapes(shape_of(start), shape_of(stop))
    div = num - 1 if endpoint else num
    delta = stop - start
    steps = np.arange(num, dtype=np.result_type(getval(delta), dt)).reshape(
        (-1,) + (1,) * len(shape)
    )
    if div > 0:
        step = delta / div
        if np.any(getval(step) == 0):
            # NumPy's form for a step that underflows to 0, member by member under vmap.
            y = where(step == 0, (steps / div) * delta, steps * step)
        else:
            y = steps * step
    else:
        step = np.nan
        y = steps * delta
    y = y + start
    if endpoint and num > 1:
        y = index_update(y, -1, stop)
    if axis != 0:
        y = moveaxis(y, 0, _axis(axis, len(shape) + 1, "linspace"))
    if dtype is not None:
        y = y.astype(dtype)
    return (y, step) if retstep else y


_linspace_exact = nondiff(np.linspace, "linspace_exact")


def logspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    base: Any = 10.0,
    dtype: Any = None,
    axis: int = 0,
) -> Any:
    """``base ** linspace(start, stop)``, differentiable in `start`, `stop` and `base`.

    >>> import wengert.numpy as wnp
    >>> wnp.logspace(0.0, 2.0, 3)
    array([  1.,  10., 100.])
    """
    if not _traced(start, stop, base):
        return np.logspace(start, stop, num, endpoint, base, dtype, axis)
    if isinstance(base, (float, int)) or not len(shape_of(base)):
        # A scalar base, as in NumPy, joins by promotion alone (a Python number is weak).
        out = base ** linspace(start, stop, num=num, endpoint=endpoint, axis=axis)
        return out if dtype is None else out.astype(dtype)
    start, stop, base = _as_array(start), _as_array(stop), _as_array(base)
    ndim = len(np.broadcast_shapes(shape_of(start), shape_of(stop), shape_of(base)))

    def lift(v):
        shape = shape_of(v)
        return reshape(v, (1,) * (ndim - len(shape)) + tuple(shape)) if len(shape) < ndim else v

    y = linspace(lift(start), lift(stop), num=num, endpoint=endpoint, axis=axis)
    base = lift(base)
    if ndim:
        shape = list(shape_of(base))
        shape.insert(_axis(axis, ndim + 1, "logspace"), 1)
        base = reshape(base, tuple(shape))
    out = base**y
    return out if dtype is None else out.astype(dtype)


def append(arr: Any, values: Any, axis: int | None = None) -> Any:
    """`values` joined to the end of `arr` along `axis` (both flattened for None).

    >>> import wengert.numpy as wnp
    >>> wnp.append(wnp.array([1.0, 2.0]), 3.0)
    array([1., 2., 3.])
    """
    if not _traced(arr, values):
        return np.append(arr, values, axis=axis)
    arr, values = _as_array(arr), _as_array(values)
    if axis is None:
        return concatenate([ravel(arr), ravel(values)])
    return concatenate([arr, values], axis=axis)


def _labels(shape: tuple, sign: int) -> np.ndarray:
    return sign * np.arange(1, int(np.prod(shape)) + 1).reshape(shape)


def _from_labels(labels: np.ndarray, first: Any, second: Any) -> Any:
    """Entries of the flattened `first` at positive labels, of `second` at negative ones."""
    parts = []
    if np.any(labels > 0):
        parts.append(ravel(first)[np.clip(labels - 1, 0, None)])
    if np.any(labels < 0):
        parts.append(ravel(second)[np.clip(-labels - 1, 0, None)])
    if len(parts) == 1:
        return parts[0]
    return where(labels > 0, parts[0], parts[1])


def insert(arr: Any, obj: Any, values: Any, axis: int | None = None) -> Any:
    """`values` inserted before the index or indices `obj` along `axis` (into the
    flattened array for None). Differentiable in `arr` and `values`.

    The result is found by running NumPy's insert on entry labels, so every form of
    `obj` and every broadcast of `values` that NumPy accepts works alike.

    >>> import wengert.numpy as wnp
    >>> wnp.insert(wnp.array([1.0, 2.0, 3.0]), 1, 9.0)
    array([1., 9., 2., 3.])
    """
    obj = _constant(obj, "obj", "insert")
    if not _traced(arr, values):
        return np.insert(arr, obj, values, axis=axis)
    arr = _as_array(arr)
    dtype = np.result_type(getval(arr))
    values = _as_array(values, dtype)  # NumPy casts the values to the array's dtype
    if np.result_type(getval(values)) != dtype:
        values = values.astype(dtype)
    labels = np.insert(_labels(shape_of(arr), 1), obj, _labels(shape_of(values), -1), axis=axis)
    return _from_labels(labels, arr, values)


def delete(arr: Any, obj: Any, axis: int | None = None) -> Any:
    """`arr` without the sub-arrays at the index or indices `obj` along `axis` (of the
    flattened array for None).

    >>> import wengert.numpy as wnp
    >>> wnp.delete(wnp.array([1.0, 2.0, 3.0]), [0, 2])
    array([2.])
    """
    obj = _constant(obj, "obj", "delete")
    if not isinstance(arr, Box):
        return np.delete(arr, obj, axis=axis)
    kept = np.delete(_labels(arr.shape, 1), obj, axis=axis)
    return ravel(arr)[kept - 1]


# --- functions without a derivative --------------------------------------------------------

NONDIFF_NAMES = (
    "argpartition",
    "nanargmax",
    "nanargmin",
    "isin",
    "tril_indices_from",
    "triu_indices_from",
    "diag_indices_from",
    "mask_indices",
    "bitwise_and",
    "bitwise_or",
    "bitwise_xor",
    "bitwise_not",
    "invert",
    "left_shift",
    "right_shift",
    "gcd",
    "lcm",
    "packbits",
    "unpackbits",
    "isnat",
    "isfortran",
    "shares_memory",
    "may_share_memory",
    "bitwise_count",
    "bitwise_invert",
    "bitwise_left_shift",
    "bitwise_right_shift",
)
NONDIFF_NAMES = tuple(name for name in NONDIFF_NAMES if hasattr(np, name))
globals().update({name: nondiff(getattr(np, name), name) for name in NONDIFF_NAMES})


__all__ = [
    "append",
    "array_split",
    "block",
    "broadcast_arrays",
    "choose",
    "column_stack",
    "compress",
    "cross",
    "cumprod",
    "cumsum",
    "cumulative_prod",
    "cumulative_sum",
    "delete",
    "diag",
    "diagflat",
    "diagonal",
    "diff",
    "dsplit",
    "dstack",
    "ediff1d",
    "extract",
    "flip",
    "fliplr",
    "flipud",
    "hsplit",
    "insert",
    "kron",
    "linspace",
    "logspace",
    "meshgrid",
    "pad",
    "piecewise",
    "repeat",
    "resize",
    "partition",
    "roll",
    "rollaxis",
    "rot90",
    "row_stack",
    "select",
    "sort",
    "split",
    "take",
    "take_along_axis",
    "tile",
    "trace",
    "tril",
    "triu",
    "unstack",
    "vsplit",
    *NONDIFF_NAMES,
]
