"""Elementwise functions: each a primitive with both rules, most in one line.

Binary ones broadcast; the engine sums their cotangents back to each input's shape.
Rules follow the transpose convention (no complex conjugation): for a holomorphic
function the reverse rule multiplies by the derivative itself.
"""

from __future__ import annotations

import math
import operator
from fractions import Fraction

import numpy as np

from .._core.box import Box, all_value, any_value, getval, peek
from .._core.define import binary, elementwise, linear, nondiff, stop_gradient
from .._core.primitive import Primitive
from .._core.vspace import asarray, broadcast_to, is_foreign_array, is_lazy_array
from .._core.vspace import zeros_like as zeros_of
from ._arraylike import accept_array_likes

# Python floats, not NumPy scalars: a NumPy float64 scalar would widen float32 values.
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)

# --- arithmetic ---------------------------------------------------------------------

# Exact NumPy scalar types and Python numbers, for which Python's operator gives what the
# ufunc gives, without the ufunc's call overhead on scalars (about 1 us). Arrays call the
# ufunc itself (their operators only add a dispatch step before it).
_NUMPY_TYPES = frozenset(
    {t for t in set(np.sctypeDict.values()) if issubclass(t, np.number | np.bool_)}
)
_PYTHON_TYPES = frozenset({float, int, complex, bool})


def _arithmetic(ufunc: np.ufunc, op) -> object:
    """`ufunc`, computed by Python's operator `op` when one argument is a NumPy scalar
    and the other a NumPy scalar or a Python number (the per-operation hot path)."""

    def fun(x, y, /, *args, **kwargs):
        if not args and not kwargs:
            tx, ty = type(x), type(y)
            if tx in _NUMPY_TYPES:
                if ty in _NUMPY_TYPES or ty in _PYTHON_TYPES:
                    return op(x, y)
            elif ty in _NUMPY_TYPES and tx in _PYTHON_TYPES:
                return op(x, y)
        return ufunc(x, y, *args, **kwargs)

    # NumPy's name, documentation and module (so that doctest leaves NumPy's examples be).
    fun.__name__ = fun.__qualname__ = ufunc.__name__
    fun.__doc__, fun.__module__ = ufunc.__doc__, "numpy"
    return fun


add = Primitive(_arithmetic(np.add, operator.add), "add", broadcasts=True, elementwise=True)
add.defvjp(lambda g, ans, x, y, **kw: g, lambda g, ans, x, y, **kw: g)
add.defjvp(lambda t, ans, x, y, **kw: t, lambda t, ans, x, y, **kw: t)
add.defalgebra("sum", (1, 1))

subtract = Primitive(
    _arithmetic(np.subtract, operator.sub), "subtract", broadcasts=True, elementwise=True
)
subtract.defvjp(lambda g, ans, x, y, **kw: g, lambda g, ans, x, y, **kw: negative(g))
subtract.defjvp(lambda t, ans, x, y, **kw: t, lambda t, ans, x, y, **kw: negative(t))
subtract.defalgebra("sum", (1, -1))

multiply = Primitive(
    _arithmetic(np.multiply, operator.mul), "multiply", broadcasts=True, elementwise=True
)
multiply.defvjp(lambda g, ans, x, y, **kw: g * y, lambda g, ans, x, y, **kw: g * x)
multiply.defjvp(lambda t, ans, x, y, **kw: t * y, lambda t, ans, x, y, **kw: x * t)
multiply.defalgebra("product", (1, 1))

true_divide = Primitive(
    _arithmetic(np.true_divide, operator.truediv), "true_divide", broadcasts=True, elementwise=True
)
true_divide.defvjp(
    lambda g, ans, x, y, **kw: g / y,
    lambda g, ans, x, y, **kw: negative(g) * ans / y,
)
true_divide.defjvp(
    lambda t, ans, x, y, **kw: t / y,
    lambda t, ans, x, y, **kw: negative(t) * ans / y,
)
true_divide.defalgebra("product", (1, -1))
divide = true_divide

