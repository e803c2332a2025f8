"""Differentiable `numpy.linalg`: factorizations, solves, determinants, spectra and norms.

Each function is a primitive with both rules, or a composition of primitives, and every
rule is written with wengert's own functions, so derivatives of any order follow. Stacked
matrices (leading batch axes) work wherever NumPy supports them.

Conventions, shared with the rest of wengert (see docs/linalg_fft.md):

- Complex rules follow the transpose convention: a reverse rule is the transpose (not the
  conjugate transpose) of the forward rule, so holomorphic functions (inv, solve, det,
  eig) multiply by their derivative without conjugation.
- `cholesky`, `eigh` and `eigvalsh` read the Hermitian part ``(a + a^H) / 2``: equal to
  NumPy's result for a Hermitian `a`, and their derivatives are valid in every direction.
- `eig` and `eigvals` always return complex arrays.
- Where a derivative does not exist (repeated eigenvalues or singular values for the
  vectors, a zero singular value, the norm at zero), the rules return finite values by a
  stated convention instead of NaN; reverse rules at repeated eigenvalues or singular
  values warn (DegenerateDerivativeWarning) when the function differentiated depends on
  the basis of a repeated eigenspace. `det` is differentiable everywhere, singular
  matrices included, to second order.
"""

from __future__ import annotations

import operator
import warnings
from collections import namedtuple
from typing import Any

import numpy as np

from .._core.batching import along_axis, batch_size, broadcasting, first_argument
from .._core.box import Box, getval, peek
from .._core.define import nondiff
from .._core.primitive import Primitive
from .._core.vspace import (
    asarray,
    broadcast_to,
    eye_like,
    foreign_of,
    index_like,
    is_complex,
    is_foreign_array,
    is_lazy_array,
    refuse_lazy,
    shape_of,
    square_blocks,
)
from ..errors import AxisError
from . import contractions as _contractions
from ._arraylike import accept_array_likes
from ._common import numpy_call
from .contractions import matmul, outer, tensordot
from .elementwise import absolute, conj, imag, real, where
from .nondiff import logical_and
from .reductions import max as _max
from .reductions import min as _min
from .reductions import prod as _prod
from .reductions import sum as _sum
from .shaping import concatenate, expand_dims, moveaxis, reshape, stack, swapaxes, transpose

LinAlgError = np.linalg.LinAlgError

EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
EigResult = namedtuple("EigResult", ["eigenvalues", "eigenvectors"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])
QRResult = namedtuple("QRResult", ["Q", "R"])
SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])


# --- helpers (all differentiable unless they say otherwise) ------------------------------


def _traced(*args: Any) -> bool:
    return any(isinstance(a, Box) for a in args)


def _ndim(x) -> int:
    return len(shape_of(x))


def _mT(x):
    """Transpose of the last two axes."""
    return swapaxes(x, -1, -2)


def _conj(x):
    return conj(x) if is_complex(x) else x


def _re(x):
    return real(x) if is_complex(x) else x


def _mH(x):
    """Conjugate transpose of the last two axes."""
    return _conj(_mT(x))


def _eye(n: int, x) -> np.ndarray:
    """An untraced identity of size n in the floating dtype of `x`."""
    return eye_like(n, dtype=np.result_type(peek(x), np.float16), like=foreign_of(x))


def _strict_lower(n: int, x) -> np.ndarray:
    """An untraced mask of the strict lower triangle, in the real precision of `x` (so
    that it does not widen float32 values)."""
    dtype = np.finfo(np.result_type(peek(x), np.float16)).dtype
    return np.tri(n, n, -1, dtype=dtype, like=foreign_of(x))


def _diag_part(x):
    """The diagonal of each matrix in a stack: (..., n, n) -> (..., n)."""
    return _sum(x * _eye(shape_of(x)[-1], x), axis=-1)


def _diag_matrix(v):
    """Diagonal matrices from a stack of vectors: (..., n) -> (..., n, n)."""
    return expand_dims(v, -1) * _eye(shape_of(v)[-1], v)


def _hermitian_part(x):
    return (x + _mH(x)) * 0.5


def _hermitian_part_raw(a: np.ndarray) -> np.ndarray:
    a = asarray(a)
    return (a + np.conj(np.swapaxes(a, -1, -2))) * 0.5


def _scalars_to_matrices(g):
    """A stack of scalars (...) as a stack of 1x1 matrices (..., 1, 1)."""
    return reshape(g, (*shape_of(g), 1, 1))


def _eps(x) -> float:
    return float(np.finfo(np.result_type(peek(x), np.float32)).eps)


def _is_array(x) -> bool:
    return isinstance(x, (Box, np.ndarray)) or is_foreign_array(x)


def _over_stack_args(args, batched) -> list:
    """`args` with the batch in front of every array: unbatched ones repeated along it."""
    size = batch_size(args, batched)
    return [
        broadcast_to(a, (size, *shape_of(a))) if not b and _is_array(a) else a
        for a, b in zip(args, batched)
    ]


def _over_stack(primitive: Primitive):
    """The batching rule of a primitive that maps over the leading (stack) axes of its
    array arguments, given with equal stack axes: the batch is one more stack axis, and
    unbatched arrays are repeated along it (static arguments stay as they are)."""

    def rule(batched, *args, **kwargs):
        return primitive(*_over_stack_args(args, batched), **kwargs)

    return rule


def _nondiff_over_stacks(fun, name: str):
    """`fun`, which computes a mask, weights or counts from values in plain NumPy for
    each matrix of a stack, as a function without derivative: the rules call it on the
    values themselves, so that under `vmap` each member gets its own (the batch is one
    more stack axis), where reading the values under the boxes would give the whole
    batch's at once."""
    helper = nondiff(fun, name)
    helper.defbatch(first_argument(helper))  # the stack axes are NumPy's
    return helper


def _distinct_pairs_impl(w) -> np.ndarray:
    w = asarray(w)
    n = w.shape[-1]
    gap = np.abs(w[..., None, :] - w[..., :, None])
    scale = np.max(np.abs(w), axis=-1, keepdims=True)[..., None] if n else 0.0
    return gap > 1000 * n * _eps(w) * scale


_distinct_pairs = _nondiff_over_stacks(_distinct_pairs_impl, "distinct_pairs")
_distinct_pairs.__doc__ = """Mask (..., n, n), without derivative: pairs i != j whose values
differ beyond rounding.

Two values count as equal when they differ by at most 1000 n eps max|value|: the rounding
in LAPACK's results is a few n eps, and a pair that close has vectors that are not
resolved in floating point anyway.
"""


class DegenerateDerivativeWarning(RuntimeWarning):
    """A derivative was asked for at repeated eigenvalues or singular values, of a
    function that depends on which basis of the repeated eigenspace is chosen (or on
    which of the equal values is which): it does not exist there."""


def _raw(x) -> np.ndarray:
    return asarray(getval(x))


def _repeated_pairs_impl(w, name: str) -> np.ndarray:
    """Mask (..., n, n) of pairs i != j of equal values (zero singular values, which
    follow the |x|-at-0 convention, left out)."""
    w = asarray(w)
    n = w.shape[-1] if w.ndim else 0
    repeated = ~_distinct_pairs_impl(w) & ~eye_like(n, dtype=bool, like=foreign_of(w))
    if name.startswith("svd"):
        zero = ~_nonzero_singular_impl(w, n, n)
        repeated &= ~(zero[..., :, None] | zero[..., None, :])
    return repeated


def _any_repeated(values, name: str) -> bool:
    """Whether any matrix has equal values: read from the values under all boxes (for a
    batch, of every member), only to skip work that changes nothing without them."""
    w = _raw(values)
    if type(w) is not np.ndarray and is_lazy_array(w):
        return bool(w.ndim and w.shape[-1] > 1)  # (not read: the grouping works lazily)
    return bool(w.ndim and w.shape[-1] > 1 and np.any(_repeated_pairs_impl(w, name)))


def _group_weights_impl(w, name: str) -> np.ndarray:
    """Weights (..., n, n) that average each value's share over its group of equal values."""
    w = asarray(w)
    n = w.shape[-1]
    groups = (_repeated_pairs_impl(w, name) | eye_like(n, dtype=bool, like=foreign_of(w))).astype(
        np.finfo(np.result_type(w.dtype, np.float16)).dtype
    )
    return groups / np.sum(groups, axis=-1, keepdims=True)


_group_weights = _nondiff_over_stacks(_group_weights_impl, "group_weights")


