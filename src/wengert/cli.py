"""The `wengert` console command (also ``python -m wengert``).

Every bad option value ends the command before any work with argparse's usage line and
one error line naming the option and its accepted range, exit status 2; never a
traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import wengert as wg

from .nn import _checks

DEMO_POINTS = (-2.0, -0.5, 0.0, 0.5, 1.0, 3.0)
SEED = "1/(x**2 + 1)"  # the example of `wengert demo`
# Beyond this, (x^2 + 1)^2 in the exact derivative overflows (near |x| = 1.16e77).
DEMO_LIMIT = 1e75


def _f(x):
    return 1.0 / (x**2 + 1.0)


def _exact(x: float) -> float:
    return -2.0 * x / (x**2 + 1.0) ** 2


def _demo_point(value: object) -> float:
    return _checks.real(value, "a point", "demo", -DEMO_LIMIT, DEMO_LIMIT)


def demo(points: Sequence[float] = DEMO_POINTS) -> str:
    """The derivative of f(x) = 1/(x^2+1) by reverse mode, forward mode and central
    differences, with each one's error against the exact -2x/(x^2+1)^2.

    Each point must be a finite number with |x| <= 1e75 (`ValueError` otherwise).

    >>> from wengert.cli import demo
    >>> print(demo([0.0]).splitlines()[-1].split()[:2])
    ['0', '0']
    """
    from wengert.numeric import directional_derivative

    points = [_demo_point(x) for x in points]
    lines = [
        "f(x) = 1/(x^2 + 1),  f'(x) = -2x/(x^2 + 1)^2",
        f"{'x':>10} {'exact':>23} {'reverse err':>12} {'forward err':>12} {'central err':>12}",
    ]
    for x in points:
        exact = _exact(x) + 0.0  # no negative zero in the table
        rev = wg.grad(_f)(x)
        fwd = wg.jvp(_f, (x,), (1.0,))[1]
        fd = directional_derivative(_f, x, 1.0, kind="central", accuracy=2)
        lines.append(
            f"{x + 0.0:10.6g} {exact:23.16g} {abs(rev - exact):12.2e} {abs(fwd - exact):12.2e} "
            f"{abs(float(fd) - exact):12.2e}"
        )
    return "\n".join(lines)


def _demo_option(text: str) -> float:
    try:
        value: object = float(text)
    except ValueError:
        value = text  # refused below, with the accepted range
    try:
        return _demo_point(value)
    except (TypeError, ValueError) as err:
        raise argparse.ArgumentTypeError(
            f"each point must be {err.accepted}, got {text!r}"
        ) from None


def _is_negative_number(token: str) -> bool:
    if not token.startswith("-") or token in ("-", "--"):
        return False
    try:
        float(token)
    except ValueError:
        return False
    return True


def _protect_negative_numbers(argv: list[str]) -> list[str]:
    """Make argparse read negative numbers such as -1e6 or -inf as values, not options:
    ``demo -1e6`` becomes ``demo -- -1e6`` and ``--lr -1e-3`` becomes ``--lr=-1e-3``.
    (argparse itself takes only plain negative numbers like -1 or -0.5 as values.)"""
    commands = [i for i, token in enumerate(argv) if not token.startswith("-")]
    if not commands:
        return argv
    at = commands[0]
    head, command, rest = argv[:at], argv[at], argv[at + 1 :]
    if command == "diff" and rest and rest[0].startswith("-") and rest[0] not in _DIFF_OPTIONS:
        rest = [f"--expression={rest[0]}", *rest[1:]]  # an expression such as -x**2
    if command == "demo":
        if any(map(_is_negative_number, rest)) and not {"-h", "--help", "--"} & set(rest):
            rest = ["--", *rest]
        return [*head, command, *rest]
    out: list[str] = []
    for token in rest:
        if out and out[-1].startswith("--") and "=" not in out[-1] and _is_negative_number(token):
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
    return [*head, command, *out]


_DIFF_OPTIONS = {
    "-h", "--help", "--at", "--wrt", "--order", "--json", "--steps", "--plot", "--trace",
    "--html", "--example", "--expression",
}  # fmt: skip
MAX_ORDER = 8


def _order(text: str) -> int:
    try:
        order = int(text)
    except ValueError:
        order = 0
    if not 1 <= order <= MAX_ORDER:
        raise argparse.ArgumentTypeError(f"must be an integer from 1 to {MAX_ORDER}, got {text!r}")
    return order


def _add_diff_arguments(p: argparse.ArgumentParser) -> None:
    from .explore.examples import EXAMPLES

    p.add_argument(
        "expr",
        nargs="?",
        metavar="EXPRESSION",
        help="such as '1/(x**2 + 1)': numbers, variables, + - * / **, named "
        "functions (sin, exp, log, sqrt, where, ...)",
    )
    p.add_argument("--expression", dest="expression", help=argparse.SUPPRESS)
    p.add_argument("--at", metavar="X=V,...", help="the point, such as x=3 or x=0.5,y=1")
    p.add_argument("--wrt", metavar="X,...", help="the variables to differentiate in (all)")
    p.add_argument(
        "--order",
        type=_order,
        default=1,
        help=f"1 (gradient), 2 (Hessian) or up to {MAX_ORDER} for one variable",
    )
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument(
        "--steps",
        action="store_true",
        help="the error of finite differences across steps 1e-1 .. 1e-16",
    )
    p.add_argument("--plot", metavar="FILE", help="with --steps: a log-log plot (matplotlib)")
    p.add_argument(
        "--trace",
        action="store_true",
        help="the evaluation list with values, partials, tangents and adjoints",
    )
    p.add_argument("--html", metavar="FILE", help="a self-contained page to explore the graph")
    p.add_argument("--example", choices=sorted(EXAMPLES), help="a built-in example instead")


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    from . import train

    parser = argparse.ArgumentParser(prog="wengert", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"wengert {wg.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="derivatives of 1/(x^2+1) three ways, with errors")
    p_demo.add_argument(
        "points",
        nargs="*",
        type=_demo_option,
        metavar="X",
        help=f"where to differentiate: finite numbers with |x| <= {DEMO_LIMIT:g}",
    )
    p_diff = sub.add_parser(
        "diff",
        help="an expression's derivatives by symbolic, automatic and numerical "
        "differentiation, side by side",
    )
    _add_diff_arguments(p_diff)
    p_train = sub.add_parser("train", help="train an MLP and a small CNN on the digits")
    train.add_arguments(p_train)
    return parser, {"demo": p_demo, "diff": p_diff, "train": p_train}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `wengert` command; returns the exit status (argparse exits with
    status 2 on a bad option)."""
    from . import train

    argv = list(sys.argv[1:] if argv is None else argv)
    parser, commands = _parser()
    args = parser.parse_args(_protect_negative_numbers(argv))
    try:
        if args.command == "demo":
            if not args.points:  # the seed example, then the same at several points
                from .explore.command import run_diff

                run_diff(commands["diff"], SEED, "x=3")
                print()
            print(demo(args.points or DEMO_POINTS))
            return 0
        if args.command == "diff":
            from .explore.command import diff_command

            return diff_command(commands["diff"], args)
        try:
            train.check_args(args)
        except ImportError as err:
            commands["train"].error(str(err))
        return train.run(args)
    except KeyboardInterrupt:
        print("wengert: interrupted", file=sys.stderr)
        return 130
    except OSError as err:  # e.g. a disk that filled up while saving
        print(f"wengert: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
