"""derivative, gradient and jacobian against closed forms and AD, on arrays and trees."""

from __future__ import annotations

import dataclasses
from collections import namedtuple

import numpy as np
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert.numeric import derivative, gradient, jacobian

METHODS = ["central", "forward", "backward", "richardson", "complex"]
POINTS = [-1.3, -0.2, 0.0, 0.7, 2.1]


def _rational(x):
    return 1.0 / (1.0 + x * x)


def _rational_d2(x):
    return (6 * x * x - 2) / (1.0 + x * x) ** 3


def _rational_d3(x):
    return 24 * x * (1 - x * x) / (1.0 + x * x) ** 4


@pytest.mark.parametrize(
    "method, tol", [("central", 1e-9), ("richardson", 1e-11), ("complex", 1e-15)]
)
def test_first_derivatives(method, tol):
    for x in POINTS:
        got = derivative(np.sin, x, method=method)
        assert isinstance(got, np.ndarray) and got.shape == ()
        assert got == pytest.approx(np.cos(x), rel=tol, abs=tol)
        got = derivative(_rational, x, method=method)
        assert got == pytest.approx(-2 * x * _rational(x) ** 2, rel=tol, abs=tol)


@pytest.mark.parametrize(
    "method, options, tol2, tol3",
    [
        ("central", {"accuracy": 2}, 1e-7, 1e-5),
        ("central", {"accuracy": 6}, 1e-10, 1e-8),
        ("forward", {"accuracy": 4}, 1e-7, 1e-5),
        ("backward", {"accuracy": 6}, 1e-7, 1e-5),
        ("richardson", {}, 1e-10, 1e-8),
    ],
)
def test_second_and_third_derivatives(method, options, tol2, tol3):
    for x in POINTS:
        assert derivative(np.sin, x, method=method, n=2, **options) == pytest.approx(
            -np.sin(x), abs=tol2
        )
        assert derivative(np.exp, x, method=method, n=3, **options) == pytest.approx(
            np.exp(x), rel=tol3
        )
        assert derivative(_rational, x, method=method, n=2, **options) == pytest.approx(
            _rational_d2(x), rel=10 * tol2, abs=10 * tol2
        )
        assert derivative(_rational, x, method=method, n=3, **options) == pytest.approx(
            _rational_d3(x), rel=10 * tol3, abs=10 * tol3
        )


def test_fourth_derivatives():
    for x in POINTS:
        assert derivative(np.sin, x, method="central", n=4, accuracy=6) == pytest.approx(
            np.sin(x), abs=1e-7
        )
        assert derivative(np.sin, x, n=4) == pytest.approx(np.sin(x), abs=1e-7)


def test_derivative_options_reach_the_method():
    # Central differences of x^3 at 0 with step h give h^2.
    assert derivative(lambda x: x**3, 0.0, method="central", step=0.1) == pytest.approx(0.01)
    estimate = derivative(lambda x: x**5, 0.5, method="richardson", step=0.5, levels=3)
    assert estimate == pytest.approx(5 * 0.5**4, rel=1e-13)
    estimate = derivative(np.exp, 1.0, kind="forward", accuracy=4, levels=5, ratio=3.0)
    assert estimate == pytest.approx(np.e, rel=1e-11)


