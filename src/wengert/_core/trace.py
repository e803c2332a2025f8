"""A trace is one run of a transformation (one `vjp` or `jvp` call).

Each traced value (box) holds its trace. A trace's `level` orders nested transformations:
when a primitive meets boxes of several live traces, the one with the highest level is
the innermost and is handled first. A trace stops being `alive` when its transformation
has finished, so a value that escapes it is caught when it is used again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

_next_level = 0


class Trace:
    """Identity, nesting order and liveness of one transformation call."""

    __slots__ = ("alive", "kind", "level")

    def __init__(self, kind: str) -> None:
        global _next_level
        _next_level += 1
        self.level = _next_level
        self.kind = kind
        self.alive = True

    def __repr__(self) -> str:
        state = "alive" if self.alive else "finished"
        return f"<{self.kind} trace {self.level} ({state})>"


@contextmanager
def new_trace(kind: str) -> Iterator[Trace]:
    """Open a trace for the duration of a transformation and close it afterwards."""
    trace = Trace(kind)
    try:
        yield trace
    finally:
        trace.alive = False
