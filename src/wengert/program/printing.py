"""The evaluation list as text, one equation per line, as in Wengert's table.

Arithmetic prints with Python's operators (``v2 = v1 + 1.0``), other primitives as calls
(``v3 = sin(v2)``); each line ends with the shape and dtype of what it defines. Arrays
among the constants are named ``c1, c2, ...`` and listed once; long programs print their
beginning and end with a count of what lies between.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np

from .._core.recording import Equation, Guard, Var

INFIX = {
    "add": "+",
    "subtract": "-",
    "multiply": "*",
    "true_divide": "/",
    "divide": "/",
    "power": "**",
    "matmul": "@",
    "floor_divide": "//",
    "mod": "%",
    "less": "<",
    "less_equal": "<=",
    "greater": ">",
    "greater_equal": ">=",
    "equal": "==",
    "not_equal": "!=",
}
PREFIX = {"negative": "-"}

# Programs longer than this print their first and last DEFAULT_LIMIT // 2 equations.
DEFAULT_LIMIT = 60


# Prefixes of the numbered names of intermediate variables and of array constants, in
# order of preference: the first that no input's name would be confused with (an input
# called v1 or c2) is used.
_VARIABLES = ("v", "t", "u", "r", "s", "q", "_v")
_CONSTANTS = ("c", "k", "a", "_c")


def _prefix(choices: tuple[str, ...], taken: set[str]) -> str:
    for prefix in choices[:-1]:
        if not any(re.fullmatch(rf"{prefix}\d+", name) for name in taken):
            return prefix
    return choices[-1]


class Namer:
    """Names of a program's variables and array constants, in order of definition.

    Intermediate variables are numbered v1, v2, ... and array constants c1, c2, ...
    unless an input's name (or a name in `taken`) has that form, in which case another
    letter is used, so that no two things print alike.
    """

    def __init__(self, program, taken: Iterable[str] = ()) -> None:
        self.names: dict[Var, str] = dict(program.names)
        self.constants: list[tuple[str, Any]] = []
        self._constant_ids: dict[int, str] = {}
        taken = set(self.names.values()) | set(taken)
        prefix = _prefix(_VARIABLES, taken)
        self._constant_prefix = _prefix(_CONSTANTS, taken)
        count = 0
        for eq in program.equations:
            if type(eq) is Equation:
                for v in eq.outputs:
                    if v not in self.names:
                        count += 1
                        self.names[v] = f"{prefix}{count}"

    def var(self, v: Var) -> str:
        return self.names.get(v, repr(v))

    def constant(self, x: Any) -> str:
        """A short text for a constant: the number itself, or a name for an array."""
        if isinstance(x, (bool, int, float, complex, np.generic)) or x is None:
            return _number(x)
        if isinstance(x, np.ndarray) and x.size == 0:
            return f"empty{x.shape}"
        if isinstance(x, np.ndarray):
            key = id(x)
            if key not in self._constant_ids:
                name = f"{self._constant_prefix}{len(self.constants) + 1}"
                self._constant_ids[key] = name
                self.constants.append((name, x))
            return self._constant_ids[key]
        if isinstance(x, (tuple, list)):
            inner = ", ".join(self.constant(e) for e in x)
            return (
                f"({inner},)"
                if isinstance(x, tuple) and len(x) == 1
                else (f"({inner})" if isinstance(x, tuple) else f"[{inner}]")
            )
        if isinstance(x, slice):
            parts = [self.constant(p) if p is not None else "" for p in (x.start, x.stop)]
            text = ":".join(parts)
            return text + (f":{self.constant(x.step)}" if x.step is not None else "")
        if x is Ellipsis:
            return "..."
        if isinstance(x, np.dtype) or isinstance(x, type):
            return getattr(x, "__name__", str(x))
        return repr(x)

    def value(self, x: Any) -> str:
        return self.var(x) if type(x) is Var else self.constant(x)


def _number(x: Any) -> str:
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float):
        return repr(x)
    return repr(x)


def aval(v: Var) -> str:
    dtype = "?" if v.dtype is None else str(v.dtype)
    return f"{dtype}{list(v.shape)}"


def equation_text(eq: Equation, namer: Namer) -> str:
    """The right-hand side of an equation: ``v1 + 1.0`` or ``sum(v2, axis=0)``."""
    name = eq.primitive.name
    if eq.tree is None and not eq.kwargs:
        if name in INFIX and len(eq.inputs) == 2:
            a, b = (namer.value(x) for x in eq.inputs)
            return f"{a} {INFIX[name]} {b}"
        if name in PREFIX and len(eq.inputs) == 1:
            return f"{PREFIX[name]}{namer.value(eq.inputs[0])}"
        if name == "getitem" and len(eq.inputs) == 2:
            return f"{namer.value(eq.inputs[0])}[{_index(eq.inputs[1], namer)}]"
    args, kwargs = eq.arguments(lambda v: _Named(namer.var(v)))
    parts = [_arg(a, namer) for a in args]
    parts += [f"{k}={_arg(v, namer)}" for k, v in kwargs.items()]
    expr = getattr(eq.primitive, "expr", None)  # a fused group compiled by numba
    if expr is not None and "expr" not in kwargs:
        parts.append(f"expr={expr!r}")
    return f"{name}({', '.join(parts)})"


class _Named:
    """A variable's name standing in for it inside rebuilt argument trees."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name


