"""Checks of settings (hyper-parameters) shared by `wengert.nn`, `wengert.optim`,
`wengert.data` and the ``wengert train`` command.

Each check takes the value, the parameter's name and the name of the function or class
that received it, and returns the value in a plain form (a Python ``int``, ``float`` or
``bool``), or raises ``TypeError`` (wrong kind of value) or ``ValueError`` (out of range)
with a message naming all three and the accepted range. Returning Python numbers also
keeps a NumPy float64 setting from promoting float32 arrays it multiplies.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import numpy as np

__all__ = [
    "boolean",
    "choice",
    "float_dtype",
    "integer",
    "int_pair",
    "optional",
    "real",
    "seed",
]


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fail(where: str, name: str, accepted: str, value: Any, error: type = ValueError) -> NoReturn:
    """Raise `error` with the standard message; the accepted range is also kept as the
    exception's ``accepted`` attribute (the command line words its errors with it)."""
    kind = "" if isinstance(value, (int, float, str)) else f" ({type(value).__name__})"
    err = error(f"{where}: {name} must be {accepted}, got {_show(value)}{kind}.")
    err.accepted = accepted
    raise err


def _range(low, high, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f" {'<' if high_open else '<='} {high:g}"
    return ""


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def integer(
    value: Any, name: str, where: str, low: int | None = None, high: int | None = None
) -> int:
    """`value` as an ``int`` in [low, high] (either end optional); bools and floats are
    refused, even integral ones, since a float count is most often a mistake.

    >>> from wengert.nn._checks import integer
    >>> integer(3, "epochs", "train", low=1)
    3
    >>> integer(0, "epochs", "train", low=1)
    Traceback (most recent call last):
    ...
    ValueError: train: epochs must be an integer >= 1, got 0.
    """
    if type(value) is int or (isinstance(value, numbers.Integral) and not _is_bool(value)):
        number = int(value)
        if (low is None or number >= low) and (high is None or number <= high):
            return number
        error: type = ValueError
    else:
        error = TypeError
    _fail(where, name, "an integer" + _range(low, high, False, False), value, error)


def real(
    value: Any,
    name: str,
    where: str,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_inf: bool = False,
) -> float:
    """`value` as a ``float`` in the range given by `low`/`high` (closed ends unless
    `low_open`/`high_open`); NaN is always refused, infinities unless `allow_inf`.

    >>> from wengert.nn._checks import real
    >>> real(0.1, "label_smoothing", "cross_entropy", 0.0, 1.0)
    0.1
    >>> real(2, "label_smoothing", "cross_entropy", 0.0, 1.0)
    Traceback (most recent call last):
    ...
    ValueError: cross_entropy: label_smoothing must be a real number in [0, 1], got 2.
    """
    given = value
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value[()]
    if type(value) is float or (isinstance(value, numbers.Real) and not _is_bool(value)):
        number = float(value)
        if (
            not math.isnan(number)
            and (allow_inf or not math.isinf(number))
            and (low is None or number > low or (number == low and not low_open))
            and (high is None or number < high or (number == high and not high_open))
        ):
            return number
        error: type = ValueError
    else:
        error = TypeError
    # The message is put together only for a refusal: checks run on every call.
    finite = "" if allow_inf or (low is not None and high is not None) else "finite "
    accepted = f"a {finite}real number" + _range(low, high, low_open, high_open)
    _fail(where, name, accepted, given, error)


def boolean(value: Any, name: str, where: str) -> bool:
    """`value` as a ``bool``; only True and False (Python or NumPy) are accepted.

    >>> from wengert.nn._checks import boolean
    >>> boolean(True, "shuffle", "DataLoader")
    True
    """
    if not _is_bool(value):
        _fail(where, name, "True or False", value, TypeError)
    return bool(value)


def choice(value: Any, name: str, where: str, options: Sequence[str]) -> str:
    """`value` if it is one of the strings `options`.

    >>> from wengert.nn._checks import choice
    >>> choice("mean", "reduction", "mse_loss", ("mean", "sum", "none"))
    'mean'
    """
    if not isinstance(value, str) or value not in options:
        accepted = "one of " + ", ".join(repr(o) for o in options)
        _fail(where, name, accepted, value, ValueError if isinstance(value, str) else TypeError)
    return value


def int_pair(value: Any, name: str, where: str, low: int) -> tuple[int, int]:
    """An int, or a pair of ints, each at least `low`, as a pair.

    >>> from wengert.nn._checks import int_pair
    >>> int_pair(2, "stride", "conv2d", 1), int_pair((1, 3), "stride", "conv2d", 1)
    ((2, 2), (1, 3))
    """
    accepted = f"an integer >= {low} or a pair of them"
    if isinstance(value, numbers.Integral) and not _is_bool(value):
        pair: tuple = (value, value)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        pair = tuple(value)
    else:
        _fail(where, name, accepted, value, TypeError)
    for v in pair:
        if _is_bool(v) or not isinstance(v, numbers.Integral):
            _fail(where, name, accepted, value, TypeError)
        if v < low:
            _fail(where, name, accepted, value)
    return int(pair[0]), int(pair[1])


def float_dtype(dtype: Any, name: str, where: str) -> np.dtype:
    """`dtype` as a NumPy floating dtype (float16, float32, float64, ...).

    >>> import numpy as np
    >>> from wengert.nn._checks import float_dtype
    >>> float_dtype("float32", "dtype", "Linear")
    dtype('float32')
    """
    try:
        result = np.dtype(dtype)
    except TypeError:
        _fail(where, name, "a floating-point dtype such as numpy.float32", dtype, TypeError)
    if result.kind != "f":
        _fail(where, name, "a floating-point dtype such as numpy.float32", dtype)
    return result


def seed(value: Any, name: str, where: str) -> np.random.Generator:
    """A NumPy generator from a generator, a non-negative integer seed, or None (fresh
    entropy).

    >>> from wengert.nn._checks import seed
    >>> type(seed(0, "rng", "Linear")).__name__
    'Generator'
    """
    if isinstance(value, np.random.Generator):
        return value
    if value is None:
        return np.random.default_rng()
    accepted = "a numpy.random.Generator, an integer seed >= 0 or None"
    if _is_bool(value) or not isinstance(value, numbers.Integral):
        _fail(where, name, accepted, value, TypeError)
    if value < 0:
        _fail(where, name, accepted, value)
    return np.random.default_rng(int(value))


def optional(check: Callable[..., Any], value: Any, *args: Any, **kwargs: Any) -> Any:
    """None, or `value` passed through `check`.

    >>> from wengert.nn._checks import optional, real
    >>> optional(real, None, "momentum", "BatchNorm1d", 0.0, 1.0) is None
    True
    """
    return None if value is None else check(value, *args, **kwargs)
