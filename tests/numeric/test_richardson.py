"""Richardson extrapolation: accuracy, the error estimate, and array-valued functions."""

from __future__ import annotations

import numpy as np
import pytest

from wengert.numeric import default_step, richardson, richardson_step

EPS = np.finfo(np.float64).eps
POINTS = [-1.3, -0.2, 0.0, 0.7, 2.1]
FUNCS = [
    (np.sin, np.cos),
    (np.exp, np.exp),
    (lambda x: 1.0 / (1.0 + x * x), lambda x: -2.0 * x / (1.0 + x * x) ** 2),
]


def _check_estimate(estimate, error, exact, tol):
    true_error = np.abs(estimate - exact)
    assert np.all(true_error <= tol * np.maximum(1.0, np.abs(exact)))
    assert np.all(true_error <= 10 * error + 1e-13)


def test_accuracy_and_error_estimate_on_smooth_functions():
    for f, df in FUNCS:
        for x in POINTS:
            estimate, error = richardson(f, x, 1.0)
            assert estimate.shape == error.shape == ()
            _check_estimate(estimate, error, df(x), 1e-11)
            assert error < 1e-9


@pytest.mark.parametrize(
    "kind, accuracy",
    [(kind, a) for kind in ("central", "forward", "backward") for a in (2, 4, 6)]
    + [("forward", 1), ("backward", 1), ("forward", 3)],
)
def test_every_base_stencil(kind, accuracy):
    for f, df in FUNCS:
        for x in (-0.2, 0.7):
            estimate, error = richardson(f, x, 1.0, kind=kind, accuracy=accuracy)
            _check_estimate(estimate, error, df(x), 1e-10)


@pytest.mark.parametrize("levels", [2, 3, 5, 6])
@pytest.mark.parametrize("ratio", [1.5, 2.0, 3.0])
def test_levels_and_ratios(levels, ratio):
    for x in (-1.3, 0.7):
        estimate, error = richardson(np.exp, x, 1.0, levels=levels, ratio=ratio)
        _check_estimate(estimate, error, np.exp(x), 1e-9)


@pytest.mark.parametrize("step", [0.5, 0.1, 1e-2, 1e-3, 1e-4])
def test_error_estimate_bounds_the_error_at_any_step(step):
    for f, df in FUNCS:
        for x in POINTS:
            estimate, error = richardson(f, x, 1.0, step=step)
            assert abs(estimate - df(x)) <= 10 * error + 1e-13


def test_extrapolation_cancels_the_error_terms_exactly():
    # Central differences of x^5 have errors in h^2 and h^4 only; three levels remove both.
    estimate, _ = richardson(lambda x: x**5, 0.5, 1.0, step=0.5, levels=3)
    assert estimate == pytest.approx(5 * 0.5**4, rel=1e-13)
    estimate, _ = richardson(lambda x: x**5, 0.5, 1.0, step=0.5, levels=2)
    assert abs(estimate - 5 * 0.5**4) > 1e-3
    # Forward differences of order 2 on x^4 have errors in h^2 and h^3 only.
    estimate, _ = richardson(lambda x: x**4, 1.0, 1.0, step=0.5, levels=3, kind="forward")
    assert estimate == pytest.approx(4.0, rel=1e-13)


def test_array_valued_function_along_a_direction(rng):
    x = rng.standard_normal(3)
    v = rng.standard_normal(3)
    estimate, error = richardson(lambda x: np.stack([np.sin(x), x**3]), x, v)
    expected = np.stack([np.cos(x) * v, 3 * x**2 * v])
    assert estimate.shape == error.shape == (2, 3)
    assert error.dtype == np.float64 and np.all(error >= 0)
    _check_estimate(estimate, error, expected, 1e-11)


def test_matrix_argument_and_complex_output(rng):
    x = rng.standard_normal((2, 2))
    v = rng.standard_normal((2, 2))
    estimate, error = richardson(lambda a: np.trace(a @ a), x, v)
    _check_estimate(estimate, error, 2 * np.trace(x @ v), 1e-11)
    estimate, error = richardson(lambda t: np.exp(1j * t), 0.4, 1.0)
    assert np.iscomplexobj(estimate) and not np.iscomplexobj(error)
    _check_estimate(estimate, error, 1j * np.exp(0.4j), 1e-11)


def test_higher_derivatives():
    for x in POINTS:
        estimate, error = richardson(np.sin, x, 1.0, deriv=2)
        _check_estimate(estimate, error, -np.sin(x), 1e-10)
        estimate, error = richardson(np.exp, x, 1.0, deriv=3)
        _check_estimate(estimate, error, np.exp(x), 1e-8)


def test_default_step():
    for accuracy in (2, 4, 6):
        for kind in ("central", "forward"):
            larger = richardson_step(0.0, kind=kind, accuracy=accuracy)
            assert larger > 5 * default_step(0.0, kind, accuracy)
    # q = 2 + 2 * 3 = 8 for four levels of central differences of order 2.
    assert richardson_step(0.0) == pytest.approx((EPS * 8) ** (1 / 9))
    assert richardson_step(-50.0) == pytest.approx(50 * richardson_step(0.0))
    assert richardson_step(np.ones(2), np.array([0.0, 4.0])) == pytest.approx(
        richardson_step(0.0) / 4
    )


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"levels": 1}, ValueError, "levels must be at least 2"),
        ({"levels": 2.5}, TypeError, "levels must be an integer"),
        ({"ratio": 1.0}, ValueError, "ratio"),
        ({"ratio": -2.0}, ValueError, "ratio"),
        ({"kind": "up"}, ValueError, "kind must be one of"),
        ({"accuracy": 5}, ValueError, "accuracy must be one of"),
        ({"step": 0.0}, ValueError, "step"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        richardson(np.sin, 0.0, 1.0, **kwargs)


def test_direction_of_the_wrong_shape():
    with pytest.raises(ValueError, match="shape"):
        richardson(np.sin, np.zeros(3), np.ones((3, 1)))
