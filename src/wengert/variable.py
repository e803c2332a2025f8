"""Define-by-run Variables: arrays that record the operations on them as they run.

A `Variable` is a box of one long-lived reverse-mode trace, the define-by-run trace,
so the same primitives and rules that serve `grad` and `vjp` build its graph, and
`backward()` is the engine's backward pass. The define-by-run trace is the outermost of
all traces (level 0): Variables used inside `wengert.grad` are outer values of that
transformation, and `wengert.grad` of a function of Variables returns Variables whose
graph reaches back to them.

Recording is switched off per thread by `no_grad()`, which affects Variables only;
`grad`, `vjp` and `jvp` are transformations and keep working inside it.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from ._core.box import Box, getval
from ._core.primitive import Primitive
from ._core.reverse import Node, ReverseBox, ReverseTrace, select
from ._core.reverse import backward as _engine_backward
from ._core.vspace import ones_like, shape_of
from ._validate import fingerprint
from .errors import ModifiedInputError, NonScalarOutputError, TracedConversionError, WengertError

__all__ = [
    "FreedGraphError",
    "Variable",
    "backward",
    "enable_grad",
    "gradients",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
]


class FreedGraphError(WengertError, RuntimeError):
    """A backward pass reached a part of the graph that an earlier backward pass freed."""


class _GradMode(threading.local):
    """Whether operations on Variables are recorded, per thread."""

    enabled = True


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Whether operations on Variables are being recorded in this thread.

    >>> import wengert as wg
    >>> with wg.no_grad():
    ...     wg.is_grad_enabled()
    False
    """
    return _grad_mode.enabled


@contextmanager
def set_grad_enabled(mode: bool) -> Iterator[None]:
    """Switch recording of operations on Variables on or off for a block (or function).

    >>> import wengert as wg
    >>> x = wg.Variable([1.0, 2.0])
    >>> with wg.set_grad_enabled(False):
    ...     y = x * 2.0
    >>> y.requires_grad
    False
    """
    previous = _grad_mode.enabled
    _grad_mode.enabled = bool(mode)
    try:
        yield
    finally:
        _grad_mode.enabled = previous


def no_grad():
    """A block (or, as ``@no_grad()``, a function) in which Variables record nothing.

    Use it for evaluation and for parameter updates; it saves the memory and time of
    recording. It does not affect `grad`, `vjp` or `jvp`.

    >>> import wengert as wg
    >>> w = wg.Variable([1.0, 2.0])
    >>> with wg.no_grad():
    ...     y = (w * w).sum()
    >>> y.requires_grad
    False
    """
    return set_grad_enabled(False)


def enable_grad():
    """A block in which Variables record operations, even inside `no_grad()`.

    >>> import wengert as wg
    >>> with wg.no_grad(), wg.enable_grad():
    ...     wg.is_grad_enabled()
    True
    """
    return set_grad_enabled(True)


class _VarNode(Node):
    """A node of the define-by-run graph; `owner` is a weak reference to the Variable
    whose `.grad` receives this node's cotangent (leaves, and `retain_grad()`);
    `stamps` fingerprints the arrays of leaf Variables it used, so that `backward()`
    notices if one was written to in place after the forward pass."""

    __slots__ = ("owner", "stamps")

    def __init__(self, primitive, ans, args, kwargs, argnums, parents, owner=None):
        super().__init__(primitive, ans, args, kwargs, argnums, parents)
        self.owner = owner
        self.stamps = None


def _stamp_leaves(node: _VarNode) -> _VarNode:
    """Fingerprint the arrays of the leaf Variables among a new node's arguments."""
    stamps = []
    for i, parent in zip(node.argnums, node.parents):
        if parent.primitive is None:
            stamp = fingerprint(node.args[i])
            if stamp is not None:
                stamps.append((i, stamp))
    node.stamps = tuple(stamps) or None
    return node


def _check_stamps(nodes: list[Node]) -> None:
    """Raise if a leaf's array changed since a node of `nodes` recorded it."""
    for node in nodes:
        stamps = getattr(node, "stamps", None)
        if stamps is None or type(node.args) is not tuple or not node.args:
            continue
        for i, stamp in stamps:
            if fingerprint(node.args[i]) != stamp:
                raise ModifiedInputError(
                    f"backward(): the data of a Variable used by {node.primitive.name} was "
                    "modified in place after the forward pass recorded it (x.data[...] = ..., "
                    "or a write into the array it was made from), so its gradient would "
                    "belong to values that no longer exist. Assign a new array instead "
                    "(x.data = new) or run the forward pass again after the change."
                )


