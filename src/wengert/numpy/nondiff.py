"""NumPy functions without a derivative, passed through on the values under any boxes.

They return integers, booleans, shapes or fresh arrays that do not depend smoothly on
their inputs, so their results are constants to every transformation.
"""

from __future__ import annotations

import numpy as np

from .._core.batching import along_axis
from .._core.box import Box, shape_of
from .._core.define import nondiff
from ._arraylike import accept_array_likes

# Functions of shapes and dtypes: they answer for one value (one member of a batch) and
# never see the values themselves.
METADATA = (
    "shape",
    "ndim",
    "size",
    "result_type",
    "iscomplexobj",
    "isrealobj",
    "isscalar",
    "can_cast",
    "promote_types",
    "broadcast_shapes",
    "common_type",
    "mintypecode",
    "einsum_path",
)

NAMES = (
    # fresh arrays
    "zeros",
    "ones",
    "empty",
    "eye",
    "identity",
    "arange",
    "tri",
    "indices",
    "zeros_like",
    "ones_like",
    "empty_like",
    "diag_indices",
    "tril_indices",
    "triu_indices",
    "unravel_index",
    "ravel_multi_index",
    # integer and boolean results
    "argwhere",
    "flatnonzero",
    "searchsorted",
    "digitize",
    "bincount",
    "unique",
    "isnan",
    "isinf",
    "isfinite",
    "isposinf",
    "isneginf",
    "isclose",
    "allclose",
    "array_equal",
    "array_equiv",
    "signbit",
    "equal",
    "not_equal",
    "less",
    "less_equal",
    "greater",
    "greater_equal",
    "logical_and",
    "logical_or",
    "logical_not",
    "logical_xor",
    # bits and sets
    "argpartition",
    "nanargmax",
    "nanargmin",
    "isin",
    "tril_indices_from",
    "triu_indices_from",
    "diag_indices_from",
    "mask_indices",
    "bitwise_and",
    "bitwise_or",
    "bitwise_xor",
    "bitwise_not",
    "invert",
    "left_shift",
    "right_shift",
    "gcd",
    "lcm",
    "packbits",
    "unpackbits",
    "isnat",
    "isfortran",
    "shares_memory",
    "may_share_memory",
    "bitwise_count",
    "bitwise_invert",
    "bitwise_left_shift",
    "bitwise_right_shift",
    "iscomplex",
    "isreal",
    "lexsort",
    # counts, set operations and neighbours of floating-point numbers
    "histogram",
    "histogram2d",
    "histogramdd",
    "histogram_bin_edges",
    "intersect1d",
    "union1d",
    "setdiff1d",
    "setxor1d",
    "unique_all",
    "unique_counts",
    "unique_inverse",
    "unique_values",
    "nextafter",
    "spacing",
    "min_scalar_type",
    # window functions of an integer length (kaiser's shape parameter has no derivative)
    "bartlett",
    "blackman",
    "hamming",
    "hanning",
    "kaiser",
)
NAMES = tuple(name for name in NAMES if hasattr(np, name))  # (some are NumPy 2's only)
# Along an axis (the keyword or the second argument); None: all of each member's axes.
ALONG_AXIS = ("argmax", "argmin", "argsort", "all", "any", "count_nonzero")


def _metadata(name: str):
    fun = getattr(np, name)

    def of_values(*args, **kwargs):
        args = [np.empty(shape_of(a), dtype=a.dtype) if isinstance(a, Box) else a for a in args]
        return fun(*args, **kwargs)

    of_values.__name__ = name
    of_values.__doc__ = f"NumPy's {name}, of a value's shape or dtype (one member's, under vmap)."
    of_values.__wrapped__ = fun
    of_values.nondifferentiable = True
    return of_values


def _along_axis(name: str):
    prim = nondiff(getattr(np, name), name)
    # argmax/argmin/argsort flatten for axis=None; all/any/count_nonzero reduce every axis.
    flatten = name.startswith("arg")
    prim.defbatch(along_axis(prim, 1, flatten_none=flatten))
    return prim


# Elementwise, though not ufuncs: under vmap they line up the batch axes (no loop).
ELEMENTWISE = ("isposinf", "isneginf", "isclose", "iscomplex", "isreal")

_functions = {name: _metadata(name) for name in METADATA}
_functions.update(
    {
        name: nondiff(getattr(np, name), name, elementwise=name in ELEMENTWISE or None)
        for name in NAMES
    }
)
_functions.update({name: _along_axis(name) for name in ALONG_AXIS})
globals().update(_functions)

__all__ = [*METADATA, *NAMES, *ALONG_AXIS]

# Lists and tuples holding traced values are read as arrays by the public functions.
accept_array_likes(globals(), __all__)
