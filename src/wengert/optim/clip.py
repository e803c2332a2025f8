"""Gradient clipping: by global norm (rescaling all gradients together) or by value."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .._core.box import getval
from .._core.tree import tree_flatten, tree_unflatten
from ..nn import _checks
from ..variable import Variable

__all__ = ["clip_by_global_norm", "clip_grad_norm_", "clip_grad_value_", "global_norm"]


def global_norm(arrays: Iterable[Any], norm_type: float = 2.0) -> float:
    """The norm of all entries of `arrays` taken together (``inf`` for the max norm).

    >>> import numpy as np
    >>> from wengert import optim
    >>> optim.global_norm([np.array([3.0]), np.array([4.0])])
    5.0
    """
    norm_type = _norm_type(norm_type, "global_norm")
    values = [np.abs(np.asarray(getval(a))) for a in arrays]
    if not values:
        return 0.0
    if norm_type == math.inf:
        return float(max(np.max(v) if v.size else 0.0 for v in values))
    total = sum(float(np.sum(v.astype(np.float64) ** norm_type)) for v in values)
    return total ** (1.0 / norm_type)


def _norm_type(value: Any, where: str) -> float:
    return _checks.real(value, "norm_type", where, 0.0, low_open=True, allow_inf=True)


def _params_with_grads(parameters, where: str) -> list[Variable]:
    if isinstance(parameters, Variable):
        parameters = [parameters]
    params = list(parameters)
    for p in params:
        if not isinstance(p, Variable):
            raise TypeError(
                f"{where}: parameters must be Variables (e.g. model.parameters()), got "
                f"{type(p).__name__}; for trees of gradients use clip_by_global_norm."
            )
    return [p for p in params if p.grad is not None]


def clip_grad_norm_(
    parameters: Iterable[Variable] | Variable,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    """Rescale the `.grad` of `parameters` so that their global norm is at most
    `max_norm`; returns the norm before clipping.

    >>> import wengert as wg
    >>> from wengert import optim
    >>> w = wg.Variable([3.0, 4.0])
    >>> (w * w).sum().backward()
    >>> optim.clip_grad_norm_([w], 1.0)
    10.0
    >>> w.grad.data.round(3)
    array([0.6, 0.8])
    """
    where = "clip_grad_norm_"
    max_norm = _checks.real(max_norm, "max_norm", where, low=0.0, allow_inf=True)
    norm_type = _norm_type(norm_type, where)
    error_if_nonfinite = _checks.boolean(error_if_nonfinite, "error_if_nonfinite", where)
    params = _params_with_grads(parameters, where)
    norm = global_norm([p.grad.value for p in params], norm_type)
    if not math.isfinite(norm) and error_if_nonfinite:
        raise ValueError(
            f"clip_grad_norm_: the gradients' norm is {norm}; pass error_if_nonfinite=False "
            "to clip anyway."
        )
    scale = max_norm / (norm + 1e-6)
    if scale < 1.0:
        for p in params:
            p.grad = Variable(p.grad.value * np.asarray(scale, dtype=p.grad.dtype), False)
    return norm


def clip_grad_value_(parameters: Iterable[Variable] | Variable, clip_value: float) -> None:
    """Clip every entry of the `.grad` of `parameters` to [-clip_value, clip_value].

    >>> import wengert as wg
    >>> from wengert import optim
    >>> w = wg.Variable([3.0, -4.0])
    >>> (w * w).sum().backward()
    >>> optim.clip_grad_value_([w], 1.0)
    >>> w.grad.data
    array([ 1., -1.])
    """
    where = "clip_grad_value_"
    clip_value = _checks.real(clip_value, "clip_value", where, low=0.0, allow_inf=True)
    for p in _params_with_grads(parameters, where):
        p.grad = Variable(np.clip(p.grad.value, -clip_value, clip_value), False)


def clip_by_global_norm(grads: Any, max_norm: float) -> tuple[Any, float]:
    """A tree of gradients rescaled to global norm at most `max_norm`, and the norm
    before clipping (the functional counterpart of `clip_grad_norm_`).

    >>> import numpy as np
    >>> from wengert import optim
    >>> clipped, norm = optim.clip_by_global_norm({"w": np.array([3.0, 4.0])}, 1.0)
    >>> clipped["w"].round(3), norm
    (array([0.6, 0.8]), 5.0)
    """
    max_norm = _checks.real(max_norm, "max_norm", "clip_by_global_norm", low=0.0, allow_inf=True)
    leaves, treedef = tree_flatten(grads)
    norm = global_norm(leaves)
    scale = max_norm / (norm + 1e-6)
    if scale >= 1.0:
        return grads, norm
    return tree_unflatten(treedef, [getval(g) * scale for g in leaves]), norm
