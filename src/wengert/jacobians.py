"""Jacobians and Hessians, by forward or reverse mode, with every direction in one pass.

Forward mode gives one Jacobian column per input direction, reverse mode one row per
output direction. Both push all their directions through the rules at once: the basis
of directions travels as one batch, with a leading batch axis (see
`wengert._core.batching`), so a Jacobian costs one vectorised pass, not one Python-level
pass per basis vector. Output layout, as in JAX: the output's shape followed by the
input's shape; with trees, a tree shaped like the output whose leaves are trees shaped
like the (differentiated) input.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import numpy as wnp
from ._core.batching import BatchTrace
from ._core.box import peek
from ._core.reverse import Node, apply_jvp, toposort
from ._core.tree import TreeDef, tree_flatten, tree_unflatten
from ._core.vspace import inexact_dtype, ones_like, shape_of, zeros_like
from ._validate import Stamps
from .api import grad, jvp, vjp
from .argnums import argnums_partial, is_single, normalize_argnums
from .tracing import Recording, check_inexact, record

__all__ = [
    "derivative",
    "hessian",
    "hvp",
    "jacfwd",
    "jacobian",
    "jacrev",
    "linearize",
    "ravel_tree",
    "vhp",
]

# Accepted spellings of jacobian's mode.
MODES = {
    "auto": "auto",
    "forward": "forward",
    "fwd": "forward",
    "reverse": "reverse",
    "rev": "reverse",
}


# --- shared pieces ------------------------------------------------------------------------


def _name(fun: Callable) -> str:
    return getattr(fun, "__name__", "fun")


def _setup(fun, argnums, args, kwargs, name):
    """The differentiated input as one tree, `fun` as a function of that tree alone, and
    the map from a tree shaped like that input to the layout `argnums` asks for."""
    diff_args, partial, expand = argnums_partial(fun, args, kwargs, argnums, name)
    if is_single(argnums):
        return diff_args[0], partial, _same
    return diff_args, lambda tree: partial(*tree), expand


def _same(tree: Any) -> Any:
    return tree


def _check_complex(leaves: list, holomorphic: bool, name: str, what: str) -> None:
    for i, leaf in enumerate(leaves):
        is_complex = np.iscomplexobj(peek(leaf))
        if holomorphic and not is_complex:
            raise TypeError(
                f"{name} with holomorphic=True needs complex {what}, but {what} leaf {i} is "
                f"real ({np.result_type(peek(leaf))}); convert it with astype(complex)."
            )
        if is_complex and not holomorphic:
            raise TypeError(
                f"{name} got a complex {what} (leaf {i}). Pass holomorphic=True if the "
                "function is holomorphic, or write it in terms of real and imaginary parts."
            )


def _sizes(leaves: list) -> list[int]:
    return [math.prod(shape_of(leaf)) for leaf in leaves]


def _basis(leaves: list, total: int) -> list:
    """The standard basis of the space of `leaves`, one array (total, *shape) per leaf."""
    seeds, offset = [], 0
    rows = np.arange(total)
    for leaf, n in zip(leaves, _sizes(leaves)):
        value = peek(leaf)
        dtype = inexact_dtype(value)
        if isinstance(value, np.ndarray):
            seed = np.zeros_like(value, dtype=dtype, shape=(total, n))
        else:  # a Python number, or a symbolic expression
            seed = np.zeros((total, n), dtype=dtype)
        seed[rows[offset : offset + n], np.arange(n)] = 1
        seeds.append(seed.reshape((total, *shape_of(leaf))))
        offset += n
    return seeds


def _plain(x: Any) -> Any:
    """A 0-d NumPy array as a NumPy scalar, as NumPy's own reductions return."""
    if type(x) is np.ndarray and x.ndim == 0:
        return x[()]
    return x


def _block(value, offset: int, n: int, total: int):
    """Rows offset:offset+n of a stacked batch (all of it when it is the only block)."""
    return value if n == total else value[offset : offset + n]


