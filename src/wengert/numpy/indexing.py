"""Indexing `x[index]` and its functional counterparts for writes.

Reading is linear; its transpose scatters the cotangent into zeros, adding where an
integer-array index repeats an entry. Writes (`index_update`, `index_add`) return a new
array; JAX's ``x.at[index].set(y)`` family is `at`, built on them.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from .._core import patterns
from .._core.batching import align, batch_size, loop
from .._core.box import Box, peek
from .._core.define import nondiff, stop_gradient
from .._core.primitive import Primitive
from .._core.vspace import (
    asarray,
    broadcast_to,
    chunked_like,
    foreign_of,
    full_shaped,
    inexact_dtype,
    is_foreign_array,
    is_lazy_array,
    lift,
    refuse_lazy,
    shape_of,
)
from .._core.vspace import zeros_like as zeros_of
from ._arraylike import accept_array_likes
from .elementwise import _where, maximum, minimum, power
from .reductions import amax, amin, prod
from .shaping import array, astype, concatenate, moveaxis, reshape


def _is_basic(index) -> bool:
    """Whether an index has no integer arrays (so no entry can repeat)."""
    parts = index if isinstance(index, tuple) else (index,)
    for p in parts:
        if isinstance(p, (list, np.ndarray)) and np.asarray(p).dtype != bool:
            return False
        if is_foreign_array(p) and p.dtype != bool:
            return False
    return True


def _getitem_impl(x, index):
    if type(x) is not np.ndarray and is_lazy_array(x):
        if _host_advanced(index):
            return _lazy_take(x, index)
        return _without_empty_chunks(x[index])
    if type(index) in (int, slice, tuple, np.ndarray) or not is_foreign_array(index):
        return x[index]
    x = asarray(x, like=index)  # (a table looked up at another library's data)
    if is_lazy_array(index) and index.ndim != 1 and index.dtype.kind in "iu":
        rows = x[np.reshape(index, (-1,))]  # (Dask takes 1-d integer Dask arrays only)
        return np.reshape(rows, (*index.shape, *x.shape[1:]))
    return x[index]


def _without_empty_chunks(x):
    """A lazy (Dask) array without chunks of length 0 along an axis that has entries:
    a strided slice leaves such a chunk (``x[:3:3]`` of chunks (2, 2) has chunks (1, 0)),
    and Dask then loses the chunk's task in later graphs (a missing dependency, or
    silently other values once the graph is optimised)."""
    chunks = x.chunks
    if not any(0 in axis and len(axis) > 1 for axis in chunks):
        return x
    return x.rechunk(tuple(tuple(n for n in axis if n) or (0,) for axis in chunks))


def _scatter_impl(g, index, shape):
    if type(g) is not np.ndarray and is_foreign_array(g):
        return _scatter_foreign(g, index, shape)
    out = np.zeros(shape, dtype=inexact_dtype(g))
    if _is_basic(index):
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


def _scatter_foreign(g, index, shape):
    """`_scatter_impl` for an array of another library: `g` written into zeros of its kind
    at a basic index (a lazy (Dask) `g` padded with zeros instead), or added in at an
    index of arrays (`_add_at`: a bincount of flat positions, on Dask chunk by chunk)."""
    parts = index if isinstance(index, tuple) else (index,)
    arrays = any(_is_array_part(p) for p in parts)
    if is_lazy_array(g) and not arrays:
        padded = _padded(g, parts, shape)
        if padded is not None:
            return padded.astype(inexact_dtype(g), copy=False)
    out = np.zeros_like(g, shape=shape, dtype=inexact_dtype(g))
    if arrays:
        return _add_at(out, index, g)
    out[index] = g
    return out


def _is_array_part(part) -> bool:
    return isinstance(part, (list, np.ndarray)) or is_foreign_array(part)


def _padded(g, parts: tuple, shape: tuple):
    """The cotangent of ``x[index]`` for a basic index (numbers, slices, None, Ellipsis)
    built from `g` with zeros padded on (a lazy array keeps its chunks and gains chunks of
    zeros: nothing is written into one big array of zeros), or None for a boolean part."""
    if any(isinstance(p, (bool, np.bool_)) for p in parts):
        return None
    if 0 in g.shape:  # (an empty selection)
        return np.zeros_like(g, shape=shape)
    parts = _spell_out_ellipsis(parts, len(shape))
    used = sum(p is not None for p in parts)
    parts = (*parts, *(slice(None),) * (len(shape) - used))
    kept = [p for p in parts if not isinstance(p, (int, np.integer))]  # (g's axes)
    squeeze = tuple(k for k, p in enumerate(kept) if p is None)
    if squeeze:  # (the axes None added, of length 1)
        g = np.reshape(g, tuple(n for k, n in enumerate(g.shape) if k not in squeeze))
    axis = 0
    for part in (p for p in parts if p is not None):
        n = shape[axis]
        if isinstance(part, (int, np.integer)):
            g = np.expand_dims(g, axis)
            part = slice(operator.index(part) % n, operator.index(part) % n + 1)
        start, _, step = part.indices(n)
        count = g.shape[axis]
        if step < 0:  # the same entries in ascending order
            g, start, step = np.flip(g, axis), start + (count - 1) * step, -step
        if count and step > 1:  # zeros between the entries
            gaps = np.zeros_like(g, shape=(*g.shape, step - 1))
            g = np.concatenate([np.expand_dims(g, -1), gaps], axis=-1)
            g = np.moveaxis(g, -1, axis + 1)
            merged = (*g.shape[:axis], count * step, *g.shape[axis + 2 :])
            head = (slice(None),) * axis + (slice(0, (count - 1) * step + 1),)
            g = _without_empty_chunks(np.reshape(g, merged)[head])
        width = [(0, 0)] * g.ndim
        width[axis] = (start if count else 0, n - (start if count else 0) - g.shape[axis])
        g = np.pad(g, width)
        axis += 1
    return g


def _add_at(out, index, values):
    """`out` with `values` added at `index`, repeated entries adding up (``np.add.at``).

    NumPy arrays are written in place. An array of another library (CuPy), whose
    ``ufunc.at`` NumPy's protocols do not reach, gets a new array: the sums per entry
    of `out` by ``bincount`` of the entries' flat positions, made on its device."""
    if type(out) is np.ndarray:
        np.add.at(out, index, values)
        return out
    if is_lazy_array(out) or is_lazy_array(values):
        return _lazy_add_at(out, index, values)
    size = math.prod(out.shape)
    positions = np.reshape(np.arange(size, like=out), out.shape)[index]
    values = np.broadcast_to(asarray(values, like=out), positions.shape)
    added = sums_at(positions, values, size)
    return out + np.reshape(added, out.shape).astype(out.dtype, copy=False)