def _group_mean(values, x, name: str):
    """`x`, a derivative of `values` (last axis), averaged over each group of equal values.

    A function that tells equal values apart has no derivative there; with the mean, the
    derivative is the same whichever basis LAPACK chose for the repeated eigenspace, and
    it is exact for symmetric functions of the equal values (their sum, their squares).
    """
    if not _any_repeated(values, name):  # the weights would be the identity
        return x
    return _sum(expand_dims(x, -2) * _group_weights(values, name), axis=-1)


def _degeneracy_impl(w, g, m, name: str, hermitian: bool) -> np.ndarray:
    """Per matrix of the stack (..., 2): whether the cotangent `g` of the values `w`
    differs inside a group of equal values, and whether the coupling `m` of the vectors is
    not Hermitian (with `hermitian=False`, not zero) inside such a group."""
    w = asarray(w)
    repeated = _repeated_pairs_impl(w, name)
    tolerance = np.sqrt(np.finfo(np.result_type(w.dtype, np.float16)).eps)
    tiny = np.finfo(float).tiny
    flags = np.zeros((*w.shape[:-1], 2), dtype=bool, like=foreign_of(w))
    if g is not None:
        g = asarray(g)
        gap = np.abs(g[..., :, None] - g[..., None, :])
        scale = np.max(np.abs(g), axis=-1)[..., None, None] + tiny
        flags[..., 0] = np.any(repeated & (gap > tolerance * scale), axis=(-2, -1))
    if m is not None:
        m = asarray(m)
        off = m - np.conj(np.swapaxes(m, -1, -2)) if hermitian else m
        scale = np.max(np.abs(m), axis=(-2, -1))[..., None, None] + tiny
        flags[..., 1] = np.any(repeated & (np.abs(off) > tolerance * scale), axis=(-2, -1))
    return flags


_degeneracy = nondiff(_degeneracy_impl, "degeneracy")
_degeneracy.defbatch(_over_stack(_degeneracy))


def _warn_if_degenerate(name: str, values, value_cotangent, coupling=None, hermitian=True):
    """Warn (DegenerateDerivativeWarning) when a reverse rule at repeated `values` gets a
    cotangent whose function is not differentiable there, and say what is returned.

    That is the case when the cotangent of the values differs inside a group of equal
    values (the function tells equal values apart), or when `coupling`, the cotangent of
    the vectors expressed in the vectors' basis (V^T gV), is not Hermitian inside such a
    group (the function depends on the basis chosen in the repeated eigenspace); with
    `hermitian=False` (eig) any coupling inside a group counts.
    """
    raw = _raw(values)
    if type(raw) is not np.ndarray and is_lazy_array(raw):
        return  # (a warning is not worth computing a lazy array for)
    if not _any_repeated(values, name):
        return
    flags = _degeneracy(values, value_cotangent, coupling, name, hermitian)
    # A warning, not a value: raised if any matrix (any member of a batch) needs it.
    flags = asarray(getval(flags)).reshape(-1, 2).any(axis=0)
    reasons = []
    if flags[0]:
        reasons.append("it tells equal values apart")
    if flags[1]:
        reasons.append("it depends on the basis chosen inside a repeated eigenspace")
    if reasons:
        kind = "singular values" if name.startswith("svd") else "eigenvalues"
        warnings.warn(
            f"wengert.numpy.linalg.{name}: the function differentiated has no derivative at "
            f"these repeated {kind} ({'; '.join(reasons)}). The derivative returned gives "
            "equal values the mean of their shares and leaves out the rotations inside each "
            "repeated eigenspace: it is exact for functions of those spaces and symmetric "
            "functions of the equal values (projectors, U Vh, sums of eigenvalues), and does "
            "not depend on the basis LAPACK chose. See 'Edge cases' in docs/linalg_fft.md.",
            DegenerateDerivativeWarning,
            stacklevel=2,
        )


def _inverse_gaps(values, mask: np.ndarray):
    """F[i, j] = 1 / (values[j] - values[i]) where `mask` holds, else 0."""
    diff = expand_dims(values, -2) - expand_dims(values, -1)
    return where(mask, 1.0 / where(mask, diff, 1.0), 0.0)


def _as_matrix_rhs(b) -> tuple[Any, bool]:
    if _ndim(b) == 1:
        return expand_dims(b, -1), True
    return b, False


# --- inv, solve, pinv, lstsq ------------------------------------------------------------


def _inv_impl(a):
    return np.linalg.inv(square_blocks(a))


_inv = Primitive(_inv_impl, "inv")
_inv.defbatch(first_argument(_inv))  # NumPy maps over stack axes
_inv.defvjp(lambda g, ans, a: -matmul(matmul(_mT(ans), g), _mT(ans)))
_inv.defjvp(lambda t, ans, a: -matmul(matmul(ans, t), ans))


def inv(a):
    """The inverse of a square matrix (or of each in a stack); d inv = -inv da inv.

    >>> import numpy as np
    >>> import wengert as wg
    >>> wg.grad(lambda a: inv(a)[0, 0])(np.array([[2.0, 0.0], [0.0, 4.0]]))
    array([[-0.25, -0.  ],
           [-0.  , -0.  ]])
    """
    return _inv(a)


def _solve_impl(a, b):
    return np.linalg.solve(square_blocks(a), b)


def _solve_vjp(g, ans, argnums, a, b):
    gb = _solve(_mT(a), g)
    return [-matmul(gb, _mT(ans)) if i == 0 else gb for i in argnums]


def _solve_jvp(tangents, ans, a, b):
    ta, tb = tangents
    if ta is None:
        return _solve(a, tb)
    rhs = -matmul(ta, ans) if tb is None else tb - matmul(ta, ans)
    return _solve(a, rhs)


# Solves a x = b for a stack of right-hand-side matrices b (..., M, K); batch axes broadcast.
_solve = Primitive(_solve_impl, "solve", broadcasts=True)
_solve.defbatch(broadcasting(_solve))
_solve.defvjp_all(_solve_vjp)
_solve.defjvp_all(_solve_jvp)


def solve(a, b):
    """The solution x of ``a @ x = b``, differentiable in `a` and `b`.

    As in NumPy, `b` is a vector only when it is one-dimensional; otherwise a stack of
    matrices whose batch axes broadcast against those of `a`.

    >>> import numpy as np
    >>> import wengert as wg
    >>> a = np.array([[2.0, 0.0], [0.0, 4.0]])
    >>> wg.grad(lambda b: solve(a, b).sum())(np.array([1.0, 1.0]))
    array([0.5 , 0.25])
    """
    b, vector = _as_matrix_rhs(b)
    x = _solve(a, b)
    return x[..., 0] if vector else x


def _pinv_tangent(a, x, t):
    """The derivative of pinv at `a` (with x = pinv(a)) along `t`, at constant rank."""
    th = _mH(t)
    m, n = shape_of(a)[-2], shape_of(a)[-1]
    left = _eye(m, a) - matmul(a, x)  # I - A X (m x m)
    right = _eye(n, a) - matmul(x, a)  # I - X A (n x n)
    return (
        -matmul(matmul(x, t), x)
        + matmul(matmul(matmul(x, _mH(x)), th), left)
        + matmul(matmul(right, th), matmul(_mH(x), x))
    )


def _pinv_cotangent(a, x, g):
    """The transpose of `_pinv_tangent`: the reverse rule of pinv."""
    gh = _mH(g)
    m, n = shape_of(a)[-2], shape_of(a)[-1]
    left = _eye(m, a) - matmul(a, x)
    right = _eye(n, a) - matmul(x, a)
    return (
        -matmul(matmul(_mT(x), g), _mT(x))
        + matmul(matmul(_conj(left), gh), _conj(matmul(x, _mH(x))))
        + matmul(matmul(_conj(matmul(_mH(x), x)), gh), _conj(right))
    )


def _pinv_lazy(a, rcond):
    """The pseudo-inverse from Dask's SVD: Dask has no pinv (its fallback would compute
    the array), and NumPy's cutoff, `rcond` times the largest singular value."""
    u, s, vh = np.linalg.svd(a)
    keep = s > rcond * np.max(s, axis=-1, keepdims=True)
    s_inv = np.where(keep, 1.0 / np.where(keep, s, 1.0), 0.0)
    v = np.conj(np.swapaxes(vh, -1, -2))
    return np.matmul(v * s_inv[..., None, :], np.conj(np.swapaxes(u, -1, -2)))


def _pinv_impl(a, rcond=None):
    if type(a) is not np.ndarray and is_lazy_array(a):
        return _pinv_lazy(a, 1e-15 if rcond is None else rcond)
    return np.linalg.pinv(a) if rcond is None else np.linalg.pinv(a, rcond=rcond)


