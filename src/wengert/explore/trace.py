"""The evaluation trace of a scalar function: forward and reverse accumulation, row by row.

This is the classic worked example of automatic differentiation (Griewank and Walther's
tables): the function is recorded as a Wengert list, and each row shows its value, its
local partial derivatives with respect to the variables it reads, the forward tangent
(v-dot) along a direction and the reverse adjoint (v-bar) of the output. The tangent
column summed by the chain rule is forward mode; the adjoint column is reverse mode. Every
local partial is computed by wengert from the row's own primitive (a JVP of that one
equation), so the table shows the same rules every derivative is built from.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as onp

from .. import api
from .._core.recording import Equation, Var
from ..program import make_program
from ..program.printing import Namer, equation_text

__all__ = ["Trace", "TraceRow", "render_trace", "trace"]


@dataclass
class TraceRow:
    """One row of the evaluation trace: an input variable or one primitive application."""

    index: int  # position in the list, inputs first (1-based over all rows)
    name: str  # an input's own name ("x"), else "v1", "v2", ...
    kind: str  # "input" or "op"
    expression: str  # right-hand side as the program printer writes it; the name for inputs
    primitive: str  # primitive name ("" for inputs)
    reads: list[str]  # variables read (not constants), in argument order, without repeats
    value: float
    partials: list[float]  # d(row)/d(read) at the point, one per entry of `reads`
    tangent: float  # forward-mode tangent along the trace's direction
    adjoint: float  # reverse-mode adjoint: d(output)/d(row)


@dataclass
class Trace:
    """The evaluation trace of a scalar function at a point, with both accumulations."""

    variables: list[str]  # input names in order
    point: dict[str, float]
    direction: dict[str, float]  # the tangent seed
    rows: list[TraceRow]
    output: str  # name of the output row
    value: float  # f at the point
    derivative: float  # the directional derivative (the output row's tangent)
    gradient: dict[str, float]  # adjoints of the inputs


def trace(
    fun: Callable, point: dict[str, float], direction: dict[str, float] | None = None
) -> Trace:
    """The evaluation trace of `fun` at `point`, with tangents along `direction`.

    `fun` takes the variables as positional arguments in the order of `point`'s keys and
    returns one real scalar; the rows are named after those keys. `direction` (by default
    1 for the first variable and 0 for the others; missing variables are 0) seeds the
    forward sweep; the reverse sweep seeds the output's adjoint with 1.

    >>> import wengert.numpy as np
    >>> t = trace(lambda x, y: x * y + np.sin(x), {"x": 0.5, "y": 2.0})
    >>> [(r.name, r.expression) for r in t.rows]
    [('x', 'x'), ('y', 'y'), ('v1', 'x * y'), ('v2', 'sin(x)'), ('v3', 'v1 + v2')]
    >>> t.rows[2].reads, t.rows[2].partials
    (['x', 'y'], [2.0, 0.5])
    >>> t.gradient["y"]
    0.5
    """
    variables = _check_point(point)
    values = {name: _real_scalar(point[name], f"point[{name!r}]") for name in variables}
    seed = _check_direction(direction, variables)

    program = make_program(fun)(*(values[name] for name in variables))
    output = _output_var(program)
    namer = Namer(program, taken=variables)
    for var, name in zip(program.inputs, variables):
        namer.names[var] = name  # the point's keys, whatever the parameters are called

    env: dict[Var, Any] = {var: values[name] for var, name in zip(program.inputs, variables)}
    rows = [
        TraceRow(i + 1, name, "input", name, "", [], values[name], [], seed[name], 0.0)
        for i, name in enumerate(variables)
    ]
    by_var: dict[Var, TraceRow] = dict(zip(program.inputs, rows))
    for eq in program.equations:
        if type(eq) is not Equation:  # a guard: Python's control flow, no value of its own
            continue
        out = _scalar_output(eq)
        args, kwargs = eq.arguments(env.__getitem__)
        env[out] = eq.primitive(*args, **kwargs)
        reads = list(dict.fromkeys(x for x in eq.inputs if type(x) is Var))
        row = TraceRow(
            index=len(rows) + 1,
            name=namer.var(out),
            kind="op",
            expression=equation_text(eq, namer),
            primitive=eq.primitive.name,
            reads=[namer.var(v) for v in reads],
            value=float(env[out]),
            partials=[_local_partial(eq, env, v) for v in reads],
            tangent=0.0,
            adjoint=0.0,
        )
        row.tangent = math.fsum(p * by_var[v].tangent for v, p in zip(reads, row.partials))
        rows.append(row)
        by_var[out] = row

    # Reverse sweep: only rows on a path to the output pass an adjoint on, as in reverse
    # mode, so that rows the output does not use leave the inputs' adjoints untouched.
    by_name = {row.name: row for row in rows}
    last = by_var[output]
    last.adjoint = 1.0
    reached = {last.name}
    for row in reversed(rows):
        if row.name not in reached:
            continue
        for name, partial in zip(row.reads, row.partials):
            by_name[name].adjoint += row.adjoint * partial
            reached.add(name)

    return Trace(
        variables=variables,
        point=values,
        direction=seed,
        rows=rows,
        output=last.name,
        value=last.value,
        derivative=last.tangent,
        gradient={name: by_name[name].adjoint for name in variables},
    )


def render_trace(t: Trace) -> str:
    """The trace as a text table, one line per row, then f, the directional derivative
    and the gradient.

    >>> print(render_trace(trace(lambda x: x**2, {"x": 3.0})))  # doctest: +NORMALIZE_WHITESPACE
    #  name  expression  value  partials  tangent  adjoint
    1  x     x           3                1        6
    2  v1    x ** 2      9      d/dx=6    6        1
    f(x=3) = 9
    directional derivative along (x=1) = 6
    gradient (df/dx=6)
    """
    header = ["#", "name", "expression", "value", "partials", "tangent", "adjoint"]
    table = [header]
    for row in t.rows:
        partials = ", ".join(f"d/d{r}={_g(p)}" for r, p in zip(row.reads, row.partials))
        table.append(
            [
                str(row.index),
                row.name,
                row.expression,
                _g(row.value),
                partials,
                _g(row.tangent),
                _g(row.adjoint),
            ]
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in table]
    at = ", ".join(f"{name}={_g(t.point[name])}" for name in t.variables)
    along = ", ".join(f"{name}={_g(t.direction[name])}" for name in t.variables)
    grad = ", ".join(f"df/d{name}={_g(t.gradient[name])}" for name in t.variables)
    lines.append(f"f({at}) = {_g(t.value)}")
    lines.append(f"directional derivative along ({along}) = {_g(t.derivative)}")
    lines.append(f"gradient ({grad})")
    return "\n".join(lines)


def _g(x: float) -> str:
    return f"{x:.6g}"


def _check_point(point: Any) -> list[str]:
    if not isinstance(point, dict) or not point:
        raise ValueError(
            "trace needs the point as a non-empty dict of variable names to numbers, e.g. "
            f"{{'x': 0.5, 'y': 2.0}}; got {type(point).__name__} {point!r:.60}."
        )
    for name in point:
        if not isinstance(name, str):
            raise ValueError(
                f"trace: variable names are strings, not {type(name).__name__} {name!r:.40}."
            )
    return list(point)


def _real_scalar(x: Any, what: str) -> float:
    """`x` as a Python float, or a ValueError saying why it is not one real number."""
    if isinstance(x, onp.ndarray):
        if x.shape != ():
            raise ValueError(
                f"trace is for scalar expressions, but {what} is an array of shape {x.shape}; "
                "give one number per variable."
            )
        x = x[()]
    if isinstance(x, (bool, onp.bool_)) or not isinstance(x, numbers.Real):
        raise ValueError(
            f"trace is for real scalar expressions, but {what} is {type(x).__name__} "
            f"{x!r:.60}; give one real number (e.g. 0.5)."
        )
    return float(x)


def _check_direction(direction: dict | None, variables: list[str]) -> dict[str, float]:
    if direction is None:
        return {name: 1.0 if i == 0 else 0.0 for i, name in enumerate(variables)}
    if not isinstance(direction, dict):
        raise ValueError(
            "trace needs the direction as a dict of variable names to numbers, not "
            f"{type(direction).__name__}."
        )
    unknown = [name for name in direction if name not in variables]
    if unknown:
        raise ValueError(
            f"trace: the direction names {', '.join(map(repr, unknown))}, which are not "
            f"variables of the point ({', '.join(variables)})."
        )
    return {
        name: _real_scalar(direction.get(name, 0.0), f"direction[{name!r}]") for name in variables
    }


def _output_var(program) -> Var:
    """The program's one output variable, or a ValueError if the function is not scalar."""
    if program.out_tree.kind != "leaf" or len(program.outputs) != 1:
        raise ValueError(
            f"trace is for scalar expressions, but {program.fun_name} returned "
            f"{len(program.outputs)} values (a {program.out_tree.kind}); return one number, "
            "or trace each output separately."
        )
    (out,) = program.outputs
    if type(out) is not Var:
        raise ValueError(
            f"trace: {program.fun_name} returned the constant {out!r:.60}, which depends on "
            "none of the variables; there is nothing to differentiate."
        )
    if out.shape != ():
        raise ValueError(
            f"trace is for scalar expressions, but {program.fun_name} returned an array of "
            f"shape {out.shape}; reduce it to one number (e.g. sum), or trace each entry."
        )
    return out


