"""Recording: the trace that writes a program down as Wengert's evaluation list.

A recording trace runs the function on concrete values, as eager evaluation does, and
for every primitive it meets appends an `Equation` (the primitive, its input variables
or constants, its static keyword arguments, its output variables with shape and dtype).
Python control flow therefore runs as usual; each decision that Python took from a
traced value (``if x > 0``, ``while n < k``, ``int(x)``, a rule that read a value) is
appended as a `Guard`, so that a replay with other inputs can tell whether the recorded
path still holds. Transformations nested inside the recording (``grad``, ``jvp``, ...)
apply their rules with wengert's primitives on the recorded values, so their rules are
recorded too: the derivative program.
"""

from __future__ import annotations

import linecache
import sys
from typing import Any

import numpy as np

from ..errors import EscapedTracerError, TracedConversionError
from .box import Box, peek
from .trace import Trace
from .tree import tree_flatten, tree_unflatten


class Var:
    """A variable of the evaluation list: one value, of known shape and dtype."""

    __slots__ = ("dtype", "index", "shape", "weak")

    def __init__(self, index: int, shape: tuple, dtype: np.dtype | None, weak: bool = False):
        self.index = index
        self.shape = shape
        self.dtype = dtype
        # A Python number rather than a NumPy value (NumPy treats their types as weak).
        self.weak = weak

    def __repr__(self) -> str:
        return f"v{self.index}"


class Equation:
    """One line of the evaluation list: ``outputs = primitive(*inputs, **kwargs)``.

    `inputs` holds a `Var` or a constant per positional argument; `kwargs` are static.
    Where traced values sat inside containers (``np.stack([x, y])``) or keyword arguments,
    `tree` is the TreeDef of ``(args, kwargs)`` and `inputs` its leaves.
    """

    __slots__ = ("inputs", "kwargs", "line", "outputs", "primitive", "tree")

    def __init__(self, primitive, inputs: tuple, kwargs: dict, outputs: tuple, tree, line):
        self.primitive = primitive
        self.inputs = inputs
        self.kwargs = kwargs
        self.outputs = outputs
        self.tree = tree
        self.line = line

    def arguments(self, read) -> tuple[tuple, dict]:
        """The positional and keyword arguments, with each variable replaced by `read(v)`."""
        leaves = [read(x) if type(x) is Var else x for x in self.inputs]
        if self.tree is None:
            return tuple(leaves), self.kwargs
        return tree_unflatten(self.tree, leaves)

    @property
    def multiple_results(self) -> bool:
        return len(self.outputs) != 1 or self.primitive.multiple_results


class Guard:
    """A decision Python took from a traced value while recording: the program holds only
    where `var` has the value `expected` again (``kind`` says how it was read: ``"bool"``,
    ``"int"``, ``"index"``, ``"any"``/``"all"`` of a condition, or ``"value"``, a rule that
    read the whole array)."""

    __slots__ = ("expected", "kind", "line", "var")

    def __init__(self, var: Var, expected: Any, kind: str, line: str | None):
        self.var = var
        self.expected = expected
        self.kind = kind
        self.line = line

    def holds(self, value: Any) -> bool:
        """Whether `value` (the variable's value in a replay) takes the recorded path."""
        value = peek(value)
        if self.kind == "bool":
            return bool(value) == self.expected
        if self.kind in ("int", "index"):
            return int(value) == self.expected
        if self.kind == "any":
            return bool(np.any(value)) == self.expected
        if self.kind == "all":
            return bool(np.all(value)) == self.expected
        expected = self.expected
        return (
            np.shape(value) == np.shape(expected)
            and np.result_type(value) == np.result_type(expected)
            and bool(np.array_equal(value, expected, equal_nan=True))
        )

    def describe(self, name: str | None = None) -> str:
        """What was decided, and where: `name` is the variable's printed name."""
        name = name or repr(self.var)
        where = f" at {self.line}" if self.line else ""
        if self.kind == "value":
            return f"a rule read the value of {name}{where}"
        return f"{self.kind}({name}) was {self.expected!r}{where}"


class GuardFailure(Exception):
    """A replayed program reached a guard that does not hold for its inputs."""

    def __init__(self, guard: Guard):
        super().__init__(guard.describe())
        self.guard = guard


class ClosedOverTracerError(EscapedTracerError):
    """A recorded function used a value of an outer transformation as a constant."""


class RecordingBox(Box):
    """A value being recorded, with the variable that names it in the evaluation list."""

    __slots__ = ("var",)
    watched = True

    def __init__(self, value, trace, var: Var):
        self.value = value
        self._trace = trace
        self.var = var

    # Decisions Python takes from the value are recorded as guards.
    def __bool__(self) -> bool:
        result = bool(self.value)
        self._trace.guard(self, result, "bool")
        return result

    def __int__(self) -> int:
        result = int(self.value)
        self._trace.guard(self, result, "int")
        return result

    def __index__(self) -> int:
        result = self.value.__index__()
        self._trace.guard(self, result, "index")
        return result

    def __float__(self) -> float:
        raise TracedConversionError(
            "float() of a value that is being recorded (wg.jit, wg.make_program) would "
            "fix the program to this one value. Keep it an array (use wg.numpy functions "
            "instead of math.*), or make the argument static (jit's static_argnums)."
        )

    def item(self, *args):
        raise TracedConversionError(
            ".item() of a value that is being recorded (wg.jit, wg.make_program) would fix "
            "the program to this one value; index it instead (x[()]), or make the argument "
            "static (jit's static_argnums)."
        )


