"""wengert.scipy.linalg: every primitive through check_grads, both modes, order 2."""

from __future__ import annotations

import pytest

pytest.importorskip("scipy")

import numpy as onp
import scipy.linalg as sl

import wengert as wg
import wengert.numpy as wnp
from wengert._core.batching import loop_primitives
from wengert._core.primitive import Primitive
from wengert.scipy import linalg

R = onp.random.default_rng(7)


def real(*shape, lo=-1.0, hi=1.0):
    def make():
        x = R.uniform(lo, hi, size=shape)
        return float(x) if shape == () else x

    return make


def well_conditioned(n, *batch):
    """A full matrix near 3 I: its triangles are well conditioned, its eigenvalues > 0."""

    def make():
        return 3.0 * onp.eye(n) + R.uniform(-0.5, 0.5, size=(*batch, n, n))

    return make


def spd(n):
    def make():
        a = R.normal(size=(n, n))
        return a @ a.T + n * onp.eye(n)

    return make


def pivoting(n):
    """A matrix whose partial pivoting swaps rows, by clear margins (stable under steps)."""

    def make():
        a = 4.0 * onp.eye(n) + R.uniform(-0.5, 0.5, size=(n, n))
        return a[R.permutation(n)]

    return make


CASES: list[tuple[str, object, list]] = []


def case(name, fun, arg_sets):
    CASES.extend((name, fun, args) for args in arg_sets)


for lower in (True, False):
    for trans in (0, 1, "T", "C"):
        for unit in (False, True):
            case(
                "solve_triangular",
                lambda a, b, lo=lower, tr=trans, u=unit: linalg.solve_triangular(
                    a, b, trans=tr, lower=lo, unit_diagonal=u
                ),
                [(well_conditioned(3), real(3)), (well_conditioned(3), real(3, 2))],
            )
    case(
        "cholesky",
        lambda a, lo=lower: linalg.cholesky(a, lower=lo),
        [(spd(3),), (spd(1),)],
    )
    case(
        "cholesky",
        lambda a, b, lo=lower: linalg.cho_solve(linalg.cho_factor(a, lower=lo), b),
        [(spd(3), real(3)), (spd(3), real(3, 2))],
    )
    case(
        "solve_triangular",
        lambda c, b, lo=lower: linalg.cho_solve((c, lo), b),
        [(well_conditioned(3), real(3, 2))],
    )

case("lu_factor", lambda a: linalg.lu_factor(a)[0], [(pivoting(3),), (pivoting(4),)])
for trans in (0, 1):
    case(
        "lu_factor",
        lambda a, b, t=trans: linalg.lu_solve(linalg.lu_factor(a), b, trans=t),
        [(pivoting(3), real(3)), (pivoting(3), real(3, 2))],
    )
_PIV = onp.array([2, 2, 2], dtype=onp.int32)
case(
    "solve_triangular",
    lambda lu, b: linalg.lu_solve((lu, _PIV), b),
    [(well_conditioned(3), real(3, 2))],
)

case("inv", linalg.inv, [(well_conditioned(3),), (well_conditioned(2, 2),)])
case("det", linalg.det, [(real(3, 3),), (well_conditioned(2, 2),)])
case("expm", linalg.expm, [(real(3, 3),), (real(2, 2, 2),), (real(1, 1),)])
case("sqrtm", linalg.sqrtm, [(well_conditioned(3),), (spd(2),)])
case(
    "solve_sylvester",
    linalg.solve_sylvester,
    [(well_conditioned(3), well_conditioned(2), real(3, 2))],
)
case(
    "block_diag",
    linalg.block_diag,
    [(real(2, 2), real(3), real(1, 3)), (real(), real(2, 1))],
)
case("block_diag", lambda a: linalg.block_diag(a, onp.eye(2)) * 2.0, [(real(2, 3),)])