# --- lazy (Dask) arrays: advanced indices through flat positions ---------------------------
# Dask indexes with one 1-d integer array at a time and has no scatter. An index of NumPy
# constants is turned, on the host, into the flat position in x of each entry of x[index];
# a gather is then one 1-d take from x flattened, and a scatter-add one ``bincount`` of
# the positions weighted by the values (summed chunk by chunk, its length given), so both
# stay lazy whatever the index's form. A lazy index is supported along the first axis.


def _host_advanced(index) -> bool:
    """Whether `index` has an integer or boolean array part and every part is known on
    the host (numbers, slices, None, Ellipsis, lists, NumPy arrays)."""
    parts = _as_tuple(index)
    if any(isinstance(p, Box) or is_foreign_array(p) for p in parts):
        return False
    return any(isinstance(p, (list, np.ndarray)) for p in parts)


def _flat_positions(shape: tuple, index) -> np.ndarray:
    """The flat position in an array of `shape` of each entry of ``x[index]`` (shaped as
    it), summed from read-only views of each axis' coordinates, so that only arrays of
    the result's size are made. An index out of bounds raises IndexError, as in NumPy."""
    positions = np.broadcast_to(np.zeros((), dtype=np.intp), shape)[index]
    stride = 1
    for axis in reversed(range(len(shape))):
        along = (-1,) + (1,) * (len(shape) - axis - 1)
        coordinates = np.broadcast_to(np.arange(shape[axis]).reshape(along), shape)
        positions = positions + coordinates[index] * stride
        stride *= shape[axis]
    return np.asarray(positions)


def _indexed_shape(shape: tuple, index) -> tuple:
    """The shape of ``x[index]`` for an `x` of `shape` (from a read-only view of zeros)."""
    return np.shape(np.broadcast_to(np.zeros((), dtype=bool), shape)[index])


def _lazy_index_positions(shape: tuple, index, like):
    """`_flat_positions` for an index holding a lazy (Dask) integer array, computed lazily
    from it: one along the first axis (``x[i]``, ``x[i, :]``); None for other forms."""
    first, *rest = _as_tuple(index)
    if not (
        is_foreign_array(first)
        and first.dtype.kind in "iu"
        and all(isinstance(p, slice) and p == slice(None) for p in rest)
    ):
        return None
    n, tail = shape[0], shape[1:]
    rows = np.reshape(first % n if n else first, (*first.shape, *(1,) * len(tail)))
    within = np.reshape(np.arange(math.prod(tail), like=like), tail)
    return rows * math.prod(tail) + within


def _refuse_lazy_index(x) -> None:
    refuse_lazy(
        "getitem (x[index])",
        x,
        "its derivative is a scatter-add at the index, made for Dask arrays at indices of "
        "NumPy constants (any form) or at one integer Dask array along the first axis; a "
        "boolean Dask mask gives a size known only from its values. Use where(mask, x, 0), "
        "or compute the index first",
    )


def _lazy_take(x, index):
    """``x[index]`` of a lazy `x` at an index of NumPy constants, as a 1-d take."""
    positions = _flat_positions(x.shape, index)
    flat = np.reshape(x, (-1,))[np.reshape(positions, (-1,))]
    return np.reshape(_without_empty_chunks(flat), positions.shape)


def sums_at(positions, values, size: int):
    """The sums of the flattened `values` at the flattened `positions` (integers below
    `size`) over `size` entries, by ``bincount``: complex values by their real and
    imaginary parts; lazy (Dask) values summed chunk by chunk, the positions (NumPy
    constants or Dask) taken to the values' chunks."""
    positions, values = np.reshape(positions, (-1,)), np.reshape(values, (-1,))
    if is_lazy_array(values) and getattr(positions, "chunks", None) != values.chunks:
        positions = np.asarray(positions, like=values).rechunk(values.chunks)

    def sums(weights):
        return np.bincount(positions, weights=weights, minlength=size)

    if values.dtype.kind == "c":
        return sums(values.real) + 1j * sums(values.imag)
    return sums(values)


def _lazy_add_at(out, index, values):
    """`_add_at` of lazy arrays: `out` plus the values summed at their flat positions."""
    like = values if is_lazy_array(values) else out
    shape, parts = out.shape, _as_tuple(index)
    values = asarray(values, like=like)
    if any(is_foreign_array(p) for p in parts):  # (a lazy index)
        positions = _lazy_index_positions(shape, index, like)
        if positions is None:
            _refuse_lazy_index(like)
    else:
        if not any(_is_array_part(p) for p in parts):  # (a basic index: zeros padded on)
            target = np.broadcast_to(values, _indexed_shape(shape, index))
            padded = _padded(target, parts, shape)
            if padded is not None:
                return chunked_like(out + padded.astype(out.dtype, copy=False), out)
        positions = _flat_positions(shape, index)
    values = np.broadcast_to(values, np.shape(positions))
    added = sums_at(positions, values, math.prod(shape))
    return chunked_like(out + np.reshape(added, shape).astype(out.dtype, copy=False), out)


