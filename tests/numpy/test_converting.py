"""Conversions that ask NumPy for a layout or a check (asanyarray, ascontiguousarray,
asfortranarray, require, asarray_chkfinite): NumPy's values, the identity's derivative."""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp

R = onp.random.default_rng(21)


def real(*shape):
    def make():
        x = R.standard_normal(shape)
        return float(x) if shape == () else x

    return make


CASES: list[tuple[str, object, tuple]] = []


def case(name, fun, *gens):
    CASES.append((name, fun, gens))


for name in ("asanyarray", "ascontiguousarray", "asfortranarray", "require", "asarray_chkfinite"):
    case(name, lambda x, f=getattr(wnp, name): f(x) * x, real(2, 3))
    case(name, lambda x, f=getattr(wnp, name): wnp.sin(f([x, 2.0 * x])), real())
case("require", lambda x: wnp.require(x, requirements=["C", "W"]) ** 2, real(3))


@pytest.mark.parametrize(
    "name, fun, gens", CASES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]
)
def test_rules(name, fun, gens):
    wg.check_grads(fun, modes=("fwd", "rev"), order=2)(*[g() for g in gens])


@pytest.mark.parametrize(
    "name", ["asanyarray", "ascontiguousarray", "asfortranarray", "require", "asarray_chkfinite"]
)
@pytest.mark.parametrize("value", [1.5, [1.0, 2.0], onp.arange(6.0).reshape(2, 3)], ids=str)
def test_values_and_shapes_are_numpys(name, value):
    expected = getattr(onp, name)(value)
    x = onp.asarray(value)
    traced = wg.jvp(lambda x: getattr(wnp, name)(x), (x,), (onp.ones_like(x),))
    onp.testing.assert_array_equal(getattr(wnp, name)(value), expected)
    assert onp.shape(traced[0]) == expected.shape
    onp.testing.assert_array_equal(traced[0], expected)


def test_casts_to_the_given_dtype():
    x = onp.array([1.5, 2.5], dtype=onp.float32)
    out = wg.jvp(lambda x: wnp.asanyarray(x, dtype=onp.float64), (x,), (x,))
    assert out[0].dtype == onp.float64 and out[1].dtype == onp.float64


def test_asarray_chkfinite_refuses_infs_and_nans_traced_or_not():
    bad = onp.array([1.0, onp.inf])
    with pytest.raises(ValueError, match="infs or NaNs"):
        wnp.asarray_chkfinite(bad)
    with pytest.raises(ValueError, match="infs or NaNs"):
        wg.grad(lambda x: wnp.sum(wnp.asarray_chkfinite(x)))(bad)
    with pytest.raises(ValueError, match="infs or NaNs"):
        wg.grad(lambda a: wnp.sum(wnp.asarray_chkfinite([a, onp.nan])))(1.0)


def test_a_cast_of_a_traced_value_to_integers_is_a_plain_integer_array():
    x = onp.array([1.7, -2.2, 3.5])

    def f(x):
        for cast in (wnp.array(x, dtype=int), x.astype(int), wnp.asarray(x, dtype=wnp.int_)):
            assert type(cast) is onp.ndarray and cast.dtype.kind == "i"
            onp.testing.assert_array_equal(cast, [1, -2, 3])
        return wnp.sum(x * x.astype(int))

    onp.testing.assert_array_equal(wg.grad(f)(x), [1.0, -2.0, 3.0])
    value, tangent = wg.jvp(lambda x: x.astype(int), (x,), (x,))
    onp.testing.assert_array_equal(value, [1, -2, 3])
    assert not onp.any(tangent)
