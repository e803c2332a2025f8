"""wengert.scipy.integrate.odeint: the adjoint (reverse) and sensitivity (forward) rules
through check_grads in both modes to order 2, values and gradients against HIPS autograd,
and the errors for bad input.

The solves run at rtol = atol = 1e-10; the checker's own tolerances are looser than its
float64 defaults would need for a closed-form function only because the numerical side
differentiates an adaptive solver, whose step choices move with the point.
"""

from __future__ import annotations

import pytest

pytest.importorskip("scipy")

import numpy as onp
import scipy.integrate as si

import wengert as wg
import wengert.numpy as wnp
from wengert._core.primitive import Primitive
from wengert.scipy import integrate

R = onp.random.default_rng(5)
TIGHT = {"rtol": 1e-10, "atol": 1e-10}


def uniform(lo, hi, *shape):
    def make():
        x = R.uniform(lo, hi, size=shape)
        return float(x) if shape == () else x

    return make


def times(n, lo=0.0, hi=1.5):
    """n increasing times, at least 0.05 apart."""
    return lambda: lo + onp.cumsum(R.uniform(0.05, (hi - lo) / n, size=n))


def lotka_volterra(y, t, rates, death):
    prey, predator = y[0], y[1]
    return wnp.stack(
        [
            rates[0] * prey - rates[1] * prey * predator,
            0.5 * rates[1] * prey * predator - death * predator,
        ]
    )


def forced_oscillator(y, t, stiffness, damping):
    """A damped oscillator driven by cos(t): the right-hand side depends on t."""
    return wnp.stack([y[1], -stiffness * y[0] - damping * y[1] + 0.3 * wnp.cos(2.0 * t)])


def linear_matrix(y, t, a):
    """dY/dt = A Y for a 2x2 state: func sees and returns arrays shaped like y0."""
    return wnp.dot(a, y) * 0.5


def logistic(y, t, params):
    """A scalar state (shape (1,), as SciPy makes it), with nested args."""
    rate, (capacity,) = params
    return rate * y * (1.0 - y / capacity)


CASES: list[tuple[str, object, list]] = [
    (
        "odeint",
        lambda y0, t, rates, death: integrate.odeint(
            lotka_volterra, y0, t, (rates, death), **TIGHT
        ),
        [uniform(0.5, 1.5, 2), times(3), uniform(0.8, 1.2, 2), uniform(0.5, 1.0)],
    ),
    (
        "odeint",
        lambda y0, t, k, c: integrate.odeint(forced_oscillator, y0, t, (k, c), **TIGHT),
        [uniform(-1.0, 1.0, 2), times(3), uniform(1.0, 2.0), uniform(0.1, 0.5)],
    ),
    (
        "odeint",
        lambda y0, t, a: integrate.odeint(linear_matrix, y0, t, (a,), **TIGHT),
        [uniform(-1.0, 1.0, 2, 2), times(3), uniform(-1.0, 1.0, 2, 2)],
    ),
    (
        "odeint",
        lambda y0, t, rate, capacity: integrate.odeint(
            logistic, y0, t, ((rate, (capacity,)),), **TIGHT
        ),
        [uniform(0.2, 0.8), times(3), uniform(0.5, 1.5), uniform(1.5, 2.5)],
    ),
]


@pytest.mark.parametrize(
    "name, fun, gens", CASES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]
)
def test_integrate_rules(name, fun, gens):
    args = [g() for g in gens]
    wg.check_grads(fun, modes=("fwd", "rev"), order=2, rtol=1e-6, atol=1e-7)(*args)


def test_every_primitive_is_in_the_table():
    prims = {v.name for v in vars(integrate).values() if isinstance(v, Primitive)}
    missing = sorted(prims - {name for name, _, _ in CASES})
    assert not missing, f"primitives of wengert.scipy.integrate with no row: {missing}"


# --- values ----------------------------------------------------------------------------------


def test_values_are_scipys():
    y0, t, rates, death = onp.array([1.0, 0.5]), onp.linspace(0.0, 2.0, 6), [1.1, 0.4], 0.7

    def plain(y, t, rates, death):
        return [
            rates[0] * y[0] - rates[1] * y[0] * y[1],
            0.5 * rates[1] * y[0] * y[1] - death * y[1],
        ]

    want = si.odeint(plain, y0, t, (onp.array(rates), death), **TIGHT)
    got = integrate.odeint(lotka_volterra, y0, t, (onp.array(rates), death), **TIGHT)
    onp.testing.assert_array_equal(got, want)


def test_state_of_any_shape_and_scalars_as_scipy():
    y0, a, t = R.normal(size=(2, 2)), R.normal(size=(2, 2)), onp.linspace(0.0, 1.0, 4)
    ys = integrate.odeint(linear_matrix, y0, t, (a,), **TIGHT)
    assert ys.shape == (4, 2, 2)
    from scipy.linalg import expm

    onp.testing.assert_allclose(ys[-1], expm(0.5 * a) @ y0, rtol=1e-8, atol=1e-9)
    # A scalar y0 is a state of shape (1,), as in SciPy and HIPS autograd.
    ys = integrate.odeint(lambda y, t: -y, 1.0, t, **TIGHT)
    assert ys.shape == (4, 1)
    onp.testing.assert_allclose(ys[:, 0], onp.exp(-t), rtol=1e-8)


