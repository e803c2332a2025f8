"""NumPy functions without a derivative, passed through on the values under any boxes.

They return integers, booleans, shapes or fresh arrays that do not depend smoothly on
their inputs, so their results are constants to every transformation.
"""

from __future__ import annotations

import numpy as np

from ._define import nondiff

NAMES = (
    # shapes and types
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
    "argmax",
    "argmin",
    "argsort",
    "argwhere",
    "flatnonzero",
    "searchsorted",
    "digitize",
    "bincount",
    "count_nonzero",
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
    "all",
    "any",
    "iscomplex",
    "isreal",
    "lexsort",
)

_functions = {name: nondiff(getattr(np, name), name) for name in NAMES}
globals().update(_functions)

__all__ = list(NAMES)
