"""`check_grads`: compare every derivative wengert computes with numerical ones.

Forward results are compared with Richardson-extrapolated central differences along
seeded random directions; reverse results by the identity <u, J v> = <J^T u, v>;
higher orders by checking the AD derivatives themselves in turn.

A difference quotient is only evidence where the function is smooth within the step. When
the first estimate disagrees with autodiff, or its own error estimate is large, the checker
looks closer: one-sided differences from each side, at steps shrinking towards the point.
Where both sides agree the function is smooth there and a mismatch is a wrong derivative
(`GradientCheckError`, naming the input entry and the first primitive whose own rules fail).
Where they differ the point is a kink, and autodiff must agree with one side (or lie between
them): then the check passes with a `NonSmoothPointWarning`, else it raises
`NonDifferentiablePointError` rather than blame a rule.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._core.box import getval, peek
from ._core.reverse import ReverseTrace, materialize, toposort
from ._core.tree import TreeDef, tree_flatten, tree_unflatten
from .api import jvp, vjp
from .errors import WengertError
from .numeric import fd_weights, richardson_step
from .numeric.api import _paths
from .numeric.richardson import _extrapolate
from .numeric.stencils import EPS, _stencil

__all__ = [
    "GradientCheckError",
    "NonDifferentiablePointError",
    "NonSmoothPointWarning",
    "check_grads",
]


class GradientCheckError(WengertError, AssertionError):
    """A derivative disagrees with its numerical estimate."""


class NonDifferentiablePointError(GradientCheckError):
    """The point is not smooth, and autodiff agrees with neither one-sided derivative there.

    Either a rule is wrong on one side of a kink or a discontinuity, or the function is not
    differentiable at this point; check again at a point nearby to tell them apart.
    """


class NonSmoothPointWarning(UserWarning):
    """check_grads passed at a point where the function or a checked derivative is not smooth.

    Autodiff agreed with a one-sided derivative there, which is all a kink allows checking.
    """


# Default (rtol, atol) by the precision of the least precise differentiated input: autodiff
# computes in that precision, while the numerical side always runs in float64.
_TOLERANCES = {8: (1e-5, 1e-6), 4: (2e-3, 2e-4), 2: (5e-2, 5e-2)}

# The first look: central differences extrapolated from steps h0, h0/2, h0/4, h0/8.
_START = richardson_step(0.0)
_CENTRAL = _stencil("central", 2, 1)
# The closer look: one-sided differences from start steps h0, h0/8, ..., h0/8^(n-1), each
# extrapolated the same way. "Open" stencils (offsets 1, 2, 3 times the step, not 0) give
# the limit of the derivative from one side, which exists even where the function jumps;
# "anchored" ones (0, 1, 2) agree with them only where the function is continuous there.
_SHRINK = 8.0
_ROUNDS = 10
_OPEN = {
    side: ((side, 2 * side, 3 * side), tuple(fd_weights([side, 2 * side, 3 * side])))
    for side in (1.0, -1.0)
}
_ANCHORED = {1.0: _stencil("forward", 2, 1), -1.0: _stencil("backward", 2, 1)}

# How many entries of an array the failure report shows.
_SHOWN = 3


def check_grads(
    fun: Callable,
    modes: Sequence[str] = ("fwd", "rev"),
    order: int = 2,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
) -> Callable[..., None]:
    """A checker that raises `GradientCheckError` if a derivative of `fun` is wrong.

    ``check_grads(f, modes=("fwd", "rev"), order=2)(*args)`` checks the JVP and VJP of
    `f` at `args` and, for ``order=2``, the derivatives of those, against numerical
    derivatives. Only floating-point leaves of the arguments are differentiated. The
    tolerances default to rtol=1e-5, atol=1e-6 for float64 inputs, 2e-3 and 2e-4 when an
    input is float32 or complex64, 5e-2 for float16 (autodiff runs in the inputs' precision,
    the numerical side in float64); atol shrinks for a function whose values are below 1.

    Where the function, or a derivative checked, has a kink or a jump at the point, the
    check passes with a `NonSmoothPointWarning` if autodiff agrees with a one-sided
    derivative (or lies between the two), and raises `NonDifferentiablePointError`, a
    `GradientCheckError`, if not. A value that is not finite at the point raises ValueError.

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> wg.check_grads(wnp.sin, order=2)(0.3)
    """
    modes = tuple(modes)
    for mode in modes:
        if mode not in ("fwd", "rev"):
            raise ValueError(f"check_grads: unknown mode {mode!r}; use 'fwd' and/or 'rev'.")
    if not modes:
        raise ValueError("check_grads: modes is empty; use 'fwd' and/or 'rev'.")
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)):
        raise TypeError(f"check_grads: order must be an integer, got {order!r}.")
    if order < 1:
        raise ValueError("check_grads: order must be at least 1.")
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if tol is not None and not (np.isfinite(tol) and tol >= 0):
            raise ValueError(f"check_grads: {name} must be a finite float >= 0, got {tol!r}.")

    def checker(*args: Any) -> None:
        leaves, treedef = tree_flatten(args)
        paths = _leaf_paths(treedef, _arg_names(fun, len(args)))
        diff = [i for i, x in enumerate(leaves) if _is_float(x)]
        xs = [leaves[i] for i in diff]

        def flat_fun(*ys):
            full = list(leaves)
            for i, y in zip(diff, ys):
                full[i] = y
            return fun(*tree_unflatten(treedef, full))

        ctx = _Context(*_tolerances(xs, rtol, atol), [paths[i] for i in diff])
        rng = np.random.default_rng(seed)
        try:
            _check(flat_fun, xs, modes, order, ctx, rng, 1, ())
        except _Mismatch as mismatch:
            report = mismatch.report(ctx)
            culprit = _localize(flat_fun, xs, modes, order, ctx)
            raise GradientCheckError(f"{report}\n{culprit}" if culprit else report) from None
        if ctx.rough:
            checks = ", ".join(f"order-{level} {_MODE[mode]}" for level, mode in ctx.rough)
            warnings.warn(
                f"check_grads: the point is not smooth for the {checks} checks (a kink or a "
                "jump along the checked direction). There autodiff agreed with a one-sided "
                "derivative, which is all such a point allows checking; check at a point "
                "nearby for a full check.",
                NonSmoothPointWarning,
                stacklevel=2,
            )

    return checker


@dataclass
class _Context:
    rtol: float
    atol: float
    paths: list[str]  # names of the differentiated input leaves
    rough: dict = field(default_factory=dict)  # (order, mode) of checks passed at a kink
    scale: float = 1.0  # the largest |value| of the function near the point, in (0, 1]

    @property
    def scaled_atol(self) -> float:
        """atol, shrunk for a function whose values are all smaller than 1 in size.

        An absolute tolerance of 1e-6 would wave through any derivative of a function of
        size 1e-8 or 1e-200. The size is that of the function's own values near the point,
        which also sets the size of its derivatives (the steps are relative to the point);
        not that of a derivative, which may cancel to 0 up to rounding.
        """
        return self.atol * self.scale


def _is_float(x) -> bool:
    value = getval(x)
    if isinstance(value, (bool, int)):
        return False
    return isinstance(value, (float, complex)) or np.issubdtype(np.result_type(value), np.inexact)


def _precision(x) -> int:
    """Bytes per real component of a floating leaf: 8 for float64 and complex128."""
    value = getval(x)
    if isinstance(value, (float, complex)):
        return 8
    dtype = np.result_type(value)
    return dtype.itemsize // 2 if dtype.kind == "c" else dtype.itemsize


def _tolerances(xs, rtol, atol) -> tuple[float, float]:
    bits = min((_precision(x) for x in xs), default=8)
    default_rtol, default_atol = _TOLERANCES.get(bits, _TOLERANCES[8])
    return (
        default_rtol if rtol is None else float(rtol),
        default_atol if atol is None else float(atol),
    )


def _arg_names(fun, nargs: int) -> list[str]:
    """Names for the positional arguments: fun's own parameter names where it has them."""
    names = [f"args[{i}]" for i in range(nargs)]
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):
        return names
    for i, param in enumerate(params[:nargs]):
        if param.kind == param.VAR_POSITIONAL:
            break
        if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
            names[i] = param.name
    return names


