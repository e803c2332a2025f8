"""Layers: dense, convolution, pooling, normalisation, dropout, embedding, recurrent cells,
activations and containers.

Each layer takes ``dtype`` (float64 unless given) and ``rng`` (a NumPy generator or seed)
for its initial weights, which follow PyTorch's defaults, so a model built here and one
built in PyTorch start from the same distributions and share state-dict names.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from .. import numpy as wnp
from .._core.vspace import shape_of
from . import _checks, init
from . import functional as F
from .module import Module, Parameter

__all__ = [
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "Dropout",
    "Embedding",
    "Flatten",
    "GELU",
    "GRUCell",
    "Identity",
    "LSTMCell",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MaxPool2d",
    "ModuleList",
    "ReLU",
    "SiLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Tanh",
]


def _uniform_param(shape, bound, rng, dtype) -> Parameter:
    return Parameter(init.uniform(shape, -bound, bound, rng=rng, dtype=dtype))


def _size(value: Any, name: str, where: str) -> int:
    """A count of features, channels or units: an integer >= 1."""
    return _checks.integer(value, name, where, low=1)


class Linear(Module):
    """y = x @ weight.T + bias, weight of shape (out_features, in_features).

    >>> import numpy as np
    >>> from wengert import nn
    >>> nn.Linear(3, 2, rng=0)(np.ones((4, 3))).shape
    (4, 2)
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, dtype=np.float64, rng=None
    ) -> None:
        super().__init__()
        in_features = _size(in_features, "in_features", "Linear")
        out_features = _size(out_features, "out_features", "Linear")
        bias = _checks.boolean(bias, "bias", "Linear")
        dtype = _checks.float_dtype(dtype, "dtype", "Linear")
        self.in_features, self.out_features = in_features, out_features
        rng = _checks.seed(rng, "rng", "Linear")
        bound = 1.0 / math.sqrt(in_features)
        self.weight = _uniform_param((out_features, in_features), bound, rng, dtype)
        if bias:
            self.bias = _uniform_param((out_features,), bound, rng, dtype)
        else:
            self.register_parameter("bias", None)

    def forward(self, x: Any) -> Any:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Conv2d(Module):
    """2-D convolution of NCHW images with stride, padding and dilation.

    >>> import numpy as np
    >>> from wengert import nn
    >>> conv = nn.Conv2d(1, 4, 3, padding=1, rng=0)
    >>> conv(np.ones((2, 1, 8, 8))).shape
    (2, 4, 8, 8)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        dilation: int | tuple[int, int] = 1,
        bias: bool = True,
        dtype=np.float64,
        rng=None,
    ) -> None:
        super().__init__()
        where = "Conv2d"
        in_channels = _size(in_channels, "in_channels", where)
        out_channels = _size(out_channels, "out_channels", where)
        kh, kw = F._pair(kernel_size, "kernel_size", where)
        bias = _checks.boolean(bias, "bias", where)
        dtype = _checks.float_dtype(dtype, "dtype", where)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = (kh, kw), F._pair(stride, "stride", where)
        self.dilation = F._pair(dilation, "dilation", where)
        F._padding(padding, self.kernel_size, self.dilation, self.stride, where)  # checks it
        self.padding = padding
        rng = _checks.seed(rng, "rng", where)
        bound = 1.0 / math.sqrt(in_channels * kh * kw)
        self.weight = _uniform_param((out_channels, in_channels, kh, kw), bound, rng, dtype)
        if bias:
            self.bias = _uniform_param((out_channels,), bound, rng, dtype)
        else:
            self.register_parameter("bias", None)

    def forward(self, x: Any) -> Any:
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}"
        )


class MaxPool2d(Module):
    """Maximum over windows of NCHW images.

    >>> import numpy as np
    >>> from wengert import nn
    >>> nn.MaxPool2d(2)(np.ones((1, 3, 8, 8))).shape
    (1, 3, 4, 4)
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1) -> None:
        super().__init__()
        F._pool_params(kernel_size, stride, padding, dilation, "MaxPool2d")  # checks them
        self.kernel_size, self.stride = kernel_size, stride
        self.padding, self.dilation = padding, dilation

    def forward(self, x: Any) -> Any:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """Mean over windows of NCHW images.

    >>> import numpy as np
    >>> from wengert import nn
    >>> nn.AvgPool2d(2)(np.ones((1, 3, 8, 8))).shape
    (1, 3, 4, 4)
    """

    def __init__(self, kernel_size, stride=None, padding=0, count_include_pad=True) -> None:
        super().__init__()
        F._pool_params(kernel_size, stride, padding, 1, "AvgPool2d")  # checks them
        count_include_pad = _checks.boolean(count_include_pad, "count_include_pad", "AvgPool2d")
        self.kernel_size, self.stride = kernel_size, stride
        self.padding, self.count_include_pad = padding, count_include_pad

    def forward(self, x: Any) -> Any:
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class Flatten(Module):
    """Merge axes start_dim..end_dim (by default all but the batch axis) into one.

    >>> import numpy as np
    >>> from wengert import nn
    >>> nn.Flatten()(np.ones((2, 3, 4))).shape
    (2, 12)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = _checks.integer(start_dim, "start_dim", "Flatten")
        self.end_dim = _checks.integer(end_dim, "end_dim", "Flatten")

    def forward(self, x: Any) -> Any:
        shape = shape_of(x)
        start = self.start_dim % len(shape)
        end = self.end_dim % len(shape)
        merged = math.prod(shape[start : end + 1])
        return wnp.reshape(x, (*shape[:start], merged, *shape[end + 1 :]))


class Identity(Module):
    """Returns its input (a placeholder in containers)."""

    def forward(self, x: Any) -> Any:
        return x


class Dropout(Module):
    """Zero entries with probability p during training (scaling the rest by 1/(1-p)).

    >>> import numpy as np
    >>> from wengert import nn
    >>> nn.Dropout(0.5, rng=0).eval()(np.ones(3))
    array([1., 1., 1.])
    """

    def __init__(self, p: float = 0.5, rng=None) -> None:
        super().__init__()
        self.p = _checks.real(p, "p", "Dropout", 0.0, 1.0)
        self.rng = _checks.seed(rng, "rng", "Dropout")

    def forward(self, x: Any) -> Any:
        return F.dropout(x, self.p, self.training, self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class _BatchNorm(Module):
    _ndim: tuple[int, ...] = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype=np.float64,
    ) -> None:
        super().__init__()
        where = type(self).__name__
        num_features = _size(num_features, "num_features", where)
        eps = _checks.real(eps, "eps", where, 0.0, low_open=True)
        momentum = _checks.optional(_checks.real, momentum, "momentum", where, 0.0, 1.0)
        affine = _checks.boolean(affine, "affine", where)
        track_running_stats = _checks.boolean(track_running_stats, "track_running_stats", where)
        dtype = _checks.float_dtype(dtype, "dtype", where)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dtype))
            self.bias = Parameter(np.zeros(num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, x: Any) -> Any:
        if len(shape_of(x)) not in self._ndim:
            raise ValueError(
                f"{type(self).__name__} expects input with {' or '.join(map(str, self._ndim))} "
                f"axes, got shape {shape_of(x)}."
            )
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked = self.num_batches_tracked + 1
            if momentum is None:  # cumulative average
                momentum = 1.0 / float(self.num_batches_tracked)
        use_batch = self.training or not self.track_running_stats
        return F.batch_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            training=use_batch,
            momentum=0.0 if momentum is None else momentum,
            eps=self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per channel.

    >>> import numpy as np
    >>> from wengert import nn
    >>> y = nn.BatchNorm1d(2)(np.array([[1.0, 2.0], [3.0, 6.0]]))
    >>> np.round(y, 3)
    array([[-1., -1.],
           [ 1.,  1.]])
    """

    _ndim = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of NCHW images, per channel.

    >>> import numpy as np
    >>> from wengert import nn
    >>> nn.BatchNorm2d(3)(np.random.default_rng(0).normal(size=(4, 3, 2, 2))).shape
    (4, 3, 2, 2)
    """

    _ndim = (4,)


class LayerNorm(Module):
    """Normalisation over the trailing `normalized_shape` axes of each sample.

    >>> import numpy as np
    >>> from wengert import nn
    >>> np.round(nn.LayerNorm(2)(np.array([[1.0, 3.0]])), 3)
    array([[-1.,  1.]])
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        dtype=np.float64,
    ) -> None:
        super().__init__()
        shape = F._normalized_shape(normalized_shape, "LayerNorm")
        eps = _checks.real(eps, "eps", "LayerNorm", 0.0, low_open=True)
        elementwise_affine = _checks.boolean(elementwise_affine, "elementwise_affine", "LayerNorm")
        dtype = _checks.float_dtype(dtype, "dtype", "LayerNorm")
        self.normalized_shape, self.eps = shape, eps
        if elementwise_affine:
            self.weight = Parameter(np.ones(shape, dtype=dtype))
            self.bias = Parameter(np.zeros(shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: Any) -> Any:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"


class Embedding(Module):
    """A table of `num_embeddings` vectors looked up by integer index; the row
    `padding_idx` (if given) stays zero and gets no gradient.

    >>> import numpy as np
    >>> from wengert import nn
    >>> nn.Embedding(10, 3, rng=0)(np.array([[1, 2], [3, 4]])).shape
    (2, 2, 3)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        dtype=np.float64,
        rng=None,
    ) -> None:
        super().__init__()
        num_embeddings = _size(num_embeddings, "num_embeddings", "Embedding")
        embedding_dim = _size(embedding_dim, "embedding_dim", "Embedding")
        padding_idx = _checks.optional(
            _checks.integer,
            padding_idx,
            "padding_idx",
            "Embedding",
            low=-num_embeddings,
            high=num_embeddings - 1,
        )
        dtype = _checks.float_dtype(dtype, "dtype", "Embedding")
        rng = _checks.seed(rng, "rng", "Embedding")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        weight = init.normal((num_embeddings, embedding_dim), rng=rng, dtype=dtype)
        if padding_idx is not None:
            padding_idx %= num_embeddings
            weight[padding_idx] = 0.0
        self.padding_idx = padding_idx
        self.weight = Parameter(weight)

    def forward(self, indices: Any) -> Any:
        out = F.embedding(indices, self.weight)
        if self.padding_idx is not None:
            keep = np.asarray(indices) != self.padding_idx
            out = out * keep[..., None].astype(self.weight.dtype)
        return out

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


class LSTMCell(Module):
    """One step of a long short-term memory cell: ``(h, c) = cell(x, (h, c))``.

    Gates in PyTorch's order (input, forget, cell, output), weights ``weight_ih``
    (4H, in), ``weight_hh`` (4H, H); a missing state starts at zeros.

    >>> import numpy as np
    >>> from wengert import nn
    >>> h, c = nn.LSTMCell(3, 5, rng=0)(np.ones((2, 3)))
    >>> h.shape, c.shape
    ((2, 5), (2, 5))
    """

    _gates = 4

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, dtype=np.float64, rng=None
    ) -> None:
        super().__init__()
        where = type(self).__name__
        input_size = _size(input_size, "input_size", where)
        hidden_size = _size(hidden_size, "hidden_size", where)
        bias = _checks.boolean(bias, "bias", where)
        dtype = _checks.float_dtype(dtype, "dtype", where)
        self.input_size, self.hidden_size = input_size, hidden_size
        rng = _checks.seed(rng, "rng", where)
        bound = 1.0 / math.sqrt(hidden_size)
        n = self._gates * hidden_size
        self.weight_ih = _uniform_param((n, input_size), bound, rng, dtype)
        self.weight_hh = _uniform_param((n, hidden_size), bound, rng, dtype)
        if bias:
            self.bias_ih = _uniform_param((n,), bound, rng, dtype)
            self.bias_hh = _uniform_param((n,), bound, rng, dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)

    def _zeros(self, x) -> np.ndarray:
        return np.zeros((*shape_of(x)[:-1], self.hidden_size), dtype=self.weight_ih.dtype)

    def _split(self, z) -> list:
        hs = self.hidden_size
        return [z[..., k * hs : (k + 1) * hs] for k in range(self._gates)]

    def forward(self, x: Any, state: tuple[Any, Any] | None = None) -> tuple[Any, Any]:
        h, c = (self._zeros(x), self._zeros(x)) if state is None else state
        z = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)
        i, f, g, o = self._split(z)
        c = F.sigmoid(f) * c + F.sigmoid(i) * wnp.tanh(g)
        h = F.sigmoid(o) * wnp.tanh(c)
        return h, c

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"


class GRUCell(LSTMCell):
    """One step of a gated recurrent unit: ``h = cell(x, h)``, gates (reset, update,
    new) as in PyTorch.

    >>> import numpy as np
    >>> from wengert import nn
    >>> nn.GRUCell(3, 5, rng=0)(np.ones((2, 3))).shape
    (2, 5)
    """

    _gates = 3

    def forward(self, x: Any, h: Any = None) -> Any:  # type: ignore[override]
        h = self._zeros(x) if h is None else h
        xr, xz, xn = self._split(F.linear(x, self.weight_ih, self.bias_ih))
        hr, hz, hn = self._split(F.linear(h, self.weight_hh, self.bias_hh))
        r = F.sigmoid(xr + hr)
        z = F.sigmoid(xz + hz)
        n = wnp.tanh(xn + r * hn)
        return (1.0 - z) * n + z * h


# --- activations as modules -----------------------------------------------------------------


class ReLU(Module):
    """max(x, 0)."""

    def forward(self, x: Any) -> Any:
        return F.relu(x)


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = _checks.real(negative_slope, "negative_slope", "LeakyReLU")

    def forward(self, x: Any) -> Any:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class GELU(Module):
    """x * Phi(x) (``approximate="tanh"`` for the tanh form)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = _checks.choice(approximate, "approximate", "GELU", ("none", "tanh"))

    def forward(self, x: Any) -> Any:
        return F.gelu(x, self.approximate)


class SiLU(Module):
    """x * sigmoid(x)."""

    def forward(self, x: Any) -> Any:
        return F.silu(x)


class Tanh(Module):
    """tanh(x)."""

    def forward(self, x: Any) -> Any:
        return wnp.tanh(x)


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, x: Any) -> Any:
        return F.sigmoid(x)


