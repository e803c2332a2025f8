"""Traced values: a box wraps a primal value and the trace that follows it.

Boxes behave like NumPy arrays: Python operators, common methods and NumPy's dispatch
protocols all route to the differentiable functions of ``wg.numpy``, which fills the
`ops` namespace and the `numpy_dispatch` table at import. The engine itself needs none
of them.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from ..errors import (
    InPlaceWriteError,
    NoValueError,
    TracedConversionError,
    UnsupportedFunctionError,
)

# Filled by wg.numpy: the differentiable functions behind operators and methods.
ops = SimpleNamespace()
# Arithmetic operators call the engine's `bind` directly (set by primitive.py): their
# `self` is a box already, so the scan for boxes in Primitive.__call__ can be skipped.
_bind = None
_NO_KWARGS: dict = {}
# Filled by wg.numpy: NumPy function or ufunc -> wengert function of the same meaning.
numpy_dispatch: dict[Any, Any] = {}


class Box:
    """A value being traced by one transformation; subclasses add what their mode needs."""

    __slots__ = ("_trace", "value")
    __array_priority__ = 100.0
    # Whether `value` is one value of the traced program (False for a batch of them, or
    # a symbolic expression): only then can a recording take it as the example of its input.
    holds_member = True
    # Whether reading the value itself (`getval`) is to be told to the trace: a recording
    # notes it, since the recorded program then holds for that value only.
    watched = False

    # --- array attributes -------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.value)

    @property
    def ndim(self) -> int:
        return np.ndim(self.value)

    @property
    def size(self) -> int:
        size = getattr(self.value, "size", None)  # (np.size would compute a lazy array)
        return size if isinstance(size, (int, np.integer)) else np.size(self.value)

    @property
    def dtype(self) -> np.dtype:
        return np.result_type(peek(self.value))

    @property
    def T(self) -> Box:
        return ops.transpose(self)

    @property
    def mT(self) -> Box:
        return ops.swapaxes(self, -1, -2)

    @property
    def real(self) -> Box:
        return ops.real(self)

    @property
    def at(self):
        """JAX's functional index updates, ``x.at[index].set(v)`` (see wg.numpy.at)."""
        return ops.at(self)

    @property
    def imag(self) -> Box:
        return ops.imag(self)

    def __len__(self) -> int:
        return len(self.value)

    def __iter__(self):
        return (self[i] for i in range(len(self.value)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r}, {self._trace!r})"

    # --- conversions that would drop the derivative -----------------------------------
    def __float__(self) -> float:
        raise TracedConversionError(
            "float() of a traced value would silently drop its derivative. This happens "
            "with math.* functions (use wg.numpy ones) and with writing a traced value "
            "into a NumPy array, a[i] = x (build arrays with wg.numpy.stack or "
            "index_update instead). Wrap it in wengert.stop_gradient(...) if the derivative "
            "through it is meant to be zero."
        )

    def __complex__(self) -> complex:
        raise TracedConversionError(
            "complex() of a traced value would silently drop its derivative; keep it an "
            "array or use wengert.stop_gradient(...)."
        )

    def item(self, *args):
        raise TracedConversionError(
            ".item() of a traced value would silently drop its derivative; index it "
            "instead (x[()] or x[i]), or use wengert.stop_gradient(x).item()."
        )

    def tolist(self):
        raise TracedConversionError(
            ".tolist() of a traced value would drop its derivative; iterate over it or "
            "index it instead."
        )

    def __int__(self) -> int:
        # Piecewise constant: the derivative through int() is zero, so this is exact.
        return int(self.value)

    def __index__(self) -> int:
        return self.value.__index__()

    def __bool__(self) -> bool:
        return bool(self.value)

    def __array__(self, dtype=None, copy=None):
        raise TracedConversionError(
            f"a traced value of shape {self.shape} was converted to a plain NumPy array, "
            "which would drop its derivative. This happens with np.asarray/np.array of "
            "traced values, writing one into a NumPy array (a[i] = x), or a function that "
            "wengert does not cover. Use wg.numpy (wg.numpy.array/stack for "
            "building arrays, wg.numpy.index_update for writes)."
        )

    def __setitem__(self, index, value) -> None:
        raise InPlaceWriteError(
            "in-place write into a traced array (x[...] = v) is not differentiable "
            "because it overwrites a value the derivative may still need. Build a new "
            "array instead: wg.numpy.index_update(x, index, v) (or index_add), "
            "wg.numpy.where, or concatenate/stack."
        )

    # --- NumPy dispatch protocols ---------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__":
            return _unsupported(f"numpy.{ufunc.__name__}.{method}")
        fun = numpy_dispatch.get(ufunc)
        if fun is None:
            return _unsupported(f"numpy.{ufunc.__name__}")
        if kwargs.pop("out", None) is not None:
            raise InPlaceWriteError(
                f"numpy.{ufunc.__name__}(..., out=...) writes in place into an array; "
                "wengert cannot differentiate that. Drop out= and use the result."
            )
        return fun(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        fun = numpy_dispatch.get(func)
        if fun is None:
            name = getattr(func, "__module__", "numpy") + "." + func.__name__
            return _unsupported(name)
        return fun(*args, **kwargs)

    # --- operators -------------------------------------------------------------------
    def __neg__(self):
        return _bind(ops.negative, (self,), _NO_KWARGS)

    def __pos__(self):
        return self

    def __abs__(self):
        return ops.absolute(self)

    def __add__(self, other):
        return _bind(ops.add, (self, other), _NO_KWARGS)

    def __radd__(self, other):
        return _bind(ops.add, (other, self), _NO_KWARGS)

    def __sub__(self, other):
        return _bind(ops.subtract, (self, other), _NO_KWARGS)

    def __rsub__(self, other):
        return _bind(ops.subtract, (other, self), _NO_KWARGS)

    def __mul__(self, other):
        return _bind(ops.multiply, (self, other), _NO_KWARGS)

    def __rmul__(self, other):
        return _bind(ops.multiply, (other, self), _NO_KWARGS)

    def __truediv__(self, other):
        return _bind(ops.true_divide, (self, other), _NO_KWARGS)

    def __rtruediv__(self, other):
        return _bind(ops.true_divide, (other, self), _NO_KWARGS)

    def __floordiv__(self, other):
        return ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return ops.floor_divide(other, self)

    def __mod__(self, other):
        return ops.mod(self, other)

    def __rmod__(self, other):
        return ops.mod(other, self)

    def __divmod__(self, other):
        return ops.floor_divide(self, other), ops.mod(self, other)

    def __pow__(self, other):
        return _bind(ops.power, (self, other), _NO_KWARGS)

    def __rpow__(self, other):
        return _bind(ops.power, (other, self), _NO_KWARGS)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    # Comparisons give plain booleans: they have no derivative.
    def __eq__(self, other):
        return ops.equal(self, other)

    def __ne__(self, other):
        return ops.not_equal(self, other)

    def __lt__(self, other):
        return ops.less(self, other)

    def __le__(self, other):
        return ops.less_equal(self, other)

    def __gt__(self, other):
        return ops.greater(self, other)

    def __ge__(self, other):
        return ops.greater_equal(self, other)

    __hash__ = object.__hash__

    # Logical operators on boolean values (masks), without derivative, as NumPy's.
    def __and__(self, other):
        return ops.bitwise_and(self, other)

    def __rand__(self, other):
        return ops.bitwise_and(other, self)

    def __or__(self, other):
        return ops.bitwise_or(self, other)

    def __ror__(self, other):
        return ops.bitwise_or(other, self)

    def __xor__(self, other):
        return ops.bitwise_xor(self, other)

    def __rxor__(self, other):
        return ops.bitwise_xor(other, self)

    def __invert__(self):
        return ops.invert(self)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    # --- array methods ---------------------------------------------------------------
    # Every public attribute of numpy.ndarray is here: methods that compute route to
    # wg.numpy, those without derivative (integer or boolean results) open the box,
    # those that write in place raise InPlaceWriteError, and those that would hand the
    # value out without its derivative (bytes, buffers, files, Python lists) raise
    # TracedConversionError.
    def reshape(self, *shape, order="C", copy=None):
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = shape[0]
        return ops.reshape(self, shape, order=order)

    def transpose(self, *axes):
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = axes[0]
        return ops.transpose(self, axes or None)

    def swapaxes(self, axis1, axis2):
        return ops.swapaxes(self, axis1, axis2)

    def ravel(self, order="C"):
        return ops.ravel(self, order=order)

    def flatten(self, order="C"):
        return ops.ravel(self, order=order)

    def squeeze(self, axis=None):
        return ops.squeeze(self, axis)

    def sum(self, axis=None, dtype=None, out=None, **kwargs):
        _no_out(out, "sum")
        return ops.sum(self, axis=axis, dtype=dtype, **kwargs)

    def mean(self, axis=None, dtype=None, out=None, **kwargs):
        _no_out(out, "mean")
        return ops.mean(self, axis=axis, dtype=dtype, **kwargs)

    def prod(self, axis=None, dtype=None, out=None, **kwargs):
        _no_out(out, "prod")
        return ops.prod(self, axis=axis, dtype=dtype, **kwargs)

    def max(self, axis=None, out=None, **kwargs):
        _no_out(out, "max")
        return ops.max(self, axis=axis, **kwargs)

    def min(self, axis=None, out=None, **kwargs):
        _no_out(out, "min")
        return ops.min(self, axis=axis, **kwargs)

    def ptp(self, axis=None, out=None, keepdims=False):  # NumPy 1.x has this method
        _no_out(out, "ptp")
        return ops.ptp(self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, dtype=None, out=None, ddof=0, **kwargs):
        _no_out(out, "var")
        return ops.var(self, axis=axis, dtype=dtype, ddof=ddof, **kwargs)

    def std(self, axis=None, dtype=None, out=None, ddof=0, **kwargs):
        _no_out(out, "std")
        return ops.std(self, axis=axis, dtype=dtype, ddof=ddof, **kwargs)

    def cumsum(self, axis=None, dtype=None, out=None):
        _no_out(out, "cumsum")
        return ops.cumsum(self, axis=axis, dtype=dtype)

    def cumprod(self, axis=None, dtype=None, out=None):
        _no_out(out, "cumprod")
        return ops.cumprod(self, axis=axis, dtype=dtype)

    def dot(self, other, out=None):
        _no_out(out, "dot")
        return ops.dot(self, other)

    def trace(self, offset=0, axis1=0, axis2=1, dtype=None, out=None):
        _no_out(out, "trace")
        return ops.trace(self, offset=offset, axis1=axis1, axis2=axis2, dtype=dtype)

    def diagonal(self, offset=0, axis1=0, axis2=1):
        return ops.diagonal(self, offset=offset, axis1=axis1, axis2=axis2)

    def take(self, indices, axis=None, out=None, mode="raise"):
        _no_out(out, "take")
        return ops.take(self, indices, axis=axis, mode=mode)

    def compress(self, condition, axis=None, out=None):
        _no_out(out, "compress")
        return ops.compress(condition, self, axis=axis)

    def choose(self, choices, out=None, mode="raise"):
        _no_out(out, "choose")
        return ops.choose(self, choices, mode=mode)

    def repeat(self, repeats, axis=None):
        return ops.repeat(self, repeats, axis=axis)

    def clip(self, min=None, max=None, out=None, **kwargs):
        _no_out(out, "clip")
        return ops.clip(self, min, max)

    def round(self, decimals=0, out=None):
        _no_out(out, "round")
        return ops.round(self, decimals)

    def conj(self):
        return ops.conj(self)

    conjugate = conj

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        return ops.astype(self, dtype)

    def copy(self, order="C"):
        return self  # traced values are never written in place, so sharing is safe

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def view(self, dtype=None, type=None):
        if type is None and (dtype is None or np.dtype(dtype) == self.dtype):
            return self
        raise TracedConversionError(
            f".view({dtype!r}) reinterprets the bytes of a traced value, which has no "
            "derivative; use .astype(...) to convert values, or wengert.stop_gradient(x)."
        )

    def to_device(self, device, /, *, stream=None):
        if device == self.device:
            return self
        raise ValueError(f"a traced value lives on {self.device!r}; cannot move it to {device!r}")

    @property
    def device(self):
        return getattr(self.value, "device", "cpu")

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    @property
    def strides(self) -> tuple[int, ...]:
        value = peek(self)
        strides = getattr(value, "strides", None)  # (also an array of another library's)
        return np.asarray(value).strides if strides is None else strides

    @property
    def base(self):
        return None  # a traced value owns its value; it views nothing

    @property
    def flags(self):
        value = getval(self)
        if type(value) is not np.ndarray and hasattr(type(value), "__array_function__"):
            return value.flags  # an array of another library: its own flags
        view = np.asarray(value).view()
        view.flags.writeable = False  # writes into a traced value raise InPlaceWriteError
        return view.flags

    @property
    def flat(self):
        return ops.ravel(self)

    def __format__(self, spec: str) -> str:
        return format(peek(self), spec)

    def __rdivmod__(self, other):
        return ops.floor_divide(other, self), ops.mod(other, self)

    # Without derivative: integer or boolean results.
    def argmax(self, axis=None, out=None, *, keepdims=False):
        _no_out(out, "argmax")
        return ops.argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, out=None, *, keepdims=False):
        _no_out(out, "argmin")
        return ops.argmin(self, axis=axis, keepdims=keepdims)

    def argsort(self, axis=-1, kind=None, order=None, **kwargs):
        return ops.argsort(self, axis=axis, kind=kind, order=order, **kwargs)

    def argpartition(self, kth, axis=-1, kind="introselect", order=None):
        return ops.argpartition(self, kth, axis=axis, kind=kind, order=order)

    def searchsorted(self, v, side="left", sorter=None):
        return ops.searchsorted(self, v, side=side, sorter=sorter)

    def nonzero(self):
        return ops.nonzero(self)

    def all(self, axis=None, out=None, keepdims=False, *, where=True):
        _no_out(out, "all")
        return ops.all(self, axis=axis, keepdims=keepdims, where=where)

    def any(self, axis=None, out=None, keepdims=False, *, where=True):
        _no_out(out, "any")
        return ops.any(self, axis=axis, keepdims=keepdims, where=where)

    def __contains__(self, item) -> bool:
        return any_value(self == item)

    # In-place writes.
    def sort(self, axis=-1, kind=None, order=None, **kwargs):
        raise _in_place("sort", "wg.numpy.sort(x) (or numpy.sort(x)) and keep the result")

    def partition(self, kth, axis=-1, kind="introselect", order=None):
        raise _in_place("partition", "wg.numpy.partition(x, kth) and keep the result")

    def fill(self, value):
        raise _in_place("fill", "wg.numpy.full_like(x, value)")

    def put(self, indices, values, mode="raise"):
        raise _in_place("put", "wg.numpy.index_update(x.ravel(), indices, values)")

    def itemset(self, *args):  # NumPy 1.x
        raise _in_place("itemset", "wg.numpy.index_update(x, index, value)")

    def resize(self, *new_shape, refcheck=True):
        raise _in_place("resize", "wg.numpy.resize(x, shape) or x.reshape(shape)")

    def setfield(self, val, dtype, offset=0):
        raise _in_place("setfield", "wg.numpy.where or index_update to build a new array")

    def setflags(self, write=None, align=None, uic=None):
        if not write and align is None and uic is None:
            return None  # traced values are read-only already
        raise _in_place("setflags", "a new array built with wg.numpy")

    # Conversions that would drop the derivative.
    def tobytes(self, order="C"):
        raise _dropped(".tobytes()")

    tostring = tobytes  # NumPy 1.x

    def tofile(self, fid, sep="", format="%s"):
        raise _dropped(".tofile()")

    def dump(self, file):
        raise _dropped(".dump()")

    def dumps(self):
        raise _dropped(".dumps()")

    def byteswap(self, inplace=False):
        raise _dropped(".byteswap()")

    def newbyteorder(self, new_order="S"):  # NumPy 1.x
        raise _dropped(".newbyteorder()")

    def getfield(self, dtype, offset=0):
        raise _dropped(".getfield()")

    @property
    def ctypes(self):
        raise _dropped(".ctypes")

    @property
    def data(self):
        raise _dropped(".data")

    def __reduce__(self):  # pickling; subclasses with their own (Variable) override it
        raise _dropped("Pickling")

    def __dlpack__(self, *args, **kwargs):
        raise _dropped("DLPack export")

    def __dlpack_device__(self):
        raise _dropped("DLPack export")


