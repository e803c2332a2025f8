"""User-defined derivatives: new primitives, and custom rules for ordinary functions.

What users write is checked where it enters the engine: a rule that returns a derivative
of the wrong shape or kind, or a custom function given traced values inside a container
it cannot see into, raises an error naming the function and the argument instead of
giving a derivative that is silently wrong.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ._core.box import Box
from ._core.primitive import Primitive, open_innermost
from ._core.tree import TreeDef, tree_flatten, tree_unflatten
from ._core.vspace import zeros_like
from ._validate import check_derivative, check_pair

__all__ = ["Primitive", "custom_jvp", "custom_vjp", "primitive"]


def _holds_box(tree: Any) -> bool:
    return any(isinstance(leaf, Box) for leaf in tree_flatten(tree)[0])


def _refuse_hidden_boxes(name: str, args: tuple, kwargs: dict) -> None:
    """Refuse traced values that a primitive would not see: inside containers or keywords."""
    for i, arg in enumerate(args):
        if not isinstance(arg, Box) and isinstance(arg, (list, tuple, dict)) and _holds_box(arg):
            raise TypeError(
                f"primitive {name} received traced values inside a {type(arg).__name__} "
                f"(argument {i}); a primitive's rules see only arrays passed directly, so "
                "its derivative would be lost. Pass each array as its own argument, or use "
                "wengert.custom_vjp / custom_jvp, which accept trees of arrays."
            )
    for key, value in kwargs.items():
        if _holds_box(value):
            raise TypeError(
                f"primitive {name} received a traced value as keyword argument {key!r}; "
                "keywords are static parameters without derivative. Pass it positionally."
            )


def _checked_vjp(name: str, argnum: int, rule: Callable) -> Callable:
    where = f"the reverse (VJP) rule of primitive {name} for argument {argnum}"

    def checked(g, ans, *args, **kwargs):
        cotangent = rule(g, ans, *args, **kwargs)
        if cotangent is not None:
            check_derivative(cotangent, args[argnum], "cotangent", where)
        return cotangent

    return checked


def _checked_jvp(name: str, argnum: int | None, rule: Callable) -> Callable:
    where = f"the forward (JVP) rule of primitive {name}"
    if argnum is not None:
        where += f" for argument {argnum}"

    def checked(t, ans, *args, **kwargs):
        tangent = rule(t, ans, *args, **kwargs)
        if tangent is not None:
            check_derivative(tangent, ans, "tangent", where)
        return tangent

    return checked


class UserPrimitive(Primitive):
    """A primitive defined by a user: the same engine, with every rule's result checked."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        _refuse_hidden_boxes(self.name, args, kwargs)
        return Primitive.__call__(self, *args, **kwargs)

    def defvjp(self, *rules: Callable | None, argnums: tuple[int, ...] | None = None):
        nums = range(len(rules)) if argnums is None else argnums
        checked = [_checked_vjp(self.name, i, r) if r else None for i, r in zip(nums, rules)]
        return super().defvjp(*checked, argnums=argnums)

    def defjvp(self, *rules: Callable | None, argnums: tuple[int, ...] | None = None):
        nums = range(len(rules)) if argnums is None else argnums
        checked = [_checked_jvp(self.name, i, r) if r else None for i, r in zip(nums, rules)]
        return super().defjvp(*checked, argnums=argnums)

    def defvjp_all(self, rule: Callable):
        name = self.name

        def checked(g, ans, argnums, *args, **kwargs):
            cotangents = rule(g, ans, argnums, *args, **kwargs)
            if not isinstance(cotangents, (tuple, list)) or len(cotangents) != len(argnums):
                raise TypeError(
                    f"the reverse rule of primitive {name} (defvjp_all) must return one "
                    f"cotangent per entry of argnums ({len(argnums)}), got {cotangents!r:.80}."
                )
            for i, c in zip(argnums, cotangents):
                if c is not None:
                    where = f"the reverse (VJP) rule of primitive {name} for argument {i}"
                    check_derivative(c, args[i], "cotangent", where)
            return cotangents

        return super().defvjp_all(checked)

    def defjvp_all(self, rule: Callable):
        return super().defjvp_all(_checked_jvp(self.name, None, rule))


