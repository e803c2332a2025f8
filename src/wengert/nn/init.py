"""Initialisations of weights: uniform, normal, Xavier/Glorot, He/Kaiming, orthogonal.

Each function takes the `target` to initialise: a shape (it returns a new array), a NumPy
array (filled in place) or a Variable such as a Parameter (its data replaced), and a
random generator or seed `rng`, so that results are reproducible without global state.
The trailing-underscore names are aliases for readers used to PyTorch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..variable import Variable
from . import _checks

__all__ = [
    "calculate_gain",
    "constant",
    "fans",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "kaiming_normal",
    "kaiming_uniform",
    "normal",
    "ones",
    "orthogonal",
    "uniform",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]

Target = Any  # a shape, a NumPy array or a Variable


def as_rng(rng: np.random.Generator | int | None, where: str = "as_rng") -> np.random.Generator:
    """A NumPy generator from a generator, a seed (an integer >= 0), or None (fresh
    entropy)."""
    return _checks.seed(rng, "rng", where)


def _shape_dtype(target: Target, dtype, where: str) -> tuple[tuple[int, ...], np.dtype]:
    if isinstance(target, (Variable, np.ndarray)):
        if target.dtype.kind != "f":
            raise TypeError(
                f"{where}: target must hold floating-point values, got dtype {target.dtype}."
            )
        return tuple(target.shape), target.dtype
    dtype = _checks.float_dtype(np.float64 if dtype is None else dtype, "dtype", where)
    if isinstance(target, (list, tuple)):
        return tuple(_checks.integer(n, "shape", where, low=0) for n in target), dtype
    if isinstance(target, str) or not hasattr(target, "__index__"):
        raise TypeError(
            f"{where}: target must be a shape (an int or a tuple of ints), a NumPy array "
            f"or a Variable, got {type(target).__name__}."
        )
    return (_checks.integer(target, "shape", where, low=0),), dtype


def _fill(target: Target, values: np.ndarray) -> Any:
    if isinstance(target, Variable):
        target.data = values
        return target
    if isinstance(target, np.ndarray):
        target[...] = values
        return target
    return values


def fans(shape: Sequence[int]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight: (in, out) for (out, in) matrices; for convolution
    filters (O, C, KH, KW) each is multiplied by the kernel size.

    >>> from wengert.nn import init
    >>> init.fans((16, 3, 5, 5))
    (75, 400)
    """
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a weight of at least 2 axes, got {shape}.")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fans(shape: Sequence[int], where: str) -> tuple[int, int]:
    """`fans`, both of which must be positive to scale an initialisation."""
    fan_in, fan_out = fans(shape)
    if fan_in < 1 or fan_out < 1:
        raise ValueError(f"{where}: a weight of shape {tuple(shape)} has no fan in or fan out.")
    return fan_in, fan_out


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended scale of weights feeding `nonlinearity` (as in PyTorch).

    >>> from wengert.nn import init
    >>> round(init.calculate_gain("relu"), 6)
    1.414214
    """
    if not isinstance(nonlinearity, str):
        raise TypeError(
            f"calculate_gain: nonlinearity must be a name such as 'relu', got "
            f"{type(nonlinearity).__name__}."
        )
    if nonlinearity in ("linear", "identity", "sigmoid") or nonlinearity.startswith("conv"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else _checks.real(param, "param", "calculate_gain")
        return math.sqrt(2.0 / (1.0 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}.")


def uniform(target: Target, low: float = 0.0, high: float = 1.0, rng=None, dtype=None) -> Any:
    """Values drawn uniformly from [low, high).

    >>> from wengert.nn import init
    >>> init.uniform((2,), 0.0, 1.0, rng=0).shape
    (2,)
    """
    return _uniform(target, low, high, rng, dtype, "uniform")


def _uniform(target: Target, low, high, rng, dtype, where: str) -> Any:
    shape, dt = _shape_dtype(target, dtype, where)
    low = _checks.real(low, "low", where)
    high = _checks.real(high, "high", where, low=low)
    return _fill(target, as_rng(rng, where).uniform(low, high, shape).astype(dt))


def normal(target: Target, mean: float = 0.0, std: float = 1.0, rng=None, dtype=None) -> Any:
    """Values drawn from a normal distribution.

    >>> from wengert.nn import init
    >>> init.normal((3, 2), std=0.1, rng=0).shape
    (3, 2)
    """
    return _normal(target, mean, std, rng, dtype, "normal")


def _normal(target: Target, mean, std, rng, dtype, where: str) -> Any:
    shape, dt = _shape_dtype(target, dtype, where)
    mean = _checks.real(mean, "mean", where)
    std = _checks.real(std, "std", where, low=0.0)
    return _fill(target, (mean + std * as_rng(rng, where).standard_normal(shape)).astype(dt))


def constant(target: Target, value: float, dtype=None) -> Any:
    """Every entry equal to `value`.

    >>> from wengert.nn import init
    >>> init.constant((2,), 0.5)
    array([0.5, 0.5])
    """
    return _constant(target, value, dtype, "constant")


def _constant(target: Target, value, dtype, where: str) -> Any:
    shape, dt = _shape_dtype(target, dtype, where)
    value = _checks.real(value, "value", where)
    return _fill(target, np.full(shape, value, dtype=dt))


def zeros(target: Target, dtype=None) -> Any:
    """Zeros.

    >>> from wengert.nn import init
    >>> init.zeros((2,))
    array([0., 0.])
    """
    return _constant(target, 0.0, dtype, "zeros")


def ones(target: Target, dtype=None) -> Any:
    """Ones.

    >>> from wengert.nn import init
    >>> init.ones((2,))
    array([1., 1.])
    """
    return _constant(target, 1.0, dtype, "ones")


def xavier_uniform(target: Target, gain: float = 1.0, rng=None, dtype=None) -> Any:
    """Xavier/Glorot uniform: U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)); keeps
    the variance of activations and gradients alike across layers.

    >>> from wengert.nn import init
    >>> w = init.xavier_uniform((100, 200), rng=0)
    >>> bool(abs(w).max() <= (6 / 300) ** 0.5)
    True
    """
    shape, _ = _shape_dtype(target, dtype, "xavier_uniform")
    gain = _checks.real(gain, "gain", "xavier_uniform", low=0.0)
    fan_in, fan_out = _fans(shape, "xavier_uniform")
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _uniform(target, -bound, bound, rng, dtype, "xavier_uniform")


def xavier_normal(target: Target, gain: float = 1.0, rng=None, dtype=None) -> Any:
    """Xavier/Glorot normal: N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out)).

    >>> from wengert.nn import init
    >>> init.xavier_normal((4, 4), rng=0).shape
    (4, 4)
    """
    shape, _ = _shape_dtype(target, dtype, "xavier_normal")
    gain = _checks.real(gain, "gain", "xavier_normal", low=0.0)
    fan_in, fan_out = _fans(shape, "xavier_normal")
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _normal(target, 0.0, std, rng, dtype, "xavier_normal")


def _kaiming_std(shape, a, mode, nonlinearity, where) -> float:
    a = _checks.real(a, "a", where)
    _checks.choice(mode, "mode", where, ("fan_in", "fan_out"))
    fan_in, fan_out = _fans(shape, where)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform(
    target: Target,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    rng=None,
    dtype=None,
) -> Any:
    """He/Kaiming uniform: U(-b, b), b = gain * sqrt(3 / fan); suited to ReLU networks.

    >>> from wengert.nn import init
    >>> w = init.kaiming_uniform((10, 50), nonlinearity="relu", rng=0)
    >>> bool(abs(w).max() <= (6 / 50) ** 0.5)
    True
    """
    shape, _ = _shape_dtype(target, dtype, "kaiming_uniform")
    bound = math.sqrt(3.0) * _kaiming_std(shape, a, mode, nonlinearity, "kaiming_uniform")
    return _uniform(target, -bound, bound, rng, dtype, "kaiming_uniform")


def kaiming_normal(
    target: Target,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    rng=None,
    dtype=None,
) -> Any:
    """He/Kaiming normal: N(0, std^2), std = gain / sqrt(fan).

    >>> from wengert.nn import init
    >>> init.kaiming_normal((8, 4, 3, 3), nonlinearity="relu", rng=0).shape
    (8, 4, 3, 3)
    """
    shape, _ = _shape_dtype(target, dtype, "kaiming_normal")
    std = _kaiming_std(shape, a, mode, nonlinearity, "kaiming_normal")
    return _normal(target, 0.0, std, rng, dtype, "kaiming_normal")


def orthogonal(target: Target, gain: float = 1.0, rng=None, dtype=None) -> Any:
    """A (semi-)orthogonal matrix (trailing axes flattened), scaled by `gain`.

    >>> import numpy as np
    >>> from wengert.nn import init
    >>> q = init.orthogonal((3, 3), rng=0)
    >>> bool(np.allclose(q @ q.T, np.eye(3)))
    True
    """
    shape, dt = _shape_dtype(target, dtype, "orthogonal")
    gain = _checks.real(gain, "gain", "orthogonal")
    if len(shape) < 2 or 0 in shape:
        raise ValueError(f"orthogonal: needs a non-empty weight of at least 2 axes, got {shape}.")
    rows, cols = shape[0], math.prod(shape[1:])
    flat = as_rng(rng, "orthogonal").standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(target, (gain * q).reshape(shape).astype(dt))


glorot_uniform, glorot_normal = xavier_uniform, xavier_normal
he_uniform, he_normal = kaiming_uniform, kaiming_normal
uniform_, normal_, constant_, zeros_, ones_ = uniform, normal, constant, zeros, ones
xavier_uniform_, xavier_normal_ = xavier_uniform, xavier_normal
kaiming_uniform_, kaiming_normal_, orthogonal_ = kaiming_uniform, kaiming_normal, orthogonal
