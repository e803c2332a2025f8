"""check_grads catches wrong rules, at first and at second order, and names the culprit."""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp


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
