"""What the engine needs to know about values: shapes, zeros and broadcasting.

Broadcasting is undone here, in one place: a primitive marked `broadcasts` may return
cotangents in the broadcast shape and tangents in an input's shape, and the engine
calls `unbroadcast` and `broadcast_tangent` to fix them. The two linear primitives
used for that are each other's transpose.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import patterns
from .batching import align
from .box import Box, ops, peek, shape_of
from .primitive import Primitive


def is_complex(x: Any) -> bool:
    """Whether a value, traced or not, has a complex dtype."""
    x = peek(x)
    dtype = getattr(x, "dtype", None)
    if dtype is not None:
        return dtype.kind == "c"
    return isinstance(x, complex) or np.iscomplexobj(x)


def is_foreign_array(x: Any) -> bool:
    """Whether `x` is an array of another library that speaks NumPy's protocols (Dask,
    CuPy): not a NumPy array or scalar and not a traced value. Such arrays may be lazy, so
    code that would read their entries (``bool(...)``, ``np.asarray``) must not run on them.
    """
    return (
        type(x) is not np.ndarray
        and hasattr(type(x), "__array_function__")
        and not isinstance(x, (np.ndarray, Box))
    )


def chunked_like(value: Any, like: Any) -> Any:
    """`value` in the chunks of `like` where both are chunked arrays (Dask) of one shape.

    A cotangent broadcast back over reduced axes is otherwise one block along them, so a
    gradient would lose its input's chunks. Traced values and NumPy arrays pass unchanged.
    """
    like = peek(like)
    chunks = getattr(like, "chunks", None) if is_foreign_array(like) else None
    if chunks is None or not is_foreign_array(value) or np.isnan(like.shape).any():
        return value  # (unknown sizes, after a boolean mask: nothing to match)
    rechunk = getattr(value, "rechunk", None)
    if rechunk is None or getattr(value, "chunks", chunks) == chunks:
        return value
    return rechunk(chunks)


def square_blocks(a: Any) -> Any:
    """A lazy (Dask) matrix in equal square blocks (those of its columns where they
    divide it, else one block): Dask's LU and Cholesky, under inv, solve and cholesky,
    take no other layout. Other arrays are returned as they are."""
    chunks = getattr(a, "chunks", None) if is_lazy_array(a) else None
    if chunks is None or len(chunks) != 2 or len(set(chunks[0] + chunks[1])) == 1:
        return a
    if a.shape[0] != a.shape[1]:  # (not square: the library's own error says so)
        return a
    n, size = a.shape[-1], chunks[1][0]
    size = size if size and n % size == 0 else n
    blocks = (size,) * (n // size) if n else (0,)
    return a.rechunk((blocks, blocks))


def refuse_lazy(name: str, x: Any, why: str) -> None:
    """Raise a TypeError if `x` is a foreign (possibly lazy) array on which `name` cannot
    work, saying why; nothing for NumPy values."""
    if is_foreign_array(x):
        kind = f"{type(x).__module__.split('.')[0]} {type(x).__name__}"
        raise TypeError(
            f"wengert.numpy.{name} does not support a {kind} here: {why}. Compute the "
            "array (.compute() for dask) first, or rewrite without this operation."
        )


def _sum_to_shape(x, shape):
    """Sum `x` over the axes that broadcasting from `shape` added or stretched."""
    xshape = np.shape(x)
    if xshape == shape:
        return x
    lead = len(xshape) - len(shape)
    stretched = tuple(lead + i for i, n in enumerate(shape) if n == 1 and xshape[lead + i] != 1)
    if not stretched and shape:  # only leading axes to sum: the result has `shape` already
        return np.sum(x, axis=tuple(range(lead)))
    out = np.sum(x, axis=tuple(range(lead)) + stretched, keepdims=True)
    return np.reshape(out, shape) if lead or np.ndim(out) != len(shape) else out


def _broadcast_to(x, shape, subok=False, chunks=None):
    """``np.broadcast_to``; with `chunks` (a Dask array's), the result is made in those
    chunks at once, each block a view of `x`, instead of one block to be re-chunked."""
    if chunks is None:  # (subok only when asked: other libraries' versions lack it)
        return np.broadcast_to(x, shape, subok=True) if subok else np.broadcast_to(x, shape)
    from dask.array import broadcast_to as chunked_broadcast  # chunks come from Dask alone

    have = getattr(x, "chunks", None)
    if have is not None:  # Dask needs x's own chunks to match along the axes it keeps
        lead = len(shape) - len(have)
        want = tuple(c if n != 1 else (1,) for c, n in zip(chunks[lead:], np.shape(x)))
        if want != have:
            x = x.rechunk(want)
    return chunked_broadcast(x, shape, chunks=chunks)


def broadcast_like(g: Any, x: Any) -> Any:
    """`g` broadcast to the shape of `x`, in the chunks of `x` where it is a Dask array:
    the cotangent of a sum or of a broadcast keeps its input's blocks, so a gradient over a
    chunked array costs one task per block and never gathers an axis into one block."""
    shape = shape_of(x)
    value = peek(x)
    if type(value) is np.ndarray or not is_foreign_array(value):
        return broadcast_to(g, shape)
    chunks = getattr(value, "chunks", None)
    if chunks is None or np.isnan(value.shape).any() or shape != tuple(value.shape):
        return broadcast_to(g, shape)
    return broadcast_to(g, shape, chunks=chunks)


sum_to_shape = Primitive(_sum_to_shape, "sum_to_shape")
broadcast_to = Primitive(_broadcast_to, "broadcast_to")
sum_to_shape.defvjp(lambda g, ans, x, shape: broadcast_like(g, x))
sum_to_shape.defjvp(lambda t, ans, x, shape: sum_to_shape(t, shape))
broadcast_to.defvjp(lambda g, ans, x, shape, **kw: sum_to_shape(g, shape_of(x)))
broadcast_to.defjvp(lambda t, ans, x, shape, **kw: broadcast_to(t, shape))


def _broadcast_to_batch(batched, x, shape, **kwargs):
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
    x = align(x, len(shape))
    kwargs.pop("chunks", None)  # a batch has another shape than one member's chunks
    return broadcast_to(x, (shape_of(x)[0], *shape), **kwargs)


def _sum_to_shape_batch(batched, x, shape):
    xshape = shape_of(x)
    lead = len(xshape) - 1 - len(shape)
    if lead > 0:
        x = ops.sum(x, axis=tuple(range(1, lead + 1)))
    return sum_to_shape(x, (xshape[0], *shape))


broadcast_to.defbatch(_broadcast_to_batch)
sum_to_shape.defbatch(_sum_to_shape_batch)
broadcast_to.defpattern(patterns.moves(broadcast_to, lambda args: (0,)))
sum_to_shape.defpattern(patterns.sum_to_shape)


_ARRAYS = (np.ndarray, np.float64)
_PYTHON_SCALARS = (float, int)


def unbroadcast(cotangent: Any, primal: Any) -> Any:
    """The cotangent summed back to the shape of `primal`, in its dtype (real for a real
    primal, and in its precision: a float32 input gets a float32 cotangent)."""
    # Fast path for plain arrays and scalars, which is every first-order backward pass.
    if type(cotangent) in _ARRAYS:
        primal_type = type(primal)
        if primal_type in _PYTHON_SCALARS:
            if cotangent.shape != ():
                cotangent = sum_to_shape(cotangent, ())
            return ops.real(cotangent) if cotangent.dtype.kind == "c" else cotangent
        if primal_type in _ARRAYS:
            if cotangent.shape != primal.shape:
                cotangent = sum_to_shape(cotangent, primal.shape)
            if cotangent.dtype is primal.dtype:
                return cotangent
            return _in_dtype(cotangent, primal)
    return _unbroadcast(cotangent, primal)


_COMPLEX_SCALARS = (complex, np.complex128, np.complex64)
_NUMPY_VALUES = (np.ndarray, np.float64, np.float32, np.complex128, np.complex64)


def match_realness(cotangent: Any, primal: Any) -> Any:
    """The cotangent in the dtype of `primal`: real for a real primal, and in its precision.

    A real input perturbed by t contributes Re(<g, t>) to any real result, so only the
    real part of its cotangent matters. A cotangent computed in a wider precision than its
    primal (a float32 input mixed with float64 values) is cast to the primal's.
    """
    kind = type(cotangent)
    if kind in _NUMPY_VALUES:
        primal_type = type(primal)
        if primal_type in _NUMPY_VALUES:
            if cotangent.dtype is primal.dtype:
                return cotangent
        elif primal_type in _PYTHON_SCALARS and cotangent.dtype.kind != "c":
            return cotangent
    elif kind not in _COMPLEX_SCALARS and not isinstance(cotangent, Box):
        if kind in _PYTHON_SCALARS or not is_foreign_array(cotangent):  # a Python number
            return cotangent
    return _in_dtype(cotangent, primal)


def _in_dtype(cotangent: Any, primal: Any) -> Any:
    """`cotangent` made real if `primal` is real, then cast to the precision of `primal`."""
    value = peek(primal)
    if not is_complex(value) and is_complex(cotangent):
        cotangent = ops.real(cotangent)
    if type(value) in _PYTHON_SCALARS or type(value) is complex:
        return cotangent  # a Python number has no precision of its own
    target = np.result_type(value)
    have = getattr(peek(cotangent), "dtype", None)
    if have is None or have == target or target.kind not in "fc":
        return cotangent
    return ops.astype(cotangent, target)


def _unbroadcast(cotangent: Any, primal: Any) -> Any:
    shape = shape_of(primal)
    if shape_of(cotangent) != shape:
        cotangent = sum_to_shape(cotangent, shape)
    return _in_dtype(cotangent, primal)


def broadcast_tangent(tangent: Any, ans: Any) -> Any:
    """The tangent broadcast to the shape of the result `ans`, in its dtype (the tangent
    of a float32 input added to a float64 constant is a float64 tangent)."""
    if type(tangent) in _ARRAYS and type(ans) in _ARRAYS:  # plain arrays: first order
        if tangent.shape != ans.shape:
            tangent = broadcast_to(tangent, ans.shape)
        return tangent if tangent.dtype is ans.dtype else _tangent_in_dtype(tangent, ans)
    value = peek(ans)
    if type(value) is not np.ndarray and is_foreign_array(value):
        tangent = lift(tangent, value)  # (a number's tangent, for a CuPy or Dask value)
    shape = shape_of(ans)
    if shape_of(tangent) != shape:
        tangent = broadcast_to(tangent, shape)
    return _tangent_in_dtype(tangent, ans)


def _tangent_in_dtype(tangent: Any, ans: Any) -> Any:
    """`tangent` cast to the dtype of the result `ans` (complex if it is complex)."""
    value = peek(ans)
    have = getattr(peek(tangent), "dtype", None)
    if have is None or type(value) in _PYTHON_SCALARS or type(value) is complex:
        return tangent
    target = np.result_type(value)
    if have == target or target.kind not in "fc":
        return tangent
    if target.kind == "c" and have.kind != "c":
        tangent = tangent + 0j  # a Python complex zero: weak, so the precision is kept
    elif target.kind != "c" and have.kind == "c":
        tangent = ops.real(tangent)
    if peek(tangent).dtype != target:
        tangent = ops.astype(tangent, target)
    return tangent


def inexact_dtype(value: Any) -> np.dtype:
    """The floating (or complex) dtype that derivatives of `value` take."""
    dtype = getattr(value, "dtype", None)  # also a symbolic expression's, which has no array
    return np.result_type(np.asarray(value).dtype if dtype is None else dtype, np.float16)


def _filled_like(x: Any, fill: float) -> Any:
    value = peek(x)
    if isinstance(x, Box) and shape_of(x) != np.shape(value):
        # A batch of values (under vmap): one member's shape.
        return np.full_like(value, fill, dtype=inexact_dtype(value), shape=shape_of(x))
    kind = type(value)
    if kind is float or kind is int or kind is bool:
        return fill
    if kind is complex:
        return complex(fill)
    if kind is np.float64:
        return np.float64(fill)
    if isinstance(value, np.ndarray):
        return np.full_like(value, fill, dtype=inexact_dtype(value))
    filled = getattr(value, "filled_like", None)  # a value kind with its own constants
    if filled is not None:
        return filled(fill)
    if is_foreign_array(value):  # Dask, CuPy: constants of the input's kind
        return np.full_like(value, fill, dtype=inexact_dtype(value))
    return np.full(np.shape(value), fill, dtype=inexact_dtype(value))


def full_shaped(x: Any, fill: Any, shape: tuple, dtype: Any = None) -> np.ndarray:
    """An untraced array of `shape` filled with `fill`, of `x`'s array kind and dtype (or
    `dtype`): ``np.full_like`` for arrays, a NumPy array for values that are not (numbers,
    symbolic expressions)."""
    value = peek(x)
    if isinstance(value, np.ndarray) or hasattr(value, "__array_function__"):
        return np.full_like(value, fill, dtype=dtype, shape=shape)
    return np.full(shape, fill, dtype=np.result_type(value) if dtype is None else dtype)


def foreign_of(*values: Any) -> Any:
    """The first array of another library (CuPy, Dask) among `values`, looked for under
    boxes and in lists and tuples, or None: the ``like=`` that makes NumPy's creation
    functions (``np.eye(n, like=...)``) give constants of the kind of the values at hand."""
    for value in values:
        value = peek(value)
        if type(value) is np.ndarray:
            continue
        if isinstance(value, (list, tuple)):
            found = foreign_of(*value)
            if found is not None:
                return found
        elif is_foreign_array(value):
            return value
    return None


def eye_like(n: int, m: int | None = None, k: int = 0, dtype: Any = float, like: Any = None):
    """``np.eye(n, m, k, dtype)`` as an array of the library of `like` (an array of another
    library, or None for NumPy). ``np.eye(..., like=)`` passes NumPy's ``order=`` on, which
    Dask's ``eye`` lacks; the identity is compared from two ``arange``s there instead."""
    if like is None:
        return np.eye(n, m, k, dtype=dtype)
    rows = np.arange(n, like=like)
    cols = np.arange(n if m is None else m, like=like)
    return (rows[:, None] + k == cols[None, :]).astype(dtype)


