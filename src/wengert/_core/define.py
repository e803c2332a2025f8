"""Shorthands that define a primitive and all of its rules in one line.

A typical primitive is one of a few kinds, and its kind gives most of its rules:

- `elementwise` (one argument) and `binary` (two, broadcasting): from the derivative alone
  come the reverse rule ``g * d``, the forward rule ``t * d``, the batching rule (line up
  the batch axes) and the dependency pattern (diagonal);
- `linear`: the forward rule is the primitive itself, the reverse rule its transpose;
- `nondiff`: no derivative at all (integer or boolean results, piecewise constants); every
  transformation but batching sees straight through it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .box import Box
from .primitive import Primitive, open_innermost
from .tree import tree_flatten, tree_unflatten
from .vspace import is_foreign_array


def _zero_safe_multiply(t, d):
    if type(d) is not np.ndarray and is_foreign_array(d):
        # A lazy array (Dask): no entries to look at now, so always the masked product.
        return np.where(np.equal(t, 0), 0.0, np.multiply(t, d))
    if np.isfinite(d).all():
        return np.multiply(t, d)
    # A zero tangent moves nothing, whatever the derivative: 0 * inf (or nan) is 0 here.
    with np.errstate(invalid="ignore"):
        out = np.multiply(t, d)
    safe = np.where(np.equal(t, 0), np.zeros_like(out), out)
    return safe[()] if np.ndim(safe) == 0 else safe


zero_safe_multiply = Primitive(
    _zero_safe_multiply, "zero_safe_multiply", broadcasts=True, elementwise=True
)
zero_safe_multiply.defvjp(lambda g, ans, t, d: zero_safe_multiply(g, d), lambda g, ans, t, d: g * t)
zero_safe_multiply.defjvp(
    lambda tt, ans, t, d: zero_safe_multiply(tt, d), lambda td, ans, t, d: t * td
)
# To symbolic expressions it is a product (a symbolic zero tangent is no factor at all).
zero_safe_multiply.defalgebra("product", (1, 1))


def elementwise(
    fun: Callable, deriv: Callable, name: str | None = None, singular: bool = False
) -> Primitive:
    """A one-argument elementwise primitive from its derivative ``deriv(ans, x)``.

    Reverse rule ``g * deriv``, forward rule ``t * deriv``. `singular` marks a function
    whose derivative can be infinite or undefined (a pole or branch point of its
    derivative, as sqrt at 0): its forward rule gives a zero tangent entry zero there,
    so that a direction that does not move x does not get a NaN from 0 * inf.
    """
    prim = Primitive(fun, name, elementwise=True)
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
    prim = Primitive(fun, name, broadcasts=True, elementwise=True)
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


def linear(
    fun: Callable, transpose: Callable, name: str | None = None, elementwise: bool = False
) -> Primitive:
    """A primitive linear in its first argument: its tangent map is itself.

    ``transpose(g, ans, x, *rest, **kwargs)`` is the reverse rule.
    """
    prim = Primitive(fun, name, elementwise=elementwise)
    prim.defvjp(transpose)
    prim.defjvp(lambda t, ans, x, *rest, **kw: prim(t, *rest, **kw))
    return prim


class Nondiff(Primitive):
    """A function without derivative: its results are constants to every transformation.

    Calling it on traced values asks the innermost trace (`Trace.process_nondiff`), which
    opens its own boxes and calls it again, one trace at a time: differentiating traces
    simply see through it, and a batch trace maps it over the batch, so that a mapped
    comparison or ``argmax`` still sees one member at a time.
    """

    nondifferentiable = True

    def __init__(self, fun: Callable, name: str | None = None, elementwise: bool = False):
        super().__init__(fun, name, elementwise=elementwise)
        self.__doc__ = f"NumPy's {self.name}, without derivative (passed through)."
        self.__wrapped__ = fun

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        boxes = [a for a in args if isinstance(a, Box)]
        if not boxes and (kwargs or any(isinstance(a, _CONTAINERS) for a in args)):
            # Traced values inside lists or keywords (np.all([x > 0, y > 0])).
            boxes = [x for x in tree_flatten((args, kwargs))[0] if isinstance(x, Box)]
        if not boxes:
            return self.fun(*args, **kwargs)
        top = boxes[0]._trace if len(boxes) == 1 else open_innermost(self.name, tuple(boxes))[0]
        return top.process_nondiff(self, args, kwargs)

    def opened(self, trace, args: tuple, kwargs: dict) -> tuple[tuple, dict, list[bool]]:
        """`args` and `kwargs` with `trace`'s boxes opened, and for each positional
        argument whether it held one."""
        if not kwargs and not any(isinstance(a, _CONTAINERS) for a in args):
            held = [isinstance(a, Box) and a._trace is trace for a in args]
            return tuple(a.value if h else a for a, h in zip(args, held)), kwargs, held
        leaves, treedef = tree_flatten((args, kwargs))
        values = [x.value if isinstance(x, Box) and x._trace is trace else x for x in leaves]
        new_args, new_kwargs = tree_unflatten(treedef, values)
        held = [
            any(isinstance(x, Box) and x._trace is trace for x in tree_flatten(a)[0]) for a in args
        ]
        return new_args, new_kwargs, held


_CONTAINERS = (list, tuple, dict)


def nondiff(fun: Callable, name: str | None = None, elementwise: bool | None = None) -> Nondiff:
    """A function with no derivative (integer or boolean results, or piecewise constant).

    Its result is a constant to every differentiating transformation; under `vmap` it is
    mapped like any primitive (NumPy ufuncs are elementwise unless told otherwise).
    """
    if elementwise is None:
        elementwise = isinstance(fun, np.ufunc) and fun.signature is None
    return Nondiff(fun, name or getattr(fun, "__name__", "nondiff"), elementwise)


stop_gradient = nondiff(lambda x: x, "stop_gradient", elementwise=True)
stop_gradient.__doc__ = """`x` as a constant to every differentiating transformation (its
derivative is zero), while batching still sees it as the batch it is."""


# Generated source (Program.source) computes these primitives with their implementations,
# copied (they use NumPy alone), or with the public function that they call.
zero_safe_multiply.defsource(_zero_safe_multiply)
stop_gradient.defsource(rewrite=lambda x: (None, (x,), {}))  # x itself
