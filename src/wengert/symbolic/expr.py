"""Symbolic expressions as values, and the trace that builds them.

An `Expr` is a traced value like any other (a `Box`) whose trace, the one symbolic trace,
is the outermost of all: every primitive applied to an expression becomes a node of an
expression graph instead of a number. Transformations opened over expressions (``grad``,
``jvp``, ``hessian``...) therefore apply their rules, unchanged, to expressions, and what
they return is the derivative as a formula: symbolic differentiation by the same rules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.box import Box
from .._core.trace import Trace
from . import algebra, rewrite
from .nodes import (
    Apply,
    Const,
    Node,
    SymbolicControlFlowError,
    SymbolicValueError,
    apply_node,
    const,
    output_node,
)

_CONTROL_FLOW = (
    "Python control flow on a symbolic expression cannot be decided: {what} needs a "
    "number, and an expression has none. Write the branch with wg.numpy.where(condition, "
    "a, b), which becomes a piecewise expression (its derivative is where(condition, "
    "da, db)), or substitute numbers first (expr.subs, sym.lambdify)."
)


class Expr(Box):
    """A symbolic expression: a node of a shared expression graph, used like an array.

    Operators, ``wengert.numpy`` functions and NumPy functions build new expressions;
    ``grad``, ``jvp``, ``hessian``... of functions applied to expressions give their
    derivatives as expressions. ``str`` prints it, ``latex()`` typesets it, ``subs``
    evaluates it, ``tree_size``/``dag_size`` measure it.
    """

    __slots__ = ()
    watched = True
    holds_member = False  # no number to record: jit runs the function on it as it is

    def __init__(self, node: Node):
        self.value = node
        self._trace = SYMBOLIC

    @property
    def node(self) -> Node:
        return self.value

    def __hash__(self) -> int:
        return hash(self.value)

    # --- decisions that need a number ------------------------------------------------
    def __bool__(self) -> bool:
        raise SymbolicControlFlowError(_CONTROL_FLOW.format(what="`if`, `while` or bool()"))

    def __int__(self) -> int:
        raise SymbolicControlFlowError(_CONTROL_FLOW.format(what="int()"))

    def __index__(self) -> int:
        raise SymbolicControlFlowError(_CONTROL_FLOW.format(what="using it as an index"))

    def __float__(self) -> float:
        raise SymbolicValueError(
            "float() of a symbolic expression: it has no value until numbers are "
            "substituted; use expr.subs({x: 3.0}) or sym.lambdify([x], expr)."
        )

    def __array__(self, dtype=None, copy=None):
        return self.value.__array__()  # raises: an expression has no numeric value

    def item(self, *args):
        raise SymbolicValueError(
            ".item() of a symbolic expression: substitute numbers first (expr.subs)."
        )

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a scalar expression")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # --- output ----------------------------------------------------------------------
    def __str__(self) -> str:
        from .printing import to_string

        return to_string(self.value)

    def __repr__(self) -> str:
        return str(self)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def _repr_latex_(self) -> str:
        return f"${self.latex()}$"

    def latex(self) -> str:
        """The expression typeset in LaTeX (matrix notation for linear algebra)."""
        from .printing import to_latex

        return to_latex(self.value)

    def tree_size(self) -> int:
        """Operations in the expression written out as a tree (repeated parts repeated)."""
        from .evaluate import tree_size

        return tree_size(self.value)

    def dag_size(self) -> int:
        """Operations in the shared graph (each distinct subexpression once)."""
        from .evaluate import dag_size

        return dag_size([self.value])

    @property
    def free_symbols(self) -> list[Expr]:
        """The symbols the expression depends on, in order of creation."""
        from .evaluate import free_symbols

        return [Expr(s) for s in free_symbols([self.value])]

    def subs(self, mapping: dict) -> Any:
        """The expression with symbols replaced: by numbers (the value, a NumPy number or
        array, when no symbol is left) or by other expressions."""
        from .api import subs

        return subs(self, mapping)

    def diff(self, *wrt: Expr) -> Expr:
        """The derivative with respect to `wrt` in turn (see `sym.diff`)."""
        from .api import diff

        return diff(self, *wrt)

    def source(self, name: str = "f") -> str:
        """Standalone Python source over NumPy computing the expression from its symbols."""
        from .api import to_program

        return to_program(self).source(name)

    def to_program(self):
        """The expression as a `wengert.Program` of its free symbols."""
        from .api import to_program

        return to_program(self)


class SymbolicTrace(Trace):
    """The outermost trace: primitives applied to expressions build expression nodes."""

    __slots__ = ()

    def __init__(self) -> None:
        self.level = 0  # below every transformation, whenever it was made
        self.alive = True

    def process_primitive(self, primitive, values, kwargs, argnums, boxes, nested):
        return build(primitive, values, kwargs)

    def process_nondiff(self, fn, args: tuple, kwargs: dict) -> Any:
        values, opened_kwargs, _ = fn.opened(self, args, kwargs)
        for v in (*values, *opened_kwargs.values()):
            if isinstance(v, (list, tuple, dict)) and _holds_node(v):
                raise SymbolicValueError(
                    f"{fn.name} received symbolic expressions inside a container; "
                    "pass them as separate arguments."
                )
        return build(fn, values, opened_kwargs)

    def note_read(self, box) -> None:
        raise SymbolicValueError(
            "a derivative rule or function read the numeric value of a symbolic "
            "expression, which has none (it chooses its path by the value). Substitute "
            "numbers first (expr.subs, sym.lambdify) to differentiate it at a point."
        )

    def guard(self, box, expected, kind: str) -> None:
        raise SymbolicControlFlowError(_CONTROL_FLOW.format(what=f"{kind}()"))


def _holds_node(container) -> bool:
    from .._core.tree import tree_flatten

    return any(isinstance(leaf, (Node, Box)) for leaf in tree_flatten(container)[0])


SYMBOLIC = SymbolicTrace()


def _algebraic(primitive, values: tuple) -> Node | None:
    """The canonical sum or product node of an arithmetic primitive (see
    `Primitive.defalgebra`), or None where its arguments are not all inexact."""
    kind, weights = primitive.algebra
    if kind == "rewrite":
        return weights(*(Expr(v) if isinstance(v, Node) else v for v in values)).node
    operands = tuple(v if isinstance(v, Node) else _constant(v) for v in values)
    if not all(_inexact(o) for o in operands):
        return None
    if kind == "sum":
        return algebra.make_add(list(zip(operands, weights)))
    if kind == "product":
        return algebra.make_mul(list(zip(operands, weights)))
    base, exponent = operands
    if isinstance(exponent, Const):
        exponent = exponent.value
    if isinstance(exponent, Node) or type(exponent) is complex or np.ndim(exponent):
        return None
    return algebra.make_mul([(base, exponent)])


def build(primitive, values: tuple, kwargs: dict) -> Any:
    """The expression of `primitive` applied to `values` (nodes where expressions were)."""
    if primitive.algebra is not None and not kwargs:
        node = _algebraic(primitive, values)
        if node is not None:
            return Expr(node)
    node = apply_node(primitive, values, kwargs)
    if not isinstance(node.example(), tuple):
        simpler = rewrite.simpler(node)
        if simpler is not None:
            return Expr(simpler)
    if primitive.multiple_results or isinstance(node.example(), tuple):
        return tuple(Expr(output_node(node, i)) for i in range(len(node.example())))
    return Expr(node)


def _constant(v: Any) -> Any:
    return algebra.exact(v) if not isinstance(v, np.ndarray) else const(v)


def _inexact(x: Any) -> bool:
    if isinstance(x, Node):
        return x.dtype.kind in "fc"
    return algebra.is_number(x) and type(x) is not bool


def as_expr(x: Any) -> Expr:
    """`x` as an expression (numbers and arrays become constants)."""
    if isinstance(x, Expr):
        return x
    if isinstance(x, Box):
        raise SymbolicValueError(
            "a value traced by a transformation cannot be made an expression; apply the "
            "transformation to the expression instead."
        )
    return Expr(const(x))


__all__ = ["SYMBOLIC", "Apply", "Expr", "SymbolicTrace", "as_expr", "build"]