class DefineByRunTrace(ReverseTrace):
    """The one reverse-mode trace that Variables belong to; it never finishes."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__()
        self.level = 0  # outermost: every transformation opens its boxes first

    def process_primitive(self, primitive: Primitive, values, kwargs, argnums, boxes, nested):
        ans = primitive(*values, **kwargs) if nested else primitive.fun(*values, **kwargs)
        if primitive.multiple_results:
            return self.record_multiple(primitive, ans, values, kwargs, argnums, boxes)
        if _grad_mode.enabled:
            if len(boxes) == 1:
                parent = boxes[0].node
                if parent is not None:
                    node = _VarNode(primitive, ans, values, kwargs, argnums, (parent,))
                    if parent.primitive is None:
                        _stamp_leaves(node)
                    return _variable(ans, node)
            else:
                nums, parents = _recorded(argnums, boxes)
                if parents:
                    node = _VarNode(primitive, ans, values, kwargs, nums, parents)
                    for parent in parents:
                        if parent.primitive is None:
                            _stamp_leaves(node)
                            break
                    return _variable(ans, node)
        return _variable(ans, None)

    def record_multiple(self, primitive: Primitive, ans, args, kwargs, argnums, boxes):
        if _grad_mode.enabled:
            nums, parents = _recorded(argnums, boxes)
            if parents:
                node = _stamp_leaves(_VarNode(primitive, ans, args, kwargs, nums, parents))
                return tuple([_selected(ans, i, node) for i in range(len(ans))])
        return tuple([_variable(a, None) for a in ans])

    def revived(self):
        """Recording switched on in this thread, for recomputing a checkpoint."""
        return set_grad_enabled(True)


def _recorded(argnums, boxes) -> tuple[tuple, tuple]:
    """The argument numbers and nodes of the boxes that require grad."""
    nums, parents = [], []
    for i, box in zip(argnums, boxes):
        if box.node is not None:
            nums.append(i)
            parents.append(box.node)
    return tuple(nums), tuple(parents)


def _selected(ans: tuple, i: int, node: Node) -> Variable:
    """Result i of a primitive with several results, recorded as a selection node."""
    return _variable(ans[i], _VarNode(select, ans[i], (ans, i), {}, (0,), (node,)))


_TRACE = DefineByRunTrace()


def _variable(value, node) -> Variable:
    """A Variable made without the checks of `Variable(...)` (the hot path)."""
    v = object.__new__(Variable)
    v.value = value
    v._trace = _TRACE
    v.node = node
    v.grad = None
    return v


def _is_inexact(value) -> bool:
    return isinstance(value, (float, complex)) or np.issubdtype(np.result_type(value), np.inexact)


class Variable(ReverseBox):
    """An array that records the operations applied to it, for `backward()`.

    Operators and every function of `wengert.numpy` (and NumPy functions that dispatch to
    them) return Variables. ``y.backward()`` adds dy/dx to ``x.grad`` for every leaf `x`
    that requires grad; gradients accumulate until cleared (``x.grad = None``).
    Floating-point data requires grad by default.

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> x = wg.Variable([1.0, 2.0, 3.0])
    >>> y = wnp.sum(x ** 2)
    >>> y.backward()
    >>> x.grad
    Variable(array([2., 4., 6.]))
    """

    __slots__ = ("__weakref__", "grad")

    def __init__(self, data: Any, requires_grad: bool | None = None) -> None:
        if isinstance(data, Variable):
            data = data.value
        elif isinstance(data, Box):
            raise TypeError(
                "Variable() of a value traced by grad/vjp/jvp would hide it from that "
                "transformation; use the traced value directly inside the function."
            )
        if not (hasattr(data, "shape") and hasattr(data, "dtype")):
            data = np.asarray(data)
        self.value = data
        self._trace = _TRACE
        self.grad = None
        inexact = _is_inexact(data)
        if requires_grad is None:
            requires_grad = inexact
        if requires_grad and not inexact:
            raise TypeError(
                f"Variable(requires_grad=True) needs floating-point data, got dtype "
                f"{np.result_type(data)}: integers and booleans have no derivative. Convert "
                "with .astype(float) or pass requires_grad=False."
            )
        self.node = self._leaf_node() if requires_grad else None

    def _leaf_node(self) -> _VarNode:
        return _VarNode(None, None, (), None, (), (), weakref.ref(self))

    # --- the value and its flags -------------------------------------------------------
    @property
    def data(self) -> Any:
        """The array inside, without the graph; assigning replaces it (for updates)."""
        return self.value

    @data.setter
    def data(self, value: Any) -> None:
        if isinstance(value, Box):
            value = getval(value)
        self.value = value

    @property
    def requires_grad(self) -> bool:
        """Whether operations on this Variable are recorded for `backward()`."""
        return self.node is not None

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if not self.is_leaf:
            raise ValueError(
                "requires_grad can only be changed on a leaf Variable (one not computed "
                "from others); use .detach() to cut a computed Variable from its graph."
            )
        if flag and self.node is None:
            if not _is_inexact(self.value):
                raise TypeError(
                    f"requires_grad=True needs floating-point data, got {self.dtype}; "
                    "convert with .astype(float) first."
                )
            self.node = self._leaf_node()
        elif not flag:
            self.node = None

    def requires_grad_(self, flag: bool = True) -> Variable:
        """Set `requires_grad` in place and return this Variable."""
        self.requires_grad = flag
        return self

    @property
    def is_leaf(self) -> bool:
        """Whether this Variable was made directly rather than computed from Variables."""
        return self.node is None or self.node.primitive is None

    @property
    def grad_fn(self) -> Primitive | None:
        """The primitive that computed this Variable, or None for a leaf."""
        return None if self.node is None else self.node.primitive

    def to(self, *args: Any, dtype: Any = None, device: Any = None, copy: bool = False) -> Variable:
        """This Variable in another dtype, as PyTorch's ``Tensor.to``: ``v.to(np.float32)``,
        ``v.to("cpu")``, ``v.to(other)`` (its dtype) or ``v.to("cpu", np.float32)``.

        A change of dtype is recorded, so gradients flow back to `self` (in its own dtype);
        without a change the result is `self` (or a new Variable with ``copy=True``).
        Variables hold NumPy arrays in host memory, so "cpu" is the one device.
        """
        for arg in args:
            if isinstance(arg, Variable):
                dtype = arg.dtype
            elif isinstance(arg, str) or type(arg).__name__ == "device":
                device = arg
            else:
                dtype = arg
        if device is not None and str(device).split(":")[0] != "cpu":
            raise ValueError(
                f"Variable.to: device {str(device)!r} is not available; Variables hold NumPy "
                "arrays in host memory, whose device is 'cpu'."
            )
        if dtype is not None:
            try:
                dtype = np.dtype(dtype)
            except TypeError:
                raise TypeError(
                    f"Variable.to: {dtype!r} is neither a dtype nor a device; pass a NumPy "
                    "dtype (np.float32), 'cpu', or a Variable whose dtype to take."
                ) from None
            if dtype != self.dtype:
                return self.astype(dtype)
        return self * 1 if copy else self

    def detach(self) -> Variable:
        """The same array as a new Variable that requires no grad (no graph)."""
        return _variable(self.value, None)

    def retain_grad(self) -> None:
        """Also fill `.grad` of this computed Variable during `backward()`."""
        if self.node is None:
            raise ValueError("retain_grad() on a Variable that does not require grad.")
        if self.node.owner is None:
            self.node.owner = weakref.ref(self)

    def backward(
        self,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Sequence[Variable] | None = None,
    ) -> None:
        """Add the derivative of this Variable to the `.grad` of the leaves it depends on.

        `gradient` is the cotangent (needed unless this Variable has one element). The
        graph is freed afterwards unless `retain_graph`; `create_graph=True` records the
        backward pass itself, so the gradients are Variables that can be differentiated
        again. `inputs` limits which Variables receive gradients.

        >>> import wengert as wg
        >>> x = wg.Variable(3.0)
        >>> y = x ** 3
        >>> y.backward(create_graph=True)
        >>> g = x.grad
        >>> x.grad = None
        >>> g.backward()
        >>> float(g), float(x.grad)
        (27.0, 18.0)
        """
        backward(
            [self], None if gradient is None else [gradient], retain_graph, create_graph, inputs
        )

    # --- conversions: explicit ones are allowed ------------------------------------------
    def numpy(self) -> Any:
        """The array inside (not a copy), without the graph."""
        return self.value

    def item(self, *args) -> Any:
        """The single element as a Python number (drops the graph, as intended)."""
        return np.asarray(self.value).item(*args)

    def tolist(self) -> Any:
        """The array as nested Python lists."""
        return np.asarray(self.value).tolist()

    def __float__(self) -> float:
        return float(self.value)

    def __complex__(self) -> complex:
        return complex(self.value)

    def __array__(self, dtype=None, copy=None):
        if self.node is not None:
            raise TracedConversionError(
                f"a Variable of shape {self.shape} that requires grad was converted to a "
                "NumPy array, which would drop its derivative. Use x.detach() or x.data "
                "for the array, x.item() for a number, or wengert.numpy functions to keep "
                "the derivative."
            )
        value = np.asarray(self.value, dtype=dtype)
        return value.copy() if copy else value

    # --- copies and pickling make new leaves on the one define-by-run trace --------------
    def __deepcopy__(self, memo: dict) -> Variable:
        import copy

        new = type(self)(copy.deepcopy(self.value, memo), requires_grad=self.requires_grad)
        if self.grad is not None:
            new.grad = _variable(copy.deepcopy(self.grad.value, memo), None)
        return new

    def __copy__(self) -> Variable:
        return type(self)(self.value, requires_grad=self.requires_grad)

    def __reduce__(self):
        return type(self), (self.value, self.requires_grad)

    def __repr__(self) -> str:
        text = repr(self.value)
        if self.node is not None:
            if self.node.primitive is None:
                text += ", requires_grad=True"
            else:
                text += f", grad_fn=<{self.node.primitive.name}>"
        return f"{type(self).__name__}({text})"


def _freed_rule(g, ans, argnums, *args, **kwargs):
    raise FreedGraphError(
        "backward() reached a part of the graph that an earlier backward() already freed. "
        "Pass retain_graph=True to the first backward() to go through the graph twice, or "
        "recompute the forward pass."
    )


_FREED = Primitive(lambda *args: None, "freed")
_FREED.defvjp_all(_freed_rule)


def _reachable(roots: list[Node]) -> list[Node]:
    """Every node reachable from `roots` (iteratively)."""
    seen: set[Node] = set()
    order = []
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        order.append(node)
        stack.extend(node.parents)
    return order


def _rebox(node: Node) -> tuple[Any, tuple]:
    """A node's result and arguments as Variables on its graph, to record a backward pass."""
    args = node.args
    if node.argnums:
        args = list(args)
        for i, parent in zip(node.argnums, node.parents):
            args[i] = _variable(args[i], parent)
        args = tuple(args)
    if node.primitive.multiple_results:
        return tuple([_selected(node.ans, i, node) for i in range(len(node.ans))]), args
    return _variable(node.ans, node), args


