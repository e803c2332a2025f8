"""Jacobians, Hessians and their products, checked against finite differences and each
other: jacfwd == jacrev == jacobian, against Richardson differences; Hessians in all
four modes, symmetric, against differences of the gradient; hvp == H v, vhp == v H."""

from __future__ import annotations

from collections import namedtuple

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert import numeric
from wengert._core.batching import loop_primitives
from wengert.errors import NonScalarOutputError
from wengert.jacobians import LinearizedJVP, ravel_tree

R = onp.random.default_rng(3)
A = R.normal(size=(5, 4))
W1 = R.normal(size=(6, 4)) / 2.0
W2 = R.normal(size=(3, 6)) / 2.0
LABELS = onp.array([0.0, 1.0, 0.0])
BAND = onp.diag(onp.full(4, 2.0)) - onp.diag(onp.ones(3), 1) - onp.diag(onp.ones(3), -1)


def mlp_loss(x):
    hidden = wnp.tanh(W1 @ x)
    logits = W2 @ hidden
    log_z = wnp.log(wnp.sum(wnp.exp(logits - wnp.max(logits)))) + wnp.max(logits)
    return log_z - wnp.sum(LABELS * logits) + 0.01 * wnp.sum(x**2)


# (id, function of one array, input shape): vector-valued and scalar-valued functions.
FUNCTIONS = [
    ("linear map", lambda x: A @ x, (4,)),
    ("banded linear", lambda x: BAND @ x, (4,)),
    ("elementwise", lambda x: wnp.sin(x) * wnp.exp(x / 2.0) + x**3, (4,)),
    ("broadcast", lambda x: wnp.reshape(x, (2, 2)) * onp.array([1.0, 2.0]) + x[:2], (4,)),
    ("matrix product", lambda x: wnp.reshape(x, (2, 3)) @ wnp.reshape(x, (2, 3)).T, (6,)),
    ("matrix cube", lambda x: (lambda m: m @ m @ m)(wnp.reshape(x, (2, 2))), (4,)),
    ("gram einsum", lambda x: wnp.einsum("ij,kj->ik", x, x), (3, 2)),
    ("tensordot", lambda x: wnp.tensordot(x, A[:3, :2], axes=([0, 1], [0, 1])) * x, (3, 2)),
    ("stencil", lambda x: x[2:] - 2 * x[1:-1] + x[:-2] + x[1:-1] ** 3, (6,)),
    ("concatenate", lambda x: wnp.concatenate([x[:1] ** 2, wnp.sin(x), onp.ones(2)]), (3,)),
    ("stack and where", lambda x: wnp.stack([wnp.where(x > 0, x, -x), x * x]), (4,)),
    (
        "reductions",
        lambda x: wnp.stack([wnp.sum(x), wnp.prod(x), wnp.max(x), wnp.mean(x**2)]),
        (4,),
    ),
    (
        "index writes",
        lambda x: wnp.index_add(wnp.index_update(x, 0, x[1] * x[2]), [1, 1], x[3]),
        (4,),
    ),
    ("softmax", lambda x: wnp.exp(x) / wnp.sum(wnp.exp(x)), (4,)),
    ("normalise", lambda x: x / wnp.sqrt(wnp.sum(x**2)), (3,)),
    ("matrix in", lambda x: wnp.sum(x, axis=0) * x[0], (3, 2)),
    ("scalar in", lambda x: wnp.stack([wnp.sin(x), x**2, wnp.exp(x)]), ()),
    ("inverse", lambda x: wnp.linalg.inv(wnp.reshape(x, (2, 2)) + 3.0 * onp.eye(2)), (4,)),
    ("solve", lambda x: wnp.linalg.solve(BAND + wnp.diag(x**2), x), (4,)),
    ("fft power", lambda x: wnp.real(wnp.fft.fft(x) * wnp.conj(wnp.fft.fft(x))), (4,)),
    ("cumsum", lambda x: wnp.cumsum(x**2) * x, (4,)),
    # scalar-valued
    (
        "log det",
        lambda x: wnp.linalg.slogdet((lambda m: m @ m.T + onp.eye(2))(wnp.reshape(x, (2, 2))))[1],
        (4,),
    ),
    ("norm", lambda x: wnp.linalg.norm(x) ** 3, (3,)),
    ("mlp loss", mlp_loss, (4,)),
    ("rosenbrock", lambda x: wnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2), (5,)),
    ("quadratic form", lambda x: x @ BAND @ x + wnp.sum(wnp.cos(x)), (4,)),
    ("log det-like", lambda x: wnp.sum(wnp.log(1.0 + x**2)) * wnp.sum(x), (3,)),
    ("matrix trace", lambda x: wnp.sum(wnp.einsum("ii->i", (lambda m: m @ m.T)(x))), (2, 3)),
    ("scalar to scalar", lambda x: wnp.sin(x) * x**2, ()),
]


