"""wengert.numpy.signal and the elementwise additions (sinc, nan_to_num, angle,
real_if_close, copysign): values against NumPy, derivatives through the checker in both
modes to order 2, and the conventions at knots, zeros and non-finite entries."""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert.numpy import signal

R = onp.random.default_rng(5)


def real(*shape):
    def make():
        x = R.standard_normal(shape)
        return float(x) if shape == () else x

    return make


def const(value):
    return lambda: onp.array(value, dtype=float)


def complex_(*shape):
    return lambda: R.standard_normal(shape) + 1j * R.standard_normal(shape)


XP = onp.array([-1.0, 0.0, 0.5, 2.0, 2.5])
# Query points inside, below and above the knots, none on a knot.
QUERY = const([-2.0, -0.7, 0.2, 0.45, 1.3, 2.2, 3.0])

CASES: list[tuple[str, object, tuple]] = []


def case(name, fun, *gens):
    CASES.append((name, fun, gens))


# --- convolution and correlation -----------------------------------------------------------
for n, m in ((5, 3), (3, 5), (4, 4), (1, 3), (6, 2)):
    for mode in ("full", "same", "valid"):
        case("convolve", lambda a, v, md=mode: wnp.convolve(a, v, md), real(n), real(m))
        case("correlate", lambda a, v, md=mode: wnp.correlate(a, v, md), real(n), real(m))
case("convolve", wnp.convolve, complex_(4), real(3))
case("convolve", lambda a, v: wnp.convolve(a, v, "same"), real(4), complex_(2))
case("correlate", lambda a, v: wnp.correlate(a, v, "full"), complex_(3), complex_(4))
case("convolve", lambda a: wnp.convolve(a, a), real(4))
case("polymul", wnp.polymul, real(3), real(2))

# --- interpolation --------------------------------------------------------------------------
case("interp", lambda x, fp: wnp.interp(x, XP, fp), QUERY, real(5))
case("interp", lambda x, xp: wnp.interp(x, xp, onp.arange(5.0) ** 2), QUERY, const(XP))
case(
    "interp",
    lambda x, lo, hi: wnp.interp(x, XP, onp.ones(5), left=lo, right=hi),
    QUERY,
    real(),
    real(),
)
case("interp", lambda x, fp: wnp.interp(x, XP, fp), real(), real(5))
case("interp", lambda x, fp: wnp.interp(x, XP, fp), lambda: R.uniform(-1, 2.5, (2, 3)), complex_(5))
case("interp", lambda x, fp: wnp.interp(x, XP[:1], fp), QUERY, real(1))
case(
    "interp", lambda x, fp: wnp.interp(x, XP, fp, period=4.0), const([-3.3, 0.2, 1.3, 5.1]), real(5)
)
# The entries of the knots and values at the knots found for each query point.

# --- sinc, unwrap, trapezoid ------------------------------------------------------------------
case("sinc", wnp.sinc, const([0.0, 1e-8, -1e-3, 0.3, 0.63, 0.64, 1.0, 2.5, -3.7]))
case("sinc", wnp.sinc, real())
case("sinc", lambda x: wnp.sinc(x * x), real(2, 3))
case("unwrap", wnp.unwrap, const([0.0, 3.0, 6.5, -1.0, 2.0]))
case("unwrap", lambda x: wnp.unwrap(x * 5.0, axis=0, period=4.0), real(4, 2))
case("trapezoid", wnp.trapezoid, real(5))
case("trapezoid", lambda y, x: wnp.trapezoid(y, x), real(3, 4), real(4))
case("trapezoid", lambda y, x: wnp.trapezoid(y, x, axis=0), real(3, 4), real(3, 4))
case("trapezoid", lambda y, d: wnp.trapezoid(y, dx=d, axis=0), real(3, 2), real())

for order in (1, 2):
    case("gradient", lambda f, o=order: wnp.gradient(f, edge_order=o), real(5))
    case("gradient", lambda f, o=order: wnp.stack(wnp.gradient(f, 0.5, edge_order=o)), real(3, 4))
    case(
        "gradient",
        lambda f, x, o=order: wnp.gradient(f, x, edge_order=o),
        real(5),
        const([0.0, 0.4, 1.1, 1.5, 2.6]),
    )
    case(
        "gradient",
        lambda f, d, o=order: wnp.gradient(f, d, axis=0, edge_order=o),
        real(4, 2),
        real(),
    )
