"""Every public transformation composes with every other: the pairwise table.

Each transformation turns a function of a vector x (R^3 -> R^m) into another function of
x: `grad` (of the sum of the outputs), `jvp` and `vjp` along fixed vectors, `vmap` (over
three scalings of x, results raveled), `jacfwd`, `jacrev`, `hessian` (of the sum),
`checkpoint`, and wrapping in `custom_vjp` and `custom_jvp` whose rules come from wengert
itself. For every pair, outer(inner(f)) must equal the outer transformation done by
reference means (numerical derivatives, Python loops, no wrapping) applied to inner(f):
so each row checks that the outer transformation sees through the inner one. Variables
(define-by-run `backward()`) are checked as the outer transformation of every inner one.
"""

from __future__ import annotations

import itertools

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp

X = onp.array([0.4, -0.9, 1.3])
V = onp.array([0.7, -0.2, 0.5])


def f(x):
    return wnp.sin(x) * x**2 + x[::-1] * x


def _flat(y):
    return wnp.reshape(y, (-1,))


# --- the transformations, and each one done by reference means -----------------------------


def t_grad(g):
    return lambda x: wg.grad(lambda y: wnp.sum(g(y)))(x)


def r_grad(g):
    return lambda x: wg.numeric.gradient(lambda y: onp.sum(g(y)), x)


def t_jvp(g):
    return lambda x: wg.jvp(g, (x,), (V,))[1]


def r_jvp(g):
    return lambda x: wg.numeric.derivative(lambda s: onp.asarray(g(x + s * V)), 0.0)


def t_vjp(g):
    def h(x):
        out, pullback = wg.vjp(g, x)
        u = onp.linspace(0.5, 1.5, int(onp.size(out))).reshape(onp.shape(out))
        return pullback(u)[0]

    return h


def r_vjp(g):
    def h(x):
        out = onp.asarray(g(x))
        u = onp.linspace(0.5, 1.5, out.size).reshape(out.shape)
        return wg.numeric.gradient(lambda y: onp.sum(onp.asarray(g(y)) * u), x)

    return h


SCALES = onp.array([1.0, 0.5, -1.2])


def t_vmap(g):
    return lambda x: _flat(wg.vmap(g)(SCALES[:, None] * x))


def r_vmap(g):
    return lambda x: onp.concatenate([onp.ravel(g(s * x)) for s in SCALES])


def t_jacfwd(g):
    return lambda x: _flat(wg.jacfwd(g)(x))


def t_jacrev(g):
    return lambda x: _flat(wg.jacrev(g)(x))


def r_jac(g):
    return lambda x: onp.ravel(wg.numeric.jacobian(lambda y: onp.ravel(g(y)), x))


def t_hessian(g):
    return lambda x: _flat(wg.hessian(lambda y: wnp.sum(g(y)))(x))


def r_hessian(g):
    return lambda x: onp.ravel(
        wg.numeric.jacobian(lambda y: wg.numeric.gradient(lambda z: onp.sum(g(z)), y), x)
    )


def t_checkpoint(g):
    return wg.checkpoint(g)


def identity(g):
    return g


def t_custom_vjp(g):
    @wg.custom_vjp
    def h(x):
        return g(x)

    def fwd(x):
        out, pullback = wg.vjp(g, x)
        return out, pullback

    h.defvjp(fwd, lambda pullback, ct: pullback(ct))
    return h


def t_custom_jvp(g):
    @wg.custom_jvp
    def h(x):
        return g(x)

    @h.defjvp
    def _(primals, tangents):
        return wg.jvp(g, primals, tangents)

    return h


# name -> (transformation, reference, derivative order it adds: numerical references of a
# derivative need a looser tolerance)
TRANSFORMS = {
    "grad": (t_grad, r_grad, 1),
    "jvp": (t_jvp, r_jvp, 1),
    "vjp": (t_vjp, r_vjp, 1),
    "vmap": (t_vmap, r_vmap, 0),
    "jacfwd": (t_jacfwd, r_jac, 1),
    "jacrev": (t_jacrev, r_jac, 1),
    "hessian": (t_hessian, r_hessian, 2),
    "checkpoint": (t_checkpoint, identity, 0),
    "custom_vjp": (t_custom_vjp, identity, 0),
    "custom_jvp": (t_custom_jvp, identity, 0),
}
PAIRS = list(itertools.product(TRANSFORMS, TRANSFORMS))


@pytest.mark.parametrize("outer, inner", PAIRS, ids=[f"{o}-of-{i}" for o, i in PAIRS])
def test_every_pair_of_transformations_composes(outer, inner):
    t_outer, r_outer, order = TRANSFORMS[outer]
    t_inner = TRANSFORMS[inner][0]
    g = t_inner(f)
    got = onp.asarray(t_outer(g)(X))
    expected = onp.asarray(r_outer(lambda x: onp.asarray(g(x)))(X))
    tolerance = {0: 1e-12, 1: 1e-7, 2: 1e-5}[order]
    onp.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("inner", list(TRANSFORMS))
def test_variables_backward_through_every_transformation(inner):
    g = TRANSFORMS[inner][0](f)
    x = wg.Variable(X.copy())
    wnp.sum(g(x)).backward()
    expected = wg.numeric.gradient(lambda y: onp.sum(onp.asarray(g(y))), X)
    onp.testing.assert_allclose(x.grad.data, expected, rtol=1e-6, atol=1e-7)
