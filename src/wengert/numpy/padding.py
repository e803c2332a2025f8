"""Padding an array in every mode NumPy has (constant, edge, reflect, symmetric, wrap,
linear_ramp, statistics of the edges, empty), built from indexing and concatenation."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.box import Box, peek
from .._core.vspace import asarray, broadcast_to, foreign_of, is_lazy_array, shape_of
from . import reductions as _red
from ._arraylike import accept_array_likes
from ._common import _along, _as_array, _axis, _constant, _real_dtype, _traced, numpy_call
from .contractions import tensordot
from .selection import take
from .shaping import (
    concatenate,
    moveaxis,
    reshape,
)
from .statistics import median

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
    arr = _as_array(value) if traced else asarray(value, dtype=dtype)
    if traced and dtype is not None and np.result_type(peek(arr)) != dtype:
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
    return np.full(shape, value, dtype=peek(like).dtype, like=foreign_of(like, value))


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
        rows = asarray(rows, like=x)  # (a constant: on x's device)
        for block in (rows[:before], rows[before + n :]):
            parts.append(
                moveaxis(tensordot(block, x, ([1], [axis])), 0, axis) if len(block) else None
            )
    elif mode == "linear_ramp":
        ones = np.ones(n, dtype=_real_dtype(x))
        fraction = np.pad(ones, (before, after), mode="linear_ramp", end_values=0)
        fraction = asarray(fraction, like=x)
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
            parts.append(value + (edge_value - value) * np.reshape(part, shape))
    elif mode in ("maximum", "minimum", "mean", "median"):
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
    # Dask's pad gives other values than NumPy's where a reflection or a wrap is wider
    # than the axis: lazy arrays are padded by the rules below, as traced ones are.
    lazy = is_lazy_array(array) and mode in ("wrap", "reflect", "symmetric")
    if not _traced(array, *kwargs.values()) and not lazy:
        return numpy_call(np.pad, array, pad_width, mode=mode, **kwargs)
    if callable(mode) or mode not in _PAD_OPTIONS:
        raise ValueError(f"wengert.numpy.pad: mode {mode!r} is not supported for traced values")
    unknown = set(kwargs) - set(_PAD_OPTIONS[mode])
    if unknown:
        raise ValueError(
            f"wengert.numpy.pad: unsupported keyword arguments for mode {mode!r}: {sorted(unknown)}"
        )
    x = _as_array(array)
    ndim = len(shape_of(x))
    dtype = np.result_type(peek(x))
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


__all__ = [
    "pad",
]

# Lists and tuples holding traced values are read as arrays by the public functions.
accept_array_likes(globals(), __all__)
