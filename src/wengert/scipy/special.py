"""Differentiable `scipy.special` functions, each a primitive with both rules.

Values come from SciPy; derivatives from the classical identities (gamma' = gamma psi,
erf' = 2/sqrt(pi) exp(-x^2), I0' = I1, J0' = -J1, ...), written with wengert functions so
that every derivative can be differentiated again. Arguments that are integers or orders
(the n of polygamma, the v of jv, the a of gammainc) carry no derivative: passing a traced
value there raises `wengert.MissingRuleError` when its derivative is asked for.

>>> import wengert as wg
>>> from wengert.scipy import special
>>> round(float(wg.grad(special.erf)(0.0)), 6)  # 2 / sqrt(pi)
1.128379
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.special as sc

from .. import numpy as wnp
from .._core import define as _define
from .._core.batching import batch_axes, spread
from .._core.box import Box, any_value, peek
from .._core.define import binary, elementwise, nondiff
from .._core.primitive import Primitive
from .._core.vspace import asarray, foreign_of, full_shaped, shape_of
from ..errors import MissingRuleError
from ..numpy import _softmax as _shared
from ..numpy.reductions import expand_reduced

_SQRT_PI = float(np.sqrt(np.pi))
_SQRT_2PI = float(np.sqrt(2.0 * np.pi))
_LOG_SQRT_2PI = float(0.5 * np.log(2.0 * np.pi))
_LOG_PI = float(np.log(np.pi))


_NARROW = frozenset(np.dtype(t) for t in (np.float16, np.float32, np.complex64))


def _in_precision(fun: Callable) -> Callable:
    """SciPy's `fun` with its result in the precision of its floating arguments.

    Many SciPy functions have only double-precision loops, so float32 arguments would give
    float64 results (and derivatives); the result is cast back to NumPy's promotion of the
    floating arguments (integer orders such as polygamma's n do not count). Double inputs
    pass through untouched.
    """

    def impl(*args):
        return _call_in_precision(fun, *args)

    return functools.update_wrapper(impl, fun)


def _call_in_precision(fun, *args):
    """`fun(*args)` in the precision of the floating arguments (see `_in_precision`); a
    top-level function, so that generated source (Program.source) can copy it."""
    out = fun(*args)
    for arg in args:
        if getattr(arg, "dtype", None) in _NARROW:
            floating = [a for a in args if getattr(a, "dtype", np.dtype(float)).kind in "fc"]
            dtype = np.result_type(*floating, np.float16)
            return out if out.dtype == dtype else out.astype(dtype)
    return out


def _weak(value):
    """A NumPy scalar computed from Python numbers as a Python number, which does not
    widen float32 arrays (a NumPy float64 scalar would)."""
    return value.item() if isinstance(value, np.generic) else value


def _no_derivative(function: str, argument: str, why: str) -> Callable:
    """A rule that refuses: `function` has no derivative rule in `argument`."""

    def rule(*args: Any, **kwargs: Any):
        raise MissingRuleError(
            f"wengert.scipy.special.{function} is not differentiable in {argument} ({why}). "
            f"Pass {argument} as a constant, or wrap it in wengert.stop_gradient(...) if a "
            "zero derivative through it is what you mean."
        )

    return rule


def _where0(x, at_zero: Callable, elsewhere: Callable):
    """``at_zero(x)`` where x == 0, else ``elsewhere(safe_x)`` with 0 replaced by 1.

    Both branches are evaluated at finite points, so no NaN leaks into any derivative.
    """
    if not any_value(x == 0, undecided=True):  # (in any member of a batch: the same result)
        return elsewhere(x)
    zero = x == 0
    return wnp.where(zero, at_zero(x), elsewhere(wnp.where(zero, 1.0, x)))


# --- gamma function and friends ------------------------------------------------------

gamma = elementwise(
    _in_precision(sc.gamma), lambda ans, x: ans * digamma(x), "gamma", singular=True
)
# d/dx log|Gamma(x)| = psi(x) for every x that is not a pole.
gammaln = elementwise(
    _in_precision(sc.gammaln), lambda ans, x: digamma(x), "gammaln", singular=True
)
digamma = elementwise(
    _in_precision(sc.digamma), lambda ans, x: polygamma(1, x), "digamma", singular=True
)
psi = digamma


def _polygamma(n, x):
    """SciPy's polygamma; for arrays of another library (CuPy), which its Python code
    would read as NumPy's, its formula in ufuncs alone: psi for n = 0, else
    (-1)^(n+1) n! zeta(n + 1, x)."""
    if foreign_of(n, x) is None:
        out = sc.polygamma(n, x)
        if type(out) is np.ndarray and not out.ndim and type(x) is not np.ndarray:
            return out[()]  # a number for a number, as from the ufuncs (no 0-d array)
        return out
    fac = (-1.0) ** (n + 1) * sc.gamma(n + 1.0) * sc.zeta(n + 1, x)
    return np.where(n == 0, sc.psi(x), fac)


polygamma = Primitive(_in_precision(_polygamma), "polygamma", broadcasts=True, elementwise=True)
polygamma.defvjp(
    _no_derivative("polygamma", "n", "n is an integer order"),
    lambda g, ans, n, x: g * polygamma(n + 1, x),
)
polygamma.defjvp(
    _no_derivative("polygamma", "n", "n is an integer order"),
    lambda t, ans, n, x: _define.zero_safe_multiply(t, polygamma(n + 1, x)),
)


beta = binary(
    _in_precision(sc.beta),
    lambda ans, a, b: ans * (digamma(a) - digamma(a + b)),
    lambda ans, a, b: ans * (digamma(b) - digamma(a + b)),
    "beta",
    singular=True,
)
betaln = binary(
    _in_precision(sc.betaln),
    lambda ans, a, b: digamma(a) - digamma(a + b),
    lambda ans, a, b: digamma(b) - digamma(a + b),
    "betaln",
    singular=True,
)


def multigammaln(a, d: int):
    """The log of the multivariate gamma function of dimension `d`, differentiable in `a`.

    Built from gammaln: ``d(d-1)/4 log(pi) + sum_j gammaln(a - j/2)``, j = 0..d-1.

    >>> round(float(multigammaln(3.0, 2)), 6)
    1.550195
    """
    d = int(d)
    if any_value(a <= 0.5 * (d - 1), undecided=False):
        raise ValueError(
            f"multigammaln: every entry of a must exceed (d - 1) / 2 = {0.5 * (d - 1)}"
        )
    dtype = np.result_type(peek(a), np.float16)
    shifts = 0.5 * np.arange(d, dtype=dtype, like=foreign_of(a))
    terms = gammaln(wnp.expand_dims(a, -1) - shifts)
    return 0.25 * d * (d - 1) * _LOG_PI + wnp.sum(terms, axis=-1)


# --- incomplete gamma and beta, Student's t (differentiable in x only) -------------------


def _gammainc_dx(a, x):
    """d/dx of the regularized lower incomplete gamma: x^(a-1) e^(-x) / Gamma(a)."""
    return wnp.exp(xlogy(a - 1.0, x) - x - _weak(gammaln(a)))


_NO_A = "its derivative in the shape parameter has no closed form here"

gammainc = Primitive(_in_precision(sc.gammainc), "gammainc", broadcasts=True, elementwise=True)
gammainc.defvjp(_no_derivative("gammainc", "a", _NO_A), lambda g, ans, a, x: g * _gammainc_dx(a, x))
gammainc.defjvp(
    _no_derivative("gammainc", "a", _NO_A),
    lambda t, ans, a, x: _define.zero_safe_multiply(t, _gammainc_dx(a, x)),
)
gammaincc = Primitive(_in_precision(sc.gammaincc), "gammaincc", broadcasts=True, elementwise=True)
gammaincc.defvjp(
    _no_derivative("gammaincc", "a", _NO_A), lambda g, ans, a, x: -g * _gammainc_dx(a, x)
)
gammaincc.defjvp(
    _no_derivative("gammaincc", "a", _NO_A),
    lambda t, ans, a, x: _define.zero_safe_multiply(-t, _gammainc_dx(a, x)),
)


def _betainc_dx(a, b, x):
    """d/dx of the regularized incomplete beta: x^(a-1) (1-x)^(b-1) / B(a, b)."""
    return wnp.exp(xlogy(a - 1.0, x) + xlog1py(b - 1.0, -x) - _weak(betaln(a, b)))


betainc = Primitive(_in_precision(sc.betainc), "betainc", broadcasts=True, elementwise=True)
betainc.defvjp(
    _no_derivative("betainc", "a", _NO_A),
    _no_derivative("betainc", "b", _NO_A),
    lambda g, ans, a, b, x: g * _betainc_dx(a, b, x),
)
betainc.defjvp(
    _no_derivative("betainc", "a", _NO_A),
    _no_derivative("betainc", "b", _NO_A),
    lambda t, ans, a, b, x: _define.zero_safe_multiply(t, _betainc_dx(a, b, x)),
)


def _stdtr_dt(df, t):
    """The density of Student's t with `df` degrees of freedom at `t`."""
    log_norm = gammaln(0.5 * (df + 1.0)) - gammaln(0.5 * df) - 0.5 * wnp.log(df * np.pi)
    return wnp.exp(_weak(log_norm) - 0.5 * (df + 1.0) * wnp.log1p(t * t / df))


stdtr = Primitive(_in_precision(sc.stdtr), "stdtr", broadcasts=True, elementwise=True)
stdtr.defvjp(_no_derivative("stdtr", "df", _NO_A), lambda g, ans, df, t: g * _stdtr_dt(df, t))
stdtr.defjvp(
    _no_derivative("stdtr", "df", _NO_A),
    lambda tan, ans, df, t: _define.zero_safe_multiply(tan, _stdtr_dt(df, t)),
)

# --- error function and the normal distribution --------------------------------------

erf = elementwise(_in_precision(sc.erf), lambda ans, x: (2.0 / _SQRT_PI) * wnp.exp(-x * x), "erf")
erfc = elementwise(
    _in_precision(sc.erfc), lambda ans, x: (-2.0 / _SQRT_PI) * wnp.exp(-x * x), "erfc"
)
erfinv = elementwise(
    _in_precision(sc.erfinv),
    lambda ans, x: (0.5 * _SQRT_PI) * wnp.exp(ans * ans),
    "erfinv",
    singular=True,
)
erfcinv = elementwise(
    _in_precision(sc.erfcinv),
    lambda ans, x: (-0.5 * _SQRT_PI) * wnp.exp(ans * ans),
    "erfcinv",
    singular=True,
)
ndtr = elementwise(_in_precision(sc.ndtr), lambda ans, x: wnp.exp(-0.5 * x * x) / _SQRT_2PI, "ndtr")
ndtri = elementwise(
    _in_precision(sc.ndtri),
    lambda ans, x: _SQRT_2PI * wnp.exp(0.5 * ans * ans),
    "ndtri",
    singular=True,
)
# phi(x) / Phi(x) as one exponential, finite far into both tails.
log_ndtr = elementwise(
    _in_precision(sc.log_ndtr),
    lambda ans, x: wnp.exp(-0.5 * x * x - _LOG_SQRT_2PI - ans),
    "log_ndtr",
)

# --- logistic functions ------------------------------------------------------------------

expit = elementwise(_in_precision(sc.expit), lambda ans, x: ans * (1.0 - ans), "expit")
logit = elementwise(
    _in_precision(sc.logit), lambda ans, x: 1.0 / (x * (1.0 - x)), "logit", singular=True
)
log_expit = elementwise(_in_precision(sc.log_expit), lambda ans, x: expit(-x), "log_expit")

# --- x log y and entropies ---------------------------------------------------------------


def _over(x, y, y_bad):
    """x / y, with 0 (not 0/0) where x == 0 and y == y_bad; the y-limit at x == 0 is 0."""
    # Tested apart: under vmap either may be a batch and the other not.
    if not (any_value(x == 0, undecided=True) and any_value(y == y_bad, undecided=True)):
        return x / y
    both = wnp.logical_and(x == 0, y == y_bad)
    return x / wnp.where(both, 1.0, y)


# xlogy(0, y) = 0 for every y, so its y-derivative there is 0, even at y = 0.
xlogy = binary(
    _in_precision(sc.xlogy),
    lambda ans, x, y: wnp.log(y),
    lambda ans, x, y: _over(x, y, 0.0),
    "xlogy",
    singular=True,
)
xlog1py = binary(
    _in_precision(sc.xlog1py),
    lambda ans, x, y: wnp.log1p(y),
    lambda ans, x, y: _over(x, 1.0 + y, 0.0),
    "xlog1py",
    singular=True,
)
entr = elementwise(
    _in_precision(sc.entr), lambda ans, x: -(wnp.log(x) + 1.0), "entr", singular=True
)
rel_entr = binary(
    _in_precision(sc.rel_entr),
    lambda ans, x, y: wnp.log(x) - wnp.log(y) + 1.0,
    lambda ans, x, y: -_over(x, y, 0.0),
    "rel_entr",
    singular=True,
)

# --- Bessel functions --------------------------------------------------------------------


def _i1_over_x(x):
    """I1(x) / x, with its Taylor series at x == 0 (so derivatives there are right)."""
    return _where0(x, lambda z: 0.5 + z * z / 16.0 + z**4 / 384.0, lambda z: i1(z) / z)


def _j1_over_x(x):
    """J1(x) / x, with its Taylor series at x == 0."""
    return _where0(x, lambda z: 0.5 - z * z / 16.0 + z**4 / 384.0, lambda z: j1(z) / z)


i0 = elementwise(_in_precision(sc.i0), lambda ans, x: i1(x), "i0")
i1 = elementwise(_in_precision(sc.i1), lambda ans, x: i0(x) - _i1_over_x(x), "i1")
# The exponentially scaled forms have a kink at 0 from exp(-|x|); sign(0) = 0 there.
i0e = elementwise(_in_precision(sc.i0e), lambda ans, x: i1e(x) - wnp.sign(x) * ans, "i0e")
i1e = elementwise(
    _in_precision(sc.i1e),
    lambda ans, x: i0e(x) - wnp.exp(-wnp.abs(x)) * _i1_over_x(x) - wnp.sign(x) * ans,
    "i1e",
)
j0 = elementwise(_in_precision(sc.j0), lambda ans, x: -j1(x), "j0")
j1 = elementwise(_in_precision(sc.j1), lambda ans, x: j0(x) - _j1_over_x(x), "j1")
y0 = elementwise(_in_precision(sc.y0), lambda ans, x: -y1(x), "y0", singular=True)
y1 = elementwise(_in_precision(sc.y1), lambda ans, x: y0(x) - ans / x, "y1", singular=True)


def _bessel(fun, name: str, deriv: Callable) -> Primitive:
    """A Bessel function of real order v, differentiable in x by ``deriv(v, x)``."""
    prim = Primitive(fun, name, broadcasts=True, elementwise=True)
    refuse = _no_derivative(name, "v", "the order is not a differentiation variable here")
    prim.defvjp(refuse, lambda g, ans, v, x: g * deriv(v, x))
    prim.defjvp(refuse, lambda t, ans, v, x: _define.zero_safe_multiply(t, deriv(v, x)))
    return prim


jv = _bessel(_in_precision(sc.jv), "jv", lambda v, x: 0.5 * (jv(v - 1.0, x) - jv(v + 1.0, x)))
yv = _bessel(_in_precision(sc.yv), "yv", lambda v, x: 0.5 * (yv(v - 1.0, x) - yv(v + 1.0, x)))
iv = _bessel(_in_precision(sc.iv), "iv", lambda v, x: 0.5 * (iv(v - 1.0, x) + iv(v + 1.0, x)))
kv = _bessel(_in_precision(sc.kv), "kv", lambda v, x: -0.5 * (kv(v - 1.0, x) + kv(v + 1.0, x)))

# --- sinc --------------------------------------------------------------------------------


def _sinc_deriv(ans, x):
    """(cos(pi x) - sinc(x)) / x, by its Taylor series for |x| < 1e-3 (no cancellation)."""
    p2 = np.pi**2

    def series(z):
        z2 = z * z
        return z * (-p2 / 3.0 + z2 * (p2 * p2 / 30.0 - z2 * (p2**3 / 840.0)))

    if not any_value(wnp.absolute(x) < 1e-3, undecided=True):  # (any member of a batch)
        return (wnp.cos(np.pi * x) - ans) / x
    small = _small(x)
    safe = wnp.where(small, 1.0, x)
    return wnp.where(small, series(x), (wnp.cos(np.pi * safe) - sinc(safe)) / safe)


# Where the series is used: a constant mask, from each member's own values under vmap.
_small = nondiff(lambda x: np.abs(x) < 1e-3, "sinc_series_mask", elementwise=True)
sinc = elementwise(_in_precision(sc.sinc), _sinc_deriv, "sinc")

# --- reductions over an axis: logsumexp, softmax, log_softmax ------------------------------


def _signed_logsumexp(a, b, axis, keepdims):
    """SciPy's ``logsumexp(..., return_sign=True)``; for arrays of another library
    (CuPy), which SciPy reads as NumPy's, the same sum in NumPy's protocols: the largest
    real part (where finite) taken out, log|sum| back with it, and the sum's sign."""
    if foreign_of(a, b) is None:
        return sc.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=True)
    a = asarray(a, like=b)
    top = np.max(np.real(a), axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0)
    terms = np.exp(a - top)
    total = np.sum(terms if b is None else b * terms, axis=axis, keepdims=True)
    size = np.abs(total)
    with np.errstate(divide="ignore"):
        out = np.log(size) + top
    sign = total / np.where(size > 0, size, 1) if np.iscomplexobj(total) else np.sign(total)
    if not keepdims:
        out = np.squeeze(out, axis=axis)
        sign = np.squeeze(sign, axis=axis)
    return out, sign


