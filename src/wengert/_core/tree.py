"""Flatten and rebuild nested containers of values (trees).

Tuples, lists, dicts (keys sorted where they can be, else in insertion order),
namedtuples, dataclass instances, None (a container with no leaves) and the types
registered with `register_pytree_node` are containers; everything else is a leaf.
A `TreeDef` records the structure so that a list of leaves can be put back into it.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable
from typing import Any

# Node types registered by users: type -> (flatten, unflatten), as JAX's
# register_pytree_node: flatten(node) -> (children, aux_data),
# unflatten(aux_data, children) -> node.
_registry: dict[type, tuple[Callable, Callable]] = {}
_BUILT_IN = (tuple, list, dict, type(None))


class TreeDef:
    """The structure of a tree without its leaves."""

    __slots__ = ("children", "kind", "meta", "num_leaves")

    def __init__(self, kind: str, meta: Any, children: tuple[TreeDef, ...]):
        # "leaf", "none", "tuple", "list", "dict", "namedtuple", "dataclass" or "custom"
        # (a registered type; meta is (type, aux_data)).
        self.kind = kind
        self.meta = meta
        self.children = children
        self.num_leaves = 1 if kind == "leaf" else sum(c.num_leaves for c in children)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TreeDef)
            and self.kind == other.kind
            and (
                _same_aux(self.meta, other.meta)
                if self.kind == "custom"
                else self.meta == other.meta
            )
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
        if self.kind == "custom":
            return f"{self.meta[0].__name__}[{self.meta[1]!r}]({inner})"
        return f"{self.kind}({inner})"

    @property
    def num_nodes(self) -> int:
        """The number of nodes, leaves and None included (as JAX counts them)."""
        return 1 + sum(c.num_nodes for c in self.children)

    def unflatten(self, leaves: Iterable) -> Any:
        """The tree of this structure with `leaves` (as `tree_unflatten`)."""
        return tree_unflatten(self, leaves)

    def flatten_up_to(self, tree: Any) -> list:
        """The subtrees of `tree` at the places of this structure's leaves; `tree` must
        have this structure down to them (it may be deeper below)."""
        out: list = []
        _flatten_up_to(self, tree, out, "")
        return out


def _same_aux(a: tuple, b: tuple) -> bool:
    """Whether two registered nodes' (type, aux_data) match; aux data that does not
    compare to a single bool (arrays) matches only itself."""
    if a[0] is not b[0]:
        return False
    if a[1] is b[1]:
        return True
    try:
        return bool(a[1] == b[1])
    except (TypeError, ValueError):
        return False


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
    if _registry:
        node = _registry.get(t)
        if node is not None:
            kids, aux = node[0](x)
            return "custom", (t, aux), tuple(kids)
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


def _flatten_into_until(x: Any, leaves: list, is_leaf: Callable[[Any], bool]) -> TreeDef:
    """`_flatten_into` stopping at the subtrees for which `is_leaf` is true."""
    parts = None if is_leaf(x) else _children(x)
    if parts is None:
        leaves.append(x)
        return LEAF
    kind, meta, kids = parts
    return TreeDef(kind, meta, tuple([_flatten_into_until(k, leaves, is_leaf) for k in kids]))


def tree_flatten(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list, TreeDef]:
    """The leaves of `tree` in a fixed order, and its structure.

    `is_leaf`, as in JAX, marks subtrees to keep whole as leaves.

    >>> leaves, treedef = tree_flatten({"b": [1.0, None], "a": (2.0,)})
    >>> leaves, treedef.num_leaves
    ([2.0, 1.0], 2)
    """
    # Module-level recursion (not a closure) so that no reference cycle keeps leaves alive.
    leaves: list = []
    if is_leaf is None:
        return leaves, _flatten_into(tree, leaves)
    return leaves, _flatten_into_until(tree, leaves, is_leaf)


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
    if d.kind == "custom":
        cls, aux = d.meta
        return _registry[cls][1](aux, kids)
    cls, names = d.meta
    return cls(**dict(zip(names, kids)))


def tree_unflatten(treedef: TreeDef, leaves: Iterable) -> Any:
    """Rebuild a tree of structure `treedef` from its leaves.

    >>> leaves, treedef = tree_flatten([1.0, (2.0, None)])
    >>> tree_unflatten(treedef, [3.0, 4.0])
    [3.0, (4.0, None)]
    """
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(
            f"tree_unflatten: the structure {treedef} has {treedef.num_leaves} leaves, but "
            f"{len(leaves)} were given."
        )
    return _build(treedef, iter(leaves))


def _flatten_up_to(d: TreeDef, tree: Any, out: list, where: str) -> None:
    if d.kind == "leaf":
        out.append(tree)
        return
    parts = _children(tree)
    kind, meta = (None, None) if parts is None else parts[:2]
    same = kind == d.kind and (_same_aux(meta, d.meta) if kind == "custom" else meta == d.meta)
    if not same or len(parts[2]) != len(d.children):
        raise ValueError(
            f"tree structures differ at tree{where}: expected {d}, got a "
            f"{type(tree).__name__} ({tree_structure(tree)})."
        )
    for i, (c, t) in enumerate(zip(d.children, parts[2])):
        key = d.meta[i] if d.kind == "dict" else i
        _flatten_up_to(c, t, out, f"{where}[{key!r}]")


def tree_map(
    fun: Callable, tree: Any, *rest: Any, is_leaf: Callable[[Any], bool] | None = None
) -> Any:
    """Apply `fun` to each leaf (and the matching subtrees of `rest`), keeping the
    structure. As in JAX, each tree of `rest` has the structure of `tree`, or `tree`'s
    as a prefix (a leaf of `tree` then meets a whole subtree).

    >>> tree_map(lambda x, y: x + y, {"a": 1.0, "b": (2.0, None)}, {"a": 10.0, "b": (20.0, None)})
    {'a': 11.0, 'b': (22.0, None)}
    """
    leaves, treedef = tree_flatten(tree, is_leaf)
    others = [treedef.flatten_up_to(r) for r in rest]
    return tree_unflatten(treedef, [fun(*xs) for xs in zip(leaves, *others)])


def tree_leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list:
    """The leaves of `tree` (None is an empty subtree, so it has none).

    >>> tree_leaves([1.0, None, {"a": 2.0}])
    [1.0, 2.0]
    """
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> TreeDef:
    """The structure of `tree` without its leaves.

    >>> tree_structure((1.0, [2.0, 3.0]))
    tuple(*, list(*, *))
    """
    return tree_flatten(tree, is_leaf)[1]


_NO_INITIAL = object()


def tree_reduce(
    function: Callable[[Any, Any], Any],
    tree: Any,
    initializer: Any = _NO_INITIAL,
    is_leaf: Callable[[Any], bool] | None = None,
) -> Any:
    """The leaves of `tree` combined by the two-argument `function` from the left, as
    `functools.reduce` (starting from `initializer` when given).

    >>> import operator
    >>> tree_reduce(operator.add, {"a": 1.0, "b": [2.0, 3.0]})
    6.0
    """
    leaves = tree_leaves(tree, is_leaf)
    if initializer is _NO_INITIAL:
        return functools.reduce(function, leaves)
    return functools.reduce(function, leaves, initializer)


def tree_all(tree: Any, *, is_leaf: Callable[[Any], bool] | None = None) -> bool:
    """Whether every leaf of `tree` is true (True for a tree without leaves).

    >>> tree_all({"a": True, "b": [1, None]})
    True
    """
    return all(tree_leaves(tree, is_leaf))


def tree_transpose(outer_treedef: TreeDef, inner_treedef: TreeDef | None, tree: Any) -> Any:
    """A tree of structure outer-of-inner turned into one of inner-of-outer, as JAX's
    (`inner_treedef` None: the structure of the first inner tree).

    >>> outer = tree_structure([0, 0])
    >>> inner = tree_structure({"a": 0, "b": 0})
    >>> tree_transpose(outer, inner, [{"a": 1, "b": 2}, {"a": 3, "b": 4}])
    {'a': [1, 3], 'b': [2, 4]}
    """
    inners = outer_treedef.flatten_up_to(tree)
    if inner_treedef is None:
        inner_treedef = tree_structure(inners[0]) if inners else tree_structure(None)
    columns = [inner_treedef.flatten_up_to(t) for t in inners]
    width = inner_treedef.num_leaves
    transposed = [outer_treedef.unflatten([c[k] for c in columns]) for k in range(width)]
    return inner_treedef.unflatten(transposed)


def register_pytree_node(
    nodetype: type,
    flatten_func: Callable[[Any], tuple[Iterable, Any]],
    unflatten_func: Callable[[Any, Iterable], Any],
) -> None:
    """Make instances of `nodetype` containers of trees, as JAX's function of this name:
    ``flatten_func(node)`` gives ``(children, aux_data)`` (an iterable of subtrees and
    hashable data kept in the structure); ``unflatten_func(aux_data, children)`` rebuilds
    a node. `grad`, `jvp`, `vjp`, `vmap` and the tree functions then take such nodes
    apart like tuples; `unflatten_func` gets cotangents and tangents as children too.

    >>> class Pair:
    ...     def __init__(self, a, b):
    ...         self.a, self.b = a, b
    >>> register_pytree_node(Pair, lambda p: ((p.a, p.b), None), lambda _, ab: Pair(*ab))
    >>> tree_leaves([Pair(1.0, 2.0), 3.0])
    [1.0, 2.0, 3.0]
    """
    if not isinstance(nodetype, type):
        raise TypeError(f"register_pytree_node: expected a type, got {nodetype!r}.")
    if nodetype in _BUILT_IN or nodetype in _registry:
        raise ValueError(
            f"register_pytree_node: {nodetype.__name__} is already a tree node type; "
            "register each type once."
        )
    _registry[nodetype] = (flatten_func, unflatten_func)


def register_pytree_node_class(cls: type) -> type:
    """Class decorator: register `cls` with its own ``tree_flatten(self)`` method and
    ``tree_unflatten(aux_data, children)`` classmethod, as JAX's decorator of this name.

    >>> @register_pytree_node_class
    ... class Scaled:
    ...     def __init__(self, value, scale):
    ...         self.value, self.scale = value, scale
    ...     def tree_flatten(self):
    ...         return (self.value,), self.scale
    ...     @classmethod
    ...     def tree_unflatten(cls, scale, children):
    ...         return cls(children[0], scale)
    >>> tree_leaves(Scaled(2.0, "m"))
    [2.0]
    """
    register_pytree_node(cls, lambda node: node.tree_flatten(), cls.tree_unflatten)
    return cls


def broadcast_prefix(prefix: Any, tree: Any, name: str = "prefix") -> list:
    """The entry of `prefix` that applies to each leaf of `tree`, in the leaves' order.

    `prefix` is a tree whose structure is a prefix of `tree`'s: where it has a leaf (any
    value that is not a tuple, list, dict, namedtuple, dataclass or registered node; None
    included), that
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
        if (
            len(children) != len(target[2])
            or (kind == "dict" and meta != target[1])
            or (kind == "custom" and meta[0] is not target[1][0])
        ):
            raise ValueError(
                f"{name}{where} has {len(children)} entries but the value there has "
                f"{len(target[2])}; give one entry per part of the value."
            )
        for i, (pc, tc) in enumerate(zip(children, target[2])):
            key = meta[i] if kind == "dict" else i
            walk(pc, tc, f"{where}[{key!r}]")

    walk(prefix, tree, "")
    return out
