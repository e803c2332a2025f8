"""The user-facing transformations: grad, value_and_grad, vjp, jvp, elementwise_grad."""

from __future__ import annotations

import dataclasses
from collections import namedtuple

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp


def f(x):
    return 1.0 / (x**2 + 1.0)


def test_grad_of_the_readme_function():
    assert wg.grad(f)(3.0) == pytest.approx(-0.06, rel=1e-15)
    assert wg.grad(wg.grad(f))(3.0) == pytest.approx(52.0 / 1000.0, rel=1e-14)


def test_value_and_grad_with_argnums_and_aux():
    def loss(w, b, x):
        pred = x @ w + b
        return wnp.sum(pred**2), {"pred": pred}

    x = onp.arange(6.0).reshape(3, 2)
    w, b = onp.array([0.5, -1.0]), 0.25
    (value, aux), (gw, gb) = wg.value_and_grad(loss, argnums=(0, 1), has_aux=True)(w, b, x)
    pred = x @ w + b
    assert value == pytest.approx(onp.sum(pred**2))
    onp.testing.assert_allclose(aux["pred"], pred)
    onp.testing.assert_allclose(gw, 2 * x.T @ pred)
    assert gb == pytest.approx(2 * onp.sum(pred))
    assert type(aux["pred"]) is onp.ndarray


def test_grad_negative_argnums_and_kwargs():
    g = wg.grad(lambda a, b, scale=1.0: scale * a * b**2, argnums=-1)(2.0, 3.0, scale=2.0)
    assert g == pytest.approx(24.0)


def test_vjp_returns_one_cotangent_per_primal():
    x, y = onp.array([1.0, 2.0]), onp.array([3.0, 4.0])
    out, pullback = wg.vjp(lambda a, b: a * b, x, y)
    gx, gy = pullback(onp.array([1.0, 10.0]))
    onp.testing.assert_allclose(out, x * y)
    onp.testing.assert_allclose(gx, [3.0, 40.0])
    onp.testing.assert_allclose(gy, [1.0, 20.0])
    # The pullback can be called again with another cotangent.
    onp.testing.assert_allclose(pullback(onp.array([1.0, 0.0]))[0], [3.0, 0.0])


def test_jvp_forward_mode():
    out, tangent = wg.jvp(wnp.sin, (onp.array([0.0, 1.0]),), (onp.array([1.0, 2.0]),))
    onp.testing.assert_allclose(out, onp.sin([0.0, 1.0]))
    onp.testing.assert_allclose(tangent, onp.cos([0.0, 1.0]) * [1.0, 2.0])


def test_jvp_has_aux():
    out, tangent, aux = wg.jvp(lambda x: (x**2, x + 1), (3.0,), (1.0,), has_aux=True)
    assert (out, tangent, aux) == (9.0, 6.0, 4.0)


def test_elementwise_grad():
    xs = onp.linspace(-2, 2, 7)
    onp.testing.assert_allclose(wg.elementwise_grad(wnp.tanh)(xs), 1 - onp.tanh(xs) ** 2)


def test_outputs_that_do_not_depend_on_inputs_give_zeros():
    g = wg.grad(lambda x, y: wnp.sum(x) * 0.0 + 3.0, argnums=1)(onp.ones(2), onp.ones(3))
    onp.testing.assert_array_equal(g, onp.zeros(3))
    _, t = wg.jvp(lambda x: onp.ones(2), (1.0,), (1.0,))
    onp.testing.assert_array_equal(t, onp.zeros(2))


Point = namedtuple("Point", "x y")


@dataclasses.dataclass
class Params:
    w: onp.ndarray
    b: float


def test_trees_in_and_out():
    def fun(tree):
        (a, b), d, p, params = tree
        return d["u"] * a + b * p.x * p.y + wnp.sum(params.w) * params.b

    tree = (
        (1.0, 2.0),
        {"u": 3.0, "unused": onp.ones(2)},
        Point(4.0, 5.0),
        Params(onp.ones(3), 2.0),
    )
    g = wg.grad(fun)(tree)
    (ga, gb), gd, gp, gparams = g
    assert (ga, gb) == (3.0, 20.0)
    assert gd["u"] == 1.0
    onp.testing.assert_array_equal(gd["unused"], onp.zeros(2))
    assert isinstance(gp, Point) and gp == Point(10.0, 8.0)
    assert isinstance(gparams, Params) and gparams.b == 3.0
    onp.testing.assert_array_equal(gparams.w, [2.0, 2.0, 2.0])


def test_tree_outputs_in_vjp_and_jvp():
    def fun(x):
        return {"a": x * 2.0, "b": [x**2, wnp.sin(x)]}

    _, pullback = wg.vjp(fun, 1.5)
    (g,) = pullback({"a": 1.0, "b": [1.0, 1.0]})
    assert g == pytest.approx(2.0 + 3.0 + onp.cos(1.5))
    _, tangent = wg.jvp(fun, (1.5,), (1.0,))
    assert tangent["b"][0] == pytest.approx(3.0)