def test_tfirst_and_list_results():
    t = onp.linspace(0.0, 1.0, 3)
    ys = integrate.odeint(lambda t, y: [y[1], -y[0]], [1.0, 0.0], t, tfirst=True, **TIGHT)
    onp.testing.assert_allclose(ys[:, 0], onp.cos(t), rtol=1e-8)


def test_a_single_time_gives_y0_and_identity_derivatives():
    y0, t = onp.array([0.3, 0.4]), onp.array([0.5])
    f = lambda y0, t: integrate.odeint(lambda y, t: -y, y0, t)
    onp.testing.assert_array_equal(f(y0, t), y0[None])
    g_y0, g_t = wg.grad(lambda y0, t: f(y0, t).sum(), argnums=(0, 1))(y0, t)
    onp.testing.assert_array_equal(g_y0, [1.0, 1.0])
    onp.testing.assert_array_equal(g_t, [0.0])


def test_backwards_in_time():
    t = onp.array([1.0, 0.6, 0.0])
    fun = lambda y0, k: integrate.odeint(lambda y, t, k: -k * y + wnp.sin(t), y0, t, (k,), **TIGHT)
    wg.check_grads(fun, order=2, rtol=1e-6, atol=1e-7)(onp.array([0.4, -0.2]), 0.8)


def test_derivatives_of_exponential_decay_in_closed_form():
    # y(t) = y0 exp(-k (t - t0)): each derivative is known exactly.
    y0, k, t = 1.3, 0.7, onp.array([0.2, 0.9, 1.4])

    def final(y0, k, t):
        return integrate.odeint(lambda y, s, k: -k * y, y0, t, (k,), **TIGHT)[-1, 0]

    span = t[-1] - t[0]
    value = y0 * onp.exp(-k * span)
    g_y0, g_k, g_t = wg.grad(final, argnums=(0, 1, 2))(y0, k, t)
    onp.testing.assert_allclose(g_y0, value / y0, rtol=1e-8)
    onp.testing.assert_allclose(g_k, -span * value, rtol=1e-8)
    onp.testing.assert_allclose(g_t, [k * value, 0.0, -k * value], rtol=1e-8, atol=1e-12)
    # Second derivatives, through the rules' own integrations, in both modes.
    h_kk = wg.grad(wg.grad(final, argnums=1), argnums=1)(y0, k, t)
    onp.testing.assert_allclose(h_kk, span**2 * value, rtol=1e-7)
    _, h_fwd = wg.jvp(lambda k: wg.grad(final, argnums=1)(y0, k, t), (k,), (1.0,))
    onp.testing.assert_allclose(h_fwd, span**2 * value, rtol=1e-7)
    h_rev_fwd = wg.grad(lambda k: wg.jvp(lambda k: final(y0, k, t), (k,), (1.0,))[1])(k)
    onp.testing.assert_allclose(h_rev_fwd, span**2 * value, rtol=1e-7)


def test_solver_options_reach_the_rules():
    # A per-component atol, a Jacobian for the original system and a critical time ahead
    # of the last output: the adjoint's backward solves run without the latter two.
    t, k = onp.array([0.2, 0.9, 1.4]), 0.5

    def jacobian(y, s, k):
        return -k * onp.eye(2)

    def total(k):
        ys = integrate.odeint(
            lambda y, s, k: -k * y,
            onp.array([1.0, 2.0]),
            t,
            (k,),
            rtol=1e-10,
            atol=onp.array([1e-10, 1e-11]),
            Dfun=jacobian,
            tcrit=onp.array([2.0]),
            mxstep=5000,
        )
        return ys[-1].sum()

    span = t[-1] - t[0]
    onp.testing.assert_allclose(wg.grad(total)(k), -3.0 * span * onp.exp(-k * span), rtol=1e-8)
    _, tangent = wg.jvp(total, (k,), (1.0,))
    onp.testing.assert_allclose(tangent, -3.0 * span * onp.exp(-k * span), rtol=1e-8)


def test_args_may_hold_integers_and_strings():
    def decay(y, s, params):
        rate, power, kind = params
        return -rate * y**power if kind == "power" else -rate * y

    fun = lambda rate: integrate.odeint(
        decay, onp.array([1.0]), onp.array([0.0, 0.5, 1.0]), ((rate, 2, "power"),), **TIGHT
    )
    onp.testing.assert_allclose(fun(0.5)[:, 0], 1.0 / (1.0 + 0.5 * onp.array([0, 0.5, 1])))
    wg.check_grads(fun, order=2, rtol=1e-6, atol=1e-7)(0.5)