negative = linear(np.negative, lambda g, ans, x, **kw: negative(g), "negative", elementwise=True)
negative.defalgebra("sum", (-1,))


def _positive_impl(x, **kw):
    return np.positive(x, **kw)


positive = linear(_positive_impl, lambda g, ans, x, **kw: g, "positive", elementwise=True)


def _power_dx(ans, x, y):
    if not isinstance(y, Box) and np.ndim(y) == 0 and not is_lazy_array(y):
        # A constant exponent (the common x**2): no masking needed, and y == 2 is cheap.
        if y == 2:
            return 2.0 * x
        return 0.0 * x if y == 0 else y * power(x, y - 1)
    return where(y == 0, 0.0, y * power(x, y - 1))


def _power_dy(ans, x, y):
    # d/dy x**y = x**y log x; at x = 0 the limit from x > 0 is 0 (for y > 0).
    if type(x) in _PYTHON_NUMBERS:
        # A Python number base (2.0 ** x): its log stays a Python number, which does not
        # widen a float32 exponent as a NumPy float64 would.
        return ans * np.log(x if x != 0 else 1.0).item()
    return ans * log(where(x == 0, 1.0, x))


_PYTHON_NUMBERS = (float, int, complex)


power = binary(np.power, _power_dx, _power_dy, "power", singular=True).defalgebra("power")
float_power = binary(np.float_power, _power_dx, _power_dy, "float_power", singular=True)

square = elementwise(np.square, lambda ans, x: 2 * x, "square").defalgebra("product", (2,))
sqrt = elementwise(np.sqrt, lambda ans, x: 0.5 / ans, "sqrt", singular=True)
sqrt.defalgebra("product", (Fraction(1, 2),))
cbrt = elementwise(np.cbrt, lambda ans, x: 1.0 / (3.0 * ans * ans), "cbrt", singular=True)
reciprocal = elementwise(
    np.reciprocal, lambda ans, x: negative(ans * ans), "reciprocal", singular=True
).defalgebra("product", (-1,))

# mod(x, y) = x - floor(x / y) * y: slopes 1 and -floor(x / y) where it is continuous.
mod = binary(
    np.mod,
    lambda ans, x, y: 1.0,
    lambda ans, x, y: negative(floor_divide(x, y)),
    "remainder",
)
remainder = mod
fmod = binary(np.fmod, lambda ans, x, y: 1.0, lambda ans, x, y: negative(trunc(x / y)), "fmod")

# --- exponentials and logarithms -------------------------------------------------------

exp = elementwise(np.exp, lambda ans, x: ans, "exp")
exp2 = elementwise(np.exp2, lambda ans, x: ans * _LN2, "exp2")
expm1 = elementwise(np.expm1, lambda ans, x: ans + 1.0, "expm1")
log = elementwise(np.log, lambda ans, x: 1.0 / x, "log", singular=True)
log2 = elementwise(np.log2, lambda ans, x: 1.0 / (x * _LN2), "log2", singular=True)
log10 = elementwise(np.log10, lambda ans, x: 1.0 / (x * _LN10), "log10", singular=True)
log1p = elementwise(np.log1p, lambda ans, x: 1.0 / (x + 1.0), "log1p", singular=True)
# The slopes are logistic functions of x - y, written without the result: a lazy (Dask)
# gradient then needs no logaddexp itself, and x = inf next to a finite y has slope 1.
logaddexp = binary(
    np.logaddexp,
    lambda ans, x, y: 1.0 / (1.0 + exp(y - x)),
    lambda ans, x, y: 1.0 / (1.0 + exp(x - y)),
    "logaddexp",
    singular=True,
)
logaddexp2 = binary(
    np.logaddexp2,
    lambda ans, x, y: 1.0 / (1.0 + exp2(y - x)),
    lambda ans, x, y: 1.0 / (1.0 + exp2(x - y)),
    "logaddexp2",
    singular=True,
)

