"""Reductions over axes: sum, mean, prod, max, min and what is built from them.

Each takes NumPy's arguments. Entries masked out by ``where=`` get a zero derivative; a
constant ``initial=`` shifts (sum), scales (prod) or bounds (max, min) the result, and a
traced one is differentiated too. ``out=`` would write in place and is refused for traced
input. Ties in max and min share the derivative evenly, and an ``initial`` that ties with
the maximum takes half of it, as ``maximum(max(x), initial)`` does; NaN results carry
no derivative (no entry's perturbation changes them).
"""

from __future__ import annotations

import builtins
import warnings

import numpy as np

from .._core import patterns
from .._core.batching import align, batch_axes, batch_size, reduction, spread
from .._core.box import Box, all_value, any_value, peek
from .._core.define import nondiff, stop_gradient
from .._core.primitive import Primitive, library_call
from .._core.vspace import (
    asarray,
    broadcast_like,
    broadcast_to,
    eye_like,
    foreign_of,
    inexact_dtype,
    shape_of,
)
from ..errors import InPlaceWriteError
from ._arraylike import accept_array_likes
from ._common import numpy_call
from .elementwise import _where, imag, maximum, minimum, real, sqrt
from .shaping import array, reshape


def _axes(axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    return tuple(int(a) % ndim if ndim else 0 for a in axis)


def _kept_shape(shape: tuple, axis) -> tuple:
    """The shape a reduction over `axis` leaves with keepdims=True."""
    axes = _axes(axis, len(shape))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _count(shape: tuple, axis) -> int:
    axes = _axes(axis, len(shape))
    return int(np.prod([shape[i] for i in axes])) if axes else 1


def expand_reduced(g, x, axis, keepdims: bool):
    """A reduction's cotangent `g` broadcast back over the reduced axes of `x`."""
    shape = shape_of(x)
    if not keepdims:
        g = reshape(g, _kept_shape(shape, axis))
    if type(x) is np.ndarray:
        return broadcast_to(g, shape)
    return broadcast_like(g, x)


def _real_dtype(x) -> np.dtype:
    """The real floating dtype of derivatives of `x` (float32 for complex64)."""
    dtype = getattr(peek(x), "dtype", None)
    if dtype is None or dtype.kind not in "fc":
        dtype = inexact_dtype(peek(x))
    return dtype if dtype.kind == "f" else np.finfo(dtype).dtype


def _masked(v, where):
    """`v` with the entries that `where` masks out set to zero."""
    return v if where is None else _where(where, v, 0.0)


def _where_count(x, axis, where):
    """How many entries of `x` each slice reduces over (keepdims shape), at least 1."""
    if where is None:
        return _count(shape_of(x), axis)
    return _counted(where, shape_of(x), axis, True, 1, _real_dtype(x))


def _counted_impl(where, shape, axis, keepdims, at_least, dtype):
    """How many entries the mask `where` selects in each slice of an array of `shape`
    reduced over `axis` (no fewer than `at_least`), in `dtype` (None: integers)."""
    mask = np.broadcast_to(where, shape)
    n = np.maximum(np.sum(mask, axis=_axes(axis, len(shape)), keepdims=keepdims), at_least)
    return n if dtype is None else n.astype(dtype)


# The count is a constant; a mask traced by vmap (a batch of masks) gives a batch of counts.
_counted = nondiff(_counted_impl, "where_count")


def _counted_batch(batched, where, shape, axis, keepdims, at_least, dtype):
    mask = align(where, len(shape))
    size = shape_of(mask)[0]
    return _counted(mask, (size, *shape), batch_axes(axis, len(shape)), keepdims, at_least, dtype)


_counted.defbatch(_counted_batch)


def _traced(value) -> bool:
    if isinstance(value, Box):
        return True
    return isinstance(value, (list, tuple)) and builtins.any(_traced(v) for v in value)


_OPTIONAL = frozenset(("out", "where", "initial"))


def _masked_form(prim: Primitive) -> Primitive:
    """`prim` with its mask as the positional argument 1, ``masked(a, where, **kwargs)``:
    the form used for a mask traced by vmap, which batching must see as an argument. Its
    rules are those of `prim`, given the mask as ``where=``."""

    def impl(a, where, **kwargs):
        return prim.fun(a, where=where, **kwargs)

    masked = Primitive(impl, f"{prim.name}_where")
    # Generated source (Program.source) writes it as `prim` with ``where=``.
    masked.defsource(
        rewrite=lambda a, where, **kw: (prim.source or prim.fun, (a,), {"where": where, **kw})
    )
    masked.defvjp(lambda g, ans, a, where, **kw: prim.vjp_rules[0](g, ans, a, where=where, **kw))
    masked.defjvp(lambda t, ans, a, where, **kw: prim.jvp_rules[0](t, ans, a, where=where, **kw))

    def batch_rule(batched, a, where, axis=None, **kwargs):
        size = batch_size((a, where), batched)
        if not batched[0]:
            a = broadcast_to(a, (size, *shape_of(a)))
        ndim = len(shape_of(a)) - 1
        if batched[1]:
            where = align(where, ndim)
        return prim(a, axis=batch_axes(axis, ndim), where=where, **kwargs)

    masked.defbatch(batch_rule)
    # Every entry of a slice counted (a superset of the entries the mask keeps).
    masked.defpattern(
        lambda args, kw, traced, ans, n: patterns.reduction(args[:1], kw, traced, ans, n)
    )
    return masked


class _Reduction(Primitive):
    """A reduction primitive called with its NumPy function's signature.

    Untraced input goes to NumPy unchanged. For traced input, ``where=True`` is dropped,
    a mask is opened, ``out=`` is refused and a traced ``initial`` is composed around the
    primitive (`join`), so that the implementation and the rules see only constants.
    """

    def __init__(self, impl, name: str, np_fun, positional: tuple[str, ...], join=None):
        super().__init__(impl, name)
        self.np_fun = np_fun
        self.positional = positional
        self.join = join
        self.defbatch(reduction(self))  # the member's axes, one further along
        self.defpattern(patterns.reduction)
        self.masked = _masked_form(self)

    def __call__(self, a, *args, **kwargs):
        if args:
            if len(args) > len(self.positional):
                raise TypeError(
                    f"{self.name}() takes at most {len(self.positional) + 1} positional "
                    f"arguments ({len(args) + 1} given)"
                )
            for name, value in zip(self.positional, args):
                if name in kwargs:
                    raise TypeError(f"{self.name}() got multiple values for argument {name!r}")
                kwargs[name] = value
        initial = kwargs.get("initial")
        if not isinstance(a, Box):
            if not _traced(a) and not isinstance(initial, Box):
                if not isinstance(kwargs.get("where"), Box):
                    return library_call(self.np_fun, (a,), kwargs)
            elif _traced(a):
                a = array(a)
        elif not _OPTIONAL.intersection(kwargs):  # the common call: axis, dtype, keepdims
            return Primitive.__call__(self, a, **kwargs)
        if kwargs.pop("out", None) is not None:
            raise InPlaceWriteError(
                f"wengert.numpy.{self.name}(..., out=...) writes in place into an array, "
                "which drops the derivative; drop out= and use the result."
            )
        where = kwargs.get("where")
        if where is not None:
            if where is True:
                del kwargs["where"]
            elif isinstance(where, Box):
                # A mask computed from traced values: no derivative, but under vmap a
                # batch of masks, which must reach batching as an argument.
                where = kwargs["where"] = stop_gradient(where)
        if "initial" in kwargs and initial is None:
            del kwargs["initial"]
        elif isinstance(initial, Box):
            return self.join(self, a, initial, kwargs)
        if isinstance(where, Box):
            del kwargs["where"]
            return self.masked(a, where, **kwargs)
        return Primitive.__call__(self, a, **kwargs)


# --- sum and mean -----------------------------------------------------------------------


_SUM_ARGS = ("axis", "dtype", "out", "keepdims", "initial", "where")


def _sum_vjp(g, ans, x, axis=None, dtype=None, keepdims=False, initial=None, where=None):
    return _masked(expand_reduced(g, x, axis, keepdims), where)


def _sum_jvp(t, ans, x, axis=None, dtype=None, keepdims=False, initial=None, where=None):
    if where is None:
        return sum(t, axis=axis, dtype=dtype, keepdims=keepdims)
    return sum(t, axis=axis, dtype=dtype, keepdims=keepdims, where=where)


def _add_initial(prim, a, initial, kwargs):
    """sum(a, initial=c) for a traced c: the sum from zero, plus c."""
    kwargs.pop("initial")
    return prim(a, **kwargs) + initial


sum = _Reduction(np.sum, "sum", np.sum, _SUM_ARGS, _add_initial)
sum.defvjp(_sum_vjp)
sum.defjvp(_sum_jvp)


def _mean_vjp(g, ans, x, axis=None, dtype=None, keepdims=False, where=None):
    if where is None:  # one count: divide the (small) cotangent before broadcasting it
        return expand_reduced(g / _count(shape_of(x), axis), x, axis, keepdims)
    return _masked(expand_reduced(g, x, axis, keepdims) / _where_count(x, axis, where), where)


def _mean_jvp(t, ans, x, axis=None, dtype=None, keepdims=False, where=None):
    if where is None:
        return mean(t, axis=axis, dtype=dtype, keepdims=keepdims)
    # Slices with no entry have the value NaN (as in NumPy) and no derivative.
    scaled = _masked(t / _where_count(x, axis, where), where)
    return sum(scaled, axis=axis, dtype=dtype, keepdims=keepdims)


mean = _Reduction(np.mean, "mean", np.mean, ("axis", "dtype", "out", "keepdims"))
mean.defvjp(_mean_vjp)
mean.defjvp(_mean_jvp)


# --- prod -----------------------------------------------------------------------------------


def _prod_partials(ans, x, axis, keepdims, initial, where):
    """d prod / d x_i = initial times the product of the other entries; exact at zeros."""
    if where is not None:
        x = _where(where, x, 1.0)
    # Without zeros (in every member of a batch) the partials are ans / x; a formula takes
    # the products of the others, exact at zeros too.
    if all_value(x != 0, undecided=False):
        return expand_reduced(ans, x, axis, keepdims) / x
    axes = _axes(axis, len(shape_of(x)))
    if isinstance(x, Box):
        others = _prod_others_traced(x, axes)
    else:
        others = _prod_others(x, axes)
    if initial is None:
        return others
    return others * asarray(initial, like=ans).astype(np.result_type(peek(ans)))


def _prod_others(value, axes):
    """Products of the entries left and right of each one (exact with zeros, no 0/0)."""
    moved = np.moveaxis(value, axes, tuple(range(-len(axes), 0)))
    flat = moved.reshape((*moved.shape[: moved.ndim - len(axes)], -1))
    left = np.cumprod(np.concatenate([np.ones_like(flat[..., :1]), flat[..., :-1]], -1), -1)
    right = np.cumprod(np.concatenate([np.ones_like(flat[..., :1]), flat[..., :0:-1]], -1), -1)[
        ..., ::-1
    ]
    others = (left * right).reshape(moved.shape)
    return np.moveaxis(others, tuple(range(-len(axes), 0)), axes)


def _prod_others_traced(x, axes):
    """Products of the other entries, differentiably (for higher orders at zeros).

    Each entry is replaced by 1 in its own copy of the row: O(n^2) work, used only when
    the input has zeros and an outer transformation traces it.
    """
    from .shaping import moveaxis

    dest = tuple(range(-len(axes), 0))
    moved = moveaxis(x, axes, dest)
    lead = shape_of(moved)[: len(shape_of(moved)) - len(axes)]
    n = int(np.prod([shape_of(x)[a] for a in axes]))
    flat = reshape(moved, (*lead, 1, n))
    eye = eye_like(n, dtype=bool, like=foreign_of(x))
    others = prod(_where(eye, 1.0, flat), axis=-1)
    return moveaxis(reshape(others, shape_of(moved)), dest, axes)


def _prod_vjp(g, ans, x, axis=None, dtype=None, keepdims=False, initial=None, where=None):
    partials = _prod_partials(ans, x, axis, keepdims, initial, where)
    return _masked(expand_reduced(g, x, axis, keepdims) * partials, where)


def _prod_jvp(t, ans, x, axis=None, dtype=None, keepdims=False, initial=None, where=None):
    partials = _prod_partials(ans, x, axis, keepdims, initial, where)
    return sum(_masked(t * partials, where), axis=axis, keepdims=keepdims)


def _times_initial(prim, a, initial, kwargs):
    """prod(a, initial=c) for a traced c: the product from one, times c."""
    kwargs.pop("initial")
    return prim(a, **kwargs) * initial


prod = _Reduction(np.prod, "prod", np.prod, _SUM_ARGS, _times_initial)
prod.defvjp(_prod_vjp)
prod.defjvp(_prod_jvp)


# --- max and min ----------------------------------------------------------------------------


def _extremum_weights_impl(x, result, where, axis, keepdims, initial):
    """The share of the derivative each entry gets: ties share evenly, an `initial` that
    ties takes half, and entries masked out, NaN or below the result get none."""
    if not keepdims:
        result = np.reshape(result, _kept_shape(np.shape(x), axis))
    hit = x == result
    if where is not None:
        hit = hit & where
    count = np.sum(hit, axis=_axes(axis, np.ndim(x)), keepdims=True)
    if initial is not None:  # a tying initial takes half: count it as another entry twice
        count = np.where(result == initial, 2 * count, count)
    return np.true_divide(hit, np.maximum(count, 1), dtype=_real_dtype(x))


# The weights are constants, computed from each member's own values under vmap.
_extremum_weights = nondiff(_extremum_weights_impl, "extremum_weights")


def _extremum_weights_batch(batched, x, result, where, axis, keepdims, initial):
    size = batch_size((x, result, where), batched)
    ndim = len(shape_of(x)) - batched[0]
    x, result = spread((x, result), batched[:2], size)
    if batched[2]:
        where = align(where, ndim)
    return _extremum_weights(x, result, where, batch_axes(axis, ndim), keepdims, initial)


_extremum_weights.defbatch(_extremum_weights_batch)


def _extremum_vjp(g, ans, x, axis=None, keepdims=False, initial=None, where=None):
    weights = _extremum_weights(x, ans, where, axis, keepdims, initial)
    return expand_reduced(g, x, axis, keepdims) * weights


def _extremum_jvp(t, ans, x, axis=None, keepdims=False, initial=None, where=None):
    weights = _extremum_weights(x, ans, where, axis, keepdims, initial)
    return sum(t * weights, axis=axis, keepdims=keepdims)


def _extremum(np_fun, name: str, bound, identity: float) -> _Reduction:
    """max or min (or their NaN-ignoring forms) with NumPy's arguments."""

    def join(prim, a, initial, kwargs):
        # A traced initial is the other argument of `bound` (maximum or minimum), which
        # shares ties evenly: the same split as a constant initial gets.
        kwargs.pop("initial")
        if "where" in kwargs:
            kwargs["initial"] = identity
        return bound(prim(a, **kwargs), initial)

    prim = _Reduction(np_fun, name, np_fun, ("axis", "out", "keepdims", "initial", "where"), join)
    prim.defvjp(_extremum_vjp)
    prim.defjvp(_extremum_jvp)
    return prim


max = _extremum(np.max, "max", maximum, -np.inf)
min = _extremum(np.min, "min", minimum, np.inf)
amax, amin = max, min
# The NaN-ignoring forms: NaN entries never hold the result, so they get no derivative.
nanmax = _extremum(np.nanmax, "nanmax", maximum, -np.inf)
nanmin = _extremum(np.nanmin, "nanmin", minimum, np.inf)


# --- variance and standard deviation ------------------------------------------------------


def _ddof(ddof, correction, name: str):
    if correction is None:
        return ddof
    if ddof != 0:
        raise ValueError(f"wengert.numpy.{name}: ddof and correction can't be provided together.")
    return correction


def _squared_deviations(a, axis, dtype, keepdims, where, centre):
    """sum |a - mean|^2 over `axis` (the mean of the entries unless given), and the
    number of entries each slice sums, as NumPy's var computes them."""
    mask = None if where is None or where is True else where
    extra = {} if mask is None else {"where": mask}
    n = _count(shape_of(a), axis)
    if mask is not None:
        n = _counted(mask, shape_of(a), axis, keepdims, 0, None)
    if centre is None:
        centre = mean(a, axis=axis, dtype=dtype, keepdims=True, **extra)
    centred = a - centre
    if mask is not None and any_value(n == 0):
        # Slices with no entry have a NaN mean; keep it out of the derivative's products.
        centred = _where(mask, centred, 0.0)
    if np.iscomplexobj(peek(centred)):
        # NumPy's order of operations: re^2 + im^2, so that the value matches it exactly.
        re, im = real(centred), imag(centred)
        squares = re * re + im * im
    else:
        squares = centred * centred
    return sum(squares, axis=axis, dtype=dtype, keepdims=keepdims, **extra), n


def _dof_impl(n, ddof, dtype, bad_as_one):
    """max(n - ddof, 0) as a divisor: a Python int where it is one number (which keeps
    the dtype of what it divides), else an array in `dtype`; 1 where it is not positive
    if `bad_as_one`."""
    dof = np.maximum(asarray(n) - ddof, 0)
    if bad_as_one:
        dof = np.where(dof <= 0, 1, dof)
    if np.ndim(dof) == 0 and float(dof) == int(dof):
        return int(dof)
    return asarray(dof).astype(dtype)


_dof = nondiff(_dof_impl, "degrees_of_freedom", elementwise=True)


def _divide_by_dof(total, n, ddof):
    """`total` / max(n - ddof, 0), as NumPy's var: inf or NaN, with NumPy's warnings and
    no derivative, in slices where that is not positive."""
    dtype = _real_dtype(total)
    dof = _dof(n, ddof, dtype, False)
    bad = dof <= 0
    if not any_value(bad):
        return total / dof
    warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=3)
    at_bad = stop_gradient(total) / dof
    return _where(bad, at_bad, total / _dof(n, ddof, dtype, True))


