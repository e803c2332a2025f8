"""A strict CPU stand-in for a CuPy array: ``DeviceArray``, for tests of array-library
neutrality on machines without a GPU.

It speaks NumPy's dispatch protocols as ``cupy.ndarray`` does: NumPy ufuncs and functions
given a DeviceArray return DeviceArrays (0-d arrays where NumPy would return a scalar, as
CuPy does), attribute methods return DeviceArrays, and every silent way to a host copy
fails: ``__array__`` raises CuPy's TypeError (so ``np.asarray``/``np.array`` of one fail),
the buffer protocol and ``__array_interface__`` are absent, and a ufunc or NumPy function
given a DeviceArray together with a NumPy array (not a NumPy scalar or Python number)
raises TypeError, as CuPy does. Explicit reads stay allowed, as on CuPy (a device sync):
``float``, ``int``, ``bool``, ``complex``, ``.item()`` and ``.tolist()``, and ``.get()``.
Indexing accepts integers, slices, DeviceArrays and NumPy integer or boolean arrays (CuPy
copies the latter to the device). Ufunc methods other than calls (``np.add.at``,
``.reduce``, ``.outer``) are refused, as CuPy's ``__array_ufunc__`` does. The NumPy
functions that read only dtypes and shapes (``np.result_type``, ``np.shape``, ...) and
the conversions reached through ``like=`` (``np.asarray(host, like=device)``, CuPy's
explicit copy to the device) may take NumPy arrays beside DeviceArrays.

`to_device` puts every numeric NumPy array of a tree (floating, complex, and the integer
and boolean arrays that index or mask: a CuPy user's indices are CuPy arrays too) on the
device, leaving Python numbers and NumPy scalars as they are; `to_host` brings it back.

Test modules load this file by path (the tests are not a package).
"""

from __future__ import annotations

import numpy as onp
from numpy.lib.mixins import NDArrayOperatorsMixin

IMPLICIT_CONVERSION = (
    "Implicit conversion to a NumPy array is not allowed. "
    "Please use `.get()` to construct a NumPy array explicitly."
)


def _unsupported(value) -> TypeError:
    return TypeError(
        f"Unsupported type {type(value)}: a DeviceArray cannot be mixed with a NumPy array "
        "(copy it to the device first)"
    )


