"""Reading a typed expression safely into wengert's primitives.

The text is parsed by Python's `ast` and walked against an explicit whitelist: numbers,
variable names, ``+ - * / **``, unary minus, calls of named elementwise functions (and
``where``), and one comparison at a time. Nothing is ever passed to `eval` or `exec`:
evaluation walks the checked tree and calls `wengert.numpy` functions, so the same
expression gives numbers, traced values for automatic differentiation, or symbolic
expressions. Anything else (attributes, subscripts, lambdas, keyword arguments, unknown
names, exponents so large that they only overflow) is refused with one line saying what is
not allowed.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from typing import Any

import numpy as onp

from .. import numpy as wnp

# Longest text, deepest nesting and most operations accepted: enough for any formula a
# person types, small enough that parsing and walking cannot be made to take long.
MAX_LENGTH = 2000
MAX_DEPTH = 50
MAX_NODES = 1000
# Largest constant exponent: beyond it a power of anything but 1 over- or underflows.
MAX_EXPONENT = 1100

# name -> (wengert function, number of arguments)
FUNCTIONS: dict[str, tuple[Callable, int]] = {
    "sin": (wnp.sin, 1), "cos": (wnp.cos, 1), "tan": (wnp.tan, 1),
    "arcsin": (wnp.arcsin, 1), "arccos": (wnp.arccos, 1), "arctan": (wnp.arctan, 1),
    "asin": (wnp.arcsin, 1), "acos": (wnp.arccos, 1), "atan": (wnp.arctan, 1),
    "sinh": (wnp.sinh, 1), "cosh": (wnp.cosh, 1), "tanh": (wnp.tanh, 1),
    "arcsinh": (wnp.arcsinh, 1), "arccosh": (wnp.arccosh, 1), "arctanh": (wnp.arctanh, 1),
    "exp": (wnp.exp, 1), "expm1": (wnp.expm1, 1), "exp2": (wnp.exp2, 1),
    "log": (wnp.log, 1), "log1p": (wnp.log1p, 1), "log2": (wnp.log2, 1),
    "log10": (wnp.log10, 1), "sqrt": (wnp.sqrt, 1), "cbrt": (wnp.cbrt, 1),
    "abs": (wnp.abs, 1), "sign": (wnp.sign, 1), "square": (wnp.square, 1),
    "floor": (wnp.floor, 1), "ceil": (wnp.ceil, 1),
    "maximum": (wnp.maximum, 2), "minimum": (wnp.minimum, 2), "max": (wnp.maximum, 2),
    "min": (wnp.minimum, 2), "hypot": (wnp.hypot, 2), "arctan2": (wnp.arctan2, 2),
    "atan2": (wnp.arctan2, 2), "where": (wnp.where, 3),
}  # fmt: skip
CONSTANTS = {"pi": math.pi, "e": math.e}

_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}
_COMPARE = {
    ast.Lt: wnp.less,
    ast.LtE: wnp.less_equal,
    ast.Gt: wnp.greater,
    ast.GtE: wnp.greater_equal,
    ast.Eq: wnp.equal,
    ast.NotEq: wnp.not_equal,
}
_OPERATOR_NAMES = {
    ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|",
    ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>",
}  # fmt: skip


class ParseError(ValueError):
    """An expression that is not allowed, with what is not allowed in one line."""


class Expression:
    """A checked expression: its text, its variables (in order of first appearance) and
    its tree, which `__call__` evaluates with wengert functions."""

    def __init__(self, text: str, tree: ast.AST, variables: list[str]):
        self.text = text
        self.tree = tree
        self.variables = variables

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

    def __call__(self, *values: Any) -> Any:
        if len(values) != len(self.variables):
            raise TypeError(
                f"{self.text!r} takes {len(self.variables)} values "
                f"({', '.join(self.variables)}), got {len(values)}"
            )
        return _evaluate(self.tree, dict(zip(self.variables, values)))

    def function(self, order: list[str] | None = None) -> Callable:
        """A function of the variables in `order` (by default `variables`), positional
        and named like them, so that `wg.grad`, recordings and printing see the names."""
        names = self.variables if order is None else list(order)
        missing = [n for n in self.variables if n not in names]
        if missing:
            raise ParseError(f"no value given for {', '.join(missing)}")
        tree = self.tree

        def fun(*values):
            return _evaluate(tree, dict(zip(names, values)))

        import inspect

        fun.__signature__ = inspect.Signature(
            [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names]
        )
        fun.__name__ = "f"
        return fun


def parse(text: Any) -> Expression:
    """Check `text` against the whitelist and return it as an `Expression`.

    >>> parse("1/(x**2 + 1)").variables
    ['x']
    >>> parse("__import__('os')")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    wengert.explore.parse.ParseError: __import__ is not a function that can be used here ...
    """
    if not isinstance(text, str):
        raise ParseError(f"an expression must be text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"the expression is {len(text)} characters long; at most {MAX_LENGTH}")
    if not text.strip():
        raise ParseError("the expression is empty; write one such as '1/(x**2 + 1)'")
    if "\x00" in text:
        raise ParseError("the expression contains a NUL character")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        where = f" at column {error.offset}" if error.offset else ""
        raise ParseError(f"not a valid expression{where}: {error.msg}") from None
    except (ValueError, RecursionError, MemoryError) as error:
        raise ParseError(f"not a valid expression: {error}") from None
    variables: list[str] = []
    _check(tree.body, variables, depth=0, count=[0])
    return Expression(text.strip(), tree.body, variables)


def _check(node: ast.AST, variables: list[str], depth: int, count: list[int]) -> None:
    count[0] += 1
    if depth > MAX_DEPTH:
        raise ParseError(f"the expression is nested more than {MAX_DEPTH} levels deep")
    if count[0] > MAX_NODES:
        raise ParseError(f"the expression has more than {MAX_NODES} parts")
    deeper = depth + 1
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParseError(f"{value!r} is not allowed: only real numbers")
        if isinstance(value, int) and abs(value) > 10**308:
            raise ParseError("a number that large is not allowed")
        return
    if isinstance(node, ast.Name):
        name = node.id
        if name in CONSTANTS:
            return
        if name in FUNCTIONS:
            raise ParseError(f"{name} is a function: call it, as {name}(x)")
        if name.startswith("_"):
            raise ParseError(f"the name {name} is not allowed (names may not start with _)")
        if name not in variables:
            variables.append(name)
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            symbol = _OPERATOR_NAMES.get(type(node.op), type(node.op).__name__)
            raise ParseError(f"the operator {symbol} is not allowed: use + - * / **")
        if isinstance(node.op, ast.Pow):
            _check_exponent(node.right)
        _check(node.left, variables, deeper, count)
        _check(node.right, variables, deeper, count)
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise ParseError(f"the operator {type(node.op).__name__} is not allowed: only -x")
        _check(node.operand, variables, deeper, count)
        return
    if isinstance(node, ast.Compare):
        if len(node.ops) != 1:
            raise ParseError("chained comparisons (a < b < c) are not allowed: compare once")
        if type(node.ops[0]) not in _COMPARE:
            raise ParseError("only the comparisons < <= > >= == != are allowed")
        _check(node.left, variables, deeper, count)
        _check(node.comparators[0], variables, deeper, count)
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise ParseError("only named functions can be called, such as sin(x)")
        name = node.func.id
        if name not in FUNCTIONS:
            raise ParseError(
                f"{name} is not a function that can be used here (allowed: "
                f"{', '.join(sorted(FUNCTIONS))})"
            )
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise ParseError(f"{name}() takes plain arguments only (no keywords or *)")
        arity = FUNCTIONS[name][1]
        if len(node.args) != arity:
            raise ParseError(f"{name}() takes {arity} argument{'s' * (arity > 1)}")
        for arg in node.args:
            _check(arg, variables, deeper, count)
        return
    raise ParseError(f"{_describe(node)} is not allowed in an expression")


def _check_exponent(node: ast.AST) -> None:
    value = _constant_value(node)
    if value is not None and abs(value) > MAX_EXPONENT:
        raise ParseError(
            f"the exponent {value:g} is too large (at most {MAX_EXPONENT} in absolute value)"
        )


def _constant_value(node: ast.AST) -> float | None:
    """The value of a number or a negated number, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value) if abs(node.value) < 1e308 else math.inf
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _constant_value(node.operand)
        return None if inner is None else (-inner if isinstance(node.op, ast.USub) else inner)
    return None


