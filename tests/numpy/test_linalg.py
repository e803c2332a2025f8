"""wengert.numpy.linalg: every function through the checker, both modes, order 2 (order 1
where the second derivative does not exist), plus values, conventions and edge points."""

from __future__ import annotations

import warnings

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert._core.batching import loop_primitives
from wengert._core.primitive import Primitive
from wengert.numpy import linalg as la

R = onp.random.default_rng(7)


# --- input generators ------------------------------------------------------------------


def dense(*shape, cplx=False):
    """Standard normal entries (complex with ``cplx``)."""

    def make():
        x = R.standard_normal(shape)
        return x + 1j * R.standard_normal(shape) if cplx else x

    return make


def well_conditioned(n, batch=(), cplx=False):
    """Square matrices with a diagonal shift, far from singular."""
    return lambda: dense(*batch, n, n, cplx=cplx)() + 3.0 * onp.eye(n)


def positive_definite(n, batch=(), cplx=False):
    def make():
        x = dense(*batch, n, n, cplx=cplx)()
        return x @ onp.conj(onp.swapaxes(x, -1, -2)) + n * onp.eye(n)

    return make


def symmetric(n, batch=()):
    def make():
        x = R.standard_normal((*batch, n, n))
        return x + onp.swapaxes(x, -1, -2)

    return make


def shifted(shape):
    """Random arrays that are 3 I plus noise once reshaped to a square matrix."""
    size = int(onp.sqrt(onp.prod(shape)))
    return lambda: 3 * onp.eye(size).reshape(shape) + R.standard_normal(shape)


def similar_to(eigenvalues):
    """S diag(eigenvalues) S^-1 for a random S: real eigenvalues, non-symmetric."""

    def make():
        s = R.standard_normal((len(eigenvalues),) * 2) + 2 * onp.eye(len(eigenvalues))
        return s @ onp.diag(eigenvalues) @ onp.linalg.inv(s)

    return make


def _order_free_eig(a):
    w, v = la.eig(a)
    size = wnp.real(v * wnp.conj(v))  # |v_ik|^2
    weighted = wnp.sum(size * wnp.real(w)[..., None, :] + size * wnp.imag(w)[..., None, :], -1)
    return weighted, wnp.sum(w * w, axis=-1)


def fixed(value):
    return lambda: onp.array(value, dtype=float)


def mixed(f):
    """A real function of a complex-valued one, mixing real and imaginary parts."""
    return lambda *args: wg.tree_map(lambda y: wnp.real(y) + 2.0 * wnp.imag(y), f(*args))


CASES: list[tuple[str, object, tuple, int]] = []


def case(name, fun, *gens, order=2):
    CASES.append((name, fun, gens, order))


# --- inverses and solves -------------------------------------------------------------------
case("inv", la.inv, well_conditioned(3))
case("inv", la.inv, well_conditioned(3, (2,)))
case("inv", la.inv, well_conditioned(3, cplx=True))
case("inv", mixed(la.inv), well_conditioned(2, (2,), cplx=True))
case("solve", la.solve, well_conditioned(3), dense(3))
case("solve", la.solve, well_conditioned(3, (2,)), dense(3, 2))
case("solve", la.solve, well_conditioned(3, (2,)), dense(3))  # one vector, many matrices
case("solve", la.solve, well_conditioned(3), dense(4, 3, 2))  # one matrix, many right sides
case("solve", la.solve, well_conditioned(3, cplx=True), dense(3, cplx=True))
case("pinv", la.pinv, dense(4, 3))
case("pinv", la.pinv, dense(2, 4))
case("pinv", la.pinv, dense(2, 4, 3))
case("pinv", la.pinv, dense(3, 2, cplx=True))
case("pinv", la.pinv, well_conditioned(3))
case("lstsq", lambda a, b: la.lstsq(a, b)[0], dense(5, 3), dense(5))
case("lstsq", lambda a, b: (*la.lstsq(a, b)[:2], la.lstsq(a, b)[3]), dense(5, 3), dense(5, 2))
case("lstsq", lambda a, b: la.lstsq(a, b)[0], dense(2, 4), dense(2))  # minimum-norm solution
case("lstsq", lambda a, b: la.lstsq(a, b)[0], dense(4, 3, cplx=True), dense(4, cplx=True))
case("tensorsolve", la.tensorsolve, shifted((2, 3, 6)), dense(2, 3))
case(
    "tensorsolve",
    lambda a, b: la.tensorsolve(a, b, axes=(0,)),
    shifted((6, 2, 3)),
    dense(2, 3),
)
case("tensorinv", lambda a: la.tensorinv(a, ind=1), lambda: 3 * onp.eye(4).reshape(4, 2, 2))
case("tensorinv", la.tensorinv, shifted((2, 3, 6)))

# --- determinants ----------------------------------------------------------------------------
case("det", la.det, dense(1, 1))
case("det", la.det, dense(3, 3))
case("det", la.det, dense(2, 4, 4))
case("det", la.det, dense(3, 3, cplx=True))
case("det", la.det, fixed([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]]))  # rank 2
case("det", la.det, lambda: onp.outer([1.0, 2.0, 3.0], [1.0, -1.0, 2.0]))  # rank 1
case("det", la.det, lambda: onp.zeros((2, 3, 3)))
case("det", la.det, lambda: onp.zeros((2, 2)))
case("cofactor", la._cofactor, dense(3, 3))
case("cofactor", la._cofactor, dense(2, 3, 3, cplx=True))
# At a rank-1 matrix the second derivative of the cofactors (det's third) goes through the
# SVD's rules at a repeated zero singular value: first order only.
case("cofactor", la._cofactor, lambda: onp.outer([1.0, 2.0, 3.0], [1.0, -1.0, 2.0]), order=1)
case("slogdet", lambda a: la.slogdet(a)[1], dense(3, 3))
case("slogdet", lambda a: la.slogdet(a)[1] * la.slogdet(a)[0], dense(2, 3, 3))
case("slogdet", la.slogdet, well_conditioned(3, cplx=True))
case("slogdet", mixed(la.slogdet), well_conditioned(3, (2,), cplx=True))

