"""Which arguments a transformation differentiates: `argnums`, checked once for all of them.

`grad`, `value_and_grad`, `elementwise_grad`, the Jacobians, Hessians and sparse Jacobians
all take ``argnums`` (an int, or a sequence of ints, as in JAX) and differentiate a
function of those arguments only, the others held fixed. `argnums_partial` does that
plumbing in one place: it validates ``argnums``, keeps each position once (a position
listed twice gets its full derivative twice, never a zero), and says how to lay the
derivatives out in the order the caller asked for.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

__all__ = ["ArgnumsPartial", "argnums_partial", "normalize_argnums"]


def _as_index(n: Any, argnums: Any, name: str) -> int:
    if isinstance(n, bool) or not hasattr(n, "__index__"):
        raise TypeError(
            f"{name}: argnums must be an int or a sequence of ints, got {argnums!r} "
            f"({type(n).__name__} {n!r} is not an integer position)."
        )
    return operator.index(n)


def normalize_argnums(argnums: Any, nargs: int, name: str) -> tuple[int, ...]:
    """The positions in `argnums` as non-negative ints, checked against `nargs` arguments.

    >>> normalize_argnums((0, -1), 3, "grad")
    (0, 2)
    """
    if isinstance(argnums, (Sequence, set, frozenset)) and not isinstance(argnums, str):
        if isinstance(argnums, (set, frozenset)):
            raise TypeError(
                f"{name}: argnums must be an int or an ordered sequence of ints (a tuple), "
                f"got a {type(argnums).__name__}, whose order is not defined."
            )
        nums = tuple(_as_index(n, argnums, name) for n in argnums)
    else:
        nums = (_as_index(argnums, argnums, name),)
    for n in nums:
        if not -nargs <= n < nargs:
            raise ValueError(
                f"{name}: argnums {argnums!r} is out of range for a call with {nargs} "
                f"positional argument{'s' if nargs != 1 else ''}."
            )
    return tuple(n % nargs for n in nums)


def is_single(argnums: Any) -> bool:
    """Whether `argnums` names one argument (an int) rather than a sequence of them."""
    return not isinstance(argnums, (Sequence, set, frozenset)) or isinstance(argnums, str)


class ArgnumsPartial(NamedTuple):
    """A function restricted to the arguments it is differentiated in."""

    #: The differentiated arguments, each distinct position once, in first-seen order.
    args: tuple
    #: ``fun`` as a function of those arguments alone, the others fixed.
    fun: Callable
    #: Derivatives for `args` (a sequence) -> the layout asked for: one value for an int
    #: ``argnums``, else a tuple with one entry per listed position (repeats included).
    expand: Callable[[Sequence], Any]


def argnums_partial(
    fun: Callable, args: tuple, kwargs: dict, argnums: Any, name: str
) -> ArgnumsPartial:
    """Restrict `fun` to the arguments at `argnums`, as `grad` and `jacobian` do.

    >>> p = argnums_partial(lambda x, y: x * y, (2.0, 3.0), {}, (1, 0, 1), "grad")
    >>> p.args, p.fun(10.0, 20.0), p.expand(["dy", "dx"])
    ((3.0, 2.0), 200.0, ('dy', 'dx', 'dy'))
    """
    nums = normalize_argnums(argnums, len(args), name)
    distinct = tuple(dict.fromkeys(nums))

    def partial(*diff_args):
        full = list(args)
        for i, a in zip(distinct, diff_args):
            full[i] = a
        return fun(*full, **kwargs)

    if is_single(argnums):
        expand = _first
    elif distinct == nums:
        expand = tuple
    else:
        where = {n: k for k, n in enumerate(distinct)}
        picks = tuple(where[n] for n in nums)

        def expand(derivatives: Sequence) -> tuple:
            return tuple(derivatives[k] for k in picks)

    return ArgnumsPartial(tuple(args[i] for i in distinct), partial, expand)


def _first(derivatives: Sequence) -> Any:
    return derivatives[0]
