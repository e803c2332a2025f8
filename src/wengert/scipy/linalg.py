"""Differentiable `scipy.linalg` functions for real square matrices (2-D; `vmap` maps them
over batches, each primitive by its own batching rule).

Each is a primitive with both rules, written with wengert functions and these
primitives themselves, so derivatives of every order follow; or a composition of them.

- `solve_triangular` reads only the triangle it is told to (and not the diagonal with
  ``unit_diagonal``); its derivative in `a` lives on those entries only.
- `cholesky` factors the symmetric part ``(a + a.T) / 2``: equal to SciPy's result for a
  symmetric `a`, and its derivative is the symmetric one, valid in every direction.
- `lu_factor` returns SciPy's packed ``(lu, piv)``, differentiable in `a` (square, with
  the pivots held fixed, as they are under small perturbations); `lu_solve` and
  `cho_solve` are compositions of `solve_triangular`, so they are differentiable in the
  factor and in `b`, and through the factor in the original matrix.
- `expm` differentiates by the Frechet derivative ``expm([[A, E], [0, A]])[:n, n:]``.
- `sqrtm` and `solve_sylvester` differentiate through Sylvester equations; derivatives
  of every order follow.

>>> import numpy as np
>>> import wengert as wg
>>> wg.grad(lambda a: det(expm(a)))(np.zeros((2, 2)))  # d exp(trace a) = identity
array([[1., 0.],
       [0., 1.]])
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sl

from .. import numpy as wnp
from .._core.batching import batch_size, first_argument
from .._core.box import Box, peek
from .._core.define import nondiff
from .._core.primitive import Primitive
from .._core.vspace import (
    asarray,
    eye_like,
    foreign_of,
    inexact_dtype,
    is_foreign_array,
    refuse_foreign,
    shape_of,
    square_blocks,
    values_list,
    zeros_like,
)
from ..numpy import linalg as np_linalg
from ..numpy.indexing import take_index
from ..numpy.linalg import _over_stack

# Why SciPy's LAPACK-backed functions refuse arrays of another library.
_NO_ROUTE = (
    "SciPy computes it with LAPACK on NumPy arrays, and NumPy's protocols offer no "
    "function that computes it on the array's own device"
)


def _t(x):
    """The transpose of the last two axes."""
    return wnp.swapaxes(x, -1, -2)


def _triangle(a, lower: bool, strict: bool) -> np.ndarray:
    """A 0/1 mask of the lower (or upper) triangle of a's matrices, without the diagonal
    if `strict`: one matrix, which broadcasts over stacks and batches."""
    ones = np.ones(shape_of(a)[-2:], dtype=inexact_dtype(peek(a)), like=foreign_of(a))
    if lower:
        return np.tril(ones, -1 if strict else 0)
    return np.triu(ones, 1 if strict else 0)


def _each_matrix(fun, *arrays):
    """`fun` of 2-D arrays applied to each matrix of stacks with equal stack axes (SciPy
    before 1.15 takes one matrix at a time); a stack of its results. Batching rules
    (`_over_stack`) call the primitives below on such stacks."""
    lead = np.shape(arrays[0])[:-2]
    if not lead:
        return fun(*arrays)
    out = [fun(*(x[i] for x in arrays)) for i in np.ndindex(lead)]
    return np.stack(out).reshape(lead + np.shape(out[0]))


def _trans_code(trans) -> int:
    codes = {0: 0, "N": 0, "n": 0, 1: 1, "T": 1, "t": 1, 2: 2, "C": 2, "c": 2}
    if trans not in codes:
        raise ValueError(f"solve_triangular: trans must be 0/'N', 1/'T' or 2/'C', got {trans!r}")
    return codes[trans]


# --- triangular solves ---------------------------------------------------------------------


def _solve_triangular_impl(a, b, trans=0, lower=False, unit_diagonal=False):
    if foreign_of(a, b) is not None:
        return _solve_triangular_foreign(a, b, trans, lower, unit_diagonal)

    def solve(a, b):
        return sl.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal)

    return _each_matrix(solve, a, b)


def _solve_triangular_foreign(a, b, trans, lower, unit_diagonal):
    """`_solve_triangular_impl` for arrays of another library (CuPy), which SciPy does
    not take: NumPy's dense solve of the triangle (the other entries read as zeros, the
    diagonal as ones with `unit_diagonal`), through the arrays' own protocols."""
    a, b = asarray(a, like=b), asarray(b, like=a)
    tri = np.tril(a) if lower else np.triu(a)
    if unit_diagonal:
        n = a.shape[-1]
        tri = np.where(
            eye_like(n, dtype=bool, like=foreign_of(a)), np.ones((), a.dtype, like=a), tri
        )
    if trans:
        tri = np.swapaxes(tri, -1, -2)
        if trans == 2:
            tri = np.conj(tri)
    tri = square_blocks(tri)  # (Dask's LU: equal square blocks)
    if b.ndim == a.ndim - 1:  # (a stack of vectors: columns of one each)
        return np.linalg.solve(tri, b[..., None])[..., 0]
    return np.linalg.solve(tri, b)


