"""The derivatives of an expression at a point by every method, with each one's error.

Symbolic differentiation (a formula, from the same rules), forward and reverse automatic
differentiation, forward and central differences, Richardson extrapolation and the complex
step, side by side. The reference for the errors is the symbolic value where there is a
formula, else reverse mode. Points where the function is not finite, and points where its
one-sided differences disagree (a kink), are reported as such.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as onp

from .. import api, jacobians
from .. import numeric as num
from .. import symbolic as sym
from .parse import Expression


@dataclass
class Estimate:
    """One method's value of one derivative, its error against the reference and the step
    it used (None for methods without a step)."""

    method: str
    value: float
    error: float | None = None
    step: float | None = None
    note: str = ""


@dataclass
class Derivative:
    """One derivative (a partial, a mixed second partial, an n-th derivative): its label,
    formula, reference value and every method's estimate."""

    label: str  # "f'(x)", "df/dy", "d2f/dxdy", "f'''(x)"
    formula: str | None
    reference: float
    estimates: list[Estimate] = field(default_factory=list)


@dataclass
class Report:
    """Everything `wengert diff` prints."""

    expression: str
    point: dict[str, float]
    wrt: list[str]
    order: int
    value: float
    derivatives: list[Derivative]
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """The report as plain JSON-ready data (non-finite numbers as strings)."""
        return {
            "expression": self.expression,
            "point": self.point,
            "wrt": self.wrt,
            "order": self.order,
            "value": _json_number(self.value),
            "derivatives": [
                {
                    "label": d.label,
                    "formula": d.formula,
                    "reference": _json_number(d.reference),
                    "estimates": [
                        {
                            "method": e.method,
                            "value": _json_number(e.value),
                            "error": _json_number(e.error),
                            "step": e.step,
                            "note": e.note,
                        }
                        for e in d.estimates
                    ],
                }
                for d in self.derivatives
            ],
            "notes": self.notes,
        }


def _json_number(x: float | None) -> Any:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else str(x)


def _float(x: Any) -> float:
    return float(onp.real(onp.asarray(x, dtype=complex if onp.iscomplexobj(x) else float)))


def _error(value: float, reference: float) -> float | None:
    if not (math.isfinite(value) and math.isfinite(reference)):
        return None
    return abs(value - reference)


def report(expression: Expression, point: dict[str, float], wrt: list[str] | None = None,
           order: int = 1) -> Report:  # fmt: skip
    """The value and the derivatives of `expression` at `point` with respect to `wrt` (all
    variables by default) of order `order`: first derivatives by every method; second
    derivatives (the Hessian) by symbolic, automatic and numerical differentiation; higher
    orders, for one variable, likewise."""
    names = list(expression.variables)
    wrt = names if wrt is None else list(wrt)
    f = expression.function(names)
    values = [point[n] for n in names]
    with warnings.catch_warnings(), onp.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        value = _float(f(*values))
        symbols = sym.symbols(" ".join(names)) if names else ()
        symbols = symbols if isinstance(symbols, tuple) else (symbols,)
        at = dict(zip(symbols, values))
        out = Report(expression.text, dict(point), wrt, order, value, [])
        if not math.isfinite(value):
            out.notes.append(f"f is not finite at the point (f = {value})")
        if order == 1:
            for n in wrt:
                out.derivatives.append(_first(f, names, values, n, symbols, at))
        elif order == 2:
            for i, a in enumerate(wrt):
                for b in wrt[i:]:
                    out.derivatives.append(_second(f, names, values, a, b, symbols, at))
        else:
            if len(wrt) != 1:
                raise ValueError(
                    f"--order {order} is for one variable: give it with --wrt (one of "
                    f"{', '.join(names)})"
                )
            out.derivatives.append(_higher(f, names, values, wrt[0], order, symbols, at))
        _note_kinks(out, f, names, values, wrt)
    return out


def _formula(f, symbols, diff) -> tuple[Any, str | None]:
    """A derivative formula built by `diff` from the expression of symbols (None where the
    function has no formula, such as a value-dependent one)."""
    try:
        expr = diff(f(*symbols))
    except (sym.SymbolicValueError, sym.SymbolicControlFlowError):
        return None, None
    return expr, str(expr)


