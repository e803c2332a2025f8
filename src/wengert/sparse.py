"""Sparse Jacobians and Hessians: find the pattern, colour it, and share directions.

When most entries of a Jacobian are structurally zero (banded systems, block-diagonal
maps, PDE stencils), columns that have no nonzero row in common are *structurally
orthogonal*: one forward pass along the sum of their basis vectors gives all of them,
each entry read off from the row where it is nonzero. Greedy colouring groups the
columns (or, for reverse mode, the rows) so that each group is one direction; a
tridiagonal Jacobian of any size needs 3.

The pattern comes from the traced graph: one recorded evaluation, through which each
primitive's dependency structure is propagated (which input entries each entry of its
result depends on); zeros of constant matrices are respected, traced values are taken as
nonzero. Each call records the function once and pushes (or pulls) the coloured
directions through that recording; a fingerprint of the graph's structure (primitives,
connections, shapes, index arrays and other static arguments) tells whether the pattern
found earlier still holds, so indexing or branches that depend on the point are followed
rather than reused wrongly. A pattern can also be given (it is then trusted). Results
are `scipy.sparse` CSR matrices; SciPy is needed (``pip install 'wengert[scipy]'``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._core.batching import BatchTrace
from ._core.box import Box, getval, peek
from ._core.patterns import TABLE_LIMIT, empty, entries, pattern_rule_of
from ._core.patterns import scipy_sparse as _sp
from ._core.reverse import Node, materialize, toposort
from ._core.tree import tree_flatten
from ._core.vspace import shape_of
from ._validate import fingerprint
from .api import Pullback, grad
from .argnums import normalize_argnums
from .jacobians import _setup, ravel_tree
from .tracing import Recording, record

__all__ = [
    "SparseHessian",
    "SparseJacobian",
    "color_columns",
    "color_rows",
    "hessian_sparsity",
    "jacobian_sparsity",
    "sparse_hessian",
    "sparse_jacobian",
]


def _node_patterns(recording: Recording, n: int) -> list:
    """The patterns of the output leaves of a recorded evaluation (n input entries)."""
    sp = _sp()
    patterns: dict[Node, Any] = {}
    offset = 0
    for node, value in zip(recording.in_nodes, recording.in_values):
        size = entries(value)
        patterns[node] = sp.csr_matrix(
            (np.ones(size, dtype=bool), (np.arange(size), offset + np.arange(size))),
            shape=(size, n),
        )
        offset += size
    outputs = [box.node for box in recording.out_boxes if box is not None]
    for node in reversed(toposort(outputs)):
        if node.primitive is None:
            continue
        materialize(node)
        traced = {i: patterns[p] for i, p in zip(node.argnums, node.parents)}
        rule = pattern_rule_of(node.primitive)
        patterns[node] = rule(node.args, node.kwargs, traced, node.ans, n)
    return [
        empty(entries(value), n) if box is None else patterns[box.node]
        for box, value in zip(recording.out_boxes, recording.out_values)
    ]


def jacobian_sparsity(
    fun: Callable, *args: Any, argnums: int | Sequence[int] = 0, **kwargs: Any
) -> Any:
    """The sparsity pattern of the Jacobian of `fun` at `args`, from its traced graph.

    A boolean CSR matrix with one row per output entry and one column per input entry
    (trees: leaves flattened in order, each in C order), True where the output entry
    depends on the input entry. One evaluation is recorded; no derivative is computed.

    >>> import numpy as np
    >>> import wengert.numpy as wnp
    >>> p = jacobian_sparsity(lambda x: x[1:] * x[:-1], np.ones(4))
    >>> p.toarray().astype(int)
    array([[1, 1, 0, 0],
           [0, 1, 1, 0],
           [0, 0, 1, 1]])
    """
    sp = _sp()
    tree, f = _flat_setup(fun, argnums, args, kwargs, "jacobian_sparsity")
    recording = record(lambda tree: f(tree), (tree,), name="jacobian_sparsity")
    n = sum(entries(x) for x in recording.in_values)
    rows = _node_patterns(recording, n)
    if not rows:
        return empty(0, n)
    return sp.vstack(rows).tocsr().astype(bool)


def hessian_sparsity(
    fun: Callable, *args: Any, argnums: int | Sequence[int] = 0, **kwargs: Any
) -> Any:
    """The (symmetric) sparsity pattern of the Hessian of scalar `fun` at `args`.

    The pattern of the Jacobian of the gradient, found from the traced graph of the
    gradient's evaluation, made symmetric.

    >>> import numpy as np
    >>> import wengert.numpy as wnp
    >>> p = hessian_sparsity(lambda x: wnp.sum(x[1:] * x[:-1]) + wnp.sum(x**3), np.ones(3))
    >>> p.toarray().astype(int)
    array([[1, 1, 0],
           [1, 1, 1],
           [0, 1, 1]])
    """
    pattern = jacobian_sparsity(grad(fun, argnums), *args, argnums=argnums, **kwargs)
    return (pattern + pattern.T).tocsr().astype(bool)


# --- colouring ---------------------------------------------------------------------------------


def color_columns(pattern: Any) -> np.ndarray:
    """A greedy colouring of the columns: columns sharing a nonzero row differ in colour.

    Columns of one colour are structurally orthogonal, so one forward-mode direction (the
    sum of their basis vectors) recovers all of them. Returns one colour (0, 1, ...) per
    column; ``colors.max() + 1`` directions are needed.

    >>> import numpy as np
    >>> tridiagonal = np.eye(6) + np.eye(6, k=1) + np.eye(6, k=-1)
    >>> color_columns(tridiagonal)
    array([0, 1, 2, 0, 1, 2])
    """
    sp = _sp()
    by_col = sp.csc_matrix(pattern, dtype=bool)
    by_row = sp.csr_matrix(pattern, dtype=bool)
    by_col.sort_indices()
    col_ptr, col_rows = by_col.indptr.tolist(), by_col.indices.tolist()
    row_ptr, row_cols = by_row.indptr.tolist(), by_row.indices.tolist()
    n = by_col.shape[1]
    colors = [-1] * n
    last_seen: list[int] = []  # last_seen[c]: the latest column whose neighbour had colour c
    for j in range(n):
        for r in col_rows[col_ptr[j] : col_ptr[j + 1]]:
            for k in row_cols[row_ptr[r] : row_ptr[r + 1]]:
                c = colors[k]
                if c >= 0:
                    last_seen[c] = j
        c = 0
        while c < len(last_seen) and last_seen[c] == j:
            c += 1
        if c == len(last_seen):
            last_seen.append(-1)
        colors[j] = c
    return np.array(colors, dtype=np.intp)


def color_rows(pattern: Any) -> np.ndarray:
    """A greedy colouring of the rows (for reverse mode): rows sharing a column differ.

    >>> import numpy as np
    >>> color_rows(np.array([[1, 1, 0], [0, 0, 1], [1, 0, 0]]))
    array([0, 0, 1])
    """
    return color_columns(_sp().csr_matrix(pattern, dtype=bool).T)


def _passes(pattern, colors) -> int | None:
    """Directions needed: one per colour, none at all for an empty pattern."""
    if colors is None:
        return None
    return 0 if pattern.nnz == 0 else int(colors.max()) + 1


def _coloring_cost(pattern) -> int:
    """Work of colouring the columns: the sum of squared row counts."""
    counts = np.diff(_sp().csr_matrix(pattern).indptr)
    return int(np.dot(counts, counts))


# --- compressed evaluation ---------------------------------------------------------------------


def _seeds(colors: np.ndarray, count: int, like) -> np.ndarray:
    """One direction per colour: row c sums the basis vectors of colour c."""
    seeds = np.zeros_like(like, shape=(count, colors.size))
    seeds[colors, np.arange(colors.size)] = 1
    return seeds


class _Recorded:
    """One recorded evaluation of a map of flat vectors at `x`: its graph gives the
    sparsity pattern and a fingerprint of its structure, and batches of directions are
    pushed forward or pulled back through it without evaluating the map again."""

    def __init__(self, f: Callable, x) -> None:
        self.recording = recording = record(f, (x,), name="sparse_jacobian")
        (self.in_node,), (self.out_box,) = recording.in_nodes, recording.out_boxes
        self.x, self.out, self.f = x, recording.out_values[0], f
        roots = [self.out_box.node] if self.out_box is not None else []
        self.order = [node for node in reversed(toposort(roots)) if node.primitive is not None]

    def pattern(self):
        """The Jacobian's sparsity pattern, from the graph."""
        (rows,) = _node_patterns(self.recording, entries(self.x))
        return rows.tocsr().astype(bool)

    def fingerprint(self) -> tuple:
        """What the pattern depends on: the primitives, how they connect, their shapes and
        static arguments (index arrays included; constants only of non-elementwise ones)."""
        position = {self.in_node: 0}
        parts = []
        for k, node in enumerate(self.order, 1):
            position[node] = k
            materialize(node)
            contents = getattr(pattern_rule_of(node.primitive), "reads_constants", True)
            statics = tuple(
                ("traced", shape_of(a)) if i in node.argnums else _static_key(a, contents)
                for i, a in enumerate(node.args)
            )
            parents = tuple(position.get(p, -1) for p in node.parents)
            kwargs = tuple(sorted((k, _static_key(v, True)) for k, v in node.kwargs.items()))
            parts.append((id(node.primitive), parents, tuple(node.argnums), statics, kwargs))
        return tuple(parts)

    def push_forward(self, seeds) -> Any:
        """The JVPs along each row of `seeds`, as rows of one array."""
        from .jacobians import LinearizedJVP

        return LinearizedJVP(self.recording, self.f).batched(seeds)

    def pull_back(self, colors: np.ndarray, count: int) -> Any:
        """The VJPs along one direction per colour of the output entries, as rows."""
        _check_rows(colors.size, entries(self.out))
        pullback = Pullback(self.recording)
        seeds = _seeds(colors, count, getval(self.out))
        trace = BatchTrace(count)
        try:
            (cotangent,) = pullback(trace.new_input(seeds))
            return trace.unbatch(cotangent)
        finally:
            trace.alive = False