def _solve_triangular_vjp(g, ans, argnums, a, b, trans=0, lower=False, unit_diagonal=False):
    gb = _solve_triangular(a, g, trans=1 - trans, lower=lower, unit_diagonal=unit_diagonal)
    out = []
    for i in argnums:
        if i == 1:
            out.append(gb)
        else:
            ga = -(gb @ _t(ans)) if trans == 0 else -(ans @ _t(gb))
            out.append(ga * _triangle(a, lower, unit_diagonal))
    return out


def _solve_triangular_jvp(tangents, ans, a, b, trans=0, lower=False, unit_diagonal=False):
    ta, rhs = tangents
    if ta is not None:
        dm = ta * _triangle(a, lower, unit_diagonal)
        term = (_t(dm) if trans else dm) @ ans
        rhs = -term if rhs is None else rhs - term
    return _solve_triangular(a, rhs, trans=trans, lower=lower, unit_diagonal=unit_diagonal)


def _solve_triangular_batch(batched, a, b, **options):
    if not batched[0] and len(shape_of(a)) == 2:
        # One matrix for the whole batch: the right-hand sides are solved as more columns.
        size, (n, k) = shape_of(b)[0], shape_of(b)[-2:]
        columns = wnp.reshape(wnp.moveaxis(b, 0, -1), (n, k * size))
        x = _solve_triangular(a, columns, **options)
        return wnp.moveaxis(wnp.reshape(x, (n, k, size)), -1, 0)
    return _over_stack(_solve_triangular)(batched, a, b, **options)


# op(a) x = b for a triangular matrix a and a matrix b (or stacks of both, for batching).
_solve_triangular = Primitive(_solve_triangular_impl, "solve_triangular")
_solve_triangular.defbatch(_solve_triangular_batch)
_solve_triangular.defvjp_all(_solve_triangular_vjp)
_solve_triangular.defjvp_all(_solve_triangular_jvp)


def solve_triangular(a, b, trans=0, lower: bool = False, unit_diagonal: bool = False):
    """The x with ``op(a) x = b`` for triangular `a`, differentiable in a and b.

    ``trans`` is 0/'N' (a), 1/'T' (a transposed) or 2/'C' (conjugate transposed); `b` has
    shape (n,) or (n, k).

    >>> import numpy as np
    >>> solve_triangular(np.array([[2.0, 0.0], [1.0, 1.0]]), np.array([2.0, 3.0]), lower=True)
    array([1., 2.])
    """
    code = _trans_code(trans)
    if code == 2:
        if np.iscomplexobj(peek(a)):
            a = wnp.conj(a)
        code = 1
    options = {"trans": code, "lower": bool(lower), "unit_diagonal": bool(unit_diagonal)}
    if len(shape_of(b)) == 1:
        return _solve_triangular(a, wnp.reshape(b, (-1, 1)), **options)[:, 0]
    return _solve_triangular(a, b, **options)


# --- Cholesky --------------------------------------------------------------------------------


def cholesky(a, lower: bool = False):
    """The Cholesky factor of the symmetric part of `a`: upper U with a = U^T U by default.

    >>> import numpy as np
    >>> cholesky(np.array([[4.0, 2.0], [2.0, 5.0]]), lower=True)
    array([[2., 0.],
           [1., 2.]])
    """
    return np_linalg.cholesky(a, upper=not lower)