def _free(nodes: list[Node]) -> None:
    """Drop what the rules of computed nodes hold, keeping the links to detect reuse."""
    for node in nodes:
        if node.primitive is not None:
            node.primitive = _FREED
            node.ans = None
            node.args = ()
            node.kwargs = {}
            node.stamps = None


def _seed(output: Variable, gradient: Any, create_graph: bool) -> tuple[Node, Any]:
    if not isinstance(output, Variable):
        raise TypeError(
            f"backward() needs Variables as outputs, got {type(output).__name__}; "
            "for functions of plain arrays use wengert.grad or wengert.vjp."
        )
    if output.node is None:
        raise ValueError(
            "backward() of a Variable that does not require grad: none of the Variables "
            "it was computed from requires grad (or it was computed inside no_grad())."
        )
    if gradient is None:
        if np.size(output.value) != 1:
            raise NonScalarOutputError(
                f"backward() without a gradient needs a single-element output, but this "
                f"Variable has shape {output.shape}; reduce it (e.g. .sum()) or pass "
                "gradient=, the cotangent, of the output's shape."
            )
        return output.node, ones_like(output.value)
    if shape_of(gradient) != shape_of(output.value):
        raise ValueError(
            f"backward(): the gradient has shape {shape_of(gradient)}, but the output has "
            f"shape {shape_of(output.value)}; they must match."
        )
    if not create_graph:
        gradient = getval(gradient)
    return output.node, gradient