def index_like(x: Any) -> Any:
    """The ``like=`` for index arrays made to index `x`: its library where its arrays live
    on a device (CuPy), None (NumPy constants) for NumPy and for lazy arrays (Dask), which
    are indexed best by constants known while the graph is built."""
    found = foreign_of(x)
    return None if found is None or is_lazy_array(found) else found


def values_list(x: Any) -> Any:
    """The entries of an array as (nested) Python lists, read on purpose by a rule that
    needs a few numbers (counts, pivots, axes): ``.tolist()`` for NumPy and CuPy, and for
    a lazy Dask array, which has none, the entries computed with ``.compute()`` first."""
    x = peek(x)
    if type(x) is not np.ndarray and is_lazy_array(x):
        x = x.compute()
    return x.tolist() if hasattr(x, "tolist") else np.asarray(x).tolist()


def asarray(value: Any, dtype: Any = None, like: Any = None) -> Any:
    """``np.asarray`` that keeps an array of another library in its library (CuPy, Dask:
    no copy to the host), also one inside a list; `like` names that library for values
    that hold none of its arrays (numbers, NumPy constants)."""
    if like is None:
        if type(value) is np.ndarray:
            return value if dtype is None or value.dtype == dtype else value.astype(dtype)
        like = foreign_of(value)
    else:
        like = foreign_of(like, value)
    if isinstance(value, Box):  # traced values are arrays already
        return value
    if like is None:
        return np.asarray(value, dtype=dtype)
    return np.asarray(value, dtype=dtype, like=like)


