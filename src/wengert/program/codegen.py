"""A program as standalone Python source: one function over NumPy (`Program.source`).

The source imports NumPy (and SciPy, or math, only where a primitive needs it), defines
the program's array constants and any helpers copied from wengert, then the function:
its parameters are the program's inputs (its flat input leaves, by their printed names)
and it returns the outputs rebuilt as tuple, list and dict literals (outputs in other
containers, namedtuples or dataclasses, are returned as the tuple of their leaves).

The source computes exactly what the program computes, bit for bit, at any inputs of the
recorded shapes and dtypes: each equation becomes one statement that applies the same
NumPy function the primitive applies (arithmetic with Python's operators where they call
the same ufunc), each guard a check that raises ValueError, and constants are written
exactly (floats by their round-tripping repr, arrays as literals or as their bytes).

A primitive whose implementation is a public NumPy function (``np.X``, ``np.linalg.X``,
``np.fft.X``) is written as a call to it; any other primitive needs a source form,
registered beside it with `Primitive.defsource`: a public NumPy or SciPy function, or a
top-level function of wengert's that uses only NumPy, SciPy and builtins, which is copied
into the source as a private helper. A primitive without either makes `source` raise
`MissingRuleError` naming it, rather than write code that might compute something else.
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import keyword
import math
import sys
import textwrap
import types
from typing import Any

import numpy as np

from .._core.recording import Equation, Guard, Var
from ..errors import MissingRuleError

__all__ = ["standalone_source"]

# Arrays with at most this many entries are written as literals, larger ones as bytes.
LITERAL_SIZE = 16

# NumPy ufuncs written with Python's operators when an operand is known to be a NumPy
# value (an array or a NumPy scalar): the operator then calls the very same ufunc. Two
# Python numbers would use Python's arithmetic instead (1.0 / 0.0 raises), so those
# calls keep the ufunc's name. Powers stay np.power: ``a ** 2`` and ``a ** 0.5`` on arrays
# take NumPy's shortcuts (square, sqrt), which need not agree with np.power bit for bit.
_INFIX = {
    np.add: "+",
    np.subtract: "-",
    np.multiply: "*",
    np.true_divide: "/",
    np.matmul: "@",
    np.less: "<",
    np.less_equal: "<=",
    np.greater: ">",
    np.greater_equal: ">=",
    np.equal: "==",
    np.not_equal: "!=",
}
_PREFIX = {np.negative: "-"}

# Modules whose public functions generated source may call, by the name it writes.
_NUMPY_MODULES = ("numpy", "numpy.linalg", "numpy.fft", "numpy.lib.stride_tricks")
_SCIPY_MODULES = ("scipy.special", "scipy.linalg", "scipy.signal", "scipy.stats")
# Names the function body itself may use, which a parameter must not shadow.
_NAMES_USED = {
    "np",
    "scipy",
    "ValueError",
    "bytes",
    "int",
    "float",
    "complex",
    "bool",
    "isinstance",
    "tuple",
    "slice",
    "set",
    "frozenset",
}


def standalone_source(program, name: str = "f") -> str:
    """Python source defining ``name(*inputs)``, which computes `program` with NumPy."""
    writer = _Writer(program, name, {})
    text = writer.write()
    taken = writer.global_names()
    clashes = {v: n for v, n in writer.params.items() if n in taken}
    if clashes:  # a parameter named like a module or helper: rename the parameter
        renamed = dict(writer.params)
        for v, n in clashes.items():
            candidate = n + "_"
            while candidate in taken or candidate in renamed.values():
                candidate += "_"
            renamed[v] = candidate
        text = _Writer(program, name, renamed).write()
    return text


class _Ref:
    """A variable's name standing in for it inside rebuilt argument trees."""

    __slots__ = ("numpy", "text")

    def __init__(self, text: str, numpy: bool):
        self.text = text
        self.numpy = numpy  # known to hold a NumPy array or scalar (never a Python number)


