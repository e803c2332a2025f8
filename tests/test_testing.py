"""check_grads catches wrong rules, at first and at second order, and names the culprit;
it tells a kink from a wrong rule, and keeps its reports short."""

from __future__ import annotations

import re
import warnings
from collections import namedtuple

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert import nn
from wengert.nn import functional as F
from wengert.testing import NonDifferentiablePointError, NonSmoothPointWarning


def make_sin(vjp_scale=1.0, jvp_scale=1.0, second_order_wrong=False):
    """sin as a new primitive whose rules can be made slightly wrong."""
    p = wg.primitive(onp.sin)

    def deriv(x):
        if second_order_wrong:
            # The value of cos(x), but the slope of sin(x) instead of -sin(x).
            return wg.stop_gradient(wnp.cos(x)) + (wnp.sin(x) - wg.stop_gradient(wnp.sin(x)))
        return wnp.cos(x)

    p.defvjp(lambda g, ans, x: g * deriv(x) * vjp_scale)
    p.defjvp(lambda t, ans, x: t * deriv(x) * jvp_scale)
    return p


def test_correct_rules_pass():
    wg.check_grads(make_sin(), modes=("fwd", "rev"), order=2)(onp.array([0.3, -1.2]))


@pytest.mark.parametrize(
    "mode, kwargs", [("rev", {"vjp_scale": 1.001}), ("fwd", {"jvp_scale": 0.999})]
)
def test_slightly_wrong_first_order_rule_is_caught(mode, kwargs):
    bad = make_sin(**kwargs)
    with pytest.raises(wg.GradientCheckError, match="order 1") as info:
        wg.check_grads(lambda x: wnp.sum(bad(x) * 2.0), modes=(mode,), order=1)(
            onp.array([0.3, -1.2])
        )
    message = str(info.value)
    assert "culprit: primitive 'sin'" in message
    assert "autodiff" in message and "numerical" in message and "inputs" in message


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_rule_wrong_only_at_second_order_is_caught(mode):
    bad = make_sin(second_order_wrong=True)
    x = onp.array([0.3, -1.2])
    wg.check_grads(bad, modes=(mode,), order=1)(x)  # first order is right
    with pytest.raises(wg.GradientCheckError, match="order 2"):
        wg.check_grads(bad, modes=(mode,), order=2)(x)


def test_checks_trees_and_ignores_integer_leaves():
    def fun(params, n):
        return wnp.sum(params["w"] ** n) * params["b"]

    wg.check_grads(fun)({"w": onp.array([0.5, 1.5]), "b": 2.0}, 3)


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        wg.check_grads(wnp.sin, modes=("sideways",))
    with pytest.raises(ValueError, match="order"):
        wg.check_grads(wnp.sin, order=0)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="modes is empty"):
        wg.check_grads(wnp.sin, modes=())
    with pytest.raises(TypeError, match="order must be an integer"):
        wg.check_grads(wnp.sin, order=1.5)
    with pytest.raises(ValueError, match="rtol must be a finite float >= 0"):
        wg.check_grads(wnp.sin, rtol=-1e-3)


# --- points near and at kinks ---------------------------------------------------------------


class MLP(nn.Module):
    """The ReLU network of docs/deep_learning.md."""

    def __init__(self, hidden=256):
        super().__init__()
        self.hidden = nn.Linear(64, hidden, rng=0)
        self.out = nn.Linear(hidden, 10, rng=1)

    def forward(self, x):
        return self.out(F.relu(self.hidden(x)))


def test_relu_network_passes_at_order_2_at_a_realistic_point():
    # Regression: at order 2 the function checked is the gradient, which jumps wherever a
    # pre-activation crosses 0; central differences straddled such jumps and blamed relu.
    model = MLP()
    rng = onp.random.default_rng(0)
    xb, yb = rng.random((16, 64)), rng.integers(0, 10, 16)

    def loss_fn(params, xb, yb):
        return F.cross_entropy(nn.functional_call(model, params, xb), yb)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wg.check_grads(loss_fn, order=2)(model.params(), xb, yb)


