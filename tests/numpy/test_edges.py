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


def test_fmax_and_fmin_differentiate_the_entry_they_return():
    x = onp.array([0.3, -0.5, 2.0])
    y = onp.array([onp.nan, 0.0, 1.0])
    onp.testing.assert_array_equal(both_modes(lambda x: wnp.fmax(x, y), x), [1, 0, 1])
    onp.testing.assert_array_equal(both_modes(lambda x: wnp.fmin(x, y), x), [1, 1, 0])
    onp.testing.assert_array_equal(both_modes(lambda y: wnp.fmax(x, y), y), [0, 1, 0])
    onp.testing.assert_array_equal(wg.grad(lambda x: onp.sum(onp.fmax(x, y)))(x), [1, 0, 1])
    # Both NaN: the result is NaN whatever either does, so neither gets a derivative.
    both_nan = onp.array([onp.nan])
    assert both_modes(lambda x: wnp.fmax(x, both_nan), both_nan)[0] == 0.0
    wg.check_grads(lambda x: wnp.fmax(x, y) + wnp.fmin(y, x), order=2)(x)


def test_nan_results_of_maximum_and_minimum_have_no_derivative():
    x = onp.array([onp.nan, 1.0, onp.nan])
    y = onp.array([0.0, onp.nan, onp.nan])
    for f in (wnp.maximum, wnp.minimum):
        onp.testing.assert_array_equal(both_modes(lambda x, f=f: f(x, y), x), [0, 0, 0])
        onp.testing.assert_array_equal(both_modes(lambda y, f=f: f(x, y), y), [0, 0, 0])


@pytest.mark.parametrize("f", [wnp.maximum, wnp.minimum, wnp.fmax, wnp.fmin, wnp.hypot])
def test_binary_extrema_keep_float32(f):
    x = onp.array([0.5, -1.0, 2.0], dtype=onp.float32)
    g = wg.grad(lambda x: wnp.sum(f(x, 0.5)))(x)
    assert g.dtype == onp.float32
    assert wg.jvp(lambda x: f(x, onp.float32(0.5)), (x,), (x,))[1].dtype == onp.float32


def test_clip_takes_numpy_2_min_and_max_keywords():
    x = onp.array([-1.0, 0.2, 3.0])
    onp.testing.assert_array_equal(wg.grad(lambda x: onp.sum(onp.clip(x, min=0.0)))(x), [0, 1, 1])
    onp.testing.assert_array_equal(wg.grad(lambda x: onp.sum(x.clip(max=1.0)))(x), [1, 1, 0])
    with pytest.raises(ValueError, match="not both"):
        wnp.clip(x, 0.0, 1.0, min=0.0)


@pytest.mark.parametrize(
    "point",
    [0.0, onp.float64(0.0), onp.array(0.0), onp.zeros(3)],
    ids=["float", "float64", "0-d", "array"],
)
def test_hypot_at_zero_has_zero_derivative_like_norm(point):
    def f(x):
        return wnp.hypot(x, 0.0 * x) + wnp.hypot(0.0, x)

    rev = wg.elementwise_grad(f)(point)
    fwd = wg.jvp(f, (point,), (onp.ones_like(point),))[1]
    onp.testing.assert_array_equal(rev, onp.zeros_like(point))
    onp.testing.assert_array_equal(fwd, onp.zeros_like(point))
    second = wg.elementwise_grad(wg.elementwise_grad(f))(point)
    onp.testing.assert_array_equal(second, onp.zeros_like(point))
    assert wg.grad(lambda v: wnp.linalg.norm(v))(onp.zeros(2)).tolist() == [0.0, 0.0]
