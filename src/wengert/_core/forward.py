"""Forward mode: each traced value carries its tangent alongside its primal.

A primitive call pushes the tangents of its traced inputs through its forward rule at
once. Inputs of other traces, and constants, carry the symbolic zero (`None`), so rules
never run for them; a result whose tangent is zero is returned unboxed.
"""

from __future__ import annotations

from .box import Box
from .primitive import LIBRARY_ERRORS, Primitive, library_error
from .trace import Trace
from .vspace import broadcast_tangent, zeros_like


class ForwardBox(Box):
    """A value traced in forward mode, with its tangent."""

    __slots__ = ("tangent",)

    def __init__(self, value, trace, tangent):
        self.value = value
        self._trace = trace
        self.tangent = tangent


def _tangents(args: tuple, argnums, boxes) -> list:
    """The tangent of each argument: the box's where traced here, the symbolic zero else."""
    tangents = [None] * len(args)
    for i, box in zip(argnums, boxes):
        tangents[i] = box.tangent
    return tangents


class ForwardTrace(Trace):
    """A forward-mode transformation call; it pushes tangents forward."""

    __slots__ = ()

    def process_primitive(self, primitive: Primitive, values, kwargs, argnums, boxes, nested):
        try:
            ans = primitive(*values, **kwargs) if nested else primitive.fun(*values, **kwargs)
        except LIBRARY_ERRORS as exc:
            error = library_error(primitive, values, kwargs, exc)
            if error is None:
                raise
            raise error from exc
        tangent = primitive.jvp(_tangents(values, argnums, boxes), ans, values, kwargs)
        if primitive.multiple_results:
            if tangent is None:
                return ans
            return tuple([a if t is None else ForwardBox(a, self, t) for a, t in zip(ans, tangent)])
        if tangent is None:
            return ans
        if primitive.broadcasts:
            tangent = broadcast_tangent(tangent, ans)
        return ForwardBox(ans, self, tangent)

    def process_custom_vjp(self, fn, call, args, values, argnums, boxes):
        """A custom reverse rule says nothing of tangents: push them through the body."""
        results = self.process_primitive(
            fn.primitive, values, {"call": call}, argnums, boxes, nested=False
        )
        return call.output(results)

    def process_custom_jvp(self, fn, call, args, values, argnums, boxes):
        """Apply the user's forward rule to the values and their tangents."""
        tangents = [zeros_like(v) for v in values]
        for i, box in zip(argnums, boxes):
            tangents[i] = box.tangent
        out_leaves, t_leaves = fn.apply_rule(values, tuple(tangents), call)
        return call.output([ForwardBox(o, self, t) for o, t in zip(out_leaves, t_leaves)])

    def new_input(self, value, tangent) -> Box:
        return ForwardBox(value, self, tangent)
