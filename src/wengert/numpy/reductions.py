"""Reductions over axes: sum, mean, prod, max, min and what is built from them."""

from __future__ import annotations

import numpy as np

from .._core.box import Box, getval
from .._core.primitive import Primitive
from .._core.vspace import broadcast_to, shape_of
from .elementwise import _where, sqrt, square
from .shaping import moveaxis, reshape


def _axes(axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    return tuple(int(a) % ndim if ndim else 0 for a in axis)


def _kept_shape(shape: tuple, axis) -> tuple:
    """The shape a reduction over `axis` leaves with keepdims=True."""
    axes = _axes(axis, len(shape))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _count(shape: tuple, axis) -> int:
    axes = _axes(axis, len(shape))
    return int(np.prod([shape[i] for i in axes])) if axes else 1


def expand_reduced(g, x, axis, keepdims: bool):
    """A reduction's cotangent `g` broadcast back over the reduced axes of `x`."""
    shape = shape_of(x)
    if not keepdims:
        g = reshape(g, _kept_shape(shape, axis))
    return broadcast_to(g, shape)


def _sum_impl(x, axis=None, dtype=None, keepdims=False):
    return np.sum(x, axis=axis, dtype=dtype, keepdims=keepdims)


sum = Primitive(_sum_impl, "sum")
sum.defvjp(
    lambda g, ans, x, axis=None, dtype=None, keepdims=False: expand_reduced(g, x, axis, keepdims)
)
sum.defjvp(
    lambda t, ans, x, axis=None, dtype=None, keepdims=False: sum(
        t, axis=axis, dtype=dtype, keepdims=keepdims
    )
)


def _mean_impl(x, axis=None, dtype=None, keepdims=False):
    return np.mean(x, axis=axis, dtype=dtype, keepdims=keepdims)


mean = Primitive(_mean_impl, "mean")
mean.defvjp(
    lambda g, ans, x, axis=None, dtype=None, keepdims=False: (
        expand_reduced(g, x, axis, keepdims) / _count(shape_of(x), axis)
    )
)
mean.defjvp(
    lambda t, ans, x, axis=None, dtype=None, keepdims=False: mean(
        t, axis=axis, dtype=dtype, keepdims=keepdims
    )
)


def _prod_impl(x, axis=None, dtype=None, keepdims=False):
    return np.prod(x, axis=axis, dtype=dtype, keepdims=keepdims)


def _prod_partials(ans, x, axis, keepdims):
    """d prod / d x_i = product of the other entries; exact at zeros too."""
    value = getval(x)
    full = expand_reduced(ans, x, axis, keepdims)
    if np.all(value != 0):
        return full / x
    axes = _axes(axis, np.ndim(value))
    if isinstance(x, Box):
        return _prod_others_traced(x, axes)
    # With zeros, products of the entries left and right of each one (exact, no 0/0).
    moved = np.moveaxis(value, axes, tuple(range(-len(axes), 0)))
    flat = moved.reshape((*moved.shape[: moved.ndim - len(axes)], -1))
    left = np.cumprod(np.concatenate([np.ones_like(flat[..., :1]), flat[..., :-1]], -1), -1)
    right = np.cumprod(np.concatenate([np.ones_like(flat[..., :1]), flat[..., :0:-1]], -1), -1)[
        ..., ::-1
    ]
    others = (left * right).reshape(moved.shape)
    return np.moveaxis(others, tuple(range(-len(axes), 0)), axes)


def _prod_others_traced(x, axes):
    """Products of the other entries, differentiably (for higher orders at zeros).

    Each entry is replaced by 1 in its own copy of the row: O(n^2) work, used only when
    the input has zeros and an outer transformation traces it.
    """
    dest = tuple(range(-len(axes), 0))
    moved = moveaxis(x, axes, dest)
    lead = shape_of(moved)[: len(shape_of(moved)) - len(axes)]
    n = int(np.prod([shape_of(x)[a] for a in axes]))
    flat = reshape(moved, (*lead, 1, n))
    eye = np.eye(n, dtype=bool)
    others = prod(_where(eye, 1.0, flat), axis=-1)
    return moveaxis(reshape(others, shape_of(moved)), dest, axes)


prod = Primitive(_prod_impl, "prod")
prod.defvjp(
    lambda g, ans, x, axis=None, dtype=None, keepdims=False: (
        expand_reduced(g, x, axis, keepdims) * _prod_partials(ans, x, axis, keepdims)
    )
)
prod.defjvp(
    lambda t, ans, x, axis=None, dtype=None, keepdims=False: sum(
        t * _prod_partials(ans, x, axis, keepdims), axis=axis, keepdims=keepdims
    )
)


def _extremum(np_fun, name):
    def impl(x, axis=None, keepdims=False, **kw):
        return np_fun(x, axis=axis, keepdims=keepdims, **kw)

    prim = Primitive(impl, name)

    def weights(ans, x, axis, keepdims):
        # Ties share the derivative evenly.
        hit = getval(x) == getval(expand_reduced(ans, x, axis, keepdims))
        return hit / np.sum(hit, axis=axis, keepdims=True)

    prim.defvjp(
        lambda g, ans, x, axis=None, keepdims=False, **kw: (
            expand_reduced(g, x, axis, keepdims) * weights(ans, x, axis, keepdims)
        )
    )
    prim.defjvp(
        lambda t, ans, x, axis=None, keepdims=False, **kw: sum(
            t * weights(ans, x, axis, keepdims), axis=axis, keepdims=keepdims
        )
    )
    return prim


max = _extremum(np.max, "max")
min = _extremum(np.min, "min")
amax, amin = max, min


def var(a, axis=None, dtype=None, ddof=0, keepdims=False):
    """Variance along `axis`, built from mean (so both rules follow)."""
    centred = a - mean(a, axis=axis, keepdims=True)
    n = _count(shape_of(a), axis)
    return sum(square(centred), axis=axis, dtype=dtype, keepdims=keepdims) / (n - ddof)


def std(a, axis=None, dtype=None, ddof=0, keepdims=False):
    """Standard deviation along `axis`."""
    return sqrt(var(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims))


__all__ = ["amax", "amin", "max", "mean", "min", "prod", "std", "sum", "var"]
