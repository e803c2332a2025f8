"""wengert: derivatives of Python programs over NumPy arrays.

Forward and reverse mode of any order (`jvp`, `vjp`, `grad`), user-defined primitives,
numerical derivatives (`wengert.numeric`) and a gradient checker (`check_grads`).
"""

from . import numpy  # registers the differentiable functions behind traced values
from .api import elementwise_grad, grad, jvp, stop_gradient, value_and_grad, vjp
from .custom import Primitive, custom_jvp, custom_vjp, primitive
from .errors import (
    EscapedTracerError,
    InPlaceWriteError,
    MissingRuleError,
    NonScalarOutputError,
    TracedConversionError,
    UnsupportedFunctionError,
    WengertError,
)
from ._core.tree import tree_flatten, tree_map, tree_unflatten

__version__ = "0.1.0"

__all__ = [
    "EscapedTracerError", "InPlaceWriteError", "MissingRuleError", "NonScalarOutputError",
    "Primitive", "TracedConversionError", "UnsupportedFunctionError", "WengertError", "custom_jvp", "custom_vjp",
    "elementwise_grad", "grad", "jvp", "numpy", "primitive", "stop_gradient", "tree_flatten",
    "tree_map", "tree_unflatten", "value_and_grad", "vjp",
]