def test_stop_gradient():
    assert wg.grad(lambda x: x * wg.stop_gradient(x))(3.0) == 3.0
    assert wg.jvp(lambda x: x * wg.stop_gradient(x**2), (2.0,), (1.0,))[1] == 4.0


def test_python_control_flow():
    def piecewise(x):
        if x > 0:
            return x**2
        return -x

    assert wg.grad(piecewise)(2.0) == 4.0
    assert wg.grad(piecewise)(-2.0) == -1.0

    def newton_sqrt(a):
        x = a
        while abs(x * x - a) > 1e-12 * a:  # trip count depends on the data
            x = 0.5 * (x + a / x)
        return x

    assert wg.grad(newton_sqrt)(2.0) == pytest.approx(0.5 / onp.sqrt(2.0), rel=1e-10)

    def power_rec(x, n):
        return 1.0 if n == 0 else x * power_rec(x, n - 1)

    assert wg.grad(power_rec)(1.5, 5) == pytest.approx(5 * 1.5**4)
    assert wg.grad(wg.grad(power_rec))(1.5, 5) == pytest.approx(20 * 1.5**3)


def test_iteration_and_len():
    def fun(x):
        total = 0.0
        for row in x:
            total = total + wnp.sum(row) * len(row)
        return total

    onp.testing.assert_array_equal(wg.grad(fun)(onp.ones((2, 3))), onp.full((2, 3), 3.0))


def test_plain_numpy_functions_dispatch():
    def fun(x):
        return onp.sum(onp.sin(x) * onp.exp(x)) + onp.mean(x @ x)

    x = onp.array([0.1, 0.5])
    expected = onp.cos(x) * onp.exp(x) + onp.sin(x) * onp.exp(x) + 2 * x
    onp.testing.assert_allclose(wg.grad(fun)(x), expected)


def test_comparisons_are_plain_booleans():
    def fun(x):
        mask = x > 0
        assert mask.dtype == bool
        return wnp.sum(wnp.where(mask, x, 0.0))

    onp.testing.assert_array_equal(wg.grad(fun)(onp.array([-1.0, 2.0])), [0.0, 1.0])


def test_array_methods_on_traced_values():
    x = onp.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]])

    def f(x):
        return (
            x.cumsum(axis=1).sum()
            + x.cumprod().sum()
            + wnp.trace(x[:, :2])
            + x.diagonal().sum()
            + x.take([0, 2], axis=1).sum()
            + x.repeat(2, axis=0).sum()
            + x.var()
            + x.std(axis=0).sum()
        )

    wg.check_grads(f, order=2)(x)
    expected = onp.cumsum(x, axis=1).sum() + onp.cumprod(x).sum() + onp.trace(x[:, :2])
    expected += onp.diagonal(x).sum() + onp.take(x, [0, 2], axis=1).sum() + 2 * x.sum()
    expected += x.var() + x.std(axis=0).sum()
    assert f(x) == pytest.approx(expected)
    with pytest.raises(wg.InPlaceWriteError, match="sort"):
        wg.grad(lambda x: x.sort())(onp.ones(2))


# --- argnums: every position gets its full derivative; bad values are refused clearly ------


def test_repeated_argnums_give_each_position_its_full_derivative():
    f = lambda x, y: x * x * y
    assert wg.grad(f, argnums=(0, 0))(1.0, 2.0) == (4.0, 4.0)
    assert wg.grad(f, argnums=(1, 0, 1))(1.0, 2.0) == (1.0, 4.0, 1.0)
    value, grads = wg.value_and_grad(f, argnums=(0, 0))(1.0, 2.0)
    assert value == 2.0 and grads == (4.0, 4.0)
    assert wg.elementwise_grad(f, argnums=(0, 0))(1.0, 2.0) == (4.0, 4.0)
    x = onp.array([1.0, 2.0])
    for jac in (wg.jacfwd, wg.jacrev, wg.jacobian):
        j0, j1 = jac(lambda x, y: x * y, argnums=(0, 0))(x, 3.0)
        onp.testing.assert_array_equal(j0, 3.0 * onp.eye(2))
        onp.testing.assert_array_equal(j1, 3.0 * onp.eye(2))
    hess = wg.hessian(f, argnums=(0, 1, 0))(1.0, 2.0)
    expected = ((4.0, 2.0, 4.0), (2.0, 0.0, 2.0), (4.0, 2.0, 4.0))
    assert [[float(h) for h in row] for row in hess] == [list(row) for row in expected]


