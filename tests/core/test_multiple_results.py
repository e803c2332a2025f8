"""Primitives with several results: each result is traced, in both modes, to order 2."""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert._core.primitive import Primitive


def _sincos_impl(x):
    return onp.sin(x), onp.cos(x)


sincos = Primitive(_sincos_impl, "sincos", multiple_results=True)
sincos.defvjp(lambda g, ans, x: g[0] * wnp.cos(x) - g[1] * wnp.sin(x))
sincos.defjvp_all(lambda ts, ans, x: (ts[0] * wnp.cos(x), -ts[0] * wnp.sin(x)))

X = onp.array([0.3, 1.2, -0.7])


@pytest.mark.parametrize(
    "fun",
    [
        lambda x: wnp.sum(sincos(x)[0] * 2.0 + sincos(x)[1] ** 3),
        lambda x: sincos(x)[0],  # only one result used: the other gets a zero cotangent
        lambda x: sincos(x)[1] * x,
        lambda x: wnp.sum(wnp.stack(sincos(x * x))),
    ],
)
def test_multiple_results_to_second_order(fun):
    wg.check_grads(fun, modes=("fwd", "rev"), order=2)(X)


def test_values_and_gradient():
    s, c = sincos(X)
    onp.testing.assert_allclose(s, onp.sin(X))
    onp.testing.assert_allclose(c, onp.cos(X))
    g = wg.grad(lambda x: wnp.sum(sincos(x)[0] * sincos(x)[1]))(X)
    onp.testing.assert_allclose(g, onp.cos(2 * X))
