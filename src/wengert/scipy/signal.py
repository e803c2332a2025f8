"""Differentiable `scipy.signal.convolve` and `correlate`, N-dimensional, every mode.

Convolution is bilinear: its forward rule convolves one tangent at a time, and its
reverse rule places the cotangent inside the full output and convolves it with the other
input flipped along every axis ('valid' mode): a correlation. 'same' and 'valid' outputs
are centred slices of the full one, so one rule serves every mode, and both methods
('direct', 'fft', 'auto') share it. All orders follow, since the rules call the
primitive itself.

>>> import numpy as np
>>> import wengert as wg
>>> wg.grad(lambda a: convolve(a, np.array([1.0, 2.0]))[1])(np.array([3.0, 4.0]))
array([2., 1.])

`convolve` also takes HIPS autograd's keywords ``axes=`` and ``dot_axes=``: it then
convolves along chosen pairs of axes and sums products over other pairs, a separate
primitive (`convolve_axes`) whose rules are convolutions of the same kind.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.signal as ss

from .. import numpy as wnp
from .._core.batching import loop
from .._core.box import peek
from .._core.primitive import Primitive
from .._core.vspace import asarray, foreign_of, full_shaped, inexact_dtype, shape_of

_MODES = ("full", "same", "valid")


def _flip(x):
    """x reversed along every axis."""
    return x[(slice(None, None, -1),) * len(shape_of(x))]


def _in_full(g, a, b, mode: str):
    """The cotangent of a `mode` output, placed at its spot inside the full output."""
    if mode == "full":
        return g
    full = tuple(n + m - 1 for n, m in zip(shape_of(a), shape_of(b)))
    start = [(f - n) // 2 for f, n in zip(full, shape_of(g))]
    index = tuple(slice(s, s + n) for s, n in zip(start, shape_of(g)))
    return wnp.index_update(full_shaped(g, 0, full, inexact_dtype(peek(g))), index, g)


def _convolve_impl(a, b, mode="full", method="auto"):
    if foreign_of(a, b) is not None:
        # Arrays of another library (CuPy), which SciPy reads as NumPy's: the direct sum
        # over windows, in NumPy's protocols (every axis convolved, none summed).
        every = tuple(range(np.ndim(a)))
        return _convolve_axes_impl(a, b, (every, every), ((), ()), mode)
    return ss.convolve(a, b, mode=mode, method=method)


def _convolve_vjp(g, ans, argnums, a, b, mode="full", method="auto"):
    g = _in_full(g, a, b, mode)
    other = {0: b, 1: a}
    return [_convolve(g, _flip(other[i]), mode="valid", method=method) for i in argnums]


def _convolve_jvp(tangents, ans, a, b, mode="full", method="auto"):
    ta, tb = tangents
    out = None if ta is None else _convolve(ta, b, mode=mode, method=method)
    if tb is not None:
        term = _convolve(a, tb, mode=mode, method=method)
        out = term if out is None else out + term
    return out


_convolve = Primitive(_convolve_impl, "convolve")
_convolve.defvjp_all(_convolve_vjp)
_convolve.defjvp_all(_convolve_jvp)
_convolve_loop = loop(_convolve)


def _convolve_batch(batched, a, b, mode="full", method="auto"):
    """A batch convolved with a shared input at once: the shared one gets a unit axis in
    front, so the batch axis is convolved with a single entry and members never mix. The
    'same' and 'valid' outputs are cut from the full one (their sizes along the batch
    axis would differ). Two batches are convolved member by member."""
    shapes = tuple(shape_of(x)[1:] if on else shape_of(x) for x, on in zip((a, b), batched))
    bigger = {n >= m for n, m in zip(*shapes) if n != m}
    if (batched[0] and batched[1]) or (mode == "valid" and len(bigger) > 1):
        # (SciPy refuses 'valid' when neither input is at least as large in every axis.)
        return _convolve_loop(batched, a, b, mode=mode, method=method)
    if batched[0]:
        b = wnp.reshape(b, (1, *shape_of(b)))
    else:
        a = wnp.reshape(a, (1, *shape_of(a)))
    full = _convolve(a, b, mode="full", method=method)
    if mode == "full":
        return full
    if mode == "same":
        lengths = shapes[0]
    else:
        lengths = tuple(abs(n - m) + 1 for n, m in zip(*shapes))
    starts = [(f - n) // 2 for f, n in zip(shape_of(full)[1:], lengths)]
    return full[(slice(None), *(slice(s, s + n) for s, n in zip(starts, lengths)))]


_convolve.defbatch(_convolve_batch)


# --- autograd's form: convolution along chosen axes, a tensor dot over others ------------
#
# convolve(A, B, axes=(conv_A, conv_B), dot_axes=(dot_A, dot_B), mode) convolves A and B
# along the paired axes conv_A[k] and conv_B[k], multiplies along the paired dot axes and
# sums over them; the other axes of each are kept. The result's axes are A's kept axes,
# then B's kept axes (each in increasing order), then the convolved axes in pair order:
# HIPS autograd's `autograd.scipy.signal.convolve`. Along each convolved pair, 'full',
# 'same' (the size of A's axis) and 'valid' are those of scipy.signal.convolve.


def _kept(ndim: int, conv: tuple, dot: tuple) -> tuple:
    """The axes of an operand that are neither convolved nor summed, in increasing order."""
    return tuple(i for i in range(ndim) if i not in conv and i not in dot)


def _convolve_axes_impl(a, b, axes, dot_axes, mode="full"):
    a, b = asarray(a, like=b), asarray(b, like=a)
    (a_conv, b_conv), (a_dot, b_dot) = axes, dot_axes
    a = np.transpose(a, _kept(a.ndim, a_conv, a_dot) + a_dot + a_conv)
    b = np.transpose(b, _kept(b.ndim, b_conv, b_dot) + b_dot + b_conv)
    k, nd = len(a_conv), len(a_dot)
    sizes_a, sizes_b = a.shape[a.ndim - k :], b.shape[b.ndim - k :]
    # Windows slide over x; y is the flipped kernel. In 'valid' mode the larger operand
    # is x (convolution is symmetric, so the values are the same either way).
    swap = mode == "valid" and any(m > n for n, m in zip(sizes_a, sizes_b))
    x, y = (b, a) if swap else (a, b)
    sizes_y = y.shape[y.ndim - k :]
    if mode != "valid":
        widths = [(0, 0)] * (x.ndim - k)
        for m in sizes_y:  # 'same' keeps the centre of the full output (SciPy's choice)
            widths.append((m - 1 - (m - 1) // 2, (m - 1) // 2) if mode == "same" else (m - 1,) * 2)
        x = np.pad(x, widths)
    windows = np.lib.stride_tricks.sliding_window_view(
        x, sizes_y, axis=tuple(range(x.ndim - k, x.ndim))
    )
    y = y[(Ellipsis,) + (slice(None, None, -1),) * k]
    kx, ky = x.ndim - k - nd, y.ndim - k - nd
    kept_x = list(range(kx))
    kept_y = list(range(kx, kx + ky))
    dot = list(range(kx + ky, kx + ky + nd))
    out = list(range(kx + ky + nd, kx + ky + nd + k))
    window = list(range(kx + ky + nd + k, kx + ky + nd + 2 * k))
    result = np.einsum(
        windows,
        kept_x + dot + out + window,
        y,
        kept_y + dot + window,
        kept_x + kept_y + out,
        optimize=True,
    )
    if swap:  # B's kept axes came first
        order = list(range(ky, ky + kx)) + list(range(ky)) + list(range(kx + ky, result.ndim))
        result = np.transpose(result, order)
    return result


def _convolve_axes_vjp(g, ans, argnums, a, b, axes, dot_axes, mode="full"):
    """Each cotangent is a 'valid' convolution of the output cotangent, placed inside the
    full output, with the other operand flipped along its convolved axes; the other
    operand's kept axes are summed against the output's, and its dot axes stay."""
    ndim_a, ndim_b = len(shape_of(a)), len(shape_of(b))
    (a_conv, b_conv), (a_dot, b_dot) = axes, dot_axes
    a_kept, b_kept = _kept(ndim_a, a_conv, a_dot), _kept(ndim_b, b_conv, b_dot)
    ka, kb, k = len(a_kept), len(b_kept), len(a_conv)
    out_a, out_b = tuple(range(ka)), tuple(range(ka, ka + kb))
    out_conv = tuple(range(ka + kb, ka + kb + k))
    widths = [(0, 0)] * (ka + kb)
    for ax_a, ax_b, n in zip(a_conv, b_conv, shape_of(g)[ka + kb :]):
        full = shape_of(a)[ax_a] + shape_of(b)[ax_b] - 1
        start = (full - n) // 2
        widths.append((start, full - n - start))
    if any(w != (0, 0) for w in widths):
        g = wnp.pad(g, widths)
    # For each argument: the other operand, its convolved and dot axes, the output axes
    # it keeps, and this argument's kept, dot and convolved axes.
    operands = {
        0: (b, b_conv, b_dot, out_b, a_kept, a_dot, a_conv),
        1: (a, a_conv, a_dot, out_a, b_kept, b_dot, b_conv),
    }
    cotangents = []
    for i in argnums:
        other, o_conv, o_dot, out_other, kept, dot, conv = operands[i]
        o_kept = _kept(len(shape_of(other)), o_conv, o_dot)
        raw = _convolve_axes(
            g,
            wnp.flip(other, axis=o_conv) if o_conv else other,
            axes=(out_conv, o_conv),
            dot_axes=(out_other, o_kept),
            mode="valid",
        )
        # raw's axes: this operand's kept axes, the other's dot axes in increasing order
        # (paired with this operand's dot axes), then the convolved ones.
        paired = tuple(dot[o_dot.index(d)] for d in sorted(o_dot))
        order = tuple(int(j) for j in np.argsort(kept + paired + conv))
        cotangents.append(wnp.transpose(raw, order))
    return cotangents


_convolve_axes = Primitive(_convolve_axes_impl, "convolve_axes")
_convolve_axes.defvjp_all(_convolve_axes_vjp)
# Bilinear: each tangent goes through the product with the other operand; the engine sums.
_convolve_axes.defjvp(
    lambda t, ans, a, b, **kw: _convolve_axes(t, b, **kw),
    lambda t, ans, a, b, **kw: _convolve_axes(a, t, **kw),
)
_convolve_axes_loop = loop(_convolve_axes)


def _convolve_axes_batch(batched, a, b, axes, dot_axes, mode="full"):
    """A batch against a shared operand: the batch axis is one more kept axis of its
    operand. Two batches are convolved member by member."""
    if batched[0] and batched[1]:
        return _convolve_axes_loop(batched, a, b, axes=axes, dot_axes=dot_axes, mode=mode)
    (a_conv, b_conv), (a_dot, b_dot) = axes, dot_axes

    def shift(t):
        return tuple(i + 1 for i in t)

    if batched[0]:
        axes, dot_axes = (shift(a_conv), b_conv), (shift(a_dot), b_dot)
        return _convolve_axes(a, b, axes=axes, dot_axes=dot_axes, mode=mode)
    axes, dot_axes = (a_conv, shift(b_conv)), (a_dot, shift(b_dot))
    out = _convolve_axes(a, b, axes=axes, dot_axes=dot_axes, mode=mode)
    first = len(_kept(len(shape_of(a)), a_conv, a_dot))
    return wnp.moveaxis(out, first, 0) if first else out


_convolve_axes.defbatch(_convolve_axes_batch)


def _axis_tuple(name: str, value, ndim: int, which: str) -> tuple:
    try:
        axes = tuple(int(i) for i in value)
    except TypeError:
        raise TypeError(
            f"convolve: {name} must be a pair of sequences of axes, one for each input "
            f"(as autograd's convolve takes); got {value!r} for {which}"
        ) from None
    for i in axes:
        if not -ndim <= i < ndim:
            raise ValueError(
                f"convolve: {name} names axis {i} of {which}, which has {ndim} dimensions"
            )
    return tuple(i % ndim for i in axes)


def _parse_axes(in1, in2, axes, dot_axes, mode: str) -> tuple:
    """autograd's (axes, dot_axes) checked, as tuples of non-negative axes."""
    shape_a, shape_b = shape_of(in1), shape_of(in2)
    ndim_a, ndim_b = len(shape_a), len(shape_b)
    if axes is None:  # autograd's default: every axis of A with the first ones of B
        if ndim_b < ndim_a:
            raise ValueError(
                f"convolve: with axes=None every axis of in1 is convolved with the same axis "
                f"of in2, but in1 has shape {shape_a} and in2 {shape_b}; pass axes="
            )
        axes = (range(ndim_a), range(ndim_a))
    if dot_axes is None:
        dot_axes = ((), ())
    pairs = []
    for name, value in (("axes", axes), ("dot_axes", dot_axes)):
        if isinstance(value, str) or not hasattr(value, "__len__") or len(value) != 2:
            raise TypeError(
                f"convolve: {name} must be a pair (axes of in1, axes of in2); got {value!r}"
            )
        first = _axis_tuple(name, value[0], ndim_a, "in1")
        second = _axis_tuple(name, value[1], ndim_b, "in2")
        if len(first) != len(second):
            raise ValueError(
                f"convolve: {name} pairs axes {first} of in1 with {second} of in2; give as "
                "many axes of each"
            )
        pairs.append((first, second))
    (a_conv, b_conv), (a_dot, b_dot) = pairs
    for used, which in ((a_conv + a_dot, "in1"), (b_conv + b_dot, "in2")):
        if len(set(used)) != len(used):
            raise ValueError(
                f"convolve: an axis of {which} appears twice among axes and dot_axes: {used}"
            )
    for i, j in zip(a_dot, b_dot):
        if shape_a[i] != shape_b[j]:
            raise ValueError(
                f"convolve: dot_axes pairs axis {i} of in1 (length {shape_a[i]}) with axis "
                f"{j} of in2 (length {shape_b[j]}); paired dot axes must have equal lengths"
            )
    if mode == "valid":
        sizes = [(shape_a[i], shape_b[j]) for i, j in zip(a_conv, b_conv)]
        if not (all(n >= m for n, m in sizes) or all(n <= m for n, m in sizes)):
            raise ValueError(
                "convolve: mode 'valid' needs one input at least as long as the other along "
                f"every convolved axis; got lengths {sizes}"
            )
    return tuple(pairs)


