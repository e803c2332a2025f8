"""autograd's extension API (`autograd.extend`) over wengert's primitives.

autograd registers rules with module-level functions and curried reverse rules,
``defvjp(f, lambda ans, x: lambda g: ...)``; wengert's primitives take
``f.defvjp(lambda g, ans, x: ...)``. These functions translate one into the other, with
autograd's conventions: a ``None`` rule is a zero derivative, ``"same"`` as a forward rule
means the function is linear in that argument, and a new `defvjp` replaces the old rules.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as onp

from .._core.box import Box, getval, peek
from .._core.tree import tree_flatten, tree_map, tree_unflatten
from .._core.vspace import zeros_like
from ..custom import Primitive
from ..custom import primitive as _primitive

__all__ = [
    "Box",
    "VSpace",
    "def_linear",
    "defjvp",
    "defjvp_argnum",
    "defjvp_argnums",
    "defvjp",
    "defvjp_argnum",
    "defvjp_argnums",
    "notrace_primitive",
    "primitive",
    "vspace",
]


def primitive(fun: Callable) -> Primitive:
    """`fun` as a primitive: the engine calls it on values and uses the rules registered
    with `defvjp`/`defjvp` for its derivatives."""
    prim = _primitive(fun)
    functools.update_wrapper(prim, fun, updated=())
    return prim


def notrace_primitive(fun: Callable) -> Callable:
    """`fun` called on the values under any traced arguments; its result is a constant."""

    @functools.wraps(fun)
    def untraced(*args: Any, **kwargs: Any) -> Any:
        return fun(*tree_map(getval, args), **tree_map(getval, kwargs))

    return untraced


def _primitive_of(fun: Any, name: str) -> Primitive:
    if not isinstance(fun, Primitive):
        raise TypeError(
            f"{name}: {getattr(fun, '__name__', fun)!r} is not a primitive; make it one with "
            "wengert.autograd.extend.primitive (as a decorator) before registering its rules."
        )
    return fun


def _with(args: tuple, argnum: int, value: Any) -> tuple:
    return (*args[:argnum], value, *args[argnum + 1 :])


def _vjp_rule(argnum: int, maker: Callable | None) -> Callable:
    if maker is None:
        return lambda g, ans, *args, **kwargs: zeros_like(args[argnum])
    return lambda g, ans, *args, **kwargs: maker(ans, *args, **kwargs)(g)


def defvjp(fun: Primitive, *vjpmakers: Callable | None, argnums: Any = None) -> None:
    """Reverse rules ``vjpmaker(ans, *args, **kwargs) -> (lambda g: cotangent)``, one per
    argument (or per entry of `argnums`); ``None`` is a zero derivative."""
    prim = _primitive_of(fun, "defvjp")
    nums = tuple(range(len(vjpmakers))) if argnums is None else tuple(argnums)
    prim.vjp_rules, prim.vjp_all = (), None
    prim.defvjp(*(_vjp_rule(i, m) for i, m in zip(nums, vjpmakers)), argnums=nums)


def defvjp_argnum(fun: Primitive, vjpmaker: Callable) -> None:
    """One reverse rule for every argument: ``vjpmaker(argnum, ans, args, kwargs)(g)``."""
    prim = _primitive_of(fun, "defvjp_argnum")
    prim.defvjp_all(
        lambda g, ans, argnums, *args, **kwargs: [
            vjpmaker(i, ans, args, kwargs)(g) for i in argnums
        ]
    )


def defvjp_argnums(fun: Primitive, vjpmaker: Callable) -> None:
    """One reverse rule for the arguments at once: ``vjpmaker(argnums, ans, args, kwargs)(g)``
    returns one cotangent per entry of `argnums`."""
    prim = _primitive_of(fun, "defvjp_argnums")
    prim.defvjp_all(
        lambda g, ans, argnums, *args, **kwargs: list(vjpmaker(argnums, ans, args, kwargs)(g))
    )


def _jvp_rule(fun: Primitive, argnum: int, rule: Callable | str | None) -> Callable:
    if rule is None:
        return lambda g, ans, *args, **kwargs: zeros_like(ans)
    if isinstance(rule, str):
        if rule != "same":
            raise ValueError(f"defjvp: a rule given as text must be 'same', got {rule!r}.")
        return lambda g, ans, *args, **kwargs: fun(*_with(args, argnum, g), **kwargs)
    return rule


def defjvp(fun: Primitive, *jvpfuns: Callable | str | None, argnums: Any = None) -> None:
    """Forward rules ``jvpfun(g, ans, *args, **kwargs)``, one per argument; ``None`` is a
    zero derivative and ``"same"`` applies `fun` itself to the tangent (a linear argument)."""
    prim = _primitive_of(fun, "defjvp")
    nums = tuple(range(len(jvpfuns))) if argnums is None else tuple(argnums)
    prim.jvp_rules = ()
    prim.defjvp(*(_jvp_rule(prim, i, r) for i, r in zip(nums, jvpfuns)), argnums=nums)


def defjvp_argnum(fun: Primitive, jvpmaker: Callable) -> None:
    """One forward rule for every argument: ``jvpmaker(argnum, g, ans, args, kwargs)``."""
    prim = _primitive_of(fun, "defjvp_argnum")

    def jvp_all(tangents, ans, *args, **kwargs):
        parts = [jvpmaker(i, t, ans, args, kwargs) for i, t in enumerate(tangents) if t is not None]
        return functools.reduce(lambda a, b: a + b, parts)

    prim.defjvp_all(jvp_all)


def defjvp_argnums(fun: Primitive, jvpmaker: Callable) -> None:
    """One forward rule for the arguments at once: ``jvpmaker(argnums, gs, ans, args,
    kwargs)`` with the tangents `gs` of those arguments."""
    prim = _primitive_of(fun, "defjvp_argnums")

    def jvp_all(tangents, ans, *args, **kwargs):
        argnums = tuple(i for i, t in enumerate(tangents) if t is not None)
        gs = tuple(tangents[i] for i in argnums)
        return jvpmaker(argnums, gs, ans, args, kwargs)

    prim.defjvp_all(jvp_all)


def def_linear(fun: Primitive) -> None:
    """Declare `fun` linear in each argument: its forward rule is `fun` of the tangent."""
    defjvp_argnum(fun, lambda argnum, g, ans, args, kwargs: fun(*_with(args, argnum, g), **kwargs))


class VSpace:
    """The vector space of a value (an array, a scalar, or a tuple, list or dict of them):
    its shape and dtype, and the operations autograd's rules and checks use."""

    def __init__(self, value: Any) -> None:
        leaves, self.treedef = tree_flatten(tree_map(peek, value))
        self._arrays = [onp.asarray(leaf) for leaf in leaves]
        if any(a.dtype.kind not in "biufc" for a in self._arrays):
            kinds = sorted({str(a.dtype) for a in self._arrays if a.dtype.kind not in "biufc"})
            raise TypeError(f"vspace: no vector space for values of dtype {', '.join(kinds)}.")

    def _leaf(self, name: str) -> onp.ndarray:
        if self.treedef.kind != "leaf":
            raise AttributeError(f"the vector space of a {self.treedef.kind} has no single {name}")
        return self._arrays[0]

    @property
    def shape(self) -> tuple:
        return self._leaf("shape").shape

    @property
    def dtype(self) -> onp.dtype:
        return self._leaf("dtype").dtype

    @property
    def ndim(self) -> int:
        return self._leaf("ndim").ndim

    @property
    def size(self) -> int:
        return sum(a.size for a in self._arrays)

    @property
    def iscomplex(self) -> bool:
        return any(a.dtype.kind == "c" for a in self._arrays)

    def _build(self, leaves: list) -> Any:
        return tree_unflatten(self.treedef, leaves)

    def _inexact(self, a: onp.ndarray) -> onp.dtype:
        return a.dtype if a.dtype.kind in "fc" else onp.dtype(float)

    def zeros(self) -> Any:
        return self._build([onp.zeros(a.shape, self._inexact(a)) for a in self._arrays])

    def ones(self) -> Any:
        return self._build([onp.ones(a.shape, self._inexact(a)) for a in self._arrays])

    def randn(self) -> Any:
        out = []
        for a in self._arrays:
            r = onp.random.randn(*a.shape)
            if a.dtype.kind == "c":
                r = r + 1j * onp.random.randn(*a.shape)
            out.append(onp.asarray(r, self._inexact(a)))
        return self._build(out)

    def standard_basis(self):
        """The unit vectors of the space, one per entry of each leaf, in order."""
        for k, a in enumerate(self._arrays):
            for index in onp.ndindex(a.shape):
                leaves = [onp.zeros(b.shape, self._inexact(b)) for b in self._arrays]
                leaves[k][index] = 1
                yield self._build(leaves)

    def examples(self):
        """A few vectors of the space to test rules with."""
        yield self.zeros()
        yield self.ones()
        yield self.randn()

    def flatten(self, value: Any) -> onp.ndarray:
        leaves = tree_flatten(value)[0]
        return onp.concatenate([onp.ravel(peek(x)) for x in leaves]) if leaves else onp.zeros(0)

    def add(self, x: Any, y: Any) -> Any:
        return tree_map(lambda a, b: a + b, x, y)

    def mut_add(self, x: Any, y: Any) -> Any:
        return y if x is None else self.add(x, y)

    def scalar_mul(self, x: Any, a: Any) -> Any:
        return tree_map(lambda leaf: leaf * a, x)

    def inner_prod(self, x: Any, y: Any) -> Any:
        xs, ys = tree_flatten(x)[0], tree_flatten(y)[0]
        total = 0.0
        for a, b in zip(xs, ys):
            total = total + onp.real(onp.vdot(onp.ravel(peek(a)), onp.ravel(peek(b))))
        return total

    def covector(self, x: Any) -> Any:
        return tree_map(onp.conj, x) if self.iscomplex else x

    def _signature(self) -> tuple:
        return self.treedef, tuple((a.shape, a.dtype) for a in self._arrays)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VSpace) and self._signature() == other._signature()

    def __hash__(self) -> int:
        return hash(self._signature())

    def __repr__(self) -> str:
        if self.treedef.kind == "leaf":
            return f"VSpace(shape={self.shape}, dtype={self.dtype})"
        return f"VSpace({self.treedef}, size={self.size})"


def vspace(value: Any) -> VSpace:
    """The vector space of `value` (traced or not)."""
    return VSpace(value)
