"""`wg.vmap` of every primitive equals a loop over the members, and so do per-member
gradients (`vmap` of `grad`), which run every reverse rule on batched values.

The cases are the rows of the derivative tables of tests/numpy and tests/scipy (see
tests/_tables.py). Each row is drawn three times from its domain; the members differ in
their floating-point inputs, and the rest (indices, flags) is the first draw's.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as onp
import pytest

import wengert as wg
from wengert._core.tree import tree_flatten, tree_unflatten

_spec = importlib.util.spec_from_file_location(
    "_wengert_test_tables", Path(__file__).resolve().parents[1] / "_tables.py"
)
_tables = sys.modules.setdefault(_spec.name, importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(_tables)

CASES, _ = _tables.load_tables("_vmap_tables")
MEMBERS = 3
# Per-member gradients run every reverse rule of a row on batched values: one row per
# primitive of each table keeps that affordable.
FIRST_ROWS = list({(c.module.__name__, c.name): c for c in reversed(CASES)}.values())[::-1]


def _members(case) -> tuple[list, object, list[int]]:
    """The differentiated leaves of each member, the argument tree, and where they go."""
    first = _tables.generate(case)
    leaves, treedef = tree_flatten(tuple(first))
    diff = [i for i, x in enumerate(leaves) if _tables.is_inexact(x)]
    members = []
    for k in range(MEMBERS):
        other = tree_flatten(tuple(_tables.generate(case, offset=k)))[0] if k else leaves
        members.append([onp.asarray(other[i]) for i in diff])
    return members, (leaves, treedef), diff


def _restricted(case, tree, diff):
    return _tables.restricted(case, *tree, diff)


def _stacked(members: list) -> list:
    return [onp.stack(parts) for parts in zip(*members)]


def _close(got, expected):
    got_leaves, expected_leaves = tree_flatten(got)[0], tree_flatten(expected)[0]
    assert len(got_leaves) == len(expected_leaves)
    for a, b in zip(got_leaves, expected_leaves):
        onp.testing.assert_allclose(onp.asarray(a), onp.asarray(b), rtol=1e-10, atol=1e-12)


def _loop(f, members):
    outs = [f(*m) for m in members]
    return tree_flatten(outs[0])[1], [
        onp.stack([onp.asarray(o) for o in parts])
        for parts in zip(*[tree_flatten(o)[0] for o in outs])
    ]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_vmap_of_every_primitive_equals_a_loop(case):
    members, tree, diff = _members(case)
    if not diff:
        pytest.skip("no floating-point input to map over")
    f = _restricted(case, tree, diff)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out_def, expected = _loop(f, members)
        got = wg.vmap(f)(*_stacked(members))
    _close(got, tree_unflatten(out_def, expected))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", FIRST_ROWS, ids=[c.id for c in FIRST_ROWS])
def test_per_member_gradients_equal_a_loop(case):
    members, tree, diff = _members(case)
    if not diff:
        pytest.skip("no floating-point input to differentiate")
    f = _restricted(case, tree, diff)
    gradient = _tables.weighted_gradient(f, members[0], case.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out_def, expected = _loop(gradient, members)
        got = wg.vmap(gradient)(*_stacked(members))
    _close(got, tree_unflatten(out_def, expected))
