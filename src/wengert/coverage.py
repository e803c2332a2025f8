"""The coverage table: every function of wengert's NumPy and SciPy namespaces, whether it
has reverse and forward rules, and which rows of the test suite's derivative tables check it.

Run ``python -m wengert.coverage`` in a source checkout (``--markdown`` prints the page
``docs/coverage.md``, which a test keeps up to date). A function counts as tested by a row
of a table that a test feeds to ``check_grads`` when the row is named after the function
(or its primitive) or when the row's function calls it; a test that merely mentions the
name does not count. When HIPS autograd is installed, a column says whether autograd
differentiates the same function, and a summary lists any that wengert lacks.
"""

from __future__ import annotations

import argparse
import ast
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from ._core.primitive import Primitive

# (wengert namespace, the NumPy/SciPy namespace it mirrors, the HIPS autograd one)
NAMESPACES = (
    ("wengert.numpy", "numpy", "autograd.numpy"),
    ("wengert.numpy.linalg", "numpy.linalg", "autograd.numpy.linalg"),
    ("wengert.numpy.fft", "numpy.fft", "autograd.numpy.fft"),
    ("wengert.scipy.special", "scipy.special", "autograd.scipy.special"),
    ("wengert.scipy.linalg", "scipy.linalg", "autograd.scipy.linalg"),
    ("wengert.scipy.signal", "scipy.signal", "autograd.scipy.signal"),
    ("wengert.scipy.stats", "scipy.stats", "autograd.scipy.stats"),
    ("wengert.scipy.integrate", "scipy.integrate", "autograd.scipy.integrate"),
)


@dataclass
class Row:
    """One function of a namespace and what wengert knows about its derivative."""

    namespace: str
    name: str
    kind: str  # "primitive", "composite", "no derivative"
    reverse: bool
    forward: bool
    tests: tuple[str, ...]
    in_autograd: bool | None


