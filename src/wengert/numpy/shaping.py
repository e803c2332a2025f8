"""Shape functions: they move entries around, so each is linear and its reverse rule
is the inverse move (or, for joins, the matching split)."""

from __future__ import annotations

import numpy as np

from .._core import patterns
from .._core.batching import batch_axes, batch_axis, batch_size, spread
from .._core.box import Box, peek
from .._core.define import linear, nondiff
from .._core.primitive import Primitive
from .._core.vspace import asarray as _asarray_of_kind
from .._core.vspace import (
    broadcast_to,
    chunked_like,
    foreign_of,
    full_shaped,
    is_foreign_array,
    lift,
    shape_of,
    zeros_like,
)
from ._arraylike import accept_array_likes


def _first(args) -> tuple:
    """The argument that holds the data of a shape function (the others are static)."""
    return (0,)


def _rest(args) -> range:
    """The arguments that hold the data of a join (after the axis)."""
    return range(1, len(args))


def _reshape_back(g, ans, x, *args, **kwargs):
    return reshape(g, shape_of(x))


def _reshape_impl(x, shape, order="C"):
    if order == "C":  # no order= for array kinds that know only C order (Dask)
        return np.reshape(x, shape)
    return np.reshape(x, shape, order=order)


def _reshape_vjp(g, ans, x, shape, order="C"):
    out = reshape(g, shape_of(x), order=order)
    return out if type(x) is np.ndarray else chunked_like(out, x)  # (Dask: x's chunks)


reshape = linear(_reshape_impl, _reshape_vjp, "reshape")


def _reshape_batch(batched, x, shape, order="C"):
    size = shape_of(x)[0]
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if order != "F":
        return reshape(x, (size, *shape))
    # Fortran order: with the batch as the slowest (last) axis each member stays whole.
    moved = reshape(moveaxis(x, 0, -1), (*shape, size), order="F")
    return moveaxis(moved, -1, 0)


reshape.defbatch(_reshape_batch)
reshape.defpattern(patterns.moves(reshape, _first))


def _ravel_impl(x, order="C"):
    if order == "C":  # no order= for array kinds that know only C order (Dask)
        return np.ravel(x)
    return np.ravel(x, order=order)


ravel = linear(
    _ravel_impl, lambda g, ans, x, order="C": reshape(g, shape_of(x), order=order), "ravel"
)
ravel.defbatch(lambda batched, x, order="C": _reshape_batch(batched, x, (-1,), order))
ravel.defpattern(patterns.moves(ravel, _first))


def _transpose_impl(x, axes=None):
    return np.transpose(x, axes)


def _transpose_vjp(g, ans, x, axes=None):
    if axes is None:
        return transpose(g)
    return transpose(g, tuple(np.argsort([a % len(axes) for a in axes])))


transpose = linear(_transpose_impl, _transpose_vjp, "transpose")


def _transpose_batch(batched, x, axes=None):
    ndim = len(shape_of(x)) - 1
    if axes is None:
        return transpose(x, (0, *range(ndim, 0, -1)))
    return transpose(x, (0, *[batch_axis(int(a), ndim) for a in axes]))


transpose.defbatch(_transpose_batch)
transpose.defpattern(patterns.moves(transpose, _first))
permute_dims = transpose

moveaxis = linear(
    np.moveaxis,
    lambda g, ans, x, source, destination: moveaxis(g, destination, source),
    "moveaxis",
)
moveaxis.defbatch(
    lambda batched, x, source, destination: moveaxis(
        x, batch_axes(source, len(shape_of(x)) - 1), batch_axes(destination, len(shape_of(x)) - 1)
    )
)
moveaxis.defpattern(patterns.moves(moveaxis, _first))
swapaxes = linear(
    np.swapaxes, lambda g, ans, x, axis1, axis2: swapaxes(g, axis1, axis2), "swapaxes"
)
swapaxes.defbatch(
    lambda batched, x, axis1, axis2: swapaxes(
        x, batch_axis(axis1, len(shape_of(x)) - 1), batch_axis(axis2, len(shape_of(x)) - 1)
    )
)
swapaxes.defpattern(patterns.moves(swapaxes, _first))
expand_dims = linear(np.expand_dims, _reshape_back, "expand_dims")


def _expand_dims_batch(batched, x, axis):
    count = 1 if isinstance(axis, (int, np.integer)) else len(axis)
    return expand_dims(x, batch_axes(axis, len(shape_of(x)) - 1 + count))


expand_dims.defbatch(_expand_dims_batch)
expand_dims.defpattern(patterns.moves(expand_dims, _first))


def _squeeze_impl(x, axis=None):
    return np.squeeze(x, axis)


squeeze = linear(_squeeze_impl, _reshape_back, "squeeze")


def _squeeze_batch(batched, x, axis=None):
    shape = shape_of(x)[1:]
    if axis is None:
        return squeeze(x, tuple(i + 1 for i, n in enumerate(shape) if n == 1))
    return squeeze(x, batch_axes(axis, len(shape)))


