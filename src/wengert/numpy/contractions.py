"""Products that contract axes: matmul, tensordot, einsum and those built on them.

Each is bilinear: the forward rule applies the product to one tangent at a time, and the
reverse rule contracts the cotangent with the other factor.
"""

from __future__ import annotations

import operator
import string

import numpy as np

from .._core import patterns
from .._core.batching import align
from .._core.box import Box, peek
from .._core.primitive import Primitive
from .._core.vspace import (
    broadcast_to,
    eye_like,
    foreign_of,
    is_foreign_array,
    is_lazy_array,
    shape_of,
)
from ..errors import InPlaceWriteError
from ._arraylike import accept_array_likes
from .elementwise import multiply
from .shaping import array, moveaxis, reshape, swapaxes, transpose

_SCALARS = (float, int, complex, bool, np.generic)


def _traced(value) -> bool:
    if isinstance(value, Box):
        return True
    return isinstance(value, (list, tuple)) and any(_traced(v) for v in value)


def _operand(x, name: str):
    """An operand as NumPy reads it: traced values and scalars as they are, lists and
    tuples (nested, holding traced values or not) and other array-likes as arrays, so
    that the rules see arrays; what NumPy refuses is refused with its own error."""
    if isinstance(x, (Box, np.ndarray)) or isinstance(x, _SCALARS):
        return x
    if is_foreign_array(x):  # Dask, CuPy: kept as they are (read lazily)
        return x
    if isinstance(x, (list, tuple)) and _traced(x):
        return array(x)
    x = np.asarray(x)
    if x.dtype.kind not in "biufc":
        raise TypeError(
            f"wengert.numpy.{name}: an operand of dtype {x.dtype} is not numeric (NumPy "
            "refuses it too); pass numbers, arrays or lists of them."
        )
    return x


class _Product(Primitive):
    """A product primitive whose operands may be anything NumPy accepts (lists, tuples,
    nested lists holding traced values); they are read as arrays before the primitive
    sees them."""

    def __call__(self, a, b, *args, **kwargs):
        if kwargs and kwargs.get("out") is not None and (_traced(a) or _traced(b)):
            raise InPlaceWriteError(
                f"wengert.numpy.{self.name}(..., out=...) writes in place, which drops the "
                "derivative; drop out= and use the result."
            )
        if type(a) is not np.ndarray and not isinstance(a, Box):
            a = _operand(a, self.name)
        if type(b) is not np.ndarray and not isinstance(b, Box):
            b = _operand(b, self.name)
        return Primitive.__call__(self, a, b, *args, **kwargs)


def _ndim(x) -> int:
    return len(shape_of(x))  # one member's, for a batch of values


# --- matmul ------------------------------------------------------------------------------


def _matmul_vjp_a(g, ans, a, b):
    if _ndim(a) == 1 and _ndim(b) == 1:
        return g * b
    if _ndim(b) == 1:  # (..., n, k) @ (k,) -> (..., n)
        return reshape(g, (*shape_of(g), 1)) * b
    if _ndim(a) == 1:  # (k,) @ (..., k, m) -> (..., m)
        if _ndim(b) == 2:
            return matmul(b, g)
        return matmul(b, reshape(g, (*shape_of(g), 1)))[..., 0]
    return matmul(g, swapaxes(b, -1, -2))


def _matmul_vjp_b(g, ans, a, b):
    if _ndim(a) == 1 and _ndim(b) == 1:
        return g * a
    if _ndim(a) == 1:  # (k,) @ (..., k, m) -> (..., m)
        return reshape(a, (-1, 1)) * reshape(g, (*shape_of(g)[:-1], 1, shape_of(g)[-1]))
    if _ndim(b) == 1:  # (..., n, k) @ (k,) -> (..., n)
        if _ndim(a) == 2:
            return matmul(g, a)
        return matmul(swapaxes(a, -1, -2), reshape(g, (*shape_of(g), 1)))[..., 0]
    return matmul(swapaxes(a, -1, -2), g)


