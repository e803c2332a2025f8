"""Compiling a program into one Python function over NumPy (the NumPy backend).

The function calls each equation's implementation directly, with the constants and static
arguments bound as names, so a call costs what the hand-written NumPy calls cost plus
one Python statement per equation: no boxes, no traces, no rules. Guards become checks
that raise `GuardFailure`, so that the caller can record the other path.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._core.recording import Equation, Guard, GuardFailure, Var
from .._core.tree import tree_unflatten
from .printing import INFIX

__all__ = ["compile_program"]


def compile_program(program, buffers: dict | None = None) -> Callable[..., list]:
    """A function of the input leaves that returns the output leaves of `program`.

    `buffers` maps an equation's index to the input variable whose array it may overwrite
    (its last use, not an input or output of the program): the equation's ufunc then
    writes its result there with ``out=`` instead of allocating.
    """
    names: dict[Var, str] = {v: f"a{i}" for i, v in enumerate(program.inputs)}
    namespace: dict[str, Any] = {
        "GuardFailure": GuardFailure,
        "_unflatten": tree_unflatten,
        "_np": np,
    }
    body: list[str] = []
    count = 0

    def bind(value: Any, prefix: str) -> str:
        name = f"{prefix}{len(namespace)}"
        namespace[name] = value
        return name

    def ref(x: Any) -> str:
        if type(x) is Var:
            return names[x]
        if x is None or isinstance(x, (bool, int)) or (type(x) is float and math.isfinite(x)):
            return repr(x)
        return bind(x, "c")  # arrays, and inf and nan, whose repr is no Python literal

    last_use = _last_uses(program)
    accumulate, skipped = _accumulations(program)
    direct = _direct_scatters(program, skipped)
    # Variables read last by an absorbed scatter die at its sum instead.
    deferred: dict[int, list[Var]] = {}
    for j, i in skipped.items():
        deferred.setdefault(i, []).extend(last_use.get(j, ()))
    for i, eq in enumerate(program.equations):
        if i in skipped:  # computed where its sum is (see _accumulations)
            continue
        if i in direct.values():  # its array exists already (see _direct_scatters)
            (out,) = eq.outputs
            count += 1
            names[out] = f"v{count}"
            body.append(f"{names[out]} = {names[eq.inputs[0]]}.base")
            dead = [names[v] for v in (*deferred.pop(i, ()), *last_use.get(i, ())) if v in names]
            if dead:
                body.append(f"del {', '.join(dead)}")
            continue
        dead = [names[v] for v in (*deferred.pop(i, ()), *last_use.get(i, ())) if v in names]
        if i in accumulate:
            buffer, index, part = accumulate[i]
            (out,) = eq.outputs
            count += 1
            names[out] = f"v{count}"
            body.append(f"{names[buffer]}[{bind(index, 'i')}] += {ref(part)}")
            body.append(f"{names[out]} = {names[buffer]}")
            dead = [d for d in dead if d != names[buffer]]
            if dead:
                body.append(f"del {', '.join(dead)}")
            continue
        if type(eq) is Guard:
            g = bind(eq, "g")
            v = names[eq.var]
            if eq.kind == "bool":
                test = f"bool({v}) is not {eq.expected!r}"
            elif eq.kind in ("int", "index"):
                test = f"int({v}) != {eq.expected!r}"
            elif eq.kind in ("any", "all"):
                test = f"bool(_np.{eq.kind}({v})) is not {eq.expected!r}"
            else:
                test = f"not {g}.holds({v})"
            body.append(f"if {test}: raise GuardFailure({g})")
            if dead:
                body.append(f"del {', '.join(dead)}")
            continue
        assert type(eq) is Equation
        outs = []
        for v in eq.outputs:
            count += 1
            names[v] = f"v{count}"
            outs.append(names[v])
        target = buffers.get(i) if buffers else None
        if i in direct:  # the scatter's array of zeros, then the ufunc into its part
            scatter = program.equations[direct[i]]
            _, index, shape = scatter.inputs
            dtype = bind(scatter.outputs[0].dtype, "d")
            body.append(f"{outs[0]} = _np.zeros({ref(shape)}, {dtype})[{bind(index, 'i')}]")
            target = eq.outputs[0]
        op = _operator(eq) if target is None else None
        if op is not None:
            operands = [ref(x) for x in eq.inputs]
            call = f"{op}{operands[0]}" if len(operands) == 1 else f" {op} ".join(operands)
        elif eq.tree is None:
            fun = bind(eq.primitive.fun, "f")
            args = [ref(x) for x in eq.inputs]
            if eq.kwargs:
                args.append(f"**{bind(eq.kwargs, 'k')}")
            if target is not None:
                args.append(f"out={names[target]}")
            call = f"{fun}({', '.join(args)})"
        else:
            fun = bind(eq.primitive.fun, "f")
            leaves = ", ".join(ref(x) for x in eq.inputs)
            tree = bind(eq.tree, "t")
            body.append(f"_a, _k = _unflatten({tree}, [{leaves}])")
            call = f"{fun}(*_a, **_k)"
        if i in direct:
            body.append(call)
        elif len(outs) == 1 and not eq.primitive.multiple_results:
            body.append(f"{outs[0]} = {call}")
        else:
            body.append(f"{', '.join(outs)}{',' if len(outs) == 1 else ''} = {call}")
        if dead:  # free arrays after their last use, as the eager backward pass does
            body.append(f"del {', '.join(dead)}")
    results = ", ".join(ref(x) for x in program.outputs)
    body.append(f"return [{results}]")
    params = ", ".join(names[v] for v in program.inputs)
    source = f"def run({params}):\n" + "\n".join("    " + line for line in body) + "\n"
    code = compile(source, f"<wengert program {program.fun_name}>", "exec")
    exec(code, namespace)
    run = namespace["run"]
    run.source = source
    return run


def _accumulations(program) -> tuple[dict[int, tuple], dict[int, int]]:
    """Sums ``p + scatter_add(part, index, shape)`` that may be computed in place as
    ``p[index] += part``: the backward pass of indexing (``x[1:]``, ``x[:-1]``) adds each
    slice's cotangent into a full-size array of zeros, and this skips those arrays.

    It applies where the index is basic (no entry repeats), both terms are used only by
    the sum, and `p` is an array of the sum's shape and dtype that the program allocated
    itself (a ufunc's, a fused group's or another scatter's result, so no one else holds
    or views it).
    Returns the sums by equation index, and for each scatter they absorb, its sum."""
    from .passes import ufunc_of, use_counts

    uses = use_counts(program)
    producers: dict[Var, tuple[int, Equation]] = {
        v: (i, eq)
        for i, eq in enumerate(program.equations)
        if type(eq) is Equation
        for v in eq.outputs
    }
    inputs = set(program.inputs)

    def fresh(v: Var) -> bool:
        if v in inputs or v.shape == () or v not in producers:
            return False
        eq = producers[v][1]
        if eq.primitive.name in ("scatter_add", "fused"):  # (a fused group: a new array)
            return eq.tree is None
        return (
            ufunc_of(eq.primitive) is not None
            and eq.tree is None
            and not eq.kwargs
            and len(eq.outputs) == 1
        )

    accumulate: dict[int, tuple] = {}
    skipped: dict[int, int] = {}  # absorbed scatter -> the sum that absorbs it
    for i, eq in enumerate(program.equations):
        if type(eq) is Guard or eq.primitive.name != "add" or eq.tree is not None:
            continue
        if eq.kwargs or len(eq.inputs) != 2 or not all(type(x) is Var for x in eq.inputs):
            continue
        (out,) = eq.outputs
        a, b = eq.inputs
        for q, p in ((b, a), (a, b)):
            j, scatter = producers.get(q, (None, None))
            if scatter is None or scatter.primitive.name != "scatter_add" or j in skipped:
                continue
            if scatter.tree is not None or scatter.kwargs or len(scatter.inputs) != 3:
                continue
            part, index, _ = scatter.inputs
            if not _basic_constant(index) or uses.get(q) != 1 or uses.get(p) != 1:
                continue
            same = (p.shape, p.dtype) == (out.shape, out.dtype) == (q.shape, q.dtype)
            if same and p is not q and fresh(p):
                accumulate[i] = (p, index, part)
                skipped[j] = i
                break
    return accumulate, skipped


def _direct_scatters(program, skipped: dict[int, int]) -> dict[int, int]:
    """Scatters ``scatter_add(part, index, shape)`` whose `part` a ufunc may write straight
    into a new array of zeros (``ufunc(..., out=zeros(shape)[index])``), saving the
    array of `part` and its copy: where the index is basic, `part` is the ufunc's result
    (of the scatter's dtype) and the scatter its only use. Maps the ufunc's equation index
    to the scatter's."""
    from .passes import _ufunc_call, use_counts

    uses = use_counts(program)
    producers: dict[Var, int] = {
        v: i for i, eq in enumerate(program.equations) if type(eq) is Equation for v in eq.outputs
    }
    direct: dict[int, int] = {}
    for i, eq in enumerate(program.equations):
        if type(eq) is Guard or i in skipped or eq.primitive.name != "scatter_add":
            continue
        if eq.tree is not None or eq.kwargs or len(eq.inputs) != 3:
            continue
        part, index, shape = eq.inputs
        if type(part) is not Var or part.shape == () or uses.get(part) != 1:
            continue
        if not _basic_constant(index) or type(shape) is not tuple:
            continue
        j = producers.get(part)
        if j is None or j in direct:
            continue
        producer = program.equations[j]
        if _ufunc_call(producer) is None or producer.kwargs or not producer.primitive.elementwise:
            continue
        if part.dtype != eq.outputs[0].dtype or part.dtype is None:
            continue
        direct[j] = i
    return direct


def _basic_constant(index: Any) -> bool:
    """Whether an index is a constant of slices, integers, None and Ellipsis only."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or type(p) in (slice, int) for p in parts)


def _last_uses(program) -> dict[int, list[Var]]:
    """For each equation index, the variables read there for the last time (neither
    program inputs, whose names the caller holds anyway, nor outputs)."""
    keep = {x for x in program.outputs if type(x) is Var}
    last: dict[Var, int] = {}
    for i, eq in enumerate(program.equations):
        if type(eq) is Guard:
            last[eq.var] = i
            continue
        for x in eq.inputs:
            if type(x) is Var:
                last[x] = i
    inputs = set(program.inputs)
    out: dict[int, list[Var]] = {}
    for var, i in last.items():
        if var not in keep and var not in inputs:
            out.setdefault(i, []).append(var)
    return out


# The printer's arithmetic operators (power stays np.power, as in eager evaluation).
_OPERATORS = {k: INFIX[k] for k in ("add", "subtract", "multiply", "true_divide", "matmul")}


def _operator(eq: Equation) -> str | None:
    """Python's operator for an arithmetic equation on NumPy values, which gives NumPy's
    result without the ufunc call (about 1 us on a scalar); None where it may differ
    (two Python numbers: Python's own arithmetic, which raises on division by zero)."""
    if eq.tree is not None or eq.kwargs:
        return None
    name = eq.primitive.name
    if name == "negative" and len(eq.inputs) == 1:
        return "-" if not _is_python(eq.inputs[0]) else None
    op = _OPERATORS.get(name)
    if op is None or len(eq.inputs) != 2:
        return None
    if _is_python(eq.inputs[0]) and _is_python(eq.inputs[1]):
        return None
    return op


def _is_python(x: Any) -> bool:
    return x.weak if type(x) is Var else not isinstance(x, (np.ndarray, np.generic))


def ufunc_of(eq: Equation) -> np.ufunc | None:
    """The NumPy ufunc an equation calls, if it is one (for in-place buffers)."""
    fun = eq.primitive.fun
    return fun if isinstance(fun, np.ufunc) else None
