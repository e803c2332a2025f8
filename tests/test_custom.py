"""User-defined primitives and custom rules."""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp


def test_user_primitive_with_both_rules_to_second_order():
    @wg.primitive
    def logsumexp(x):
        m = onp.max(x)
        return m + onp.log(onp.sum(onp.exp(x - m)))

    logsumexp.defvjp(lambda g, ans, x: g * wnp.exp(x - ans))
    logsumexp.defjvp(lambda t, ans, x: wnp.sum(t * wnp.exp(x - ans)))
    x = onp.array([0.5, -1.0, 2.0])
    softmax = onp.exp(x) / onp.sum(onp.exp(x))
    onp.testing.assert_allclose(wg.grad(logsumexp)(x), softmax)
    wg.check_grads(logsumexp, order=2)(x)


def test_user_primitive_with_two_arguments_and_kwargs():
    @wg.primitive
    def scaled_product(x, y, scale=1.0):
        return scale * x * y

    scaled_product.defvjp(
        lambda g, ans, x, y, scale=1.0: g * scale * y,
        lambda g, ans, x, y, scale=1.0: g * scale * x,
    )
    scaled_product.defjvp(
        lambda t, ans, x, y, scale=1.0: t * scale * y,
        lambda t, ans, x, y, scale=1.0: t * scale * x,
    )
    assert wg.grad(scaled_product, argnums=(0, 1))(2.0, 3.0, scale=2.0) == (6.0, 4.0)
    wg.check_grads(lambda x, y: scaled_product(x, y, scale=0.5))(1.5, -0.5)


def test_custom_vjp_replaces_the_reverse_rule():
    @wg.custom_vjp
    def safe_norm(x):
        return wnp.sqrt(wnp.sum(x * x))

    def fwd(x):
        n = safe_norm(x)
        return n, (x, n)

    def bwd(res, g):
        x, n = res
        return (g * x / wnp.where(n == 0, 1.0, n),)

    safe_norm.defvjp(fwd, bwd)
    onp.testing.assert_array_equal(wg.grad(safe_norm)(onp.zeros(3)), onp.zeros(3))
    x = onp.array([3.0, 4.0])
    onp.testing.assert_allclose(wg.grad(safe_norm)(x), x / 5.0)
    # Forward mode differentiates the body; both agree away from zero.
    onp.testing.assert_allclose(wg.jvp(safe_norm, (x,), (onp.array([1.0, 0.0]),))[1], 0.6)
    # Second order through the custom rule (its bwd is written in wengert functions).
    wg.check_grads(safe_norm, order=2)(x)


def test_custom_vjp_with_unused_argument_cotangent():
    @wg.custom_vjp
    def f(x, y):
        return x * y

    f.defvjp(lambda x, y: (x * y, (x, y)), lambda res, g: (g * res[1], None))
    assert wg.grad(f, argnums=(0, 1))(2.0, 3.0) == (3.0, 0.0)


def test_custom_jvp_used_in_both_modes():
    calls = []

    @wg.custom_jvp
    def softplus(x):
        return wnp.logaddexp(x, 0.0)

    @softplus.defjvp
    def _(primals, tangents):
        calls.append(1)
        (x,), (t,) = primals, tangents
        return softplus(x), t / (1.0 + wnp.exp(-x))

    x = onp.array([-800.0, 0.0, 3.0, 800.0])
    with onp.errstate(over="ignore"):
        expected = 1.0 / (1.0 + onp.exp(-x))
        onp.testing.assert_allclose(wg.jvp(softplus, (x,), (onp.ones(4),))[1], expected)
        onp.testing.assert_allclose(wg.elementwise_grad(softplus)(x), expected)
    assert calls
    wg.check_grads(softplus, order=2)(onp.array([-1.0, 0.5, 2.0]))


def test_rules_missing_raise():
    f = wg.custom_vjp(lambda x: x)
    with pytest.raises(TypeError, match="defvjp"):
        wg.grad(f)(1.0)


def test_custom_rules_with_variables_and_batched_jacobians():
    @wg.custom_jvp
    def cube(x):
        return x**3

    @cube.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return cube(x), 3.0 * x**2 * t

    @wg.custom_vjp
    def square(x):
        return x * x

    square.defvjp(lambda x: (x * x, x), lambda x, g: (2.0 * x * g,))

    x = onp.array([0.5, -1.0, 2.0])
    for f, df in ((cube, 3 * x**2), (square, 2 * x)):
        v = wg.Variable(x)
        wnp.sum(f(v)).backward()
        onp.testing.assert_allclose(v.grad, df)
        onp.testing.assert_allclose(wg.jacfwd(f)(x), onp.diag(df))
        onp.testing.assert_allclose(wg.jacrev(f)(x), onp.diag(df))
