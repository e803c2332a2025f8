"""Reverse mode: record the evaluation as a graph, then walk it backward.

Each primitive call on a reverse box adds a `Node` that points to the nodes of its
traced inputs and holds the primitive, its arguments and its result: exactly what the
reverse rules need, and no closure. The backward walk visits nodes in reverse
topological order with an explicit stack (no recursion), sums the cotangents arriving
at each node, and drops each one as soon as it has been passed on.

Every interpreter of a recorded graph (the backward pass, `linearize`, sparsity
detection, the gradient checker) applies a node's rules through `apply_vjp` and
`apply_jvp`, and orders nodes with `toposort`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from . import patterns
from .box import Box
from .primitive import (
    LIBRARY_ERRORS,
    PYTHON_ARITHMETIC_ERRORS,
    Primitive,
    as_numpy_scalars,
    library_error,
)
from .trace import Trace
from .vspace import broadcast_tangent, inexact_dtype, match_realness, unbroadcast, zeros_like

__all__ = [
    "Node",
    "Pending",
    "ReverseBox",
    "ReverseTrace",
    "apply_jvp",
    "apply_vjp",
    "backward",
    "select",
    "toposort",
]


# Called as hook(node, g, args, cotangents) after each node's reverse rules, when set
# (wengert.debug_nans sets it); read once per backward pass.
cotangent_hook = None


class Node:
    """One recorded primitive application (or an input, when `primitive` is None)."""

    __slots__ = ("__weakref__", "ans", "argnums", "args", "kwargs", "parents", "primitive")

    def __init__(self, primitive, ans, args, kwargs, argnums, parents):
        self.primitive = primitive
        self.ans = ans
        self.args = args
        self.kwargs = kwargs
        self.argnums = argnums
        self.parents = parents


class Pending:
    """In place of a node's arguments: values dropped to save memory, which `source`
    (a checkpointed segment) recomputes on demand with ``source.recompute()``."""

    __slots__ = ("source",)

    def __init__(self, source) -> None:
        self.source = source


def materialize(node: Node) -> None:
    """Make sure a node holds its values, recomputing them if a checkpoint dropped them."""
    if type(node.args) is Pending:
        node.args.source.recompute()


class ReverseBox(Box):
    """A value traced in reverse mode: its node in the recorded graph."""

    __slots__ = ("node",)

    def __init__(self, value, trace, node):
        self.value = value
        self._trace = trace
        self.node = node


class ReverseTrace(Trace):
    """A reverse-mode transformation call; it records nodes."""

    __slots__ = ()

    def process_primitive(self, primitive: Primitive, values, kwargs, argnums, boxes, nested):
        try:
            ans = primitive(*values, **kwargs) if nested else primitive.fun(*values, **kwargs)
        except LIBRARY_ERRORS as exc:
            error = library_error(primitive, values, kwargs, exc)
            if error is None:
                raise
            raise error from exc
        if primitive.multiple_results:
            return self.record_multiple(primitive, ans, values, kwargs, argnums, boxes)
        if len(boxes) == 1:
            parents = (boxes[0].node,)
        else:
            parents = tuple([box.node for box in boxes])
        return ReverseBox(ans, self, Node(primitive, ans, values, kwargs, argnums, parents))

    def record_multiple(self, primitive: Primitive, ans, args, kwargs, argnums, boxes):
        """Record one node for a call with several results, and a selection node for each."""
        parents = (Node(primitive, ans, args, kwargs, argnums, tuple([b.node for b in boxes])),)
        return tuple(
            [
                ReverseBox(a, self, Node(select, a, (ans, i), {}, (0,), parents))
                for i, a in enumerate(ans)
            ]
        )

    def process_custom_vjp(self, fn, call, args, values, argnums, boxes):
        """Run the user's ``fwd`` on the values and record its ``bwd`` as the reverse rule."""
        out_leaves = fn.run_fwd(values, call)
        results = self.record_multiple(
            fn.primitive, tuple(out_leaves), values, {"call": call}, argnums, boxes
        )
        return call.output(results)

    def process_custom_jvp(self, fn, call, args, values, argnums, boxes):
        """Record the call; its reverse rule is the transpose of the user's forward rule."""
        results = self.process_primitive(
            fn.primitive, values, {"call": call}, argnums, boxes, nested=False
        )
        return call.output(results)

    def process_checkpoint(self, fn, args, kwargs):
        """Record the call's inside, then drop its values: they are recomputed on demand."""
        return fn.record_segment(self, args, kwargs)

    def revived(self):
        """A context in which this trace records again, for recomputing a checkpoint."""
        return _Revived(self)

    def new_input(self, value) -> ReverseBox:
        return ReverseBox(value, self, Node(None, value, (), None, (), ()))


