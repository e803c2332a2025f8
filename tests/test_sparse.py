"""Sparse Jacobians and Hessians: detected patterns, colourings, and compressed passes
that equal the dense derivatives with the predicted number of directions."""

from __future__ import annotations

import numpy as onp
import pytest

sp = pytest.importorskip("scipy.sparse")

import wengert as wg  # noqa: E402
import wengert.numpy as wnp  # noqa: E402
from wengert.sparse import (  # noqa: E402
    color_columns,
    color_rows,
    hessian_sparsity,
    jacobian_sparsity,
    sparse_hessian,
    sparse_jacobian,
)

R = onp.random.default_rng(5)
BLOCKS = R.normal(size=(6, 3, 3))
TRIDIAGONAL = onp.diag(onp.full(8, 2.0)) - onp.diag(onp.ones(7), 1) - onp.diag(onp.ones(7), -1)


def stencil(x):
    """A 1-D PDE residual with boundary rows: tridiagonal."""
    inner = x[2:] - 2.0 * x[1:-1] + x[:-2] + 0.1 * wnp.exp(x[1:-1])
    return wnp.concatenate([x[:1] ** 2 - 1.0, inner, x[-1:] * 3.0])


def blocks_einsum(x):
    return wnp.tanh(wnp.einsum("kij,kj->ki", BLOCKS, wnp.reshape(x, (6, 3)))).ravel()


def blocks_matmul(x):
    return wnp.sin((BLOCKS @ wnp.reshape(x, (6, 3, 1)))[..., 0]).ravel()


def banded(x, width=2):
    out = x**2
    for k in range(1, width + 1):
        out = out + wnp.concatenate([x[k:] * x[:-k], onp.zeros(k)])
        out = out + wnp.concatenate([onp.zeros(k), wnp.sin(x[:-k])])
    return out


def band_matrix(x):
    return TRIDIAGONAL @ x + x**3


def with_dense_row(x):
    return wnp.concatenate([wnp.reshape(wnp.sum(x**2), (1,)), x[1:] * x[:-1]])


def indexing_mix(x):
    y = wnp.index_update(x, 0, x[-1] * 2.0)
    y = wnp.index_add(y, [1, 1], x[2])
    return wnp.stack([y[::2], x[[1, 3, 5, 7]]]).T.ravel()


def product_chain(x):
    return wnp.tensordot(wnp.reshape(x, (2, 4)), onp.eye(4), axes=1).ravel() * wnp.prod(x[:2])


# (id, function, input size, number of directions expected, mode expected)
CASES = [
    ("stencil", stencil, 40, 3, "forward"),
    ("blocks einsum", blocks_einsum, 18, 3, "forward"),
    ("blocks matmul", blocks_matmul, 18, 3, "forward"),
    ("banded", banded, 30, 5, "forward"),
    ("constant band matrix", band_matrix, 8, 3, "forward"),
    ("dense row", with_dense_row, 20, 3, "reverse"),
    ("indexing", indexing_mix, 8, None, None),
    ("products", product_chain, 8, None, None),
]


