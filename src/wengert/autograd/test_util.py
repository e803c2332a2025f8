"""autograd's `test_util` over wengert's gradient checker.

``check_grads(f, argnum=0, modes=["fwd", "rev"], order=2)(*args)`` checks the derivatives
of `f` with respect to argument `argnum` against numerical ones, as autograd's does; the
checking itself is `wengert.check_grads` (tolerances chosen by precision, kinks and
non-smooth points recognised, a failure located in the program).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from ..testing import check_grads as _check_grads
from .differential_operators import unary_to_nary

__all__ = ["check_grads", "check_jvp", "check_vjp", "combo_check"]


@unary_to_nary
def check_grads(f: Callable, x: Any, modes: Sequence[str] = ("fwd", "rev"), order: int = 2) -> None:
    """Raise `wengert.GradientCheckError` if a derivative of `f` at `x` is wrong."""
    bad = [m for m in modes if m not in ("fwd", "rev")]
    if bad:
        raise ValueError(f"check_grads: modes must be 'fwd' and/or 'rev', got {bad!r}.")
    _check_grads(f, modes=tuple(modes), order=order)(x)


def check_vjp(f: Callable, x: Any) -> None:
    """Check the reverse-mode derivative of `f` at `x` (first order)."""
    _check_grads(f, modes=("rev",), order=1)(x)


def check_jvp(f: Callable, x: Any) -> None:
    """Check the forward-mode derivative of `f` at `x` (first order)."""
    _check_grads(f, modes=("fwd",), order=1)(x)


def combo_check(fun: Callable, *args: Any, **kwargs: Any) -> Callable:
    """``combo_check(fun, argnum, modes=..., order=...)(xs, ys, ..., key=[...])`` checks
    `fun` at every combination of the given argument and keyword values."""
    check = check_grads(fun, *args, **kwargs)

    def _combo_check(*arg_lists: Any, **kwarg_lists: Any) -> None:
        keyed = [[(k, v) for v in vs] for k, vs in kwarg_lists.items()]
        for values in itertools.product(*arg_lists):
            for pairs in itertools.product(*keyed):
                check(*values, **dict(pairs))

    return _combo_check
