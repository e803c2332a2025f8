"""Evaluating expression graphs: at numbers, at other expressions, or under a transformation.

Every node is evaluated by applying its primitive to its children's values, so the same
walk substitutes numbers (`subs`, `lambdify`), rebuilds an expression from expressions
(the canonical forms are recovered by hash-consing), and, with traced values for the
symbols, lets `grad`, `jvp` or a recording differentiate or write down the expression
through the primitives' own rules.
"""

from __future__ import annotations

import zlib
from fractions import Fraction
from typing import Any

import numpy as np

from .._core.box import Box
from .._core.define import Nondiff
from .._core.primitive import bind
from .nodes import (
    Add,
    Apply,
    Const,
    Mul,
    Node,
    Output,
    Symbol,
    SymbolicValueError,
    topological,
)


def symbol_example(node: Symbol) -> np.ndarray | float:
    """A fixed point, different per name, at which a symbol's shapes are worked out:
    entries in [0.5, 1.5) (inside the domain of log, sqrt, arccos of half of them...),
    square matrices made well conditioned and symmetric positive definite."""
    rng = np.random.default_rng(zlib.crc32(node.name.encode()))
    value = rng.uniform(0.5, 1.5, size=node.shape)
    shape = node.shape
    if len(shape) >= 2 and shape[-1] == shape[-2]:
        value = value @ np.swapaxes(value, -1, -2) / shape[-1] + np.eye(shape[-1])
    if node.dtype.kind == "c":
        value = value + 0.25j * rng.uniform(0.5, 1.5, size=shape)
    value = np.asarray(value, dtype=node.dtype)
    return value if shape else value[()]


def _numeric(x: Any) -> Any:
    return float(x) if type(x) is Fraction else x


def apply(primitive, args: tuple, kwargs: dict) -> Any:
    """`primitive` applied to evaluated arguments: through `bind` when any is traced (an
    expression or a transformation's value), else its implementation."""
    for a in args:
        if isinstance(a, Box):
            if isinstance(primitive, Nondiff):  # a constant to every transformation
                return primitive(*args, **kwargs)
            return bind(primitive, args, kwargs)
    return primitive.fun(*args, **kwargs)


def apply_example(primitive, args: tuple, kwargs: dict) -> Any:
    """The value of an application at the symbols' example points, for its shape and
    dtype. Where the examples are outside the primitive's domain (a singular matrix), other
    values of the same shapes and dtypes are tried: only shapes and dtypes matter here."""
    values = tuple(_numeric(a.example()) if isinstance(a, Node) else a for a in args)
    rng = np.random.default_rng(0)
    for attempt in range(4):
        try:
            with np.errstate(all="ignore"):
                return primitive.fun(*values, **kwargs)
        except (ValueError, TypeError, IndexError, np.linalg.LinAlgError) as error:
            if attempt == 3 or not isinstance(error, np.linalg.LinAlgError):
                shapes = ", ".join(str(np.shape(v)) for v in values)
                message = f"{primitive.name} of arguments of shapes {shapes}: {error}"
                raise type(error)(message) from None
            values = tuple(_redrawn(v, a, rng) for v, a in zip(values, args))
    raise AssertionError("unreachable")


def _redrawn(value: Any, arg: Any, rng) -> Any:
    if not isinstance(arg, Node) or np.result_type(value).kind not in "fc":
        return value
    drawn = rng.standard_normal(np.shape(value)).astype(np.result_type(value))
    return drawn if np.ndim(value) else drawn[()]


def example_values(root: Node) -> None:
    """Fill in the example value of `root` and of the nodes it depends on."""
    pending = [n for n in topological([root]) if n._example is None]
    values = {id(n): n._example for n in topological([root]) if n._example is not None}
    with np.errstate(all="ignore"):
        for node in pending:
            if isinstance(node, Symbol):
                value = symbol_example(node)
            else:
                value = _evaluate_node(node, values, numeric=True)
            node._example = value
            values[id(node)] = value


