"""`wengert.tree_util`: JAX's tree functions over wengert's trees, registered node types,
and the transformations taking and returning registered nodes."""

from __future__ import annotations

import operator
from collections import namedtuple

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert import tree_util as tu


class Point:
    """A user type registered with functions; `label` is static (aux data)."""

    def __init__(self, x, y, label="p"):
        self.x, self.y, self.label = x, y, label

    def __repr__(self) -> str:
        return f"Point({self.x!r}, {self.y!r}, {self.label!r})"


tu.register_pytree_node(
    Point, lambda p: ((p.x, p.y), p.label), lambda label, xy: Point(*xy, label=label)
)


@tu.register_pytree_node_class
class Linear:
    """A user type registered as a class, with a None child and array-free aux data."""

    def __init__(self, w, b, bias_free=False):
        self.w, self.b, self.bias_free = w, b, bias_free

    def tree_flatten(self):
        return (self.w, None if self.bias_free else self.b), self.bias_free

    @classmethod
    def tree_unflatten(cls, bias_free, children):
        w, b = children
        return cls(w, b, bias_free)

    def __call__(self, x):
        return x @ self.w if self.bias_free else x @ self.w + self.b


Pair = namedtuple("Pair", "a b")


# --- values -----------------------------------------------------------------------------


def test_flatten_and_unflatten_round_trip():
    tree = {"b": [1.0, None, (2.0,)], "a": Point(3.0, 4.0), "c": Pair(5.0, {"d": 6.0})}
    leaves, treedef = tu.tree_flatten(tree)
    assert leaves == [3.0, 4.0, 1.0, 2.0, 5.0, 6.0]
    assert treedef.num_leaves == 6
    assert treedef.num_nodes == 13
    rebuilt = tu.tree_unflatten(treedef, [10.0 * v for v in leaves])
    assert rebuilt["b"] == [10.0, None, (20.0,)]
    assert (rebuilt["a"].x, rebuilt["a"].y, rebuilt["a"].label) == (30.0, 40.0, "p")
    assert rebuilt["c"] == Pair(50.0, {"d": 60.0})
    assert treedef.unflatten(leaves)["c"] == tree["c"]
    with pytest.raises(ValueError, match="6 leaves, but 5"):
        tu.tree_unflatten(treedef, leaves[:5])


def test_none_is_an_empty_subtree():
    assert tu.tree_leaves(None) == []
    assert tu.tree_leaves([None, 1.0, (None,)]) == [1.0]
    assert tu.tree_structure(None).num_leaves == 0
    assert tu.tree_map(lambda x: x * 2, [None, 1.0, {"a": None}]) == [None, 2.0, {"a": None}]
    assert tu.tree_unflatten(tu.tree_structure([None, 0]), [5]) == [None, 5]
    with pytest.raises(ValueError, match="differ"):
        tu.tree_map(operator.add, [None, 1.0], [2.0, 3.0])


def test_leaves_structure_and_is_leaf():
    tree = [1.0, (2.0, 3.0), {"k": Point(4.0, 5.0)}]
    assert tu.tree_leaves(tree) == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert wg.tree_leaves(tree) == tu.tree_leaves(tree)
    assert tu.tree_structure(tree) == wg.tree_structure(tree)
    assert tu.tree_structure(tree) == tu.tree_structure([0, (0, 0), {"k": Point(0, 0)}])
    assert tu.tree_structure(tree) != tu.tree_structure([0, (0, 0), {"k": Point(0, 0, "q")}])
    assert tu.tree_structure(tree) != tu.tree_structure([0, [0, 0], {"k": Point(0, 0)}])
    assert repr(tu.tree_structure((1.0, [2.0, None]))) == "tuple(*, list(*, None))"
    assert repr(tu.tree_structure(Point(1, 2))) == "Point['p'](*, *)"
    is_tuple = lambda x: isinstance(x, tuple)
    assert tu.tree_leaves(tree, is_leaf=is_tuple) == [1.0, (2.0, 3.0), 4.0, 5.0]
    leaves, treedef = tu.tree_flatten(tree, is_leaf=lambda x: isinstance(x, Point))
    assert leaves[-1].label == "p" and treedef.num_leaves == 4
    assert tu.tree_structure(tree, is_leaf=is_tuple).num_leaves == 4