def _arg(x: Any, namer: Namer) -> str:
    if isinstance(x, _Named):
        return x.name
    if isinstance(x, (list, tuple)) and any(isinstance(e, _Named) for e in x):
        inner = ", ".join(_arg(e, namer) for e in x)
        return f"[{inner}]" if isinstance(x, list) else f"({inner})"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k!r}: {_arg(v, namer)}" for k, v in x.items()) + "}"
    return namer.value(x)


def _index(index: Any, namer: Namer) -> str:
    parts = index if isinstance(index, tuple) else (index,)
    texts = [namer.value(p) for p in parts]
    if isinstance(index, tuple) and len(parts) == 1:
        return texts[0] + ","
    return ", ".join(texts) if texts else "()"


def guard_text(guard: Guard, namer: Namer) -> str:
    v = namer.var(guard.var)
    if guard.kind == "bool":
        return f"guard {v}" if guard.expected else f"guard not {v}"
    if guard.kind in ("any", "all"):
        return f"guard {'' if guard.expected else 'not '}{guard.kind}({v})"
    if guard.kind in ("int", "index"):
        return f"guard {guard.kind}({v}) == {guard.expected}"
    return f"guard {v} == its recorded value"


def lines(program, shapes: bool = True) -> tuple[list[str], Namer]:
    """One text line per equation and guard, and the names used."""
    namer = Namer(program)
    out = []
    for eq in program.equations:
        if type(eq) is Guard:
            out.append(guard_text(eq, namer))
            continue
        lhs = ", ".join(namer.var(v) for v in eq.outputs)
        text = f"{lhs} = {equation_text(eq, namer)}"
        if shapes:
            text = f"{text:<40} ; {', '.join(aval(v) for v in eq.outputs)}"
        out.append(text)
    return out, namer


def program_text(program, limit: int | None = DEFAULT_LIMIT, shapes: bool = True) -> str:
    body, namer = lines(program, shapes)
    ins = ", ".join(f"{namer.var(v)}: {aval(v)}" for v in program.inputs)
    outs = ", ".join(namer.value(x) for x in program.outputs)
    head = [f"program {program.fun_name}({ins})"]
    for name, value in namer.constants:
        head.append(f"  {name} = constant {aval_of(value)}")
    if limit is not None and len(body) > limit:
        half = limit // 2
        hidden = len(body) - 2 * half
        body = [*body[:half], f"... {hidden} more lines ...", *body[-half:]]
    return "\n".join(head + ["  " + b for b in body] + [f"  return {outs}"])


def aval_of(x: np.ndarray) -> str:
    return f"{x.dtype}{list(x.shape)}"
