"""Dependency patterns: which input entries each entry of a value depends on.

Sparse Jacobians (`wengert.sparse`) propagate a pattern through a recorded graph, one
primitive at a time. The pattern of a value of n entries is a boolean sparse matrix of
shape (n, N): row i marks the inputs entry i depends on. A primitive's pattern rule,
``rule(args, kwargs, traced, ans, N)``, gets its arguments' values, the patterns of its
traced arguments by position, and its result. The rule is found in this order: the one
registered beside the primitive (`Primitive.defpattern`); the diagonal pattern of an
elementwise primitive; otherwise `dense` (every result entry depends on every input entry
the arguments depend on: correct, only less sparse; ``python -m wengert.coverage`` lists
the primitives that use it). SciPy is imported only when a pattern is computed.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .batching import is_elementwise
from .box import getval, shape_of
from .primitive import Primitive

__all__ = [
    "contraction",
    "dense",
    "elementwise",
    "empty",
    "entries",
    "index_add",
    "moves",
    "pattern_rule_of",
    "reduction",
    "scatter",
    "scipy_sparse",
    "select",
    "sum_to_shape",
]

# Joins of index tables larger than this fall back to a dense dependency pattern.
TABLE_LIMIT = 20_000_000


def scipy_sparse():
    """scipy.sparse, or an ImportError saying how to install it."""
    try:
        import scipy.sparse as sp
    except ImportError as err:  # pragma: no cover - exercised only without SciPy
        raise ImportError(
            "sparsity patterns need SciPy for their sparse matrices; install it with "
            "pip install 'wengert[scipy]'."
        ) from err
    return sp


def entries(x) -> int:
    """The number of entries of a value."""
    return math.prod(shape_of(x))


def empty(rows: int, n: int):
    """The pattern of `rows` entries that depend on none of the n inputs."""
    return scipy_sparse().csr_matrix((rows, n), dtype=bool)


def _union(patterns: list, rows: int, n: int):
    if not patterns:
        return empty(rows, n)
    total = patterns[0]
    for p in patterns[1:]:
        total = total + p
    return total


def _broadcast_rows(pattern, shape: tuple, target: tuple):
    """The pattern of a value broadcast from `shape` to `target`."""
    if tuple(shape) == tuple(target):
        return pattern
    ids = np.broadcast_to(np.arange(math.prod(shape)).reshape(shape), target)
    return pattern[ids.ravel()]


def _contributions(out_ids, in_ids, out_size: int, in_size: int, pattern):
    """The pattern of sums: output entry out_ids[k] receives input entry in_ids[k]."""
    sp = scipy_sparse()
    out_ids, in_ids = np.ravel(out_ids), np.ravel(in_ids)
    spread = sp.csr_matrix(
        (np.ones(out_ids.size, dtype=bool), (out_ids, in_ids)), shape=(out_size, in_size)
    )
    return (spread @ pattern).astype(bool)


def elementwise(primitive: Primitive) -> Callable:
    """The pattern of an elementwise primitive: each entry depends on the entries at its
    position in the (broadcast) arguments."""

    def rule(args, kwargs, traced, ans, n):
        out = ans[0] if primitive.multiple_results else ans
        shape = shape_of(out)
        parts = [_broadcast_rows(p, shape_of(args[i]), shape) for i, p in traced.items()]
        pattern = _union(parts, entries(out), n)
        return tuple(pattern for _ in ans) if primitive.multiple_results else pattern

    rule.reads_constants = False  # constants' values do not change the pattern
    return rule


def moves(primitive: Primitive, data: Callable) -> Callable:
    """Primitives that only copy entries: follow the entries' ids through the primitive."""

    def rule(args, kwargs, traced, ans, n):
        new_args, blocks, offset = list(args), [], 0
        for i in data(args):
            shape = shape_of(args[i])
            if i in traced:
                new_args[i] = offset + np.arange(math.prod(shape)).reshape(shape)
                blocks.append(traced[i])
                offset += math.prod(shape)
            else:
                new_args[i] = np.full(shape, -1)
        ids = np.ravel(primitive.fun(*new_args, **kwargs))
        stacked = scipy_sparse().vstack([*blocks, empty(1, n)]).tocsr()
        return stacked[np.where(ids < 0, offset, ids)]

    return rule