# --- factorizations --------------------------------------------------------------------------
case("cholesky", la.cholesky, positive_definite(3))
case("cholesky", la.cholesky, positive_definite(3, (2,)))
case("cholesky", lambda a: la.cholesky(a, upper=True), positive_definite(3))
case("cholesky", la.cholesky, positive_definite(3, cplx=True))
case("cholesky", mixed(la.cholesky), positive_definite(2, (2,), cplx=True))
case("cholesky", la.cholesky, shifted((3, 3)))  # reads (a + a.T) / 2: any direction works
case("qr", la.qr, dense(4, 3))
case("qr", la.qr, dense(3, 3))
case("qr", la.qr, dense(2, 4))  # wide: R = [R1, Q^H A2]
case("qr", la.qr, dense(2, 4, 3))
case("qr", lambda a: la.qr(a, mode="r"), dense(4, 3))
case("qr", lambda a: la.qr(a, mode="complete"), dense(2, 3))
case("qr", la.qr, dense(4, 3, cplx=True))
case("qr", mixed(la.qr), dense(2, 3, cplx=True))

# --- eigenproblems ---------------------------------------------------------------------------
case("eigh", la.eigh, symmetric(3))
case("eigh", la.eigh, symmetric(4, (2,)))
case("eigh", lambda a: la.eigh(a)[1], dense(3, 3))  # reads the symmetric part
# Complex eigenvectors carry a free phase: check phase-free functions of them.
case(
    "eigh",
    lambda a: (la.eigh(a)[0], wnp.abs(la.eigh(a)[1]) ** 2),
    positive_definite(3, cplx=True),
)
case("eigvalsh", la.eigvalsh, symmetric(4))
case("eigvalsh", la.eigvalsh, symmetric(3, (2,)))
case("eigvalsh", la.eigvalsh, positive_definite(3, cplx=True))
case("eig", la.eig, dense(4, 4))  # real input, complex pairs
case("eig", la.eig, dense(2, 3, 3))
case("eig", la.eig, dense(3, 3, cplx=True))
# LAPACK's order of the eigenvalues can change under a small perturbation (it does near
# this matrix); functions blind to the order are smooth wherever eigenvalues are distinct.
case("eig", _order_free_eig, similar_to([0.0, 1.0, 2.0]))
case("eig", _order_free_eig, dense(2, 3, 3, cplx=True))
case("eigvals", la.eigvals, dense(4, 4))
case("eigvals", mixed(la.eigvals), dense(2, 3, 3))
case("eigvals", la.eigvals, dense(3, 3, cplx=True))

# --- singular values -------------------------------------------------------------------------
case("svd", la.svd, dense(3, 3))
case("svd", la.svd, dense(2, 3, 3))
case("svd", lambda a: la.svd(a, full_matrices=False), dense(4, 3))
case("svd", lambda a: la.svd(a, full_matrices=False), dense(2, 5))
case("svd", lambda a: la.svd(a, full_matrices=False), dense(2, 2, 4))


def _phase_free_svd(a):
    u, s, vh = la.svd(a, full_matrices=False)
    return s, wnp.abs(u) ** 2, wnp.abs(vh) ** 2, u @ vh


case("svd", _phase_free_svd, dense(4, 3, cplx=True))
case("svd", _phase_free_svd, dense(3, 5, cplx=True))
case("svdvals", lambda a: la.svd(a, compute_uv=False), dense(4, 3))
case("svdvals", la.svdvals, dense(2, 3, 4))
case("svdvals", la.svdvals, dense(3, 4, cplx=True))

# --- norms -----------------------------------------------------------------------------------
for ord_ in (None, 2, 1, onp.inf, -onp.inf, 3, 1.5, 0.5, -1, -2):
    case("pnorm", lambda x, o=ord_: la.norm(x, o), dense(5))
    case("pnorm", lambda x, o=ord_: la.norm(x, o, axis=1, keepdims=True), dense(3, 4))
case("pnorm", lambda x: la.norm(x, 0) * x, dense(3))  # counts nonzeros: a constant
case("pnorm", la.norm, dense(2, 3, 4))
case("pnorm", lambda x: la.norm(x, keepdims=True), dense(2, 3))
case("pnorm", la.norm, dense(4, cplx=True))
case("pnorm", lambda x: la.norm(x, 3, axis=0), dense(4, 2, cplx=True))
case("pnorm", lambda x: la.norm(x, onp.inf), dense(4, cplx=True))
for ord_ in (None, "fro", "nuc", 1, -1, 2, -2, onp.inf, -onp.inf):
    case("svdvals", lambda x, o=ord_: la.norm(x, o), dense(3, 4))
    case("svdvals", lambda x, o=ord_: la.norm(x, o, axis=(2, 0), keepdims=True), dense(3, 2, 4))
case("svdvals", lambda x: la.norm(x, "nuc"), dense(3, 3, cplx=True))
case("pnorm", lambda x: la.vector_norm(x, axis=(0, 2), ord=3), dense(3, 2, 4))
case("pnorm", lambda x: la.vector_norm(x, keepdims=True), dense(3, 2))
case("svdvals", lambda x: la.matrix_norm(x, ord=2), dense(2, 3, 4))
case("svdvals", la.cond, dense(3, 3))
case("svdvals", lambda x: la.cond(x, -2), dense(2, 3, 3))
case("inv", lambda x: la.cond(x, 1), well_conditioned(3))
case("inv", lambda x: la.cond(x, "fro"), well_conditioned(3))

