"""ldexp, frexp, modf and divmod: NumPy's values (integer parts included), derivatives of
the differentiable parts through the checker, both modes, order 2."""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp

R = onp.random.default_rng(22)


def real(*shape, lo=-5.0, hi=5.0):
    def make():
        x = R.uniform(lo, hi, shape)
        return float(x) if shape == () else x

    return make


def off_integers(*shape):
    """Values at least 0.1 away from integers (modf and divmod jump there)."""

    def make():
        x = R.integers(-5, 5, shape) + R.uniform(0.1, 0.9, shape)
        return float(x) if shape == () else x

    return make


E = onp.array([[3, -2, 0], [1, 5, -7]])

CASES: list[tuple[str, object, tuple]] = []


def case(name, fun, *gens):
    CASES.append((name, fun, gens))


case("ldexp", lambda x: wnp.ldexp(x, E), real(2, 3))
case("ldexp", lambda x: wnp.ldexp(x, E), real(3))
case("ldexp", lambda x: wnp.ldexp(x, 4), real())
case("frexp_mantissa", lambda x: wnp.frexp(x)[0], real(2, 3))
case("frexp", lambda x: wnp.ldexp(wnp.frexp(x)[0], wnp.frexp(x)[1]), real(4))
case("modf_fraction", lambda x: wnp.modf(x)[0], off_integers(2, 3))
case("modf", lambda x: wnp.modf(x)[0] + wnp.modf(x)[1] * x, off_integers(3))
case("divmod", lambda x, y: wnp.divmod(x, y)[1], off_integers(3), real(lo=1.2, hi=2.5))
case(
    "divmod",
    lambda x, y: wnp.divmod(x, y)[1] * wnp.divmod(x, y)[0],
    off_integers(2, 3),
    off_integers(3),
)


@pytest.mark.parametrize(
    "name, fun, gens", CASES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]
)
def test_rules(name, fun, gens):
    wg.check_grads(fun, modes=("fwd", "rev"), order=2)(*[g() for g in gens])


X = onp.array([-3.75, -0.0, 0.0, 0.3, 5.5, 1e-310, onp.inf, -onp.inf, onp.nan, 7.0])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", ["frexp", "modf"])
def test_values_are_numpys_traced_or_not(name):
    expected = getattr(onp, name)(X)
    for got in (getattr(wnp, name)(X), wg.jvp(getattr(wnp, name), (X,), (onp.ones_like(X),))[0]):
        for g, e in zip(got, expected):
            onp.testing.assert_array_equal(g, e)
            assert onp.result_type(g) == onp.result_type(e)
            assert onp.array_equal(onp.signbit(g), onp.signbit(e))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divmod_and_ldexp_values_are_numpys():
    x, y = R.uniform(-5, 5, 7), onp.array([1.5, -2.0, 0.7, 3.0, -0.4, 2.5, 1.0])
    for got in (wnp.divmod(x, y), wg.jvp(lambda x: wnp.divmod(x, y), (x,), (x,))[0]):
        for g, e in zip(got, onp.divmod(x, y)):
            onp.testing.assert_array_equal(g, e)
    assert wnp.divmod(7, 2) == (3, 1)
    e = onp.array([-3, 0, 2, 1030, -1080, 4, 0])
    expected = onp.ldexp(x, e)
    onp.testing.assert_array_equal(wg.jvp(lambda x: wnp.ldexp(x, e), (x,), (x,))[0], expected)


def test_derivatives_are_powers_of_two():
    # d mantissa / dx = 2**-exponent; d ldexp(x, e) / dx = 2**e, exactly.
    x = onp.array([3.0, 0.3, -1000.0])
    g = wg.grad(lambda x: wnp.sum(wnp.frexp(x)[0]))(x)
    onp.testing.assert_array_equal(g, 2.0 ** -onp.frexp(x)[1])
    g = wg.grad(lambda x: wnp.sum(wnp.ldexp(x, [2, -3, 0])))(x)
    onp.testing.assert_array_equal(g, [4.0, 0.125, 1.0])
    assert wg.grad(lambda x: wnp.modf(x)[1])(2.5) == 0.0


def test_single_precision_stays_single():
    x = onp.array([1.5, -2.25], dtype=onp.float32)
    for f in (lambda x: wnp.frexp(x)[0], lambda x: wnp.modf(x)[0], lambda x: wnp.ldexp(x, 3)):
        value, tangent = wg.jvp(f, (x,), (x,))
        assert value.dtype == tangent.dtype == onp.float32
        assert wg.grad(lambda x, f=f: wnp.sum(f(x)))(x).dtype == onp.float32


def test_out_is_refused_for_traced_values():
    with pytest.raises(wg.InPlaceWriteError):
        wg.grad(lambda x: wnp.frexp(x, out=(onp.zeros(()), onp.zeros((), int)))[0])(1.5)