def _update_pattern(owner, recorded: _Recorded, symmetric: bool = False) -> bool:
    """Find `owner`'s pattern from `recorded` if its graph's structure is new (the first
    call, or indexing or branches that depend on the point); True if it changed."""
    structure = recorded.fingerprint()
    if owner.sparsity is not None and structure == owner._structure:
        return False
    pattern = recorded.pattern()
    owner.sparsity = (pattern + pattern.T).tocsr().astype(bool) if symmetric else pattern
    owner._structure = structure
    return True


def _static_key(value: Any, contents: bool) -> Any:
    """A comparable summary of a static argument (its values only if `contents`)."""
    if isinstance(value, Box):
        return ("traced", shape_of(value))
    if isinstance(value, np.ndarray):
        return ("array", value.shape, value.dtype.str, fingerprint(value) if contents else None)
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(_static_key(v, contents) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, _static_key(v, contents)) for k, v in value.items())))
    if isinstance(value, slice):
        return ("slice", value.start, value.stop, value.step)
    if isinstance(value, (bool, int, float, complex, np.generic)):
        return (type(value).__name__, value if contents else None)
    if value is None or isinstance(value, (str, np.dtype, type)):
        return value
    return ("object", type(value).__name__, id(value))


def _has_forward_rules(node: Node) -> bool:
    primitive = node.primitive
    return primitive.jvp_all is not None or any(r is not None for r in primitive.jvp_rules)


