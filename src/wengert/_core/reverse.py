"""Reverse mode: record the evaluation as a graph, then walk it backward.

Each primitive call on a reverse box adds a `Node` that points to the nodes of its
traced inputs and holds the primitive, its arguments and its result: exactly what the
reverse rules need, and no closure. The backward walk visits nodes in reverse
topological order with an explicit stack (no recursion), sums the cotangents arriving
at each node, and drops each one as soon as it has been passed on.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .box import Box
from .primitive import PYTHON_ARITHMETIC_ERRORS, Primitive, as_numpy_scalars
from .trace import Trace
from .vspace import inexact_dtype, match_realness, unbroadcast, zeros_like


class Node:
    """One recorded primitive application (or an input, when `primitive` is None)."""

    __slots__ = ("ans", "argnums", "args", "kwargs", "parents", "primitive")

    def __init__(self, primitive, ans, args, kwargs, argnums, parents):
        self.primitive = primitive
        self.ans = ans
        self.args = args
        self.kwargs = kwargs
        self.argnums = argnums
        self.parents = parents


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

    def __init__(self) -> None:
        super().__init__("reverse")

    def process(self, primitive: Primitive, ans, args, kwargs, argnums, boxes):
        if len(boxes) == 1:
            parents = (boxes[0].node,)
        else:
            parents = tuple([box.node for box in boxes])
        return ReverseBox(ans, self, Node(primitive, ans, args, kwargs, argnums, parents))

    def process_multiple(self, primitive: Primitive, ans, args, kwargs, argnums, boxes):
        """Record one node for the call and a selection node for each of its results."""
        parents = (Node(primitive, ans, args, kwargs, argnums, tuple([b.node for b in boxes])),)
        return tuple(
            [
                ReverseBox(a, self, Node(select, a, (ans, i), {}, (0,), parents))
                for i, a in enumerate(ans)
            ]
        )

    def new_input(self, value) -> ReverseBox:
        return ReverseBox(value, self, Node(None, value, (), None, (), ()))


def _select_vjp(g, ans, results, i):
    """Cotangent of the whole result tuple: `g` at position i, the symbolic zero elsewhere."""
    out = [None] * len(results)
    out[i] = g
    return tuple(out)


select = Primitive(lambda results, i: results[i], "select")
select.defvjp(_select_vjp)
select.defjvp(lambda t, ans, results, i: t[i])


def _toposort(root: Node) -> list[Node]:
    """Nodes reachable from `root`, each after every node that consumes it."""
    child_counts: dict[Node, int] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if node in child_counts:
            child_counts[node] += 1
        else:
            child_counts[node] = 1
            stack.extend(node.parents)
    order = []
    ready = [root]
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


def backward(
    outputs: list[tuple[Node, Any]], inputs: list[Node], rebox=None, release: bool = False
) -> list[Any]:
    """Cotangents of `inputs` given the cotangents of output nodes (None: no path).

    With `release`, each node drops its values once its rules have run, so memory is
    freed as the walk goes (for single-use passes such as `grad`).

    `rebox(node) -> (ans, args)`, if given, presents each node's values to its rules as
    boxes of the recording trace, so that the backward pass is itself recorded.
    """
    root = Node(None, None, (), None, (), tuple({id(n): n for n, _ in outputs}.values()))
    cotangents: dict[Node, Any] = {}
    owned: set[Node] = set()
    for node, g in outputs:
        _accumulate(cotangents, owned, node, g)
    input_set = set(inputs)
    # Inputs that are interior nodes (retained gradients) keep their cotangent; usually none.
    interior_inputs = {node for node in inputs if node.primitive is not None}
    for node in _toposort(root):
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
        ans, args, kwargs = node.ans, node.args, node.kwargs
        if release:
            node.ans = node.args = node.kwargs = None
        if rebox is not None:
            ans, args = rebox(node)
        if type(g) is tuple:  # several results: instantiate the zeros rules may need
            g = tuple([zeros_like(a) if c is None else c for c, a in zip(g, ans)])
        if primitive.vjp_all is not None:
            try:
                cs = primitive.vjp_all(g, ans, node.argnums, *args, **kwargs)
            except PYTHON_ARITHMETIC_ERRORS:
                g, ans, *args = as_numpy_scalars((g, ans, *args))
                cs = primitive.vjp_all(g, ans, node.argnums, *args, **kwargs)
            for argnum, parent, c in zip(node.argnums, node.parents, cs):
                if c is not None:
                    if primitive.broadcasts:
                        c = unbroadcast(c, args[argnum])
                    else:
                        c = match_realness(c, args[argnum])
                    _accumulate(cotangents, owned, parent, c)
            continue
        into = primitive.vjp_into
        if into is not None and type(g) is np.ndarray:
            if _add_into(cotangents, owned, node, g, ans, args, kwargs):
                continue
        rules = primitive.vjp_rules
        broadcasts = primitive.broadcasts
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
            if broadcasts:
                c = unbroadcast(c, args[argnum])
            else:
                c = match_realness(c, args[argnum])
            if parent in cotangents:
                _accumulate(cotangents, owned, parent, c)
            else:
                cotangents[parent] = c
    return [cotangents.get(node) if node in input_set else None for node in inputs]


def _add_into(cotangents: dict, owned: set, node: Node, g, ans, args, kwargs) -> bool:
    """Run a node's in-place reverse rule into its input's buffer, if the engine owns one
    (or can make one); False when the ordinary rule must run instead."""
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