def banded(n):
    """Band storage (1 below, 1 above) of a diagonally dominant tridiagonal matrix."""

    def make():
        ab = R.uniform(-1.0, 1.0, (3, n))
        ab[1] += 4.0
        return ab

    return make


case("solve_banded", lambda ab, b: linalg.solve_banded((1, 1), ab, b), [(banded(4), real(4))])
case("solve_banded", lambda ab, b: linalg.solve_banded((1, 1), ab, b), [(banded(3), real(3, 2))])


def test_solve_banded_matches_scipy_traced_and_not():
    ab, b = banded(5)(), R.standard_normal(5)
    expected = sl.solve_banded((1, 1), ab, b)
    onp.testing.assert_allclose(linalg.solve_banded((1, 1), ab, b), expected)
    traced = wg.jvp(lambda b: linalg.solve_banded((1, 1), ab, b), (b,), (b,))[0]
    onp.testing.assert_allclose(traced, expected, rtol=1e-12)


@pytest.mark.parametrize(
    "name, fun, gens", CASES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]
)
def test_linalg_rules(name, fun, gens):
    args = [g() for g in gens]
    wg.check_grads(fun, modes=("fwd", "rev"), order=2)(*args)


def _primitives() -> dict[str, Primitive]:
    return {
        v.name: v
        for v in vars(linalg).values()
        if (isinstance(v, Primitive) and not getattr(v, "nondifferentiable", False))
    }


def test_every_primitive_is_in_the_table():
    missing = sorted(set(_primitives()) - {name for name, _, _ in CASES})
    assert not missing, f"primitives of wengert.scipy.linalg with no row: {missing}"


def test_every_primitive_has_both_rules():
    for name, prim in _primitives().items():
        assert prim.vjp_rules or prim.vjp_all, name
        assert prim.jvp_rules or prim.jvp_all, name


# --- values ---------------------------------------------------------------------------------


def test_values_match_scipy():
    a = well_conditioned(4)()
    b = R.normal(size=(4, 2))
    for lower in (True, False):
        for trans in (0, 1, 2):
            onp.testing.assert_allclose(
                linalg.solve_triangular(a, b, trans=trans, lower=lower),
                sl.solve_triangular(a, b, trans=trans, lower=lower),
            )
    s = spd(4)()
    onp.testing.assert_allclose(linalg.cholesky(s), sl.cholesky(s))
    onp.testing.assert_allclose(linalg.cho_solve(linalg.cho_factor(s), b), onp.linalg.solve(s, b))
    lu, piv = linalg.lu_factor(a)
    ref_lu, ref_piv = sl.lu_factor(a)
    onp.testing.assert_allclose(lu, ref_lu)
    onp.testing.assert_array_equal(piv, ref_piv)
    for trans in (0, 1):
        onp.testing.assert_allclose(
            linalg.lu_solve((lu, piv), b, trans=trans), sl.lu_solve((lu, piv), b, trans=trans)
        )
    onp.testing.assert_allclose(linalg.expm(a / 3.0), sl.expm(a / 3.0))
    onp.testing.assert_allclose(linalg.sqrtm(s), sl.sqrtm(s))
    onp.testing.assert_allclose(linalg.block_diag(a, b), sl.block_diag(a, b))
    onp.testing.assert_allclose(linalg.det(a), onp.linalg.det(a))


def test_traced_lu_matches_scipy_and_its_pivots():
    a = pivoting(4)()
    lu, _ = wg.vjp(lambda a: linalg.lu_factor(a)[0], a)
    onp.testing.assert_allclose(lu, sl.lu_factor(a)[0])
    # d/da of sum(a^-1 b) is -(a^-T 1)(a^-1 b)^T.
    b = onp.ones(4)
    g = wg.grad(lambda a: wnp.sum(linalg.lu_solve(linalg.lu_factor(a), b)))(a)
    ref = -onp.outer(onp.linalg.solve(a.T, onp.ones(4)), onp.linalg.solve(a, b))
    onp.testing.assert_allclose(g, ref)


