"""Losses as modules: each holds its options and calls the function of the same name in
`wengert.nn.functional`."""

from __future__ import annotations

from typing import Any

from . import _checks
from . import functional as F
from .module import Module

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "HuberLoss",
    "L1Loss",
    "MSELoss",
    "NLLLoss",
]


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = F._reduction(reduction, type(self).__name__)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error.

    >>> import numpy as np
    >>> from wengert import nn
    >>> float(nn.MSELoss()(np.array([1.0, 3.0]), np.zeros(2)))
    5.0
    """

    def forward(self, x: Any, target: Any) -> Any:
        return F.mse_loss(x, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error."""

    def forward(self, x: Any, target: Any) -> Any:
        return F.l1_loss(x, target, self.reduction)


class HuberLoss(_Loss):
    """Squared error below `delta`, absolute error above."""

    def __init__(self, delta: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.delta = _checks.real(delta, "delta", "HuberLoss", 0.0, low_open=True)

    def forward(self, x: Any, target: Any) -> Any:
        return F.huber_loss(x, target, self.delta, self.reduction)


class CrossEntropyLoss(_Loss):
    """Cross-entropy of class labels (or probabilities) under softmax of the logits.

    >>> import numpy as np
    >>> from wengert import nn
    >>> round(float(nn.CrossEntropyLoss()(np.zeros((1, 4)), np.array([2]))), 6)  # log 4
    1.386294
    """

    def __init__(
        self,
        weight: Any = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(reduction)
        self.weight = weight
        self.ignore_index = _checks.integer(ignore_index, "ignore_index", "CrossEntropyLoss")
        self.label_smoothing = _checks.real(
            label_smoothing, "label_smoothing", "CrossEntropyLoss", 0.0, 1.0
        )

    def forward(self, logits: Any, target: Any) -> Any:
        return F.cross_entropy(
            logits, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing
        )


class NLLLoss(_Loss):
    """Negative log-likelihood of class labels given log-probabilities."""

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(reduction)
        self.weight = weight
        self.ignore_index = _checks.integer(ignore_index, "ignore_index", "NLLLoss")

    def forward(self, log_probs: Any, target: Any) -> Any:
        return F.nll_loss(log_probs, target, self.weight, self.ignore_index, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits (stable for any logit)."""

    def __init__(self, weight: Any = None, pos_weight: Any = None, reduction: str = "mean"):
        super().__init__(reduction)
        self.weight, self.pos_weight = weight, pos_weight

    def forward(self, logits: Any, target: Any) -> Any:
        return F.binary_cross_entropy_with_logits(
            logits, target, self.weight, self.pos_weight, self.reduction
        )


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities."""

    def __init__(self, weight: Any = None, reduction: str = "mean"):
        super().__init__(reduction)
        self.weight = weight

    def forward(self, probs: Any, target: Any) -> Any:
        return F.binary_cross_entropy(probs, target, self.weight, self.reduction)