def cho_factor(a, lower: bool = False):
    """``(c, lower)`` for `cho_solve`; the unused triangle of c holds zeros.

    >>> import numpy as np
    >>> c, low = cho_factor(np.array([[4.0, 2.0], [2.0, 5.0]]))
    >>> c
    array([[2., 1.],
           [0., 2.]])
    """
    return cholesky(a, lower=lower), bool(lower)


def cho_solve(c_and_lower, b):
    """The x with ``a x = b`` from a's Cholesky factor, differentiable in the factor and b.

    >>> import numpy as np
    >>> a = np.array([[4.0, 2.0], [2.0, 5.0]])
    >>> cho_solve(cho_factor(a), np.array([6.0, 7.0]))
    array([1., 1.])
    """
    c, lower = c_and_lower
    if lower:
        return solve_triangular(c, solve_triangular(c, b, lower=True), trans=1, lower=True)
    return solve_triangular(c, solve_triangular(c, b, trans=1, lower=False), lower=False)


# --- LU ----------------------------------------------------------------------------------------


def _permutation_impl(piv) -> np.ndarray:
    """The row order `perm` with ``a[perm] = L U``, from LAPACK's row interchanges (for
    each matrix of a stack)."""
    like = foreign_of(piv)
    # LAPACK's interchanges apply one after another: read on the host (a few integers;
    # pivots on a device are read once, explicitly), the order made where they were.
    piv = np.asarray(piv if like is None else values_list(piv))
    if piv.ndim > 1:
        perm = np.stack([_permutation_impl(p) for p in piv])
    else:
        perm = np.arange(len(piv))
        for i, p in enumerate(piv):
            perm[i], perm[p] = perm[p], perm[i]
    return perm if like is None else asarray(perm, like=like)


# Without derivative (integers), so that batching gives each member its own pivots.
_permutation = nondiff(_permutation_impl, "lu_permutation")
_permutation.defbatch(first_argument(_permutation))
_inverse_permutation = nondiff(lambda perm: np.argsort(perm, axis=-1), "inverse_permutation")
_inverse_permutation.defbatch(first_argument(_inverse_permutation))
_pivots = nondiff(lambda a: _each_matrix(_lu_pivots_of_matrix, a), "lu_pivots")
_pivots.defbatch(first_argument(_pivots))


def _rows(x, perm):
    """``x[perm]``: the rows of `x` (..., n, k) in the order `perm` (..., n)."""
    if (isinstance(perm, np.ndarray) or is_foreign_array(perm)) and perm.ndim == 1:
        return x[..., perm, :]
    # One order per matrix (a stack, or a batch of pivots): a selection by a one-hot mask.
    n = shape_of(perm)[-1]
    rows = np.arange(n, like=foreign_of(perm, x))
    pick = wnp.expand_dims(perm, -1) == rows  # pick[..., i, j]: row i is x's row j
    return wnp.sum(wnp.where(wnp.expand_dims(pick, -1), wnp.expand_dims(x, -3), 0.0), axis=-2)


def _lu_impl(a, perm):
    # `perm` is the row order of this factorization: the rules need it, SciPy does not.
    return _each_matrix(lambda m: _lu_factor_of_matrix(m)[0], a)


def _lu_parts(lu):
    """L (unit lower) and U (upper) out of the packed factor, differentiably."""
    eye = eye_like(shape_of(lu)[-1], dtype=inexact_dtype(peek(lu)), like=foreign_of(lu))
    return lu * _triangle(lu, True, True) + eye, lu * _triangle(lu, False, False)


def _lu_jvp(t, ans, a, perm):
    low, up = _lu_parts(ans)
    half = _solve_triangular(ans, _rows(t, perm), lower=True, unit_diagonal=True)  # L^-1 P^T dA
    x = _t(_solve_triangular(ans, _t(half), trans=1, lower=False))  # ... U^-1
    return low @ (x * _triangle(ans, True, True)) + (x * _triangle(ans, False, False)) @ up


def _lu_vjp(g, ans, a, perm):
    low, up = _lu_parts(ans)
    m = (_t(low) @ g) * _triangle(ans, True, True) + (g @ _t(up)) * _triangle(ans, False, False)
    half = _solve_triangular(ans, m, trans=1, lower=True, unit_diagonal=True)  # L^-T M
    z = _t(_solve_triangular(ans, _t(half), lower=False))  # L^-T M U^-T
    return _rows(z, _inverse_permutation(perm))


