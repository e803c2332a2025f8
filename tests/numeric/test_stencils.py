"""Finite-difference weights, stencils, default steps and directional derivatives."""

from __future__ import annotations

from math import factorial

import numpy as np
import pytest

from wengert.numeric import default_step, directional_derivative, fd_weights, stencil

EPS = np.finfo(np.float64).eps
KINDS = ["central", "forward", "backward"]
POINTS = [-1.3, -0.2, 0.0, 0.7, 2.1]
FUNCS = [(np.sin, np.cos), (np.exp, np.exp)]


def _moments(offsets, weights, degree):
    """sum_k w_k o_k^degree, and the sum of the absolute terms (the rounding scale)."""
    terms = weights * offsets**degree
    return terms.sum(), np.abs(terms).sum()


def test_classical_weights():
    np.testing.assert_allclose(fd_weights([-1, 0, 1]), [-0.5, 0, 0.5], atol=0)
    np.testing.assert_allclose(fd_weights([-1, 0, 1], deriv=2), [1, -2, 1], atol=0)
    np.testing.assert_allclose(fd_weights([-2, -1, 0, 1, 2], deriv=4), [1, -4, 6, -4, 1])
    np.testing.assert_allclose(fd_weights([0, 1, 3]), [-4 / 3, 3 / 2, -1 / 6], rtol=1e-15)
    np.testing.assert_allclose(fd_weights([0.0, 0.5]), [-2, 2], atol=0)
    np.testing.assert_allclose(fd_weights([-1, 0, 1], deriv=0), [0, 1, 0], atol=0)


@pytest.mark.parametrize(
    "kind, accuracy, offsets, weights",
    [
        ("central", 2, [-1, 0, 1], [-1 / 2, 0, 1 / 2]),
        ("central", 4, [-2, -1, 0, 1, 2], [1 / 12, -2 / 3, 0, 2 / 3, -1 / 12]),
        (
            "central",
            6,
            [-3, -2, -1, 0, 1, 2, 3],
            [-1 / 60, 3 / 20, -3 / 4, 0, 3 / 4, -3 / 20, 1 / 60],
        ),
        ("forward", 1, [0, 1], [-1, 1]),
        ("backward", 1, [-1, 0], [-1, 1]),
        ("forward", 2, [0, 1, 2], [-3 / 2, 2, -1 / 2]),
        ("forward", 3, [0, 1, 2, 3], [-11 / 6, 3, -3 / 2, 1 / 3]),
        ("forward", 4, [0, 1, 2, 3, 4], [-25 / 12, 4, -3, 4 / 3, -1 / 4]),
        ("backward", 2, [-2, -1, 0], [1 / 2, -2, 3 / 2]),
    ],
)
def test_stencils_match_the_tables(kind, accuracy, offsets, weights):
    got_offsets, got_weights = stencil(kind, accuracy)
    np.testing.assert_array_equal(got_offsets, offsets)
    np.testing.assert_allclose(got_weights, weights, rtol=1e-15, atol=0)


@pytest.mark.parametrize(
    "kind, accuracy",
    [(kind, a) for kind in KINDS for a in (2, 4, 6)]
    + [(kind, a) for kind in ("forward", "backward") for a in (1, 3, 5)],
)
@pytest.mark.parametrize("deriv", [1, 2, 3, 4])
def test_stencil_order_is_exactly_the_accuracy(kind, accuracy, deriv):
    """Exact on monomials of degree < deriv + accuracy, not on degree deriv + accuracy."""
    offsets, weights = stencil(kind, accuracy, deriv)
    total, scale = _moments(offsets, weights, 0)
    assert abs(total) <= 4 * EPS * scale
    for degree in range(deriv + accuracy):
        total, scale = _moments(offsets, weights, degree)
        expected = factorial(deriv) if degree == deriv else 0.0
        assert abs(total - expected) <= 16 * EPS * scale
    total, scale = _moments(offsets, weights, deriv + accuracy)
    assert abs(total) > 1e6 * EPS * scale
    if kind == "backward":
        mirror_offsets, mirror_weights = stencil("forward", accuracy, deriv)
        np.testing.assert_array_equal(offsets, -mirror_offsets[::-1])
        np.testing.assert_allclose(weights, (-1) ** deriv * mirror_weights[::-1], rtol=1e-15)


