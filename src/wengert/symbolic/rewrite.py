"""Simplifications of applications, each valid wherever the original is defined.

- constant folding: an application with no symbol below it is its value;
- identities: reshapes, casts and transposes that change nothing (the program passes'
  test), ``(X.T).T = X``, ``X @ I = I @ X = X``, a product with a zero matrix is zero,
  `stop_gradient` of a condition (booleans carry no derivative anyway);
- indexing and reshaping go inside elementwise operations, down to symbols and
  constants (``(x*[1., 0.] + y*[0., 1.])[0]`` is ``x``), and a one-element slice of a
  vector reshaped to a scalar is an index (``reshape(v[1:2], ())`` is ``v[1]``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import algebra
from .nodes import Add, Apply, Const, Mul, Node, const


def simpler(node: Apply) -> Node | None:
    """A simpler node with the same value as `node`, or None."""
    for rule in (
        _folded,
        _identity,
        _matrix_identity,
        _condition,
        _pushed_down,
        _index,
        _broadcast_scalar,
        _vector_on_the_right,
    ):
        found = rule(node)
        if found is not None:
            return found
    return None


def _folded(node: Apply) -> Node | None:
    if any(isinstance(a, Node) and not isinstance(a, Const) for a in node.args):
        return None
    return const(node.example())


def _identity(node: Apply) -> Node | None:
    """The argument an application gives back unchanged (a reshape to its own shape...),
    by the same test as the program passes' removal of identities."""
    from .._core.recording import Equation, Var
    from ..program.passes import identity_source

    if not node.args or not isinstance(node.args[0], Node):
        return None
    x = node.args[0]
    names = {id(x): Var(1, x.shape, x.dtype)}
    inputs = tuple(
        names.setdefault(id(a), Var(len(names) + 1, a.shape, a.dtype)) if isinstance(a, Node) else a
        for a in node.args
    )
    out = Var(0, node.shape, node.dtype)
    eq = Equation(node.primitive, inputs, node.kwargs, (out,), None, None)
    return x if identity_source(eq, {}) is inputs[0] else None


def _is_transpose(node: Any) -> bool:
    if not isinstance(node, Apply) or not node.args:
        return False
    from .printing import is_matrix_transpose

    return is_matrix_transpose(node)


def _matrix_identity(node: Apply) -> Node | None:
    if _is_transpose(node) and _is_transpose(node.args[0]):
        return node.args[0].args[0]
    if node.primitive.name != "matmul" or len(node.args) != 2 or node.kwargs:
        return None
    for constant, other in (node.args, node.args[::-1]):
        if isinstance(constant, Const):
            constant = constant.value
        if not isinstance(constant, np.ndarray) or not isinstance(other, Node):
            continue
        if constant.ndim == 2 and constant.shape[0] == constant.shape[1]:
            if other.shape == node.shape and np.array_equal(constant, np.eye(len(constant))):
                return other
        if constant.size and not np.any(constant):
            return const(np.zeros(node.shape, node.dtype))
    return None


def _condition(node: Apply) -> Node | None:
    """stop_gradient of a boolean or integer expression: itself."""
    x = node.args[0] if node.args else None
    if node.primitive.name == "stop_gradient" and isinstance(x, Node):
        if x.dtype.kind in "biu":
            return x
    return None


_MOVES = frozenset({"getitem", "reshape"})


