"""Built-in examples for `wengert diff --example NAME`: an expression and a point."""

from __future__ import annotations


def _net13() -> tuple[str, str]:
    """The squared error of a 2-3-1 network with sigmoid units, 13 weights: hidden unit j
    gets w_j1 * 0.35 + w_j2 * 0.9 + b_j, the output v1 h1 + v2 h2 + v3 h3 + c, and the
    target is 0.5 (the inputs and target of the classic backpropagation worked example)."""
    hidden = [f"1/(1 + exp(-(w{j}1*0.35 + w{j}2*0.9 + b{j})))" for j in (1, 2, 3)]
    output = " + ".join(f"v{j}*{h}" for j, h in zip((1, 2, 3), hidden))
    expression = f"(1/(1 + exp(-({output} + c))) - 0.5)**2/2"
    weights = {
        "w11": 0.1, "w12": 0.8, "w21": 0.4, "w22": 0.6, "w31": 0.3, "w32": 0.5,
        "b1": 0.0, "b2": 0.1, "b3": -0.1, "v1": 0.3, "v2": 0.9, "v3": -0.4, "c": 0.2,
    }  # fmt: skip
    return expression, ",".join(f"{k}={v}" for k, v in weights.items())


# name -> (expression, point)
EXAMPLES: dict[str, tuple[str, str]] = {
    "seed": ("1/(x**2 + 1)", "x=3"),
    "net13": _net13(),
}