def point(shape):
    x = R.uniform(-1.0, 1.0, size=shape) + 0.1
    return float(x) if shape == () else x


def numeric_jacobian(fun, x):
    return numeric.jacobian(lambda v: onp.asarray(fun(v)), onp.asarray(x, dtype=float))


@pytest.mark.parametrize("fun, shape", [f[1:] for f in FUNCTIONS], ids=[f[0] for f in FUNCTIONS])
def test_jacobians_agree_with_differences_and_each_other(fun, shape):
    x = point(shape)
    expected = numeric_jacobian(fun, x)
    forward = wg.jacfwd(fun)(x)
    reverse = wg.jacrev(fun)(x)
    auto = wg.jacobian(fun)
    assert onp.shape(forward) == onp.shape(reverse) == expected.shape
    onp.testing.assert_allclose(forward, reverse, rtol=1e-12, atol=1e-12)
    onp.testing.assert_allclose(forward, expected, rtol=1e-6, atol=1e-8)
    onp.testing.assert_allclose(auto(x), forward, rtol=1e-12, atol=1e-12)
    n_in, n_out = onp.size(x), onp.size(fun(x))
    assert auto.chosen_mode == ("forward" if n_in < n_out else "reverse")
    assert wg.jacobian(fun, mode="fwd")(x).shape == wg.jacobian(fun, mode="rev")(x).shape


SCALAR = [f for f in FUNCTIONS if onp.ndim(f[1](point(f[2]))) == 0]


@pytest.mark.parametrize("fun, shape", [f[1:] for f in SCALAR], ids=[f[0] for f in SCALAR])
def test_hessians(fun, shape):
    x = point(shape)
    hess = wg.hessian(fun)(x)
    n = onp.size(x)
    flat = onp.reshape(hess, (n, n))
    onp.testing.assert_allclose(flat, flat.T, rtol=1e-10, atol=1e-10)
    expected = numeric_jacobian(wg.grad(fun), x)
    onp.testing.assert_allclose(hess, expected, rtol=1e-6, atol=1e-7)
    for mode in ("reverse-over-reverse", "forward-over-forward", "rev-fwd"):
        onp.testing.assert_allclose(wg.hessian(fun, mode=mode)(x), hess, rtol=1e-10, atol=1e-10)
    v = R.normal(size=onp.shape(x))
    vflat = onp.ravel(v)
    (hv,) = wg.hvp(fun, (x,), (v,))
    (vh,) = wg.vhp(fun, (x,), (v,))
    onp.testing.assert_allclose(onp.ravel(hv), flat @ vflat, rtol=1e-10, atol=1e-10)
    onp.testing.assert_allclose(onp.ravel(vh), vflat @ flat, rtol=1e-10, atol=1e-10)


def test_namespace_needs_no_loop():
    before = set(loop_primitives())
    for _, fun, shape in FUNCTIONS:
        wg.hessian(lambda x, f=fun: wnp.sum(f(x)))(point(shape))
    from wengert.numpy import contractions, elementwise, fft, indexing, linalg, reductions, shaping

    names = {
        p.name
        for m in (contractions, elementwise, fft, indexing, linalg, reductions, shaping)
        for p in vars(m).values()
        if isinstance(p, wg.Primitive)
    }
    assert not names & (set(loop_primitives()) - before)


# --- one vectorised pass, not one per basis vector ---------------------------------------------


def counted(fun):
    calls = []

    def wrapper(*args, **kwargs):
        calls.append(1)
        return fun(*args, **kwargs)

    return wrapper, calls


@pytest.mark.parametrize(
    "make", [wg.jacfwd, wg.jacrev, wg.jacobian, wg.hessian], ids=["fwd", "rev", "auto", "hess"]
)
def test_one_evaluation_per_jacobian(make):
    f, calls = counted(lambda x: wnp.sum(wnp.tanh(A @ x) ** 2) * x)
    make(f)(R.normal(size=4))
    assert len(calls) == 1  # the function runs once, with all directions as one batch