_pinv = Primitive(_pinv_impl, "pinv")
_pinv.defbatch(first_argument(_pinv))  # NumPy maps over stack axes
_pinv.defvjp(lambda g, ans, a, rcond=None: _pinv_cotangent(a, ans, g))
_pinv.defjvp(lambda t, ans, a, rcond=None: _pinv_tangent(a, ans, t))


def pinv(a, rcond=None, hermitian: bool = False, *, rtol=None):
    """The Moore-Penrose pseudo-inverse; its derivative holds where the rank is constant.

    Singular values at most ``rcond`` (or ``rtol``) times the largest count as zero, as in
    NumPy. `hermitian` is accepted and the general pseudo-inverse computed (the same
    matrix for Hermitian `a`).

    >>> import numpy as np
    >>> pinv(np.array([[2.0], [0.0]]))
    array([[0.5, 0. ]])
    """
    if rtol is not None:
        if rcond is not None:
            raise ValueError("pinv: pass rcond or rtol, not both.")
        rcond = rtol
    return _pinv(a, rcond)


def _lstsq_impl(a, b, rcond):
    if np.ndim(a) == 2:
        if rcond is None and type(a) is not np.ndarray and is_lazy_array(a):
            return np.linalg.lstsq(a, b)[0]  # (Dask's lstsq has no rcond: NumPy's default)
        return np.linalg.lstsq(a, b, rcond=rcond)[0]
    # Stacks (from batching, with equal stack axes): NumPy's lstsq takes one matrix.
    lead = np.shape(a)[:-2]
    out = [np.linalg.lstsq(a[i], b[i], rcond=rcond)[0] for i in np.ndindex(lead)]
    return np.stack(out).reshape(lead + out[0].shape)


def _lstsq_cutoff(a, rcond):
    m, n = shape_of(a)[-2:]
    if rcond is None or rcond < 0:
        return _eps(a) * max(m, n)
    return rcond


def _lstsq_vjp(g, ans, argnums, a, b, rcond):
    x = _pinv(a, _lstsq_cutoff(a, rcond))
    out = []
    for i in argnums:
        if i == 0:
            out.append(_pinv_cotangent(a, x, matmul(g, _mT(b))))
        else:
            out.append(matmul(_mT(x), g))
    return out


def _lstsq_jvp(tangents, ans, a, b, rcond):
    ta, tb = tangents[0], tangents[1]
    x = _pinv(a, _lstsq_cutoff(a, rcond))
    out = None
    if ta is not None:
        out = matmul(_pinv_tangent(a, x, ta), b)
    if tb is not None:
        term = matmul(x, tb)
        out = term if out is None else out + term
    return out


def _lstsq_batch(batched, a, b, rcond):
    if not batched[0] and _ndim(a) == 2:
        # One matrix for the whole batch: the right-hand sides are solved as more columns.
        size, (m, k), n = shape_of(b)[0], shape_of(b)[-2:], shape_of(a)[-1]
        columns = reshape(moveaxis(b, 0, -1), (m, k * size))
        return moveaxis(reshape(_lstsq(a, columns, rcond), (n, k, size)), -1, 0)
    return _lstsq(*_over_stack_args((a, b), batched), rcond)


# The least-squares solution for a matrix right-hand side b (M, K); under batching, for
# stacks of them with equal stack axes.
_lstsq = Primitive(_lstsq_impl, "lstsq")
_lstsq.defbatch(_lstsq_batch)
_lstsq.defvjp_all(_lstsq_vjp)
_lstsq.defjvp_all(_lstsq_jvp)


def _rank_impl(s, cutoff: float):
    s = asarray(s)
    return np.sum(s > cutoff * np.max(s, axis=-1, keepdims=True), axis=-1)


# The number of singular values above cutoff * the largest (NumPy's rank in lstsq).
_rank = _nondiff_over_stacks(_rank_impl, "lstsq_rank")


def lstsq(a, b, rcond=None):
    """The least-squares solution of ``a @ x = b``: ``(x, residuals, rank, s)`` as NumPy.

    `x`, the residuals and the singular values `s` are differentiable in `a` and `b`
    (where the rank of `a` is constant); `rank` is an integer.

    >>> import numpy as np
    >>> x, res, rank, s = lstsq(np.array([[1.0], [1.0]]), np.array([1.0, 3.0]))
    >>> x, res, rank
    (array([2.]), array([2.]), 1)
    """
    if not _traced(a, b):
        return numpy_call(np.linalg.lstsq, a, b, rcond=rcond)
    if _ndim(a) != 2:
        raise LinAlgError(
            f"lstsq: a of shape {shape_of(a)} is not a matrix; it must be two-dimensional "
            "(map over a stack with wengert.vmap)."
        )
    b2, vector = _as_matrix_rhs(b)
    x = _lstsq(a, b2, rcond)
    m, n = shape_of(a)[-2:]
    s = svdvals(a)
    rank = _rank(s, _lstsq_cutoff(a, rcond))
    if isinstance(rank, Box):  # a batch (vmap): one rank per member
        full = asarray(getval(rank)) == n
        if m > n and np.any(full) and not np.all(full):
            raise ValueError(
                f"lstsq: some members of the batch have full rank {n} and others not, so "
                "their residuals have different shapes and cannot be mapped; compute the "
                "residuals from x instead (sum of |b - a @ x|^2)."
            )
        full = bool(np.all(full))
    else:
        rank = int(rank)
        full = rank == n
    if full and m > n:
        r = b2 - matmul(a, x)
        residuals = _sum(_re(r * _conj(r)), axis=0)
    else:
        dtype = np.result_type(peek(x).real.dtype)
        residuals = np.zeros((0,), dtype=dtype, like=foreign_of(x))
    return (x[..., 0] if vector else x), residuals, rank, s


# --- determinants ------------------------------------------------------------------------


def _svd_raw(a):
    return np.linalg.svd(a, full_matrices=False)