# --- products and helpers --------------------------------------------------------------------
case("matmul", lambda a: la.matrix_power(a, 3), dense(3, 3))
case("matmul", lambda a: la.matrix_power(a, 6), dense(2, 2, 2))
case("inv", lambda a: la.matrix_power(a, -2), well_conditioned(3, (2,)))
case("matmul", lambda a: la.matrix_power(a, 0) * a, dense(3, 3))
case(
    "matmul",
    lambda a, b, c, d: la.multi_dot([a, b, c, d]),
    dense(3),
    dense(3, 5),
    dense(5, 2),
    dense(2),
)
case("matmul", lambda a, b, c: la.multi_dot([a, b, c]), dense(3, 4), dense(4, 5), dense(5, 2))
case("matmul", lambda a, b: la.multi_dot([a, b]), dense(3, 4), dense(4))
case("getitem", lambda x: la.diagonal(x, offset=1), dense(2, 3, 4))
case("getitem", lambda x: la.trace(x, offset=-1), dense(3, 4))
case("getitem", la.matrix_transpose, dense(2, 3, 4))
case("multiply", la.vecdot, dense(2, 3, cplx=True), dense(3, cplx=True))
case("multiply", la.cross, dense(2, 3), dense(3))
case("multiply", lambda a, b: la.cross(a, b, axis=0), dense(3, 2), dense(3, 2))
case("multiply", la.outer, dense(2), dense(3))
case("tensordot", lambda a, b: la.tensordot(a, b, 1), dense(2, 3), dense(3, 2))


@pytest.mark.parametrize(
    "name, fun, gens, order", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_rules_against_numerical_derivatives(name, fun, gens, order):
    args = [g() for g in gens]
    wg.check_grads(fun, modes=("fwd", "rev"), order=order)(*args)


def _primitives() -> dict[str, Primitive]:
    return {
        v.name: v
        for v in vars(la).values()
        if (isinstance(v, Primitive) and not getattr(v, "nondifferentiable", False))
        and v.fun.__module__ == la.__name__
    }


def test_every_primitive_is_in_the_table_with_both_rules():
    prims = _primitives()
    missing = sorted(set(prims) - {c[0] for c in CASES})
    assert not missing, f"linalg primitives with no row in the table: {missing}"
    for name, prim in prims.items():
        assert prim.vjp_rules or prim.vjp_all, f"{name} has no reverse rule"
        assert prim.jvp_rules or prim.jvp_all, f"{name} has no forward rule"


# --- values ----------------------------------------------------------------------------------


def _traced_value(fun, *args):
    """The primal a function computes on traced inputs."""
    return wg.jvp(fun, args, tuple(onp.zeros_like(a) for a in args))[0]


def _assert_tree_close(a, b):
    la_, lb = wg.tree_flatten(a)[0], wg.tree_flatten(b)[0]
    assert len(la_) == len(lb)
    for x, y in zip(la_, lb):
        assert onp.shape(x) == onp.shape(y)
        onp.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)


VALUE_CASES = [
    (la.inv, onp.linalg.inv, (well_conditioned(3, (2,)),)),
    (la.solve, onp.linalg.solve, (well_conditioned(3, (2,)), dense(3))),
    (la.det, onp.linalg.det, (dense(2, 3, 3, cplx=True),)),
    (la.slogdet, onp.linalg.slogdet, (dense(2, 3, 3),)),
    (la.cholesky, onp.linalg.cholesky, (positive_definite(3, (2,)),)),
    (la.qr, onp.linalg.qr, (dense(2, 4, 3),)),
    (lambda a: la.qr(a)[1], lambda a: onp.linalg.qr(a)[1], (dense(3, 5),)),
    (la.eigh, onp.linalg.eigh, (symmetric(3, (2,)),)),
    (la.eigvalsh, onp.linalg.eigvalsh, (symmetric(4),)),
    (la.eigvals, onp.linalg.eigvals, (dense(4, 4, cplx=True),)),
    (la.eig, onp.linalg.eig, (dense(3, 3, cplx=True),)),
    (la.svd, onp.linalg.svd, (dense(2, 3, 3),)),
    (la.svdvals, lambda a: onp.linalg.svd(a, compute_uv=False), (dense(3, 5),)),
    (la.pinv, onp.linalg.pinv, (dense(4, 3),)),
    (la.lstsq, onp.linalg.lstsq, (dense(5, 3), dense(5))),
    (lambda a: la.matrix_power(a, -3), lambda a: onp.linalg.matrix_power(a, -3), (dense(3, 3),)),
    (lambda a: la.matrix_power(a, 5), lambda a: onp.linalg.matrix_power(a, 5), (dense(2, 3, 3),)),
    (
        lambda *a: la.multi_dot(a),
        lambda *a: onp.linalg.multi_dot(a),
        (dense(3), dense(3, 5), dense(5, 2), dense(2, 4)),
    ),
    (la.tensorinv, onp.linalg.tensorinv, (lambda: dense(2, 3, 6)() + onp.eye(6).reshape(2, 3, 6),)),
    (lambda a: la.cond(a, 1), lambda a: onp.linalg.cond(a, 1), (dense(3, 3),)),
    (la.cond, onp.linalg.cond, (dense(2, 3, 3),)),
    (lambda a: la.trace(a, offset=1), lambda a: onp.linalg.trace(a, offset=1), (dense(2, 3, 4),)),
    (
        lambda a: la.diagonal(a, offset=-1),
        lambda a: onp.linalg.diagonal(a, offset=-1),
        (dense(3, 4),),
    ),
    (la.cross, onp.linalg.cross, (dense(2, 3), dense(3))),
    (la.vecdot, onp.linalg.vecdot, (dense(2, 3, cplx=True), dense(3, cplx=True))),
]


@pytest.mark.parametrize("fun, reference, gens", VALUE_CASES)
def test_traced_values_match_numpy(fun, reference, gens):
    args = [g() for g in gens]
    _assert_tree_close(_traced_value(fun, *args), reference(*args))
    _assert_tree_close(fun(*args), reference(*args))


@pytest.mark.parametrize(
    "ord_, axis, keepdims",
    [(o, (1, 0), k) for o in (None, "fro", "nuc", 1, -1, 2, -2, onp.inf, -onp.inf) for k in (0, 1)]
    + [(o, 0, k) for o in (None, 2, 1, onp.inf, -onp.inf, 3, 0.5, -1, -2, 0) for k in (0, 1)]
    + [(None, None, 1), (2, None, 0), ("nuc", None, 0)],
)
def test_norm_values_match_numpy(ord_, axis, keepdims):
    x = dense(3, 4)()
    value = _traced_value(lambda x: la.norm(x, ord_, axis, bool(keepdims)), x)
    expected = onp.linalg.norm(x, ord_, axis, bool(keepdims))
    assert onp.shape(value) == onp.shape(expected)
    onp.testing.assert_allclose(value, expected, rtol=1e-12)


