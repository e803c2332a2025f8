"""Sorting and partitioning: the derivative follows each entry to where it goes, and tied
entries share it evenly (so that ``sort(x)[-1]`` and ``max(x)`` agree)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.batching import along_axis, spread
from .._core.box import Box, getval
from .._core.define import linear, nondiff
from .._core.primitive import Primitive
from .._core.vspace import asarray, broadcast_to, foreign_of, is_lazy_array, refuse_lazy, shape_of
from ._arraylike import accept_array_likes
from ._common import _axis, _constant
from .indexing import sums_at
from .selection import take_along_axis
from .shaping import (
    ravel,
)

# --- sorting ------------------------------------------------------------------------------


def _value_groups(values: np.ndarray, axis: int) -> np.ndarray | None:
    """A group number for each entry, shared by equal entries of the same line along
    `axis`; None if no line has two equal entries."""
    if is_lazy_array(values):
        refuse_lazy("sort", values, "equal entries are found by a sort, which Dask lacks")
    moved = np.moveaxis(values, axis, -1)
    n = moved.shape[-1]
    if n < 2:
        return None
    flat = moved.reshape(-1, n)
    order = np.argsort(flat, axis=1, kind="stable")
    ordered = np.take_along_axis(flat, order, 1)
    like = foreign_of(values)  # (values on a device: their groups made there too)
    head = np.ones((flat.shape[0], 1), dtype=bool, like=like)
    starts = np.concatenate([head, ordered[:, 1:] != ordered[:, :-1]], axis=1)
    if starts.all():
        return None
    groups = np.empty(flat.shape, dtype=np.intp, like=like)
    ranks = np.reshape(np.cumsum(np.reshape(starts, (-1,))) - 1, flat.shape)
    np.put_along_axis(groups, order, ranks, 1)
    return np.moveaxis(np.reshape(groups, moved.shape), -1, axis)


def _tie_average_impl(v, groups):
    """Each entry replaced by the mean of the entries of its group."""
    v = asarray(v)
    ids = np.reshape(groups, (-1,))  # (lazy values: sums by chunk, the groups' constants)
    counts = np.bincount(ids)
    means = sums_at(ids, v, counts.size) / counts
    return np.reshape(means[ids], np.shape(groups)).astype(v.dtype, copy=False)


# Averaging over groups is symmetric: the map is its own transpose.
_tie_average = linear(
    _tie_average_impl, lambda g, ans, v, groups: _tie_average(g, groups), "tie_average"
)


def _tie_average_batch(batched, v, groups):
    """Each member's groups renumbered apart, then one average over all of them."""
    size = shape_of(v if batched[0] else groups)[0]
    if not batched[0]:
        v = broadcast_to(v, (size, *shape_of(v)))
    numbers = getval(groups)  # (no initial=: other libraries' max lacks it)
    count = int(np.max(numbers)) + 1 if np.size(numbers) else 0
    ndim = len(shape_of(groups)) - batched[1]
    offsets = np.reshape(np.arange(size, like=foreign_of(groups)) * count, (size,) + (1,) * ndim)
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
        return np.reshape(np.arange(np.size(values), like=foreign_of(values)), np.shape(values))
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
    if is_lazy_array(x):
        refuse_lazy("sort", x, "Dask has no sort (its fallback would compute the array)")
    return np.sort(x, axis=axis)


def _partition_impl(x, axis, kth):
    if is_lazy_array(x):
        refuse_lazy("partition", x, "Dask has no partition (its fallback would compute the array)")
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


def sort_complex(a: Any) -> Any:
    """The entries sorted along the last axis, real part first, then imaginary part, as
    complex numbers (NumPy's dtype: complex64 for small integers, the long double complex
    for long doubles, complex128 otherwise). Derivatives follow the entries, as in `sort`.

    >>> import wengert.numpy as wnp
    >>> wnp.sort_complex(wnp.array([1 + 2j, 1 - 1j, 0.5]))
    array([0.5+0.j, 1. -1.j, 1. +2.j])
    """
    if not isinstance(a, Box):
        return np.sort_complex(a)
    out = sort(a)
    if out.dtype.kind == "c":
        return out
    char = out.dtype.char
    return out.astype("F" if char in "bhBH" else "G" if char == "g" else "D")


__all__ = [
    "partition",
    "sort",
    "sort_complex",
]

# Generated source (Program.source) computes these primitives with their implementations,
# copied (they use NumPy alone), or with the public function that they call.
_tie_average.defsource(_tie_average_impl)
_source.defsource(_source_impl)
_groups.defsource(_groups_impl)
_sort.defsource(_sort_impl)
_partition.defsource(_partition_impl)

# Lists and tuples holding traced values are read as arrays by the public functions.
accept_array_likes(globals(), __all__)
