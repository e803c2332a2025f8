"""A trace is one run of a transformation (one `vjp`, `jvp` or `vmap` call).

Each traced value (box) holds its trace. A trace's `level` orders nested transformations:
when a primitive meets boxes of several live traces, the one with the highest level is
the innermost and is handled first. A trace stops being `alive` when its transformation
has finished, so a value that escapes it is caught when it is used again.

Every transformation is a subclass of `Trace`, and what makes it differ is which of these
methods it overrides (nothing asks a trace what kind it is):

- ``process_primitive``: a primitive applied to values of which some are this trace's
  boxes (opened: ``values`` holds what is inside them). Each transformation defines it:
  reverse mode records a node, forward mode pushes tangents, batching maps the primitive
  over the batch axis.
- ``process_custom_vjp`` / ``process_custom_jvp``: a function with hand-written derivative
  rules. By default the transformation sees through to the function's body; reverse and
  forward mode use the rules instead.
- ``process_checkpoint``: a function whose inside is to be recomputed rather than stored.
  By default the body runs as usual; reverse mode, which stores values, recomputes.
- ``process_nondiff``: a function without derivative. By default the trace opens its own
  boxes and calls the function again (its result is a constant here); batching maps it
  over the batch instead.
"""

from __future__ import annotations

from typing import Any

_next_level = 0


class Trace:
    """Identity, nesting order and liveness of one transformation call, and the rules by
    which it handles primitives, custom rules and checkpoints (see the module docstring)."""

    __slots__ = ("alive", "level")

    def __init__(self) -> None:
        global _next_level
        _next_level += 1
        self.level = _next_level
        self.alive = True

    def __repr__(self) -> str:
        state = "alive" if self.alive else "finished"
        return f"<{type(self).__name__} {self.level} ({state})>"

    def process_primitive(self, primitive, values: tuple, kwargs: dict, argnums, boxes, nested):
        """The result of `primitive` on `values`, whose entries at `argnums` came out of
        this trace's `boxes`; `nested` says whether values still hold outer traces' boxes."""
        raise TypeError(
            f"{type(self).__name__} does not process primitives; a trace class must "
            "define process_primitive."
        )

    def process_custom_vjp(self, fn, call, args: tuple, values: tuple, argnums, boxes):
        """A `custom_vjp` function applied to traced arguments: by default, its body."""
        return fn.fun(*args, **call.kwargs)

    def process_custom_jvp(self, fn, call, args: tuple, values: tuple, argnums, boxes):
        """A `custom_jvp` function applied to traced arguments: by default, its body."""
        return fn.fun(*args, **call.kwargs)

    def process_checkpoint(self, fn, args: tuple, kwargs: dict) -> Any:
        """A checkpointed function: by default, evaluated as usual."""
        return fn.fun(*args, **kwargs)

    def process_nondiff(self, fn, args: tuple, kwargs: dict) -> Any:
        """A function without derivative: by default, applied to what this trace's boxes
        hold (outer traces' boxes, if any, are handled by calling `fn` again)."""
        args, kwargs, _ = fn.opened(self, args, kwargs)
        return fn(*args, **kwargs)