class _Writer:
    """Writes one program: names, constants, helpers and statements."""

    def __init__(self, program, name: str, params: dict) -> None:
        self.program = program
        self.name = name
        self.params: dict[Var, str] = {}
        for v in program.inputs:
            n = params.get(v) or program.names[v]
            if keyword.iskeyword(n) or n in _NAMES_USED or n == name:
                n += "_"
            self.params[v] = n
        self.names: dict[Var, str] = dict(self.params)
        self.numpy_vars: set[Var] = set()
        self.count = 0
        self.constants: list[tuple[str, str]] = []  # (name, expression)
        self.constant_ids: dict[int, str] = {}
        self.keep_alive: list = []  # constants named by id must outlive the writing
        self.imports: dict[str, str] = {"np": "numpy"}  # name bound -> module
        self.helpers: list[str] = []  # helper function sources, dependencies first
        self.helper_names: dict[int, str] = {}  # id(function) -> name written
        self.helper_globals: dict[str, Any] = {}  # other names the helpers bind
        self.scipy_paths: set[str] = set()
        self.stubs = 0  # stand-ins written for parts of wengert that serve traced values

    # --- names --------------------------------------------------------------------------
    def var(self, v: Var) -> str:
        if v not in self.names:
            self.count += 1
            self.names[v] = f"v{self.count}"
        return self.names[v]

    def global_names(self) -> set[str]:
        names = set(self.imports) | set(self.helper_names.values()) | set(self.helper_globals)
        names |= {n for n, _ in self.constants} | {self.name, "scipy"}
        return names

    # --- the whole source ---------------------------------------------------------------
    def write(self) -> str:
        body = []
        for eq in self.program.equations:
            if type(eq) is Guard:
                body.extend(self.guard(eq))
            else:
                body.extend(self.equation(eq))
        outs = self.outputs()
        params = ", ".join(self.params[v] for v in self.program.inputs)
        head = ['"""' + self.docstring() + '"""', ""]
        for mod in sorted(self.scipy_paths):
            head.append(f"import {mod}")
        head.insert(2, "import numpy as np")
        for alias, mod in sorted(self.imports.items()):
            if alias != "np":
                head.append(f"import {mod} as {alias}")
        head.append("")
        for n, text in self.helper_globals.items():
            head.append(f"{n} = {text}")
        for n, text in self.constants:
            head.append(f"{n} = {text}")
        head.append("")
        for text in self.helpers:
            head.extend(["", text.rstrip(), ""])
        signature = ", ".join(f"{self.params[v]}: {_aval(v)}" for v in self.program.inputs)
        lines = [*head, "", f"def {self.name}({params}):"]
        lines.append(f'    """{self.program.fun_name}({signature}) -> {self.returns()}"""')
        lines.extend("    " + line for line in body)
        lines.append(f"    return {outs}")
        return "\n".join(_tidy(lines)) + "\n"

    def docstring(self) -> str:
        modules = {m.split(".")[0] for m in [*self.imports.values(), *self.scipy_paths]}
        needs = " and ".join(
            name
            for key, name in (("numpy", "NumPy"), ("scipy", "SciPy"), ("math", "math"))
            if key in modules
        )
        text = (
            f"{self.name}: wengert program {self.program.fun_name}, as standalone Python "
            f"over {needs}.\n\nIt computes what the program computes, bit for bit, at inputs "
            "of the recorded shapes and dtypes,\nand raises ValueError where Python's "
            "recorded decisions do not hold for the inputs.\n"
        )
        if self.helpers:
            text += (
                "The functions before it are wengert's implementations of its primitives, copied"
            )
            text += (
                ";\nthe stand-ins among them, which raise, serve only traced values.\n"
                if self.stubs
                else ".\n"
            )
        return text

    def returns(self) -> str:
        tree = self.program.out_tree
        if _literal_tree(tree):
            return "the outputs" if tree.kind != "leaf" else "the output"
        return f"the {tree.num_leaves} output leaves as a tuple, in the order of {tree!r}"

    # --- statements ---------------------------------------------------------------------
    def equation(self, eq: Equation) -> list[str]:
        form = _form_of(eq.primitive)
        args, kwargs = eq.arguments(
            lambda v: _Ref(self.var(v), v in self.numpy_vars or len(v.shape) > 0)
        )
        rewrite = getattr(eq.primitive, "source_rewrite", None)
        if rewrite is not None:
            form, args, kwargs = rewrite(*args, **kwargs)
        avals = ", ".join(_aval(v) for v in eq.outputs)
        if form is None:  # the argument itself (stop_gradient): its name is reused
            (out,), (arg,) = eq.outputs, args
            if isinstance(arg, _Ref):
                self.names[out] = arg.text
                if arg.numpy:
                    self.numpy_vars.add(out)
                return []
            return [f"{self.var(out)} = {self.value(arg)}  # {avals}"]
        rhs, is_ufunc = self.call(form, list(args), dict(kwargs), eq)
        outs = [self.var(v) for v in eq.outputs]
        if is_ufunc:
            self.numpy_vars.update(eq.outputs)
        if eq.multiple_results or _returns_tuple(form, args):
            lhs = ", ".join(outs) + ("," if len(outs) == 1 else "")
            return [f"{lhs} = {rhs}  # {avals}"]
        lines = [f"{outs[0]} = {rhs}  # {avals}"]
        if getattr(eq.primitive, "nondifferentiable", False) and not _returns_one(form):
            # A function without derivative that returns a tuple of one value gives that
            # value (as the program's evaluation does).
            v = outs[0]
            lines.append(f"{v} = {v}[0] if isinstance({v}, tuple) else {v}")
        return lines

    def call(self, form: Any, args: list, kwargs: dict, eq: Equation) -> tuple[str, bool]:
        """The expression applying `form` to the arguments; whether it is a ufunc call."""
        while isinstance(form, functools.partial):
            args = [*form.args, *args]
            kwargs = {**form.keywords, **kwargs}
            form = form.func
        if isinstance(form, np.ufunc) and not kwargs:
            known = [not isinstance(a, (_Ref, float, int, complex)) or _is_numpy(a) for a in args]
            if form in _INFIX and len(args) == 2 and any(known):
                a, b = (self.operand(x) for x in args)
                return f"{a} {_INFIX[form]} {b}", True
            if form in _PREFIX and len(args) == 1 and known[0]:
                return f"{_PREFIX[form]}{self.operand(args[0])}", True
        if form is _GETITEM and len(args) == 2 and not kwargs:
            return f"{self.operand(args[0])}[{self.index(args[1])}]", False
        callee = self.callable(form, eq)
        parts = [self.value(a) for a in args]
        parts += [f"{k}={self.value(v)}" for k, v in kwargs.items()]
        return f"{callee}({', '.join(parts)})", isinstance(form, np.ufunc)

    def operand(self, x: Any) -> str:
        text = self.value(x)
        if isinstance(x, _Ref) or text.isidentifier() or _is_plain_number(text):
            return text
        if text[0].isalpha() and text.endswith(")") and "(" in text:
            return text  # a call: np.float64(-1.0)
        return f"({text})"

    def index(self, index: Any) -> str:
        parts = index if isinstance(index, tuple) else (index,)
        texts = [self.slice(p) if isinstance(p, slice) else self.value(p) for p in parts]
        if isinstance(index, tuple) and len(parts) == 1:
            return texts[0] + ","
        return ", ".join(texts) if texts else "()"

    def slice(self, s: slice) -> str:
        parts = ["" if p is None else self.value(p) for p in (s.start, s.stop)]
        text = ":".join(parts)
        return text + (f":{self.value(s.step)}" if s.step is not None else "")

    def callable(self, form: Any, eq: Equation | None) -> str:
        path = _public_path(form)
        if path is not None:
            if path.startswith("scipy."):
                self.scipy_paths.add(path.rsplit(".", 1)[0])
            return path
        if _copyable(form):
            return self.helper(form)
        if isinstance(form, types.FunctionType) and form.__name__ == "<lambda>":
            text = self.lambda_text(form)
            if text is not None:
                return f"({text})"
        where = f" (equation of {eq.primitive.name})" if eq is not None else ""
        raise MissingRuleError(
            f"the source form {form!r}{where} is neither a public NumPy or SciPy function nor "
            "a top-level function that can be copied; register another with defsource."
        )

    def guard(self, guard: Guard) -> list[str]:
        v = self.var(guard.var)
        message = (
            f"{self.name}: the recorded program does not hold for these inputs: when it was "
            f"recorded, {guard.describe(v)}, and these inputs decide otherwise"
        )
        if guard.kind == "bool":
            test = f"not {v}" if guard.expected else v
        elif guard.kind in ("int", "index"):
            test = f"int({v}) != {guard.expected!r}"
        elif guard.kind in ("any", "all"):
            test = f"bool(np.{guard.kind}({v})) is not {guard.expected!r}"
        else:
            expected = guard.expected
            c = self.value(expected)
            test = (
                f"not (np.shape({v}) == {np.shape(expected)!r} and np.result_type({v}) == "
                f"{_dtype(np.result_type(guard.expected))} and "
                f"np.array_equal({v}, {c}, equal_nan=True))"
            )
        return [f"if {test}:", f"    raise ValueError({message!r})"]

    def outputs(self) -> str:
        leaves = [
            self.value(_Ref(self.var(x), True) if type(x) is Var else x)
            for x in self.program.outputs
        ]
        tree = self.program.out_tree
        if not _literal_tree(tree):
            return "(" + ", ".join(leaves) + ("," if len(leaves) == 1 else "") + ")"
        return _rebuild(tree, iter(leaves))

    # --- values -------------------------------------------------------------------------
    def value(self, x: Any) -> str:
        if isinstance(x, _Ref):
            return x.text
        if x is None or x is Ellipsis or isinstance(x, (bool, str, bytes)):
            return "..." if x is Ellipsis else repr(x)
        if isinstance(x, int):
            return repr(x)
        if isinstance(x, float):
            return _float(x)
        if isinstance(x, complex):
            return f"complex({_float(x.real)}, {_float(x.imag)})"
        if isinstance(x, np.ndarray):
            return self.array(x)
        if isinstance(x, np.generic):
            return _scalar(x)
        if isinstance(x, np.dtype):
            return f"np.dtype({x.str if not x.isnative or x.names else x.name!r})"
        if isinstance(x, tuple) and type(x) is tuple:
            inner = ", ".join(self.value(e) for e in x)
            return f"({inner},)" if len(x) == 1 else f"({inner})"
        if type(x) is list:
            return "[" + ", ".join(self.value(e) for e in x) + "]"
        if type(x) is dict:
            return "{" + ", ".join(f"{self.value(k)}: {self.value(v)}" for k, v in x.items()) + "}"
        if type(x) in (set, frozenset):
            inner = ", ".join(sorted(self.value(e) for e in x))
            return f"{type(x).__name__}({{{inner}}})" if x else f"{type(x).__name__}()"
        if type(x) is slice:
            return f"slice({self.value(x.start)}, {self.value(x.stop)}, {self.value(x.step)})"
        if isinstance(x, type) and x in (float, int, complex, bool):
            return x.__name__
        if isinstance(x, type) and issubclass(x, np.generic):
            return _dtype(np.dtype(x)) if np.dtype(x).type is x else repr(x)
        if callable(x):
            return self.callable(x, None)
        raise MissingRuleError(
            f"{self.program.fun_name}'s program holds a constant of type {type(x).__name__} "
            f"({x!r:.60}) that generated source cannot write."
        )

    def array(self, x: np.ndarray) -> str:
        key = id(x)
        if key not in self.constant_ids:
            k = len(self.constants) + 1
            while f"c{k}" in self.helper_globals or f"c{k}" in self.helper_names.values():
                k += 1
            name = f"c{k}"
            self.constant_ids[key] = name
            self.keep_alive.append(x)
            self.constants.append((name, _array(x)))
        return self.constant_ids[key]

    # --- helpers copied from wengert --------------------------------------------------------
    def helper(self, fun: types.FunctionType) -> str:
        """The name of the copy of `fun` in the source, copying it (and what it uses)."""
        key = id(fun)
        if key in self.helper_names:
            return self.helper_names[key]
        name = self.fresh(fun.__name__)
        self.helper_names[key] = name
        tree = ast.parse(textwrap.dedent(inspect.getsource(fun)))
        node = tree.body[0]
        if len(tree.body) != 1 or not isinstance(node, ast.FunctionDef) or node.decorator_list:
            raise MissingRuleError(f"the source form {fun.__qualname__} is not a plain def")
        node = _NumpyOnly.prune(node)
        present = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        renames = {}
        modules = {}
        for g in sorted(_global_names(fun, node) & present):
            value = fun.__globals__.get(g)
            if isinstance(value, types.ModuleType) and value.__name__.startswith("wengert"):
                modules[g] = value  # its attributes are bound one by one, below
                continue
            bound = self.bind_global(fun, g)
            if bound != g:
                renames[g] = bound
        node.name = name
        _strip_annotations(node)
        if modules:
            node = _Attributes(self, fun, modules).visit(node)
        if renames:
            local = {
                n.id
                for n in ast.walk(node)
                if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)
            }
            local |= {a.arg for a in ast.walk(node) if isinstance(a, ast.arg)}
            if local & set(renames):
                raise MissingRuleError(
                    f"the source form {fun.__qualname__} uses {sorted(local & set(renames))} "
                    "both as a local and as a global name; it cannot be copied."
                )
            for n in ast.walk(node):
                if isinstance(n, ast.Name) and n.id in renames:
                    n.id = renames[n.id]
        self.helpers.append(ast.unparse(node))
        return name

    def lambda_text(self, fun: types.FunctionType) -> str | None:
        """The text of a lambda without closure (a constant argument, such as the test of
        a support mask), with its global names bound; None where it cannot be found."""
        if fun.__closure__ is not None:
            return None
        tree = _module_tree(fun.__code__.co_filename)
        spots = [
            (p[0], p[2], p[1], p[3])
            for p in fun.__code__.co_positions()
            if None not in p and (p[2], p[3]) != (0, 0)
        ]
        if tree is None or not spots:
            return None
        found = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Lambda)
            and all(
                (n.lineno, n.col_offset) <= (a, b) and (c, d) <= (n.end_lineno, n.end_col_offset)
                for a, b, c, d in spots
            )
        ]
        found = [n for n in found if not any(m is not n and m in ast.walk(n) for m in found)]
        if len(found) != 1 or len(found[0].args.args) != fun.__code__.co_argcount:
            return None
        node = found[0]
        renames = {}
        for g in sorted(_global_names(fun, node)):
            bound = self.bind_global(fun, g)
            if bound != g:
                renames[g] = bound
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and n.id in renames:
                n.id = renames[n.id]
        return ast.unparse(node)

    def stub(self, g: str, value: Any) -> str:
        """A stand-in for a part of wengert that copied code names only on its paths for
        traced values (``isinstance(x, Box)``), which this source never takes."""
        key = id(value)
        if key in self.helper_names:
            return self.helper_names[key]
        name = self.fresh(g)
        self.helper_names[key] = name
        self.keep_alive.append(value)
        self.stubs += 1
        what = getattr(value, "__qualname__", type(value).__name__)
        if isinstance(value, type):
            self.helpers.append(
                f'class {name}:\n    """Stands for wengert\'s {what}: no value here is one."""'
            )
        else:
            self.helpers.append(
                f'def {name}(*args, **kwargs):\n    """Stands for wengert\'s {what}, which the '
                f'code above calls on traced values only."""\n    raise NotImplementedError('
                f"{what + ' needs wengert'!r})"
            )
        return name

    def fresh(self, base: str) -> str:
        taken = self.global_names() | set(self.params.values()) | set(_NAMES_USED)
        name, k = base, 1
        while name in taken or keyword.iskeyword(name):
            k += 1
            name = f"{base}_{k}"
        return name

    def bind_global(self, fun: types.FunctionType, g: str) -> str:
        """The name under which the source binds what `g` means to `fun`, binding it."""
        if g in fun.__globals__:
            value = fun.__globals__[g]
        elif hasattr(builtins, g):
            return g
        else:
            raise MissingRuleError(f"the source form {fun.__qualname__} uses an unknown name {g}")
        return self.bind_value(fun, g, value)

    def bind_value(self, fun: types.FunctionType, g: str, value: Any) -> str:
        """The name under which the source binds `value`, which `fun` calls `g`: a
        function of wengert's that names a ``numpy_form`` (what it computes on NumPy
        arrays, such as ``np.asarray`` for the library-keeping ``asarray``) is bound as
        that form."""
        value = getattr(value, "numpy_form", value)
        if isinstance(value, types.ModuleType):
            module = value.__name__
            if module not in ("numpy", "math") and not module.startswith("scipy"):
                raise MissingRuleError(
                    f"the source form {fun.__qualname__} uses module {module}, which generated "
                    "source does not import (only NumPy, SciPy and math)."
                )
            if self.imports.get(g, module) != module or (g == "scipy" and module != "scipy"):
                raise MissingRuleError(
                    f"the source form {fun.__qualname__} binds {g} to {module}, which the "
                    f"source already binds to {self.imports.get(g)}."
                )
            self.imports[g] = module
            return g
        path = _public_path(value)
        if path is None and _copyable(value):
            return self.helper(value)
        if path is not None or isinstance(value, (np.ufunc,)):
            if path is None:
                raise MissingRuleError(f"{fun.__qualname__} uses {g}, not a public function")
            for bound, existing in self.helper_globals.items():
                if existing == path:
                    return bound
            name = self.fresh(g)
            self.helper_globals[name] = path
            if path.startswith("scipy."):
                self.scipy_paths.add(path.rsplit(".", 1)[0])
            return name
        if _is_wengert_only(value):
            return self.stub(g, value)
        try:
            text = self.value(value)
        except MissingRuleError:
            raise MissingRuleError(
                f"the source form {fun.__qualname__} uses {g} ({type(value).__name__}), which "
                "generated source cannot write; give the primitive another source form."
            ) from None
        if isinstance(value, np.ndarray):
            return text  # a constant of the source
        for bound, existing in self.helper_globals.items():
            if existing == text:
                return bound
        name = self.fresh(g)
        self.helper_globals[name] = text
        return name