def _check_rows(expected: int, found: int) -> None:
    if found != expected:
        raise ValueError(
            f"sparse_jacobian: the sparsity pattern has {expected} rows but the output has "
            f"{found} entries."
        )


def _flat_setup(fun: Callable, argnums, args: tuple, kwargs: dict, name: str):
    """The differentiated input as one tree and `fun` as a function of it; a position
    listed twice in `argnums` is refused (it would repeat columns of a flat Jacobian)."""
    nums = normalize_argnums(argnums, len(args), name)
    if len(set(nums)) != len(nums):
        raise ValueError(
            f"{name}: argnums {argnums!r} lists a position twice; the Jacobian's columns "
            "are the flattened inputs, each once. List each argument once."
        )
    tree, f, _ = _setup(fun, argnums, args, kwargs, name)
    return tree, f


def _flat_problem(fun: Callable, argnums, args: tuple, kwargs: dict, name: str):
    """The differentiated input as a flat vector, and `fun` as a map of flat vectors."""
    from . import numpy as wnp

    tree, f = _flat_setup(fun, argnums, args, kwargs, name)
    x, unravel = ravel_tree(tree)
    x = np.asarray(getval(x)) if not isinstance(x, Box) else x

    def flat(v):
        leaves = tree_flatten(f(unravel(v)))[0]
        if len(leaves) == 1:
            return wnp.reshape(leaves[0], (-1,))
        return wnp.concatenate([wnp.reshape(leaf, (-1,)) for leaf in leaves])

    return x, flat