def _lazy_basic_set(x, index, y):
    """``x[index] = y`` of a lazy `x` at a basic index (numbers, slices, None, Ellipsis):
    `y` and a mask of the written entries padded to x's shape, then a ``where`` (Dask's
    own assignment takes no None); None where the index holds anything else."""
    parts = _as_tuple(index)
    if any(_is_array_part(p) for p in parts):
        return None
    dtype = np.result_type(x, y)
    values = np.broadcast_to(asarray(y, like=x).astype(dtype), _indexed_shape(x.shape, index))
    padded = _padded(values, parts, x.shape)
    if padded is None:
        return None
    mask = _padded(np.ones_like(values, dtype=bool), parts, x.shape)
    return chunked_like(np.where(mask, padded, x.astype(dtype, copy=False)), x)


def _lazy_set(x, index, y):
    """``x[index] = y`` of a lazy `x` at an index of NumPy constants, the last write
    winning where the index names an entry twice: the written entries are found and
    filled by bincounts of the (last) writes' positions."""
    positions, order, starts = _sorted_positions(x.shape, index)
    dtype = np.result_type(x, y)
    if not order.size:  # (nothing is written)
        return x.astype(dtype, copy=False)
    last = np.sort(order[np.append(starts[1:], order.size) - 1])
    flat_positions = np.reshape(positions, (-1,))[last]
    values = np.broadcast_to(asarray(y, like=x).astype(dtype), positions.shape)
    values = np.reshape(values, (-1,))[last]
    size = math.prod(x.shape)
    written = sums_at(flat_positions, np.ones_like(values, dtype=float), size) > 0
    flat = np.where(written, sums_at(flat_positions, values, size), np.reshape(x, (-1,)))
    return chunked_like(np.reshape(flat.astype(dtype, copy=False), x.shape), x)


getitem = Primitive(_getitem_impl, "getitem")
_scatter = Primitive(_scatter_impl, "scatter_add")


def _getitem_vjp(g, ans, x, index):
    out = _scatter(g, index, shape_of(x))
    return out if type(x) is np.ndarray else chunked_like(out, x)


getitem.defvjp(_getitem_vjp)


def _getitem_vjp_into(buffer, g, ans, x, index):
    """Add the cotangent of ``x[index]`` into `buffer` in place (first-order passes)."""
    if g.dtype.kind == "c" and buffer.dtype.kind != "c":
        g = g.real
    if _is_basic(index):
        buffer[index] += g
    else:
        np.add.at(buffer, index, g)


getitem.vjp_into = _getitem_vjp_into
getitem.defjvp(lambda t, ans, x, index: getitem(t, index))
_scatter.defvjp(lambda g, ans, c, index, shape: getitem(g, index))
_scatter.defjvp(lambda t, ans, c, index, shape: _scatter(t, index, shape))


# --- batching: the batch axis in front, or (advanced indices) last ------------------------


def _as_tuple(index) -> tuple:
    return index if isinstance(index, tuple) else (index,)


def _keeps_front(index: tuple) -> bool:
    """No arrays, lists or booleans: the batch axis in front stays in front."""
    for part in index:
        if part is None or part is Ellipsis or isinstance(part, slice):
            continue
        if isinstance(part, (int, np.integer)) and not isinstance(part, (bool, np.bool_)):
            continue
        return False
    return True


def _spell_out_ellipsis(index: tuple, ndim: int) -> tuple:
    """`index` without Ellipsis, so that a trailing batch axis is never indexed."""
    where = [k for k, part in enumerate(index) if part is Ellipsis]
    if not where:
        return index
    used = 0
    for part in index:
        if part is None or part is Ellipsis or isinstance(part, (bool, np.bool_)):
            continue
        if isinstance(part, (slice, int, np.integer)):
            used += 1
        else:
            used += len(shape_of(part)) if _is_bool(part) else 1
    k = where[0]
    return index[:k] + (slice(None),) * (ndim - used) + index[k + 1 :]


def _is_bool(part) -> bool:
    """Whether an index part is a boolean array (a traced one included)."""
    if isinstance(part, (list, tuple)):
        part = np.asarray(part)
    return np.result_type(peek(part)).kind == "b"


def _getitem_batch(batched, x, index):
    index = _as_tuple(index)
    if _keeps_front(index):
        return getitem(x, (slice(None), *index))
    # Advanced indices may move their axes to the front; a last batch axis stays last.
    index = _spell_out_ellipsis(index, len(shape_of(x)) - 1)
    return moveaxis(getitem(moveaxis(x, 0, -1), index), -1, 0)


def _scatter_batch(batched, g, index, shape):
    index = _as_tuple(index)
    size = shape_of(g)[0]
    if _keeps_front(index):
        return _scatter(g, (slice(None), *index), (size, *shape))
    index = _spell_out_ellipsis(index, len(shape))
    return moveaxis(_scatter(moveaxis(g, 0, -1), index, (*shape, size)), -1, 0)


getitem.defbatch(_getitem_batch)
_scatter.defbatch(_scatter_batch)
getitem.defpattern(patterns.moves(getitem, lambda args: (0,)))
_scatter.defpattern(patterns.scatter)


def _normalize_index(index):
    """Indices may hold traced integers; they carry no derivative, but under `vmap` those
    computed from the batch (``x[wnp.argmax(x)]``) are a batch of indices: they stay
    traced, as `stop_gradient` leaves them."""
    if isinstance(index, tuple):
        return tuple(_index_part(i) for i in index)
    return _index_part(index)


def _index_part(part):
    if isinstance(part, Box):
        return stop_gradient(part)
    if isinstance(part, list) and _holds_box(part):
        return stop_gradient(array(part))
    return part


def _holds_box(parts) -> bool:
    return any(
        isinstance(p, Box) or (isinstance(p, (list, tuple)) and _holds_box(p)) for p in parts
    )


def take_index(x, index):
    """``x[index]``, differentiable in `x`."""
    index = _normalize_index(index)
    template, parts = _template(index)
    if parts:
        return getitem_at(x, *parts, template=template)
    return getitem(x, index)


# --- indices that are batches (traced by vmap) ---------------------------------------------
# An index part that holds a batch of indices is an argument of the primitive, so that
# batching sees it: the index is given as a template, with _SLOT where each such part goes.


class _Slot:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<traced index>"


