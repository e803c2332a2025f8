"""Passes over a `Program`: each returns a new program that computes the same results, bit
for bit, with fewer equations; and the in-place buffer plan a runner may follow.

`simplify` composes the passes (constant folding, removal of exact identities, common
subexpression elimination, dead-code elimination) until the program stops shrinking. Each
pass is callable alone. Every pass keeps the guards, in their order relative to the
equations, keeps the equations that draw from random generators, and never makes a
program output share its array with an input or with another output where the recorded
program did not (callers may modify the arrays they get back).

>>> import wengert as wg, wengert.numpy as np
>>> prog = wg.make_program(lambda x: np.sin(x) * 1.0 + np.sin(x))(0.5)
>>> len(prog), len(simplify(prog))
(4, 2)
"""

from __future__ import annotations

import inspect
import math
import random
import struct
import warnings
from typing import Any

import numpy as np

from .._core.recording import Equation, Guard, GuardFailure, Var
from .._core.tree import tree_flatten

__all__ = [
    "buffer_plan",
    "eliminate_common_subexpressions",
    "eliminate_dead_code",
    "evaluate",
    "fold_constants",
    "fold_negations",
    "remove_identities",
    "scalarize_constants",
    "simplify",
    "ufunc_of",
]

# Primitives whose results are not a function of their arguments: never folded or merged.
# Those that draw from a generator are also never dropped (a later draw would change).
NONDETERMINISTIC = frozenset({"dropout_scale", "empty", "empty_like"})
DRAWS = frozenset({"dropout_scale"})
_GENERATORS = (
    np.random.Generator,
    np.random.RandomState,
    np.random.BitGenerator,
    np.random.SeedSequence,
    random.Random,
)
# Primitives that look at memory (which arrays share it, in which order it is laid out):
# merging or forwarding values, or writing into buffers, could change what they see, so
# programs that use them are left as they are by the passes that would.
LAYOUT_OBSERVERS = frozenset({"may_share_memory", "shares_memory", "isfortran"})

# Primitives that give back their argument's values unchanged when the result has the
# argument's shape and dtype.
_SAME_SHAPE_IDENTITIES = frozenset(
    {"reshape", "ravel", "broadcast_to", "sum_to_shape", "astype", "squeeze", "positive"}
)
# The same, for arguments that are not complex (their imaginary part is zero).
_REAL_IDENTITIES = frozenset({"real", "conjugate"})


# --- helpers ---------------------------------------------------------------------------


def _leaves(eq: Equation) -> list:
    """The constants and variables an equation reads, its static keywords' leaves included."""
    leaves = list(eq.inputs)
    if eq.kwargs:
        leaves.extend(tree_flatten(eq.kwargs)[0])
    return leaves


def draws(eq: Equation) -> bool:
    """Whether the equation draws random numbers (from a generator among its arguments)."""
    if eq.primitive.name in DRAWS or getattr(eq.primitive, "nondeterministic", False):
        return True
    return any(isinstance(x, _GENERATORS) for x in _leaves(eq))


def deterministic(eq: Equation) -> bool:
    """Whether the equation's results are a function of its arguments alone."""
    return eq.primitive.name not in NONDETERMINISTIC and not draws(eq)


def _observes_layout(program) -> bool:
    return any(
        type(eq) is Equation and eq.primitive.name in LAYOUT_OBSERVERS for eq in program.equations
    )


def _rewrite(eq: Equation, mapping: dict) -> Equation:
    """`eq` reading `mapping[v]` (a variable or a constant) in place of each mapped `v`."""
    if not mapping:
        return eq
    inputs = tuple(mapping.get(x, x) if type(x) is Var else x for x in eq.inputs)
    if all(a is b for a, b in zip(inputs, eq.inputs)):
        return eq
    return Equation(eq.primitive, inputs, eq.kwargs, eq.outputs, eq.tree, eq.line)


def _rewrite_guard(guard: Guard, mapping: dict) -> Guard | Any:
    target = mapping.get(guard.var, guard.var)
    if target is guard.var:
        return guard
    if type(target) is Var:
        return Guard(target, guard.expected, guard.kind, guard.line)
    return target  # a constant: the caller decides


