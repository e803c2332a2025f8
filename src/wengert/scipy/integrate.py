"""Differentiable `scipy.integrate.odeint`, with HIPS autograd's signature.

``odeint(func, y0, t, args=())`` solves dy/dt = func(y, t, *args) with SciPy's LSODA and is
differentiable with respect to y0, the times t and every array in args. Its reverse rule
is the adjoint method: the adjoint state is integrated backwards from each output time to
the one before, alongside y, and the vector-Jacobian products of func that drive it come
from wengert's own `vjp` of func. Its forward rule integrates the forward sensitivity
equations: the tangent of y alongside y, driven by wengert's `jvp` of func. Both rules
solve their augmented systems with this same primitive, so they can be differentiated in
turn: second derivatives are derivatives of the rules' own integrations.

>>> import numpy as np
>>> import wengert as wg
>>> t = np.array([0.0, 1.0])
>>> decay = lambda k: odeint(lambda y, t, k: -k * y, np.array([1.0]), t, (k,), rtol=1e-10)
>>> round(float(wg.grad(lambda k: decay(k)[1, 0])(0.5)), 6)  # d/dk exp(-k) = -exp(-k)
-0.606531
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.integrate as si

from .. import numpy as wnp
from .._core.box import Box, peek
from .._core.primitive import Primitive
from .._core.tree import tree_flatten, tree_unflatten
from .._core.vspace import asarray, is_foreign_array, refuse_foreign, shape_of
from ..api import jvp, vjp

__all__ = ["odeint"]

# Options that describe the Jacobian of the original system only: the augmented systems
# of the rules are solved without them.
_PRIMAL_ONLY = ("Dfun", "col_deriv", "ml", "mu")


def _numeric(x: Any) -> bool:
    """Whether a leaf of args is a number or an array (passed to the primitive)."""
    if is_foreign_array(x):  # (an array of another library: refused by the primitive)
        return True
    return isinstance(x, (Box, np.ndarray, np.generic, int, float, complex)) and not isinstance(
        x, bool
    )


def _odeint_impl(y0, t, *args, func, options=()):
    """y at the times t, as rows, from SciPy's LSODA, in the inputs' floating dtype."""
    refuse_foreign(
        "scipy.integrate.odeint",
        y0,
        t,
        *args,
        why="SciPy's LSODA steps on the host, calling func with NumPy arrays",
    )
    floats = [v for v in (y0, t, *args) if np.result_type(v).kind == "f"]
    dtype = np.result_type(*floats) if floats else np.dtype(np.float64)

    def rhs(y, s, *args):
        dy = func(y, s, *args)
        if isinstance(dy, Box):
            raise TypeError(
                "odeint: func returned a traced value while the solver ran: it reads a "
                "differentiated variable from its closure. Pass such values to func through "
                "args=(...) instead, so that odeint can differentiate with respect to them."
            )
        return np.asarray(dy, dtype=np.float64)

    # The solver works in float64: func sees float64 states, and float64 arguments too.
    args = tuple(_in_float64(a) for a in args)
    ys = si.odeint(rhs, np.asarray(y0, dtype=np.float64), np.asarray(t), args, **dict(options))
    return ys.astype(dtype, copy=False)


def _in_float64(x: Any) -> Any:
    if isinstance(x, (np.ndarray, np.generic)) and x.dtype.kind == "f":
        return x.astype(np.float64)
    return x


def _augmented_options(options: tuple, backwards: bool = False) -> tuple:
    """The solver options for a rule's augmented system: without the original system's
    Jacobian, a per-component tolerance replaced by its strictest entry, and, for the
    adjoint's backward solves, without critical times (LSODA takes them only ahead)."""
    out = []
    for key, value in options:
        if key in _PRIMAL_ONLY or (backwards and key == "tcrit"):
            continue
        if key in ("rtol", "atol") and np.ndim(value):
            value = float(np.min(value))
        out.append((key, value))
    return tuple(out)


def _with(args: tuple, positions: list[int], values) -> list:
    full = list(args)
    for j, v in zip(positions, values):
        full[j] = v
    return full