def _others_raw(t: np.ndarray) -> np.ndarray:
    """Untraced: the product of all other entries along the last axis, without division."""
    ones = np.ones_like(t[..., :1])
    left = np.cumprod(np.concatenate([ones, t[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, t[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return left * right


def _products_of_others(s, exclude_pairs: bool):
    """prod over k != i of s_k (..., n), or over k != i, j (..., n, n), 0 on the diagonal.

    Division-free, so exact with zero singular values. Untraced `s` takes O(n^2) work;
    traced `s` (third and higher derivatives of det) uses the differentiable `prod`.
    """
    n = shape_of(s)[-1]
    like = foreign_of(s)
    eye = eye_like(n, dtype=bool, like=like)
    if not isinstance(s, Box):
        s = asarray(s)
        if not exclude_pairs:
            return _others_raw(s)
        return _others_raw(np.where(eye, 1.0, s[..., None, :])) * ~eye
    if not exclude_pairs:
        return _prod(where(eye, 1.0, expand_dims(s, -2)), axis=-1)
    idx = np.arange(n, like=like)
    mask = (idx[:, None, None] == idx[None, None, :]) | (idx[None, :, None] == idx[None, None, :])
    full = _prod(where(mask, 1.0, expand_dims(expand_dims(s, -2), -2)), axis=-1)
    return full * ~eye


_NO_DASK_DET = "Dask has no det (its fallback would compute the array)"


def _cofactor_impl(a):
    a = asarray(a)
    if a.shape[-1] == 0:
        return np.zeros_like(a)
    if is_lazy_array(a):
        refuse_lazy("linalg.det", a, _NO_DASK_DET)
    u, s, vh = _svd_raw(a)
    k = np.linalg.det(u) * np.linalg.det(vh)
    pi = _products_of_others(s, exclude_pairs=False)
    return k[..., None, None] * np.conj((u * pi[..., None, :]) @ vh)


def _cofactor_linear(a, e):
    """The derivative of the cofactor matrix at `a` along `e`, without dividing by det(a).

    With a = U S Vh and E' = U^H e Vh^H: d cof = k conj(U) F(E') conj(Vh), where k =
    det(U) det(Vh), F(E') = diag(P2 @ diag(E')) - P2 * E'^T and P2[i, j] is the product
    of the singular values other than the i-th and j-th. The map is its own transpose
    (the Hessian of det is symmetric), so it serves both rules.
    """
    u, s, vh = _svd(a)
    k = _scalars_to_matrices(_det(u) * _det(vh))
    p2 = _products_of_others(s, exclude_pairs=True)
    e1 = matmul(matmul(_mH(u), e), _mH(vh))
    f = _diag_matrix(_sum(p2 * expand_dims(_diag_part(e1), -2), axis=-1)) - p2 * _mT(e1)
    return k * matmul(matmul(_conj(u), f), _conj(vh))


# The cofactor matrix det(a) inv(a)^T, computed from the SVD, finite for singular `a`.
_cofactor = Primitive(_cofactor_impl, "cofactor")
_cofactor.defbatch(first_argument(_cofactor))  # NumPy maps over stack axes
_cofactor.defvjp(lambda g, ans, a: _cofactor_linear(a, g))
_cofactor.defjvp(lambda t, ans, a: _cofactor_linear(a, t))


def _det_impl(a):
    if is_lazy_array(a):
        refuse_lazy("linalg.det", a, _NO_DASK_DET)
    return np.linalg.det(a)


_det = Primitive(_det_impl, "det")
_det.defbatch(first_argument(_det))  # NumPy maps over stack axes
_det.defvjp(lambda g, ans, a: _scalars_to_matrices(g) * _cofactor(a))
_det.defjvp(lambda t, ans, a: _sum(_cofactor(a) * t, axis=(-2, -1)))


def _cofactor_formula(a):
    """The cofactor matrix as a formula shows it, det(a) inv(a)^T: for invertible `a`."""
    return _scalars_to_matrices(_det(a)) * _mT(_inv(a))


_cofactor.defalgebra("rewrite", _cofactor_formula)


def det(a):
    """The determinant; its derivative is the cofactor matrix, finite for singular `a`.

    >>> import numpy as np
    >>> import wengert as wg
    >>> wg.grad(det)(np.array([[1.0, 2.0], [2.0, 4.0]]))  # singular: still the cofactors
    array([[ 4., -2.],
           [-2.,  1.]])
    """
    return _det(a)


def _slogdet_impl(a):
    if is_lazy_array(a):
        refuse_lazy(
            "linalg.slogdet", a, "Dask has no slogdet (its fallback would compute the array)"
        )
    sign, logabsdet = np.linalg.slogdet(a)
    return sign, logabsdet


def _slogdet_vjp(g, ans, a):
    g_sign, g_log = g
    c = _scalars_to_matrices(g_log)
    if is_complex(a):
        c = c + 1j * _scalars_to_matrices(imag(ans[0] * g_sign))
    return c * _mT(_inv(a))


def _slogdet_jvp(tangents, ans, a):
    trace = _sum(_mT(_inv(a)) * tangents[0], axis=(-2, -1))  # tr(inv(a) t)
    if not is_complex(a):
        return (None, trace)
    return (ans[0] * 1j * imag(trace), real(trace))


_slogdet = Primitive(_slogdet_impl, "slogdet", multiple_results=True)
_slogdet.defbatch(first_argument(_slogdet))  # NumPy maps over stack axes
_slogdet.defvjp(_slogdet_vjp)
_slogdet.defjvp_all(_slogdet_jvp)


def slogdet(a) -> SlogdetResult:
    """Sign and log of the absolute value of the determinant, ``(sign, logabsdet)``.

    d logabsdet = Re tr(inv(a) da); the sign of a real matrix is piecewise constant.

    >>> import numpy as np
    >>> import wengert as wg
    >>> wg.grad(lambda a: slogdet(a)[1])(np.array([[2.0, 0.0], [0.0, 4.0]]))
    array([[0.5 , 0.  ],
           [0.  , 0.25]])
    """
    sign, logabsdet = _slogdet(a)
    return SlogdetResult(sign, logabsdet)


# --- cholesky and qr ---------------------------------------------------------------------


def _lower_half_diagonal(n: int, x) -> np.ndarray:
    """Mask that keeps the strict lower triangle and halves the diagonal."""
    return _strict_lower(n, x) + 0.5 * _eye(n, x)


def _cholesky_impl(a):
    a = _hermitian_part_raw(a)
    if is_lazy_array(a):  # (Dask's cholesky gives the upper factor unless asked)
        from dask.array.linalg import cholesky as lazy_cholesky

        return lazy_cholesky(square_blocks(a), lower=True)
    return np.linalg.cholesky(a)


def _cholesky_jvp(t, ans, a):
    n = shape_of(ans)[-1]
    l_inv = _inv(ans)
    x = matmul(matmul(l_inv, _hermitian_part(t)), _mH(l_inv))
    return matmul(ans, x * _lower_half_diagonal(n, x))


def _cholesky_vjp(g, ans, a):
    n = shape_of(ans)[-1]
    l_inv = _inv(ans)
    inner = matmul(_mT(ans), g)
    inner = inner * _lower_half_diagonal(n, inner)
    return _hermitian_part(matmul(matmul(_mT(l_inv), inner), _conj(l_inv)))


_cholesky = Primitive(_cholesky_impl, "cholesky")
_cholesky.defbatch(first_argument(_cholesky))  # NumPy maps over stack axes
_cholesky.defvjp(_cholesky_vjp)
_cholesky.defjvp(_cholesky_jvp)


def cholesky(a, upper: bool = False):
    """The Cholesky factor of the Hermitian part of a positive-definite matrix.

    Lower-triangular L with ``L @ L^H = (a + a^H) / 2`` (``upper=True``: its conjugate
    transpose). Reading the Hermitian part makes the derivative valid in every direction.

    >>> import numpy as np
    >>> cholesky(np.array([[4.0, 2.0], [2.0, 5.0]]))
    array([[2., 0.],
           [1., 2.]])
    """
    low = _cholesky(a)
    return _mH(low) if upper else low


def _qr_impl(a):
    q, r = np.linalg.qr(a)
    return q, r


def _qr_omega(c):
    """The skew-Hermitian Q^H dQ from C = Q^H dA R^-1 (R keeps a real diagonal)."""
    n = shape_of(c)[-1]
    low = c * _strict_lower(n, c)
    omega = low - _mH(low)
    if is_complex(c):
        omega = omega + 1j * _diag_matrix(imag(_diag_part(c)))
    return omega


def _qr_jvp(tangents, ans, a):
    q, r = ans
    d = _mT(_solve(_mT(r), _mT(tangents[0])))  # dA R^-1
    c = matmul(_mH(q), d)
    omega = _qr_omega(c)
    return matmul(q, omega - c) + d, matmul(c - omega, r)


def _qr_vjp(g, ans, a):
    q, r = ans
    gq, gr = g
    y = matmul(_mT(q), gq) - matmul(gr, _mT(r))  # cotangent of omega; -y is that of C
    n = shape_of(y)[-1]
    strict = _strict_lower(n, y)
    gc = -y + y * strict - _conj(_mT(y)) * strict
    if is_complex(y):
        gc = gc + 1j * _diag_matrix(imag(_diag_part(y)))
    gd = gq + matmul(_conj(q), gc)
    return _mT(_solve(r, _mT(gd)))  # gd R^-T


# Reduced QR of a tall or square matrix (M >= N, full column rank).
_qr = Primitive(_qr_impl, "qr", multiple_results=True)
_qr.defbatch(first_argument(_qr))  # NumPy maps over stack axes
_qr.defvjp(_qr_vjp)
_qr.defjvp_all(_qr_jvp)


def qr(a, mode: str = "reduced"):
    """QR factorization; ``mode`` 'reduced' (default), 'complete' or 'r' as in NumPy.

    Differentiable for full-rank matrices of any shape. 'complete' with more rows than
    columns leaves the extra columns of Q not unique, so it has no derivative.

    >>> import numpy as np
    >>> q, r = qr(np.array([[3.0, 1.0], [4.0, 2.0]]))
    >>> np.allclose(q @ r, [[3.0, 1.0], [4.0, 2.0]])
    True
    """
    if mode not in ("reduced", "complete", "r", "raw"):
        raise ValueError(f"qr: unknown mode {mode!r}; use 'reduced', 'complete' or 'r'.")
    # Another library's qr (Dask's has no mode=, and its wide factors are another shape)
    # is called on a tall or square matrix, as for traced values.
    foreign = foreign_of(a) is not None and mode in ("reduced", "r")
    if not _traced(a) and not foreign:
        result = numpy_call(np.linalg.qr, a, mode=mode)
        return QRResult(*result) if mode in ("reduced", "complete") else result
    m, n = shape_of(a)[-2:]
    if mode == "raw":
        raise ValueError(
            "qr: mode='raw' (Householder reflectors) has no derivative; use mode='reduced'."
        )
    if mode == "complete" and m > n:
        raise ValueError(
            f"qr: mode='complete' for a {m}x{n} matrix has no derivative (the extra columns "
            "of Q are not unique); use mode='reduced'."
        )
    if m >= n:
        q, r = _qr(a)
    else:
        q, r_left = _qr(a[..., :, :m])
        r = concatenate([r_left, matmul(_mH(q), a[..., :, m:])], axis=-1)
    return r if mode == "r" else QRResult(q, r)


# --- symmetric / Hermitian eigenproblems -------------------------------------------------

_NO_DASK_EIG = "Dask has no eigendecomposition (its fallback would compute the array)"


def _eigh_impl(a):
    if is_lazy_array(a):
        refuse_lazy("linalg.eigh", a, _NO_DASK_EIG)
    w, v = np.linalg.eigh(_hermitian_part_raw(a))
    return w, v


def _eigh_jvp(tangents, ans, a):
    w, v = ans
    c = matmul(matmul(_mH(v), _hermitian_part(tangents[0])), v)
    dw = _group_mean(w, _re(_diag_part(c)), "eigh")
    dv = matmul(v, _inverse_gaps(w, _distinct_pairs(w)) * c)
    return dw, dv


def _eigh_vjp(g, ans, a):
    w, v = ans
    gw, gv = g
    coupling = matmul(_mT(v), gv)
    _warn_if_degenerate("eigh", w, gw, coupling)
    gw = _group_mean(w, gw, "eigh")
    inner = _diag_matrix(gw) + _inverse_gaps(w, _distinct_pairs(w)) * coupling
    return _hermitian_part(matmul(matmul(_conj(v), inner), _mT(v)))


_eigh = Primitive(_eigh_impl, "eigh", multiple_results=True)
_eigh.defbatch(first_argument(_eigh))  # NumPy maps over stack axes
_eigh.defvjp(_eigh_vjp)
_eigh.defjvp_all(_eigh_jvp)


def eigh(a, UPLO: str = "L") -> EighResult:
    """Eigenvalues (ascending) and eigenvectors of the Hermitian part of `a`.

    Reads ``(a + a^H) / 2`` (so `UPLO` does not matter). Eigenvector derivatives at
    repeated eigenvalues leave out the rotation inside the repeated eigenspace, and equal
    eigenvalues get the mean of their derivatives: exact for functions that do not depend
    on the basis chosen there (projectors, sums of the equal eigenvalues). For others the
    derivative does not exist, and the reverse rule warns (DegenerateDerivativeWarning).

    >>> import numpy as np
    >>> w, v = eigh(np.array([[2.0, 1.0], [1.0, 2.0]]))
    >>> w
    array([1., 3.])
    """
    if UPLO not in ("L", "U"):
        raise ValueError("eigh: UPLO must be 'L' or 'U'.")
    w, v = _eigh(a)
    return EighResult(w, v)


def _eigvalsh_impl(a):
    if is_lazy_array(a):
        refuse_lazy("linalg.eigvalsh", a, _NO_DASK_EIG)
    return np.linalg.eigvalsh(_hermitian_part_raw(a))


def _eigvalsh_vjp(g, ans, a):
    _warn_if_degenerate("eigvalsh", ans, g)
    g = _group_mean(ans, g, "eigvalsh")
    _, v = _eigh(a)
    return _hermitian_part(matmul(matmul(_conj(v), _diag_matrix(g)), _mT(v)))


def _eigvalsh_jvp(t, ans, a):
    _, v = _eigh(a)
    dw = _re(_sum(_conj(v) * matmul(_hermitian_part(t), v), axis=-2))
    return _group_mean(ans, dw, "eigvalsh")


_eigvalsh = Primitive(_eigvalsh_impl, "eigvalsh")
_eigvalsh.defbatch(first_argument(_eigvalsh))  # NumPy maps over stack axes
_eigvalsh.defvjp(_eigvalsh_vjp)
_eigvalsh.defjvp(_eigvalsh_jvp)


def eigvalsh(a, UPLO: str = "L"):
    """Eigenvalues (ascending) of the Hermitian part of `a`; first derivatives hold at
    repeated eigenvalues too.

    >>> import numpy as np
    >>> import wengert as wg
    >>> wg.grad(lambda a: eigvalsh(a).sum())(np.eye(2))  # the trace
    array([[1., 0.],
           [0., 1.]])
    """
    if UPLO not in ("L", "U"):
        raise ValueError("eigvalsh: UPLO must be 'L' or 'U'.")
    return _eigvalsh(a)


# --- general eigenproblems ---------------------------------------------------------------


def _eig_impl(a):
    if is_lazy_array(a):
        refuse_lazy("linalg.eig", a, _NO_DASK_EIG)
    w, v = np.linalg.eig(a)
    dtype = np.result_type(w.dtype, np.complex64)
    w, v = w.astype(dtype, copy=False), v.astype(dtype, copy=False)
    # Make each eigenvector's largest entry real and positive (LAPACK does so for complex
    # input; for real input it leaves a sign that can jump), so that v is continuous.
    pivot = np.take_along_axis(v, np.argmax(np.abs(v), axis=-2)[..., None, :], axis=-2)
    size = np.abs(pivot)
    return w, v * np.conj(np.where(size > 0, pivot / np.where(size > 0, size, 1), 1))


def _eig_pivots_impl(v) -> np.ndarray:
    v = asarray(v)
    rows = np.argmax(np.abs(v), axis=-2)  # (..., n)
    rows_of = np.arange(v.shape[-2], like=foreign_of(v))[:, None]
    return (rows_of == rows[..., None, :]).astype(v.real.dtype)


_eig_pivots = _nondiff_over_stacks(_eig_pivots_impl, "eig_pivots")
_eig_pivots.__doc__ = """One-hot mask (..., n, n), without derivative, of the largest entry
of each eigenvector: that entry is real and positive, which fixes the eigenvector's phase."""


def _eig_jvp(tangents, ans, a):
    w, v = ans
    c = _solve(v, matmul(tangents[0], v))  # V^-1 dA V
    dw = _group_mean(w, _diag_part(c), "eig")
    dv = matmul(v, _inverse_gaps(w, _distinct_pairs(w)) * c)
    # Keep each eigenvector's norm at 1 ...
    dv = dv - v * expand_dims(real(_sum(conj(v) * dv, axis=-2)), -2)
    # ... and its largest entry real.
    pivots = _eig_pivots(v)
    v_pivot = real(_sum(v * pivots, axis=-2))
    theta = imag(_sum(dv * pivots, axis=-2)) / v_pivot
    return dw, dv - 1j * v * expand_dims(theta, -2)


def _eig_vjp(g, ans, a):
    w, v = ans
    gw, gv = g
    pivots = _eig_pivots(v)
    v_pivot = real(_sum(v * pivots, axis=-2))
    # Transposes of the two normalizations of the forward rule, last one first.
    s = imag(_sum(gv * v, axis=-2))
    u = gv - pivots * expand_dims(1j * s / v_pivot, -2)
    u = u - conj(v) * expand_dims(real(_sum(v * u, axis=-2)), -2)
    coupling = matmul(_mT(v), u)
    _warn_if_degenerate("eig", w, gw, coupling, hermitian=False)
    gw = _group_mean(w, gw, "eig")
    gc = _diag_matrix(gw) + _inverse_gaps(w, _distinct_pairs(w)) * coupling
    return _solve(_mT(v), matmul(gc, _mT(v)))  # V^-T gC V^T


_eig = Primitive(_eig_impl, "eig", multiple_results=True)
_eig.defbatch(first_argument(_eig))  # NumPy maps over stack axes
_eig.defvjp(_eig_vjp)
_eig.defjvp_all(_eig_jvp)


def eig(a) -> EigResult:
    """Eigenvalues and unit right eigenvectors of a square matrix, always complex.

    Each eigenvector's largest entry is real and positive (as LAPACK returns it for
    complex input), which makes the vectors continuous; the derivatives keep it so and
    need distinct eigenvalues.

    >>> import numpy as np
    >>> w, v = eig(np.array([[0.0, -1.0], [1.0, 0.0]]))
    >>> w
    array([0.+1.j, 0.-1.j])
    """
    w, v = _eig(a)
    return EigResult(w, v)


def _eigvals_impl(a):
    if is_lazy_array(a):
        refuse_lazy("linalg.eigvals", a, _NO_DASK_EIG)
    return _eig_impl(a)[0]


def _eigvals_vjp(g, ans, a):
    _warn_if_degenerate("eigvals", ans, g)
    g = _group_mean(ans, g, "eigvals")
    _, v = _eig(a)
    return _solve(_mT(v), matmul(_diag_matrix(g), _mT(v)))


def _eigvals_jvp(t, ans, a):
    _, v = _eig(a)
    return _group_mean(ans, _diag_part(_solve(v, matmul(t, v))), "eigvals")


_eigvals = Primitive(_eigvals_impl, "eigvals")
_eigvals.defbatch(first_argument(_eigvals))  # NumPy maps over stack axes
_eigvals.defvjp(_eigvals_vjp)
_eigvals.defjvp(_eigvals_jvp)


def eigvals(a):
    """Eigenvalues of a square matrix, always complex; d w_i = (V^-1 da V)_ii.

    >>> import numpy as np
    >>> eigvals(np.array([[2.0, 1.0], [0.0, 3.0]]))
    array([2.+0.j, 3.+0.j])
    """
    return _eigvals(a)


# --- singular values ---------------------------------------------------------------------


def _nonzero_singular_impl(s, m: int, n: int) -> np.ndarray:
    s = asarray(s)
    top = np.max(s, axis=-1, keepdims=True) if s.shape[-1] else 0.0
    return s > max(m, n) * _eps(s) * top


_nonzero_singular = _nondiff_over_stacks(_nonzero_singular_impl, "nonzero_singular")
_nonzero_singular.__doc__ = """Mask, without derivative, of the singular values above
NumPy's rank tolerance."""


def _svd_impl(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return u, s, vh


def _svd_masks_impl(s, m: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where s_j - s_i (i != j) and s_j + s_i are nonzero beyond rounding, and where s is."""
    s = asarray(s)
    k = s.shape[-1]
    scale = (np.max(s, axis=-1, keepdims=True) if k else 0.0)[..., None]
    plus = s[..., None, :] + s[..., :, None] > max(m, n) * _eps(s) * scale
    return _distinct_pairs_impl(s), plus, _nonzero_singular_impl(s, m, n)


_svd_masks = _nondiff_over_stacks(_svd_masks_impl, "svd_masks")


def _svd_gaps(s, m: int, n: int):
    """1/(s_j - s_i) off the diagonal, 1/(s_j + s_i) (1/(2 s_i) on it), 1/s, and the mask
    of nonzero s, each 0 where it does not exist."""
    minus_mask, plus_mask, nonzero = _svd_masks(s, m, n)
    d_minus = _inverse_gaps(s, minus_mask)
    total = expand_dims(s, -2) + expand_dims(s, -1)
    d_plus = where(plus_mask, 1.0 / where(plus_mask, total, 1.0), 0.0)
    s_inv = where(nonzero, 1.0 / where(nonzero, s, 1.0), 0.0)
    return d_minus, d_plus, s_inv, nonzero


def _svd_jvp(tangents, ans, a):
    u, s, vh = ans
    t = tangents[0]
    m, n = shape_of(a)[-2:]
    d_minus, d_plus, s_inv, nonzero = _svd_gaps(s, m, n)
    v = _mH(vh)
    ds_mat = matmul(matmul(_mH(u), t), v)
    ds = _group_mean(s, _re(_diag_part(ds_mat)) * nonzero, "svd")
    sym = ds_mat + _mH(ds_mat)
    skew = ds_mat - _mH(ds_mat)
    du = matmul(u, (d_minus * sym + d_plus * skew) * 0.5)
    dv = matmul(v, (d_minus * sym - d_plus * skew) * 0.5)
    if m > n:
        tv = matmul(t, v)
        du = du + (tv - matmul(u, matmul(_mH(u), tv))) * expand_dims(s_inv, -2)
    if n > m:
        thu = matmul(_mH(t), u)
        dv = dv + (thu - matmul(v, matmul(vh, thu))) * expand_dims(s_inv, -2)
    return du, ds, _mH(dv)


def _svd_vjp(g, ans, a):
    u, s, vh = ans
    gu, gs, gvh = g
    m, n = shape_of(a)[-2:]
    d_minus, d_plus, s_inv, nonzero = _svd_gaps(s, m, n)
    v = _mH(vh)
    gv = _mH(gvh)
    gu_in = matmul(_mT(u), gu)
    gv_in = matmul(_mT(v), gv)
    _warn_if_degenerate("svd", s, gs, gu_in + gv_in)
    gs = _group_mean(s, gs, "svd")
    g_sym = d_minus * (gu_in + gv_in) * 0.5
    g_skew = d_plus * (gu_in - gv_in) * 0.5
    g_ds = g_sym + _mH(g_sym) + g_skew - _mH(g_skew) + _diag_matrix(gs * nonzero)
    out = matmul(matmul(_conj(u), g_ds), _mT(v))
    if m > n:
        rest = (gu - matmul(_conj(u), gu_in)) * expand_dims(s_inv, -2)
        out = out + matmul(rest, _mT(v))
    if n > m:
        rest = matmul((gv - matmul(_conj(v), gv_in)) * expand_dims(s_inv, -2), _mT(u))
        out = out + _mH(rest)
    return out


# The reduced SVD (U, S, Vh).
_svd = Primitive(_svd_impl, "svd", multiple_results=True)
_svd.defbatch(first_argument(_svd))  # NumPy maps over stack axes
_svd.defvjp(_svd_vjp)
_svd.defjvp_all(_svd_jvp)


def _svdvals_impl(a):
    if type(a) is not np.ndarray and is_lazy_array(a):  # Dask's svd has no compute_uv
        return np.linalg.svd(a)[1]
    return np.linalg.svd(a, compute_uv=False)


def _svdvals_vjp(g, ans, a):
    _warn_if_degenerate("svdvals", ans, g)
    g = _group_mean(ans, g, "svdvals")
    u, _, vh = _svd(a)
    m, n = shape_of(a)[-2:]
    return _conj(matmul(u * expand_dims(g * _nonzero_singular(ans, m, n), -2), vh))


def _svdvals_jvp(t, ans, a):
    u, _, vh = _svd(a)
    m, n = shape_of(a)[-2:]
    ds = _re(_sum(_conj(u) * matmul(t, _mH(vh)), axis=-2))
    return _group_mean(ans, ds * _nonzero_singular(ans, m, n), "svdvals")


_svdvals = Primitive(_svdvals_impl, "svdvals")
_svdvals.defbatch(first_argument(_svdvals))  # NumPy maps over stack axes
_svdvals.defvjp(_svdvals_vjp)
_svdvals.defjvp(_svdvals_jvp)


def svdvals(x):
    """Singular values, descending; first derivatives hold at repeated values, and a zero
    singular value has derivative 0 (as |x| at 0).

    >>> import numpy as np
    >>> svdvals(np.array([[3.0, 0.0], [0.0, -4.0]]))
    array([4., 3.])
    """
    return _svdvals(x)


def svd(a, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False):
    """Singular value decomposition ``(U, S, Vh)``, or S alone with ``compute_uv=False``.

    Traced non-square input needs ``full_matrices=False`` (the extra columns of the full
    factors are not unique). `hermitian` is accepted and the general SVD computed.

    >>> import numpy as np
    >>> u, s, vh = svd(np.array([[3.0, 0.0], [0.0, 4.0]]))
    >>> s
    array([4., 3.])
    """
    if not compute_uv:
        return _svdvals(a)
    m, n = shape_of(a)[-2:]
    if full_matrices and m != n:
        if is_lazy_array(peek(a)):
            raise ValueError(
                f"wengert.numpy.linalg.svd: Dask computes the reduced factors of a {m}x{n} "
                "matrix only, not full_matrices=True; pass full_matrices=False."
            )
        if not _traced(a):
            return SVDResult(*numpy_call(np.linalg.svd, a, full_matrices=True))
        raise ValueError(
            f"svd: full_matrices=True for a {m}x{n} matrix has no derivative (the extra "
            "singular vectors are not unique); pass full_matrices=False."
        )
    u, s, vh = _svd(a)
    return SVDResult(u, s, vh)


# --- norms -------------------------------------------------------------------------------


def _pnorm_direct(x, p, axis, keepdims):
    """NumPy's formula: sqrt(sum |x|^2), or (sum |x|^p)^(1/p)."""
    if p == 2 and len(axis) == x.ndim:  # over everything NumPy uses dot products
        flat = x.ravel(order="K") if type(x) is np.ndarray else np.reshape(x, (-1,))
        if np.iscomplexobj(flat):
            squares = flat.real.dot(flat.real) + flat.imag.dot(flat.imag)
        else:
            squares = flat.dot(flat)
        out = np.sqrt(squares)
        return out.reshape((1,) * x.ndim) if keepdims else out
    if p == 2:
        squares = (x.conj() * x).real if np.iscomplexobj(x) else x * x
        return np.sqrt(np.sum(squares, axis=axis, keepdims=keepdims))
    return np.sum(np.abs(x) ** p, axis=axis, keepdims=keepdims) ** (1.0 / p)


def _pnorm_scaled(x, p, axis, keepdims):
    """The same norm computed as s * norm(x / s) with s = max |x|, as LAPACK's nrm2 scales:
    no overflow or underflow in the powers for any finite x."""
    size = np.abs(x)
    scale = np.max(size, axis=axis, keepdims=True)
    scale = np.where(scale > 0, scale, 1).astype(size.dtype)
    inner = _pnorm_direct(size / scale, p, axis, keepdims)
    return inner * (scale if keepdims else np.squeeze(scale, axis=axis))


def _pnorm_impl(x, p, axis, keepdims):
    """The p-norm over `axis`: NumPy's value where the powers stay in range, the scaled
    one in slices where they overflow or lose precision to underflow."""
    x = asarray(x)
    with np.errstate(over="ignore", under="ignore", divide="ignore"):
        direct = _pnorm_direct(x, p, axis, keepdims)
    # On a lazy (Dask) array nothing is read: the scaled norm is built and picked lazily.
    # (is_lazy_array is called in each test: exported source decides calls, not names.)
    if p < 0 and not is_lazy_array(x) and np.any(x == 0):  # 0 ** p: NumPy's only warning
        np.power(np.zeros(1, x.real.dtype, like=foreign_of(x)), p)
    info = np.finfo(direct.dtype)
    small = np.sqrt(info.tiny) / info.eps  # below this, sum |x|^2 has lost digits
    out_of_range = (direct == np.inf) | (direct < (small if p == 2 else 1.0))
    if not is_lazy_array(x) and not np.any(out_of_range):
        return direct
    redo = out_of_range & np.all(np.isfinite(x), axis=axis, keepdims=keepdims)
    if p < 0:  # a zero entry makes the norm exactly 0
        redo &= np.all(x != 0, axis=axis, keepdims=keepdims)
    if not is_lazy_array(x) and not np.any(redo):
        return direct
    out = np.where(redo, _pnorm_scaled(x, p, axis, keepdims), direct)
    return out.astype(direct.dtype)[()]


def _pnorm_weights(ans, x, p, axis, keepdims):
    """d norm / dx in the transpose convention: (|x| / norm)^(p-2) conj(x) / norm, 0 at 0.

    Written with ratios to the norm, so it stays finite for huge or tiny x.
    """
    shape = shape_of(x)
    kept = tuple(1 if i in axis else d for i, d in enumerate(shape))
    norm = ans if keepdims else reshape(ans, kept)
    positive = norm > 0
    safe_norm = where(positive, norm, 1.0)
    if p == 2:
        return where(positive, _conj(x) / safe_norm, 0.0)
    size = absolute(x)
    nonzero = size > 0
    ratio = where(nonzero, size / safe_norm, 1.0)  # 1 where x is 0: no 0 ** (p - 2)
    weights = ratio ** (p - 2) * (_conj(x) / safe_norm)
    return where(logical_and(positive, nonzero), weights, 0.0)


def _pnorm_vjp(g, ans, x, p, axis, keepdims):
    shape = shape_of(x)
    kept = tuple(1 if i in axis else d for i, d in enumerate(shape))
    g = g if keepdims else reshape(g, kept)
    return g * _pnorm_weights(ans, x, p, axis, keepdims)


def _pnorm_jvp(t, ans, x, p, axis, keepdims):
    weights = _pnorm_weights(ans, x, p, axis, keepdims)
    return _sum(_re(weights * t), axis=axis, keepdims=keepdims)


# (sum |x|^p)^(1/p) over the axes in `axis` (a tuple), for p other than 0 and +-inf.
_pnorm = Primitive(_pnorm_impl, "pnorm")
_pnorm.defbatch(along_axis(_pnorm, 2))
_pnorm.defvjp(_pnorm_vjp)
_pnorm.defjvp(_pnorm_jvp)


def _as_inexact(x):
    """A traced value as it is; anything else as a NumPy array of a floating dtype, as
    numpy.linalg.norm converts it (the norms below compute plain input the same way, so
    traced and plain calls give the same value)."""
    if isinstance(x, Box):
        return x
    x = asarray(x)
    return x if np.issubdtype(x.dtype, np.inexact) else x.astype(float)


def _normalize_axes(axis, ndim: int) -> tuple[int, ...]:
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        a = operator.index(a)
        if not -ndim <= a < ndim:
            raise AxisError(a, ndim)
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError("Duplicate axes given.")
    return tuple(out)


def _keep(result, shape: tuple, axes: tuple, keepdims: bool):
    if not keepdims:
        return result
    return reshape(result, tuple(1 if i in axes else d for i, d in enumerate(shape)))


def _count_nonzero_impl(x, axes: tuple, keepdims: bool):
    x = asarray(x)
    return np.sum(x != 0, axis=axes, keepdims=keepdims).astype(x.real.dtype)


# The "0-norm": the number of nonzero entries, a piecewise constant.
_count_nonzero = nondiff(_count_nonzero_impl, "count_nonzero_norm")
_count_nonzero.defbatch(along_axis(_count_nonzero, 1))


def _vector_norm(x, ord, axes: tuple, keepdims: bool):
    if ord is None or ord == 2:
        return _pnorm(x, 2, axes, keepdims)
    if isinstance(ord, str):
        raise ValueError(f"norm: invalid norm order {ord!r} for vectors.")
    if ord == np.inf:
        return _max(absolute(x), axis=axes, keepdims=keepdims)
    if ord == -np.inf:
        return _min(absolute(x), axis=axes, keepdims=keepdims)
    if ord == 0:
        return _count_nonzero(x, axes, keepdims)
    if ord == 1:
        return _sum(absolute(x), axis=axes, keepdims=keepdims)
    return _pnorm(x, float(ord), axes, keepdims)


def _matrix_norm(x, ord, axes: tuple, keepdims: bool):
    shape = shape_of(x)
    row, col = axes
    if ord in (None, "fro", "f"):
        return _pnorm(x, 2, axes, keepdims)
    if ord in (2, -2, "nuc"):
        s = _svdvals(moveaxis(x, (row, col), (-2, -1)))
        if ord == 2:
            out = _max(s, axis=-1)
        elif ord == -2:
            out = _min(s, axis=-1)
        else:
            out = _sum(s, axis=-1)
    elif ord in (1, -1, np.inf, -np.inf):
        sum_axis, reduce_axis = (row, col) if ord in (1, -1) else (col, row)
        if reduce_axis > sum_axis:
            reduce_axis -= 1
        sums = _sum(absolute(x), axis=sum_axis)
        out = _max(sums, axis=reduce_axis) if ord > 0 else _min(sums, axis=reduce_axis)
    else:
        raise ValueError(f"norm: invalid norm order {ord!r} for matrices.")
    return _keep(out, shape, axes, keepdims)


def norm(x, ord=None, axis=None, keepdims: bool = False):
    """Vector or matrix norm, with NumPy's `ord`, `axis` and `keepdims`.

    At a zero input the derivative is 0 (a subgradient; no NaN), for every `ord`, as for
    |x| at 0. The 2-norm and the other p-norms are scaled by the largest entry where the
    squares (or p-th powers) would overflow or underflow, as LAPACK's nrm2 does: the norm
    of [1e200, 1e200] is 1.414e200 (NumPy's own gives inf) and its derivative is finite,
    for plain and traced input alike. Elsewhere the value is NumPy's.

    >>> import numpy as np
    >>> import wengert as wg
    >>> wg.grad(norm)(np.array([3.0, 4.0]))
    array([0.6, 0.8])
    >>> wg.grad(norm)(np.zeros(2))
    array([0., 0.])
    """
    x = _as_inexact(x)
    shape = shape_of(x)
    ndim = len(shape)
    if axis is None:
        if ord is None:
            return _pnorm(x, 2, tuple(range(ndim)), keepdims)
        if ndim not in (1, 2):
            raise ValueError("norm: improper number of dimensions to norm.")
        axis = tuple(range(ndim))
    axes = _normalize_axes(axis, ndim)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes, keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError("norm: improper number of dimensions to norm.")


def vector_norm(x, /, *, axis=None, keepdims: bool = False, ord=2):
    """The array API's vector norm: over all axes by default, or over those in `axis`.

    >>> import numpy as np
    >>> vector_norm(np.array([[3.0], [4.0]]))
    5.0
    """
    x = _as_inexact(x)
    shape = shape_of(x)
    axes = tuple(range(len(shape))) if axis is None else _normalize_axes(axis, len(shape))
    if len(axes) == 1:
        return _vector_norm(x, ord, axes, keepdims)
    rest = [i for i in range(len(shape)) if i not in axes]
    moved = moveaxis(x, axes, tuple(range(len(rest), len(shape))))
    flat = reshape(moved, (*(shape[i] for i in rest), -1))
    out = _vector_norm(flat, ord, (len(rest),), False)
    return _keep(out, shape, axes, keepdims)


def matrix_norm(x, /, *, keepdims: bool = False, ord="fro"):
    """The array API's matrix norm over the last two axes.

    >>> import numpy as np
    >>> matrix_norm(np.eye(2), ord="nuc")
    2.0
    """
    x = _as_inexact(x)
    ndim = _ndim(x)
    return _matrix_norm(x, ord, (ndim - 2, ndim - 1), keepdims)


def cond(x, p=None):
    """The condition number, differentiable where the defining singular values (or norms)
    are.

    >>> import numpy as np
    >>> cond(np.array([[1.0, 0.0], [0.0, 4.0]]))
    4.0
    """
    if not _traced(x):
        return np.linalg.cond(x, p)
    if p is None or p == 2 or p == -2:
        s = _svdvals(x)
        big, small = s[..., 0], s[..., -1]
        return small / big if p == -2 else big / small
    return norm(x, p, axis=(-2, -1)) * norm(_inv(x), p, axis=(-2, -1))


# --- products and tensor equations -------------------------------------------------------


def matrix_power(a, n: int):
    """`a` to the integer power n by repeated squaring (n < 0 uses the inverse).

    >>> import numpy as np
    >>> import wengert as wg
    >>> wg.grad(lambda a: matrix_power(a, 3)[0, 0])(np.array([[2.0]]))
    array([[12.]])
    """
    n = operator.index(n)
    if not _traced(a):
        return np.linalg.matrix_power(a, n)
    shape = shape_of(a)
    if n == 0:
        return np.broadcast_to(_eye(shape[-1], a), shape).copy()
    if n < 0:
        a, n = _inv(a), -n
    result = None
    base = a
    while True:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if not n:
            return result
        base = matmul(base, base)


def _chain_order(dims: list[int]) -> list[list[int]]:
    """Split points of the cheapest parenthesization of a matrix chain (dynamic program)."""
    n = len(dims) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def multi_dot(arrays, *, out=None):
    """A chain of matrix products in the cheapest order; the first and last may be vectors.

    >>> import numpy as np
    >>> multi_dot([np.ones(2), np.eye(2), np.ones(2)])
    2.0
    """
    if out is not None:
        raise TypeError("multi_dot: out= is not supported; use the returned array.")
    arrays = list(arrays)
    if len(arrays) < 2:
        raise ValueError("multi_dot: expecting at least two arrays.")
    if not any(_contractions._traced(a) for a in arrays):
        return np.linalg.multi_dot(arrays)
    arrays = [_contractions._operand(a, "linalg.multi_dot") for a in arrays]
    if len(arrays) == 2:
        return matmul(arrays[0], arrays[1])
    first_vector, last_vector = _ndim(arrays[0]) == 1, _ndim(arrays[-1]) == 1
    if first_vector:
        arrays[0] = reshape(arrays[0], (1, -1))
    if last_vector:
        arrays[-1] = reshape(arrays[-1], (-1, 1))
    dims = [shape_of(arrays[0])[0]] + [shape_of(m)[1] for m in arrays]
    split = _chain_order(dims)

    def product(i, j):
        if i == j:
            return arrays[i]
        k = split[i][j]
        return matmul(product(i, k), product(k + 1, j))

    result = product(0, len(arrays) - 1)
    if first_vector and last_vector:
        return result[0, 0]
    if first_vector or last_vector:
        return reshape(result, (-1,))
    return result


def tensorsolve(a, b, axes=None):
    """The tensor x with ``tensordot(a, x, x.ndim) == b``, through `solve`.

    >>> import numpy as np
    >>> tensorsolve(2.0 * np.eye(4).reshape(2, 2, 2, 2), np.ones((2, 2)))
    array([[0.5, 0.5],
           [0.5, 0.5]])
    """
    ndim = _ndim(a)
    if axes is not None:
        order = list(range(ndim))
        for k in axes:
            order.remove(k)
            order.insert(ndim, k)
        a = transpose(a, tuple(order))
    shape = shape_of(a)
    unknown = shape[-(ndim - _ndim(b)) :]
    size = int(np.prod(unknown))
    if int(np.prod(shape)) != size**2:
        raise LinAlgError(
            "tensorsolve: input arrays must satisfy prod(a.shape[b.ndim:]) == prod(b.shape)."
        )
    x = solve(reshape(a, (size, size)), reshape(b, (-1,)))
    return reshape(x, unknown)


def tensorinv(a, ind: int = 2):
    """The inverse of `a` with respect to ``tensordot(., ., ind)``, through `inv`.

    >>> import numpy as np
    >>> tensorinv(2.0 * np.eye(4).reshape(4, 2, 2), ind=1).shape
    (2, 2, 4)
    """
    if ind <= 0:
        raise ValueError("tensorinv: invalid ind argument.")
    shape = shape_of(a)
    size = int(np.prod(shape[ind:]))
    inverse = _inv(reshape(a, (size, -1)))
    return reshape(inverse, shape[ind:] + shape[:ind])


# --- the array API's small helpers -------------------------------------------------------


def matrix_transpose(x, /):
    """The transpose of the last two axes."""
    return _mT(x)


def diagonal(x, /, *, offset: int = 0):
    """The diagonal (or an offset one) of each matrix in a stack."""
    if not isinstance(x, Box):
        x = asarray(x)
    m, n = shape_of(x)[-2:]
    start_row, start_col = max(-offset, 0), max(offset, 0)
    length = max(min(m - start_row, n - start_col), 0)
    rows = np.arange(length, like=index_like(x)) + start_row
    return x[..., rows, rows - start_row + start_col]


def trace(x, /, *, offset: int = 0, dtype=None):
    """The sum of the diagonal (or an offset one) of each matrix in a stack."""
    return _sum(diagonal(x, offset=offset), axis=-1, dtype=dtype)


def vecdot(x1, x2, /, *, axis: int = -1):
    """The dot product along `axis`, conjugating the first argument."""
    if not isinstance(x1, Box):
        x1 = asarray(x1)
    return _sum(_conj(x1) * x2, axis=axis)


def cross(x1, x2, /, *, axis: int = -1):
    """The cross product of 3-vectors along `axis`."""
    a, b = moveaxis(x1, axis, -1), moveaxis(x2, axis, -1)
    if shape_of(a)[-1] != 3 or shape_of(b)[-1] != 3:
        raise ValueError("cross: both inputs must have 3 entries along the axis.")
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    out = stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)
    return moveaxis(out, -1, axis)


matrix_rank = nondiff(np.linalg.matrix_rank, "matrix_rank")

__all__ = [
    "cholesky",
    "cond",
    "cross",
    "det",
    "diagonal",
    "eig",
    "eigh",
    "eigvals",
    "eigvalsh",
    "inv",
    "lstsq",
    "matmul",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "matrix_transpose",
    "multi_dot",
    "norm",
    "outer",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "svd",
    "svdvals",
    "tensordot",
    "tensorinv",
    "tensorsolve",
    "trace",
    "vecdot",
    "vector_norm",
]

# Generated source (Program.source) computes these primitives with their implementations,
# copied (they use NumPy alone), or with the public function that they call.
_distinct_pairs.defsource(_distinct_pairs_impl)
_group_weights.defsource(_group_weights_impl)
_degeneracy.defsource(_degeneracy_impl)
_inv.defsource(_inv_impl)
_solve.defsource(_solve_impl)
_pinv.defsource(_pinv_impl)
_lstsq.defsource(_lstsq_impl)
_rank.defsource(_rank_impl)
_cofactor.defsource(_cofactor_impl)
_det.defsource(_det_impl)
_slogdet.defsource(_slogdet_impl)
_cholesky.defsource(_cholesky_impl)
_qr.defsource(_qr_impl)
_eigh.defsource(_eigh_impl)
_eigvalsh.defsource(_eigvalsh_impl)
_eig_pivots.defsource(_eig_pivots_impl)
_eig.defsource(_eig_impl)
_eigvals.defsource(_eigvals_impl)
_nonzero_singular.defsource(_nonzero_singular_impl)
_svd_masks.defsource(_svd_masks_impl)
_svd.defsource(_svd_impl)
_svdvals.defsource(_svdvals_impl)
_pnorm.defsource(_pnorm_impl)
_count_nonzero.defsource(_count_nonzero_impl)

# Lists and tuples holding traced values are read as arrays by the public functions.
accept_array_likes(globals(), __all__)
