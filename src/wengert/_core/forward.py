"""Forward mode: each traced value carries its tangent alongside its primal.

A primitive call pushes the tangents of its traced inputs through its forward rule at
once. Inputs of other traces, and constants, carry the symbolic zero (`None`), so rules
never run for them; a result whose tangent is zero is returned unboxed.
"""

from __future__ import annotations

from .box import Box
from .primitive import Primitive
from .trace import Trace
from .vspace import broadcast_tangent


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

    def __init__(self) -> None:
        super().__init__("forward")

    def process(self, primitive: Primitive, ans, args, kwargs, argnums, boxes):
        tangent = primitive.jvp(_tangents(args, argnums, boxes), ans, args, kwargs)
        if tangent is None:
            return ans
        if primitive.broadcasts:
            tangent = broadcast_tangent(tangent, ans)
        return ForwardBox(ans, self, tangent)

    def process_multiple(self, primitive: Primitive, ans, args, kwargs, argnums, boxes):
        out_tangents = primitive.jvp(_tangents(args, argnums, boxes), ans, args, kwargs)
        if out_tangents is None:
            return ans
        return tuple(
            [a if t is None else ForwardBox(a, self, t) for a, t in zip(ans, out_tangents)]
        )

    def new_input(self, value, tangent) -> Box:
        return ForwardBox(value, self, tangent)
