"""The error of finite differences as a function of the step, for f: R -> R at one point.

Forward differences lose accuracy both ways: truncation ~ h for large steps, cancellation
~ eps |f| / h for small ones, so their error against h is a V with its bottom near
sqrt(eps); central differences have truncation ~ h^2 and their bottom near eps^(1/3). The
complex step subtracts nothing and stays exact to rounding however small h is. The table
and plot show the three curves and the steps `wengert.numeric` picks by default.
"""

from __future__ import annotations

import inspect
import math
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .. import numeric

_ComplexWarning = getattr(np, "exceptions", np).ComplexWarning
EPS = float(np.finfo(np.float64).eps)
METHODS = ("forward", "central", "complex step")


@dataclass
class StepErrors:
    """The absolute error of each method at each step h, against the exact derivative."""

    steps: np.ndarray  # the steps h, decreasing (by default 31 from 1e-1 down to 1e-16)
    forward: np.ndarray  # |(f(x + h) - f(x)) / h - exact|
    central: np.ndarray  # |(f(x + h) - f(x - h)) / (2 h) - exact|
    complex_step: np.ndarray  # |Im f(x + i h) / h - exact|; NaN where f refuses complex input
    exact: float
    default_steps: dict[str, float]  # the step wengert.numeric uses by default, per method
    x: float = math.nan  # the point


def default_steps(x: float) -> dict[str, float]:
    """The step `wengert.numeric` uses at `x` for the forward difference (order 1), the
    central difference (order 2) and the complex step.

    >>> {k: float(f"{h:.3g}") for k, h in default_steps(3.0).items()}
    {'forward': 4.47e-08, 'central': 1.82e-05, 'complex step': 1e-20}
    """
    complex_default = inspect.signature(numeric.complex_step).parameters["step"].default
    return {
        "forward": numeric.default_step(x, "forward", 1),
        "central": numeric.default_step(x, "central", 2),
        "complex step": float(complex_default),
    }


def _real_value(out: object, where: str) -> float:
    """`out` as a float, if it is one real number."""
    a = np.asarray(out)
    if a.size != 1 or a.dtype.kind not in "biuf":
        raise TypeError(
            f"step_errors: the function must return one real number, got "
            f"{type(out).__name__} of dtype {a.dtype} and shape {a.shape} {where}"
        )
    return float(a.reshape(()))


def _value_at(fun: Callable, t: float) -> float:
    """fun(t) as a float, or NaN where it fails (a domain error, an overflow) near x."""
    try:
        return _real_value(fun(t), f"at {t!r}")
    except (ArithmeticError, ValueError):
        return math.nan