def _leaf_paths(treedef: TreeDef, names: list[str]) -> list[str]:
    """A Python-like path for each leaf of the tuple of arguments: params['w1'], args[1][0]."""
    return [path for name, child in zip(names, treedef.children) for path in _paths(child, name)]


def _check_finite_value(out) -> None:
    leaves, treedef = tree_flatten(out)
    for path, leaf in zip(_paths(treedef, "out"), leaves):
        value = np.asarray(getval(leaf))
        if value.dtype.kind in "fc" and not np.all(np.isfinite(value)):
            bad = np.argwhere(~np.isfinite(value))
            where = _index_text(tuple(bad[0])) if value.ndim else ""
            raise ValueError(
                f"check_grads: the function's value is not finite at this point ({path}{where} "
                f"= {value[tuple(bad[0])] if value.ndim else value}, {len(bad)} such "
                "entries): no derivative can be checked there. Choose a point inside the "
                "function's domain."
            )


def _direction(x, rng):
    """A random direction for `x`, scaled entry by entry so that steps stay relative.

    Entry i is scaled by max(|x_i|, s), with s = min(1, max |x|) over the leaf (1 for a
    leaf of zeros): a step is relative for large entries and absolute near 0, as usual, and
    relative throughout for a leaf whose entries are all tiny (1e-200), where an absolute
    step would leave the function's scale. Complex where `x` is complex, in x's own
    precision, so that autodiff runs as it would for the user (float32 tangents for float32).
    """
    value = getval(x)
    shape = np.shape(value)
    out = rng.standard_normal(shape)
    if np.iscomplexobj(value):
        out = out + 1j * rng.standard_normal(shape)
    magnitude = np.abs(np.asarray(value)).astype(np.float64)
    magnitude = np.where(np.isfinite(magnitude), magnitude, 0.0)
    largest = float(np.max(magnitude, initial=0.0))
    floor = min(1.0, largest) if largest > 0 else 1.0
    out = out * np.maximum(magnitude, floor)
    if shape == () and isinstance(value, (float, complex)):
        return complex(out) if np.iscomplexobj(out) else float(out)
    return np.asarray(out, dtype=np.result_type(value))