def _evaluate_node(node: Node, values: dict, numeric: bool) -> Any:
    if isinstance(node, Const):
        return _numeric(node.value) if numeric else node.value
    if isinstance(node, Add):
        acc = None
        for term, c in node.terms:
            v = values[id(term)]
            if acc is None:
                acc = v if c == 1 else -v if c == -1 else _number(c, numeric) * v
            elif c == 1:
                acc = acc + v
            elif c == -1:
                acc = acc - v
            elif _negative(c):
                acc = acc - _number(-c, numeric) * v
            else:
                acc = acc + _number(c, numeric) * v
        if node.constant != 0:
            acc = acc + _number(node.constant, numeric)
        return acc
    if isinstance(node, Mul):
        top = None
        bottom = None
        for factor, e in node.factors:
            v = values[id(factor)]
            if _negative(e):
                part = v if e == -1 else v ** _number(-e, numeric)
                bottom = part if bottom is None else bottom * part
            else:
                part = v if e == 1 else v ** _number(e, numeric)
                top = part if top is None else top * part
        c = node.coefficient
        if top is None:
            top = _number(c, numeric)
        elif c == -1:
            top = -top
        elif c != 1:
            top = _number(c, numeric) * top
        return top if bottom is None else top / bottom
    if isinstance(node, Apply):
        args = tuple(values[id(a)] if isinstance(a, Node) else a for a in node.args)
        return apply(node.primitive, args, node.kwargs)
    if isinstance(node, Output):
        return values[id(node.source)][node.index]
    raise TypeError(f"cannot evaluate {node!r}")


def _negative(c: Any) -> bool:
    return type(c) is not complex and c < 0


def _number(c: Any, numeric: bool) -> Any:
    return float(c) if numeric and type(c) is Fraction else c


def evaluate(roots: list[Node], env: dict, numeric: bool = False) -> list:
    """The values of `roots` with each symbol node in `env` replaced by its value.

    Symbols not in `env` stay symbols. With `numeric`, exact fractions become floats (for
    NumPy arrays); otherwise they are passed on exactly (to rebuild expressions)."""
    from .expr import Expr

    values: dict[int, Any] = {}
    for node in topological(roots):
        if isinstance(node, Symbol):
            values[id(node)] = env[node] if node in env else Expr(node)
        else:
            values[id(node)] = _evaluate_node(node, values, numeric)
    return [values[id(r)] for r in roots]


def free_symbols(roots) -> list[Symbol]:
    """The symbols that `roots` depend on, in order of creation."""
    found = [n for n in topological(roots) if isinstance(n, Symbol)]
    return sorted(found, key=lambda n: n.serial)


def require_numeric(value: Any, what: str) -> Any:
    if isinstance(value, Box):
        raise SymbolicValueError(f"{what} gave an expression, not a number: {value}")
    return value


# --- sizes: operations in the printed tree and in the shared graph -------------------


def own_operations(node: Node) -> int:
    """The arithmetic operations and function applications a node adds when written out:
    each +, -, *, /, ** and call counted once."""
    if isinstance(node, Add):
        n = len(node.terms) - 1 + (node.constant != 0)
        return n + sum(1 for _, c in node.terms if c not in (1, -1))
    if isinstance(node, Mul):
        n = len(node.factors) - 1 + (node.coefficient not in (1, -1))
        n += (node.coefficient == -1 and len(node.factors) > 0 and 1) or 0
        return n + sum(1 for _, e in node.factors if e not in (1, -1))
    if isinstance(node, Apply):
        return 1
    return 0


def tree_size(root: Node) -> int:
    """Operations in the expression written out as a tree (shared parts repeated)."""
    sizes: dict[int, int] = {}
    for node in topological([root]):
        sizes[id(node)] = own_operations(node) + sum(sizes[id(c)] for c in node.children())
    return sizes[id(root)]


def dag_size(roots) -> int:
    """Operations in the shared graph: every distinct subexpression counted once."""
    return sum(own_operations(n) for n in topological(roots))
