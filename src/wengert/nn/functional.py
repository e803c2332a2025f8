"""Neural-network functions: activations, convolution, pooling, normalisation and losses.

They take and return arrays, Variables or values traced by `grad`/`vjp`/`jvp` alike.
The primitives defined here (fused linear, ReLU, stable softmax and log-softmax,
convolution by im2col, pooling) carry both rules next to their implementation, written
with wengert's own functions so that derivatives of every order follow; the rest is
composed from them and `wengert.numpy`. Images are NCHW, as in PyTorch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import numpy as wnp
from .._core.batching import align, batch_size, spread
from .._core.box import Box, all_value, any_value, getval, peek
from .._core.define import nondiff, stop_gradient
from .._core.primitive import Primitive
from .._core.vspace import broadcast_to, shape_of
from ..numpy import _softmax as _softmax_module
from ..numpy._softmax import log_softmax as _log_softmax
from ..numpy._softmax import logsumexp as _logsumexp
from ..numpy._softmax import softmax as _softmax
from ..numpy.indexing import take_index
from . import _checks

__all__ = [
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv2d",
    "cross_entropy",
    "dropout",
    "embedding",
    "gelu",
    "huber_loss",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsumexp",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "normal_cdf",
    "one_hot",
    "relu",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "tanh",
]

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _float_dtype(x) -> np.dtype:
    """The floating dtype of results computed from `x` (float64 for Python numbers)."""
    return np.result_type(np.asarray(x).dtype, np.float16)


# --- linear ----------------------------------------------------------------------------


def _linear_impl(x, weight, bias=None):
    out = np.matmul(x, weight.T)
    if bias is not None:
        out += bias
    return out


def _rows(a, n: int):
    """`a` as a matrix of rows of length `n` (leading axes merged)."""
    return a if len(shape_of(a)) == 2 else wnp.reshape(a, (-1, n))


def _linear_vjp(g, ans, argnums, x, weight, bias=None):
    n_out, n_in = shape_of(weight)
    out = []
    for argnum in argnums:
        if argnum == 0:
            out.append(wnp.matmul(g, weight))
        elif argnum == 1:
            out.append(wnp.matmul(wnp.transpose(_rows(g, n_out)), _rows(x, n_in)))
        else:
            out.append(wnp.sum(_rows(g, n_out), axis=0))
    return out


def _linear_jvp(tangents, ans, x, weight, bias=None):
    tx, tw, tb = ([*list(tangents), None])[:3]
    total = None
    if tx is not None:
        total = _linear(tx, weight)
    if tw is not None:
        term = _linear(x, tw)
        total = term if total is None else total + term
    if tb is not None:
        total = broadcast_to(tb, shape_of(ans)) if total is None else total + tb
    return total


_linear = Primitive(_linear_impl, "linear")
_linear.defvjp_all(_linear_vjp)
_linear.defjvp_all(_linear_jvp)


def _linear_batch(batched, x, weight, bias=None):
    """Only x a batch (the common case, and every forward pass of per-example gradients):
    the primitive itself, the batch one more leading axis of x. A batch of weights (or
    biases): one product per member, by einsum."""
    bx, bw = batched[0], batched[1]
    bb = bias is not None and batched[2]
    if not bw and not bb:
        return _linear(x, weight) if bias is None else _linear(x, weight, bias)
    size = batch_size((x, weight, bias), batched)
    if not bw:
        weight = broadcast_to(weight, (size, *shape_of(weight)))
    out = wnp.einsum("b...i,boi->b...o" if bx else "...i,boi->b...o", x, weight)
    if bias is None:
        return out
    if bb:
        return out + align(bias, len(shape_of(out)) - 1)
    return out + bias


_linear.defbatch(_linear_batch)


def linear(x: Any, weight: Any, bias: Any = None) -> Any:
    """``x @ weight.T + bias``: the affine map of a dense layer (weight is (out, in)).

    One fused primitive, so a layer costs one node of the graph.

    >>> import numpy as np
    >>> from wengert.nn import functional as F
    >>> F.linear(np.ones((1, 2)), np.array([[1.0, 2.0]]), np.array([0.5]))
    array([[3.5]])
    """
    if bias is None:
        return _linear(x, weight)
    return _linear(x, weight, bias)


# --- activations -----------------------------------------------------------------------


def _relu_impl(x):
    return np.maximum(x, 0)


_relu = Primitive(_relu_impl, "relu", elementwise=True)
_relu.defvjp(lambda g, ans, x: g * (ans > 0))
_relu.defjvp(lambda t, ans, x: t * (ans > 0))


def relu(x: Any) -> Any:
    """max(x, 0), with derivative 0 at 0 (as PyTorch).

    >>> import numpy as np
    >>> from wengert.nn import functional as F
    >>> F.relu(np.array([-1.0, 2.0]))
    array([0., 2.])
    """
    return _relu(x)


def _leaky_impl(x, negative_slope=0.01):
    return np.where(x > 0, x, x * negative_slope)


def _leaky_scale(g, x, negative_slope):
    return wnp.where(x > 0, g, g * negative_slope)


_leaky_relu = Primitive(_leaky_impl, "leaky_relu", elementwise=True)
_leaky_relu.defvjp(lambda g, ans, x, negative_slope=0.01: _leaky_scale(g, x, negative_slope))
_leaky_relu.defjvp(lambda t, ans, x, negative_slope=0.01: _leaky_scale(t, x, negative_slope))


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Any:
    """x where x > 0, else negative_slope * x.

    >>> import numpy as np
    >>> from wengert.nn import functional as F
    >>> F.leaky_relu(np.array([-2.0, 3.0]), 0.1)
    array([-0.2,  3. ])
    """
    negative_slope = _checks.real(negative_slope, "negative_slope", "leaky_relu")
    return _leaky_relu(x, negative_slope=negative_slope)


def _sigmoid_impl(x):
    # exp of a non-positive number only: no overflow at either end.
    e = np.exp(-np.abs(x))
    return np.where(np.asarray(x) >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(
        _float_dtype(x), copy=False
    )


_sigmoid = Primitive(_sigmoid_impl, "sigmoid", elementwise=True)
_sigmoid.defvjp(lambda g, ans, x: g * (ans * (1.0 - ans)))
_sigmoid.defjvp(lambda t, ans, x: t * (ans * (1.0 - ans)))


def sigmoid(x: Any) -> Any:
    """The logistic function 1 / (1 + exp(-x)), computed without overflow.

    >>> from wengert.nn import functional as F
    >>> float(F.sigmoid(0.0))
    0.5
    """
    return _sigmoid(x)


def _softplus_impl(x):
    return np.logaddexp(0.0, x).astype(_float_dtype(x), copy=False)


_softplus = Primitive(_softplus_impl, "softplus", elementwise=True)
_softplus.defvjp(lambda g, ans, x: g * _sigmoid(x))
_softplus.defjvp(lambda t, ans, x: t * _sigmoid(x))


def softplus(x: Any) -> Any:
    """log(1 + exp(x)), computed without overflow; its derivative is sigmoid(x).

    >>> from wengert.nn import functional as F
    >>> round(float(F.softplus(0.0)), 6)
    0.693147
    """
    return _softplus(x)


def tanh(x: Any) -> Any:
    """The hyperbolic tangent (wengert.numpy.tanh).

    >>> from wengert.nn import functional as F
    >>> float(F.tanh(0.0))
    0.0
    """
    return wnp.tanh(x)


def silu(x: Any) -> Any:
    """x * sigmoid(x) (also called swish).

    >>> from wengert.nn import functional as F
    >>> float(F.silu(0.0))
    0.0
    """
    return x * _sigmoid(x)


def _erfc(x):
    try:
        from scipy.special import erfc
    except ImportError:  # exact but slower: one call of math.erfc per element
        return np.vectorize(math.erfc, otypes=[_float_dtype(x)])(x)
    return erfc(x)


def _normal_cdf_impl(x):
    x = np.asarray(x)
    return (0.5 * _erfc(-x / math.sqrt(2.0))).astype(_float_dtype(x), copy=False)


def _flat_beyond(x, bound: float):
    """`x` clipped to [-bound, bound], with derivative 0 outside, in the dtype of `x`."""
    return wnp.where(_within(x, bound), x, wnp.sign(x) * bound)


# Masks are constants, and under vmap each member's own.
_within = nondiff(lambda x, bound: np.abs(x) <= bound, "within", elementwise=True)


def _normal_pdf(x):
    # The density underflows to exactly 0 before |x| = 40; clipping there keeps x * x
    # finite, so the derivatives at +-inf are 0 rather than inf * 0 = NaN.
    x = _flat_beyond(x, 40.0)
    return wnp.exp(-0.5 * (x * x)) * _INV_SQRT_2PI


_normal_cdf = Primitive(_normal_cdf_impl, "normal_cdf", elementwise=True)
_normal_cdf.defvjp(lambda g, ans, x: g * _normal_pdf(x))
_normal_cdf.defjvp(lambda t, ans, x: t * _normal_pdf(x))


def normal_cdf(x: Any) -> Any:
    """The standard normal distribution function Phi(x) (uses SciPy's erfc when present).

    >>> from wengert.nn import functional as F
    >>> float(F.normal_cdf(0.0))
    0.5
    """
    return _normal_cdf(x)


def gelu(x: Any, approximate: str = "none") -> Any:
    """Gaussian error linear unit x * Phi(x); ``approximate="tanh"`` uses the tanh form.

    >>> from wengert.nn import functional as F
    >>> round(float(F.gelu(1.0)), 6)
    0.841345
    """
    _checks.choice(approximate, "approximate", "gelu", ("none", "tanh"))
    if approximate == "none":
        return x * _normal_cdf(x)
    # tanh(inner) is exactly +-1 long before |x| = 100, so clipping x inside it changes no
    # value but keeps x**3 from overflowing into an infinite (then NaN) derivative.
    xc = _flat_beyond(x, 100.0)
    inner = _SQRT_2_OVER_PI * (xc + 0.044715 * (xc * xc * xc))
    return 0.5 * x * (1.0 + wnp.tanh(inner))


def logsumexp(x: Any, axis: int = -1, keepdims: bool = False) -> Any:
    """log(sum(exp(x))) along `axis`, without overflow.

    >>> import numpy as np
    >>> from wengert.nn import functional as F
    >>> float(F.logsumexp(np.array([1000.0, 1000.0])))  # 1000 + log 2
    1000.6931471805599
    """
    axis = _checks.integer(axis, "axis", "logsumexp")
    keepdims = _checks.boolean(keepdims, "keepdims", "logsumexp")
    return _logsumexp(x, axis=axis, keepdims=keepdims)


def log_softmax(x: Any, axis: int = -1) -> Any:
    """x - logsumexp(x) along `axis`: log-probabilities from logits, finite for any logits.

    >>> import numpy as np
    >>> from wengert.nn import functional as F
    >>> F.log_softmax(np.array([0.0, 1000.0]))
    array([-1000.,     0.])
    """
    return _log_softmax(x, axis=_checks.integer(axis, "axis", "log_softmax"))


def softmax(x: Any, axis: int = -1) -> Any:
    """exp(x) / sum(exp(x)) along `axis`, without overflow.

    >>> import numpy as np
    >>> from wengert.nn import functional as F
    >>> F.softmax(np.array([0.0, 0.0]))
    array([0.5, 0.5])
    """
    return _softmax(x, axis=_checks.integer(axis, "axis", "softmax"))


# --- gathering by flat index (pooling, embeddings, picking the target class) --------------


def _gather_impl(x, index, unique=False):
    return np.take(x, index)


def _scatter_impl(g, index, shape, unique=False):
    out = np.zeros_like(g, shape=(math.prod(shape),))
    if unique:
        out[np.ravel(index)] = np.ravel(g)
    else:
        np.add.at(out, np.ravel(index), np.ravel(g))
    return out.reshape(shape)


_gather = Primitive(_gather_impl, "gather_flat")
_scatter = Primitive(_scatter_impl, "scatter_flat")
_gather.defvjp(lambda g, ans, x, index, unique=False: _scatter(g, index, shape_of(x), unique))
_gather.defjvp(lambda t, ans, x, index, unique=False: _gather(t, index, unique=unique))
_scatter.defvjp(lambda g, ans, c, index, shape, unique=False: _gather(g, index, unique=unique))
_scatter.defjvp(lambda t, ans, c, index, shape, unique=False: _scatter(t, index, shape, unique))


def _take_rows_impl(weight, index):
    return np.take(weight, index, axis=0)


def _scatter_rows_impl(g, index, n):
    rest = g.shape[np.ndim(index) :]
    out = np.zeros_like(g, shape=(n, *rest))
    np.add.at(out, np.ravel(index), np.reshape(g, (-1, *rest)))
    return out


_take_rows = Primitive(_take_rows_impl, "take_rows")
_scatter_rows = Primitive(_scatter_rows_impl, "scatter_rows")
_take_rows.defvjp(lambda g, ans, w, index: _scatter_rows(g, index, shape_of(w)[0]))
_take_rows.defjvp(lambda t, ans, w, index: _take_rows(t, index))
_scatter_rows.defvjp(lambda g, ans, c, index, n: _take_rows(g, index))
_scatter_rows.defjvp(lambda t, ans, c, index, n: _scatter_rows(t, index, n))


# --- batching of the gathers: a batch of indices points into its own member ---------------
# With the members' arrays laid end to end, member b's index i is b * size + i: one call
# of the same primitive on the whole batch, without a loop.


def _offsets(size: int, stride: int, ndim: int) -> np.ndarray:
    """b * stride for each member b, shaped to broadcast against a batch of indices."""
    return (np.arange(size) * stride).reshape((size,) + (1,) * ndim)


def _batched_index(index, batched: bool, size: int, stride: int):
    """Each member's indices into its own `stride` entries, as indices into all of them
    (negative ones counted from their member's end, as NumPy's take does)."""
    ndim = len(shape_of(index)) - batched
    return index % stride + _offsets(size, stride, ndim)


def _gather_batch(batched, x, index, unique=False):
    size = batch_size((x, index), batched)
    if not batched[0]:
        x = broadcast_to(x, (size, *shape_of(x)))
    member = math.prod(shape_of(x)[1:])
    return _gather(x, _batched_index(index, batched[1], size, member), unique=unique)


def _scatter_batch(batched, g, index, shape, unique=False):
    size = batch_size((g, index), batched)
    if not batched[0]:
        g = broadcast_to(g, (size, *shape_of(g)))
    index = _batched_index(index, batched[1], size, math.prod(shape))
    return _scatter(g, index, (size, *shape), unique)


def _take_rows_batch(batched, weight, index):
    if not batched[0]:  # one table, a batch of indices: the same rows, picked at once
        return _take_rows(weight, index)
    size, n = shape_of(weight)[:2]
    rows = wnp.reshape(weight, (size * n, *shape_of(weight)[2:]))
    return _take_rows(rows, _batched_index(index, batched[1], size, n))


def _scatter_rows_batch(batched, g, index, n):
    size = batch_size((g, index), batched)
    if not batched[0]:
        g = broadcast_to(g, (size, *shape_of(g)))
    index_ndim = len(shape_of(index)) - batched[1]
    rest = shape_of(g)[1 + index_ndim :]
    out = _scatter_rows(g, _batched_index(index, batched[1], size, n), size * n)
    return wnp.reshape(out, (size, n, *rest))


_gather.defbatch(_gather_batch)
_scatter.defbatch(_scatter_batch)
_take_rows.defbatch(_take_rows_batch)
_scatter_rows.defbatch(_scatter_rows_batch)


def embedding(indices: Any, weight: Any) -> Any:
    """Rows of `weight` picked by integer `indices` (any shape); repeated rows add up
    in the gradient.

    >>> import numpy as np
    >>> from wengert.nn import functional as F
    >>> F.embedding(np.array([2, 0]), np.arange(6.0).reshape(3, 2))
    array([[4., 5.],
           [0., 1.]])
    """
    index = _constant_labels(indices)
    dtype = np.result_type(peek(index))
    if not np.issubdtype(dtype, np.integer):
        raise TypeError(f"embedding: indices must be integers, got dtype {dtype}.")
    n = shape_of(weight)[0]
    if any_value((index < -n) | (index >= n)):  # in any member, under vmap
        raise IndexError(f"embedding: an index is out of range for {n} rows.")
    return _take_rows(weight, index)


def _constant_labels(labels):
    """Integer labels or indices, which carry no derivative: an array, or under vmap a
    batch of them (each member's own)."""
    return stop_gradient(labels) if isinstance(labels, Box) else np.asarray(labels)


# --- convolution and pooling --------------------------------------------------------------


def _pair(value: int | Sequence[int], name: str, where: str, low: int = 1) -> tuple[int, int]:
    """An int or a pair of ints (kernel size, stride, dilation, padding), each >= `low`."""
    return _checks.int_pair(value, name, where, low)


def _padding(
    padding, kernel, dilation, stride, where: str = "conv2d"
) -> tuple[tuple[int, int], tuple[int, int]]:
    """Padding as ((top, bottom), (left, right)) from an int, a pair, 'valid' or 'same'."""
    if isinstance(padding, str):
        _checks.choice(padding, "padding", where, ("valid", "same"))
        if padding == "valid":
            return (0, 0), (0, 0)
        if stride != (1, 1):
            raise ValueError(f"{where}: padding='same' needs stride 1 (as in PyTorch).")
        rows, cols = (d * (k - 1) for k, d in zip(kernel, dilation))
        return (rows // 2, rows - rows // 2), (cols // 2, cols - cols // 2)
    ph, pw = _pair(padding, "padding", where, low=0)
    return (ph, ph), (pw, pw)


def _pad(x, padding, value=0):
    (pt, pb), (pl, pr) = padding
    if not (pt or pb or pl or pr):
        return x
    n, c, h, w = x.shape
    out = np.full_like(x, value, shape=(n, c, h + pt + pb, w + pl + pr))
    out[:, :, pt : pt + h, pl : pl + w] = x
    return out


def _out_size(size: int, kernel: int, stride: int, dilation: int, what: str) -> int:
    span = dilation * (kernel - 1) + 1
    if size < span:
        raise ValueError(
            f"{what}: the (padded) input is {size} wide but the kernel spans {span}; use a "
            "smaller kernel or dilation, or more padding."
        )
    return (size - span) // stride + 1


def _windows(xp, kernel, stride, dilation, out_hw):
    """A read-only view (N, C, OH, OW, KH, KW) of every kernel window (no copy)."""
    n, c = xp.shape[:2]
    sn, sc, sh, sw = xp.strides
    return as_strided(
        xp,
        (n, c, out_hw[0], out_hw[1], kernel[0], kernel[1]),
        (sn, sc, sh * stride[0], sw * stride[1], sh * dilation[0], sw * dilation[1]),
        writeable=False,
    )


def _spread(cols_at, x_shape, kernel, stride, padding, dilation, out_hw, like):
    """Sum window contributions back onto the input grid (the transpose of `_windows`).

    ``cols_at(i, j)`` gives the (N, C, OH, OW) contribution of kernel offset (i, j). The
    loop runs over kernel offsets only; each step is vectorised over all pixels.
    """
    n, c, h, w = x_shape
    (pt, pb), (pl, pr) = padding
    xp = np.zeros_like(like, shape=(n, c, h + pt + pb, w + pl + pr))
    oh, ow = out_hw
    for i in range(kernel[0]):
        r0 = i * dilation[0]
        rows = slice(r0, r0 + stride[0] * (oh - 1) + 1, stride[0])
        for j in range(kernel[1]):
            c0 = j * dilation[1]
            xp[:, :, rows, c0 : c0 + stride[1] * (ow - 1) + 1 : stride[1]] += cols_at(i, j)
    return xp[:, :, pt : pt + h, pl : pl + w]


def _conv_out_hw(x_shape, kernel, stride, padding, dilation):
    (pt, pb), (pl, pr) = padding
    return (
        _out_size(x_shape[2] + pt + pb, kernel[0], stride[0], dilation[0], "conv2d"),
        _out_size(x_shape[3] + pl + pr, kernel[1], stride[1], dilation[1], "conv2d"),
    )


def _im2col(x, kernel, stride, padding, dilation, out_hw):
    """Every kernel window of `x` as a column: a (C*KH*KW, N*OH*OW) matrix (one copy).

    Used for a single input channel, where the runs copied are image rows.
    """
    xp = _pad(x, padding)
    n, c = xp.shape[:2]
    sn, sc, sh, sw = xp.strides
    oh, ow = out_hw
    windows = as_strided(
        xp,
        (c, kernel[0], kernel[1], n, oh, ow),
        (sc, sh * dilation[0], sw * dilation[1], sn, sh * stride[0], sw * stride[1]),
        writeable=False,
    )
    return windows.reshape(c * kernel[0] * kernel[1], n * oh * ow)


def _im2row(x, kernel, stride, padding, dilation, out_hw):
    """Every kernel window of `x` as a row, channels fastest: (N*OH*OW, KH*KW*C).

    The input is first laid out channels-last (free when it already is), so that the
    copy moves runs of KW*C values rather than runs of a few pixels.
    """
    xh = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    (pt, pb), (pl, pr) = padding
    n, h, w, c = xh.shape
    if pt or pb or pl or pr:
        padded = np.zeros_like(xh, shape=(n, h + pt + pb, w + pl + pr, c))
        padded[:, pt : pt + h, pl : pl + w] = xh
        xh = padded
    sn, sh, sw, sc = xh.strides
    oh, ow = out_hw
    windows = as_strided(
        xh,
        (n, oh, ow, kernel[0], kernel[1], c),
        (sn, sh * stride[0], sw * stride[1], sh * dilation[0], sw * dilation[1], sc),
        writeable=False,
    )
    return windows.reshape(n * oh * ow, kernel[0] * kernel[1] * c)


def _conv2d_impl(x, w, stride, padding, dilation):
    kernel = w.shape[2:]
    n, o = x.shape[0], w.shape[0]
    oh, ow = _conv_out_hw(x.shape, kernel, stride, padding, dilation)
    if x.shape[1] == 1:
        cols = _im2col(x, kernel, stride, padding, dilation, (oh, ow))
        out = np.matmul(cols.T, w.reshape(o, -1).T)  # (N*OH*OW, O)
    else:
        rows = _im2row(x, kernel, stride, padding, dilation, (oh, ow))
        out = np.matmul(rows, w.transpose(0, 2, 3, 1).reshape(o, -1).T)  # (N*OH*OW, O)
    return out.reshape(n, oh, ow, o).transpose(0, 3, 1, 2)  # channels-last in memory


def _conv2d_input_grad_impl(g, w, x_shape, stride, padding, dilation):
    kernel = w.shape[2:]
    full = [d * (k - 1) for k, d in zip(kernel, dilation)]
    back = tuple((f - p[0], f - p[1]) for f, p in zip(full, padding))
    if stride == (1, 1) and min(min(b) for b in back) >= 0:
        # With stride 1 the transpose is itself a convolution: of the cotangent with the
        # flipped filters, channels swapped.
        flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
        return _conv2d_impl(g, flipped, (1, 1), back, dilation)
    cols = np.tensordot(w, g, axes=([0], [1]))  # (C, KH, KW, N, OH, OW)
    return _spread(
        lambda i, j: cols[:, i, j].transpose(1, 0, 2, 3),
        x_shape,
        kernel,
        stride,
        padding,
        dilation,
        g.shape[2:],
        cols,
    )


def _conv2d_weight_grad_impl(x, g, kernel, stride, padding, dilation):
    o, c = g.shape[1], x.shape[1]
    if c == 1:
        cols = _im2col(x, kernel, stride, padding, dilation, g.shape[2:])
        g_rows = g.transpose(1, 0, 2, 3).reshape(o, -1)  # (O, N*OH*OW)
        return np.matmul(g_rows, cols.T).reshape(o, c, *kernel)
    rows = _im2row(x, kernel, stride, padding, dilation, g.shape[2:])
    g_rows = np.ascontiguousarray(g.transpose(0, 2, 3, 1)).reshape(-1, o)  # (N*OH*OW, O)
    out = np.matmul(g_rows.T, rows)  # (O, KH*KW*C)
    return out.reshape(o, kernel[0], kernel[1], c).transpose(0, 3, 1, 2)


_conv2d = Primitive(_conv2d_impl, "conv2d")
_conv2d_input_grad = Primitive(_conv2d_input_grad_impl, "conv2d_input_grad")
_conv2d_weight_grad = Primitive(_conv2d_weight_grad_impl, "conv2d_weight_grad")

# conv2d is bilinear; the three primitives are each other's transposes, so every rule of
# each is one of the three and derivatives of any order stay within them.
_conv2d.defvjp(
    lambda g, ans, x, w, **p: _conv2d_input_grad(g, w, x_shape=shape_of(x), **p),
    lambda g, ans, x, w, **p: _conv2d_weight_grad(x, g, kernel=shape_of(w)[2:], **p),
)
_conv2d.defjvp(
    lambda t, ans, x, w, **p: _conv2d(t, w, **p),
    lambda t, ans, x, w, **p: _conv2d(x, t, **p),
)
_conv2d_input_grad.defvjp(
    lambda h, ans, g, w, x_shape, **p: _conv2d(h, w, **p),
    lambda h, ans, g, w, x_shape, **p: _conv2d_weight_grad(h, g, kernel=shape_of(w)[2:], **p),
)
_conv2d_input_grad.defjvp(
    lambda t, ans, g, w, x_shape, **p: _conv2d_input_grad(t, w, x_shape=x_shape, **p),
    lambda t, ans, g, w, x_shape, **p: _conv2d_input_grad(g, t, x_shape=x_shape, **p),
)
_conv2d_weight_grad.defvjp(
    lambda k, ans, x, g, kernel, **p: _conv2d_input_grad(g, k, x_shape=shape_of(x), **p),
    lambda k, ans, x, g, kernel, **p: _conv2d(x, k, **p),
)
_conv2d_weight_grad.defjvp(
    lambda t, ans, x, g, kernel, **p: _conv2d_weight_grad(t, g, kernel=kernel, **p),
    lambda t, ans, x, g, kernel, **p: _conv2d_weight_grad(x, t, kernel=kernel, **p),
)


# --- batching of convolution and pooling ---------------------------------------------------
# A batch of image stacks (B, N, C, H, W) with shared filters is one stack of B*N images:
# the primitive itself, once. Per-member filters (a batch of weights, as forward-mode
# tangents or per-example weight gradients give) are products of each member's windows
# with its filters: unfold the windows (a copy, as im2col), then one batched matmul.


def _unfold_impl(x, kernel, stride, padding, dilation):
    """Every kernel window of the NCHW images `x`, as (N, C, OH, OW, KH, KW) (a copy)."""
    out_hw = _conv_out_hw(x.shape, kernel, stride, padding, dilation)
    return np.ascontiguousarray(_windows(_pad(x, padding), kernel, stride, dilation, out_hw))


def _fold_impl(cols, x_shape, kernel, stride, padding, dilation):
    """The transpose of `_unfold`: each window's entries added back onto the images."""
    return _spread(
        lambda i, j: cols[..., i, j],
        x_shape,
        kernel,
        stride,
        padding,
        dilation,
        cols.shape[2:4],
        cols,
    )


_unfold = Primitive(_unfold_impl, "unfold")
_fold = Primitive(_fold_impl, "fold")
_unfold.defvjp(lambda g, ans, x, **p: _fold(g, shape_of(x), **p))
_unfold.defjvp(lambda t, ans, x, **p: _unfold(t, **p))
_fold.defvjp(lambda g, ans, cols, x_shape, **p: _unfold(g, **p))
_fold.defjvp(lambda t, ans, cols, x_shape, **p: _fold(t, x_shape, **p))


def _merged(x):
    """A batch (B, N, ...) of image stacks as one stack (B*N, ...)."""
    shape = shape_of(x)
    return wnp.reshape(x, (shape[0] * shape[1], *shape[2:]))


def _unmerged(y, size: int):
    """One stack (B*N, ...) as a batch (B, N, ...) of `size` stacks."""
    shape = shape_of(y)
    return wnp.reshape(y, (size, shape[0] // size, *shape[1:]))


def _merged_shape(x_shape, size: int) -> tuple:
    return (size * x_shape[0], *x_shape[1:])


def _fold_batch(batched, cols, x_shape, **p):
    size = shape_of(cols)[0]
    return _unmerged(_fold(_merged(cols), _merged_shape(x_shape, size), **p), size)


_unfold.defbatch(lambda batched, x, **p: _unmerged(_unfold(_merged(x), **p), shape_of(x)[0]))
_fold.defbatch(_fold_batch)


def _window_rows(x, batched: bool, kernel, **p):
    """The windows of images `x` (a batch of stacks if `batched`) as rows (B?, N*OH*OW,
    C*KH*KW), channels slowest."""
    if batched:
        cols = _unmerged(_unfold(_merged(x), kernel=kernel, **p), shape_of(x)[0])
    else:
        cols = _unfold(x, kernel=kernel, **p)  # (B?, N, C, OH, OW, KH, KW)
    lead = int(batched)
    n, c, oh, ow, kh, kw = shape_of(cols)[lead:]
    cols = wnp.moveaxis(cols, lead + 1, lead + 3)  # (B?, N, OH, OW, C, KH, KW)
    return wnp.reshape(cols, (*shape_of(cols)[:lead], n * oh * ow, c * kh * kw))


def _cotangent_rows(g, batched: bool):
    """Output-shaped values (B?, N, O, OH, OW) as rows (B?, N*OH*OW, O)."""
    lead = int(batched)
    n, o, oh, ow = shape_of(g)[lead:]
    moved = wnp.moveaxis(g, lead + 1, -1)
    return wnp.reshape(moved, (*shape_of(g)[:lead], n * oh * ow, o))


def _conv2d_batch(batched, x, w, **p):
    if not batched[1]:  # shared filters: one convolution of all B*N images
        size = shape_of(x)[0]
        return _unmerged(_conv2d(_merged(x), w, **p), size)
    size, o, c, kh, kw = shape_of(w)
    rows = _window_rows(x, batched[0], (kh, kw), **p)
    out = wnp.matmul(rows, wnp.swapaxes(wnp.reshape(w, (size, o, c * kh * kw)), -1, -2))
    n = shape_of(x)[batched[0]]
    oh, ow = _conv_out_hw((n, c, *shape_of(x)[-2:]), (kh, kw), **p)
    return wnp.moveaxis(wnp.reshape(out, (size, n, oh, ow, o)), -1, 2)


def _conv2d_input_grad_batch(batched, g, w, x_shape, **p):
    if not batched[1]:
        size = shape_of(g)[0]
        merged = _conv2d_input_grad(_merged(g), w, x_shape=_merged_shape(x_shape, size), **p)
        return _unmerged(merged, size)
    size, o, c, kh, kw = shape_of(w)
    rows = wnp.matmul(_cotangent_rows(g, batched[0]), wnp.reshape(w, (size, o, c * kh * kw)))
    n, oh, ow = x_shape[0], *shape_of(g)[-2:]
    cols = wnp.moveaxis(wnp.reshape(rows, (size, n, oh, ow, c, kh, kw)), 4, 2)
    folded = _fold(_merged(cols), _merged_shape(x_shape, size), kernel=(kh, kw), **p)
    return _unmerged(folded, size)


def _conv2d_weight_grad_batch(batched, x, g, kernel, **p):
    size = batch_size((x, g), batched)
    rows = _window_rows(x, batched[0], kernel, **p)
    out = wnp.matmul(wnp.swapaxes(_cotangent_rows(g, batched[1]), -1, -2), rows)
    c = shape_of(x)[batched[0] + 1]
    o = shape_of(g)[batched[1] + 1]
    return wnp.reshape(out, (size, o, c, *kernel))


_conv2d.defbatch(_conv2d_batch)
_conv2d_input_grad.defbatch(_conv2d_input_grad_batch)
_conv2d_weight_grad.defbatch(_conv2d_weight_grad_batch)


def conv2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
) -> Any:
    """2-D cross-correlation of NCHW images `x` with filters `weight` (O, C, KH, KW).

    Computed by im2col: a strided view of all windows contracted with the filters in one
    matrix product; no loop over pixels. `padding` is an int, a pair, 'valid' or 'same'.

    >>> import numpy as np
    >>> from wengert.nn import functional as F
    >>> F.conv2d(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2))).shape
    (1, 1, 2, 2)
    """
    if len(shape_of(x)) != 4 or len(shape_of(weight)) != 4:
        raise ValueError(
            f"conv2d needs x of shape (N, C, H, W) and weight (O, C, KH, KW); got "
            f"{shape_of(x)} and {shape_of(weight)}."
        )
    if shape_of(x)[1] != shape_of(weight)[1]:
        raise ValueError(
            f"conv2d: x has {shape_of(x)[1]} channels but the weight expects {shape_of(weight)[1]}."
        )
    if min(shape_of(weight)[2:]) < 1:
        raise ValueError(f"conv2d: the filters {shape_of(weight)} have an empty kernel.")
    stride_ = _pair(stride, "stride", "conv2d")
    dilation_ = _pair(dilation, "dilation", "conv2d")
    pad = _padding(padding, shape_of(weight)[2:], dilation_, stride_)
    out = _conv2d(x, weight, stride=stride_, padding=pad, dilation=dilation_)
    if bias is not None:
        out = out + wnp.reshape(bias, (-1, 1, 1))
    return out


def _pool_params(kernel_size, stride, padding, dilation, what):
    kernel = _pair(kernel_size, "kernel_size", what)
    stride_ = kernel if stride is None else _pair(stride, "stride", what)
    dilation_ = _pair(dilation, "dilation", what)
    pad = _pair(padding, "padding", what, low=0)
    if pad[0] * 2 > kernel[0] or pad[1] * 2 > kernel[1]:
        raise ValueError(f"{what}: padding {padding} is more than half the kernel {kernel}.")
    return kernel, stride_, ((pad[0], pad[0]), (pad[1], pad[1])), dilation_


def _max_pool_index(x, kernel, stride, padding, dilation):
    """Flat indices into `x` of each window's maximum (the first one on ties).

    One pass per kernel offset, each vectorised over all windows.
    """
    n, c, h, w = x.shape
    floating = np.issubdtype(x.dtype, np.floating)
    xp = _pad(x, padding, -np.inf if floating else np.iinfo(x.dtype).min)
    oh = _out_size(xp.shape[2], kernel[0], stride[0], dilation[0], "max_pool2d")
    ow = _out_size(xp.shape[3], kernel[1], stride[1], dilation[1], "max_pool2d")
    best = offset = None
    for i in range(kernel[0]):
        rows = slice(i * dilation[0], i * dilation[0] + stride[0] * (oh - 1) + 1, stride[0])
        for j in range(kernel[1]):
            c0 = j * dilation[1]
            v = xp[:, :, rows, c0 : c0 + stride[1] * (ow - 1) + 1 : stride[1]]
            here = i * dilation[0] * w + c0  # flat offset of this kernel position
            if best is None:
                best, offset = v, np.full(v.shape, here, dtype=np.intp)
                continue
            better = v > best
            best = np.maximum(best, v)
            offset = np.where(better, here, offset)
    corner_rows = np.arange(oh)[:, None] * stride[0] - padding[0][0]
    corner_cols = np.arange(ow)[None, :] * stride[1] - padding[1][0]
    planes = np.arange(n * c).reshape(n, c, 1, 1) * (h * w)
    return offset + (planes + (corner_rows * w + corner_cols))


# The positions of the maxima are constants; under vmap each member's own, found for all
# of its images at once.
_max_pool_index_of = nondiff(_max_pool_index, "max_pool_index")


def _max_pool_index_batch(batched, x, kernel, stride, padding, dilation):
    size = shape_of(x)[0]
    index = _unmerged(_max_pool_index_of(_merged(x), kernel, stride, padding, dilation), size)
    return index - _offsets(size, math.prod(shape_of(x)[1:]), 4)  # into each member's own


_max_pool_index_of.defbatch(_max_pool_index_batch)


def max_pool2d(
    x: Any,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> Any:
    """The maximum of each window of NCHW images; the gradient goes to the maximum
    (the first one where several tie). `stride` defaults to the kernel size.

    >>> import numpy as np
    >>> from wengert.nn import functional as F
    >>> F.max_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2)
    array([[[[ 5.,  7.],
             [13., 15.]]]])
    """
    kernel, stride_, pad, dilation_ = _pool_params(
        kernel_size, stride, padding, dilation, "max_pool2d"
    )
    index = _max_pool_index_of(x, kernel, stride_, pad, dilation_)
    overlapping = any(s < d * (k - 1) + 1 for k, s, d in zip(kernel, stride_, dilation_))
    return _gather(x, index, unique=not overlapping)


def _avg_pool_impl(x, kernel, stride, padding, divisor):
    out_hw = (
        _out_size(x.shape[2] + sum(padding[0]), kernel[0], stride[0], 1, "avg_pool2d"),
        _out_size(x.shape[3] + sum(padding[1]), kernel[1], stride[1], 1, "avg_pool2d"),
    )
    win = _windows(_pad(x, padding), kernel, stride, (1, 1), out_hw)
    return win.sum(axis=(4, 5)) / divisor


def _avg_pool_t_impl(g, x_shape, kernel, stride, padding, divisor):
    g = g / divisor
    return _spread(lambda i, j: g, x_shape, kernel, stride, padding, (1, 1), g.shape[2:], g)


_avg_pool = Primitive(_avg_pool_impl, "avg_pool2d")
_avg_pool_t = Primitive(_avg_pool_t_impl, "avg_pool2d_transpose")
_avg_pool.defvjp(lambda g, ans, x, **p: _avg_pool_t(g, shape_of(x), **p))
_avg_pool.defjvp(lambda t, ans, x, **p: _avg_pool(t, **p))
_avg_pool_t.defvjp(lambda h, ans, g, x_shape, **p: _avg_pool(h, **p))
_avg_pool_t.defjvp(lambda t, ans, g, x_shape, **p: _avg_pool_t(t, x_shape, **p))
# A batch of image stacks is one stack of all their images.
_avg_pool.defbatch(lambda batched, x, **p: _unmerged(_avg_pool(_merged(x), **p), shape_of(x)[0]))


def _avg_pool_t_batch(batched, g, x_shape, **p):
    size = shape_of(g)[0]
    return _unmerged(_avg_pool_t(_merged(g), _merged_shape(x_shape, size), **p), size)


_avg_pool_t.defbatch(_avg_pool_t_batch)


def avg_pool2d(
    x: Any,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    count_include_pad: bool = True,
) -> Any:
    """The mean of each window of NCHW images; `stride` defaults to the kernel size.

    >>> import numpy as np
    >>> from wengert.nn import functional as F
    >>> F.avg_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2)
    array([[[[ 2.5,  4.5],
             [10.5, 12.5]]]])
    """
    kernel, stride_, pad, _ = _pool_params(kernel_size, stride, padding, 1, "avg_pool2d")
    count_include_pad = _checks.boolean(count_include_pad, "count_include_pad", "avg_pool2d")
    dtype = _float_dtype(peek(x))
    if count_include_pad or pad == ((0, 0), (0, 0)):
        divisor = dtype.type(kernel[0] * kernel[1])
    else:
        ones = np.ones((1, 1, *shape_of(x)[2:]), dtype=dtype)
        divisor = _avg_pool_impl(ones, kernel, stride_, pad, 1)[0, 0]
    return _avg_pool(x, kernel=kernel, stride=stride_, padding=pad, divisor=divisor)


# --- normalisation and dropout -----------------------------------------------------------


def _channel_shape(x, n: int) -> tuple[int, ...]:
    """Shape that broadcasts a per-channel vector against x (channels on axis 1)."""
    return (1, n) + (1,) * (len(shape_of(x)) - 2)


def batch_norm(
    x: Any,
    running_mean: np.ndarray | None,
    running_var: np.ndarray | None,
    weight: Any = None,
    bias: Any = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Any:
    """Normalise each channel (axis 1) by batch statistics (training) or running ones.

    In training the running statistics are updated in place with the batch mean and the
    unbiased batch variance, as in PyTorch; no derivative flows into them.

    >>> import numpy as np
    >>> from wengert.nn import functional as F
    >>> y = F.batch_norm(np.array([[1.0], [3.0]]), None, None, training=True)
    >>> np.round(y, 4)
    array([[-1.],
           [ 1.]])
    """
    training = _checks.boolean(training, "training", "batch_norm")
    momentum = _checks.real(momentum, "momentum", "batch_norm", 0.0, 1.0)
    eps = _checks.real(eps, "eps", "batch_norm", 0.0, low_open=True)
    shape = shape_of(x)
    if len(shape) < 2:
        raise ValueError(f"batch_norm needs x with a batch and a channel axis, got {shape}.")
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither.")
    stats_shapes = {np.shape(running_mean), np.shape(running_var)}
    if running_mean is not None and stats_shapes != {(shape[1],)}:
        raise ValueError(
            f"batch_norm: running_mean and running_var need one entry per channel, shape "
            f"({shape[1]},), got {np.shape(running_mean)} and {np.shape(running_var)}."
        )
    axes = (0, *range(2, len(shape)))
    n = math.prod(shape[a] for a in axes)
    if training or running_mean is None:
        if n <= 1 and training:
            raise ValueError(
                f"batch_norm in training mode needs more than one value per channel, got "
                f"input shape {shape}."
            )
        mean = wnp.mean(x, axis=axes, keepdims=True)
        centred = x - mean
        var = wnp.mean(centred * centred, axis=axes, keepdims=True)
        if training and running_mean is not None:
            if np.shape(getval(mean)) != shape_of(mean):
                raise ValueError(
                    "batch_norm cannot update running statistics inside vmap: every member "
                    "would update the same arrays. Pass running_mean=None and "
                    "running_var=None there, or training=False."
                )
            batch_mean = np.reshape(getval(mean), running_mean.shape)
            batch_var = np.reshape(getval(var), running_var.shape) * (n / max(n - 1, 1))
            running_mean *= 1.0 - momentum
            running_mean += momentum * batch_mean
            running_var *= 1.0 - momentum
            running_var += momentum * batch_var
    else:
        # The running statistics are constants: in x's dtype, so float32 stays float32.
        cshape = _channel_shape(x, shape[1])
        dtype = _float_dtype(peek(x))
        centred = x - np.reshape(running_mean, cshape).astype(dtype, copy=False)
        var = np.reshape(running_var, cshape).astype(dtype, copy=False)
    out = centred / wnp.sqrt(var + eps)
    if weight is not None:
        out = out * wnp.reshape(weight, _channel_shape(x, shape[1]))
    if bias is not None:
        out = out + wnp.reshape(bias, _channel_shape(x, shape[1]))
    return out


def _normalized_shape(value: Any, where: str) -> tuple[int, ...]:
    """`normalized_shape` as a tuple of positive ints (from an int or a sequence)."""
    if isinstance(value, (list, tuple)) and value:
        return tuple(_checks.integer(v, "normalized_shape", where, low=1) for v in value)
    if isinstance(value, (list, tuple)):
        raise ValueError(f"{where}: normalized_shape must not be empty.")
    return (_checks.integer(value, "normalized_shape", where, low=1),)


def layer_norm(
    x: Any,
    normalized_shape: int | Sequence[int],
    weight: Any = None,
    bias: Any = None,
    eps: float = 1e-5,
) -> Any:
    """Normalise over the trailing `normalized_shape` axes of each sample.

    >>> import numpy as np
    >>> from wengert.nn import functional as F
    >>> np.round(F.layer_norm(np.array([[1.0, 3.0]]), 2), 4)
    array([[-1.,  1.]])
    """
    dims = _normalized_shape(normalized_shape, "layer_norm")
    eps = _checks.real(eps, "eps", "layer_norm", 0.0, low_open=True)
    shape = shape_of(x)
    if tuple(shape[len(shape) - len(dims) :]) != dims:
        raise ValueError(f"layer_norm: input shape {shape} does not end in {dims}.")
    axes = tuple(range(len(shape) - len(dims), len(shape)))
    mean = wnp.mean(x, axis=axes, keepdims=True)
    centred = x - mean
    var = wnp.mean(centred * centred, axis=axes, keepdims=True)
    out = centred / wnp.sqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def dropout(
    x: Any, p: float = 0.5, training: bool = True, rng: np.random.Generator | int | None = None
) -> Any:
    """Zero each entry with probability `p` and scale the rest by 1/(1-p) (training only).

    >>> import numpy as np
    >>> from wengert.nn import functional as F
    >>> F.dropout(np.ones(4), 0.5, training=False)
    array([1., 1., 1., 1.])
    """
    p = _checks.real(p, "p", "dropout", 0.0, 1.0)
    training = _checks.boolean(training, "training", "dropout")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    _checks.seed(rng, "rng", "dropout")  # checked here; drawn from by each call below
    return x * _dropout_scale(x, p, rng)


def _dropout_scale_impl(x, p, rng):
    keep = _checks.seed(rng, "rng", "dropout").random(np.shape(x)) >= p
    return (keep / (1.0 - p)).astype(_float_dtype(x), copy=False)


# The mask is a constant. Under vmap it is drawn member by member, as a loop over the
# members calling dropout would draw it (from one generator in turn, or from the same
# seed each time).
_dropout_scale = nondiff(_dropout_scale_impl, "dropout_scale")


# --- losses --------------------------------------------------------------------------------


_REDUCTIONS = ("mean", "sum", "none")


def _reduction(reduction: str, what: str) -> str:
    return _checks.choice(reduction, "reduction", what, _REDUCTIONS)


def _reduce(loss, reduction: str, what: str):
    if reduction == "mean":
        return wnp.mean(loss)
    if reduction == "sum":
        return wnp.sum(loss)
    return loss


def one_hot(labels: Any, num_classes: int, dtype: Any = np.float64) -> np.ndarray:
    """Integer labels as rows of a one-hot matrix (a constant: no derivative).

    >>> import numpy as np
    >>> from wengert.nn import functional as F
    >>> F.one_hot(np.array([1, 0]), 3)
    array([[0., 1., 0.],
           [1., 0., 0.]])
    """
    num_classes = _checks.integer(num_classes, "num_classes", "one_hot", low=1)
    labels = _constant_labels(labels)
    dtype_of_labels = np.result_type(peek(labels))
    if not np.issubdtype(dtype_of_labels, np.integer):
        raise TypeError(f"one_hot: labels must be integers, got dtype {dtype_of_labels}.")
    if any_value((labels < 0) | (labels >= num_classes)):  # in any member, under vmap
        values = np.asarray(peek(labels))
        raise IndexError(
            f"one_hot: a label is out of range: labels must be in [0, {num_classes}), got "
            f"values from {values.min()} to {values.max()}."
        )
    return _one_hot(labels, num_classes, dtype)


def _one_hot_impl(labels, num_classes, dtype):
    return (np.asarray(labels)[..., None] == np.arange(num_classes)).astype(dtype)


# Under vmap, a batch of labels is more leading axes: one call for all members.
_one_hot = nondiff(_one_hot_impl, "one_hot")
_one_hot.defbatch(lambda batched, labels, num_classes, dtype: _one_hot(labels, num_classes, dtype))


def _ce_impl(logits, labels):
    lse = _softmax_module._logsumexp_impl(logits, axis=-1)
    picked = np.take_along_axis(logits, labels[..., None], axis=-1)[..., 0]
    return lse - picked


def _ce_slope(logits, labels):
    """d loss / d logits = softmax(logits) - one_hot(labels), written differentiably."""
    n_classes = shape_of(logits)[-1]
    return _softmax(logits, axis=-1) - (labels[..., None] == np.arange(n_classes))


_ce = Primitive(_ce_impl, "softmax_cross_entropy")
_ce.defvjp(lambda g, ans, logits, labels: wnp.expand_dims(g, -1) * _ce_slope(logits, labels))
_ce.defjvp(lambda t, ans, logits, labels: wnp.sum(t * _ce_slope(logits, labels), axis=-1))


# Each row of logits with its label: a batch is more leading axes of both.
def _ce_batch(batched, logits, labels):
    return _ce(*spread((logits, labels), batched, batch_size((logits, labels), batched)))


_ce.defbatch(_ce_batch)


def _class_last(x):
    """Move the class axis (1, as in PyTorch) last when there are extra axes."""
    return wnp.moveaxis(x, 1, -1) if len(shape_of(x)) > 2 else x


def _n_classes(shape) -> int:
    return shape[-1 if len(shape) == 1 else 1]


def _labels(target, logits_shape, ignore_index, what):
    """The integer labels, checked: shape (N, d1, ...) for logits (N, C, d1, ...), and
    each in [0, C) unless it is `ignore_index`."""
    labels = _constant_labels(target)
    dtype = np.result_type(peek(labels))
    if not np.issubdtype(dtype, np.integer):
        raise TypeError(f"{what}: class labels must be integers, got dtype {dtype}.")
    expected = logits_shape[:1] + logits_shape[2:] if len(logits_shape) > 1 else ()
    if tuple(shape_of(labels)) != tuple(expected):
        raise ValueError(
            f"{what}: logits of shape {logits_shape} need labels of shape {tuple(expected)}, "
            f"got {tuple(shape_of(labels))}."
        )
    n = _n_classes(logits_shape)
    if any_value(((labels < 0) | (labels >= n)) & (labels != ignore_index)):
        values = np.asarray(peek(labels))  # (every member's, under vmap)
        counted = values[values != ignore_index]
        raise IndexError(
            f"{what}: a label is out of range for {n} classes: labels must be in [0, {n}) "
            f"or equal ignore_index={ignore_index}, got values from {counted.min()} to "
            f"{counted.max()}."
        )
    return labels


def _class_weight(weight, n_classes: int, dtype, what):
    """The per-class weights, checked to have one entry per class; a plain array (a
    constant) takes the dtype of the logits, so that float32 stays float32."""
    if weight is None:
        return None
    shape = shape_of(weight)
    if tuple(shape) != (n_classes,):
        raise ValueError(
            f"{what}: weight needs one entry per class, shape ({n_classes},), got {shape}."
        )
    if peek(weight) is weight:
        return np.asarray(weight).astype(dtype, copy=False)
    return weight


def _label_weights(loss, labels, weight, ignore_index):
    """The mask of labels that count, and each sample's weight (its class's, or 1; 0 where
    ignored). Class weights are constants: no derivative flows into them."""
    keep = labels != ignore_index
    dtype = np.result_type(peek(loss))
    w = wnp.astype(keep, dtype)
    if weight is not None:
        table = wnp.astype(stop_gradient(weight), dtype)
        w = w * take_index(table, wnp.where(keep, labels, 0))
    return keep, w


def _weighted_reduce(loss, labels, weight, ignore_index, reduction, what):
    keep, w = _label_weights(loss, labels, weight, ignore_index)
    if weight is None and all_value(keep):  # (in every member of a batch)
        return _reduce(loss, reduction, what)
    loss = loss * w
    if reduction == "mean":
        return wnp.sum(loss) / wnp.sum(w)
    return _reduce(loss, reduction, what)


def cross_entropy(
    logits: Any,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Any:
    """Cross-entropy of class `target`s (integer labels, or probabilities shaped like the
    logits) under softmax(logits), classes on axis 1; stable for any logits.

    `label_smoothing` in [0, 1] mixes the target with the uniform distribution.

    >>> import numpy as np
    >>> from wengert.nn import functional as F
    >>> float(F.cross_entropy(np.array([[1000.0, 0.0]]), np.array([1])))
    1000.0
    """
    what = "cross_entropy"
    ignore_index = _checks.integer(ignore_index, "ignore_index", what)
    reduction = _reduction(reduction, what)
    label_smoothing = _checks.real(label_smoothing, "label_smoothing", what, 0.0, 1.0)
    shape = shape_of(logits)
    weight = _class_weight(weight, _n_classes(shape), _float_dtype(peek(logits)), what)
    if np.issubdtype(np.result_type(peek(target)), np.floating):
        if shape_of(target) != shape:
            raise ValueError(
                f"{what}: probability targets must have the logits' shape {shape}, got "
                f"{shape_of(target)}."
            )
        axis = 1 if len(shape) > 1 else 0
        logp = _log_softmax(logits, axis=axis)
        if label_smoothing:
            target = target * (1.0 - label_smoothing) + label_smoothing / shape[axis]
        if weight is not None:
            logp = logp * wnp.reshape(weight, _channel_shape(logits, shape[axis]))
        return _reduce(-wnp.sum(target * logp, axis=axis), reduction, what)
    labels = _labels(target, shape, ignore_index, what)
    flat_logits = _class_last(logits)
    safe = wnp.where(labels == ignore_index, 0, labels)
    loss = _ce(flat_logits, safe)
    if not label_smoothing:
        return _weighted_reduce(loss, labels, weight, ignore_index, reduction, what)
    # As PyTorch: the smoothing term weighs each class by its own weight.
    n_classes = shape_of(flat_logits)[-1]
    logp = _log_softmax(flat_logits, axis=-1)
    if weight is None:
        smooth = -wnp.mean(logp, axis=-1)
    else:
        smooth = -wnp.sum(logp * weight, axis=-1) / n_classes
    keep, w = _label_weights(loss, labels, weight, ignore_index)
    total = (1.0 - label_smoothing) * (loss * w) + label_smoothing * (smooth * keep)
    if reduction == "mean":
        return wnp.sum(total) / wnp.sum(w)
    return _reduce(total, reduction, what)


def nll_loss(
    log_probs: Any,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Any:
    """Negative log-likelihood of integer `target`s given log-probabilities (classes on
    axis 1), e.g. the output of log_softmax.

    >>> import numpy as np
    >>> from wengert.nn import functional as F
    >>> float(F.nll_loss(np.log(np.array([[0.25, 0.75]])), np.array([1])))  # -log 0.75
    0.2876820724517809
    """
    what = "nll_loss"
    ignore_index = _checks.integer(ignore_index, "ignore_index", what)
    reduction = _reduction(reduction, what)
    shape = shape_of(log_probs)
    weight = _class_weight(weight, _n_classes(shape), _float_dtype(peek(log_probs)), what)
    labels = _labels(target, shape, ignore_index, what)
    flat = _class_last(log_probs)
    safe = wnp.where(labels == ignore_index, 0, labels)
    n_classes = shape_of(flat)[-1]
    index = np.arange(math.prod(shape_of(safe))).reshape(shape_of(safe)) * n_classes + safe
    loss = -_gather(flat, index, unique=True)
    return _weighted_reduce(loss, labels, weight, ignore_index, reduction, what)


def binary_cross_entropy_with_logits(
    logits: Any,
    target: Any,
    weight: Any = None,
    pos_weight: Any = None,
    reduction: str = "mean",
) -> Any:
    """Binary cross-entropy of `target` probabilities under sigmoid(logits), computed as
    softplus terms so that no logit overflows or loses precision.

    >>> import numpy as np
    >>> from wengert.nn import functional as F
    >>> float(F.binary_cross_entropy_with_logits(np.array([-800.0]), np.array([1.0])))
    800.0
    """
    what = "binary_cross_entropy_with_logits"
    reduction = _reduction(reduction, what)
    if pos_weight is None:
        loss = _softplus(logits) - logits * target
    else:
        loss = (1.0 - target) * logits + (1.0 + (pos_weight - 1.0) * target) * _softplus(-logits)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, what)


_LOG_FLOOR = -100.0


def _clamped_log(p):
    """log(p) clamped below at -100, as PyTorch's binary cross-entropy does, with the
    derivative of the clamped function: 0 where the clamp holds. log is taken of 1 there
    (and the result replaced), so that p = 0 gives 0 rather than 0 * inf = NaN in every
    derivative, of every order and in both modes."""
    kept = _above_log_floor(p)
    return wnp.where(kept, wnp.log(wnp.where(kept, p, 1.0)), _LOG_FLOOR)


def _above_log_floor_impl(p):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(np.asarray(p)) > _LOG_FLOOR


_above_log_floor = nondiff(_above_log_floor_impl, "above_log_floor", elementwise=True)


def binary_cross_entropy(
    probs: Any, target: Any, weight: Any = None, reduction: str = "mean"
) -> Any:
    """Binary cross-entropy of `target` given probabilities in [0, 1]; logs are clamped
    at -100 as in PyTorch, and the gradient is that of the clamped function (0 where a
    log is clamped), finite at probabilities 0 and 1. Prefer the `_with_logits` form,
    which is stable.

    >>> import numpy as np
    >>> from wengert.nn import functional as F
    >>> round(float(F.binary_cross_entropy(np.array([0.5]), np.array([1.0]))), 6)
    0.693147
    """
    what = "binary_cross_entropy"
    reduction = _reduction(reduction, what)
    if not all_value((probs >= 0) & (probs <= 1)):  # (NaN is not in [0, 1] either)
        p = np.asarray(peek(probs))
        raise ValueError(
            f"{what}: probabilities must be in [0, 1], got values from {np.min(p)} to "
            f"{np.max(p)}; for logits use binary_cross_entropy_with_logits."
        )
    log_p = _clamped_log(probs)
    log_q = _clamped_log(1.0 - probs)
    loss = -(target * log_p + (1.0 - target) * log_q)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, what)


def mse_loss(x: Any, target: Any, reduction: str = "mean") -> Any:
    """Mean (or summed) squared error.

    >>> import numpy as np
    >>> from wengert.nn import functional as F
    >>> float(F.mse_loss(np.array([1.0, 3.0]), np.array([0.0, 0.0])))
    5.0
    """
    reduction = _reduction(reduction, "mse_loss")
    d = x - target
    return _reduce(d * d, reduction, "mse_loss")


def l1_loss(x: Any, target: Any, reduction: str = "mean") -> Any:
    """Mean (or summed) absolute error.

    >>> import numpy as np
    >>> from wengert.nn import functional as F
    >>> float(F.l1_loss(np.array([1.0, -3.0]), np.array([0.0, 0.0])))
    2.0
    """
    reduction = _reduction(reduction, "l1_loss")
    return _reduce(wnp.abs(x - target), reduction, "l1_loss")


def huber_loss(x: Any, target: Any, delta: float = 1.0, reduction: str = "mean") -> Any:
    """Squared error for small errors, absolute error beyond `delta` (> 0).

    >>> import numpy as np
    >>> from wengert.nn import functional as F
    >>> F.huber_loss(np.array([0.5, 3.0]), np.array([0.0, 0.0]), reduction="none")
    array([0.125, 2.5  ])
    """
    reduction = _reduction(reduction, "huber_loss")
    delta = _checks.real(delta, "delta", "huber_loss", 0.0, low_open=True)
    d = x - target
    a = wnp.abs(d)
    small = a < delta
    loss = wnp.where(small, 0.5 * d * d, delta * (a - 0.5 * delta))
    return _reduce(loss, reduction, "huber_loss")


# Generated source (Program.source) computes these primitives with their implementations,
# copied (they use NumPy alone), or with the public function that they call.
def _within_impl(x, bound):
    return np.abs(x) <= bound


_linear.defsource(_linear_impl)
_relu.defsource(_relu_impl)
_leaky_relu.defsource(_leaky_impl)
_sigmoid.defsource(_sigmoid_impl)
_softplus.defsource(_softplus_impl)
_within.defsource(_within_impl)
_normal_cdf.defsource(_normal_cdf_impl)
_gather.defsource(_gather_impl)
_scatter.defsource(_scatter_impl)
_take_rows.defsource(_take_rows_impl)
_scatter_rows.defsource(_scatter_rows_impl)
_conv2d.defsource(_conv2d_impl)
_conv2d_input_grad.defsource(_conv2d_input_grad_impl)
_conv2d_weight_grad.defsource(_conv2d_weight_grad_impl)
_unfold.defsource(_unfold_impl)
_fold.defsource(_fold_impl)
_max_pool_index_of.defsource(_max_pool_index)
_avg_pool.defsource(_avg_pool_impl)
_avg_pool_t.defsource(_avg_pool_t_impl)
_dropout_scale.defsource(_dropout_scale_impl)
_one_hot.defsource(_one_hot_impl)
_ce.defsource(_ce_impl)
_above_log_floor.defsource(_above_log_floor_impl)