_PYTHON_NUMBERS = (float, int, complex, bool)


def _is_recordable(value: Any) -> bool:
    return isinstance(value, (np.ndarray, np.generic, float, int, complex, bool))


def _aval(value: Any) -> tuple[tuple, np.dtype | None]:
    try:
        return np.shape(value), np.result_type(value)
    except TypeError:
        return np.shape(value), None


# Files whose frames are the library's own, not the user's: the line a guard names is the
# first frame outside them.
_LIBRARY_DIR = __file__.rsplit("/_core/", 1)[0]


def user_line() -> str | None:
    """``file:line: source`` of the innermost frame outside wengert (None if none)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_LIBRARY_DIR):
            text = linecache.getline(filename, frame.f_lineno).strip()
            where = f"{filename}:{frame.f_lineno}"
            return f"{where}: {text}" if text else where
        frame = frame.f_back
    return None


class RecordingTrace(Trace):
    """A recording: every primitive applied to its boxes becomes an equation."""

    __slots__ = ("_count", "equations", "inputs", "lines")

    def __init__(self, lines: bool = True) -> None:
        super().__init__()
        self.equations: list = []
        self.inputs: list[Var] = []
        self._count = 0
        # Whether to note the user's source line of each equation (printing shows it).
        self.lines = lines

    def new_var(self, value: Any) -> Var:
        self._count += 1
        shape, dtype = _aval(value)
        return Var(self._count, shape, dtype, type(value) in _PYTHON_NUMBERS)

    def new_input(self, value: Any) -> RecordingBox:
        var = self.new_var(value)
        self.inputs.append(var)
        return RecordingBox(value, self, var)

    def guard(self, box: RecordingBox, expected: Any, kind: str) -> None:
        if box._trace is self and self.alive:
            self.equations.append(Guard(box.var, expected, kind, user_line()))

    def note_read(self, box: RecordingBox) -> None:
        """A rule read a recorded value itself (``getval``): the program holds only for
        that value, unless the read is of its shape or dtype alone."""
        if box._trace is self and self.alive:
            self.equations.append(Guard(box.var, np.copy(box.value), "value", user_line()))

    def _constant(self, x: Any, name: str) -> Any:
        if isinstance(x, Box):
            raise ClosedOverTracerError(
                f"{name} was recorded with a value traced by {x._trace!r}, an outer "
                "transformation, as a constant: the program would keep that one value. "
                "Pass the value to the recorded function as an argument instead."
            )
        return x

    def _record(self, primitive, inputs, kwargs, tree, ans, multiple: bool):
        line = user_line() if self.lines else None
        if multiple:
            outs = tuple(self.new_var(a) for a in ans)
            self.equations.append(Equation(primitive, inputs, kwargs, outs, tree, line))
            return tuple(RecordingBox(a, self, v) for a, v in zip(ans, outs))
        var = self.new_var(ans)
        self.equations.append(Equation(primitive, inputs, kwargs, (var,), tree, line))
        return RecordingBox(ans, self, var)

    def process_primitive(self, primitive, values, kwargs, argnums, boxes, nested):
        if primitive.inline is not None:  # record what it is made of
            args = list(values)
            for i, box in zip(argnums, boxes):
                args[i] = box
            return primitive.inline(*args, **kwargs)
        inputs = list(values)
        for i, box in zip(argnums, boxes):
            inputs[i] = box.var
        if nested:
            for i, x in enumerate(values):
                if i not in argnums:
                    self._constant(x, primitive.name)
        for v in kwargs.values():
            if isinstance(v, Box) or isinstance(v, (list, tuple, dict)):
                for leaf in tree_flatten(v)[0]:
                    self._constant(leaf, primitive.name)
        ans = primitive.fun(*values, **kwargs)
        return self._record(primitive, tuple(inputs), kwargs, None, ans, primitive.multiple_results)

    def process_custom_vjp(self, fn, call, args, values, argnums, boxes):
        """One equation for the whole call, so that a transformation of the program (a
        gradient of a jitted function) applies the user's rules, not the body's."""
        results = self.process_primitive(
            fn.recorded, values, {"call": call}, argnums, boxes, nested=False
        )
        return call.output(results)

    process_custom_jvp = process_custom_vjp

    def process_nondiff(self, fn, args: tuple, kwargs: dict) -> Any:
        values, opened_kwargs, _ = fn.opened(self, args, kwargs)
        ans = fn(*values, **opened_kwargs)
        leaves, tree = tree_flatten((args, kwargs))
        inputs = []
        for leaf in leaves:
            if isinstance(leaf, Box):
                if leaf._trace is self:
                    inputs.append(leaf.var)
                    continue
                self._constant(leaf, fn.name)
            inputs.append(leaf)
        if isinstance(ans, tuple) and all(_is_recordable(a) for a in ans):
            return self._record(fn, tuple(inputs), {}, tree, ans, True)
        if _is_recordable(ans):
            return self._record(fn, tuple(inputs), {}, tree, ans, False)
        # Something other than numbers (a string, a list): only its recorded value is known,
        # so the program holds for inputs that give the same.
        for leaf in leaves:
            if isinstance(leaf, RecordingBox) and leaf._trace is self:
                self.note_read(leaf)
        return ans