def _import(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _classify(obj) -> tuple[str, bool, bool]:
    if getattr(obj, "nondifferentiable", False):
        return "no derivative", False, False
    if isinstance(obj, Primitive):
        has_rev = bool(obj.vjp_all or any(obj.vjp_rules))
        has_fwd = bool(obj.jvp_all or any(obj.jvp_rules))
        return "primitive", has_rev, has_fwd
    # Python functions built from primitives get both rules from them.
    return "composite", True, True


# Names that other packages add to NumPy's namespace when imported (numexpr sets
# numpy.expm1x, an alias of expm1): not part of NumPy.
_ADDED_BY_OTHERS = frozenset({"expm1x"})


def _autograd_names(module_name: str, mirror: str) -> set[str] | None:
    """Names of the `mirror` namespace that autograd can differentiate, if installed.

    Only names that the mirrored NumPy/SciPy namespace has count (autograd's own helpers
    do not).
    """
    core = _import("autograd.core")
    module = _import(module_name)
    reference = _import(mirror)
    if core is None or module is None or reference is None:
        return None
    vjps = core.primitive_vjps
    names = set()
    for name in dir(module):
        obj = getattr(module, name)
        if name.startswith("_") or not callable(obj) or not hasattr(reference, name):
            continue
        if name in _ADDED_BY_OTHERS:
            continue
        try:
            if obj in vjps:
                names.add(name)
        except TypeError:
            continue
    if module_name == "autograd.scipy.stats":
        for sub in (
            "norm",
            "t",
            "gamma",
            "beta",
            "poisson",
            "chi2",
            "dirichlet",
            "multivariate_normal",
        ):
            dist = getattr(module, sub, None)
            for fn in dir(dist) if dist is not None else ():
                if fn in DISTRIBUTION_FUNCTIONS and getattr(dist, fn) in vjps:
                    names.add(f"{sub}.{fn}")
    return names


def _public_names(module: ModuleType) -> Iterator[tuple[str, object]]:
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    for name in sorted(names):
        obj = getattr(module, name, None)
        if callable(obj) and not isinstance(obj, type) and not isinstance(obj, ModuleType):
            yield name, obj
        elif obj is not None and not isinstance(obj, type) and _is_distribution(obj):
            for fn in DISTRIBUTION_FUNCTIONS:
                if callable(getattr(obj, fn, None)):
                    yield f"{name}.{fn}", getattr(obj, fn)


DISTRIBUTION_FUNCTIONS = (
    "logpdf",
    "pdf",
    "cdf",
    "logcdf",
    "sf",
    "logsf",
    "pmf",
    "logpmf",
    "ppf",
    "isf",
    "entropy",
    "mean",
    "var",
    "std",
    "median",
    "moment",
    "interval",
    "stats",
    "nnlf",
    "cov",
    "rvs",
    "fit",
)


def _is_distribution(obj) -> bool:
    return hasattr(obj, "logpdf") or hasattr(obj, "logpmf")


# --- the derivative tables of the test suite -------------------------------------------------
#
# A test module declares a derivative table as a module-level list of rows fed to a
# parametrised test that passes each row's function to check_grads:
#
#     CASES = []
#
#     def case(name, fun, *gens):
#         CASES.append((name, fun, gens))
#
#     for name, fun in [("sin", wnp.sin), ("cos", wnp.cos)]:
#         case(name, fun, real(3))
#
#     @pytest.mark.parametrize("name, fun, gens", CASES, ids=[f"{c[0]}-{i}" ...])
#     def test_rules(name, fun, gens):
#         wg.check_grads(fun, modes=("fwd", "rev"), order=2)(*[g() for g in gens])
#
# The tables are read from the source, without importing the tests: the module's top-level
# statements are followed (loops over literal sequences unrolled, helpers such as `case` run
# on their arguments), and each row yields its name and the wengert functions its `fun`
# calls, directly or through helper functions of the module.


@dataclass(frozen=True)
class TableRow:
    """One row of a derivative table: which test checks it, its name and what it calls."""

    test: str  # "tests/numpy/test_primitives.py::test_primitive_rules"
    test_id: str  # the row's pytest id, * standing for the parts that differ between rows
    name: str
    calls: frozenset[str]  # dotted names of the wengert functions that `fun` calls
    imports: frozenset[str]  # the coverage namespaces its test module imports
    line: int  # where the row's function is written
    late_bound: bool  # calls a loop variable's last value, not the one of its iteration

    @property
    def label(self) -> str:
        return f"{self.test}[{self.test_id}]"


@dataclass(frozen=True, eq=False)
class _Thunk:
    """An expression and the bindings it was met with (node None: not known statically)."""

    node: ast.AST | None
    env: dict


_UNKNOWN = _Thunk(None, {})


@dataclass
class _Table:
    test: str
    name_index: int
    fun_index: int
    ids: ast.AST | None


class _ModuleTables:
    """The derivative tables of one test module, read from its source."""

    def __init__(self, source: str, relpath: str):
        self.relpath = relpath
        self.tree = ast.parse(source)
        self.aliases: dict[str, str] = {}  # local name -> dotted wengert name
        self.functions: dict[str, ast.FunctionDef] = {}
        self.tables: dict[str, list[_Table]] = {}
        self.rows: list[tuple[_Table, str, _Thunk]] = []  # (the test, row name, fun)
        for stmt in self.tree.body:
            self._read_imports(stmt)
            if isinstance(stmt, ast.FunctionDef):
                self.functions[stmt.name] = stmt
                self._read_table_test(stmt)
        self.fills: set[str] = set()  # helper functions that add rows to a table
        self._function_calls: dict[tuple[str, bool], set[str]] = {}
        self.final_env: dict = {}
        if self.tables:
            self.fills = {
                name
                for name, fun in self.functions.items()
                if any(self._table_method(node) for node in ast.walk(fun))
            }
            self.final_env = self._run(self.tree.body, {}, depth=0)

    # --- declarations -------------------------------------------------------------------
    def _read_imports(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, (ast.If, ast.Try)):
            for inner in stmt.body:
                self._read_imports(inner)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.name.split(".")[0] == "wengert":
                    local = alias.asname or alias.name.split(".")[0]
                    self.aliases[local] = alias.name if alias.asname else local
        elif isinstance(stmt, ast.ImportFrom) and stmt.level == 0 and stmt.module:
            if stmt.module.split(".")[0] == "wengert":
                for alias in stmt.names:
                    self.aliases[alias.asname or alias.name] = f"{stmt.module}.{alias.name}"

    def _read_table_test(self, fun: ast.FunctionDef) -> None:
        """Record `fun` if it is a parametrised test passing a table's `fun` to check_grads."""
        if not fun.decorator_list or not any(
            isinstance(node, ast.Call)
            and (
                (isinstance(node.func, ast.Name) and node.func.id == "check_grads")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "check_grads")
            )
            for node in ast.walk(fun)
        ):
            return
        for decorator in fun.decorator_list:
            if not (
                isinstance(decorator, ast.Call)
                and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr == "parametrize"
                and len(decorator.args) >= 2
                and isinstance(decorator.args[0], ast.Constant)
                and isinstance(decorator.args[0].value, str)
                and isinstance(decorator.args[1], ast.Name)
            ):
                continue
            argnames = [a.strip() for a in decorator.args[0].value.split(",")]
            if "name" not in argnames or "fun" not in argnames:
                continue
            ids = next((k.value for k in decorator.keywords if k.arg == "ids"), None)
            table = _Table(
                f"{self.relpath}::{fun.name}", argnames.index("name"), argnames.index("fun"), ids
            )
            self.tables.setdefault(decorator.args[1].id, []).append(table)

    def _table_method(self, node: ast.AST) -> str | None:
        """The table that `node` appends to or extends, if it does."""
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("append", "extend")
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in self.tables
        ):
            return node.func.value.id
        return None

    # --- following the module's statements ----------------------------------------------
    def _run(self, stmts: list[ast.stmt], env: dict, depth: int) -> dict:
        for stmt in stmts:
            env = self._statement(stmt, env, depth)
        return env

    def _statement(self, stmt: ast.stmt, env: dict, depth: int) -> dict:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if stmt.value is None:
                return env
            for target in targets:
                if isinstance(target, ast.Name) and target.id in self.tables:
                    self._literal_rows(target.id, stmt.value, env)
                env = self._bind(target, _Thunk(stmt.value, env), env)
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
            if stmt.target.id in self.tables:
                self._literal_rows(stmt.target.id, stmt.value, env)
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            self._call(stmt.value, env, depth)
        elif isinstance(stmt, ast.For):
            elements = self._elements(_Thunk(stmt.iter, env))
            for element in elements if elements is not None else [_UNKNOWN]:
                env = self._run(stmt.body, self._bind(stmt.target, element, env), depth)
            env = self._run(stmt.orelse, env, depth)
        elif isinstance(stmt, ast.If):
            env = self._run(stmt.orelse, self._run(stmt.body, env, depth), depth)
        elif isinstance(stmt, (ast.With, ast.Try)):
            env = self._run(stmt.body, env, depth)
        elif isinstance(stmt, ast.FunctionDef) and depth:
            env = {**env, stmt.name: _UNKNOWN}
        return env

    def _call(self, call: ast.Call, env: dict, depth: int) -> None:
        table = self._table_method(call)
        if table is not None and call.args:
            (arg,) = call.args[:1]
            if call.func.attr == "append":
                self._row(table, arg, env)
            elif isinstance(arg, (ast.GeneratorExp, ast.ListComp)):
                local = dict(env)
                for generator in arg.generators:
                    local = self._bind(generator.target, _UNKNOWN, local)
                self._row(table, arg.elt, local)
            else:
                self._literal_rows(table, arg, env)
        elif isinstance(call.func, ast.Name) and call.func.id in self.fills and depth < 8:
            fun = self.functions[call.func.id]
            self._run(fun.body, self._parameters(fun.args, call, env), depth + 1)

    def _parameters(self, args: ast.arguments, call: ast.Call, env: dict) -> dict:
        """The bindings of a call of a helper: its parameters to the arguments given."""
        local = dict(env)
        positional = [*args.posonlyargs, *args.args]
        defaults = dict(zip([a.arg for a in positional[::-1]], args.defaults[::-1]))
        defaults.update(
            {a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None}
        )
        for name, value in defaults.items():
            local[name] = _Thunk(value, env)
        given = list(call.args)
        for i, param in enumerate(positional):
            if i < len(given) and not isinstance(given[i], ast.Starred):
                local[param.arg] = _Thunk(given[i], env)
            elif i < len(given):
                local[param.arg] = _UNKNOWN
        for extra in (args.vararg, args.kwarg):
            if extra is not None:
                local[extra.arg] = _UNKNOWN
        for keyword in call.keywords:
            if keyword.arg is not None:
                local[keyword.arg] = _Thunk(keyword.value, env)
        return local

    def _literal_rows(self, table: str, value: ast.AST, env: dict) -> None:
        if isinstance(value, (ast.List, ast.Tuple)):
            for element in value.elts:
                self._row(table, element, env)

    def _row(self, table: str, row: ast.AST, env: dict) -> None:
        if (
            isinstance(row, ast.Call)
            and isinstance(row.func, ast.Attribute)
            and row.func.attr == "param"
        ):
            values = row.args  # pytest.param(name, fun, ..., id=..., marks=...)
        else:
            values = row.elts if isinstance(row, ast.Tuple) else []
        for spec in self.tables[table]:
            if len(values) <= max(spec.name_index, spec.fun_index) or any(
                isinstance(v, ast.Starred) for v in values
            ):
                raise ValueError(
                    f"{self.relpath}:{row.lineno}: a row of {table} is not a tuple with its "
                    "name and function: wengert.coverage cannot read it"
                )
            name = self._string(_Thunk(values[spec.name_index], env))
            if name is None:
                raise ValueError(
                    f"{self.relpath}:{row.lineno}: the name of a row of {table} is not a string "
                    "that wengert.coverage can read (use a literal, or a loop over literals)"
                )
            self.rows.append((spec, name, _Thunk(values[spec.fun_index], env)))

    # --- values -------------------------------------------------------------------------
    @staticmethod
    def _resolve(thunk: _Thunk) -> _Thunk:
        """Follow names bound to other expressions."""
        for _ in range(100):
            node = thunk.node
            if not isinstance(node, ast.Name) or node.id not in thunk.env:
                break
            thunk = thunk.env[node.id]
        return thunk

    def _bind(self, target: ast.AST, value: _Thunk, env: dict) -> dict:
        if isinstance(target, ast.Name):
            return {**env, target.id: value}
        if isinstance(target, (ast.Tuple, ast.List)):
            value = self._resolve(value)
            node = value.node
            if (
                isinstance(node, (ast.Tuple, ast.List))
                and len(node.elts) == len(target.elts)
                and not any(isinstance(e, ast.Starred) for e in node.elts)
            ):
                for part, element in zip(target.elts, node.elts):
                    env = self._bind(part, _Thunk(element, value.env), env)
                return env
            for part in target.elts:
                env = self._bind(
                    part.value if isinstance(part, ast.Starred) else part, _UNKNOWN, env
                )
        return env

    def _elements(self, thunk: _Thunk) -> list[_Thunk] | None:
        """The elements of a literal sequence (or of range(...)), or None."""
        thunk = self._resolve(thunk)
        node = thunk.node
        if isinstance(node, (ast.List, ast.Tuple)):
            if any(isinstance(e, ast.Starred) for e in node.elts):
                return None
            return [_Thunk(e, thunk.env) for e in node.elts]
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "range"
            and all(isinstance(a, ast.Constant) and isinstance(a.value, int) for a in node.args)
        ):
            return [_Thunk(ast.Constant(i), {}) for i in range(*[a.value for a in node.args])]
        return None

    def _string(self, thunk: _Thunk) -> str | None:
        thunk = self._resolve(thunk)
        node = thunk.node
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):
            parts = []
            for part in node.values:
                if isinstance(part, ast.FormattedValue):
                    if part.format_spec is not None or part.conversion != -1:
                        return None
                    part = part.value
                text = self._string(_Thunk(part, thunk.env))
                if text is None:
                    return None
                parts.append(text)
            return "".join(parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self._string(_Thunk(node.left, thunk.env))
            right = self._string(_Thunk(node.right, thunk.env))
            return None if left is None or right is None else left + right
        return None

    def _path(self, thunk: _Thunk, local: frozenset) -> str | None:
        """The dotted wengert name an expression stands for, if it is one."""
        node = thunk.node
        if isinstance(node, ast.Name):
            if node.id in local:
                return None
            if node.id in thunk.env:
                bound = thunk.env[node.id]
                return None if bound.node is None else self._path(bound, frozenset())
            return self.aliases.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self._path(_Thunk(node.value, thunk.env), local)
            return None if base is None else f"{base}.{node.attr}"
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) == 2
        ):
            base = self._path(_Thunk(node.args[0], thunk.env), local)
            attr = self._string(_Thunk(node.args[1], thunk.env))
            return None if base is None or attr is None else f"{base}.{attr}"
        return None

    def calls(self, fun: _Thunk, as_written: bool = False) -> set[str]:
        """The dotted wengert names that a row's function calls (or refers to).

        Free names in a lambda's body are looked up when it runs, in the module's final
        bindings, as Python does; `as_written` looks them up where the lambda is written
        instead (the two differ for a lambda that uses a loop variable without binding it
        as a default argument, a slip that makes a row check the wrong function).
        """
        found: set[str] = set()
        self._calls(fun, frozenset(), found, set(), as_written)
        return found

    def _calls(
        self, thunk: _Thunk, local: frozenset, found: set, seen: set, as_written: bool = False
    ) -> None:
        node, env = thunk.node, thunk.env
        if node is None or id(node) in seen or len(seen) > 10_000:
            return
        path = self._path(thunk, local)
        if path is not None:
            found.add(path)
            return
        if isinstance(node, ast.Name):
            if node.id in local:
                return
            if node.id in env:
                seen.add(id(node))
                self._calls(env[node.id], frozenset(), found, seen, as_written)
            elif node.id in self.functions:
                key = (node.id, as_written)
                if key not in self._function_calls:
                    self._function_calls[key] = set()  # a recursive call adds nothing more
                    fun = self.functions[node.id]
                    names = {a.arg for a in ast.walk(fun.args) if isinstance(a, ast.arg)} | {
                        n.id
                        for n in ast.walk(fun)
                        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
                    }
                    inside: set[str] = set()
                    for stmt in fun.body:
                        self._calls(
                            _Thunk(stmt, self.final_env),
                            frozenset(names),
                            inside,
                            set(),
                            as_written,
                        )
                    self._function_calls[key] = inside
                found |= self._function_calls[key]
            return
        if isinstance(node, ast.Lambda):
            # Defaults are evaluated where the lambda is written, free names of the body
            # when it runs (unless as_written).
            positional = [*node.args.posonlyargs, *node.args.args]
            defaults = dict(zip([a.arg for a in positional[::-1]], node.args.defaults[::-1]))
            body_env = dict(env if as_written else self.final_env)
            for name, default in defaults.items():
                self._calls(_Thunk(default, env), local, found, seen, as_written)
                body_env[name] = _Thunk(default, env)
            params = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
            self._calls(
                _Thunk(node.body, body_env),
                frozenset(params - set(defaults)),
                found,
                seen,
                as_written,
            )
            return
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            local = local | {
                n.id for g in node.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)
            }
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            return
        for child in ast.iter_child_nodes(node):
            self._calls(_Thunk(child, env), local, found, seen, as_written)

    # --- results ------------------------------------------------------------------------
    def table_rows(self, namespaces: tuple[str, ...]) -> list[TableRow]:
        imports = frozenset(
            ns
            for target in self.aliases.values()
            for ns in namespaces
            if target == ns or target.startswith(ns + ".")
        )
        rows = []
        for spec, name, fun in self.rows:
            calls = frozenset(self.calls(fun))
            late_bound = calls != self.calls(fun, as_written=True)
            line = getattr(self._resolve(fun).node, "lineno", 0)
            rows.append(
                TableRow(spec.test, _row_id(spec, name), name, calls, imports, line, late_bound)
            )
        return rows


