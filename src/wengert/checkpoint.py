"""Checkpointing: recompute a function's inside in the backward pass instead of storing it.

Reverse mode keeps every intermediate value of the evaluation until the backward pass
uses it, so memory grows with the length of the computation. A checkpointed function is
recorded as usual, so its graph links everything it uses (its arguments and any traced
values it closes over, such as a layer's parameters), and then the values its nodes hold
are dropped. The backward pass, on reaching one of those nodes, evaluates the function
again and takes the values from that evaluation. A long chain cut into checkpointed
segments keeps only the segment boundaries plus one segment's inside alive: memory for
time.

The second evaluation must repeat the first. Random numbers are the usual obstacle
(dropout): the states of the random generators the function can reach (NumPy generators
and `random.Random` objects in its arguments, its closure, the globals it names and the
objects of bound methods, and the global generators behind ``numpy.random.*`` and
``random.*``) are saved before the first evaluation and put back for the second, then
returned to where they were. Anything else that makes the second evaluation differ is
detected (different operations or different results) and raises `CheckpointError`.
"""

from __future__ import annotations

import functools
import random
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from ._core.box import Box
from ._core.primitive import open_innermost
from ._core.segment import CheckpointError, Segment, recording
from ._core.tree import tree_flatten

__all__ = ["CheckpointError", "checkpoint"]

_SCALARS = (str, bytes, int, float, complex, bool, type(None), np.generic, np.ndarray, Box)
_GENERATORS = (np.random.Generator, np.random.RandomState, np.random.BitGenerator, random.Random)
# The generators behind numpy.random.* and random.* (module-level functions).
_GLOBAL_GENERATORS = (np.random.mtrand._rand, random._inst)


def _reachable_generators(roots: tuple, limit: int = 2000) -> list:
    """The NumPy random generators reachable from `roots` (a bounded breadth-first walk
    through containers, closures, named globals, bound objects and instance attributes)."""
    found: dict[int, Any] = {id(g): g for g in _GLOBAL_GENERATORS}
    seen: set[int] = set()
    queue = list(roots)
    while queue and len(seen) < limit:
        obj = queue.pop(0)
        if id(obj) in seen or isinstance(obj, _SCALARS):
            continue
        seen.add(id(obj))
        if isinstance(obj, _GENERATORS):
            found[id(obj)] = obj
        elif isinstance(obj, (list, tuple, set, frozenset)):
            queue.extend(obj)
        elif isinstance(obj, dict):
            queue.extend(obj.values())
        elif isinstance(obj, types.FunctionType):
            queue.extend(cell.cell_contents for cell in obj.__closure__ or () if _filled(cell))
            names = _names(obj.__code__)
            queue.extend(v for k, v in obj.__globals__.items() if k in names)
            queue.extend(obj.__defaults__ or ())
            queue.extend((obj.__kwdefaults__ or {}).values())
            if hasattr(obj, "__wrapped__"):
                queue.append(obj.__wrapped__)
        elif isinstance(obj, types.MethodType):
            queue.extend((obj.__self__, obj.__func__))
        elif isinstance(obj, functools.partial):
            queue.extend((obj.func, *obj.args, *obj.keywords.values()))
        elif not isinstance(obj, (type, types.ModuleType, types.BuiltinFunctionType)):
            queue.extend(getattr(obj, "__dict__", {}).values())
            if not isinstance(obj, Checkpointed) and callable(obj):
                queue.append(type(obj).__call__)
    return list(found.values())


def _filled(cell) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:  # an empty cell (a name not yet assigned)
        return False
    return True


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _get_states(generators: list) -> list:
    return [_get_state(g) for g in generators]


def _get_state(g) -> Any:
    if isinstance(g, random.Random):
        return g.getstate()
    if isinstance(g, np.random.RandomState):
        return g.get_state()
    return _bits(g).state


def _set_states(generators: list, states: list) -> None:
    for g, state in zip(generators, states):
        if isinstance(g, random.Random):
            g.setstate(state)
        elif isinstance(g, np.random.RandomState):
            g.set_state(state)
        else:
            _bits(g).state = state


def _bits(g):
    return g.bit_generator if isinstance(g, np.random.Generator) else g


def _at(trace, leaf: Any) -> Any:
    """The value of an output leaf at `trace`'s level (its box opened if it is one)."""
    return leaf.value if isinstance(leaf, Box) and leaf._trace is trace else leaf


class Checkpointed:
    """`fun`, recomputed in the backward pass of reverse mode rather than stored."""

    def __init__(self, fun: Callable):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.name = getattr(fun, "__name__", "fun")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        boxes = tuple(x for x in tree_flatten((args, kwargs))[0] if isinstance(x, Box))
        if not boxes:
            return self.fun(*args, **kwargs)
        top = open_innermost(self.name, boxes)[0]
        return top.process_checkpoint(self, args, kwargs)

    def record_segment(self, trace, args: tuple, kwargs: dict) -> Any:
        """Evaluate on `trace` (a reverse-mode trace), recording, then drop the values."""
        generators = _reachable_generators((self.fun, args, kwargs))
        before = _get_states(generators)
        with recording(trace) as nodes:
            out = self.fun(*args, **kwargs)
        if nodes:

            def run() -> list:
                return [_at(trace, leaf) for leaf in tree_flatten(self.fun(*args, **kwargs))[0]]

            def prepare() -> list:
                now = _get_states(generators)
                _set_states(generators, before)
                return now

            outputs = [_at(trace, leaf) for leaf in tree_flatten(out)[0]]
            restore = functools.partial(_set_states, generators)
            Segment(f"checkpoint({self.name})", trace, nodes, outputs, run, prepare, restore)
        return out


def checkpoint(fun: Callable) -> Checkpointed:
    """`fun` made to recompute its inside in the backward pass instead of storing it.

    Under reverse mode (`grad`, `vjp`, Variables' `backward()`) a call records its inside
    and then drops the values; the backward pass evaluates `fun` again to get them, so
    peak memory falls to the segment boundaries plus one segment's intermediates, for
    about one extra evaluation of `fun`. Forward mode and plain calls are unchanged.
    Arguments and results may be trees; `fun` may close over traced values (parameters).
    NumPy random generators that `fun` reaches are rewound for the second evaluation;
    if it still differs, `CheckpointError` is raised.

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> block = wg.checkpoint(lambda x: wnp.sin(wnp.sin(x)))
    >>> round(float(wg.grad(lambda x: block(block(x)))(0.5)), 10)
    0.629334506
    """
    return Checkpointed(fun)
