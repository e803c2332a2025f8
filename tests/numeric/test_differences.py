"""Finite differences, Richardson extrapolation and the complex step against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from wengert.numeric import (
    complex_step,
    default_step,
    derivative,
    directional_derivative,
    fd_weights,
    gradient,
    jacobian,
    richardson,
    stencil,
)

POINTS = [-1.3, -0.2, 0.0, 0.7, 2.1]
FUNCS = [
    (np.sin, np.cos),
    (np.exp, np.exp),
    (lambda x: 1.0 / (1.0 + x * x), lambda x: -2.0 * x / (1.0 + x * x) ** 2),
]


def test_classical_weights():
    np.testing.assert_allclose(fd_weights([-1, 0, 1]), [-0.5, 0, 0.5], atol=1e-15)
    np.testing.assert_allclose(stencil("central", 4)[1], [1 / 12, -2 / 3, 0, 2 / 3, -1 / 12])
    np.testing.assert_allclose(fd_weights([-1, 0, 1], 2), [1, -2, 1])
    np.testing.assert_allclose(stencil("forward", 2)[1], [-1.5, 2, -0.5])
    np.testing.assert_allclose(stencil("backward", 2)[1], [0.5, -2, 1.5])


@pytest.mark.parametrize("kind", ["central", "forward", "backward"])
@pytest.mark.parametrize("accuracy", [2, 4, 6])
def test_stencils_are_exact_on_polynomials(kind, accuracy):
    offsets, weights = stencil(kind, accuracy)
    assert abs(weights.sum()) < 1e-12
    for degree in range(accuracy + 1):
        # d/dx x^degree at 0 is 1 for degree 1, else 0.
        got = np.sum(weights * offsets**degree)
        assert got == pytest.approx(1.0 if degree == 1 else 0.0, abs=1e-10)


@pytest.mark.parametrize("kind", ["central", "forward", "backward"])
@pytest.mark.parametrize("accuracy, tol", [(2, 1e-6), (4, 1e-9), (6, 1e-10)])
def test_directional_derivative_accuracy(kind, accuracy, tol):
    if kind != "central":
        tol *= 30
    for f, df in FUNCS:
        for x in POINTS:
            got = directional_derivative(f, x, 1.0, kind=kind, accuracy=accuracy)
            assert got == pytest.approx(df(x), abs=tol)


def test_richardson_accuracy_and_error_estimate():
    for f, df in FUNCS:
        for x in POINTS:
            est, err = richardson(f, x, 1.0)
            true_error = abs(est - df(x))
            assert true_error < 1e-11
            assert true_error <= 10 * err + 1e-14


def test_richardson_on_arrays_and_directions():
    x = np.array([0.3, -0.7, 1.1])
    v = np.array([1.0, 2.0, -0.5])
    est, err = richardson(lambda x: np.stack([np.sin(x), x**3]), x, v)
    expected = np.stack([np.cos(x) * v, 3 * x**2 * v])
    np.testing.assert_allclose(est, expected, atol=1e-10)
    assert err.shape == expected.shape


def test_complex_step_is_exact():
    for x in POINTS:
        assert complex_step(np.sin, x, 1.0) == pytest.approx(np.cos(x), rel=1e-15, abs=1e-16)
        assert complex_step(np.exp, x, 1.0) == pytest.approx(np.exp(x), rel=1e-15)


def test_complex_step_refuses_non_analytic_functions():
    with pytest.raises(TypeError, match="imaginary"):
        complex_step(np.abs, 0.3, 1.0)


def test_higher_derivatives():
    assert derivative(np.sin, 0.3, method="central", n=2, accuracy=4) == pytest.approx(
        -np.sin(0.3), abs=1e-7
    )
    assert derivative(np.exp, 0.3, method="central", n=3, accuracy=2) == pytest.approx(
        np.exp(0.3), abs=1e-4
    )
    assert derivative(np.sin, 0.3, method="forward", n=4, accuracy=2) == pytest.approx(
        np.sin(0.3), abs=1e-2
    )
    assert derivative(np.sin, 0.3, method="complex") == pytest.approx(np.cos(0.3), rel=1e-15)


def test_gradient_and_jacobian():
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(
        gradient(lambda x: np.sum(np.sin(x) * x), x), np.cos(x) * x + np.sin(x), atol=1e-10
    )
    A = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(jacobian(lambda x: A @ x, x), A, atol=1e-10)
    np.testing.assert_allclose(jacobian(lambda x: A @ x, x, method="complex"), A, atol=1e-14)
    np.testing.assert_allclose(
        jacobian(lambda x: A @ x, x, method="forward", accuracy=4), A, atol=1e-8
    )


def test_default_step_scales_with_x():
    assert default_step(0.0) == pytest.approx(np.finfo(float).eps ** (1 / 3))
    assert default_step(1e4) == pytest.approx(1e4 * np.finfo(float).eps ** (1 / 3))
    assert default_step(0.0, "central", 6) > default_step(0.0, "central", 2)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: stencil("sideways", 2), "kind"),
        (lambda: stencil("central", 3), "accuracy"),
        (lambda: derivative(np.sin, 0.0, n=5), "n must be"),
        (lambda: derivative(np.sin, 0.0, method="complex", n=2), "first derivatives"),
        (lambda: jacobian(np.sin, np.ones(2), method="magic"), "method"),
        (lambda: gradient(np.sin, np.ones(2)), "scalar"),
        (lambda: directional_derivative(np.sin, np.ones(2), np.ones(3)), "shape"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