def _substituted(program, mapping: dict, new: list):
    """Each equation of `program` with the substitutions that `mapping` holds by then;
    guards, rewritten the same way, go straight into `new`."""
    for eq in program.equations:
        if type(eq) is Guard:
            new.append(_rewrite_guard(eq, mapping))
        else:
            yield _rewrite(eq, mapping)


def use_counts(program) -> dict[Var, int]:
    """How often each variable is read: once per equation or guard that reads it, and twice
    more if it is a program output (so that an output never counts as used only once)."""
    uses: dict[Var, int] = {}
    for eq in program.equations:
        for x in (eq.var,) if type(eq) is Guard else eq.inputs:
            if type(x) is Var:
                uses[x] = uses.get(x, 0) + 1
    for x in program.outputs:
        if type(x) is Var:
            uses[x] = uses.get(x, 0) + 2
    return uses


def _output_vars(program) -> set:
    return {x for x in program.outputs if type(x) is Var}


def _same_aval(x: Var, out: Var) -> bool:
    return x.dtype is not None and x.shape == out.shape and x.dtype == out.dtype


def _apply(eq: Equation, read) -> Any:
    args, kwargs = eq.arguments(read)
    return eq.primitive(*args, **kwargs)


def _results(eq: Equation, ans: Any) -> tuple:
    if len(eq.outputs) == 1 and not eq.primitive.multiple_results and not isinstance(ans, tuple):
        return (ans,)
    return tuple(ans)


def _no_var(v: Var) -> Any:
    raise AssertionError(f"{v!r} read while folding constants")


# --- dead code -------------------------------------------------------------------------


def eliminate_dead_code(program):
    """Drop the equations whose results reach no output and no guard.

    Guards are kept, in place, with everything they read; so are equations that draw
    random numbers (dropping one would change what later draws give).
    """
    live = _output_vars(program)
    kept = []
    for eq in reversed(program.equations):
        if type(eq) is Guard:
            live.add(eq.var)
        elif any(v in live for v in eq.outputs) or draws(eq):
            live.update(x for x in eq.inputs if type(x) is Var)
        else:
            continue
        kept.append(eq)
    kept.reverse()
    return program.replace(kept, list(program.outputs))


# --- common subexpressions ---------------------------------------------------------------


def _key(x: Any) -> Any:
    """A hashable key equal for equal constants: numbers by type and bits (so 0.0 and -0.0
    differ, and a NaN equals itself), arrays by dtype, shape and bytes, variables by
    identity. Raises TypeError for what cannot be compared so."""
    t = type(x)
    if t is Var or x is None or x is Ellipsis or t in (bool, int, str):
        return (t, x)
    if t is float:
        return (t, struct.pack("<d", x))
    if t is complex:
        return (t, struct.pack("<dd", x.real, x.imag))
    if isinstance(x, np.generic) and x.dtype.kind != "O":
        return (t, x.dtype.str, x.tobytes())
    if t is np.ndarray and x.dtype.kind != "O":
        return (t, x.dtype.str, x.shape, x.tobytes())
    if t in (tuple, list):
        return (t, tuple(_key(e) for e in x))
    if t is dict:
        return (t, tuple((k, _key(v)) for k, v in x.items()))
    if t is slice:
        return (t, _key(x.start), _key(x.stop), _key(x.step))
    if isinstance(x, (np.dtype, type)):
        return ("type", x)
    raise TypeError(f"no value key for {t.__name__}")


def _equation_key(eq: Equation) -> Any:
    try:
        key = (eq.primitive, _key(eq.inputs), _key(eq.kwargs), eq.tree)
        hash(key)
    except TypeError:
        return None
    return key


