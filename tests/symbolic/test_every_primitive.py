"""Every primitive of the derivative tables, applied to symbols: its value and its
derivatives as expressions (reverse mode, forward mode, and forward over reverse for
order 2), evaluated at the row's random point, equal the numeric AD results. A primitive
whose path depends on values refuses with a symbolic error that says so, never with
another error or a wrong formula.

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
from wengert import symbolic as sym
from wengert._core.tree import tree_flatten

_spec = importlib.util.spec_from_file_location(
    "_wengert_test_tables", Path(__file__).resolve().parents[1] / "_tables.py"
)
_tables = sys.modules.setdefault(_spec.name, importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(_tables)

CASES, _ = _tables.load_tables("_symbolic_tables")

REFUSALS = (sym.SymbolicValueError, sym.SymbolicControlFlowError)


def _close(got, want):
    got_leaves, want_leaves = tree_flatten(got)[0], tree_flatten(want)[0]
    assert len(got_leaves) == len(want_leaves)
    for a, b in zip(got_leaves, want_leaves):
        a, b = onp.asarray(a), onp.asarray(b)
        assert a.shape == b.shape
        onp.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9, equal_nan=True)


def _at(exprs, symbols, values):
    mapping = dict(zip(symbols, values))
    try:
        return [
            sym.subs(e, mapping) if isinstance(e, sym.Expr) else e for e in tree_flatten(exprs)[0]
        ]
    except onp.linalg.LinAlgError:
        # Formulas assume invertible matrices (the cofactor matrix is det(a) inv(a).T):
        # at a singular point they raise rather than give a number.
        assert any(_singular(v) for v in values)
        raise _SingularPoint from None


class _SingularPoint(Exception):
    """The row's point is a singular matrix, where the formula is not defined."""


def _singular(v) -> bool:
    v = onp.asarray(v)
    if v.ndim < 2 or v.shape[-1] != v.shape[-2]:
        return False
    return bool(onp.any(onp.linalg.matrix_rank(v) < v.shape[-1]))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_symbolic_derivatives_equal_numeric_ad(case):
    leaves, treedef, diff = _split(case)
    if not diff:
        pytest.skip("no floating-point input")
    f = _tables.restricted(case, leaves, treedef, diff)
    d0 = [leaves[i] for i in diff]
    symbols = [
        sym.symbols(f"a{k}", shape=onp.shape(v), dtype=onp.result_type(v)) for k, v in enumerate(d0)
    ]
    rng = onp.random.default_rng(case.seed)
    tangents = [rng.standard_normal(onp.shape(v)).astype(onp.result_type(v)) for v in d0]
    gradient = _tables.weighted_gradient(f, d0, case.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = f(*symbols)
        except REFUSALS:
            return  # a value-dependent primitive, refused clearly
        try:
            _close(_at(value, symbols, d0), tree_flatten(f(*d0))[0])
        except _SingularPoint:
            return
        try:
            reverse = gradient(*symbols)
            forward = wg.jvp(f, symbols, tangents)[1]
            second = wg.jvp(gradient, symbols, tangents)[1]
        except REFUSALS:
            return  # a rule that reads values, refused clearly
        try:
            _close(_at(reverse, symbols, d0), tree_flatten(gradient(*d0))[0])
            _close(_at(forward, symbols, d0), tree_flatten(wg.jvp(f, d0, tangents)[1])[0])
            second_numeric = wg.jvp(gradient, d0, tangents)[1]
            _close(_at(second, symbols, d0), tree_flatten(second_numeric)[0])
        except _SingularPoint:
            return


def _split(case):
    leaves, treedef = tree_flatten(tuple(_tables.generate(case, 0)))
    diff = [i for i, x in enumerate(leaves) if _tables.is_inexact(x)]
    return leaves, treedef, diff