case(
    "gradient",
    lambda f, x: wnp.gradient(f, 1.0, x, axis=(0, 1))[1],
    real(3, 4),
    const([0.0, 0.4, 1.1, 1.5]),
)
case("gradient", lambda f: wnp.gradient(f), real(2))

# --- polynomials ------------------------------------------------------------------------------
case("polyval", wnp.polyval, real(4), real(2, 3))
case("polyval", wnp.polyval, real(1), real())
case("polyadd", wnp.polyadd, real(3), real(5))
case("polysub", wnp.polysub, real(2), real(2))
case("polyder", lambda p: wnp.polyder(p, 2), real(5))
case("polyint", lambda p, k: wnp.polyint(p, 2, k), real(3), real(2))
case("polyint", wnp.polyint, real(3))
case("vander", lambda x: wnp.vander(x, 4), real(3))
case("vander", lambda x: wnp.vander(x, increasing=True), const([0.0, 1.5, -2.0]))

# --- elementwise additions -----------------------------------------------------------------
case("nan_to_num", wnp.nan_to_num, const([1.0, onp.nan, onp.inf, -onp.inf, 3.0]))
case(
    "nan_to_num",
    lambda x, v: wnp.nan_to_num(x, nan=v, posinf=v * 2),
    const([onp.nan, 1.0, onp.inf]),
    real(),
)
case("nan_to_num", wnp.nan_to_num, real(2, 3))
case("nan_to_num", lambda z: wnp.nan_to_num(z * onp.array([1.0, 1.0])), complex_(2))
case("angle", lambda z: wnp.angle(z), complex_(3))
case("angle", lambda z: wnp.angle(z, deg=True), complex_(2, 2))
case("angle", lambda t: wnp.angle(wnp.exp(1j * t) * 2.0), const([0.3, -2.0, 3.0]))
case("real_if_close", lambda z: wnp.real_if_close(z * 1.0), complex_(3))
case("real_if_close", lambda x: wnp.real_if_close(wnp.exp(1j * x) * wnp.exp(-1j * x) * x), real(3))
case("copysign", lambda x: wnp.copysign(x, onp.array([-1.0, 2.0, -0.0])), real(3))
case("copysign", lambda x: wnp.copysign(x, -1.0), real(2, 2))


@pytest.mark.parametrize(
    "name, fun, gens", CASES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]
)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_rules(name, fun, gens):
    args = [g() for g in gens]
    wg.check_grads(fun, modes=("fwd", "rev"), order=2)(*args)


def test_every_primitive_is_in_the_table(own_primitives):
    primitives = own_primitives(signal)
    assert {"convolve", "sinc"} <= set(primitives)
    missing = sorted(set(primitives) - {name for name, _, _ in CASES})
    assert not missing, f"primitives with no row in the table: {missing}"
    for name, prim in primitives.items():
        assert prim.vjp_rules or prim.vjp_all, f"{name} has no reverse rule"
        assert prim.jvp_rules or prim.jvp_all, f"{name} has no forward rule"


# --- values ---------------------------------------------------------------------------------