_SLOT = _Slot()


def _template(index) -> tuple[tuple, list]:
    """The index with each traced part replaced by `_SLOT`, and those parts (none: the
    index itself is returned as the template)."""
    if isinstance(index, Box):
        return (_SLOT,), [index]
    if not isinstance(index, tuple) or not any(isinstance(p, Box) for p in index):
        return index, []
    return tuple(_SLOT if isinstance(p, Box) else p for p in index), [
        p for p in index if isinstance(p, Box)
    ]


def _fill(template: tuple, parts) -> tuple:
    parts = iter(parts)
    return tuple(next(parts) if p is _SLOT else p for p in template)


def _getitem_at_impl(x, *parts, template):
    return x[_fill(template, parts)]


def _scatter_at_impl(g, *parts, template, shape):
    return _scatter_add_at(g, _fill(template, parts), shape)


def _scatter_add_at(g, index, shape):
    return _add_at(np.zeros_like(g, shape=shape, dtype=inexact_dtype(g)), index, g)


def _write_at_impl(x, y, *parts, template, add):
    index = _fill(template, parts)
    return _add_impl(x, index, y) if add else _update_last_impl(x, index, y)


getitem_at = Primitive(_getitem_at_impl, "getitem_at")
scatter_at = Primitive(_scatter_at_impl, "scatter_add_at")
write_at = Primitive(_write_at_impl, "index_write_at")
getitem_at.defvjp(
    lambda g, ans, x, *parts, template: scatter_at(g, *parts, template=template, shape=shape_of(x))
)
getitem_at.defjvp(lambda t, ans, x, *parts, template: getitem_at(t, *parts, template=template))
scatter_at.defvjp(
    lambda g, ans, c, *parts, template, shape: getitem_at(g, *parts, template=template)
)
scatter_at.defjvp(
    lambda t, ans, c, *parts, template, shape: scatter_at(t, *parts, template=template, shape=shape)
)


def _write_at_vjp_x(g, ans, x, y, *parts, template, add):
    return g if add else write_at(g, 0.0, *parts, template=template, add=False)


def _write_at_vjp_y(g, ans, x, y, *parts, template, add):
    from .._core.vspace import unbroadcast

    picked = getitem_at(g, *parts, template=template)
    if not add and _may_repeat(_fill(template, parts)):
        # Only the last write to an entry shows in the result.
        last = _last_writes(*parts, template=template, shape=shape_of(x))
        picked = _where(last, picked, 0.0)
    return unbroadcast(picked, y)


def _write_at_jvp(ts, ans, x, y, *parts, template, add):
    tx = zeros_of(x) if ts[0] is None else ts[0]
    ty = zeros_of(y) if ts[1] is None else ts[1]
    return write_at(tx, ty, *parts, template=template, add=add)


write_at.defvjp(_write_at_vjp_x, _write_at_vjp_y)
write_at.defjvp_all(_write_at_jvp)


def _is_advanced(part) -> bool:
    """Whether an index part is an integer or an array (not a slice, None or Ellipsis)."""
    return not (part is None or part is Ellipsis or isinstance(part, slice))


def _batched_index(template: tuple, parts, batched_parts, ndim: int, size: int):
    """For members of `ndim` axes, each indexed by `template` filled with `parts` (those
    flagged in `batched_parts` hold a batch of indices, on axis 0): the index of the
    batched array (batch on axis 0) that picks each member's entries with its own indices,
    the axis move that puts the result in the member's order (``(source, destination)``
    for moveaxis, or None) and the number of axes of a member's result. None if there is
    no such index (boolean masks, whose selections may differ in size)."""
    filled = iter(zip(parts, batched_parts))
    entries = [next(filled) if p is _SLOT else (p, False) for p in template]
    for p, _ in entries:
        if isinstance(p, (bool, np.bool_)) or (_is_advanced(p) and _is_bool(p)):
            return None
    if any(p is Ellipsis for p, _ in entries):
        used = sum(1 for p, _ in entries if p is not None and p is not Ellipsis)
        k = next(i for i, (p, _) in enumerate(entries) if p is Ellipsis)
        entries[k : k + 1] = [(slice(None), False)] * (ndim - used)
    advanced = [k for k, (p, _) in enumerate(entries) if _is_advanced(p)]
    count = max(len(shape_of(p)) - b for p, b in (entries[k] for k in advanced))
    front = np.arange(size).reshape((size,) + (1,) * count)
    index = (front, *[_align_part(p, count) if b else p for p, b in entries])
    move = None
    if advanced == list(range(advanced[0], advanced[-1] + 1)) and advanced[0] > 0:
        # NumPy keeps one block of advanced indices in place; with the batch's in front
        # the block comes first: move it back behind the axes before it.
        before = sum(1 for p, _ in entries[: advanced[0]] if not _is_advanced(p))
        move = (tuple(range(1, 1 + count)), tuple(range(1 + before, 1 + before + count)))
    # The axes a member's result has: the advanced block, slices and new axes, and the
    # axes after the last indexed one.
    indexed = sum(1 for p, _ in entries if p is not None)
    result_ndim = count + sum(1 for p, _ in entries if not _is_advanced(p)) + ndim - indexed
    return index, move, result_ndim


def _align_part(part, count: int):
    """A batch of index arrays with unit axes after the batch axis, to `count` axes each."""
    shape = shape_of(part)
    missing = count - (len(shape) - 1)
    return reshape(part, (shape[0],) + (1,) * missing + shape[1:]) if missing > 0 else part


def _has_box(parts) -> bool:
    return any(isinstance(p, Box) for p in parts)


def _getitem_at_batch(batched, x, *parts, template):
    if not any(batched[1:]) and not _has_box(parts):  # only the array is a batch
        return _getitem_batch((True,), x, _fill(template, parts))
    size = batch_size((x, *parts), batched)
    ndim = len(shape_of(x)) - batched[0]
    found = _batched_index(template, parts, batched[1:], ndim, size)
    if found is None:
        return _loop_getitem_at(batched, x, *parts, template=template)
    index, move, _ = found
    if not batched[0]:
        x = broadcast_to(x, (size, *shape_of(x)))
    out = take_index(x, index)
    return out if move is None else moveaxis(out, *move)


