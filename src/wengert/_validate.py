"""Checks of what users hand to the engine: tangents, cotangents and what their rules return.

A derivative of the wrong shape or kind does not always fail where it enters: broadcasting
can spread a (1,)-shaped cotangent over a (3,) input, and a list adds to an array by
concatenation. These checks stop such values at the boundary, with a message that names
the function, the argument and both shapes. Built-in primitives are not checked (their
rules are tested); user rules, `jvp` tangents and pullback cotangents are.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from ._core.box import Box, peek
from ._core.vspace import shape_of

__all__ = ["check_derivative", "check_pair"]

_NUMBERS = (int, float, complex, np.number)


def _kind(x: Any) -> str:
    """'ok', or what is wrong with `x` as a derivative value."""
    value = peek(x)
    if isinstance(value, (bool, np.bool_)):
        return "a boolean"
    if isinstance(value, _NUMBERS):
        return "ok"
    dtype = getattr(value, "dtype", None)
    if dtype is None or not hasattr(value, "shape"):
        return f"a {type(value).__name__}"
    if dtype.kind in "iufc":
        return "ok"
    return f"an array of dtype {dtype}"


def check_derivative(
    value: Any, primal: Any, what: str, where: str, verb: str = "returned"
) -> None:
    """Raise if `value` cannot be the derivative (tangent or cotangent) of `primal`.

    `what` says which derivative it is ("cotangent", "tangent"); `where` names who made it
    (the rule of a primitive and its argument) or who was given it, with `verb` to match.

    >>> import numpy as np
    >>> check_derivative(np.ones(5), np.ones(3), "cotangent", "the rule of f")
    Traceback (most recent call last):
    ...
    ValueError: the rule of f returned a cotangent of shape (5,), but the value it belongs ...
    """
    problem = _kind(value)
    if problem != "ok":
        raise TypeError(
            f"{where} {verb} {problem} as a {what}; a derivative must be a number or a "
            "numeric array shaped like its value (None for a zero derivative)."
        )
    got, expected = shape_of(value), shape_of(primal)
    if tuple(got) != tuple(expected):
        raise ValueError(
            f"{where} {verb} a {what} of shape {tuple(got)}, but the value it belongs to "
            f"has shape {tuple(expected)}; return one of the same shape (None for a zero "
            "derivative)."
        )


def check_pair(result: Any, where: str, first: str, second: str) -> tuple[Any, Any]:
    """`result` as a pair, or a TypeError saying that `where` must return (first, second)."""
    if not (isinstance(result, (tuple, list)) and len(result) == 2) or isinstance(result, Box):
        shown = type(result).__name__
        if isinstance(result, (tuple, list)):
            shown = f"a {shown} of {len(result)}"
        raise TypeError(f"{where} must return a pair ({first}, {second}); it returned {shown}.")
    return result[0], result[1]


# --- values changed in place after recording ---------------------------------------------------


def fingerprint(value: Any) -> Any:
    """A checksum of a NumPy array's contents (CRC-32 of its bytes, with its shape and
    dtype) that changes when they are written to; None for values that cannot change in
    place (Python and NumPy scalars) or that are not NumPy arrays."""
    if type(value) is not np.ndarray or value.dtype.kind not in "biufc":
        return None
    data = value if value.flags.c_contiguous else np.ascontiguousarray(value)
    return value.shape, value.dtype.str, zlib.crc32(data.data)


class Stamps:
    """Fingerprints of the arrays a recording keeps, to detect later writes into them."""

    __slots__ = ("entries",)

    def __init__(self, named_values) -> None:
        self.entries = [
            (name, value, stamp)
            for name, value in named_values
            if (stamp := fingerprint(peek(value))) is not None
        ]

    def check(self, where: str) -> None:
        """Raise `ModifiedInputError` if an array changed since it was stamped."""
        from .errors import ModifiedInputError

        for name, value, stamp in self.entries:
            if fingerprint(peek(value)) != stamp:
                raise ModifiedInputError(
                    f"{where}: {name} was modified in place after it was recorded, so the "
                    "derivative would belong to values that no longer exist. Copy the array "
                    "before changing it (or record again after the change)."
                )
