"""Derivatives at poles, branch points and domain edges of every elementwise function of
wengert.numpy and wengert.scipy.special: a Python float, a NumPy float64, a 0-d array
and an array give the same first and second derivatives in both modes, the values that
NumPy arithmetic gives (inf or nan, with NumPy's warnings), and never a Python
ZeroDivisionError."""

from __future__ import annotations

import warnings

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert._core.define import zero_safe_multiply
from wengert._core.primitive import Primitive
from wengert.numpy import elementwise

special = pytest.importorskip("wengert.scipy.special")

INF, NAN = onp.inf, onp.nan

# (primitive covered, function of one float, points)
ROWS = [
    ("exp", wnp.exp, [710.0, -INF, INF]),
    ("exp2", wnp.exp2, [1025.0]),
    ("expm1", wnp.expm1, [710.0]),
    ("log", wnp.log, [0.0, -1.0, INF]),
    ("log2", wnp.log2, [0.0, -1.0]),
    ("log10", wnp.log10, [0.0, -1.0]),
    ("log1p", wnp.log1p, [-1.0, -2.0]),
    ("sqrt", wnp.sqrt, [0.0, -1.0, INF]),
    ("cbrt", wnp.cbrt, [0.0]),
    ("square", wnp.square, [0.0, 1e200]),
    ("reciprocal", wnp.reciprocal, [0.0]),
    ("sin", wnp.sin, [INF]),
    ("cos", wnp.cos, [INF]),
    ("tan", wnp.tan, [onp.pi / 2, INF]),
    ("arcsin", wnp.arcsin, [1.0, -1.0, 2.0]),
    ("arccos", wnp.arccos, [1.0, -1.0, 2.0]),
    ("arctan", wnp.arctan, [INF, 1e200]),
    ("sinh", wnp.sinh, [711.0]),
    ("cosh", wnp.cosh, [711.0]),
    ("tanh", wnp.tanh, [INF]),
    ("arcsinh", wnp.arcsinh, [1e200, -INF]),
    ("arccosh", wnp.arccosh, [1.0, 0.5]),
    ("arctanh", wnp.arctanh, [1.0, -1.0, 2.0]),
    ("deg2rad", wnp.deg2rad, [INF]),
    ("rad2deg", wnp.rad2deg, [INF]),
    ("negative", wnp.negative, [INF]),
    ("positive", wnp.positive, [INF]),
    ("absolute", wnp.absolute, [0.0, -0.0]),
    ("fabs", wnp.fabs, [0.0]),
    ("real", wnp.real, [NAN]),
    ("imag", wnp.imag, [INF]),
    ("conjugate", wnp.conj, [INF]),
    ("add", lambda x: wnp.add(x, -INF), [INF]),
    ("subtract", lambda x: x - x, [INF]),
    ("multiply", lambda x: x * INF, [0.0]),
    ("zero_safe_multiply", lambda x: zero_safe_multiply(x, INF), [0.0, 1.0]),
    ("zero_safe_multiply", lambda x: zero_safe_multiply(0.0, x), [INF]),
    ("true_divide", lambda x: 1.0 / x, [0.0, -0.0]),
    ("true_divide", lambda x: x / 0.0, [0.0, 1.0]),
    ("true_divide", lambda x: x / x, [0.0]),
    ("power", lambda x: x**2, [0.0]),
    ("power", lambda x: x**0.5, [0.0, -1.0]),
    ("power", lambda x: x**1.5, [0.0]),
    ("power", lambda x: x**-1, [0.0]),
    ("power", lambda x: x**0, [0.0]),
    ("power", lambda x: 0.0**x, [0.0, 2.0, -1.0]),
    ("power", lambda x: (-2.0) ** x, [0.5]),
    ("power", lambda x: x**x, [0.0]),
    ("float_power", lambda x: wnp.float_power(x, 0.5), [0.0]),
    ("float_power", lambda x: wnp.float_power(0.0, x), [0.0, 2.0]),
    ("arctan2", lambda x: wnp.arctan2(x, 0.0), [0.0]),
    ("arctan2", lambda x: wnp.arctan2(0.0, x), [0.0, -0.0]),
    ("arctan2", lambda x: wnp.arctan2(x, x), [0.0, 1e200, 1e-200]),
    ("hypot", lambda x: wnp.hypot(x, 0.0), [0.0]),
    ("hypot", lambda x: wnp.hypot(x, x), [0.0, 1e300, 1e-300]),
    ("logaddexp", lambda x: wnp.logaddexp(x, -INF), [-INF]),
    ("logaddexp2", lambda x: wnp.logaddexp2(x, x), [-INF]),
    ("remainder", lambda x: wnp.mod(1.0, x), [0.0]),
    ("remainder", lambda x: wnp.mod(x, 0.0), [1.0]),
    ("fmod", lambda x: wnp.fmod(x, 0.0), [1.0]),
    ("fmod", lambda x: wnp.fmod(1.0, x), [0.0]),
    ("maximum", lambda x: wnp.maximum(x, 0.0), [0.0, NAN]),
    ("minimum", lambda x: wnp.minimum(x, 0.0), [0.0, NAN]),
    ("fmax", lambda x: wnp.fmax(x, NAN), [0.0, NAN]),
    ("fmin", lambda x: wnp.fmin(x, NAN), [0.0]),
    ("where", lambda x: wnp.where(x > 0, x, 1.0 / x), [0.0]),
    ("broadcast_to", lambda x: wnp.broadcast_to(x, (2, *onp.shape(x)))[0] / x, [0.0]),
    (None, lambda x: wnp.copysign(x, -1.0), [0.0]),
    (None, lambda x: wnp.clip(x, 0.0, 1.0), [0.0, 1.0]),
    (None, wnp.angle, [0.0]),
    (None, wnp.nan_to_num, [NAN, INF]),
    (None, wnp.sign, [0.0]),
    (None, lambda x: wnp.floor_divide(x, 0.0), [1.0]),
    # wengert.scipy.special
    ("gamma", special.gamma, [0.0, -1.0, 172.0]),
    ("gammaln", special.gammaln, [0.0, -1.0]),
    ("digamma", special.digamma, [0.0, -1.0]),
    ("polygamma", lambda x: special.polygamma(1, x), [0.0, -1.0]),
    ("beta", lambda x: special.beta(x, 1.0), [0.0, -1.0]),
    ("betaln", lambda x: special.betaln(x, 1.0), [0.0]),
    ("erf", special.erf, [INF]),
    ("erfc", special.erfc, [INF]),
    ("erfinv", special.erfinv, [1.0, -1.0]),
    ("erfcinv", special.erfcinv, [0.0, 2.0]),
    ("ndtr", special.ndtr, [INF]),
    ("ndtri", special.ndtri, [0.0, 1.0]),
    ("log_ndtr", special.log_ndtr, [-INF, -40.0]),
    ("expit", special.expit, [INF]),
    ("logit", special.logit, [0.0, 1.0]),
    ("log_expit", special.log_expit, [-INF]),
    ("xlogy", lambda y: special.xlogy(1.0, y), [0.0]),
    ("xlogy", lambda y: special.xlogy(0.0, y), [0.0]),
    ("xlogy", lambda x: special.xlogy(x, 0.0), [0.0, 1.0]),
    ("xlogy", lambda x: special.xlogy(x, x), [0.0]),
    ("xlog1py", lambda y: special.xlog1py(1.0, y), [-1.0]),
    ("xlog1py", lambda x: special.xlog1py(x, -1.0), [0.0, 1.0]),
    ("entr", special.entr, [0.0, -1.0]),
    ("rel_entr", lambda x: special.rel_entr(x, 1.0), [0.0]),
    ("rel_entr", lambda y: special.rel_entr(1.0, y), [0.0]),
    ("rel_entr", lambda y: special.rel_entr(0.0, y), [0.0]),
    ("i0", special.i0, [0.0]),
    ("i1", special.i1, [0.0]),
    ("i0e", special.i0e, [0.0]),
    ("i1e", special.i1e, [0.0]),
    ("j0", special.j0, [0.0]),
    ("j1", special.j1, [0.0]),
    ("y0", special.y0, [0.0]),
    ("y1", special.y1, [0.0]),
    ("sinc", special.sinc, [0.0]),
    ("jv", lambda x: special.jv(1.5, x), [0.0]),
    ("yv", lambda x: special.yv(1.0, x), [0.0]),
    ("iv", lambda x: special.iv(0.5, x), [0.0]),
    ("kv", lambda x: special.kv(0.0, x), [0.0]),
    ("gammainc", lambda x: special.gammainc(2.0, x), [0.0]),
    ("gammaincc", lambda x: special.gammaincc(0.5, x), [0.0]),
    ("betainc", lambda x: special.betainc(2.0, 0.5, x), [0.0, 1.0]),
    ("stdtr", lambda x: special.stdtr(1.0, x), [INF]),
    ("logsumexp", lambda x: special.logsumexp(wnp.stack([x, x])), [-INF]),
    (
        "weighted_logsumexp",
        lambda x: special.logsumexp(wnp.stack([x, x]), b=onp.array([1.0, 2.0])),
        [-INF],
    ),
    ("softmax", lambda x: special.softmax(wnp.stack([x, 0.0 * x]))[0], [INF]),
    ("log_softmax", lambda x: special.log_softmax(wnp.stack([x, 0.0 * x]))[0], [-INF]),
    (None, special.rgamma, [0.0, -1.0]),
    (None, lambda x: special.ive(0.5, x), [0.0]),
]

