"""The nodes of symbolic expressions: hash-consed primitive applications.

An expression is a directed acyclic graph whose nodes are symbols, constants and
applications of wengert's primitives with their static parameters, each with the shape
and dtype of its value: the same content as an equation of a `wengert.Program`, shared
instead of listed. Sums and products of numbers are kept in one canonical form each
(`Add`: a constant plus terms with numeric coefficients; `Mul`: a coefficient times
factors with numeric exponents), so that like terms and powers collect as they are built
(see `algebra`). Every node is made once: building an equal node again returns the first
one (hash-consing), which is what keeps derivative graphs from swelling.
"""

from __future__ import annotations

import itertools
import weakref
from fractions import Fraction
from typing import Any

import numpy as np

from ..errors import NoValueError


class SymbolicValueError(NoValueError):
    """A symbolic expression was asked for a number it does not have."""


class SymbolicControlFlowError(SymbolicValueError):
    """Python control flow (``if``, ``while``, ``int()``) met a symbolic expression."""


_serials = itertools.count(1)
# key -> node, for hash-consing; an entry lives as long as its node.
_made: weakref.WeakValueDictionary = weakref.WeakValueDictionary()

NUMBERS = (int, Fraction, float, complex)


class Node:
    """One node of an expression graph: its shape and dtype, and a creation serial that
    orders the terms of sums and the factors of products canonically."""

    __slots__ = ("__weakref__", "_example", "dtype", "serial", "shape")

    def children(self) -> tuple[Node, ...]:
        return ()

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def __array__(self, dtype=None, copy=None):
        raise SymbolicValueError(
            "a symbolic expression has no numeric value here: a rule or function needed "
            "one (to convert to an array, to compare entries or to choose a path). "
            "Substitute numbers first (expr.subs({x: 3.0}) or sym.lambdify), or use only "
            "functions whose derivative rules do not read values."
        )

    def filled_like(self, fill: float) -> Any:
        """An exact constant expression of this node's shape, every entry `fill` (the
        seed of a derivative: exact, so that the rules' arithmetic on it stays exact)."""
        from .expr import Expr

        fill = exact(fill)
        return Expr(const(fill if not self.shape else np.full(self.shape, fill, self.dtype)))

    def example(self) -> Any:
        """A numeric value of this node at the symbols' example points (used to learn the
        shape and dtype of applications); computed once."""
        if self._example is None:
            from .evaluate import example_values

            example_values(self)
        return self._example


def _make(cls, key, build):
    node = _made.get(key)
    if node is None:
        node = cls.__new__(cls)
        node._example = None
        build(node)
        node.serial = next(_serials)
        _made[key] = node
    return node


class Symbol(Node):
    """A named unknown, a scalar or an array of a given shape."""

    __slots__ = ("name",)

    def __repr__(self) -> str:
        return self.name


def symbol(name: str, shape: tuple = (), dtype: Any = np.float64) -> Symbol:
    shape = tuple(int(n) for n in shape)
    dtype = np.dtype(dtype)

    def build(node):
        node.name, node.shape, node.dtype = name, shape, dtype

    return _make(Symbol, ("symbol", name, shape, dtype.str), build)


class Const(Node):
    """A number or a constant array. Integers and fractions stay exact."""

    __slots__ = ("value",)

    def __repr__(self) -> str:
        return repr(self.value)


def exact(value: Any) -> Any:
    """`value` as a plain Python number where it is a scalar: a Fraction with denominator
    one becomes an int; float64 and complex128 scalars become float and complex."""
    kind = type(value)
    if kind is Fraction:
        return value.numerator if value.denominator == 1 else value
    if kind is float:
        return exact_float(value)
    if kind in (int, complex):
        return value
    if kind is bool or kind is np.bool_:
        return bool(value)
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        if value.dtype == np.float64:
            return exact_float(float(value))
        if value.dtype == np.complex128:
            return complex(value)
        if value.dtype.kind in "iu":
            return int(value)
    return value


def exact_float(value: float) -> Any:
    """A float that is exactly a small fraction (2.0, 0.5, 0.375) as that int or Fraction,
    so that arithmetic with it stays exact; any other float as it is."""
    if value != value or value in (float("inf"), float("-inf")):
        return value
    if value.is_integer():
        return int(value) if abs(value) < 2**53 else value
    f = Fraction(value)
    return f if f.denominator <= 1024 else value


