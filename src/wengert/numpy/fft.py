"""Differentiable `numpy.fft`: every transform, with NumPy's `n`/`s`, `axis`/`axes` and `norm`.

The transforms are linear, so the forward rule of each is the transform itself applied to
the tangent. The reverse rules are the transposes (not conjugate transposes, following
wengert's complex convention): the DFT matrix is symmetric, so the reverse rule of `fft`
is `fft` of the cotangent with the same `norm`, then cropped or zero-padded back to the
input's length where `n` changed it; `rfft` and `irfft` add the real part and the
Hermitian weights of the half spectrum. The n-dimensional transforms, `hfft` and `ihfft`
are compositions of the one-dimensional primitives, in the order NumPy uses.
"""

from __future__ import annotations

import operator

import numpy as np

from .._core.batching import along_axis
from .._core.box import Box, peek
from .._core.define import nondiff
from .._core.primitive import Primitive
from .._core.vspace import foreign_of, full_shaped, shape_of
from ._arraylike import accept_array_likes
from ._common import _axis
from .elementwise import conj, real
from .shaping import concatenate

_NORMS = (None, "backward", "ortho", "forward")
_SWAP = {None: "forward", "backward": "forward", "ortho": "ortho", "forward": "backward"}


def _check_norm(norm, name: str):
    if norm not in _NORMS:
        raise ValueError(
            f'{name}: invalid norm value {norm!r}; should be "backward", "ortho" or "forward".'
        )
    return norm


def _length(n, default: int, name: str) -> int:
    n = default if n is None else operator.index(n)
    if n < 1:
        raise ValueError(f"{name}: invalid number of data points ({n}) specified.")
    return n


def _resize(x, length: int, axis: int):
    """`x` cropped or zero-padded to `length` along `axis` (both differentiable)."""
    shape = shape_of(x)
    have = shape[axis]
    if have == length:
        return x
    if have > length:
        index = (slice(None),) * axis + (slice(0, length),)
        return x[index]
    pad_shape = (*shape[:axis], length - have, *shape[axis + 1 :])
    dtype = np.result_type(getattr(x, "dtype", float), np.float16)
    return concatenate([x, full_shaped(x, 0, pad_shape, dtype)], axis=axis)


