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


# --- trees of arguments reach the rules (regression: a list argument bypassed custom_vjp) --


def test_custom_vjp_rule_receives_list_arguments():
    calls = []

    @wg.custom_vjp
    def product(xs):
        return xs[0] * xs[1]

    def bwd(res, g):
        calls.append(1)
        a, b = res
        return ([2.0 * g * b, 2.0 * g * a],)  # deliberately twice the true derivative

    product.defvjp(lambda xs: (product(xs), xs), bwd)
    assert wg.grad(lambda a, b: product([a, b]), argnums=(0, 1))(2.0, 3.0) == (6.0, 4.0)
    assert wg.grad(lambda a, b: product((a, b)), argnums=(0, 1))(2.0, 3.0) == (6.0, 4.0)
    assert len(calls) == 2
    v = wg.Variable(2.0)
    product([v, 3.0]).backward()
    assert float(v.grad) == 6.0


def test_custom_vjp_with_dict_arguments_and_tree_output():
    @wg.custom_vjp
    def affine(p, x):
        return {"y": p["w"] * x, "z": p["b"] + x}

    def bwd(res, ct):
        p, x = res
        return {"w": ct["y"] * x, "b": wnp.sum(ct["z"])}, ct["y"] * p["w"] + ct["z"]

    affine.defvjp(lambda p, x: (affine(p, x), (p, x)), bwd)

    def loss(f):
        return lambda p, x: wnp.sum(f(p, x)["y"] ** 2 + f(p, x)["z"])

    p, x = {"w": onp.array([2.0, -1.0]), "b": 0.5}, onp.array([3.0, 0.25])
    got = wg.grad(loss(affine), argnums=(0, 1))(p, x)
    expected = wg.grad(loss(affine.fun), argnums=(0, 1))(p, x)
    for a, b in zip(wg.tree_flatten(got)[0], wg.tree_flatten(expected)[0]):
        onp.testing.assert_allclose(a, b)
    wg.check_grads(loss(affine), modes=("rev",), order=2)(p, x)


def test_custom_jvp_rule_receives_tuple_arguments_in_both_modes():
    @wg.custom_jvp
    def product(xs):
        return xs[0] * xs[1]

    @product.defjvp
    def _(primals, tangents):
        (xs,), (ts,) = primals, tangents
        return product(xs), ts[0] * xs[1] + xs[0] * ts[1]

    assert wg.grad(lambda a: product([a, 3.0]))(2.0) == 3.0
    assert wg.jvp(lambda a: product((a, 3.0)), (2.0,), (1.0,)) == (6.0, 3.0)
    wg.check_grads(lambda a, b: product([a, b]), order=2)(2.0, 3.0)


def test_user_primitive_refuses_traced_values_it_cannot_see():
    @wg.primitive
    def first_times_second(xs):
        return xs[0] * xs[1]

    with pytest.raises(TypeError, match=r"inside a list.*custom_vjp"):
        wg.grad(lambda a: first_times_second([a, 2.0]))(1.0)

    @wg.primitive
    def scaled(x, scale=1.0):
        return x * scale

    scaled.defvjp(lambda g, ans, x, scale=1.0: g * scale)
    with pytest.raises(TypeError, match="keyword argument 'scale'"):
        wg.grad(lambda a: scaled(2.0, scale=a))(1.0)


# --- what user rules return is checked, naming the rule, the argument and both shapes -------


@pytest.mark.parametrize(
    "bad, error, message",
    [
        (lambda g: onp.ones(5), ValueError, r"argument 0.*shape \(5,\).*shape \(3,\)"),
        (lambda g: "abc", TypeError, "returned a str"),
        (lambda g: onp.array([True, False, True]), TypeError, "dtype bool"),
        (lambda g: [1.0, 2.0, 3.0], TypeError, "returned a list|structure list"),
        (lambda g: 0.0, ValueError, r"shape \(\).*shape \(3,\)"),
    ],
)
def test_wrong_cotangents_from_user_rules_are_refused(bad, error, message):
    @wg.primitive
    def total(x):
        return onp.sum(x)

    total.defvjp(lambda g, ans, x: bad(g))
    with pytest.raises(error, match="primitive total.*(" + message + ")"):
        wg.grad(total)(onp.ones(3))

    @wg.custom_vjp
    def double(x):
        return 2.0 * x

    double.defvjp(lambda x: (double(x), None), lambda res, g: (bad(g),))
    with pytest.raises(error, match="custom_vjp double.*(" + message + ")"):
        wg.grad(lambda x: wnp.sum(double(x)))(onp.ones(3))


def test_wrong_tangents_from_user_rules_are_refused():
    @wg.primitive
    def total(x):
        return onp.sum(x)

    total.defjvp(lambda t, ans, x: t)  # should be sum(t)
    with pytest.raises(ValueError, match=r"forward \(JVP\) rule of primitive total.*\(3,\)"):
        wg.jvp(total, (onp.ones(3),), (onp.ones(3),))

    @wg.custom_jvp
    def double(x):
        return 2.0 * x

    double.defjvp(lambda p, t: (double(p[0]), onp.ones(4)))
    with pytest.raises(ValueError, match=r"custom_jvp double.*\(4,\).*\(3,\)"):
        wg.jvp(double, (onp.ones(3),), (onp.ones(3),))
    double.defjvp(lambda p, t: double(p[0]))
    with pytest.raises(TypeError, match="must return a pair"):
        wg.jvp(double, (onp.ones(3),), (onp.ones(3),))


def test_custom_rules_that_do_not_return_pairs_or_tuples_are_refused():
    @wg.custom_vjp
    def double(x):
        return 2.0 * x

    double.defvjp(lambda x: double(x), lambda res, g: (2.0 * g,))
    with pytest.raises(TypeError, match=r"fwd rule of custom_vjp double must return a pair"):
        wg.grad(double)(1.0)
    double.defvjp(lambda x: (double(x), None), lambda res, g: 2.0 * g)
    with pytest.raises(TypeError, match="one cotangent per argument"):
        wg.grad(double)(1.0)
    double.defvjp(lambda x: (double(x), None), lambda res, g: ({"a": 2.0 * g},))
    with pytest.raises(TypeError, match="structure"):
        wg.grad(double)(1.0)
