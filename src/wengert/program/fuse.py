"""Fusion: runs of elementwise equations evaluated as one numexpr expression each.

``fuse(program)`` finds the largest groups of elementwise equations (arithmetic, powers,
comparisons, ``where`` and the usual transcendental functions) whose intermediate values
are used only inside the group, and replaces each group by one equation of the `fused`
primitive, which evaluates the group's expression with ``numexpr.evaluate``. NumPy
evaluates one operation at a time and writes every intermediate array to memory; numexpr
walks the arrays once in cache-sized blocks, on all cores by default, so a chain of k
operations on large arrays makes one pass instead of k and allocates one array. Values
used outside their group, the program's outputs and the variables of guards stay
materialised; equations that numexpr cannot compute exactly as NumPy does (other
primitives, other dtypes, keyword arguments) stay NumPy equations, one by one. A fused
program is for evaluation only: `fused` has no derivative rules, so differentiate the
program before fusing it.

Why numexpr, measured by ``bench/fusion_backends.py`` (1e6 float64 values, one thread,
NumPy 2.4 with AVX2 on a busy 2-core machine: ranges over several runs; baseline the
hand-written NumPy gradient of Rosenbrock's function in the same run):

- numexpr compiles a new expression in about 1 ms (cached after); numba takes 80-200 ms
  per ``@vectorize`` ufunc and 0.4-0.9 s per ``@njit`` loop, for every new group and
  every new dtype signature, and would need Python source generated per group.
- Once compiled, numba's ufuncs of the gradient's two elementwise groups ran at 0.31-0.49
  of hand-written NumPy, numexpr's strings at 0.7-1.4: numexpr's interpreter is 1.4-1.9x
  slower than NumPy's SIMD loops per operation here, which eats most of the memory
  traffic that fusion saves. On a 14-operation chain of sin, exp, sqrt, cos and tanh,
  both ran at 0.7-1.5 of NumPy (mostly 1.0-1.1). A numba backend would pay back its
  compile time only after about 50-100 evaluations of one program at this size, and far
  later on smaller arrays.
- Within wengert, fusing the Rosenbrock gradient program made ``Program.evaluate`` (which
  keeps every value until the end) 0.54-0.76 of the unfused time, and a loop that drops
  values after their last use 0.88-1.27: on one core fusion with numexpr is about even
  for float64 beyond the memory it saves; numexpr's threads (its default) are where it
  can gain more, which this busy machine could not measure. For float32 it lost (1.5-2.3x
  on the gradient, 3-4.7x on the chain: NumPy's float32 SIMD loops are far ahead of
  numexpr's), so float32 stays NumPy by default.

So numexpr: no compile latency for a transformation that meets new groups and dtypes with
every recorded program, threads without further work, a small run-time dependency
(``pip install "wengert[fast]"``) and string expressions that type their operands as NumPy
does for the dtypes it supports (checked here for every fused equation). For a program
evaluated thousands of times on one core, numba ufuncs of the same groups would run about
twice as fast: ``fuse(p, backend="numba")`` (and ``jit(f, backend="numba")``) is that
backend (`wengert.program.fuse_numba`). The grouping is the same for both; a backend only
says which operations it computes as NumPy does and how a group's expression is compiled
and called (`_Backend`).

Results equal NumPy's to rounding: the arithmetic is the same IEEE operations; numexpr's
transcendental functions and its expansion of integer powers (``x**3`` as ``x*x*x``) may
differ in the last bits (the tests use rtol 1e-14 for float64 and 1e-6 for float32). Dtypes
are kept exactly: every fused operation is checked, once per operation and operand dtypes,
to give in numexpr the dtype NumPy gave when the program was recorded, and Python number
constants are passed as NumPy scalars of the dtype NumPy computes them in (numexpr would
otherwise widen ``x_float32 * 0.1`` to float64).

Example (skipped where numexpr is not installed):

>>> import pytest; _ = pytest.importorskip("numexpr")
>>> import numpy as onp
>>> import wengert as wg, wengert.numpy as np
>>> from wengert.program.fuse import fuse
>>> x = onp.linspace(0.0, 1.0, 200_000)
>>> p = wg.make_program(lambda x: np.sin(x) * 2.0 + x**2)(x)
>>> fast = fuse(p)
>>> fast.primitives()
{'fused': 1}
>>> x = onp.linspace(-1.0, 1.0, 200_000)
>>> bool(onp.allclose(fast(x), onp.sin(x) * 2.0 + x**2, rtol=1e-14))
True
"""

