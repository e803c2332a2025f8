"""r_ and c_ with traced pieces and slice ends, ndenumerate of a traced array, and the
index expressions of constants (s_, index_exp, mgrid, ogrid): NumPy's values, shapes and
dtypes, derivatives through the checker."""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp

R = onp.random.default_rng(26)


def real(*shape):
    return lambda: R.standard_normal(shape)


CASES: list[tuple[str, object, tuple]] = []


def case(name, fun, *gens):
    CASES.append((name, fun, gens))


# Rows named after the function their index expression calls (concatenate, linspace).
case("concatenate", lambda x, y: wnp.r_[x, 2.0 * x, y], real(3), real(2))
case("concatenate", lambda x: wnp.r_["0,2,1", x, x * x], real(3))
case("concatenate", lambda x, m: wnp.c_[x, wnp.sin(x), m], real(2), real(2, 3))
case("linspace", lambda x: wnp.r_[x[0] : x[1] : 5j, x], real(2))
case("ndenumerate", lambda x: wnp.stack([v * i[1] for i, v in wnp.ndenumerate(x)]), real(2, 3))


@pytest.mark.parametrize(
    "name, fun, gens", CASES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]
)
def test_rules(name, fun, gens):
    wg.check_grads(fun, modes=("fwd", "rev"), order=2)(*[g() for g in gens])


A = onp.array([1.0, 2.0, 3.0])
M = onp.arange(6.0).reshape(2, 3)
EXPRESSIONS = [
    lambda np_, x: np_.r_[x, 0.0, 4:7],
    lambda np_, x: np_.r_[x, 0.1:1.0:0.2, [x[0], 5.0]],
    lambda np_, x: np_.r_[-1:1:6j, x],
    lambda np_, x: np_.r_[x[0] : 5 : 3j],
    lambda np_, x: np_.r_[x[0] : x[2] + 3 : 0.7, x],
    lambda np_, x: np_.r_[x[0] : 4, x[1]],
    lambda np_, x: np_.r_[x[0], 2, 3],
    lambda np_, x: np_.r_[x.astype(onp.float32), onp.float32(2.0)],
    lambda np_, x: np_.r_["-1", M * x, M],
    lambda np_, x: np_.r_["0,2", x, [4.0, 5.0, 6.0]],
    lambda np_, x: np_.r_["0,2,0", x, [4.0, 5.0, 6.0]],
    lambda np_, x: np_.r_["1,2,0", x, [4.0, 5.0, 6.0]],
    lambda np_, x: np_.r_["0,3,-1", x, x],
    lambda np_, x: np_.r_["1", M, M * x],
    lambda np_, x: np_.c_[x, x * 2],
    lambda np_, x: np_.c_[M.T, x],
    lambda np_, x: np_.c_[x, 0:3],
    lambda np_, x: np_.c_[[x, x]],
]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_r_and_c_values_are_numpys(expression):
    expected = expression(onp, A)
    value, _ = wg.jvp(lambda x: expression(wnp, x), (A,), (onp.ones(3),))
    onp.testing.assert_array_equal(value, expected)
    assert value.dtype == expected.dtype
    assert expression(wnp, A) is not None  # plain values: NumPy's own r_ and c_


def test_derivatives_through_slice_ends():
    # r_[a:b:4j] is linspace(a, b, 4); r_[a:3.0] is a + arange(n) with n fixed by the values.
    grad = wg.grad(lambda x: wnp.sum(wnp.r_[x[0] : x[1] : 4j]))(onp.array([0.0, 3.0]))
    onp.testing.assert_allclose(grad, [2.0, 2.0])
    grad = wg.grad(lambda a: wnp.sum(wnp.r_[a:3.0]))(0.5)
    assert grad == 3.0


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_matrix_directives_need_plain_values():
    assert isinstance(wnp.r_["r", 1:3], onp.matrix)
    with pytest.raises(TypeError, match=r"np\.matrix"):
        wg.grad(lambda x: wnp.sum(wnp.r_["r", x, x]))(A)
    with pytest.raises(ValueError, match="first entry"):
        wg.grad(lambda x: wnp.sum(wnp.r_[x, "0"]))(A)
    with pytest.raises(ValueError, match="special directive"):
        wg.grad(lambda x: wnp.sum(wnp.r_["a,b", x]))(A)


def test_ndenumerate_pairs_indices_and_entries():
    pairs = list(wnp.ndenumerate(M))
    assert pairs == list(onp.ndenumerate(M))
    traced = wg.jvp(lambda x: wnp.stack([v for _, v in wnp.ndenumerate(x)]), (M,), (M,))
    onp.testing.assert_array_equal(traced[0], M.ravel())


def test_index_expressions_of_constants_are_numpys():
    assert wnp.s_ is onp.s_ and wnp.index_exp is onp.index_exp
    assert wnp.mgrid is onp.mgrid and wnp.ogrid is onp.ogrid
    x = onp.arange(12.0).reshape(3, 4)
    g = wg.grad(lambda x: wnp.sum(x[wnp.s_[1:, ::2]] ** 2))(x)
    onp.testing.assert_array_equal(g[1:, ::2], 2 * x[1:, ::2])
    gx, gy = wnp.mgrid[0:2, 0:3]
    onp.testing.assert_array_equal(gx + gy, onp.add(*onp.mgrid[0:2, 0:3]))
