"""Checkpointing: recompute a function's inside in the backward pass instead of storing it.

Reverse mode keeps every intermediate value of the evaluation until the backward pass
uses it, so memory grows with the length of the computation. A checkpointed function
is recorded as one node holding only its inputs and outputs; the backward pass
evaluates it again, this time recording its inside, and pulls the cotangents back
through that short-lived recording. A long chain cut into checkpointed segments keeps
only the segment boundaries plus one segment's inside alive: memory for time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ._core.box import Box
from ._core.primitive import Primitive, open_innermost
from ._core.tree import TreeDef, tree_flatten, tree_unflatten
from .api import jvp, vjp

__all__ = ["checkpoint"]


class _Inside:
    """The static part of one call: the argument tree, its constant leaves, and where the
    traced leaves go."""

    __slots__ = ("leaves", "positions", "treedef")

    def __init__(self, treedef: TreeDef, leaves: list, positions: list[int]):
        self.treedef = treedef
        self.leaves = leaves
        self.positions = positions


class Checkpointed:
    """`fun`, recomputed in the backward pass of reverse mode rather than stored."""

    def __init__(self, fun: Callable):
        functools.update_wrapper(self, fun)
        self.fun = fun
        name = getattr(fun, "__name__", "fun")
        self._primitive = Primitive(self._impl, f"checkpoint({name})", multiple_results=True)
        self._primitive.defvjp_all(self._vjp_all)
        self._primitive.defjvp_all(self._jvp_all)

    def _call_inside(self, inside: _Inside, values: tuple, fun: Callable) -> tuple:
        leaves = list(inside.leaves)
        for i, v in zip(inside.positions, values):
            leaves[i] = v
        args, kwargs = tree_unflatten(inside.treedef, leaves)
        return tuple(tree_flatten(fun(*args, **kwargs))[0])

    def _impl(self, *values, inside: _Inside) -> tuple:
        return self._call_inside(inside, values, self.fun)

    def _restricted(self, inside: _Inside, values: tuple, argnums) -> Callable:
        """The inside as a function of the arguments in `argnums`, the others fixed."""

        def inner(*diff):
            full = list(values)
            for i, v in zip(argnums, diff):
                full[i] = v
            return self._call_inside(inside, tuple(full), self.fun)

        return inner

    def _vjp_all(self, g, ans, argnums, *values, inside: _Inside) -> list:
        # Evaluate again, recording the inside this time, and pull back through it.
        inner = self._restricted(inside, values, argnums)
        _, pullback = vjp(inner, *[values[i] for i in argnums])
        return list(pullback(tuple(g)))

    def _jvp_all(self, tangents, ans, *values, inside: _Inside) -> tuple:
        argnums = [i for i, t in enumerate(tangents) if t is not None]
        inner = self._restricted(inside, values, argnums)
        primals = tuple(values[i] for i in argnums)
        return tuple(jvp(inner, primals, tuple(tangents[i] for i in argnums))[1])

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        leaves, treedef = tree_flatten((args, kwargs))
        positions = [i for i, x in enumerate(leaves) if isinstance(x, Box)]
        if not positions:
            return self.fun(*args, **kwargs)
        top, values, argnums, boxes = open_innermost(
            self._primitive.name, tuple(leaves[i] for i in positions)
        )
        if top.kind != "reverse":  # forward mode stores nothing: trace the inside as usual
            return self.fun(*args, **kwargs)
        inside = _Inside(treedef, [None if isinstance(x, Box) else x for x in leaves], positions)
        # The inside runs on the values under this trace's boxes: not recorded here, while
        # outer transformations see it through this same wrapper.
        inner_leaves = list(leaves)
        for i, v in zip(positions, values):
            inner_leaves[i] = v
        inner_args, inner_kwargs = tree_unflatten(treedef, inner_leaves)
        out_leaves, out_def = tree_flatten(self(*inner_args, **inner_kwargs))
        results = top.process_multiple(
            self._primitive, tuple(out_leaves), values, {"inside": inside}, argnums, boxes
        )
        return tree_unflatten(out_def, list(results))


def checkpoint(fun: Callable) -> Checkpointed:
    """`fun` made to recompute its inside in the backward pass instead of storing it.

    Under reverse mode a call of the result is recorded as a single node that keeps only
    its inputs and outputs; the backward pass evaluates `fun` again to get what it needs,
    so peak memory falls to the segment boundaries plus one segment's intermediates, for
    about one extra evaluation of `fun`. Forward mode and plain calls are unchanged.
    Arguments and results may be trees; leaves that are not traced are constants.

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> block = wg.checkpoint(lambda x: wnp.sin(wnp.sin(x)))
    >>> round(float(wg.grad(lambda x: block(block(x)))(0.5)), 10)
    0.629334506
    """
    return Checkpointed(fun)