V = R.standard_normal(5)
X = R.standard_normal((3, 4))
Q = onp.array([-1.0, 0.0, 0.3, 1.0, 1.7, 2.5, 2.9, 3.0, 4.0, onp.nan])
KNOTS = onp.array([0.0, 1.0, 2.5, 3.0])
VALUES = [
    ("interp", lambda np_, q, f: np_.interp(q, KNOTS, f), (Q, V[:4])),
    ("interp", lambda np_, q, f: np_.interp(q, KNOTS, f, left=-5.0, right=5.0), (Q, V[:4])),
    ("interp", lambda np_, q, f: np_.interp(q, KNOTS[:1], f), (Q, V[:1])),
    ("interp", lambda np_, q, f: np_.interp(q, KNOTS, f, period=2.0), (Q[:-1], V[:4])),
    ("interp", lambda np_, q, f: np_.interp(q, KNOTS, f), (Q, V[:4] + 1j * V[1:])),
    ("interp", lambda np_, q, f: np_.interp(q, KNOTS, f), (1.3, V[:4])),
    ("gradient", lambda np_, f: np_.gradient(f), (X,)),
    ("gradient", lambda np_, f: np_.gradient(f, 0.3, edge_order=2), (X,)),
    ("gradient", lambda np_, f, x: np_.gradient(f, x, axis=1), (X, V[:4].cumsum())),
    ("gradient", lambda np_, f, x: np_.gradient(f, x, [1, 2, 3, 4], edge_order=2), (X, V[:3])),
    ("gradient", lambda np_, f: np_.gradient(f, [0, 1, 3], axis=0, edge_order=2), (X,)),
    ("polyval", lambda np_, p, x: np_.polyval(p, x), (V, X)),
    ("polyadd", lambda np_, a, b: np_.polyadd(a, b), (V, V[:2])),
    ("polysub", lambda np_, a, b: np_.polysub(a, b), (V[:2], V)),
    ("polymul", lambda np_, a, b: np_.polymul(a, b), (V[:2], V)),
    ("polyder", lambda np_, p: np_.polyder(p, 2), (V,)),
    ("polyint", lambda np_, p, k: np_.polyint(p, 3, k), (V, V[:3])),
    ("polyint", lambda np_, p: np_.polyint(p, 2), (V,)),
    ("vander", lambda np_, x: np_.vander(x, 4), (onp.array([0.0, 1.5, -2.0]),)),
    ("vander", lambda np_, x: np_.vander(x, increasing=True), (onp.array([0.0, 1.5, -2.0]),)),
    ("trapezoid", lambda np_, y, x: np_.trapezoid(y, x), (X, V[:4])),
    ("trapezoid", lambda np_, y, x: np_.trapezoid(y, x, axis=0), (X, X**2)),
    ("trapezoid", lambda np_, y: np_.trapezoid(y, dx=0.1), (X,)),
    ("unwrap", lambda np_, p: np_.unwrap(p, axis=0), (X * 5,)),
    ("unwrap", lambda np_, p: np_.unwrap(p, discont=4.0, period=3.0), (X * 5,)),
    ("sinc", lambda np_, x: np_.sinc(x), (onp.array([0.0, 1e-9, 0.3, 0.7, 1.0, 2.3, -3.1]),)),
    ("angle", lambda np_, z: np_.angle(z, deg=True), (onp.array([1 + 1j, -2j, 0j, -1 + 0j]),)),
    ("copysign", lambda np_, x: np_.copysign(x, [-1.0, 1.0, -0.0]), (onp.array([0.5, -1.5, 2.0]),)),
    (
        "nan_to_num",
        lambda np_, x: np_.nan_to_num(x, nan=3.0),
        (onp.array([0.5, onp.inf, -onp.inf, onp.nan]),),
    ),
    (
        "nan_to_num",
        lambda np_, x: np_.nan_to_num(x),
        (onp.array([0.5 + onp.inf * 1j, onp.nan + 1j]),),
    ),
    ("real_if_close", lambda np_, x: np_.real_if_close(x), (onp.array([0.5 + 1e-20j, 1e-17j]),)),
    ("real_if_close", lambda np_, x: np_.real_if_close(x), (onp.array([0.5 + 1e-3j, 1e-17j]),)),
]
for n in (1, 2, 3, 4, 5, 6):
    for m in (1, 2, 3, 4, 5, 6):
        a, v = R.standard_normal(n) + 1j * R.standard_normal(n), R.standard_normal(m)
        for mode in ("full", "same", "valid"):
            VALUES.append(
                ("convolve", lambda np_, a, v, md=mode: np_.convolve(a, v, md), (a.real, v))
            )
            VALUES.append(
                ("correlate", lambda np_, a, v, md=mode: np_.correlate(a, v, md), (a.real, v))
            )
            VALUES.append(
                ("correlate", lambda np_, a, v, md=mode: np_.correlate(v, a, md), (a, v * 1j))
            )


@pytest.mark.parametrize("name, fun, args", VALUES, ids=[v[0] for v in VALUES])
def test_values_match_numpy(name, fun, args):
    expected = fun(onp, *args)
    traced = wg.vjp(lambda *a: fun(wnp, *a), *args)[0]
    for ours in (traced, fun(wnp, *args)):
        assert onp.shape(ours) == onp.shape(expected)
        assert onp.iscomplexobj(ours) == onp.iscomplexobj(expected)
        onp.testing.assert_allclose(ours, expected, rtol=1e-13, atol=1e-13)


