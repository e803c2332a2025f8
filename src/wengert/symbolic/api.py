"""The functions of `wengert.symbolic`: symbols, diff, subs, lambdify, programs."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._core.box import Box
from .evaluate import _evaluate_node, evaluate, free_symbols, symbol_example, topological
from .expr import Expr, as_expr
from .nodes import Symbol, symbol


def symbols(names: str, shape: Sequence[int] = (), dtype: Any = np.float64):
    """Symbols named by `names` (separated by spaces or commas): one expression for one
    name, a tuple for several. `shape` makes them arrays (vectors, matrices); `dtype`
    complex makes them complex.

    >>> from wengert import symbolic as sym
    >>> x, y = sym.symbols("x y")
    >>> print(x * y + x * y)
    2*x*y
    """
    parts = [n for n in names.replace(",", " ").split() if n]
    if not parts:
        raise ValueError("symbols() needs at least one name, such as symbols('x') or 'x y'")
    for n in parts:
        if not n.isidentifier():
            raise ValueError(f"symbol name {n!r} is not a Python identifier")
    made = tuple(Expr(symbol(n, tuple(shape), dtype)) for n in parts)
    return made[0] if len(made) == 1 else made


def _symbol_node(key: Any) -> Symbol:
    if isinstance(key, Expr) and isinstance(key.node, Symbol):
        return key.node
    raise TypeError(f"a substitution or derivative needs a symbol (from sym.symbols), not {key!r}")


def _check_value(node: Symbol, value: Any) -> Any:
    if isinstance(value, Box):
        return value
    value = _numpy_number(value) if np.isscalar(value) else np.asarray(value)
    shape = np.shape(value)
    if node.shape and shape != node.shape:
        raise ValueError(
            f"symbol {node.name} has shape {node.shape}, but the value given for it has "
            f"shape {shape}"
        )
    return value


def _numpy_number(value: Any) -> Any:
    """A Python number as the NumPy scalar it stands for, so that a formula evaluates with
    NumPy's arithmetic (1/0 is inf, with a warning, not ZeroDivisionError)."""
    kind = type(value)
    if kind is float or kind is int:
        return np.float64(value)
    if kind is complex:
        return np.complex128(value)
    return value


def subs(expr: Any, mapping: dict) -> Any:
    """`expr` with symbols replaced by numbers or expressions; a number (or array) when
    no symbol is left."""
    expr = as_expr(expr)
    env = {}
    for key, value in mapping.items():
        node = _symbol_node(key)
        env[node] = _check_value(node, value)
    numeric = all(not isinstance(v, Box) for v in env.values()) and all(
        s in env for s in free_symbols([expr.node])
    )
    with np.errstate(all="ignore") if numeric else _nothing():
        return evaluate([expr.node], env, numeric=numeric)[0]


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def lambdify(args: Sequence[Expr] | Expr, expr: Any) -> Callable:
    """A NumPy function of the symbols `args` computing `expr` (or a tuple or list of
    expressions): arrays broadcast as in NumPy.

    >>> from wengert import symbolic as sym
    >>> x = sym.symbols("x")
    >>> f = sym.lambdify([x], 1 / (x**2 + 1))
    >>> f(3.0)
    0.1
    """
    single_arg = isinstance(args, Expr)
    syms = [_symbol_node(a) for a in ([args] if single_arg else args)]
    many = isinstance(expr, (list, tuple))
    roots = [as_expr(e).node for e in (expr if many else [expr])]
    missing = [s.name for s in free_symbols(roots) if s not in syms]
    if missing:
        raise ValueError(
            f"lambdify: the expression depends on {', '.join(missing)}, which is not among "
            "the arguments; list every symbol it uses."
        )
    order = topological(roots)
    positions = {id(s): i for i, s in enumerate(syms)}

    def numeric_function(*values):
        if len(values) != len(syms):
            raise TypeError(f"expected {len(syms)} arguments, got {len(values)}")
        known: dict[int, Any] = {}
        with np.errstate(all="ignore"):
            for node in order:
                if isinstance(node, Symbol):
                    known[id(node)] = _numpy_number(values[positions[id(node)]])
                else:
                    known[id(node)] = _evaluate_node(node, known, numeric=True)
        results = [known[id(r)] for r in roots]
        return type(expr)(results) if many else results[0]

    numeric_function.__name__ = "lambdified"
    return numeric_function


def _as_function(roots, syms: list[Symbol]) -> Callable:
    """A function of the symbols (named as they are) that evaluates `roots` through the
    primitives, so that a transformation or a recording sees every operation."""

    def fun(*values):
        out = evaluate(roots, dict(zip(syms, values)), numeric=True)
        return out[0] if len(out) == 1 else tuple(out)

    params = [inspect.Parameter(s.name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for s in syms]
    fun.__signature__ = inspect.Signature(params)
    fun.__name__ = "expression"
    return fun


def to_program(expr: Any, args: Sequence[Expr] | None = None):
    """The expression as a `wengert.Program` whose inputs are the symbols `args` (by
    default every free symbol, in order of creation), recorded at example points: its
    printing, `source()` and `to_dot()` are those of any program."""
    from ..program import make_program

    roots = [as_expr(expr).node]
    syms = free_symbols(roots) if args is None else [_symbol_node(a) for a in args]
    return make_program(_as_function(roots, syms))(*[symbol_example(s) for s in syms])


def diff(expr: Any, *wrt: Expr) -> Expr:
    """The derivative of `expr` with respect to each of `wrt` in turn, by the primitives'
    rules: forward mode for a scalar symbol (the derivative has the shape of `expr`),
    reverse mode for an array symbol and scalar `expr` (the gradient, shaped as the
    symbol), the Jacobian otherwise (shape of `expr` followed by that of the symbol).

    >>> from wengert import symbolic as sym
    >>> x = sym.symbols("x")
    >>> print(sym.diff(x**3, x, x))
    6*x
    """
    from .. import api, jacobians

    result = as_expr(expr)
    if not wrt:
        raise TypeError("diff needs the symbol(s) to differentiate with respect to")
    for var in wrt:
        node = _symbol_node(var)
        f = _as_function([result.node], [node])
        if not node.shape:
            one = np.ones((), node.dtype)[()] if node.dtype != np.float64 else 1.0
            result = api.jvp(f, (var,), (one,))[1]
        elif not result.shape:
            result = api.grad(f)(var)
        else:
            result = jacobians.jacobian(f)(var)
        result = as_expr(result)
    return result


__all__ = ["diff", "lambdify", "subs", "symbols", "to_program"]
