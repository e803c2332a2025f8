"""Batches of directions: values with a leading batch axis pushed through primitives at once.

A Jacobian needs derivatives along many directions. Rather than one pass per direction,
a `BatchTrace` carries a whole batch of tangents (or cotangents) as one array whose
leading axis runs over the batch, and maps each primitive over that axis with one NumPy
call. Forward mode puts a batch box inside each input's tangent; reverse mode feeds a
batch box as the cotangent of a recorded graph. The derivative rules, written with
wengert's own functions, then run on batch boxes unchanged: only the primitives they
call need to know about the batch axis, and each does through its batching rule.

A batching rule is ``rule(batched, *args, **kwargs)``: ``batched[i]`` says whether
argument i carries the batch (on its axis 0); the rule returns the result with the batch
on axis 0 (a tuple of such results for a primitive with several). Rules are found, in
this order:

1. the table filled by `defbatch`, which holds wengert.numpy's shape, indexing,
   reduction and product primitives;
2. elementwise primitives, recognised without a table: those whose implementation is a
   NumPy ufunc (SciPy's special functions included) and those made by the `elementwise`
   and `binary` shorthands; the batch axis only has to be lined up for broadcasting;
3. any other primitive is applied once per member of the batch, and the results are
   stacked (`loop_primitives()` lists the primitives that took this path so far).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..errors import TracedConversionError
from .box import Box
from .primitive import Primitive
from .trace import Trace
from .tree import tree_flatten, tree_map, tree_unflatten
from .vspace import shape_of

__all__ = [
    "BatchBox",
    "BatchTrace",
    "batching_rule",
    "defbatch",
    "defbatch_elementwise",
    "loop_primitives",
    "vmap",
]

_AxisError = getattr(np, "exceptions", np).AxisError


class BatchBox(Box):
    """A batch of values traced by a `BatchTrace`, stacked along axis 0 of `value`.

    Its shape, length and iteration are those of one member of the batch, so that code
    written for a single value (derivative rules in particular) runs on the batch.
    """

    __slots__ = ()

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
            "the truth value of a batch of directions is ambiguous: each member may "
            "differ. Branch on primal values (or use wengert.numpy.where) instead."
        )

    def __int__(self) -> int:
        raise TracedConversionError("int() of a batch of directions is ambiguous.")

    def __index__(self) -> int:
        raise TracedConversionError("a batch of directions cannot be used as an index.")


class BatchTrace(Trace):
    """A transformation call that maps every primitive over a batch of `size` members."""

    __slots__ = ("size",)

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        if not W.__dict__:
            _load()

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
        rule = _rules.get(primitive)
        if rule is None:
            rule = batching_rule(primitive)
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

    def unbatch(self, x: Any) -> Any:
        """`x` with the batch on axis 0: the stacked values, or `x` repeated if unbatched."""
        if isinstance(x, BatchBox) and x._trace is self:
            return x.value
        return W.broadcast_to(x, (self.size, *shape_of(x)))


_ONE = (True,)

# Primitive -> batching rule; filled by `defbatch`, by wengert.numpy's table on first use,
# and with the inferred rule of each primitive met.
_rules: dict[Primitive, Callable] = {}
_looped: dict[str, Primitive] = {}
# The differentiable functions rules are written with, bound on first use (wengert.numpy
# is imported after the engine).
W = SimpleNamespace()


def defbatch(primitive: Primitive, rule: Callable) -> Primitive:
    """Register ``rule(batched, *args, **kwargs)`` as how `primitive` maps over a batch.

    ``batched[i]`` tells whether argument i carries the batch on its axis 0; the rule
    returns the result with the batch on axis 0, written with wengert functions (so that
    it can be differentiated in turn).

    >>> import numpy as np
    >>> import wengert.numpy as wnp
    >>> from wengert._core.primitive import Primitive
    >>> total = Primitive(lambda x: np.sum(x), "total")
    >>> _ = defbatch(total, lambda batched, x: wnp.sum(x, axis=1))
    >>> vmap(total)(np.ones((3, 2)))
    array([2., 2., 2.])
    """
    _rules[primitive] = rule
    _looped.pop(primitive.name, None)
    return primitive


def defbatch_elementwise(primitive: Primitive) -> Primitive:
    """Declare `primitive` elementwise (broadcasting over all its array arguments).

    >>> import numpy as np
    >>> from wengert._core.primitive import Primitive
    >>> mean2 = defbatch_elementwise(Primitive(lambda x, y: (x + y) / 2, "mean2"))
    >>> vmap(mean2, (0, None))(np.ones((2, 3)), np.zeros(3))
    array([[0.5, 0.5, 0.5],
           [0.5, 0.5, 0.5]])
    """
    return defbatch(primitive, _broadcasting(primitive))


def loop_primitives() -> list[str]:
    """Names of the primitives that were mapped over a batch by a loop so far.

    >>> import numpy as np
    >>> from wengert._core.primitive import Primitive
    >>> third = Primitive(lambda x: x[..., 2], "third_entry")
    >>> vmap(third)(np.arange(6.0).reshape(2, 3)), "third_entry" in loop_primitives()
    (array([2., 5.]), True)
    """
    return sorted(_looped)


def batching_rule(primitive: Primitive) -> Callable:
    """The batching rule of `primitive`: registered, inferred, or a loop over the batch.

    >>> import numpy as np
    >>> from wengert._core.primitive import Primitive
    >>> rule = batching_rule(Primitive(np.exp, "exp_ufunc"))  # a ufunc: elementwise
    >>> rule((True,), np.zeros((2, 1)))
    array([[1.],
           [1.]])
    """
    if not W.__dict__:
        _load()
    rule = _rules.get(primitive)
    if rule is None:
        _register_by_name()  # a module imported since
        rule = _rules.get(primitive)
    if rule is not None:
        return rule
    if _is_elementwise(primitive):
        rule = _broadcasting(primitive)
    else:
        rule = _loop(primitive)
        _looped[primitive.name] = primitive
    _rules[primitive] = rule
    return rule


def _is_elementwise(primitive: Primitive) -> bool:
    fun = primitive.fun
    if isinstance(fun, np.ufunc):
        return fun.signature is None  # a generalised ufunc (matmul) is not elementwise
    rules = primitive.vjp_rules
    return bool(rules) and getattr(rules[0], "__code__", None) in _SHORTHAND_CODES


_SHORTHAND_CODES: set = set()


# --- vmap: a batch of inputs through any function -------------------------------------


def vmap(fun: Callable, in_axes: int | Sequence[int | None] | None = 0) -> Callable:
    """`fun` mapped over an axis of its arguments, evaluated with one call per primitive.

    ``in_axes`` gives, per positional argument, the axis holding the batch (``None``:
    not batched); every leaf of a batched argument is batched. The result has the batch
    on axis 0. The mapped code sees each member's shape (``x.shape``, ``len(x)``), but
    code that opens the value itself (functions without a derivative such as
    comparisons, ``sign`` or ``argmax``, and anything reading ``getval(x)``) sees the
    whole batch: jacobians and Hessians batch only tangents and cotangents, which the
    derivative rules never open that way.

    >>> import numpy as np
    >>> import wengert.numpy as wnp
    >>> vmap(lambda v: wnp.dot(v, v))(np.arange(6.0).reshape(3, 2))
    array([ 1., 13., 41.])
    """

    def batched_fun(*args):
        axes = in_axes if isinstance(in_axes, (tuple, list)) else (in_axes,) * len(args)
        if len(axes) != len(args):
            raise ValueError(f"vmap: {len(axes)} in_axes for {len(args)} arguments.")
        size = None
        for arg, axis in zip(args, axes):
            if axis is not None:
                for leaf in tree_flatten(arg)[0]:
                    n = shape_of(leaf)[axis]
                    if size is not None and n != size:
                        raise ValueError(f"vmap: batch sizes {size} and {n} differ.")
                    size = n
        if size is None:
            raise ValueError("vmap needs at least one batched argument (in_axes not None).")
        trace = BatchTrace(size)
        try:
            boxed = [
                arg
                if axis is None
                else tree_map(lambda x, a=axis: trace.new_input(W.moveaxis(x, a, 0)), arg)
                for arg, axis in zip(args, axes)
            ]
            out = fun(*boxed)
        finally:
            trace.alive = False
        leaves, treedef = tree_flatten(out)
        return tree_unflatten(treedef, [trace.unbatch(x) for x in leaves])

    return batched_fun


# --- generic rules --------------------------------------------------------------------


def _batch_ndim(x, batched: bool) -> int:
    return len(shape_of(x)) - batched


def _align(x, ndim: int):
    """A batched `x` with unit axes after the batch axis, to `ndim` per-member axes."""
    shape = shape_of(x)
    missing = ndim - (len(shape) - 1)
    if missing <= 0:
        return x
    return W.reshape(x, (shape[0],) + (1,) * missing + shape[1:])


def _broadcasting(primitive: Primitive) -> Callable:
    """The rule of an elementwise primitive: line the batch axes up, then apply it once."""

    def rule(batched, *args, **kwargs):
        ndims = [len(shape_of(a)) - b for a, b in zip(args, batched)]
        top = max(ndims)
        if any(b and n < top for b, n in zip(batched, ndims)):
            args = [_align(a, top) if b else a for a, b in zip(args, batched)]
        return primitive(*args, **kwargs)

    return rule


def _unary(primitive: Primitive) -> Callable:
    """The rule of a primitive acting on each entry of its first argument."""

    def rule(batched, x, *rest, **kwargs):
        return primitive(x, *rest, **kwargs)

    return rule


def _loop(primitive: Primitive) -> Callable:
    """Apply `primitive` to each member of the batch and stack the results."""

    def rule(batched, *args, **kwargs):
        size = next(shape_of(a)[0] for a, b in zip(args, batched) if b)
        outs = [
            primitive(*[a[i] if b else a for a, b in zip(args, batched)], **kwargs)
            for i in range(size)
        ]
        if primitive.multiple_results:
            return tuple(W.stack([o[k] for o in outs]) for k in range(len(outs[0])))
        return W.stack(outs)

    return rule


def _axis(axis: int, ndim: int) -> int:
    """A per-member axis as an axis of the batched array (the batch is axis 0)."""
    if not -ndim <= axis < ndim:
        raise _AxisError(axis, ndim)
    return axis % ndim + 1


def _axes(axis, ndim: int):
    if axis is None:
        return tuple(range(1, ndim + 1))
    if isinstance(axis, (int, np.integer)):
        return _axis(int(axis), ndim)
    return tuple(_axis(int(a), ndim) for a in axis)


def _size_of(args, batched) -> int:
    return next(shape_of(a)[0] for a, b in zip(args, batched) if b)


def _spread(args, batched, size):
    """Every argument batched: the unbatched ones repeated (a broadcast view)."""
    return [a if b else W.broadcast_to(a, (size, *shape_of(a))) for a, b in zip(args, batched)]


# --- wengert.numpy's primitives ---------------------------------------------------------


def _reduction(primitive: Primitive) -> Callable:
    def rule(batched, x, axis=None, *rest, **kwargs):
        return primitive(x, _axes(axis, len(shape_of(x)) - 1), *rest, **kwargs)

    return rule


def _along_axis(primitive: Primitive, position: int, flatten_none: bool = False) -> Callable:
    """The rule of a primitive of one batched array whose axis (or tuple of axes) argument
    sits at `position` or is the keyword ``axis``; ``None`` means the flattened array
    when `flatten_none`."""

    def rule(batched, *args, **kwargs):
        args = list(args)
        x = args[0]
        axis = args[position] if position < len(args) else kwargs.get("axis")
        if axis is None and flatten_none:
            args[0] = W.reshape(x, (shape_of(x)[0], -1))
            axis = 1
        else:
            axis = _axes(axis, len(shape_of(x)) - 1)
        if position < len(args):
            args[position] = axis
        else:
            kwargs["axis"] = axis
        return primitive(*args, **kwargs)

    return rule


def _tie_average(primitive: Primitive) -> Callable:
    """Rule of tie_average(v, groups): each member's groups renumbered apart."""

    def rule(batched, v, groups):
        size = shape_of(v)[0]
        count = int(np.max(groups, initial=-1)) + 1
        offsets = (np.arange(size) * count).reshape((size,) + (1,) * np.ndim(groups))
        return primitive(v, groups + offsets)

    return rule


