"""wengert.scipy.special: every primitive through check_grads, both modes, order 2.

Rows name the primitive they cover; a coverage test fails if a primitive of the module
is in no row. Edge values (zeros, tails) have their own value tests below.
"""

from __future__ import annotations

import pytest

pytest.importorskip("scipy")

import numpy as onp
import scipy.special as sc

import wengert as wg
import wengert.numpy as wnp
from wengert._core.primitive import Primitive
from wengert.errors import MissingRuleError
from wengert.scipy import special

R = onp.random.default_rng(3)


def real(*shape, lo=-2.0, hi=2.0):
    """A generator of uniform values on (lo, hi) of the given shape (a float for ())."""

    def make():
        x = R.uniform(lo, hi, size=shape)
        return float(x) if shape == () else x

    return make


def const(value):
    return lambda: value


def unary_shapes(lo, hi):
    return [(real(lo=lo, hi=hi),), (real(3, lo=lo, hi=hi),), (real(2, 3, lo=lo, hi=hi),)]


def binary_shapes(lo0, hi0, lo1, hi1):
    pairs = [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2,))]
    return [(real(*a, lo=lo0, hi=hi0), real(*b, lo=lo1, hi=hi1)) for a, b in pairs]


CASES: list[tuple[str, object, list]] = []


def case(name, fun, arg_sets):
    CASES.extend((name, fun, args) for args in arg_sets)


# --- one-argument functions over scalars, vectors and matrices ---------------------------
for name, lo, hi in [
    ("gamma", 0.5, 3.0),
    ("gamma", -2.55, -2.45),
    ("gammaln", 0.5, 4.0),
    ("gammaln", -2.55, -2.45),
    ("digamma", 0.5, 4.0),
    ("erf", -2.0, 2.0),
    ("erfc", -2.0, 2.0),
    ("erfinv", -0.7, 0.7),
    ("erfcinv", 0.3, 1.7),
    ("ndtr", -3.0, 3.0),
    ("ndtri", 0.2, 0.8),
    ("log_ndtr", -5.0, 3.0),
    ("log_ndtr", -30.0, -20.0),
    ("expit", -3.0, 3.0),
    ("logit", 0.25, 0.75),
    ("log_expit", -3.0, 3.0),
    ("entr", 0.4, 2.0),
    ("i0", -3.0, 3.0),
    ("i1", -3.0, 3.0),
    ("i0e", 0.3, 3.0),
    ("i0e", -3.0, -0.3),
    ("i1e", 0.3, 3.0),
    ("i1e", -3.0, -0.3),
    ("j0", -5.0, 5.0),
    ("j1", -5.0, 5.0),
    ("y0", 1.0, 5.0),
    ("y1", 1.0, 5.0),
    ("sinc", -2.0, 2.0),
]:
    case(name, getattr(special, name), unary_shapes(lo, hi))

# Zeros of the functions with an x in a denominator, and sinc near 0 (series branch). (At 0,
# i1e has a jump in its second derivative, which finite differences cannot resolve: its
# value there is tested below.)
for name in ("i1", "j1", "sinc"):
    case(name, getattr(special, name), [(const(onp.array([0.0, 0.7, -1.3])),), (const(0.0),)])
case("sinc", special.sinc, [(const(onp.array([1e-4, -3e-4, 2e-3])),)])
case("digamma", special.psi, [(real(3, lo=0.5, hi=2.0),)])

# --- integer orders and fixed shape parameters (not differentiated) ----------------------
for n in (0, 1, 2, 3):
    case("polygamma", lambda x, n=n: special.polygamma(n, x), unary_shapes(0.5, 3.0))
case("polygamma", lambda x: special.polygamma(onp.array([1, 2, 3]), x), [(real(2, 1, lo=0.5),)])
for name, lo, hi in [("jv", 0.5, 4.0), ("yv", 0.5, 4.0), ("iv", 0.5, 3.0), ("kv", 0.5, 3.0)]:
    for v in (0.0, 1.0, 1.5, -0.5):
        fun = getattr(special, name)
        case(name, lambda x, f=fun, v=v: f(v, x), unary_shapes(lo, hi))
    case(name, lambda x, f=fun: f(onp.array([0.0, 2.0, 2.5]), x), [(real(2, 1, lo=lo, hi=hi),)])