_GETITEM = __import__("operator").getitem


class _NumpyOnly(ast.NodeTransformer):
    """Removes from copied code the branches that serve arrays of other libraries (Dask,
    CuPy): generated source runs on NumPy arrays, where ``is_foreign_array(x)`` and
    ``is_lazy_array(x)`` are False and ``foreign_of(...)`` is None. Tests built of those
    calls with ``not``, ``and``, ``or``, ``is (not) None`` and ``any(... for ...)`` are
    decided; a name assigned only from ``foreign_of`` is None. What no such test decides
    is kept as written."""

    FALSE_CALLS = frozenset({"is_foreign_array", "is_lazy_array"})
    NONE_CALLS = frozenset({"foreign_of"})
    FIRST_ARGUMENT_CALLS = frozenset({"lift"})  # (its argument itself, next to NumPy's)
    IDLE_CALLS = frozenset({"refuse_foreign", "refuse_lazy"})  # (raise for others only)

    def __init__(self, none_names: frozenset):
        self.none_names = none_names

    @classmethod
    def prune(cls, node: ast.FunctionDef) -> ast.FunctionDef:
        assigned: dict[str, list] = {}
        for n in ast.walk(node):
            if isinstance(n, ast.Assign):
                for t in n.targets:
                    if isinstance(t, ast.Name):
                        assigned.setdefault(t.id, []).append(n.value)
            elif isinstance(n, (ast.AugAssign, ast.AnnAssign, ast.NamedExpr)):
                target = n.target
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(None)
        params = {a.arg for a in ast.walk(node) if isinstance(a, ast.arg)}
        first = cls(frozenset())
        none_names = frozenset(
            name
            for name, values in assigned.items()
            if name not in params
            and all(v is not None and first.known(v) == "none" for v in values)
        )
        node = cls(none_names).visit(node)
        for n in ast.walk(node):  # a block left empty holds `pass`
            for field in ("body", "orelse", "finalbody"):
                block = getattr(n, field, None)
                if field == "body" and isinstance(block, list) and not block:
                    setattr(n, field, [ast.Pass()])
        return ast.fix_missing_locations(node)

    def _name(self, func: ast.expr) -> str | None:
        if isinstance(func, ast.Name):
            return func.id
        if isinstance(func, ast.Attribute):
            return func.attr
        return None

    def known(self, expr: ast.expr) -> Any:
        """True or False where the test is decided, "none" for a None value, else None."""
        if isinstance(expr, ast.Constant) and expr.value in (True, False, None):
            return "none" if expr.value is None else expr.value
        if isinstance(expr, ast.Call):
            name = self._name(expr.func)
            if name in self.FALSE_CALLS:
                return False
            if name in self.NONE_CALLS:
                return "none"
            if name == "any" and len(expr.args) == 1 and isinstance(expr.args[0], ast.GeneratorExp):
                return False if self.known(expr.args[0].elt) is False else None
            return None
        if isinstance(expr, ast.Name):
            return "none" if expr.id in self.none_names else None
        if isinstance(expr, ast.IfExp):
            a, b = self.known(expr.body), self.known(expr.orelse)
            return a if a == b and a is not None else None
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
            inner = self.known(expr.operand)
            return None if inner is None else (inner == "none" or inner is False)
        if isinstance(expr, ast.Compare) and len(expr.ops) == 1:
            op, right = expr.ops[0], expr.comparators[0]
            if isinstance(op, (ast.Is, ast.IsNot)) and self.known(right) == "none":
                left = self.known(expr.left)
                if left == "none":
                    return isinstance(op, ast.Is)
            return None
        if isinstance(expr, ast.BoolOp):
            values = [self.known(v) for v in expr.values]
            if isinstance(expr.op, ast.And):
                if False in values:
                    return False
                return True if all(v is True for v in values) else None
            if True in values:
                return True
            return False if all(v is False for v in values) else None
        return None

    def visit_If(self, node: ast.If) -> Any:
        decided = self.known(node.test)
        if decided is True or decided is False:
            kept = node.body if decided else node.orelse
            return [self.visit(statement) for statement in kept]
        self.generic_visit(node)
        return node

    def visit_IfExp(self, node: ast.IfExp) -> Any:
        decided = self.known(node.test)
        if decided is True or decided is False:
            return self.visit(node.body if decided else node.orelse)
        self.generic_visit(node)
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        self.generic_visit(node)
        drop = True if isinstance(node.op, ast.And) else False  # operands that change nothing
        values = [v for v in node.values if self.known(v) is not drop]
        if not values:
            return ast.Constant(drop)
        return values[0] if len(values) == 1 else ast.BoolOp(node.op, values)

    def visit_Call(self, node: ast.Call) -> Any:
        name = self._name(node.func)
        if name in self.FIRST_ARGUMENT_CALLS and node.args:
            return self.visit(node.args[0])
        if name in self.NONE_CALLS:
            return ast.Constant(None)
        self.generic_visit(node)
        node.keywords = [  # like=None is NumPy's default
            k
            for k in node.keywords
            if not (k.arg == "like" and isinstance(k.value, ast.Constant) and k.value.value is None)
        ]
        return node

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id in self.none_names and isinstance(node.ctx, ast.Load):
            return ast.Constant(None)
        return node

    def visit_Assign(self, node: ast.Assign) -> Any:
        if all(isinstance(t, ast.Name) and t.id in self.none_names for t in node.targets):
            return None  # (its uses read None)
        self.generic_visit(node)
        return node

    def visit_Expr(self, node: ast.Expr) -> Any:
        value = node.value
        if isinstance(value, ast.Call) and self._name(value.func) in self.IDLE_CALLS:
            return None
        self.generic_visit(node)
        return node

    def visit_For(self, node: ast.For) -> Any:
        self.generic_visit(node)
        idle = all(isinstance(b, ast.Pass) for b in node.body) and not node.orelse
        if idle and isinstance(node.iter, ast.Name):
            return None  # (a loop over a name that does nothing)
        return node


