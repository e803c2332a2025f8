"""The `wengert` console command."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import wengert as wg


def _f(x):
    return 1.0 / (x**2 + 1.0)


def _exact(x: float) -> float:
    return -2.0 * x / (x**2 + 1.0) ** 2


def demo(points: Sequence[float] = (-2.0, -0.5, 0.0, 0.5, 1.0, 3.0)) -> str:
    """The derivative of f(x) = 1/(x^2+1) by reverse mode, forward mode and central
    differences, with each one's error against the exact -2x/(x^2+1)^2."""
    from wengert.numeric import directional_derivative

    lines = [
        "f(x) = 1/(x^2 + 1),  f'(x) = -2x/(x^2 + 1)^2",
        f"{'x':>6} {'exact':>22} {'reverse err':>12} {'forward err':>12} {'central err':>12}",
    ]
    for x in points:
        exact = _exact(x) + 0.0  # no negative zero in the table
        rev = wg.grad(_f)(x)
        fwd = wg.jvp(_f, (x,), (1.0,))[1]
        fd = directional_derivative(_f, x, 1.0, kind="central", accuracy=2)
        lines.append(
            f"{x:6.2f} {exact:22.16f} {abs(rev - exact):12.2e} {abs(fwd - exact):12.2e} "
            f"{abs(float(fd) - exact):12.2e}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `wengert` command."""
    parser = argparse.ArgumentParser(prog="wengert", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="derivatives of 1/(x^2+1) three ways, with errors")
    p_demo.add_argument("points", nargs="*", type=float, help="where to differentiate")
    from . import train

    p_train = sub.add_parser("train", help="train an MLP and a small CNN on the digits")
    train.add_arguments(p_train)
    args = parser.parse_args(argv)
    if args.command == "demo":
        print(demo(args.points or (-2.0, -0.5, 0.0, 0.5, 1.0, 3.0)))
    if args.command == "train":
        return train.run(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
