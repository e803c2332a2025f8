"""`check_grads`: compare every derivative wengert computes with numerical ones.

Forward results are compared with Richardson-extrapolated central differences along
seeded random directions; reverse results by the identity <u, J v> = <J^T u, v>;
higher orders by checking the AD derivatives themselves in turn. On failure the
report names the mode, the order, the inputs, both values, and the first primitive of
the function whose own rules fail the same check at the same point.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._core.box import getval
from ._core.reverse import ReverseTrace, materialize, toposort
from ._core.tree import tree_flatten, tree_unflatten
from .api import jvp, vjp
from .errors import WengertError
from .numeric import richardson

__all__ = ["GradientCheckError", "check_grads"]


class GradientCheckError(WengertError, AssertionError):
    """A derivative disagrees with its numerical estimate."""


def check_grads(
    fun: Callable,
    modes: Sequence[str] = ("fwd", "rev"),
    order: int = 2,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    seed: int = 0,
) -> Callable[..., None]:
    """A checker that raises `GradientCheckError` if a derivative of `fun` is wrong.

    ``check_grads(f, modes=("fwd", "rev"), order=2)(*args)`` checks the JVP and VJP of
    `f` at `args` and, for ``order=2``, the derivatives of those, against numerical
    derivatives. Only floating-point leaves of the arguments are differentiated.

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> wg.check_grads(wnp.sin, order=2)(0.3)
    """
    modes = tuple(modes)
    for mode in modes:
        if mode not in ("fwd", "rev"):
            raise ValueError(f"check_grads: unknown mode {mode!r}; use 'fwd' and/or 'rev'.")
    if order < 1:
        raise ValueError("check_grads: order must be at least 1.")

    def checker(*args: Any) -> None:
        leaves, treedef = tree_flatten(args)
        diff = [i for i, x in enumerate(leaves) if _is_float(x)]

        def flat_fun(*xs):
            full = list(leaves)
            for i, x in zip(diff, xs):
                full[i] = x
            return fun(*tree_unflatten(treedef, full))

        rng = np.random.default_rng(seed)
        try:
            _check(flat_fun, [leaves[i] for i in diff], modes, order, rtol, atol, rng, 1)
        except GradientCheckError as err:
            culprit = _localize(flat_fun, [leaves[i] for i in diff], modes, order, rtol, atol)
            if culprit:
                raise GradientCheckError(f"{err}\n{culprit}") from None
            raise

    return checker


def _is_float(x) -> bool:
    value = getval(x)
    return isinstance(value, (float, complex)) or np.issubdtype(np.result_type(value), np.inexact)


def _random_like(x, rng):
    """A random direction shaped like `x`: complex where `x` is complex."""
    value = getval(x)
    shape = np.shape(value)
    out = rng.standard_normal(shape)
    if np.iscomplexobj(value):
        out = out + 1j * rng.standard_normal(shape)
    if shape == () and isinstance(value, (float, complex)):
        return complex(out) if np.iscomplexobj(out) else float(out)
    return out


def _pairing(a, b) -> float:
    """Re sum(a * b): the bilinear pairing under which reverse rules are transposes.

    Rules follow the transpose convention (no conjugation), so for every R-linear map J
    and its reverse rule J^T: Re <J^T u, v> = Re <u, J v> with this pairing.
    """
    return float(np.real(np.sum(np.ravel(a) * np.ravel(b))))


def _numeric_jvp(fun, xs, vs):
    """Numerical derivative of the flattened outputs along `vs`, with its error estimate."""
    _, out_def = tree_flatten(fun(*xs))

    def along(t):
        shifted = [getval(x) + t * v for x, v in zip(xs, vs)]
        out_leaves = [getval(o) for o in tree_flatten(fun(*shifted))[0]]
        if not out_leaves:
            return np.zeros(0)
        dtype = complex if any(np.iscomplexobj(o) for o in out_leaves) else float
        return np.concatenate([np.ravel(np.asarray(o, dtype=dtype)) for o in out_leaves])

    estimate, error = richardson(along, 0.0, 1.0)
    return estimate, error, out_def


def _close(a, b, rtol, atol, error=0.0) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    scale = np.maximum(np.abs(a), np.abs(b))
    return bool(np.all(np.abs(a - b) <= atol + rtol * scale + 10 * np.asarray(error)))


def _fmt(x) -> str:
    return np.array2string(np.asarray(getval(x)), precision=8, threshold=20)


def _fail(mode, order, xs, ad, numeric, what) -> GradientCheckError:
    inputs = ", ".join(_fmt(x) for x in xs)
    return GradientCheckError(
        f"{mode}-mode derivative of order {order} is wrong ({what}).\n"
        f"  inputs:    {inputs}\n  autodiff:  {_fmt(ad)}\n  numerical: {_fmt(numeric)}"
    )


def _check(fun, xs, modes, order, rtol, atol, rng, level) -> None:
    if not xs:
        return
    vs = [_random_like(x, rng) for x in xs]
    numeric, error, out_def = _numeric_jvp(fun, xs, vs)
    if "fwd" in modes:
        _, tangent = jvp(fun, tuple(xs), tuple(vs))
        ad = _flat(tangent)
        if not _close(ad, numeric, rtol, atol, error):
            raise _fail("forward", level, xs, ad, numeric, "JVP along a random direction")
    if "rev" in modes:
        out, pullback = vjp(fun, *xs)
        out_leaves, _ = tree_flatten(out)
        us = [_random_like(o, rng) for o in out_leaves]
        cotangents = pullback(tree_unflatten(out_def, us))
        lhs = sum(_pairing(getval(c), v) for c, v in zip(cotangents, vs))
        rhs = _pairing(_flat(tree_unflatten(out_def, us)), numeric)
        bound = float(np.sum(np.abs(_flat(tree_unflatten(out_def, us))) * error))
        if not _close(lhs, rhs, rtol, atol, bound):
            raise _fail("reverse", level, xs, lhs, rhs, "<J^T u, v> against <u, J v>")
    if order > 1:
        # The derivatives themselves, as functions of the point, checked one order lower.
        derivatives = []
        if "fwd" in modes:
            derivatives.append(lambda *ys: jvp(fun, ys, tuple(vs))[1])
        if "rev" in modes:
            us_tree = tree_unflatten(out_def, us)
            derivatives.append(lambda *ys: vjp(fun, *ys)[1](us_tree))
        for derivative in derivatives:
            _check(derivative, xs, modes, order - 1, rtol, atol, rng, level + 1)


def _flat(tree) -> np.ndarray:
    leaves = tree_flatten(tree)[0]
    if not leaves:
        return np.zeros(0)
    return np.concatenate([np.ravel(getval(x)) for x in leaves])


def _localize(fun, xs, modes, order, rtol, atol) -> str:
    """The first primitive of `fun` at `xs` whose own rules fail the check, if any."""
    trace = ReverseTrace()
    try:
        boxes = [trace.new_input(x) for x in xs]
        out = fun(*boxes)
    except Exception:
        return ""
    finally:
        trace.alive = False
    roots = [leaf.node for leaf in tree_flatten(out)[0] if getattr(leaf, "_trace", None) is trace]
    if not roots:
        return ""
    for node in reversed(toposort(roots)):
        prim = node.primitive
        if prim is None:
            continue
        materialize(node)
        args, kwargs, argnums = node.args, node.kwargs, node.argnums

        def single(*diff_args, prim=prim, args=args, kwargs=kwargs, argnums=argnums):
            full = list(args)
            for i, a in zip(argnums, diff_args):
                full[i] = a
            return prim(*full, **kwargs)

        point = [args[i] for i in argnums]
        try:
            _check(single, point, modes, order, rtol, atol, np.random.default_rng(0), 1)
        except GradientCheckError as err:
            return f"  culprit: primitive {prim.name!r} fails on its own at this point:\n{err}"
        except Exception:
            continue
    return ""