class _Attributes(ast.NodeTransformer):
    """Replaces ``module.name`` for modules of wengert by the source's binding of it."""

    def __init__(self, writer: _Writer, fun: types.FunctionType, modules: dict) -> None:
        self.writer, self.fun, self.modules = writer, fun, modules

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        base = node.value
        if isinstance(base, ast.Name) and base.id in self.modules:
            value = getattr(self.modules[base.id], node.attr)
            return ast.Name(self.writer.bind_value(self.fun, node.attr, value), ast.Load())
        return self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.modules:
            raise MissingRuleError(
                f"the source form {self.fun.__qualname__} uses the module {node.id} other than "
                "by its attributes; it cannot be copied."
            )
        return node


def _is_wengert_only(value: Any) -> bool:
    """Whether `value` is a part of wengert (a primitive, a class, a closure) that copied
    code may name but that generated source cannot copy."""
    modules = (str(getattr(value, "__module__", "")), str(type(value).__module__))
    return any(m.startswith("wengert") for m in modules) and (
        isinstance(value, type) or callable(value)
    )


# Public NumPy functions that return a tuple of arrays, and those of them that do so only
# with one argument (np.where(condition)).
_TUPLE_RESULTS = frozenset(
    "nonzero where unravel_index indices broadcast_arrays meshgrid ix_ diag_indices "
    "diag_indices_from tril_indices triu_indices tril_indices_from triu_indices_from "
    "mask_indices".split()
)
_TUPLE_WITH_ONE_ARGUMENT = frozenset({"where"})


