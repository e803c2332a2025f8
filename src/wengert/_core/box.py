"""Traced values: a box wraps a primal value and the trace that follows it.

Boxes behave like NumPy arrays: Python operators, common methods and NumPy's dispatch
protocols all route to the differentiable functions of `wengert.numpy`, which fills the
`ops` namespace and the `numpy_dispatch` table at import. The engine itself needs none
of them.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from ..errors import InPlaceWriteError, TracedConversionError, UnsupportedFunctionError

# Filled by wengert.numpy: the differentiable functions behind operators and methods.
ops = SimpleNamespace()
# Arithmetic operators call the engine's `bind` directly (set by primitive.py): their
# `self` is a box already, so the scan for boxes in Primitive.__call__ can be skipped.
_bind = None
_NO_KWARGS: dict = {}
# Filled by wengert.numpy: NumPy function or ufunc -> wengert function of the same meaning.
numpy_dispatch: dict[Any, Any] = {}


class Box:
    """A value being traced by one transformation; subclasses add what their mode needs."""

    __slots__ = ("_trace", "value")
    __array_priority__ = 100.0

    # --- array attributes -------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.value)

    @property
    def ndim(self) -> int:
        return np.ndim(self.value)

    @property
    def size(self) -> int:
        return np.size(self.value)

    @property
    def dtype(self) -> np.dtype:
        return np.result_type(self.value)

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
            "with math.* functions (use wengert.numpy ones) and with writing a traced value "
            "into a NumPy array, a[i] = x (build arrays with wengert.numpy.stack or "
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
            "wengert does not cover. Use wengert.numpy (wengert.numpy.array/stack for "
            "building arrays, wengert.numpy.index_update for writes)."
        )

    def __setitem__(self, index, value) -> None:
        raise InPlaceWriteError(
            "in-place write into a traced array (x[...] = v) is not differentiable "
            "because it overwrites a value the derivative may still need. Build a new "
            "array instead: wengert.numpy.index_update(x, index, v) (or index_add), "
            "wengert.numpy.where, or concatenate/stack."
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

    def __getitem__(self, index):
        return ops.getitem(self, index)

    # --- array methods ---------------------------------------------------------------
    def reshape(self, *shape, order="C"):
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

    def dot(self, other):
        return ops.dot(self, other)

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

    def trace(self, offset=0, axis1=0, axis2=1, dtype=None, out=None):
        _no_out(out, "trace")
        return ops.trace(self, offset=offset, axis1=axis1, axis2=axis2, dtype=dtype)

    def diagonal(self, offset=0, axis1=0, axis2=1):
        return ops.diagonal(self, offset=offset, axis1=axis1, axis2=axis2)

    def take(self, indices, axis=None, out=None, mode="raise"):
        _no_out(out, "take")
        return ops.take(self, indices, axis=axis, mode=mode)

    def repeat(self, repeats, axis=None):
        return ops.repeat(self, repeats, axis=axis)

    def sort(self, axis=-1, kind=None, order=None):
        raise InPlaceWriteError(
            "x.sort() sorts in place, which a traced array cannot do; use "
            "wengert.numpy.sort(x) (or numpy.sort(x)) and keep the result."
        )

    def clip(self, min=None, max=None):
        return ops.clip(self, min, max)

    def conj(self):
        return ops.conj(self)

    conjugate = conj

    def astype(self, dtype, copy=True):
        return ops.astype(self, dtype)

    def copy(self):
        return self

    def argmax(self, axis=None):
        return np.argmax(getval(self), axis=axis)

    def argmin(self, axis=None):
        return np.argmin(getval(self), axis=axis)

    def argsort(self, axis=-1):
        return np.argsort(getval(self), axis=axis)

    def nonzero(self):
        return np.nonzero(getval(self))

    def all(self, axis=None, keepdims=False):
        return np.all(getval(self), axis=axis, keepdims=keepdims)

    def any(self, axis=None, keepdims=False):
        return np.any(getval(self), axis=axis, keepdims=keepdims)


def _no_out(out, name: str) -> None:
    if out is not None:
        raise InPlaceWriteError(f".{name}(out=...) writes in place; drop out= and use the result.")


def _unsupported(name: str):
    raise UnsupportedFunctionError(
        f"{name} met a traced value, but wengert has no derivative rule for it. Use a "
        "function that wengert.numpy provides, define it with wengert.primitive(...) and "
        "its rules, or wrap its inputs in wengert.stop_gradient(...) if no derivative is "
        "needed through it."
    )


def getval(x: Any) -> Any:
    """The primal value under any number of boxes."""
    while isinstance(x, Box):
        x = x.value
    return x