class _Revived:
    """Temporarily alive again (a finished trace recomputing part of its graph)."""

    __slots__ = ("trace", "was_alive")

    def __init__(self, trace: Trace) -> None:
        self.trace = trace

    def __enter__(self) -> None:
        self.was_alive = self.trace.alive
        self.trace.alive = True

    def __exit__(self, *exc) -> None:
        self.trace.alive = self.was_alive


def _select_vjp(g, ans, results, i):
    """Cotangent of the whole result tuple: `g` at position i, the symbolic zero elsewhere."""
    out = [None] * len(results)
    out[i] = g
    return tuple(out)


select = Primitive(lambda results, i: results[i], "select")
select.defvjp(_select_vjp)
select.defjvp(lambda t, ans, results, i: t[i])
select.defpattern(patterns.select)
select.defbatch(lambda batched, results, i: results[i])


def toposort(roots: Iterable[Node]) -> list[Node]:
    """Nodes reachable from `roots`, each after every node that consumes it (iteratively).

    Reversed, the list is an evaluation order: every node after its parents.
    """
    roots = list(dict.fromkeys(roots))
    child_counts: dict[Node, int] = {}
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node in child_counts:
            child_counts[node] += 1
        else:
            child_counts[node] = 1
            stack.extend(node.parents)
    order = []
    ready = []
    for root in roots:  # a root that no other root's graph consumes starts the walk
        count = child_counts[root]
        if count == 1:
            ready.append(root)
        else:
            child_counts[root] = count - 1
    while ready:
        node = ready.pop()
        order.append(node)
        for parent in node.parents:
            count = child_counts[parent]
            if count == 1:
                ready.append(parent)
            else:
                child_counts[parent] = count - 1
    return order


def apply_vjp(node: Node, g: Any, release: bool = False, rebox=None) -> list:
    """The cotangents of a node's traced arguments (None where zero), aligned with
    ``node.parents``, from the cotangent `g` of its result.

    With `release` the node drops its values once read; `rebox(node) -> (ans, args)`
    presents them as boxes of a recording trace (a backward pass that is itself recorded).
    """
    if type(node.args) is Pending:
        node.args.source.recompute()
    primitive, ans, args, kwargs = node.primitive, node.ans, node.args, node.kwargs
    if rebox is not None:
        ans, args = rebox(node)
    if release:
        node.ans = node.args = node.kwargs = None
    if type(g) is tuple:  # several results: instantiate the zeros rules may need
        g = tuple([zeros_like(a) if c is None else c for c, a in zip(g, ans)])
    broadcasts = primitive.broadcasts
    if primitive.vjp_all is not None:
        try:
            cotangents = primitive.vjp_all(g, ans, node.argnums, *args, **kwargs)
        except PYTHON_ARITHMETIC_ERRORS:  # Python floats at a pole: as NumPy would
            g, ans, *args = as_numpy_scalars((g, ans, *args))
            cotangents = primitive.vjp_all(g, ans, node.argnums, *args, **kwargs)
        out = []
        for argnum, c in zip(node.argnums, cotangents):
            if c is not None:
                c = unbroadcast(c, args[argnum]) if broadcasts else match_realness(c, args[argnum])
            out.append(c)
        return out
    rules = primitive.vjp_rules
    out = []
    for argnum in node.argnums:
        rule = rules[argnum] if argnum < len(rules) else None
        if rule is None:
            primitive.vjp(argnum, g, ans, args, kwargs)  # raises MissingRuleError
        try:
            c = rule(g, ans, *args, **kwargs)
        except PYTHON_ARITHMETIC_ERRORS:  # Python floats at a pole: as NumPy would
            c = rule(*as_numpy_scalars((g, ans, *args)), **kwargs)
        if c is not None:
            c = unbroadcast(c, args[argnum]) if broadcasts else match_realness(c, args[argnum])
        out.append(c)
    return out


def apply_jvp(node: Node, tangents: list) -> Any:
    """The tangent of a node's result from its arguments' tangents (None where zero);
    None if the result's tangent is zero. A tuple for a primitive with several results."""
    if type(node.args) is Pending:
        node.args.source.recompute()
    primitive = node.primitive
    out = primitive.jvp(tangents, node.ans, node.args, node.kwargs)
    if out is not None and primitive.broadcasts and not primitive.multiple_results:
        out = broadcast_tangent(out, node.ans)
    return out