def _logsumexp_impl(a, b, axis=None, keepdims=False):
    out, sign = _signed_logsumexp(a, b, axis, keepdims)
    if np.iscomplexobj(sign):
        # Complex terms: the complex logarithm of the sum, log|sum| + i arg(sum), as SciPy
        # returns it; the rules below are then its holomorphic derivative.
        out = out + np.log(sign)
    return out


def _lse_weights(ans, a, b, axis, keepdims):
    """exp(a - ans) (times b and the sign of the sum): d ans / d a is b times it."""
    w = wnp.exp(a - expand_reduced(ans, a, axis, keepdims))
    if b is None:
        return w, None
    sign = _sign_of_sum(b, w, axis)
    w = w * sign
    return w * b, w


def _sign_of_sum_impl(b, w, axis):
    return np.sign(np.sum(b * w, axis=axis, keepdims=True))


# The sign of the weighted sum: a constant, from each member's own values under vmap.
_sign_of_sum = nondiff(_sign_of_sum_impl, "logsumexp_sign")


def _logsumexp_vjp(g, ans, argnums, a, b, axis=None, keepdims=False):
    wa, wb = _lse_weights(ans, a, b, axis, keepdims)
    g = expand_reduced(g, a, axis, keepdims)
    return [g * wa if i == 0 else g * wb for i in argnums]