def primitive(fun: Callable) -> Primitive:
    """Make `fun` a primitive, to be given rules with ``.defvjp`` and ``.defjvp``.

    ``defvjp(vjp_0, vjp_1, ...)`` takes one reverse rule per argument,
    ``vjp_i(g, ans, *args, **kwargs)``, returning the cotangent of argument i from the
    output cotangent ``g``; ``defjvp(jvp_0, ...)`` takes one forward rule per argument,
    ``jvp_i(t, ans, *args, **kwargs)``, returning argument i's contribution to the output
    tangent. Write rules with wengert functions so that they can be differentiated too.
    Arrays to differentiate are passed as positional arguments; keywords are static.
    A rule's result is checked: a derivative must have its value's shape.

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
    return UserPrimitive(fun)


def _loose(treedef: TreeDef) -> tuple:
    """A tree structure with tuples and lists alike: a cotangent may come back as either."""
    sequence = treedef.kind in ("tuple", "list")
    return (
        "sequence" if sequence else treedef.kind,
        None if sequence else treedef.meta,
        tuple(_loose(child) for child in treedef.children),
    )


class _Call:
    """The static part of one call of a custom function: the argument and output trees,
    keyword arguments, and (for custom_vjp) the residuals saved by ``fwd``."""

    __slots__ = ("in_def", "kwargs", "out_def", "residuals")

    def __init__(self, in_def: TreeDef, kwargs: dict):
        self.in_def = in_def
        self.kwargs = kwargs
        self.out_def: TreeDef | None = None
        self.residuals: Any = None

    def arguments(self, leaves) -> tuple:
        """The positional arguments rebuilt from their leaves."""
        return tree_unflatten(self.in_def, list(leaves))

    def output(self, leaves) -> Any:
        """The output rebuilt from its leaves."""
        return tree_unflatten(self.out_def, list(leaves))


class _Reentrant(Primitive):
    """A primitive that calls its function even on traced values (which then dispatches
    to the traces itself)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fun(*args, **kwargs)


class _CustomFunction:
    """What custom_vjp and custom_jvp share: trees of arguments opened at one trace, and a
    primitive (`primitive`) through which transformations record or push the call."""

    _kind = "custom function"

    def __init__(self, fun: Callable):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.name = getattr(fun, "__name__", self._kind)
        self.primitive = Primitive(self._impl, self.name, multiple_results=True)
        self.primitive.defvjp_all(self._vjp_all)
        self.primitive.defjvp_all(self._jvp_all)
        # The call as a recorded program writes it: applied again, it calls this function,
        # so that every transformation of the program meets the custom rules.
        self.recorded = _Reentrant(self._impl, self.name, multiple_results=True)

    def _impl(self, *leaves, call: _Call) -> tuple:
        # Through __call__, so that traces of the leaves' outer boxes apply the rules too.
        out_leaves, call.out_def = tree_flatten(self(*call.arguments(leaves), **call.kwargs))
        return tuple(out_leaves)

    def _opened(self, args: tuple, kwargs: dict):
        """The innermost trace among the argument leaves, and the leaves with its boxes
        opened; None when no leaf is traced."""
        for key, value in kwargs.items():
            if _holds_box(value):
                raise TypeError(
                    f"{self._kind} {self.name} received a traced value as keyword argument "
                    f"{key!r}; keyword arguments are static. Pass it positionally."
                )
        leaves, in_def = tree_flatten(args)
        if not any(isinstance(leaf, Box) for leaf in leaves):
            return None
        top, values, argnums, boxes = open_innermost(self.name, tuple(leaves))
        return top, _Call(in_def, kwargs), values, argnums, boxes