def _in_place(name: str, way_out: str) -> InPlaceWriteError:
    return InPlaceWriteError(
        f"x.{name}() writes into a traced array in place, which is not differentiable "
        f"(it overwrites a value the derivative may still need); use {way_out}."
    )


def _dropped(what: str) -> TracedConversionError:
    return TracedConversionError(
        f"{what} of a traced value hands out its bytes without the derivative; keep it "
        "an array (wg.numpy functions), or use wengert.stop_gradient(x) if no "
        "derivative is needed through it."
    )


def _no_out(out, name: str) -> None:
    if out is not None:
        raise InPlaceWriteError(f".{name}(out=...) writes in place; drop out= and use the result.")


def _unsupported(name: str):
    raise UnsupportedFunctionError(
        f"{name} met a traced value, but wengert has no derivative rule for it. Use a "
        "function that wg.numpy provides, define it with wengert.primitive(...) and "
        "its rules, or wrap its inputs in wengert.stop_gradient(...) if no derivative is "
        "needed through it."
    )


def shape_of(x: Any) -> tuple[int, ...]:
    """Shape of a value, traced or not (for a batch of values, one member's shape)."""
    shape = getattr(x, "shape", None)  # arrays, NumPy scalars and boxes
    return np.shape(x) if shape is None else shape


