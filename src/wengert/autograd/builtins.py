"""autograd's `builtins`: containers and type tests that see through traced values.

wengert differentiates through ordinary tuples, lists and dicts of arrays, so the
containers are Python's own; `isinstance` and `type` look at the value under a traced
one, as autograd's do.
"""

from __future__ import annotations

import builtins as _builtins
from typing import Any

from .._core.box import peek

__all__ = ["dict", "isinstance", "list", "tuple", "type"]

tuple = _builtins.tuple
list = _builtins.list
dict = _builtins.dict


def isinstance(obj: Any, classinfo: Any) -> bool:
    """``isinstance`` of the value under `obj` if it is traced."""
    return _builtins.isinstance(peek(obj), classinfo)


def type(obj: Any) -> _builtins.type:
    """``type`` of the value under `obj` if it is traced."""
    return _builtins.type(peek(obj))