# --- trigonometric and hyperbolic ----------------------------------------------------

sin = elementwise(np.sin, lambda ans, x: cos(x), "sin")
cos = elementwise(np.cos, lambda ans, x: negative(sin(x)), "cos")
tan = elementwise(np.tan, lambda ans, x: 1.0 + ans * ans, "tan")
arcsin = elementwise(np.arcsin, lambda ans, x: 1.0 / sqrt(1.0 - x * x), "arcsin", singular=True)
arccos = elementwise(np.arccos, lambda ans, x: -1.0 / sqrt(1.0 - x * x), "arccos", singular=True)
arctan = elementwise(np.arctan, lambda ans, x: 1.0 / (1.0 + x * x), "arctan")
sinh = elementwise(np.sinh, lambda ans, x: cosh(x), "sinh")
cosh = elementwise(np.cosh, lambda ans, x: sinh(x), "cosh")
tanh = elementwise(np.tanh, lambda ans, x: 1.0 - ans * ans, "tanh")
# 1 / hypot(x, 1) rather than 1 / sqrt(x * x + 1), which overflows for |x| > 1e154.
arcsinh = elementwise(np.arcsinh, lambda ans, x: 1.0 / hypot(x, 1.0), "arcsinh")
arccosh = elementwise(
    np.arccosh, lambda ans, x: 1.0 / (sqrt(x - 1.0) * sqrt(x + 1.0)), "arccosh", singular=True
)
arctanh = elementwise(np.arctanh, lambda ans, x: 1.0 / (1.0 - x * x), "arctanh", singular=True)
# x / (x^2 + y^2) as (x / r) / r with r = hypot(y, x): no overflow or underflow in x^2 + y^2
# (at 1e200 or 1e-200); NaN at the origin, where arctan2 jumps.
arctan2 = binary(
    np.arctan2,
    lambda ans, y, x: x / hypot(y, x) / hypot(y, x),
    lambda ans, y, x: negative(y) / hypot(y, x) / hypot(y, x),
    "arctan2",
    singular=True,
)


def _hypot_partial(ans, x):
    """d hypot / dx = x / hypot, taken as 0 at hypot == 0 (to every order), the convention
    of `abs` and `linalg.norm` at 0."""
    if not any_value(ans == 0, undecided=True):
        # No zero anywhere (in any member of a batch): the masked form would give the same.
        return x / ans
    zero = ans == 0
    return where(zero, 0.0, x / where(zero, 1.0, ans))


hypot = binary(
    np.hypot,
    lambda ans, x, y: _hypot_partial(ans, x),
    lambda ans, x, y: _hypot_partial(ans, y),
    "hypot",
)
deg2rad = elementwise(np.deg2rad, lambda ans, x: np.pi / 180.0, "deg2rad")
rad2deg = elementwise(np.rad2deg, lambda ans, x: 180.0 / np.pi, "rad2deg")
radians, degrees = deg2rad, rad2deg
# NumPy 2's array-API spellings.
acos, acosh, asin, asinh = arccos, arccosh, arcsin, arcsinh
atan, atan2, atanh, pow = arctan, arctan2, arctanh, power

# --- absolute value, extrema, selection ----------------------------------------------


# The derivative of |x| at 0 is taken as 0, the subgradient closest to both sides.
def _abs_vjp(g, ans, x, **kw):
    if not np.iscomplexobj(peek(x)):
        return g * sign(x)
    # |z| is R-linearised by Re(conj(z) dz) / |z|; its transpose takes g to g conj(z)/|z|.
    return g * conj(x) / where(ans == 0, 1.0, ans)


def _abs_jvp(t, ans, x, **kw):
    if not np.iscomplexobj(peek(x)):
        return t * sign(x)
    return real(conj(x) * t) / where(ans == 0, 1.0, ans)