def var(
    a,
    axis=None,
    dtype=None,
    out=None,
    ddof=0,
    keepdims=False,
    *,
    where=True,
    mean=None,
    correction=None,
):
    """Variance along `axis`: the mean of |a - mean(a)|^2 (real for complex `a`), with
    NumPy's ``ddof``/``correction``, ``where`` and precomputed ``mean``.

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> float(wnp.var(wnp.array([1 + 2j, -1 - 2j])))
    5.0
    """
    if not _traced(a) and not isinstance(mean, Box):
        extra = given(where=where, mean=mean, correction=correction)
        return numpy_call(
            np.var, a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **extra
        )
    if out is not None:
        raise InPlaceWriteError("wengert.numpy.var(..., out=...) writes in place; drop out=.")
    ddof = _ddof(ddof, correction, "var")
    a = a if isinstance(a, Box) else array(a)
    total, n = _squared_deviations(a, axis, dtype, keepdims, where, mean)
    return _divide_by_dof(total, n, ddof)


def given(**kwargs) -> dict:
    """The optional NumPy arguments that were given (None, and where=True, were not)."""
    return {k: v for k, v in kwargs.items() if v is not None and not (k == "where" and v is True)}


def _sqrt_flat_at_zero(v):
    """sqrt(v) whose derivative is taken as 0 where v is 0 (as for |x| and norms at 0),
    and where v is NaN (no derivative)."""
    if all_value(v > 0, undecided=True):  # (every member of a batch; a formula: at v > 0)
        return sqrt(v)
    flat = _not_positive(v)
    return _where(flat, _sqrt_value(v), sqrt(_where(flat, 1.0, v)))


