"""`Program`: a recorded evaluation list, which prints, evaluates, exports and compiles.

``wg.make_program(f)(*args)`` runs `f` once under a recording trace and returns the
program: its inputs (variables named after the function's parameters), its constants,
its equations (one primitive application each), the guards that Python's control flow
took, and its outputs. A program evaluates again on new inputs of the same shapes and
dtypes without re-tracing, and is differentiable itself (it applies the same primitives).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from .._core.box import Box, peek
from .._core.recording import Equation, Guard, GuardFailure, RecordingTrace, Var, _aval
from .._core.tree import TreeDef, tree_flatten, tree_unflatten
from ..errors import WengertError

__all__ = ["GuardError", "Program", "make_program", "record"]


class GuardError(WengertError, RuntimeError):
    """A program was evaluated on inputs for which Python's recorded decisions differ."""


class Program:
    """Wengert's evaluation list of one function at one input signature.

    Attributes: `inputs` (variables, one per numeric leaf of the arguments), `in_tree` (the
    arguments' structure, static leaves kept in `static_leaves`), `equations` (`Equation`
    and `Guard` in evaluation order), `outputs` (a variable or a constant per output leaf)
    and `out_tree`. `names` maps each input variable to the name printed for it.
    """

    def __init__(
        self,
        inputs: list[Var],
        equations: list,
        outputs: list,
        in_tree: TreeDef,
        out_tree: TreeDef,
        static_leaves: dict[int, Any],
        names: dict[Var, str],
        fun_name: str = "f",
    ):
        self.inputs = inputs
        self.equations = equations
        self.outputs = outputs
        self.in_tree = in_tree
        self.out_tree = out_tree
        self.static_leaves = static_leaves
        self.names = names
        self.fun_name = fun_name

    # --- structure ----------------------------------------------------------------------
    @property
    def guards(self) -> list[Guard]:
        return [e for e in self.equations if type(e) is Guard]

    def __len__(self) -> int:
        return sum(1 for e in self.equations if type(e) is Equation)

    def primitives(self) -> dict[str, int]:
        """How many equations apply each primitive, by name."""
        counts: dict[str, int] = {}
        for e in self.equations:
            if type(e) is Equation:
                counts[e.primitive.name] = counts.get(e.primitive.name, 0) + 1
        return counts

    def replace(self, equations: list, outputs: list | None = None) -> Program:
        """This program with other equations (and outputs): what passes return."""
        return Program(
            self.inputs,
            equations,
            self.outputs if outputs is None else outputs,
            self.in_tree,
            self.out_tree,
            self.static_leaves,
            self.names,
            self.fun_name,
        )

    # --- evaluation -----------------------------------------------------------------------
    def input_leaves(self, args: tuple, kwargs: dict | None = None) -> list:
        """The values of the input variables from call arguments, checked against the
        recorded structure, shapes and dtypes."""
        leaves, tree = tree_flatten((tuple(args), dict(kwargs or {})))
        if tree != self.in_tree:
            raise TypeError(
                f"{self.fun_name}'s program was recorded for arguments of structure "
                f"{self.in_tree!r}, not {tree!r}; record it again (wg.make_program) for the "
                "new structure, or use wg.jit, which records once per structure."
            )
        values = []
        it = iter(self.inputs)
        for i, leaf in enumerate(leaves):
            if i in self.static_leaves:
                if not _same_static(leaf, self.static_leaves[i]):
                    raise TypeError(
                        f"argument leaf {i} of {self.fun_name} is static (not a number) and "
                        f"was {self.static_leaves[i]!r} when recorded, not {leaf!r}; record "
                        "the program again for the new value."
                    )
                continue
            var = next(it)
            shape, dtype = _aval(peek(leaf))
            if shape != var.shape or dtype != var.dtype:
                raise TypeError(
                    f"input {self.names[var]} of {self.fun_name}'s program was recorded with "
                    f"shape {var.shape} and dtype {var.dtype}, not shape {shape} and dtype "
                    f"{dtype}; record the program again (or use wg.jit, which records once "
                    "per shape and dtype)."
                )
            values.append(leaf)
        return values

    def evaluate(self, values: list) -> list:
        """The output leaves for the input variables' `values`, applying each equation's
        primitive (so traced values, and with them every transformation, pass through)."""
        env: dict[Var, Any] = dict(zip(self.inputs, values))
        read = env.__getitem__
        for eq in self.equations:
            if type(eq) is Guard:
                if not eq.holds(env[eq.var]):
                    raise GuardFailure(eq)
                continue
            args, kwargs = eq.arguments(read)
            ans = eq.primitive(*args, **kwargs)
            if (
                len(eq.outputs) == 1
                and not eq.primitive.multiple_results
                and not isinstance(ans, tuple)
            ):
                env[eq.outputs[0]] = ans
            else:
                for var, a in zip(eq.outputs, ans):
                    env[var] = a
        return [env[x] if type(x) is Var else x for x in self.outputs]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        values = self.input_leaves(args, kwargs)
        try:
            outs = self.evaluate(values)
        except GuardFailure as failure:
            raise GuardError(
                f"{self.fun_name}'s program does not hold for these inputs: when it was "
                f"recorded, {self.describe(failure.guard)}, and these inputs decide otherwise. "
                "Record it again for them (wg.make_program), or use wg.jit, which records "
                "each path it meets."
            ) from None
        return tree_unflatten(self.out_tree, outs)

    # --- views ----------------------------------------------------------------------------
    def describe(self, guard: Guard) -> str:
        """What a guard decided, with its variable named as the printed program names it."""
        from .printing import Namer

        return guard.describe(Namer(self).var(guard.var))

    def __str__(self) -> str:
        from .printing import program_text

        return program_text(self)

    def __repr__(self) -> str:
        ins = ", ".join(self.names[v] for v in self.inputs)
        return f"<wengert.Program {self.fun_name}({ins}): {len(self)} equations>"

    def text(self, limit: int | None = None, shapes: bool = True) -> str:
        """The evaluation list as text; `limit` equations at most (None: all)."""
        from .printing import program_text

        return program_text(self, limit=limit, shapes=shapes)

    def _point(self, at: Any) -> dict:
        names = [self.names[v] for v in self.inputs]
        if isinstance(at, dict):
            return dict(at)
        values = list(at) if isinstance(at, (list, tuple)) else [at]
        if len(values) != len(names):
            raise ValueError(
                f"at: {self.fun_name}'s program takes {len(names)} inputs "
                f"({', '.join(names)}), got {len(values)} values"
            )
        return dict(zip(names, values))

    def table(self, at: Any) -> str:
        """The evaluation list at the point `at` (a dict by input name, or the values in
        order) with each row's value, local partials, forward tangent and reverse adjoint:
        the classic table of forward and reverse accumulation (scalar programs)."""
        from ..explore.trace import render_trace, trace

        return render_trace(trace(self, self._point(at)))

    def to_html(self, at: Any, path: Any = None, **options: Any) -> str:
        """A self-contained page to step through the program at `at`, forward then backward
        (see `wengert.explore.html.page`); written to `path` when given."""
        from ..explore.html import page
        from ..explore.trace import trace

        options.setdefault("title", f"program {self.fun_name}")
        text = page(trace(self, self._point(at)), **options)
        if path is not None:
            with open(path, "w", encoding="utf-8") as out:
                out.write(text)
        return text

    def source(self, name: str | None = None) -> str:
        """A standalone Python function over NumPy that computes this program."""
        from .codegen import standalone_source

        return standalone_source(self, name or _identifier(self.fun_name))

    def to_dot(self, values: bool = False) -> str:
        """The computational graph in Graphviz's DOT language."""
        from .dot import program_dot

        return program_dot(self, values=values)

    def render(self, path: str, values: bool = False) -> str:
        """Draw the graph into `path` (its suffix picks the format: .svg, .png, .pdf)."""
        from .dot import render

        return render(self, path, values=values)

    def simplify(self) -> Program:
        """The program after dead-code and common-subexpression elimination, constant
        folding and removal of zero and identity operations."""
        from .passes import simplify

        return simplify(self)