# The packed LU factor of a (or of a stack, for batching), whose row order is perm.
_lu_factor = Primitive(_lu_impl, "lu_factor")
_lu_factor.defbatch(_over_stack(_lu_factor))
_lu_factor.defvjp(_lu_vjp)
_lu_factor.defjvp(_lu_jvp)


def lu_factor(a):
    """SciPy's packed LU factorization ``(lu, piv)`` with partial pivoting.

    `lu` is differentiable in a square `a` (the pivots are integers and carry none).

    >>> import numpy as np
    >>> lu, piv = lu_factor(np.array([[1.0, 2.0], [3.0, 4.0]]))
    >>> piv.tolist()
    [1, 1]
    """
    if not isinstance(a, Box):
        return _lu_factor_of_matrix(a)
    if len(shape_of(a)) != 2 or shape_of(a)[0] != shape_of(a)[1]:
        raise ValueError(f"lu_factor: derivatives need a square matrix, got shape {shape_of(a)}")
    piv = _pivots(a)
    return _lu_factor(a, _permutation(piv)), piv


def lu_solve(lu_and_piv, b, trans=0):
    """The x with ``a x = b`` (trans=0) or ``a^T x = b`` (trans=1) from `lu_factor`.

    Differentiable in `lu` and `b`, and through `lu_factor` in `a`.

    >>> import numpy as np
    >>> a = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> lu_solve(lu_factor(a), np.array([5.0, 11.0]))
    array([1., 2.])
    """
    lu, piv = lu_and_piv
    b = asarray(b, like=lu)
    vector = len(shape_of(b)) == 1
    if vector:
        b = wnp.reshape(b, (-1, 1))
    perm = _permutation(piv if isinstance(piv, Box) else asarray(piv))
    code = _trans_code(trans)
    if code == 0:
        y = solve_triangular(lu, _rows(b, perm), lower=True, unit_diagonal=True)
        x = solve_triangular(lu, y, lower=False)
    else:
        y = solve_triangular(lu, b, trans=code, lower=False)
        z = solve_triangular(lu, y, trans=code, lower=True, unit_diagonal=True)
        x = _rows(z, _inverse_permutation(perm))
    return x[:, 0] if vector else x


# --- inverse and determinant -----------------------------------------------------------------


def inv(a):
    """The inverse of a square matrix (or of each in a stack); d inv = -inv da inv.

    >>> import numpy as np
    >>> inv(np.array([[2.0, 0.0], [0.0, 4.0]]))
    array([[0.5 , 0.  ],
           [0.  , 0.25]])
    """
    return np_linalg.inv(a)


def det(a):
    """The determinant; its derivative is the cofactor matrix, finite for singular `a`.

    >>> import numpy as np
    >>> round(float(det(np.array([[2.0, 1.0], [1.0, 3.0]]))), 12)
    5.0
    """
    return np_linalg.det(a)


def solve_banded(l_and_u, ab, b):
    """The x with ``a x = b`` for a banded `a` in LAPACK's band storage `ab`.

    Differentiable in `ab` and `b`: traced inputs go through the dense matrix
    ``a[i, j] = ab[u + i - j, j]`` and `wengert.numpy.linalg.solve`, so the cost is that
    of a dense solve; untraced inputs use SciPy's banded solver.

    >>> import numpy as np
    >>> ab = np.array([[0.0, 1.0, 1.0], [4.0, 4.0, 4.0], [1.0, 1.0, 0.0]])
    >>> solve_banded((1, 1), ab, np.array([5.0, 6.0, 5.0]))
    array([1., 1., 1.])
    """
    if not isinstance(ab, Box) and not isinstance(b, Box) and foreign_of(ab, b) is None:
        return sl.solve_banded(l_and_u, ab, b)
    lower, upper = l_and_u
    n = shape_of(ab)[1]
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    inside = (i - j <= lower) & (j - i <= upper)
    rows, cols = i[inside], j[inside]
    zeros = np.zeros((n, n), dtype=inexact_dtype(peek(ab)), like=foreign_of(ab, b))
    band = take_index(ab, (upper + rows - cols, cols))  # (also on an untraced Dask array)
    dense = wnp.index_update(zeros, (rows, cols), band)
    return np_linalg.solve(dense, b)