asarray.numpy_form = np.asarray  # what generated source (on NumPy arrays) calls instead


def lift(value: Any, like: Any) -> Any:
    """`value` as an array of the library of `like` where `like` is an array of another
    library (CuPy, Dask) and `value` is not one: a number, traced or not, that NumPy's
    functions would make a NumPy array, which such arrays refuse to meet. A traced
    number is lifted by adding a zero of that library, so its derivative flows on.
    Anything else (NumPy next to NumPy) is returned as it is."""
    kind = foreign_of(like)
    if kind is None:
        return value
    inner = peek(value)
    if is_foreign_array(inner):
        return value
    if isinstance(value, Box):
        return value + np.zeros((), dtype=np.result_type(inner), like=kind)
    return asarray(value, like=kind)


def refuse_foreign(name: str, *values: Any, why: str) -> None:
    """Raise a TypeError if any of `values` is an array of another library (CuPy, Dask)
    on which `name` cannot work, saying why (what it would need on the host); nothing
    for NumPy values, numbers and traced values of NumPy arrays."""
    found = foreign_of(*values)
    if found is not None:
        kind = f"{type(found).__module__.split('.')[0]} {type(found).__name__}"
        raise TypeError(
            f"wengert.{name} does not support a {kind}: {why}. Convert the array to a "
            "NumPy array first (CuPy: .get(), Dask: .compute()), or do without this function."
        )