def test_plain_numpy_calls_are_routed():
    x = R.standard_normal(4)

    def f(x, np_):
        return np_.sum(np_.convolve(x, x) * np_.sinc(x).sum()) + np_.interp(0.3, [0.0, 1.0], x[:2])

    onp.testing.assert_allclose(wg.grad(lambda x: f(x, onp))(x), wg.grad(lambda x: f(x, wnp))(x))


# --- conventions -------------------------------------------------------------------------------


def test_interp_at_knots_takes_the_mean_slope():
    xp, fp = onp.array([0.0, 1.0, 2.0]), onp.array([0.0, 1.0, 3.0])
    q = onp.array([-1.0, 0.0, 0.5, 1.0, 2.0, 3.0])
    expected = [0.0, 0.5, 1.0, 1.5, 1.0, 0.0]
    onp.testing.assert_array_equal(
        wg.elementwise_grad(lambda q: wnp.interp(q, xp, fp))(q), expected
    )
    onp.testing.assert_array_equal(
        wg.jvp(lambda q: wnp.interp(q, xp, fp), (q,), (onp.ones(6),))[1], expected
    )
    # In the values, the knot's own value has slope 1 and the others 0.
    onp.testing.assert_array_equal(wg.grad(lambda f: wnp.interp(1.0, xp, f))(fp), [0.0, 1.0, 0.0])


def test_sinc_derivatives_at_zero():
    d1 = wg.grad(wnp.sinc)
    d2 = wg.grad(d1)
    d3 = wg.grad(d2)
    d4 = wg.grad(d3)
    assert d1(0.0) == 0.0 and d3(0.0) == 0.0
    onp.testing.assert_allclose(d2(0.0), -(onp.pi**2) / 3, rtol=1e-15)
    onp.testing.assert_allclose(d4(0.0), onp.pi**4 / 5, rtol=1e-14)
    # Near zero, where sin(pi x) / (pi x) cancels, the derivatives stay accurate.
    x = 1e-6
    onp.testing.assert_allclose(d1(x), -(onp.pi**2) * x / 3, rtol=1e-6)
    wg.check_grads(wnp.sinc, order=3)(onp.array([0.0, 1e-7, 0.5, 0.6366, 1.0, 3.3]))


def test_nan_to_num_angle_copysign_edges():
    g = wg.grad(lambda x: wnp.sum(wnp.nan_to_num(x, nan=-1.0)))(onp.array([1.0, onp.nan, onp.inf]))
    onp.testing.assert_array_equal(g, [1.0, 0.0, 0.0])
    assert wg.grad(lambda t: wnp.angle(t * (1 + 1j)))(0.0) == 0.0
    assert wg.grad(lambda t: wnp.angle(t + 0j))(-2.0) == 0.0
    assert wg.grad(lambda t: wnp.copysign(t, -1.0))(0.0) == 0.0
    onp.testing.assert_array_equal(
        wg.elementwise_grad(lambda t: wnp.copysign(t, onp.array([-1.0, 1.0])))(
            onp.array([2.0, -3.0])
        ),
        [-1.0, -1.0],
    )


# --- batches (vmap) ------------------------------------------------------------------------


def _mapped_equals_loop(fun, *batches, in_axes=0):
    """`wg.vmap(fun)` over the batches against stacking `fun` member by member."""
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(batches)
    size = next(len(b) for b, a in zip(batches, axes) if a == 0)
    expected = onp.stack(
        [fun(*[b[i] if a == 0 else b for b, a in zip(batches, axes)]) for i in range(size)]
    )
    got = wg.vmap(fun, in_axes=in_axes)(*batches)
    onp.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


