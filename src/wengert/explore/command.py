"""`wengert diff`: the command that prints an expression's derivatives every way."""

from __future__ import annotations

import argparse
import json

from .html import json_number
from .parse import ParseError, parse, parse_point
from .report import render, report


def diff_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Run `wengert diff` from parsed options; a bad value ends with `parser.error` (one
    line, exit status 2)."""
    from .examples import EXAMPLES

    text = args.expr if args.expr is not None else args.expression
    at = args.at
    if args.example is not None:
        if text is not None:
            parser.error("give an expression or --example, not both")
        text, default_at = EXAMPLES[args.example]
        at = at or default_at
    if text is None:
        parser.error("an expression is needed, such as: wengert diff '1/(x**2 + 1)' --at x=3")
    return run_diff(parser, text, at, args)


def run_diff(parser, text: str, at: str | None, args: argparse.Namespace | None = None) -> int:
    """Parse, compute and print (as `diff_command`); `args` None prints the plain report."""
    try:
        expression = parse(text)
        if not expression.variables:
            parser.error(f"{text!r} has no variable to differentiate in")
        if at is None:
            parser.error("--at is needed: the point, such as --at x=3")
        point = parse_point(at, expression.variables)
        wrt = _wrt(getattr(args, "wrt", None), expression.variables)
        order = getattr(args, "order", 1)
        if order > 2 and len(wrt) != 1:
            raise ParseError(f"--order {order} is for one variable: name it with --wrt")
        out = report(expression, point, wrt, order)
    except ParseError as error:
        parser.error(str(error))
    if args is None:
        print(render(out))
        return 0
    steps = _steps(expression, point, wrt, out) if args.steps or args.plot else []
    if args.plot:
        from .steps import plot_steps

        try:
            plot_steps(steps[0][1], args.plot)
        except ImportError as error:
            parser.error(str(error))
    trace = None
    if args.trace or args.html:
        from .trace import trace as make_trace

        try:
            trace = make_trace(expression.function(list(point)), point)
        except ValueError as error:
            parser.error(str(error))
    if args.html:
        from .html import write_page

        write_page(
            args.html,
            trace,
            title=f"f({', '.join(point)}) = {expression.text}",
            panels=_panels(out, dict(steps or _steps(expression, point, wrt, out))),
        )
    if args.json:
        data = out.as_dict()
        if steps:
            data["steps"] = {name: _steps_dict(s) for name, s in steps}
        if trace is not None and args.trace:
            data["trace"] = _trace_dict(trace)
        print(json.dumps(data, indent=2))
        return 0
    print(render(out))
    if steps:
        from .steps import render_steps

        for name, s in steps:
            print(f"\nerror of finite differences in {name} against the reference, by step:")
            print(render_steps(s))
    if trace is not None and args.trace:
        from .trace import render_trace

        print()
        print(render_trace(trace))
    if args.html:
        print(f"\nwrote {args.html}")
    if args.plot:
        print(f"wrote {args.plot}")
    return 0


def _wrt(text: str | None, variables: list[str]) -> list[str]:
    if text is None:
        return list(variables)
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ParseError("--wrt needs variable names, such as --wrt x,y")
    unknown = [n for n in names if n not in variables]
    if unknown:
        raise ParseError(
            f"--wrt: {', '.join(unknown)} is not a variable of the expression "
            f"({', '.join(variables)})"
        )
    if len(set(names)) != len(names):
        raise ParseError("--wrt: a variable is named twice")
    return names


def _steps(expression, point, wrt, out):
    """The error-vs-step data of each variable of `wrt`, against the first derivative's
    reference value (the symbolic or AD partial)."""
    from .steps import step_errors

    names = list(point)
    f = expression.function(names)
    result = []
    for name in wrt:
        i = names.index(name)
        values = [point[n] for n in names]

        def g(t, i=i, values=values):
            args = list(values)
            args[i] = t
            return f(*args)

        exact = _first_reference(out, name, f, values, i)
        result.append((name, step_errors(g, point[name], exact)))
    return result


def _panels(out, steps: dict) -> list:
    """The page's side panels: one per derivative of the report, with the error-vs-step
    chart beside each first partial (for higher orders, after them, one per variable)."""
    from .html import Panel

    panels = []
    for k, d in enumerate(out.derivatives):
        chart = steps.get(out.wrt[k]) if out.order == 1 else None
        estimates = [(e.method, e.value, e.error) for e in d.estimates]
        panels.append(Panel(d.label, d.formula, estimates, chart))
    if out.order > 1:
        for name, s in steps.items():
            panels.append(Panel(f"error against step of df/d{name}", steps=s))
    return panels


def _first_reference(out, name, f, values, i) -> float:
    if out.order == 1:
        return out.derivatives[out.wrt.index(name)].reference
    from .. import api

    return float(api.grad(f, argnums=i)(*values))


def _steps_dict(s) -> dict:
    return {
        "steps": [float(h) for h in s.steps],
        "forward": [json_number(e) for e in s.forward],
        "central": [json_number(e) for e in s.central],
        "complex_step": [json_number(e) for e in s.complex_step],
        "exact": json_number(s.exact),
        "default_steps": {k: float(v) for k, v in s.default_steps.items()},
    }


def _trace_dict(t) -> dict:
    return {
        "variables": t.variables,
        "rows": [
            {
                "name": r.name,
                "expression": r.expression,
                "reads": r.reads,
                "value": json_number(r.value),
                "partials": [json_number(p) for p in r.partials],
                "tangent": json_number(r.tangent),
                "adjoint": json_number(r.adjoint),
            }
            for r in t.rows
        ],
        "value": json_number(t.value),
        "derivative": json_number(t.derivative),
        "gradient": {k: json_number(v) for k, v in t.gradient.items()},
    }
