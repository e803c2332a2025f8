"""Array-likes holding traced values, read as arrays by every function of the namespace.

NumPy functions take any array-like: ``np.linalg.norm([a, 2.0])``, ``np.sin((x, y))``.
When such a list holds traced values, NumPy would read each of them as a plain number and
drop its derivative. `accept_array_likes`, called once at the end of each module of
``wengert.numpy``, gives that module's public functions NumPy's reading of their arguments:
a list or tuple (nested or not) that holds a traced value becomes a traced array (stacked
by `wengert.numpy.array`) before the function sees it.

- Primitives built by the engine's shorthands try NumPy first, as before (one type check
  and the NumPy call when nothing is traced); only when NumPy meets a traced value inside
  a list are their positional array-likes read as arrays and the call made again.
- Python functions read their arguments by parameter: a sequence of arrays (``arrays``,
  ``tup``, ``*arys``, ``*operands``...) has each entry read; a parameter that fixes the
  result's shape or positions (``shape``, ``axis``, ``repeats``, ``pad_width``...) is left
  as it is (the function keeps it constant); any other parameter is an array-like.
- Primitive subclasses that read array-likes themselves (reductions, products) and
  non-differentiable pass-throughs, which see through lists already, are left as they are.
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable, Iterable
from typing import Any

from .._core import primitive as _primitive
from .._core.box import Box
from .._core.primitive import Primitive
from ..errors import TracedConversionError

# Parameters holding a sequence of array-likes (each entry is read as an array), and
# variadic parameters whose entries are array-likes.
SEQUENCES = frozenset({"arrays", "tup", "choices", "choicelist", "condlist"})
ARRAY_VARARGS = frozenset({"arys", "xi", "operands", "arrays", "varargs", "arrays_and_dtypes"})
# Parameters that fix the shape of the result or name positions: never array data.
CONSTANTS = frozenset(
    {
        "shape",
        "new_shape",
        "newshape",
        "reps",
        "repeats",
        "indices_or_sections",
        "pad_width",
        "obj",
        "kth",
        "s",
        "n",
        "axes",
        "axis",
        "shift",
        "indices",
        "index",
        "funclist",
        "dtype",
    }
)
# Functions that read nested lists themselves, with a meaning of their own (`block`'s
# nesting is the layout of the blocks) or as the reading itself (`array`).
OWN_READING = frozenset({"array", "asarray", "block"})

_ARRAY, _EACH, _KEEP = "array", "each", "keep"
_CONTAINERS = (list, tuple)


def holds_box(value: Any) -> bool:
    """Whether a list or tuple holds a traced value at any depth."""
    for v in value:
        if isinstance(v, Box) or (type(v) in _CONTAINERS and holds_box(v)):
            return True
    return False


def read_array(value: Any) -> Any:
    """`value` as a traced array if it is a list or tuple holding traced values."""
    if type(value) in _CONTAINERS and holds_box(value):
        from .shaping import array  # (shaping's own functions are read here too)

        return array(value)
    return value


def _read(value: Any, kind: str) -> Any:
    if kind is _ARRAY:
        return read_array(value)
    if kind is _EACH and type(value) in _CONTAINERS:
        return type(value)(read_array(v) for v in value)
    return value


class ArrayLikePrimitive(Primitive):
    """A primitive whose untraced call reads lists holding traced values as arrays."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for arg in args:
            if isinstance(arg, Box):
                # (the engine's bind as it is now: debug_nans swaps in a checking one)
                return _primitive.bind(self, args, kwargs)
        try:
            return self.fun(*args, **kwargs)
        except TracedConversionError:
            read = tuple(read_array(a) for a in args)
            if any(r is not a for r, a in zip(read, args)):
                return self(*read, **kwargs)
            raise


def _kinds(fun: Callable) -> tuple[list[str], str, dict[str, str]]:
    """How each positional parameter, extra positional argument and keyword is read."""
    positional, keywords, extra = [], {}, _KEEP
    try:
        parameters = inspect.signature(fun).parameters
    except (TypeError, ValueError):  # no signature to read: every argument an array-like
        return [], _ARRAY, {}
    for name, param in parameters.items():
        kind = _KEEP if name in CONSTANTS else _EACH if name in SEQUENCES else _ARRAY
        if param.kind is param.VAR_POSITIONAL:
            extra = _ARRAY if name in ARRAY_VARARGS else _KEEP
        elif param.kind is param.VAR_KEYWORD:
            continue
        else:
            if param.kind is not param.KEYWORD_ONLY:
                positional.append(kind)
            if param.kind is not param.POSITIONAL_ONLY:
                keywords[name] = kind
    return positional, extra, keywords


def reading_array_likes(fun: Callable) -> Callable:
    """`fun` with lists and tuples holding traced values read as arrays (see the module),
    and what another array library (Dask, CuPy) raises inside it named as raised in `fun`
    on that library's arrays."""
    positional, extra, keywords = _kinds(fun)
    n = len(positional)

    @functools.wraps(fun)
    def read_then_call(*args: Any, **kwargs: Any) -> Any:
        for arg in args:
            if type(arg) in _CONTAINERS and holds_box(arg):
                break
        else:
            for value in kwargs.values():
                if type(value) in _CONTAINERS and holds_box(value):
                    break
            else:
                return _primitive.library_call(fun, args, kwargs)
        args = tuple(_read(a, positional[i] if i < n else extra) for i, a in enumerate(args))
        kwargs = {k: _read(v, keywords.get(k, _KEEP)) for k, v in kwargs.items()}
        return _primitive.library_call(fun, args, kwargs)

    read_then_call.reads_array_likes = True
    return read_then_call


def accept_array_likes(namespace: dict, names: Iterable[str]) -> None:
    """Make the functions `names` of a module's `namespace` read array-likes holding traced
    values as arrays, in place (the wrappers keep the name, module and docstring, so that
    doctest still finds each example under its function)."""
    wrapped: dict[int, Callable] = {}  # one wrapper for a function under two names
    for name in names:
        fun = namespace[name]
        if name in OWN_READING or getattr(fun, "reads_array_likes", False):
            continue
        if type(fun) is Primitive:
            # Built by the engine's shorthands (`elementwise`, `binary`, `linear`), which
            # know nothing of NumPy's array-likes: the subclass differs in the untraced
            # call alone, and the object (its rules, its identity) stays the same.
            fun.__class__ = ArrayLikePrimitive
        elif isinstance(fun, types.FunctionType):
            if id(fun) not in wrapped:
                wrapped[id(fun)] = reading_array_likes(fun)
            namespace[name] = wrapped[id(fun)]