for n in (0, 1, 2):
    case("jn", lambda x, n=n: special.jn(n, x), unary_shapes(0.5, 4.0))
    case("yn", lambda x, n=n: special.yn(n, x), unary_shapes(0.5, 4.0))
for v in (0.0, 1.5):
    case("ive", lambda x, v=v: special.ive(v, x), unary_shapes(0.3, 3.0))
case("ive", lambda x: special.ive(1.0, x), unary_shapes(-3.0, -0.3))
# rgamma is entire: smooth through the poles of gamma at 0, -1, -2, ...
case("rgamma", special.rgamma, unary_shapes(-3.0, 3.0))
case("rgamma", special.rgamma, [(const(onp.array([-2.0, -1.0, 0.0, -0.5, 0.7])),)])
for name in ("gammainc", "gammaincc"):
    fun = getattr(special, name)
    case(name, lambda x, f=fun: f(2.5, x), unary_shapes(0.2, 4.0))
    case(name, lambda x, f=fun: f(onp.array([0.5, 1.0, 3.0]), x), [(real(2, 1, lo=0.2, hi=4.0),)])
case("betainc", lambda x: special.betainc(2.0, 3.5, x), unary_shapes(0.1, 0.9))
case(
    "betainc",
    lambda x: special.betainc(onp.array([0.7, 2.0, 3.0]), 1.5, x),
    [(real(2, 1, lo=0.1, hi=0.9),)],
)
case("stdtr", lambda t: special.stdtr(3.0, t), unary_shapes(-3.0, 3.0))
case("stdtr", lambda t: special.stdtr(onp.array([1.0, 2.5, 30.0]), t), [(real(2, 1),)])
case("gammaln", lambda a: special.multigammaln(a, 3), unary_shapes(1.2, 4.0))
case("gammaln", lambda a: special.multigammaln(a, 1), [(real(2, lo=0.5, hi=3.0),)])

# --- two-argument functions, with broadcasting ----------------------------------------------
for name, lo0, hi0, lo1, hi1 in [
    ("beta", 0.5, 3.0, 0.5, 3.0),
    ("betaln", 0.5, 3.0, 0.5, 3.0),
    ("xlogy", -2.0, 2.0, 0.4, 3.0),
    ("xlog1py", -2.0, 2.0, -0.3, 2.0),
    ("rel_entr", 0.4, 2.0, 0.4, 2.0),
]:
    case(name, getattr(special, name), binary_shapes(lo0, hi0, lo1, hi1))
# x == 0: the y-derivative is 0 and the mixed second derivative is 1 / y. (rel_entr is
# infinite for x < 0, so finite differences cannot straddle x == 0: tested below.)
for name in ("xlogy", "xlog1py"):
    case(
        name,
        getattr(special, name),
        [(const(onp.array([0.0, 0.5, 0.0])), const(onp.array([0.5, 1.5, 2.0])))],
    )

# --- reductions along an axis ------------------------------------------------------------------
for kwargs in [{}, {"axis": 0}, {"axis": 1}, {"axis": -1, "keepdims": True}, {"axis": (0, 1)}]:
    case("logsumexp", lambda a, k=kwargs: special.logsumexp(a, **k), [(real(2, 3),)])
    case(
        "weighted_logsumexp",
        lambda a, b, k=kwargs: special.logsumexp(a, b=b, **k),
        [(real(2, 3), real(2, 3, lo=0.2, hi=2.0))],
    )
