"""Indexing `x[index]` and its functional counterparts for writes.

Reading is linear; its transpose scatters the cotangent into zeros, adding where an
integer-array index repeats an entry.
"""

from __future__ import annotations

import numpy as np

from .._core import patterns
from .._core.batching import batch_size
from .._core.box import getval
from .._core.primitive import Primitive
from .._core.vspace import broadcast_to, inexact_dtype, shape_of
from .._core.vspace import zeros_like as zeros_of
from .shaping import moveaxis, reshape


def _is_basic(index) -> bool:
    """Whether an index has no integer arrays (so no entry can repeat)."""
    parts = index if isinstance(index, tuple) else (index,)
    for p in parts:
        if isinstance(p, (list, np.ndarray)) and np.asarray(p).dtype != bool:
            return False
    return True


def _getitem_impl(x, index):
    return x[index]


def _scatter_impl(g, index, shape):
    out = np.zeros(shape, dtype=inexact_dtype(g))
    if _is_basic(index):
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


getitem = Primitive(_getitem_impl, "getitem")
_scatter = Primitive(_scatter_impl, "scatter_add")

getitem.defvjp(lambda g, ans, x, index: _scatter(g, index, shape_of(x)))


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
            array = np.asarray(part)
            used += array.ndim if array.dtype == bool else 1
    k = where[0]
    return index[:k] + (slice(None),) * (ndim - used) + index[k + 1 :]


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
    """Indices may hold traced integers; they carry no derivative."""
    if isinstance(index, tuple):
        return tuple(getval(i) for i in index)
    return getval(index)


def take_index(x, index):
    """``x[index]``, differentiable in `x`."""
    return getitem(x, _normalize_index(index))


def _update_impl(x, index, y):
    out = np.array(x, dtype=np.result_type(x, y), copy=True)
    out[index] = y
    return out


def _add_impl(x, index, y):
    out = np.array(x, dtype=np.result_type(x, y), copy=True)
    np.add.at(out, index, y)
    return out


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

    >>> import wengert.numpy as wnp
    >>> wnp.index_update(wnp.zeros(3), 1, 5.0)
    array([0., 5., 0.])
    """
    return _index_update(x, _normalize_index(index), y)


def index_add(x, index, y):
    """A copy of `x` with `y` added at `index` (repeated indices add up), like np.add.at.

    >>> import wengert.numpy as wnp
    >>> wnp.index_add(wnp.zeros(3), [0, 0, 2], 1.0)
    array([2., 0., 1.])
    """
    return _index_add(x, _normalize_index(index), y)


__all__ = ["getitem", "index_add", "index_update"]