def eliminate_common_subexpressions(program):
    """Compute each primitive once per distinct arguments.

    A later equation applying the same primitive to the same variables and the same
    constants (numbers and arrays compared by dtype, shape and bits) with the same static
    keywords is dropped and its results read from the earlier one. Equations that are not
    deterministic, and those that define program outputs (which would then share one
    array), are kept.
    """
    if _observes_layout(program):
        return program.replace(list(program.equations))
    outputs = _output_vars(program)
    seen: dict = {}
    mapping: dict = {}
    new: list = []
    for eq in _substituted(program, mapping, new):
        key = _equation_key(eq) if deterministic(eq) else None
        if key is not None:
            first = seen.get(key)
            if first is None:
                seen[key] = eq
            elif not any(v in outputs for v in eq.outputs) and all(
                a.shape == b.shape and a.dtype == b.dtype for a, b in zip(eq.outputs, first.outputs)
            ):
                mapping.update(zip(eq.outputs, first.outputs))
                continue
        new.append(eq)
    return program.replace(
        new, [mapping.get(x, x) if type(x) is Var else x for x in program.outputs]
    )


# --- constant folding --------------------------------------------------------------------

# Folded results larger than this stay computed at evaluation (the program would hold them).
FOLD_MAX_BYTES = 1 << 20


def fold_constants(program, max_bytes: int = FOLD_MAX_BYTES):
    """Evaluate once the deterministic equations whose arguments are all constants.

    Their results become constants of the program. Not folded: equations that fail, that
    are not deterministic, whose array results exceed `max_bytes`, and those giving a
    program output as an array (a caller could modify the one shared array). A guard on a
    folded value is checked now and dropped (it holds: the same computation decided it).
    """
    outputs = _output_vars(program)
    mapping: dict = {}
    folded_from: dict = {}
    new = []
    for eq in program.equations:
        if type(eq) is Guard:
            target = _rewrite_guard(eq, mapping)
            if type(target) is Guard:
                new.append(target)
            elif not eq.holds(target):  # cannot happen for a deterministic computation
                new.extend([folded_from[eq.var], eq])
            continue
        eq = _rewrite(eq, mapping)
        if deterministic(eq) and not any(type(x) is Var for x in eq.inputs):
            values = _fold(eq, outputs, max_bytes)
            if values is not None:
                mapping.update(zip(eq.outputs, values))
                folded_from.update(dict.fromkeys(eq.outputs, eq))
                continue
        new.append(eq)
    return program.replace(
        new, [mapping.get(x, x) if type(x) is Var else x for x in program.outputs]
    )


def _fold(eq: Equation, outputs: set, max_bytes: int) -> tuple | None:
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            values = _results(eq, _apply(eq, _no_var))
    except Exception:
        return None
    if len(values) != len(eq.outputs):
        return None
    for var, value in zip(eq.outputs, values):
        if not isinstance(value, (np.ndarray, np.generic, bool, int, float, complex)):
            return None
        if np.shape(value) != var.shape:
            return None
        if isinstance(value, np.ndarray) and (var in outputs or value.nbytes > max_bytes):
            return None
    return values


# --- identities --------------------------------------------------------------------------


def _numeric(c: Any) -> np.ndarray | None:
    """A constant as an array, if it is a number or numeric array."""
    if type(c) is Var:
        return None
    if isinstance(c, (bool, int, float, complex, np.generic, np.ndarray)):
        a = np.asarray(c)
        return a if a.dtype.kind in "biufc" else None
    return None


def _zeros(a: np.ndarray, negative: bool) -> bool:
    """Whether `a` is all zeros whose sign bits are all set (`negative`) or all clear."""
    if a.dtype.kind in "biu":
        return not negative and not a.any()
    parts = (a.real, a.imag) if a.dtype.kind == "c" else (a,)
    return all(not p.any() and bool(np.all(np.signbit(p) == negative)) for p in parts)


def _adds_exact_zero(kind: str, c: Any, subtract: bool) -> bool:
    """Whether ``x + c`` (or ``x - c``) equals x bit for bit, for every x of this kind.

    IEEE addition gives x + (-0.0) == x for every x, -0.0 included, but x + 0.0 turns -0.0
    into 0.0; subtraction the other way round. An integer zero converts to +0.0, and a
    real constant added to a complex x brings an imaginary part of +0.0.
    """
    a = _numeric(c)
    if a is None:
        return False
    if kind in "biu":
        return a.dtype.kind in "biu" and not a.any()
    if kind == "f":
        if a.dtype.kind in "biu":
            return subtract and not a.any()
        return a.dtype.kind == "f" and _zeros(a, negative=not subtract)
    if kind == "c":
        if subtract:
            return (a.dtype.kind in "biu" and not a.any()) or _zeros(a, negative=False)
        return a.dtype.kind == "c" and _zeros(a, negative=True)
    return False


