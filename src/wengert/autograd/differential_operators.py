"""HIPS autograd's differential operators, each a few lines over wengert's own `vjp`/`jvp`.

autograd's operators differentiate one argument, chosen by ``argnum`` (an int, or a tuple
of ints to differentiate with respect to the tuple of those arguments), and return a
function of all the arguments. Their layouts and error types follow autograd, so code
written against it gives the same numbers; the engine underneath is wengert's.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from .. import numpy as np
from ..api import _vjp
from ..api import jvp as _jvp
from ..checkpoint import checkpoint
from ..jacobians import jacrev
from .extend import vspace

__all__ = [
    "checkpoint",
    "deriv",
    "elementwise_grad",
    "grad",
    "grad_and_aux",
    "grad_named",
    "hessian",
    "hessian_tensor_product",
    "hessian_vector_product",
    "holomorphic_grad",
    "jacobian",
    "make_ggnvp",
    "make_hvp",
    "make_jvp",
    "make_jvp_reversemode",
    "make_vjp",
    "multigrad_dict",
    "tensor_jacobian_product",
    "value_and_grad",
    "vector_jacobian_product",
]


def _substitute(args: tuple, argnum: Any, x: Any) -> tuple:
    args = list(args)
    if isinstance(argnum, int):
        args[argnum] = x
    else:
        for i, value in zip(argnum, x):
            args[i] = value
    return tuple(args)


def unary_to_nary(unary: Callable) -> Callable:
    """An operator on functions of one argument made to act on argument ``argnum`` of a
    function of many: ``op(fun, argnum=0, *op_args, **op_kwargs)(*args, **kwargs)``."""

    @functools.wraps(unary)
    def nary_operator(fun: Callable, argnum: Any = 0, *op_args: Any, **op_kwargs: Any):
        @functools.wraps(fun)
        def nary_f(*args: Any, **kwargs: Any) -> Any:
            if isinstance(argnum, int):
                x = args[argnum]
            else:
                x = tuple(args[i] for i in argnum)

            def unary_f(x):
                return fun(*_substitute(args, argnum, x), **kwargs)

            return unary(unary_f, x, *op_args, **op_kwargs)

        return nary_f

    return nary_operator


def _make_vjp(fun: Callable, x: Any) -> tuple[Callable, Any]:
    ans, pullback = _vjp(fun, (x,), False, "make_vjp")

    def vjp(g):
        return pullback(g)[0]

    return vjp, ans


def _make_jvp(fun: Callable, x: Any) -> Callable:
    def jvp(g):
        return _jvp(fun, (x,), (g,))

    return jvp


make_vjp = unary_to_nary(_make_vjp)
make_vjp.__doc__ = "``make_vjp(fun, argnum)(*args)`` is ``(vjp, ans)``: the pullback and the value."
make_jvp = unary_to_nary(_make_jvp)
make_jvp.__doc__ = "``make_jvp(fun, argnum)(*args)(v)`` is ``(ans, tangent)``."

_NOT_SCALAR = (
    "{name} only applies to real scalar-output functions. Try jacobian, elementwise_grad or "
    "holomorphic_grad (the function returned shape {shape})."
)


def _ones_of_scalar(name: str, ans: Any) -> Any:
    """The cotangent ones of an output with one element, or autograd's TypeError."""
    space = vspace(ans)
    if space.size != 1:
        raise TypeError(_NOT_SCALAR.format(name=name, shape=np.shape(ans)))
    return space.ones()


@unary_to_nary
def grad(fun: Callable, x: Any) -> Any:
    """The gradient of a function whose output has one element, with respect to argument
    ``argnum``; shaped like that argument."""
    vjp, ans = _make_vjp(fun, x)
    return vjp(_ones_of_scalar("grad", ans))


@unary_to_nary
def elementwise_grad(fun: Callable, x: Any) -> Any:
    """The sum of the Jacobian's rows, in one backward pass: the derivative at each entry
    when `fun` acts elementwise."""
    vjp, ans = _make_vjp(fun, x)
    if vspace(ans).iscomplex:
        raise TypeError("elementwise_grad only applies to real-output functions.")
    return vjp(vspace(ans).ones())


@unary_to_nary
def deriv(fun: Callable, x: Any) -> Any:
    """The directional derivative along ones (forward mode)."""
    return _make_jvp(fun, x)(vspace(x).ones())[1]


@unary_to_nary
def jacobian(fun: Callable, x: Any) -> Any:
    """The Jacobian by reverse mode, shaped ``ans.shape + x.shape``."""
    return jacrev(fun)(x)


@unary_to_nary
def holomorphic_grad(fun: Callable, x: Any) -> Any:
    """The complex derivative f'(z) of a holomorphic `fun`."""
    if not vspace(x).iscomplex:
        warnings.warn("Input to holomorphic_grad is not complex", stacklevel=3)
    return grad(lambda z: np.real(fun(z)))(x)


