"""Batches: values with a leading batch axis pushed through primitives at once (`vmap`).

A `BatchTrace` carries a whole batch of values as one array whose leading axis runs over
the batch, and maps each primitive over that axis with one call. `vmap` batches a
function's arguments; Jacobians and Hessians batch their tangents or cotangents (one
basis direction per member), so that the derivative rules, written with wengert's own
functions, run once on the whole basis.

A primitive maps over a batch by its batching rule, ``rule(batched, *args, **kwargs)``:
``batched[i]`` says whether argument i carries the batch on its axis 0, and the rule
returns the result with the batch on axis 0. The rule is found in this order:

1. the one registered beside the primitive (`Primitive.defbatch`);
2. for an elementwise primitive (declared so by the `elementwise`/`binary` shorthands, or
   a NumPy ufunc), `broadcasting`: the batch axes are lined up and the primitive applied
   once;
3. otherwise the generic fallback, `loop`: the primitive is applied to each member and the
   results stacked (correct, but one call per member; `loop_primitives()` and
   ``python -m wengert.coverage`` list the primitives that use it).

The builders below (`broadcasting`, `along_axis`, `reduction`, `loop`) and the axis helpers
make most rules one line. The engine calls NumPy-like functions through `box.ops`, which
the differentiable NumPy namespace fills, so it imports nothing of that namespace itself.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import AxisError, TracedConversionError
from .box import Box, ops, shape_of
from .primitive import Primitive
from .trace import Trace
from .tree import broadcast_prefix, tree_flatten, tree_unflatten

__all__ = [
    "BatchBox",
    "BatchTrace",
    "align",
    "along_axis",
    "batch_axes",
    "batch_axis",
    "batch_rule_of",
    "broadcasting",
    "loop",
    "loop_primitives",
    "reduction",
    "vmap",
]


class BatchBox(Box):
    """A batch of values traced by a `BatchTrace`, stacked along axis 0 of `value`.

    Its shape, length and iteration are those of one member of the batch, so that code
    written for a single value (derivative rules in particular) runs on the batch.
    """

    __slots__ = ()
    holds_member = False

    def __init__(self, value, trace):
        self.value = value
        self._trace = trace

    @property
    def shape(self) -> tuple[int, ...]:
        return shape_of(self.value)[1:]

    @property
    def ndim(self) -> int:
        return len(shape_of(self.value)) - 1

    @property
    def size(self) -> int:
        return math.prod(shape_of(self.value)[1:])

    def __len__(self) -> int:
        shape = self.shape
        if not shape:
            raise TypeError("len() of a 0-d value")
        return shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        raise TracedConversionError(
            "the truth value of a batch of values is ambiguous: each member may differ. "
            "Branch with wg.numpy.where (or outside vmap) instead."
        )

    def __int__(self) -> int:
        raise TracedConversionError("int() of a batch of values is ambiguous.")

    def __index__(self) -> int:
        raise TracedConversionError("a batch of values cannot be used as an index.")


class BatchTrace(Trace):
    """A transformation call that maps every primitive over a batch of `size` members."""

    __slots__ = ("size",)

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def new_input(self, value: Any) -> BatchBox:
        """A batch box over `value`, whose axis 0 runs over the batch."""
        if shape_of(value)[:1] != (self.size,):
            raise ValueError(
                f"a batch of {self.size} needs values with leading axis {self.size}, "
                f"got shape {shape_of(value)}."
            )
        return BatchBox(value, self)

    def process_primitive(self, primitive: Primitive, values, kwargs, argnums, boxes, nested):
        """Apply `primitive` to `values`, of which those at `argnums` hold the batch."""
        rule = primitive.batch_rule or batch_rule_of(primitive)
        if len(values) == 1:
            batched = _ONE
        else:
            flags = [False] * len(values)
            for i in argnums:
                flags[i] = True
            batched = tuple(flags)
        out = rule(batched, *values, **kwargs)
        if primitive.multiple_results:
            return tuple([BatchBox(o, self) for o in out])
        return BatchBox(out, self)

    def process_nondiff(self, fn, args: tuple, kwargs: dict) -> Any:
        """A function without derivative, mapped over the batch like a primitive: each
        member sees its own values (a comparison, an ``argmax``)."""
        batched_keywords = [
            k
            for k, v in kwargs.items()
            if any(isinstance(x, Box) and x._trace is self for x in tree_flatten(v)[0])
        ]
        values, kwargs, held = fn.opened(self, args, kwargs)
        if batched_keywords:  # rules see positional batches only: each member in turn
            size = self.size
            outs = [
                fn(
                    *[a[i] if h else a for a, h in zip(values, held)],
                    **{k: v[i] if k in batched_keywords else v for k, v in kwargs.items()},
                )
                for i in range(size)
            ]
            out = (
                tuple(_stack(list(parts)) for parts in zip(*outs))
                if isinstance(outs[0], tuple)
                else _stack(outs)
            )
        else:
            rule = fn.batch_rule or batch_rule_of(fn)
            out = rule(tuple(held), *values, **kwargs)
        if isinstance(out, tuple):
            return tuple(BatchBox(o, self) for o in out)
        return BatchBox(out, self)

    def unbatch(self, x: Any) -> Any:
        """`x` with the batch on axis 0: the stacked values, or `x` repeated if unbatched."""
        if isinstance(x, BatchBox) and x._trace is self:
            return x.value
        return ops.broadcast_to(x, (self.size, *shape_of(x)))


_ONE = (True,)
# Primitive -> the rule inferred for it (registered rules live on the primitive itself).
_inferred: dict[Primitive, Callable] = {}
_looped: dict[str, Primitive] = {}


def batch_rule_of(primitive: Primitive) -> Callable:
    """The batching rule of `primitive`: registered, elementwise, or the loop fallback.

    >>> import numpy as np
    >>> from wengert._core.primitive import Primitive
    >>> rule = batch_rule_of(Primitive(np.exp, "exp_ufunc"))  # a ufunc: elementwise
    >>> rule((True,), np.zeros((2, 1)))
    array([[1.],
           [1.]])
    """
    if primitive.batch_rule is not None:
        return primitive.batch_rule
    rule = _inferred.get(primitive)
    if rule is None:
        if is_elementwise(primitive):
            rule = broadcasting(primitive)
        else:
            rule = loop(primitive)
            _looped[primitive.name] = primitive
        _inferred[primitive] = rule
    return rule


def is_elementwise(primitive: Primitive) -> bool:
    """Whether `primitive` is declared elementwise, or is a NumPy ufunc (not generalised)."""
    if primitive.elementwise:
        return True
    fun = primitive.fun
    return isinstance(fun, np.ufunc) and fun.signature is None


def loop_primitives() -> list[str]:
    """Names of the primitives that were mapped over a batch by the loop fallback so far.

    >>> import numpy as np
    >>> from wengert._core.primitive import Primitive
    >>> third = Primitive(lambda x: x[..., 2], "third_entry")
    >>> vmap(third)(np.arange(6.0).reshape(2, 3)), "third_entry" in loop_primitives()
    (array([2., 5.]), True)
    """
    return sorted(_looped)


# --- vmap: a batch of inputs through any function -------------------------------------


def vmap(
    fun: Callable,
    in_axes: Any = 0,
    out_axes: Any = 0,
    axis_size: int | None = None,
) -> Callable:
    """`fun` mapped over an axis of its arguments, evaluated with one call per primitive.

    As JAX's ``vmap``: ``in_axes`` gives the axis holding the batch for each positional
    argument (an int, None for an argument shared by every member, or a tree of these
    matching the argument's structure); a single int or None applies to all. Keyword
    arguments are mapped over axis 0. ``out_axes`` likewise says where each output's
    batch axis goes (None: an output that does not depend on the batch, returned once).
    ``axis_size`` is needed only when no argument is mapped. Inside, the code sees one
    member's shapes (``x.shape``, ``len(x)``), and it composes with `grad`, `jvp`,
    `vjp`, the Jacobians and `checkpoint` in either order: ``vmap(grad(loss), in_axes=(None,
    0, 0))(params, X, y)`` gives per-example gradients.

    >>> import numpy as np
    >>> import wengert as wg
    >>> wnp = wg.numpy
    >>> vmap(lambda v: wnp.dot(v, v))(np.arange(6.0).reshape(3, 2))
    array([ 1., 13., 41.])
    >>> vmap(lambda a, b: a * b, in_axes=(0, None), out_axes=1)(np.ones((2, 3)), 2.0)
    array([[2., 2.],
           [2., 2.],
           [2., 2.]])
    """

    def vmapped(*args: Any, **kwargs: Any) -> Any:
        if isinstance(in_axes, (tuple, list)):
            if len(in_axes) != len(args):
                raise ValueError(
                    f"vmap: in_axes has {len(in_axes)} entries but the function was called "
                    f"with {len(args)} positional arguments; give one per argument."
                )
            per_arg = tuple(in_axes)
        else:
            per_arg = (in_axes,) * len(args)
        tree = (args, kwargs)
        leaves, treedef = tree_flatten(tree)
        axes = broadcast_prefix((per_arg, dict.fromkeys(kwargs, 0)), tree, "vmap: in_axes")
        size = axis_size
        normalized = []
        for i, (leaf, axis) in enumerate(zip(leaves, axes)):
            if axis is None:
                normalized.append(None)
                continue
            axis = _axis_entry(axis, "in_axes")
            shape = shape_of(leaf)
            if not -len(shape) <= axis < len(shape):
                raise ValueError(
                    f"vmap: in_axes {axis} for input leaf {i} of shape {shape}, which has no "
                    f"axis {axis}; map over an existing axis or use None."
                )
            axis %= len(shape)
            if size is not None and shape[axis] != size:
                raise ValueError(
                    f"vmap: mapped axes have different sizes ({size} and {shape[axis]} for "
                    f"input leaf {i}); every mapped axis must have the same length."
                )
            size = shape[axis]
            normalized.append(axis)
        if size is None:
            raise ValueError(
                "vmap: no argument is mapped (in_axes is None for all of them); map one, or "
                "give axis_size."
            )
        trace = BatchTrace(size)
        try:
            boxed = [
                leaf if axis is None else trace.new_input(ops.moveaxis(leaf, axis, 0))
                for leaf, axis in zip(leaves, normalized)
            ]
            call_args, call_kwargs = tree_unflatten(treedef, boxed)
            out = fun(*call_args, **call_kwargs)
        finally:
            trace.alive = False
        out_leaves, out_def = tree_flatten(out)
        results = []
        for i, (leaf, axis) in enumerate(
            zip(out_leaves, broadcast_prefix(out_axes, out, "vmap: out_axes"))
        ):
            if axis is None:
                if isinstance(leaf, BatchBox) and leaf._trace is trace:
                    raise ValueError(
                        f"vmap: out_axes is None for output leaf {i}, but it depends on the "
                        "mapped axis; give it an axis."
                    )
                results.append(leaf)
                continue
            value = trace.unbatch(leaf)
            axis = _axis_entry(axis, "out_axes")
            ndim = len(shape_of(value))
            if not -ndim <= axis < ndim:
                raise ValueError(f"vmap: out_axes {axis} for an output with {ndim - 1} axes.")
            results.append(value if axis % ndim == 0 else ops.moveaxis(value, 0, axis))
        return tree_unflatten(out_def, results)

    vmapped.__name__ = f"vmap_{getattr(fun, '__name__', 'fun')}"
    vmapped.__doc__ = f"{getattr(fun, '__name__', 'fun')} mapped over a batch axis."
    return vmapped


def _axis_entry(axis: Any, what: str) -> int:
    if isinstance(axis, bool) or not hasattr(axis, "__index__"):
        raise TypeError(f"vmap: {what} entries must be ints or None, got {axis!r}.")
    return operator.index(axis)


# --- generic rules --------------------------------------------------------------------


def _batch_ndim(x, batched: bool) -> int:
    return len(shape_of(x)) - batched


# --- rule builders and axis helpers ---------------------------------------------------


def align(x, ndim: int):
    """A batched `x` with unit axes after the batch axis, to `ndim` per-member axes."""
    shape = shape_of(x)
    missing = ndim - (len(shape) - 1)
    if missing <= 0:
        return x
    return ops.reshape(x, (shape[0],) + (1,) * missing + shape[1:])


def broadcasting(primitive: Primitive) -> Callable:
    """The rule of an elementwise primitive: line the batch axes up, then apply it once."""

    def rule(batched, *args, **kwargs):
        ndims = [_array_ndim(a) - b for a, b in zip(args, batched)]
        top = max(ndims)
        if any(b and n < top for b, n in zip(batched, ndims)):
            args = [align(a, top) if b else a for a, b in zip(args, batched)]
        return primitive(*args, **kwargs)

    return rule


def _array_ndim(x) -> int:
    """The number of axes of an array argument; 0 for static ones (dtypes, axes)."""
    if isinstance(x, (Box, np.ndarray, np.generic)):
        return len(shape_of(x))
    if hasattr(type(x), "__array_function__") and hasattr(x, "shape"):
        return len(x.shape)  # an array of another library (Dask, CuPy)
    if isinstance(x, (list, tuple)) and not isinstance(x, type):
        return np.ndim(x)
    return 0


def loop(primitive: Primitive) -> Callable:
    """The generic fallback: apply `primitive` to each member and stack the results."""

    def rule(batched, *args, **kwargs):
        size = batch_size(args, batched)
        outs = [
            primitive(*[a[i] if b else a for a, b in zip(args, batched)], **kwargs)
            for i in range(size)
        ]
        if primitive.multiple_results or isinstance(outs[0], tuple):
            return tuple(_stack([o[k] for o in outs]) for k in range(len(outs[0])))
        return _stack(outs)

    return rule


def _stack(members: list):
    shapes = {shape_of(m) for m in members}
    if len(shapes) > 1:
        raise ValueError(
            f"vmap: the members of the batch give results of different shapes {sorted(shapes)}; "
            "a function whose result's shape depends on the values cannot be mapped."
        )
    return ops.stack(members)


def batch_axis(axis: int, ndim: int) -> int:
    """A per-member axis as an axis of the batched array (the batch is axis 0)."""
    if not -ndim <= axis < ndim:
        raise AxisError(axis, ndim)
    return axis % ndim + 1


def batch_axes(axis, ndim: int):
    """`batch_axis` for None (all axes), an int or a tuple of ints."""
    if axis is None:
        return tuple(range(1, ndim + 1))
    if isinstance(axis, (int, np.integer)):
        return batch_axis(int(axis), ndim)
    return tuple(batch_axis(int(a), ndim) for a in axis)


def batch_size(args, batched) -> int:
    """The batch size: the leading axis of the first batched argument."""
    return next(shape_of(a)[0] for a, b in zip(args, batched) if b)


def spread(args, batched, size):
    """Every argument batched: the unbatched ones repeated (a broadcast view)."""
    return [a if b else ops.broadcast_to(a, (size, *shape_of(a))) for a, b in zip(args, batched)]


def reduction(primitive: Primitive) -> Callable:
    """The rule of a reduction ``primitive(x, axis=None, ...)`` of one batched array."""

    def rule(batched, x, axis=None, *rest, **kwargs):
        return primitive(x, batch_axes(axis, len(shape_of(x)) - 1), *rest, **kwargs)

    return rule


def along_axis(primitive: Primitive, position: int, flatten_none: bool = False) -> Callable:
    """The rule of a primitive of one batched array whose axis (or tuple of axes) argument
    sits at `position` or is the keyword ``axis``; ``None`` means the flattened array
    when `flatten_none` (else all axes)."""

    def rule(batched, *args, **kwargs):
        args = list(args)
        x = args[0]
        axis = args[position] if position < len(args) else kwargs.get("axis")
        if axis is None and flatten_none:
            args[0] = ops.reshape(x, (shape_of(x)[0], -1))
            axis = 1
        else:
            axis = batch_axes(axis, len(shape_of(x)) - 1)
        if position < len(args):
            args[position] = axis
        else:
            kwargs["axis"] = axis
        return primitive(*args, **kwargs)

    return rule


def first_argument(primitive: Primitive) -> Callable:
    """The rule of a primitive acting on each member's entries of its first argument
    independently of the axes (linear algebra on stacks of matrices, casts)."""

    def rule(batched, x, *rest, **kwargs):
        return primitive(x, *rest, **kwargs)

    return rule