case("logsumexp", special.logsumexp, [(real(),), (real(4),)])
case(
    "weighted_logsumexp",
    lambda a, b: special.logsumexp(a, axis=1, b=b),
    [(real(2, 3), real(3, lo=0.2, hi=2.0)), (real(3), real(2, 1, lo=0.2, hi=2.0))],
)
case(
    "weighted_logsumexp",
    lambda a, b: special.logsumexp(a, axis=0, b=b, return_sign=True)[0],
    [(const(onp.array([[0.3, -0.2], [1.0, 0.5]])), const(onp.array([[1.0, 1.0], [-2.0, 0.5]])))],
)
for axis in (None, 0, 1, -1):
    case("softmax", lambda x, a=axis: special.softmax(x, axis=a), [(real(2, 3),)])
    case("log_softmax", lambda x, a=axis: special.log_softmax(x, axis=a), [(real(2, 3),)])
case("softmax", special.softmax, [(real(4),)])
case("log_softmax", special.log_softmax, [(real(4),)])


@pytest.mark.parametrize(
    "name, fun, gens", CASES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]
)
def test_special_rules(name, fun, gens):
    args = [g() for g in gens]
    wg.check_grads(fun, modes=("fwd", "rev"), order=2)(*args)


def _primitives() -> dict[str, Primitive]:
    return {
        v.name: v
        for v in vars(special).values()
        if (isinstance(v, Primitive) and not getattr(v, "nondifferentiable", False))
    }


def test_every_primitive_is_in_the_table():
    missing = sorted(set(_primitives()) - {name for name, _, _ in CASES})
    assert not missing, f"primitives of wengert.scipy.special with no row: {missing}"


def test_every_primitive_has_both_rules():
    for name, prim in _primitives().items():
        assert prim.vjp_rules or prim.vjp_all, name
        assert prim.jvp_rules or prim.jvp_all, name


def test_every_public_name_is_a_scipy_name():
    for name in special.__all__:
        assert hasattr(sc, name), name


# --- values -------------------------------------------------------------------------------------


def test_values_match_scipy():
    x = onp.array([0.3, 1.7, 2.2])
    for name in ("gamma", "gammaln", "digamma", "erf", "expit", "i0", "j1", "y1", "sinc"):
        onp.testing.assert_allclose(getattr(special, name)(x), getattr(sc, name)(x))
    onp.testing.assert_allclose(special.multigammaln(x + 2.0, 3), sc.multigammaln(x + 2.0, 3))
    a = R.normal(size=(3, 4))
    b = R.uniform(0.1, 1.0, size=(3, 4))
    onp.testing.assert_allclose(special.logsumexp(a, axis=1, b=b), sc.logsumexp(a, axis=1, b=b))
    onp.testing.assert_allclose(special.softmax(a, axis=0), sc.softmax(a, axis=0))


def test_first_and_second_derivatives_by_identity():
    d = wg.elementwise_grad
    x = onp.array([0.4, 1.3, 2.5])
    onp.testing.assert_allclose(d(special.gamma)(x), sc.gamma(x) * sc.digamma(x))
    onp.testing.assert_allclose(d(d(special.gammaln))(x), sc.polygamma(1, x))
    onp.testing.assert_allclose(d(special.erf)(x), 2 / onp.sqrt(onp.pi) * onp.exp(-x * x))
    onp.testing.assert_allclose(d(special.i0)(x), sc.i1(x))
    onp.testing.assert_allclose(d(special.j0)(x), -sc.j1(x))
    onp.testing.assert_allclose(d(lambda x: special.jv(2.0, x))(x), sc.jvp(2.0, x))
    onp.testing.assert_allclose(d(lambda x: special.kv(1.5, x))(x), sc.kvp(1.5, x))
    onp.testing.assert_allclose(d(d(lambda x: special.iv(0.5, x)))(x), sc.ivp(0.5, x, 2))