def _scalar_output(eq: Equation) -> Var:
    """The one scalar variable an equation defines, or a ValueError naming its primitive."""
    name = eq.primitive.name
    if eq.multiple_results:
        raise ValueError(
            f"trace shows one scalar per row, but the primitive {name} returns "
            f"{len(eq.outputs)} values; write the function without it."
        )
    (out,) = eq.outputs
    if out.shape != ():
        raise ValueError(
            f"trace shows one scalar per row, but the primitive {name} makes an array of "
            f"shape {out.shape}; write the function with scalar operations only."
        )
    if out.dtype is not None and out.dtype.kind == "c":
        raise ValueError(
            f"trace is for real expressions, but the primitive {name} makes a complex value "
            f"({out.dtype}); keep the function real."
        )
    return out


def _local_partial(eq: Equation, env: dict[Var, Any], var: Var) -> float:
    """d(eq's output)/d(var) at the values in `env`: the JVP of this one equation with a
    unit tangent on `var` (every argument that is `var`) and the others fixed."""
    if var.dtype is None or var.dtype.kind not in "fc":
        return 0.0  # a boolean or integer variable (a comparison) carries no derivative

    def one(t: Any) -> Any:
        args, kwargs = eq.arguments(lambda v: t if v is var else env[v])
        return eq.primitive(*args, **kwargs)

    _, tangent = api.jvp(one, (env[var],), (1.0,))
    return float(tangent)