@pytest.mark.parametrize("fun, n, passes, mode", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_sparse_jacobian_equals_dense(fun, n, passes, mode):
    x = R.uniform(-1.0, 1.0, n)
    dense = wg.jacfwd(fun)(x)
    pattern = jacobian_sparsity(fun, x)
    # The pattern covers every nonzero, here and at other points.
    for y in (x, R.uniform(-1.0, 1.0, n)):
        assert not onp.any((wg.jacrev(fun)(y) != 0) & ~pattern.toarray())
    jac = sparse_jacobian(fun)
    result = jac(x)
    assert sp.issparse(result) and result.shape == dense.shape
    onp.testing.assert_allclose(result.toarray(), dense, rtol=1e-13, atol=1e-14)
    if passes is not None:
        assert jac.num_passes == passes
        assert jac.mode == mode
    for forced in ("forward", "reverse"):
        onp.testing.assert_allclose(
            sparse_jacobian(fun, mode=forced)(x).toarray(), dense, rtol=1e-13, atol=1e-14
        )


def test_detected_patterns_are_exact_for_structured_maps():
    x = R.uniform(-1.0, 1.0, 8)
    expected = (TRIDIAGONAL != 0).astype(int)
    assert (jacobian_sparsity(band_matrix, x).toarray() == expected).all()
    boundary = expected.copy()
    boundary[0, 1] = boundary[-1, -2] = 0  # the boundary rows depend on one entry each
    assert (jacobian_sparsity(stencil, x).toarray() == boundary).all()
    blocks = jacobian_sparsity(blocks_matmul, R.normal(size=18)).toarray()
    assert (blocks == onp.kron(onp.eye(6), onp.ones((3, 3)))).all()
    assert (jacobian_sparsity(wnp.sum, x).toarray() == 1).all()
    scatter = jacobian_sparsity(wg.grad(lambda v: wnp.sum(v[1:] * v[:-1])), x).toarray()
    assert (scatter == (expected - onp.eye(8))).all()


def test_patterns_of_trees_and_constants():
    def f(params, scale):
        return {"a": params["u"] * scale, "b": params["v"][::-1] + 1.0, "c": onp.ones(2)}

    params = {"u": onp.ones(2), "v": onp.ones(3)}
    pattern = jacobian_sparsity(f, params, 2.0).toarray().astype(int)
    expected = onp.zeros((7, 5), dtype=int)
    expected[0, 0] = expected[1, 1] = 1
    expected[2, 4] = expected[3, 3] = expected[4, 2] = 1
    assert (pattern == expected).all()


def test_unknown_primitive_is_taken_as_dense():
    mix = wg.primitive(lambda x: onp.cumsum(x))
    mix.defjvp(lambda t, ans, x: mix(t))
    mix.defvjp(lambda g, ans, x: mix(g[::-1])[::-1])
    pattern = jacobian_sparsity(lambda x: wnp.concatenate([mix(x[:3]), x[3:]]), onp.ones(5))
    expected = onp.zeros((5, 5), dtype=bool)
    expected[:3, :3] = True
    expected[3, 3] = expected[4, 4] = True
    assert (pattern.toarray() == expected).all()


def test_tridiagonal_of_size_10000_costs_three_directions():
    calls = []

    def counted(x):
        calls.append(1)
        return stencil(x)

    x = R.uniform(-1.0, 1.0, 10_000)
    jac = sparse_jacobian(counted)
    result = jac(x)
    assert jac.num_passes == 3 and jac.mode == "forward"
    # One recorded evaluation gives the pattern, and the 3 directions are pushed through
    # the recorded graph: the function runs once.
    assert len(calls) == 1
    assert result.nnz == 3 * 10_000 - 4
    # Against the Jacobian written out by hand.
    main = onp.concatenate([[2 * x[0]], -2.0 + 0.1 * onp.exp(x[1:-1]), [3.0]])
    upper = onp.concatenate([[0.0], onp.ones(9_998)])
    lower = onp.concatenate([onp.ones(9_998), [0.0]])
    expected = sp.diags([lower, main, upper], [-1, 0, 1], format="csr")
    assert abs(result - expected).max() < 1e-14
    calls.clear()
    jac(x + 0.5)  # the pattern is reused: one pass
    assert len(calls) == 1


def test_given_sparsity_is_used():
    x = R.uniform(-1.0, 1.0, 8)
    pattern = TRIDIAGONAL != 0
    calls = []

    def counted(x):
        calls.append(1)
        return band_matrix(x)

    jac = sparse_jacobian(counted, sparsity=pattern)
    onp.testing.assert_allclose(jac(x).toarray(), wg.jacfwd(band_matrix)(x), rtol=1e-14)
    assert len(calls) == 1 and jac.num_passes == 3
    with pytest.raises(ValueError, match="columns"):
        sparse_jacobian(band_matrix, sparsity=pattern)(onp.ones(5))
    with pytest.raises(ValueError, match="rows"):
        sparse_jacobian(lambda v: v[:4] * v[4:], sparsity=onp.ones((8, 8)))(x)


def colours_are_valid(pattern, colors):
    dense = onp.asarray(pattern.toarray() if sp.issparse(pattern) else pattern, dtype=bool)
    for row in dense:
        used = colors[row]
        if onp.unique(used).size != used.size:
            return False
    return True


def test_colourings_are_valid_on_random_patterns():
    for trial in range(20):
        shape = tuple(R.integers(1, 30, size=2))
        pattern = R.random(shape) < R.uniform(0.02, 0.4)
        cols, rows = color_columns(pattern), color_rows(pattern)
        assert colours_are_valid(pattern, cols)
        assert colours_are_valid(pattern.T, rows)
        # Greedy never needs more colours than the largest row's count of neighbours + 1.
        assert cols.max(initial=-1) + 1 <= max(pattern.sum(axis=1).max(initial=0) ** 2, 1) * 3


def test_known_colour_counts():
    n = 50
    for width in (1, 2, 3):
        band = sum(onp.eye(n, k=k) for k in range(-width, width + 1))
        assert color_columns(band).max() + 1 == 2 * width + 1
    arrow = onp.eye(n)
    arrow[0, :] = arrow[:, 0] = 1
    assert color_columns(arrow).max() + 1 == n  # a dense row forces one colour per column
    assert color_rows(arrow).max() + 1 == n
    assert color_columns(onp.eye(n)).max() == 0


def test_sparse_hessian_equals_dense():
    def f(x):
        return wnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2) + wnp.sum(
            wnp.cos(x[::2]) * x[1::2]
        )

    x = R.uniform(-1.0, 1.0, 30)
    dense = wg.hessian(f)(x)
    pattern = hessian_sparsity(f, x)
    assert (pattern != pattern.T).nnz == 0
    assert not onp.any((dense != 0) & ~pattern.toarray())
    hess = sparse_hessian(f)
    onp.testing.assert_allclose(hess(x).toarray(), dense, rtol=1e-12, atol=1e-12)
    assert hess.num_passes == 3