matmul = _Product(np.matmul, "matmul", broadcasts=True)
matmul.defvjp(_matmul_vjp_a, _matmul_vjp_b)
matmul.defjvp(lambda t, ans, a, b: matmul(t, b), lambda t, ans, a, b: matmul(a, t))


def _matmul_batch(batched, a, b):
    ba, bb = batched[0], batched[1]
    sa, sb = shape_of(a), shape_of(b)
    na, nb = len(sa) - ba, len(sb) - bb
    # The common cases as one large product (BLAS) rather than a stack of small ones.
    if ba and not bb and nb <= 2:
        if na == 1:
            return matmul(a, b)  # (B, k) @ (k, m) -> (B, m), or @ (k,) -> (B,)
        out = matmul(reshape(a, (-1, sa[-1])), b)
        return reshape(out, (*sa[:-1], *sb[1:]))
    if bb and not ba and na <= 2:
        if nb == 1:  # a @ v for each v: (B, k) @ a.T
            return matmul(b, transpose(a)) if na == 2 else matmul(b, a)
        out = tensordot(a, b, ([na - 1], [nb - 1]))  # (n, B, ..., m) or (B, ..., m)
        return moveaxis(out, 0, -2) if na == 2 else out
    # General case: vectors as matrices, per-member ranks lined up, one stacked product.
    a2 = reshape(a, (*sa[:-1], 1, sa[-1])) if na == 1 else a
    b2 = reshape(b, (*sb, 1)) if nb == 1 else b
    rank = max(na, nb, 2)
    if ba:
        a2 = align(a2, rank)
    if bb:
        b2 = align(b2, rank)
    out = matmul(a2, b2)
    shape = list(shape_of(out))
    if nb == 1:
        del shape[-1]
    if na == 1:
        del shape[-1 if nb == 1 else -2]
    return reshape(out, tuple(shape))


matmul.defbatch(_matmul_batch)


# --- tensordot -----------------------------------------------------------------------------


def _normalize_axes(axes, na: int, nb: int) -> tuple[list[int], list[int]]:
    if isinstance(axes, (int, np.integer)):
        return list(range(na - axes, na)), list(range(axes))
    a_axes, b_axes = axes
    a_axes = [a_axes] if isinstance(a_axes, (int, np.integer)) else list(a_axes)
    b_axes = [b_axes] if isinstance(b_axes, (int, np.integer)) else list(b_axes)
    return [a % na for a in a_axes], [b % nb for b in b_axes]


def _tensordot_impl(a, b, axes=2):
    return np.tensordot(a, b, axes)


def _tensordot_vjp_a(g, ans, a, b, axes=2):
    na, nb = _ndim(a), _ndim(b)
    a_axes, b_axes = _normalize_axes(axes, na, nb)
    a_free = [i for i in range(na) if i not in a_axes]
    b_free = [i for i in range(nb) if i not in b_axes]
    nfa = len(a_free)
    out = tensordot(g, b, (list(range(nfa, nfa + len(b_free))), b_free))
    # `out` has a's free axes, then a's contracted axes in the order b holds them.
    order = a_free + [a_axes[b_axes.index(j)] for j in sorted(b_axes)]
    return transpose(out, tuple(np.argsort(order)))


def _tensordot_vjp_b(g, ans, a, b, axes=2):
    na, nb = _ndim(a), _ndim(b)
    a_axes, b_axes = _normalize_axes(axes, na, nb)
    a_free = [i for i in range(na) if i not in a_axes]
    b_free = [i for i in range(nb) if i not in b_axes]
    out = tensordot(a, g, (a_free, list(range(len(a_free)))))
    # `out` has b's contracted axes in the order a holds them, then b's free axes.
    order = [b_axes[a_axes.index(i)] for i in sorted(a_axes)] + b_free
    return transpose(out, tuple(np.argsort(order)))


tensordot = _Product(_tensordot_impl, "tensordot")
tensordot.defvjp(_tensordot_vjp_a, _tensordot_vjp_b)
tensordot.defjvp(
    lambda t, ans, a, b, axes=2: tensordot(t, b, axes),
    lambda t, ans, a, b, axes=2: tensordot(a, t, axes),
)