squeeze.defbatch(_squeeze_batch)
squeeze.defpattern(patterns.moves(squeeze, _first))


def _of_one_kind(arrays) -> tuple:
    """The arrays of a join, where one is of another library (CuPy, Dask), with numbers
    and NumPy arrays among them made arrays of that library (which refuses to meet
    NumPy's): NumPy's join reads numbers as arrays, a join of such arrays cannot."""
    for a in arrays:
        if type(a) is not np.ndarray and is_foreign_array(a):
            return tuple(b if is_foreign_array(b) else _asarray_of_kind(b, like=a) for b in arrays)
    return arrays


def _concatenate_impl(axis, *arrays):
    return np.concatenate(_of_one_kind(arrays), axis=axis)


def _concatenate_vjp(g, ans, argnums, axis, *arrays):
    axis_ = 0 if axis is None else axis
    sizes = [1 if axis is None and not shape_of(a) else _len_along(a, axis) for a in arrays]
    bounds = np.cumsum([0, *sizes])
    out = []
    for i in argnums:
        index = [slice(None)] * len(shape_of(g))
        index[axis_] = slice(int(bounds[i - 1]), int(bounds[i]))
        piece = g[tuple(index)]
        out.append(reshape(piece, shape_of(arrays[i - 1])) if axis is None else piece)
    return out


def _len_along(a, axis):
    shape = shape_of(a)
    return int(np.prod(shape)) if axis is None else shape[axis]


_concatenate = Primitive(_concatenate_impl, "concatenate")
_concatenate.defvjp_all(_concatenate_vjp)


def _join_jvp(join: Primitive):
    """The forward rule of a join: the same join of the tangents (zeros where untraced)."""

    def rule(tangents, ans, axis, *arrays):
        pieces = [zeros_like(a) if t is None else t for t, a in zip(tangents[1:], arrays)]
        return join(axis, *pieces)

    return rule


_concatenate.defjvp_all(_join_jvp(_concatenate))


def _concatenate_batch(batched, axis, *arrays):
    size = batch_size(arrays, batched[1:])
    arrays = spread(arrays, batched[1:], size)
    if axis is None:
        return _concatenate(1, *[reshape(a, (size, -1)) for a in arrays])
    return _concatenate(batch_axis(axis, len(shape_of(arrays[0])) - 1), *arrays)


_concatenate.defbatch(_concatenate_batch)
_concatenate.defpattern(patterns.moves(_concatenate, _rest))


def concatenate(arrays, axis=0):
    """Join arrays along an existing axis (`axis=None` flattens them first)."""
    return _concatenate(axis, *arrays)


concat = concatenate  # the array API's name (NumPy 2)


def matrix_transpose(x):
    """The transpose of the last two axes of `x` (of at least two)."""
    if len(shape_of(x)) < 2:
        raise ValueError(
            "wengert.numpy.matrix_transpose: input array must be at least 2-dimensional"
        )
    return swapaxes(x, -1, -2)


def _concatenate_source(axis, *arrays):
    """What `_concatenate_impl` computes on NumPy arrays (generated source runs on them)."""
    return np.concatenate(arrays, axis=axis)


def _stack_source(axis, *arrays):
    """What `_stack_impl` computes on NumPy arrays."""
    return np.stack(arrays, axis=axis)


def _stack_impl(axis, *arrays):
    return np.stack(_of_one_kind(arrays), axis=axis)


def _stack_vjp(g, ans, argnums, axis, *arrays):
    moved = moveaxis(g, axis, 0)
    return [moved[i - 1] for i in argnums]


_stack = Primitive(_stack_impl, "stack")
_stack.defvjp_all(_stack_vjp)
_stack.defjvp_all(_join_jvp(_stack))


def _stack_batch(batched, axis, *arrays):
    size = batch_size(arrays, batched[1:])
    arrays = spread(arrays, batched[1:], size)
    return _stack(batch_axis(axis, len(shape_of(arrays[0]))), *arrays)


_stack.defbatch(_stack_batch)
_stack.defpattern(patterns.moves(_stack, _rest))


def stack(arrays, axis=0):
    """Join arrays along a new axis."""
    return _stack(axis, *arrays)


def atleast_1d(*arys):
    out = [x if len(shape_of(x)) >= 1 else reshape(x, (1,)) for x in arys]
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys):
    out = []
    for x in arys:
        shape = shape_of(x)
        out.append(x if len(shape) >= 2 else reshape(x, (1,) * (2 - len(shape)) + shape))
    return out[0] if len(out) == 1 else out


def atleast_3d(*arys):
    out = []
    for x in arys:
        shape = shape_of(x)
        nd = len(shape)
        if nd == 0:
            x = reshape(x, (1, 1, 1))
        elif nd == 1:
            x = reshape(x, (1, shape[0], 1))
        elif nd == 2:
            x = reshape(x, (*shape, 1))
        out.append(x)
    return out[0] if len(out) == 1 else out


