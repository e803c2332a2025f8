"""Array manipulation: rearranging, diagonals and triangles, products of arrays,
splitting and building arrays.

Most functions are composites of primitives that move entries around (indexing,
concatenation, reshaping), so both derivative rules follow from theirs; a split is a
primitive of its own, whose reverse rule is one concatenation instead of a scatter per
piece. Cumulative functions, sorting, selection and padding have modules of their own.

Index arguments (shifts, split points, positions) carry no derivative. Without traced
arguments every function here is NumPy's own.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._core.batching import along_axis
from .._core.box import Box, any_value, peek
from .._core.define import nondiff, stop_gradient
from .._core.primitive import Primitive
from .._core.vspace import (
    asarray,
    broadcast_to,
    foreign_of,
    full_shaped,
    index_like,
    is_foreign_array,
    is_lazy_array,
    refuse_lazy,
    shape_of,
    values_list,
)
from . import reductions as _red
from ._arraylike import accept_array_likes
from ._common import (
    AxisError,
    _along,
    _as_array,
    _axis,
    _constant,
    _no_out,
    _shared,
    _traced,
    numpy_call,
)
from .elementwise import absolute, log10, sign, where
from .indexing import index_update
from .selection import _wrap, take
from .shaping import (
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
    return take(a, _wrap(np.arange(n, like=foreign_of(a)) - shift, n), axis=axis)


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
        raise AxisError(f"wengert.numpy.rollaxis: start {start} is out of bounds for {n} axes")
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
    counts = asarray(repeats)
    if is_foreign_array(counts):  # the result's shape: read on the host
        counts = np.array(values_list(counts))
    if counts.size == 1:
        r = int(counts.reshape(()))
        shape = a.shape
        expanded = reshape(a, (*shape[: axis + 1], 1, *shape[axis + 1 :]))
        spread = broadcast_to(expanded, (*shape[: axis + 1], r, *shape[axis + 1 :]))
        return reshape(spread, (*shape[:axis], shape[axis] * r, *shape[axis + 1 :]))
    index = asarray(np.repeat(np.arange(a.shape[axis]), counts), like=index_like(a))
    return take(a, index, axis=axis)


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
        return full_shaped(a, 0, index.shape)
    return ravel(a)[asarray(index, like=index_like(a))]


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
        zeros = full_shaped(v, 0, (n, n))
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
    # A vector gives a square matrix (the mask's shape), each row a copy of it, as in NumPy.
    return where(mask, m, full_shaped(m, 0, ()))


def tril(m: Any, k: int = 0) -> Any:
    """The array with the entries above the k-th diagonal set to zero.

    >>> import wengert.numpy as wnp
    >>> wnp.tril(wnp.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[1., 0.],
           [3., 4.]])
    """
    if not isinstance(m, Box):
        return np.tril(m, k)
    return _triangle(m, np.tri(*shape_of(m)[-2:], k=k, dtype=bool, like=foreign_of(m)))


def triu(m: Any, k: int = 0) -> Any:
    """The array with the entries below the k-th diagonal set to zero.

    >>> import wengert.numpy as wnp
    >>> wnp.triu(wnp.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[1., 2.],
           [0., 4.]])
    """
    if not isinstance(m, Box):
        return np.triu(m, k)
    return _triangle(m, ~np.tri(*shape_of(m)[-2:], k=k - 1, dtype=bool, like=foreign_of(m)))


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

    dtype = np.result_type(peek(x), peek(g[0]), 0.0)
    total = full_shaped(x, 0, shape_of(x), dtype)
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
        return numpy_call(np.meshgrid, *xi, copy=copy, sparse=sparse, indexing=indexing)
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
        if device is None:  # (a NumPy-only keyword: not passed to other libraries)
            return np.linspace(start, stop, num, endpoint, retstep, dtype, axis)
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
    dt = np.result_type(peek(start), peek(stop), float(num))
    start, stop = _as_array(start, dt, like=stop), _as_array(stop, dt, like=start)
    shape = np.broadcast_shapes(shape_of(start), shape_of(stop))
    div = num - 1 if endpoint else num
    delta = stop - start
    steps = np.arange(num, dtype=np.result_type(peek(delta), dt), like=foreign_of(delta))
    steps = np.reshape(steps, (-1,) + (1,) * len(shape))
    if div > 0:
        step = delta / div
        if any_value(step == 0, undecided=True):
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


def geomspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    dtype: Any = None,
    axis: int = 0,
) -> Any:
    """`num` values from `start` to `stop` evenly spaced on a log scale, differentiable in
    both ends (NumPy's steps: the ends turned to positive reals, `logspace` between their
    logarithms, the ends themselves put back exactly).

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> wnp.geomspace(1.0, 100.0, 3)
    array([  1.,  10., 100.])
    >>> round(float(wg.grad(lambda b: wnp.geomspace(1.0, b, 3)[1])(100.0)), 12)
    0.05
    """
    if not _traced(start, stop):
        return np.geomspace(start, stop, num, endpoint, dtype, axis)
    start, stop = _as_array(start, like=stop), _as_array(stop, like=start)
    if any_value(start == 0) or any_value(stop == 0):
        raise ValueError("Geometric sequence cannot include zero")
    dt = np.result_type(peek(start), peek(stop), float(num), np.dtype(dtype))
    start, stop = start.astype(dt), stop.astype(dt)
    # Rotate start to the positive reals (NumPy's sign of a complex number is z / |z|).
    out_sign = start / absolute(start) if dt.kind == "c" else sign(start)
    start, stop = start / out_sign, stop / out_sign
    result = logspace(log10(start), log10(stop), num=num, endpoint=endpoint, base=10.0)
    result = result.astype(dt)
    if num > 0:
        result = index_update(result, 0, start)
        if num > 1 and endpoint:
            result = index_update(result, -1, stop)
    result = result * out_sign
    if axis != 0:
        result = moveaxis(result, 0, _axis(axis, len(shape_of(result)), "geomspace"))
    return result if dtype is None else result.astype(dtype)


def append(arr: Any, values: Any, axis: int | None = None) -> Any:
    """`values` joined to the end of `arr` along `axis` (both flattened for None).

    >>> import wengert.numpy as wnp
    >>> wnp.append(wnp.array([1.0, 2.0]), 3.0)
    array([1., 2., 3.])
    """
    if not _traced(arr, values):
        return numpy_call(np.append, arr, values, axis=axis)
    arr, values = _as_array(arr), _as_array(values)
    if axis is None:
        return concatenate([ravel(arr), ravel(values)])
    return concatenate([arr, values], axis=axis)


def _labels(shape: tuple, sign: int) -> np.ndarray:
    return sign * np.arange(1, int(np.prod(shape)) + 1).reshape(shape)


def _from_labels(labels: np.ndarray, first: Any, second: Any) -> Any:
    """Entries of the flattened `first` at positive labels, of `second` at negative ones."""
    labels = asarray(labels, like=index_like([first, second]))
    parts = []
    for values, at in ((first, labels - 1), (second, -labels - 1)):
        if np.any(at >= 0):  # (by a 1-d index, the one form Dask takes of every array)
            flat = np.reshape(np.clip(at, 0, None), (-1,))
            parts.append(reshape(ravel(values)[flat], np.shape(labels)))
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
        if axis is None and is_foreign_array(arr):  # (Dask's insert needs an axis)
            arr, axis = np.reshape(arr, (-1,)), 0
        return numpy_call(np.insert, arr, obj, values, axis=axis)
    arr = _as_array(arr)
    dtype = np.result_type(peek(arr))
    values = _as_array(values, dtype, like=arr)  # NumPy casts the values to arr's dtype
    if np.result_type(peek(values)) != dtype:
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
        if axis is None and is_foreign_array(arr):  # (Dask's delete needs an axis)
            arr, axis = np.reshape(arr, (-1,)), 0
        return np.delete(arr, obj, axis=axis)
    kept = np.delete(_labels(arr.shape, 1), obj, axis=axis)
    return ravel(arr)[kept - 1]


def trim_zeros(filt: Any, trim: str = "fb", axis: Any = None) -> Any:
    """`filt` without its leading (``"f"``) and trailing (``"b"``) zeros along `axis`
    (all axes for None): a slice of it, so entries keep their derivatives. Which entries
    are zero is read from the values (no derivative flows through it).

    >>> import wengert.numpy as wnp
    >>> wnp.trim_zeros(wnp.array([0.0, 1.5, 0.0, 2.0, 0.0]), "f")
    array([1.5, 0. , 2. , 0. ])
    """
    if is_lazy_array(peek(filt)):
        refuse_lazy(
            "trim_zeros",
            peek(filt),
            "which entries it keeps depends on the values (a data-dependent shape)",
        )
    if not isinstance(filt, Box):
        return np.trim_zeros(filt, trim) if axis is None else np.trim_zeros(filt, trim, axis)
    trim = trim.lower()
    if trim not in {"fb", "bf", "f", "b"}:
        raise ValueError(f"unexpected character(s) in `trim`: {trim!r}")
    ndim = len(shape_of(filt))
    if axis is None:
        axes = set(range(ndim))
    else:
        axes = {_axis(a, ndim, "trim_zeros") for a in np.atleast_1d(axis).tolist()}
    if not axes:
        return filt
    return filt[_shared(filt, lambda v: _trimmed(v, trim, axes), "the zeros to trim", "trim_zeros")]


def _trimmed(value: np.ndarray, trim: str, axes: set) -> tuple:
    """The index that trims the zeros of `value` (as NumPy's trim_zeros)."""
    ndim = value.ndim
    found = np.argwhere(value != 0)
    if not len(found):  # all zero: an empty slice along every trimmed axis
        start = stop = [0] * ndim
    else:
        start = found.min(axis=0).tolist() if "f" in trim else [None] * ndim
        stop = (found.max(axis=0) + 1).tolist() if "b" in trim else [None] * ndim
    return tuple(slice(start[a], stop[a]) if a in axes else slice(None) for a in range(ndim))


__all__ = [
    "append",
    "array_split",
    "block",
    "broadcast_arrays",
    "column_stack",
    "cross",
    "delete",
    "diag",
    "diagflat",
    "diagonal",
    "dsplit",
    "dstack",
    "flip",
    "fliplr",
    "flipud",
    "geomspace",
    "hsplit",
    "insert",
    "kron",
    "linspace",
    "logspace",
    "meshgrid",
    "repeat",
    "resize",
    "roll",
    "rollaxis",
    "rot90",
    "row_stack",
    "split",
    "tile",
    "trace",
    "tril",
    "trim_zeros",
    "triu",
    "unstack",
    "vsplit",
]

# Generated source (Program.source) computes these primitives with their implementations,
# copied (they use NumPy alone), or with the public function that they call.
_split.defsource(_split_impl)

# Lists and tuples holding traced values are read as arrays by the public functions.
accept_array_likes(globals(), __all__)
