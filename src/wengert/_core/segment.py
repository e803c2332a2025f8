"""Segments of a recorded graph whose values are dropped and recomputed on demand.

Checkpointing trades time for memory: a block of the computation is recorded as usual
(so its nodes link the graph, closed-over traced values included), then the values its
nodes hold are dropped, leaving each node's arguments a `Pending` marker. When a graph
interpreter reaches such a node (`apply_vjp`, `apply_jvp`), the segment runs the block
again under the same trace, collects the nodes that run creates, checks that it took the
same path, and moves their values into the old nodes.

`recording(trace)` collects the nodes a block creates: the trace's class is switched,
for the block, to a subclass that notes every node it records for this thread. Outside
recordings the trace runs its ordinary class, so the hot path pays nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import WengertError
from .box import Box
from .reverse import Node, Pending, ReverseBox, ReverseTrace

__all__ = ["CheckpointError", "Segment", "recording"]


class CheckpointError(WengertError, RuntimeError):
    """A checkpointed function gave a different computation when recomputed."""


# trace -> list of (thread id, list of nodes) for the recordings open on it.
_open: dict[Any, list[tuple[int, list]]] = {}
_lock = threading.Lock()
_recording_classes: dict[type, type] = {}
_original_class: dict[Any, type] = {}


def _note(trace, out: Any) -> Any:
    """Add the nodes behind `out` (boxes of `trace`) to the recordings of this thread."""
    entries = _open.get(trace)
    if entries:
        me = threading.get_ident()
        nodes = _nodes_of(out, trace)
        if nodes:
            for thread, found in entries:
                if thread == me:
                    found.extend(nodes)
    return out


def _nodes_of(out: Any, trace) -> list[Node]:
    """The nodes of `trace` behind the boxes in `out` (a box or a tree of them), in order:
    for a result of a primitive with several results, its node before the selection."""
    from .tree import tree_flatten

    leaves = [out] if isinstance(out, Box) else tree_flatten(out)[0]
    nodes: list[Node] = []
    seen: set[int] = set()
    for leaf in leaves:
        if not isinstance(leaf, ReverseBox) or leaf._trace is not trace or leaf.node is None:
            continue
        node = leaf.node
        chain = [node.parents[0], node] if _is_select(node) else [node]
        for n in chain:
            if id(n) not in seen:
                seen.add(id(n))
                nodes.append(n)
    return nodes


def _is_select(node: Node) -> bool:
    from .reverse import select

    return node.primitive is select


def _recording_class(cls: type) -> type:
    """The subclass of a reverse trace class that notes the nodes it records."""
    sub = _recording_classes.get(cls)
    if sub is None:

        def process_primitive(self, *args):
            return _note(self, cls.process_primitive(self, *args))

        def process_custom_vjp(self, *args):
            return _note(self, cls.process_custom_vjp(self, *args))

        def process_custom_jvp(self, *args):
            return _note(self, cls.process_custom_jvp(self, *args))

        sub = type(
            f"Recording{cls.__name__}",
            (cls,),
            {
                "__slots__": (),
                "process_primitive": process_primitive,
                "process_custom_vjp": process_custom_vjp,
                "process_custom_jvp": process_custom_jvp,
            },
        )
        _recording_classes[cls] = sub
    return sub


@contextmanager
def recording(trace: ReverseTrace) -> Iterator[list[Node]]:
    """Collect, in order, the nodes that this thread records on `trace` during the block."""
    found: list[Node] = []
    entry = (threading.get_ident(), found)
    with _lock:
        entries = _open.setdefault(trace, [])
        if not entries:
            _original_class[trace] = type(trace)
            trace.__class__ = _recording_class(type(trace))
        entries.append(entry)
    try:
        yield found
    finally:
        with _lock:
            entries = _open[trace]
            del entries[next(i for i, e in enumerate(entries) if e is entry)]
            if not entries:
                del _open[trace]
                trace.__class__ = _original_class.pop(trace)


def _scale(x: Any) -> float:
    import numpy as np

    value = x
    while isinstance(value, Box):
        value = value.value
    magnitude = np.max(np.abs(value)) if np.size(value) else 0.0  # (no initial=: CuPy's)
    return float(magnitude)


def _same_values(a: Any, b: Any) -> bool:
    """Whether two evaluations of one output agree (to rounding of a reordered sum)."""
    import numpy as np

    from .vspace import asarray

    while isinstance(a, Box):
        a = a.value
    while isinstance(b, Box):
        b = b.value
    if np.shape(a) != np.shape(b):
        return False
    try:
        diff = np.abs(asarray(a) - asarray(b))  # (arrays of another library stay in it)
    except TypeError:
        return a == b
    tolerance = 1e-9 * max(_scale(a), 1e-300)
    return bool(np.all((diff <= tolerance) | (np.isnan(a) & np.isnan(b))))


class Segment:
    """A recorded block whose nodes' values were dropped; `recompute` restores them.

    `run()` evaluates the block again (under the same trace, with the same inputs) and
    returns its output leaves; `prepare()`/`restore(state)` bracket it (random-number
    generator states, for instance).
    """

    def __init__(
        self,
        name: str,
        trace: ReverseTrace,
        nodes: list[Node],
        outputs: list,
        run: Callable[[], list],
        prepare: Callable[[], Any] | None = None,
        restore: Callable[[Any], None] | None = None,
    ):
        self.name = name
        self.trace = trace
        self.nodes = nodes
        self.outputs = outputs
        self.run = run
        self.prepare = prepare
        self.restore = restore
        self.done = False
        pending = Pending(self)
        for node in nodes:
            if type(node.args) is not Pending:  # a nested checkpoint keeps its own marker
                node.ans = None
                node.args = pending

    def recompute(self) -> None:
        """Evaluate the block again and move the values it records into the old nodes."""
        if self.done:
            return
        state = self.prepare() if self.prepare is not None else None
        try:
            with self.trace.revived(), recording(self.trace) as nodes:
                outputs = self.run()
        finally:
            if self.restore is not None:
                self.restore(state)
        self._check(nodes, outputs)
        for old, new in zip(self.nodes, nodes):
            if type(old.args) is Pending and old.args.source is self:
                old.ans, old.args, old.kwargs = new.ans, new.args, new.kwargs
        self.done = True

    def _check(self, nodes: list[Node], outputs: list) -> None:
        same_path = len(nodes) == len(self.nodes) and all(
            a.primitive is b.primitive for a, b in zip(self.nodes, nodes)
        )
        if not same_path:
            raise CheckpointError(
                f"checkpointed function {self.name} took a different path when it was "
                f"recomputed for the backward pass ({len(self.nodes)} operations the first "
                f"time, {len(nodes)} now): it depends on something that changed in between "
                "(a global, a mutated argument, randomness from a generator that wengert "
                "could not find). Pass such state in as arguments."
            )
        if len(outputs) != len(self.outputs) or not all(
            _same_values(a, b) for a, b in zip(outputs, self.outputs)
        ):
            raise CheckpointError(
                f"checkpointed function {self.name} gave different values when it was "
                "recomputed for the backward pass, so its derivative would belong to another "
                "evaluation. It likely draws random numbers from a generator that wengert "
                "could not find (pass the generator as an argument, or draw the numbers "
                "outside the checkpointed function) or reads state that changed."
            )