class Softplus(Module):
    """log(1 + exp(x))."""

    def forward(self, x: Any) -> Any:
        return F.softplus(x)


class Softmax(Module):
    """softmax along `dim` (default the last axis)."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = _checks.integer(dim, "dim", type(self).__name__)

    def forward(self, x: Any) -> Any:
        return F.softmax(x, axis=self.dim)


class LogSoftmax(Softmax):
    """log_softmax along `dim` (default the last axis)."""

    def forward(self, x: Any) -> Any:
        return F.log_softmax(x, axis=self.dim)


# --- containers ------------------------------------------------------------------------------


class Sequential(Module):
    """Modules applied one after another; indexable, iterable, with `len`.

    >>> import numpy as np
    >>> from wengert import nn
    >>> model = nn.Sequential(nn.Linear(4, 8, rng=0), nn.ReLU(), nn.Linear(8, 2, rng=1))
    >>> model(np.ones((3, 4))).shape, len(model)
    ((3, 2), 3)
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            for name, m in modules[0].items():
                self.add_module(str(name), m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    def forward(self, x: Any) -> Any:
        for m in self.__dict__["_modules"].values():
            x = m(x)
        return x

    def append(self, module: Module) -> Sequential:
        """Add a module at the end; returns the container."""
        self.add_module(str(len(self)), module)
        return self

    def __len__(self) -> int:
        return len(self.__dict__["_modules"])

    def __iter__(self) -> Iterator[Module]:
        return iter(self.__dict__["_modules"].values())

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self.__dict__["_modules"].values())
        if isinstance(index, slice):
            return type(self)(*items[index])
        return items[index]


class ModuleList(Module):
    """A list of modules, registered so that their parameters are found.

    >>> from wengert import nn
    >>> layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    >>> len(list(layers.parameters()))
    6
    """

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module: Module) -> ModuleList:
        """Add a module at the end; returns the list."""
        self.add_module(str(len(self)), module)
        return self

    def __len__(self) -> int:
        return len(self.__dict__["_modules"])

    def __iter__(self) -> Iterator[Module]:
        return iter(self.__dict__["_modules"].values())

    def __getitem__(self, index: int) -> Module:
        return list(self.__dict__["_modules"].values())[index]