from __future__ import annotations

import functools
import math
from collections.abc import Collection
from typing import Any

import numpy as np

from .._core.box import Box
from .._core.primitive import Primitive
from .._core.recording import Equation, Guard, Var
from .printing import INFIX
from .program import Program

try:
    import numexpr
except ImportError:  # the optional extra is not installed; fuse() says how to get it
    numexpr = None

__all__ = ["DTYPES", "MIN_SIZE", "fuse", "fused"]

# Groups whose values have fewer elements than this stay NumPy. While the arrays fit in the
# caches NumPy's passes are cheap, and numexpr's loop is slower per element than NumPy's
# SIMD loops, plus about 15 us per call: on one thread, a fused 4-operation float64 chain
# measured 2.4-3.9x NumPy's time at 1e3 elements, 1.9-3.4x at 1e4, 1.7-3.6x at 1e5-3e5,
# 0.6-2.8x at 1e6 and 0.6-1.3x at 2e6 (bench/fusion_backends.py, a busy 2-core machine
# with 1 MB of L2 cache per core). 1e5 assumes numexpr's threads (its default) on larger
# arrays; with one thread, fuse(p, min_size=2_000_000) keeps only the groups that gain.
MIN_SIZE = 100_000
# The dtypes fused equations compute by default. Not float32: NumPy's SIMD loops for it
# (arithmetic, sin, exp, tanh) outrun numexpr's interpreter so far that a fused float32
# group is slower than the separate NumPy operations (bench/fusion_backends.py: 1.5-2.3x on
# Rosenbrock's gradient, 3-4.7x on the chain); ``fuse(p, dtypes=None)`` fuses it anyway.
DTYPES = frozenset(map(np.dtype, ("bool", "int32", "int64", "float64", "complex128")))
# numexpr's limits: operands of one expression (NumPy's iterator takes at most 32 on old
# NumPy) and registers (one byte each); the expanded text of a group with shared values
# is also bounded, so that a value used many times does not blow it up.
MAX_OPERANDS = 30
MAX_MEMBERS = 120
MAX_EXPANDED = 500


# --- the fused primitives -------------------------------------------------------------------
def _fused_impl(*args: Any, expr: str) -> np.ndarray:
    return numexpr.evaluate(
        expr, local_dict={f"a{i}": a for i, a in enumerate(args)}, global_dict={}
    )


class _Fused(Primitive):
    """The primitive of a fused group: ``fused(*operands, expr=...)`` evaluates `expr` over
    the operands named ``a0, a1, ...`` with numexpr. It has no derivative rules. The numba
    backend makes one per compiled group, whose implementation is the group's ufunc itself
    (so runners call it with ``out=`` as any ufunc) and whose `expr` is the group's text."""

    nondifferentiable = True

    def __init__(self, fun: Any, expr: str | None = None):
        super().__init__(fun, "fused", elementwise=True)
        self.expr = expr

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for arg in args:
            if isinstance(arg, Box):
                raise TypeError(
                    "a fused program (wengert.program.fuse) evaluates values only and cannot "
                    f"be traced (received a value traced by {arg._trace!r}); transform the "
                    "program before fusing it, e.g. fuse(make_program(grad(f))(x))."
                )
        return self.fun(*args, **kwargs)


fused = _Fused(_fused_impl)


