"""Products (dot, matmul, @, inner, outer, vdot, tensordot, einsum, kron) with operands in
every form NumPy accepts (lists, tuples, nested lists, lists holding traced values, NumPy
and Python scalars), on either side, traced or not, through wengert.numpy and through
plain NumPy calls: NumPy's values, derivatives through the checker, NumPy's refusals."""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp

R = onp.random.default_rng(8)
V = R.standard_normal(3)
M = R.standard_normal((2, 3))

# name -> (wengert function, NumPy function); each takes (a, b)
PRODUCTS = {
    "dot": (wnp.dot, onp.dot),
    "matmul": (wnp.matmul, onp.matmul),
    "@": (lambda a, b: a @ b, None),
    "inner": (wnp.inner, onp.inner),
    "outer": (wnp.outer, onp.outer),
    "vdot": (wnp.vdot, onp.vdot),
    "tensordot": (lambda a, b: wnp.tensordot(a, b, 1), lambda a, b: onp.tensordot(a, b, 1)),
    "einsum": (lambda a, b: wnp.einsum("...i,i", a, b), lambda a, b: onp.einsum("...i,i", a, b)),
    "kron": (wnp.kron, onp.kron),
}
# A constant operand in the forms NumPy accepts, paired with a traced 3-vector.
CONSTANTS = {
    "list": [0.5, -1.0, 2.0],
    "tuple": (0.5, -1.0, 2.0),
    "nested": [[0.5, -1.0, 2.0], [1.0, 0.0, 3.0]],
    "int-list": [1, 2, 3],
}


def _matmul_like(name):
    return name in ("matmul", "@")


@pytest.mark.parametrize("form", CONSTANTS)
@pytest.mark.parametrize("name", PRODUCTS)
@pytest.mark.parametrize("side", ["left", "right"])
def test_constant_operand_forms(name, form, side):
    f, np_f = PRODUCTS[name]
    c = CONSTANTS[form]
    if name == "vdot" and form == "nested":
        pytest.skip("vdot flattens: a 6-entry constant does not pair with a 3-vector")
    if name == "einsum" and form == "nested" and side == "right":
        pytest.skip("the subscripts '...i,i' take a vector second")
    if side == "left":
        g = lambda x: f(c, x)
        expected = onp.asarray(c) @ V if np_f is None else np_f(c, V)
    else:
        if form == "nested" and name in ("dot", "matmul", "@", "tensordot", "einsum"):
            c = onp.asarray(c).T.tolist()  # (3, 2): shapes that pair with the vector
        g = lambda x: f(x, c)
        expected = V @ onp.asarray(c) if np_f is None else np_f(V, c)
    value, _ = wg.vjp(g, V)
    onp.testing.assert_allclose(value, expected, rtol=1e-14)
    wg.check_grads(g, order=2)(V)
    if np_f is not None:  # plain NumPy calls on traced values are routed the same way
        via_numpy = (lambda x: np_f(c, x)) if side == "left" else (lambda x: np_f(x, c))
        onp.testing.assert_allclose(wg.vjp(via_numpy, V)[0], expected, rtol=1e-14)
        wg.check_grads(via_numpy, order=1)(V)


@pytest.mark.parametrize("name", [n for n in PRODUCTS if n != "@"])  # list @ list: no product
def test_lists_holding_traced_values(name):
    f, _ = PRODUCTS[name]

    def g(x, y):
        return wnp.sum(f([x, y, 1.5], [2.0, x, y]))

    wg.check_grads(g, order=2)(0.7, -1.3)
    wg.check_grads(lambda a: wnp.sum(f([a[0], a[1], a[2]], (1.0, 2.0, 3.0))), order=2)(V)