def test_eig_returns_complex_with_the_largest_entry_real_and_positive():
    a = onp.diag([1.0, 2.0, 3.0]) + onp.triu(dense(3, 3)(), 1)
    w, v = la.eig(a)
    assert w.dtype == onp.complex128 and v.dtype == onp.complex128
    onp.testing.assert_allclose(w, onp.linalg.eigvals(a))
    for x in (dense(4, 4)(), dense(3, 3, cplx=True)()):
        w, v = la.eig(x)
        pivot = v[onp.argmax(onp.abs(v), axis=0), onp.arange(len(w))]
        onp.testing.assert_array_equal(pivot.imag, 0.0)
        assert onp.all(pivot.real > 0)
        onp.testing.assert_allclose(x @ v, v * w, atol=1e-12)
        onp.testing.assert_allclose(onp.linalg.norm(v, axis=0), 1.0)
        # The tangent keeps the norm at 1 and the largest entry real.
        tangent = wg.jvp(
            lambda a: la.eig(a)[1], (x,), (dense(*x.shape, cplx=x.dtype.kind == "c")(),)
        )[1]
        pivot_rows = onp.argmax(onp.abs(v), axis=0)
        onp.testing.assert_allclose(tangent[pivot_rows, onp.arange(len(w))].imag, 0.0, atol=1e-12)
        onp.testing.assert_allclose(onp.real(onp.sum(onp.conj(v) * tangent, 0)), 0.0, atol=1e-12)
    # For complex input this is LAPACK's own normalization: NumPy's vectors exactly.
    x = dense(3, 3, cplx=True)()
    onp.testing.assert_allclose(la.eig(x)[1], onp.linalg.eig(x)[1], rtol=1e-13)


def test_gradients_of_real_inputs_are_real():
    a = dense(3, 3)()
    for fun in (
        lambda a: wnp.sum(wnp.real(la.eigvals(a)) ** 2),
        lambda a: wnp.sum(wnp.abs(la.eig(a)[1])),
        lambda a: wnp.real(wnp.sum(la.lstsq(a, onp.ones(3) + 1j)[0])),
    ):
        g = wg.grad(fun)(a)
        assert g.dtype == onp.float64
        wg.check_grads(fun, order=2)(a)


# --- closed forms and the transpose convention -------------------------------------------------


def test_closed_form_gradients():
    a = well_conditioned(3)()
    ainv = onp.linalg.inv(a)
    onp.testing.assert_allclose(wg.grad(la.det)(a), onp.linalg.det(a) * ainv.T)
    onp.testing.assert_allclose(wg.grad(lambda a: la.slogdet(a)[1])(a), ainv.T)
    onp.testing.assert_allclose(wg.grad(lambda a: la.trace(la.inv(a)))(a), -(ainv @ ainv).T)
    x = dense(4, 3)()
    u, _, vh = onp.linalg.svd(x, full_matrices=False)
    onp.testing.assert_allclose(wg.grad(lambda x: la.norm(x, "nuc"))(x), u @ vh, atol=1e-12)
    onp.testing.assert_allclose(wg.grad(lambda x: la.norm(x, 2))(x), onp.outer(u[:, 0], vh[0]))
    onp.testing.assert_allclose(wg.grad(la.norm)(x), x / onp.linalg.norm(x))


def test_reverse_rules_are_transposes_not_conjugate_transposes():
    a = well_conditioned(3, cplx=True)()
    g = dense(3, 3, cplx=True)()
    _, pullback = wg.vjp(la.inv, a)
    ainv_t = onp.linalg.inv(a).T
    onp.testing.assert_allclose(pullback(g)[0], -ainv_t @ g @ ainv_t)
    _, pullback = wg.vjp(la.det, a)
    onp.testing.assert_allclose(pullback(1.0 + 0j)[0], onp.linalg.det(a) * ainv_t)
    # eigvals is holomorphic: the cotangent of sum(w) is the identity, unconjugated.
    _, pullback = wg.vjp(lambda a: wnp.sum(la.eigvals(a)), a)
    onp.testing.assert_allclose(pullback(1.0 + 0j)[0], onp.eye(3), atol=1e-12)


def test_plain_numpy_code_is_routed():
    a = well_conditioned(3)()
    b = dense(3)()

    def loss(a):
        x = onp.linalg.solve(a, b)
        _, logdet = onp.linalg.slogdet(a)
        return onp.sum(x**2) + logdet + onp.linalg.norm(onp.linalg.inv(a), "fro")

    g = wg.grad(loss)(a)
    wg.check_grads(loss, order=2)(a)
    expected = wg.grad(
        lambda a: wnp.sum(la.solve(a, b) ** 2) + la.slogdet(a)[1] + la.norm(la.inv(a), "fro")
    )(a)
    onp.testing.assert_allclose(g, expected)


# --- realistic compositions ----------------------------------------------------------------------


def gaussian_logpdf(x, mean, cov):
    """log N(x; mean, cov) through cholesky, solve and slogdet."""
    factor = la.cholesky(cov)
    z = la.solve(factor, x - mean)
    _, logdet = la.slogdet(cov)
    n = x.shape[-1]
    return -0.5 * wnp.sum(z**2) - 0.5 * logdet - 0.5 * n * onp.log(2 * onp.pi)


def test_gaussian_log_likelihood():
    x, mean, cov = dense(4)(), dense(4)(), positive_definite(4)()
    scipy_stats = pytest.importorskip("scipy.stats")
    assert gaussian_logpdf(x, mean, cov) == pytest.approx(
        scipy_stats.multivariate_normal(mean, cov).logpdf(x), rel=1e-12
    )
    wg.check_grads(gaussian_logpdf, order=2)(x, mean, cov)
    # d/dcov = (P r r^T P - P) / 2 with P = inv(cov), r = x - mean; symmetric.
    p = onp.linalg.inv(cov)
    r = x - mean
    expected = 0.5 * (p @ onp.outer(r, r) @ p - p)
    onp.testing.assert_allclose(wg.grad(gaussian_logpdf, argnums=2)(x, mean, cov), expected)
    # Maximum likelihood: the gradient in the mean vanishes at the data.
    onp.testing.assert_allclose(wg.grad(gaussian_logpdf, argnums=1)(x, x, cov), 0.0, atol=1e-12)