@pytest.mark.parametrize("npoints", [2, 3, 5, 7, 9])
def test_weights_on_random_offsets_are_exact_on_polynomials(rng, npoints):
    offsets = np.sort(rng.uniform(-4.0, 4.0, npoints))
    for deriv in range(min(npoints, 5)):
        weights = fd_weights(offsets, deriv)
        for degree in range(npoints):
            total, scale = _moments(offsets, weights, degree)
            expected = factorial(deriv) if degree == deriv else 0.0
            assert abs(total - expected) <= 64 * EPS * scale


def test_weights_agree_with_the_vandermonde_solution(rng):
    offsets = np.sort(rng.uniform(-2.0, 2.0, 5))
    vandermonde = np.vander(offsets, increasing=True).T  # row j: offsets ** j
    for deriv in range(5):
        rhs = np.zeros(5)
        rhs[deriv] = factorial(deriv)
        np.testing.assert_allclose(fd_weights(offsets, deriv), np.linalg.solve(vandermonde, rhs))


def test_stencil_returns_fresh_arrays():
    offsets, weights = stencil("central", 2)
    weights[:] = 7.0
    offsets[:] = 7.0
    np.testing.assert_array_equal(stencil("central", 2)[1], [-0.5, 0.0, 0.5])


@pytest.mark.parametrize(
    "offsets, deriv, error, match",
    [
        ([0, 1, 1], 1, ValueError, "distinct"),
        ([0, 1], 2, ValueError, "at least 3 offsets"),
        ([0, 1], -1, ValueError, "deriv"),
        ([[0, 1], [2, 3]], 1, ValueError, "one-dimensional"),
        ([0, np.inf], 1, ValueError, "finite"),
        ([0, 1, 2], 1.5, TypeError, "deriv must be an integer"),
    ],
)
def test_fd_weights_bad_arguments(offsets, deriv, error, match):
    with pytest.raises(error, match=match):
        fd_weights(offsets, deriv)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"kind": "sideways"}, r"kind must be one of \('central', 'forward', 'backward'\)"),
        ({"accuracy": 3}, r"one of \(2, 4, 6\) for central stencils, got 3 \(accuracy 1, 3"),
        ({"kind": "forward", "accuracy": 7}, r"one of \(1, 2, 3, 4, 5, 6\) for forward"),
        ({"accuracy": 8}, r"accuracy must be one of \(2, 4, 6\)"),
        ({"deriv": 0}, "deriv must be a positive integer"),
    ],
)
def test_stencil_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        stencil(**kwargs)
    if "deriv" not in kwargs:
        with pytest.raises(ValueError, match=match):
            default_step(1.0, **kwargs)


def test_default_step():
    assert default_step(0.0) == pytest.approx(EPS ** (1 / 3), rel=1e-15)
    assert default_step(0.5) == default_step(-1.0) == default_step(0.0)
    assert default_step(-1e4) == pytest.approx(1e4 * EPS ** (1 / 3), rel=1e-15)
    assert default_step(np.array([0.1, -300.0, 2.0])) == pytest.approx(300 * EPS ** (1 / 3))
    for accuracy in (2, 4, 6):
        for kind in KINDS:
            assert default_step(0.0, kind, accuracy) == pytest.approx(EPS ** (1 / (accuracy + 1)))
        assert default_step(0.0, accuracy=accuracy, deriv=2) == pytest.approx(
            EPS ** (1 / (accuracy + 2))
        )
    assert default_step(0.0, "central", 2) < default_step(0.0, "central", 4)
    assert default_step(0.0, "central", 4) < default_step(0.0, "central", 6)
    # The textbook one-sided difference: h = sqrt(eps) max(1, |x|).
    for kind in ("forward", "backward"):
        assert default_step(0.0, kind, 1) == np.sqrt(EPS)
        assert default_step(-250.0, kind, 1) == pytest.approx(250 * np.sqrt(EPS), rel=1e-15)


@pytest.mark.parametrize("kind, sign", [("forward", 1.0), ("backward", -1.0)])
def test_accuracy_1_is_the_textbook_one_sided_difference(kind, sign):
    for x in [*POINTS, 37.5]:
        h = np.sqrt(EPS) * max(1.0, abs(x))
        textbook = sign * (np.exp(x + sign * h) - np.exp(x)) / h
        got = directional_derivative(np.exp, x, 1.0, kind=kind, accuracy=1)
        assert got == pytest.approx(textbook, rel=1e-14)
        # First order: truncation h f''/2 plus rounding 2 eps |f| / h, both about sqrt(eps).
        assert abs(got - np.exp(x)) <= 2 * h * np.exp(x)
    # The error is h f''(x) / 2 at a given step.
    got = directional_derivative(np.exp, 0.0, 1.0, kind=kind, accuracy=1, step=1e-3)
    assert got - 1.0 == pytest.approx(sign * 1e-3 / 2, rel=1e-3)