def test_expm_derivative_is_the_frechet_derivative():
    a = real(3, 3)()
    e = real(3, 3)()
    _, tangent = wg.jvp(linalg.expm, (a,), (e,))
    onp.testing.assert_allclose(tangent, sl.expm_frechet(a, e, compute_expm=False))


def test_sqrtm_tangent_solves_the_sylvester_equation():
    a = spd(3)()
    e = real(3, 3)()
    x, dx = wg.jvp(linalg.sqrtm, (a,), (e,))
    onp.testing.assert_allclose(x @ dx + dx @ x, e, atol=1e-12)


def test_cholesky_reads_the_symmetric_part():
    s = spd(3)()
    skew = onp.triu(onp.ones((3, 3)), 1) - onp.tril(onp.ones((3, 3)), -1)
    onp.testing.assert_allclose(linalg.cholesky(s + 0.3 * skew), sl.cholesky(s))
    g = wg.grad(lambda a: wnp.sum(linalg.cholesky(a, lower=True)))(s)
    onp.testing.assert_allclose(g, g.T)


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
def test_lu_factor_needs_a_square_matrix_when_traced():
    with pytest.raises(ValueError, match="square"):
        wg.grad(lambda a: wnp.sum(linalg.lu_factor(a)[0]))(onp.ones((2, 3)))


def test_bad_trans_is_refused():
    with pytest.raises(ValueError, match="trans"):
        linalg.solve_triangular(onp.eye(2), onp.ones(2), trans="X")


# --- batches (vmap) -------------------------------------------------------------------------


def _loop(f, *args):
    """f of each member (a tuple of arguments), the results stacked."""
    outs = [f(*m) for m in zip(*args)]
    leaves = [wg.tree_flatten(o)[0] for o in outs]
    return [onp.stack([onp.asarray(x) for x in parts]) for parts in zip(*leaves)]


def _close(got, expected):
    got = wg.tree_flatten(got)[0]
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert onp.shape(a) == onp.shape(b)
        onp.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def _batch(gen, count=3):
    return onp.stack([gen() for _ in range(count)])


BATCHED = [
    (
        "solve_triangular",
        lambda a, b: (
            linalg.solve_triangular(a, b, lower=True)
            + linalg.solve_triangular(a, b, trans=1, unit_diagonal=True)
        ),
        (well_conditioned(3), real(3, 2)),
    ),
    ("lu_factor", lambda a: linalg.lu_factor(a)[0], (pivoting(4),)),
    (
        "lu_solve",
        lambda a, b: (
            linalg.lu_solve(linalg.lu_factor(a), b)
            + linalg.lu_solve(linalg.lu_factor(a), b, trans=1)
        ),
        (pivoting(3), real(3)),
    ),
    ("cho_solve", lambda a, b: linalg.cho_solve(linalg.cho_factor(a), b), (spd(3), real(3, 2))),
    ("expm", linalg.expm, (real(3, 3),)),
    ("sqrtm", linalg.sqrtm, (well_conditioned(3),)),
    (
        "solve_sylvester",
        linalg.solve_sylvester,
        (well_conditioned(3), well_conditioned(2), real(3, 2)),
    ),
    ("block_diag", lambda a, b: linalg.block_diag(a, onp.eye(2), b), (real(2, 3), real(3))),
    ("block_diag", lambda a, b: linalg.block_diag(a, b), (real(), real(2, 1))),
]


@pytest.mark.parametrize("fun, gens", [c[1:] for c in BATCHED], ids=[c[0] for c in BATCHED])
def test_vmap_and_per_member_gradients_equal_a_loop(fun, gens):
    args = [_batch(g) for g in gens]
    _close(wg.vmap(fun)(*args), _loop(fun, *args))
    weights = R.standard_normal(onp.shape(fun(*[x[0] for x in args])))
    scalar = lambda *a: wnp.sum(fun(*a) * weights)
    argnums = tuple(range(len(args)))
    grad = wg.grad(scalar, argnums=argnums)
    _close(wg.vmap(grad)(*args), _loop(grad, *args))


