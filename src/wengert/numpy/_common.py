"""Helpers the NumPy modules share: axes, array-like arguments, constant arguments.

One place for the checks every function repeats: an axis against the number of axes (with
NumPy's AxisError naming the function), ``out=`` refused for traced values, lists holding
traced values read as arrays, arguments that fix a result's shape kept constant.
"""

from __future__ import annotations

import functools
import inspect
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from .._core.box import Box, getval, peek
from .._core.define import stop_gradient
from .._core.primitive import library_call
from .._core.vspace import asarray, foreign_of, index_like, lift, shape_of
from ..errors import AxisError, InPlaceWriteError
from .shaping import (
    array,
)


@functools.cache
def _numpy_defaults(fun: Callable) -> dict:
    """The keyword defaults of a NumPy function's signature (empty where it has none)."""
    try:
        parameters = inspect.signature(fun).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}


def numpy_call(fun: Callable, *args: Any, **kwargs: Any) -> Any:
    """``fun(*args, **kwargs)`` for a NumPy function; where an argument is an array of
    another library (Dask, CuPy), the keywords left at NumPy's defaults are not passed,
    since that library's version of `fun` may lack them (``overwrite_input=``, ``out=``,
    ``mode=``) and its defaults are NumPy's; what it raises names `fun` and the library."""
    found = foreign_of(*args, *kwargs.values())
    if found is None:
        return fun(*args, **kwargs)
    defaults = _numpy_defaults(fun)
    kwargs = {
        k: v for k, v in kwargs.items() if k not in defaults or not _same_default(v, defaults[k])
    }
    return library_call(fun, args, kwargs)  # (that library's own limits, named as such)


def _same_default(value: Any, default: Any) -> bool:
    """Whether a keyword's value is the default itself (by identity for None and
    objects, by equality for numbers, strings and booleans)."""
    if value is default:
        return True
    plain = (bool, int, float, str)
    return type(value) in plain and type(default) in plain and value == default


def _traced(*values: Any) -> bool:
    """Whether any value, or any entry of a list or tuple among them, is traced."""
    for value in values:
        if isinstance(value, Box):
            return True
        if isinstance(value, (list, tuple)) and _traced(*value):
            return True
    return False


def _as_array(value: Any, dtype: Any = None, like: Any = None) -> Any:
    """A traced value as it is, a list holding traced values stacked, else an array (of
    `dtype` if given: a constant that NumPy casts to another value's dtype): a NumPy
    array, or one of the library of an array in `value` or `like` (CuPy, Dask), so that
    a number next to such arrays does not become a NumPy array."""
    if isinstance(value, Box):
        return value if like is None else lift(value, like)
    if isinstance(value, (list, tuple)) and _traced(*value):
        return array(value)
    return asarray(value, dtype=dtype, like=like)


def _real_dtype(x: Any) -> np.dtype:
    """The real floating dtype matching `x` (float32 for float32 and complex64)."""
    return np.finfo(np.result_type(peek(x), np.float16)).dtype


def _axis(axis: int, ndim: int, name: str) -> int:
    """`axis` as a non-negative index, or NumPy's AxisError naming the function."""
    axis = operator.index(axis)
    if not -ndim <= axis < ndim:
        raise AxisError(axis, ndim, f"wengert.numpy.{name}")
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


def _shared(x: Any, answer: Callable[[np.ndarray], Any], what: str, name: str) -> Any:
    """``answer(value)`` for the value of `x`, where it fixes the shape of a result (which
    entries are zeros to trim): under vmap, the answer every member gives, since members
    with results of different shapes cannot be stacked."""
    value = asarray(getval(x))
    ndim = len(shape_of(x))
    if value.ndim == ndim:
        return answer(value)
    members = value.reshape((-1, *value.shape[value.ndim - ndim :]))
    answers = [answer(member) for member in members]
    if any(a != answers[0] for a in answers[1:]):
        raise ValueError(
            f"wengert.numpy.{name}: {what} differ between the members that vmap maps over, "
            "which would give them results of different shapes; vmap cannot stack those."
        )
    return answers[0]


def _index_array(value: Any, like: Any = None) -> Any:
    """Integer indices as an array, or as they are where vmap maps over them (a batch of
    indices, without derivative); with `like` (the array indexed), of its library."""
    if isinstance(value, Box) or (isinstance(value, (list, tuple)) and _traced(*value)):
        value = stop_gradient(_as_array(value))
        if isinstance(value, Box):
            return value
    return asarray(value, like=index_like(like))


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