def _run(outputs, gradients, targets, retain_graph, create_graph) -> list[Any]:
    """The engine's backward pass from `outputs` to the nodes `targets`."""
    if gradients is None:
        gradients = [None] * len(outputs)
    if len(gradients) != len(outputs):
        raise ValueError(
            f"backward(): {len(gradients)} gradients for {len(outputs)} outputs; pass one "
            "per output (None for a single-element output)."
        )
    seeds = [_seed(out, g, create_graph) for out, g in zip(outputs, gradients)]
    nodes = _reachable([node for node, _ in seeds])
    _check_stamps(nodes)
    if targets is None:
        targets = [node for node in nodes if node.owner is not None]
    retain = create_graph if retain_graph is None else retain_graph
    with set_grad_enabled(create_graph):
        cotangents = _engine_backward(
            seeds,
            targets,
            _rebox if create_graph else None,
            release=not (retain or create_graph),
        )
    if not retain:
        _free(nodes)
    return list(zip(targets, cotangents))


def _as_grad(c: Any, like: Any) -> Variable:
    """A cotangent as a Variable with the primal's dtype."""
    if isinstance(c, Variable):
        return c
    dtype = getattr(like, "dtype", None)
    if dtype is not None and getattr(c, "dtype", dtype) != dtype and not np.iscomplexobj(c):
        c = np.asarray(c).astype(dtype)
    return _variable(c, None)


