"""NumPy's conversions to arrays that ask for a memory layout, a subclass or a check.

A traced value is never written in place and has no memory layout of its own to keep, so
for it each of these is `asarray` (with NumPy's dtype, and at least one axis where NumPy
gives one): the identity, whose derivative is the identity. Plain values get NumPy's own
function.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.box import Box, all_value
from .._core.vspace import foreign_of
from ._arraylike import accept_array_likes
from .nondiff import isfinite
from .shaping import asarray, atleast_1d


def asanyarray(a: Any, dtype: Any = None, order: Any = None, **kwargs: Any) -> Any:
    """`a` as an array (a traced value as it is, or cast to `dtype`).

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> wg.grad(lambda x: wnp.sum(wnp.asanyarray([x, 2.0 * x])))(1.0)
    3.0
    """
    if not isinstance(a, Box):
        return _of_kind(np.asanyarray, a, dtype=dtype, order=order, **kwargs)
    return asarray(a, dtype)


def ascontiguousarray(a: Any, dtype: Any = None, **kwargs: Any) -> Any:
    """`a` as an array of at least one axis, laid out in C order for plain arrays."""
    if not isinstance(a, Box):
        return _of_kind(np.ascontiguousarray, a, dtype=dtype, **kwargs)
    return atleast_1d(asarray(a, dtype))


def asfortranarray(a: Any, dtype: Any = None, **kwargs: Any) -> Any:
    """`a` as an array of at least one axis, laid out in Fortran order for plain arrays."""
    if not isinstance(a, Box):
        return _of_kind(np.asfortranarray, a, dtype=dtype, **kwargs)
    return atleast_1d(asarray(a, dtype))


def require(a: Any, dtype: Any = None, requirements: Any = None, **kwargs: Any) -> Any:
    """`a` as an array of `dtype` meeting NumPy's layout `requirements` (plain arrays;
    a traced value meets them all, since it is never written in place)."""
    if not isinstance(a, Box):
        return _of_kind(np.require, a, dtype=dtype, requirements=requirements, **kwargs)
    return asarray(a, dtype)


def asarray_chkfinite(a: Any, dtype: Any = None, order: Any = None) -> Any:
    """`a` as an array, or NumPy's ValueError where it holds an inf or a NaN."""
    if not isinstance(a, Box) and foreign_of(a) is None:
        return np.asarray_chkfinite(a, dtype=dtype, order=order)
    a = asarray(a, dtype)
    if a.dtype.kind in "fc" and not all_value(isfinite(a)):
        raise ValueError("array must not contain infs or NaNs")
    return a


def _of_kind(np_fun, a: Any, **kwargs: Any) -> Any:
    """``np_fun(a, **kwargs)``, an array of another library (CuPy, Dask) in `a` kept in
    its library (through ``like=``: NumPy's conversions read anything else as NumPy's)."""
    like = None if type(a) is np.ndarray else foreign_of(a)
    if like is None:
        return np_fun(a, **kwargs)
    return np_fun(a, like=like, **kwargs)


__all__ = ["asanyarray", "ascontiguousarray", "asarray_chkfinite", "asfortranarray", "require"]

# Lists and tuples holding traced values are read as arrays by the public functions.
accept_array_likes(globals(), __all__)