def _odeint_vjp(g, ans, argnums, y0, t, *args, func, options=()):
    """The adjoint method (as HIPS autograd's odeint): from the last output time back to the
    first, the state [y, a, a_t, a_args] is integrated backwards over each interval, with
    da/dt = -a df/dy, da_t/dt = -a df/dt and da_args/dt = -a df/dargs; a collects the
    output cotangents on the way. A time t_i > t_0 moves output i by f(y_i, t_i)."""
    n, size = shape_of(ans)
    want_t = 1 in argnums
    params = [i - 2 for i in argnums if i >= 2]
    shapes = [shape_of(args[j]) for j in params]
    dynamics = _adjoint_dynamics(func, size, want_t, params)
    options = _augmented_options(options, backwards=True)
    a = g[n - 1]
    a_t = wnp.zeros_like(t[0])
    a_args = [wnp.zeros_like(args[j]) for j in params]
    time_cotangents = []
    for i in range(n - 1, 0, -1):
        if want_t:
            moved = wnp.dot(func(ans[i], t[i], *args), g[i])
            time_cotangents.append(moved)
            a_t = a_t - moved
        parts = [ans[i], a]
        parts += [wnp.reshape(a_t, (1,))] if want_t else []
        parts += [wnp.ravel(c) for c in a_args]
        state = _odeint(
            wnp.concatenate(parts),
            wnp.stack([t[i], t[i - 1]]),
            *args,
            func=dynamics,
            options=options,
        )[1]
        a = state[size : 2 * size] + g[i - 1]
        at = 2 * size
        if want_t:
            a_t, at = state[at], at + 1
        for k, shape in enumerate(shapes):
            count = int(np.prod(shape, dtype=int))
            a_args[k] = wnp.reshape(state[at : at + count], shape)
            at += count
    out = {0: a}
    if want_t:
        out[1] = wnp.stack([a_t, *time_cotangents[::-1]])
    for j, c in zip(params, a_args):
        out[j + 2] = c
    return [out[i] for i in argnums]


def _adjoint_dynamics(func: Callable, size: int, want_t: bool, params: list[int]) -> Callable:
    """The right-hand side of the adjoint system (see `_odeint_vjp`)."""

    def dynamics(state, s, *args):
        y, a = state[:size], state[size : 2 * size]
        if want_t:

            def f(y, s, *moved):
                return func(y, s, *_with(args, params, moved))

            dy, pullback = vjp(f, y, s, *[args[j] for j in params])
        else:

            def f(y, *moved):
                return func(y, s, *_with(args, params, moved))

            dy, pullback = vjp(f, y, *[args[j] for j in params])
        cotangents = pullback(-a)
        parts = [dy, cotangents[0]]
        if want_t:
            parts.append(wnp.reshape(cotangents[1], (1,)))
        parts += [wnp.ravel(c) for c in cotangents[1 + want_t :]]
        return wnp.concatenate(parts)

    return dynamics


def _odeint_jvp(tangents, ans, y0, t, *args, func, options=()):
    """The forward sensitivity equations: [y, s] integrated together from t_0, with
    ds/dt = df/dy s + df/dargs dargs and s(t_0) = dy0 - f(y0, t_0) dt_0; output i then moves
    by s(t_i) + f(y_i, t_i) dt_i (its own time moved)."""
    dy0, dt, *dargs = tangents
    moving = [j for j, d in enumerate(dargs) if d is not None]
    size = shape_of(ans)[1]
    s0 = wnp.zeros_like(y0) if dy0 is None else dy0
    if dt is not None:
        s0 = s0 - func(y0, t[0], *args) * dt[0]
    dynamics = _sensitivity_dynamics(func, size, len(args), moving)
    both = _odeint(
        wnp.concatenate([y0, s0]),
        t,
        *args,
        *[dargs[j] for j in moving],
        func=dynamics,
        options=_augmented_options(options),
    )
    out = both[:, size:]
    if dt is not None:
        rates = wnp.stack([func(ans[i], t[i], *args) for i in range(shape_of(ans)[0])])
        out = out + rates * wnp.reshape(dt, (-1, 1))
    return out


def _sensitivity_dynamics(func: Callable, size: int, count: int, moving: list[int]) -> Callable:
    """The right-hand side of the sensitivity system (see `_odeint_jvp`)."""

    def dynamics(state, s, *values):
        args, dargs = values[:count], values[count:]
        y, sensitivity = state[:size], state[size:]

        def f(y, *moved):
            return func(y, s, *_with(args, moving, moved))

        dy, ddy = jvp(f, (y, *[args[j] for j in moving]), (sensitivity, *dargs))
        return wnp.concatenate([dy, ddy])

    return dynamics


_odeint = Primitive(_odeint_impl, "odeint")
_odeint.defvjp_all(_odeint_vjp)
_odeint.defjvp_all(_odeint_jvp)
# No source form: Program.source cannot write odeint, whose right-hand side is a Python
# function (and whose rules integrate closures over wengert's vjp and jvp of it); recorded
# programs (make_program, jit) evaluate it like any other primitive.


