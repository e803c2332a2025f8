"""Learning-rate schedules: step, multi-step, exponential, cosine annealing, linear
warm-up, and any function of the epoch.

A scheduler sets ``group["lr"]`` of every parameter group of its optimiser from the
group's initial rate; call ``scheduler.step()`` once per epoch (or per batch, as the
schedule is meant). Each schedule is a closed form, ``lr_at(base_lr, epoch)``, so that
schedules compose (a warm-up followed by cosine annealing) and can be plotted ahead.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from typing import Any

from ..nn import _checks
from .optimizers import Optimizer

__all__ = [
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearWarmup",
    "MultiStepLR",
    "StepLR",
]


class LRScheduler:
    """Base class: sets each group's rate to ``lr_at(initial rate, epoch)``."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__} needs an Optimizer, got {type(optimizer)}.")
        self.optimizer = optimizer
        last_epoch = _checks.integer(last_epoch, "last_epoch", type(self).__name__, low=-1)
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._last_lr: list[float] = []
        self.step()

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """The learning rate at `epoch` for a group whose initial rate is `base_lr`."""
        raise NotImplementedError(f"{type(self).__name__} does not define lr_at().")

    def step(self) -> None:
        """Advance one epoch and set the new rates."""
        self.last_epoch += 1
        epoch = self.last_epoch
        rates = [
            _checks.real(
                self.lr_at(base, epoch),
                f"the learning rate at epoch {epoch}",
                type(self).__name__,
                0.0,
            )
            for base in self.base_lrs
        ]
        for group, rate in zip(self.optimizer.param_groups, rates):
            group["lr"] = rate
        self._last_lr = rates

    def get_last_lr(self) -> list[float]:
        """The rates set by the last `step`, one per group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """The epoch counter and initial rates (for checkpoints)."""
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a saved epoch counter and initial rates, and set the rates."""
        self.base_lrs = list(state["base_lrs"])
        self.last_epoch = int(state["last_epoch"]) - 1
        self.step()


class LambdaLR(LRScheduler):
    """lr = initial lr * lr_lambda(epoch).

    >>> import wengert as wg
    >>> from wengert import optim
    >>> opt = optim.SGD([wg.Variable([0.0])], lr=1.0)
    >>> sched = optim.LambdaLR(opt, lambda epoch: 0.5**epoch)
    >>> sched.step()
    >>> opt.lr
    0.5
    """

    def __init__(
        self, optimizer: Optimizer, lr_lambda: Callable[[int], float], last_epoch: int = -1
    ):
        if not callable(lr_lambda):
            raise TypeError(
                "LambdaLR: lr_lambda must be a function of the epoch, got "
                f"{type(lr_lambda).__name__}."
            )
        self.lr_lambda = lr_lambda
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        factor = _checks.real(self.lr_lambda(epoch), f"lr_lambda({epoch})", "LambdaLR", low=0.0)
        return base_lr * factor


class StepLR(LRScheduler):
    """lr = initial lr * gamma ** (epoch // step_size).

    >>> import wengert as wg
    >>> from wengert import optim
    >>> opt = optim.SGD([wg.Variable([0.0])], lr=1.0)
    >>> sched = optim.StepLR(opt, step_size=2, gamma=0.1)
    >>> [round(sched.lr_at(1.0, e), 6) for e in range(5)]
    [1.0, 1.0, 0.1, 0.1, 0.01]
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ):
        self.step_size = _checks.integer(step_size, "step_size", "StepLR", low=1)
        self.gamma = _checks.real(gamma, "gamma", "StepLR", 0.0, low_open=True)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class MultiStepLR(LRScheduler):
    """lr = initial lr * gamma ** (number of milestones passed).

    >>> import wengert as wg
    >>> from wengert import optim
    >>> opt = optim.SGD([wg.Variable([0.0])], lr=1.0)
    >>> sched = optim.MultiStepLR(opt, milestones=[1, 3], gamma=0.5)
    >>> [sched.lr_at(1.0, e) for e in range(4)]
    [1.0, 0.5, 0.5, 0.25]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Sequence[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
    ):
        if isinstance(milestones, (str, bytes)) or not hasattr(milestones, "__iter__"):
            raise TypeError(
                "MultiStepLR: milestones must be a list of epochs, got "
                f"{type(milestones).__name__}."
            )
        self.milestones = sorted(
            _checks.integer(m, "milestones", "MultiStepLR", low=0) for m in milestones
        )
        self.gamma = _checks.real(gamma, "gamma", "MultiStepLR", 0.0, low_open=True)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** bisect.bisect_right(self.milestones, epoch)


class ExponentialLR(LRScheduler):
    """lr = initial lr * gamma ** epoch.

    >>> import wengert as wg
    >>> from wengert import optim
    >>> opt = optim.SGD([wg.Variable([0.0])], lr=1.0)
    >>> optim.ExponentialLR(opt, gamma=0.5).lr_at(1.0, 3)
    0.125
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = _checks.real(gamma, "gamma", "ExponentialLR", 0.0, low_open=True)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma**epoch


class CosineAnnealingLR(LRScheduler):
    """lr falls from the initial rate to `eta_min` along half a cosine over `T_max`
    epochs, then stays at `eta_min`.

    >>> import wengert as wg
    >>> from wengert import optim
    >>> opt = optim.SGD([wg.Variable([0.0])], lr=1.0)
    >>> sched = optim.CosineAnnealingLR(opt, T_max=4)
    >>> [round(sched.lr_at(1.0, e), 4) for e in range(5)]
    [1.0, 0.8536, 0.5, 0.1464, 0.0]
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ):
        self.T_max = _checks.integer(T_max, "T_max", "CosineAnnealingLR", low=1)
        self.eta_min = _checks.real(eta_min, "eta_min", "CosineAnnealingLR", low=0.0)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        e = min(epoch, self.T_max)
        return (
            self.eta_min + (base_lr - self.eta_min) * (1.0 + math.cos(math.pi * e / self.T_max)) / 2
        )


class LinearWarmup(LRScheduler):
    """The rate grows linearly from ``start_factor * initial`` to the initial rate over
    `warmup_epochs`, then follows `after` (another scheduler of the same optimiser,
    counted from the end of the warm-up) or stays constant.

    >>> import wengert as wg
    >>> from wengert import optim
    >>> opt = optim.SGD([wg.Variable([0.0])], lr=1.0)
    >>> cosine = optim.CosineAnnealingLR(opt, T_max=2)
    >>> sched = optim.LinearWarmup(opt, warmup_epochs=2, start_factor=0.0, after=cosine)
    >>> [round(sched.lr_at(1.0, e), 4) for e in range(5)]
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        warmup_epochs: int,
        start_factor: float = 0.1,
        after: LRScheduler | None = None,
        last_epoch: int = -1,
    ):
        self.warmup_epochs = _checks.integer(warmup_epochs, "warmup_epochs", "LinearWarmup", low=1)
        self.start_factor = _checks.real(start_factor, "start_factor", "LinearWarmup", 0.0, 1.0)
        if after is not None and not isinstance(after, LRScheduler):
            raise TypeError(
                f"LinearWarmup: after must be a scheduler (or None), got {type(after).__name__}."
            )
        if after is not None and after.optimizer is not optimizer:
            raise ValueError("LinearWarmup: `after` must schedule the same optimiser.")
        self.after = after
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        if epoch < self.warmup_epochs:
            frac = epoch / self.warmup_epochs
            return base_lr * (self.start_factor + (1.0 - self.start_factor) * frac)
        if self.after is None:
            return base_lr
        return self.after.lr_at(base_lr, epoch - self.warmup_epochs)