def test_tree_map_with_several_trees_and_prefixes():
    a = {"x": 1.0, "y": Point(2.0, 3.0)}
    b = {"x": 10.0, "y": Point(20.0, 30.0)}
    out = tu.tree_map(lambda u, v: u + v, a, b)
    assert out["x"] == 11.0 and (out["y"].x, out["y"].y) == (22.0, 33.0)
    assert wg.tree_map(lambda u: -u, a)["y"].y == -3.0
    # `tree` is a prefix of the others: its leaves meet whole subtrees.
    out = tu.tree_map(lambda n, sub: [n] * len(sub), [1, 2], [(0, 0), (0, 0, 0)])
    assert out == [[1, 1], [2, 2, 2]]
    with pytest.raises(ValueError, match=r"tree\[1\]"):
        tu.tree_map(operator.add, [1.0, (2.0,)], [1.0, [2.0]])
    with pytest.raises(ValueError, match="differ"):
        tu.tree_map(operator.add, Point(1.0, 2.0), Point(1.0, 2.0, "other"))
    out = tu.tree_map(len, [(1, 2), (3,)], is_leaf=lambda x: isinstance(x, tuple))
    assert out == [2, 1]


def test_tree_reduce_and_tree_all():
    tree = {"a": 1.0, "b": [2.0, None, Point(3.0, 4.0)]}
    assert tu.tree_reduce(operator.add, tree) == 10.0
    assert tu.tree_reduce(operator.add, tree, 100.0) == 110.0
    assert tu.tree_reduce(operator.mul, [], 7.0) == 7.0
    with pytest.raises(TypeError):
        tu.tree_reduce(operator.add, [None])
    is_tuple = lambda x: isinstance(x, tuple)
    assert tu.tree_reduce(lambda s, x: s + len(x), [(1, 2), (3,)], 0, is_leaf=is_tuple) == 3
    assert tu.tree_all([True, (1, None), Point(True, 2)])
    assert not tu.tree_all([True, (1, 0)])
    assert tu.tree_all([None, ()])
    assert not tu.tree_all([[], (1,)], is_leaf=lambda x: x == [])


def test_tree_transpose():
    outer = tu.tree_structure([0, 0, 0])
    inner = tu.tree_structure(Point(0, 0))
    tree = [Point(1, 2), Point(3, 4), Point(5, 6)]
    out = tu.tree_transpose(outer, inner, tree)
    assert isinstance(out, Point) and out.x == [1, 3, 5] and out.y == [2, 4, 6]
    assert tu.tree_transpose(outer, None, tree).y == [2, 4, 6]
    back = tu.tree_transpose(inner, outer, out)
    assert [(p.x, p.y) for p in back] == [(1, 2), (3, 4), (5, 6)]
    with pytest.raises(ValueError, match="differ"):
        tu.tree_transpose(outer, inner, [Point(1, 2), (3, 4), Point(5, 6)])


def test_treedef_helpers():
    treedef = tu.tree_structure((1.0, [2.0, None], Point(3.0, 4.0)))
    kids = tu.treedef_children(treedef)
    assert [k.num_leaves for k in kids] == [1, 1, 2]
    assert tu.treedef_is_leaf(kids[0]) and not tu.treedef_is_leaf(kids[1])
    assert tu.treedef_is_leaf(tu.tree_structure(None))
    assert treedef.flatten_up_to((1.0, [(2.0, 3.0), None], Point("a", "b"))) == [
        1.0,
        (2.0, 3.0),
        "a",
        "b",
    ]
    assert tu.all_leaves([1.0, onp.ones(2), "s"])
    assert not tu.all_leaves([1.0, (2.0,)])
    assert not tu.all_leaves([None])
    assert tu.PyTreeDef is tu.TreeDef
    assert hash(treedef) == hash(tu.tree_structure((0, [0, None], Point(0, 0))))