def make_abs(left_slope=-1.0):
    """abs as a new primitive whose derivative left of 0 is `left_slope` (-1 is right)."""
    p = wg.primitive(onp.abs)
    p.defjvp(lambda t, ans, x: t * wnp.where(x > 0, 1.0, left_slope))
    p.defvjp(lambda g, ans, x: g * wnp.where(x > 0, 1.0, left_slope))
    return p


@pytest.mark.parametrize("distance", [1e-3, 1e-6, 1e-8])
def test_rule_wrong_on_one_side_of_a_kink_is_caught_next_to_it(distance):
    bad = make_abs(left_slope=-0.9)
    # Left of the kink, well inside the first step: the closer look still sees it.
    with pytest.raises(wg.GradientCheckError, match="order 1 is wrong") as info:
        wg.check_grads(bad, order=1)(onp.array([-distance, 0.5]))
    assert not isinstance(info.value, NonDifferentiablePointError)
    assert "culprit: primitive 'absolute'" in str(info.value)
    assert "failing input entry: x[0]" in str(info.value)
    # Right of the kink the rule is right.
    wg.check_grads(bad, order=2)(onp.array([distance, 0.5]))


def test_rule_wrong_on_one_side_is_caught_at_the_kink_when_outside_both_slopes():
    # At the kink autodiff takes the wrong left side, -1.5: it matches neither one-sided
    # slope (-1 and 1) nor lies between them.
    with pytest.raises(NonDifferentiablePointError, match="matches neither one-sided"):
        wg.check_grads(make_abs(left_slope=-1.5), order=1)(onp.array([0.0, 0.5]))


def test_rule_wrong_only_at_the_kink_itself_is_caught():
    # relu'(0) = 2: not a slope of either side, nor between them.
    p = wg.primitive(lambda x: onp.maximum(x, 0.0))
    p.defjvp(lambda t, ans, x: t * wnp.where(x > 0, 1.0, wnp.where(x == 0, 2.0, 0.0)))
    p.defvjp(lambda g, ans, x: g * wnp.where(x > 0, 1.0, wnp.where(x == 0, 2.0, 0.0)))
    wg.check_grads(p)(onp.array([1e-4, -1e-4, 0.7]))
    with pytest.raises(NonDifferentiablePointError, match="check at a point nearby"):
        wg.check_grads(p, modes=("fwd",), order=1)(onp.array([0.0, 0.7]))


NEAR_KINKS = [
    ("abs", wnp.abs, [1e-3, -2e-4, 1e-6, 0.8]),
    ("relu", lambda x: wnp.maximum(x, 0.0), [1e-3, -1e-3, 3e-7, 1.1]),
    ("maximum", lambda x: wnp.maximum(x, 0.3 - x), [0.1501, 0.1499, 0.9]),
    ("max", lambda x: wnp.max(x), [0.5, 0.5 + 1e-5, -1.0]),
    ("clip", lambda x: wnp.clip(x, -1.0, 1.0), [0.9999, -1.00001, 0.2]),
    ("relu network", lambda x: wnp.sum(wnp.maximum(wnp.outer(x, x) - 0.25, 0.0)), [0.5001, 0.3]),
]


@pytest.mark.parametrize("name, fun, point", NEAR_KINKS, ids=[c[0] for c in NEAR_KINKS])
def test_points_near_a_kink_pass_without_warning(name, fun, point):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wg.check_grads(fun, order=2)(onp.array(point))


AT_KINKS = [
    ("abs", wnp.abs, [0.0, 0.8]),
    ("relu", lambda x: wnp.maximum(x, 0.0), [0.0, 1.1]),
    ("clip", lambda x: wnp.clip(x, -1.0, 1.0), [1.0, -1.0, 0.2]),
    ("sum of abs", lambda x: wnp.sum(wnp.abs(x)), [0.0, 0.5]),
]