def _random_like(x, rng):
    """A random cotangent shaped like `x`: complex where `x` is complex."""
    value = getval(x)
    shape = np.shape(value)
    out = rng.standard_normal(shape)
    if np.iscomplexobj(value):
        out = out + 1j * rng.standard_normal(shape)
    if shape == () and isinstance(value, (float, complex)):
        return complex(out) if np.iscomplexobj(out) else float(out)
    if np.result_type(value).kind in "fc":
        return np.asarray(out, dtype=np.result_type(value))
    return out


def _eps(leaf) -> float:
    dtype = np.result_type(peek(leaf))
    return float(np.finfo(dtype).eps) if dtype.kind in "fc" else EPS


def _widen(x):
    """x in float64 (complex128): the numerical side always runs at full precision."""
    value = getval(x)
    if isinstance(value, (float, complex)):
        return value
    return np.asarray(value).astype(np.result_type(value, np.float64), copy=False)


def _pairing(a, b) -> float:
    """Re sum(a * b): the bilinear pairing under which reverse rules are transposes.

    Rules follow the transpose convention (no conjugation), so for every R-linear map J
    and its reverse rule J^T: Re <J^T u, v> = Re <u, J v> with this pairing.
    """
    return float(np.real(np.sum(np.ravel(a) * np.ravel(b))))


def _underflow(cotangents, vs) -> float:
    """The most the pairing <J^T u, v> loses where entries of J^T u underflow to 0."""
    with np.errstate(all="ignore"):
        return sum(4 * _tiny(getval(c)) * float(np.sum(np.abs(v))) for c, v in zip(cotangents, vs))


def _flat(tree) -> np.ndarray:
    leaves = tree_flatten(tree)[0]
    if not leaves:
        return np.zeros(0)
    values = [np.ravel(getval(x)) for x in leaves]
    dtype = complex if any(np.iscomplexobj(v) for v in values) else float
    return np.concatenate([np.asarray(v, dtype=dtype) for v in values])


