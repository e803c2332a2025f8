"""Numerical differentiation: finite differences of orders 2, 4 and 6, Richardson
extrapolation with an error estimate, and the complex-step derivative.

They check automatic derivatives (see `wengert.check_grads`) and serve code that cannot
be traced.
"""

from .api import derivative, gradient, jacobian
from .differences import complex_step, directional_derivative, richardson
from .stencils import default_step, fd_weights, stencil

__all__ = [
    "complex_step",
    "default_step",
    "derivative",
    "directional_derivative",
    "fd_weights",
    "gradient",
    "jacobian",
    "richardson",
    "stencil",
]