absolute = Primitive(np.absolute, "absolute", elementwise=True)
absolute.defvjp(_abs_vjp)
absolute.defjvp(_abs_jvp)
abs = absolute
fabs = elementwise(np.fabs, lambda ans, x: sign(x), "fabs")


def _share_impl(x, y, greater: bool, ignore_nan: bool):
    """The share of the derivative of max(x, y) (min if not `greater`) that goes to x.

    1 where x's value is returned, 1/2 where x and y tie, 0 where y's is. A NaN result
    has no derivative (no perturbation of either argument changes it); with `ignore_nan`
    (fmax, fmin) x's value is returned where only y is NaN. A constant in x's real dtype.
    """
    wins = np.greater(x, y) if greater else np.less(x, y)
    if ignore_nan:
        wins = wins | (np.isnan(y) & ~np.isnan(x))
    dtype = np.result_type(x, y)
    if dtype.kind != "f":
        dtype = np.finfo(np.result_type(dtype, np.float16)).dtype  # complex: its real part
    if is_foreign_array(wins):  # lazy (Dask): no entries to look at now
        return np.where(np.equal(x, y), dtype.type(0.5), wins.astype(dtype))
    share = np.asarray(wins).astype(dtype)
    tie = np.equal(x, y)
    if np.any(tie):
        share = np.where(tie, dtype.type(0.5), share)
    return share[()]


# Without derivative, and computed from each member's own values under vmap.
_share = nondiff(_share_impl, "extremum_share", elementwise=True)


maximum = binary(
    np.maximum,
    lambda ans, x, y: _share(x, y, True, False),
    lambda ans, x, y: _share(y, x, True, False),
    "maximum",
)
minimum = binary(
    np.minimum,
    lambda ans, x, y: _share(x, y, False, False),
    lambda ans, x, y: _share(y, x, False, False),
    "minimum",
)
fmax = binary(
    np.fmax,
    lambda ans, x, y: _share(x, y, True, True),
    lambda ans, x, y: _share(y, x, True, True),
    "fmax",
)
fmin = binary(
    np.fmin,
    lambda ans, x, y: _share(x, y, False, True),
    lambda ans, x, y: _share(y, x, False, True),
    "fmin",
)


def _where_impl(condition, x, y):
    out = np.where(condition, x, y)
    if type(out) is np.ndarray and not out.ndim and not _any_ndarray(condition, x, y):
        return out[()]  # numbers in, a number out (as from a ufunc), not a 0-d array
    return out


def _any_ndarray(*values) -> bool:
    return any(type(v) is np.ndarray for v in values)


_where = Primitive(_where_impl, "where", broadcasts=True, elementwise=True)
_where.defvjp(
    None,
    lambda g, ans, c, x, y: _where(c, g, 0.0),
    lambda g, ans, c, x, y: _where(c, 0.0, g),
)
_where.defjvp(
    None,
    lambda t, ans, c, x, y: _where(c, t, 0.0),
    lambda t, ans, c, x, y: _where(c, 0.0, t),
)


def where(condition, x=None, y=None):
    """Elements of `x` where `condition` holds, else of `y` (differentiable in x and y).

    With only `condition`, the indices where it holds (no derivative).
    """
    if x is None and y is None:
        return nonzero(condition)
    return _where(stop_gradient(condition), x, y)


def clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None, **kwargs):
    """`a` limited to [a_min, a_max] (or NumPy 2's ``min=``/``max=``); at a bound the
    derivative is split evenly, and a NaN bound gives NaN with no derivative."""
    if min is not None or max is not None:
        if a_min is not None or a_max is not None:
            raise ValueError(
                "wengert.numpy.clip: pass the bounds as a_min/a_max or as min=/max=, not both."
            )
        a_min, a_max = min, max
    if not isinstance(a, Box) and not isinstance(a_min, Box) and not isinstance(a_max, Box):
        return np.clip(a, a_min, a_max, out=out, **kwargs)
    if out is not None or kwargs:
        raise TypeError(
            "wengert.numpy.clip takes no out= or other ufunc keywords for traced values; "
            "drop them and use the result."
        )
    if a_min is not None:
        a = maximum(a, a_min)
    if a_max is not None:
        a = minimum(a, a_max)
    return a