def backward(
    outputs: Sequence[Variable],
    gradients: Sequence[Any] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Sequence[Variable] | None = None,
) -> None:
    """Accumulate into `.grad` the derivative of the sum of `outputs` (each weighted by
    its `gradients` entry) with respect to the leaves, as ``out.backward()`` does for one.

    >>> from wengert.variable import Variable, backward
    >>> x = Variable(2.0)
    >>> backward([x * x, 3.0 * x])
    >>> float(x.grad)
    7.0
    """
    if inputs is None:
        targets, owners = None, None
    else:
        owners = list(inputs)
        for v in owners:
            if not isinstance(v, Variable) or v.node is None:
                raise ValueError("backward(inputs=...) takes Variables that require grad.")
        targets = [v.node for v in owners]
    pairs = _run(list(outputs), gradients, targets, retain_graph, create_graph)
    for k, (node, c) in enumerate(pairs):
        if c is None:
            continue
        if owners is not None:
            owner = owners[k]
        else:
            owner = node.owner()
            if owner is None:
                continue
        _accumulate_grad(owner, _as_grad(c, owner.value), create_graph)


# `.grad` is read, added to and written back; threads running backward() on graphs that
# share a leaf must not interleave those steps, or one thread's gradient is lost.
_grad_lock = threading.Lock()


def _accumulate_grad(owner: Variable, g: Variable, create_graph: bool) -> None:
    """Add `g` into ``owner.grad`` (recorded when `create_graph`), atomically."""
    with _grad_lock:
        if owner.grad is None:
            owner.grad = g
        elif create_graph:
            with enable_grad():
                owner.grad = owner.grad + g
        else:
            owner.grad = _variable(owner.grad.value + g.value, None)


def gradients(
    outputs: Variable | Sequence[Variable],
    inputs: Variable | Sequence[Variable],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> tuple[Variable, ...]:
    """The derivatives of `outputs` with respect to `inputs`, returned, not accumulated.

    Like ``backward`` but it leaves every `.grad` alone; with ``create_graph=True`` the
    results can be differentiated again (gradient penalties, Hessian-vector products).
    An input the outputs do not depend on gets zeros.

    >>> from wengert.variable import Variable, gradients
    >>> x = Variable(3.0)
    >>> (g,) = gradients(x ** 2, x, create_graph=True)
    >>> (h,) = gradients(g, x)
    >>> float(g), float(h), x.grad is None
    (6.0, 2.0, True)
    """
    outs = [outputs] if isinstance(outputs, Box) else list(outputs)
    ins = [inputs] if isinstance(inputs, Box) else list(inputs)
    if grad_outputs is not None and isinstance(outputs, Box):
        grad_outputs = [grad_outputs]
    for v in ins:
        if not isinstance(v, Variable) or v.node is None:
            raise ValueError("gradients(): every input must be a Variable that requires grad.")
    pairs = _run(outs, grad_outputs, [v.node for v in ins], retain_graph, create_graph)
    result = []
    for v, (_, c) in zip(ins, pairs):
        if c is None:
            c = np.zeros_like(v.value)
        result.append(_as_grad(c, v.value))
    return tuple(result)