def _scatter_at_batch(batched, g, *parts, template, shape):
    if not any(batched[1:]) and not _has_box(parts):
        return _scatter_batch((True,), g, _fill(template, parts), shape)
    size = batch_size((g, *parts), batched)
    found = _batched_index(template, parts, batched[1:], len(shape), size)
    if found is None:
        return _loop_scatter_at(batched, g, *parts, template=template, shape=shape)
    index, move, result_ndim = found
    g = _as_batch(g, batched[0], size, result_ndim, move)
    template, parts = _template(index)
    if parts:
        return scatter_at(g, *parts, template=template, shape=(size, *shape))
    return _scatter(g, index, (size, *shape))


def _as_batch(v, batched: bool, size: int, ndim: int, move):
    """A value written at an index (or its cotangent) as a batch, laid out as the batched
    index picks: the batch first, `ndim` axes per member, moved as `move` says."""
    if not batched:
        v = broadcast_to(v, (size, *shape_of(v)))
    v = align(v, ndim)
    return v if move is None else moveaxis(v, move[1], move[0])


def _write_at_batch(batched, x, y, *parts, template, add):
    size = batch_size((x, y, *parts), batched)
    if not batched[0]:
        x = broadcast_to(x, (size, *shape_of(x)))
    if not any(batched[2:]) and not _has_box(parts):
        write = _index_add if add else _index_update
        return _index_write_batch(write)((True, False, batched[1]), x, _fill(template, parts), y)
    found = _batched_index(template, parts, batched[2:], len(shape_of(x)) - 1, size)
    if found is None:
        return _loop_write_at(batched, x, y, *parts, template=template, add=add)
    index, move, result_ndim = found
    y = _as_batch(y, batched[1], size, result_ndim, move)
    return (index_add if add else index_update)(x, index, y)


_loop_getitem_at = loop(getitem_at)
_loop_scatter_at = loop(scatter_at)
_loop_write_at = loop(write_at)
getitem_at.defbatch(_getitem_at_batch)
scatter_at.defbatch(_scatter_at_batch)
write_at.defbatch(_write_at_batch)


def _copy(x, y):
    """A copy of the array `x` (lists too) in the dtype it takes with `y`, of `x`'s
    library."""
    x, y = (asarray(v) if isinstance(v, (list, tuple)) else v for v in (x, y))
    if type(x) is np.ndarray:
        return np.array(x, dtype=np.result_type(x, y), copy=True), y
    return asarray(x).astype(np.result_type(x, y), copy=True), y


def _update_impl(x, index, y):
    if type(x) is not np.ndarray and is_lazy_array(x):
        if _host_advanced(index):
            return _lazy_set(x, index, y)
        written = _lazy_basic_set(x, index, y)
        if written is not None:
            return written
    out, y = _copy(x, y)
    out[index] = y
    return out


def _add_impl(x, index, y):
    out, y = _copy(x, y)
    return _add_at(out, index, y)


def _unbroadcast_to_index(g, index, y):
    """The part of `g` at `index`, summed back to the shape of `y`."""
    from .._core.vspace import unbroadcast

    return unbroadcast(getitem(g, index), y)


_index_update = Primitive(_update_impl, "index_update")
_index_update.defvjp(
    lambda g, ans, x, index, y: _index_update(g, index, 0.0),
    None,
    lambda g, ans, x, index, y: _unbroadcast_to_index(g, index, y),
)
_index_update.defjvp_all(
    lambda ts, ans, x, index, y: _index_update(
        zeros_of(x) if ts[0] is None else ts[0], index, zeros_of(y) if ts[2] is None else ts[2]
    )
)

_index_add = Primitive(_add_impl, "index_add")
_index_add.defvjp(
    lambda g, ans, x, index, y: g,
    None,
    lambda g, ans, x, index, y: _unbroadcast_to_index(g, index, y),
)
_index_add.defjvp_all(
    lambda ts, ans, x, index, y: _index_add(
        zeros_of(x) if ts[0] is None else ts[0], index, zeros_of(y) if ts[2] is None else ts[2]
    )
)


def _index_write_batch(primitive: Primitive):
    """Rule of index_update / index_add (x, index, y): written with the batch axis last."""

    def rule(batched, x, index, y):
        size = batch_size((x, y), (batched[0], batched[2]))
        if not batched[0]:
            x = broadcast_to(x, (size, *shape_of(x)))
        index = _spell_out_ellipsis(_as_tuple(index), len(shape_of(x)) - 1)
        y = moveaxis(y, 0, -1) if batched[2] else reshape(y, (*shape_of(y), 1))
        return moveaxis(primitive(moveaxis(x, 0, -1), index, y), -1, 0)

    return rule


_index_update.defbatch(_index_write_batch(_index_update))
_index_add.defbatch(_index_write_batch(_index_add))
_index_update.defpattern(patterns.moves(_index_update, lambda args: (0, 2)))
_index_add.defpattern(patterns.index_add)


def index_update(x, index, y):
    """A copy of `x` with ``x[index] = y``: the differentiable form of an in-place write.

    Where an integer-array index names an entry more than once, the last write (in the
    order of the entries of ``x[index]``) wins, and only it gets a derivative.

    >>> import wengert.numpy as wnp
    >>> wnp.index_update(wnp.zeros(3), 1, 5.0)
    array([0., 5., 0.])
    """
    index = _normalize_index(index)
    written = _lazy_mask_write(x, index, y, "set")
    if written is not None:
        return written
    template, parts = _template(index)
    if parts:
        return write_at(x, y, *parts, template=template, add=False)
    if _may_repeat(index):
        groups = _groups(shape_of(x), index)
        if groups is not None:
            return _set_repeated(x, groups, y)
    return _index_update(x, index, y)


