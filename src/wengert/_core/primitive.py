"""Primitives: a function plus its derivative rules, and `bind`, which traces it.

A primitive's reverse rule for argument i is ``vjp(g, ans, *args, **kwargs)`` giving
the cotangent of argument i from the output cotangent ``g``; its forward rule is either
one ``jvp(t, ans, *args, **kwargs)`` per argument (the contributions are summed) or one
rule for all tangents at once, ``jvp_all(tangents, ans, *args, **kwargs)`` with ``None``
for an argument that carries no tangent (the symbolic zero). Rules receive the values
under this trace's boxes, which may still be boxes of outer traces, and are written with
wengert's own functions, so their derivatives can be taken in turn.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import EscapedTracerError, MissingRuleError
from . import box as _box_module
from .box import Box


class Primitive:
    """A function whose derivative rules wengert knows; calling it traces it."""

    # A function that computes the primitive from other primitives, for a recording to
    # write down instead of the primitive itself (a compiled program called by jit).
    inline: Callable | None = None

    def __init__(
        self,
        fun: Callable,
        name: str | None = None,
        broadcasts: bool = False,
        multiple_results: bool = False,
        elementwise: bool = False,
    ):
        self.fun = fun
        self.name = name or getattr(fun, "__name__", repr(fun))
        self.vjp_rules: tuple[Callable | None, ...] = ()
        self.jvp_rules: tuple[Callable | None, ...] = ()
        self.jvp_all: Callable | None = None
        self.vjp_all: Callable | None = None
        # Optional in-place form of the reverse rule for argument 0, used in first-order
        # passes: vjp_into(buffer, g, ans, *args, **kwargs) adds the cotangent into an
        # engine-owned buffer, instead of allocating a full-size one (indexing).
        self.vjp_into: Callable | None = None
        # Broadcasting primitives get cotangents summed back to each input's shape, and
        # tangents broadcast to the output's shape, centrally (see vspace).
        self.broadcasts = broadcasts
        # A primitive with multiple results returns a tuple; its reverse rules receive a
        # tuple of output cotangents and its forward rule returns a tuple of tangents
        # (None where zero).
        self.multiple_results = multiple_results
        # Elementwise primitives (each result entry from the entries at the same position
        # of the broadcast arguments) batch by lining up the batch axes and have a diagonal
        # dependency pattern: they need no rules of their own for vmap or sparsity.
        self.elementwise = elementwise
        # batch_rule(batched, *args, **kwargs): the result with the batch on axis 0, where
        # batched[i] says whether argument i carries the batch on its axis 0 (vmap).
        self.batch_rule: Callable | None = None
        # pattern_rule(args, kwargs, traced, ans, n): which input entries each result
        # entry depends on, as boolean sparse rows (sparse Jacobians).
        self.pattern_rule: Callable | None = None
        # source: how generated Python source computes the primitive (Program.source), for
        # one whose implementation is not itself a public NumPy function (see defsource).
        self.source: Any = None
        self.source_rewrite: Callable | None = None
        # algebra: ("sum", weights) or ("product", exponents) for the arithmetic that
        # symbolic expressions keep in canonical form (like terms and powers collect), or
        # ("power", None) for x ** y with a numeric y, or ("rewrite", fn): the primitive
        # written with others, valid under a stated assumption (see defalgebra).
        self.algebra: tuple | None = None
        functools.update_wrapper(self, fun, updated=())
        self.__name__ = self.name
        self.__qualname__ = self.name

    def __repr__(self) -> str:
        return f"<wengert primitive {self.name}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for arg in args:
            if isinstance(arg, Box):
                return bind(self, args, kwargs)
        try:
            return self.fun(*args, **kwargs)
        except LIBRARY_ERRORS as exc:
            error = library_error(self, args, kwargs, exc)
            if error is None:
                raise
            raise error from exc

    # --- rule registration ----------------------------------------------------------
    def defvjp(self, *rules: Callable | None, argnums: tuple[int, ...] | None = None) -> Primitive:
        """Register reverse rules, one per argument (``None`` marks no derivative)."""
        self.vjp_rules = _rule_table(self.vjp_rules, rules, argnums)
        return self

    def defjvp(self, *rules: Callable | None, argnums: tuple[int, ...] | None = None) -> Primitive:
        """Register forward rules, one per argument; their contributions are summed."""
        self.jvp_rules = _rule_table(self.jvp_rules, rules, argnums)
        self.jvp_all = None
        return self

    def defvjp_all(self, rule: Callable) -> Primitive:
        """Register one reverse rule for all arguments at once.

        ``rule(g, ans, argnums, *args, **kwargs)`` returns one cotangent per entry of
        ``argnums``; use it when the cotangents share work.
        """
        self.vjp_all = rule
        return self

    def defjvp_all(self, rule: Callable) -> Primitive:
        """Register one forward rule taking all tangents (``None`` where zero)."""
        self.jvp_all = rule
        return self

    def defbatch(self, rule: Callable) -> Primitive:
        """Register how the primitive maps over a batch: ``rule(batched, *args, **kwargs)``.

        ``batched[i]`` says whether argument i carries the batch on its axis 0; the rule
        returns the result with the batch on axis 0 (a tuple of such for several results),
        written with wengert functions so that it can be differentiated in turn.
        """
        self.batch_rule = rule
        return self

    def defpattern(self, rule: Callable) -> Primitive:
        """Register the dependency pattern: ``rule(args, kwargs, traced, ans, n)`` gives,
        for each entry of the result, the entries of the n inputs it depends on (boolean
        sparse rows), from the patterns `traced` of the traced arguments by position."""
        self.pattern_rule = rule
        return self

    def defsource(self, form: Any = None, rewrite: Callable | None = None) -> Primitive:
        """Register how generated source (``Program.source``) computes the primitive.

        `form`, called with the primitive's own arguments, must compute exactly what the
        implementation computes: a public NumPy or SciPy function (written as a call to
        it), a function defined at the top level of a module whose code uses only NumPy,
        SciPy, builtins and other such functions (copied into the source as a helper), or
        a ``functools.partial`` of either.

        `rewrite`, if given, is called instead while the source is written, with the
        equation's arguments (variables stand in as placeholders), and returns
        ``(form, args, kwargs)``: how to write this application (``operator.getitem`` is
        written as an index; a form None with one argument is that argument itself).
        """
        self.source = form
        self.source_rewrite = rewrite
        return self

    def defalgebra(self, kind: str, weights: Any = None) -> Primitive:
        """Declare the primitive a sum ``sum(w_i * x_i)`` (`kind` "sum") or a product
        ``prod(x_i ** w_i)`` (`kind` "product") of its arguments with the numbers
        `weights`, or a power ``x ** y`` ("power"), so that symbolic expressions collect
        like terms and powers through it; or ("rewrite", fn) the same value written with
        other primitives, which a formula shows instead (the cofactor matrix as
        ``det(a) inv(a).T``), with the assumption it needs said in its docstring."""
        if kind not in ("sum", "product", "power", "rewrite"):
            raise ValueError(
                f"algebra kind must be 'sum', 'product', 'power' or 'rewrite', not {kind!r}"
            )
        self.algebra = (kind, weights)
        return self

    # --- applying the rules (called by the engine) ----------------------------------
    def vjp(self, argnum: int, g: Any, ans: Any, args: tuple, kwargs: dict) -> Any:
        rules = self.vjp_rules
        rule = rules[argnum] if argnum < len(rules) else None
        if rule is None:
            raise MissingRuleError(
                f"primitive {self.name} has no reverse (VJP) rule for argument {argnum}. "
                "Define one with .defvjp(...), or use wengert.stop_gradient on that "
                "argument if no derivative is needed through it."
            )
        try:
            return rule(g, ans, *args, **kwargs)
        except PYTHON_ARITHMETIC_ERRORS:
            return rule(*as_numpy_scalars((g, ans, *args)), **kwargs)

    def jvp(self, tangents: list, ans: Any, args: tuple, kwargs: dict) -> Any:
        try:
            return self._jvp(tangents, ans, args, kwargs)
        except PYTHON_ARITHMETIC_ERRORS:
            tangents = list(as_numpy_scalars(tangents))
            ans, *args = as_numpy_scalars((ans, *args))
            return self._jvp(tangents, ans, tuple(args), kwargs)

    def _jvp(self, tangents: list, ans: Any, args: tuple, kwargs: dict) -> Any:
        if self.jvp_all is not None:
            return self.jvp_all(tangents, ans, *args, **kwargs)
        rules = self.jvp_rules
        out = None
        for i, t in enumerate(tangents):
            if t is None:
                continue
            rule = rules[i] if i < len(rules) else None
            if rule is None:
                raise MissingRuleError(
                    f"primitive {self.name} has no forward (JVP) rule for argument {i}. "
                    "Define one with .defjvp(...), or use wengert.stop_gradient on that "
                    "argument if no derivative is needed through it."
                )
            contribution = rule(t, ans, *args, **kwargs)
            out = contribution if out is None else out + contribution
        return out


# Rules compute with the primal values, which are Python floats where the user passed
# them. At a pole, Python arithmetic raises (1.0 / x at x == 0.0, 1e200 ** 2) where NumPy
# gives inf or nan with its RuntimeWarning. The engine then runs the rule again with those
# values as NumPy scalars, so a Python float behaves as a float64 does; the ordinary path
# pays nothing and keeps its result types.
PYTHON_ARITHMETIC_ERRORS = (ZeroDivisionError, OverflowError)


def as_numpy_scalars(values) -> tuple:
    """`values` with each Python float or complex as a NumPy scalar."""
    return tuple(
        [
            np.float64(v) if type(v) is float else np.complex128(v) if type(v) is complex else v
            for v in values
        ]
    )


# What an array library raises where it lacks an operation or a form of it.
LIBRARY_ERRORS = (TypeError, ValueError, NotImplementedError)


def library_error(primitive: Primitive | Callable, args: tuple, kwargs: dict, exc: Exception):
    """The error to raise instead of `exc`, raised by `primitive`'s implementation, where
    an argument is an array of another library (Dask, CuPy): the same kind of error, naming
    the primitive and the library before the library's own message. None otherwise (NumPy
    arguments, or an error that names wengert already)."""
    from .vspace import foreign_of

    found = foreign_of(*args, *kwargs.values())
    if found is None or str(exc).startswith("wengert"):
        return None
    library = type(found).__module__.split(".")[0]
    if isinstance(primitive, Primitive):
        kind, name = "primitive", primitive.name
    else:  # a NumPy function called on untraced values
        kind, name = "function", f"numpy.{primitive.__name__}"
    try:
        return type(exc)(
            f"wengert {kind} {name} on {library} arrays: {library} raised: "
            f"{exc} (where {library} lacks this operation or this form of it, compute the "
            "array first: .compute() for Dask, .get() for CuPy; or rechunk where Dask "
            "names its chunks)"
        )
    except Exception:  # an error type with its own constructor: keep the original
        return None


def library_call(fun: Callable, args: tuple, kwargs: dict) -> Any:
    """``fun(*args, **kwargs)``, what another array library raises in it re-raised naming
    `fun` and that library (`library_error`); NumPy's paths pay for a ``try`` only.
    (Primitive.__call__ keeps the same ``try`` inline: it is on every primitive's path.)"""
    try:
        return fun(*args, **kwargs)
    except LIBRARY_ERRORS as exc:
        error = library_error(fun, args, kwargs, exc)
        if error is None:
            raise
        raise error from exc


def _rule_table(table: tuple, rules: tuple, argnums) -> tuple:
    """`table` with `rules` set at positions `argnums` (default 0, 1, ...)."""
    argnums = tuple(range(len(rules))) if argnums is None else tuple(argnums)
    out = list(table) + [None] * (max(argnums, default=-1) + 1 - len(table))
    for i, rule in zip(argnums, rules):
        out[i] = rule
    return tuple(out)


def bind(primitive: Primitive, args: tuple, kwargs: dict) -> Any:
    """Apply a primitive to arguments of which some are boxes.

    The innermost live trace among the boxes handles the call (`Trace.process_primitive`):
    its boxes are opened, and the trace applies the primitive to what is inside (through
    `Primitive.__call__` again if outer traces' boxes remain, so that they see it too),
    recording the result, pushing tangents forward or mapping it over a batch.
    """
    if len(args) == 1:  # the common unary case, without loops
        box = args[0]
        top = box._trace
        if not top.alive:
            raise _escaped(primitive.name, top)
        value = box.value
        values = (value,)
        argnums = (0,)
        boxes = args
        nested = isinstance(value, Box)
    elif len(args) == 2 and not (isinstance(args[0], Box) and isinstance(args[1], Box)):
        # The common binary case with one traced operand (x * 2.0).
        x, y = args
        if isinstance(x, Box):
            top, value, argnums, boxes = x._trace, x.value, (0,), (x,)
            values = (value, y)
        else:
            top, value, argnums, boxes = y._trace, y.value, (1,), (y,)
            values = (x, value)
        if not top.alive:
            raise _escaped(primitive.name, top)
        nested = isinstance(value, Box)
    else:
        top, values, argnums, boxes = open_innermost(primitive.name, args)
        nested = False
        for value in values:
            if isinstance(value, Box):
                nested = True
                break
    return top.process_primitive(primitive, values, kwargs, argnums, boxes, nested)


def _escaped(name: str, trace) -> EscapedTracerError:
    return EscapedTracerError(
        f"{name} received a value traced by {trace!r}, whose transformation has already "
        "finished, so its derivative is lost. Return the value from the differentiated "
        "function (or use has_aux) instead of keeping it in an outer variable."
    )


def open_innermost(name: str, args: tuple):
    """The innermost live trace among `args`, the args with its boxes opened, and which."""
    top = None
    for arg in args:
        if isinstance(arg, Box):
            trace = arg._trace
            if trace is top:
                continue
            if not trace.alive:
                raise _escaped(name, trace)
            if top is None or trace.level > top.level:
                top = trace
    if len(args) == 1:
        return top, (args[0].value,), (0,), args
    values = list(args)
    argnums = []
    boxes = []
    for i, arg in enumerate(args):
        if isinstance(arg, Box) and arg._trace is top:
            values[i] = arg.value
            argnums.append(i)
            boxes.append(arg)
    return top, tuple(values), argnums, boxes


_box_module._bind = bind  # operators on boxes bind their primitives directly