def is_lazy_array(x: Any) -> bool:
    """Whether `x` is a lazy array of another library (a Dask collection), whose entries
    are not known until computed: rules that need them (a scatter at array indices, a
    shape read from values) refuse it, where they read an eager one (CuPy) in place."""
    return is_foreign_array(x) and hasattr(x, "__dask_graph__")


def zeros_like(x: Any) -> Any:
    """A zero of the same shape and (inexact) dtype as `x`, untraced."""
    return _filled_like(x, 0.0)


def ones_like(x: Any) -> Any:
    """A one of the same shape and (inexact) dtype as `x`, untraced."""
    return _filled_like(x, 1.0)


__all__ = [
    "asarray",
    "broadcast_like",
    "broadcast_tangent",
    "broadcast_to",
    "chunked_like",
    "eye_like",
    "foreign_of",
    "full_shaped",
    "inexact_dtype",
    "is_complex",
    "is_foreign_array",
    "is_lazy_array",
    "lift",
    "match_realness",
    "ones_like",
    "values_list",
    "refuse_foreign",
    "refuse_lazy",
    "shape_of",
    "sum_to_shape",
    "unbroadcast",
    "zeros_like",
]

# Generated source (Program.source) computes these primitives with their implementations,
# copied (they use NumPy alone), or with the public function that they call.
sum_to_shape.defsource(_sum_to_shape)
broadcast_to.defsource(np.broadcast_to)