def _multiplies_exact_one(kind: str, c: Any) -> bool:
    """Whether ``x * c`` and ``x / c`` equal x bit for bit: c is all ones and x real (a
    complex product computes ``x.real * 1 - x.imag * 0``, which can turn -0.0 into 0.0 and
    an infinite imaginary part into NaN)."""
    a = _numeric(c)
    return a is not None and kind in "biuf" and a.dtype.kind in "biuf" and bool(np.all(a == 1))


def _axes(value: Any, ndim: int) -> tuple | None:
    try:
        items = value if isinstance(value, (tuple, list)) else (value,)
        return tuple(int(a) % ndim for a in items)
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def _reorders_nothing(eq: Equation, ndim: int) -> bool:
    """Whether a transpose, swapaxes or moveaxis keeps every axis in place."""
    args, kwargs = eq.arguments(lambda v: v)
    name = eq.primitive.name
    params = list(args[1:])
    if name == "transpose":
        axes = params[0] if params else kwargs.get("axes")
        if axes is None:
            return ndim <= 1
        return _axes(axes, ndim) == tuple(range(ndim)) if ndim else axes == ()
    if ndim == 0:
        return False
    names = ("axis1", "axis2") if name == "swapaxes" else ("source", "destination")
    values = params + [kwargs[n] for n in names[len(params) :] if n in kwargs]
    if len(values) != 2:
        return False
    first, second = (_axes(v, ndim) for v in values)
    return first is not None and first == second


def identity_source(eq: Equation, producers: dict) -> Var | None:
    """The variable an equation gives back unchanged, bit for bit, if it does (None if not).

    `producers` maps variables to the equations that define them (for double negation).
    """
    if eq.tree is not None or len(eq.outputs) != 1:
        return None
    out = eq.outputs[0]
    name = eq.primitive.name
    inputs = eq.inputs
    if name in ("add", "subtract", "multiply", "true_divide") and len(inputs) == 2:
        if eq.kwargs:
            return None
        for pos, (x, c) in enumerate(((inputs[0], inputs[1]), (inputs[1], inputs[0]))):
            if type(x) is not Var or type(c) is Var or not _same_aval(x, out):
                continue
            kind = x.dtype.kind
            if name == "add" and _adds_exact_zero(kind, c, subtract=False):
                return x
            if name == "subtract" and pos == 0 and _adds_exact_zero(kind, c, subtract=True):
                return x
            if name == "multiply" and _multiplies_exact_one(kind, c):
                return x
            if name == "true_divide" and pos == 0 and _multiplies_exact_one(kind, c):
                return x
        return None
    if not inputs or type(inputs[0]) is not Var or not _same_aval(inputs[0], out):
        return None
    x = inputs[0]
    if name == "negative" and len(inputs) == 1 and not eq.kwargs:
        inner = producers.get(x)
        if (
            inner is not None
            and inner.primitive.name == "negative"
            and inner.tree is None
            and not inner.kwargs
            and len(inner.inputs) == 1
            and type(inner.inputs[0]) is Var
            and _same_aval(inner.inputs[0], out)
        ):
            return inner.inputs[0]
        return None
    if name in _SAME_SHAPE_IDENTITIES:
        return x
    if name in _REAL_IDENTITIES and x.dtype.kind != "c":
        return x
    if name in ("transpose", "swapaxes", "moveaxis") and _reorders_nothing(eq, len(x.shape)):
        return x
    return None