def test_interp_of_a_batch_finds_each_members_knots():
    xp = onp.array([-1.0, 0.0, 0.5, 2.0, 2.5])
    fp = R.standard_normal(5)
    # Only the second member has query points on knots (where the slope is the mean).
    x = onp.array([[-2.0, 0.2, 1.3, 3.0], [0.0, 0.5, 1.0, 2.5], [-0.3, 0.7, 2.2, 2.4]])
    knots = xp + R.uniform(-0.1, 0.1, (3, 5))
    values = R.standard_normal((3, 5))
    for fun, args, axes in (
        (lambda x: wnp.interp(x, xp, fp), (x,), 0),
        (lambda xp: wnp.interp(x[1], xp, fp), (knots,), 0),
        (lambda x, fp: wnp.interp(x, xp, fp), (x, values), 0),
        (lambda x, xp, fp: wnp.interp(x, xp, fp), (x, knots, values), 0),
        (lambda x, xp: wnp.interp(x, xp, fp, period=3.0), (x, knots), 0),
    ):
        _mapped_equals_loop(fun, *args, in_axes=axes)
        grad = wg.grad(lambda *a, f=fun: wnp.sum(wnp.sin(f(*a))), argnums=tuple(range(len(args))))
        _mapped_equals_loop(
            lambda *a, g=grad: wnp.concatenate([wnp.ravel(d) for d in g(*a)]), *args, in_axes=axes
        )


def test_gradient_at_evenly_spaced_traced_coordinates_differentiates_every_coordinate():
    f = R.standard_normal(5)
    weights = R.standard_normal(5)
    x = onp.arange(5.0) * 0.5  # evenly spaced: NumPy's formula for a constant step

    def loss(x):
        return wnp.sum(wnp.gradient(f, x) * weights)

    step = 1e-6
    numeric = [(loss(x + step * e) - loss(x - step * e)) / (2 * step) for e in onp.eye(5)]
    onp.testing.assert_allclose(wg.grad(loss)(x), numeric, rtol=1e-6)
    onp.testing.assert_allclose(wnp.gradient(f, wnp.array(x)), onp.gradient(f, x), rtol=1e-14)


def test_unwrap_and_polyval_of_a_batch():
    p = 5.0 * R.standard_normal((3, 4, 2))
    _mapped_equals_loop(lambda p: wnp.unwrap(p, axis=0), p)
    _mapped_equals_loop(lambda p, d: wnp.unwrap(p, discont=d), p, onp.array([1.0, 4.0, 9.0]))
    _mapped_equals_loop(wg.grad(lambda p: wnp.sum(wnp.unwrap(p) ** 2)), p)
    _mapped_equals_loop(lambda c, x: wnp.polyval(c, x), R.standard_normal((3, 4)), p)


def test_convolve_of_a_batch_is_one_product_or_a_loop(monkeypatch):
    a, v = R.standard_normal((3, 6)), R.standard_normal((3, 4)) + 1j * R.standard_normal((3, 4))
    for mode in ("full", "same", "valid"):
        for axes in ((0, 0), (0, None), (None, 0)):
            args = [b if ax == 0 else b[0] for b, ax in zip((a, v), axes)]
            _mapped_equals_loop(lambda a, v, m=mode: wnp.convolve(a, v, m), *args, in_axes=axes)
            _mapped_equals_loop(lambda a, v, m=mode: wnp.convolve(v, a, m), *args, in_axes=axes)
    grad = wg.grad(lambda a, v: wnp.sum(wnp.real(wnp.convolve(a, v) * v[0])), argnums=(0, 1))
    _mapped_equals_loop(lambda a, v: wnp.concatenate(grad(a, v)), a, v)
    # Past the size limit, member by member.
    monkeypatch.setattr(signal, "_WINDOW_LIMIT", 10)
    _mapped_equals_loop(lambda a, v: wnp.convolve(a, v), a, v)
    _mapped_equals_loop(lambda a: wnp.convolve(a, v[0]), a)


def test_sinc_batches_as_an_elementwise_function():
    x = R.standard_normal((3, 4))
    _mapped_equals_loop(wg.grad(lambda x: wnp.sum(wnp.sinc(x))), x)
    assert signal._sinc.elementwise


def test_nan_to_num_with_traced_replacements_of_a_constant_array():
    x = onp.array([onp.nan, 1.0, onp.inf, -onp.inf])
    g = wg.grad(lambda v: wnp.sum(wnp.nan_to_num(x, nan=v, posinf=2 * v, neginf=-v)))(0.5)
    assert g == 1.0 + 2.0 - 1.0
    _mapped_equals_loop(lambda v: wnp.nan_to_num(x, nan=v, posinf=v * 2), onp.array([0.5, 3.0]))
