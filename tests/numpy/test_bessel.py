"""i0 (NumPy's modified Bessel function of order 0) and the order-1 function behind its
derivative: NumPy's values, derivatives through the checker to order 3."""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert.numpy import bessel

R = onp.random.default_rng(23)


def real(*shape, lo=-8.0, hi=8.0):
    def make():
        x = R.uniform(lo, hi, shape)
        return float(x) if shape == () else x

    return make


CASES: list[tuple[str, object, tuple, int]] = []


def case(name, fun, *gens, order=2):
    CASES.append((name, fun, gens, order))


case("i0", wnp.i0, real(5))
case("i0", wnp.i0, real(2, 3, lo=-40.0, hi=40.0))
case("i0", wnp.i0, real(), order=3)
case("i1", bessel._i1, real(4))
case("i1", bessel._i1, real(3, lo=25.0, hi=45.0))
case("i1", lambda x: bessel._i1(x * x) * wnp.i0(x), real(3, lo=-1.0, hi=1.0), order=3)


@pytest.mark.parametrize(
    "name, fun, gens, order", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_rules(name, fun, gens, order):
    wg.check_grads(fun, modes=("fwd", "rev"), order=order)(*[g() for g in gens])


def test_at_zero_to_order_three():
    wg.check_grads(wnp.i0, order=3)(0.0)
    wg.check_grads(bessel._i1, order=3)(0.0)
    # i0'' (0) = i1'(0) = 1/2; i0'''(0) = 0.
    assert wg.grad(wg.grad(wnp.i0))(0.0) == 0.5


def test_values_are_numpys_traced_or_not():
    x = onp.concatenate([R.uniform(-700, 700, 50), [0.0, -1e-300, 5.0]])
    onp.testing.assert_array_equal(wnp.i0(x), onp.i0(x))
    onp.testing.assert_array_equal(wg.jvp(wnp.i0, (x,), (x,))[0], onp.i0(x))
    assert wnp.i0(onp.float32(2.0)).dtype == onp.float32


def test_order_one_matches_scipy():
    special = pytest.importorskip("scipy.special")
    x = onp.concatenate([-onp.logspace(-12, 2.8, 200), [0.0], onp.logspace(-12, 2.8, 200)])
    onp.testing.assert_allclose(bessel._i1_impl(x), special.i1(x), rtol=1e-13, atol=0)
    onp.testing.assert_allclose(wg.elementwise_grad(wnp.i0)(x), special.i1(x), rtol=1e-13)