def _assemble(out_def: TreeDef, in_def: TreeDef, blocks: list[list], expand=_same) -> Any:
    """Jacobian blocks[j][k] (output leaf j, input leaf k) as a tree of input trees, each
    laid out by `expand` (repeated argnums)."""
    return tree_unflatten(
        out_def, [expand(tree_unflatten(in_def, [_plain(b) for b in row])) for row in blocks]
    )


def _forward(
    f: Callable, tree: Any, has_aux: bool, holomorphic: bool, name: str, expand=_same
) -> tuple:
    """(output, Jacobian, aux) by forward mode: all input directions in one batch."""
    in_leaves, in_def = tree_flatten(tree)
    check_inexact(in_leaves, name)
    _check_complex(in_leaves, holomorphic, name, "input")
    sizes = _sizes(in_leaves)
    total = sum(sizes)
    if total == 1 and len(in_leaves) == 1:  # one direction: no batch needed
        tangents = [ones_like(leaf) for leaf in in_leaves]
        result = jvp(f, (tree,), (tree_unflatten(in_def, tangents),), has_aux=has_aux)
        out, out_tangent = result[0], result[1]
        out_leaves, out_def = tree_flatten(out)
        t_leaves = tree_flatten(out_tangent)[0]
        in_shape = shape_of(in_leaves[0])
        blocks = [[wnp.reshape(t, (*shape_of(o), *in_shape))] for o, t in zip(out_leaves, t_leaves)]
        return out, _assemble(out_def, in_def, blocks, expand), result[2] if has_aux else None
    trace = BatchTrace(total)
    try:
        tangents = [trace.new_input(seed) for seed in _basis(in_leaves, total)]
        result = jvp(f, (tree,), (tree_unflatten(in_def, tangents),), has_aux=has_aux)
        out, out_tangent = result[0], result[1]
        t_leaves = tree_flatten(out_tangent)[0]
        stacked = [trace.unbatch(t) for t in t_leaves]
    finally:
        trace.alive = False
    out_leaves, out_def = tree_flatten(out)
    blocks = []
    for o, value in zip(out_leaves, stacked):
        out_shape, row, offset = shape_of(o), [], 0
        for leaf, n in zip(in_leaves, sizes):
            part = wnp.moveaxis(_block(value, offset, n, total), 0, -1)
            row.append(wnp.reshape(part, (*out_shape, *shape_of(leaf))))
            offset += n
        blocks.append(row)
    return out, _assemble(out_def, in_def, blocks, expand), result[2] if has_aux else None


def _reverse_from(
    out, pullback, in_leaves, in_def, holomorphic: bool, name: str, expand=_same
) -> Any:
    """The Jacobian from a recorded evaluation: all output directions in one batch."""
    out_leaves, out_def = tree_flatten(out)
    _check_complex(out_leaves, holomorphic, name, "output")
    sizes = _sizes(out_leaves)
    total = sum(sizes)
    in_shapes = [shape_of(leaf) for leaf in in_leaves]
    if total == 1 and len(out_leaves) == 1:
        (cotangent,) = pullback(tree_unflatten(out_def, [ones_like(o) for o in out_leaves]))
        cot_leaves = tree_flatten(cotangent)[0]
        out_shape = shape_of(out_leaves[0])
        blocks = [[wnp.reshape(c, (*out_shape, *s)) for c, s in zip(cot_leaves, in_shapes)]]
        return _assemble(out_def, in_def, blocks, expand)
    trace = BatchTrace(total)
    try:
        seeds = [trace.new_input(seed) for seed in _basis(out_leaves, total)]
        (cotangent,) = pullback(tree_unflatten(out_def, seeds))
        stacked = [trace.unbatch(c) for c in tree_flatten(cotangent)[0]]
    finally:
        trace.alive = False
    blocks, offset = [], 0
    for o, n in zip(out_leaves, sizes):
        blocks.append(
            [
                wnp.reshape(_block(value, offset, n, total), (*shape_of(o), *s))
                for value, s in zip(stacked, in_shapes)
            ]
        )
        offset += n
    return _assemble(out_def, in_def, blocks, expand)