def test_argnums_accepts_numpy_integers_and_refuses_other_types():
    f = lambda x, y: x * y
    assert wg.grad(f, argnums=onp.int64(1))(2.0, 3.0) == 2.0
    assert wg.grad(f, argnums=[onp.int32(0), 1])(2.0, 3.0) == (3.0, 2.0)
    for bad in (1.0, True, "0", [0.5], None):
        with pytest.raises(TypeError, match="argnums must be an int"):
            wg.grad(f, argnums=bad)(2.0, 3.0)
    with pytest.raises(TypeError, match="order is not defined"):
        wg.grad(f, argnums={0, 1})(2.0, 3.0)
    with pytest.raises(ValueError, match="out of range for a call with 2"):
        wg.jacobian(f, argnums=2)(2.0, 3.0)


def test_grad_names_outputs_that_are_not_real_scalars():
    for fun, shown in (
        (lambda x: "abc", "str"),
        (lambda x: None, "NoneType"),
        (lambda x: x > 0, "bool"),
        (lambda x: [x], "list"),
        (lambda x: onp.array(["a"]), "dtype <U1"),
    ):
        with pytest.raises(wg.NonScalarOutputError, match=shown):
            wg.grad(fun)(1.0)


def test_tangents_and_cotangents_from_callers_are_checked():
    with pytest.raises(TypeError, match=r"jvp was given a str as a tangent \(leaf 0\)"):
        wg.jvp(lambda x: x, (1.0,), ("a",))
    with pytest.raises(TypeError, match="tangent leaf 0 is complex but its primal is real"):
        wg.jvp(lambda x: x, (1.0,), (1j,))
    with pytest.raises(ValueError, match=r"shape \(2,\).*shape \(3,\)"):
        wg.jvp(lambda x: x, (onp.ones(3),), (onp.ones(2),))
    _, pullback = wg.vjp(lambda x: 2.0 * x, onp.ones(3))
    with pytest.raises(TypeError, match="pullback was given a str"):
        pullback("abc")
    with pytest.raises(ValueError, match=r"pullback was given a cotangent \(leaf 0\) of shape"):
        pullback(onp.ones(2))
    onp.testing.assert_array_equal(pullback(onp.ones(3))[0], 2.0 * onp.ones(3))


# --- arrays written to between recording and the derivative are detected --------------------


def test_vjp_pullback_detects_arrays_written_after_recording():
    x = onp.array([1.0, 2.0, 3.0])
    _, pullback = wg.vjp(wnp.exp, x)
    x[0] = 5.0
    with pytest.raises(wg.ModifiedInputError, match="input leaf 0 was modified in place"):
        pullback(onp.ones(3))
    x = onp.array([1.0, 2.0, 3.0])
    out, pullback = wg.vjp(wnp.exp, x)
    out *= 2.0  # the rule of exp reads its result
    with pytest.raises(wg.ModifiedInputError, match="output leaf 0"):
        pullback(onp.ones(3))
    x = onp.array([1.0, 2.0, 3.0])
    _, pullback, aux = wg.vjp(lambda x: (wnp.sum(wnp.exp(x)), x * 1.0), x, has_aux=True)
    aux[:] = 0.0
    with pytest.raises(wg.ModifiedInputError, match="aux leaf 0"):
        pullback(1.0)
    # Values written back unchanged, or copies changed, are fine.
    x = onp.array([1.0, 2.0, 3.0])
    _, pullback = wg.vjp(wnp.exp, x)
    x.copy()[0] = 7.0
    x[1] = 2.0
    onp.testing.assert_allclose(pullback(onp.ones(3))[0], onp.exp(x))


def test_linearize_detects_inputs_written_after_recording():
    x = onp.array([1.0, 2.0, 3.0])
    _, jvp_fun = wg.linearize(wnp.sin, x)
    x[1] = 0.0
    with pytest.raises(wg.ModifiedInputError, match="linearize: input leaf 0"):
        jvp_fun(onp.ones(3))


def test_leaves_without_a_derivative_are_named():
    for args, shown in (
        (({"w": 1.0, "name": "abc"},), "type str"),
        ((object(),), "type object"),
        ((3,), "dtype int64"),
        ((onp.array(["a"]),), "dtype <U1"),
    ):
        with pytest.raises(TypeError, match=f"grad needs floating-point.*leaf.*{shown}"):
            wg.grad(lambda p: 1.0)(*args)


@pytest.mark.parametrize("shape", [(1,), (1, 1), (1, 1, 1)])
def test_grad_accepts_an_output_with_one_element_of_any_shape(shape):
    x = onp.array([0.3, -1.1])

    def f(x):
        return wnp.reshape(wnp.sum(wnp.sin(x) * x), shape)

    onp.testing.assert_allclose(wg.grad(f)(x), onp.cos(x) * x + onp.sin(x))
    value, g = wg.value_and_grad(f)(x)
    assert onp.shape(value) == shape
    onp.testing.assert_allclose(g, onp.cos(x) * x + onp.sin(x))


def test_grad_still_refuses_an_output_with_several_elements():
    with pytest.raises(wg.NonScalarOutputError, match=r"shape \(2,\).*vector-Jacobian"):
        wg.grad(lambda x: x * 2)(onp.ones(2))