def _half_weights(n: int, axis: int, ndim: int, like) -> np.ndarray:
    """Weights of the half spectrum in irfft: 1 for the zero (and even-n Nyquist) entry,
    2 for the others, shaped to broadcast along `axis`, in the real precision of `like`."""
    dtype = np.finfo(np.result_type(peek(like), np.float16)).dtype
    weights = np.full(n // 2 + 1, 2.0, dtype=dtype, like=foreign_of(like))
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    return weights.reshape((-1,) + (1,) * (ndim - 1 - axis))


# --- the one-dimensional primitives (n and axis already normalized) ----------------------


def _fft_impl(a, n, axis, norm):
    return np.fft.fft(a, n, axis, norm)


def _ifft_impl(a, n, axis, norm):
    return np.fft.ifft(a, n, axis, norm)


def _rfft_impl(a, n, axis, norm):
    return np.fft.rfft(a, n, axis, norm)


def _irfft_impl(a, n, axis, norm):
    return np.fft.irfft(a, n, axis, norm)


_fft = Primitive(_fft_impl, "fft")
_ifft = Primitive(_ifft_impl, "ifft")
_rfft = Primitive(_rfft_impl, "rfft")
_irfft = Primitive(_irfft_impl, "irfft")
for _prim in (_fft, _ifft, _rfft, _irfft):  # (a, n, axis, norm): the axis moves along
    _prim.defbatch(along_axis(_prim, 2))

_fft.defjvp(lambda t, ans, a, n, axis, norm: _fft(t, n, axis, norm))
_fft.defvjp(
    lambda g, ans, a, n, axis, norm: _resize(_fft(g, n, axis, norm), shape_of(a)[axis], axis)
)
_ifft.defjvp(lambda t, ans, a, n, axis, norm: _ifft(t, n, axis, norm))
_ifft.defvjp(
    lambda g, ans, a, n, axis, norm: _resize(_ifft(g, n, axis, norm), shape_of(a)[axis], axis)
)
_rfft.defjvp(lambda t, ans, a, n, axis, norm: _rfft(t, n, axis, norm))
# rfft keeps the first n // 2 + 1 entries of the full transform of a real input: its
# transpose pads the cotangent back to n entries, transforms it, and takes the real part.
_rfft.defvjp(
    lambda g, ans, a, n, axis, norm: _resize(
        real(_fft(_resize(g, n, axis), n, axis, norm)), shape_of(a)[axis], axis
    )
)
_irfft.defjvp(lambda t, ans, a, n, axis, norm: _irfft(t, n, axis, norm))
# irfft(X) = Re(G (w * X)) with G[j, k] = exp(2 pi i jk / n), scaled; its transpose is
# w * conj(rfft(g)) with the opposite normalization.
_irfft.defvjp(
    lambda g, ans, a, n, axis, norm: _resize(
        conj(_rfft(g, n, axis, _SWAP[norm])) * _half_weights(n, axis, len(shape_of(g)), g),
        shape_of(a)[axis],
        axis,
    )
)


# --- one-dimensional transforms ----------------------------------------------------------


def fft(a, n: int | None = None, axis: int = -1, norm: str | None = None):
    """The discrete Fourier transform along `axis`, with NumPy's `n` and `norm`.

    >>> import numpy as np
    >>> import wengert as wg
    >>> wg.grad(lambda x: real(fft(x))[1])(np.zeros(4))  # cos(2 pi k / 4)
    array([ 1.,  0., -1.,  0.])
    """
    ndim = len(shape_of(a))
    axis = _axis(axis, ndim, "fft")
    n = _length(n, shape_of(a)[axis], "fft")
    return _fft(a, n, axis, _check_norm(norm, "fft"))


def ifft(a, n: int | None = None, axis: int = -1, norm: str | None = None):
    """The inverse discrete Fourier transform along `axis`.

    >>> import numpy as np
    >>> ifft(np.array([4.0, 0.0, 0.0, 0.0])).real
    array([1., 1., 1., 1.])
    """
    ndim = len(shape_of(a))
    axis = _axis(axis, ndim, "ifft")
    n = _length(n, shape_of(a)[axis], "ifft")
    return _ifft(a, n, axis, _check_norm(norm, "ifft"))


def rfft(a, n: int | None = None, axis: int = -1, norm: str | None = None):
    """The transform of real input along `axis`: the n // 2 + 1 non-negative frequencies.

    >>> import numpy as np
    >>> rfft(np.array([1.0, 1.0, 1.0, 1.0]))
    array([4.+0.j, 0.+0.j, 0.+0.j])
    """
    ndim = len(shape_of(a))
    axis = _axis(axis, ndim, "rfft")
    n = _length(n, shape_of(a)[axis], "rfft")
    return _rfft(a, n, axis, _check_norm(norm, "rfft"))


def irfft(a, n: int | None = None, axis: int = -1, norm: str | None = None):
    """The inverse of `rfft`: real output of length n (default 2 (m - 1)).

    As in NumPy, the imaginary parts of the zero-frequency (and, for even n, the Nyquist)
    entries are ignored, so their derivative is zero.

    >>> import numpy as np
    >>> irfft(np.array([4.0, 0.0, 0.0]))
    array([1., 1., 1., 1.])
    """
    ndim = len(shape_of(a))
    axis = _axis(axis, ndim, "irfft")
    n = _length(n, 2 * (shape_of(a)[axis] - 1), "irfft")
    return _irfft(a, n, axis, _check_norm(norm, "irfft"))


def hfft(a, n: int | None = None, axis: int = -1, norm: str | None = None):
    """The transform of a signal with Hermitian symmetry, given by its first half.

    >>> import numpy as np
    >>> hfft(np.array([1.0, 0.0, 0.0]))
    array([1., 1., 1., 1.])
    """
    ndim = len(shape_of(a))
    axis = _axis(axis, ndim, "hfft")
    n = _length(n, 2 * (shape_of(a)[axis] - 1), "hfft")
    return irfft(conj(a), n, axis, norm=_SWAP[_check_norm(norm, "hfft")])


def ihfft(a, n: int | None = None, axis: int = -1, norm: str | None = None):
    """The inverse of `hfft`: the first half of the Hermitian spectrum of a real signal.

    >>> import numpy as np
    >>> ihfft(np.array([1.0, 1.0, 1.0, 1.0]))
    array([1.-0.j, 0.-0.j, 0.-0.j])
    """
    return conj(rfft(a, n, axis, norm=_SWAP[_check_norm(norm, "ihfft")]))


# --- n-dimensional transforms ------------------------------------------------------------


def _shape_and_axes(a, s, axes, inverse_real: bool = False) -> tuple[list[int], list[int]]:
    """NumPy's defaults for `s` and `axes` of the n-dimensional transforms."""
    shape = shape_of(a)
    ndim = len(shape)
    if axes is None:
        count = ndim if s is None else len(s)
        axes = list(range(ndim - count, ndim))
    else:
        axes = [_axis(ax, ndim, "fftn") for ax in axes]
    if s is None:
        sizes = [shape[ax] for ax in axes]
        if inverse_real and axes:
            sizes[-1] = 2 * (shape[axes[-1]] - 1)
    else:
        if len(s) != len(axes):
            raise ValueError("Shape and axes have different lengths.")
        sizes = [shape[ax] if n is None or n == -1 else operator.index(n) for n, ax in zip(s, axes)]
    return sizes, axes


def _complex_nd(function, a, s, axes, norm):
    sizes, axes = _shape_and_axes(a, s, axes)
    for n, axis in reversed(list(zip(sizes, axes))):
        a = function(a, n, axis, norm)
    return a


def fftn(a, s=None, axes=None, norm: str | None = None):
    """The n-dimensional discrete Fourier transform over `axes` (default: all).

    >>> import numpy as np
    >>> fftn(np.ones((2, 2))).real
    array([[4., 0.],
           [0., 0.]])
    """
    if not isinstance(a, Box):
        return np.fft.fftn(a, s, axes, norm)
    return _complex_nd(fft, a, s, axes, norm)


def ifftn(a, s=None, axes=None, norm: str | None = None):
    """The n-dimensional inverse discrete Fourier transform.

    >>> import numpy as np
    >>> ifftn(np.array([[4.0, 0.0], [0.0, 0.0]])).real
    array([[1., 1.],
           [1., 1.]])
    """
    if not isinstance(a, Box):
        return np.fft.ifftn(a, s, axes, norm)
    return _complex_nd(ifft, a, s, axes, norm)


def fft2(a, s=None, axes=(-2, -1), norm: str | None = None):
    """The two-dimensional discrete Fourier transform (over the last two axes).

    >>> import numpy as np
    >>> fft2(np.ones((2, 2))).real
    array([[4., 0.],
           [0., 0.]])
    """
    return fftn(a, s, axes, norm)


def ifft2(a, s=None, axes=(-2, -1), norm: str | None = None):
    """The two-dimensional inverse discrete Fourier transform.

    >>> import numpy as np
    >>> ifft2(np.array([[4.0, 0.0], [0.0, 0.0]])).real
    array([[1., 1.],
           [1., 1.]])
    """
    return ifftn(a, s, axes, norm)


def rfftn(a, s=None, axes=None, norm: str | None = None):
    """The n-dimensional transform of real input (half spectrum along the last axis).

    >>> import numpy as np
    >>> rfftn(np.ones((2, 2))).real
    array([[4., 0.],
           [0., 0.]])
    """
    if not isinstance(a, Box):
        return np.fft.rfftn(a, s, axes, norm)
    sizes, axes = _shape_and_axes(a, s, axes)
    a = rfft(a, sizes[-1], axes[-1], norm)
    for n, axis in reversed(list(zip(sizes[:-1], axes[:-1]))):
        a = fft(a, n, axis, norm)
    return a


def irfftn(a, s=None, axes=None, norm: str | None = None):
    """The inverse of `rfftn`.

    >>> import numpy as np
    >>> irfftn(np.array([[4.0, 0.0], [0.0, 0.0]]))
    array([[1., 1.],
           [1., 1.]])
    """
    if not isinstance(a, Box):
        return np.fft.irfftn(a, s, axes, norm)
    sizes, axes = _shape_and_axes(a, s, axes, inverse_real=True)
    for n, axis in zip(sizes[:-1], axes[:-1]):
        a = ifft(a, n, axis, norm)
    return irfft(a, sizes[-1], axes[-1], norm)


def rfft2(a, s=None, axes=(-2, -1), norm: str | None = None):
    """The two-dimensional transform of real input.

    >>> import numpy as np
    >>> rfft2(np.ones((2, 2))).real
    array([[4., 0.],
           [0., 0.]])
    """
    return rfftn(a, s, axes, norm)


def irfft2(a, s=None, axes=(-2, -1), norm: str | None = None):
    """The inverse of `rfft2`.

    >>> import numpy as np
    >>> irfft2(np.array([[4.0, 0.0], [0.0, 0.0]]))
    array([[1., 1.],
           [1., 1.]])
    """
    return irfftn(a, s, axes, norm)


# --- shifts and frequencies --------------------------------------------------------------


def _roll(x, shift: int, axis: int):
    """`x` rolled by `shift` along `axis`, from two slices (differentiable)."""
    n = shape_of(x)[axis]
    shift %= n if n else 1
    if not shift:
        return x
    head = (slice(None),) * axis
    return concatenate([x[(*head, slice(n - shift, None))], x[(*head, slice(0, n - shift))]], axis)


def _shift(x, axes, sign: int, name: str):
    shape = shape_of(x)
    ndim = len(shape)
    if axes is None:
        axes = tuple(range(ndim))
    elif isinstance(axes, (int, np.integer)):
        axes = (axes,)
    for axis in axes:
        axis = _axis(axis, ndim, name)
        x = _roll(x, sign * (shape[axis] // 2), axis)
    return x


def fftshift(x, axes=None):
    """The zero-frequency entry moved to the centre (a roll by n // 2 along each axis).

    >>> import numpy as np
    >>> fftshift(np.arange(5.0))
    array([3., 4., 0., 1., 2.])
    """
    if not isinstance(x, Box):
        return np.fft.fftshift(x, axes)
    return _shift(x, axes, 1, "fftshift")


def ifftshift(x, axes=None):
    """The inverse of `fftshift`.

    >>> import numpy as np
    >>> ifftshift(np.array([3.0, 4.0, 0.0, 1.0, 2.0]))
    array([0., 1., 2., 3., 4.])
    """
    if not isinstance(x, Box):
        return np.fft.ifftshift(x, axes)
    return _shift(x, axes, -1, "ifftshift")


fftfreq = nondiff(np.fft.fftfreq, "fftfreq")
rfftfreq = nondiff(np.fft.rfftfreq, "rfftfreq")

__all__ = [
    "fft",
    "fft2",
    "fftfreq",
    "fftn",
    "fftshift",
    "hfft",
    "ifft",
    "ifft2",
    "ifftn",
    "ifftshift",
    "ihfft",
    "irfft",
    "irfft2",
    "irfftn",
    "rfft",
    "rfft2",
    "rfftfreq",
    "rfftn",
]

# Generated source (Program.source) computes these primitives with their implementations,
# copied (they use NumPy alone), or with the public function that they call.
_fft.defsource(_fft_impl)
_ifft.defsource(_ifft_impl)
_rfft.defsource(_rfft_impl)
_irfft.defsource(_irfft_impl)

# Lists and tuples holding traced values are read as arrays by the public functions.
accept_array_likes(globals(), __all__)