def test_auto_mode_first_call_and_cache():
    f, calls = counted(lambda x: wnp.outer(x, x).ravel())  # 3 inputs, 9 outputs
    jac = wg.jacobian(f)
    x = R.normal(size=3)
    jac(x)
    assert jac.chosen_mode == "forward" and len(calls) == 2  # recorded once to learn sizes
    jac(x + 1.0)
    assert jac.chosen_mode == "forward" and len(calls) == 3  # then remembered


# --- layout, trees, argnums, aux ------------------------------------------------------------


def test_layout_output_shape_then_input_shape():
    f = lambda x: wnp.reshape(wnp.sum(x, axis=0), (1, 3)) * 2.0
    x = R.normal(size=(2, 3))
    for jac in (wg.jacfwd(f)(x), wg.jacrev(f)(x)):
        assert jac.shape == (1, 3, 2, 3)
        onp.testing.assert_allclose(jac[0, 1, :, 1], [2.0, 2.0])
        onp.testing.assert_allclose(jac[0, 1, :, 0], [0.0, 0.0])


def test_trees_in_and_out():
    Params = namedtuple("Params", ["w", "b"])

    def f(p, scale):
        y = wnp.tanh(p.w @ onp.ones(3) + p.b)
        return {"y": y * scale, "s": wnp.sum(p.w) * p.b[0]}

    p = Params(R.normal(size=(2, 3)), R.normal(size=2))
    jf, jr = wg.jacfwd(f)(p, 2.0), wg.jacrev(f)(p, 2.0)
    assert isinstance(jf["y"], Params)
    assert jf["y"].w.shape == (2, 2, 3) and jf["y"].b.shape == (2, 2)
    assert jf["s"].w.shape == (2, 3) and onp.shape(jf["s"].b) == (2,)
    for a, b in zip(wg.tree_flatten(jf)[0], wg.tree_flatten(jr)[0]):
        onp.testing.assert_allclose(a, b, rtol=1e-12)
    flat, unravel = ravel_tree(p)
    dense = wg.jacfwd(lambda v: ravel_tree(f(unravel(v), 2.0))[0])(flat)
    onp.testing.assert_allclose(
        dense,
        numeric_jacobian(lambda v: ravel_tree(f(unravel(v), 2.0))[0], flat),
        rtol=1e-6,
        atol=1e-8,
    )


def test_argnums_and_has_aux():
    def f(x, y, z):
        return x * y**2 + z, {"note": x + y}

    jac, aux = wg.jacrev(f, argnums=(0, 1), has_aux=True)(2.0, 3.0, 1.0)
    assert jac == (9.0, 12.0)
    assert aux == {"note": 5.0}
    jac, aux = wg.jacfwd(f, argnums=1, has_aux=True)(2.0, 3.0, 1.0)
    assert jac == 12.0
    hess, aux = wg.hessian(f, argnums=(0, 1), has_aux=True)(2.0, 3.0, 1.0)
    assert hess == ((0.0, 6.0), (6.0, 4.0))
    assert aux == {"note": 5.0}
    jac, aux = wg.jacobian(f, argnums=-1, has_aux=True)(2.0, 3.0, 1.0)
    assert jac == 1.0


def test_keyword_arguments_pass_through():
    f = lambda x, power=2: x**power
    onp.testing.assert_allclose(wg.jacfwd(f)(onp.array([1.0, 2.0]), power=3), onp.diag([3.0, 12.0]))


def test_constant_output_has_zero_jacobian():
    f = lambda x: (onp.ones(2), x * 0.0 + 1.0)
    for jac in (wg.jacfwd(f)(onp.ones(3)), wg.jacrev(f)(onp.ones(3))):
        assert jac[0].shape == (2, 3) and not onp.any(jac[0])
        assert jac[1].shape == (3, 3) and not onp.any(jac[1])


def test_float32_stays_float32():
    x = onp.ones(3, dtype=onp.float32)
    assert wg.jacfwd(wnp.sin)(x).dtype == onp.float32
    assert wg.jacrev(wnp.sin)(x).dtype == onp.float32


def test_holomorphic():
    z = onp.array([1.0 + 2.0j, -0.5 + 0.3j])
    expected = onp.diag(3 * z**2)
    f = lambda z: z**3
    onp.testing.assert_allclose(wg.jacfwd(f, holomorphic=True)(z), expected)
    onp.testing.assert_allclose(wg.jacrev(f, holomorphic=True)(z), expected)
    with pytest.raises(TypeError, match="holomorphic=True"):
        wg.jacfwd(f)(z)
    with pytest.raises(TypeError, match="holomorphic=True"):
        wg.jacrev(lambda x: x * 1j)(onp.ones(2))
    with pytest.raises(TypeError, match="complex"):
        wg.jacfwd(f, holomorphic=True)(onp.ones(2))


