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
"""

from __future__ import annotations

import numpy as np
import scipy.signal as ss

from .. import numpy as wnp
from .._core.batching import loop
from .._core.box import Box, peek
from .._core.primitive import Primitive
from .._core.vspace import inexact_dtype, shape_of

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
    return wnp.index_update(np.zeros(full, dtype=inexact_dtype(peek(g))), index, g)


def _convolve_impl(a, b, mode="full", method="auto"):
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


def convolve(in1, in2, mode: str = "full", method: str = "auto"):
    """The N-dimensional convolution of in1 and in2, differentiable in both.

    >>> import numpy as np
    >>> convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
    array([0. , 1. , 2.5, 4. , 1.5])
    """
    _check("convolve", in1, in2, mode, method)
    return _convolve(in1, in2, mode=mode, method=method)


def correlate(in1, in2, mode: str = "full", method: str = "auto"):
    """The N-dimensional cross-correlation of in1 and in2, differentiable in both.

    It is the convolution of in1 with in2 flipped (and conjugated, if complex).

    >>> import numpy as np
    >>> correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]), mode="same")
    array([2. , 3.5, 3. ])
    """
    _check("correlate", in1, in2, mode, method)
    in2 = in2 if isinstance(in2, Box) else np.asarray(in2)
    kernel = wnp.conj(in2) if np.iscomplexobj(peek(in2)) else in2
    return _convolve(in1, _flip(kernel), mode=mode, method=method)


__all__ = ["convolve", "correlate"]

# Generated source (Program.source) computes these primitives with their implementations,
# copied (they use NumPy alone), or with the public function that they call.
_convolve.defsource(_convolve_impl)