def remove_identities(program):
    """Drop the equations that give back one of their arguments exactly.

    ``x + c`` where c is all -0.0 (for floats; any zero for integers), ``x - 0``, ``x * 1``
    and ``x / 1`` for real x, ``-(-x)``, and reshape, broadcast_to, sum_to_shape, astype,
    squeeze, ravel to x's own shape and dtype, transpose, swapaxes and moveaxis that keep
    the axes in place. ``x * 0`` stays (inf * 0 is NaN), so does ``x + 0.0`` (-0.0 + 0.0
    is 0.0). Equations that define program outputs are kept (the output would otherwise
    be the very array of another variable or of an input).
    """
    if _observes_layout(program):
        return program.replace(list(program.equations))
    outputs = _output_vars(program)
    mapping: dict = {}
    producers: dict = {}
    new: list = []
    for eq in _substituted(program, mapping, new):
        if eq.outputs and eq.outputs[0] not in outputs:
            source = identity_source(eq, producers)
            if source is not None:
                mapping[eq.outputs[0]] = source
                continue
        producers.update(dict.fromkeys(eq.outputs, eq))
        new.append(eq)
    return program.replace(
        new, [mapping.get(x, x) if type(x) is Var else x for x in program.outputs]
    )


# --- cheaper constants ---------------------------------------------------------------------

_ARITHMETIC = frozenset({"add", "subtract", "multiply", "true_divide"})


def _uniform(c: Any) -> Any:
    """The one value of an array constant whose entries are all the same bits, as a NumPy
    scalar of its dtype (NumPy promotes it exactly as the array); None otherwise."""
    if type(c) is not np.ndarray or c.size < 2 or c.dtype.kind not in "biufc":
        return None
    rows = np.ascontiguousarray(c).view(np.uint8).reshape(c.size, c.dtype.itemsize)
    if not (rows == rows[0]).all():
        return None
    return c.reshape(-1)[0]


def scalarize_constants(program):
    """Arithmetic with an array constant of identical entries (a cotangent of ones, the
    100.0 of ``100 * x`` spread out by a rule) uses the value as a NumPy scalar of the
    array's dtype, when the other operand alone has the result's shape: the same results,
    without reading the array."""
    new = []
    for eq in program.equations:
        if (
            type(eq) is Equation
            and eq.primitive.name in _ARITHMETIC
            and eq.tree is None
            and not eq.kwargs
            and len(eq.inputs) == 2
        ):
            a, b = eq.inputs
            out = eq.outputs[0]
            for k, (c, other) in enumerate(((a, b), (b, a))):
                value = _uniform(c)
                if value is not None and type(other) is Var and other.shape == out.shape:
                    inputs = (value, other) if k == 0 else (other, value)
                    eq = Equation(eq.primitive, inputs, eq.kwargs, eq.outputs, eq.tree, eq.line)
                    break
        new.append(eq)
    return program.replace(new)


def _scalar(x: Any) -> bool:
    """A floating or complex scalar constant (negating integers could wrap or overflow)."""
    return type(x) in (float, complex) or (isinstance(x, np.generic) and x.dtype.kind in "fc")


def fold_negations(program):
    """``-(c * x)`` for a scalar constant c, where the product is used only there, becomes
    ``(-c) * x``: one operation instead of two, and the same values (negation is exact;
    only the sign bit of a NaN result can differ, and NaN stays NaN)."""
    uses = use_counts(program)
    producers: dict[Var, Equation] = {}
    new = []
    for eq in program.equations:
        if type(eq) is Equation:
            if (
                eq.primitive.name == "negative"
                and eq.tree is None
                and not eq.kwargs
                and len(eq.inputs) == 1
                and type(eq.inputs[0]) is Var
                and uses.get(eq.inputs[0]) == 1
            ):
                product = producers.get(eq.inputs[0])
                if (
                    product is not None
                    and product.primitive.name == "multiply"
                    and product.tree is None
                    and not product.kwargs
                    and _same_aval(eq.inputs[0], eq.outputs[0])
                ):
                    a, b = product.inputs
                    inputs = (-a, b) if _scalar(a) else (a, -b) if _scalar(b) else None
                    if inputs is not None:
                        eq = Equation(product.primitive, inputs, {}, eq.outputs, None, eq.line)
            producers.update(dict.fromkeys(eq.outputs, eq))
        new.append(eq)
    return program.replace(_negation_into_product(new, uses))


