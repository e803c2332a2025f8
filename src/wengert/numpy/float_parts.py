"""Functions that scale floating-point numbers by powers of two or split them in parts:
`ldexp`, `frexp`, `modf` and `divmod`.

Each has a part without derivative (an exponent, an integral part, a quotient rounded
down: integers, or piecewise constant) and a part that is differentiable where it is
continuous: ``ldexp(x, e) = x * 2**e`` is linear in x, the mantissa of `frexp` is
``x * 2**-e`` (slope ``2**-e``), the fractional part of `modf` and the remainder of
`divmod` move with x at slope 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.box import Box
from .._core.define import elementwise, nondiff
from .._core.primitive import Primitive
from ._arraylike import accept_array_likes
from ._common import _no_out
from .elementwise import mod, negative
from .nondiff import ones_like

ldexp = Primitive(np.ldexp, "ldexp", broadcasts=True, elementwise=True)
ldexp.defvjp(lambda g, ans, x, e, **kw: ldexp(g, e))
ldexp.defjvp(lambda t, ans, x, e, **kw: ldexp(t, e))
ldexp.__doc__ = """``x * 2**e`` for integer exponents `e`, differentiable in x (slope ``2**e``).

>>> import wengert as wg
>>> import wengert.numpy as wnp
>>> wg.grad(lambda x: wnp.ldexp(x, 3))(0.5)
8.0
"""


def _mantissa_impl(x):
    return np.frexp(x)[0]


def _exponent_impl(x):
    return np.frexp(x)[1]


def _fraction_impl(x):
    return np.modf(x)[0]


def _integral_impl(x):
    return np.modf(x)[1]


_exponent = nondiff(_exponent_impl, "frexp_exponent", elementwise=True)
_integral = nondiff(_integral_impl, "modf_integral", elementwise=True)
# The mantissa is x scaled by 2**-e: its slope is that power of two (in x's own dtype).
_mantissa = elementwise(
    _mantissa_impl, lambda ans, x: ldexp(ones_like(ans), negative(_exponent(x))), "frexp_mantissa"
)
_fraction = elementwise(_fraction_impl, lambda ans, x: 1.0, "modf_fraction")


def frexp(x: Any, out: Any = None) -> tuple:
    """Mantissa and exponent of `x`: ``x = mantissa * 2**exponent`` with ``0.5 <=
    |mantissa| < 1``; the mantissa is differentiable, the exponent is an integer.

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> wg.grad(lambda x: wnp.frexp(x)[0])(3.0)
    0.25
    """
    if out is not None and not isinstance(x, Box):
        return np.frexp(x, out=out)
    _no_out(out, "frexp")
    return _mantissa(x), _exponent(x)


def modf(x: Any, out: Any = None) -> tuple:
    """Fractional and integral parts of `x`, both with x's sign; the fractional part
    moves with x (slope 1), the integral part has no derivative.

    >>> import wengert.numpy as wnp
    >>> wnp.modf(-2.75)
    (-0.75, -2.0)
    """
    if out is not None and not isinstance(x, Box):
        return np.modf(x, out=out)
    _no_out(out, "modf")
    return _fraction(x), _integral(x)


def divmod(x1: Any, x2: Any, out: Any = None) -> tuple:
    """Quotient rounded down and remainder, ``(x1 // x2, x1 % x2)``: the remainder is
    differentiable (as `mod`), the quotient has no derivative.

    >>> import wengert.numpy as wnp
    >>> wnp.divmod(7.5, 2.0)
    (3.0, 1.5)
    """
    if not (isinstance(x1, Box) or isinstance(x2, Box)):
        return np.divmod(x1, x2) if out is None else np.divmod(x1, x2, out=out)
    _no_out(out, "divmod")
    return _floor_divide(x1, x2), mod(x1, x2)


_floor_divide = nondiff(np.floor_divide)

__all__ = ["divmod", "frexp", "ldexp", "modf"]

# Generated source (Program.source) computes these primitives with their implementations.
_mantissa.defsource(_mantissa_impl)
_fraction.defsource(_fraction_impl)
_exponent.defsource(_exponent_impl)
_integral.defsource(_integral_impl)

# Lists and tuples holding traced values are read as arrays by the public functions.
accept_array_likes(globals(), __all__)