# --- translating one equation ---------------------------------------------------------------
# The printer's operators, less those the fusing backends do not have.
_INFIX = {k: v for k, v in INFIX.items() if k not in ("divide", "matmul", "floor_divide", "mod")}
_FUNCTION_NAMES = (
    "sin cos tan arcsin arccos arctan sinh cosh tanh arcsinh arccosh arctanh "
    "exp expm1 log log1p log10 sqrt"
).split()
_FUNCTIONS = {name: name for name in _FUNCTION_NAMES}
_FUNCTIONS["absolute"] = "abs"
_FUNCTIONS["fabs"] = "abs"
# Templates over the operands {0}, {1}, ... (each already parenthesised).
_TEMPLATES = {name: f"({{0}} {op} {{1}})" for name, op in _INFIX.items()}
_TEMPLATES.update({name: f"{fn}({{0}})" for name, fn in _FUNCTIONS.items()})
_TEMPLATES.update(
    {
        "negative": "(-{0})",
        "positive": "{0}",
        "stop_gradient": "{0}",
        "square": "({0} ** 2)",
        "reciprocal": "(1 / {0})",
        "arctan2": "arctan2({0}, {1})",
        "where": "where({0}, {1}, {2})",
        "zero_safe_multiply": "where({0} == 0, 0, {0} * {1})",
    }
)
_COMPLEX_ONLY = {"real": "real({0})", "imag": "imag({0})", "conjugate": "conj({0})"}
_REAL_IDENTITY = ("real", "conjugate")  # of a real value: the value itself
FUSIBLE = frozenset(_TEMPLATES) | frozenset(_COMPLEX_ONLY)

_INT32 = np.iinfo(np.int32)


class _Op:
    """An equation as expression text: `template` over the operands, `operands` the
    equation's inputs with each Python number already written in (a literal text, ``str``)
    or typed (a NumPy scalar of the dtype NumPy computes it in)."""

    __slots__ = ("operands", "template")

    def __init__(self, template: str, operands: list):
        self.template = template
        self.operands = operands


class _Literal(str):
    """Text of a number written into the expression (with its dtype, for numba)."""

    dtype: np.dtype | None = None


def _size(shape: tuple) -> int:
    return math.prod(shape)


def _dtype_of(x: Any) -> np.dtype:
    return x.dtype if type(x) is Var else np.result_type(x)


class _Backend:
    """How groups are written and computed: the grouping in `fuse` is the same for every
    backend; a backend says which operations it computes exactly as NumPy does (`op`), and
    turns a group's expression into one equation (`equation`)."""

    name = ""
    min_size = 0
    dtypes: frozenset | None = None

    def template(self, name: str, dtype: np.dtype) -> str | None:
        """The template of operation `name` whose first operand has `dtype`."""
        raise NotImplementedError

    def constant(self, x: Any, others: list[np.dtype], exponent: bool) -> Any:
        raise NotImplementedError

    def result_dtype(self, name: str, template: str, operands: list) -> np.dtype | None:
        raise NotImplementedError

    def equation(self, expr: str, inputs: list, root: Equation) -> Equation | None:
        raise NotImplementedError

    def op(self, eq: Equation, dtypes) -> _Op | None:
        """The equation as an operation of this backend, or None where it stays NumPy."""
        name = eq.primitive.name
        if name not in FUSIBLE or not eq.primitive.elementwise or eq.kwargs or len(eq.outputs) != 1:
            return None
        out = eq.outputs[0]
        inputs = eq.inputs
        if eq.tree is not None:  # recorded with its arguments as a tree (comparisons do)
            inputs, kwargs = eq.arguments(lambda v: v)
            if kwargs:
                return None
        if out.dtype is None or not inputs or (dtypes is not None and out.dtype not in dtypes):
            return None
        variables = [x for x in inputs if type(x) is Var]
        if not variables or any(v.dtype is None for v in variables):
            return None
        others = [_dtype_of(x) for x in inputs if type(x) is Var or isinstance(x, np.ndarray)]
        template = self.template(name, variables[0].dtype)
        if template is None:
            return None
        if name == "power" and _dtype_of(inputs[0]).kind not in "fc":
            return None  # integer powers: NumPy's overflow and negative-exponent rules
        operands = []
        for i, x in enumerate(inputs):
            if type(x) is Var:
                operands.append(x)
                continue
            c = self.constant(x, others, exponent=name == "power" and i == 1)
            if c is None:
                return None
            operands.append(c)
        if self.result_dtype(name, template, operands) != out.dtype:
            return None
        return _Op(template, operands)