def grad_named(fun: Callable, argname: str) -> Callable:
    """The gradient with respect to the argument called `argname` (not *args or **kwargs)."""
    return grad(fun, inspect.getfullargspec(fun).args.index(argname))


@unary_to_nary
def hessian(fun: Callable, x: Any) -> Any:
    """The Hessian, as the Jacobian of the Jacobian (reverse over reverse, so primitives
    with only reverse rules are covered)."""
    return jacobian(jacobian(fun))(x)


@unary_to_nary
def make_hvp(fun: Callable, x: Any) -> tuple[Callable, Any]:
    """``(hvp, gradient)`` at a point: ``hvp(v)`` is H v, reusing one recorded gradient."""
    return _make_vjp(grad(fun), x)


def hessian_tensor_product(fun: Callable, argnum: Any = 0) -> Callable:
    """A function of ``(*args, tensor, **kwargs)`` returning the Hessian-tensor product."""
    fun_grad = grad(fun, argnum)

    def vector_dot_grad(*args, **kwargs):
        args, vector = args[:-1], args[-1]
        return np.tensordot(fun_grad(*args, **kwargs), vector, np.ndim(vector))

    return grad(vector_dot_grad, argnum)


hessian_vector_product = hessian_tensor_product


def tensor_jacobian_product(fun: Callable, argnum: Any = 0) -> Callable:
    """A function of ``(*args, tensor, **kwargs)`` returning tensor times the Jacobian."""

    def vector_dot_fun(*args, **kwargs):
        args, vector = args[:-1], args[-1]
        return np.tensordot(vector, fun(*args, **kwargs), axes=np.ndim(vector))

    return jacobian(vector_dot_fun, argnum)


vector_jacobian_product = tensor_jacobian_product


@unary_to_nary
def make_jvp_reversemode(fun: Callable, x: Any) -> Callable:
    """A JVP from two reverse passes (the VJP of the VJP, which is linear)."""
    vjp, y = _make_vjp(fun, x)
    vjp_vjp, _ = _make_vjp(vjp, vspace(y).zeros())
    return vjp_vjp


def make_ggnvp(
    f: Callable, g: Callable = lambda x: 0.5 * np.sum(x**2, axis=-1), f_argnum: Any = 0
) -> Callable:
    """Generalised Gauss-Newton-vector products J^T H_g J v of ``g(f(x))``."""

    @unary_to_nary
    def _make_ggnvp(f, x):
        f_vjp, f_x = _make_vjp(f, x)
        g_hvp, grad_g_x = _make_vjp(grad(g), f_x)
        f_jvp, _ = _make_vjp(f_vjp, vspace(grad_g_x).zeros())

        def ggnvp(v):
            return f_vjp(g_hvp(f_jvp(v)))

        return ggnvp

    return _make_ggnvp(f, f_argnum)


@unary_to_nary
def value_and_grad(fun: Callable, x: Any) -> tuple[Any, Any]:
    """``(value, gradient)`` from one evaluation, as SciPy's optimisers want them."""
    vjp, ans = _make_vjp(fun, x)
    return ans, vjp(_ones_of_scalar("value_and_grad", ans))


@unary_to_nary
def grad_and_aux(fun: Callable, x: Any) -> tuple[Any, Any]:
    """The gradient of the first of the two outputs of `fun`, and the second unchanged."""
    ans, pullback, aux = _vjp(lambda x: tuple(fun(x)), (x,), True, "grad_and_aux")
    return pullback(_ones_of_scalar("grad_and_aux", ans))[0], aux


def multigrad_dict(fun: Callable) -> Callable:
    """Gradients with respect to every argument at once, as a dict from argument name to
    gradient (in the order of the signature; defaults filled in)."""
    sig = inspect.signature(fun)
    kinds = inspect.Parameter
    var_pos = [n for n, p in sig.parameters.items() if p.kind == kinds.VAR_POSITIONAL]
    var_kwd = [n for n, p in sig.parameters.items() if p.kind == kinds.VAR_KEYWORD]
    positional = [n for n, p in sig.parameters.items() if p.kind < kinds.VAR_POSITIONAL]
    keyword_only = [n for n, p in sig.parameters.items() if p.kind == kinds.KEYWORD_ONLY]

    def gradfun(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = OrderedDict(bound.arguments)

        def newfun(values):
            front = tuple(values[n] for n in positional)
            extra = tuple(values[var_pos[0]]) if var_pos else ()
            keywords = {n: values[n] for n in keyword_only}
            keywords.update(values[var_kwd[0]] if var_kwd else {})
            return fun(*front, *extra, **keywords)

        grads = grad(newfun)(dict(arguments))
        return OrderedDict((name, grads[name]) for name in arguments)

    return gradfun