def _reshape_rule(batched, x, shape, order="C"):
    size = shape_of(x)[0]
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if order != "F":
        return W.reshape(x, (size, *shape))
    # Fortran order: with the batch as the slowest (last) axis each member stays whole.
    moved = W.reshape(W.moveaxis(x, 0, -1), (*shape, size), order="F")
    return W.moveaxis(moved, -1, 0)


def _ravel_rule(batched, x, order="C"):
    return _reshape_rule(batched, x, (-1,), order)


def _transpose_rule(batched, x, axes=None):
    ndim = len(shape_of(x)) - 1
    if axes is None:
        return W.transpose(x, (0, *range(ndim, 0, -1)))
    return W.transpose(x, (0, *[_axis(int(a), ndim) for a in axes]))


def _moveaxis_rule(batched, x, source, destination):
    ndim = len(shape_of(x)) - 1
    return W.moveaxis(x, _axes(source, ndim), _axes(destination, ndim))


def _swapaxes_rule(batched, x, axis1, axis2):
    ndim = len(shape_of(x)) - 1
    return W.swapaxes(x, _axis(axis1, ndim), _axis(axis2, ndim))


def _expand_dims_rule(batched, x, axis):
    count = 1 if isinstance(axis, (int, np.integer)) else len(axis)
    return W.expand_dims(x, _axes(axis, len(shape_of(x)) - 1 + count))