def index_add(x, index, y):
    """A copy of `x` with `y` added at `index` (repeated indices add up), like np.add.at.

    >>> import wengert.numpy as wnp
    >>> wnp.index_add(wnp.zeros(3), [0, 0, 2], 1.0)
    array([2., 0., 1.])
    """
    index = _normalize_index(index)
    written = _lazy_mask_write(x, index, y, "add")
    if written is not None:
        return written
    template, parts = _template(index)
    if parts:
        return write_at(x, y, *parts, template=template, add=True)
    return _index_add(x, index, y)


# --- indices that name an entry more than once ------------------------------------------
# An integer-array index may name one entry of x several times. Writes then group the
# entries of x[index] by the entry of x they land on (flat positions, computed from the
# index alone) and write each entry of x once, so that every derivative comes from
# primitives whose index has no repeats.


def _may_repeat(index) -> bool:
    """Whether `index` has an integer-array part of more than one entry (traced parts
    included), so that two entries of ``x[index]`` could land on one entry of x."""
    for part in _as_tuple(index):
        if part is None or part is Ellipsis or isinstance(part, (slice, int, np.integer)):
            continue
        if isinstance(part, Box):
            if math.prod(shape_of(part)) > 1 and not _is_bool(part):
                return True
            continue
        if isinstance(part, (list, tuple, np.ndarray)) or is_foreign_array(part):
            values = asarray(part)
            if values.size > 1 and values.dtype != bool:
                return True
    return False


class _Groups:
    """The entries of ``x[index]`` grouped by the entry of x each lands on.

    ``shape``: the shape of ``x[index]``; ``targets``: the flat positions in x that are
    written (each once, ascending); ``counts``: how many entries land on each; ``last``:
    for each target, the flat position in ``x[index]`` of the entry written last;
    ``table``: for each target (a row), the flat positions in ``x[index]`` of its entries
    in order, padded with ``x[index].size`` (one past the end)."""

    __slots__ = ("counts", "last", "shape", "table", "targets")


def _sorted_positions(shape: tuple, index) -> tuple:
    """``(positions, order, starts)``: the flat position in x of each entry of
    ``x[index]`` (shaped as ``x[index]``), the entries' order sorted by position (stable,
    so that entries on one position keep their order), and where in that order each
    position's run starts. An index out of bounds raises IndexError, as in NumPy."""
    like = foreign_of(index)  # an index on a device: its analysis there too
    if like is None:
        positions = _flat_positions(shape, index)
    else:
        positions = np.reshape(np.arange(math.prod(shape), like=like), shape)[index]
    flat = np.reshape(positions, (-1,))
    order = np.argsort(flat, kind="stable")
    ordered = flat[order]
    head = np.ones(min(flat.size, 1), dtype=bool, like=like)
    first = np.concatenate([head, ordered[1:] != ordered[:-1]])
    return positions, order, np.flatnonzero(first)


def _groups(shape: tuple, index) -> _Groups | None:
    """The grouping of ``x[index]`` for an `x` of `shape`, or None where no entry of x is
    named twice."""
    positions, order, starts = _sorted_positions(shape, index)
    if starts.size == order.size:
        return None
    groups = _Groups()
    groups.shape = positions.shape
    groups.targets = positions.reshape(-1)[order[starts]]
    groups.counts = np.diff(np.append(starts, order.size))
    groups.last = order[starts + groups.counts - 1]
    like = foreign_of(order)
    table = np.full((starts.size, int(groups.counts.max())), order.size, like=like)
    rank = np.arange(order.size, like=like) - np.repeat(starts, groups.counts)
    table[np.repeat(np.arange(starts.size, like=like), groups.counts), rank] = order
    groups.table = table
    return groups


def _flat_values(y, groups: _Groups, like):
    """`y` broadcast to the shape of ``x[index]`` and flattened (a number: an array of
    the library of `like`, the array written to)."""
    return reshape(broadcast_to(lift(y, like), groups.shape), (-1,))


def _set_repeated(x, groups: _Groups, y):
    """`x` with ``x[index] = y`` where the index repeats entries: the last write wins."""
    flat = reshape(x, (-1,))
    winners = take_index(_flat_values(y, groups, x), groups.last)
    return reshape(_index_update(flat, groups.targets, winners), shape_of(x))


def _update_last_impl(x, index, y):
    """`_update_impl` with the last write winning where the index repeats an entry (which
    NumPy's assignment leaves unspecified)."""
    if type(x) is not np.ndarray and is_lazy_array(x):  # (its writes keep the last one)
        return _update_impl(x, index, y)
    positions, order, starts = _sorted_positions(np.shape(x), index)
    if starts.size == order.size:
        return _update_impl(x, index, y)
    last = order[np.append(starts[1:], order.size) - 1]
    out, y = _copy(x, y)
    values = np.reshape(np.broadcast_to(asarray(y, like=out), positions.shape), (-1,))
    flat = np.reshape(out, (-1,))  # (a fresh copy: a view of it)
    flat[np.reshape(positions, (-1,))[last]] = values[last]
    return np.reshape(flat, np.shape(out))


def _last_writes_of(index, shape):
    """True for each entry of ``x[index]`` (`x` of `shape`) that is the last write to
    its entry of x."""
    positions, order, starts = _sorted_positions(shape, index)
    last = np.zeros(order.size, dtype=bool, like=foreign_of(order))
    last[order[np.append(starts[1:], order.size) - 1]] = True
    return np.reshape(last, positions.shape)


def _last_writes_impl(*parts, template, shape):
    return _last_writes_of(_fill(template, parts), shape)


# For index arrays that are traced (a batch of them under vmap): mapped member by member.
_last_writes = nondiff(_last_writes_impl, "index_last_writes")


# --- JAX's functional updates: x.at[index].set(y) and its siblings ----------------------

_COMBINE: dict[str, Callable] = {
    "multiply": lambda old, y: old * y,
    "divide": lambda old, y: old / y,
    "power": power,
    "min": minimum,
    "max": maximum,
}