def test_gaussian_log_likelihood_of_a_parametrized_covariance():
    def loss(params, data):
        factor = wnp.reshape(params, (3, 3))
        cov = factor @ wnp.transpose(factor) + onp.eye(3)
        return sum(gaussian_logpdf(x, onp.zeros(3), cov) for x in data)

    wg.check_grads(loss, order=2)(dense(9)(), dense(2, 3)())


def sym_expm(a):
    """exp of a stack of symmetric matrices through eigh."""
    w, v = la.eigh(a)
    return (v * wnp.exp(w)[..., None, :]) @ wnp.swapaxes(v, -1, -2)


def test_matrix_functions_of_batched_input():
    a = 0.3 * symmetric(3, (2, 2))()
    series = sum(
        onp.linalg.matrix_power(a, k) / onp.prod(onp.arange(1.0, k + 1)) for k in range(25)
    )
    onp.testing.assert_allclose(sym_expm(a), series, atol=1e-12)
    wg.check_grads(sym_expm, order=2)(a)
    # d tr exp(a) = exp(a)^T, batched.
    onp.testing.assert_allclose(
        wg.grad(lambda a: wnp.sum(la.trace(sym_expm(a))))(a),
        onp.swapaxes(series, -1, -2),
        atol=1e-12,
    )
    # A matrix square root through svd, and through a power, batched.
    spd = positive_definite(3, (2,))()
    wg.check_grads(lambda a: (lambda r: la.matrix_power(r, 2))(la.cholesky(a)), order=2)(spd)
    wg.check_grads(lambda a: la.norm(la.inv(a) @ a, axis=(-2, -1)), order=2)(spd)


def test_least_squares_fit_matches_normal_equations():
    a, b = dense(6, 3)(), dense(6)()
    g = wg.grad(lambda b: wnp.sum(la.lstsq(a, b)[0]))(b)
    onp.testing.assert_allclose(g, a @ onp.linalg.inv(a.T @ a) @ onp.ones(3))


# --- edge points ---------------------------------------------------------------------------------


def _rotated(diagonal, seed=0):
    q, _ = onp.linalg.qr(onp.random.default_rng(seed).standard_normal((len(diagonal),) * 2))
    a = q @ onp.diag(diagonal) @ q.T
    return (a + a.T) / 2


def test_det_of_singular_matrices_is_the_cofactor_matrix():
    rank2 = onp.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    cof = onp.array(
        [
            [
                onp.linalg.det(onp.delete(onp.delete(rank2, i, 0), j, 1)) * (-1) ** (i + j)
                for j in range(3)
            ]
            for i in range(3)
        ]
    )
    onp.testing.assert_allclose(wg.grad(la.det)(rank2), cof, atol=1e-12)
    assert onp.abs(cof).max() > 1  # a nonzero adjugate
    rank1 = onp.outer([1.0, 2.0, 3.0], [1.0, -1.0, 2.0])
    onp.testing.assert_allclose(wg.grad(la.det)(rank1), 0.0, atol=1e-12)
    # Second derivative at the zero 2x2 matrix: d^2 det = 2 (e00 e11 - e01 e10).
    e = dense(2, 2)()
    hvp = wg.jvp(wg.grad(la.det), (onp.zeros((2, 2)),), (e,))[1]
    onp.testing.assert_allclose(hvp, [[e[1, 1], -e[1, 0]], [-e[0, 1], e[0, 0]]], atol=1e-12)


def test_eigvalsh_at_repeated_eigenvalues():
    a = _rotated([1.0, 1.0, 3.0])
    for fun, grad in [
        (lambda a: wnp.sum(la.eigvalsh(a) ** 2), 2 * a),
        (lambda a: wnp.sum(la.eigvalsh(a) ** 3), 3 * a @ a),
        (lambda a: wnp.sum(la.eigh(a)[0] ** 2), 2 * a),
    ]:
        onp.testing.assert_allclose(wg.grad(fun)(a), grad, atol=1e-12)
        onp.testing.assert_allclose(
            wg.jvp(fun, (a,), (onp.eye(3),))[1], onp.trace(grad), atol=1e-12
        )
        wg.check_grads(fun, order=1)(a)
    g = wg.grad(lambda a: wnp.sum(la.eigvalsh(a) ** 2))(onp.eye(3))
    onp.testing.assert_array_equal(g, 2 * onp.eye(3))


def test_eigenvectors_at_repeated_eigenvalues_are_finite_and_right_for_projectors():
    a = _rotated([1.0, 1.0, 3.0])
    projector = lambda a: (lambda w, v: v[:, :2] @ v[:, :2].T)(*la.eigh(a))
    wg.check_grads(projector, order=1)(a)
    with pytest.warns(la.DegenerateDerivativeWarning):  # depends on the basis chosen
        g = wg.grad(lambda a: wnp.sum(la.eigh(a)[1] * onp.arange(9.0).reshape(3, 3)))(onp.eye(3))
    assert onp.all(onp.isfinite(g))


def test_singular_values_at_repeated_and_zero_values():
    q = _rotated([1.0, 2.0, 3.0])  # any invertible matrix
    u, _, vh = onp.linalg.svd(q)
    for s in ([1.0, 1.0, 1.0], [2.0, 2.0, 1.0]):
        a = u @ onp.diag(s) @ vh
        wg.check_grads(lambda a: la.norm(a, "nuc"), order=2)(a)  # the nuclear norm is smooth
        wg.check_grads(lambda a: (lambda u, s, vh: u @ vh)(*la.svd(a)), order=1)(a)  # polar
    for shape in [(3, 3), (4, 2), (2, 4)]:
        zero = onp.zeros(shape)
        for fun in (la.svdvals, lambda a: la.svd(a, full_matrices=False)):
            g = wg.grad(lambda a, f=fun: _sum_all(f(a)))(zero)
            onp.testing.assert_array_equal(g, 0.0)


