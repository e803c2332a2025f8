"""Selecting entries: take, take_along_axis, choose, compress, extract, select and
piecewise. Index arguments carry no derivative; under vmap they are each member's own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._core.box import Box, any_value, peek
from .._core.define import nondiff, stop_gradient
from .._core.vspace import (
    asarray,
    broadcast_to,
    full_shaped,
    index_like,
    is_foreign_array,
    is_lazy_array,
    shape_of,
)
from ._arraylike import accept_array_likes
from ._common import _along, _as_array, _axis, _index_array, _no_out, _traced, numpy_call
from .elementwise import nonzero, where
from .indexing import index_update, take_index
from .nondiff import logical_not, logical_or
from .shaping import (
    ravel,
    reshape,
    stack,
)

# --- selection ----------------------------------------------------------------------------


def take(a: Any, indices: Any, axis: int | None = None, out: Any = None, mode: str = "raise"):
    """Entries at `indices` along `axis` (of the flattened array for None).

    Differentiable in `a`; repeated indices add their cotangents.

    >>> import wengert.numpy as wnp
    >>> wnp.take(wnp.array([[1.0, 2.0], [3.0, 4.0]]), [1, 1, 0], axis=1)
    array([[2., 2., 1.],
           [4., 4., 3.]])
    """
    idx = _index_array(indices, like=a)
    if not isinstance(a, Box) and not isinstance(idx, Box) and not is_lazy_array(a):
        if out is None and mode == "raise":  # (other libraries' take may lack mode=)
            return np.take(a, idx, axis=axis)
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
    idx = _index_array(indices, like=arr)
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
    like = index_like(arr)
    fancy = []
    for dim in range(ndim):
        if dim == axis:
            fancy.append(idx)
        else:
            line = np.arange(shape[dim], like=like)
            fancy.append(np.reshape(line, [-1 if d == dim else 1 for d in range(ndim)]))
    return take_index(arr, tuple(fancy))


def choose(a: Any, choices: Any, out: Any = None, mode: str = "raise") -> Any:
    """Entries of ``choices[a]``, with `a` and every choice broadcast together.

    Differentiable in the choices.

    >>> import wengert.numpy as wnp
    >>> wnp.choose([1, 0, 1], [wnp.array([1.0, 2.0, 3.0]), 10.0])
    array([10.,  2., 10.])
    """
    idx = _index_array(a, like=choices)
    if not _traced(choices) and not isinstance(idx, Box):
        return numpy_call(np.choose, idx, choices, out=out, mode=mode)
    _no_out(out, "choose")
    dtype = np.result_type(peek(idx))
    if not np.can_cast(dtype, np.intp, "safe"):
        raise TypeError(
            f"wengert.numpy.choose: the index array has dtype {dtype}, which cannot be "
            "cast safely to an integer index (as in NumPy); pass integer indices."
        )
    options = [_as_array(c) if isinstance(c, (list, tuple)) else c for c in choices]
    # NumPy's promotion of the choices, Python numbers weak (a 1.0 keeps float32 choices).
    dtype = np.result_type(*[peek(c) for c in options])
    options = [_as_array(c, dtype) for c in options]
    k = len(options)
    if mode == "wrap":
        idx = _wrap(idx, k)
    elif mode == "clip":
        idx = _clip(idx, 0, k - 1)
    elif any_value((idx < 0) | (idx >= k)):  # (in any member of a batch)
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
    cond = _index_array(condition, like=a)
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
    cond = _index_array(condition, like=arr)
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
    return asarray(condition, dtype=bool)


_to_bool = nondiff(lambda c: asarray(c).astype(bool), "to_bool", elementwise=True)


def piecewise(x: Any, condlist: Any, funclist: Sequence, *args: Any, **kw: Any) -> Any:
    """Where each condition holds, the matching function of `x` (or constant); later
    conditions override earlier ones, and one extra function applies where none holds.

    Under `vmap`, conditions computed from the mapped values select different entries in
    each member: each function is then applied to all of `x` (so it must act entry by
    entry, as in JAX) and kept where its condition holds. So it is on lazy (Dask) arrays,
    where the entries a condition selects are not known until computed.

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
        not isinstance(condlist[0], (list, np.ndarray, Box))
        and not is_foreign_array(condlist[0])
        and len(shape_of(x)) != 0
    ):
        condlist = [condlist]
    if len(condlist) not in (n_funcs - 1, n_funcs):
        raise ValueError(
            f"wengert.numpy.piecewise: with {len(condlist)} condition(s), either "
            f"{len(condlist)} or {len(condlist) + 1} functions are expected"
        )
    result = full_shaped(x, 0, shape_of(x))
    if _traced(*condlist) or is_lazy_array(peek(x)) or any(map(is_lazy_array, condlist)):
        return _piecewise_traced(x, condlist, funclist, result, args, kw)
    conds = asarray(condlist, dtype=bool, like=x)
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


__all__ = [
    "choose",
    "compress",
    "extract",
    "piecewise",
    "select",
    "take",
    "take_along_axis",
]


# Generated source (Program.source) computes these primitives with their implementations,
# copied (they use NumPy alone), or with the public function that they call.
def _to_bool_impl(c):
    return np.asarray(c).astype(bool)


_to_bool.defsource(_to_bool_impl)

# Lists and tuples holding traced values are read as arrays by the public functions.
accept_array_likes(globals(), __all__)
