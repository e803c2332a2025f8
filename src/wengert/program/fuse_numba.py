"""The numba backend of `fuse`: each group of elementwise equations becomes one NumPy ufunc
compiled by numba for the group's expression and its operands' dtypes.

The grouping is `fuse`'s; this module only writes a group as a scalar Python function and
compiles it with numba's ufunc builder (``numba.vectorize`` with one explicit signature).
The result is a real ``numpy.ufunc``, and the `fused` equation's implementation is that
ufunc itself: runners call it as they call NumPy's ufuncs, with ``out=`` into a dead buffer
where the buffer plan allows, and a fused value counts as a freshly allocated array (so
``p[index] += part`` still applies to it). Compiled ufuncs are kept in a module-level cache
keyed by the expression and the operand and result dtypes, so a program recorded or fused
twice compiles nothing the second time; nothing is written to disk (``cache=False``).

Dtypes are kept exactly: every operation is typed once with numba's own typing rules for
its operands' dtypes (Python number constants written in as NumPy scalars of the dtype
NumPy computes them in), and an operation whose numba type differs from the dtype NumPy
gave when the program was recorded stays a NumPy equation (int32 + int32 is int64 in
numba, bool + bool is int64). Results equal NumPy's to rounding: arithmetic is the same
IEEE operations (no fast-math), while transcendental functions come from the C math
library through LLVM rather than NumPy's own SIMD loops and may differ in the last bits.
Where numba cannot compile a group, its equations stay NumPy equations: fusing never fails
at call time.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from .._core.recording import Equation, Var
from .fuse import (
    _COMPLEX_ONLY,
    _FUNCTION_NAMES,
    _INFIX,
    _Backend,
    _dtype_of,
    _Fused,
    _Literal,
    _Op,
)
from .passes import ufunc_of

try:
    import numba
    from numba.core.registry import cpu_target
    from numba.np.numpy_support import as_dtype, from_dtype
except ImportError:  # the optional extra is not installed; backend() says how to get it
    numba = None

__all__ = ["DTYPES", "MIN_SIZE", "backend"]

# Groups whose values have fewer elements than this stay NumPy. Per call, a fused group
# wins at every size measured: sin(x) * 2.0 + x * x - 1.5 in float64, one thread, took
# 0.37x the NumPy program's time at 300 elements (one call instead of four), 0.6-0.9x at
# 1e3, 0.8-0.9x at 3e3-1e4 (NumPy's SIMD sin against numba's libm sin) and 0.5-0.6x at 1e5
# (one pass over memory instead of four): compiled programs, fused with min_size=1 and not,
# on a busy 2-core machine with numba 0.68 and NumPy 2.4.
# What limits it is the compile time, about 0.1 s per new group and dtypes, paid once per
# process: below 1e4 elements a group saves a few microseconds per call and would need some
# 1e4-1e5 calls to pay that back, so smaller groups stay NumPy (fuse(p, backend="numba",
# min_size=1) fuses them anyway). 1e4 is 10x below numexpr's MIN_SIZE.
MIN_SIZE = 10_000
# numba types these as NumPy does for the operations checked here; float32 included: numba
# compiles float32 arithmetic and functions to float32 machine code (its SIMD loops).
DTYPES = frozenset(
    map(np.dtype, ("bool", "int32", "int64", "float32", "float64", "complex64", "complex128"))
)

# Constant arrays up to this size are checked for one repeated value (see _Numba.op).
_UNIFORM_MAX = 1 << 26

_OPERATORS = {
    "add": operator.add,
    "subtract": operator.sub,
    "multiply": operator.mul,
    "true_divide": operator.truediv,
    "power": operator.pow,
    "less": operator.lt,
    "less_equal": operator.le,
    "greater": operator.gt,
    "greater_equal": operator.ge,
    "equal": operator.eq,
    "not_equal": operator.ne,
    "negative": operator.neg,
}
_UFUNCS = {name: getattr(np, name) for name in _FUNCTION_NAMES}
_UFUNCS.update(
    absolute=np.absolute,
    fabs=np.fabs,
    square=np.square,
    reciprocal=np.reciprocal,
    arctan2=np.arctan2,
    conjugate=np.conjugate,
)
_TEMPLATES = {name: f"({{0}} {op} {{1}})" for name, op in _INFIX.items()}
_TEMPLATES.update({name: f"_np.{name}({{0}})" for name in _UFUNCS})
_TEMPLATES["arctan2"] = "_np.arctan2({0}, {1})"
_TEMPLATES.update(
    {
        "negative": "(-{0})",
        "positive": "{0}",
        "stop_gradient": "{0}",
        "where": "({1} if {0} else {2})",
        "real": "({0}).real",
        "imag": "({0}).imag",
    }
)


class _Numba(_Backend):
    """Groups as numba ufuncs, each the implementation of its own `fused` primitive."""

    name = "numba"
    min_size = MIN_SIZE
    dtypes = DTYPES

    def template(self, name: str, dtype: np.dtype) -> str | None:
        if name in _COMPLEX_ONLY and dtype.kind != "c":
            return "{0}" if name in ("real", "conjugate") else None
        return _TEMPLATES.get(name)

    def op(self, eq: Equation, dtypes) -> _Op | None:
        """As `_Backend.op`, with each constant array of one repeated value (the backward
        pass's ``100.0 * ones``) written in as a scalar where the other operands have the
        result's shape anyway: the loop then reads one array less."""
        op = super().op(eq, dtypes)
        if op is None:
            return None
        shape = eq.outputs[0].shape
        for i, x in enumerate(op.operands):
            if not isinstance(x, np.ndarray) or x.ndim == 0 or x.size > _UNIFORM_MAX:
                continue
            others = [np.shape(y) for j, y in enumerate(op.operands) if j != i]
            if not others or np.broadcast_shapes(*others) != shape:
                continue
            first = x.flat[0]
            if x.dtype in DTYPES and (x == first).all():
                literal = _literal(first, x.dtype)
                if literal is not None:
                    op.operands[i] = literal
        return op

    def constant(self, x: Any, others: list[np.dtype], exponent: bool) -> Any:
        """A NumPy scalar's text of the dtype NumPy computes the operation in (Python
        numbers are weak in NumPy; numba would type 0.1 as float64)."""
        if isinstance(x, np.ndarray):
            return x  # an operand of the ufunc
        if type(x) in (bool, int, float, complex):
            try:
                dtype = np.result_type(*others, x)
                value = dtype.type(x)
            except (OverflowError, TypeError):
                return None
        elif isinstance(x, np.generic):
            dtype, value = x.dtype, x
        else:
            return None
        return _literal(value, dtype)

    def result_dtype(self, name: str, template: str, operands: list) -> np.dtype | None:
        kinds = tuple(x.dtype if isinstance(x, _Literal) else _dtype_of(x) for x in operands)
        if any(type(x) is Var and x.weak for x in operands):
            return None  # a Python number at run time: the ufunc's loop would not type it
        return _result_dtype(name, template == "{0}", kinds)

    def equation(self, expr: str, inputs: list, root: Equation) -> Equation | None:
        (out,) = root.outputs
        primitive = _compiled(expr, tuple(_dtype_of(x) for x in inputs), out.dtype)
        if primitive is None:
            return None
        return Equation(primitive, tuple(inputs), {}, root.outputs, None, root.line)


def _literal(value: Any, dtype: np.dtype) -> _Literal | None:
    if dtype.kind == "b":
        text = "True" if value else "False"
    elif dtype.kind in "iu":
        text = f"_np.{dtype.name}({int(value)})"
    elif dtype.kind == "f":
        v = float(value)
        if math.isnan(v):
            text = f"_np.{dtype.name}(_np.nan)"
        elif math.isinf(v):
            text = f"_np.{dtype.name}({'-' if v < 0 else ''}_np.inf)"
        else:
            text = f"_np.{dtype.name}({v!r})"
    elif dtype.kind == "c":
        v = complex(value)
        if not (math.isfinite(v.real) and math.isfinite(v.imag)):
            return None
        text = f"_np.{dtype.name}(complex({v.real!r}, {v.imag!r}))"
    else:
        return None
    literal = _Literal(text)
    literal.dtype = dtype
    return literal


_TYPES: dict = {}


def _result_dtype(name: str, identity: bool, kinds: tuple) -> np.dtype | None:
    """The dtype numba computes operation `name` in for operands of dtypes `kinds`, from
    numba's typing rules (no compilation), or None where it has none."""
    key = (name, identity, kinds)
    if key not in _TYPES:
        _TYPES[key] = _numba_type(name, identity, kinds)
    return _TYPES[key]


def _numba_type(name: str, identity: bool, kinds: tuple) -> np.dtype | None:
    try:
        types = [from_dtype(k) for k in kinds]
        if identity or name in ("positive", "stop_gradient"):
            return kinds[0]
        if name in ("real", "imag"):
            return np.dtype(kinds[0].char.lower()) if kinds[0].kind == "c" else None
        context = cpu_target.typing_context
        if name == "where":
            if kinds[0].kind not in "biu":
                return None
            return as_dtype(context.unify_types(types[1], types[2]))
        fun = _OPERATORS.get(name) or _UFUNCS[name]
        signature = context.resolve_function_type(context.resolve_value_type(fun), types, {})
        return None if signature is None else as_dtype(signature.return_type)
    except Exception:  # numba has no typing for these operands
        return None


_COMPILED: dict[tuple, _Fused | None] = {}


def _compiled(expr: str, inputs: tuple, out: np.dtype) -> _Fused | None:
    """The fused primitive computing `expr` over operands ``a0, a1, ...`` of dtypes
    `inputs` as a ufunc with result dtype `out`, compiled once per process (None where
    numba cannot compile it)."""
    key = (expr, inputs, out)
    if key not in _COMPILED:
        _COMPILED[key] = _compile(expr, inputs, out)
    return _COMPILED[key]


def _compile(expr: str, inputs: tuple, out: np.dtype) -> _Fused | None:
    params = ", ".join(f"a{i}" for i in range(len(inputs)))
    source = f"def fused({params}):\n    return {expr}\n"
    namespace: dict[str, Any] = {"_np": np}
    try:
        exec(compile(source, "<wengert fused group>", "exec"), namespace)
        signature = from_dtype(out)(*(from_dtype(d) for d in inputs))
        ufunc = numba.vectorize([signature], nopython=True, cache=False)(namespace["fused"])
        ufunc = getattr(ufunc, "ufunc", ufunc)  # numba's DUFunc wraps the NumPy ufunc
    except Exception:  # numba cannot compile it: the group stays NumPy equations
        return None
    if not isinstance(ufunc, np.ufunc):
        return None
    return _Fused(ufunc, expr)


def backend() -> _Numba:
    """The numba backend of `fuse`; ImportError with the way out where numba is missing."""
    if numba is None:
        raise ImportError(
            'jit(..., backend="numba") and fuse(..., backend="numba") need numba: '
            'pip install "wengert[numba]" (or pip install "numba>=0.58").'
        )
    cpu_target.typing_context.refresh()
    return _BACKEND


_BACKEND = _Numba()


# --- programs of scalars -----------------------------------------------------------------


def scalar_program(program) -> bool:
    """Whether every value of `program` is a float64 scalar computed by a ufunc or by
    Python's arithmetic, with no guard: a program that numba can compile whole into one
    machine-code function (nothing fuses on scalars, and each NumPy call on one costs about
    a hundred nanoseconds). float64 only: numba promotes float32 next to Python floats
    where NumPy does not."""
    float64 = np.dtype(np.float64)
    values = list(program.inputs)
    for eq in program.equations:
        if type(eq) is not Equation or eq.tree is not None or eq.kwargs:
            return False
        ufunc = ufunc_of(eq.primitive)
        if ufunc is None or ufunc.nout != 1:
            return False
        values.extend(eq.outputs)
    values.extend(v for v in program.outputs if type(v) is Var)
    return bool(program.equations) and all(v.shape == () and v.dtype == float64 for v in values)


def compile_scalars(run) -> Any:
    """`run` (the NumPy runner's function of a scalar program) compiled whole by numba,
    its results as NumPy float64 scalars like the runner's; `run` itself where numba
    cannot compile it (which is found at the first call, and remembered)."""
    source = "\n".join(
        line for line in run.source.splitlines() if not line.strip().startswith("del ")
    )
    namespace = dict(run.__globals__)
    exec(compile(source, "<wengert scalar program>", "exec"), namespace)
    compiled = numba.njit(cache=False)(namespace["run"])
    state = {"fast": None}
    float64 = np.float64

    def call(*args):
        fast = state["fast"]
        if fast is None:
            try:
                compiled(*args)
            except Exception:  # numba lacks a ufunc or a form: stay with NumPy's calls
                state["fast"] = fast = run
            else:
                state["fast"] = fast = compiled
        if fast is run:
            return run(*args)
        return [float64(v) for v in fast(*args)]

    call.source = run.source
    return call