_LETTERS = string.ascii_letters


def _tensordot_batch(batched, a, b, axes=2):
    ba, bb = batched[0], batched[1]
    na, nb = len(shape_of(a)) - ba, len(shape_of(b)) - bb
    a_axes, b_axes = _normalize_axes(axes, na, nb)
    if ba and not bb:
        return tensordot(a, b, ([i + 1 for i in a_axes], b_axes))
    if bb and not ba:
        out = tensordot(a, b, (a_axes, [j + 1 for j in b_axes]))
        return moveaxis(out, na - len(a_axes), 0)
    # Both batched: an einsum sharing the batch letter.
    a_sub = list(_LETTERS[1 : na + 1])
    b_sub = list(_LETTERS[na + 1 : na + nb + 1])
    for i, j in zip(a_axes, b_axes):
        b_sub[j] = a_sub[i]
    out = [a_sub[i] for i in range(na) if i not in a_axes]
    out += [b_sub[j] for j in range(nb) if j not in b_axes]
    spec = f"a{''.join(a_sub)},a{''.join(b_sub)}->a{''.join(out)}"
    return einsum(spec, a, b)


tensordot.defbatch(_tensordot_batch)


def dot(a, b, out=None):
    """NumPy's dot: a product of scalars, a matrix product, or a sum over a's last axis
    and b's second-to-last."""
    if out is not None or not (_traced(a) or _traced(b)):
        if out is not None and (_traced(a) or _traced(b)):
            raise InPlaceWriteError("wengert.numpy.dot(..., out=...) writes in place; drop out=.")
        return np.dot(a, b, out=out)
    a, b = _operand(a, "dot"), _operand(b, "dot")
    na, nb = _ndim(a), _ndim(b)
    if na == 0 or nb == 0:
        return multiply(a, b)
    if na <= 2 and nb <= 2:
        return matmul(a, b)
    return tensordot(a, b, ([na - 1], [max(nb - 2, 0)]))


def inner(a, b):
    """Sum over the last axes of a and b."""
    a, b = _operand(a, "inner"), _operand(b, "inner")
    na, nb = _ndim(a), _ndim(b)
    if na == 0 or nb == 0:
        return multiply(a, b)
    return tensordot(a, b, ([na - 1], [nb - 1]))


def vdot(a, b):
    """Dot product of the flattened arrays, conjugating the first."""
    from .elementwise import conj

    a, b = _operand(a, "vdot"), _operand(b, "vdot")
    a = conj(a) if np.iscomplexobj(peek(a)) else a
    return matmul(reshape(a, (-1,)), reshape(b, (-1,)))


def outer(a, b, out=None):
    """Outer product of the flattened arrays."""
    if out is not None or not (_traced(a) or _traced(b)):
        if out is not None and (_traced(a) or _traced(b)):
            raise InPlaceWriteError("wengert.numpy.outer(..., out=...) writes in place; drop out=.")
        return np.outer(a, b, out=out)
    a, b = _operand(a, "outer"), _operand(b, "outer")
    return multiply(reshape(a, (-1, 1)), reshape(b, (1, -1)))


# --- einsum ----------------------------------------------------------------------------------


def _parse_einsum(subscripts: str, shapes: list[tuple]) -> tuple[list[str], str]:
    """Explicit per-operand letters and output letters, with ellipses spelled out."""
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        ins, out = subscripts.split("->")
    else:
        ins, out = subscripts, None
    parts = ins.split(",")
    if len(parts) != len(shapes):
        raise ValueError(f"einsum: {len(parts)} operand subscripts for {len(shapes)} operands")
    used = set(subscripts) - set(".,->")
    spare = [c for c in string.ascii_letters if c not in used]
    n_ell = max((len(s) - (len(p) - 3) for p, s in zip(parts, shapes) if "..." in p), default=0)
    ell = "".join(spare[:n_ell])
    explicit = []
    for p, s in zip(parts, shapes):
        if "..." in p:
            k = len(s) - (len(p) - 3)
            p = p.replace("...", ell[n_ell - k :] if k else "")
        explicit.append(p)
    if out is None:
        counts = {c: "".join(explicit).count(c) for c in set("".join(explicit))}
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return explicit, out