def _sum_all(tree):
    return sum(wnp.sum(leaf) for leaf in wg.tree_flatten(tree)[0])


@pytest.mark.parametrize("ord_", [None, "fro", "nuc", 1, -1, 2, -2, onp.inf, -onp.inf])
def test_matrix_norms_at_zero_have_zero_derivative(ord_):
    zero = onp.zeros((3, 2))
    onp.testing.assert_array_equal(wg.grad(lambda x: la.norm(x, ord_))(zero), 0.0)
    assert wg.jvp(lambda x: la.norm(x, ord_), (zero,), (onp.ones((3, 2)),))[1] == 0.0


@pytest.mark.parametrize("ord_", [None, 2, 1, onp.inf, -onp.inf, 3, 1.5, 0.5, 0, -1, -2])
def test_vector_norms_at_zero_have_zero_derivative(ord_):
    zero = onp.zeros(3)
    with onp.errstate(divide="ignore"):  # NumPy's own value of a negative-order norm at 0
        onp.testing.assert_array_equal(wg.grad(lambda x: la.norm(x, ord_))(zero), 0.0)
        assert wg.jvp(lambda x: la.norm(x, ord_), (zero,), (onp.ones(3),))[1] == 0.0
        hessian = wg.jvp(wg.grad(lambda x: la.norm(x, ord_)), (zero,), (onp.ones(3),))[1]
        assert onp.all(onp.isfinite(hessian))
        # With some zero entries the derivative there is 0 and no NaN appears.
        x = onp.array([0.0, 3.0, -4.0])
        g = wg.grad(lambda x: la.norm(x, ord_))(x)
    assert onp.all(onp.isfinite(g)) and g[0] == 0.0


def test_complex_norm_at_zero():
    zero = onp.zeros(3, dtype=complex)
    onp.testing.assert_array_equal(wg.grad(la.norm)(zero), 0.0)


def test_slogdet_of_a_singular_matrix_raises():
    with pytest.raises(la.LinAlgError):
        wg.grad(lambda a: la.slogdet(a)[1])(onp.zeros((2, 2)))


def test_non_unique_factors_have_no_derivative():
    tall = dense(4, 3)()
    with pytest.raises(ValueError, match="full_matrices=False"):
        wg.grad(lambda a: wnp.sum(la.svd(a)[0]))(tall)
    with pytest.raises(ValueError, match="mode='reduced'"):
        wg.grad(lambda a: wnp.sum(la.qr(a, mode="complete")[0]))(tall)
    # Untraced, both behave as NumPy.
    assert la.svd(tall)[0].shape == (4, 4)
    assert la.qr(tall, mode="complete")[0].shape == (4, 4)


def test_matrix_rank_has_no_derivative():
    a = dense(3, 3)()
    assert la.matrix_rank(a) == 3
    g = wg.grad(lambda a: la.det(a) * la.matrix_rank(a))(a)
    onp.testing.assert_allclose(g, 3 * onp.linalg.det(a) * onp.linalg.inv(a).T)


# --- norms at zero and at extreme scales ------------------------------------------------------

VECTOR_ORDS = [None, 2, 3, 0.5, -1, -2, 1, -onp.inf, onp.inf]
MATRIX_ORDS = [None, "fro", "nuc", 2, -2, 1, -1, onp.inf, -onp.inf]


@pytest.mark.parametrize(
    "ord_, shape",
    [(o, (3,)) for o in VECTOR_ORDS] + [(o, (2, 3)) for o in MATRIX_ORDS],
    ids=str,
)
def test_norm_at_zero_has_zero_derivative_for_every_order(ord_, shape):
    z = onp.zeros(shape)
    f = lambda x: la.norm(x, ord_)
    with onp.errstate(divide="ignore"):  # 0 ** -1 in the value, as in NumPy
        onp.testing.assert_array_equal(wg.grad(f)(z), z)
        assert wg.jvp(f, (z,), (onp.ones_like(z),))[1] == 0.0
        assert onp.all(onp.isfinite(wg.hessian(f)(z)))


@pytest.mark.parametrize("scale", [1e200, 1e-200, 1e-310])
@pytest.mark.parametrize(
    "ord_, shape, axis",
    [(o, (4,), None) for o in VECTOR_ORDS]
    + [(o, (2, 3), None) for o in MATRIX_ORDS]
    + [(2, (3, 4), 1), (3, (3, 4), 0), ("fro", (2, 3, 4), (0, 2))],
    ids=str,
)
def test_norm_scales_like_lapack(ord_, shape, axis, scale):
    """A norm is homogeneous: norm(s x) = s norm(x), its gradient does not depend on s and
    its Hessian scales as 1/s; so each must hold at 1e200 and 1e-200 as at 1."""
    x = R.uniform(0.5, 2.0, shape) * R.choice([-1.0, 1.0], shape)
    f = lambda x: la.norm(x, ord_, axis=axis)
    total = lambda x: wnp.sum(f(x))
    value, grad = wg.value_and_grad(total)(x * scale)
    onp.testing.assert_allclose(value, scale * total(x), rtol=1e-12 if scale > 1e-300 else 1e-5)
    onp.testing.assert_allclose(f(x * scale), scale * f(x), rtol=1e-12 if scale > 1e-300 else 1e-5)
    if scale < 1e-300:  # subnormal inputs: values only
        return
    onp.testing.assert_allclose(grad, wg.grad(total)(x), rtol=1e-12, atol=1e-300)
    tangent = wg.jvp(total, (x * scale,), (x,))[1]
    onp.testing.assert_allclose(tangent, total(x), rtol=1e-12)
    if ord_ in (None, 2, 3, "fro"):
        h = wg.hessian(total)(x * scale)
        onp.testing.assert_allclose(h * scale, wg.hessian(total)(x), rtol=1e-9, atol=1e-12)


# --- repeated eigenvalues and singular values -----------------------------------------------

Degenerate = la.DegenerateDerivativeWarning
A_REPEATED = onp.diag([1.0, 1.0, 3.0])
C = onp.arange(9.0).reshape(3, 3)


def _no_warning(f, x):
    with warnings.catch_warnings():
        warnings.simplefilter("error", Degenerate)
        return wg.grad(f)(x)