def _in_dtype_of(v, x):
    """`v` converted to `x`'s dtype: updates keep the dtype of the array they update."""
    dtype = np.result_type(peek(x))
    return v if np.result_type(peek(v)) == dtype else astype(v, dtype)


def _write(x, index, v):
    """``x`` with ``x[index] = v`` for a normalized index that names no entry twice."""
    template, parts = _template(index)
    if parts:
        return write_at(x, v, *parts, template=template, add=False)
    return _index_update(x, index, v)


def _pad_value(how: str, dtype: np.dtype):
    """The entry that leaves a combination unchanged: 1 for products, the far end of the
    dtype's range for min and max."""
    if how not in ("min", "max"):
        return 1
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return info.max if how == "min" else info.min
    return np.inf if how == "min" else -np.inf


def _combine_repeated(x, groups: _Groups, y, how: str):
    """`x` with the entries of `y` combined into ``x[index]`` where the index repeats
    entries: every entry of `y` counts (products multiply, min and max take all)."""
    flat = reshape(x, (-1,))
    pad = full_shaped(x, _pad_value(how, np.result_type(peek(x))), (1,))
    # One row per written entry of x: the entries of y that land on it, then padding.
    rows = take_index(concatenate([_flat_values(y, groups, x), pad]), groups.table)
    old = take_index(flat, groups.targets)
    if how in ("min", "max"):
        # One reduction over the old value and every entry of y, so ties share evenly.
        both = concatenate([reshape(old, (-1, 1)), rows], axis=1)
        new = amin(both, axis=1) if how == "min" else amax(both, axis=1)
    else:
        new = _COMBINE[how](old, prod(rows, axis=1))
    new = _in_dtype_of(new, x)
    return reshape(_index_update(flat, groups.targets, new), shape_of(x))


def _lazy_mask_write(x, index, values, how: str):
    """A write at one boolean mask over lazy (Dask) arrays as a ``where``, or None where
    that does not apply. ``x[mask]`` has a size known only from the mask's values there,
    so a write of one value per position (a scalar, or one row broadcast along the axes
    after the mask) keeps `x` where the mask is False instead; other writes go on to the
    general rules, which refuse what Dask cannot do."""
    if not (is_lazy_array(peek(x)) or is_lazy_array(peek(values))):
        return None
    mask = index[0] if isinstance(index, tuple) and len(index) == 1 else index
    if (
        isinstance(mask, Box)
        or not (isinstance(mask, np.ndarray) or is_foreign_array(mask))
        or mask.dtype != bool
    ):
        return None
    shape, rest = shape_of(x), shape_of(x)[mask.ndim :]
    if tuple(mask.shape) != shape[: mask.ndim]:
        return None
    vshape = shape_of(values)
    if len(vshape) == len(rest) + 1 and vshape[0] == 1:
        values = reshape(values, vshape[1:])
    elif len(vshape) > len(rest):
        return None
    mask = reshape(lift(mask, x), (*mask.shape, *(1,) * len(rest)))
    if how == "set":
        new = values
    else:
        neutral = _where(mask, x, full_shaped(x, 0 if how == "add" else 1, ()))
        new = neutral + values if how == "add" else _COMBINE[how](neutral, values)
    return _in_dtype_of(_where(mask, new, x), x)


def _check_mode(mode, method: str) -> None:
    if mode is not None and mode != "promise_in_bounds":
        raise NotImplementedError(
            f"x.at[index].{method}(mode={mode!r}): wengert follows NumPy for indices out "
            "of bounds (IndexError) and has no other mode; clip the index (wg.numpy.clip) "
            "or mask it (wg.numpy.where) first."
        )


def _traced_repeats(method: str) -> NotImplementedError:
    return NotImplementedError(
        f"x.at[index].{method}(...) with an integer-array index computed from traced "
        "values (under vmap): entries it names twice cannot be grouped. Compute the index "
        "outside the mapped function, or use .set/.add, which accept such indices."
    )


class _IndexUpdateRef:
    """``x.at[index]``: the index of a functional update, waiting for the operation."""

    __slots__ = ("array", "index")

    def __init__(self, array: Any, index: Any):
        self.array = array
        self.index = index

    def __repr__(self) -> str:
        return f"_IndexUpdateRef({self.array!r}, {self.index!r})"

    def get(
        self,
        *,
        indices_are_sorted: bool = False,
        unique_indices: bool = False,
        mode: str | None = None,
        fill_value: Any = None,
    ) -> Any:
        """``x[index]``."""
        _check_mode(mode, "get")
        if fill_value is not None:
            raise NotImplementedError(
                "x.at[index].get(fill_value=...): indices out of bounds raise IndexError "
                "in wengert, so there is nothing to fill; drop fill_value."
            )
        return take_index(self.array, self.index)

    def set(self, values: Any, **options: Any) -> Any:
        """A copy of x with ``x[index] = values`` (the last write wins where the index
        names an entry twice)."""
        return self._update(values, "set", options)

    def add(self, values: Any, **options: Any) -> Any:
        """A copy of x with ``x[index] += values``, every entry of `values` added."""
        return self._update(values, "add", options)

    def subtract(self, values: Any, **options: Any) -> Any:
        """A copy of x with ``x[index] -= values``, every entry of `values` subtracted."""
        return self._update(
            -values if isinstance(values, Box) else np.negative(values), "add", options
        )

    def multiply(self, values: Any, **options: Any) -> Any:
        """A copy of x with ``x[index] *= values``, every entry of `values` applied."""
        return self._update(values, "multiply", options)

    def divide(self, values: Any, **options: Any) -> Any:
        """A copy of x with ``x[index] /= values``, every entry of `values` applied."""
        return self._update(values, "divide", options)

    def power(self, values: Any, **options: Any) -> Any:
        """A copy of x with ``x[index] **= values``; where the index names an entry
        twice, its exponents multiply (``(x ** a) ** b = x ** (a * b)``)."""
        return self._update(values, "power", options)

    def min(self, values: Any, **options: Any) -> Any:
        """A copy of x with ``x[index] = minimum(x[index], values)`` over every entry."""
        return self._update(values, "min", options)

    def max(self, values: Any, **options: Any) -> Any:
        """A copy of x with ``x[index] = maximum(x[index], values)`` over every entry."""
        return self._update(values, "max", options)

    def apply(self, func: Callable, **options: Any) -> Any:
        """A copy of x with the elementwise `func` applied at `index`, once per time the
        index names an entry (as NumPy's ``ufunc.at``)."""
        _check_options(options, "apply")
        x = _as_array(self.array)
        index = _normalize_index(self.index)
        groups = None
        if _may_repeat(index):
            if _template(index)[1]:
                raise _traced_repeats("apply")
            groups = _groups(shape_of(x), index)
        if groups is None:
            return _write(x, index, _in_dtype_of(func(take_index(x, index)), x))
        flat = reshape(x, (-1,))
        for k in range(groups.table.shape[1]):  # the k-th application to each entry
            targets = groups.targets[groups.counts > k]
            flat = _index_update(flat, targets, _in_dtype_of(func(take_index(flat, targets)), x))
        return reshape(flat, shape_of(x))

    def _update(self, values: Any, how: str, options: dict) -> Any:
        _check_options(options, how)
        x = _as_array(self.array)
        values = _in_dtype_of(values, x)
        if how == "set":
            return index_update(x, self.index, values)
        if how == "add":
            return index_add(x, self.index, values)
        index = _normalize_index(self.index)
        written = _lazy_mask_write(x, index, values, how)
        if written is not None:
            return written
        groups = None
        if _may_repeat(index):
            if _template(index)[1]:
                raise _traced_repeats(how)
            groups = _groups(shape_of(x), index)
        if groups is None:
            return _write(x, index, _in_dtype_of(_COMBINE[how](take_index(x, index), values), x))
        return _combine_repeated(x, groups, values, how)


