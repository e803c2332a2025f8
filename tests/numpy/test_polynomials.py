"""polydiv, polyfit, roots and poly: NumPy's values, derivatives through the checker in
both modes to order 2 (roots where they are simple)."""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert._core.tree import tree_flatten

R = onp.random.default_rng(24)


def real(*shape, lo=-2.0, hi=2.0):
    def make():
        return R.uniform(lo, hi, shape)

    return make


def leading(n):
    """Coefficients of a polynomial of degree n - 1 with a leading one away from zero."""

    def make():
        p = R.uniform(-2.0, 2.0, n)
        p[0] = R.uniform(1.0, 2.0)
        return p

    return make


def spread_roots(n):
    """n well separated real roots (simple: their derivatives are finite)."""
    return lambda: onp.arange(n) * 1.5 + R.uniform(-0.3, 0.3, n)


X = onp.linspace(-1.0, 2.0, 9)

CASES: list[tuple[str, object, tuple]] = []


def case(name, fun, *gens):
    CASES.append((name, fun, gens))


case("polydiv", lambda u, v: wnp.polydiv(u, v), real(5), leading(2))
case("polydiv", lambda u, v: wnp.polydiv(u, v)[0], real(4), leading(3))
case("polydiv", lambda u, v: wnp.polydiv(u, v), real(2), leading(3))  # quotient 0
case("polyfit", lambda y: wnp.polyfit(X, y, 2), real(9))
case("polyfit", lambda x, y: wnp.polyfit(x, y, 3), spread_roots(6), real(6))
case("polyfit", lambda y, w: wnp.polyfit(X, y, 1, w=w), real(9, 2), real(9, lo=0.5, hi=2.0))
case("polyfit", lambda y: wnp.polyfit(X, y, 2, cov=True), real(9))
case("polyfit", lambda y: wnp.polyfit(X, y, 2, full=True)[:2], real(9))
case("roots", wnp.roots, lambda: onp.poly(spread_roots(3)()))
case("roots", wnp.roots, lambda: onp.array([1.0, 0.3, 2.0]))  # complex roots
case("poly", wnp.poly, real(4))
case("poly", wnp.poly, lambda: onp.array([[2.0, 0.5], [-1.0, 3.0]]) + R.uniform(-0.1, 0.1, (2, 2)))


@pytest.mark.parametrize(
    "name, fun, gens", CASES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]
)
def test_rules(name, fun, gens):
    wg.check_grads(fun, modes=("fwd", "rev"), order=2)(*[g() for g in gens])


def _same(got, expected, exact=True):
    got, expected = tree_flatten(got)[0], tree_flatten(expected)[0]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        if onp.result_type(e).kind in "fc":  # (lstsq's rank: a Python int, NumPy's int32)
            assert onp.result_type(g) == onp.result_type(e)
        if exact:
            onp.testing.assert_array_equal(g, e)
        else:
            onp.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)


VALUES = [
    ("polydiv", lambda np_, a: np_.polydiv(a, [2.0, -1.0]), onp.array([1.0, -3.0, 2.0, 5.0])),
    ("polydiv", lambda np_, a: np_.polydiv([1.0, 2.0], a), onp.array([1.0, -3.0, 2.0])),
    ("polydiv", lambda np_, a: np_.polydiv(a, a[1:]), onp.array([1.0, -3.0, 2.0])),
    ("polyfit", lambda np_, y: np_.polyfit(X, y, 3), onp.sin(X)),
    ("polyfit", lambda np_, y: np_.polyfit(X, y, 2, full=True), onp.cos(X)),
    ("polyfit", lambda np_, y: np_.polyfit(X, y, 2, cov="unscaled"), onp.cos(X)),
    ("roots", lambda np_, p: np_.roots(p), onp.array([0.0, 1.0, -6.0, 11.0, -6.0, 0.0, 0.0])),
    ("roots", lambda np_, p: np_.roots(p), onp.array([1.0, 0.0, 1.0])),
    ("roots", lambda np_, p: np_.roots(p), onp.array([2.0])),
    ("poly", lambda np_, r: np_.poly(r), onp.array([1.0, 2.0, -3.0])),
    ("poly", lambda np_, r: np_.poly(r), onp.array([1.0 + 1j, 1.0 - 1j, 2.0])),
    ("poly", lambda np_, r: np_.poly(r), onp.array([[1.0, 2.0], [3.0, 4.0]])),
]


@pytest.mark.parametrize(
    "name, call, arg", VALUES, ids=[f"{v[0]}-{i}" for i, v in enumerate(VALUES)]
)
def test_values_are_numpys(name, call, arg):
    expected = call(onp, arg)
    _same(call(wnp, arg), expected)
    traced = wg.jvp(lambda a: call(wnp, a), (arg,), (onp.ones_like(arg),))[0]
    _same(traced, expected, exact=name not in ("polyfit", "poly"))


def test_polyfit_warns_when_poorly_conditioned():
    with pytest.warns(onp.exceptions.RankWarning):
        wg.grad(lambda y: wnp.sum(wnp.polyfit(onp.ones(4), y, 2)))(onp.arange(4.0))