def _row_id(spec: _Table, name: str) -> str:
    """The pytest id of a row named `name`, with * for what changes from row to row."""
    ids = spec.ids
    if not isinstance(ids, ast.ListComp) or len(ids.generators) != 1:
        return f"{name}*"
    generator = ids.generators[0]
    target, iterable = generator.target, generator.iter
    row_vars: dict[str, int | None] = {}  # variable -> element of the row (None: the row)
    if (
        isinstance(iterable, ast.Call)
        and isinstance(iterable.func, ast.Name)
        and iterable.func.id == "enumerate"
        and isinstance(target, ast.Tuple)
        and len(target.elts) == 2
    ):
        target = target.elts[1]
    if isinstance(target, ast.Name):
        row_vars[target.id] = None
    elif isinstance(target, ast.Tuple):
        for i, element in enumerate(target.elts):
            if isinstance(element, ast.Name):
                row_vars[element.id] = i

    def is_name(node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return row_vars.get(node.id, -1) == spec.name_index
        return (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and node.value.id in row_vars
            and row_vars[node.value.id] is None
            and isinstance(node.slice, ast.Constant)
            and node.slice.value == spec.name_index
        )

    if is_name(ids.elt):
        return name
    if isinstance(ids.elt, ast.JoinedStr):
        parts = []
        for part in ids.elt.values:
            if isinstance(part, ast.Constant):
                parts.append(str(part.value))
            else:
                parts.append(name if is_name(part.value) else "*")
        return "".join(parts)
    return f"{name}*"


def derivative_tables(tests_dir: Path, namespaces: tuple[str, ...]) -> list[TableRow]:
    """The rows of every derivative table in the test modules under `tests_dir`."""
    rows = []
    for path in sorted(tests_dir.rglob("test_*.py")):
        source = path.read_text()
        if "check_grads" in source:
            relpath = path.relative_to(tests_dir.parent).as_posix()
            rows += _ModuleTables(source, relpath).table_rows(namespaces)
    return rows


def _resolve(path: str) -> object | None:
    """The object a dotted name stands for (importing the longest module prefix), or None."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        module = _import(".".join(parts[:i]))
        if module is None:
            continue
        obj: object = module
        for attr in parts[i:]:
            obj = getattr(obj, attr, None)
            if obj is None:
                return None
        return obj
    return None


def _tests_dir(tests_dir: Path | None) -> Path | None:
    """The test directory of the source checkout this module runs from (or of the cwd)."""
    if tests_dir is not None:
        return tests_dir if tests_dir.is_dir() else None
    for guess in (Path(__file__).resolve().parents[2] / "tests", Path.cwd() / "tests"):
        if guess.is_dir():
            return guess
    return None


def collect(tests_dir: Path | None = None) -> list[Row]:
    """The rows of the table for every namespace that imports here."""
    tests_dir = _tests_dir(tests_dir)
    available = tuple(ns for ns, _, _ in NAMESPACES if _import(ns) is not None)
    table = derivative_tables(tests_dir, available) if tests_dir is not None else []

    def namespace_of(path: str) -> str | None:
        inside = [ns for ns in available if path == ns or path.startswith(ns + ".")]
        return max(inside, key=len) if inside else None

    # Rows by the objects their functions call, and by (namespace, row name).
    called_by: dict[int, list[TableRow]] = {}
    named: dict[tuple[str, str], list[TableRow]] = {}
    resolved = {path: _resolve(path) for path in {p for row in table for p in row.calls}}
    for row in table:
        for path in row.calls:
            obj = resolved[path]
            if obj is not None:
                called_by.setdefault(id(obj), []).append(row)
        spaces = {namespace_of(path) for path in row.calls} - {None} or row.imports
        for ns in spaces:
            named.setdefault((ns, row.name), []).append(row)

    rows = []
    for ns, mirror, ag_ns in NAMESPACES:
        if ns not in available:
            continue
        module = _import(ns)
        ag = _autograd_names(ag_ns, mirror)
        entries = list(_public_names(module))
        # Aliases (the same function under two names) share their tests.
        names_of: dict[int, list[str]] = {}
        for name, obj in entries:
            names_of.setdefault(id(obj), []).append(name)
        for name, obj in entries:
            kind, rev, fwd = _classify(obj)
            keys = set(names_of[id(obj)])
            if isinstance(obj, Primitive):
                keys.add(obj.name)
            checks = [r for key in sorted(keys) for r in named.get((ns, key), [])]
            if not checks:
                checks = called_by.get(id(obj), [])
            tests = tuple(sorted({r.label for r in checks}))
            rows.append(Row(ns, name, kind, rev, fwd, tests, None if ag is None else name in ag))
    return rows


# Modules whose primitives the primitive table lists (those that import here).
PRIMITIVE_MODULES = (
    "wengert._core.vspace",
    "wengert._core.reverse",
    "wengert._core.define",
    "wengert.numpy.elementwise",
    "wengert.numpy.reductions",
    "wengert.numpy.shaping",
    "wengert.numpy.indexing",
    "wengert.numpy.contractions",
    "wengert.numpy.cumulative",
    "wengert.numpy.sorting",
    "wengert.numpy.selection",
    "wengert.numpy.padding",
    "wengert.numpy.manipulation",
    "wengert.numpy.statistics",
    "wengert.numpy.signal",
    "wengert.numpy.linalg",
    "wengert.numpy.fft",
    "wengert.numpy._softmax",
    "wengert.nn.functional",
    "wengert.scipy.special",
    "wengert.scipy.linalg",
    "wengert.scipy.signal",
    "wengert.scipy.stats._special",
    "wengert.scipy.integrate",
)


@dataclass
class PrimitiveRow:
    """One registered primitive and the rules it carries, transformation by transformation."""

    module: str
    name: str
    reverse: bool
    forward: bool
    batching: str  # "rule", "elementwise" or "loop" (the generic fallback)
    pattern: str  # "rule", "elementwise" or "dense" (the conservative fallback)
    source: bool  # whether Program.source can write it (a source form, or a NumPy function)
    algebra: str  # how formulas keep it: "sum", "product", "power", "rewrite" or "-"


def primitives() -> list[PrimitiveRow]:
    """Every differentiable primitive of wengert's modules, with the rules it carries."""
    from ._core.batching import is_elementwise

    seen: set[int] = set()
    rows = []
    for module_name in PRIMITIVE_MODULES:
        module = _import(module_name)
        if module is None:
            continue
        for obj in vars(module).values():
            if (
                not isinstance(obj, Primitive)
                or getattr(obj, "nondifferentiable", False)
                or id(obj) in seen
            ):
                continue
            seen.add(id(obj))
            _, rev, fwd = _classify(obj)
            elementwise = is_elementwise(obj)
            batching = "rule" if obj.batch_rule else "elementwise" if elementwise else "loop"
            pattern = "rule" if obj.pattern_rule else "elementwise" if elementwise else "dense"
            rows.append(
                PrimitiveRow(
                    module_name,
                    obj.name,
                    rev,
                    fwd,
                    batching,
                    pattern,
                    _writable(obj),
                    obj.algebra[0] if obj.algebra else "-",
                )
            )
    return sorted(rows, key=lambda r: (r.module, r.name))


def _writable(primitive: Primitive) -> bool:
    from .errors import MissingRuleError
    from .program.codegen import _form_of

    try:
        _form_of(primitive)
    except MissingRuleError:
        return False
    return True


def missing_from_autograd(rows: list[Row]) -> list[str]:
    """Functions HIPS autograd differentiates that wengert does not (needs autograd)."""
    have = {(r.namespace, r.name) for r in rows if r.reverse and r.forward}
    missing = []
    for ns, mirror, ag_ns in NAMESPACES:
        ag = _autograd_names(ag_ns, mirror)
        if ag is None or _import(ns) is None:
            continue
        missing += [
            f"{ns}.{n}" for n in sorted(ag) if (ns, n) not in have and not n.startswith("_")
        ]
    return missing


PAGE_HEADER = """# Coverage

Every function of `wengert.numpy` (with its `linalg` and `fft`) and of `wengert.scipy`: its
kind, whether it has a reverse and a forward rule, the tests that check its derivatives, and
whether HIPS autograd differentiates it. Generated from the code and the tests by
`python -m wengert.coverage --markdown > docs/coverage.md`; `tests/test_coverage.py` fails
when this page is out of date.

The **tests** column names the rows of the derivative tables that the tests feed to
`wengert.check_grads` (both modes, against numerical derivatives) as `file::test[row id]`,
where `*` stands for the row's number. A row checks a function when it is named after the
function (or after its primitive) or, for a function that no row is named after, when the
row's function calls it. A test that merely mentions a function does not count.

The second table lists every primitive and the rules it carries for each transformation:
reverse (VJP) and forward (JVP) rules, how it maps over a batch under `vmap` and the
Jacobians (its own rule; elementwise, by lining up the batch axes; or the generic loop over
the members, correct but slower), and its dependency pattern for sparse Jacobians (its own
rule; elementwise; or dense, correct but less sparse), and whether `Program.source` can
write it as NumPy code (all but `select`, the reverse-mode graph's node for one result of
a primitive with several, which no recorded program contains). `tests/core/test_vmap.py`
checks every row of the derivative tables under `vmap` against a loop;
`tests/program/test_every_primitive.py` records and compiles each of them
(`wg.make_program`, `wg.jit`). The **algebra** column says how a symbolic expression keeps
the primitive (`Primitive.defalgebra`): as a canonical sum or product (like terms and powers
collect), a power, or rewritten with other primitives; `tests/symbolic/test_every_primitive.py`
differentiates every row of the derivative tables as formulas.
"""


def render(rows: list[Row], markdown: bool = False) -> str:
    """The table as text (as the docs page with `markdown`), with counts at the end."""
    yes = lambda b: "yes" if b else "-"
    lines = []
    header = ("function", "kind", "reverse", "forward", "tests", "HIPS autograd")
    if markdown:
        lines += [PAGE_HEADER, "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    else:
        lines.append(
            f"{header[0]:44} {header[1]:14} {header[2]:8} {header[3]:8} {header[5]:14} tests"
        )
    for r in rows:
        ag = "?" if r.in_autograd is None else yes(r.in_autograd)
        full = f"{r.namespace}.{r.name}"
        if markdown:
            tests = ", ".join(f"`{t}`" for t in r.tests) or "-"
            lines.append(
                f"| `{full}` | {r.kind} | {yes(r.reverse)} | {yes(r.forward)} | {tests} | {ag} |"
            )
        else:
            tests = ", ".join(r.tests) or "-"
            lines.append(
                f"{full:44} {r.kind:14} {yes(r.reverse):8} {yes(r.forward):8} {ag:14} {tests}"
            )
    diff = [r for r in rows if r.kind != "no derivative"]
    both = [r for r in diff if r.reverse and r.forward]
    untested = [f"{r.namespace}.{r.name}" for r in diff if not r.tests]
    lines += [
        "",
        f"{len(rows)} functions: {len(diff)} differentiable ({len(both)} with both rules, "
        f"{len(diff) - len(untested)} checked by a derivative table), "
        f"{len(rows) - len(diff)} passed through without derivative.",
    ]
    if untested:
        lines.append(f"differentiable but checked by no table row: {', '.join(untested)}")
    prims = primitives()
    if markdown:
        header = (
            "primitive",
            "module",
            "reverse",
            "forward",
            "batching",
            "sparsity",
            "source",
            "algebra",
        )
        lines += ["", "## Primitives", "", "| " + " | ".join(header) + " |"]
        lines.append("|" + " --- |" * len(header))
        for p in prims:
            lines.append(
                f"| `{p.name}` | `{p.module}` | {yes(p.reverse)} | {yes(p.forward)} | "
                f"{p.batching} | {p.pattern} | {yes(p.source)} | {p.algebra} |"
            )
        lines.append("")
    looped = [p.name for p in prims if p.batching == "loop"]
    dense = [p.name for p in prims if p.pattern == "dense"]
    lines.append(
        f"{len(prims)} primitives: {sum(p.reverse and p.forward for p in prims)} with both "
        f"rules; batching by their own rule {sum(p.batching == 'rule' for p in prims)}, "
        f"elementwise {sum(p.batching == 'elementwise' for p in prims)}, by the loop "
        f"fallback {len(looped)} ({', '.join(looped) or 'none'}); dependency pattern dense for "
        f"{len(dense)}; written as NumPy source (Program.source) "
        f"{sum(p.source for p in prims)}."
    )
    missing = missing_from_autograd(rows)
    if any(r.in_autograd is not None for r in rows):
        covered = sum(1 for r in rows if r.in_autograd and r.reverse and r.forward)
        constant = [f"{r.namespace}.{r.name}" for r in rows if r.in_autograd and not r.reverse]
        missing = [m for m in missing if m not in constant]
        lines.append(
            f"HIPS autograd differentiates {covered + len(constant) + len(missing)} of these "
            f"names; wengert covers {covered} of them with both rules and passes "
            f"{len(constant)} through as piecewise constant (derivative 0: "
            f"{', '.join(constant) or 'none'}); missing: {', '.join(missing) or 'none'}."
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the coverage table."""
    parser = argparse.ArgumentParser(prog="python -m wengert.coverage", description=__doc__)
    parser.add_argument("--markdown", action="store_true", help="print the docs page")
    parser.add_argument(
        "--tests", type=Path, metavar="DIR", help="the test directory (default: the checkout's)"
    )
    args = parser.parse_args(argv)
    if _tests_dir(args.tests) is None:
        parser.error(
            "no test directory found: run from a source checkout of wengert, or pass --tests DIR"
        )
    print(render(collect(args.tests), markdown=args.markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