def test_array_aux_data_compares_by_identity():
    class Masked:
        def __init__(self, v, mask):
            self.v, self.mask = v, mask

    tu.register_pytree_node(Masked, lambda m: ((m.v,), m.mask), lambda mask, c: Masked(c[0], mask))
    mask = onp.array([True, False])
    assert tu.tree_structure(Masked(1.0, mask)) == tu.tree_structure(Masked(2.0, mask))
    assert tu.tree_structure(Masked(1.0, mask)) != tu.tree_structure(Masked(1.0, mask.copy()))


def test_registering_twice_or_a_built_in_type_raises():
    with pytest.raises(ValueError, match="once"):
        tu.register_pytree_node(Point, lambda p: ((), None), lambda a, c: Point(0, 0))
    with pytest.raises(ValueError, match="already"):
        tu.register_pytree_node(tuple, lambda p: ((), None), lambda a, c: ())
    with pytest.raises(TypeError, match="type"):
        tu.register_pytree_node(Point(1, 2), lambda p: ((), None), lambda a, c: None)


# --- transformations over registered nodes -------------------------------------------------


def _loss(p: Point) -> float:
    return wnp.sum(p.x**2 * p.y) + wnp.sin(p.y[0])


def test_grad_over_a_registered_node():
    p = Point(onp.array([1.0, 2.0]), onp.array([0.5, -1.0]), "site")
    g = wg.grad(_loss)(p)
    assert isinstance(g, Point) and g.label == "site"
    onp.testing.assert_allclose(g.x, 2 * p.x * p.y)
    onp.testing.assert_allclose(g.y, p.x**2 + [onp.cos(0.5), 0.0])
    value, g2 = wg.value_and_grad(_loss)(p)
    assert value == pytest.approx(0.5 - 4.0 + onp.sin(0.5))
    onp.testing.assert_allclose(g2.y, g.y)
    wg.check_grads(_loss, order=2)(p)


def test_grad_of_a_class_registered_model_with_none_child():
    x = onp.array([[1.0, 2.0], [3.0, -1.0]])
    for model in (Linear(onp.eye(2), onp.ones(2)), Linear(onp.eye(2), None, bias_free=True)):
        g = wg.grad(lambda m: wnp.sum(m(x) ** 2))(model)
        assert isinstance(g, Linear) and g.bias_free == model.bias_free
        onp.testing.assert_allclose(g.w, 2 * x.T @ model(x))
        if model.bias_free:
            assert g.b is None
        else:
            onp.testing.assert_allclose(g.b, 2 * model(x).sum(0))


def test_jvp_vjp_and_vmap_take_and_return_registered_nodes():
    def f(p: Point) -> Point:
        return Point(p.x * p.y, wnp.exp(p.x), p.label + "'")

    p = Point(onp.array([1.0, 2.0]), onp.array([3.0, 4.0]))
    t = Point(onp.array([1.0, 0.0]), onp.array([0.0, 1.0]))
    _, tangent = wg.jvp(f, (p,), (t,))
    assert isinstance(tangent, Point) and tangent.label == "p'"
    onp.testing.assert_allclose(tangent.x, [3.0, 2.0])
    onp.testing.assert_allclose(tangent.y, [onp.e, 0.0])
    _, pullback = wg.vjp(f, p)
    (cot,) = pullback(Point(onp.ones(2), onp.ones(2), "p'"))
    assert isinstance(cot, Point)
    onp.testing.assert_allclose(cot.x, p.y + onp.exp(p.x))
    onp.testing.assert_allclose(cot.y, p.x)
    batch = Point(onp.arange(6.0).reshape(3, 2), onp.ones((3, 2)))
    mapped = wg.vmap(lambda q: _loss(q))(batch)
    expected = [_loss(Point(batch.x[k], batch.y[k])) for k in range(3)]
    onp.testing.assert_allclose(mapped, expected)
    # in_axes as a registered node: x mapped, y shared.
    mapped = wg.vmap(_loss, in_axes=(Point(0, None),))(Point(batch.x, onp.ones(2)))
    onp.testing.assert_allclose(mapped, expected)
    grads = wg.vmap(wg.grad(_loss))(batch)
    assert isinstance(grads, Point)
    onp.testing.assert_allclose(grads.x, 2 * batch.x * batch.y)