def _einsum_impl(subscripts, *operands):
    if any(is_lazy_array(op) for op in operands):
        operands = _aligned_chunks(subscripts, operands)
    return np.einsum(subscripts, *operands, optimize=len(operands) > 2)


def _aligned_chunks(subscripts: str, operands: tuple) -> list:
    """Lazy (Dask) operands rechunked so that every axis of one letter has the chunks of
    its first appearance: Dask's einsum aligns a letter across operands but not a letter
    repeated within one (a diagonal such as ``"ii->i"``), which it then fails to compute."""
    ins, _ = _parse_einsum(subscripts, [shape_of(op) for op in operands])
    first: dict[str, tuple] = {}
    for sub, op in zip(ins, operands):
        for c, n, chunks in zip(sub, shape_of(op), getattr(op, "chunks", ())):
            if n > 1:
                first.setdefault(c, chunks)
    aligned = []
    for sub, op in zip(ins, operands):
        if is_lazy_array(op):
            want = tuple(
                first[c] if n > 1 else chunks for c, n, chunks in zip(sub, shape_of(op), op.chunks)
            )
            op = op if want == op.chunks else op.rechunk(want)
        aligned.append(op)
    return aligned


def _einsum_vjp(g, ans, argnums, subscripts, *operands):
    shapes = [shape_of(op) for op in operands]
    ins, out = _parse_einsum(subscripts, shapes)
    sizes = {c: n for sub, s in zip(ins, shapes) for c, n in zip(sub, s)}
    result = []
    for argnum in argnums:
        i = argnum - 1
        target = ins[i]
        others = [(ins[j], operands[j]) for j in range(len(operands)) if j != i]
        terms = [(out, g), *others]
        # A letter repeated in the target (a diagonal) is split into two letters tied by
        # an identity matrix; the cotangent lives on that diagonal only.
        letters, renamed = [], []
        spare = iter(c for c in string.ascii_letters if c not in "".join(ins) + out)
        for c in target:
            if c in letters:
                d = next(spare)
                eye = eye_like(sizes[c], dtype=np.result_type(peek(g)), like=foreign_of(g))
                terms.append((c + d, eye))
                renamed.append(d)
            else:
                renamed.append(c)
            letters.append(c)
        available = set("".join(sub for sub, _ in terms))
        kept = "".join(c for c in renamed if c in available)
        spec = ",".join(sub for sub, _ in terms) + "->" + kept
        piece = einsum(spec, *[op for _, op in terms])
        if len(kept) < len(renamed):  # letters summed only within this operand
            shape = tuple(sizes[c] if c in available else 1 for c in renamed)
            full = tuple(sizes[c] for c in target)
            piece = broadcast_to(reshape(piece, shape), full)
        result.append(piece)
    return result


def _einsum_jvp(tangents, ans, subscripts, *operands):
    total = None
    for k, t in enumerate(tangents[1:]):
        if t is None:
            continue
        ops_ = list(operands)
        ops_[k] = t
        term = einsum(subscripts, *ops_)
        total = term if total is None else total + term
    return total


_einsum = Primitive(_einsum_impl, "einsum")
_einsum.defvjp_all(_einsum_vjp)
_einsum.defjvp_all(_einsum_jvp)


def _einsum_batch(batched, subscripts, *operands):
    shapes = [shape_of(op)[b:] for op, b in zip(operands, batched[1:])]
    ins, out = _parse_einsum(subscripts, shapes)
    letter = next(c for c in _LETTERS if c not in "".join(ins) + out)
    ins = [letter + sub if b else sub for sub, b in zip(ins, batched[1:])]
    return _einsum(",".join(ins) + "->" + letter + out, *operands)