def _reverse(
    f: Callable, tree: Any, has_aux: bool, holomorphic: bool, name: str, expand=_same
) -> tuple:
    """(output, Jacobian, aux) by reverse mode: one recorded evaluation, one batched pass."""
    in_leaves, in_def = tree_flatten(tree)
    result = vjp(f, tree, has_aux=has_aux)
    jac = _reverse_from(result[0], result[1], in_leaves, in_def, holomorphic, name, expand)
    return result[0], jac, result[2] if has_aux else None


def _finish(fun: Callable, wrapper: Callable, what: str) -> Callable:
    wrapper.__name__ = f"{what}_{_name(fun)}"
    wrapper.__qualname__ = wrapper.__name__
    wrapper.__doc__ = f"{what.capitalize()} of {_name(fun)}."
    return wrapper


# --- Jacobians -----------------------------------------------------------------------------


def jacfwd(
    fun: Callable,
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable:
    """The Jacobian of `fun` by forward mode: one column per input direction, all at once.

    Costs about one evaluation plus one JVP per input entry, vectorised into one pass, so
    it suits functions with fewer inputs than outputs. The result has the output's shape
    followed by the input's shape (trees: a tree like the output of trees like the
    input). With ``has_aux=True`` `fun` returns ``(output, aux)`` and so does the result.

    >>> import numpy as np
    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> wg.jacfwd(lambda x: wnp.stack([x[0] * x[1], wnp.sin(x[0])]))(np.array([0.0, 2.0]))
    array([[2., 0.],
           [1., 0.]])
    """

    def jacfwd_fun(*args, **kwargs):
        tree, f, expand = _setup(fun, argnums, args, kwargs, "jacfwd")
        _, jac, aux = _forward(f, tree, has_aux, holomorphic, "jacfwd", expand)
        return (jac, aux) if has_aux else jac

    return _finish(fun, jacfwd_fun, "jacfwd")


def jacrev(
    fun: Callable,
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable:
    """The Jacobian of `fun` by reverse mode: one row per output direction, all at once.

    Costs one recorded evaluation plus one VJP per output entry, vectorised into one
    backward pass, so it suits functions with fewer outputs than inputs. Same layout and
    ``has_aux`` as `jacfwd`.

    >>> import numpy as np
    >>> import wengert as wg
    >>> wg.jacrev(lambda x: x ** 2)(np.array([1.0, 3.0]))
    array([[2., 0.],
           [0., 6.]])
    """

    def jacrev_fun(*args, **kwargs):
        tree, f, expand = _setup(fun, argnums, args, kwargs, "jacrev")
        _, jac, aux = _reverse(f, tree, has_aux, holomorphic, "jacrev", expand)
        return (jac, aux) if has_aux else jac

    return _finish(fun, jacrev_fun, "jacrev")


def _signature(tree: Any) -> tuple:
    leaves, treedef = tree_flatten(tree)
    return treedef, tuple((shape_of(x), np.result_type(peek(x))) for x in leaves)


def jacobian(
    fun: Callable,
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
    mode: str = "auto",
) -> Callable:
    """The Jacobian of `fun`, by the cheaper mode unless `mode` says which.

    ``mode="auto"`` uses forward mode when the differentiated inputs have fewer entries
    than the outputs, and reverse mode otherwise (as many or fewer outputs): forward mode
    costs one JVP per input entry, reverse mode one VJP per output entry. The output size
    is learnt on the first call for each input signature (shapes and dtypes) and the
    choice remembered; ``jac_fun.chosen_mode`` says which mode the last call used,
    "forward" or "reverse". ``mode="forward"`` (or "fwd") and ``mode="reverse"`` (or
    "rev") force one. Same layout and ``has_aux`` as `jacfwd`.

    >>> import numpy as np
    >>> import wengert as wg
    >>> jac = wg.jacobian(lambda x: x[:2] * x[2])
    >>> jac(np.array([1.0, 2.0, 3.0]))
    array([[3., 0., 1.],
           [0., 3., 2.]])
    >>> jac.chosen_mode
    'reverse'
    """
    if mode not in MODES:
        raise ValueError(f"jacobian: mode must be one of {sorted(MODES)}, got {mode!r}.")
    mode = MODES[mode]
    choices: dict = {}

    def jacobian_fun(*args, **kwargs):
        tree, f, expand = _setup(fun, argnums, args, kwargs, "jacobian")
        chosen = mode
        key = None
        if chosen == "auto":
            key = _signature(tree)
            chosen = choices.get(key, "auto")
        if chosen == "forward":
            _, jac, aux = _forward(f, tree, has_aux, holomorphic, "jacobian", expand)
        elif chosen == "reverse":
            _, jac, aux = _reverse(f, tree, has_aux, holomorphic, "jacobian", expand)
        else:
            # First call for this signature: record (reverse mode's first step), which
            # tells the output size; keep the recording if reverse mode is the cheaper.
            in_leaves, in_def = tree_flatten(tree)
            result = vjp(f, tree, has_aux=has_aux)
            n_in = sum(_sizes(in_leaves))
            n_out = sum(_sizes(tree_flatten(result[0])[0]))
            chosen = choices[key] = "forward" if n_in < n_out else "reverse"
            if chosen == "reverse":
                jac = _reverse_from(
                    result[0], result[1], in_leaves, in_def, holomorphic, "jacobian", expand
                )
                aux = result[2] if has_aux else None
            else:
                del result
                _, jac, aux = _forward(f, tree, has_aux, holomorphic, "jacobian", expand)
        jacobian_fun.chosen_mode = chosen
        return (jac, aux) if has_aux else jac

    jacobian_fun.chosen_mode = None
    return _finish(fun, jacobian_fun, "jacobian")


# --- second derivatives ------------------------------------------------------------------

HESSIAN_MODES = {
    "forward-over-reverse": (jacfwd, jacrev),
    "reverse-over-reverse": (jacrev, jacrev),
    "forward-over-forward": (jacfwd, jacfwd),
    "reverse-over-forward": (jacrev, jacfwd),
}
HESSIAN_MODES.update(
    {
        "fwd-rev": (jacfwd, jacrev),
        "rev-rev": (jacrev, jacrev),
        "fwd-fwd": (jacfwd, jacfwd),
        "rev-fwd": (jacrev, jacfwd),
    }
)


def hessian(
    fun: Callable,
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
    mode: str = "forward-over-reverse",
) -> Callable:
    """The Hessian of `fun`: the Jacobian of its gradient, forward over reverse by default.

    Forward-over-reverse records the function once and pushes every input direction
    through the gradient in one vectorised pass. Other modes: "reverse-over-reverse",
    "forward-over-forward", "reverse-over-forward" (short forms "fwd-rev", "rev-rev",
    "fwd-fwd", "rev-fwd"). Layout: output shape, then input shape twice.

    >>> import numpy as np
    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> wg.hessian(lambda x: wnp.sum(x ** 3) + x[0] * x[1])(np.array([1.0, 2.0]))
    array([[ 6.,  1.],
           [ 1., 12.]])
    """
    if mode not in HESSIAN_MODES:
        raise ValueError(f"hessian: mode must be one of {sorted(HESSIAN_MODES)}, got {mode!r}.")
    outer, inner = HESSIAN_MODES[mode]
    hess = outer(inner(fun, argnums, has_aux, holomorphic), argnums, has_aux, holomorphic)
    return _finish(fun, hess, "hessian")


def _check_pairs(name: str, primals: Any, vectors: Any, what: str) -> None:
    if not isinstance(primals, (tuple, list)) or not isinstance(vectors, (tuple, list)):
        raise TypeError(
            f"{name} takes primals and {what} as tuples with one entry per argument, e.g. "
            f"{name}(f, (x,), (v,)); got {type(primals).__name__} and {type(vectors).__name__}."
        )
    if len(primals) != len(vectors):
        raise ValueError(f"{name}: {len(primals)} primals but {len(vectors)} {what}.")


def _hessian_products(name: str, fun: Callable, primals: Sequence, vectors: Sequence, argnums):
    """The arguments `argnums` select, the gradient in them as a function of them alone,
    and the vectors checked against them."""
    what = "tangents" if name == "hvp" else "cotangents"
    if not isinstance(primals, (tuple, list)):
        _check_pairs(name, primals, vectors, what)
    primals = tuple(primals)
    nums = (
        tuple(range(len(primals)))
        if argnums is None
        else normalize_argnums(argnums, len(primals), name)
    )
    chosen = tuple(primals[i] for i in nums)
    _check_pairs(name, chosen, vectors, what)
    gradient = grad(fun, argnums=nums)

    def gradient_in_chosen(*values):
        full = list(primals)
        for i, value in zip(nums, values):
            full[i] = value
        return gradient(*full)

    return gradient_in_chosen, chosen


def hvp(
    fun: Callable,
    primals: Sequence,
    tangents: Sequence,
    argnums: int | Sequence[int] | None = None,
) -> tuple:
    """The Hessian-vector product H v of a scalar `fun`, without forming the Hessian.

    Forward over reverse: one JVP of the gradient, a small constant times the cost of the
    function. `primals` is a tuple with one entry per argument; `tangents` has one entry
    per differentiated argument (all of them, or those `argnums` names, the others held
    fixed), and so has the result: the rows of H v belonging to each.

    >>> import numpy as np
    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> wg.hvp(lambda x: wnp.sum(x ** 3), (np.array([1.0, 2.0]),), (np.array([1.0, 1.0]),))
    (array([ 6., 12.]),)
    >>> wg.hvp(lambda x, y: x ** 2 * y ** 3, (2.0, 1.0), (1.0,), argnums=1)
    (24.0,)
    """
    gradient, chosen = _hessian_products("hvp", fun, primals, tangents, argnums)
    return tuple(jvp(gradient, chosen, tuple(tangents))[1])


def vhp(
    fun: Callable,
    primals: Sequence,
    cotangents: Sequence,
    argnums: int | Sequence[int] | None = None,
) -> tuple:
    """The vector-Hessian product v^T H of a scalar `fun`, by reverse over reverse.

    Equal to `hvp` for the (symmetric) Hessian of a smooth function; it needs no forward
    rules, at the price of recording the gradient's evaluation. Same arguments, `argnums`
    and result layout as `hvp`.

    >>> import numpy as np
    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> wg.vhp(lambda x: wnp.sum(x ** 3), (np.array([1.0, 2.0]),), (np.array([1.0, 0.0]),))
    (array([6., 0.]),)
    """
    gradient, chosen = _hessian_products("vhp", fun, primals, cotangents, argnums)
    _, pullback = vjp(gradient, *chosen)
    return tuple(pullback(tuple(cotangents)))


# --- linearize -------------------------------------------------------------------------------


class LinearizedJVP:
    """The JVP of a function at a fixed point, applied to tangents without re-evaluating.

    One recorded evaluation holds every primitive's inputs and result; each call pushes
    tangents forward through the recorded primitives' forward rules only. ``batched``
    pushes a whole batch of tangents (leading batch axis) at once.
    """

    __slots__ = ("_fallback", "_in_def", "_in_nodes", "_in_values", "_order", "_out", "_stamps")

    def __init__(self, recording: Recording, fun: Callable):
        self._in_nodes = recording.in_nodes
        self._in_values = recording.in_values
        self._in_def = recording.in_def
        self._out = (recording.out_boxes, recording.out_values, recording.out_def)
        named = [(f"input leaf {i}", v) for i, v in enumerate(recording.in_values)]
        named += [(f"output leaf {i}", v) for i, v in enumerate(recording.out_values)]
        self._stamps = Stamps(named)
        roots = [b.node for b in recording.out_boxes if b is not None]
        self._order = [n for n in reversed(toposort(roots)) if n.primitive is not None]
        # A primitive without forward rule: evaluate `fun` again with forward mode instead.
        self._fallback = None
        if not all(_has_forward_rules(n) for n in self._order):
            self._fallback = (fun, tree_unflatten(recording.in_def, recording.in_values))

    def _leaves(self, tangents: tuple, batch: int | None) -> list:
        leaves, treedef = tree_flatten(tuple(tangents))
        if treedef != self._in_def:
            raise ValueError(
                f"linearize: the tangents have structure {treedef}, but the primals have "
                f"{self._in_def}; pass one tangent per primal, shaped like it."
            )
        for i, (t, p) in enumerate(zip(leaves, self._in_values)):
            expected = shape_of(p) if batch is None else (batch, *shape_of(p))
            if shape_of(t) != expected:
                raise ValueError(
                    f"linearize: tangent leaf {i} has shape {shape_of(t)}, expected {expected}."
                )
        return leaves

    def _push(self, leaves: list) -> list:
        self._stamps.check("linearize")
        if self._fallback is not None:
            fun, primals = self._fallback
            t_tree = tree_unflatten(self._in_def, leaves)
            return tree_flatten(jvp(fun, primals, t_tree)[1])[0]
        tangent = {n: t for n, t in zip(self._in_nodes, leaves)}
        for node in self._order:
            ts = None
            for argnum, parent in zip(node.argnums, node.parents):
                t = tangent.get(parent)
                if t is not None:
                    if ts is None:
                        ts = [None] * len(node.args)
                    ts[argnum] = t
            if ts is None:
                continue
            out = apply_jvp(node, ts)
            if out is not None:
                tangent[node] = out
        out_boxes, out_values, _ = self._out
        return [
            zeros_like(v) if b is None or tangent.get(b.node) is None else tangent[b.node]
            for b, v in zip(out_boxes, out_values)
        ]

    def __call__(self, *tangents: Any) -> Any:
        """The output tangent for one tangent per primal."""
        out = self._push(self._leaves(tangents, None))
        return tree_unflatten(self._out[2], out)

    def batched(self, *tangents: Any) -> Any:
        """Output tangents for a batch of tangents, each with a leading batch axis."""
        leaves = tree_flatten(tuple(tangents))[0]
        if not leaves:
            raise ValueError("linearize: batched needs at least one tangent.")
        size = shape_of(leaves[0])[0]
        leaves = self._leaves(tangents, size)
        trace = BatchTrace(size)
        try:
            out = self._push([trace.new_input(t) for t in leaves])
            out = [trace.unbatch(t) for t in out]
        finally:
            trace.alive = False
        return tree_unflatten(self._out[2], out)


def _has_forward_rules(node: Node) -> bool:
    primitive = node.primitive
    return primitive.jvp_all is not None or any(r is not None for r in primitive.jvp_rules)


def linearize(fun: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """Evaluate `fun` once at `primals` and return its output and its JVP there.

    ``jvp_fun(*tangents)`` (one tangent per primal) gives the output tangent, pushing the
    tangents through the recorded primitives' forward rules without evaluating `fun`
    again; ``jvp_fun.batched(*tangents)`` does the same for tangents with a leading batch
    axis, in one vectorised pass. Returns ``(output, jvp_fun)``, plus aux with
    ``has_aux=True``. (A function containing a `custom_vjp` primitive, which has no
    forward rule of its own, is evaluated again by each call instead.)

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> out, jvp_fun = wg.linearize(wnp.sin, 0.0)
    >>> out, jvp_fun(2.0)
    (0.0, 2.0)
    """
    recording = record(fun, primals, has_aux, "linearize")
    linear = LinearizedJVP(recording, fun)
    if has_aux:
        return recording.output, linear, recording.aux
    return recording.output, linear


# --- flat vectors ------------------------------------------------------------------------------


def ravel_tree(tree: Any) -> tuple[Any, Callable]:
    """All leaves of `tree` as one flat vector, and the function that rebuilds the tree.

    The vector concatenates the leaves' entries in C order; ``unravel(vector)`` gives a
    tree of the same structure and shapes (traced if the vector is). Optimisers and
    sparse Jacobians work on such vectors.

    >>> import numpy as np
    >>> flat, unravel = ravel_tree({"w": np.ones((2, 2)), "b": 3.0})
    >>> flat
    array([3., 1., 1., 1., 1.])
    >>> unravel(flat)["w"].shape
    (2, 2)
    """
    leaves, treedef = tree_flatten(tree)
    shapes = [shape_of(leaf) for leaf in leaves]
    sizes = [math.prod(s) for s in shapes]
    if not leaves:
        flat = np.zeros(0)
    elif len(leaves) == 1:
        flat = wnp.reshape(leaves[0], (-1,))
    else:
        flat = wnp.concatenate([wnp.reshape(leaf, (-1,)) for leaf in leaves])

    def unravel(vector: Any) -> Any:
        if shape_of(vector) != (sum(sizes),):
            raise ValueError(
                f"unravel: expected a vector of {sum(sizes)} entries, got shape {shape_of(vector)}."
            )
        out, offset = [], 0
        for shape, n in zip(shapes, sizes):
            piece = vector if len(leaves) == 1 else vector[offset : offset + n]
            out.append(_plain(wnp.reshape(piece, shape)))
            offset += n
        return tree_unflatten(treedef, out)

    return flat, unravel


# --- derivatives of scalar functions ---------------------------------------------------------


def derivative(fun: Callable, order: int = 1, argnum: int = 0) -> Callable:
    """The `order`-th derivative of a scalar function of one variable (argument `argnum`),
    as a function: ``derivative(fun)(x)``.

    It is exact (automatic differentiation); `wengert.numeric.derivative(fun, x, n=...)`
    is the numerical estimate, which takes the point and returns a value.

    Nested forward mode: each order is one JVP along 1, so order k costs about 2^k
    evaluations. An array argument gives the derivative at each of its entries when
    `fun` acts elementwise (as `elementwise_grad` does for the first derivative).

    >>> import wengert as wg
    >>> import wengert.numpy as wnp
    >>> wg.derivative(wnp.sin, order=3)(0.0)
    -1.0
    """
    if not callable(fun):
        raise TypeError(
            f"derivative: fun must be callable, got {type(fun).__name__}; call it as "
            "wengert.derivative(fun, order)(x)."
        )
    if isinstance(order, bool) or not isinstance(order, int) or order < 0:
        hint = ""
        if isinstance(order, (float, complex, np.ndarray)):
            hint = (
                " wengert.derivative returns a function: call wengert.derivative(fun)(x) for "
                "its value at x (wengert.numeric.derivative(fun, x) is the numerical estimate)."
            )
        raise ValueError(f"derivative: order must be a non-negative integer, got {order!r}.{hint}")

    def once(f: Callable) -> Callable:
        def derivative_fun(*args, **kwargs):
            if not -len(args) <= argnum < len(args):
                raise ValueError(f"derivative: argnum {argnum} is out of range.")
            x = args[argnum]

            def along(y):
                full = list(args)
                full[argnum] = y
                return f(*full, **kwargs)

            return jvp(along, (x,), (ones_like(x),))[1]

        return derivative_fun

    result = fun
    for _ in range(order):
        result = once(result)
    if order:
        result.__name__ = f"derivative{order}_{_name(fun)}"
    return result