def _squeeze_rule(batched, x, axis=None):
    shape = shape_of(x)[1:]
    if axis is None:
        return W.squeeze(x, tuple(i + 1 for i, n in enumerate(shape) if n == 1))
    return W.squeeze(x, _axes(axis, len(shape)))


def _broadcast_to_rule(batched, x, shape, **kwargs):
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
    x = _align(x, len(shape))
    return W.broadcast_to(x, (shape_of(x)[0], *shape), **kwargs)


def _sum_to_shape_rule(batched, x, shape):
    xshape = shape_of(x)
    lead = len(xshape) - 1 - len(shape)
    if lead > 0:
        x = W.sum(x, axis=tuple(range(1, lead + 1)))
    return W.sum_to_shape(x, (xshape[0], *shape))


def _concatenate_rule(batched, axis, *arrays):
    size = _size_of(arrays, batched[1:])
    arrays = _spread(arrays, batched[1:], size)
    if axis is None:
        return W.concatenate([W.reshape(a, (size, -1)) for a in arrays], axis=1)
    return W.concatenate(arrays, axis=_axis(axis, len(shape_of(arrays[0])) - 1))


def _stack_rule(batched, axis, *arrays):
    size = _size_of(arrays, batched[1:])
    arrays = _spread(arrays, batched[1:], size)
    return W.stack(arrays, axis=_axis(axis, len(shape_of(arrays[0]))))