@pytest.mark.parametrize(
    "f",
    [
        lambda a: la.eigh(a)[1][:, 0].sum(),  # one vector of the repeated pair
        lambda a: la.eigh(a)[0][0],  # one of two equal eigenvalues
        lambda a: la.eigvalsh(a)[1],
        lambda a: la.svd(a)[0][:, 1].sum(),  # singular values are (3, 1, 1)
        lambda a: la.svd(a)[1][1],
        lambda a: la.svdvals(a)[2],
        lambda a: wnp.real(la.eig(a)[1][:, 0]).sum(),
    ],
    ids=["eigh-vector", "eigh-value", "eigvalsh", "svd-vector", "svd-value", "svdvals", "eig"],
)
def test_basis_dependent_derivatives_at_repeated_eigenvalues_warn(f):
    with pytest.warns(Degenerate, match="rotations inside each repeated eigenspace"):
        g = wg.grad(f)(A_REPEATED)
    assert onp.all(onp.isfinite(g))


def test_basis_independent_derivatives_at_repeated_eigenvalues_are_right_and_quiet():
    def projector(a):  # onto the eigenspace of the repeated eigenvalue
        v = la.eigh(a)[1][:, :2]
        return wnp.sum((v @ v.T) * C)

    def polar(a):
        u, _, vh = la.svd(a)
        return wnp.sum((u @ vh) * C)

    # (function, point, whether it is differentiable there: the 2-norm at a tie is not,
    # and gets a subgradient)
    for f, a, smooth in [
        (projector, A_REPEATED, True),
        (lambda a: wnp.sum(la.eigh(a)[0] ** 2), A_REPEATED, True),
        (lambda a: wnp.sum(la.eigvalsh(a)[:2]), A_REPEATED, True),
        (polar, onp.diag([2.0, 2.0, 0.5]), True),
        (lambda a: la.norm(a, "nuc"), onp.eye(3), True),
        (lambda a: la.norm(a, 2), onp.diag([2.0, 2.0, 1.0]), False),
    ]:
        g = _no_warning(f, a)
        assert onp.all(onp.isfinite(g))
        if not smooth:
            continue
        # Against central differences along symmetric directions (all that eigh reads).
        for i, j in [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2)]:
            e = onp.zeros((3, 3))
            e[i, j] = e[j, i] = 1.0
            numeric = (f(a + 1e-6 * e) - f(a - 1e-6 * e)) / 2e-6
            onp.testing.assert_allclose(onp.sum(g * e), numeric, atol=1e-6)


def test_distinct_eigenvalues_do_not_warn():
    a = R.standard_normal((4, 4))
    a = a + a.T
    _no_warning(lambda a: la.eigh(a)[1][0, 0] ** 2 + la.eigvalsh(a)[0], a)
    _no_warning(lambda a: la.svd(a, full_matrices=False)[0][0, 0] ** 2, R.standard_normal((4, 3)))
    _no_warning(lambda a: wnp.real(la.eig(a)[1][0, 0]), a)


def test_one_of_equal_eigenvalues_gets_the_mean_share_in_both_modes():
    q = onp.linalg.qr(R.standard_normal((3, 3)))[0]
    a = q @ A_REPEATED @ q.T  # LAPACK's basis of the repeated eigenspace is arbitrary
    projector = q[:, :2] @ q[:, :2].T
    for f in (lambda a: la.eigvalsh(a)[0], lambda a: la.eigh(a)[0][1]):
        with pytest.warns(Degenerate, match="tells equal values apart"):
            g = wg.grad(f)(a)
        onp.testing.assert_allclose(g, 0.5 * projector, atol=1e-12)
        t = R.standard_normal((3, 3))
        onp.testing.assert_allclose(wg.jvp(f, (a,), (t,))[1], onp.sum(g * t), atol=1e-12)
    s_projector = q[:, 1:] @ q[:, 1:].T
    b = q @ onp.diag([3.0, 1.0, 1.0]) @ q.T
    with pytest.warns(Degenerate):
        onp.testing.assert_allclose(
            wg.grad(lambda a: la.svdvals(a)[2])(b), 0.5 * s_projector, atol=1e-12
        )


@pytest.mark.parametrize("ord_", [None, 3, -2, onp.inf])
def test_norm_keeps_float32_and_complex64_at_extreme_scales(ord_):
    for dtype in (onp.float32, onp.complex64):
        x = (onp.array([3.0, 4.0]) * (1 + (0.5j if dtype == onp.complex64 else 0))).astype(dtype)
        for scale in (1e30, 1e-30, 1.0):
            f = lambda x: la.norm(x, ord_)
            value, grad = wg.value_and_grad(f)(x * dtype(scale))
            assert onp.result_type(value) == onp.float32 and grad.dtype == dtype
            onp.testing.assert_allclose(value / scale, f(x), rtol=1e-5)
            onp.testing.assert_allclose(grad, wg.grad(f)(x), rtol=1e-5)
            assert onp.result_type(wg.jvp(f, (x,), (x,))[1]) == onp.float32


def test_degenerate_spectra_keep_float32():
    a = onp.diag([1.0, 1.0, 3.0]).astype(onp.float32)
    with pytest.warns(Degenerate):
        g = wg.grad(lambda a: la.eigvalsh(a)[0])(a)
    assert g.dtype == onp.float32
    assert wg.grad(lambda a: wnp.sum(la.eigvalsh(a)[:2]))(a).dtype == onp.float32


# --- batches (vmap): each member's masks, ranks and shapes -----------------------------------


def _stacked_loop(f, *members):
    """f of each member (a tuple of arguments), the results stacked."""
    outs = [f(*m) for m in members]
    leaves = [wg.tree_flatten(o)[0] for o in outs]
    return [onp.stack([onp.asarray(x) for x in parts]) for parts in zip(*leaves)]


def _assert_leaves_close(got, expected):
    got = wg.tree_flatten(got)[0]
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert onp.shape(a) == onp.shape(b)
        onp.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def _members(*gens, count=3):
    return [tuple(g() for g in gens) for _ in range(count)]


def _stack_members(members):
    return tuple(onp.stack(parts) for parts in zip(*members))


