"""Running a function under a transformation: the plumbing every transformation shares.

`grad`, `vjp`, `linearize`, the Jacobians and the sparse Jacobians all flatten their
arguments into leaves, check that those can be differentiated, box them for a new
trace, call the function, end the trace and read its outputs out of it. `record` does
all of that for reverse mode and returns a `Recording` (the graph's input nodes and the
outputs), which the pullback, the linearised JVP and sparsity detection each interpret.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._core.box import Box, peek
from ._core.reverse import ReverseTrace
from ._core.tree import TreeDef, tree_flatten, tree_map, tree_unflatten
from .errors import EscapedTracerError

__all__ = ["Recording", "check_inexact", "read_out", "record", "run", "split_aux", "strip"]


def check_inexact(leaves: Sequence, what: str) -> None:
    """Raise a TypeError naming the first leaf that cannot be differentiated (an integer,
    a boolean, a string or any other non-numeric value)."""
    for i, leaf in enumerate(leaves):
        value = peek(leaf)
        if isinstance(value, (float, complex)):
            continue
        dtype = getattr(value, "dtype", None)
        if dtype is None and isinstance(value, (bool, int, np.generic)):
            dtype = np.result_type(value)
        if dtype is None or not isinstance(dtype, np.dtype):
            raise TypeError(
                f"{what} needs floating-point (or complex) inputs, but input leaf {i} is of "
                f"type {type(value).__name__} ({value!r:.40}), which has no derivative. Leave it "
                "out of argnums, or pass it to the function another way (a closure, "
                "functools.partial)."
            )
        if not np.issubdtype(dtype, np.inexact):
            raise TypeError(
                f"{what} needs floating-point (or complex) inputs, but input leaf {i} has "
                f"dtype {dtype}, which has no derivative. Pass numbers as floats (e.g. 3.0 "
                "or x.astype(float)), or leave it out of argnums."
            )


def read_out(leaves: list, trace) -> tuple[list, list]:
    """Split output leaves into primal values and the boxes of `trace` (None if constant)."""
    values, boxes = [], []
    for leaf in leaves:
        if isinstance(leaf, Box):
            if leaf._trace is trace:
                values.append(leaf.value)
                boxes.append(leaf)
                continue
            if not leaf._trace.alive:
                raise EscapedTracerError(
                    f"the function returned a value traced by {leaf._trace!r}, a "
                    "transformation that has already finished; return values computed "
                    "inside this call instead."
                )
        values.append(leaf)
        boxes.append(None)
    return values, boxes


def strip(tree: Any, trace) -> Any:
    """Open this trace's boxes in an auxiliary output, which is not differentiated."""
    return tree_map(lambda x: x.value if isinstance(x, Box) and x._trace is trace else x, tree)


def split_aux(out: Any, has_aux: bool, name: str) -> tuple[Any, Any]:
    """``(output, aux)`` of a function called with ``has_aux``, checked to be a pair."""
    if not has_aux:
        return out, None
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError(
            f"{name} with has_aux=True needs the function to return a pair (output, aux); "
            f"it returned {type(out).__name__}."
        )
    return out[0], out[1]


def run(trace, fun: Callable, in_def: TreeDef, boxes: list, has_aux: bool, name: str):
    """Call `fun` on the input boxes, end the trace, and read the outputs out of it:
    ``(output values, output boxes or None, output tree, aux)``."""
    try:
        out = fun(*tree_unflatten(in_def, boxes))
    finally:
        trace.alive = False
    out, aux = split_aux(out, has_aux, name)
    out_leaves, out_def = tree_flatten(out)
    out_values, out_boxes = read_out(out_leaves, trace)
    return out_values, out_boxes, out_def, aux


class Recording:
    """One evaluation of a function recorded in reverse mode: its graph's input nodes and
    values, its outputs (values, and the boxes of the recording trace; None for an output
    that does not depend on the inputs), their trees, and the aux output (opened)."""

    __slots__ = ("aux", "in_def", "in_nodes", "in_values", "out_boxes", "out_def", "out_values")

    def __init__(self, in_nodes, in_values, in_def, out_boxes, out_values, out_def, aux):
        self.in_nodes = in_nodes
        self.in_values = in_values
        self.in_def = in_def
        self.out_boxes = out_boxes
        self.out_values = out_values
        self.out_def = out_def
        self.aux = aux

    @property
    def output(self) -> Any:
        """The function's output (its values)."""
        return tree_unflatten(self.out_def, self.out_values)


def record(fun: Callable, primals: tuple, has_aux: bool = False, name: str = "vjp") -> Recording:
    """Evaluate ``fun(*primals)`` recording every primitive it applies (reverse mode).

    >>> import wengert.numpy as wnp
    >>> r = record(lambda x: wnp.sin(x) * 2.0, (0.0,))
    >>> r.output, r.out_boxes[0].node.primitive.name
    (0.0, 'multiply')
    """
    leaves, in_def = tree_flatten(primals)
    check_inexact(leaves, name)
    trace = ReverseTrace()
    boxes = [trace.new_input(x) for x in leaves]
    out_values, out_boxes, out_def, aux = run(trace, fun, in_def, boxes, has_aux, name)
    return Recording(
        [b.node for b in boxes], leaves, in_def, out_boxes, out_values, out_def, strip(aux, trace)
    )
