"""Nested tuples, lists and dicts of arrays as one flat vector, as autograd lays it out:
containers in order, dict entries by sorted key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...jacobians import ravel_tree

__all__ = ["flatten", "flatten_func"]


def flatten(value: Any) -> tuple[Any, Callable]:
    """``(vector, unflatten)``: the leaves of `value` concatenated, and the inverse.

    Both are differentiable, so a loss of the nested parameters can be written as a loss
    of the vector. Dict keys must be sortable, as in autograd.
    """
    return ravel_tree(value)


def flatten_func(func: Callable, example: Any) -> tuple[Callable, Callable, Any]:
    """`func` of a nested value made a function of its flat vector: ``(flat_func,
    unflatten, flat_example)``; the result of `func` is flattened too."""
    flat_example, unflatten = flatten(example)

    def flat_func(x, *args):
        return flatten(func(unflatten(x), *args))[0]

    return flat_func, unflatten, flat_example