def test_sparse_hessian_of_a_block_model():
    def f(x):
        y = wnp.reshape(x, (6, 3))
        return wnp.sum(wnp.einsum("kij,ki,kj->k", BLOCKS, y, y) ** 2)

    x = R.normal(size=18)
    hess = sparse_hessian(f)
    onp.testing.assert_allclose(hess(x).toarray(), wg.hessian(f)(x), rtol=1e-11, atol=1e-11)
    assert hess.num_passes == 3
    pattern = hessian_sparsity(f, x).toarray()
    assert (pattern == onp.kron(onp.eye(6), onp.ones((3, 3)))).all()


def test_sparse_hessian_of_a_linear_function_is_empty():
    hess = sparse_hessian(lambda x: wnp.sum(TRIDIAGONAL @ x))
    result = hess(onp.ones(8))
    assert result.nnz == 0 and result.shape == (8, 8) and hess.num_passes == 0


def test_errors():
    with pytest.raises(ValueError, match="mode"):
        sparse_jacobian(wnp.sin, mode="sideways")
    with pytest.raises(TypeError, match="floating-point"):
        jacobian_sparsity(wnp.sin, onp.arange(3))


@pytest.mark.parametrize(
    "fun",
    [
        lambda x: x[wnp.argsort(x)] * 2.0,
        lambda x: x * x[wnp.argmax(x)],
        lambda x: wnp.sort(x)[:3] * x[:3],
        lambda x: x[x > 0.0].sum() * x,
    ],
    ids=["argsort", "argmax", "sort", "mask"],
)
def test_pattern_follows_indexing_that_depends_on_the_point(fun):
    jac = sparse_jacobian(fun)
    hess = sparse_hessian(lambda x: wnp.sum(fun(x) ** 3))
    for seed in range(4):
        x = onp.random.default_rng(seed).permutation(6) - 2.5
        onp.testing.assert_allclose(jac(x).toarray(), wg.jacfwd(fun)(x), atol=1e-14)
        expected = wg.hessian(lambda x: wnp.sum(fun(x) ** 3))(x)
        onp.testing.assert_allclose(hess(x).toarray(), expected, atol=1e-12)


def test_pattern_is_kept_while_the_structure_is_the_same():
    calls = []

    def counted(x):
        calls.append(1)
        return wnp.where(x > 0.0, x**2, -x) * x[0]

    jac = sparse_jacobian(counted)
    first = jac(onp.array([1.0, -2.0, 3.0]))
    pattern = jac.sparsity
    second = jac(onp.array([-1.0, 2.0, 3.0]))  # other branches of where: same graph
    assert jac.sparsity is pattern and len(calls) == 2
    onp.testing.assert_allclose(second.toarray(), wg.jacfwd(counted)(onp.array([-1.0, 2.0, 3.0])))
    assert first.shape == (3, 3)