def backward(
    outputs: list[tuple[Node, Any]], inputs: list[Node], rebox=None, release: bool = False
) -> list[Any]:
    """Cotangents of `inputs` given the cotangents of output nodes (None: no path).

    With `release`, each node drops its values once its rules have run, so memory is
    freed as the walk goes (for single-use passes such as `grad`).

    `rebox(node) -> (ans, args)`, if given, presents each node's values to its rules as
    boxes of the recording trace, so that the backward pass is itself recorded.
    """
    cotangents: dict[Node, Any] = {}
    owned: set[Node] = set()
    for node, g in outputs:
        _accumulate(cotangents, owned, node, g)
    input_set = set(inputs)
    # Inputs that are interior nodes (retained gradients) keep their cotangent; usually none.
    interior_inputs = {node for node in inputs if node.primitive is not None}
    hook = cotangent_hook
    plain = rebox is None and hook is None  # no recording of the pass, no NaN checks
    for node in toposort([node for node, _ in outputs]):
        primitive = node.primitive
        if primitive is None:
            continue
        # An interior node may be an input too (a retained gradient): keep its cotangent.
        if interior_inputs and node in interior_inputs:
            g = cotangents.get(node)
        else:
            g = cotangents.pop(node, None)
        if g is None:
            continue
        args = node.args
        if plain and primitive.vjp_all is None and type(args) is not Pending:
            # apply_vjp inlined for the common node (one rule per argument): the hot path
            # of every backward pass, without building a list of cotangents.
            if (
                primitive.vjp_into is not None
                and type(g) is np.ndarray
                and _add_into(cotangents, owned, node, g, release)
            ):
                continue
            ans, kwargs = node.ans, node.kwargs
            if release:
                node.ans = node.args = node.kwargs = None
            if type(g) is tuple:
                g = tuple([zeros_like(a) if c is None else c for c, a in zip(g, ans)])
            rules = primitive.vjp_rules
            for argnum, parent in zip(node.argnums, node.parents):
                rule = rules[argnum] if argnum < len(rules) else None
                if rule is None:
                    primitive.vjp(argnum, g, ans, args, kwargs)  # raises MissingRuleError
                try:
                    c = rule(g, ans, *args, **kwargs)
                except PYTHON_ARITHMETIC_ERRORS:  # Python floats at a pole: as NumPy would
                    c = rule(*as_numpy_scalars((g, ans, *args)), **kwargs)
                if c is None:
                    continue
                if primitive.broadcasts:
                    c = unbroadcast(c, args[argnum])
                else:
                    c = match_realness(c, args[argnum])
                if parent in cotangents:
                    _accumulate(cotangents, owned, parent, c)
                else:
                    cotangents[parent] = c
            continue
        if hook is not None:
            materialize(node)
            args = node.args
            pulled = apply_vjp(node, g, release, rebox)
            hook(node, g, args, pulled)
        else:
            pulled = apply_vjp(node, g, release, rebox)
        for parent, c in zip(node.parents, pulled):
            if c is None:
                continue
            if parent in cotangents:
                _accumulate(cotangents, owned, parent, c)
            else:
                cotangents[parent] = c
    return [cotangents.get(node) if node in input_set else None for node in inputs]


def _add_into(cotangents: dict, owned: set, node: Node, g, release: bool) -> bool:
    """Run a node's in-place reverse rule into its input's buffer, if the engine owns one
    (or can make one); False when the ordinary rule must run instead."""
    args = node.args
    x = args[0]
    if len(node.argnums) != 1 or node.argnums[0] != 0 or type(x) is not np.ndarray:
        return False
    parent = node.parents[0]
    buffer = cotangents.get(parent)
    if buffer is None:
        buffer = np.zeros(x.shape, dtype=inexact_dtype(x))
        cotangents[parent] = buffer
        owned.add(parent)
    elif parent not in owned or type(buffer) is not np.ndarray:
        return False
    ans, kwargs = node.ans, node.kwargs
    if release:
        node.ans = node.args = node.kwargs = None
    node.primitive.vjp_into(buffer, g, ans, *args, **kwargs)
    return True


def _accumulate(cotangents: dict, owned: set, node: Node, c: Any) -> None:
    """Add `c` into the cotangent of `node`, in place only into buffers made here."""
    prev = cotangents.get(node)
    if prev is None:
        cotangents[node] = c
        return
    if type(prev) is tuple:  # cotangents of a primitive with several results
        cotangents[node] = tuple(
            [b if a is None else a if b is None else a + b for a, b in zip(prev, c)]
        )
        return
    if (
        node in owned
        and type(c) is np.ndarray
        and c.shape == prev.shape
        and np.can_cast(c.dtype, prev.dtype, "same_kind")
    ):
        np.add(prev, c, out=prev)
        return
    total = prev + c
    cotangents[node] = total
    if type(total) is np.ndarray and not isinstance(c, Box):
        owned.add(node)
    else:  # a traced sum (derivatives of derivatives) is not a buffer to add into
        owned.discard(node)