def test_limits_at_zero_are_finite():
    d = wg.elementwise_grad
    zero = onp.array([0.0])
    onp.testing.assert_allclose(d(special.i1)(zero), [0.5])
    onp.testing.assert_allclose(d(special.j1)(zero), [0.5])
    onp.testing.assert_allclose(d(special.i1e)(zero), [0.5])
    onp.testing.assert_allclose(d(d(d(special.i1)))(zero), [3.0 / 8.0])
    onp.testing.assert_allclose(d(special.sinc)(zero), [0.0])
    onp.testing.assert_allclose(d(d(special.sinc))(zero), [-(onp.pi**2) / 3.0])
    onp.testing.assert_allclose(d(d(d(d(special.sinc))))(zero), [onp.pi**4 / 5.0], rtol=1e-6)
    # The kink of exp(-|x|) at 0: the mean of the one-sided slopes.
    onp.testing.assert_allclose(d(special.i0e)(zero), [0.0])


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_xlogy_edges():
    gx, gy = wg.grad(lambda x, y: special.xlogy(x, y), argnums=(0, 1))(0.0, 0.0)
    assert gy == 0.0 and gx == -onp.inf
    gx, gy = wg.grad(lambda x, y: special.xlogy(x, y), argnums=(0, 1))(0.0, 2.0)
    onp.testing.assert_allclose([gx, gy], [onp.log(2.0), 0.0])
    assert wg.grad(lambda y: special.rel_entr(0.0, y))(0.0) == 0.0
    assert wg.grad(lambda y: special.xlog1py(0.0, y))(-1.0) == 0.0


def test_gammainc_derivative_in_x_at_zero():
    d = wg.grad(lambda x, a: special.gammainc(a, x))
    assert d(0.0, 1.0) == 1.0
    assert d(0.0, 2.0) == 0.0
    assert d(0.0, 0.5) == onp.inf


def test_logsumexp_signs():
    a = onp.array([0.0, 1.0])
    b = onp.array([1.0, -3.0])
    out, sign = special.logsumexp(a, b=b, return_sign=True)
    ref, ref_sign = sc.logsumexp(a, b=b, return_sign=True)
    onp.testing.assert_allclose([out, sign], [ref, ref_sign])
    assert onp.isnan(special.logsumexp(a, b=b))
    g = wg.grad(lambda a: special.logsumexp(a, b=b, return_sign=True)[0])(a)
    onp.testing.assert_allclose(g, b * onp.exp(a) / onp.sum(b * onp.exp(a)))


def test_logsumexp_of_complex_terms_is_the_complex_log_of_the_sum():
    # Traced, it used to return the real log|sum| with a tangent that was neither.
    a = onp.array([0.3 + 1.0j, -0.2 + 0.5j, 1.0 - 2.0j])
    t = onp.array([1.0, -0.5j, 0.2])
    out, tangent = wg.jvp(special.logsumexp, (a,), (t,))
    onp.testing.assert_allclose(out, sc.logsumexp(a), rtol=1e-12)
    onp.testing.assert_allclose(tangent, onp.sum(onp.exp(a) * t) / onp.sum(onp.exp(a)))
    # With return_sign: log|sum| (whose tangent is the real part) and sum / |sum|, as SciPy.
    (magnitude, sign), (tangent, _) = wg.jvp(
        lambda a: special.logsumexp(a, return_sign=True), (a,), (t,)
    )
    onp.testing.assert_allclose([magnitude, sign], sc.logsumexp(a, return_sign=True))
    onp.testing.assert_allclose(tangent, onp.real(onp.sum(onp.exp(a) * t) / onp.sum(onp.exp(a))))
    wg.check_grads(special.logsumexp, order=2)(a)
    wg.check_grads(lambda a, b: special.logsumexp(a, b=b), order=2)(a, onp.array([1.0, 2.0, 0.5]))


@pytest.mark.parametrize(
    "fun",
    [
        lambda a: special.gammainc(a, 1.5),
        lambda a: special.gammaincc(a, 1.5),
        lambda a: special.betainc(a, 2.0, 0.5),
        lambda v: special.jv(v, 1.5),
        lambda n: special.polygamma(n, 1.5),
        lambda df: special.stdtr(df, 0.5),
    ],
)
def test_no_derivative_in_orders_and_shapes(fun):
    with pytest.raises(MissingRuleError, match="not differentiable in"):
        wg.grad(fun)(2.0)
    with pytest.raises(MissingRuleError, match="not differentiable in"):
        wg.jvp(fun, (2.0,), (1.0,))