def _check(name: str, in1, in2, mode: str, method: str) -> None:
    if mode not in _MODES:
        raise ValueError(f"{name}: mode must be one of {_MODES}, got {mode!r}")
    if method not in ("auto", "direct", "fft"):
        raise ValueError(f"{name}: method must be 'auto', 'direct' or 'fft', got {method!r}")
    if len(shape_of(in1)) != len(shape_of(in2)):
        raise ValueError(
            f"{name}: in1 and in2 must have the same number of dimensions, got shapes "
            f"{shape_of(in1)} and {shape_of(in2)}"
        )


def convolve(
    in1: Any,
    in2: Any,
    mode: str = "full",
    method: str = "auto",
    *,
    axes: Any = None,
    dot_axes: Any = None,
) -> Any:
    """The N-dimensional convolution of in1 and in2, differentiable in both.

    With SciPy's arguments it is `scipy.signal.convolve`. With HIPS autograd's keywords
    ``axes=(axes of in1, axes of in2)`` and ``dot_axes=(axes of in1, axes of in2)`` it is
    `autograd.scipy.signal.convolve`: in1 and in2 are convolved along the paired `axes`
    (every axis of in1 with the same of in2 if None), multiplied and summed along the
    paired `dot_axes`; the result has in1's other axes, then in2's, then the convolved
    ones. `mode` applies along every convolved axis ('same': the length of in1's axis).

    >>> import numpy as np
    >>> convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
    array([0. , 1. , 2.5, 4. , 1.5])
    >>> images, kernels = np.ones((2, 3, 5)), np.ones((3, 4, 2))  # (n, channel, x), (channel, k, x)
    >>> convolve(images, kernels, axes=([2], [2]), dot_axes=([1], [0]), mode="valid").shape
    (2, 4, 4)
    """
    if not isinstance(mode, str):
        raise TypeError(
            f"convolve: mode must be 'full', 'same' or 'valid', got {mode!r}; autograd's axes "
            "and dot_axes are keyword arguments here: convolve(A, B, axes=..., dot_axes=...)"
        )
    if axes is None and dot_axes is None:
        _check("convolve", in1, in2, mode, method)
        return _convolve(in1, in2, mode=mode, method=method)
    if mode not in _MODES:
        raise ValueError(f"convolve: mode must be one of {_MODES}, got {mode!r}")
    if method not in ("auto", "direct"):
        raise ValueError(
            f"convolve: with axes= or dot_axes= the convolution is computed directly; method "
            f"must be 'auto' or 'direct', got {method!r}"
        )
    in1, in2 = asarray(in1, like=in2), asarray(in2, like=in1)
    axes, dot_axes = _parse_axes(in1, in2, axes, dot_axes, mode)
    return _convolve_axes(in1, in2, axes=axes, dot_axes=dot_axes, mode=mode)


def correlate(in1, in2, mode: str = "full", method: str = "auto"):
    """The N-dimensional cross-correlation of in1 and in2, differentiable in both.

    It is the convolution of in1 with in2 flipped (and conjugated, if complex).

    >>> import numpy as np
    >>> correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]), mode="same")
    array([2. , 3.5, 3. ])
    """
    _check("correlate", in1, in2, mode, method)
    in2 = asarray(in2, like=in1)
    kernel = wnp.conj(in2) if np.iscomplexobj(peek(in2)) else in2
    return _convolve(in1, _flip(kernel), mode=mode, method=method)


__all__ = ["convolve", "correlate"]

# Generated source (Program.source) computes these primitives with their implementations,
# copied (they use NumPy alone), or with the public function that they call.
_convolve.defsource(_convolve_impl)
_convolve_axes.defsource(_convolve_axes_impl)
