"""Nesting transformations: higher orders, mixed modes, no perturbation confusion."""

from __future__ import annotations

import math

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp

POINTS = [-1.3, -0.4, 0.0, 0.7, 2.1]


def fwd_deriv(f):
    return lambda x: wg.jvp(f, (x,), (1.0,))[1]


def nth(f, n, kind):
    for _ in range(n):
        f = wg.grad(f) if kind == "rev" else fwd_deriv(f)
    return f


def mixed(f, n):
    for k in range(n):
        f = wg.grad(f) if k % 2 else fwd_deriv(f)
    return f


def sin_nth(x, n):
    return math.sin(x + n * math.pi / 2)


def rational_nth(x, n):
    # d^n/dx^n 1/(1+x^2) = (-1)^n n! Im[(x+i)^-(n+1)] / Im[...]: use partial fractions:
    # 1/(1+x^2) = (1/(x-i) - 1/(x+i)) / (2i)
    z1, z2 = complex(x, -1.0), complex(x, 1.0)
    val = ((-1) ** n * math.factorial(n)) * (z1 ** -(n + 1) - z2 ** -(n + 1)) / 2j
    return val.real


@pytest.mark.parametrize("kind", ["rev", "fwd", "mixed"])
@pytest.mark.parametrize("n", range(1, 7))
def test_nth_derivatives_against_closed_forms(n, kind):
    def get(f):
        return mixed(f, n) if kind == "mixed" else nth(f, n, kind)

    for x in POINTS:
        assert get(wnp.sin)(x) == pytest.approx(sin_nth(x, n), abs=1e-12)
        assert get(wnp.exp)(x) == pytest.approx(math.exp(x), rel=1e-12)
        assert get(lambda x: 1.0 / (1.0 + x * x))(x) == pytest.approx(
            rational_nth(x, n), rel=1e-9, abs=1e-9
        )


COMBOS = {
    "rev-rev": (wg.grad, wg.grad),
    "fwd-fwd": (fwd_deriv, fwd_deriv),
    "rev-fwd": (wg.grad, fwd_deriv),
    "fwd-rev": (fwd_deriv, wg.grad),
}


@pytest.mark.parametrize("combo", COMBOS)
def test_no_perturbation_confusion(combo):
    outer, inner = COMBOS[combo]
    # d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1 everywhere.
    for x in POINTS:
        assert outer(lambda x: x * inner(lambda y: x + y)(2.0))(x) == pytest.approx(1.0)
    # d/dx [x * d/dy (x * y)] = d/dx [x^2] = 2x.
    for x in POINTS:
        assert outer(lambda x: x * inner(lambda y: x * y)(2.0))(x) == pytest.approx(2 * x)
    # Three levels: d/dx [ d/dy [ x*y * d/dz (x*y*z) ] ] = d/dx d/dy (x*y)^2 = 4xy at y=3.
    for x in POINTS:
        got = outer(lambda x: inner(lambda y: x * y * outer(lambda z: x * y * z)(5.0))(3.0))(x)
        assert got == pytest.approx(4 * x * 3.0)


def test_inner_function_closes_over_outer_variable_used_twice():
    # f(x) = d/dy [sin(x*y) + y*x^2] at y=1 = x cos(x) + x^2; f'(x) = cos x - x sin x + 2x
    def f(x):
        return wg.grad(lambda y: wnp.sin(x * y) + y * x**2)(1.0)

    for x in POINTS:
        expected = math.cos(x) - x * math.sin(x) + 2 * x
        assert wg.grad(f)(x) == pytest.approx(expected)
        assert fwd_deriv(f)(x) == pytest.approx(expected)


def test_hessian_vector_product_forward_over_reverse():
    A = onp.array([[2.0, 1.0], [1.0, 3.0]])

    def f(x):
        return 0.5 * x @ A @ x + wnp.sum(wnp.sin(x))

    x, v = onp.array([0.3, -0.8]), onp.array([1.0, 2.0])
    hvp = wg.jvp(wg.grad(f), (x,), (v,))[1]
    onp.testing.assert_allclose(hvp, A @ v - onp.sin(x) * v)
    hvp_rr = wg.grad(lambda x: wg.grad(f)(x) @ v)(x)
    onp.testing.assert_allclose(hvp_rr, hvp)


def test_escaped_value_raises():
    leaked = []

    def f(x):
        leaked.append(x * 2.0)
        return x**2

    wg.grad(f)(1.0)
    with pytest.raises(wg.EscapedTracerError, match="already finished"):
        wg.grad(lambda y: y * leaked[0])(3.0)
    with pytest.raises(wg.EscapedTracerError):
        wnp.sin(leaked[0])


def test_escaped_value_returned_from_function_raises():
    leaked = []
    wg.grad(lambda x: leaked.append(x) or x)(1.0)
    with pytest.raises(wg.EscapedTracerError):
        wg.vjp(lambda y: leaked[0], 2.0)