def hstack(tup):
    arrs = atleast_1d(*tup) if len(tup) > 1 else [atleast_1d(tup[0])]
    return concatenate(arrs, axis=0 if len(shape_of(arrs[0])) == 1 else 1)


def vstack(tup):
    arrs = atleast_2d(*tup) if len(tup) > 1 else [atleast_2d(tup[0])]
    return concatenate(arrs, axis=0)


def array(obj, dtype=None, copy=True, ndmin=0):
    """An array from nested lists or tuples, which may hold traced values."""
    if isinstance(obj, Box):
        out = obj if dtype is None else astype(obj, dtype)
    elif isinstance(obj, (list, tuple)) and _holds_box(obj):
        out = stack([array(o, dtype) for o in obj])
    else:  # (an array of another library stays in it)
        like = None if type(obj) is np.ndarray else foreign_of(obj)
        if like is None:
            out = np.array(obj, dtype=dtype, copy=copy)
        elif is_foreign_array(obj):  # (its library's array() may lack copy=, as Dask's)
            out = obj.astype(obj.dtype if dtype is None else dtype, copy=copy)
        elif isinstance(obj, (list, tuple)):  # (nested: stacked in that library)
            out = stack([lift(array(o, dtype), like) for o in obj])
        else:
            out = np.array(obj, dtype=dtype, copy=copy, like=like)
    if ndmin > len(shape_of(out)):
        out = reshape(out, (1,) * (ndmin - len(shape_of(out))) + shape_of(out))
    return out


def asarray(obj, dtype=None):
    """Like `array`, without copying untraced arrays."""
    if isinstance(obj, Box) or (isinstance(obj, (list, tuple)) and _holds_box(obj)):
        return array(obj, dtype)
    return _asarray_of_kind(obj, dtype)


def _holds_box(obj) -> bool:
    for o in obj:
        if isinstance(o, Box) or (isinstance(o, (list, tuple)) and _holds_box(o)):
            return True
    return False


def _astype_impl(x, dtype):
    return _asarray_of_kind(x).astype(dtype)


def _astype_vjp(g, ans, x, dtype):
    target = np.result_type(peek(x))
    if target.kind != "c" and np.iscomplexobj(peek(g)):
        from .elementwise import real  # a real input's cotangent: the real part

        g = real(g)
    return _astype(g, target)


_astype = Primitive(_astype_impl, "astype")
_astype.defvjp(_astype_vjp)
_astype.defjvp(lambda t, ans, x, dtype: _astype(t, dtype))
_astype.elementwise = True


# To an integer or boolean type: no derivative (a batch under vmap stays one).
_astype_exact = nondiff(_astype_impl, "astype_exact", elementwise=True)


def astype(x, dtype):
    """`x` converted to `dtype`; to an integer or boolean type it has no derivative."""
    if not np.issubdtype(np.dtype(dtype), np.inexact):
        return _astype_exact(x, dtype)
    return _astype(x, dtype)


def full(shape, fill_value, dtype=None):
    """An array of `shape` filled with `fill_value` (differentiable in `fill_value`)."""
    if not isinstance(fill_value, Box):
        return np.full(shape, fill_value, dtype=dtype, like=foreign_of(fill_value))
    value = fill_value if dtype is None else astype(fill_value, dtype)
    return broadcast_to(value, (shape,) if isinstance(shape, int) else tuple(shape))


def full_like(a, fill_value, dtype=None):
    """An array shaped like `a` filled with `fill_value` (differentiable in `fill_value`)."""
    if type(a) in (list, tuple):
        a = np.asarray(a)
    if not isinstance(fill_value, Box):
        return full_shaped(a, fill_value, shape_of(a), dtype)
    return full(shape_of(a), fill_value, dtype=dtype if dtype is not None else peek(a).dtype)


def copy(a):
    """A copy of `a` (traced values are never written in place, so this is `a`)."""
    return a if isinstance(a, Box) else np.copy(a)


__all__ = [
    "array",
    "asarray",
    "astype",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "broadcast_to",
    "concat",
    "concatenate",
    "copy",
    "expand_dims",
    "full",
    "full_like",
    "hstack",
    "matrix_transpose",
    "moveaxis",
    "permute_dims",
    "ravel",
    "reshape",
    "squeeze",
    "stack",
    "swapaxes",
    "transpose",
    "vstack",
]

# Generated source (Program.source) computes these primitives with their implementations,
# copied (they use NumPy alone), or with the public function that they call.
reshape.defsource(np.reshape)
ravel.defsource(np.ravel)
transpose.defsource(np.transpose)
squeeze.defsource(np.squeeze)
_concatenate.defsource(_concatenate_source)
_stack.defsource(_stack_source)
_astype.defsource(_astype_impl)
_astype_exact.defsource(_astype_impl)

# Lists and tuples holding traced values are read as arrays by the public functions.
accept_array_likes(globals(), __all__)
