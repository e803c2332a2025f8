"""Neural networks on wengert: modules, layers, losses, initialisations.

`Module` subclasses hold `Parameter`s (Variables), so a model trains define-by-run
(``loss.backward()``, then a `wengert.optim` optimiser), or functionally: its parameters
form a tree (``model.params()``) that `wengert.grad` differentiates through
`functional_call`. `functional` holds the functions behind the layers; `init` the
weight initialisations.
"""

from __future__ import annotations

from . import functional, init
from .layers import (
    GELU,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Embedding,
    Flatten,
    GRUCell,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    LSTMCell,
    MaxPool2d,
    ModuleList,
    ReLU,
    Sequential,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
)
from .module import (
    IncompatibleKeys,
    Module,
    Parameter,
    StateDictError,
    functional_call,
    load,
    save,
)

__all__ = [
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "GELU",
    "GRUCell",
    "HuberLoss",
    "Identity",
    "IncompatibleKeys",
    "L1Loss",
    "LSTMCell",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "Module",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "StateDictError",
    "Tanh",
    "functional",
    "functional_call",
    "init",
    "load",
    "save",
]