def test_float32_in_float32_out():
    y0, t, a = (
        onp.array([1.0, 0.5], onp.float32),
        onp.linspace(0, 1, 3, dtype=onp.float32),
        onp.float32(0.3),
    )
    fun = lambda y0, t, a: integrate.odeint(lambda y, s, a: -a * y, y0, t, (a,))
    ys = fun(y0, t, a)
    assert ys.dtype == onp.float32
    grads = wg.grad(lambda *x: fun(*x).sum(), argnums=(0, 1, 2))(y0, t, a)
    assert [onp.result_type(g) for g in grads] == [onp.float32] * 3
    _, tangent = wg.jvp(
        fun, (y0, t, a), (onp.ones(2, onp.float32), onp.ones(3, onp.float32), onp.float32(1.0))
    )
    assert tangent.dtype == onp.float32


# --- against HIPS autograd --------------------------------------------------------------


@pytest.mark.parametrize("system", ["lotka_volterra", "forced_oscillator"])
def test_values_and_gradients_equal_hips_autograd(system):
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    from autograd.builtins import tuple as atuple
    from autograd.scipy.integrate import odeint as autograd_odeint

    if system == "lotka_volterra":
        ours = lotka_volterra

        def theirs(y, t, rates, death):
            prey, predator = y[0], y[1]
            return anp.array(
                [
                    rates[0] * prey - rates[1] * prey * predator,
                    0.5 * rates[1] * prey * predator - death * predator,
                ]
            )

        params = (onp.array([1.1, 0.4]), 0.7)
    else:
        ours = forced_oscillator

        def theirs(y, t, stiffness, damping):
            return anp.array([y[1], -stiffness * y[0] - damping * y[1] + 0.3 * anp.cos(2.0 * t)])

        params = (1.6, 0.3)
    y0, t = onp.array([1.0, 0.5]), onp.linspace(0.1, 2.0, 5)
    weights = R.normal(size=(5, 2))
    mine = integrate.odeint(ours, y0, t, params, **TIGHT)
    onp.testing.assert_allclose(
        mine, autograd_odeint(theirs, y0, t, atuple(params), **TIGHT), rtol=1e-8, atol=1e-8
    )

    def loss_ours(y0, t, *p):
        return wnp.sum(integrate.odeint(ours, y0, t, p, **TIGHT) * weights)

    def loss_theirs(y0, t, *p):
        return anp.sum(autograd_odeint(theirs, y0, t, atuple(p), **TIGHT) * weights)

    argnums = tuple(range(2 + len(params)))
    got = wg.grad(loss_ours, argnums=argnums)(y0, t, *params)
    want = autograd.grad(lambda args: loss_theirs(*args))((y0, t, *params))
    for g, w in zip(got, want):
        onp.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-8)
    # Forward mode: the sensitivity equations give the same directional derivative.
    directions = [R.normal(size=onp.shape(x)) for x in (y0, t, *params)]
    directions = [float(d) if onp.ndim(d) == 0 else d for d in directions]
    _, tangent = wg.jvp(loss_ours, (y0, t, *params), directions)
    expected = sum(onp.sum(onp.asarray(w) * d) for w, d in zip(want, directions))
    onp.testing.assert_allclose(tangent, expected, rtol=1e-7)


# --- errors -----------------------------------------------------------------------------------


def test_bad_input_is_refused_naming_odeint():
    t = onp.linspace(0.0, 1.0, 3)
    with pytest.raises(ValueError, match=r"odeint: func returned dy/dt of shape \(3,\)"):
        integrate.odeint(lambda y, t: wnp.ones(3), onp.ones(2), t)
    with pytest.raises(ValueError, match="odeint: t must be a 1-D array"):
        integrate.odeint(lambda y, t: -y, onp.ones(2), onp.ones((2, 2)))
    with pytest.raises(ValueError, match="odeint: t must be a 1-D array"):
        integrate.odeint(lambda y, t: -y, onp.ones(2), 1.0)
    with pytest.raises(TypeError, match="odeint: args must be a tuple"):
        integrate.odeint(lambda y, t, k: -k * y, onp.ones(2), t, args=onp.ones(2))
    with pytest.raises(TypeError, match="odeint: func must be callable"):
        integrate.odeint(onp.ones(2), onp.ones(2), t)
    with pytest.raises(TypeError, match="odeint: y0 is complex"):
        integrate.odeint(lambda y, t: -y, onp.ones(2) + 1j, t)
    with pytest.raises(ValueError, match="odeint: full_output"):
        integrate.odeint(lambda y, t: -y, onp.ones(2), t, full_output=True)


def test_a_parameter_read_from_the_closure_is_refused_with_the_way_out():
    t = onp.linspace(0.0, 1.0, 3)

    def loss(k):
        return integrate.odeint(lambda y, s: -k * y, onp.ones(2), t).sum()

    with pytest.raises(TypeError, match=r"odeint: func returned a traced value.*args="):
        wg.grad(loss)(0.5)