def _pushed_down(node: Apply) -> Node | None:
    """Indexing or reshaping of an elementwise result, applied to its operands instead."""
    if node.primitive.name not in _MOVES or len(node.args) != 2 or node.kwargs:
        return None
    x, how = node.args
    if not isinstance(x, (Add, Mul)) and not (
        isinstance(x, Apply) and x.primitive.elementwise and not x.kwargs
    ):
        return None
    if node.primitive.name == "reshape" and node.shape != ():
        return None  # only to a scalar: other reshapes read better as they are
    from .expr import Expr, build

    def moved(operand):
        if not isinstance(operand, Node):
            return operand
        if operand.shape == x.shape:
            return build(node.primitive, (operand, how), {}).node
        if operand.shape == ():
            return operand
        if node.primitive.name == "reshape" and operand.size == 1:
            return build(node.primitive, (operand, node.shape), {}).node
        raise _Broadcasting

    try:
        if isinstance(x, Add):
            items = [(moved(t), c) for t, c in x.terms]
            return algebra.make_add([*items, (x.constant, 1)])
        if isinstance(x, Mul):
            items = [(moved(f), e) for f, e in x.factors]
            return algebra.make_mul([*items, (x.coefficient, 1)])
        args = tuple(moved(a) for a in x.args)
    except _Broadcasting:
        return None
    result = build(x.primitive, tuple(args), {})
    return result.node if isinstance(result, Expr) else None


class _Broadcasting(Exception):
    """An operand is broadcast inside the expression: it cannot be indexed alike."""


def _broadcast_scalar(node: Apply) -> Node | None:
    """A broadcast of a one-element reshape of a scalar: the broadcast of the scalar."""
    if node.primitive.name != "broadcast_to" or not isinstance(node.args[0], Node):
        return None
    core = algebra._scalar_core(node.args[0])
    if core is node.args[0] or core.shape != ():
        return None
    from .expr import build

    return build(node.primitive, (core, *node.args[1:]), node.kwargs).node


def _vector_on_the_right(node: Apply) -> Node | None:
    """``v @ A`` for a vector v and a matrix A is written ``A.T @ v``, so that products
    with one vector collect (``v @ A + A @ v`` is ``(A + A.T) @ v``)."""
    if node.primitive.name != "matmul" or len(node.args) != 2 or node.kwargs:
        return None
    v, a = node.args
    if not (isinstance(v, Node) and isinstance(a, Node) and v.ndim == 1 and a.ndim == 2):
        return None
    from .expr import Expr, build

    return build(node.primitive, (Expr(a).T.node, v), {}).node


def collect_products(terms: list) -> list:
    """Matrix products in a sum with a common operand, as one product: ``c1 A @ v + c2 B @
    v`` is ``(c1 A + c2 B) @ v`` (and alike on the left), for operands of equal shapes."""
    for side in (1, 0):
        groups: dict[int, list] = {}
        for k, (t, _) in enumerate(terms):
            if (
                isinstance(t, Apply)
                and t.primitive.name == "matmul"
                and len(t.args) == 2
                and not t.kwargs
                and all(isinstance(a, Node) for a in t.args)
            ):
                groups.setdefault(id(t.args[side]), []).append(k)
        for members in groups.values():
            if len(members) < 2:
                continue
            others = [terms[k][0].args[1 - side] for k in members]
            if len({o.shape for o in others}) != 1:
                continue
            from .expr import build

            first = terms[members[0]][0]
            summed = algebra.make_add([(o, terms[k][1]) for o, k in zip(others, members)])
            pair = (summed, first.args[1]) if side == 1 else (first.args[0], summed)
            product = build(first.primitive, pair, {}).node
            kept = [tc for k, tc in enumerate(terms) if k not in members]
            return collect_products([*kept, (product, 1)])
    return terms


def _index(node: Apply) -> Node | None:
    """``reshape(v[k:k+1], ())`` of a vector is ``v[k]``."""
    if node.primitive.name != "reshape" or node.shape != () or len(node.args) != 2:
        return None
    x = node.args[0]
    if not (isinstance(x, Apply) and x.primitive.name == "getitem" and len(x.args) == 2):
        return None
    v, index = x.args
    if isinstance(index, tuple) and len(index) == 1:
        index = index[0]
    if not isinstance(v, Node) or v.ndim != 1 or not isinstance(index, slice):
        return None
    start, stop, step = index.indices(v.shape[0])
    if stop - start != 1 or step != 1:
        return None
    from .expr import build

    return build(x.primitive, (v, start), {}).node