# --- complex parts ---------------------------------------------------------------------

real = linear(np.real, lambda g, ans, x: _real_cotangent(g, x), "real", elementwise=True)
imag = linear(np.imag, lambda g, ans, x: _imag_cotangent(g, x), "imag", elementwise=True)
conj = linear(np.conj, lambda g, ans, x: conj(g), "conjugate", elementwise=True)
conjugate = conj


def _real_cotangent(g, x):
    return g if not np.iscomplexobj(peek(x)) else g + 0j


def _imag_cotangent(g, x):
    if not np.iscomplexobj(peek(x)):
        return zeros_of(x)
    return -1j * g


# --- piecewise constant: no derivative --------------------------------------------------

sign = nondiff(np.sign)
floor = nondiff(np.floor)
ceil = nondiff(np.ceil)
trunc = nondiff(np.trunc)
rint = nondiff(np.rint)
fix = nondiff(np.fix)
round = nondiff(np.round, "round")
around = round
floor_divide = nondiff(np.floor_divide)
heaviside = nondiff(np.heaviside)
nonzero = nondiff(np.nonzero)


__all__ = [
    "abs",
    "absolute",
    "acos",
    "acosh",
    "add",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "around",
    "broadcast_to",
    "cbrt",
    "ceil",
    "clip",
    "conj",
    "conjugate",
    "cos",
    "cosh",
    "deg2rad",
    "degrees",
    "divide",
    "exp",
    "exp2",
    "expm1",
    "fabs",
    "fix",
    "float_power",
    "floor",
    "floor_divide",
    "fmax",
    "fmin",
    "fmod",
    "heaviside",
    "hypot",
    "imag",
    "log",
    "log10",
    "log1p",
    "log2",
    "logaddexp",
    "logaddexp2",
    "maximum",
    "minimum",
    "mod",
    "multiply",
    "negative",
    "nonzero",
    "positive",
    "pow",
    "power",
    "rad2deg",
    "radians",
    "real",
    "reciprocal",
    "remainder",
    "rint",
    "round",
    "sign",
    "sin",
    "sinh",
    "sqrt",
    "square",
    "subtract",
    "tan",
    "tanh",
    "trunc",
    "true_divide",
    "where",
    "angle",
    "copysign",
    "nan_to_num",
    "real_if_close",
]


# --- NaN replacement, phase and sign transfer ---------------------------------------------


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """`x` with NaN and infinities replaced by finite numbers.

    The derivative is 1 at finite entries and 0 at replaced ones (where it reaches the
    replacement values instead, if those are traced). Complex entries are treated part by
    part.

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> wg.grad(lambda x: wnp.sum(wnp.nan_to_num(x) / 2.0))(wnp.array([1.0, wnp.inf]))
    array([0.5, 0. ])
    """
    if not any(isinstance(v, Box) for v in (x, nan, posinf, neginf)):
        return np.nan_to_num(x, copy=copy, nan=nan, posinf=posinf, neginf=neginf)
    x = asarray(x)
    value = peek(x)
    if np.iscomplexobj(value):
        parts = (real(x), imag(x))
        return nan_to_num(parts[0], True, nan, posinf, neginf) + 1j * nan_to_num(
            parts[1], True, nan, posinf, neginf
        )
    if all_value(_isfinite(x), undecided=False):  # in every member of a batch (under vmap)
        return x
    limits = np.finfo(np.result_type(value, 0.0))
    posinf = limits.max if posinf is None else posinf
    neginf = limits.min if neginf is None else neginf
    out = where(_isneginf(x), neginf, x)
    out = where(_isposinf(x), posinf, out)
    return where(_isnan(x), nan, out)