class _Line:
    """t -> the flattened outputs of fun at xs + t vs, evaluated in float64 and cached."""

    def __init__(self, fun, xs, vs):
        self.fun = fun
        self.xs = [_widen(x) for x in xs]
        self.vs = [_widen(v) for v in vs]
        self.cache: dict[float, np.ndarray] = {}
        self.eps = EPS
        self._fast = None
        self._careful = None

    def __call__(self, t: float) -> np.ndarray:
        t = float(t)
        if t not in self.cache:
            shifted = [x + t * v for x, v in zip(self.xs, self.vs)]
            try:
                out = tree_flatten(self.fun(*shifted))[0]
            except Exception:
                if t == 0.0:
                    raise
                # A function that raises outside its domain, like one that returns nan
                # there: the closer look steps back inside.
                self.cache[t] = np.full_like(self(0.0), np.nan)
                return self.cache[t]
            self.eps = max([self.eps] + [_eps(leaf) for leaf in out])
            self.cache[t] = _flat(out)
        return self.cache[t]

    def fast(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Central differences with Richardson extrapolation: estimate, spread, rounding."""
        if self._fast is None:
            self._fast = self._extrapolate(_CENTRAL, _START, 2)
        return self._fast

    def one_sided(self, stencil, h: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A one-sided stencil from step h, extrapolated: estimate, spread, rounding."""
        return self._extrapolate(stencil, h, 1)

    def _extrapolate(self, stencil, h: float, gap: int):
        # The rounding bound is linear in the outputs' rounding unit, known only once the
        # outputs are in: compute it for a unit of 1, then scale.
        estimate, spread, rounding = _extrapolate(self, *stencil, h, 1, 2, gap, 4, 2.0, eps=1.0)
        return estimate, spread, rounding * self.eps

    def size(self) -> np.ndarray:
        """The largest |value| of each output entry over the points evaluated so far."""
        with np.errstate(invalid="ignore"):
            return np.fmax.reduce([np.abs(value) for value in self.cache.values()])

    def careful(self, rtol: float, atol: float) -> _Resolved:
        if self._careful is None:
            self._careful = _resolve(self, rtol, atol)
        return self._careful


SMOOTH, KINK, ONE_SIDED, UNRESOLVED = 0, 1, 2, 3


@dataclass
class _Resolved:
    """What one-sided differences at shrinking steps tell about each output entry.

    status: SMOOTH (both sides converge to one value), KINK (both converge, to different
    values, or the function jumps at the point), ONE_SIDED (only one side converges, as at
    the edge of the domain: both fields hold it) or UNRESOLVED. `backward` and `forward`
    are the one-sided derivatives (the limits of the derivative from each side), `error`
    their error estimate.
    """

    status: np.ndarray
    backward: np.ndarray
    forward: np.ndarray
    error: np.ndarray


def _resolve(line: _Line, rtol: float, atol: float) -> _Resolved:
    """Classify each output entry by one-sided differences at shrinking steps.

    A side's derivative counts once its open-stencil estimate has converged: trustworthy by
    its own spread at two successive steps, and the same at both (a kink inside one stencil
    but not the next shows as a change). An entry is smooth once both sides have converged
    to one value and the anchored stencils agree (no jump at the point); a kink if both
    converged otherwise; one-sided if only one side did.
    """
    first = line(0.0)
    status = np.full(first.size, UNRESOLVED)
    backward = np.full(first.size, np.nan, dtype=first.dtype)
    forward = backward.copy()
    error = np.full(first.size, np.inf)
    previous = None
    with np.errstate(all="ignore"):
        for k in range(_ROUNDS):
            h = _START / _SHRINK**k
            now = {side: _trusted(line.one_sided(_OPEN[side], h), rtol, atol) for side in _OPEN}
            if previous is None:
                previous = now
                continue
            converged, continuous = {}, {}
            for side, (estimate, err, ok) in now.items():
                before, before_err, before_ok = previous[side]
                tol = atol + rtol * np.abs(estimate)
                converged[side] = (
                    ok & before_ok & (np.abs(estimate - before) <= tol + err + before_err)
                )
                anchored, anchored_err, anchored_ok = _trusted(
                    line.one_sided(_ANCHORED[side], h), rtol, atol
                )
                continuous[side] = anchored_ok & (
                    np.abs(anchored - estimate) <= tol + err + anchored_err
                )
            previous = now
            (fwd, fwd_err, _), (bwd, bwd_err, _) = now[1.0], now[-1.0]
            good_fwd, good_bwd = converged[1.0], converged[-1.0]
            tol = atol + rtol * np.maximum(np.abs(fwd), np.abs(bwd))
            both = good_fwd & good_bwd
            agree = both & (np.abs(fwd - bwd) <= tol + fwd_err + bwd_err)
            agree &= continuous[1.0] & continuous[-1.0]
            open_ = status != SMOOTH
            smooth = agree & open_
            kink = both & ~agree & open_
            one = (good_fwd ^ good_bwd) & open_ & (status != KINK)
            side = np.where(good_fwd, fwd, bwd)
            side_err = np.where(good_fwd, fwd_err, bwd_err)
            both_sides = smooth | kink
            backward[both_sides], forward[both_sides] = bwd[both_sides], fwd[both_sides]
            backward[one] = forward[one] = side[one]
            worse = np.maximum(fwd_err, bwd_err)
            error[smooth] = worse[smooth] + 0.5 * np.abs(fwd - bwd)[smooth]
            error[kink] = worse[kink]
            error[one] = side_err[one]
            status[smooth], status[kink], status[one] = SMOOTH, KINK, ONE_SIDED
            if np.all(status == SMOOTH):
                break
    return _Resolved(status, backward, forward, error)


def _tiny(value) -> float:
    """The smallest normal number of value's precision: what an underflow to 0 may lose."""
    dtype = np.result_type(value)
    return float(np.finfo(dtype).tiny) if dtype.kind in "fc" else float(np.finfo(float).tiny)


def _trusted(parts, rtol: float, atol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An extrapolated estimate, its error, and whether to trust it.

    Trusted when finite and its spread is within the tolerance or the rounding bound: a
    spread beyond both means the error expansion failed, as it does across a kink. Rounding
    is noise the estimate carries, not evidence against smoothness.
    """
    estimate, spread, rounding = parts
    ok = np.isfinite(estimate) & (spread <= atol + rtol * np.abs(estimate) + rounding)
    return estimate, spread + rounding, ok


@dataclass
class _Verdict:
    """The outcome of comparing one autodiff value with the numerical evidence.

    For the forward check the arrays are per output entry; for the reverse check they are
    the scalar pairings with the cotangent u (`backward` and `forward` then bound the range
    the one-sided derivatives allow).
    """

    ok: bool
    decisive: bool = True  # a failure where the function is smooth: a derivative is wrong
    rough: int = 0  # how many entries that matter are not smooth at the point
    unresolved: int = 0  # how many entries that matter have no converging estimate
    ad: Any = 0.0
    numeric: Any = 0.0
    allowed: Any = 0.0
    backward: Any = 0.0
    forward: Any = 0.0
    status: Any = None

    def excess(self) -> float:
        """The largest |autodiff - numeric| / allowed: above 1 where the check fails."""
        with np.errstate(all="ignore"):
            gap = np.abs(np.asarray(self.ad) - np.asarray(self.numeric)) / self.allowed
        return float(np.max(np.where(np.isnan(gap), np.inf, gap), initial=0.0))


def _judge_fwd(ad: np.ndarray, line: _Line, ctx: _Context) -> _Verdict:
    """The JVP `ad` against the numerical derivative along the line, entry by entry."""
    ad = np.asarray(ad)
    numeric, spread, rounding = line.fast()
    atol = max(ctx.scaled_atol, 4 * _tiny(ad))
    with np.errstate(all="ignore"):
        tol = atol + ctx.rtol * np.maximum(np.abs(ad), np.abs(numeric))
        error = spread + rounding
        agreed = (spread <= tol + rounding) & (np.abs(ad - numeric) <= tol + 10 * error)
        if np.all(agreed):
            return _Verdict(True)
        r = line.careful(ctx.rtol, ctx.scaled_atol)
        scale = np.maximum(np.abs(ad), np.maximum(np.abs(r.backward), np.abs(r.forward)))
        allowed = atol + ctx.rtol * scale + 10 * r.error
        if np.iscomplexobj(ad) or np.iscomplexobj(r.forward):
            # No order in the complex plane: autodiff must match one side.
            near = np.minimum(np.abs(ad - r.backward), np.abs(ad - r.forward))
            matches = near <= allowed
        else:
            # Autodiff may take either side at a kink, or a value between them.
            low = np.minimum(r.backward, r.forward)
            high = np.maximum(r.backward, r.forward)
            matches = (ad >= low - allowed) & (ad <= high + allowed)
        nearest = np.where(np.abs(ad - r.backward) <= np.abs(ad - r.forward), r.backward, r.forward)
    # Entries the first estimate settled stay settled; the closer look decides the rest.
    status = np.where(agreed, SMOOTH, r.status)
    unresolved = status == UNRESOLVED
    matches = agreed | (matches & ~unresolved)
    failing = ~matches
    return _Verdict(
        bool(np.all(matches)),
        decisive=bool(np.all(status[failing] == SMOOTH)),
        rough=int(np.sum(status != SMOOTH)),
        unresolved=int(np.sum(unresolved & failing)),
        ad=ad,
        numeric=np.where(agreed | unresolved, numeric, nearest),
        allowed=np.where(agreed | unresolved, tol + 10 * error, allowed),
        backward=r.backward,
        forward=r.forward,
        status=status,
    )


def _judge_rev(lhs: float, underflow: float, u: np.ndarray, line: _Line, ctx: _Context) -> _Verdict:
    """<J^T u, v> from the VJP against <u, J v> from the numerical derivative along the line.

    `underflow` is the most that entries of J^T u underflowing to 0 can change the pairing.
    """
    numeric, spread, rounding = line.fast()
    rhs = _pairing(u, numeric)
    with np.errstate(all="ignore"):
        spread_bound = float(np.sum(np.abs(u) * spread))
        rounding_bound = float(np.sum(np.abs(u) * rounding))
        atol = max(ctx.scaled_atol, underflow)
    tol = atol + ctx.rtol * max(abs(lhs), abs(rhs))
    bound = spread_bound + rounding_bound
    if spread_bound <= tol + rounding_bound and abs(lhs - rhs) <= tol + 10 * bound:
        return _Verdict(True)
    r = line.careful(ctx.rtol, ctx.scaled_atol)
    relevant = np.abs(u) > 0
    status = r.status[relevant]
    with np.errstate(all="ignore"):
        ends = np.real(u * r.backward)[relevant], np.real(u * r.forward)[relevant]
        low = float(np.sum(np.minimum(*ends)))
        high = float(np.sum(np.maximum(*ends)))
        bound = float(np.sum((np.abs(u) * r.error)[relevant]))
    unresolved = int(np.sum(status == UNRESOLVED))
    if unresolved:
        low = high = rhs
        allowed = atol + ctx.rtol * abs(lhs)
    else:
        allowed = atol + ctx.rtol * np.nanmax([abs(lhs), abs(low), abs(high)]) + 10 * bound
    ok = not unresolved and low - allowed <= lhs <= high + allowed
    return _Verdict(
        ok,
        decisive=bool(np.all(status == SMOOTH)),
        rough=int(np.sum(status != SMOOTH)),
        unresolved=unresolved,
        ad=lhs,
        numeric=low if abs(lhs - low) <= abs(lhs - high) else high,
        allowed=allowed,
        backward=low,
        forward=high,
        status=status,
    )


_ROUTE_NAMES = {"fwd": "forward-mode derivative", "rev": "reverse-mode derivative"}
_WHAT = {"fwd": "JVP along a random direction", "rev": "<J^T u, v> against <u, J v>"}


def _check(fun, xs, modes, order, ctx, rng, level, route) -> None:
    """Check `fun`'s derivatives at xs in each mode, then (order > 1) those derivatives."""
    if not xs:
        return
    vs = [_direction(x, rng) for x in xs]
    line = _Line(fun, xs, vs)
    if level == 1:
        line.fast()
        with np.errstate(invalid="ignore"):
            size = float(np.nan_to_num(np.max(line.size(), initial=0.0), nan=1.0))
        # Values that are all 0 near the point (or underflow to it) say nothing of the
        # size of the derivatives: atol stays as given.
        ctx.scale = min(1.0, size) if size > 0 else 1.0
    if "fwd" in modes:
        primal, tangent = jvp(fun, tuple(xs), tuple(vs))
        if level == 1:
            _check_finite_value(primal)
        verdict = _judge_fwd(_flat(tangent), line, ctx)
        _settle(verdict, "fwd", fun, xs, vs, None, ctx, level, route)
    us = None
    if "rev" in modes:
        primal, pullback = vjp(fun, *xs)
        if level == 1 and "fwd" not in modes:
            _check_finite_value(primal)
        out_leaves, out_def = tree_flatten(primal)
        us = tree_unflatten(out_def, [_random_like(o, rng) for o in out_leaves])
        cotangents = pullback(us)
        lhs = sum(_pairing(getval(c), v) for c, v in zip(cotangents, vs))
        verdict = _judge_rev(lhs, _underflow(cotangents, vs), _flat(us), line, ctx)
        _settle(verdict, "rev", fun, xs, vs, us, ctx, level, route)
    if order > 1:
        # The derivatives themselves, as functions of the point, checked one order lower.
        def forward(*ys):
            return jvp(fun, ys, tuple(vs))[1]

        def reverse(*ys):
            return vjp(fun, *ys)[1](us)

        if "fwd" in modes:
            _check(forward, xs, modes, order - 1, ctx, rng, level + 1, (*route, "fwd"))
        if "rev" in modes:
            _check(reverse, xs, modes, order - 1, ctx, rng, level + 1, (*route, "rev"))


def _settle(verdict: _Verdict, mode, fun, xs, vs, us, ctx, level, route) -> None:
    if verdict.ok:
        if verdict.rough:
            ctx.rough[level, mode] = True
        return
    failure = _Mismatch(verdict, mode, fun, xs, vs, us, level, route)
    if not verdict.decisive:
        raise NonDifferentiablePointError(failure.report(ctx, locate=False))
    raise failure


_MODE = {"fwd": "forward-mode", "rev": "reverse-mode"}


class _Mismatch(Exception):
    """A decisive failure, with what is needed to narrow it down to an input entry."""

    def __init__(self, verdict, mode, fun, xs, vs, us, level, route):
        super().__init__()
        self.verdict, self.mode, self.fun, self.xs = verdict, mode, fun, xs
        self.vs, self.us, self.level, self.route = vs, us, level, route

    def report(self, ctx: _Context, locate: bool = True) -> str:
        """A few lines: what failed, where, the values and the errors; never whole arrays."""
        v, mode = self.verdict, self.mode
        checked = _WHAT[mode] + "".join(f" of the {_ROUTE_NAMES[r]}" for r in reversed(self.route))
        what = f"{_MODE[mode]} derivative of order {self.level}"
        if v.decisive:
            head = f"{what} is wrong ({checked})."
        elif v.unresolved:
            head = (
                f"{what} cannot be checked at this point ({checked}): for {v.unresolved} output "
                "entries no one-sided difference quotient converges, so the function checked "
                "is discontinuous at the point, undefined beside it, or noisy."
            )
        else:
            head = (
                f"{what} cannot be confirmed ({checked}): the point is not differentiable "
                "along the checked direction, and autodiff matches neither one-sided derivative."
            )
        lines = [head, f"  inputs: {_describe_inputs(self.xs, ctx.paths)}"]
        if locate and v.decisive:
            entry = _locate(self, ctx)
            if entry:
                lines.append(f"  failing input entry: {entry}")
        lines += _values(v, self.fun, self.xs, mode)
        if not np.all(np.isfinite(v.ad)):
            lines.append(
                "  autodiff is not finite: a rule overflowed or divided by zero at this point"
            )
        atol = f"atol {ctx.atol:g}"
        if ctx.scale < 1:
            atol += f" times {ctx.scale:.3g}, the size of the function's values"
        lines.append(f"  tolerance: rtol {ctx.rtol:g}, {atol}{_precision_note(self.xs)}")
        if not v.decisive:
            lines.append(
                "  A rule wrong on one side of a kink, or a point where no derivative exists: "
                "check at a point nearby to tell them apart."
            )
        return "\n".join(lines)


def _precision_note(xs) -> str:
    if min((_precision(x) for x in xs), default=8) < 8:
        return " (autodiff in the inputs' precision, the numerical side in float64)"
    return ""


def _describe_inputs(xs, paths: list[str]) -> str:
    parts = [f"{p} {_shape_text(x)}" for p, x in zip(paths, xs)]
    if len(parts) > 4:
        parts = [*parts[:4], f"... ({len(parts) - 4} more)"]
    return ", ".join(parts)


def _shape_text(x) -> str:
    value = getval(x)
    if isinstance(value, (float, complex)):
        return f"= {_number(value)}"
    value = np.asarray(value)
    if value.ndim == 0:
        return f"= {_number(value[()])} ({value.dtype})"
    return f"{value.shape} {value.dtype}"


def _number(x) -> str:
    return np.array2string(np.asarray(x), precision=8, threshold=_SHOWN)


def _index_text(index: tuple) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]" if index else ""


def _values(v: _Verdict, fun, xs, mode: str) -> list[str]:
    """The autodiff and numerical values, and for arrays the worst few entries."""
    if mode == "rev":
        gap = abs(v.ad - v.numeric)
        numerical = f"  numerical: {v.numeric:.10g}"
        if v.rough and not v.unresolved:
            numerical += f" (the one-sided derivatives allow {v.backward:.10g} to {v.forward:.10g})"
        return [
            f"  autodiff:  {v.ad:.10g}",
            numerical,
            f"  abs error {gap:.3g}, rel error {gap / max(abs(v.numeric), 1e-300):.3g}, "
            f"allowed {v.allowed:.3g}",
        ]
    ad, numeric = np.asarray(v.ad), np.asarray(v.numeric)
    with np.errstate(all="ignore"):
        gap = np.abs(ad - numeric)
        excess = np.where(np.isnan(gap), np.inf, gap / v.allowed)
    failing = np.flatnonzero(excess > 1)
    worst = failing[np.argsort(-excess[failing], kind="stable")][:_SHOWN]
    names = _output_names(fun, xs)
    lines = [f"  {len(failing)} of {ad.size} output entries differ; the worst:"]
    for i in worst:
        rel = gap[i] / max(abs(numeric[i]), 1e-300)
        line = (
            f"    {names(i)}: autodiff {_number(ad[i])}, numerical {_number(numeric[i])}, "
            f"abs error {gap[i]:.3g}, rel error {rel:.3g}"
        )
        if v.status[i] == KINK:
            line += (
                f" (one-sided: {_number(v.backward[i])} backward, {_number(v.forward[i])} forward)"
            )
        lines.append(line)
    return lines


def _output_names(fun, xs) -> Callable[[int], str]:
    """Names of the entries of the flattened output: out[0][2, 1]."""
    leaves, treedef = tree_flatten(fun(*xs))
    paths = _paths(treedef, "out")
    shapes = [np.shape(getval(leaf)) for leaf in leaves]
    starts = np.cumsum([0] + [int(np.prod(s)) for s in shapes])

    def name(i: int) -> str:
        k = int(np.searchsorted(starts, i, side="right")) - 1
        index = np.unravel_index(i - starts[k], shapes[k]) if shapes[k] else ()
        return paths[k] + _index_text(index)

    return name


def _locate(failure: _Mismatch, ctx: _Context) -> str:
    """The input leaf, and an entry of it, along which alone the derivative is wrong."""
    fun, xs, vs, mode = failure.fun, failure.xs, failure.vs, failure.mode
    if mode == "rev":
        cotangents = vjp(fun, *xs)[1](failure.us)
        u = _flat(failure.us)

    def excess(restricted) -> float:
        line = _Line(fun, xs, restricted)
        if mode == "fwd":
            verdict = _judge_fwd(_flat(jvp(fun, tuple(xs), tuple(restricted))[1]), line, ctx)
        else:
            lhs = sum(_pairing(getval(c), w) for c, w in zip(cotangents, restricted))
            verdict = _judge_rev(lhs, _underflow(cotangents, restricted), u, line, ctx)
        return verdict.excess() if not verdict.ok and verdict.decisive else 0.0

    def only(j, mask=None):
        out = []
        for i, w in enumerate(vs):
            if i != j:
                out.append(w * 0)
            elif mask is None:
                out.append(w)
            else:
                out.append(np.where(mask, w, 0).astype(np.result_type(w)))
        return out

    # The first input leaf, in argument order, along which alone the check fails; then
    # halve its entries while one half still fails on its own.
    failing = (j for j in range(len(xs)) if np.size(getval(xs[j])) and excess(only(j)) > 1)
    j = next(failing, None)
    if j is None:
        return ""
    shape = np.shape(getval(xs[j]))
    if shape == ():
        return ctx.paths[j]
    entries = np.arange(int(np.prod(shape)))
    while entries.size > 1:
        halves = np.array_split(entries, 2)
        scores = []
        for half in halves:
            mask = np.zeros(shape, dtype=bool)
            mask.flat[half] = True
            scores.append(excess(only(j, mask)))
        if max(scores) <= 1:
            return f"{ctx.paths[j]} (shape {shape}; no single entry fails on its own)"
        entries = halves[int(np.argmax(scores))]
    index = np.unravel_index(int(entries[0]), shape)
    return f"{ctx.paths[j]}{_index_text(index)} (shape {shape})"


def _localize(fun, xs, modes, order, ctx: _Context) -> str:
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
        own = _Context(ctx.rtol, ctx.atol, [f"input {i}" for i in argnums])
        try:
            _check(single, point, modes, order, own, np.random.default_rng(0), 1, ())
        except _Mismatch as mismatch:
            v = mismatch.verdict
            return (
                f"  culprit: primitive {prim.name!r} fails on its own at this point "
                f"({_MODE[mismatch.mode]}, order {mismatch.level}, max error "
                f"{v.excess():.3g} times the tolerance)"
            )
        except Exception:
            continue
    return ""
