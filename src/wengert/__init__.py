"""wengert: derivatives of Python programs over NumPy arrays.

Forward and reverse mode of any order (`jvp`, `vjp`, `grad`), user-defined primitives,
numerical derivatives (`wengert.numeric`) and a gradient checker (`check_grads`).
"""

# numpy registers the differentiable functions behind traced values.
from . import numeric, numpy, tree_util
from ._core.batching import vmap
from ._core.tree import tree_flatten, tree_leaves, tree_map, tree_structure, tree_unflatten
from .api import elementwise_grad, grad, jvp, stop_gradient, value_and_grad, vjp
from .checkpoint import CheckpointError, checkpoint
from .custom import Primitive, custom_jvp, custom_vjp, primitive
from .debug import NonFiniteError, debug_nans
from .errors import (
    EscapedTracerError,
    InPlaceWriteError,
    MissingRuleError,
    ModifiedInputError,
    NonScalarOutputError,
    TracedConversionError,
    UnsupportedFunctionError,
    WengertError,
)
from .jacobians import derivative, hessian, hvp, jacfwd, jacobian, jacrev, linearize, vhp
from .numpy.linalg import DegenerateDerivativeWarning
from .program import GuardError, Program, RetracingWarning, jit, make_program
from .testing import (
    GradientCheckError,
    NonDifferentiablePointError,
    NonSmoothPointWarning,
    check_grads,
)
from .variable import (
    Variable,
    enable_grad,
    gradients,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)

__version__ = "0.1.0"

__all__ = [
    "CheckpointError",
    "DegenerateDerivativeWarning",
    "EscapedTracerError",
    "GradientCheckError",
    "GuardError",
    "InPlaceWriteError",
    "MissingRuleError",
    "NonDifferentiablePointError",
    "NonFiniteError",
    "ModifiedInputError",
    "NonScalarOutputError",
    "NonSmoothPointWarning",
    "Primitive",
    "Program",
    "RetracingWarning",
    "TracedConversionError",
    "check_grads",
    "checkpoint",
    "UnsupportedFunctionError",
    "WengertError",
    "custom_jvp",
    "custom_vjp",
    "debug_nans",
    "derivative",
    "elementwise_grad",
    "grad",
    "gradients",
    "hessian",
    "hvp",
    "jacfwd",
    "jacobian",
    "jacrev",
    "jit",
    "jvp",
    "linearize",
    "make_program",
    "numeric",
    "numpy",
    "primitive",
    "stop_gradient",
    "tree_flatten",
    "tree_leaves",
    "tree_map",
    "tree_structure",
    "tree_unflatten",
    "tree_util",
    "value_and_grad",
    "vhp",
    "vjp",
    "vmap",
    "Variable",
    "enable_grad",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
    "variable",
]
