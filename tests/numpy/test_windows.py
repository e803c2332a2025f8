"""sliding_window_view on traced values: NumPy's windows, derivatives through the checker
(entries in several windows collect every window's share)."""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp

R = onp.random.default_rng(31)
window = onp.lib.stride_tricks.sliding_window_view


def real(*shape):
    return lambda: R.standard_normal(shape)


CASES: list[tuple[str, object, tuple]] = []


def case(name, fun, *gens):
    CASES.append((name, fun, gens))


case("sliding_window_view", lambda x: wnp.sliding_window_view(x, 3) ** 2, real(6))
case("sliding_window_view", lambda x: wnp.sliding_window_view(x, (2, 2)) * x[0, 0], real(3, 4))
case("sliding_window_view", lambda x: wnp.sliding_window_view(x, 2, axis=1), real(2, 4, 3))
case(
    "sliding_window_view",
    lambda x, k: wnp.sum(wnp.sliding_window_view(x, 3) * k, axis=-1),  # a 1-D convolution
    real(8),
    real(3),
)


@pytest.mark.parametrize("name, fun, gens", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rules(name, fun, gens):
    wg.check_grads(fun, modes=("fwd", "rev"), order=2)(*[g() for g in gens])


@pytest.mark.parametrize(
    "shape, window_shape, axis", [((6,), 3, None), ((3, 4), (2, 2), None), ((2, 4, 3), 2, 1)]
)
def test_values_equal_numpy_and_plain_numpy_dispatches(shape, window_shape, axis):
    x = R.standard_normal(shape)
    expected = window(x, window_shape, axis)
    onp.testing.assert_array_equal(wnp.sliding_window_view(x, window_shape, axis), expected)
    out, pullback = wg.vjp(lambda v: window(v, window_shape, axis), x)
    onp.testing.assert_array_equal(out, expected)
    counts = pullback(onp.ones_like(expected))[0]
    onp.testing.assert_array_equal(counts, _counts(shape, window_shape, axis))


def _counts(shape, window_shape, axis):
    """How many windows each entry falls in."""
    counts = onp.zeros(int(onp.prod(shape)))
    index = window(onp.arange(counts.size).reshape(shape), window_shape, axis)
    onp.add.at(counts, index.ravel(), 1)
    return counts.reshape(shape)


def test_writeable_windows_of_traced_values_are_refused():
    with pytest.raises(wg.InPlaceWriteError, match="writeable"):
        wg.grad(lambda v: wnp.sum(wnp.sliding_window_view(v, 2, writeable=True)))(onp.ones(3))
