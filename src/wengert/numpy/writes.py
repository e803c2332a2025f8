"""NumPy's functions that write into an array in place: NumPy's own on plain arrays, an
InPlaceWriteError on traced values.

A traced value is never changed in place (its derivative would be lost with its old
value), and writing a traced value into a plain array would convert it to a number; each
error names the function that returns the result instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.box import Box
from .._core.tree import tree_flatten
from ..errors import InPlaceWriteError

# (name, the functional way to get the same array)
ALTERNATIVES = {
    "put": "wengert.numpy.index_update(a.ravel(), ind, v).reshape(a.shape) (or a.at[...].set)",
    "place": "wengert.numpy.index_update(arr, mask, vals), one value for each true entry",
    "putmask": "wengert.numpy.where(mask, values, a)",
    "copyto": "wengert.numpy.where(where, src, dst), or src itself (broadcast_to(src, dst.shape))",
    "fill_diagonal": "wengert.numpy.index_update(a, (i, i), val), i = arange(min(a.shape))",
    "put_along_axis": "wengert.numpy.index_update(arr, index, values), with the index tuple "
    "that take_along_axis(arr, indices, axis) reads",
}


def _writer(name: str):
    fun = getattr(np, name)

    def write(*args: Any, **kwargs: Any) -> None:
        if any(isinstance(x, Box) for x in tree_flatten((args, kwargs))[0]):
            raise InPlaceWriteError(
                f"wengert.numpy.{name} writes into an array in place, which drops the "
                "derivative of a traced array (or of traced values written into a plain "
                f"one); use the result of {ALTERNATIVES[name]} instead."
            )
        return fun(*args, **kwargs)

    write.__name__ = write.__qualname__ = name
    write.__doc__ = f"NumPy's {name} on plain arrays; traced values cannot be written in place."
    write.__wrapped__ = fun
    write.nondifferentiable = True
    return write


globals().update({name: _writer(name) for name in ALTERNATIVES})

__all__ = list(ALTERNATIVES)