def _complex_slope(fun: Callable, x: float, h: float) -> float:
    """Im fun(x + i h) / h, or NaN where fun cannot take complex input.

    The input is a Python complex so that math.sqrt and friends raise instead of dropping the
    imaginary part (as they do for NumPy's complex scalars), and a cast of complex to real
    inside fun is an error; a real result means the perturbation was dropped.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", _ComplexWarning)
            out = np.asarray(fun(complex(x, h)))
    except Exception:  # anything fun raises on complex input means: not applicable
        return math.nan
    if out.dtype.kind != "c" or out.size != 1:
        return math.nan
    return float(out.reshape(()).imag) / h


def _check_steps(steps: Sequence[float] | np.ndarray | None) -> np.ndarray:
    if steps is None:
        return np.logspace(-1.0, -16.0, 31)
    try:
        h = np.asarray(steps, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"step_errors: steps must be a sequence of positive floats, got {type(steps).__name__}"
        ) from None
    if h.ndim != 1 or h.size == 0:
        raise ValueError(
            f"step_errors: steps must be a non-empty 1-d sequence, got shape {h.shape}"
        )
    if not np.all(np.isfinite(h) & (h > 0.0)):
        raise ValueError(f"step_errors: steps must be positive and finite, got {h}")
    return np.sort(h)[::-1].copy()


def _check_number(value: object, name: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(
            f"step_errors: {name} must be a real number, got {type(value).__name__}"
        ) from None
    if not math.isfinite(number):
        raise ValueError(f"step_errors: {name} must be finite, got {number}")
    return number


def step_errors(
    fun: Callable,
    x: float,
    exact: float,
    steps: Sequence[float] | np.ndarray | None = None,
) -> StepErrors:
    """The errors of the forward difference, the central difference and the complex step
    of `fun` at `x` against `exact`, at each step (by default 31 from 1e-1 to 1e-16).

    Each estimate is the plain formula at the given h, so that the table shows truncation
    and cancellation as they are; fun is called with Python floats, and with Python complex
    numbers for the complex step. Points where fun fails near x give NaN, and so does the
    complex step where fun refuses complex input or drops its imaginary part.

    >>> import wengert.numpy as np
    >>> r = step_errors(lambda x: 1 / (x**2 + 1), 3.0, -0.06)
    >>> float(r.steps[0]), float(r.steps[-1]), len(r.steps)
    (0.1, 1e-16, 31)
    >>> bool(r.central.min() < r.forward.min() < 1e-7)
    True
    """
    x = _check_number(x, "x")
    exact = _check_number(exact, "exact")
    h = _check_steps(steps)
    with np.errstate(all="ignore"):
        fx = _real_value(fun(x), f"at x = {x!r}")
        forward = np.empty_like(h)
        central = np.empty_like(h)
        complex_step = np.empty_like(h)
        for k, step in enumerate(h):
            step = float(step)
            right, left = _value_at(fun, x + step), _value_at(fun, x - step)
            forward[k] = abs((right - fx) / step - exact)
            central[k] = abs((right - left) / (2.0 * step) - exact)
            complex_step[k] = abs(_complex_slope(fun, x, step) - exact)
    return StepErrors(h, forward, central, complex_step, exact, default_steps(x), x)


def _columns(result: StepErrors) -> dict[str, np.ndarray]:
    return {
        "forward": result.forward,
        "central": result.central,
        "complex step": result.complex_step,
    }


def _best(steps: np.ndarray, errors: np.ndarray) -> float | None:
    """The step of the smallest error (the largest such step on ties), None if all are NaN."""
    if not np.any(np.isfinite(errors)):
        return None
    return float(steps[int(np.nanargmin(np.where(np.isfinite(errors), errors, np.nan)))])


def render_steps(result: StepErrors) -> str:
    """A text table of each method's error at each step, then the best and default steps.

    >>> import wengert.numpy as np
    >>> r = step_errors(lambda x: 1 / (x**2 + 1), 3.0, -0.06, steps=[1e-2, 1e-8])
    >>> print(render_steps(r))
           h    forward    central  complex step
    1.00e-02   2.59e-04   9.60e-07      9.60e-07
    1.00e-08   5.87e-10   5.87e-10      1.39e-17
    best h: forward 1.00e-08, central 1.00e-08, complex step 1.00e-08; default h: forward 4.47e-08, central 1.82e-05, complex step 1.00e-20
    """  # noqa: E501
    columns = _columns(result)
    widths = [max(11, len(name) + 2) for name in columns]
    lines = [f"{'h':>8}" + "".join(f"{name:>{w}}" for name, w in zip(columns, widths))]
    for k, h in enumerate(result.steps):
        cells = "".join(f"{_cell(errors[k]):>{w}}" for errors, w in zip(columns.values(), widths))
        lines.append(f"{h:8.2e}" + cells)
    best = []
    for name, errors in columns.items():
        step = _best(result.steps, errors)
        best.append(f"{name} {'n/a' if step is None else f'{step:.2e}'}")
    default = [f"{name} {h:.2e}" for name, h in result.default_steps.items()]
    lines.append(f"best h: {', '.join(best)}; default h: {', '.join(default)}")
    return "\n".join(lines)


def _cell(error: float) -> str:
    return f"{error:.2e}" if math.isfinite(error) else "nan"


def _branches(steps: np.ndarray, errors: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The steps at or above, and at or below, the step of the smallest error."""
    best = _best(steps, errors)
    if best is None:
        return None
    return steps[steps >= best], steps[steps <= best]


