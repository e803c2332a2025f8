"""Trees of values (pytrees), under the names of JAX's ``jax.tree_util``.

A tree is a nest of tuples, lists, dicts, namedtuples, dataclass instances, None and the
types registered with `register_pytree_node`; everything else is a leaf. As in JAX, None
is a subtree without leaves (``tree_leaves([1.0, None]) == [1.0]``). Every
transformation (`grad`, `jvp`, `vjp`, `vmap`, `jit`, ...) takes and returns trees, so a
registered type can be an argument, an output or a gradient.

Differences from JAX: dataclass instances are trees without registration; dict keys that
cannot be sorted keep their insertion order; a structure's children are read with
`treedef_children` (``TreeDef.children`` is the tuple of them, not a method).

>>> import wengert as wg
>>> from wengert import tree_util
>>> params = {"w": 2.0, "b": (1.0, None)}
>>> tree_util.tree_leaves(params)
[1.0, 2.0]
>>> wg.grad(lambda p: p["w"] ** 2 + 3.0 * p["b"][0])(params)
{'b': (3.0, None), 'w': 4.0}
"""

from __future__ import annotations

from typing import Any

from ._core.tree import (
    TreeDef,
    register_pytree_node,
    register_pytree_node_class,
    tree_all,
    tree_flatten,
    tree_leaves,
    tree_map,
    tree_reduce,
    tree_structure,
    tree_transpose,
    tree_unflatten,
)

PyTreeDef = TreeDef  # JAX's name for the structure


def treedef_children(treedef: TreeDef) -> list[TreeDef]:
    """The structures of the children of a tree's top node.

    >>> from wengert.tree_util import tree_structure, treedef_children
    >>> treedef_children(tree_structure((1.0, [2.0, 3.0])))
    [*, list(*, *)]
    """
    return list(treedef.children)


def treedef_is_leaf(treedef: TreeDef) -> bool:
    """Whether the structure is a single leaf (or None, which has no children either).

    >>> from wengert.tree_util import tree_structure, treedef_is_leaf
    >>> treedef_is_leaf(tree_structure(1.0)), treedef_is_leaf(tree_structure([1.0]))
    (True, False)
    """
    return not treedef.children and treedef.kind in ("leaf", "none")


def all_leaves(iterable: Any, is_leaf: Any = None) -> bool:
    """Whether every item of `iterable` is a leaf (a tree of its own structure is one).

    >>> from wengert.tree_util import all_leaves
    >>> all_leaves([1.0, "a"]), all_leaves([1.0, (2.0,)])
    (True, False)
    """
    return all(tree_structure(x, is_leaf).kind == "leaf" for x in iterable)


__all__ = [
    "PyTreeDef",
    "TreeDef",
    "all_leaves",
    "register_pytree_node",
    "register_pytree_node_class",
    "tree_all",
    "tree_flatten",
    "tree_leaves",
    "tree_map",
    "tree_reduce",
    "tree_structure",
    "tree_transpose",
    "tree_unflatten",
    "treedef_children",
    "treedef_is_leaf",
]
