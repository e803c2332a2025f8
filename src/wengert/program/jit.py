"""`wg.jit`: record a function once per input signature and run the compiled program.

The signature of a call is the structure of its arguments, the shape and dtype (and
Python type, for Python numbers) of each numeric leaf, and the value of every static
argument (those named by ``static_argnums``/``static_argnames``, and any leaf that is not a
number: a string, None, a callable). For each signature jit keeps the programs it has
recorded; a call runs the newest whose guards hold (the decisions Python took from traced
values when it was recorded) and records a new one when none does. A function that keeps
re-recording (more than ``max_programs`` paths for one signature) warns, naming the line
whose decision keeps changing, and from then on runs uncompiled.

Under an outer transformation (``grad(jit(f))``), the traced arguments flow through the
recorded program's primitives, so the outer transformation differentiates the program
rather than the Python function; a function that closes over values of that outer
transformation is run as it is.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._core.box import Box, peek
from .._core.recording import ClosedOverTracerError, GuardFailure
from .._core.tree import _dict_keys, tree_flatten, tree_unflatten
from .._core.vspace import is_foreign_array
from .call import ProgramCall
from .program import Program, is_numeric_leaf, record
from .runner import compile_program

__all__ = ["RetracingWarning", "jit"]


class RetracingWarning(UserWarning):
    """A jitted function records new programs for one signature again and again."""


class _Compiled:
    __slots__ = ("_call", "finish", "program", "run")

    def __init__(self, program: Program, run: Callable):
        self.program = program
        self.run = run
        self._call = None
        # The outputs' tree from the output leaves (a lone leaf without rebuilding).
        self.finish = _finisher(program.out_tree)

    def call(self, values: list) -> list:
        """The program on traced values: one primitive with jitted derivative rules."""
        if self._call is None:
            self._call = ProgramCall(self.program, self.run, jit)
        return list(self._call(*values))


class Jitted:
    """A function compiled per input signature (see the module docstring)."""

    def __init__(
        self,
        fun: Callable,
        static_argnums: Sequence[int] = (),
        static_argnames: Sequence[str] = (),
        simplify: bool = True,
        backend: str = "numpy",
        max_programs: int = 8,
    ):
        if backend not in ("numpy", "numexpr", "numba"):
            raise ValueError(f"jit backend must be 'numpy', 'numexpr' or 'numba', not {backend!r}.")
        self.fun = fun
        self.static_argnums = tuple(sorted({int(i) for i in _as_tuple(static_argnums)}))
        self.static_argnames = frozenset(_as_tuple(static_argnames))
        self.simplify = simplify
        self.backend = backend
        self.max_programs = max_programs
        self._cache: dict[Any, list[_Compiled]] = {}
        self._eager: set = set()  # signatures that run uncompiled
        # Arrays its programs keep between calls (runner.compile_program), shared by all of
        # them, so that many signatures do not keep many workspaces.
        self._workspaces: list = []
        functools.update_wrapper(self, fun, updated=())  # (not its __dict__: our fields)

    def __repr__(self) -> str:
        return f"<wengert.jit of {getattr(self.fun, '__name__', self.fun)!r}>"

    def __get__(self, obj, objtype=None):  # jit on methods binds like a function
        return self if obj is None else functools.partial(self, obj)

    # --- signatures -----------------------------------------------------------------------
    def _split(self, args: tuple, kwargs: dict):
        """(dynamic args with None at static positions, dynamic kwargs, static key)."""
        n = len(args)
        static_pos = []
        for i in self.static_argnums:
            j = i + n if i < 0 else i
            if not 0 <= j < n:
                raise ValueError(
                    f"static_argnums names argument {i}, but {self.__name__} was called with "
                    f"{n} positional arguments."
                )
            static_pos.append(j)
        statics = tuple((j, _hashable(args[j], f"static argument {j}")) for j in static_pos)
        static_kw = tuple(
            sorted(
                (k, _hashable(v, f"static argument {k!r}"))
                for k, v in kwargs.items()
                if k in self.static_argnames
            )
        )
        return statics, static_kw

    def signature(self, args: tuple, kwargs: dict) -> tuple:
        """The cache key of a call (structure, avals, static values), the dynamic
        arguments (None at static positions) and the numeric leaves among them."""
        statics, static_kw = self._split(args, kwargs)
        if statics:
            static_pos = {j for j, _ in statics}
            args = tuple(None if j in static_pos else a for j, a in enumerate(args))
        if static_kw:
            kwargs = {k: v for k, v in kwargs.items() if k not in self.static_argnames}
        leaves, tree = tree_flatten((args, kwargs))
        avals, values = [], []
        for i, leaf in enumerate(leaves):
            if type(leaf) is not np.ndarray and is_foreign_array(peek(leaf)):
                avals.append(_FOREIGN)  # Dask, CuPy: the function runs as it is
                values.append(leaf)
            elif is_numeric_leaf(leaf):
                value = peek(leaf)
                t = type(value)
                python = t if t in (float, int, complex, bool) else None
                avals.append((python, np.shape(value), np.result_type(value)))
                values.append(leaf)
            else:
                avals.append(("static", _hashable(leaf, f"argument leaf {i}")))
        return (tree, tuple(avals), statics, static_kw), args, kwargs, values

    # --- calls ----------------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not kwargs and not self.static_argnums:
            found = _fast_key(args)
            fast, leaves = found if found is not None else (None, None)
            entries = self._cache.get(fast) if fast is not None else None
            if entries:  # the hot path: arrays and numbers in containers, a program cached
                for k in range(len(entries) - 1, -1, -1):
                    entry = entries[k]
                    try:
                        outs = entry.run(*leaves)
                    except GuardFailure:
                        continue
                    return entry.finish(outs)
        else:
            fast = None
        key, dyn_args, dyn_kwargs, values = self.signature(args, kwargs)
        if fast is not None and key not in self._eager:
            self._cache[fast] = self._cache.setdefault(key, [])
        if key in self._eager or _FOREIGN in key[1]:
            return self.fun(*args, **kwargs)
        traced = any(isinstance(x, Box) for x in values)
        if traced and not all(_members(x) for x in values):
            # A batch of values (under vmap): no one example to record; run f as it is.
            return self.fun(*args, **kwargs)
        entries = self._cache.get(key)
        if entries:
            result = self._run(entries, values, traced)
            if result is not _MISS:
                return result
        return self._record(key, args, kwargs, dyn_args, dyn_kwargs, values, traced)

    def _run(self, entries: list[_Compiled], values: list, traced: bool) -> Any:
        for k in range(len(entries) - 1, -1, -1):
            entry = entries[k]
            try:
                outs = entry.call(values) if traced else entry.run(*values)
            except GuardFailure:
                continue
            return entry.finish(outs)
        return _MISS

    def _record(self, key, args, kwargs, dyn_args, dyn_kwargs, values, traced) -> Any:
        statics = dict(key[2])
        static_kw = dict(key[3])

        def dynamic(*a, **kw):
            full = [statics[j] if j in statics else x for j, x in enumerate(a)]
            return self.fun(*full, **kw, **static_kw)

        try:
            program = record(dynamic, dyn_args, dyn_kwargs)
        except ClosedOverTracerError:
            # The function closes over values of an outer transformation, which differ
            # from call to call: run it as it is.
            return self.fun(*args, **kwargs)
        program.fun_name = getattr(self.fun, "__name__", "f")
        if self.simplify:
            program = _simplified(program)
        if self.backend != "numpy":
            from .fuse import fuse

            program = fuse(program, backend=self.backend)
        entries = self._cache.setdefault(key, [])
        run = compile_program(program, _buffers(program), workspaces=self._workspaces)
        if self.backend == "numba":
            from .fuse_numba import compile_scalars, scalar_program

            if scalar_program(program):  # one machine-code function for all of it
                run = compile_scalars(run)
        entries.append(_Compiled(program, run))
        if len(entries) > self.max_programs:
            guards = [g for e in entries for g in e.program.guards]
            line = guards[-1].line if guards else None
            warnings.warn(
                f"jit of {program.fun_name} has recorded {len(entries)} programs for one "
                f"input signature: Python decides its path from traced values"
                f"{' at ' + line if line else ''}. It now runs uncompiled for this "
                "signature; make that value static (static_argnums) or use "
                "wg.numpy.where instead of if.",
                RetracingWarning,
                stacklevel=3,
            )
            self._eager.add(key)
            del self._cache[key]
            return self.fun(*args, **kwargs)
        outs = self._run([entries[-1]], values, traced)
        if outs is _MISS:  # the program does not hold for the inputs it was recorded on
            raise RuntimeError(
                f"jit of {program.fun_name}: the recorded program's guards fail on the inputs "
                "it was recorded with (the function is not deterministic?)."
            )
        return outs

    def programs(self) -> list[Program]:
        """The programs recorded so far, oldest first."""
        return [
            e.program
            for key, entries in self._cache.items()
            if key[0] != "fast"  # (the fast keys share the lists of the full ones)
            for e in entries
        ]

    def program(self, *args: Any, **kwargs: Any) -> Program:
        """The program that a call with these arguments runs (recording it if needed)."""
        self(*args, **kwargs)
        key = self.signature(args, kwargs)[0]
        entries = self._cache.get(key)
        if not entries:
            raise RuntimeError(f"{self.__name__} runs uncompiled for these arguments.")
        return entries[-1].program


_MISS = object()
# The aval of an array of another library (Dask, CuPy). A program runs on NumPy arrays
# (it writes into buffers with out=), so a call with one runs the function uncompiled:
# Dask builds and optimises its own task graph, CuPy launches its own kernels.
_FOREIGN = ("foreign",)
_FAST_SCALARS = frozenset(
    {float, int, complex, np.float64, np.float32, np.complex128, np.complex64}
)
# The dtypes of arrays the fast path takes (numbers, in native byte order); the others take
# the full signature.
_FAST_DTYPES = frozenset(np.dtype(c) for c in "?bhilqpBHILQPefdgFDG")


def _fast_key(args: tuple) -> tuple | None:
    """A cache key for arguments that are NumPy arrays and numbers, possibly in tuples,
    lists and dicts (None otherwise), and their leaves in the order the program takes.
    (The hot path of every call: one flat list, no generator or tuple per leaf.)"""
    key: list = ["fast"]
    leaves: list = []
    if not _fast_into(args, key, leaves):
        return None
    return tuple(key), leaves


def _fast_into(items: Any, key: list, leaves: list) -> bool:
    """Add a tuple's or list's items to `key` and `leaves`; False for anything else."""
    for x in items:
        t = type(x)
        if t is np.ndarray:
            dtype = x.dtype
            if dtype not in _FAST_DTYPES:
                return False
            key.append(x.shape)
            key.append(dtype)
            leaves.append(x)
        elif t in _FAST_SCALARS:
            key.append(t)
            leaves.append(x)
        elif t is tuple or t is list:
            key.append((t, len(x)))
            if not _fast_into(x, key, leaves):
                return False
        elif t is dict:
            keys = _dict_keys(x)
            key.append((dict, keys))
            if not _fast_into([x[k] for k in keys], key, leaves):
                return False
        else:
            return False
    return True


def _finisher(tree) -> Callable[[list], Any]:
    """The function that puts the output leaves into the outputs' tree: generated for
    trees of tuples, lists and None (the hot path), `tree_unflatten` for the others."""
    if tree.kind == "leaf":
        return _first
    count = 0

    def source(d) -> str | None:
        nonlocal count
        if d.kind == "leaf":
            count += 1
            return f"o[{count - 1}]"
        if d.kind == "none":
            return "None"
        if d.kind not in ("tuple", "list"):
            return None
        parts = [source(c) for c in d.children]
        if None in parts:
            return None
        if d.kind == "list":
            return f"[{', '.join(parts)}]"
        return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"

    text = source(tree)
    if text is None:
        return functools.partial(tree_unflatten, tree)
    namespace: dict = {}
    exec(compile(f"def finish(o):\n    return {text}\n", "<wengert outputs>", "exec"), namespace)
    return namespace["finish"]


def _first(leaves: list) -> Any:
    return leaves[0]


def _members(x: Any) -> bool:
    """Whether every box around `x` holds one value of the program (not a batch)."""
    while isinstance(x, Box):
        if not x.holds_member:
            return False
        x = x.value
    return True


def _simplified(program: Program) -> Program:
    from .passes import simplify

    return simplify(program)


def _buffers(program: Program) -> dict:
    """Which equations write into a dead argument's array (see passes.buffer_plan)."""
    from .passes import buffer_plan

    return buffer_plan(program)


