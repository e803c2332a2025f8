"""The bridge to SymPy (an optional extra: ``pip install wengert[symbolic]``).

`to_sympy` writes an expression as a SymPy expression (scalars, and matrices through
SymPy's matrix expressions: ``@``, ``.T``, inverse, determinant, trace); `from_sympy` reads
one back, sharing equal subexpressions. `simplify`, `expand` and `factor` go through SymPy
for the heavier algebra that wengert's own canonical forms leave alone.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from .evaluate import topological
from .expr import Expr, as_expr
from .nodes import Add, Apply, Const, Mul, Node, Output, Symbol, SymbolicValueError

# wengert primitive name -> SymPy function name, for elementwise functions of one argument.
_FUNCTIONS = {
    "sin": "sin", "cos": "cos", "tan": "tan", "arcsin": "asin", "arccos": "acos",
    "arctan": "atan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "arcsinh": "asinh",
    "arccosh": "acosh", "arctanh": "atanh", "exp": "exp", "log": "log",
    "absolute": "Abs", "sign": "sign", "erf": "erf", "erfc": "erfc", "gamma": "gamma",
    "gammaln": "loggamma", "floor": "floor", "ceil": "ceiling",
}  # fmt: skip
_INVERSE = {v: k for k, v in _FUNCTIONS.items()}
_RELATIONS = {
    "less": "Lt", "less_equal": "Le", "greater": "Gt", "greater_equal": "Ge",
    "equal": "Eq", "not_equal": "Ne",
}  # fmt: skip

_OPERATORS = {
    "<": "less", "<=": "less_equal", ">": "greater", ">=": "greater_equal",
    "==": "equal", "!=": "not_equal",
}  # fmt: skip


def _sympy():
    try:
        import sympy
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "this needs SymPy, an optional extra: pip install 'wengert[symbolic]' "
            "(or pip install sympy)"
        ) from None
    return sympy


def _number(sp, c: Any):
    if type(c) is Fraction:
        return sp.Rational(c.numerator, c.denominator)
    if type(c) is int:
        return sp.Integer(c)
    if type(c) is complex:
        return sp.Float(c.real) + sp.I * sp.Float(c.imag)
    if isinstance(c, (np.ndarray, np.generic)) and np.ndim(c) == 0:
        return _number(sp, c.item())
    if isinstance(c, np.ndarray):
        return sp.Matrix(c.tolist()) if c.ndim == 2 else sp.Matrix(c.reshape(-1, 1).tolist())
    return sp.Float(c)


def to_sympy(expr: Any):
    """The expression as a SymPy expression (matrices as SymPy matrix expressions)."""
    sp = _sympy()
    root = as_expr(expr).node
    out: dict[int, Any] = {}
    for node in topological([root]):
        out[id(node)] = _to_sympy(sp, node, out)
    return out[id(root)]


def _to_sympy(sp, node: Node, out: dict):
    def arg(a):
        return out[id(a)] if isinstance(a, Node) else _number(sp, a)

    if isinstance(node, Symbol):
        if node.ndim == 0:
            return sp.Symbol(node.name, real=node.dtype.kind != "c")
        if node.ndim == 2:
            return sp.MatrixSymbol(node.name, *node.shape)
        if node.ndim == 1:
            return sp.MatrixSymbol(node.name, node.shape[0], 1)
    elif isinstance(node, Const):
        return _number(sp, node.value)
    elif isinstance(node, Add):
        total = _number(sp, node.constant) if node.constant != 0 else None
        for term, c in node.terms:
            part = _number(sp, c) * out[id(term)] if c != 1 else out[id(term)]
            total = part if total is None else total + part
        return total
    elif isinstance(node, Mul):
        if (
            node.ndim
            and any(f.ndim for f, _ in node.factors if f.ndim)
            and len([f for f, _ in node.factors if f.ndim]) > 1
        ):
            raise SymbolicValueError(
                "to_sympy: an elementwise product of arrays has no SymPy matrix form"
            )
        product = _number(sp, node.coefficient)
        for factor, e in node.factors:
            base = out[id(factor)]
            power = _number(sp, e)
            product = product * (base if e == 1 else base**power)
        return product
    elif isinstance(node, Apply):
        name = node.primitive.name
        args = node.args
        if name in _FUNCTIONS and len(args) == 1 and not node.kwargs:
            return getattr(sp, _FUNCTIONS[name])(arg(args[0]))
        if name in ("power", "float_power") and len(args) == 2:
            return arg(args[0]) ** arg(args[1])
        if name in _RELATIONS and len(args) == 2:
            return getattr(sp, _RELATIONS[name])(arg(args[0]), arg(args[1]))
        if name == "where" and len(args) == 3:
            return sp.Piecewise((arg(args[1]), arg(args[0])), (arg(args[2]), True))
        if name == "matmul" and len(args) == 2:
            return _matmul(sp, args, arg(args[0]), arg(args[1]))
        if name in ("transpose", "swapaxes") and node.ndim == 2:
            return arg(args[0]).T
        if name == "inv":
            return arg(args[0]).I
        if name == "det":
            return sp.Determinant(arg(args[0]))
        if name == "trace" and not node.kwargs and len(args) == 1:
            return sp.Trace(arg(args[0]))
        if name in ("maximum", "minimum") and len(args) == 2:
            return (sp.Max if name == "maximum" else sp.Min)(arg(args[0]), arg(args[1]))
    elif isinstance(node, Output):
        pass
    raise SymbolicValueError(
        f"to_sympy: {_describe(node)} has no SymPy counterpart here; use lambdify or "
        "source() to work with it instead."
    )


def _matmul(sp, args, a, b):
    """``a @ b`` with vectors as SymPy column matrices: a vector on the left is a row, and
    the product of two vectors is the 1 x 1 product's entry."""
    left_vector = args[0].ndim == 1
    right_vector = args[1].ndim == 1
    product = sp.MatMul(a.T if left_vector else a, b)
    if left_vector and right_vector:
        return product[0, 0]
    return product.T if left_vector else product


