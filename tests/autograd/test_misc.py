"""autograd.misc and autograd.test_util on wengert: flatten, optimisers, const_graph,
fixed_point and the gradient checks, compared with HIPS autograd's own."""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.autograd as wag
import wengert.autograd.numpy as wnp
from wengert.autograd.misc import const_graph, flatten, flatten_func
from wengert.autograd.misc import optimizers as wopt
from wengert.autograd.misc.fixed_points import fixed_point
from wengert.autograd.test_util import check_grads, check_jvp, check_vjp, combo_check

ag = pytest.importorskip("autograd")
anp = pytest.importorskip("autograd.numpy")
amisc = pytest.importorskip("autograd.misc")
aopt = pytest.importorskip("autograd.misc.optimizers")
afixed = pytest.importorskip("autograd.misc.fixed_points")

PARAMS = {"w": onp.arange(6.0).reshape(2, 3), "b": (1.5, onp.array([2.0, -1.0])), "a": [0.5]}


def test_flatten_orders_dict_keys_as_autograd():
    flat, unflatten = flatten(PARAMS)
    expected, _ = amisc.flatten(PARAMS)
    onp.testing.assert_array_equal(flat, expected)
    back = unflatten(flat * 2)
    onp.testing.assert_array_equal(back["w"], PARAMS["w"] * 2)
    assert isinstance(back["b"], tuple) and float(back["b"][0]) == 3.0


def test_flatten_is_differentiable():
    def loss(flat):
        p = flatten(PARAMS)[1](flat)
        return wnp.sum(p["w"] ** 2) + p["b"][0] * wnp.sum(p["b"][1])

    flat = flatten(PARAMS)[0]
    wg.check_grads(loss, order=2)(flat)


def test_flatten_func():
    func, unflatten, flat = flatten_func(lambda p, k: {"w": p["w"] * k}, PARAMS)
    onp.testing.assert_array_equal(func(flat, 2.0), PARAMS["w"].ravel() * 2)
    onp.testing.assert_array_equal(unflatten(flat)["w"], PARAMS["w"])


@pytest.mark.parametrize("name", ["sgd", "rmsprop", "adam"])
def test_optimizers_follow_autograd_step_for_step(name):
    target = {"w": onp.ones((2, 3)), "b": (0.0, onp.array([1.0, 1.0])), "a": [2.0]}

    def objective(np, grad_op, flat):
        def loss(p, i):
            diff = flat(p)[0] - flat(target)[0]
            return np.sum(diff**2) * (1.0 + 0.01 * i)

        return grad_op(loss)

    traces = {}
    for key, opt, np, grad_op, flat in (
        ("wengert", wopt, wnp, wag.grad, flatten),
        ("autograd", aopt, anp, ag.grad, amisc.flatten),
    ):
        seen = []
        result = getattr(opt, name)(
            objective(np, grad_op, flat),
            PARAMS,
            callback=lambda x, i, g: seen.append(float(onp.sum(g["w"]))),
            num_iters=20,
            step_size=0.05,
        )
        traces[key] = (result, seen)
    (w_result, w_seen), (a_result, a_seen) = traces["wengert"], traces["autograd"]
    onp.testing.assert_allclose(w_seen, a_seen, rtol=1e-10)
    onp.testing.assert_allclose(w_result["w"], a_result["w"], rtol=1e-10)
    onp.testing.assert_allclose(w_result["b"][1], a_result["b"][1], rtol=1e-10)


def test_const_graph_replays_and_follows_branches():
    calls = []

    def f(x, scale):
        calls.append(1)
        return wnp.sin(x) * scale if wnp.sum(x) > 0 else wnp.cos(x)

    g = const_graph(f, scale=2.0)
    x = onp.array([0.5, 1.0])
    for point in (x, x + 1.0, -x):
        onp.testing.assert_allclose(
            g(point), onp.sin(point) * 2.0 if point.sum() > 0 else onp.cos(point)
        )


def test_fixed_point_gradient_matches_autograd():
    def newton_sqrt(np):
        def f(a):
            return lambda x: 0.5 * (x + a / x)

        return lambda a: f(a)

    def distance(x, y):
        return onp.abs(x - y)

    a_grad = ag.grad(lambda a: afixed.fixed_point(newton_sqrt(anp), a, 1.0, distance, 1e-12))
    w_grad = wag.grad(lambda a: fixed_point(newton_sqrt(wnp), a, 1.0, distance, 1e-12))
    assert abs(float(w_grad(2.0)) - float(a_grad(2.0))) < 1e-10
    assert abs(float(w_grad(2.0)) - 0.5 / onp.sqrt(2.0)) < 1e-10


def test_check_grads_takes_autograd_signature():
    def f(x, y):
        return wnp.sum(wnp.sin(x) * y)

    x = onp.array([0.1, 0.2])
    check_grads(f, modes=["fwd", "rev"], order=2)(x, 3.0)
    check_grads(f, 1, modes=["rev"])(x, 3.0)
    check_vjp(wnp.tanh, x)
    check_jvp(wnp.tanh, x)
    combo_check(f, 0, modes=["rev"], order=1)([x, x * 2], [1.0, 2.0])


def test_check_grads_catches_a_wrong_rule():
    @wg.primitive
    def wrong(x):
        return x**2

    wrong.defvjp(lambda g, ans, x: g * 3 * x)
    with pytest.raises(wg.GradientCheckError):
        check_grads(wrong, modes=["rev"], order=1)(onp.array([0.5, 1.5]))
    with pytest.raises(ValueError, match="modes"):
        check_grads(wnp.sin, modes=["backwards"])(1.0)