def test_errors():
    with pytest.raises(ValueError, match="mode"):
        wg.jacobian(wnp.sin, mode="sideways")
    with pytest.raises(ValueError, match="mode"):
        wg.hessian(wnp.sin, mode="fwd-sideways")
    with pytest.raises(TypeError, match="floating-point"):
        wg.jacfwd(lambda x: x * 2)(onp.arange(3))
    with pytest.raises(TypeError, match="tuples"):
        wg.hvp(wnp.sin, 1.0, 1.0)
    with pytest.raises(ValueError, match="tangents"):
        wg.hvp(lambda x, y: x * y, (1.0, 2.0), (1.0,))
    with pytest.raises(NonScalarOutputError):
        wg.hvp(wnp.sin, (onp.ones(2),), (onp.ones(2),))


# --- nesting -------------------------------------------------------------------------------------


def test_gradient_of_a_jacobian_expression():
    # grad of sum(J(x)^2): third-order machinery through batched passes.
    def frob(x):
        return wnp.sum(wg.jacfwd(lambda v: wnp.sin(A @ v) * v[0])(x) ** 2)

    x = R.normal(size=4)
    expected = numeric.gradient(lambda v: onp.asarray(frob(v)), x)
    onp.testing.assert_allclose(wg.grad(frob)(x), expected, rtol=1e-6, atol=1e-8)
    frob_rev = lambda x: wnp.sum(wg.jacrev(lambda v: wnp.sin(A @ v) * v[0])(x) ** 2)
    onp.testing.assert_allclose(wg.grad(frob_rev)(x), expected, rtol=1e-6, atol=1e-8)
    wg.check_grads(frob, modes=("fwd", "rev"), order=1)(x)


def test_third_derivative_tensor():
    f = lambda x: wnp.sum(x**4) + x[0] * x[1] * x[2]
    third = wg.jacfwd(wg.hessian(f))(onp.array([1.0, 2.0, 3.0]))
    assert third.shape == (3, 3, 3)
    assert third[0, 1, 2] == 1.0 and third[2, 1, 0] == 1.0
    onp.testing.assert_allclose(onp.diagonal(onp.diagonal(third)), 24 * onp.array([1.0, 2.0, 3.0]))


def test_jacobian_inside_forward_mode():
    f = lambda s: wg.jacrev(lambda v: wnp.sin(v * s))(onp.array([0.1, 0.2]))
    _, tangent = wg.jvp(f, (0.7,), (1.0,))
    expected = numeric.derivative(lambda s: onp.asarray(f(s)), 0.7)
    onp.testing.assert_allclose(tangent, expected, rtol=1e-6, atol=1e-9)


# --- linearize ---------------------------------------------------------------------------------


def test_linearize_matches_jvp_and_jacobian():
    f = lambda x, y: {"a": wnp.sin(x) * y, "b": wnp.sum(x**2) + y}
    x, y = R.normal(size=3), 0.5
    out, jvp_fun = wg.linearize(f, x, y)
    assert isinstance(jvp_fun, LinearizedJVP)
    onp.testing.assert_allclose(out["a"], onp.sin(x) * y)
    tx, ty = R.normal(size=3), 0.3
    expected = wg.jvp(f, (x, y), (tx, ty))[1]
    got = jvp_fun(tx, ty)
    onp.testing.assert_allclose(got["a"], expected["a"], rtol=1e-12)
    onp.testing.assert_allclose(got["b"], expected["b"], rtol=1e-12)
    batched = jvp_fun.batched(onp.eye(3), onp.zeros(3))
    onp.testing.assert_allclose(batched["a"].T, wg.jacfwd(f)(x, y)["a"], rtol=1e-12)


def test_linearize_does_not_evaluate_again():
    f, calls = counted(lambda x: wnp.tanh(A @ x))
    _, jvp_fun = wg.linearize(f, R.normal(size=4))
    for _ in range(3):
        jvp_fun(R.normal(size=4))
    assert len(calls) == 1


def test_linearize_with_custom_vjp_pushes_through_its_body():
    @wg.custom_vjp
    def cube(x):
        return x**3

    cube.defvjp(lambda x: (x**3, x), lambda x, g: (3.0 * x**2 * g,))
    f, calls = counted(lambda x: cube(wnp.sin(x)))
    _, jvp_fun = wg.linearize(f, 0.4)
    onp.testing.assert_allclose(jvp_fun(2.0), 2.0 * 3 * onp.sin(0.4) ** 2 * onp.cos(0.4))
    # Forward mode differentiates the custom function's body at the recorded point, so
    # the function as a whole is not evaluated again.
    assert len(calls) == 1