def test_multigammaln_domain():
    with pytest.raises(ValueError, match="must exceed"):
        special.multigammaln(0.8, 3)


def test_works_on_traced_values_with_wengert_numpy():
    g = wg.grad(lambda x: wnp.sum(special.expit(x) * special.gammaln(x + 1.0)))(onp.ones(2))
    expected = sc.expit(1.0) * (1 - sc.expit(1.0)) * sc.gammaln(2.0) + sc.expit(1.0) * sc.digamma(
        2.0
    )
    onp.testing.assert_allclose(g, [expected, expected])


# --- vmap: members on both sides of an edge -----------------------------------------------


def vmap_equals_loop(f, members):
    """`f` under vmap and its per-member gradients (vmap of grad) equal a loop."""
    stacked = [onp.stack(parts) for parts in zip(*members)]
    argnums = tuple(range(len(stacked)))
    onp.testing.assert_allclose(wg.vmap(f)(*stacked), onp.stack([f(*m) for m in members]))
    weights = onp.cos(onp.arange(onp.size(f(*members[0])))).reshape(onp.shape(f(*members[0])))
    grad = wg.grad(lambda *a: wnp.sum(f(*a) * weights), argnums=argnums)
    for got, parts in zip(wg.vmap(grad)(*stacked), zip(*[grad(*m) for m in members])):
        onp.testing.assert_allclose(got, onp.stack(parts), rtol=1e-12)


A = onp.array
VMAP_EDGES = [
    ("sinc near 0", special.sinc, [(A([0.0, 1e-4, 0.5]),), (A([1.0, 2.0, 3.0]),)]),
    ("xlogy at 0", special.xlogy, [(A([0.0, 1.0]), A([0.0, 2.0])), (A([1.0, 2.0]), A([3.0, 4.0]))]),
    ("rel_entr at 0", special.rel_entr, [(A([0.0, 1]), A([0.0, 2])), (A([1.0, 2]), A([3.0, 4]))]),
    ("i1 at 0", special.i1, [(A([0.0, 1.0]),), (A([1.0, 2.0]),)]),
    ("j1 at 0", special.j1, [(A([0.0, 1.0]),), (A([1.0, 2.0]),)]),
    ("rgamma, both branches", special.rgamma, [(A([-2.0, 1.3]),), (A([0.2, 2.0]),)]),
    (
        "logsumexp, sum of one sign",
        lambda x, b: special.logsumexp(x, b=b),
        [(A([0.0, 1.0]), A([1.0, -2.0])), (A([1.0, 2.0]), A([1.0, 1.0]))],
    ),
    (
        "logsumexp, return_sign",
        lambda x, b: special.logsumexp(x, b=b, return_sign=True)[0],
        [(A([0.0, 1.0]), A([1.0, -2.0])), (A([1.0, 2.0]), A([1.0, 1.0]))],
    ),
    (
        "logsumexp, constant b, axis",
        lambda x: special.logsumexp(x, axis=1, b=A([1.0, 2.0, 3.0])),
        [(A([[0.0, 1, 2], [1, 2, 3]]),), (A([[1.0, 2, 3], [0, 0, 0]]),)],
    ),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name, f, members", VMAP_EDGES, ids=[r[0] for r in VMAP_EDGES])
def test_vmap_sees_each_members_own_edges(name, f, members):
    vmap_equals_loop(f, members)


def test_vmap_of_logsumexp_sign_is_each_members_own():
    x, b = A([[0.0, 1.0], [1.0, 2.0]]), A([[1.0, -2.0], [1.0, 1.0]])
    out, sign = wg.vmap(lambda x, b: special.logsumexp(x, b=b, return_sign=True))(x, b)
    onp.testing.assert_array_equal(sign, [-1.0, 1.0])
    onp.testing.assert_allclose(
        out, [sc.logsumexp(x[i], b=b[i], return_sign=True)[0] for i in (0, 1)]
    )