def _as_tuple(x: Any) -> tuple:
    if x is None:
        return ()
    if isinstance(x, (int, str)):
        return (x,)
    return tuple(x)


def _hashable(value: Any, what: str) -> Any:
    try:
        hash(value)
    except TypeError:
        raise TypeError(
            f"jit: {what} is static (not a number or numeric array) and must be hashable to "
            f"key the cache, but it is an unhashable {type(value).__name__}. Pass a tuple "
            "instead of a list, or a NumPy array to make it a traced input."
        ) from None
    return value


def jit(
    fun: Callable | None = None,
    *,
    static_argnums: int | Sequence[int] = (),
    static_argnames: str | Sequence[str] = (),
    simplify: bool = True,
    backend: str = "numpy",
    max_programs: int = 8,
) -> Any:
    """Compile `fun`: record it once per input signature and run the program without tracing.

    ``static_argnums``/``static_argnames`` name arguments whose values (hashable) key the
    cache instead of being traced. ``backend="numexpr"`` fuses chains of elementwise
    operations into numexpr expressions (optional extra ``wengert[fast]``);
    ``backend="numba"`` compiles each such chain into one numba ufunc (optional extra
    ``wengert[numba]``; about 0.1 s of compilation per new chain at the first call).
    Usable as ``@wg.jit`` or ``@wg.jit(static_argnums=1)``. See docs/compile.md for the contract.
    """
    if fun is None:
        return lambda f: jit(
            f,
            static_argnums=static_argnums,
            static_argnames=static_argnames,
            simplify=simplify,
            backend=backend,
            max_programs=max_programs,
        )
    if not callable(fun):
        raise TypeError(f"jit needs a function, not {type(fun).__name__}.")
    return Jitted(fun, static_argnums, static_argnames, simplify, backend, max_programs)