_not_positive = nondiff(lambda v: ~(v > 0), "not_positive", elementwise=True)


def _not_positive_impl(v):
    return ~(v > 0)


_not_positive.defsource(_not_positive_impl)
_sqrt_value = nondiff(np.sqrt, "sqrt_value")


def std(
    a,
    axis=None,
    dtype=None,
    out=None,
    ddof=0,
    keepdims=False,
    *,
    where=True,
    mean=None,
    correction=None,
):
    """Standard deviation along `axis`: the square root of `var` (same arguments).

    Where the variance is zero the derivative is taken as 0, the convention of `abs` and
    `linalg.norm` at 0 (the standard deviation is not differentiable there).

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> wg.grad(wnp.std)(wnp.array([2.0, 2.0]))
    array([0., 0.])
    """
    if not _traced(a) and not isinstance(mean, Box):
        extra = given(where=where, mean=mean, correction=correction)
        return numpy_call(
            np.std, a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **extra
        )
    if out is not None:
        raise InPlaceWriteError("wengert.numpy.std(..., out=...) writes in place; drop out=.")
    variance = var(
        a,
        axis=axis,
        dtype=dtype,
        ddof=ddof,
        keepdims=keepdims,
        where=where,
        mean=mean,
        correction=correction,
    )
    return _sqrt_flat_at_zero(variance)


__all__ = ["amax", "amin", "max", "mean", "min", "prod", "std", "sum", "var"]

# Generated source (Program.source) computes these primitives with their implementations,
# copied (they use NumPy alone), or with the public function that they call.
_counted.defsource(_counted_impl)
_extremum_weights.defsource(_extremum_weights_impl)
_dof.defsource(_dof_impl)

# Lists and tuples holding traced values are read as arrays by the public functions.
accept_array_likes(globals(), __all__)