def _negation_into_product(equations: list, uses: dict) -> list:
    """``(-a) * (c * b)`` becomes ``a * ((-c) * b)`` where both factors are used only
    there: the negation moves into the scalar, and its own pass over the array goes."""
    position = {v: k for k, eq in enumerate(equations) if type(eq) is Equation for v in eq.outputs}

    def plain(eq: Any, name: str) -> bool:
        return (
            type(eq) is Equation
            and eq.primitive.name == name
            and eq.tree is None
            and not eq.kwargs
            and len(eq.outputs) == 1
        )

    for k, eq in enumerate(equations):
        if not plain(eq, "multiply") or not all(type(x) is Var for x in eq.inputs):
            continue
        for n_at in (0, 1):
            n, p = eq.inputs[n_at], eq.inputs[1 - n_at]
            if n is p or uses.get(n) != 1 or uses.get(p) != 1:
                continue
            neg = equations[position[n]] if n in position else None
            prod = equations[position[p]] if p in position else None
            if not (plain(neg, "negative") and plain(prod, "multiply")):
                continue
            (a,) = neg.inputs
            if type(a) is not Var or not _same_aval(a, n):
                continue
            c, b = prod.inputs
            swapped = None
            if _scalar(c):
                swapped = (-c, b)
            elif _scalar(b):
                swapped = (c, -b)
            if swapped is None:
                continue
            equations[position[p]] = Equation(
                prod.primitive, swapped, {}, prod.outputs, None, prod.line
            )
            inputs = (a, p) if n_at == 0 else (p, a)
            equations[k] = Equation(eq.primitive, inputs, {}, eq.outputs, None, eq.line)
            break
    return equations


# --- all of them ---------------------------------------------------------------------------

PASSES = (
    fold_constants,
    remove_identities,
    scalarize_constants,
    fold_negations,
    eliminate_common_subexpressions,
    eliminate_dead_code,
)


def simplify(program, max_rounds: int = 8):
    """The program after constant folding, removal of exact identities, scalar constants,
    folded negations, common subexpression elimination and dead-code elimination,
    repeated until nothing changes (at most `max_rounds` times). It computes the same
    results bit for bit (up to the sign bit of a NaN, which a folded negation keeps)."""
    for _ in range(max_rounds):
        before = (len(program.equations), _count_constants(program))
        for run_pass in PASSES:
            program = run_pass(program)
        if (len(program.equations), _count_constants(program)) == before:
            break
    return program


def _count_constants(program) -> int:
    return sum(
        1
        for eq in program.equations
        if type(eq) is Equation
        for x in eq.inputs
        if type(x) is not Var
    )


# --- in-place buffers ------------------------------------------------------------------------


