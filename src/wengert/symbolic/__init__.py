"""Symbolic differentiation: derivative formulas from the same rules as the numbers.

Symbols are values like any other: ``wg.grad(f)(x)`` with a symbol ``x`` runs the same
reverse-mode rules that give numbers and returns the derivative as an expression, a
shared (hash-consed) graph of primitive applications with like terms and powers
collected. See docs/symbolic.md.

>>> import wengert as wg
>>> from wengert import symbolic as sym
>>> x = sym.symbols("x")
>>> print(wg.grad(lambda x: 1.0 / (x**2 + 1.0))(x))
-2*x/(x**2 + 1)**2
"""

from .api import diff, lambdify, subs, symbols, to_program
from .bridge import expand, factor, from_sympy, simplify, to_sympy
from .expr import Expr, as_expr
from .nodes import SymbolicControlFlowError, SymbolicValueError

__all__ = [
    "Expr",
    "SymbolicControlFlowError",
    "SymbolicValueError",
    "as_expr",
    "diff",
    "expand",
    "factor",
    "from_sympy",
    "lambdify",
    "simplify",
    "subs",
    "symbols",
    "to_program",
    "to_sympy",
]