def test_linearize_aux_and_errors():
    out, jvp_fun, aux = wg.linearize(lambda x: (x * 2.0, "aux"), 1.0, has_aux=True)
    assert (out, aux, jvp_fun(3.0)) == (2.0, "aux", 6.0)
    with pytest.raises(ValueError, match="structure"):
        jvp_fun(1.0, 2.0)
    with pytest.raises(ValueError, match="shape"):
        jvp_fun(onp.ones(2))


def test_linearize_of_a_gradient_gives_hessian_products():
    f = SCALAR[0][1]
    x = point(SCALAR[0][2])
    _, hessian_product = wg.linearize(wg.grad(f), x)
    v = R.normal(size=x.shape)
    onp.testing.assert_allclose(hessian_product(v), wg.hvp(f, (x,), (v,))[0], rtol=1e-12)


# --- derivative --------------------------------------------------------------------------------


def test_derivative_of_any_order():
    x = 0.3
    expected = [onp.sin(x), onp.cos(x), -onp.sin(x), -onp.cos(x), onp.sin(x)]
    for order, value in enumerate(expected):
        onp.testing.assert_allclose(wg.derivative(wnp.sin, order=order)(x), value, rtol=1e-14)
    xs = onp.array([0.1, 0.5, 2.0])
    onp.testing.assert_allclose(wg.derivative(wnp.exp, order=3)(xs), onp.exp(xs))
    onp.testing.assert_allclose(wg.derivative(lambda a, b: a**3 * b, 2, argnum=1)(2.0, 3.0), 0.0)
    onp.testing.assert_allclose(wg.derivative(lambda a, b: a**3 * b, 2)(2.0, 3.0), 36.0)
    numeric_second = numeric.derivative(onp.tanh, 0.4, method="central", n=2, accuracy=4)
    onp.testing.assert_allclose(wg.derivative(wnp.tanh, 2)(0.4), numeric_second, rtol=1e-6)
    with pytest.raises(ValueError, match="order"):
        wg.derivative(wnp.sin, order=-1)


def test_custom_rules_through_batched_passes():
    @wg.custom_jvp
    def softplus(x):
        return wnp.logaddexp(x, 0.0)

    @softplus.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return softplus(x), t / (1.0 + wnp.exp(-x))

    @wg.custom_vjp
    def cube(x):
        return x**3

    cube.defvjp(lambda x: (x**3, x), lambda x, g: (3.0 * x**2 * g,))
    x = onp.array([0.3, -0.2, 0.5])
    for f in (lambda x: wnp.sum(softplus(x) * x), lambda x: wnp.sum(cube(x) * x[0])):
        expected = numeric_jacobian(wg.grad(f), x)
        for mode in ("fwd-rev", "rev-rev"):
            onp.testing.assert_allclose(wg.hessian(f, mode=mode)(x), expected, rtol=1e-7, atol=1e-9)
        onp.testing.assert_allclose(wg.jacfwd(softplus)(x), onp.diag(1 / (1 + onp.exp(-x))))


def test_hvp_and_vhp_with_argnums_hold_the_other_arguments_fixed():
    def f(x, y, z):
        return wnp.sum(x**2 * y**3) + wnp.sum(z) * wnp.sum(y)

    x, y, z = onp.array([1.0, 2.0]), onp.array([0.5, -1.0]), onp.array([3.0])
    v = onp.array([1.0, -2.0])
    hessian_yy = wg.hessian(f, argnums=1)(x, y, z)
    for product in (wg.hvp, wg.vhp):
        (only,) = product(f, (x, y, z), (v,), argnums=1)
        onp.testing.assert_allclose(only, hessian_yy @ v)
        both = product(f, (x, y, z), (v, v), argnums=(0, 1))
        full = wg.hessian(f, argnums=(0, 1))(x, y, z)
        onp.testing.assert_allclose(both[1], full[1][0] @ v + full[1][1] @ v)
    with pytest.raises(ValueError, match="1 primals but 2 tangents"):
        wg.hvp(f, (x, y, z), (v, v), argnums=1)


def test_derivative_called_with_a_point_says_it_returns_a_function():
    with pytest.raises(ValueError, match=r"returns a function.*derivative\(fun\)\(x\)"):
        wg.derivative(wnp.sin, 0.5)
    with pytest.raises(TypeError, match="callable"):
        wg.derivative(0.5)
