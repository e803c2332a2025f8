"""Shorthands that define a primitive and both of its rules in one line."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._core.batching import defbatch_elementwise
from .._core.box import getval
from .._core.primitive import Primitive
from .._core.tree import tree_map


def _zero_safe_multiply(t, d):
    if np.isfinite(d).all():
        return np.multiply(t, d)
    # A zero tangent moves nothing, whatever the derivative: 0 * inf (or nan) is 0 here.
    with np.errstate(invalid="ignore"):
        out = np.multiply(t, d)
    safe = np.where(np.equal(t, 0), np.zeros_like(out), out)
    return safe[()] if np.ndim(safe) == 0 else safe


zero_safe_multiply = Primitive(_zero_safe_multiply, "zero_safe_multiply", broadcasts=True)
zero_safe_multiply.defvjp(lambda g, ans, t, d: zero_safe_multiply(g, d), lambda g, ans, t, d: g * t)
zero_safe_multiply.defjvp(
    lambda tt, ans, t, d: zero_safe_multiply(tt, d), lambda td, ans, t, d: t * td
)
defbatch_elementwise(zero_safe_multiply)


def elementwise(
    fun: Callable, deriv: Callable, name: str | None = None, singular: bool = False
) -> Primitive:
    """A one-argument elementwise primitive from its derivative ``deriv(ans, x)``.

    Reverse rule ``g * deriv``, forward rule ``t * deriv``. `singular` marks a function
    whose derivative can be infinite or undefined (a pole or branch point of its
    derivative, as sqrt at 0): its forward rule gives a zero tangent entry zero there,
    so that a direction that does not move x does not get a NaN from 0 * inf.
    """
    prim = Primitive(fun, name)
    prim.defvjp(lambda g, ans, x, **kw: g * deriv(ans, x))
    if singular:
        prim.defjvp(lambda t, ans, x, **kw: zero_safe_multiply(t, deriv(ans, x)))
    else:
        prim.defjvp(lambda t, ans, x, **kw: t * deriv(ans, x))
    return prim


def binary(
    fun: Callable, d0: Callable, d1: Callable, name: str | None = None, singular: bool = False
) -> Primitive:
    """A broadcasting two-argument elementwise primitive from its partial derivatives.

    ``d0(ans, x, y)`` and ``d1(ans, x, y)`` are the partials; broadcasting is undone
    centrally by the engine. `singular` as for `elementwise`.
    """
    prim = Primitive(fun, name, broadcasts=True)
    prim.defvjp(
        lambda g, ans, x, y, **kw: g * d0(ans, x, y),
        lambda g, ans, x, y, **kw: g * d1(ans, x, y),
    )
    if singular:
        prim.defjvp(
            lambda t, ans, x, y, **kw: zero_safe_multiply(t, d0(ans, x, y)),
            lambda t, ans, x, y, **kw: zero_safe_multiply(t, d1(ans, x, y)),
        )
    else:
        prim.defjvp(
            lambda t, ans, x, y, **kw: t * d0(ans, x, y),
            lambda t, ans, x, y, **kw: t * d1(ans, x, y),
        )
    return prim


def linear(fun: Callable, transpose: Callable, name: str | None = None) -> Primitive:
    """A primitive linear in its first argument: its tangent map is itself.

    ``transpose(g, ans, x, *rest, **kwargs)`` is the reverse rule.
    """
    prim = Primitive(fun, name)
    prim.defvjp(transpose)
    prim.defjvp(lambda t, ans, x, *rest, **kw: prim(t, *rest, **kw))
    return prim


def nondiff(fun: Callable, name: str | None = None) -> Callable:
    """A function with no derivative (integer or boolean results, or piecewise constant).

    It opens every box in its arguments and calls `fun` on the values, so its result is
    a constant to every transformation.
    """

    def wrapper(*args, **kwargs):
        return fun(*tree_map(getval, args), **kwargs)

    wrapper.__name__ = name or getattr(fun, "__name__", "nondiff")
    wrapper.__doc__ = f"NumPy's {wrapper.__name__}, without derivative (passed through)."
    wrapper.__wrapped__ = fun
    wrapper.nondifferentiable = True
    return wrapper
