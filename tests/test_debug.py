"""wengert.debug_nans: the first primitive that makes a NaN or an infinity from finite
values is named, with the user's line, for values, tangents and cotangents."""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert import debug
from wengert._core import primitive

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def safe_looking_norm(x):
    return wnp.sqrt(wnp.sum(x**2))  # the derivative of sqrt at 0 is infinite


def test_cotangent_names_the_primitive_and_the_line():
    x = onp.zeros(3)
    assert onp.isnan(wg.grad(safe_looking_norm)(x)).all()  # off: the NaN goes through
    with wg.debug_nans(), pytest.raises(wg.NonFiniteError) as info:
        wg.grad(safe_looking_norm)(x)
    message = str(info.value)
    assert "cotangent" in message and "argument 0 of sqrt" in message
    assert "test_debug.py" in message and "safe_looking_norm" in message


def test_value_made_non_finite_from_finite_inputs():
    with wg.debug_nans(), pytest.raises(wg.NonFiniteError, match=r"log made a non-finite"):
        wg.grad(lambda x: wnp.log(x - 1.0))(1.0)
    with wg.debug_nans():  # a non-finite input is not the culprit's fault
        assert wg.grad(lambda x: x * 2.0)(onp.inf) == 2.0


def test_tangent_in_forward_mode_and_under_nesting():
    with wg.debug_nans():
        with pytest.raises(wg.NonFiniteError, match=r"tangent .* of sqrt"):
            wg.jvp(lambda x: wnp.sqrt(x) + 1.0, (0.0,), (1.0,))
        # The inner derivative is recorded by the outer grad: the division in sqrt's rule
        # is the first to make an infinity.
        with pytest.raises(wg.NonFiniteError, match="true_divide made a non-finite value"):
            wg.grad(wg.grad(lambda x: wnp.sqrt(x) * x))(0.0)
        with pytest.raises(wg.NonFiniteError, match="sqrt"):
            wg.jacfwd(lambda x: wnp.sqrt(x))(onp.zeros(2))
        with pytest.raises(wg.NonFiniteError, match="sqrt"):
            wnp.sum(wnp.sqrt(wg.Variable([0.0, 1.0]))).backward()


def test_finite_computations_are_unchanged_and_switching_costs_nothing_when_off():
    f = lambda x: wnp.sum(wnp.tanh(x) * wnp.exp(-(x**2)))
    x = onp.linspace(-1.0, 1.0, 5)
    expected = wg.grad(f)(x)
    with wg.debug_nans():
        assert wg.debug.is_debugging_nans()
        onp.testing.assert_array_equal(wg.grad(f)(x), expected)
        onp.testing.assert_array_equal(wg.hessian(f)(x), wg.hessian(f)(x))
    assert not wg.debug.is_debugging_nans()
    assert primitive.bind is debug._plain_bind  # the engine's own bind, untouched
    wg.debug_nans(True)
    try:
        assert wg.debug.is_debugging_nans()
        with wg.debug_nans(False):
            assert not wg.debug.is_debugging_nans()
        assert wg.debug.is_debugging_nans()
    finally:
        wg.debug_nans(False)
    assert not wg.debug.is_debugging_nans()
