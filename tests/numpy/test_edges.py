"""Derivatives at non-differentiable or singular points take the documented values."""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp


def both_modes(f, x):
    """The derivative by reverse and by forward mode (they must agree)."""
    rev = wg.elementwise_grad(f)(x)
    fwd = wg.jvp(f, (x,), (onp.ones_like(x),))[1]
    onp.testing.assert_array_equal(rev, fwd)
    return rev


def test_abs_at_zero():
    assert both_modes(wnp.abs, onp.array([0.0]))[0] == 0.0


def test_maximum_and_minimum_ties_split_evenly():
    x = onp.array([1.0, 2.0, 3.0])
    onp.testing.assert_array_equal(both_modes(lambda x: wnp.maximum(x, 2.0), x), [0, 0.5, 1])
    onp.testing.assert_array_equal(both_modes(lambda x: wnp.minimum(x, 2.0), x), [1, 0.5, 0])
    g = wg.grad(lambda y: wnp.sum(wnp.maximum(x, y)))(2.0)
    assert g == 1.5  # 1 from x=1, 1/2 from the tie


def test_max_reduction_ties_share():
    x = onp.array([3.0, 1.0, 3.0, 2.0])
    onp.testing.assert_array_equal(wg.grad(wnp.max)(x), [0.5, 0, 0.5, 0])
    assert wg.jvp(wnp.max, (x,), (onp.array([1.0, 0, 3.0, 0]),))[1] == 2.0


def test_clip_at_bounds():
    x = onp.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    onp.testing.assert_array_equal(
        both_modes(lambda x: wnp.clip(x, -0.5, 0.5), x), [0, 0.5, 1, 0.5, 0]
    )


@pytest.mark.parametrize("y, expected", [(2.0, 0.0), (1.0, 1.0), (0.0, 0.0), (3, 0.0)])
def test_power_at_zero_base(y, expected):
    assert wg.grad(lambda x: x**y)(0.0) == expected
    assert wg.jvp(lambda x: x**y, (0.0,), (1.0,))[1] == expected


def test_power_in_exponent_at_zero_base():
    assert wg.grad(lambda y: 0.0**y)(2.0) == 0.0
    assert wg.jvp(lambda y: 0.0**y, (2.0,), (1.0,))[1] == 0.0


def test_sqrt_at_zero_is_infinite():
    with onp.errstate(divide="ignore"):
        assert wg.grad(wnp.sqrt)(0.0) == onp.inf


def test_prod_with_zeros_is_exact_to_second_order():
    x = onp.array([0.0, 2.0, 3.0, 0.0, 5.0])
    onp.testing.assert_array_equal(wg.grad(wnp.prod)(x), [0, 0, 0, 0, 0])
    x1 = onp.array([0.0, 2.0, 3.0])
    onp.testing.assert_array_equal(wg.grad(wnp.prod)(x1), [6.0, 0, 0])
    hessian_row = wg.grad(lambda x: wg.grad(wnp.prod)(x)[0])(x1)
    onp.testing.assert_array_equal(hessian_row, [0.0, 3.0, 2.0])
    wg.check_grads(wnp.prod, order=2)(x1)