def _as_tuple(index) -> tuple:
    return index if isinstance(index, tuple) else (index,)


def _is_basic(index: tuple) -> bool:
    """No arrays, lists or booleans: the batch axis in front stays in front."""
    for part in index:
        if part is None or part is Ellipsis or isinstance(part, slice):
            continue
        if isinstance(part, (int, np.integer)) and not isinstance(part, (bool, np.bool_)):
            continue
        return False
    return True


def _spell_out_ellipsis(index: tuple, ndim: int) -> tuple:
    """`index` without Ellipsis, so that a trailing batch axis is never indexed."""
    where = [k for k, part in enumerate(index) if part is Ellipsis]
    if not where:
        return index
    used = 0
    for part in index:
        if part is None or part is Ellipsis or isinstance(part, (bool, np.bool_)):
            continue
        if isinstance(part, (slice, int, np.integer)):
            used += 1
        else:
            array = np.asarray(part)
            used += array.ndim if array.dtype == bool else 1
    k = where[0]
    return index[:k] + (slice(None),) * (ndim - used) + index[k + 1 :]


def _getitem_rule(batched, x, index):
    index = _as_tuple(index)
    if _is_basic(index):
        return W.getitem(x, (slice(None), *index))
    # Advanced indices may move their axes to the front; a last batch axis stays last.
    index = _spell_out_ellipsis(index, len(shape_of(x)) - 1)
    return W.moveaxis(W.getitem(W.moveaxis(x, 0, -1), index), -1, 0)


def _scatter_rule(batched, g, index, shape):
    index = _as_tuple(index)
    size = shape_of(g)[0]
    if _is_basic(index):
        return W.scatter(g, (slice(None), *index), (size, *shape))
    index = _spell_out_ellipsis(index, len(shape))
    return W.moveaxis(W.scatter(W.moveaxis(g, 0, -1), index, (*shape, size)), -1, 0)


def _index_write(primitive: Primitive) -> Callable:
    """Rule of index_update / index_add (x, index, y): written with the batch axis last."""

    def rule(batched, x, index, y):
        size = _size_of((x, y), (batched[0], batched[2]))
        if not batched[0]:
            x = W.broadcast_to(x, (size, *shape_of(x)))
        index = _spell_out_ellipsis(_as_tuple(index), len(shape_of(x)) - 1)
        y = W.moveaxis(y, 0, -1) if batched[2] else W.reshape(y, (*shape_of(y), 1))
        return W.moveaxis(primitive(W.moveaxis(x, 0, -1), index, y), -1, 0)

    return rule