def _symbolic_value(expr, at) -> float:
    value = sym.subs(expr, at) if isinstance(expr, sym.Expr) else expr
    return _float(value)


def _partial_function(f, values, i):
    """f as a function of variable i alone, the others fixed at the point."""

    def g(t):
        args = list(values)
        args[i] = t
        return f(*args)

    return g


def _label(order: int, names: list[str], parts: list[str]) -> str:
    if len(names) == 1:
        return "f" + "'" * order + f"({names[0]})" if order <= 3 else f"f^({order})({names[0]})"
    if order == 1:
        return f"df/d{parts[0]}"
    if len(set(parts)) == 1:
        return f"d{order}f/d{parts[0]}{order}"
    return f"d{order}f/" + "".join(f"d{p}" for p in parts)


def _first(f, names, values, name, symbols, at) -> Derivative:
    i = names.index(name)
    x = values[i]
    g = _partial_function(f, values, i)
    expr, formula = _formula(f, symbols, lambda e: sym.diff(e, symbols[i]))
    forward = _float(api.jvp(f, tuple(values), tuple(float(k == i) for k in range(len(values))))[1])
    reverse = _float(api.grad(f, argnums=i)(*values))
    reference = _symbolic_value(expr, at) if expr is not None else reverse
    d = Derivative(_label(1, names, [name]), formula, reference)
    if expr is not None:
        d.estimates.append(Estimate("symbolic", reference, 0.0))
    d.estimates.append(Estimate("forward AD", forward, _error(forward, reference)))
    d.estimates.append(Estimate("reverse AD", reverse, _error(reverse, reference)))
    h_fwd = num.default_step(x, "forward", 1)
    fd = _float(num.directional_derivative(g, x, 1.0, kind="forward", accuracy=1, step=h_fwd))
    d.estimates.append(Estimate("forward difference", fd, _error(fd, reference), h_fwd))
    h_c = num.default_step(x, "central", 2)
    cd = _float(num.directional_derivative(g, x, 1.0, kind="central", accuracy=2, step=h_c))
    d.estimates.append(Estimate("central difference", cd, _error(cd, reference), h_c))
    d.estimates.append(_richardson(g, x, reference, 1))
    try:
        cs = _float(num.complex_step(g, x, 1.0))
        error = _error(cs, reference)
        # A function that is not complex-analytic (abs, max, comparisons on its input)
        # gives a complex-step number that means nothing: say so rather than show it bare.
        bad = error is not None and error > 1e-6 * max(1.0, abs(reference))
        note = "not complex-analytic here: the complex step does not apply" if bad else ""
        d.estimates.append(Estimate("complex step", cs, error, 1e-20, note))
    except (TypeError, ValueError):
        d.estimates.append(
            Estimate("complex step", math.nan, None, 1e-20, "n/a: not complex-analytic here")
        )
    return d


def _richardson(g, x: float, reference: float, deriv: int) -> Estimate:
    """Richardson extrapolation of the `deriv`-th derivative of `g` at `x`, with its own
    error estimate in the note."""
    value, estimate = num.richardson(g, x, 1.0, deriv=deriv)
    value = _float(value)
    return Estimate(
        "Richardson", value, _error(value, reference), None, f"estimate {_float(estimate):.1g}"
    )


def _second(f, names, values, a, b, symbols, at) -> Derivative:
    i, j = names.index(a), names.index(b)
    expr, formula = _formula(f, symbols, lambda e: sym.diff(e, symbols[i], symbols[j]))
    ad = _float(api.grad(lambda *v: api.grad(f, argnums=i)(*v), argnums=j)(*values))
    fwd = _float(
        api.jvp(
            lambda *v: api.grad(f, argnums=i)(*v),
            tuple(values),
            tuple(float(k == j) for k in range(len(values))),
        )[1]
    )
    reference = _symbolic_value(expr, at) if expr is not None else ad
    d = Derivative(_label(2, names, [a, b]), formula, reference)
    if expr is not None:
        d.estimates.append(Estimate("symbolic", reference, 0.0))
    d.estimates.append(Estimate("forward-over-reverse AD", fwd, _error(fwd, reference)))
    d.estimates.append(Estimate("reverse-over-reverse AD", ad, _error(ad, reference)))
    if i == j:
        g = _partial_function(f, values, i)
        h = num.default_step(values[i], "central", 2, deriv=2)
        cd = _float(num.directional_derivative(g, values[i], 1.0, deriv=2, step=h))
        d.estimates.append(Estimate("central difference", cd, _error(cd, reference), h))
        d.estimates.append(_richardson(g, values[i], reference, 2))
    else:
        point = onp.array(values, dtype=float)
        hessian = num.jacobian(lambda p: num.gradient(lambda q: f(*q), p), point)
        value = _float(onp.asarray(hessian)[i, j])
        d.estimates.append(
            Estimate("Richardson (of differences)", value, _error(value, reference), None)
        )
    return d


