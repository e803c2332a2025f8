"""Shorthands that define a primitive and both of its rules in one line."""

from __future__ import annotations

from collections.abc import Callable

from .._core.box import getval
from .._core.primitive import Primitive
from .._core.tree import tree_map


def elementwise(fun: Callable, deriv: Callable, name: str | None = None) -> Primitive:
    """A one-argument elementwise primitive from its derivative ``deriv(ans, x)``.

    Reverse rule ``g * deriv``, forward rule ``t * deriv``.
    """
    prim = Primitive(fun, name)
    prim.defvjp(lambda g, ans, x, **kw: g * deriv(ans, x))
    prim.defjvp(lambda t, ans, x, **kw: t * deriv(ans, x))
    return prim


def binary(fun: Callable, d0: Callable, d1: Callable, name: str | None = None) -> Primitive:
    """A broadcasting two-argument elementwise primitive from its partial derivatives.

    ``d0(ans, x, y)`` and ``d1(ans, x, y)`` are the partials; broadcasting is undone
    centrally by the engine.
    """
    prim = Primitive(fun, name, broadcasts=True)
    prim.defvjp(
        lambda g, ans, x, y, **kw: g * d0(ans, x, y),
        lambda g, ans, x, y, **kw: g * d1(ans, x, y),
    )
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