def _returns_tuple(form: Any, args: tuple) -> bool:
    """Whether `form` is a public NumPy function that returns a tuple (here of one array)."""
    path = _public_path(form, scipy=False) if not isinstance(form, np.ufunc) else None
    if path is None or not path.startswith("np.") or path.count(".") != 1:
        return False
    name = path[3:]
    if name in _TUPLE_WITH_ONE_ARGUMENT:
        return len(args) == 1
    return name in _TUPLE_RESULTS


def _returns_one(form: Any) -> bool:
    """Whether `form` returns one value, never a tuple: a ufunc with one output, or another
    public NumPy function that is not one of those returning tuples."""
    if isinstance(form, np.ufunc):
        return form.nout == 1
    if form is _GETITEM:
        return False
    path = _public_path(form, scipy=False)
    return path is not None and path.split(".")[-1] not in _TUPLE_RESULTS


def _is_numpy(x: Any) -> bool:
    return x.numpy if isinstance(x, _Ref) else isinstance(x, (np.ndarray, np.generic))


def _is_plain_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return not text.startswith("-")


def _literal_tree(tree) -> bool:
    if tree.kind in ("leaf", "none"):
        return True
    return tree.kind in ("tuple", "list", "dict") and all(_literal_tree(c) for c in tree.children)