def reduction(args, kwargs, traced, ans, n):
    """The pattern of a reduction over `axis`."""
    x = args[0]
    axis = kwargs.get("axis", args[1] if len(args) > 1 else None)
    shape = shape_of(x)
    axes = range(len(shape)) if axis is None else np.atleast_1d(axis) % max(len(shape), 1)
    kept = tuple(1 if i in set(int(a) for a in axes) else k for i, k in enumerate(shape))
    out_ids = np.broadcast_to(np.arange(math.prod(kept)).reshape(kept), shape)
    return _contributions(out_ids, np.arange(entries(x)), entries(ans), entries(x), traced[0])


def sum_to_shape(args, kwargs, traced, ans, n):
    """The pattern of summing back to a shape (the transpose of broadcasting)."""
    x, shape = args
    out_ids = np.broadcast_to(np.arange(math.prod(shape)).reshape(shape), shape_of(x))
    return _contributions(out_ids, np.arange(entries(x)), entries(ans), entries(x), traced[0])


def _selected_ids(shape: tuple, index) -> np.ndarray:
    return np.arange(math.prod(shape)).reshape(shape)[index]


def scatter(args, kwargs, traced, ans, n):
    """The pattern of adding `g` into zeros at `index`."""
    g, index, shape = args
    sel = _selected_ids(tuple(shape), index)
    g_ids = np.broadcast_to(np.arange(entries(g)).reshape(shape_of(g)), sel.shape)
    return _contributions(sel, g_ids, entries(ans), entries(g), traced[0])


def index_add(args, kwargs, traced, ans, n):
    """The pattern of `x` with `y` added at `index`."""
    x, index, y = args
    parts = []
    if 0 in traced:
        parts.append(traced[0])
    if 2 in traced:
        sel = _selected_ids(shape_of(x), index)
        y_ids = np.broadcast_to(np.arange(entries(y)).reshape(shape_of(y)), sel.shape)
        parts.append(_contributions(sel, y_ids, entries(ans), entries(y), traced[2]))
    return _union(parts, entries(ans), n)


def _join(table: dict, rows: int, other: dict, other_rows: int) -> tuple[dict, int]:
    """All pairs of rows of two index tables that agree on their shared letters."""
    shared = [c for c in other if c in table]
    if not shared:
        left = np.repeat(np.arange(rows), other_rows)
        right = np.tile(np.arange(other_rows), rows)
    else:
        dims = [int(max(table[c].max(initial=0), other[c].max(initial=0))) + 1 for c in shared]
        key = np.ravel_multi_index([table[c] for c in shared], dims)
        other_key = np.ravel_multi_index([other[c] for c in shared], dims)
        order = np.argsort(other_key, kind="stable")
        sorted_key = other_key[order]
        start = np.searchsorted(sorted_key, key, "left")
        counts = np.searchsorted(sorted_key, key, "right") - start
        left = np.repeat(np.arange(rows), counts)
        first = np.cumsum(counts) - counts
        right = order[np.arange(left.size) - np.repeat(first, counts) + np.repeat(start, counts)]
    joined = {c: v[left] for c, v in table.items()}
    joined.update({c: v[right] for c, v in other.items() if c not in table})
    return joined, left.size