def _matmul_rule(batched, a, b):
    ba, bb = batched[0], batched[1]
    sa, sb = shape_of(a), shape_of(b)
    na, nb = len(sa) - ba, len(sb) - bb
    # The common cases as one large product (BLAS) rather than a stack of small ones.
    if ba and not bb and nb <= 2:
        if na == 1:
            return W.matmul(a, b)  # (B, k) @ (k, m) -> (B, m), or @ (k,) -> (B,)
        out = W.matmul(W.reshape(a, (-1, sa[-1])), b)
        return W.reshape(out, (*sa[:-1], *sb[1:]))
    if bb and not ba and na <= 2:
        if nb == 1:  # a @ v for each v: (B, k) @ a.T
            return W.matmul(b, W.transpose(a)) if na == 2 else W.matmul(b, a)
        out = W.tensordot(a, b, ([na - 1], [nb - 1]))  # (n, B, ..., m) or (B, ..., m)
        return W.moveaxis(out, 0, -2) if na == 2 else out
    # General case: vectors as matrices, per-member ranks lined up, one stacked product.
    a2 = W.reshape(a, (*sa[:-1], 1, sa[-1])) if na == 1 else a
    b2 = W.reshape(b, (*sb, 1)) if nb == 1 else b
    rank = max(na, nb, 2)
    if ba:
        a2 = _align(a2, rank)
    if bb:
        b2 = _align(b2, rank)
    out = W.matmul(a2, b2)
    shape = list(shape_of(out))
    if nb == 1:
        del shape[-1]
    if na == 1:
        del shape[-1 if nb == 1 else -2]
    return W.reshape(out, tuple(shape))


def _tensordot_axes(axes, na: int, nb: int) -> tuple[list[int], list[int]]:
    if isinstance(axes, (int, np.integer)):
        return list(range(na - axes, na)), list(range(axes))
    a_axes, b_axes = axes
    a_axes = [a_axes] if isinstance(a_axes, (int, np.integer)) else list(a_axes)
    b_axes = [b_axes] if isinstance(b_axes, (int, np.integer)) else list(b_axes)
    return [a % na for a in a_axes], [b % nb for b in b_axes]


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _tensordot_rule(batched, a, b, axes=2):
    ba, bb = batched[0], batched[1]
    na, nb = len(shape_of(a)) - ba, len(shape_of(b)) - bb
    a_axes, b_axes = _tensordot_axes(axes, na, nb)
    if ba and not bb:
        return W.tensordot(a, b, ([i + 1 for i in a_axes], b_axes))
    if bb and not ba:
        out = W.tensordot(a, b, (a_axes, [j + 1 for j in b_axes]))
        return W.moveaxis(out, na - len(a_axes), 0)
    # Both batched: an einsum sharing the batch letter.
    a_sub = list(_LETTERS[1 : na + 1])
    b_sub = list(_LETTERS[na + 1 : na + nb + 1])
    for i, j in zip(a_axes, b_axes):
        b_sub[j] = a_sub[i]
    out = [a_sub[i] for i in range(na) if i not in a_axes]
    out += [b_sub[j] for j in range(nb) if j not in b_axes]
    spec = f"a{''.join(a_sub)},a{''.join(b_sub)}->a{''.join(out)}"
    return W.einsum(spec, a, b)


def _einsum_rule(batched, subscripts, *operands):
    shapes = [shape_of(op)[b:] for op, b in zip(operands, batched[1:])]
    ins, out = W.parse_einsum(subscripts, shapes)
    letter = next(c for c in _LETTERS if c not in "".join(ins) + out)
    ins = [letter + s if b else s for s, b in zip(ins, batched[1:])]
    return W.einsum_primitive(",".join(ins) + "->" + letter + out, *operands)