def test_derivative_of_a_vector_valued_function():
    got = derivative(lambda t: np.array([np.sin(t), t**2]), 0.5)
    np.testing.assert_allclose(got, [np.cos(0.5), 1.0], rtol=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_gradient(rng, method):
    tol = {"central": 1e-8, "forward": 1e-7, "backward": 1e-7}.get(method, 1e-10)
    x = rng.standard_normal((2, 3))
    got = gradient(lambda x: np.sum(np.sin(x) * x), x, method=method)
    assert got.shape == x.shape
    np.testing.assert_allclose(got, np.cos(x) * x + np.sin(x), atol=tol)
    a = rng.standard_normal((3, 3))
    y = x[0]
    np.testing.assert_allclose(
        gradient(lambda y: y @ a @ y, y, method=method), (a + a.T) @ y, atol=tol
    )


@pytest.mark.parametrize("method", METHODS)
def test_jacobian(rng, method):
    tol = {"central": 1e-8, "forward": 1e-7, "backward": 1e-7}.get(method, 1e-10)
    a = rng.standard_normal((2, 3))
    x = rng.standard_normal(3)
    np.testing.assert_allclose(jacobian(lambda x: a @ x, x, method=method), a, atol=tol)
    # d/dx_j (x_i * sum(x)) = delta_ij sum(x) + x_i
    got = jacobian(lambda x: x * np.sum(x), x, method=method)
    np.testing.assert_allclose(got, np.eye(3) * np.sum(x) + x[:, None], atol=tol)
    # A matrix function of a matrix: the Jacobian has shape out.shape + x.shape.
    m = rng.standard_normal((2, 2))
    got = jacobian(lambda m: m @ m, m, method=method)
    assert got.shape == (2, 2, 2, 2)
    eye = np.eye(2)
    expected = np.einsum("ik,lj->ijkl", eye, m) + np.einsum("ik,jl->ijkl", m, eye)
    np.testing.assert_allclose(got, expected, atol=tol)


def test_jacobian_shapes_for_scalars_and_empty_arguments():
    assert jacobian(np.sin, 0.3).shape == ()
    assert jacobian(np.sin, 0.3) == pytest.approx(np.cos(0.3), rel=1e-11)
    assert jacobian(lambda t: np.array([t, t**2]), 2.0) == pytest.approx([1.0, 4.0])
    assert jacobian(lambda x: np.ones(2) * np.sum(x), np.zeros(0)).shape == (2, 0)
    assert gradient(np.sum, np.zeros((0, 3))).shape == (0, 3)


def test_gradient_and_jacobian_options():
    x = np.array([1.0, 2.0])
    got = gradient(lambda x: np.sum(x**3), x, method="central", step=0.1)
    np.testing.assert_allclose(got, 3 * x**2 + 0.01)
    got = jacobian(lambda x: x**2, x, method="forward", accuracy=4)
    np.testing.assert_allclose(got, np.diag(2 * x), atol=1e-9)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: derivative(np.sin, 0.0, n=0), ValueError, "n must be 1, 2, 3 or 4, got 0"),
        (lambda: derivative(np.sin, 0.0, n=5), ValueError, "n must be 1, 2, 3 or 4"),
        (lambda: derivative(np.sin, 0.0, n=2.0), TypeError, "n must be an integer"),
        (
            lambda: derivative(np.sin, 0.0, method="complex", n=2),
            ValueError,
            "first derivatives only",
        ),
        (lambda: derivative(np.sin, 0.0, method="secant"), ValueError, "method must be one of"),
        (lambda: derivative(np.sin, np.ones(2)), ValueError, "x must be a scalar"),
        (
            lambda: derivative(np.sin, 0.0, method="central", levels=3),
            TypeError,
            "takes the options",
        ),
        (lambda: derivative(np.sin, 0.0, method="complex", accuracy=4), TypeError, "options"),
        (lambda: derivative(np.sin, 0.0, method="central", accuracy=3), ValueError, "accuracy"),
        (lambda: jacobian(np.sin, np.ones(2), method="magic"), ValueError, "method"),
        (lambda: gradient(np.sin, np.ones(2)), ValueError, "must return a scalar"),
        (lambda: gradient(np.sin, np.zeros(0)), ValueError, "must return a scalar"),
        (lambda: gradient(np.sum, np.array(["a"])), TypeError, "floating-point"),
        (lambda: gradient(np.abs, 1.0, method="complex"), TypeError, "imaginary"),
    ],
)
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- trees ----------------------------------------------------------------------------------

Pair = namedtuple("Pair", "w b")


@dataclasses.dataclass
class Layer:
    w: np.ndarray
    b: float


def _tree_loss(tree):
    """A scalar function of every leaf of a tree, through wengert.numpy so grad can check it."""
    leaves = wg.tree_flatten(tree)[0]
    return sum(wnp.sum(wnp.sin(leaf) * (i + 1.5)) for i, leaf in enumerate(leaves))


TREES = {
    "dict": lambda r: {"w": r.standard_normal((2, 3)), "b": r.standard_normal(3)},
    "list": lambda r: [r.standard_normal(2), 0.4, r.standard_normal((1, 2))],
    "tuple": lambda r: (r.standard_normal(3), (0.1, r.standard_normal(2))),
    "namedtuple": lambda r: Pair(r.standard_normal(4), -0.3),
    "dataclass": lambda r: Layer(r.standard_normal((2, 2)), 0.9),
    "nested": lambda r: {"layers": [Layer(r.standard_normal(2), 0.2)], "scale": Pair(1.1, 0.5)},
}


@pytest.mark.parametrize("kind", list(TREES))
@pytest.mark.parametrize("method", ["richardson", "central", "complex"])
def test_gradient_of_a_tree_matches_grad(rng, kind, method):
    tree = TREES[kind](rng)
    got = gradient(_tree_loss, tree, method=method)
    expected = wg.grad(_tree_loss)(tree)
    got_leaves, got_def = wg.tree_flatten(got)
    expected_leaves, expected_def = wg.tree_flatten(expected)
    assert got_def == expected_def
    for g, e in zip(got_leaves, expected_leaves):
        assert np.shape(g) == np.shape(e)
        np.testing.assert_allclose(g, e, rtol=1e-8, atol=1e-9)