def angle(z, deg=False):
    """The argument (phase) of complex `z`, in radians or degrees.

    For real input it is 0 or pi, piecewise constant, with derivative 0. At z = 0, where
    the phase jumps, the derivative is taken as 0.

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> wg.grad(lambda t: wnp.angle(wnp.exp(1j * t)))(0.5)
    1.0
    """
    if not isinstance(z, Box):
        return np.angle(z, deg)
    if not np.iscomplexobj(peek(z)):
        return _angle_value(z, deg)
    if not any_value(z == 0, undecided=True):  # (in any member of a batch)
        out = arctan2(imag(z), real(z))
    else:
        zero = z == 0
        out = arctan2(imag(z), where(zero, 1.0, real(z)))
        out = where(zero, _angle_value(z), out)
    return out * (180 / np.pi) if deg else out


def real_if_close(a, tol=100):
    """The real part of `a` if every imaginary part is within `tol` machine epsilons of
    zero, else `a`.

    The result's type depends on the values, so under `vmap` the test is made once for
    the whole batch: real only if every member is close to real (a member's result then
    differs from its own call only by imaginary parts below the tolerance).

    >>> import wengert.numpy as wnp
    >>> wnp.real_if_close(wnp.array([1.0 + 1e-20j, 2.0]))
    array([1., 2.])
    """
    if not isinstance(a, Box):
        return np.real_if_close(a, tol)
    value = getval(a)
    if not np.iscomplexobj(value):
        return a
    if tol > 1:
        tol = np.finfo(value.dtype).eps * tol
    return real(a) if np.all(np.absolute(value.imag) < tol) else a


def copysign(x1, x2, /, out=None, **kwargs):
    """The magnitude of `x1` with the sign of `x2`.

    Differentiable in `x1` (slope +-1; 0 at x1 = 0, as for ``abs``); piecewise constant
    in `x2`.

    >>> import wengert.numpy as wnp
    >>> wnp.copysign(wnp.array([1.0, -2.0]), -1.0)
    array([-1., -2.])
    """
    if not isinstance(x1, Box) and not isinstance(x2, Box):
        return np.copysign(x1, x2, out=out, **kwargs)
    if out is not None or kwargs:
        raise TypeError(
            "wengert.numpy.copysign takes no out= or other ufunc keywords for traced values"
        )
    return absolute(x1) * _unit_sign(x2, np.result_type(peek(x1), 0.0))


def _unit_sign_impl(x2, dtype):
    return np.where(np.signbit(x2), -1.0, 1.0).astype(dtype)[()]  # (a number for a number)


# The sign of each entry as -1 or 1 in `dtype`; constants, computed member by member under
# vmap, as are these masks and phases.
_unit_sign = nondiff(_unit_sign_impl, "unit_sign", elementwise=True)
_isnan = nondiff(np.isnan)
_isfinite = nondiff(np.isfinite, elementwise=True)
_isposinf = nondiff(np.isposinf, elementwise=True)
_isneginf = nondiff(np.isneginf, elementwise=True)
_angle_value = nondiff(np.angle, "angle_value", elementwise=True)

# Generated source (Program.source) computes these primitives with their implementations,
# copied (they use NumPy alone), or with the public function that they call.
# add, subtract, multiply and true_divide compute NumPy's ufuncs (with Python's operator on
# NumPy values, which calls the same ufunc).
add.defsource(np.add)
subtract.defsource(np.subtract)
multiply.defsource(np.multiply)
true_divide.defsource(np.true_divide)
positive.defsource(np.positive)
_where.defsource(np.where)
_share.defsource(_share_impl)
_unit_sign.defsource(_unit_sign_impl)

# Lists and tuples holding traced values are read as arrays by the public functions.
accept_array_likes(globals(), __all__)
