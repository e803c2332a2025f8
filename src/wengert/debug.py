"""Find where a NaN or an infinity is born: ``wengert.debug_nans()``.

A NaN gradient is usually made by one primitive at one point (``sqrt`` at 0 inside a
``where``, ``log`` of a probability that underflowed) and then spread everywhere. With
NaN checking on, every primitive applied to traced values has its result checked, and
so do the tangents it pushes forward and the cotangents its reverse rules pull back: the
first one that is NaN or infinite while what it was computed from is finite raises
`NonFiniteError`, naming the primitive, the kind of value, and the line of the user's
code that called the primitive (for cotangents: the line that recorded it).

Checking is switched on by swapping the engine's `bind` for a checking one (and giving
the backward pass a hook), so it costs nothing while off. It is a process-wide switch,
like JAX's ``jax_debug_nans``: ``with wengert.debug_nans(): ...``, or
``wengert.debug_nans(True)`` / ``debug_nans(False)`` as plain calls, or the environment
variable ``WENGERT_DEBUG_NANS=1`` before import.
"""

from __future__ import annotations

import cmath
import os
import sys
import threading
import weakref
from typing import Any

import numpy as np

from ._core import box as _box
from ._core import primitive as _primitive
from ._core import reverse as _reverse
from ._core.box import getval
from ._core.forward import ForwardBox
from ._core.reverse import ReverseBox
from ._core.tree import tree_flatten
from .errors import WengertError

__all__ = ["NonFiniteError", "debug_nans", "is_debugging_nans"]


class NonFiniteError(WengertError, FloatingPointError):
    """A primitive made a NaN or an infinity from finite values (with `debug_nans` on)."""


_plain_bind = _primitive.bind
_sites: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_state = threading.Lock()
_SKIPPED = (
    os.path.dirname(os.path.abspath(__file__)) + os.sep,
    os.path.dirname(os.path.abspath(np.__file__)) + os.sep,
    os.path.dirname(os.path.abspath(threading.__file__)) + os.sep + "contextlib",
)


def _finite(x: Any) -> bool:
    value = getval(x)
    if isinstance(value, (float, complex)):
        return cmath.isfinite(value)
    dtype = getattr(value, "dtype", None)
    if dtype is None or dtype.kind not in "fc":
        return True
    return bool(np.isfinite(value).all())


def _all_finite(values) -> bool:
    return all(_finite(v) for v in tree_flatten(list(values))[0])


def _user_site() -> str:
    """`file:line in function` of the innermost caller outside wengert and NumPy."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if not filename.startswith(_SKIPPED):
            return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"
        frame = frame.f_back
    return "an unknown line"


def _describe(x: Any) -> str:
    value = getval(x)
    shape = np.shape(value)
    if shape == ():
        return repr(value.item() if hasattr(value, "item") else value)
    flat = np.ravel(value)
    bad = np.flatnonzero(~np.isfinite(flat))
    where = f" (first at flat index {bad[0]})" if bad.size else ""
    return f"an array of shape {shape}{where}"


def _checked_bind(primitive, args: tuple, kwargs: dict) -> Any:
    out = _plain_bind(primitive, args, kwargs)
    results = out if isinstance(out, tuple) else (out,)
    for result in results:
        if not _finite(result) and _all_finite(args):
            raise NonFiniteError(
                f"{primitive.name} made a non-finite value ({_describe(result)}) from finite "
                f"inputs, called at {_user_site()}."
            )
        if isinstance(result, ForwardBox) and not _finite(result.tangent):
            tangents = [a.tangent for a in args if isinstance(a, ForwardBox)]
            if _all_finite(tangents) and _all_finite(args):
                raise NonFiniteError(
                    f"the tangent (forward-mode derivative) of {primitive.name} became "
                    f"non-finite ({_describe(result.tangent)}) from finite inputs and tangents, "
                    f"called at {_user_site()}: its derivative is not finite at this point."
                )
        if isinstance(result, ReverseBox) and result.node is not None:
            node = result.node
            _sites[node] = _user_site()
            if node.primitive is _reverse.select and node.parents:
                _sites.setdefault(node.parents[0], _sites[node])
    return out


def _check_cotangents(node, g: Any, args: tuple, cotangents: list) -> None:
    """The backward pass's hook: raise at the first non-finite cotangent from finite ones."""
    for argnum, c in zip(node.argnums, cotangents):
        if c is None or _finite(c):
            continue
        if _all_finite([g]) and _all_finite(args):
            site = _sites.get(node, "a line that was recorded before NaN checking was on")
            raise NonFiniteError(
                f"the cotangent (reverse-mode derivative) of argument {argnum} of "
                f"{node.primitive.name} became non-finite ({_describe(c)}) from a finite "
                f"cotangent of its result and finite inputs; {node.primitive.name} was called "
                f"at {site}. Its derivative is not finite at this point (for "
                "where(c, f(x), y), the branch not taken still gets a zero cotangent, and "
                "zero times an infinite derivative is NaN: see the guide's 'When a gradient "
                "is NaN')."
            )


def _switch(on: bool) -> None:
    bind = _checked_bind if on else _plain_bind
    _primitive.bind = bind
    _box._bind = bind
    _reverse.cotangent_hook = _check_cotangents if on else None


class debug_nans:
    """Raise `NonFiniteError` where a NaN or infinity first appears (see the module).

    ``with wengert.debug_nans(): ...`` checks inside the block and restores the previous
    setting after it; a plain call, ``wengert.debug_nans(True)`` or
    ``wengert.debug_nans(False)``, switches checking on or off from then on.

    >>> import numpy as np
    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> f = lambda x: wnp.where(x > 0.0, wnp.sqrt(x), 0.0)
    >>> with wg.debug_nans(), np.errstate(all="ignore"):
    ...     wg.grad(f)(0.0)
    Traceback (most recent call last):
    ...
    wengert.debug.NonFiniteError: the cotangent (reverse-mode derivative) of argument 0 of sqrt ...
    """

    def __init__(self, enabled: bool = True) -> None:
        with _state:
            self._before = is_debugging_nans()
            _switch(bool(enabled))

    def __enter__(self) -> debug_nans:
        return self

    def __exit__(self, *exc) -> None:
        with _state:
            _switch(self._before)


def is_debugging_nans() -> bool:
    """Whether NaN checking is on."""
    return _primitive.bind is _checked_bind


if os.environ.get("WENGERT_DEBUG_NANS", "").strip().lower() in ("1", "true", "yes", "on"):
    _switch(True)