def _describe(node: Node) -> str:
    if isinstance(node, Apply):
        return f"the primitive {node.primitive.name}"
    if isinstance(node, Symbol):
        return f"the {node.ndim}-dimensional symbol {node.name}"
    return type(node).__name__


def from_sympy(e: Any) -> Expr:
    """A wengert expression from a SymPy expression (numbers stay exact)."""
    sp = _sympy()
    from .. import numpy as wnp
    from .api import symbols

    memo: dict = {}

    def convert(x):
        got = memo.get(x)
        if got is not None:
            return got
        if isinstance(x, sp.Symbol):
            dtype = np.complex128 if x.is_real is False else np.float64
            result = symbols(x.name, dtype=dtype)
        elif isinstance(x, sp.Integer):
            result = as_expr(int(x))
        elif isinstance(x, sp.Rational):
            result = as_expr(Fraction(int(x.p), int(x.q)))
        elif isinstance(x, sp.Float):
            result = as_expr(float(x))
        elif x is sp.pi:
            result = as_expr(float(np.pi))
        elif x is sp.E:
            result = wnp.exp(as_expr(1))
        elif isinstance(x, sp.Add):
            result = None
            for a in x.args:
                result = convert(a) if result is None else result + convert(a)
        elif isinstance(x, sp.Mul):
            result = None
            for a in x.args:
                result = convert(a) if result is None else result * convert(a)
        elif isinstance(x, sp.Pow):
            base, exponent = x.args
            if isinstance(exponent, sp.Rational):
                p = Fraction(int(exponent.p), int(exponent.q))
                result = convert(base) ** (p.numerator if p.denominator == 1 else p)
            else:
                result = convert(base) ** convert(exponent)
        elif isinstance(x, sp.Piecewise):
            result = _piecewise(x.args, convert, wnp)
        elif isinstance(x, sp.core.relational.Relational):
            result = getattr(wnp, _OPERATORS[x.rel_op])(convert(x.lhs), convert(x.rhs))
        elif isinstance(x, sp.Function) and type(x).__name__ in _INVERSE:
            result = getattr(wnp, _INVERSE[type(x).__name__])(*[convert(a) for a in x.args])
        elif isinstance(x, (sp.Max, sp.Min)):
            fun = wnp.maximum if isinstance(x, sp.Max) else wnp.minimum
            result = None
            for a in x.args:
                result = convert(a) if result is None else fun(result, convert(a))
        else:
            raise SymbolicValueError(
                f"from_sympy: {type(x).__name__} ({x}) has no wengert counterpart here"
            )
        memo[x] = result
        return result

    return convert(sp.sympify(e))


def _piecewise(pieces, convert, wnp):
    (value, condition), *rest = pieces
    if condition is True or str(condition) == "True":
        return convert(value)
    otherwise = _piecewise(rest, convert, wnp) if rest else as_expr(float("nan"))
    return wnp.where(convert(condition), convert(value), otherwise)


def simplify(expr: Any) -> Expr:
    """SymPy's `simplify` of the expression, read back (needs SymPy)."""
    return from_sympy(_sympy().simplify(to_sympy(expr)))


def expand(expr: Any) -> Expr:
    """The expression multiplied out by SymPy's `expand` (needs SymPy)."""
    return from_sympy(_sympy().expand(to_sympy(expr)))


def factor(expr: Any) -> Expr:
    """The expression factored by SymPy's `factor` (needs SymPy)."""
    return from_sympy(_sympy().factor(to_sympy(expr)))
