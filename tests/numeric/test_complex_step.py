"""The complex-step derivative: exact to rounding, and refusing non-analytic functions."""

from __future__ import annotations

import numpy as np
import pytest

from wengert.numeric import complex_step

POINTS = [-1.3, -0.2, 0.0, 0.7, 2.1, 5.0]
FUNCS = [
    (np.sin, np.cos),
    (np.exp, np.exp),
    (np.arctan, lambda x: 1.0 / (1.0 + x * x)),
    (lambda x: 1.0 / (1.0 + x * x), lambda x: -2.0 * x / (1.0 + x * x) ** 2),
    (lambda x: x**3 - 2 * x, lambda x: 3 * x**2 - 2),
]


def test_matches_exact_derivatives_to_rounding():
    for f, df in FUNCS:
        for x in POINTS:
            got = complex_step(f, x, 1.0)
            assert isinstance(got, np.ndarray) and got.shape == ()
            assert got.dtype == np.float64
            assert got == pytest.approx(df(x), rel=1e-15, abs=1e-300)


def test_any_tiny_step_works():
    for step in (1e-8, 1e-20, 1e-200):
        assert complex_step(lambda x: x * x, 3.0, 1.0, step=step) == pytest.approx(6.0, rel=1e-15)
    assert complex_step(np.log, 2.0, 1.0, step=1e-100) == pytest.approx(0.5, rel=1e-15)


def test_directions_and_array_outputs(rng):
    x = rng.standard_normal((2, 3))
    v = rng.standard_normal((2, 3))
    got = complex_step(lambda x: np.sum(x**2 * np.sin(x)), x, v)
    expected = np.sum((2 * x * np.sin(x) + x**2 * np.cos(x)) * v)
    assert got == pytest.approx(expected, rel=1e-14)
    a = rng.standard_normal((4, 2))
    got = complex_step(lambda x: a @ np.exp(x), x, v)
    assert got.shape == (4, 3)
    np.testing.assert_allclose(got, a @ (np.exp(x) * v), rtol=1e-14)


@pytest.mark.parametrize(
    "fun",
    [np.abs, lambda x: np.real(x) ** 2, lambda x: np.where(x > 0, 1.0, 0.0)],
)
def test_refuses_functions_that_drop_the_imaginary_part(fun):
    with pytest.raises(TypeError, match="dropped the imaginary perturbation"):
        complex_step(fun, 0.3, 1.0)


def test_bad_arguments():
    with pytest.raises(TypeError, match="must be real"):
        complex_step(np.sin, 1.0 + 2.0j, 1.0)
    with pytest.raises(TypeError, match="must be real"):
        complex_step(np.sin, 1.0, 1j)
    with pytest.raises(ValueError, match="shape"):
        complex_step(np.sin, np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="step"):
        complex_step(np.sin, 0.0, 1.0, step=0.0)
    with pytest.raises(ValueError, match="step"):
        complex_step(np.sin, 0.0, 1.0, step=np.inf)