def _reference(
    steps: np.ndarray, errors: np.ndarray, span: np.ndarray, slope: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """A line of the given slope (in log-log) over the steps `span`, through the data point
    at the middle of that span (in log h), which lies well inside its branch of the V."""
    usable = np.isin(steps, span) & np.isfinite(errors) & (errors > 0)
    if span.size < 2 or not np.any(usable):
        return None
    middle = math.sqrt(float(span.max()) * float(span.min()))
    candidates = np.flatnonzero(usable)
    k = candidates[np.argmin(np.abs(np.log(steps[candidates] / middle)))]
    line = np.array([span.max(), span.min()])
    return line, errors[k] * (line / steps[k]) ** slope


def plot_steps(result: StepErrors, path: str) -> None:
    """Save a log-log plot of each method's error against the step to `path` (png, svg, pdf
    and the other formats matplotlib writes, by its suffix).

    Reference lines of slope 1 (forward truncation ~ h), 2 (central truncation ~ h^2) and
    -1 (rounding ~ eps/h) go through the middle of their branch of the curves; dashed
    vertical lines mark the default steps.

    >>> import os, tempfile
    >>> import wengert.numpy as np
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "steps.png")
    ...     plot_steps(step_errors(np.sin, 1.0, math.cos(1.0)), path)
    ...     print(os.path.getsize(path) > 0)
    True
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"plot_steps: the path must be a string, got {type(path).__name__}")
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            'plot_steps: plotting needs matplotlib: pip install "wengert[nn]" '
            "(matplotlib is in the nn and test extras)"
        ) from error

    steps = np.asarray(result.steps, dtype=np.float64)
    columns = _columns(result)
    colors = {"forward": "tab:blue", "central": "tab:orange", "complex step": "tab:green"}
    positive = np.concatenate([e[np.isfinite(e) & (e > 0)] for e in columns.values()])
    # Errors of exactly 0 (the complex step often has them) have no place on a log axis:
    # they are drawn as triangles at a floor below the smallest positive error.
    floor = float(positive.min()) / 10 if positive.size else EPS
    fig = Figure(figsize=(9, 4.8))
    FigureCanvasAgg(fig)  # no pyplot: the user's backend is left alone
    ax = fig.subplots()
    for name, errors in columns.items():
        shown = np.where(errors > 0, errors, np.nan)
        ax.plot(steps, shown, "o-", ms=3, color=colors[name], label=f"{name} error")
        zero = errors == 0
        if np.any(zero):
            ax.plot(steps[zero], np.full(zero.sum(), floor), "v", ms=5, color=colors[name],
                    label=f"{name} error 0 (drawn at {floor:.0e})")  # fmt: skip
    references = [
        ("forward", 1, 0, ":", "slope 1: forward truncation ~ h"),
        ("central", 2, 0, "-.", "slope 2: central truncation ~ h²"),
        ("forward", -1, 1, "--", "slope -1: rounding ~ eps/h"),
    ]
    for name, slope, side, style, label in references:
        branches = _branches(steps, columns[name])
        line = None if branches is None else _reference(steps, columns[name], branches[side], slope)
        if line is not None:
            ax.plot(*line, ls=style, lw=1.2, color="black", alpha=0.8, label=label)
    low, high = float(steps.min()), float(steps.max())
    for name, h in result.default_steps.items():
        label = f"{name} default h = {h:.2g}"
        if low <= h <= high:
            ax.axvline(h, ls="--", lw=1, color=colors[name], label=label)
        else:  # off the axis (the complex step's 1e-20): named in the legend only
            ax.plot([], [], ls="--", lw=1, color=colors[name], label=label + " (off scale)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("step h")
    ax.set_ylabel("|estimate - exact|")
    at = "" if math.isnan(result.x) else f" at x = {result.x:g}"
    ax.set_title(f"error of f'(x){at} by step (exact {result.exact:.6g})")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    fig.savefig(path, dpi=120, bbox_inches="tight")
