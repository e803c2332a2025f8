"""Flatten and rebuild nested containers of values (trees).

Tuples, lists, dicts (keys sorted where they can be, else in insertion order),
namedtuples, dataclass instances and None are containers; everything else is a leaf.
A `TreeDef` records the structure so that a list of leaves can be put back into it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any


class TreeDef:
    """The structure of a tree without its leaves."""

    __slots__ = ("children", "kind", "meta", "num_leaves")

    def __init__(self, kind: str, meta: Any, children: tuple[TreeDef, ...]):
        self.kind = kind  # "leaf", "none", "tuple", "list", "dict", "namedtuple", "dataclass"
        self.meta = meta
        self.children = children
        self.num_leaves = 1 if kind == "leaf" else sum(c.num_leaves for c in children)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TreeDef)
            and self.kind == other.kind
            and self.meta == other.meta
            and self.children == other.children
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.children))

    def __repr__(self) -> str:
        if self.kind == "leaf":
            return "*"
        if self.kind == "none":
            return "None"
        inner = ", ".join(map(repr, self.children))
        return f"{self.kind}({inner})"


LEAF = TreeDef("leaf", None, ())


def _dict_keys(d: dict) -> tuple:
    try:
        return tuple(sorted(d))
    except TypeError:
        return tuple(d)


def _children(x: Any) -> tuple[str, Any, tuple] | None:
    """(kind, meta, children) of a container, or None for a leaf."""
    t = type(x)
    if t is tuple:
        return "tuple", None, x
    if t is list:
        return "list", None, tuple(x)
    if t is dict:
        keys = _dict_keys(x)
        return "dict", keys, tuple(x[k] for k in keys)
    if x is None:
        return "none", None, ()
    if isinstance(x, tuple) and hasattr(t, "_fields"):
        return "namedtuple", t, tuple(x)
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        names = tuple(f.name for f in dataclasses.fields(x) if f.init)
        return "dataclass", (t, names), tuple(getattr(x, n) for n in names)
    if isinstance(x, dict):
        keys = _dict_keys(x)
        return "dict", keys, tuple(x[k] for k in keys)
    return None


def _flatten_into(x: Any, leaves: list) -> TreeDef:
    parts = _children(x)
    if parts is None:
        leaves.append(x)
        return LEAF
    kind, meta, kids = parts
    return TreeDef(kind, meta, tuple([_flatten_into(k, leaves) for k in kids]))


def tree_flatten(tree: Any) -> tuple[list, TreeDef]:
    """The leaves of `tree` in a fixed order, and its structure."""
    # Module-level recursion (not a closure) so that no reference cycle keeps leaves alive.
    leaves: list = []
    return leaves, _flatten_into(tree, leaves)


def _build(d: TreeDef, it) -> Any:
    if d.kind == "leaf":
        return next(it)
    kids = [_build(c, it) for c in d.children]
    if d.kind == "tuple":
        return tuple(kids)
    if d.kind == "list":
        return kids
    if d.kind == "dict":
        return dict(zip(d.meta, kids))
    if d.kind == "none":
        return None
    if d.kind == "namedtuple":
        return d.meta(*kids)
    cls, names = d.meta
    return cls(**dict(zip(names, kids)))


def tree_unflatten(treedef: TreeDef, leaves: list) -> Any:
    """Rebuild a tree of structure `treedef` from its leaves."""
    return _build(treedef, iter(leaves))


def tree_map(fun: Callable, tree: Any, *rest: Any) -> Any:
    """Apply `fun` to each leaf (and the matching leaves of `rest`), keeping the structure."""
    leaves, treedef = tree_flatten(tree)
    others = []
    for r in rest:
        r_leaves, r_def = tree_flatten(r)
        if r_def != treedef:
            raise ValueError(f"tree structures differ: {treedef} and {r_def}")
        others.append(r_leaves)
    return tree_unflatten(treedef, [fun(*xs) for xs in zip(leaves, *others)])


def tree_leaves(tree: Any) -> list:
    """The leaves of `tree`."""
    return tree_flatten(tree)[0]


def broadcast_prefix(prefix: Any, tree: Any, name: str = "prefix") -> list:
    """The entry of `prefix` that applies to each leaf of `tree`, in the leaves' order.

    `prefix` is a tree whose structure is a prefix of `tree`'s: where it has a leaf (any
    value that is not a tuple, list, dict, namedtuple or dataclass; None included), that
    value applies to every leaf of the matching subtree (as JAX's ``in_axes``).

    >>> broadcast_prefix((0, None), ([1.0, 2.0], {"a": 3.0}))
    [0, 0, None]
    """
    out: list = []

    def walk(p: Any, t: Any, where: str) -> None:
        parts = None if p is None else _children(p)
        if parts is None:
            out.extend([p] * len(tree_flatten(t)[0]))
            return
        kind, meta, children = parts
        target = _children(t)
        sequences = ("tuple", "list", "namedtuple")
        if target is None or (
            target[0] != kind and not (kind in sequences and target[0] in sequences)
        ):
            raise ValueError(
                f"{name}{where} is a {type(p).__name__} but the value there is a "
                f"{type(t).__name__}; give one entry per part of the value, or a single "
                "entry for all of it."
            )
        if len(children) != len(target[2]) or (kind == "dict" and meta != target[1]):
            raise ValueError(
                f"{name}{where} has {len(children)} entries but the value there has "
                f"{len(target[2])}; give one entry per part of the value."
            )
        for i, (pc, tc) in enumerate(zip(children, target[2])):
            key = meta[i] if kind == "dict" else i
            walk(pc, tc, f"{where}[{key!r}]")

    walk(prefix, tree, "")
    return out
