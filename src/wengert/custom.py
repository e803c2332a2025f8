"""User-defined derivatives: new primitives, and custom rules for ordinary functions."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ._core.box import Box
from ._core.forward import ForwardBox, ForwardTrace
from ._core.primitive import Primitive, open_innermost
from ._core.reverse import ReverseTrace
from ._core.vspace import zeros_like

__all__ = ["Primitive", "custom_jvp", "custom_vjp", "primitive"]


def primitive(fun: Callable) -> Primitive:
    """Make `fun` a primitive, to be given rules with ``.defvjp`` and ``.defjvp``.

    ``defvjp(vjp_0, vjp_1, ...)`` takes one reverse rule per argument,
    ``vjp_i(g, ans, *args, **kwargs)``, returning the cotangent of argument i from the
    output cotangent ``g``; ``defjvp(jvp_0, ...)`` takes one forward rule per argument,
    ``jvp_i(t, ans, *args, **kwargs)``, returning argument i's contribution to the output
    tangent. Write rules with wengert functions so that they can be differentiated too.

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> @wg.primitive
    ... def cube(x):
    ...     return x ** 3
    >>> _ = cube.defvjp(lambda g, ans, x: g * 3 * x ** 2)
    >>> _ = cube.defjvp(lambda t, ans, x: t * 3 * x ** 2)
    >>> wg.grad(cube)(2.0), wg.grad(wg.grad(cube))(2.0)
    (12.0, 12.0)
    """
    return Primitive(fun)


class custom_vjp:
    """A function with a hand-written reverse rule, used in place of tracing its body.

    Define ``fwd(*args) -> (output, residuals)`` and ``bwd(residuals, g) -> tuple of
    cotangents, one per argument``, and register them with ``f.defvjp(fwd, bwd)``. Forward
    mode differentiates the body itself. The output must be a single array or scalar.

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> @wg.custom_vjp
    ... def clip_gradient(x):
    ...     return x
    >>> _ = clip_gradient.defvjp(lambda x: (x, None), lambda res, g: (wnp.clip(g, -1, 1),))
    >>> wg.grad(lambda x: 5.0 * clip_gradient(x))(1.0)
    1.0
    """

    def __init__(self, fun: Callable):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.fwd: Callable | None = None
        self.bwd: Callable | None = None
        self._primitive = Primitive(fun, getattr(fun, "__name__", "custom_vjp"))
        self._primitive.defvjp_all(self._vjp_all)

    def defvjp(self, fwd: Callable, bwd: Callable) -> custom_vjp:
        self.fwd, self.bwd = fwd, bwd
        return self

    def _vjp_all(self, g, ans, argnums, *args, residuals):
        cotangents = self.bwd(residuals, g)
        if not isinstance(cotangents, (tuple, list)) or len(cotangents) != len(args):
            raise TypeError(
                f"the bwd rule of {self._primitive.name} must return a tuple with one "
                f"cotangent per argument ({len(args)}), got {cotangents!r:.80}."
            )
        return [zeros_like(args[i]) if cotangents[i] is None else cotangents[i] for i in argnums]

    def __call__(self, *args: Any) -> Any:
        if not any(isinstance(a, Box) for a in args):
            return self.fun(*args)
        if self.fwd is None:
            raise TypeError(f"custom_vjp {self._primitive.name} has no rules: call .defvjp.")
        top, values, argnums, boxes = open_innermost(self._primitive.name, args)
        if not isinstance(top, ReverseTrace):  # forward and batched modes trace the body
            return self.fun(*args)
        ans, residuals = self.fwd(*values)
        return top.process(self._primitive, ans, values, {"residuals": residuals}, argnums, boxes)


class custom_jvp:
    """A function with a hand-written forward rule, used in place of tracing its body.

    Register ``rule(primals, tangents) -> (output, output_tangent)`` with ``f.defjvp``.
    Reverse mode uses the same rule: it is linear in the tangents, so its transpose is
    found by differentiating it backward with respect to them.

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> @wg.custom_jvp
    ... def softplus(x):
    ...     return wnp.logaddexp(x, 0.0)
    >>> @softplus.defjvp
    ... def _(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return softplus(x), t / (1.0 + wnp.exp(-x))
    >>> float(wg.grad(softplus)(0.0))
    0.5
    """

    def __init__(self, fun: Callable):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.rule: Callable | None = None
        self._primitive = Primitive(fun, getattr(fun, "__name__", "custom_jvp"))
        self._primitive.defvjp_all(self._vjp_all)

    def defjvp(self, rule: Callable) -> Callable:
        self.rule = rule
        return rule

    def _vjp_all(self, g, ans, argnums, *args):
        from .api import vjp

        def tangent_map(*tangents):
            return self.rule(args, tangents)[1]

        _, pullback = vjp(tangent_map, *[zeros_like(a) for a in args])
        cotangents = pullback(g)
        return [cotangents[i] for i in argnums]

    def __call__(self, *args: Any) -> Any:
        if not any(isinstance(a, Box) for a in args):
            return self.fun(*args)
        if self.rule is None:
            raise TypeError(f"custom_jvp {self._primitive.name} has no rule: call .defjvp.")
        top, values, argnums, boxes = open_innermost(self._primitive.name, args)
        if isinstance(top, ReverseTrace):  # grad, vjp and define-by-run Variables
            ans = self(*values)
            return top.process(self._primitive, ans, values, {}, argnums, boxes)
        if not isinstance(top, ForwardTrace):  # a batch of directions maps the body itself
            return self.fun(*args)
        tangents = [zeros_like(v) for v in values]
        for i, box in zip(argnums, boxes):
            tangents[i] = box.tangent
        ans, tangent = self.rule(values, tuple(tangents))
        return ForwardBox(ans, top, tangent)
