"""Signals and polynomials: convolution and correlation, interpolation, sinc, phase
unwrapping, integration by the trapezoidal rule, and polynomial evaluation and arithmetic.

Convolution is one bilinear primitive (its reverse rule correlates the cotangent with the
other factor); sinc is a primitive whose derivatives of every order are exact at zero.
The rest are composites.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._core.batching import batch_size, loop
from .._core.box import Box, any_value, peek
from .._core.define import nondiff
from .._core.primitive import Primitive
from .._core.vspace import (
    asarray,
    foreign_of,
    full_shaped,
    index_like,
    is_complex,
    is_foreign_array,
    is_lazy_array,
    refuse_lazy,
    shape_of,
)
from . import reductions as _red
from ._arraylike import accept_array_likes
from ._common import _along, _as_array, _axis, _traced, numpy_call
from .contractions import matmul
from .cumulative import cumprod, diff
from .elementwise import clip, conj, mod, real, where
from .indexing import take_index
from .manipulation import flip
from .nondiff import argsort
from .shaping import atleast_1d, concatenate, reshape, transpose

# --- convolution and correlation ----------------------------------------------------------


def _convolve_impl(a, v):
    for x in (a, v):
        if is_lazy_array(x):
            refuse_lazy(
                "convolve", x, "Dask has no convolve (its fallback would compute the array)"
            )
    return np.convolve(a, v, "full")


def _same_kind(c, primal):
    """A cotangent made real where its primal is real."""
    return real(c) if is_complex(c) and not is_complex(primal) else c


def _convolve_vjp_a(g, ans, a, v):
    n, m = shape_of(a)[0], shape_of(v)[0]
    return _same_kind(_convolve(g, v[::-1])[m - 1 : m - 1 + n], a)


def _convolve_vjp_v(g, ans, a, v):
    n, m = shape_of(a)[0], shape_of(v)[0]
    return _same_kind(_convolve(g, a[::-1])[n - 1 : n - 1 + m], v)


_convolve = Primitive(_convolve_impl, "convolve")
_convolve.defvjp(_convolve_vjp_a, _convolve_vjp_v)
_convolve.defjvp(lambda t, ans, a, v: _convolve(t, v), lambda t, ans, a, v: _convolve(a, t))
_convolve_loop = loop(_convolve)
# Above this many window entries in all (batch x output length x shorter length), a batch
# is convolved member by member instead.
_WINDOW_LIMIT = 1 << 22


def _convolve_batch(batched, a, v):
    """Full convolutions of a batch at once, as matrix products: each output entry is a
    window of the longer sequence (zero-padded) times the shorter one reversed."""
    n, m = shape_of(a)[-1], shape_of(v)[-1]
    if n < m:  # convolution commutes: windows of the longer one
        a, v, n, m, batched = v, a, m, n, batched[::-1]
    size = batch_size((a, v), batched)
    if size * (n + m - 1) * m > _WINDOW_LIMIT:
        return _convolve_loop(batched, a, v)
    if m > 1:
        pad = full_shaped(a, 0, (*shape_of(a)[:-1], m - 1))
        a = concatenate([pad, a, pad], axis=-1)
    index = asarray(np.arange(n + m - 1)[:, None] + np.arange(m), like=index_like(a))
    windows = a[:, index] if batched[0] else a[index]
    v_reversed = v[..., ::-1]
    if not batched[1]:
        return matmul(windows, v_reversed)
    if not batched[0]:
        return matmul(v_reversed, transpose(windows))
    return matmul(windows, reshape(v_reversed, (size, m, 1)))[..., 0]


_convolve.defbatch(_convolve_batch)


def _crop(full, n: int, m: int, mode: str, start_same: int):
    if mode == "full":
        return full
    if mode == "same":
        return full[start_same : start_same + max(n, m)]
    if mode == "valid":
        start = min(n, m) - 1
        return full[start : start + max(n, m) - min(n, m) + 1]
    raise ValueError(f"wengert.numpy: mode must be 'full', 'same' or 'valid', not {mode!r}")


def _vectors(a, v, name):
    a, v = atleast_1d(_as_array(a)), atleast_1d(_as_array(v))
    n, m = shape_of(a)[0], shape_of(v)[0]
    if len(shape_of(a)) != 1 or len(shape_of(v)) != 1:
        raise ValueError(f"wengert.numpy.{name}: object too deep for desired array")
    if n == 0 or m == 0:
        raise ValueError(f"wengert.numpy.{name}: inputs cannot be empty")
    return a, v, n, m


def convolve(a: Any, v: Any, mode: str = "full") -> Any:
    """Discrete linear convolution of two 1-d sequences ('full', 'same' or 'valid').

    Differentiable in both sequences.

    >>> import wengert.numpy as wnp
    >>> wnp.convolve(wnp.array([1.0, 2.0]), wnp.array([1.0, 1.0, 1.0]))
    array([1., 3., 3., 2.])
    """
    if not _traced(a, v):
        return np.convolve(a, v, mode)
    a, v, n, m = _vectors(a, v, "convolve")
    return _crop(_convolve(a, v), n, m, mode, (min(n, m) - 1) // 2)


def correlate(a: Any, v: Any, mode: str = "valid") -> Any:
    """Cross-correlation of two 1-d sequences, ``c[k] = sum_n a[n + k] conj(v[n])``.

    >>> import wengert.numpy as wnp
    >>> wnp.correlate(wnp.array([1.0, 2.0, 3.0]), wnp.array([0.0, 1.0]), "full")
    array([1., 2., 3., 0.])
    """
    if not _traced(a, v):
        return np.correlate(a, v, mode)
    a, v, n, m = _vectors(a, v, "correlate")
    if is_complex(v):
        v = conj(v)
    start_same = (m - 1) // 2 if n >= m else n // 2
    return _crop(_convolve(a, v[::-1]), n, m, mode, start_same)


# --- sinc ---------------------------------------------------------------------------------


def _sinc_impl(x, order=0):
    """The `order`-th derivative of sin(pi x) / (pi x).

    Near zero from its Maclaurin series, elsewhere from Leibniz's rule on sin(u) * (1/u).
    """
    if order == 0:
        return np.sinc(x)
    x = asarray(x)
    u = np.pi * x.astype(np.result_type(x, 0.0))
    small = np.abs(u) < 2.0
    us = np.where(small, u, 0.0)
    series = np.zeros_like(u)
    first = (order + 1) // 2
    for n in range(first, first + 20):
        power = 2 * n - order
        series = series + (-1) ** n * us**power / ((2 * n + 1) * math.factorial(power))
    ul = np.where(small, 2.0, u)
    leibniz = np.zeros_like(u)
    for j in range(order + 1):
        rest = order - j
        leibniz = leibniz + (
            math.comb(order, j)
            * np.sin(ul + j * np.pi / 2)
            * (-1) ** rest
            * math.factorial(rest)
            / ul ** (rest + 1)
        )
    out = np.where(small, series, leibniz) * np.pi**order
    return out[()] if out.ndim == 0 else out


_sinc = Primitive(_sinc_impl, "sinc", elementwise=True)
_sinc.defvjp(lambda g, ans, x, order=0: g * _sinc(x, order=order + 1))
_sinc.defjvp(lambda t, ans, x, order=0: t * _sinc(x, order=order + 1))


def sinc(x: Any) -> Any:
    """The normalized sinc function sin(pi x) / (pi x), equal to 1 at 0.

    Derivatives of every order are exact at and near zero (sinc'(0) = 0,
    sinc''(0) = -pi**2 / 3).

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> round(float(wg.grad(wg.grad(wnp.sinc))(0.0)), 10)
    -3.2898681337
    """
    return _sinc(x, order=0)


# --- interpolation ------------------------------------------------------------------------


def _safe(d):
    return where(d == 0, 1.0, d)


def _locate_impl(x, xp):
    """Where the query points `x` lie among the sorted knots `xp`: below the first, above
    the last, the index of the last knot at or before each (-1 before the first), and
    whether it is on that knot."""
    if type(xp) is np.ndarray and type(x) is not np.ndarray and is_foreign_array(x):
        xp = asarray(xp, like=x)  # (Dask searches knots of its own kind only)
    knot = np.searchsorted(xp, x, side="right") - 1
    on_knot = (knot >= 0) & (xp[np.clip(knot, 0, len(xp) - 1)] == x)
    return x < xp[0], x > xp[-1], knot, on_knot


# Piecewise constant: no derivative. A batch of query points with shared knots is located
# at once (each point on its own); a batch of knots, member by member.
_locate = nondiff(_locate_impl, "interp_locate")
_locate_loop = loop(_locate)


def _locate_batch(batched, x, xp):
    if batched[1]:
        return _locate_loop(batched, x, xp)
    return _locate(x, xp)


_locate.defbatch(_locate_batch)


def _interp(x, xp, fp, left, right):
    n = shape_of(xp)[0]
    below, above, knot, at_knot = _locate(x, xp)
    low = fp[0] if left is None else left
    high = fp[-1] if right is None else right
    if n == 1:
        inside = fp[0] + full_shaped(fp, 0, shape_of(x))
    else:
        j = clip(knot, 0, n - 2)
        x0, y0 = take_index(xp, j), take_index(fp, j)
        slope = (take_index(fp, j + 1) - y0) / _safe(take_index(xp, j + 1) - x0)
        inside = slope * (x - x0) + y0
        if any_value(at_knot, undecided=True):  # in any member of a batch: same result either way
            # At a knot the derivative in x is the mean of the slopes on both sides (zero
            # outside the range of xp); the value is fp at the knot.
            k = clip(knot, 0, n - 1)
            slopes = (fp[1:] - fp[:-1]) / _safe(xp[1:] - xp[:-1])
            zero = full_shaped(slopes, 0, (1,))
            slopes = concatenate([zero, slopes, zero])
            mean_slope = (take_index(slopes, k) + take_index(slopes, k + 1)) * 0.5
            on_knot = take_index(fp, k) + (x - take_index(xp, k)) * mean_slope
            inside = where(at_knot, on_knot, inside)
    return where(below, low, where(above, high, inside))


def interp(
    x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None, period: Any = None
) -> Any:
    """Piecewise-linear interpolation of the points (xp, fp) at `x`.

    Differentiable in the query points `x`, the values `fp`, the knots `xp`, and in
    `left` and `right`. At a knot, where the slope jumps, the derivative in `x` is the
    mean of the slopes on both sides (outside the range of `xp` the slope is zero), as
    for other kinks (``abs`` at 0, ``maximum`` at ties).

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> xp, fp = wnp.array([0.0, 1.0, 2.0]), wnp.array([0.0, 1.0, 3.0])
    >>> wg.grad(lambda x: wnp.interp(x, xp, fp))(1.0)
    1.5
    """
    if not _traced(x, xp, fp, left, right, period):
        return np.interp(x, xp, fp, left, right, period)
    x, xp, fp = _as_array(x), _as_array(xp), _as_array(fp)
    # NumPy's promotion of the arguments (np.interp itself always computes in double).
    dtype = np.result_type(peek(x), peek(xp), peek(fp), np.float16)
    if len(shape_of(xp)) != 1 or len(shape_of(fp)) != 1:
        raise ValueError("wengert.numpy.interp: xp and fp must be 1-d sequences")
    if shape_of(xp) != shape_of(fp):
        raise ValueError("wengert.numpy.interp: fp and xp are not of the same length")
    if shape_of(xp)[0] == 0:
        raise ValueError("wengert.numpy.interp: array of sample points is empty")
    if period is not None:
        if any_value(period == 0):  # refused for every member of a batch
            raise ValueError("wengert.numpy.interp: period must be a non-zero value")
        period = abs(period)
        x = mod(x, period)
        xp = mod(xp, period)
        order = argsort(xp)
        xp, fp = take_index(xp, order), take_index(fp, order)
        xp = concatenate([xp[-1:] - period, xp, xp[0:1] + period])
        fp = concatenate([fp[-1:], fp, fp[0:1]])
        left = right = None
    shape = shape_of(x)
    if is_lazy_array(peek(x)) and len(shape) > 1:  # (Dask indexes with 1-d integer arrays only)
        x = reshape(x, (-1,))
    out = _interp(x, xp, fp, left, right)
    if shape_of(out) != shape:
        out = reshape(out, shape)
    return out if np.result_type(peek(out)) == dtype else out.astype(dtype)


# --- phase unwrapping and integration -----------------------------------------------------


def unwrap(p: Any, discont: Any = None, axis: int = -1, *, period: float = 2 * np.pi) -> Any:
    """`p` with jumps larger than `discont` replaced by their complement modulo `period`.

    The corrections are piecewise constant, so the derivative is the identity.

    >>> import wengert.numpy as wnp
    >>> wnp.unwrap(wnp.array([0.0, 3.0, 6.5])).round(4)
    array([0.    , 3.    , 0.2168])
    """
    if not _traced(p, discont, period):
        return numpy_call(np.unwrap, p, discont, axis, period=period)
    p = _as_array(p)
    ndim = len(shape_of(p))
    axis = _axis(axis, ndim, "unwrap")
    correction = _unwrap_correction(p, discont, axis, period)
    head = p[_along(ndim, axis, slice(None, 1))]
    tail = p[_along(ndim, axis, slice(1, None))] + correction
    return concatenate([head, tail], axis=axis)


def _unwrap_correction_impl(p, discont, axis, period):
    """What unwrapping adds to the entries of `p` after the first along `axis`."""
    dd = np.diff(p, axis=axis)
    if discont is None:
        discont = period / 2
    high = period / 2
    ddmod = np.mod(dd + high, period) - high
    ddmod = np.where((ddmod == -high) & (dd > 0), high, ddmod)
    return np.where(np.abs(dd) < discont, 0.0, ddmod - dd).cumsum(axis)


# Piecewise constant in p: no derivative. A batch of p is one more axis in front.
_unwrap_correction = nondiff(_unwrap_correction_impl, "unwrap_correction")
_unwrap_correction_loop = loop(_unwrap_correction)


def _unwrap_correction_batch(batched, p, discont, axis, period):
    if any(batched[1:]):
        return _unwrap_correction_loop(batched, p, discont, axis, period)
    return _unwrap_correction(p, discont, axis + 1, period)


_unwrap_correction.defbatch(_unwrap_correction_batch)


def trapezoid(y: Any, x: Any = None, dx: Any = 1.0, axis: int = -1) -> Any:
    """Integral of `y` along `axis` by the trapezoidal rule, at points `x` or spacing `dx`.

    Differentiable in `y`, `x` and `dx`.

    >>> import wengert.numpy as wnp
    >>> wnp.trapezoid(wnp.array([1.0, 2.0, 3.0]), dx=0.5)
    2.0
    """
    if not _traced(y, x, dx):
        return getattr(np, "trapezoid", getattr(np, "trapz", None))(y, x, dx, axis)
    y = _as_array(y)
    ndim = len(shape_of(y))
    axis = _axis(axis, ndim, "trapezoid")
    if x is None:
        d = dx
    else:
        x = _as_array(x)
        if len(shape_of(x)) == 1:
            d = diff(x)
            shape = [1] * ndim
            shape[axis] = shape_of(d)[0]
            d = reshape(d, tuple(shape))
        else:
            d = diff(x, axis=axis)
    upper = y[_along(ndim, axis, slice(1, None))]
    lower = y[_along(ndim, axis, slice(None, -1))]
    return _red.sum(d * (upper + lower) / 2.0, axis=axis)


def _spacings(shape, axes, varargs):
    """The spacing along each axis: a scalar, or the differences of given coordinates
    (reduced to a scalar when they are all equal, as NumPy does for constant ones).

    Traced coordinates keep their differences even where they are equal: the formula for
    uneven spacing then gives the same values, and the derivative in every coordinate
    (the one for even spacing depends on the first two alone)."""
    if not varargs:
        return [1.0] * len(axes)
    if len(varargs) == 1 and len(shape_of(_as_array(varargs[0]))) == 0:
        return [varargs[0]] * len(axes)
    if len(varargs) != len(axes):
        raise TypeError("wengert.numpy.gradient: invalid number of arguments")
    out = []
    for ax, distances in zip(axes, varargs):
        if isinstance(distances, (int, float)):  # a number stays one (as NumPy computes)
            out.append(distances)
            continue
        distances = _as_array(distances)
        ndim = len(shape_of(distances))
        if ndim == 0:
            out.append(distances)
            continue
        if ndim != 1:
            raise ValueError("wengert.numpy.gradient: distances must be either scalars or 1d")
        if shape_of(distances)[0] != shape[ax]:
            raise ValueError(
                "wengert.numpy.gradient: when 1d, distances must match the length of the "
                "corresponding dimension"
            )
        if isinstance(distances, Box):
            out.append(distances[1:] - distances[:-1])
            continue
        if np.issubdtype(distances.dtype, np.integer):
            distances = distances.astype(np.float64)
        steps = distances[1:] - distances[:-1]
        out.append(steps[0] if np.all(steps == steps[0]) else steps)
    return out


def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    """Finite-difference derivative of sampled values along each axis: central differences
    inside, one-sided ones of `edge_order` at the ends (NumPy's formulas).

    Differentiable in the samples and in the spacings or coordinates.

    >>> import wengert.numpy as wnp
    >>> wnp.gradient(wnp.array([1.0, 4.0, 9.0, 16.0]), 2.0)
    array([1.5, 2. , 3. , 3.5])
    """
    if not _traced(f, *varargs):
        return numpy_call(np.gradient, f, *varargs, axis=axis, edge_order=edge_order)
    f = _as_array(f)
    shape = shape_of(f)
    ndim = len(shape)
    if axis is None:
        axes = tuple(range(ndim))
    else:
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
        axes = tuple(_axis(ax, ndim, "gradient") for ax in axes)
        if len(set(axes)) != len(axes):
            raise ValueError("wengert.numpy.gradient: repeated axis")
    spacings = _spacings(shape, axes, varargs)
    if edge_order not in (1, 2):
        raise ValueError("wengert.numpy.gradient: 'edge_order' must be 1 or 2")
    out = []
    for ax, dx in zip(axes, spacings):
        if shape[ax] < edge_order + 1:
            raise ValueError(
                "wengert.numpy.gradient: shape of array too small to calculate a numerical "
                "gradient, at least (edge_order + 1) elements are required."
            )

        def at(index, ax=ax):
            return f[_along(ndim, ax, index)]

        uniform = len(shape_of(dx)) == 0
        if uniform:
            inner = (at(slice(2, None)) - at(slice(None, -2))) / (2.0 * dx)
        else:
            dx1, dx2 = dx[0:-1], dx[1:]
            coefficients = (
                -(dx2) / (dx1 * (dx1 + dx2)),
                (dx2 - dx1) / (dx1 * dx2),
                dx1 / (dx2 * (dx1 + dx2)),
            )
            along = tuple(-1 if d == ax else 1 for d in range(ndim))
            a, b, c = (reshape(k, along) for k in coefficients)
            inner = a * at(slice(None, -2)) + b * at(slice(1, -1)) + c * at(slice(2, None))
        if edge_order == 1:
            first = (at(slice(1, 2)) - at(slice(0, 1))) / (dx if uniform else dx[0])
            last = (at(slice(-1, None)) - at(slice(-2, -1))) / (dx if uniform else dx[-1])
        else:
            if uniform:
                a, b, c = -1.5 / dx, 2.0 / dx, -0.5 / dx
            else:
                dx1, dx2 = dx[0], dx[1]
                a = -(2.0 * dx1 + dx2) / (dx1 * (dx1 + dx2))
                b = (dx1 + dx2) / (dx1 * dx2)
                c = -dx1 / (dx2 * (dx1 + dx2))
            first = a * at(slice(0, 1)) + b * at(slice(1, 2)) + c * at(slice(2, 3))
            if uniform:
                a, b, c = 0.5 / dx, -2.0 / dx, 1.5 / dx
            else:
                dx1, dx2 = dx[-2], dx[-1]
                a = (dx2) / (dx1 * (dx1 + dx2))
                b = -(dx2 + dx1) / (dx1 * dx2)
                c = (2.0 * dx2 + dx1) / (dx2 * (dx1 + dx2))
            last = a * at(slice(-3, -2)) + b * at(slice(-2, -1)) + c * at(slice(-1, None))
        out.append(concatenate([first, inner, last], axis=ax))
    return out[0] if len(axes) == 1 else tuple(out)


# --- polynomials --------------------------------------------------------------------------


def polyval(p: Any, x: Any) -> Any:
    """The polynomial with coefficients `p` (highest power first) at `x`, by Horner's rule.

    Differentiable in the coefficients and in `x`.

    >>> import wengert.numpy as wnp
    >>> wnp.polyval(wnp.array([1.0, 0.0, -1.0]), wnp.array([2.0, 3.0]))
    array([3., 8.])
    """
    if not _traced(p, x):
        return np.polyval(p, x)
    p, x = _as_array(p, like=x), _as_array(x, like=p)
    dtype = np.result_type(peek(x), peek(p), 0.0)
    y = full_shaped(p if is_foreign_array(peek(p)) else x, 0, shape_of(x), dtype)
    for coefficient in p:
        y = y * x + coefficient
    return y


def _pad_front(a, length):
    n = shape_of(a)[0]
    if n >= length:
        return a
    return concatenate([full_shaped(a, 0, (length - n,)), a])


def polyadd(a1: Any, a2: Any) -> Any:
    """Sum of two polynomials (coefficient arrays, highest power first).

    >>> import wengert.numpy as wnp
    >>> wnp.polyadd(wnp.array([1.0, 2.0]), wnp.array([1.0, 0.0, 0.0]))
    array([1., 1., 2.])
    """
    if not _traced(a1, a2):
        return np.polyadd(a1, a2)
    a1, a2 = atleast_1d(_as_array(a1)), atleast_1d(_as_array(a2))
    length = max(shape_of(a1)[0], shape_of(a2)[0])
    return _pad_front(a1, length) + _pad_front(a2, length)


def polysub(a1: Any, a2: Any) -> Any:
    """Difference of two polynomials.

    >>> import wengert.numpy as wnp
    >>> wnp.polysub(wnp.array([1.0, 2.0]), wnp.array([1.0, 0.0, 0.0]))
    array([-1.,  1.,  2.])
    """
    if not _traced(a1, a2):
        return np.polysub(a1, a2)
    a1, a2 = atleast_1d(_as_array(a1)), atleast_1d(_as_array(a2))
    length = max(shape_of(a1)[0], shape_of(a2)[0])
    return _pad_front(a1, length) - _pad_front(a2, length)


def polymul(a1: Any, a2: Any) -> Any:
    """Product of two polynomials (the convolution of their coefficients).

    >>> import wengert.numpy as wnp
    >>> wnp.polymul(wnp.array([1.0, 1.0]), wnp.array([1.0, -1.0]))
    array([ 1.,  0., -1.])
    """
    if not _traced(a1, a2):
        return np.polymul(a1, a2)
    return convolve(a1, a2)


def polyder(p: Any, m: int = 1) -> Any:
    """The m-th derivative of the polynomial `p`.

    >>> import wengert.numpy as wnp
    >>> wnp.polyder(wnp.array([1.0, 1.0, 1.0]))
    array([2., 1.])
    """
    if not _traced(p):
        return np.polyder(p, m)
    m = int(m)
    if m < 0:
        raise ValueError("wengert.numpy.polyder: order of derivative must be positive")
    p = _as_array(p)
    real_dtype = np.finfo(np.result_type(peek(p), np.float16)).dtype  # keeps float32
    for _ in range(m):
        n = shape_of(p)[0] - 1
        p = p[:-1] * np.arange(n, 0, -1, dtype=real_dtype, like=foreign_of(p))
    return p


def polyint(p: Any, m: int = 1, k: Any = None) -> Any:
    """The m-th antiderivative of the polynomial `p`, with integration constants `k`
    (differentiable in `p` and `k`).

    >>> import wengert.numpy as wnp
    >>> wnp.polyint(wnp.array([3.0, 2.0]), k=5.0)
    array([1.5, 2. , 5. ])
    """
    if not _traced(p, k):
        return np.polyint(p, m, k)
    m = int(m)
    if m < 0:
        raise ValueError("wengert.numpy.polyint: order of integral must be positive")
    p = _as_array(p)
    # The coefficients' precision (float32 stays float32), joined by that of k if given.
    dtype = np.result_type(peek(p), np.float16) if k is None else None
    like = foreign_of(p, k)
    k = np.zeros(m, dtype=dtype, like=like) if k is None else atleast_1d(_as_array(k, like=p))
    dtype = np.result_type(peek(p), peek(k), np.float16)
    real_dtype = np.finfo(dtype).dtype
    if shape_of(k)[0] == 1 and m > 1:
        k = k[0] * np.ones(m, dtype=real_dtype, like=like)
    if shape_of(k)[0] < m:
        raise ValueError(
            "wengert.numpy.polyint: k must be a scalar or a rank-1 array of length 1 or >m."
        )
    for i in range(m):
        steps = np.arange(shape_of(p)[0], 0, -1, dtype=real_dtype, like=like)
        p = concatenate([p / steps, reshape(k[i], (1,))])
    return p


def vander(x: Any, N: int | None = None, increasing: bool = False) -> Any:
    """The Vandermonde matrix: columns are powers of `x` (decreasing unless `increasing`).

    Built by cumulative products, so it is exact at x = 0.

    >>> import wengert.numpy as wnp
    >>> wnp.vander(wnp.array([2.0, 3.0]), 3)
    array([[4., 2., 1.],
           [9., 3., 1.]])
    """
    if not isinstance(x, Box):
        return np.vander(x, N, increasing)
    if x.ndim != 1:
        raise ValueError("wengert.numpy.vander: x must be a one-dimensional array or sequence.")
    n = x.shape[0]
    N = n if N is None else int(N)
    ones = full_shaped(x, 1, (n, min(N, 1)))
    if N > 1:
        powers = cumprod(reshape(x, (n, 1)) * full_shaped(x, 1, (1, N - 1)), axis=1)
        out = concatenate([ones, powers], axis=1)
    else:
        out = ones
    return out if increasing else flip(out, 1)


__all__ = [
    "convolve",
    "correlate",
    "gradient",
    "interp",
    "polyadd",
    "polyder",
    "polyint",
    "polymul",
    "polysub",
    "polyval",
    "sinc",
    "trapezoid",
    "unwrap",
    "vander",
]

# Generated source (Program.source) computes these primitives with their implementations,
# copied (they use NumPy alone), or with the public function that they call.
_convolve.defsource(_convolve_impl)
_sinc.defsource(_sinc_impl)
_locate.defsource(_locate_impl)
_unwrap_correction.defsource(_unwrap_correction_impl)

# Lists and tuples holding traced values are read as arrays by the public functions.
accept_array_likes(globals(), __all__)
