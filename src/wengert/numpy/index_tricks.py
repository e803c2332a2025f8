"""Index expressions that build arrays, `r_` and `c_`, and `ndenumerate`, with traced values.

``r_[a, 0.0, 1:4, [x, y]]`` joins its pieces along the first axis: arrays and lists as
arrays, scalars as one-entry arrays, a slice ``start:stop:step`` as ``arange`` (or, for an
imaginary step ``n * 1j``, as ``linspace`` of n points). ``c_`` joins along the last axis,
turning vectors into columns. A leading string sets the axis, the minimum number of axes
and where a piece's own axes go, as NumPy reads it (``r_["0,2,1", ...]``). The join is
`concatenate`, so derivatives flow to every traced piece and to traced slice ends. Without
traced values NumPy's own objects answer (the matrix directives ``"r"`` and ``"c"``
included).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.box import Box
from .._core.vspace import foreign_of, shape_of
from ._arraylike import accept_array_likes, holds_box
from ._common import _constant
from .manipulation import linspace
from .shaping import array, concatenate, swapaxes, transpose


def _traced(item: Any) -> bool:
    if isinstance(item, Box):
        return True
    if isinstance(item, slice):
        return any(isinstance(v, Box) for v in (item.start, item.stop, item.step))
    return type(item) in (list, tuple) and holds_box(item)


def _slice_range(item: slice) -> Any:
    """A slice as NumPy's `r_` reads it: ``arange(start, stop, step)``, or ``linspace`` of
    ``abs(step)`` points for an imaginary step."""
    start = 0 if item.start is None else item.start
    step = 1 if item.step is None else item.step
    stop = item.stop
    if isinstance(step, (complex, np.complexfloating)):
        return linspace(start, stop, num=int(abs(step)))
    if not any(isinstance(v, Box) for v in (start, stop, step)):
        return np.arange(start, stop, step)
    bounds = [_constant(v, "the ends of a slice", "r_") for v in (start, stop, step)]
    n = len(np.arange(*bounds))
    # NumPy's entries: start, start + step, then start + i * ((start + step) - start).
    second = start + step
    delta = second - start
    parts = [array(start, ndmin=1), array(second, ndmin=1)]
    parts.append(start + np.arange(2, max(n, 2), like=foreign_of(start, stop, step)) * delta)
    return concatenate(parts)[:n]


class AxisConcatenator:
    """Joins the pieces of an index expression along an axis (see the module)."""

    def __init__(self, numpy_form: Any, axis: int = 0, ndmin: int = 1, trans1d: int = -1):
        self.numpy_form = numpy_form
        self.axis = axis
        self.ndmin = ndmin
        self.trans1d = trans1d

    def __getitem__(self, key: Any) -> Any:
        items = key if isinstance(key, tuple) else (key,)
        if not any(_traced(item) for item in items) and foreign_of(*items) is None:
            return self.numpy_form[key]  # (NumPy's reads CuPy's arrays as NumPy's)
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        objs, dtypes = [], []
        for k, item in enumerate(items):
            if isinstance(item, str):
                if k != 0:
                    raise ValueError("special directives must be the first entry.")
                axis, ndmin, trans1d = _directive(item, axis, ndmin, trans1d)
                continue
            if isinstance(item, slice):
                piece = _slice_range(item)
                if ndmin > 1:
                    piece = array(piece, ndmin=ndmin)
                    if trans1d != -1:
                        piece = swapaxes(piece, -1, trans1d)
                dtypes.append(piece.dtype)
            elif type(item) in np.ScalarType:
                piece = item
                dtypes.append(item)  # a Python number is weak in NumPy's promotion
            else:
                item_ndim = len(shape_of(array(item)))
                piece = array(item, ndmin=ndmin)
                if trans1d != -1 and item_ndim < ndmin:
                    k2 = ndmin - item_ndim
                    k1 = trans1d + k2 + 1 if trans1d < 0 else trans1d
                    axes = list(range(ndmin))
                    piece = transpose(piece, axes[:k1] + axes[k2:] + axes[k1:k2])
                dtypes.append(piece.dtype)
            objs.append(piece)
        dtype = np.result_type(*dtypes)
        return concatenate([array(obj, dtype=dtype, ndmin=ndmin) for obj in objs], axis=axis)

    def __len__(self) -> int:
        return 0


def _directive(item: str, axis: int, ndmin: int, trans1d: int) -> tuple[int, int, int]:
    """The axis, minimum number of axes and placement of vectors that a string sets."""
    if item in ("r", "c"):
        raise TypeError(
            f"wengert.numpy.r_/c_: the directive {item!r} builds an np.matrix, which cannot "
            "hold traced values; leave it out for an array."
        )
    if "," in item:
        vec = item.split(",")
        try:
            axis, ndmin = (int(x) for x in vec[:2])
            if len(vec) == 3:
                trans1d = int(vec[2])
        except Exception as e:
            raise ValueError(f"unknown special directive {item!r}") from e
        return axis, ndmin, trans1d
    try:
        return int(item), ndmin, trans1d
    except (ValueError, TypeError) as e:
        raise ValueError("unknown special directive") from e


r_ = AxisConcatenator(np.r_, axis=0)
r_.__doc__ = """Joins arrays, scalars and ranges along the first axis: ``r_[x, 0.0, 1:3]``.

>>> import wengert as wg
>>> import wengert.numpy as wnp
>>> wg.grad(lambda x: wnp.sum(wnp.r_[x, 2.0 * x, 0:3] ** 2))(1.0)
10.0
"""
c_ = AxisConcatenator(np.c_, axis=-1, ndmin=2, trans1d=0)
c_.__doc__ = """Joins arrays along the last axis, vectors as columns: ``c_[x, y]``.

>>> import wengert.numpy as wnp
>>> wnp.c_[wnp.array([1.0, 2.0]), wnp.array([3.0, 4.0])]
array([[1., 3.],
       [2., 4.]])
"""


def ndenumerate(arr: Any) -> Any:
    """Pairs of index and entry of `arr`, in C order (traced entries for a traced array).

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> wg.grad(lambda x: sum(i[0] * v for i, v in wnp.ndenumerate(x)))(wnp.ones(3))
    array([0., 1., 2.])
    """
    if not isinstance(arr, Box) and foreign_of(arr) is None:
        return np.ndenumerate(arr)
    return ((index, arr[index]) for index in np.ndindex(*shape_of(arr)))


__all__ = ["c_", "ndenumerate", "r_"]

# Lists and tuples holding traced values are read as arrays by the public functions.
accept_array_likes(globals(), __all__)