_DESCRIPTIONS = {
    ast.Attribute: "an attribute (a.b)",
    ast.Subscript: "indexing (a[i])",
    ast.Lambda: "a lambda",
    ast.BoolOp: "'and'/'or' (use where)",
    ast.IfExp: "'a if c else b' (use where(c, a, b))",
    ast.JoinedStr: "an f-string",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.ListComp: "a comprehension",
    ast.GeneratorExp: "a generator",
    ast.NamedExpr: "an assignment (:=)",
    ast.Await: "await",
    ast.Starred: "*",
}


def _describe(node: ast.AST) -> str:
    for kind, words in _DESCRIPTIONS.items():
        if isinstance(node, kind):
            return words
    return type(node).__name__


def _evaluate(node: ast.AST, env: dict) -> Any:
    """The value of a checked tree, with wengert functions (numbers as float64)."""
    if isinstance(node, ast.Constant):
        return onp.float64(node.value)
    if isinstance(node, ast.Name):
        if node.id in env:
            return env[node.id]
        return onp.float64(CONSTANTS[node.id])
    if isinstance(node, ast.BinOp):
        left = _evaluate(node.left, env)
        right = _evaluate(node.right, env)
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, env)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Compare):
        compare = _COMPARE[type(node.ops[0])]
        return compare(_evaluate(node.left, env), _evaluate(node.comparators[0], env))
    if isinstance(node, ast.Call):
        fun = FUNCTIONS[node.func.id][0]
        return fun(*(_evaluate(a, env) for a in node.args))
    raise ParseError(f"{_describe(node)} is not allowed in an expression")  # unreachable


def parse_point(text: Any, variables: list[str]) -> dict[str, float]:
    """``x=3,y=0.5`` as {"x": 3.0, "y": 0.5}, every variable given once, finite."""
    if not isinstance(text, str) or not text.strip():
        raise ParseError("--at needs values such as x=3 or x=0.5,y=1")
    point: dict[str, float] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ParseError(f"--at: {part.strip()!r} is not name=value (such as x=3)")
        if name in point:
            raise ParseError(f"--at: {name} is given twice")
        try:
            number = float(value)
        except ValueError:
            raise ParseError(f"--at: {value.strip()!r} is not a number (for {name})") from None
        if not math.isfinite(number):
            raise ParseError(f"--at: {name} must be a finite number, got {value.strip()}")
        point[name] = number
    unknown = [n for n in point if n not in variables]
    if unknown:
        raise ParseError(
            f"--at: {', '.join(unknown)} does not appear in the expression "
            f"(its variables: {', '.join(variables) or 'none'})"
        )
    missing = [n for n in variables if n not in point]
    if missing:
        raise ParseError(f"--at: no value for {', '.join(missing)}")
    return point