# --- matrix functions ----------------------------------------------------------------------------


def _frechet(a, e):
    """The Frechet derivative of expm at a in direction e: a block of a bigger expm."""
    n = shape_of(a)[-1]
    top = wnp.concatenate([a, e], axis=-1)
    bottom = wnp.concatenate([zeros_like(a), a], axis=-1)
    return expm(wnp.concatenate([top, bottom], axis=-2))[..., :n, n:]


def _expm_impl(a):
    refuse_foreign("scipy.linalg.expm", a, why=_NO_ROUTE)
    return sl.expm(a)


expm = Primitive(_expm_impl, "expm")
expm.defbatch(first_argument(expm))  # SciPy maps expm over stack axes
expm.defvjp(lambda g, ans, a: _frechet(_t(a), g))
expm.defjvp(lambda t, ans, a: _frechet(a, t))
expm.__doc__ = """The matrix exponential; its derivatives are blocks of bigger exponentials.

>>> import numpy as np
>>> expm(np.zeros((2, 2)))
array([[1., 0.],
       [0., 1.]])
"""


def _sylvester_impl(a, b, q):
    refuse_foreign("scipy.linalg.solve_sylvester", a, b, q, why=_NO_ROUTE)
    return _each_matrix(sl.solve_sylvester, a, b, q)


def _sylvester_vjp(g, ans, argnums, a, b, q):
    gq = solve_sylvester(_t(a), _t(b), g)
    parts = {0: lambda: -(gq @ _t(ans)), 1: lambda: -(_t(ans) @ gq), 2: lambda: gq}
    return [parts[i]() for i in argnums]


def _sylvester_jvp(tangents, ans, a, b, q):
    ta, tb, rhs = tangents
    for term in (None if ta is None else ta @ ans, None if tb is None else ans @ tb):
        if term is not None:
            rhs = -term if rhs is None else rhs - term
    return solve_sylvester(a, b, rhs)


solve_sylvester = Primitive(_sylvester_impl, "solve_sylvester")
solve_sylvester.defbatch(_over_stack(solve_sylvester))
solve_sylvester.defvjp_all(_sylvester_vjp)
solve_sylvester.defjvp_all(_sylvester_jvp)
solve_sylvester.__doc__ = """The x with ``a x + x b = q``, differentiable in a, b and q.

>>> import numpy as np
>>> solve_sylvester(np.eye(2), np.eye(2), np.array([[2.0, 4.0], [6.0, 8.0]]))
array([[1., 2.],
       [3., 4.]])
"""


def _sqrtm_impl(a):
    refuse_foreign("scipy.linalg.sqrtm", a, why=_NO_ROUTE)
    return _each_matrix(sl.sqrtm, a)


sqrtm = Primitive(_sqrtm_impl, "sqrtm")
sqrtm.defbatch(_over_stack(sqrtm))
sqrtm.defvjp(lambda g, ans, a: solve_sylvester(_t(ans), _t(ans), g))
sqrtm.defjvp(lambda t, ans, a: solve_sylvester(ans, ans, t))
sqrtm.__doc__ = """The principal square root x (x @ x = a); dx solves x dx + dx x = da.

>>> import numpy as np
>>> sqrtm(np.array([[4.0, 0.0], [0.0, 9.0]]))
array([[2., 0.],
       [0., 3.]])
"""


# --- block_diag ---------------------------------------------------------------------------------


def _block_shape(shape: tuple[int, ...]) -> tuple[int, int]:
    """The (rows, cols) an argument of this shape occupies, as SciPy reads it (a 1-D
    array is one row)."""
    if len(shape) > 2:
        raise ValueError(
            f"block_diag: derivatives need arrays of at most 2 dimensions, got shape {shape}; "
            "map over stacks with wengert.vmap."
        )
    return ((1, 1), (1, *shape), shape)[len(shape)]