@pytest.mark.parametrize("name, fun, point", AT_KINKS, ids=[c[0] for c in AT_KINKS])
def test_points_at_a_kink_pass_with_a_warning(name, fun, point):
    with pytest.warns(NonSmoothPointWarning, match="not smooth for the order-2"):
        wg.check_grads(fun, order=2)(onp.array(point))


def test_function_with_a_real_jump():
    def step_up(x):
        return wnp.where(x > 0, x**2, x**2 + 1.0)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wg.check_grads(step_up)(onp.array([1e-4, -1e-4, 0.6]))  # next to the jump: smooth
    # At the jump the derivative's limits from both sides agree with autodiff.
    with pytest.warns(NonSmoothPointWarning, match="order-1"):
        wg.check_grads(step_up)(onp.array([0.0, 0.6]))
    with pytest.warns(NonSmoothPointWarning):
        wg.check_grads(lambda x: wnp.floor(x) + x**2)(onp.array([2.0, 0.5]))
    # A derivative wrong on one side of the jump is still caught next to it.
    bad = wg.primitive(lambda x: onp.where(x > 0, x, x + 1.0))
    bad.defjvp(lambda t, ans, x: t * wnp.where(x > 0, 1.0, 1.2))
    with pytest.raises(wg.GradientCheckError, match="order 1 is wrong"):
        wg.check_grads(bad, modes=("fwd",), order=1)(onp.array([-1e-3, 0.5]))


def test_noise_is_not_read_as_a_derivative():
    rng = onp.random.default_rng(1)

    def noisy(x):
        return x * (1.0 + 1e-3 * rng.standard_normal())

    with pytest.raises(NonDifferentiablePointError, match="cannot be checked"):
        wg.check_grads(noisy, modes=("fwd",), order=1)(onp.array([0.5, 2.0]))


# --- short reports --------------------------------------------------------------------------


def test_report_is_short_and_names_the_input_entry():
    # A relu whose slope is 1% off, in a network with 17k parameters.
    bad_relu = wg.primitive(lambda x: onp.maximum(x, 0.0))
    bad_relu.defjvp(lambda t, ans, x: t * wnp.where(x > 0, 1.01, 0.0))
    bad_relu.defvjp(lambda g, ans, x: g * wnp.where(x > 0, 1.01, 0.0))
    rng = onp.random.default_rng(0)
    params = {"w1": rng.normal(size=(256, 64)) * 0.1, "w2": rng.normal(size=(10, 256)) * 0.1}
    xb, yb = rng.random((16, 64)), rng.integers(0, 10, 16)

    def loss_fn(params, xb, yb):
        return F.cross_entropy(bad_relu(xb @ params["w1"].T) @ params["w2"].T, yb)

    for mode in ("fwd", "rev"):
        with pytest.raises(wg.GradientCheckError) as info:
            wg.check_grads(loss_fn, modes=(mode,), order=1)(params, xb, yb)
        message = str(info.value)
        assert len(message.splitlines()) <= 10 and len(message) < 1200, message
        assert "params['w1'] (256, 64) float64" in message
        assert re.search(r"failing input entry: params\['w1'\]\[\d+, \d+\] \(shape", message)
        assert "abs error" in message and "rel error" in message
        assert "culprit: primitive '<lambda>'" in message


def test_report_shows_only_the_worst_entries_of_an_array_output():
    bad = make_sin(jvp_scale=1.001)
    x = onp.linspace(-1.0, 1.0, 200).reshape(20, 10)
    with pytest.raises(wg.GradientCheckError) as info:
        wg.check_grads(lambda x: {"y": bad(x)}, modes=("fwd",), order=1)(x)
    message = str(info.value)
    assert len(message.splitlines()) <= 10, message
    assert "of 200 output entries differ; the worst:" in message
    assert len(re.findall(r"out\['y'\]\[\d+, \d+\]: autodiff", message)) == 3


