"""LaTeX for expressions: fractions, powers and roots, named functions, matrix notation
(``A v``, ``X^{T}``, ``X^{-1}``, ``\\det``, ``\\operatorname{tr}``) and cases for `where`."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from .nodes import Apply, Const, Node, Output, Symbol
from .printing import (
    ATOM,
    COMPARE,
    POWER,
    PRODUCT,
    SUM,
    UNARY,
    Printer,
    _real,
    is_matrix_transpose,
    number_string,
)

_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
    "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Phi", "Psi", "Omega",
}  # fmt: skip

# Functions with a LaTeX operator of their own.
_OPERATORS = {
    "sin": r"\sin", "cos": r"\cos", "tan": r"\tan", "arcsin": r"\arcsin",
    "arccos": r"\arccos", "arctan": r"\arctan", "sinh": r"\sinh", "cosh": r"\cosh",
    "tanh": r"\tanh", "log": r"\log", "det": r"\det", "trace": r"\operatorname{tr}",
    "sum": r"\sum", "log10": r"\log_{10}", "log2": r"\log_{2}",
}  # fmt: skip

_RELATIONS = {
    "less": "<", "less_equal": r"\leq", "greater": ">", "greater_equal": r"\geq",
    "equal": "=", "not_equal": r"\neq",
}  # fmt: skip


def symbol_latex(name: str) -> str:
    base, _, sub = name.partition("_")
    base = f"\\{base}" if base in _GREEK else base
    if len(base) > 1 and not base.startswith("\\"):
        base = rf"\mathrm{{{base}}}"
    return f"{base}_{{{sub}}}" if sub else base


def _number(c: Any) -> str:
    if type(c) is Fraction:
        return rf"\frac{{{c.numerator}}}{{{c.denominator}}}"
    return number_string(c)


class LatexPrinter(Printer):
    """LaTeX of nodes, with the same precedences as the text printer."""

    def _part(self, node: Node) -> tuple[str, int]:
        if isinstance(node, Symbol):
            return symbol_latex(node.name), ATOM
        if isinstance(node, Const):
            value = node.value
            if isinstance(value, np.ndarray):
                if value.ndim == 0:
                    return _number(value.item()), ATOM
                return self.matrix(value), ATOM
            return _number(value), UNARY if _real(value) and value < 0 else ATOM
        if isinstance(node, Output):
            return f"{self.text(node.source, ATOM)}_{{{node.index}}}", ATOM
        return super()._part(node)

    def matrix(self, value: np.ndarray) -> str:
        if value.ndim > 2 or value.size > 36:
            return rf"\mathrm{{array}}{value.shape}"
        rows = value.reshape(-1, 1) if value.ndim == 1 else value
        body = r" \\ ".join(" & ".join(_number(v.item()) for v in row) for row in rows)
        return rf"\begin{{pmatrix}} {body} \end{{pmatrix}}"

    def wrap(self, text: str) -> str:
        return rf"\left({text}\right)"

    def quotient(self, top: list[str], bottom: list[str]) -> str:
        text = " ".join(top) if top else "1"
        return rf"\frac{{{text}}}{{{' '.join(bottom)}}}" if bottom else text

    def _single(self, factors, c) -> int:
        return POWER

    def power(self, base: Node, e: Any) -> str:
        if e == 1:
            return self.text(base, PRODUCT + 1)
        if e == Fraction(1, 2):
            return rf"\sqrt{{{self.text(base)}}}"
        if type(e) is Fraction and e.numerator == 1:
            return rf"\sqrt[{e.denominator}]{{{self.text(base)}}}"
        return f"{self.text(base, ATOM)}^{{{number_string(e)}}}"

    def text(self, node: Any, precedence: int = 0) -> str:
        if not isinstance(node, Node):
            return self.argument(node)
        s, p = self.part(node)
        return rf"\left({s}\right)" if p < precedence else s

    def application(self, node: Apply) -> tuple[str, int]:
        name = node.primitive.name
        args = node.args
        if name == "matmul" and len(args) == 2 and not node.kwargs:
            return f"{self.text(args[0], PRODUCT)} {self.text(args[1], PRODUCT + 1)}", PRODUCT
        if is_matrix_transpose(node):
            inner = args[0]
            if isinstance(inner, Apply) and inner.primitive.name == "inv":
                return f"{self.text(inner.args[0], ATOM)}^{{-T}}", POWER
            return f"{self.text(inner, ATOM)}^{{T}}", POWER
        if name == "inv" and len(args) == 1:
            return f"{self.text(args[0], ATOM)}^{{-1}}", POWER
        if name == "exp" and len(args) == 1:
            return f"e^{{{self.text(args[0])}}}", ATOM
        if name == "absolute" and len(args) == 1:
            return rf"\left|{self.text(args[0])}\right|", ATOM
        if name == "getitem" and len(args) == 2:
            from .printing import index_string

            return f"{self.text(args[0], ATOM)}_{{{index_string(args[1])}}}", ATOM
        if name in _RELATIONS and len(args) == 2:
            left, right = (self.text(a, SUM) for a in args)
            return f"{left} {_RELATIONS[name]} {right}", COMPARE
        if name == "where" and len(args) == 3:
            c, a, b = (self.text(x) for x in args)
            return (
                rf"\begin{{cases}} {a} & \text{{if }} {c} \\ {b} & \text{{otherwise}} "
                r"\end{cases}",
                ATOM,
            )
        parts = [self.argument(a) for a in args]
        operator = _OPERATORS.get(name, rf"\operatorname{{{name}}}")
        extra = [f"{k}={v!r}" for k, v in node.kwargs.items()]
        return rf"{operator}\left({', '.join(parts + extra)}\right)", ATOM