def ufunc_of(primitive) -> np.ufunc | None:
    """The NumPy ufunc a primitive's implementation calls, if it is one: the
    implementation itself, or a wrapper that passes ``out=`` on to the ufunc it is named
    after (add, subtract, multiply, true_divide)."""
    fun = primitive.fun
    if isinstance(fun, np.ufunc):
        return fun
    code = getattr(fun, "__code__", None)
    if code is None or not code.co_flags & inspect.CO_VARKEYWORDS:
        return None  # a wrapper that could not pass out= on
    for cell in getattr(fun, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if isinstance(value, np.ufunc) and value.__name__ == getattr(fun, "__name__", None):
            return value
    return None


def _ufunc_call(eq: Equation) -> np.ufunc | None:
    """The ufunc an equation calls with one array result it allocates, if it does."""
    if eq.tree is not None or len(eq.outputs) != 1 or eq.primitive.multiple_results:
        return None
    if "out" in eq.kwargs or eq.outputs[0].shape == ():
        return None
    ufunc = ufunc_of(eq.primitive)
    if ufunc is None or ufunc.nout != 1 or ufunc.nin != len(eq.inputs):
        return None
    return ufunc


_EXTERNAL = 0  # the storage of the program's inputs (and of what may view them)


def buffer_plan(program) -> dict[int, Var]:
    """Which equations may write their result into the array of one of their arguments.

    The plan maps the index of an equation in ``program.equations`` to an input variable
    `b` of it. The contract, for a runner: computing that equation as
    ``eq.primitive.fun(*args, **eq.kwargs, out=value_of_b)`` gives the same values as
    computing it without ``out=`` and overwrites nothing that is read later. It holds
    because:

    - the equation is an elementwise NumPy ufunc call (one result, no static keywords, no
      containers), so the output can share memory with its argument exactly;
    - `b` has the result's shape and dtype, and at least one axis (so its value is an
      array, not a scalar);
    - `b`'s value is an array the program allocated (by an earlier ufunc call, or handed
      over by an earlier planned equation), itself and not a view of it: it is not, and
      does not view, a program input or a constant, so callers' arrays are never written;
    - this equation is the last use of `b` and of every variable that may view `b`'s
      array (results of other primitives are taken to view their arguments), no other
      argument of the equation may view it, and none of them is a program output or read
      by a later guard.

    Programs with primitives that inspect memory (``shares_memory``, ``isfortran``) get
    an empty plan.
    """
    if _observes_layout(program):
        return {}
    equations = program.equations
    last: dict[Var, float] = {}
    for i, eq in enumerate(equations):
        if type(eq) is Guard:
            last[eq.var] = i
        else:
            for x in eq.inputs:
                if type(x) is Var:
                    last[x] = i
    for x in program.outputs:
        if type(x) is Var:
            last[x] = math.inf
    storage: dict[Var, frozenset] = dict.fromkeys(program.inputs, frozenset({_EXTERNAL}))
    viewers: dict[int, list[Var]] = {}
    holders: dict[int, Var] = {}  # the variable whose value is the allocated array itself
    plan: dict[int, Var] = {}
    for i, eq in enumerate(equations):
        if type(eq) is Guard:
            continue
        arguments = [x for x in eq.inputs if type(x) is Var]
        ufunc = _ufunc_call(eq)
        buffer = None
        if ufunc is not None and eq.primitive.elementwise and not eq.kwargs:
            buffer = _buffer_for(eq, i, arguments, storage, viewers, holders, last)
        if buffer is not None:
            plan[i] = buffer
            owner = storage[buffer]
            (s,) = owner
            holders[s] = eq.outputs[0]
        elif ufunc is not None:
            s = len(viewers) + 1
            owner = frozenset({s})
            viewers[s] = []
            holders[s] = eq.outputs[0]
        else:
            owner = frozenset().union(*(storage.get(x, frozenset()) for x in arguments))
        for out in eq.outputs:
            storage[out] = owner
            for s in owner:
                if s != _EXTERNAL:
                    viewers[s].append(out)
    return plan


def _buffer_for(eq, i, arguments, storage, viewers, holders, last) -> Var | None:
    out = eq.outputs[0]
    for b in dict.fromkeys(arguments):
        if b.shape != out.shape or b.dtype != out.dtype:
            continue
        owner = storage.get(b, frozenset({_EXTERNAL}))
        if len(owner) != 1 or _EXTERNAL in owner:
            continue
        (s,) = owner
        if holders[s] is not b:  # a view of the array (maybe read-only, maybe broadcast)
            continue
        if any(last.get(v, -1) > i for v in viewers[s]):
            continue
        if any(s in storage.get(x, ()) for x in arguments if x is not b):
            continue
        return b
    return None


def evaluate(program, values: list, buffers: dict[int, Var] | None = None) -> list:
    """The output leaves for input `values`, calling each implementation on plain NumPy
    values, with ``out=`` where `buffers` (a `buffer_plan`) says: the reference for
    runners that follow a plan."""
    env: dict[Var, Any] = dict(zip(program.inputs, values))
    read = env.__getitem__
    buffers = buffers or {}
    for i, eq in enumerate(program.equations):
        if type(eq) is Guard:
            if not eq.holds(env[eq.var]):
                raise GuardFailure(eq)
            continue
        args, kwargs = eq.arguments(read)
        if i in buffers:
            ans = eq.primitive.fun(*args, **kwargs, out=env[buffers[i]])
        else:
            ans = eq.primitive.fun(*args, **kwargs)
        env.update(zip(eq.outputs, _results(eq, ans)))
    return [env[x] if type(x) is Var else x for x in program.outputs]