# --- other inputs and outputs ---------------------------------------------------------------


def test_float32_inputs_get_float32_tolerances():
    rng = onp.random.default_rng(0)
    model = nn.Sequential(nn.Linear(20, 32, rng=0), nn.GELU(), nn.Linear(32, 5, rng=1))
    model = model.astype(onp.float32)
    xb, yb = rng.normal(size=(8, 20)).astype(onp.float32), rng.integers(0, 5, 8)

    def loss_fn(params, xb, yb):
        return F.cross_entropy(nn.functional_call(model, params, xb), yb)

    wg.check_grads(loss_fn, order=2)(model.params(), xb, yb)
    bad = make_sin(jvp_scale=1.01)
    with pytest.raises(wg.GradientCheckError, match="numerical side in float64"):
        wg.check_grads(bad, modes=("fwd",), order=1)(onp.array([0.3, 1.2], onp.float32))


def test_trees_complex_inputs_tree_outputs_and_empty_arrays():
    Pair = namedtuple("Pair", "w n")
    wg.check_grads(lambda p: wnp.sum(p.w**p.n))(Pair(onp.array([0.5, 1.5]), 3))
    wg.check_grads(lambda z: z**2 * wnp.exp(z))(onp.array([1 + 2j, 0.5 - 1j]))
    wg.check_grads(lambda z: wnp.real(z * wnp.conj(z)))(onp.array([1 + 2j, 0.5 - 1j]))
    wg.check_grads(lambda x: {"a": wnp.sin(x), "b": (x**2, wnp.sum(x), 3)})(onp.array([0.3, 1.2]))
    wg.check_grads(lambda x, e: wnp.sum(wnp.sin(x)) + wnp.sum(e))(onp.array([0.3]), onp.zeros(0))
    wg.check_grads(lambda e: wnp.sin(e))(onp.zeros((0, 3)))


def test_huge_and_tiny_scales_are_checked_not_waved_through():
    big = onp.array([1e200, -2e200])
    wg.check_grads(lambda x: wnp.sin(x / 1e200) * 1e200)(big)
    wg.check_grads(lambda x: x * 3.0)(big)
    wg.check_grads(wnp.log)(onp.abs(big))
    tiny = onp.array([1e-200, 3e-200])
    wg.check_grads(wnp.sin)(tiny)
    wg.check_grads(lambda x: x * 1e200)(tiny)
    wg.check_grads(wnp.log, order=1)(tiny)
    bad = make_sin(vjp_scale=1.001)
    for x, scale in ((big, 1e200), (tiny, 1e-200)):
        with pytest.raises(wg.GradientCheckError, match="order 1 is wrong"):
            wg.check_grads(lambda x, s=scale: bad(x / s) * s, modes=("rev",), order=1)(x)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_value_that_is_not_finite_is_reported_not_blamed():
    with pytest.raises(ValueError, match=r"not finite at this point \(out\[0\] = nan"):
        wg.check_grads(wnp.sqrt)(onp.array([-1.0, 2.0]))
    with pytest.raises(ValueError, match="not finite"):
        wg.check_grads(wnp.log)(onp.array([0.0, 2.0]))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_derivative_that_overflows_is_said_to():
    # log'' = -1/x^2 is about -1e400 at 1e-200: not a float64, so autodiff gives inf or nan.
    with pytest.raises(wg.GradientCheckError, match="autodiff is not finite"):
        wg.check_grads(wnp.log, modes=("rev",), order=2)(onp.array([1e-200, 3e-200]))


def test_a_function_that_raises_outside_its_domain_is_checked_inside_it():
    def checked_log(x):
        if onp.any(wg.stop_gradient(x) <= 0):
            raise ValueError("checked_log: x must be positive")
        return wnp.log(x)

    # The first steps reach below 0; the closer look steps back inside the domain.
    wg.check_grads(checked_log)(onp.array([1e-3, 2.0]))
