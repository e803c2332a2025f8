"""User primitives written against autograd.extend run unchanged on wengert.autograd."""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.autograd as wag
import wengert.autograd.extend as wext
import wengert.autograd.numpy as wnp

ag = pytest.importorskip("autograd")
aext = pytest.importorskip("autograd.extend")
anp = pytest.importorskip("autograd.numpy")

X = onp.array([0.3, -1.2, 2.0])


def logsumexp_module(np, extend):
    """autograd's tutorial primitive, with its curried reverse rule and a forward rule."""

    @extend.primitive
    def logsumexp(x):
        m = onp.max(x)
        return m + onp.log(onp.sum(onp.exp(x - m)))

    def logsumexp_vjp(ans, x):
        return lambda g: g * np.exp(x - ans)

    extend.defvjp(logsumexp, logsumexp_vjp)
    extend.defjvp(logsumexp, lambda g, ans, x: np.sum(g * np.exp(x - ans)))
    return logsumexp


def two_argument_module(np, extend):
    @extend.primitive
    def scaled(x, s):
        return x * s**2

    extend.defvjp(scaled, lambda ans, x, s: lambda g: g * s**2, None)
    extend.defjvp(scaled, "same", None)
    return scaled


def argnum_module(np, extend):
    @extend.primitive
    def mix(x, y):
        return np.sin(x) * y

    def vjp_maker(argnum, ans, args, kwargs):
        x, y = args
        if argnum == 0:
            return lambda g: g * np.cos(x) * y
        return lambda g: g * np.sin(x)

    def jvp_maker(argnum, g, ans, args, kwargs):
        x, y = args
        return g * np.cos(x) * y if argnum == 0 else g * np.sin(x)

    extend.defvjp_argnum(mix, vjp_maker)
    extend.defjvp_argnum(mix, jvp_maker)
    return mix


def argnums_module(np, extend):
    @extend.primitive
    def prod2(x, y):
        return x * y

    extend.defvjp_argnums(
        prod2, lambda argnums, ans, args, kwargs: lambda g: tuple(g * args[1 - i] for i in argnums)
    )
    return prod2


def both(build):
    return build(anp, aext), build(wnp, wext)


def test_curried_vjp_and_jvp_rules_give_autograd_numbers():
    a_lse, w_lse = both(logsumexp_module)
    expected = ag.grad(lambda x: a_lse(x) ** 2)(X)
    onp.testing.assert_allclose(wag.grad(lambda x: w_lse(x) ** 2)(X), expected, rtol=1e-12)
    onp.testing.assert_allclose(wg.grad(w_lse)(X), ag.grad(a_lse)(X), rtol=1e-12)
    tangent = wag.make_jvp(w_lse)(X)(onp.ones(3))[1]
    onp.testing.assert_allclose(tangent, ag.make_jvp(a_lse)(X)(onp.ones(3))[1], rtol=1e-12)
    # second order through the rules, which are written with the differentiable namespace
    onp.testing.assert_allclose(wag.hessian(w_lse)(X), ag.hessian(a_lse)(X), rtol=1e-10)
    wg.check_grads(w_lse, order=2)(X)


def test_none_is_a_zero_derivative_and_same_is_linear():
    a_scaled, w_scaled = both(two_argument_module)
    expected = ag.grad(lambda x, s: anp.sum(a_scaled(x, s)), (0, 1))(X, 3.0)
    got = wag.grad(lambda x, s: wnp.sum(w_scaled(x, s)), (0, 1))(X, 3.0)
    onp.testing.assert_allclose(got[0], expected[0])
    assert float(got[1]) == float(expected[1]) == 0.0
    tangent = wag.make_jvp(lambda x: w_scaled(x, 3.0))(X)(onp.ones(3))[1]
    onp.testing.assert_allclose(tangent, onp.full(3, 9.0))


def test_argnum_rules():
    a_mix, w_mix = both(argnum_module)
    for argnum in (0, 1):
        onp.testing.assert_allclose(
            wag.grad(lambda x, y: wnp.sum(w_mix(x, y)), argnum)(X, X[::-1]),
            ag.grad(lambda x, y: anp.sum(a_mix(x, y)), argnum)(X, X[::-1]),
            rtol=1e-12,
        )
    wg.check_grads(w_mix, modes=("fwd", "rev"), order=1)(X, X[::-1])


def test_argnums_rule():
    a_prod, w_prod = both(argnums_module)
    got = wag.grad(lambda x, y: wnp.sum(w_prod(x, y) ** 2), (0, 1))(X, X + 1)
    expected = ag.grad(lambda x, y: anp.sum(a_prod(x, y) ** 2), (0, 1))(X, X + 1)
    for u, v in zip(got, expected):
        onp.testing.assert_allclose(u, v, rtol=1e-12)


def test_def_linear():
    @wext.primitive
    def double(x):
        return 2 * x

    wext.defvjp(double, lambda ans, x: lambda g: 2 * g)
    wext.def_linear(double)
    assert float(wag.deriv(double)(1.5)) == 2.0
    wg.check_grads(double, order=2)(X)


def test_defvjp_replaces_earlier_rules_as_in_autograd():
    @wext.primitive
    def f(x, y):
        return x * y

    wext.defvjp(f, lambda ans, x, y: lambda g: g * y, lambda ans, x, y: lambda g: g * x)
    wext.defvjp(f, lambda ans, x, y: lambda g: g * 10.0, argnums=[1])
    assert float(wag.grad(f, 1)(2.0, 3.0)) == 10.0
    with pytest.raises(wg.MissingRuleError, match="argument 0"):
        wag.grad(f, 0)(2.0, 3.0)


def test_defvjp_of_a_plain_function_says_to_make_it_a_primitive():
    with pytest.raises(TypeError, match="not a primitive"):
        wext.defvjp(lambda x: x, lambda ans, x: lambda g: g)


def test_rule_returning_the_wrong_shape_is_named():
    @wext.primitive
    def bad(x):
        return x * 2

    wext.defvjp(bad, lambda ans, x: lambda g: onp.ones(5))
    with pytest.raises(ValueError, match="bad"):
        wag.grad(lambda x: wnp.sum(bad(x)))(X)


def test_notrace_primitive_sees_values_and_gives_constants():
    seen = []

    @wext.notrace_primitive
    def count(x):
        seen.append(type(x))
        return onp.sum(x > 0)

    g = wag.grad(lambda x: wnp.sum(x**2) * count(x))(X)
    onp.testing.assert_allclose(g, 2 * X * 2)
    assert seen == [onp.ndarray]


def test_box_and_vspace():
    seen = []

    def f(x):
        seen.append(isinstance(x, wext.Box))
        vs = wext.vspace(x)
        assert (vs.shape, vs.size, vs.ndim, vs.dtype) == ((3,), 3, 1, onp.dtype(float))
        return wnp.sum(x * vs.ones())

    wag.grad(f)(X)
    assert seen == [True]
    vs = wext.vspace({"a": onp.ones(2), "b": (1.0, onp.zeros((2, 2), complex))})
    assert vs.size == 7 and vs.iscomplex
    assert len(list(vs.standard_basis())) == 7
    assert vs == wext.vspace({"a": onp.zeros(2), "b": (3.0, onp.ones((2, 2), complex))})
    assert vs != wext.vspace(onp.ones(7))
    onp.testing.assert_allclose(
        wext.vspace(X).inner_prod(X, X), aext.vspace(X).inner_prod(X, X), rtol=1e-14
    )
