"""Modules of this namespace that are views of a wengert module under autograd's name."""

from __future__ import annotations

import functools
import importlib
import sys
from typing import Any

from .._core.box import Box
from .._core.tree import tree_leaves
from ..errors import UnsupportedFunctionError


def mirror(name: str, source: str, fallback: str | None = None) -> None:
    """Make module `name` offer every public name of module `source`, found at access, so
    that names added to `source` appear here too.

    autograd wraps every function of the NumPy or SciPy module it mirrors, differentiable
    or not; names of that `fallback` module that wengert lacks are offered as SciPy's or
    NumPy's own function, which raises `UnsupportedFunctionError` when given a traced
    value instead of losing its derivative.
    """
    module = sys.modules[name]
    target = importlib.import_module(source)
    plain = importlib.import_module(fallback) if fallback else None
    public = getattr(target, "__all__", None)
    if public is None:
        public = [n for n in dir(target) if not n.startswith("_")]
    module.__all__ = list(public)

    def __getattr__(attr: str) -> Any:
        if hasattr(target, attr):
            return getattr(target, attr)
        if plain is not None and not attr.startswith("_") and hasattr(plain, attr):
            value = getattr(plain, attr)
            return _refusing_traced(value, f"{fallback}.{attr}") if callable(value) else value
        raise AttributeError(f"module {name!r} has no attribute {attr!r}")

    def __dir__() -> list[str]:
        extra = [n for n in dir(plain) if not n.startswith("_")] if plain else []
        return sorted(set(dir(target)) | set(vars(module)) | set(extra))

    module.__getattr__ = __getattr__
    module.__dir__ = __dir__


def _refusing_traced(fun: Any, qualname: str) -> Any:
    if isinstance(fun, type):  # classes and exceptions: nothing to trace
        return fun

    @functools.wraps(fun)
    def plain_only(*args: Any, **kwargs: Any) -> Any:
        if any(isinstance(leaf, Box) for leaf in tree_leaves((args, kwargs))):
            raise UnsupportedFunctionError(
                f"{qualname} met a traced value, but wengert has no derivative rule for it. "
                "Use a function that wengert.numpy or wengert.scipy provides, or wrap its "
                "inputs in wengert.stop_gradient(...) if no derivative is needed through it."
            )
        return fun(*args, **kwargs)

    return plain_only


__all__ = ["mirror"]