def _logsumexp_jvp(tangents, ans, a, b, axis=None, keepdims=False):
    wa, wb = _lse_weights(ans, a, b, axis, keepdims)
    out = None
    for t, w in zip(tangents, (wa, wb)):
        if t is not None:
            term = wnp.sum(t * w, axis=axis, keepdims=keepdims)
            out = term if out is None else out + term
    return out


_logsumexp = Primitive(_logsumexp_impl, "weighted_logsumexp")


def _with_axis_batch(fun):
    """The batching rule of ``fun(a, b, axis=None, ...)``, a reduction of `a` and `b` (None
    or of a's shape) over `axis`: both batched, the axes one further along."""

    def rule(batched, a, b, axis=None, **kwargs):
        if b is not None:
            a, b = spread((a, b), batched, shape_of(a if batched[0] else b)[0])
        return fun(a, b, axis=batch_axes(axis, len(shape_of(a)) - 1), **kwargs)

    return rule


_logsumexp.defbatch(_with_axis_batch(_logsumexp))
_sign_of_sum.defbatch(_with_axis_batch(_sign_of_sum))
_logsumexp.defvjp_all(_logsumexp_vjp)
_logsumexp.defjvp_all(_logsumexp_jvp)


def logsumexp(a, axis=None, b=None, keepdims: bool = False, return_sign: bool = False):
    """``log(sum(b * exp(a)))`` over `axis`, computed stably; differentiable in a and b.

    With weights `b` whose sum is negative, the result is NaN unless ``return_sign``,
    which returns ``(log|sum|, sign)`` as SciPy does (the sign carries no derivative).

    >>> import wengert as wg
    >>> import numpy as np
    >>> wg.grad(logsumexp)(np.zeros(4))
    array([0.25, 0.25, 0.25, 0.25])
    """
    if not isinstance(a, Box) and not isinstance(b, Box) and foreign_of(a, b) is None:
        return sc.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=return_sign)
    if b is not None and shape_of(a) != shape_of(b):
        shape = np.broadcast_shapes(shape_of(a), shape_of(b))
        a, b = wnp.broadcast_to(a, shape), wnp.broadcast_to(b, shape)
    out = (
        _shared.logsumexp(a, axis=axis, keepdims=keepdims)
        if b is None
        else _logsumexp(a, b, axis=axis, keepdims=keepdims)
    )
    complex_sum = np.iscomplexobj(peek(out))
    if b is None and not complex_sum:
        if return_sign:
            return out, full_shaped(out, 1, shape_of(out))
        return out
    sign = _lse_sign(a, b, axis=axis, keepdims=keepdims)
    if return_sign:
        return (wnp.real(out) if complex_sum else out), sign
    if complex_sum or not any_value(sign < 0, undecided=True):  # (any member of a batch)
        return out
    return wnp.where(sign < 0, np.nan, out)