def _as_pattern(sparsity, shape: tuple[int, int], name: str):
    pattern = _sp().csr_matrix(sparsity, dtype=bool)
    if pattern.shape != shape:
        raise ValueError(
            f"{name}: the given sparsity pattern has shape {pattern.shape}, but the "
            f"Jacobian is {shape} (output entries x input entries)."
        )
    return pattern


class SparseJacobian:
    """A function returning the Jacobian of `fun` as a `scipy.sparse` CSR matrix.

    Made by `sparse_jacobian`. After the first call, ``sparsity`` holds the pattern,
    ``colors`` the colour of each column (forward mode) or row (reverse mode), ``mode``
    the mode, and ``num_passes`` the number of directions each call pushes through
    (JVPs or VJPs, which travel together as one vectorised batch).
    """

    def __init__(self, fun: Callable, sparsity, argnums, mode: str):
        if mode not in ("auto", "forward", "reverse"):
            raise ValueError(
                f"sparse_jacobian: mode must be auto, forward or reverse, not {mode!r}"
            )
        self.fun = fun
        self.argnums = argnums
        self.sparsity = None if sparsity is None else _sp().csr_matrix(sparsity, dtype=bool)
        # A pattern found from the graph holds where the graph has the same structure:
        # its fingerprint is compared on every call (None: the pattern was given).
        self._found = sparsity is None
        self._structure: tuple | None = None
        self._requested = mode
        self.mode: str | None = None
        self.colors: np.ndarray | None = None

    @property
    def num_passes(self) -> int | None:
        """Directions per call (the number of colours), once the plan is made."""
        return _passes(self.sparsity, self.colors)

    def _plan(self) -> None:
        pattern = self.sparsity
        rows, cols = pattern.shape
        options = []
        if self._requested in ("auto", "forward"):
            if self._requested == "forward" or _coloring_cost(pattern) <= TABLE_LIMIT:
                options.append(("forward", color_columns(pattern)))
            else:
                options.append(("forward", np.arange(cols)))
        if self._requested in ("auto", "reverse"):
            if self._requested == "reverse" or _coloring_cost(pattern.T) <= TABLE_LIMIT:
                options.append(("reverse", color_rows(pattern)))
            else:
                options.append(("reverse", np.arange(rows)))
        # Fewer directions wins; on a tie forward mode, which records nothing.
        self.mode, self.colors = min(options, key=lambda o: (o[1].max(initial=-1), o[0]))

    def __call__(self, *args: Any, **kwargs: Any):
        sp = _sp()
        x, flat = _flat_problem(self.fun, self.argnums, args, kwargs, "sparse_jacobian")
        if not self._found and self.sparsity.shape[1] != entries(x):
            raise ValueError(
                f"sparse_jacobian: the sparsity pattern has {self.sparsity.shape[1]} columns "
                f"but the input has {entries(x)} entries."
            )
        recorded = _Recorded(flat, x)
        if self._found and _update_pattern(self, recorded):
            self.colors = None
        if self.colors is None:
            self._plan()
        pattern = self.sparsity.tocoo()
        shape = pattern.shape
        rows, cols = pattern.row, pattern.col
        count = self.num_passes
        if count == 0:
            return sp.csr_matrix(shape, dtype=np.result_type(peek(x), float))
        if self.mode == "forward":
            compressed = recorded.push_forward(_seeds(self.colors, count, getval(x)))
            _check_rows(shape[0], shape_of(compressed)[1])
            data = compressed[self.colors[cols], rows]
        else:
            compressed = recorded.pull_back(self.colors, count)
            data = compressed[self.colors[rows], cols]
        return sp.csr_matrix((np.asarray(getval(data)), (rows, cols)), shape=shape)