_einsum.defbatch(_einsum_batch)


# --- dependency patterns: each product as an einsum ------------------------------------------


def _matmul_as_einsum(args, kwargs):
    a, b = args
    na, nb = len(shape_of(a)), len(shape_of(b))
    batch = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    lead = max(na, nb) - 2
    sa = batch[lead - (na - 2) : lead] + "ik" if na >= 2 else "k"
    sb = batch[lead - (nb - 2) : lead] + "kj" if nb >= 2 else "k"
    out = batch[: max(lead, 0)] + ("i" if na >= 2 else "") + ("j" if nb >= 2 else "")
    return [sa, sb], out, [a, b], [0, 1]


def _tensordot_as_einsum(args, kwargs):
    a, b = args[0], args[1]
    axes = kwargs.get("axes", args[2] if len(args) > 2 else 2)
    na, nb = len(shape_of(a)), len(shape_of(b))
    if isinstance(axes, (int, np.integer)):
        a_axes, b_axes = list(range(na - axes, na)), list(range(axes))
    else:
        a_axes, b_axes = (list(np.atleast_1d(x) % max(m, 1)) for x, m in zip(axes, (na, nb)))
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    sa = list(letters[:na])
    sb = list(letters[na : na + nb])
    for i, j in zip(a_axes, b_axes):
        sb[j] = sa[i]
    out = [sa[i] for i in range(na) if i not in a_axes] + [
        sb[j] for j in range(nb) if j not in b_axes
    ]
    return ["".join(sa), "".join(sb)], "".join(out), [a, b], [0, 1]


def _einsum_as_einsum(args, kwargs):
    operands = list(args[1:])
    subs, out = _parse_einsum(args[0], [shape_of(op) for op in operands])
    return subs, out, operands, list(range(1, len(args)))


matmul.defpattern(patterns.contraction(_matmul_as_einsum))
tensordot.defpattern(patterns.contraction(_tensordot_as_einsum))
_einsum.defpattern(patterns.contraction(_einsum_as_einsum))


def einsum(subscripts, *operands, optimize=None):
    """Einstein summation, differentiable in every operand: subscripts as a string
    (``einsum("ij,jk->ik", a, b)``) or interleaved with the operands as lists of axis
    numbers (``einsum(a, [0, 1], b, [1, 2], [0, 2])``, Ellipsis for ``...``).

    >>> import wengert.numpy as wnp
    >>> a = wnp.array([[1.0, 2.0], [3.0, 4.0]])
    >>> wnp.einsum(a, [0, 1], a, [1, 2], [0, 2]) - wnp.einsum("ij,jk->ik", a, a)
    array([[0., 0.],
           [0., 0.]])
    """
    if not isinstance(subscripts, str):
        subscripts, operands = _interleaved((subscripts, *operands))
    if not any(_traced(op) for op in operands):
        if any(is_lazy_array(op) for op in operands):
            operands = _aligned_chunks(subscripts, operands)
        return np.einsum(subscripts, *operands, optimize=optimize or False)
    return _einsum(subscripts, *[_operand(op, "einsum") for op in operands])


def _interleaved(args: tuple) -> tuple[str, list]:
    """The subscripts string and operands of einsum's interleaved form: operand, sublist,
    operand, sublist, ..., and optionally the output's sublist."""
    operands = list(args[0::2])
    sublists = list(args[1::2])
    output = operands.pop() if len(args) % 2 else None
    if len(sublists) != len(operands):
        raise ValueError("wengert.numpy.einsum: each operand needs its list of axis numbers")
    spec = ",".join(_letters(s) for s in sublists)
    if output is not None:
        spec += "->" + _letters(output)
    return spec, operands


# Axis numbers 0 to 51 as letters in the order of their codes, as NumPy reads them, so that
# an output left implicit lists its axes by number.
_AXIS_LETTERS = string.ascii_uppercase + string.ascii_lowercase


