"""NumPy's functions that apply a Python function over parts of arrays: `apply_along_axis`,
`apply_over_axes` and `vectorize`.

With traced values the Python function is called on traced slices (or entries) and its
results are stacked, so derivatives flow through whatever it computes. With plain values
NumPy's own function runs; should the Python function return traced values anyway (it
reads a traced value from an enclosing scope), NumPy cannot store them in its plain
result, and the same loop runs here instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._core.box import Box
from .._core.tree import tree_flatten
from .._core.vspace import foreign_of, shape_of
from ..errors import TracedConversionError
from ._arraylike import accept_array_likes
from ._common import _axis
from .shaping import asarray, astype, broadcast_to, expand_dims, moveaxis, reshape, stack


def _holds_box(*values: Any) -> bool:
    return any(isinstance(x, Box) for x in tree_flatten(values)[0])


def apply_along_axis(func1d: Callable, axis: int, arr: Any, *args: Any, **kwargs: Any) -> Any:
    """``func1d`` applied to each 1-D slice of `arr` along `axis`; the axes of its result
    take the place of `axis`.

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> x = wnp.array([[1.0, 2.0], [3.0, 4.0]])
    >>> wnp.apply_along_axis(lambda v: v[0] * v[1], 1, x)
    array([ 2., 12.])
    >>> wg.grad(lambda x: wnp.sum(wnp.apply_along_axis(wnp.prod, 0, x)))(x)
    array([[3., 4.],
           [1., 2.]])
    """
    if not _holds_box(arr, args, kwargs):
        try:
            return np.apply_along_axis(func1d, axis, arr, *args, **kwargs)
        except TracedConversionError:
            pass
    arr = asarray(arr)
    ndim = len(shape_of(arr))
    axis = _axis(axis, ndim, "apply_along_axis")
    moved = moveaxis(arr, axis, -1)
    outer = tuple(shape_of(moved)[:-1])
    if 0 in outer:
        raise ValueError("Cannot apply_along_axis when any iteration dimensions are 0")
    results = [asarray(func1d(moved[index], *args, **kwargs)) for index in np.ndindex(*outer)]
    inner = tuple(shape_of(results[0]))
    out = reshape(stack(results), outer + inner)
    if inner:
        out = moveaxis(
            out,
            tuple(range(len(outer), len(outer) + len(inner))),
            tuple(range(axis, axis + len(inner))),
        )
    return out


def apply_over_axes(func: Callable, a: Any, axes: Any) -> Any:
    """``func(a, axis)`` applied for each axis of `axes` in turn, a reduced axis kept
    with length one.

    >>> import wengert.numpy as wnp
    >>> wnp.apply_over_axes(wnp.sum, wnp.ones((2, 3)), [0, 1])
    array([[6.]])
    """
    val = asarray(a)
    ndim = len(shape_of(val))
    for axis in np.atleast_1d(axes).tolist():
        axis = axis + ndim if axis < 0 else axis
        res = func(val, axis)
        if len(shape_of(res)) != ndim:
            res = expand_dims(res, axis)
            if len(shape_of(res)) != ndim:
                raise ValueError("function is not returning an array of the correct shape")
        val = res
    return val


class vectorize:
    """NumPy's vectorize: `pyfunc` applied to each entry of its broadcast arguments.

    Arguments named in `excluded` (by position or keyword) are passed as they are;
    `otypes` casts the results. With traced arguments `pyfunc` is called on traced entries
    and its results are stacked (a ``signature=`` needs plain arguments).

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> f = wnp.vectorize(lambda x, y: x * y if x > 0 else y)
    >>> wg.grad(lambda x: wnp.sum(f(x, 3.0)))(wnp.array([1.0, -1.0]))
    array([3., 0.])
    """

    def __init__(
        self,
        pyfunc: Callable | None = None,
        otypes: Any = None,
        doc: str | None = None,
        excluded: Any = None,
        cache: bool = False,
        signature: str | None = None,
    ):
        self.pyfunc = pyfunc
        self.otypes = otypes
        self.excluded = set() if excluded is None else set(excluded)
        self.signature = signature
        self._options = {"otypes": otypes, "doc": doc, "excluded": excluded, "cache": cache}
        self._options["signature"] = signature
        self._numpy = None if pyfunc is None else np.vectorize(pyfunc, **self._options)
        self.__doc__ = doc if doc is not None else getattr(pyfunc, "__doc__", None)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.pyfunc is None:  # used as a decorator with options: @vectorize(otypes=...)
            (pyfunc,) = args
            return vectorize(pyfunc, **self._options)
        mapped = [i for i in range(len(args)) if i not in self.excluded]
        keys = [k for k in kwargs if k not in self.excluded]
        plain = not _holds_box([args[i] for i in mapped], [kwargs[k] for k in keys])
        # (np.vectorize reads arrays of another library, CuPy's, as NumPy's: looped here)
        if plain and foreign_of(*args, *kwargs.values()) is None:
            try:
                return self._numpy(*args, **kwargs)
            except TracedConversionError:
                pass
        if self.signature is not None:
            raise TypeError(
                "wengert.numpy.vectorize: a signature= with traced arguments is not "
                "supported; use wengert.vmap, or apply_along_axis, instead."
            )
        return self._loop(args, kwargs, mapped, keys)

    def _loop(self, args: tuple, kwargs: dict, mapped: list, keys: list) -> Any:
        values = [asarray(args[i]) for i in mapped] + [asarray(kwargs[k]) for k in keys]
        shape = np.broadcast_shapes(*[tuple(shape_of(v)) for v in values])
        values = [broadcast_to(v, shape) for v in values]
        results = []
        for index in np.ndindex(*shape):
            call_args, call_kwargs = list(args), dict(kwargs)
            entries = [v[index] for v in values]
            for i, entry in zip(mapped, entries):
                call_args[i] = entry
            for k, entry in zip(keys, entries[len(mapped) :]):
                call_kwargs[k] = entry
            results.append(self.pyfunc(*call_args, **call_kwargs))
        if not results:
            raise ValueError("wengert.numpy.vectorize: cannot call it on empty traced inputs")
        if isinstance(results[0], tuple):
            outs = [stack([asarray(r[j]) for r in results]) for j in range(len(results[0]))]
            return tuple(self._shaped(o, shape, j) for j, o in enumerate(outs))
        return self._shaped(stack([asarray(r) for r in results]), shape, 0)

    def _shaped(self, out: Any, shape: tuple, j: int) -> Any:
        out = reshape(out, shape + tuple(shape_of(out)[1:]))
        if self.otypes:
            out = astype(out, self.otypes[j])  # a string of type codes, or a list of types
        return out


__all__ = ["apply_along_axis", "apply_over_axes", "vectorize"]

# Lists and tuples holding traced values are read as arrays by the public functions.
accept_array_likes(globals(), __all__)