def _lazy(value: Any) -> bool:
    """Whether a value is a lazy array of another library (Dask), whose entries reading
    would compute."""
    return type(value) is not np.ndarray and hasattr(value, "__dask_graph__")


def any_value(condition: Any, undecided: bool | None = None) -> bool:
    """Whether any entry of a (traced) condition is true, in any member of a batch: for
    rules that take a cheaper path when no entry needs care. A recording keeps the
    decision as a guard on the condition, so a replay that decides otherwise re-records.

    `undecided` is the answer for a condition without a value (of symbolic expressions)
    or with a lazy one (Dask, which reading would compute):
    the one whose path holds for every value (the careful path, so that a formula is right
    at special points too); None raises instead."""
    try:
        value = peek(condition)
        if undecided is not None and _lazy(value):
            return undecided  # (a Dask array: not read, the careful path is taken)
        result = bool(np.any(value))
    except NoValueError:
        if undecided is None:
            raise
        return undecided
    _decided(condition, result, "any")
    return result


def all_value(condition: Any, undecided: bool | None = None) -> bool:
    """Whether every entry of a (traced) condition is true, in every member of a batch
    (recorded as a guard, as `any_value`; `undecided` as there)."""
    try:
        value = peek(condition)
        if undecided is not None and _lazy(value):
            return undecided  # (a Dask array: not read, the careful path is taken)
        result = bool(np.all(value))
    except NoValueError:
        if undecided is None:
            raise
        return undecided
    _decided(condition, result, "all")
    return result


def _decided(x: Any, result: bool, kind: str) -> None:
    while isinstance(x, Box):
        if x.watched:
            x._trace.guard(x, result, kind)
        x = x.value


def peek(x: Any) -> Any:
    """The primal value under any number of boxes, read for its shape, dtype or kind only
    (a recording need not keep the program to this value; see `getval`)."""
    while isinstance(x, Box):
        x = x.value
    return x


def getval(x: Any) -> Any:
    """The primal value under any number of boxes."""
    while isinstance(x, Box):
        if x.watched:
            x._trace.note_read(x)
        x = x.value
    return x
