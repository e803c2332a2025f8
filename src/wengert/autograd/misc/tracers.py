"""autograd's `const_graph`: record a function's graph once and replay it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ...program import jit

__all__ = ["const_graph"]


def const_graph(fun: Callable, *args: Any, **kwargs: Any) -> Callable:
    """`fun` (with `args` and `kwargs` bound first) recorded at its first call and replayed
    after. Unlike autograd's, a call that would take another path through the function's
    branches is recorded anew instead of replaying a wrong graph (`wengert.jit`)."""
    bound = functools.partial(fun, *args, **kwargs)
    return functools.wraps(fun)(jit(bound))
