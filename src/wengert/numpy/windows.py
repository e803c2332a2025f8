"""Sliding windows: NumPy's ``lib.stride_tricks.sliding_window_view`` for traced values.

NumPy returns a strided view; the differentiable form gathers the same entries with one
integer index into the flattened array, so its reverse rule adds each window's cotangent
back where the entries came from (entries in several windows collect every share).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.box import Box
from .._core.vspace import shape_of
from ..errors import InPlaceWriteError
from ._arraylike import accept_array_likes
from .shaping import reshape

__all__ = ["sliding_window_view"]


def sliding_window_view(
    x: Any, window_shape: Any, axis: Any = None, *, subok: bool = False, writeable: bool = False
) -> Any:
    """Every window of `window_shape` along `axis` (all axes by default), as NumPy's
    ``sliding_window_view``: the window axes come last.

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> sliding_window_view(np.arange(4.0), 2)
    array([[0., 1.],
           [1., 2.],
           [2., 3.]])
    >>> wg.grad(lambda v: wnp.sum(sliding_window_view(v, 2)))(np.ones(4))
    array([1., 2., 2., 1.])
    """
    if writeable and isinstance(x, Box):
        raise InPlaceWriteError(
            "sliding_window_view(..., writeable=True) of a traced value would let writes "
            "bypass its derivative; use the read-only windows and build a new array."
        )
    if not isinstance(x, Box):
        return np.lib.stride_tricks.sliding_window_view(
            x, window_shape, axis, subok=subok, writeable=writeable
        )
    shape = shape_of(x)
    positions = np.arange(int(np.prod(shape)), dtype=np.intp).reshape(shape)
    index = np.lib.stride_tricks.sliding_window_view(positions, window_shape, axis)
    return reshape(x, (-1,))[np.ascontiguousarray(index)]


accept_array_likes(globals(), __all__)