class _Numexpr(_Backend):
    """Groups as numexpr strings, evaluated by the one `fused` primitive."""

    name = "numexpr"
    min_size = MIN_SIZE
    dtypes = DTYPES

    def template(self, name: str, dtype: np.dtype) -> str | None:
        if name in _COMPLEX_ONLY:
            if dtype.kind != "c":
                return "{0}" if name in _REAL_IDENTITY else None
            return _COMPLEX_ONLY[name]
        return _TEMPLATES[name]

    def constant(self, x: Any, others: list[np.dtype], exponent: bool) -> Any:
        """A literal for numbers numexpr types as NumPy does, else a NumPy scalar of the
        dtype NumPy computes the operation in (NumPy's weak Python scalars)."""
        if type(x) is bool:
            return _Literal("True" if x else "False")
        if type(x) is int:
            if _INT32.min <= x <= _INT32.max:  # numexpr's smallest integer kind: never widens
                return _Literal(f"({x})")
            try:
                return np.result_type(*others, x).type(x)
            except OverflowError:  # too large for the other operands' integer dtype
                return None
        if type(x) in (float, complex):
            dtype = np.result_type(*others, x)
            finite_int = type(x) is float and math.isfinite(x) and x == int(x)
            if exponent and finite_int and abs(x) <= 50:
                return _Literal(f"({int(x)})")  # numexpr expands x**2.0 into products, as NumPy
            if dtype in (np.float64, np.complex128) and np.isfinite(x):
                return _Literal(f"({x!r})")
            return dtype.type(x)
        if isinstance(x, (np.ndarray, np.generic)):
            return x
        return None

    def result_dtype(self, name: str, template: str, operands: list) -> np.dtype | None:
        kinds = tuple(
            (True, str(x)) if isinstance(x, _Literal) else (False, _dtype_of(x).str)
            for x in operands
        )
        return _numexpr_dtype(template, kinds)

    def equation(self, expr: str, inputs: list, root: Equation) -> Equation | None:
        return Equation(fused, tuple(inputs), {"expr": expr}, root.outputs, None, root.line)


@functools.cache
def _numexpr_dtype(template: str, kinds: tuple) -> np.dtype | None:
    """The dtype numexpr computes `template` in for operands of these `kinds` (``(True,
    text)`` for a literal, ``(False, dtype string)`` for an array): one evaluation on one
    element, once per combination."""
    names, local = [], {}
    for i, (literal, kind) in enumerate(kinds):
        if literal:
            names.append(kind)
        else:
            names.append(f"a{i}")
            local[f"a{i}"] = np.ones(1, dtype=np.dtype(kind))
    try:
        with np.errstate(all="ignore"):
            result = numexpr.evaluate(template.format(*names), local_dict=local, global_dict={})
    except Exception:  # numexpr has no such operation for these dtypes
        return None
    return result.dtype


_NUMEXPR = _Numexpr()