def _rebuild(tree, leaves) -> str:
    if tree.kind == "leaf":
        return next(leaves)
    if tree.kind == "none":
        return "None"
    parts = [_rebuild(c, leaves) for c in tree.children]
    if tree.kind == "tuple":
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
    if tree.kind == "list":
        return "[" + ", ".join(parts) + "]"
    return "{" + ", ".join(f"{k!r}: {p}" for k, p in zip(tree.meta, parts)) + "}"


def _aval(v: Var) -> str:
    dtype = "?" if v.dtype is None else str(v.dtype)
    return f"{dtype}{list(v.shape)}"


def _tidy(lines: list[str]) -> list[str]:
    """`lines` without runs of more than two blank lines and leading blank lines."""
    out: list[str] = []
    for line in lines:
        if not line.strip() and len(out) >= 2 and not out[-1].strip() and not out[-2].strip():
            continue
        out.append(line)
    return out


# --- forms ----------------------------------------------------------------------------------


def _form_of(primitive) -> Any:
    """How the source computes `primitive`: its registered form, or its implementation
    where that is a public NumPy function."""
    form = getattr(primitive, "source", None)
    if form is not None or getattr(primitive, "source_rewrite", None) is not None:
        return form
    if _public_path(primitive.fun, scipy=False) is not None:
        return primitive.fun
    raise MissingRuleError(
        f"primitive {primitive.name} has no source form, so Program.source cannot write it: "
        f"its implementation ({getattr(primitive.fun, '__qualname__', primitive.fun)!r}) is "
        f"not a public NumPy function. Register one beside it with "
        f"{primitive.name}.defsource(...)."
    )


