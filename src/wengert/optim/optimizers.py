"""Optimisers: SGD (momentum, Nesterov, weight decay), Adam, AdamW, RMSprop, Adagrad.

Each optimiser is one update rule on plain arrays, ``_update(param, grad, state, group)
-> (new_param, new_state)``, with two faces:

- define-by-run, as in PyTorch: ``opt = Adam(model.parameters(), lr=1e-3)``, then
  ``opt.zero_grad()``, ``loss.backward()``, ``opt.step()``;
- functional, for trees of arrays: ``opt = Adam(lr=1e-3)``, ``state = opt.init(params)``,
  ``params, state = opt.update(params, grads, state)``.

Updates replace each parameter's array rather than writing into it, so a graph recorded
before the step still holds the values it used.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import numpy as np

from .._core.box import getval
from .._core.tree import tree_flatten, tree_unflatten
from ..nn import _checks
from ..variable import Variable, no_grad

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop"]

_Check = Callable[[Any, str, str], Any]


def _at_least_zero(value: Any, name: str, where: str) -> float:
    return _checks.real(value, name, where, low=0.0)


def _positive(value: Any, name: str, where: str) -> float:
    return _checks.real(value, name, where, low=0.0, low_open=True)


def _below_one(value: Any, name: str, where: str) -> float:
    return _checks.real(value, name, where, 0.0, 1.0, high_open=True)


def _unit(value: Any, name: str, where: str) -> float:
    return _checks.real(value, name, where, 0.0, 1.0)


def _betas(value: Any, name: str, where: str) -> tuple[float, float]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{where}: {name} must be a pair of real numbers in [0, 1), got {value!r}.")
    return _below_one(value[0], f"{name}[0]", where), _below_one(value[1], f"{name}[1]", where)


def _like_param(g: Any, p: Any) -> Any:
    """The gradient in the parameter's floating dtype, so that a step keeps it (a float64
    gradient never turns float32 parameters or optimiser state into float64)."""
    p_dtype, g_dtype = np.result_type(p), np.result_type(g)
    if p_dtype != g_dtype and p_dtype.kind == "f" and g_dtype.kind == "f":
        return np.asarray(g).astype(p_dtype)
    return g


class Optimizer:
    """Base class: parameter groups, per-parameter state, `step`, `zero_grad`, and the
    functional `init`/`update`.

    `params` is an iterable of Variables (Parameters), or of dicts ``{"params": [...],
    "lr": ...}`` that give a group its own settings; None for the functional face.
    Every setting, of the defaults and of each group, is checked against its range
    (`_settings`), where the optimiser is built or a group added.
    """

    # Each setting's check: (value, name, class name) -> the value as a Python number.
    _settings: ClassVar[dict[str, _Check]] = {"lr": _at_least_zero}

    def __init__(self, params: Iterable[Any] | None, defaults: dict[str, Any]) -> None:
        self.defaults = self._check_settings(dict(defaults))
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[int, dict[str, Any]] = {}
        if params is None:
            self.param_groups.append({**self.defaults, "params": []})
            return
        if isinstance(params, (Variable, dict)) or not isinstance(params, Iterable):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Variables (e.g. "
                f"model.parameters()) or of parameter-group dicts, got {type(params).__name__}."
            )
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty list of parameters.")
        if isinstance(params[0], dict):
            for group in params:
                self.add_param_group(group)
        else:
            self.add_param_group({"params": params})

    def _check_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        """`settings` with each known one checked and made a plain Python value."""
        where = type(self).__name__
        checked = dict(settings)
        for name, check in {**self._settings, "initial_lr": _at_least_zero}.items():
            if name in checked:
                checked[name] = check(checked[name], name, where)
        self._check_group(checked)
        return checked

    def _check_group(self, settings: dict[str, Any]) -> None:
        """Checks that tie several settings together (none by default)."""

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add parameters with their own settings (missing ones from the defaults)."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(
                f"{type(self).__name__}: a parameter group is a dict with a 'params' entry, "
                f"got {group!r:.60}."
            )
        params = group["params"]
        params = [params] if isinstance(params, Variable) else list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in params:
            if not isinstance(p, Variable):
                raise TypeError(
                    f"{type(self).__name__} optimises Variables (e.g. model.parameters()), "
                    f"got {type(p).__name__}; for trees of arrays use init()/update()."
                )
            if not p.is_leaf:
                raise ValueError(f"{type(self).__name__} can only optimise leaf Variables.")
            if id(p) in seen:
                raise ValueError("a parameter appears in more than one parameter group.")
            seen.add(id(p))
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
        if unknown:
            raise TypeError(f"{type(self).__name__}: unknown settings {sorted(unknown)}.")
        settings = self._check_settings({**self.defaults, **group, "params": params})
        self.param_groups.append(settings)

    @property
    def lr(self) -> float:
        """The learning rate of the first parameter group."""
        return self.param_groups[0]["lr"]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of all parameters (to None, or to zeros)."""
        set_to_none = _checks.boolean(set_to_none, "set_to_none", "zero_grad")
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad = Variable(np.zeros_like(p.value), requires_grad=False)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; `closure` (optional) recomputes
        the loss first and its value is returned."""
        loss = None
        if closure is not None:
            if not callable(closure):
                raise TypeError(
                    f"step: closure must be a function (or None), got {type(closure).__name__}."
                )
            loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    key = id(p)
                    grad = _like_param(getval(p.grad), p.value)
                    new, self.state[key] = self._update(
                        p.value, grad, self.state.get(key, {}), group
                    )
                    p.value = new
        return loss

    def _update(self, p, g, state: dict, group: dict) -> tuple[Any, dict]:
        """One parameter's new value and state; each optimiser defines it."""
        raise NotImplementedError(f"{type(self).__name__} does not define _update().")

    # --- functional face -------------------------------------------------------------------
    def init(self, params: Any) -> list[dict[str, Any]]:
        """The initial (empty) state for a tree of parameter arrays."""
        leaves, _ = tree_flatten(params)
        return [{} for _ in leaves]

    def update(self, params: Any, grads: Any, state: list[dict[str, Any]]) -> tuple[Any, list]:
        """One step on a tree of arrays: returns the new parameters and the new state
        (the old ones are left unchanged), with the settings of the first group.

        >>> import numpy as np
        >>> from wengert import optim
        >>> opt = optim.SGD(lr=0.1)
        >>> params = {"w": np.array([1.0, 2.0])}
        >>> state = opt.init(params)
        >>> params, state = opt.update(params, {"w": np.array([1.0, 1.0])}, state)
        >>> params["w"]
        array([0.9, 1.9])
        """
        p_leaves, p_def = tree_flatten(params)
        g_leaves, g_def = tree_flatten(grads)
        if p_def != g_def:
            raise ValueError(f"update: params have structure {p_def} but grads have {g_def}.")
        if len(state) != len(p_leaves):
            raise ValueError("update: the state does not match the parameters; use init().")
        group = self.param_groups[0]
        new_params, new_state = [], []
        for p, g, s in zip(p_leaves, g_leaves, state):
            p = getval(p)
            new_p, new_s = self._update(p, _like_param(getval(g), p), s, group)
            new_params.append(new_p)
            new_state.append(new_s)
        return tree_unflatten(p_def, new_params), new_state

    # --- checkpoints -------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The settings of each group and the state of each parameter, by position."""
        index, groups = 0, []
        state = {}
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                if id(p) in self.state:
                    state[index] = {k: np.copy(v) for k, v in self.state[id(p)].items()}
                ids.append(index)
                index += 1
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore settings and state saved by `state_dict` for the same parameters."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
            len(a["params"]) != len(b["params"]) for a, b in zip(groups, self.param_groups)
        ):
            raise ValueError("load_state_dict: the saved optimiser has different parameter groups.")
        params = [p for group in self.param_groups for p in group["params"]]
        checked = [
            self._check_settings({k: v for k, v in saved.items() if k != "params"})
            for saved in groups
        ]
        for settings, group in zip(checked, self.param_groups):
            group.update(settings)
        self.state = {
            id(params[int(i)]): {k: np.copy(v) for k, v in s.items()}
            for i, s in state_dict["state"].items()
        }

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v}" for k, v in self.defaults.items())
        return f"{type(self).__name__}({settings})"


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, Nesterov momentum and weight decay
    (PyTorch's formulation: the momentum buffer starts at the first gradient).

    >>> import wengert as wg
    >>> from wengert import optim
    >>> w = wg.Variable([1.0])
    >>> opt = optim.SGD([w], lr=0.5)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w.data
    array([0.])
    """

    _settings: ClassVar[dict[str, _Check]] = {
        "lr": _at_least_zero,
        "momentum": _below_one,
        "dampening": _unit,
        "weight_decay": _at_least_zero,
        "nesterov": _checks.boolean,
    }

    def __init__(
        self,
        params: Iterable[Any] | None = None,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
            ),
        )

    def _check_group(self, settings: dict[str, Any]) -> None:
        if settings["nesterov"] and (settings["momentum"] <= 0 or settings["dampening"] != 0):
            raise ValueError(
                "SGD: Nesterov momentum needs momentum > 0 and zero dampening, got "
                f"momentum={settings['momentum']}, dampening={settings['dampening']}."
            )

    def _update(self, p, g, state, group):
        wd, momentum = group["weight_decay"], group["momentum"]
        if wd:
            g = g + wd * p
        if momentum:
            buf = state.get("momentum_buffer")
            buf = g if buf is None else momentum * buf + (1.0 - group["dampening"]) * g
            state = {"momentum_buffer": buf}
            g = g + momentum * buf if group["nesterov"] else buf
        return p - group["lr"] * g, state


class Adam(Optimizer):
    """Adam: steps scaled by running estimates of the gradient's first and second
    moments, with bias correction; `weight_decay` adds an L2 term to the gradient
    (see `AdamW` for decoupled decay); `amsgrad` keeps the maximum second moment.

    >>> import wengert as wg
    >>> from wengert import optim
    >>> w = wg.Variable([1.0])
    >>> opt = optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w.data.round(6)
    array([0.9])
    """

    _decoupled = False
    _settings: ClassVar[dict[str, _Check]] = {
        "lr": _at_least_zero,
        "betas": _betas,
        "eps": _positive,
        "weight_decay": _at_least_zero,
        "amsgrad": _checks.boolean,
    }

    def __init__(
        self,
        params: Iterable[Any] | None = None,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(
            params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
        )

    def _update(self, p, g, state, group):
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        t = state.get("step", 0) + 1
        if wd:
            if self._decoupled:
                p = p * (1.0 - lr * wd)
            else:
                g = g + wd * p
        m = state.get("exp_avg")
        v = state.get("exp_avg_sq")
        m = (1.0 - b1) * g if m is None else b1 * m + (1.0 - b1) * g
        v = (1.0 - b2) * (g * g) if v is None else b2 * v + (1.0 - b2) * (g * g)
        new_state = {"step": t, "exp_avg": m, "exp_avg_sq": v}
        if group["amsgrad"]:
            v_max = state.get("max_exp_avg_sq")
            v = v if v_max is None else np.maximum(v_max, v)
            new_state["max_exp_avg_sq"] = v
        step_size = lr / (1.0 - b1**t)
        denom = np.sqrt(v) * (1.0 / math.sqrt(1.0 - b2**t)) + eps
        return p - step_size * (m / denom), new_state


class AdamW(Adam):
    """Adam with decoupled weight decay: parameters shrink by ``lr * weight_decay`` each
    step, apart from the adaptive gradient step (Loshchilov and Hutter).

    >>> import wengert as wg
    >>> from wengert import optim
    >>> opt = optim.AdamW([wg.Variable([1.0])], lr=1e-3)
    >>> opt.param_groups[0]["weight_decay"]
    0.01
    """

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Any] | None = None,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


class RMSprop(Optimizer):
    """RMSprop: steps divided by a running root mean square of the gradient; optional
    momentum, centring (subtracting the running mean) and weight decay.

    >>> import wengert as wg
    >>> from wengert import optim
    >>> w = wg.Variable([1.0])
    >>> opt = optim.RMSprop([w], lr=0.01)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w.data.round(4)
    array([0.9])
    """

    _settings: ClassVar[dict[str, _Check]] = {
        "lr": _at_least_zero,
        "alpha": _below_one,
        "eps": _positive,
        "weight_decay": _at_least_zero,
        "momentum": _below_one,
        "centered": _checks.boolean,
    }

    def __init__(
        self,
        params: Iterable[Any] | None = None,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        super().__init__(
            params,
            dict(
                lr=lr,
                alpha=alpha,
                eps=eps,
                weight_decay=weight_decay,
                momentum=momentum,
                centered=centered,
            ),
        )

    def _update(self, p, g, state, group):
        alpha, eps, wd = group["alpha"], group["eps"], group["weight_decay"]
        if wd:
            g = g + wd * p
        sq = state.get("square_avg")
        sq = (1.0 - alpha) * (g * g) if sq is None else alpha * sq + (1.0 - alpha) * (g * g)
        new_state = {"square_avg": sq}
        if group["centered"]:
            ga = state.get("grad_avg")
            ga = (1.0 - alpha) * g if ga is None else alpha * ga + (1.0 - alpha) * g
            new_state["grad_avg"] = ga
            avg = np.sqrt(sq - ga * ga) + eps
        else:
            avg = np.sqrt(sq) + eps
        if group["momentum"]:
            buf = state.get("momentum_buffer")
            buf = g / avg if buf is None else group["momentum"] * buf + g / avg
            new_state["momentum_buffer"] = buf
            return p - group["lr"] * buf, new_state
        return p - group["lr"] * (g / avg), new_state


class Adagrad(Optimizer):
    """Adagrad: steps divided by the root of the running sum of squared gradients,
    with optional learning-rate decay and weight decay.

    >>> import wengert as wg
    >>> from wengert import optim
    >>> w = wg.Variable([1.0])
    >>> opt = optim.Adagrad([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w.data.round(6)
    array([0.9])
    """

    _settings: ClassVar[dict[str, _Check]] = {
        "lr": _at_least_zero,
        "lr_decay": _at_least_zero,
        "weight_decay": _at_least_zero,
        "initial_accumulator_value": _at_least_zero,
        "eps": _positive,
    }

    def __init__(
        self,
        params: Iterable[Any] | None = None,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        super().__init__(
            params,
            dict(
                lr=lr,
                lr_decay=lr_decay,
                weight_decay=weight_decay,
                initial_accumulator_value=initial_accumulator_value,
                eps=eps,
            ),
        )

    def _update(self, p, g, state, group):
        t = state.get("step", 0) + 1
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        total = state.get("sum")
        if total is None:
            total = np.full_like(p, group["initial_accumulator_value"])
        total = total + g * g
        lr = group["lr"] / (1.0 + (t - 1) * group["lr_decay"])
        return p - lr * (g / (np.sqrt(total) + group["eps"])), {"step": t, "sum": total}
