"""Numerical differentiation: finite-difference stencils of orders 2, 4 and 6, Richardson
extrapolation with an error estimate, and the complex-step derivative.

They check automatic derivatives (see `wengert.check_grads`) and serve code that cannot
be traced. Everything works along a direction v: the derivative of t -> fun(x + t v) at 0.
"""

from .api import derivative, gradient, jacobian
from .complex_step import complex_step
from .richardson import richardson, richardson_step
from .stencils import default_step, directional_derivative, fd_weights, stencil

__all__ = [
    "complex_step",
    "default_step",
    "derivative",
    "directional_derivative",
    "fd_weights",
    "gradient",
    "jacobian",
    "richardson",
    "richardson_step",
    "stencil",
]