@pytest.mark.parametrize("name", ["dot", "inner", "outer", "kron", "tensordot"])
@pytest.mark.parametrize("scalar", [2.5, onp.float64(2.5), onp.array(2.5)], ids=str)
def test_scalar_operands(name, scalar):
    f, np_f = PRODUCTS[name]
    if name == "tensordot":
        f = lambda a, b: wnp.tensordot(a, b, 0)
        np_f = lambda a, b: onp.tensordot(a, b, 0)
    for g, expected in [
        (lambda x: f(scalar, x), np_f(scalar, V)),
        (lambda x: f(x, scalar), np_f(V, scalar)),
    ]:
        onp.testing.assert_allclose(wg.vjp(g, V)[0], expected, rtol=1e-14)
        wg.check_grads(g, order=2)(V)


def test_dot_with_a_python_list_reproducer():
    x = onp.array([0.3, -0.7])
    onp.testing.assert_array_equal(wg.grad(lambda x: onp.dot([1.0, 2.0], x))(x), [1.0, 2.0])
    onp.testing.assert_array_equal(wg.grad(lambda x: [1.0, 2.0] @ x)(x), [1.0, 2.0])
    onp.testing.assert_array_equal(wg.grad(lambda x: x @ (1.0, 2.0))(x), [1.0, 2.0])


@pytest.mark.parametrize(
    "call",
    [
        lambda np_, x: np_.matmul(2.0, x),  # matmul takes no scalars
        lambda np_, x: np_.float64(2.0) @ x,
        lambda np_, x: np_.dot([[1.0, 2.0], [3.0]], x),  # ragged
        lambda np_, x: np_.dot([1.0, 2.0], x),  # shapes do not match
        lambda np_, x: np_.inner(onp.ones(2), x),
        lambda np_, x: np_.vdot(2.0, x),  # vdot flattens: sizes must match
        lambda np_, x: np_.tensordot(onp.ones((2, 2)), x, 1),
    ],
)
def test_what_numpy_refuses_is_refused_alike(call):
    with pytest.raises(Exception) as numpy_error:
        call(onp, V)
    for np_ in (onp, wnp):
        with pytest.raises(numpy_error.type):
            wg.grad(lambda x, np_=np_: wnp.sum(call(np_, x)))(V)


def test_non_numeric_operands_are_refused_clearly():
    with pytest.raises(TypeError, match="not numeric"):
        wg.grad(lambda x: wnp.dot(["a", "b", "c"], x))(V)
    with pytest.raises(TypeError, match="not numeric"):
        wg.grad(lambda x: wnp.sum(wnp.matmul(x, "abc")))(V)


def test_out_is_refused_for_traced_operands():
    buffer = onp.zeros(2)
    onp.testing.assert_allclose(wnp.dot(M, V, out=buffer), M @ V)
    for f in (wnp.dot, wnp.matmul, onp.dot, onp.matmul):
        with pytest.raises(wg.InPlaceWriteError, match="out="):
            wg.grad(lambda x, f=f: wnp.sum(f(M, x, out=buffer)))(V)


def test_multi_dot_with_list_operands():
    def f(x):
        return wnp.linalg.multi_dot([[x[0], x[1], x[2]], 2.0 * onp.eye(3), x, (1.0, 2.0)])

    # (3,) @ (3, 3) @ (3,) is a scalar; times a 2-vector is refused by matmul as in NumPy.
    with pytest.raises(ValueError):
        f(V)
    g = lambda x: wnp.linalg.multi_dot([[x[0], x[1], x[2]], 2.0 * onp.eye(3), x])
    onp.testing.assert_allclose(wg.vjp(g, V)[0], 2.0 * V @ V)
    wg.check_grads(g, order=2)(V)
    wg.check_grads(lambda x: wnp.linalg.multi_dot([[1.0, 2.0, 3.0], M.T, M, x]), order=2)(V)


@pytest.mark.parametrize("name", [n for n in PRODUCTS if n not in ("@",)])
def test_single_precision_operands_stay_single(name):
    f, np_f = PRODUCTS[name]
    for dtype in (onp.float32, onp.complex64):
        x = V.astype(dtype)
        c = onp.array([0.5, -1.0, 2.0], dtype=dtype)
        value, pullback = wg.vjp(lambda x: f(c, x), x)
        assert onp.result_type(value) == onp.result_type(np_f(c, x)) == dtype
        assert pullback(onp.ones_like(value))[0].dtype == dtype
        assert onp.result_type(wg.jvp(lambda x: f(x, c), (x,), (x,))[1]) == dtype