def _higher(f, names, values, name, order, symbols, at) -> Derivative:
    i = names.index(name)
    g = _partial_function(f, values, i)
    expr, formula = _formula(f, symbols, lambda e: sym.diff(e, *[symbols[i]] * order))
    rev = g
    for _ in range(order):
        rev = api.grad(rev)
    reverse = _float(rev(values[i]))
    fwd = g
    for _ in range(order):
        fwd = jacobians.jacfwd(fwd)
    forward = _float(fwd(values[i]))
    reference = _symbolic_value(expr, at) if expr is not None else reverse
    d = Derivative(_label(order, names, [name] * order), formula, reference)
    if expr is not None:
        d.estimates.append(Estimate("symbolic", reference, 0.0))
    d.estimates.append(Estimate("forward AD", forward, _error(forward, reference)))
    d.estimates.append(Estimate("reverse AD", reverse, _error(reverse, reference)))
    if order <= 4:
        d.estimates.append(_richardson(g, values[i], reference, order))
    else:
        d.estimates.append(
            Estimate("Richardson", math.nan, None, None, "n/a: numerical orders go up to 4")
        )
    return d


def _note_kinks(out: Report, f, names, values, wrt) -> None:
    """Say where one-sided differences disagree: the function is not differentiable there
    (AD then gives the convention of its primitives, such as 0 for |x| at 0)."""
    for name in wrt:
        i = names.index(name)
        g = _partial_function(f, values, i)
        x = values[i]
        h = num.default_step(x, "forward", 1)
        right = _float(num.directional_derivative(g, x, 1.0, kind="forward", accuracy=1, step=h))
        left = _float(num.directional_derivative(g, x, 1.0, kind="backward", accuracy=1, step=h))
        if not (math.isfinite(left) and math.isfinite(right)):
            out.notes.append(
                f"f is not differentiable in {name} at the point (a one-sided "
                "difference is not finite)"
            )
        elif abs(left - right) > 1e-4 * max(1.0, abs(left), abs(right)):
            out.notes.append(
                f"f is not differentiable in {name} at the point: the one-sided derivatives "
                f"differ ({left:.6g} from the left, {right:.6g} from the right); automatic "
                "differentiation gives its primitives' convention there"
            )


def _number(x: float | None, digits: int = 15) -> str:
    if x is None:
        return "-"
    if not math.isfinite(x):
        return str(x)
    return f"{x:.{digits}g}"


def render(out: Report) -> str:
    """The report as the aligned text table `wengert diff` prints."""
    names = list(out.point)
    args = ", ".join(names)
    lines = [f"f({args}) = {out.expression} = {_number(out.value)}"]
    if len(names) > 1 or out.order > 1:
        at = ", ".join(f"{k}={v:g}" for k, v in out.point.items())
        lines.append(f"at {at}")
    for d in out.derivatives:
        lines.append("")
        if d.formula is not None:
            formula = d.formula if "\n" not in d.formula else "(shared form below)"
            lines.append(f"symbolic   {d.label} = {formula} = {_number(d.reference)}")
            if "\n" in d.formula:
                lines += ["    " + line for line in d.formula.splitlines()]
        else:
            lines.append(f"{d.label}: no formula (the function's path depends on values)")
        for e in d.estimates:
            if e.method == "symbolic":
                continue
            name = e.method + (f"  h={e.step:.2g}" if e.step is not None else "")
            error = "" if e.error is None else f"error {e.error:.1g}"
            if e.note:
                error = f"{error} ({e.note})" if error else e.note
            lines.append(f"{name:36} {_number(e.value):24} {error}".rstrip())
    lines += [f"note: {n}" for n in out.notes]
    return "\n".join(lines)