def sparse_jacobian(
    fun: Callable,
    sparsity: Any = None,
    argnums: int | Sequence[int] = 0,
    mode: str = "auto",
) -> SparseJacobian:
    """The Jacobian of `fun` as a `scipy.sparse` matrix, with structurally orthogonal
    columns (or rows) sharing one direction.

    `sparsity` is the pattern (anything `scipy.sparse.csr_matrix` accepts, shape output
    entries x input entries); by default it is found from the traced graph (as
    `jacobian_sparsity` does) and reused while the graph keeps the same structure. The
    columns are coloured for forward mode and the rows for reverse mode; ``mode="auto"``
    takes whichever needs fewer directions.
    Inputs and outputs are flattened (trees: leaves in order), so the result is a matrix.

    >>> import numpy as np
    >>> import wengert.numpy as wnp
    >>> jac = sparse_jacobian(lambda x: x[1:] ** 2 - x[:-1])
    >>> jac(np.arange(5.0)).toarray()
    array([[-1.,  2.,  0.,  0.,  0.],
           [ 0., -1.,  4.,  0.,  0.],
           [ 0.,  0., -1.,  6.,  0.],
           [ 0.,  0.,  0., -1.,  8.]])
    >>> jac.mode, jac.num_passes
    ('forward', 2)
    """
    return SparseJacobian(fun, sparsity, argnums, mode)


class SparseHessian:
    """A function returning the Hessian of scalar `fun` as a `scipy.sparse` CSR matrix.

    Made by `sparse_hessian`; ``sparsity``, ``colors`` and ``num_passes`` as for
    `SparseJacobian`. Each call is one forward-over-reverse pass with ``num_passes``
    directions.
    """

    def __init__(self, fun: Callable, sparsity, argnums):
        self.fun = fun
        self.argnums = argnums
        self.sparsity = None if sparsity is None else _sp().csr_matrix(sparsity, dtype=bool)
        self._found = sparsity is None
        self._structure: tuple | None = None
        self.colors: np.ndarray | None = None

    @property
    def num_passes(self) -> int | None:
        """Directions per call (the number of colours), once the plan is made."""
        return _passes(self.sparsity, self.colors)

    def __call__(self, *args: Any, **kwargs: Any):
        sp = _sp()
        x, flat = _flat_problem(self.fun, self.argnums, args, kwargs, "sparse_hessian")

        def scalar(v):
            from . import numpy as wnp

            return wnp.reshape(flat(v), ())

        recorded = _Recorded(grad(scalar), x)
        if self._found and _update_pattern(self, recorded, symmetric=True):
            self.colors = None
        n = entries(x)
        if self.sparsity.shape != (n, n):
            raise ValueError(
                f"sparse_hessian: the sparsity pattern has shape {self.sparsity.shape}, "
                f"but the input has {n} entries."
            )
        if self.colors is None:
            self.colors = color_columns(self.sparsity)
        pattern = self.sparsity.tocoo()
        count = self.num_passes
        if count == 0:
            return sp.csr_matrix((n, n), dtype=np.result_type(peek(x), float))
        compressed = recorded.push_forward(_seeds(self.colors, count, getval(x)))
        data = compressed[self.colors[pattern.col], pattern.row]
        return sp.csr_matrix((np.asarray(getval(data)), (pattern.row, pattern.col)), shape=(n, n))


def sparse_hessian(
    fun: Callable, sparsity: Any = None, argnums: int | Sequence[int] = 0
) -> SparseHessian:
    """The Hessian of a scalar `fun` as a `scipy.sparse` matrix, columns sharing directions.

    The pattern (given, or found on the first call with `hessian_sparsity`) is coloured
    by columns; one forward-over-reverse pass with one direction per colour gives every
    nonzero entry.

    >>> import numpy as np
    >>> import wengert.numpy as wnp
    >>> hess = sparse_hessian(lambda x: wnp.sum((x[1:] - x[:-1]) ** 2))
    >>> hess(np.zeros(4)).toarray()
    array([[ 2., -2.,  0.,  0.],
           [-2.,  4., -2.,  0.],
           [ 0., -2.,  4., -2.],
           [ 0.,  0., -2.,  2.]])
    >>> hess.num_passes
    3
    """
    return SparseHessian(fun, sparsity, argnums)