# --- NumPy 2's vector and matrix-vector products, einsum's interleaved form ------------------

CASES: list[tuple[str, object, tuple]] = []


def case(name, fun, *gens):
    CASES.append((name, fun, gens))


def real(*shape):
    return lambda: R.standard_normal(shape)


def cplx(*shape):
    return lambda: R.standard_normal(shape) + 1j * R.standard_normal(shape)


case("vecdot", wnp.vecdot, real(3), real(2, 3))
case("vecdot", lambda a, b: wnp.vecdot(a, b, axis=0), real(3, 2), real(3, 1))
case("vecdot", wnp.vecdot, cplx(2, 3), cplx(3))
case("matvec", wnp.matvec, real(2, 3), real(3))
case("matvec", wnp.matvec, real(4, 2, 3), real(1, 3))
case("vecmat", wnp.vecmat, real(2), real(2, 3))
case("vecmat", wnp.vecmat, cplx(4, 2), cplx(2, 3))
case("matrix_transpose", wnp.matrix_transpose, real(2, 3, 4))
case("einsum", lambda a, b: wnp.einsum(a, [0, 1], b, [1, 2]), real(2, 3), real(3, 4))
case("einsum", lambda a, b: wnp.einsum(a, [0, 1], b, [1, 2], [2, 0]), real(2, 3), real(3, 4))
case("einsum", lambda a, b: wnp.einsum(a, [..., 30], b, [30, 2], [..., 2]), real(4, 3), real(3, 2))
case("einsum", lambda a: wnp.einsum(a, [1, 1]), real(3, 3))


@pytest.mark.parametrize(
    "name, fun, gens", CASES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]
)
def test_rules(name, fun, gens):
    wg.check_grads(fun, modes=("fwd", "rev"), order=2)(*[g() for g in gens])


A2 = R.standard_normal((4, 2, 3))
PRODUCTS_2 = [
    lambda np_, a: np_.vecdot(a, a[0, 0]),
    lambda np_, a: np_.vecdot(a + 1j, a, axis=1),
    lambda np_, a: np_.matvec(a, a[0, 0]),
    lambda np_, a: np_.vecmat(a[:, :, 0] - 1j, a),
    lambda np_, a: np_.matrix_transpose(a),
    lambda np_, a: np_.einsum(a, [0, 1, 2], a[0], [1, 2]),
    lambda np_, a: np_.einsum(a, [0, 1, 2], a[0], [1, 2], [1, 0]),
    lambda np_, a: np_.einsum(a, [Ellipsis, 2], a[0, 0], [2], [Ellipsis]),
    lambda np_, a: np_.einsum(a, [0, 1, 40], a, [0, 1, 40]),  # implicit output: by number
    lambda np_, a: np_.einsum(a, [51, 0, 26]),
]


@pytest.mark.parametrize("call", PRODUCTS_2)
def test_products_of_numpy_2_values(call):
    expected = call(onp, A2)
    onp.testing.assert_allclose(call(wnp, A2), expected, rtol=1e-14)
    value = wg.jvp(lambda a: call(wnp, a), (A2,), (A2,))[0]
    assert value.shape == expected.shape and value.dtype == expected.dtype
    onp.testing.assert_allclose(value, expected, rtol=1e-13)


def test_einsum_sublists_numpy_refuses_are_refused():
    with pytest.raises(ValueError, match="not in"):
        wg.grad(lambda a: wnp.sum(wnp.einsum(a, [0, 52])))(onp.ones((2, 2)))
    with pytest.raises(ValueError):
        wg.grad(lambda a: wnp.sum(wnp.matvec(a, a)))(onp.ones(2))
