"""HIPS autograd's API on wengert: change the import and the program runs.

``import autograd.numpy as np; from autograd import grad`` becomes
``import wengert.autograd.numpy as np; from wengert.autograd import grad``. Every name
maps onto wengert's own machinery (one engine), keeping autograd's signatures
(``argnum``), layouts and errors; see docs/porting.md for what differs.

>>> import wengert.autograd.numpy as np
>>> from wengert.autograd import grad
>>> float(grad(lambda x: np.tanh(x))(1.0))
0.41997434161402614
"""

from __future__ import annotations

from .builtins import dict, isinstance, list, tuple, type
from .differential_operators import (
    checkpoint,
    deriv,
    elementwise_grad,
    grad,
    grad_and_aux,
    grad_named,
    hessian,
    hessian_tensor_product,
    hessian_vector_product,
    holomorphic_grad,
    jacobian,
    make_ggnvp,
    make_hvp,
    make_jvp,
    make_vjp,
    multigrad_dict,
    tensor_jacobian_product,
    value_and_grad,
    vector_jacobian_product,
)
from .extend import primitive

__all__ = [
    "checkpoint",
    "deriv",
    "dict",
    "elementwise_grad",
    "grad",
    "grad_and_aux",
    "grad_named",
    "hessian",
    "hessian_tensor_product",
    "hessian_vector_product",
    "holomorphic_grad",
    "isinstance",
    "jacobian",
    "list",
    "make_ggnvp",
    "make_hvp",
    "make_jvp",
    "make_vjp",
    "multigrad_dict",
    "primitive",
    "tensor_jacobian_product",
    "tuple",
    "type",
    "value_and_grad",
    "vector_jacobian_product",
]
