"""Every primitive of the derivative tables is recordable: a program recorded at one draw
gives the eager values at another draw (or refuses with GuardError where Python's path
differs), and so does the program of its gradient; `jit` gives the eager values and
gradients, recording again where a guard fails, with every array it may keep between calls
kept (the workspace, at any size), and a later call never changes an earlier call's results.

The rows are those of tests/numpy and tests/scipy (see tests/_tables.py).
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as onp
import pytest

import wengert as wg
from wengert._core.tree import tree_flatten
from wengert.program import runner

_spec = importlib.util.spec_from_file_location(
    "_wengert_test_tables", Path(__file__).resolve().parents[1] / "_tables.py"
)
_tables = sys.modules.setdefault(_spec.name, importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(_tables)

CASES, _ = _tables.load_tables("_program_tables")


def _split(case, offset):
    leaves, treedef = tree_flatten(tuple(_tables.generate(case, offset)))
    diff = [i for i, x in enumerate(leaves) if _tables.is_inexact(x)]
    return leaves, treedef, diff


def _same(got, want):
    got_leaves, want_leaves = tree_flatten(got)[0], tree_flatten(want)[0]
    assert len(got_leaves) == len(want_leaves)
    for a, b in zip(got_leaves, want_leaves):
        a, b = onp.asarray(a), onp.asarray(b)
        assert a.shape == b.shape and a.dtype == b.dtype
        onp.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-300, equal_nan=True)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_recorded_and_jitted_programs_equal_eager(case, monkeypatch):
    monkeypatch.setattr(runner, "WORKSPACE_BYTES", 0)  # every intermediate it may keep
    leaves, treedef, diff = _split(case, 0)
    if not diff:
        pytest.skip("no floating-point input")
    f = _tables.restricted(case, leaves, treedef, diff)
    d0 = [leaves[i] for i in diff]
    other, _, diff1 = _split(case, 1)
    d1 = [other[i] for i in diff1] if diff1 == diff else d0
    # The other draw keeps the first draw's shapes and dtypes (a program is per signature).
    if [onp.shape(a) for a in d1] != [onp.shape(a) for a in d0]:
        d1 = d0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gradient = _tables.weighted_gradient(f, d0, case.seed)
        for fun in (f, gradient):
            prog = wg.make_program(fun)(*d0)
            _same(prog(*d0), fun(*d0))
            try:
                replayed = prog(*d1)
            except wg.GuardError:
                pass
            else:
                _same(replayed, fun(*d1))
            jitted = wg.jit(fun)
            first = jitted(*d0)
            kept = [onp.array(leaf, copy=True) for leaf in tree_flatten(first)[0]]
            _same(first, fun(*d0))
            _same(jitted(*d1), fun(*d1))
            for leaf, copy in zip(tree_flatten(first)[0], kept):  # (no buffer reused into it)
                onp.testing.assert_array_equal(leaf, copy, strict=True)