def _frozen(value: Any) -> Any:
    """A hashable stand-in for a static value (arrays by their bytes)."""
    if isinstance(value, Node):
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        value = np.asarray(value)
        return ("array", value.shape, value.dtype.str, value.tobytes())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, *(_frozen(v) for v in value))
    if isinstance(value, dict):
        return ("dict", *sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, slice):
        return ("slice", _frozen(value.start), _frozen(value.stop), _frozen(value.step))
    if isinstance(value, np.dtype) or isinstance(value, type):
        return ("dtype", str(value))
    if isinstance(value, float) and value != value:
        return ("nan",)
    try:
        hash(value)
    except TypeError:
        return ("id", id(value), value)  # kept alive by the key itself
    return (type(value).__name__, value)


def const(value: Any) -> Const:
    value = exact(value)
    if isinstance(value, (np.ndarray, np.generic)):
        value = np.asarray(value)
        if value.flags.writeable:
            value = value.copy()
            value.flags.writeable = False

    def build(node):
        node.value = value
        node.shape = np.shape(value)
        if type(value) in (int, Fraction, float, bool):
            node.dtype = np.dtype(np.float64) if type(value) is not bool else np.dtype(bool)
        elif type(value) is complex:
            node.dtype = np.dtype(np.complex128)
        else:
            node.dtype = np.result_type(value)
        # Exact numbers stand for float64 values (their dtype), as examples too.
        node._example = np.float64(value) if type(value) in (int, Fraction, float) else value

    return _make(Const, ("const", _frozen(value)), build)


class Add(Node):
    """``constant + sum(coefficient * term)``, terms in canonical order."""

    __slots__ = ("constant", "terms")

    def children(self) -> tuple[Node, ...]:
        return tuple(t for t, _ in self.terms)


class Mul(Node):
    """``coefficient * prod(factor ** exponent)``, factors in canonical order."""

    __slots__ = ("coefficient", "factors")

    def children(self) -> tuple[Node, ...]:
        return tuple(f for f, _ in self.factors)


def add_node(constant, terms: tuple, shape: tuple, dtype) -> Add:
    def build(node):
        node.constant, node.terms, node.shape, node.dtype = constant, terms, shape, dtype

    return _make(Add, ("add", _frozen(constant), terms, shape, dtype.str), build)


def mul_node(coefficient, factors: tuple, shape: tuple, dtype) -> Mul:
    def build(node):
        node.coefficient, node.factors = coefficient, factors
        node.shape, node.dtype = shape, dtype

    return _make(Mul, ("mul", _frozen(coefficient), factors, shape, dtype.str), build)


class Apply(Node):
    """A primitive applied to nodes and static values: ``primitive(*args, **kwargs)``.

    For a primitive with several results this node stands for the tuple; `Output`
    nodes pick its entries."""

    __slots__ = ("args", "kwargs", "primitive")

    def children(self) -> tuple[Node, ...]:
        return tuple(a for a in self.args if isinstance(a, Node))


class Output(Node):
    """Entry `index` of the results of a primitive with several results."""

    __slots__ = ("index", "source")

    def children(self) -> tuple[Node, ...]:
        return (self.source,)


def apply_node(primitive, args: tuple, kwargs: dict) -> Apply:
    """The (shared) node of `primitive` applied to `args`; its shape and dtype are those
    of the primitive's value at the symbols' example points."""

    def build(node):
        node.primitive, node.args, node.kwargs = primitive, args, kwargs
        from .evaluate import apply_example

        node._example = apply_example(primitive, args, kwargs)
        if isinstance(node._example, tuple):
            node.shape, node.dtype = (), np.dtype(object)
        else:
            node.shape = np.shape(node._example)
            node.dtype = np.result_type(node._example)

    key = ("apply", primitive, tuple(_frozen(a) for a in args), _frozen(kwargs))
    return _make(Apply, key, build)


def output_node(source: Apply, index: int) -> Output:
    def build(node):
        node.source, node.index = source, index
        node._example = source._example[index]
        node.shape = np.shape(node._example)
        node.dtype = np.result_type(node._example)

    return _make(Output, ("output", source, index), build)


def topological(roots) -> list[Node]:
    """The nodes that `roots` depend on, each once, every node after its children."""
    order: list[Node] = []
    seen: set[int] = set()
    for root in roots:
        if id(root) in seen:
            continue
        stack = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            for child in reversed(node.children()):
                if id(child) not in seen:
                    stack.append((child, False))
    return order