@functools.cache
def _numpy_paths() -> dict[int, str]:
    paths: dict[int, str] = {}
    for module in _NUMPY_MODULES:
        mod = sys.modules.get(module) or __import__(module, fromlist=["_"])
        prefix = "np" + module[len("numpy") :]
        for name in sorted(dir(mod), key=lambda n: (n.startswith("_"), len(n), n)):
            obj = getattr(mod, name, None)
            if callable(obj) and not isinstance(obj, type) and not name.startswith("_"):
                paths.setdefault(id(obj), f"{prefix}.{name}")
    return paths


def _public_path(obj: Any, scipy: bool = True) -> str | None:
    """``np.X``, ``np.linalg.X``, ``np.fft.X`` (or ``scipy.special.X``, ...) naming `obj`."""
    try:
        hash(obj)
    except TypeError:
        return None
    name = getattr(obj, "__name__", None)
    if isinstance(name, str):
        for module in _NUMPY_MODULES:
            mod = sys.modules.get(module)
            if mod is not None and getattr(mod, name, None) is obj:
                return "np" + module[len("numpy") :] + "." + name
    path = _numpy_paths().get(id(obj))
    if path is not None:
        return path
    if scipy and isinstance(name, str) and "scipy" in sys.modules:
        for module in _SCIPY_MODULES:
            try:
                mod = __import__(module, fromlist=["_"])
            except ImportError:  # pragma: no cover - scipy is optional
                continue
            if getattr(mod, name, None) is obj:
                return f"{module}.{name}"
    return None


@functools.lru_cache(maxsize=64)
def _module_tree(filename: str) -> ast.Module | None:
    import linecache

    try:
        return ast.parse("".join(linecache.getlines(filename)))
    except (SyntaxError, ValueError):
        return None


def _copyable(fun: Any) -> bool:
    return (
        isinstance(fun, types.FunctionType)
        and fun.__closure__ is None
        and fun.__name__ != "<lambda>"
        and fun.__qualname__ == fun.__name__
    )


def _global_names(fun: types.FunctionType, node: ast.FunctionDef) -> set[str]:
    """The global names `fun`'s code reads, and those its default values read."""
    names: set[str] = set()
    stack = [fun.__code__]
    while stack:
        code = stack.pop()
        for ins in _instructions(code):
            if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME", "STORE_GLOBAL", "DELETE_GLOBAL"):
                names.add(ins.argval)
        stack.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    for default in [*node.args.defaults, *node.args.kw_defaults]:
        if default is not None:
            names |= {n.id for n in ast.walk(default) if isinstance(n, ast.Name)}
    return names


