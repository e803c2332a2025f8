"""Canonical sums and products: like terms and powers collect as expressions are built.

The arithmetic primitives (add, subtract, negative, multiply, true_divide, power with a
numeric exponent, square, sqrt, reciprocal) applied to expressions build `Add` and `Mul`
nodes in one canonical form, so that ``x + x`` is ``2*x``, ``x*x/x`` is ``x`` and
``x - x`` is ``0``, with exact integer and fraction coefficients where the inputs were
exact. The rules applied, each valid wherever the expression it replaces is defined:

- numbers are folded; constant arrays are folded with each other;
- ``a + 0 = a``, ``1*a = a``, ``0*a = 0`` (of the broadcast shape);
- like terms collect: ``c1*t + c2*t = (c1 + c2)*t``;
- powers of a base collect: ``b**p * b**q = b**(p + q)``. With ``p + q = 0`` this is 1,
  which assumes ``b != 0`` where the original was ``nan`` (``x/x``, SymPy does the same);
- ``(b**p)**q = b**(p*q)`` only where it holds for every real ``b``: ``q`` an integer, or
  ``p`` not one (then ``b**p`` is defined only for ``b >= 0``); ``(x**2)**0.5`` stays, as
  it is ``|x|``. For complex values only integer ``q``.
- an integer power of a product is distributed over its factors and coefficient;
- sums and products of up to `FLATTEN_LIMIT` parts merge into the sums and products that
  use them; larger ones stay whole (which keeps iterated functions' graphs linear).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from .._core.vspace import broadcast_to
from .nodes import Add, Apply, Const, Mul, Node, add_node, apply_node, const, exact, mul_node


def _exponent(e: Any) -> Any:
    """An exponent in exact form where it is exactly a small fraction."""
    e = exact(e)
    if type(e) is float and np.isfinite(e):
        if e.is_integer():
            return int(e)
        f = Fraction(e)
        if f.denominator <= 1024:
            return f
    return e


# Sums and products of at most this many parts are merged into the sums and products that
# use them (so like terms and powers collect across them); larger ones stay one node. Merging
# everything would copy each part of an iterated sum or product into every later one:
# x[k+1] = sin(x[k]) + x[k]/2 would hold k terms at step k, a graph quadratic in k.
FLATTEN_LIMIT = 8


def is_number(x: Any) -> bool:
    return type(x) in (int, Fraction, float, complex)


def _numeric(x: Any) -> Any:
    """The number a Const node or number stands for, for array arithmetic."""
    return float(x) if type(x) is Fraction else x


def _value_of(x: Any) -> Any:
    """A number for a scalar numeric constant; None for anything else."""
    if isinstance(x, Const):
        x = x.value
    elif isinstance(x, Node):
        return None
    x = exact(x)
    return x if is_number(x) else None


def _shape(x: Any) -> tuple:
    return x.shape if isinstance(x, Node) else np.shape(x)


def _result_dtype(operands) -> np.dtype:
    parts = []
    for x in operands:
        v = _value_of(x)
        if v is not None:
            parts.append(0.0 if type(v) in (int, Fraction) else v)
        else:
            parts.append(x.dtype if isinstance(x, Node) else np.result_type(x))
    dtype = np.result_type(*parts, 0.0)
    return dtype


def _as_node(x: Any) -> Node:
    return x if isinstance(x, Node) else const(x)


def _broadcast(node: Node, shape: tuple, dtype) -> Node:
    """`node` with the shape its operands broadcast to (a product ``0*x`` of a vector
    ``x`` is a vector of zeros, not the number 0)."""
    if node.shape == shape:
        return node
    if isinstance(node, Const):
        value = np.asarray(_numeric(node.value), dtype=dtype)
        return const(np.broadcast_to(value, shape).copy())
    return apply_node(broadcast_to, (node, shape), {})


def _scalar_power(v: Any, e: Any) -> Any:
    """``v ** e`` for numbers, exactly where both are exact; None if not a number."""
    if type(e) is int:
        if type(v) in (int, Fraction):
            if v == 0 and e < 0:
                return float("inf")  # as NumPy's 0.0 ** -1
            return exact(Fraction(v) ** e)
        try:
            return v**e
        except (ZeroDivisionError, OverflowError):
            return None
    if type(v) is float and v > 0:
        return v ** float(e)
    return None


def is_integer(e: Any) -> bool:
    return type(e) is int


def _is_real(node: Node) -> bool:
    return node.dtype.kind != "c"


_RESHAPES = frozenset({"reshape", "expand_dims", "squeeze", "ravel", "broadcast_to"})


def _scalar_core(x: Any) -> Any:
    """A scalar reshaped or broadcast to an array (a rule's ``g[..., None, None]``, a
    reduction's cotangent spread out): that scalar, which broadcasts the same way where
    the other operands have the dims; `x` itself if it is not one."""
    core = x
    while (
        isinstance(core, Apply)
        and core.primitive.name in _RESHAPES
        and (core.size == 1 or core.primitive.name == "broadcast_to")
        and isinstance(core.args[0], Node)
    ):
        core = core.args[0]
    return core if core.size == 1 else x


def _with_scalar_cores(items, shape):
    """`items` with reshaped scalars as scalars, where that leaves the shape unchanged."""
    cores = [(_scalar_core(x), w) if isinstance(x, Node) else (x, w) for x, w in items]
    if np.broadcast_shapes(*[_shape(x) for x, _ in cores]) == shape:
        return cores
    return items


def make_add(items) -> Node:
    """The canonical form of ``sum(c * x for x, c in items)``."""
    shapes = [_shape(x) for x, _ in items]
    shape = np.broadcast_shapes(*shapes) if shapes else ()
    items = _with_scalar_cores(items, shape)
    dtype = _result_dtype([x for x, _ in items])
    constant: Any = 0
    array = None
    terms: dict[Node, Any] = {}

    def put(x, c):
        nonlocal constant, array
        if c == 0:
            return
        v = _value_of(x)
        if v is not None:
            constant = exact(constant + c * v)
            return
        if isinstance(x, Const):
            part = _numeric(c) * x.value
            array = part if array is None else array + part
            return
        if isinstance(x, Add) and len(x.terms) <= FLATTEN_LIMIT:
            put(x.constant, c)
            for t, tc in x.terms:
                put(t, c * tc)
            return
        if isinstance(x, Mul) and x.coefficient != 1:
            put(_unit(x), c * x.coefficient)
            return
        terms[x] = exact(terms.get(x, 0) + c)

    for x, c in items:
        put(x, exact(c))
    ordered = sorted(((t, c) for t, c in terms.items() if c != 0), key=lambda tc: tc[0].serial)
    if sum(isinstance(t, Apply) for t, _ in ordered) > 1:
        from .rewrite import collect_products

        collected = collect_products(ordered)
        if collected is not ordered:
            return make_add(
                [
                    *collected,
                    (constant, 1),
                    *([] if array is None else [(const(np.asarray(array)), 1)]),
                ]
            )
    folded = _fold_where([(t, c) for t, c in ordered], constant, array, make_add)
    if folded is not None:
        return _broadcast(folded, shape, dtype)
    if array is not None and not np.any(array) and _covers(ordered, shape):
        array = None  # a zero array that changes no shape
    if array is not None:
        folded = const(np.asarray(array + _numeric(constant), dtype=dtype))
        constant = 0
        ordered.append((folded, 1))
    if not ordered:
        return _broadcast(const(constant if constant != 0 else _zero(dtype)), shape, dtype)
    if constant == 0 and len(ordered) == 1:
        t, c = ordered[0]
        return _broadcast(scale(t, c), shape, dtype)
    node = add_node(
        constant, tuple(ordered), np.broadcast_shapes(*[t.shape for t, _ in ordered]), dtype
    )
    return _broadcast(node, shape, dtype)


def _where_condition(node: Node) -> Node | None:
    if (
        isinstance(node, Apply)
        and node.primitive.name == "where"
        and len(node.args) == 3
        and not node.kwargs
        and isinstance(node.args[0], Node)
    ):
        return node.args[0]
    return None


def _fold_where(items, number, array, make) -> Node | None:
    """A sum or product with piecewise parts of one condition, as one piecewise
    expression: ``t + where(c, a, b) = where(c, t + a, t + b)`` (SymPy's piecewise_fold),
    so that a derivative of a piecewise function prints as one piecewise expression."""
    condition = None
    for node, _ in items:
        c = _where_condition(node)
        if c is None:
            continue
        if condition is not None and c is not condition:
            return None
        condition = c
    if condition is None:
        return None
    branches: list[list] = [[], []]
    for node, w in items:
        if _where_condition(node) is condition:
            branches[0].append((_as_node(node.args[1]), w))
            branches[1].append((_as_node(node.args[2]), w))
        else:
            branches[0].append((node, w))
            branches[1].append((node, w))
    for branch in branches:
        branch.append((number, 1))
        if array is not None:
            branch.append((const(np.asarray(array)), 1))
    from .expr import build

    where = next(n for n, _ in items if _where_condition(n) is condition).primitive
    return build(where, (condition, make(branches[0]), make(branches[1])), {}).node


def _covers(items, shape: tuple) -> bool:
    """Whether the nodes of `items` alone broadcast to `shape`."""
    return bool(items) and np.broadcast_shapes(*[n.shape for n, _ in items]) == shape


def _zero(dtype) -> Any:
    return 0 if dtype.kind in "fc" else np.zeros((), dtype)[()]


def _unit(x: Mul) -> Node:
    """`x` without its coefficient."""
    if len(x.factors) == 1 and x.factors[0][1] == 1:
        return x.factors[0][0]
    return mul_node(1, x.factors, np.broadcast_shapes(*[f.shape for f, _ in x.factors]), x.dtype)


def scale(x: Node, c: Any) -> Node:
    """``c * x`` in canonical form, for a number `c`."""
    if c == 1:
        return x
    return make_mul([(c, 1), (x, 1)])


def make_mul(items) -> Node:
    """The canonical form of ``prod(x ** e for x, e in items)`` (numeric exponents)."""
    shapes = [_shape(x) for x, _ in items]
    shape = np.broadcast_shapes(*shapes) if shapes else ()
    items = _with_scalar_cores(items, shape)
    dtype = _result_dtype([x for x, _ in items])
    real = dtype.kind != "c"
    coefficient: Any = 1
    array = None
    factors: dict[Node, Any] = {}

    def put_factor(x, e):
        factors[x] = _exponent(factors.get(x, 0) + e)

    def put(x, e):
        nonlocal coefficient, array
        if e == 0:
            return
        v = _value_of(x)
        if v is not None:
            p = _scalar_power(v, e)
            if p is None:
                put_factor(const(v), e)
            else:
                coefficient = exact(coefficient * p)
            return
        if isinstance(x, Const):
            with np.errstate(all="ignore"):
                part = np.asarray(x.value) ** e if e != 1 else x.value
            array = part if array is None else array * part
            return
        if isinstance(x, Mul):
            if is_integer(e):
                put(x.coefficient, e)
                if len(x.factors) > FLATTEN_LIMIT:  # kept whole: see FLATTEN_LIMIT
                    put_factor(_unit(x), e)
                    return
                for f, fe in x.factors:
                    put(f, fe * e)
                return
            if len(x.factors) == 1 and x.coefficient == 1:
                f, fe = x.factors[0]
                if real and not is_integer(fe):
                    put(f, _exponent(fe * e))
                    return
        put_factor(x, e)

    for x, e in items:
        put(x, _exponent(e))
    if coefficient == 0 or (array is not None and not np.any(array) and np.all(np.isfinite(array))):
        return _broadcast(const(_zero(dtype)), shape, dtype)
    ordered = sorted(((f, e) for f, e in factors.items() if e != 0), key=lambda fe: fe[0].serial)
    folded = _fold_where(ordered, coefficient, array, make_mul)
    if folded is not None:
        return _broadcast(folded, shape, dtype)
    if array is not None and np.all(array == 1) and _covers(ordered, shape):
        array = None  # an array of ones that changes no shape
    if array is not None:
        ordered.append((const(np.asarray(array, dtype=dtype)), 1))
        ordered.sort(key=lambda fe: fe[0].serial)
    if not ordered:
        return _broadcast(const(coefficient), shape, dtype)
    if coefficient == 1 and len(ordered) == 1 and ordered[0][1] == 1:
        return _broadcast(ordered[0][0], shape, dtype)
    inner = np.broadcast_shapes(*[f.shape for f, _ in ordered])
    return _broadcast(mul_node(coefficient, tuple(ordered), inner, dtype), shape, dtype)