@pytest.mark.parametrize(
    "f, gens",
    [
        (lambda a: _sum_all(la.eigh(a)) + wnp.sum(la.eigh(a)[1] * C), (symmetric(3),)),
        (
            lambda a: wnp.sum(wnp.real(la.eig(a)[1]) * C) + wnp.sum(wnp.imag(la.eigvals(a))),
            (dense(3, 3),),
        ),
        (lambda a: _sum_all(la.svd(a, full_matrices=False)), (dense(4, 3),)),
        (lambda a: _sum_all(la.svd(a, full_matrices=False)), (dense(2, 4),)),
        (lambda a: wnp.sum(la.svdvals(a) ** 3), (dense(3, 4),)),
        (lambda x: la.norm(x, 3) + la.norm(x, -1) + la.norm(x, 0) * la.norm(x), (dense(4),)),
    ],
    ids=["eigh", "eig", "svd-tall", "svd-wide", "svdvals", "pnorm"],
)
def test_per_member_gradients_of_spectral_rules_read_each_members_masks(f, gens):
    """The masks of the spectral rules (distinct pairs, nonzero singular values, pivots
    of eigenvectors, nonzero entries) are each member's own, not the whole batch's."""
    members = _members(*gens)
    g = wg.grad(f)
    _assert_leaves_close(wg.vmap(g)(*_stack_members(members)), _stacked_loop(g, *members))
    h = lambda x, t: wg.jvp(f, (x,), (t,))[1]
    tangents = [(m[0], gens[0]()) for m in members]
    _assert_leaves_close(wg.vmap(h)(*_stack_members(tangents)), _stacked_loop(h, *tangents))


def test_per_member_gradients_with_zero_entries_in_one_member():
    x = onp.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0], [0.0, 0.0, 0.0]])
    for ord_ in (3, 0.5, -1):
        g = wg.grad(lambda x: la.norm(x, ord_))
        with onp.errstate(divide="ignore"):
            _assert_leaves_close(wg.vmap(g)(x), _stacked_loop(g, *[(m,) for m in x]))


def test_per_member_gradients_at_repeated_eigenvalues_in_some_members():
    q = onp.linalg.qr(R.standard_normal((3, 3)))[0]
    a = onp.stack([onp.eye(3), symmetric(3)(), q @ A_REPEATED @ q.T])
    for f in (
        lambda a: wnp.sum(la.eigvalsh(a) ** 3),
        lambda a: wnp.sum(la.svdvals(a) ** 2),
        lambda a: wnp.sum(la.eigh(a)[0] * onp.arange(3.0)),  # tells equal values apart
    ):
        g = wg.grad(f)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Degenerate)
            expected = _stacked_loop(g, *[(m,) for m in a])
            _assert_leaves_close(wg.vmap(g)(a), expected)
            h = wg.hessian(f)
            _assert_leaves_close(wg.vmap(h)(a), _stacked_loop(h, *[(m,) for m in a]))
    # One warning for the batch, when any member needs it.
    with pytest.warns(Degenerate, match="tells equal values apart"):
        wg.vmap(wg.grad(lambda a: la.eigvalsh(a)[0]))(a)
    _no_warning(lambda a: wnp.sum(wg.vmap(la.eigvalsh)(a)[:, 0]), a[1:2])


def test_lstsq_under_vmap_gives_each_member_its_rank_and_residuals():
    full, deficient = dense(5, 3)(), onp.outer(R.standard_normal(5), R.standard_normal(3))
    b = dense(3, 5)()
    f = lambda a, b: la.lstsq(a, b)
    traced = lambda a, b: wg.jvp(lambda a: f(a, b), (a,), (onp.zeros_like(a),))[0]
    for a in (
        onp.stack([full, 2 * full, full + 1.0]),
        onp.stack([deficient, 2 * deficient] * 2)[:3],
    ):
        x, residuals, rank, s = wg.vmap(f)(a, b)
        members = list(zip(a, b))
        expected = _stacked_loop(traced, *members)
        _assert_leaves_close((x, residuals, rank, s), expected)
        onp.testing.assert_array_equal(rank, [onp.linalg.lstsq(*m)[2] for m in members])
    with pytest.raises(ValueError, match="residuals have different shapes"):
        wg.vmap(f)(onp.stack([full, deficient, full]), b)


def test_lstsq_of_a_shared_matrix_solves_the_batch_as_columns():
    a, b = dense(5, 3)(), dense(4, 5, 2)()
    f = lambda a, b: la.lstsq(a, b)[0]
    onp.testing.assert_allclose(
        wg.vmap(f, in_axes=(None, 0))(a, b), onp.stack([f(a, m) for m in b]), rtol=1e-12
    )
    g = wg.grad(lambda a, b: wnp.sum(wg.vmap(f, in_axes=(None, 0))(a, b) ** 2), argnums=(0, 1))
    expected = wg.grad(lambda a, b: sum(wnp.sum(f(a, m) ** 2) for m in b), argnums=(0, 1))
    for got, want in zip(g(a, b), expected(a, b)):
        onp.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert "lstsq" not in loop_primitives()


def test_batched_lstsq_is_differentiable_through_its_rule():
    """Gradients of a mapped lstsq run its rules on stacks of matrices."""
    a, b = dense(3, 5, 3)(), dense(3, 5, 2)()
    f = lambda a, b: la.lstsq(a, b)[0]
    total = lambda a, b: wnp.sum(wg.vmap(f)(a, b) ** 2)
    expected = wg.grad(lambda a, b: sum(wnp.sum(f(x, y) ** 2) for x, y in zip(a, b)), (0, 1))
    for got, want in zip(wg.grad(total, (0, 1))(a, b), expected(a, b)):
        onp.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    wg.check_grads(lambda a: wg.vmap(f)(a, b), modes=("fwd", "rev"), order=2)(a)


def test_lstsq_of_a_stack_is_refused_outside_vmap():
    with pytest.raises(la.LinAlgError, match="not a matrix"):
        wg.grad(lambda a: wnp.sum(la.lstsq(a, onp.ones((2, 2)))[0]))(onp.ones((2, 2, 2)))