_OPTIONS = ("indices_are_sorted", "unique_indices", "mode")


def _check_options(options: dict, method: str) -> None:
    """JAX's keyword options: the hints are accepted (and not needed), `mode` checked."""
    for name in options:
        if name not in _OPTIONS:
            raise TypeError(f"x.at[index].{method}() got an unexpected keyword argument {name!r}")
    _check_mode(options.get("mode"), method)


def _as_array(x):
    return x if isinstance(x, Box) or hasattr(x, "shape") else np.asarray(x)


class _IndexUpdateHelper:
    """``at(x)`` (and ``x.at`` of a traced value): index it to choose the entries."""

    __slots__ = ("array",)

    def __init__(self, array: Any):
        self.array = array

    def __getitem__(self, index: Any) -> _IndexUpdateRef:
        return _IndexUpdateRef(self.array, index)

    def __repr__(self) -> str:
        return f"_IndexUpdateHelper({self.array!r})"


def at(x: Any) -> _IndexUpdateHelper:
    """JAX's functional index updates for any array: ``at(x)[index].set(y)`` is a copy of
    `x` with ``x[index] = y``; `x` itself is never written. Traced values also have them
    as ``x.at[index]``; plain NumPy arrays have no ``.at``, so code that must run on both
    spells it ``wg.numpy.at(x)[index]``.

    The operations: ``get()`` (``x[index]``), ``set(y)``, ``add(y)``, ``subtract(y)``,
    ``multiply(y)``, ``divide(y)``, ``power(y)``, ``min(y)``, ``max(y)`` and
    ``apply(func)``. `y` broadcasts to the shape of ``x[index]`` and is converted to `x`'s
    dtype, so the result has `x`'s dtype (as in JAX, and as NumPy's in-place writes). All
    are differentiable in `x` and `y`, in both modes, to any order.

    Where an integer-array index names an entry more than once, every entry of `y` counts
    (as in JAX): ``add`` sums them, ``multiply`` and ``divide`` apply their product,
    ``power`` raises to their product, ``min``/``max`` take the extremum over all of them
    and the entry of `x` (ties share the derivative evenly, as `wg.numpy.max` does), and
    ``apply`` applies `func` once per time. ``set`` keeps the last write in the order of
    the entries of ``x[index]`` (JAX leaves the order unspecified; NumPy does not promise
    one either). Unlike JAX, which clamps reads and drops writes out of bounds, an index
    out of bounds raises IndexError, as in NumPy. JAX's keyword options are accepted:
    ``indices_are_sorted`` and ``unique_indices`` change nothing, and ``mode`` may be
    None or ``"promise_in_bounds"``.

    >>> import numpy as np
    >>> import wengert.numpy as wnp
    >>> x = np.zeros(4)
    >>> wnp.at(x)[np.array([0, 0, 2])].add(1.0)
    array([2., 0., 1., 0.])
    >>> wnp.at(x)[1:3].set(np.array([5.0, 6.0])), x
    (array([0., 5., 6., 0.]), array([0., 0., 0., 0.]))
    """
    return _IndexUpdateHelper(x)


__all__ = ["at", "getitem", "index_add", "index_update"]

# Generated source (Program.source) computes these primitives with their implementations,
# copied (they use NumPy alone), or with the public function that they call.
getitem.defsource(operator.getitem)
_scatter.defsource(_scatter_impl)
_index_update.defsource(_update_impl)
_index_add.defsource(_add_impl)


# The indexed primitives with traced index parts are written with their index filled in.
def _getitem_at_source(x, *parts, template):
    return operator.getitem, (x, _fill(template, parts)), {}


def _scatter_at_source(g, *parts, template, shape):
    return _scatter_add_at, (g, _fill(template, parts), shape), {}


def _write_at_source(x, y, *parts, template, add):
    return (_add_impl if add else _update_last_impl), (x, _fill(template, parts), y), {}


getitem_at.defsource(rewrite=_getitem_at_source)
scatter_at.defsource(rewrite=_scatter_at_source)
write_at.defsource(rewrite=_write_at_source)
_last_writes.defsource(
    rewrite=lambda *parts, template, shape: (_last_writes_of, (_fill(template, parts), shape), {})
)

accept_array_likes(globals(), ["index_add", "index_update"])