def _same_static(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:
        return a is b


def is_numeric_leaf(x: Any) -> bool:
    """Whether an argument leaf is traced (a number or numeric array) or static."""
    if isinstance(x, Box):
        return True
    if isinstance(x, (float, int, complex, np.number, np.bool_)):
        return True
    return isinstance(x, np.ndarray) and x.dtype.kind in "biufc"


def _identifier(name: str) -> str:
    name = re.sub(r"\W", "_", name)
    if not name or name[0].isdigit():
        name = "f_" + name
    return "f" if name == "_lambda_" or name == "lambda" else name


def _leaf_suffixes(tree: TreeDef) -> list[str]:
    """A short name suffix per leaf of `tree` ('' for a bare leaf, '_w' for key 'w')."""
    if tree.kind == "leaf":
        return [""]
    if tree.kind == "dict":
        labels = [str(k) for k in tree.meta]
    elif tree.kind == "namedtuple":
        labels = list(tree.meta._fields)
    elif tree.kind == "dataclass":
        labels = list(tree.meta[1])
    else:
        labels = [str(i) for i in range(len(tree.children))]
    out = []
    for label, child in zip(labels, tree.children):
        label = re.sub(r"\W", "_", label)
        out.extend("_" + label + s for s in _leaf_suffixes(child))
    return out


def _parameter_names(fun: Callable, n: int) -> list[str]:
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = []
    for i in range(n):
        if i < len(params) and params[i].kind in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            names.append(params[i].name)
        elif params and params[-1].kind == inspect.Parameter.VAR_POSITIONAL:
            names.append(f"{params[-1].name}{i}")
        else:
            names.append(f"x{i}" if n > 1 else "x")
    return names


def record(fun: Callable, args: tuple, kwargs: dict | None = None, lines: bool = True) -> Program:
    """Run `fun(*args, **kwargs)` once under a recording trace and return its program."""
    kwargs = dict(kwargs or {})
    leaves, in_tree = tree_flatten((tuple(args), kwargs))
    trace = RecordingTrace(lines=lines)
    # Names: the parameter's name, with the path inside a tree argument.
    arg_trees = in_tree.children[0].children
    kw_tree = in_tree.children[1]
    labels = []
    for name, sub in zip(_parameter_names(fun, len(args)), arg_trees):
        labels.extend(name + s for s in _leaf_suffixes(sub))
    for key, sub in zip(kw_tree.meta or (), kw_tree.children):
        labels.extend(str(key) + s for s in _leaf_suffixes(sub))
    boxed, static, names = [], {}, {}
    for i, (leaf, label) in enumerate(zip(leaves, labels)):
        if is_numeric_leaf(leaf):
            example = peek(leaf)
            if not isinstance(example, (np.ndarray, np.generic, float, int, complex, bool)):
                raise TypeError(
                    f"make_program records a function at example numbers, and input {label} "
                    f"is a {type(leaf).__name__} without one; for a symbolic expression, use "
                    "expr.to_program() (wengert.symbolic)."
                )
            box = trace.new_input(example)
            names[box.var] = label
            boxed.append(box)
        else:
            static[i] = leaf
            boxed.append(leaf)
    new_args, new_kwargs = tree_unflatten(in_tree, boxed)
    try:
        out = fun(*new_args, **new_kwargs)
    finally:
        trace.alive = False
    out_leaves, out_tree = tree_flatten(out)
    outputs = []
    for leaf in out_leaves:
        if isinstance(leaf, Box):
            if leaf._trace is not trace:
                trace.alive = True
                try:
                    trace._constant(leaf, getattr(fun, "__name__", "the function"))
                finally:
                    trace.alive = False
            outputs.append(leaf.var)
        else:
            outputs.append(leaf)
    _unique_names(names)
    return Program(
        trace.inputs,
        trace.equations,
        outputs,
        in_tree,
        out_tree,
        static,
        names,
        getattr(fun, "__name__", "f"),
    )


def _unique_names(names: dict) -> None:
    seen: set[str] = set()
    for var, name in names.items():
        base = name if name.isidentifier() else "x"
        candidate, k = base, 1
        while candidate in seen or re.fullmatch(r"v\d+|c\d+", candidate):
            k += 1
            candidate = f"{base}_{k}"
        seen.add(candidate)
        names[var] = candidate


def make_program(fun: Callable) -> Callable[..., Program]:
    """``make_program(f)(*args)``: record `f` at these arguments as a `Program`.

    Numeric leaves of the arguments (numbers and numeric arrays) become the program's
    inputs; other leaves (strings, None, callables) are fixed. Transformations of `f`
    record their rules too: ``make_program(wg.grad(f))(x)`` is the derivative program,
    its forward sweep followed by the backward (adjoint) sweep.
    """

    def make(*args: Any, **kwargs: Any) -> Program:
        return record(fun, args, kwargs)

    make.__name__ = f"make_program({getattr(fun, '__name__', 'f')})"
    return make