def _refuse_complex(name: str, x: Any) -> None:
    if np.result_type(peek(x)).kind == "c":
        raise TypeError(
            f"odeint: {name} is complex ({np.result_type(peek(x))}); SciPy's odeint solves "
            "real systems only. Split the state into real and imaginary parts."
        )


def odeint(func: Callable, y0: Any, t: Any, args: tuple = (), **kwargs: Any) -> Any:
    """y at the times `t`, where dy/dt = func(y, t, *args) and y(t[0]) = y0 (SciPy's LSODA).

    As `autograd.scipy.integrate.odeint` (which is `scipy.integrate.odeint`), but
    differentiable, in both modes and to any order, with respect to `y0`, `t` and every
    floating-point array in `args` (a tuple, possibly nested; values that `func` reads from
    its closure are constants). Keyword arguments are SciPy's: ``rtol`` and ``atol`` apply
    to the rules' integrations too (derivatives are as accurate as the solves; a
    per-component tolerance becomes its strictest entry there), ``tfirst`` swaps func's
    first two arguments, ``Dfun`` (and ``col_deriv``, ``ml``, ``mu``) serve only the
    original system, ``tcrit`` is not used by the adjoint's backward solves, and
    ``full_output`` is refused. The result has shape ``(len(t),) + y0.shape`` (func sees
    and returns arrays shaped like y0), except that a scalar y0 is a state of shape (1,),
    as in SciPy and autograd. It is float32 if y0, t and args are; SciPy computes in
    float64 either way.

    >>> import numpy as np
    >>> ys = odeint(lambda y, t: -y, np.array([1.0, 2.0]), np.array([0.0, np.log(2.0)]))
    >>> np.round(ys, 6)
    array([[1. , 2. ],
           [0.5, 1. ]])
    """
    if not callable(func):
        raise TypeError(f"odeint: func must be callable as func(y, t, *args), got {func!r}")
    if not isinstance(args, tuple):
        raise TypeError(
            f"odeint: args must be a tuple of func's extra arguments, got "
            f"{type(args).__name__}; pass args=(value,) for a single one."
        )
    if kwargs.get("full_output"):
        raise ValueError(
            "odeint: full_output=True is not supported: the solver's diagnostics have no "
            "derivative. Call scipy.integrate.odeint on plain arrays to get them."
        )
    kwargs.pop("full_output", None)
    if kwargs.pop("tfirst", False):
        user = func

        def func(y, t, *args):
            return user(t, y, *args)

    y0, t = asarray(y0), asarray(t)  # (arrays of another library: refused by odeint)
    _refuse_complex("y0", y0)
    _refuse_complex("t", t)
    if len(shape_of(t)) != 1 or shape_of(t)[0] < 1:
        raise ValueError(
            f"odeint: t must be a 1-D array of at least one time (the first is y0's), got "
            f"shape {shape_of(t)}; pass e.g. t=np.linspace(0.0, 1.0, 11)."
        )
    if np.result_type(peek(y0)).kind not in "f":
        y0 = y0.astype(np.float64)
    if np.result_type(peek(t)).kind not in "f":
        t = t.astype(np.float64)
    shape = shape_of(y0) or (1,)
    size = int(np.prod(shape, dtype=int))
    leaves, treedef = tree_flatten(args)
    positions = [j for j, leaf in enumerate(leaves) if _numeric(leaf)]
    for j in positions:
        _refuse_complex(f"args leaf {j}", leaves[j])

    def flat_func(y, s, *values):
        full = tree_unflatten(treedef, _with(leaves, positions, values))
        dy = func(wnp.reshape(y, shape), s, *full)
        if isinstance(dy, (list, tuple)):
            dy = wnp.array(dy)
        if shape_of(dy) != shape and not (shape_of(dy) == () and shape == (1,)):
            raise ValueError(
                f"odeint: func returned dy/dt of shape {shape_of(dy)} for a state y of shape "
                f"{shape}; it must return an array shaped like y0."
            )
        return wnp.reshape(dy, (size,))

    flat_func.__name__ = getattr(func, "__name__", "func")
    ys = _odeint(
        wnp.reshape(y0, (size,)),
        t,
        *[leaves[j] for j in positions],
        func=flat_func,
        options=tuple(sorted(kwargs.items())),
    )
    return wnp.reshape(ys, (shape_of(t)[0], *shape))