def _block_diag_vjp(g, ans, argnums, *arrays):
    shapes = [_block_shape(shape_of(x)) for x in arrays]
    rows = np.cumsum([0] + [r for r, _ in shapes])
    cols = np.cumsum([0] + [c for _, c in shapes])
    out = []
    for i in argnums:
        piece = g[rows[i] : rows[i + 1], cols[i] : cols[i + 1]]
        out.append(wnp.reshape(piece, shape_of(arrays[i])))
    return out


def _block_diag_jvp(tangents, ans, *arrays):
    return _block_diag(*[zeros_like(x) if t is None else t for t, x in zip(tangents, arrays)])


def _block_diag_batch(batched, *arrays):
    """Each member's blocks (the batch in front) laid out by concatenating with zeros."""
    size = batch_size(arrays, batched)
    dtype = np.result_type(*[asarray(peek(x)).dtype for x in arrays])
    like = foreign_of(*arrays)
    shapes = [_block_shape(shape_of(x)[b:]) for x, b in zip(arrays, batched)]
    total = sum(c for _, c in shapes)
    rows, start = [], 0
    for x, b, (r, c) in zip(arrays, batched, shapes):
        block = (
            wnp.reshape(x, (size, r, c))
            if b
            else wnp.broadcast_to(wnp.reshape(x, (r, c)), (size, r, c))
        )
        left = np.zeros((size, r, start), dtype, like=like)
        right = np.zeros((size, r, total - start - c), dtype, like=like)
        rows.append(wnp.concatenate([left, block, right], axis=-1))
        start += c
    return wnp.concatenate(rows, axis=-2)


def _block_diag_impl(*arrays):
    like = foreign_of(*arrays)
    if like is None:
        return sl.block_diag(*arrays)
    # Arrays of another library (CuPy), which SciPy does not take: rows of zeros and
    # blocks joined by NumPy's protocols.
    arrays = [asarray(x, like=like) for x in arrays]
    shapes = [_block_shape(np.shape(x)) for x in arrays]
    dtype = np.result_type(*arrays)
    total = sum(c for _, c in shapes)
    rows, start = [], 0
    for x, (r, c) in zip(arrays, shapes):
        block = np.reshape(x, (r, c)).astype(dtype)
        left = np.zeros((r, start), dtype, like=like)
        right = np.zeros((r, total - start - c), dtype, like=like)
        rows.append(np.concatenate([left, block, right], axis=1))
        start += c
    return np.concatenate(rows, axis=0)


_block_diag = Primitive(_block_diag_impl, "block_diag")
_block_diag.defbatch(_block_diag_batch)
_block_diag.defvjp_all(_block_diag_vjp)
_block_diag.defjvp_all(_block_diag_jvp)


def block_diag(*arrays):
    """Arrays placed along the diagonal of a zero matrix (1-D ones as rows).

    >>> import numpy as np
    >>> block_diag(np.ones((1, 2)), 3.0)
    array([[1., 1., 0.],
           [0., 0., 3.]])
    """
    if any(isinstance(x, Box) for x in arrays):
        for x in arrays:
            _block_shape(shape_of(x))
    return _block_diag(*arrays)


__all__ = [
    "block_diag",
    "cho_factor",
    "cho_solve",
    "cholesky",
    "det",
    "expm",
    "inv",
    "lu_factor",
    "lu_solve",
    "solve_banded",
    "solve_sylvester",
    "solve_triangular",
    "sqrtm",
]


# Generated source (Program.source) computes these primitives with their implementations,
# copied (they use NumPy alone), or with the public function that they call.
def _inverse_permutation_impl(perm):
    return np.argsort(perm, axis=-1)


def _pivots_impl(a):
    return _each_matrix(_lu_pivots_of_matrix, a)


def _lu_pivots_of_matrix(m):
    return _lu_factor_of_matrix(m)[1]


def _lu_factor_of_matrix(m):
    refuse_foreign("scipy.linalg.lu_factor", m, why=_NO_ROUTE)
    return sl.lu_factor(m)


_solve_triangular.defsource(_solve_triangular_impl)
_permutation.defsource(_permutation_impl)
_inverse_permutation.defsource(_inverse_permutation_impl)
_pivots.defsource(_pivots_impl)
_lu_factor.defsource(_lu_impl)
expm.defsource(_expm_impl)
solve_sylvester.defsource(_sylvester_impl)
sqrtm.defsource(_sqrtm_impl)
_block_diag.defsource(sl.block_diag)