# --- grouping -------------------------------------------------------------------------------
class _Group:
    """Equations computed by one fused expression, whose last one (the root) defines the
    only value that leaves the group."""

    __slots__ = ("expanded", "members", "operands", "root", "size", "uses", "work")

    def __init__(self, root: int, size: int, op: _Op):
        self.root = root
        self.size = size
        self.members = [root]
        # Operations that compute something (identities such as stop_gradient do not).
        self.work = 0
        # How often each value appears in the fully expanded expression text.
        self.uses: dict[Var, int] = {}
        self.expanded = 1
        self.operands: set = set()
        self._add(op, 1)

    def _add(self, op: _Op, times: int) -> None:
        self.work += op.template != "{0}"
        for x in op.operands:
            if type(x) is Var:
                self.uses[x] = self.uses.get(x, 0) + times
                self.operands.add(x)
            elif not isinstance(x, _Literal):
                self.operands.add(id(x))

    def can_take(self, op: _Op, out: Var) -> bool:
        times = self.uses.get(out, 0)
        new = {x if type(x) is Var else id(x) for x in op.operands if not isinstance(x, _Literal)}
        operands = len((self.operands - {out}) | new)
        return (
            len(self.members) < MAX_MEMBERS
            and operands <= MAX_OPERANDS
            and self.expanded + times <= MAX_EXPANDED
        )

    def take(self, index: int, op: _Op, out: Var) -> None:
        times = self.uses.pop(out)
        self.operands.discard(out)
        self.members.append(index)
        self.expanded += times
        self._add(op, times)


_DEFAULT: Any = "default"


def fuse(
    program: Program,
    *,
    min_size: int | None = None,
    dtypes: Collection[np.dtype] | None = _DEFAULT,
    backend: str = "numexpr",
) -> Program:
    """`program` with each group of at least two elementwise equations on arrays of at least
    `min_size` elements, whose intermediate values nothing else uses, computed by one
    `fused` equation: a numexpr expression (``backend="numexpr"``, ``pip install
    "wengert[fast]"``) or a numba ufunc compiled for the group (``backend="numba"``, ``pip
    install "wengert[numba]"``). Only equations whose values have one of `dtypes` fuse
    (None: every dtype the backend computes as NumPy does). The defaults of `min_size` and
    `dtypes` are the backend's (`MIN_SIZE` and `DTYPES` for numexpr). Evaluation only: the
    result is not differentiable.
    """
    if backend == "numexpr":
        if numexpr is None:
            raise ImportError(
                'wengert.program.fuse needs numexpr: pip install "wengert[fast]" '
                '(or pip install "numexpr>=2.8").'
            )
        chosen: _Backend = _NUMEXPR
    elif backend == "numba":
        from .fuse_numba import backend as numba_backend

        chosen = numba_backend()  # raises ImportError with the way out
    else:
        raise ValueError(f"fuse backend must be 'numexpr' or 'numba', not {backend!r}.")
    if min_size is None:
        min_size = chosen.min_size
    if dtypes is _DEFAULT:
        dtypes = chosen.dtypes
    from .runner import _accumulations

    program = _merge_scatters(program)
    equations = program.equations
    # Sums that the runner computes in place (p[index] += part) stay separate equations.
    accumulated = _accumulations(program)[0]
    ops: list[_Op | None] = [
        chosen.op(eq, dtypes) if type(eq) is Equation and i not in accumulated else None
        for i, eq in enumerate(equations)
    ]
    # Who uses each variable; outputs and guarded variables must exist as arrays.
    users: dict[Var, list[int]] = {}
    pinned: set[Var] = {x for x in program.outputs if type(x) is Var}
    for i, eq in enumerate(equations):
        if type(eq) is Guard:
            pinned.add(eq.var)
            continue
        for x in eq.inputs:
            if type(x) is Var:
                users.setdefault(x, []).append(i)
    # From the last equation back: an equation joins the group of its users when all of
    # them are in one group and it computes on the group's full size (a smaller value
    # inside the expression would be recomputed for every element of the larger one).
    group_of: list[_Group | None] = [None] * len(equations)
    for i in range(len(equations) - 1, -1, -1):
        op = ops[i]
        if op is None:
            continue
        out = equations[i].outputs[0]
        size = _size(out.shape)
        if size < min_size:
            continue
        here = users.get(out, [])
        groups = {id(group_of[j]): group_of[j] for j in here}
        if out not in pinned and here and len(groups) == 1 and None not in groups.values():
            group = next(iter(groups.values()))
            if group.size == size and group.can_take(op, out):
                group.take(i, op, out)
                group_of[i] = group
                continue
        group_of[i] = _Group(i, size, op)
    # Each group of two or more becomes one equation at its root's place (the root is its
    # last equation); where the backend cannot compute a group, its equations stay, in order.
    new_equations = []
    for i, eq in enumerate(equations):
        group = group_of[i]
        if group is None or group.work < 2:
            new_equations.append(eq)
        elif group.root == i:
            one = _fused_equation(group, equations, ops, chosen)
            if one is None:
                new_equations.extend(equations[j] for j in sorted(group.members))
            else:
                new_equations.append(one)
    return program.replace(new_equations)