def _letters(sublist) -> str:
    """A sublist of axis numbers (0 to 51) and Ellipsis as einsum letters."""
    out = []
    for axis in sublist:
        if axis is Ellipsis:
            out.append("...")
            continue
        axis = operator.index(axis)
        if not 0 <= axis < len(_AXIS_LETTERS):
            raise ValueError(
                f"wengert.numpy.einsum: axis number {axis} in a sublist is not in [0, 52)"
            )
        out.append(_AXIS_LETTERS[axis])
    return "".join(out)


# --- products of the array API (NumPy 2's gufuncs) --------------------------------------------


def vecdot(x1, x2, /, *, axis: int = -1, out=None):
    """The dot product of vectors along `axis`, conjugating the first (NumPy's vecdot).

    >>> import wengert.numpy as wnp
    >>> wnp.vecdot(wnp.array([1.0, 2.0]), wnp.array([[3.0, 4.0], [5.0, 6.0]]))
    array([11., 17.])
    """
    if not (_traced(x1) or _traced(x2)):
        return np.vecdot(x1, x2, axis=axis, out=out)
    _refuse_out(out, "vecdot")
    from .elementwise import conj
    from .reductions import sum as _sum

    x1, x2 = _operand(x1, "vecdot"), _operand(x2, "vecdot")
    if np.iscomplexobj(peek(x1)):
        x1 = conj(x1)
    return _sum(multiply(x1, x2), axis=axis)


def matvec(x1, x2, /, *, out=None):
    """Matrix times vector over the last axes, ``(..., m, n), (..., n) -> (..., m)``.

    >>> import wengert.numpy as wnp
    >>> wnp.matvec(wnp.array([[1.0, 2.0], [3.0, 4.0]]), wnp.array([1.0, 1.0]))
    array([3., 7.])
    """
    if not (_traced(x1) or _traced(x2)):
        return np.matvec(x1, x2, out=out)
    _refuse_out(out, "matvec")
    x1, x2 = _operand(x1, "matvec"), _operand(x2, "matvec")
    _at_least(x1, 2, "matvec")
    _at_least(x2, 1, "matvec")
    return matmul(x1, reshape(x2, (*shape_of(x2), 1)))[..., 0]


def vecmat(x1, x2, /, *, out=None):
    """Vector (conjugated) times matrix over the last axes, ``(..., n), (..., n, m) ->
    (..., m)``.

    >>> import wengert.numpy as wnp
    >>> wnp.vecmat(wnp.array([1.0, 1.0]), wnp.array([[1.0, 2.0], [3.0, 4.0]]))
    array([4., 6.])
    """
    if not (_traced(x1) or _traced(x2)):
        return np.vecmat(x1, x2, out=out)
    _refuse_out(out, "vecmat")
    from .elementwise import conj

    x1, x2 = _operand(x1, "vecmat"), _operand(x2, "vecmat")
    _at_least(x1, 1, "vecmat")
    _at_least(x2, 2, "vecmat")
    if np.iscomplexobj(peek(x1)):
        x1 = conj(x1)
    shape = shape_of(x1)
    return matmul(reshape(x1, (*shape[:-1], 1, shape[-1])), x2)[..., 0, :]


def _at_least(x, ndim: int, name: str) -> None:
    if _ndim(x) < ndim:
        raise ValueError(
            f"wengert.numpy.{name}: an operand of shape {shape_of(x)} has fewer than {ndim} "
            "axes, which the product's signature needs"
        )


def _refuse_out(out, name: str) -> None:
    if out is not None:
        raise InPlaceWriteError(f"wengert.numpy.{name}(..., out=...) writes in place; drop out=.")


__all__ = [
    "dot",
    "einsum",
    "inner",
    "matmul",
    "matvec",
    "outer",
    "tensordot",
    "vdot",
    "vecdot",
    "vecmat",
]

# Generated source (Program.source) computes these primitives with their implementations,
# copied (they use NumPy alone), or with the public function that they call.
_einsum.defsource(_einsum_impl)
tensordot.defsource(np.tensordot)

# Lists and tuples holding traced values are read as arrays by the public functions.
accept_array_likes(globals(), __all__)
