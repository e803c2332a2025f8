"""Optimisers, learning-rate schedules and gradient clipping.

They update Variables (``model.parameters()``) after ``loss.backward()``, as in PyTorch,
or trees of arrays through ``init``/``update`` for the functional style.
"""

from __future__ import annotations

from .clip import clip_by_global_norm, clip_grad_norm_, clip_grad_value_, global_norm
from .optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from .schedules import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearWarmup,
    LRScheduler,
    MultiStepLR,
    StepLR,
)

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearWarmup",
    "MultiStepLR",
    "Optimizer",
    "RMSprop",
    "StepLR",
    "clip_by_global_norm",
    "clip_grad_norm_",
    "clip_grad_value_",
    "global_norm",
]
