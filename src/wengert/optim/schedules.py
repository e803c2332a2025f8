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
        self._last_lr = []
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(base, self.last_epoch)
            self._last_lr.append(group["lr"])

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
        self.lr_lambda = lr_lambda
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.lr_lambda(epoch)


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
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be at least 1, got {step_size}.")
        self.step_size, self.gamma = step_size, gamma
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
        self.milestones, self.gamma = sorted(milestones), gamma
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
        self.gamma = gamma
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
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be at least 1, got {T_max}.")
        self.T_max, self.eta_min = T_max, eta_min
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
        if warmup_epochs < 1:
            raise ValueError(
                f"LinearWarmup: warmup_epochs must be at least 1, got {warmup_epochs}."
            )
        if after is not None and after.optimizer is not optimizer:
            raise ValueError("LinearWarmup: `after` must schedule the same optimiser.")
        self.warmup_epochs, self.start_factor, self.after = warmup_epochs, start_factor, after
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        if epoch < self.warmup_epochs:
            frac = epoch / self.warmup_epochs
            return base_lr * (self.start_factor + (1.0 - self.start_factor) * frac)
        if self.after is None:
            return base_lr
        return self.after.lr_at(base_lr, epoch - self.warmup_epochs)