def _lse_sign_impl(a, b, axis=None, keepdims=False):
    return _signed_logsumexp(a, b, axis, keepdims)[1]


# The sign of the sum: no derivative, and each member's own under vmap.
_lse_sign = nondiff(_lse_sign_impl, "logsumexp_sign_of_sum")
_lse_sign.defbatch(_with_axis_batch(_lse_sign))


# softmax and log_softmax: the primitives wengert.nn.functional uses too (SciPy's default
# axis, None, is theirs as well).
softmax = _shared.softmax
log_softmax = _shared.log_softmax


# --- composites of the above ---------------------------------------------------------------

gammasgn = nondiff(sc.gammasgn, "gammasgn")


def rgamma(x):
    """1 / gamma(x): an entire function, zero at 0, -1, -2, ... with finite derivatives.

    For x < 1/2 it uses the reflection 1/gamma(x) = gamma(1 - x) sin(pi x) / pi, which is
    smooth through the poles of gamma (derivative (-1)^n n! at x = -n); each branch sees
    only arguments where it is finite, so no NaN reaches the derivative.

    >>> round(float(rgamma(3.0)), 6)
    0.5
    >>> import wengert as wg
    >>> round(float(wg.grad(rgamma)(-2.0)), 12)  # (-1)^2 2!
    2.0
    """
    left = x < 0.5
    x_left = wnp.where(left, x, 0.0)
    x_right = wnp.where(left, 1.0, x)
    reflected = gamma(1.0 - x_left) * wnp.sin(np.pi * x_left) / np.pi
    return wnp.where(left, reflected, 1.0 / gamma(x_right))


