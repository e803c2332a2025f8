"""apply_along_axis, apply_over_axes and vectorize: a Python function applied to traced
slices or entries, NumPy's values and shapes, derivatives through the checker."""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp

R = onp.random.default_rng(25)


def real(*shape):
    return lambda: R.standard_normal(shape)


CASES: list[tuple[str, object, tuple]] = []


def case(name, fun, *gens):
    CASES.append((name, fun, gens))


for axis in (0, 1, -1):
    case(
        "apply_along_axis",
        lambda x, a=axis: wnp.apply_along_axis(lambda v: wnp.sin(v) * wnp.sum(v), a, x),
        real(2, 3, 4),
    )
case(
    "apply_along_axis", lambda x: wnp.apply_along_axis(lambda v: wnp.outer(v, v), 1, x), real(2, 3)
)
case("apply_along_axis", lambda x: wnp.apply_along_axis(wnp.prod, 0, x), real(3, 2))
case("apply_over_axes", lambda x: wnp.apply_over_axes(wnp.sum, x * x, [0, 2]), real(2, 3, 4))
case("apply_over_axes", lambda x: wnp.apply_over_axes(wnp.mean, wnp.exp(x), -1), real(2, 3))
case(
    "vectorize", lambda x, y: wnp.vectorize(lambda a, b: a * wnp.sin(b))(x, y), real(2, 3), real(3)
)
case("vectorize", lambda x: wnp.vectorize(lambda a, n: a**n, excluded={1})(x, 3), real(4))


@pytest.mark.parametrize(
    "name, fun, gens", CASES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]
)
def test_rules(name, fun, gens):
    wg.check_grads(fun, modes=("fwd", "rev"), order=2)(*[g() for g in gens])


X = R.standard_normal((2, 3, 4))
VALUES = [
    lambda np_, x: np_.apply_along_axis(lambda v: np_.outer(v, v[:2]), 1, x),
    lambda np_, x: np_.apply_along_axis(lambda v: (v**2).sum(), 2, x),
    lambda np_, x: np_.apply_along_axis(lambda v, k: v[::k], 0, x, 2),
    lambda np_, x: np_.apply_over_axes(np_.sum, x, [0, 2]),
    lambda np_, x: np_.apply_over_axes(lambda a, axis: np_.cumsum(a, axis), x, (1,)),
    lambda np_, x: np_.vectorize(lambda a, b: a * b if a > 0 else b)(x, x[0, 0]),
    lambda np_, x: np_.vectorize(lambda a: (a, 2 * a), otypes=[float, float])(x[0]),
    lambda np_, x: np_.vectorize(lambda a, s=1.0: a + s)(x[0], s=x[1, :, :1]),
]


@pytest.mark.parametrize("call", VALUES)
def test_values_are_numpys_traced_or_not(call):
    expected = call(onp, X)
    onp.testing.assert_array_equal(call(wnp, X), expected)
    traced = wg.jvp(lambda x: call(wnp, x), (X,), (X,))[0]
    onp.testing.assert_array_equal(traced, expected)


def test_a_function_of_plain_slices_returning_traced_values():
    # NumPy cannot write traced values into its plain result; the loop runs here instead.
    ones = onp.ones((2, 3))
    g = wg.grad(lambda c: wnp.sum(wnp.apply_along_axis(lambda v: v * c, 1, ones)))(1.5)
    assert g == 6.0
    g = wg.grad(lambda c: wnp.sum(wnp.vectorize(lambda a: a * c)(onp.arange(3.0))))(2.0)
    assert g == 3.0


def test_vectorize_as_a_decorator_and_with_numpys_options():
    @wnp.vectorize
    def clipped(a):
        return a if a < 1.0 else 1.0

    onp.testing.assert_array_equal(clipped(onp.array([0.5, 2.0])), [0.5, 1.0])
    to_float = wnp.vectorize(otypes="d")(lambda a: a + 1)
    assert to_float(onp.arange(3)).dtype == onp.float64
    grad = wg.grad(lambda x: wnp.sum(clipped(x)))(onp.array([0.5, 2.0]))
    onp.testing.assert_array_equal(grad, [1.0, 0.0])


def test_what_numpy_refuses_is_refused():
    with pytest.raises(ValueError, match="iteration dimensions are 0"):
        wg.grad(lambda x: wnp.sum(wnp.apply_along_axis(wnp.sum, 0, x)))(onp.ones((3, 0)))
    with pytest.raises(ValueError, match="correct shape"):
        wg.grad(lambda x: wnp.sum(wnp.apply_over_axes(lambda a, k: wnp.sum(a), x, [0])))(
            onp.ones((2, 3))
        )