def _einsum_pattern(subs: list[str], out: str, operands: list, traced: dict, n: int, out_size):
    """The pattern of an einsum with explicit, equal-sized letters (no broadcasting).

    An output entry depends on a traced operand's entry when some assignment of the
    summed letters makes every constant operand nonzero (traced operands count as
    nonzero). Returns None when that table of assignments would be too large.
    """
    sizes = {}
    for sub, op in zip(subs, operands):
        sizes.update(zip(sub, shape_of(op)))
    table, rows = {}, 1
    for k, (sub, op) in enumerate(zip(subs, operands)):
        if k in traced:
            continue
        value = np.asarray(getval(op))
        if not sub:  # a scalar factor: all or nothing
            if value == 0:
                return empty(out_size, n)
            continue
        coords = np.nonzero(value)
        columns, keep = {}, np.ones(coords[0].size, dtype=bool)
        for axis, c in enumerate(sub):
            if c in columns:
                keep &= coords[axis] == columns[c]
            else:
                columns[c] = coords[axis]
        columns = {c: v[keep] for c, v in columns.items()}
        size = int(keep.sum())
        if rows * size > TABLE_LIMIT:
            return None
        table, rows = _join(table, rows, columns, size) if columns else (table, rows * size)
    needed = set(out).union(*[subs[k] for k in traced])
    for c in sorted(needed - set(table)):
        if rows * sizes[c] > TABLE_LIMIT:
            return None
        table, rows = _join(table, rows, {c: np.arange(sizes[c])}, sizes[c])
    if out:
        out_ids = np.ravel_multi_index([table[c] for c in out], [sizes[c] for c in out])
    else:
        out_ids = np.zeros(rows, dtype=np.intp)
    parts = []
    for k, pattern in traced.items():
        sub, shape = subs[k], shape_of(operands[k])
        in_ids = np.ravel_multi_index([table[c] for c in sub], shape) if sub else np.zeros(rows)
        parts.append(
            _contributions(out_ids, in_ids.astype(np.intp), out_size, entries(operands[k]), pattern)
        )
    return _union(parts, out_size, n)


def _broadcast_operands(subs: list[str], operands: list, traced: dict):
    """Operands (and traced patterns) broadcast so that each letter has one size."""
    sizes: dict[str, int] = {}
    for sub, op in zip(subs, operands):
        for c, k in zip(sub, shape_of(op)):
            sizes[c] = max(sizes.get(c, 1), k)
    ops, patterns = [], {}
    for k, (sub, op) in enumerate(zip(subs, operands)):
        target = tuple(sizes[c] for c in sub)
        if k in traced:
            patterns[k] = _broadcast_rows(traced[k], shape_of(op), target)
            ops.append(np.broadcast_to(np.zeros((), dtype=np.int8), target))
        else:
            ops.append(np.broadcast_to(np.asarray(getval(op)), target))
    return ops, patterns


def contraction(to_einsum: Callable) -> Callable:
    """The pattern of a product written as an einsum by ``to_einsum(args, kwargs) ->
    (subscripts, output letters, operands, their positions)``."""

    def rule(args, kwargs, traced, ans, n):
        subs, out, operands, positions = to_einsum(args, kwargs)
        local = {positions.index(i): p for i, p in traced.items()}
        operands, local = _broadcast_operands(subs, operands, local)
        pattern = _einsum_pattern(subs, out, operands, local, n, entries(ans))
        return dense(args, kwargs, traced, ans, n) if pattern is None else pattern

    return rule


def dense(args, kwargs, traced, ans, n):
    """Every entry of the result depends on every entry the traced arguments depend on."""
    sp = scipy_sparse()
    columns = []
    for p in traced.values():
        for q in p if isinstance(p, tuple) else (p,):
            columns.append(q.indices)
    columns = np.unique(np.concatenate(columns)) if columns else np.zeros(0, dtype=np.intp)
    row = sp.csr_matrix(
        (np.ones(columns.size, dtype=bool), (np.zeros(columns.size, dtype=np.intp), columns)),
        shape=(1, n),
    )
    if isinstance(ans, tuple):
        return tuple(row[np.zeros(entries(a), dtype=np.intp)] for a in ans)
    return row[np.zeros(entries(ans), dtype=np.intp)]


def select(args, kwargs, traced, ans, n):
    """The pattern of one result of a primitive with several."""
    return traced[0][args[1]]


_inferred: dict[Primitive, Callable] = {}


def pattern_rule_of(primitive: Primitive) -> Callable:
    """The pattern rule of `primitive`: registered, elementwise, or `dense`."""
    if primitive.pattern_rule is not None:
        return primitive.pattern_rule
    rule = _inferred.get(primitive)
    if rule is None:
        rule = elementwise(primitive) if is_elementwise(primitive) else dense
        _inferred[primitive] = rule
    return rule
