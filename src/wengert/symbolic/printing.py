"""Printing expressions: infix text with the fewest parentheses, and LaTeX.

Sums print their terms with signs folded in (``x - 2*y``), products split into a
numerator and a denominator (``-2*x/(x**2 + 1)**2``), square roots as ``sqrt``; linear
algebra prints in matrix notation (``A @ v``, ``X.T``, ``inv(X)``, ``det(X)``); anything
else as the call of its primitive. An expression whose written-out tree is long is
printed with its shared subexpressions named once, one per line, instead of repeated.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from ..program.printing import INFIX
from .evaluate import own_operations, topological, tree_size
from .nodes import Add, Apply, Const, Mul, Node, Output, Symbol

# Precedences, loosest first.
COMPARE, SUM, PRODUCT, UNARY, POWER, ATOM = 1, 2, 3, 4, 5, 6

# Written out, a tree longer than this prints with named shared subexpressions.
INLINE_LIMIT = 120

_COMPARISONS = {
    name: INFIX[name]
    for name in ("less", "less_equal", "greater", "greater_equal", "equal", "not_equal")
}


def number_string(c: Any) -> str:
    if type(c) is Fraction:
        return f"{c.numerator}/{c.denominator}"
    if type(c) is float and c.is_integer() and abs(c) < 1e16:
        return str(int(c))
    if type(c) is complex:
        return repr(c)
    return repr(c) if type(c) is float else str(c)


def _number_precedence(c: Any) -> int:
    if type(c) is Fraction:
        return PRODUCT
    if type(c) is complex or (type(c) is not complex and c < 0):
        return UNARY
    return ATOM


def _array_string(value: np.ndarray) -> str:
    flat = value.ravel()
    if flat.size and np.all(flat == flat[0]):
        v = flat[0].item()
        if v == 0:
            return f"zeros({value.shape})"
        if v == 1:
            return f"ones({value.shape})"
        return f"full({value.shape}, {number_string(v)})"
    if value.size <= 12:
        return np.array2string(value, separator=", ").replace("\n", "")
    return f"array(shape={value.shape}, dtype={value.dtype})"


def index_string(index: Any) -> str:
    if isinstance(index, tuple):
        return ", ".join(index_string(i) for i in index) if index else "()"
    if isinstance(index, slice):
        parts = ["" if p is None else str(p) for p in (index.start, index.stop, index.step)]
        return ":".join(parts[:2]) + (f":{parts[2]}" if index.step is not None else "")
    if index is Ellipsis:
        return "..."
    if isinstance(index, np.ndarray):
        return _array_string(index)
    return str(index)


class Printer:
    """Text of nodes, memoised; `names` maps shared nodes to the names they print as."""

    def __init__(self, names: dict | None = None):
        self.names = {} if names is None else names
        self.memo: dict[int, tuple[str, int]] = {}

    def text(self, node: Any, precedence: int = 0) -> str:
        if not isinstance(node, Node):
            return self.argument(node)
        s, p = self.part(node)
        return f"({s})" if p < precedence else s

    def part(self, node: Node) -> tuple[str, int]:
        if id(node) in self.names:
            return self.names[id(node)], ATOM
        got = self.memo.get(id(node))
        if got is None:
            got = self.memo[id(node)] = self._part(node)
        return got

    def _part(self, node: Node) -> tuple[str, int]:
        if isinstance(node, Symbol):
            return node.name, ATOM
        if isinstance(node, Const):
            value = node.value
            if isinstance(value, np.ndarray):
                if value.ndim == 0:
                    c = value.item()
                    return number_string(c), _number_precedence(c)
                return _array_string(value), ATOM
            return number_string(value), _number_precedence(value)
        if isinstance(node, Add):
            return self.sum(node), SUM
        if isinstance(node, Mul):
            return self.product(node.coefficient, node.factors)
        if isinstance(node, Output):
            return f"{self.text(node.source, ATOM)}[{node.index}]", ATOM
        return self.application(node)

    # --- sums and products -----------------------------------------------------------
    def sum(self, node: Add) -> str:
        out = ""
        items = sorted(node.terms, key=lambda tc: -_degree(tc[0]))  # stable: x**2 + x + 1
        if node.constant != 0:
            items.append((None, node.constant))
        first = next((k for k, (_, c) in enumerate(items) if not _negative(c)), 0)
        items.insert(0, items.pop(first))  # 1 - x rather than -x + 1
        for k, (term, c) in enumerate(items):
            if term is None:
                text, negative = number_string(abs(c) if _real(c) else c), _negative(c)
            else:
                named = id(term) in self.names
                factors = term.factors if _is_unit_mul(term) and not named else ((term, 1),)
                negative = _negative(c)
                text, p = self.product(-c if negative else c, factors)
                if p < SUM:
                    text = f"({text})"
            if k == 0:
                out = f"-{text}" if negative else text
            else:
                out += f" - {text}" if negative else f" + {text}"
        return out

    def product(self, c: Any, factors) -> tuple[str, int]:
        if c == 1 and len(factors) == 1 and factors[0][1] == 1:
            return self.part(factors[0][0])
        negative = _negative(c)
        if negative:
            c = -c
        top: list[str] = []
        bottom: list[str] = []
        if type(c) is Fraction:
            if c.numerator != 1:
                top.append(str(c.numerator))
            bottom.append(str(c.denominator))
        elif c != 1:
            top.append(number_string(c) if _real(c) else self.wrap(number_string(c)))
        for factor, e in factors:
            if _negative(e):
                bottom.append(self.power(factor, -e))
            else:
                top.append(self.power(factor, e))
        text = self.quotient(top, bottom)
        if negative:
            return f"-{text}", UNARY
        return text, PRODUCT if (bottom or len(top) > 1) else self._single(factors, c)

    def wrap(self, text: str) -> str:
        return f"({text})"

    def quotient(self, top: list[str], bottom: list[str]) -> str:
        """The product of the `top` parts over the product of the `bottom` ones."""
        text = "*".join(top) if top else "1"
        if bottom:
            den = bottom[0] if len(bottom) == 1 else "(" + "*".join(bottom) + ")"
            text = f"{text}/{den}"
        return text

    def _single(self, factors, c) -> int:
        if len(factors) == 1 and factors[0][1] == 1 and c == 1:
            return self.part(factors[0][0])[1]
        return POWER if len(factors) == 1 else PRODUCT

    def power(self, base: Node, e: Any) -> str:
        if e == 1:
            return self.text(base, PRODUCT + 1)
        if e == Fraction(1, 2):
            return f"sqrt({self.text(base)})"
        exponent = number_string(e)
        if type(e) is Fraction or _negative(e):
            exponent = f"({exponent})"
        return f"{self.text(base, ATOM)}**{exponent}"

    # --- applications ----------------------------------------------------------------
    def application(self, node: Apply) -> tuple[str, int]:
        name = node.primitive.name
        args = node.args
        kwargs = node.kwargs
        if name == "matmul" and len(args) == 2 and not kwargs:
            return f"{self.text(args[0], PRODUCT)} @ {self.text(args[1], PRODUCT + 1)}", PRODUCT
        if is_matrix_transpose(node):
            return f"{self.text(args[0], ATOM)}.T", ATOM
        if name == "getitem" and len(args) == 2:
            return f"{self.text(args[0], ATOM)}[{index_string(args[1])}]", ATOM
        if name in _COMPARISONS and len(args) == 2:
            left = self.text(args[0], SUM) if isinstance(args[0], Node) else repr(args[0])
            right = self.text(args[1], SUM) if isinstance(args[1], Node) else repr(args[1])
            return f"{left} {_COMPARISONS[name]} {right}", COMPARE
        parts = [self.argument(a) for a in args]
        parts += [f"{k}={self.argument(v)}" for k, v in kwargs.items() if _shown(k, v)]
        return f"{display_name(name)}({', '.join(parts)})", ATOM

    def argument(self, a: Any) -> str:
        if isinstance(a, Node):
            return self.text(a)
        if isinstance(a, (np.ndarray, np.generic)) and np.ndim(a) == 0:
            return number_string(a.item())
        if isinstance(a, np.ndarray):
            return _array_string(a)
        if isinstance(a, (np.dtype, type)):
            return np.dtype(a).name
        return repr(a)


def _shown(key: str, value: Any) -> bool:
    """Whether a keyword argument is worth printing (not a default such as None)."""
    return value is not None and not (key == "keepdims" and value is False)


def display_name(name: str) -> str:
    return {"true_divide": "divide", "absolute": "abs"}.get(name, name)


def is_matrix_transpose(node: Apply) -> bool:
    """Whether a node is the transpose of a matrix (transpose or swapaxes of its axes)."""
    name = node.primitive.name
    x = node.args[0]
    if name not in ("transpose", "swapaxes", "moveaxis") or not isinstance(x, Node) or x.ndim != 2:
        return False
    if name == "transpose":
        axes = node.args[1] if len(node.args) > 1 else node.kwargs.get("axes")
        return axes is None or tuple(axes) == (1, 0)
    axes = tuple(node.args[1:3])
    return len(axes) == 2 and all(isinstance(a, int) for a in axes) and axes[0] % 2 != axes[1] % 2


def _degree(node: Node) -> Any:
    """The total degree of a term in its symbols (0 for anything else), for ordering."""
    if isinstance(node, Symbol):
        return 1
    if isinstance(node, Mul):
        return sum(e for f, e in node.factors if isinstance(f, Symbol) and _real(e))
    return 0


def _is_unit_mul(node: Node) -> bool:
    return isinstance(node, Mul) and node.coefficient == 1


def _real(c: Any) -> bool:
    return type(c) is not complex


def _negative(c: Any) -> bool:
    return _real(c) and c < 0


# --- whole expressions -------------------------------------------------------------------


def shared_nodes(root: Node) -> list[Node]:
    """Subexpressions used more than once (and worth a name), in evaluation order."""
    uses: dict[int, int] = {}
    order = topological([root])
    for node in order:
        for child in node.children():
            uses[id(child)] = uses.get(id(child), 0) + 1
    return [
        n
        for n in order
        if uses.get(id(n), 0) > 1
        and n is not root
        and own_operations(n) + len(n.children()) > 1
        and not isinstance(n, (Symbol, Const))
    ]


def to_string(root: Node) -> str:
    """The expression as text: inline, or with named shared parts if it is long."""
    if tree_size(root) <= INLINE_LIMIT:
        return Printer().text(root)
    names: dict[int, str] = {}
    printer = Printer(names)
    lines = []
    for k, node in enumerate(shared_nodes(root), 1):
        lines.append(f"_{k} = {printer.text(node)}")
        names[id(node)] = f"_{k}"
    lines.append(printer.text(root))
    return "\n".join(lines)


def to_latex(root: Node) -> str:
    from .latex import LatexPrinter

    return LatexPrinter().text(root)