def _load() -> None:
    """Bind the functions rules use and register wengert.numpy's batching rules."""
    from ..numpy import _define, contractions, elementwise, indexing, reductions, shaping
    from . import vspace

    W.reshape, W.moveaxis, W.transpose = shaping.reshape, shaping.moveaxis, shaping.transpose
    W.swapaxes, W.expand_dims, W.squeeze = shaping.swapaxes, shaping.expand_dims, shaping.squeeze
    W.concatenate, W.stack = shaping.concatenate, shaping.stack
    W.broadcast_to, W.sum_to_shape = vspace.broadcast_to, vspace.sum_to_shape
    W.sum, W.getitem, W.scatter = reductions.sum, indexing.getitem, indexing._scatter
    W.matmul, W.tensordot = contractions.matmul, contractions.tensordot
    W.einsum_primitive, W.parse_einsum = contractions._einsum, contractions._parse_einsum
    W.einsum = contractions.einsum

    probe_unary = _define.elementwise(np.negative, lambda ans, x: -1.0, "probe")
    probe_binary = _define.binary(np.add, lambda ans, x, y: 1.0, lambda ans, x, y: 1.0, "probe")
    _SHORTHAND_CODES.update({probe_unary.vjp_rules[0].__code__, probe_binary.vjp_rules[0].__code__})

    table = {
        elementwise.positive: _unary(elementwise.positive),
        elementwise.real: _unary(elementwise.real),
        elementwise.imag: _unary(elementwise.imag),
        shaping._astype: _unary(shaping._astype),
        elementwise._where: _broadcasting(elementwise._where),
        reductions.sum: _reduction(reductions.sum),
        reductions.mean: _reduction(reductions.mean),
        reductions.prod: _reduction(reductions.prod),
        reductions.max: _reduction(reductions.max),
        reductions.min: _reduction(reductions.min),
        shaping.reshape: _reshape_rule,
        shaping.ravel: _ravel_rule,
        shaping.transpose: _transpose_rule,
        shaping.moveaxis: _moveaxis_rule,
        shaping.swapaxes: _swapaxes_rule,
        shaping.expand_dims: _expand_dims_rule,
        shaping.squeeze: _squeeze_rule,
        shaping._concatenate: _concatenate_rule,
        shaping._stack: _stack_rule,
        vspace.broadcast_to: _broadcast_to_rule,
        vspace.sum_to_shape: _sum_to_shape_rule,
        indexing.getitem: _getitem_rule,
        indexing._scatter: _scatter_rule,
        indexing._index_update: _index_write(indexing._index_update),
        indexing._index_add: _index_write(indexing._index_add),
        contractions.matmul: _matmul_rule,
        contractions.tensordot: _tensordot_rule,
        contractions._einsum: _einsum_rule,
    }
    for primitive, rule in table.items():
        _rules.setdefault(primitive, rule)

    import importlib

    for module_name in ("linalg", "fft", "manipulation"):
        importlib.import_module(f"wengert.numpy.{module_name}")
    _register_by_name()


def _axis_at(position: int, flatten_none: bool = False) -> Callable:
    return lambda primitive: _along_axis(primitive, position, flatten_none)


# Primitives of other modules, found by name once their module is imported: NumPy's linear
# algebra maps over leading (stack) axes already, and the others are elementwise or take
# an axis. Module -> {attribute: rule factory}.
_BY_NAME: dict[str, dict[str, Callable]] = {
    "wengert.numpy.linalg": {
        "_inv": _unary,
        "_det": _unary,
        "_slogdet": _unary,
        "_cholesky": _unary,
        "_qr": _unary,
        "_eigh": _unary,
        "_eigvalsh": _unary,
        "_eig": _unary,
        "_eigvals": _unary,
        "_svd": _unary,
        "_svdvals": _unary,
        "_cofactor": _unary,
        "_pinv": _unary,
        "_solve": _broadcasting,
        "_pnorm": _axis_at(2),
    },
    "wengert.numpy.fft": dict.fromkeys(("_fft", "_ifft", "_rfft", "_irfft"), _axis_at(2)),
    "wengert.numpy.manipulation": {
        "_cumsum": _axis_at(1, flatten_none=True),
        "_cumprod": _axis_at(1, flatten_none=True),
        "_sort": _axis_at(1),
        "_partition": _axis_at(1),
        "_split": _axis_at(2),
        "_tie_average": _tie_average,
    },
    "wengert.nn.functional": {
        **dict.fromkeys(("_relu", "_leaky_relu", "_sigmoid", "_softplus", "_normal_cdf"), _unary),
        **dict.fromkeys(("_softmax", "_log_softmax", "_logsumexp"), _axis_at(1)),
    },
    "wengert.scipy.special": {
        **dict.fromkeys(("polygamma", "gammainc", "gammaincc", "betainc", "stdtr"), _broadcasting),
        **dict.fromkeys(("softmax", "log_softmax"), _axis_at(1)),
    },
}


def _register_by_name() -> None:
    """Register the rules of `_BY_NAME` for the modules imported so far."""
    import sys

    for module_name in [m for m in _BY_NAME if m in sys.modules]:
        module = sys.modules[module_name]
        for name, make in _BY_NAME.pop(module_name).items():
            primitive = getattr(module, name, None)
            if isinstance(primitive, Primitive):
                _rules.setdefault(primitive, make(primitive))