def _unwrap(value, mixed: list):
    """`value` with every DeviceArray replaced by its NumPy data (in tuples, lists and
    dicts), noting in `mixed` each NumPy array found beside them."""
    kind = type(value)
    if kind is DeviceArray:
        return value._data
    if kind is onp.ndarray:
        mixed.append(value)
        return value
    if kind is tuple or kind is list:
        return kind(_unwrap(v, mixed) for v in value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a namedtuple
        return kind(*(_unwrap(v, mixed) for v in value))
    if kind is dict:
        return {k: _unwrap(v, mixed) for k, v in value.items()}
    return value


def _wrap(value):
    """Every NumPy array or NumPy number in `value` (also in tuples and lists) made a
    DeviceArray (a number a 0-d one, as CuPy returns 0-d arrays)."""
    kind = type(value)
    if kind is onp.ndarray:
        return DeviceArray(value)
    if isinstance(value, onp.generic) and value.dtype.kind in "biufc":
        return DeviceArray(onp.asarray(value))
    if kind is tuple or kind is list:
        return kind(_wrap(v) for v in value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return kind(*(_wrap(v) for v in value))
    return value


def _call(fun, args, kwargs, allow_numpy: bool = False):
    """`fun` on the NumPy data of its arguments, its arrays made DeviceArrays again."""
    mixed: list = []
    args = _unwrap(args, mixed)
    kwargs = _unwrap(kwargs, mixed)
    if mixed and not allow_numpy:
        raise _unsupported(mixed[0])
    return _wrap(fun(*args, **kwargs))


def _key(key):
    """An index with DeviceArrays replaced by their data (NumPy index arrays allowed)."""
    if type(key) is DeviceArray:
        return key._data
    if type(key) is tuple:
        return tuple(_key(k) for k in key)
    if type(key) is list:
        return [_key(k) for k in key]
    return key


_OPERANDS = (onp.ndarray, onp.generic, bool, int, float, complex)


# NumPy functions that may take NumPy arrays beside DeviceArrays, as CuPy's do: those
# that read dtypes and shapes alone, and the conversions that ``like=`` a DeviceArray
# reaches (``np.asarray(host, like=device)`` is CuPy's explicit copy to the device).
_MAY_MIX = frozenset(
    {
        onp.result_type,
        onp.shape,
        onp.ndim,
        onp.size,
        onp.iscomplexobj,
        onp.isrealobj,
        onp.can_cast,
        onp.min_scalar_type,
        onp.asarray,
        onp.array,
        onp.asanyarray,
        onp.ascontiguousarray,
        onp.asfortranarray,
        onp.require,
    }
)


class DeviceArray(NDArrayOperatorsMixin):
    """An array on a pretend device: a NumPy array that refuses every implicit host copy."""

    __slots__ = ("_data",)
    __hash__ = None

    def __init__(self, data):
        if type(data) is not onp.ndarray:
            raise TypeError(f"DeviceArray wraps a NumPy array, not {type(data).__name__}")
        self._data = data

    # --- the protocols ---------------------------------------------------------------------

    def __array__(self, dtype=None, copy=None):
        raise TypeError(IMPLICIT_CONVERSION)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # As CuPy: only calls (no ufunc.at, .reduce, .accumulate, .outer), and only of
        # DeviceArrays, NumPy arrays (refused below) and numbers; other types (a traced
        # value) get their turn.
        if method != "__call__":
            return NotImplemented
        for x in inputs + kwargs.get("out", ()):
            if not (type(x) is DeviceArray or isinstance(x, _OPERANDS)):
                return NotImplemented
        return _call(ufunc, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        for t in types:
            if not (t is DeviceArray or t is onp.ndarray):
                return NotImplemented
        return _call(func, args, kwargs, allow_numpy=func in _MAY_MIX)

    # --- explicit reads (a device sync on CuPy) -----------------------------------------------

    def get(self) -> onp.ndarray:
        """The data as a NumPy array (a copy, as CuPy's ``.get()`` is)."""
        return self._data.copy()

    def item(self, *args):
        return self._data.item(*args)

    def tolist(self):
        return self._data.tolist()

    def __float__(self):
        return float(self._data)

    def __int__(self):
        return int(self._data)

    def __complex__(self):
        return complex(self._data)

    def __bool__(self):
        return bool(self._data)

    def __index__(self):
        if self._data.dtype.kind not in "iu" or self._data.ndim:
            raise TypeError("only integer scalar arrays can be converted to a scalar index")
        return int(self._data)

    # --- shape and indexing ------------------------------------------------------------------

    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def strides(self) -> tuple:
        return self._data.strides

    @property
    def T(self) -> DeviceArray:
        return DeviceArray(self._data.T)

    @property
    def mT(self) -> DeviceArray:
        return DeviceArray(self._data.mT)

    @property
    def real(self) -> DeviceArray:
        return DeviceArray(onp.asarray(self._data.real))

    @property
    def imag(self) -> DeviceArray:
        return DeviceArray(onp.asarray(self._data.imag))

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (DeviceArray(onp.asarray(row)) for row in self._data)

    def __getitem__(self, key):
        return _wrap(onp.asarray(self._data[_key(key)]))

    def __setitem__(self, key, value):
        if type(value) is DeviceArray:
            value = value._data
        self._data[_key(key)] = value

    def __repr__(self) -> str:
        return f"DeviceArray({self._data!r})"

    def __getattr__(self, name):
        # Methods (astype, reshape, sum, ...) delegated to NumPy, their results wrapped.
        # No dunder (__array_interface__, __array_struct__, __buffer__): those would hand
        # NumPy the host data.
        if name.startswith("__") or name in _HOST_ONLY:
            raise AttributeError(f"'DeviceArray' object has no attribute {name!r}")
        attr = getattr(self._data, name)
        if not callable(attr):
            return _wrap(attr)
        return lambda *args, **kwargs: _call(attr, args, kwargs)


# NumPy array attributes that a cupy.ndarray lacks or that expose host memory.
_HOST_ONLY = frozenset(
    {"ctypes", "base", "data", "tobytes", "tofile", "dump", "dumps", "getfield", "setfield"}
)


def to_device(tree):
    """`tree` (tuples, lists, dicts) with every NumPy array leaf of a floating, complex,
    integer or boolean dtype on the device; Python numbers, NumPy scalars and other leaves
    stay (CuPy takes those as they are)."""
    kind = type(tree)
    if kind is onp.ndarray and tree.dtype.kind in "biufc":
        return DeviceArray(tree.copy())
    if kind is tuple or kind is list:
        return kind(to_device(v) for v in tree)
    if kind is dict:
        return {k: to_device(v) for k, v in tree.items()}
    return tree


def to_host(tree):
    """`tree` with every DeviceArray leaf back in a NumPy array (``.get()``)."""
    kind = type(tree)
    if kind is DeviceArray:
        return tree.get()
    if kind is tuple or kind is list:
        return kind(to_host(v) for v in tree)
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return kind(*(to_host(v) for v in tree))
    if kind is dict:
        return {k: to_host(v) for k, v in tree.items()}
    return tree


def is_device(x) -> bool:
    return type(x) is DeviceArray


__all__ = ["DeviceArray", "IMPLICIT_CONVERSION", "is_device", "to_device", "to_host"]