class custom_vjp(_CustomFunction):
    """A function with a hand-written reverse rule, used in place of tracing its body.

    Define ``fwd(*args) -> (output, residuals)`` and ``bwd(residuals, g) -> tuple of
    cotangents, one per argument``, and register them with ``f.defvjp(fwd, bwd)``.
    Arguments and the output may be trees (tuples, lists, dicts ... of arrays): ``g`` is
    shaped like the output, and each cotangent like its argument (None for zero).
    Keyword arguments are static. Forward mode differentiates the body itself.

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> @wg.custom_vjp
    ... def clip_gradient(x):
    ...     return x
    >>> _ = clip_gradient.defvjp(lambda x: (x, None), lambda res, g: (wnp.clip(g, -1, 1),))
    >>> wg.grad(lambda x: 5.0 * clip_gradient(x))(1.0)
    1.0
    """

    _kind = "custom_vjp"

    def __init__(self, fun: Callable):
        super().__init__(fun)
        self.fwd: Callable | None = None
        self.bwd: Callable | None = None

    def defvjp(self, fwd: Callable, bwd: Callable) -> custom_vjp:
        self.fwd, self.bwd = fwd, bwd
        return self

    def run_fwd(self, values: tuple, call: _Call) -> list:
        """Run ``fwd`` on the argument leaves `values`: the output's leaves, with the
        output's structure and the residuals kept in `call`."""
        result = self.fwd(*call.arguments(values), **call.kwargs)
        out, call.residuals = check_pair(
            result, f"the fwd rule of custom_vjp {self.name}", "output", "residuals"
        )
        out_leaves, call.out_def = tree_flatten(out)
        return out_leaves

    def _jvp_all(self, tangents, ans, *values, call: _Call) -> tuple:
        """Forward mode differentiates the body itself."""
        from .api import jvp

        argnums = [i for i, t in enumerate(tangents) if t is not None]

        def restricted(*diff):
            full = list(values)
            for i, v in zip(argnums, diff):
                full[i] = v
            out = self.fun(*call.arguments(full), **call.kwargs)
            return tuple(tree_flatten(out)[0])

        primals = tuple(values[i] for i in argnums)
        return tuple(jvp(restricted, primals, tuple(tangents[i] for i in argnums))[1])

    def _vjp_all(self, g, ans, argnums, *values, call: _Call) -> list:
        args = call.arguments(values)
        cotangents = self.bwd(call.residuals, call.output(g))
        if not isinstance(cotangents, (tuple, list)) or len(cotangents) != len(args):
            raise TypeError(
                f"the bwd rule of custom_vjp {self.name} must return a tuple with one "
                f"cotangent per argument ({len(args)}), got {cotangents!r:.80}."
            )
        leaves = []
        for i, (c, arg) in enumerate(zip(cotangents, args)):
            arg_leaves, arg_def = tree_flatten(arg)
            if c is None:
                leaves.extend([None] * len(arg_leaves))
                continue
            c_leaves, c_def = tree_flatten(c)
            if _loose(c_def) != _loose(arg_def):
                raise TypeError(
                    f"the bwd rule of custom_vjp {self.name} returned a cotangent of "
                    f"structure {c_def} for argument {i}, whose structure is {arg_def}; "
                    "return one shaped like the argument (None for zero)."
                )
            where = f"the bwd rule of custom_vjp {self.name} for argument {i}"
            for k, (cl, al) in enumerate(zip(c_leaves, arg_leaves)):
                if cl is not None:
                    part = where if len(arg_leaves) == 1 else f"{where} (leaf {k})"
                    check_derivative(cl, al, "cotangent", part)
            leaves.extend(c_leaves)
        return [leaves[i] for i in argnums]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        opened = self._opened(args, kwargs)
        if opened is None:
            return self.fun(*args, **kwargs)
        if self.fwd is None:
            raise TypeError(f"custom_vjp {self.name} has no rules: call .defvjp(fwd, bwd).")
        top, call, values, argnums, boxes = opened
        return top.process_custom_vjp(self, call, args, values, argnums, boxes)


class custom_jvp(_CustomFunction):
    """A function with a hand-written forward rule, used in place of tracing its body.

    Register ``rule(primals, tangents) -> (output, output_tangent)`` with ``f.defjvp``;
    ``primals`` and ``tangents`` are tuples with one entry per argument (trees allowed),
    and the output tangent is shaped like the output. Reverse mode uses the same rule: it
    is linear in the tangents, so its transpose is found by differentiating it backward
    with respect to them. Keyword arguments are static.

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

    _kind = "custom_jvp"

    def __init__(self, fun: Callable):
        super().__init__(fun)
        self.rule: Callable | None = None

    def defjvp(self, rule: Callable) -> Callable:
        self.rule = rule
        return rule

    def apply_rule(self, values: tuple, tangents: tuple, call: _Call) -> tuple[list, list]:
        """The rule at `values` along `tangents` (flat leaves): output and tangent leaves."""
        result = self.rule(call.arguments(values), call.arguments(tangents))
        out, out_tangent = check_pair(
            result, f"the jvp rule of custom_jvp {self.name}", "output", "output_tangent"
        )
        out_leaves, out_def = tree_flatten(out)
        t_leaves, t_def = tree_flatten(out_tangent)
        if _loose(t_def) != _loose(out_def):
            raise TypeError(
                f"the jvp rule of custom_jvp {self.name} returned an output tangent of "
                f"structure {t_def} for an output of structure {out_def}; they must match."
            )
        where = f"the jvp rule of custom_jvp {self.name}"
        for o, t in zip(out_leaves, t_leaves):
            check_derivative(t, o, "tangent", where)
        call.out_def = out_def
        return out_leaves, t_leaves

    def _jvp_all(self, tangents, ans, *values, call: _Call) -> tuple:
        tangents = [zeros_like(v) if t is None else t for t, v in zip(tangents, values)]
        return tuple(self.apply_rule(values, tuple(tangents), call)[1])

    def _vjp_all(self, g, ans, argnums, *values, call: _Call) -> list:
        from .api import vjp

        def tangent_map(*tangents):
            return tuple(self.apply_rule(values, tangents, call)[1])

        _, pullback = vjp(tangent_map, *[zeros_like(v) for v in values])
        cotangents = pullback(tuple(g))
        return [cotangents[i] for i in argnums]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        opened = self._opened(args, kwargs)
        if opened is None:
            return self.fun(*args, **kwargs)
        if self.rule is None:
            raise TypeError(f"custom_jvp {self.name} has no rule: call .defjvp(rule).")
        top, call, values, argnums, boxes = opened
        return top.process_custom_jvp(self, call, args, values, argnums, boxes)
