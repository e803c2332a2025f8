"""logsumexp, softmax and log_softmax along an axis: one primitive each, computed without
overflow, shared by `wengert.nn.functional` and `wengert.scipy.special` (which differ only
in their defaults and extra arguments). No SciPy needed.

Complex input follows SciPy: the maximum subtracted for stability is that of the real
parts, and logsumexp of complex terms is the complex logarithm of their sum.
"""

from __future__ import annotations

import numpy as np

from .._core.batching import along_axis
from .._core.box import shape_of
from .._core.primitive import Primitive
from .._core.vspace import asarray
from .elementwise import exp
from .reductions import sum as _sum
from .shaping import expand_dims, reshape


def _shift(x, axis):
    """The largest real part along `axis` (kept), 0 where it is not finite."""
    m = np.max(np.real(x), axis=axis, keepdims=True) if x.size else np.zeros((), like=x)
    return np.where(np.isfinite(m), m, 0)


def _logsumexp_impl(x, axis=None, keepdims=False):
    x = asarray(x)
    m = _shift(x, axis)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    out = out.astype(np.result_type(x, np.float16), copy=False)
    return out if keepdims else np.squeeze(out, axis=axis)


def _kept(a, x, axis, keepdims):
    """A reduction's result `a` with the reduced axes kept (as length 1)."""
    if keepdims:
        return a
    if axis is None:
        return reshape(a, (1,) * len(shape_of(x)))
    return expand_dims(a, axis)


logsumexp = Primitive(_logsumexp_impl, "logsumexp")
logsumexp.defbatch(along_axis(logsumexp, 1))
logsumexp.defvjp(
    lambda g, ans, x, axis=None, keepdims=False: (
        _kept(g, x, axis, keepdims) * exp(x - _kept(ans, x, axis, keepdims))
    )
)
logsumexp.defjvp(
    lambda t, ans, x, axis=None, keepdims=False: _sum(
        t * exp(x - _kept(ans, x, axis, keepdims)), axis=axis, keepdims=keepdims
    )
)


def _softmax_impl(x, axis=None):
    x = asarray(x)
    e = np.exp(x - _shift(x, axis))
    return (e / np.sum(e, axis=axis, keepdims=True)).astype(np.result_type(x, np.float16))


def _log_softmax_impl(x, axis=None):
    x = asarray(x)
    return (x - _logsumexp_impl(x, axis=axis, keepdims=True)).astype(np.result_type(x, np.float16))


softmax = Primitive(_softmax_impl, "softmax")
softmax.defbatch(along_axis(softmax, 1))
softmax.defvjp(lambda g, ans, x, axis=None: ans * (g - _sum(g * ans, axis=axis, keepdims=True)))
softmax.defjvp(lambda t, ans, x, axis=None: ans * (t - _sum(t * ans, axis=axis, keepdims=True)))

log_softmax = Primitive(_log_softmax_impl, "log_softmax")
log_softmax.defbatch(along_axis(log_softmax, 1))
log_softmax.defvjp(lambda g, ans, x, axis=None: g - exp(ans) * _sum(g, axis=axis, keepdims=True))
log_softmax.defjvp(lambda t, ans, x, axis=None: t - _sum(exp(ans) * t, axis=axis, keepdims=True))

# Generated source (Program.source) computes these primitives with their implementations,
# copied (they use NumPy alone), or with the public function that they call.
logsumexp.defsource(_logsumexp_impl)
softmax.defsource(_softmax_impl)
log_softmax.defsource(_log_softmax_impl)