def jn(n, x):
    """Bessel function of the first kind of integer order n (differentiable in x)."""
    return jv(n, x)


def yn(n, x):
    """Bessel function of the second kind of integer order n (differentiable in x)."""
    return yv(n, x)


def ive(v, x):
    """Exponentially scaled modified Bessel function iv(v, x) exp(-|x|), for real x."""
    return iv(v, x) * wnp.exp(-wnp.abs(x))


__all__ = [
    "beta",
    "betainc",
    "betaln",
    "digamma",
    "entr",
    "erf",
    "erfc",
    "erfcinv",
    "erfinv",
    "expit",
    "gamma",
    "gammainc",
    "gammaincc",
    "gammaln",
    "gammasgn",
    "i0",
    "i0e",
    "i1",
    "i1e",
    "iv",
    "ive",
    "j0",
    "j1",
    "jn",
    "jv",
    "kv",
    "log_expit",
    "log_ndtr",
    "log_softmax",
    "logit",
    "logsumexp",
    "multigammaln",
    "ndtr",
    "ndtri",
    "polygamma",
    "psi",
    "rel_entr",
    "rgamma",
    "sinc",
    "softmax",
    "stdtr",
    "xlog1py",
    "xlogy",
    "y0",
    "y1",
    "yn",
    "yv",
]

# Generated source (Program.source) computes these primitives with their implementations,
# copied (they use NumPy and SciPy alone): SciPy's function through _call_in_precision.
for _prim in (
    gamma, gammaln, digamma, polygamma, beta, betaln, gammainc, gammaincc, betainc, stdtr,
    erf, erfc, erfinv, erfcinv, ndtr, ndtri, log_ndtr, expit, logit, log_expit, xlogy,
    xlog1py, entr, rel_entr, i0, i1, i0e, i1e, j0, j1, y0, y1, jv, yv, iv, kv, sinc,
):  # fmt: skip
    _prim.defsource(functools.partial(_call_in_precision, _prim.fun.__wrapped__))
# (polygamma's implementation also takes CuPy's arrays; the source computes SciPy's.)
polygamma.defsource(functools.partial(_call_in_precision, sc.polygamma))


def _sinc_series_mask_impl(x):
    return np.abs(x) < 1e-3


_small.defsource(_sinc_series_mask_impl)
_sign_of_sum.defsource(_sign_of_sum_impl)
_logsumexp.defsource(_logsumexp_impl)
_lse_sign.defsource(_lse_sign_impl)
gammasgn.defsource(sc.gammasgn)