def test_default_step_along_a_direction():
    base = EPS ** (1 / 3)
    x = np.array([1e6, 1.0, -8.0])
    assert default_step(x, direction=np.array([0.0, 1.0, 0.0])) == pytest.approx(base)
    assert default_step(x, direction=np.array([1.0, 0.0, 0.0])) == pytest.approx(1e6 * base)
    assert default_step(x, direction=np.array([0.0, 0.0, 4.0])) == pytest.approx(2 * base)
    assert default_step(x, direction=np.array([1.0, 2.0, 0.0])) == pytest.approx(base / 2)
    assert default_step(x, direction=np.zeros(3)) == pytest.approx(base)
    with pytest.raises(ValueError, match="shape"):
        default_step(x, direction=np.ones(2))
    with pytest.raises(ValueError, match="non-finite"):
        default_step(np.array([1.0, np.nan]))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("accuracy", [2, 4, 6])
def test_directional_derivative_accuracy_at_the_default_step(kind, accuracy):
    central = {2: 1e-9, 4: 5e-11, 6: 1e-11}
    one_sided = {2: 2e-9, 4: 2e-10, 6: 2e-10}
    bound = (central if kind == "central" else one_sided)[accuracy]
    for f, df in FUNCS:
        for x in POINTS:
            got = directional_derivative(f, x, 1.0, kind=kind, accuracy=accuracy)
            assert isinstance(got, np.ndarray) and got.shape == ()
            assert abs(got - df(x)) <= bound * max(1.0, abs(df(x)))


def test_directional_derivative_truncation_error_at_a_given_step():
    # Central differences of x^3 at 0: ((h^3) - (-h^3)) / (2h) = h^2 = 0 + h^2 f'''/6.
    got = directional_derivative(lambda x: x**3, 0.0, 1.0, step=0.1)
    assert got == pytest.approx(0.01, rel=1e-12)
    # Forward differences of order 2 are exact on quadratics at any step.
    got = directional_derivative(lambda x: 3 * x**2 - x, 2.0, 1.0, kind="forward", step=0.5)
    assert got == pytest.approx(11.0, rel=1e-14)


def test_directional_derivative_along_a_direction(rng):
    x = rng.standard_normal((2, 3))
    v = rng.standard_normal((2, 3))
    got = directional_derivative(lambda x: np.sum(np.sin(x) * x), x, v, accuracy=6)
    assert got == pytest.approx(np.sum((np.cos(x) * x + np.sin(x)) * v), abs=1e-10)
    got = directional_derivative(lambda x: np.exp(x) @ x.T, x, v, accuracy=4)
    expected = (np.exp(x) * v) @ x.T + np.exp(x) @ v.T
    assert got.shape == (2, 2)
    np.testing.assert_allclose(got, expected, atol=1e-9)


def test_directional_derivative_complex_output_and_higher_order():
    got = directional_derivative(lambda t: np.exp(1j * t), 0.3, 1.0, accuracy=4)
    assert np.iscomplexobj(got)
    assert got == pytest.approx(1j * np.exp(0.3j), abs=1e-10)
    got = directional_derivative(np.sin, 0.3, 2.0, deriv=2, accuracy=4)
    assert got == pytest.approx(-4 * np.sin(0.3), abs=1e-7)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: directional_derivative(np.sin, np.ones(2), np.ones(3)), ValueError, "shape"),
        (lambda: directional_derivative(np.sin, np.nan, 1.0), ValueError, "non-finite"),
        (lambda: directional_derivative(np.sin, 0.0, 1.0, step=0.0), ValueError, "step"),
        (lambda: directional_derivative(np.sin, 0.0, 1.0, step=-1e-3), ValueError, "step"),
        (lambda: directional_derivative(np.sin, 0.0, 1.0, step="big"), TypeError, "step"),
        (lambda: directional_derivative(np.sin, 0.0, 1.0, kind="up"), ValueError, "kind"),
        (lambda: directional_derivative(np.sin, "a", 1.0), TypeError, "numeric"),
        (lambda: directional_derivative(lambda x: "a", 0.0, 1.0), TypeError, "numbers"),
        (
            lambda: directional_derivative(lambda x: np.ones(int(x > 0) + 1), 0.0, 1.0),
            ValueError,
            "output shape",
        ),
    ],
)
def test_directional_derivative_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