def test_jacobian_of_trees_is_laid_out_as_wengert_jacobian(rng):
    params = {"a": rng.standard_normal(3), "s": 0.7}

    def fun(p):
        return {"y": wnp.sin(p["a"]) * p["s"], "z": (wnp.sum(p["a"] ** 2), p["a"][:2] * 3.0)}

    got = jacobian(fun, params)
    expected = wg.jacobian(fun)(params)
    got_leaves, got_def = wg.tree_flatten(got)
    expected_leaves, expected_def = wg.tree_flatten(expected)
    assert got_def == expected_def
    for g, e in zip(got_leaves, expected_leaves):
        assert np.shape(g) == np.shape(e)
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-10)
    assert got["y"]["a"].shape == (3, 3) and got["z"][1]["s"].shape == (2,)


def test_derivative_of_a_function_returning_a_tree():
    got = derivative(lambda t: {"cube": t**3, "pair": (np.sin(t), np.array([t, 2 * t]))}, 0.5)
    assert got["cube"] == pytest.approx(0.75, rel=1e-12)
    assert got["pair"][0] == pytest.approx(np.cos(0.5), rel=1e-12)
    np.testing.assert_allclose(got["pair"][1], [1.0, 2.0], rtol=1e-12)
    got = derivative(lambda t: [t**2, t**3], 2.0, n=2)
    assert got[0] == pytest.approx(2.0, rel=1e-9) and got[1] == pytest.approx(12.0, rel=1e-9)


@pytest.mark.parametrize("kind, sign", [("forward", 1.0), ("backward", -1.0)])
def test_textbook_one_sided_difference_through_the_api(kind, sign):
    x = 1.7
    h = np.sqrt(np.finfo(np.float64).eps) * x
    textbook = sign * (np.exp(x + sign * h) - np.exp(x)) / h
    assert derivative(np.exp, x, method=kind, accuracy=1) == pytest.approx(textbook, rel=1e-14)
    got = gradient(lambda p: np.exp(p["x"]), {"x": x}, method=kind, accuracy=1)
    assert got["x"] == pytest.approx(textbook, rel=1e-14)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: gradient(np.sum, {"w": np.ones(2), "n": 3}), TypeError, r"x\['n'\] has dtype int"),
        (lambda: gradient(np.sum, [np.ones(2), np.array([True])]), TypeError, r"x\[1\].*bool"),
        (lambda: jacobian(np.sin, 2), TypeError, "integer or boolean has no derivative"),
        (lambda: derivative(np.sin, 0), TypeError, "Pass it as a float"),
        (lambda: gradient(np.sum, {"w": "abc"}), TypeError, r"x\['w'\] must be floating-point"),
        (lambda: derivative(np.sin, {"t": 0.5}), ValueError, "x must be a scalar.*trees"),
        (lambda: derivative(np.sin, 0.5, method="central", step=0.0), ValueError, "step"),
        (lambda: derivative(np.sin, 0.5, method="forward", step=-1e-3), ValueError, "step"),
        (lambda: gradient(np.sum, np.ones(2), step=-0.1), ValueError, "positive"),
        (lambda: jacobian(np.sin, np.ones(2), method="complex", step=0), ValueError, "step"),
        (
            lambda: derivative(np.sin, 0.5, method="central", accuracy=1),
            ValueError,
            "accuracy 1, 3 and 5 are one-sided",
        ),
        (
            lambda: derivative(np.sin, 0.5, method="richardson", kind="central", accuracy=3),
            ValueError,
            "one-sided",
        ),
        (lambda: derivative(np.sin, 0.5, method="forward", accuracy=7), ValueError, "accuracy"),
        (lambda: gradient(lambda p: (p, p), 1.0), ValueError, "must return a scalar"),
        (
            lambda: jacobian(lambda x: x if x[0] > 1.0 else (x, x), np.ones(2)),
            ValueError,
            "output structure must not depend on x",
        ),
    ],
)
def test_bad_tree_and_step_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_gradient_treats_an_output_with_one_element_as_a_scalar():
    x = np.array([0.2, 0.7])
    g = gradient(lambda v: np.reshape(np.sum(v**3), (1, 1)), x)
    np.testing.assert_allclose(g, 3 * x**2, rtol=1e-9)
    np.testing.assert_allclose(g, wg.grad(lambda v: wnp.reshape(wnp.sum(v**3), (1, 1)))(x))