@pytest.mark.parametrize("fun, gens", [c[1:] for c in BATCHED], ids=[c[0] for c in BATCHED])
def test_batch_rules_are_differentiable_and_nest(fun, gens):
    """Derivatives of a mapped function run the rules on stacks of matrices; a vmap of a
    vmap stacks twice."""
    args = [_batch(g) for g in gens]
    argnums = tuple(range(len(args)))
    weights = R.standard_normal(onp.shape(wg.vmap(fun)(*args)))
    mapped = lambda *a: wnp.sum(wg.vmap(fun)(*a) * weights)
    looped = lambda *a: sum(wnp.sum(fun(*m) * w) for m, w in zip(zip(*a), weights))
    _close(
        wg.grad(mapped, argnums)(*args), [onp.asarray(g) for g in wg.grad(looped, argnums)(*args)]
    )
    tangents = [R.standard_normal(onp.shape(x)) for x in args]
    _close(
        wg.jvp(mapped, tuple(args), tuple(tangents))[1:],
        [wg.jvp(looped, tuple(args), tuple(tangents))[1]],
    )
    twice = [onp.stack([x, _batch(g)]) for x, g in zip(args, gens)]
    expected = onp.stack([_loop(fun, *[x[i] for x in twice])[0] for i in range(2)])
    _close(wg.vmap(wg.vmap(fun))(*twice), [expected])


def test_shared_matrices_solve_the_batch_as_columns():
    a, b = well_conditioned(3)(), _batch(real(3, 2), 4)
    for f in (
        lambda a, b: linalg.solve_triangular(a, b, lower=True),
        lambda a, b: linalg.lu_solve(linalg.lu_factor(a), b),
    ):
        _close(wg.vmap(f, in_axes=(None, 0))(a, b), _loop(lambda b: f(a, b), b))
        grad = wg.grad(lambda a, b: wnp.sum(f(a, b) ** 2), argnums=(0, 1))
        _close(wg.vmap(grad, in_axes=(None, 0))(a, b), _loop(lambda b: grad(a, b), b))


def test_lu_solve_with_a_batch_of_pivots():
    """Pivots given per member (integers under vmap) permute each member's rows."""
    a = _batch(pivoting(4), 3)
    lu, piv = zip(*[sl.lu_factor(m) for m in a])
    lu, piv, b = onp.stack(lu), onp.stack(piv), _batch(real(4, 2), 3)
    for trans in (0, 1):
        f = lambda lu, piv, b, t=trans: linalg.lu_solve((lu, piv), b, trans=t)
        expected = _loop(lambda *m: sl.lu_solve(m[:2], m[2], trans=trans), lu, piv, b)
        _close(wg.vmap(f)(lu, piv, b), expected)
        grad = wg.grad(lambda lu, piv, b, f=f: wnp.sum(f(lu, piv, b) ** 2), argnums=(0, 2))
        _close(wg.vmap(grad)(lu, piv, b), _loop(grad, lu, piv, b))


def test_primitives_batch_by_their_own_rules():
    before = set(loop_primitives())
    for _, fun, gens in BATCHED:
        args = [_batch(g) for g in gens]
        wg.vmap(wg.grad(lambda *a, f=fun: wnp.sum(f(*a) ** 2), tuple(range(len(args)))))(*args)
    names = {p.name for p in vars(linalg).values() if isinstance(p, Primitive)}
    assert not names & (set(loop_primitives()) - before)


def test_block_diag_of_stacks_is_refused_when_traced():
    with pytest.raises(ValueError, match="at most 2 dimensions"):
        wg.grad(lambda a: wnp.sum(linalg.block_diag(a, a)))(onp.ones((2, 2, 2)))