def _merge_scatters(program: Program) -> Program:
    """`program` with each sum ``scatter_add(a, index, shape) + scatter_add(b, index,
    shape)`` of two scatters used only there written ``scatter_add(a + b, index, shape)``:
    one array of zeros instead of two, and ``a + b`` may join the groups of a and b (the
    backward pass of ``x[:-1]`` used twice gives such sums)."""
    from .runner import _basic_constant

    uses: dict[Var, int] = {x: 2 for x in program.outputs if type(x) is Var}
    for eq in program.equations:
        for x in [eq.var] if type(eq) is Guard else eq.inputs:
            if type(x) is Var:
                uses[x] = uses.get(x, 0) + 1
    new: list = []
    producer: dict[Var, int] = {}  # a scatter's value -> its place in `new`
    dropped: set[int] = set()
    for eq in program.equations:
        if type(eq) is Equation and eq.primitive.name == "add" and eq.tree is None:
            pair = [producer.get(x) for x in eq.inputs if type(x) is Var]
            if len(eq.inputs) == 2 and not eq.kwargs and len(pair) == 2 and None not in pair:
                one, two = (new[j] for j in pair)
                (a, index, shape), (b, index2, shape2) = one.inputs, two.inputs
                out = eq.outputs[0]
                same = (
                    pair[0] != pair[1]
                    and _basic_constant(index)
                    and index == index2
                    and shape == shape2
                    and all(uses.get(v) == 1 for v in eq.inputs)
                    and all(type(v) is Var for v in (a, b))
                    and a.shape == b.shape
                    and a.dtype == b.dtype == out.dtype == one.outputs[0].dtype
                )
                if same:
                    dropped.update(pair)
                    total = Var(-1, a.shape, a.dtype)
                    new.append(Equation(eq.primitive, (a, b), {}, (total,), None, eq.line))
                    new.append(
                        Equation(one.primitive, (total, index, shape), {}, (out,), None, eq.line)
                    )
                    producer[out] = len(new) - 1
                    continue
        if (
            type(eq) is Equation
            and eq.primitive.name == "scatter_add"
            and eq.tree is None
            and not eq.kwargs
            and len(eq.inputs) == 3
        ):
            producer[eq.outputs[0]] = len(new)
        new.append(eq)
    if not dropped:
        return program
    return program.replace([eq for j, eq in enumerate(new) if j not in dropped])


def _fused_equation(group: _Group, equations: list, ops: list, backend: _Backend):
    members = set(group.members)
    defined = {equations[i].outputs[0]: i for i in members}
    names: dict[Any, str] = {}
    inputs: list = []

    def operand(x: Any) -> str:
        if isinstance(x, _Literal):
            return x
        if type(x) is Var and x in defined:
            return text(defined[x])
        key = x if type(x) is Var else id(x)
        if key not in names:
            names[key] = f"a{len(inputs)}"
            inputs.append(x)
        return names[key]

    @functools.cache
    def text(i: int) -> str:
        op = ops[i]
        return op.template.format(*(operand(x) for x in op.operands))

    expr = text(group.root)
    return backend.equation(expr, inputs, equations[group.root])