def _instructions(code: types.CodeType):
    import dis

    return dis.get_instructions(code)


def _strip_annotations(node: ast.FunctionDef) -> None:
    for n in ast.walk(node):
        if isinstance(n, ast.arg):
            n.annotation = None
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            n.returns = None


# --- constants --------------------------------------------------------------------------


def _float(x: float) -> str:
    if math.isnan(x):
        return 'float("nan")' if math.copysign(1.0, x) > 0 else '-float("nan")'
    if math.isinf(x):
        return 'float("inf")' if x > 0 else '-float("inf")'
    return repr(x)


def _dtype(dtype: np.dtype) -> str:
    dtype = np.dtype(dtype)
    scalar = getattr(np, dtype.name, None)
    if isinstance(scalar, type) and np.dtype(scalar) == dtype and dtype.isnative:
        return f"np.{dtype.name}"
    return f"np.dtype({dtype.str!r})"


def _scalar(x: np.generic) -> str:
    kind = x.dtype.kind
    if kind == "b":
        return f"np.bool_({bool(x)})"
    if kind in "iu":
        return f"{_dtype(x.dtype)}({int(x)})"
    if kind == "f" and x.dtype.itemsize <= 8:
        return f"{_dtype(x.dtype)}({_float(float(x))})"
    if kind == "c" and x.dtype.itemsize <= 16:
        c = complex(x)
        return f"{_dtype(x.dtype)}(complex({_float(c.real)}, {_float(c.imag)}))"
    return f"{_from_bytes(np.asarray(x).reshape(1))}[0]"


def _element(x: Any, kind: str) -> str:
    if kind == "b":
        return repr(bool(x))
    if kind in "iu":
        return repr(int(x))
    if kind == "f":
        return _float(float(x))
    c = complex(x)
    return f"complex({_float(c.real)}, {_float(c.imag)})"


def _array(x: np.ndarray) -> str:
    """An expression for an array equal to `x` in dtype, shape, bytes and memory layout."""
    if x.dtype.kind not in "biufc" or x.dtype.hasobject:
        raise MissingRuleError(
            f"generated source cannot write an array constant of dtype {x.dtype}"
        )
    # The memory layout (C or Fortran order, a transposed view) decides the order in which
    # NumPy sums, so it is kept: the source builds the C-ordered data of the axes in stride
    # order and transposes it back.
    order = sorted(range(x.ndim), key=lambda i: -abs(x.strides[i]))
    data = x.transpose(order).copy(order="C")
    back = [order.index(i) for i in range(x.ndim)]
    if x.size == 0:
        text = f"np.zeros({data.shape!r}, dtype={_dtype(x.dtype)})"
    elif x.size <= LITERAL_SIZE and _literal_safe(data) and x.dtype.isnative:
        items = _nested(data.tolist(), x.dtype.kind)
        text = f"np.array({items}, dtype={_dtype(x.dtype)})"
    elif (
        x.dtype.isnative
        and _literal_safe(data.reshape(-1)[:1])
        and data.tobytes() == data.reshape(-1)[:1].tobytes() * data.size
    ):  # one value repeated (a seed cotangent of ones)
        first = _element(data.reshape(-1)[0], x.dtype.kind)
        text = f"np.full({data.shape!r}, {first}, dtype={_dtype(x.dtype)})"
    else:
        text = f"{_from_bytes(data)}"
        if data.ndim != 1:
            text += f".reshape({data.shape!r})"
    if back != list(range(x.ndim)) and x.ndim > 1:
        text += f".transpose({tuple(back)!r})"
    return text


def _literal_safe(data: np.ndarray) -> bool:
    """Whether the literal's floats give the same bits (NaNs of NumPy's usual payload)."""
    if data.dtype.kind in "biu":
        return True
    if data.dtype.itemsize > (8 if data.dtype.kind == "f" else 16):
        return False  # extended precision: its values are not Python floats
    parts = [data] if data.dtype.kind == "f" else [data.real, data.imag]
    for part in parts:
        nans = part[np.isnan(part)]
        if nans.size:
            canonical = np.full(nans.shape, np.nan, dtype=part.dtype)
            signs = np.signbit(nans)
            canonical[signs] = -canonical[signs]
            if nans.tobytes() != canonical.tobytes():
                return False
    return True


def _nested(items: Any, kind: str) -> str:
    if isinstance(items, list):
        return "[" + ", ".join(_nested(e, kind) for e in items) + "]"
    return _element(items, kind)


def _from_bytes(data: np.ndarray) -> str:
    hexes = data.tobytes().hex()
    chunks = [hexes[i : i + 64] for i in range(0, len(hexes), 64)]
    if len(chunks) == 1:
        literal = f'"{chunks[0]}"'
    else:
        literal = "(\n" + "".join(f'    "{c}"\n' for c in chunks) + ")"
    return f"np.frombuffer(bytes.fromhex({literal}), dtype={np.dtype(data.dtype).str!r}).copy()"