KINDS = {
    "float": float,
    "float64": onp.float64,
    "0-d": onp.array,
    "array": lambda v: onp.full(2, v),
}


def _derivatives(f, x) -> dict:
    """First and second derivatives at `x`, reverse and forward, as complex scalars."""
    eg = wg.elementwise_grad
    one = onp.ones_like(x) if not isinstance(x, float) else 1.0
    out = {
        "rev": eg(f)(x),
        "fwd": wg.jvp(f, (x,), (one,))[1],
        "rev-rev": eg(eg(f))(x),
        "fwd-rev": wg.jvp(eg(f), (x,), (one,))[1],
        "fwd-fwd": wg.jvp(lambda z: wg.jvp(f, (z,), (one,))[1], (x,), (one,))[1],
    }
    return {k: complex(onp.ravel(v)[0]) for k, v in out.items()}


def _same(a: complex, b: complex) -> bool:
    return all(
        u == v or (onp.isnan(u) and onp.isnan(v)) for u, v in ((a.real, b.real), (a.imag, b.imag))
    )


PARAMS = [
    pytest.param(f, p, id=f"{name or getattr(f, '__name__', 'f')}-{i}-{p}")
    for i, (name, f, points) in enumerate(ROWS)
    for p in points
]


@pytest.mark.parametrize("f, point", PARAMS)
def test_python_float_numpy_scalar_0d_and_array_agree(f, point):
    results, warned = {}, {}
    for kind, make in KINDS.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results[kind] = _derivatives(f, make(point))
        warned[kind] = any(issubclass(w.category, RuntimeWarning) for w in caught)
    reference = results["array"]  # NumPy arithmetic, elementwise
    for kind, result in results.items():
        for order, value in result.items():
            assert _same(value, reference[order]), (kind, order, value, reference[order])
    # Where NumPy arithmetic warns (division by zero, overflow, invalid), every kind does.
    assert len(set(warned.values())) == 1, warned


def test_reported_points_give_numpy_values_not_zero_division():
    with onp.errstate(divide="ignore", invalid="ignore"):
        assert wg.grad(wnp.log1p)(-1.0) == INF
        assert wg.grad(wnp.log)(0.0) == INF
        assert wg.grad(wnp.arctanh)(1.0) == INF
        assert onp.isnan(wg.grad(lambda x: wnp.arctan2(x, 0.0))(0.0))
        assert wg.grad(lambda y: special.xlogy(1.0, y))(0.0) == INF
        assert wg.grad(special.logit)(1.0) == INF
        assert wg.jvp(special.logit, (1.0,), (1.0,))[1] == INF
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        wg.grad(wnp.log)(0.0)


def test_ordinary_points_keep_their_result_types():
    assert type(wg.vjp(lambda x, y: x * y, 2.0, 3.0)[1](1.0)[0]) is float
    assert type(wg.grad(lambda x: x)(1.0)) is float
    assert type(wg.grad(wnp.sin)(1.0)) is onp.float64
    assert type(wg.grad(wnp.log)(2.0)) is onp.float64


def test_every_elementwise_primitive_has_a_row():
    covered = {name for name, _, _ in ROWS}
    primitives = {
        v.name
        for module in (elementwise, special)
        for v in vars(module).values()
        if (isinstance(v, Primitive) and not getattr(v, "nondifferentiable", False))
    }
    assert not primitives - covered


FINITE_VALUE_POINTS = [
    pytest.param(fun, point, id=f"{name}-{point}")
    for name, fun, points in ROWS
    for point in points
    if name != "zero_safe_multiply"
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("fun, point", FINITE_VALUE_POINTS)
def test_a_zero_tangent_stays_zero_where_the_derivative_is_not_finite(fun, point):
    """A direction that does not move x does not move f(x): 0 * inf is 0 in forward mode,
    so a Jacobian column of an argument that bypasses f is exact."""
    with onp.errstate(all="ignore"):
        value = fun(onp.float64(point))
    if not onp.isfinite(value):
        return  # the value itself is undefined here: nothing to keep
    assert wg.jvp(fun, (onp.float64(point),), (0.0,))[1] == 0.0
    column = wg.jacfwd(lambda v: fun(v[0]) + v[1])(onp.array([point, 1.0]))[1]
    assert column == 1.0
