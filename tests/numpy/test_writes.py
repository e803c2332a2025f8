"""NumPy's in-place writers: NumPy's own on plain arrays, an InPlaceWriteError naming the
functional alternative for traced targets and traced values, and the alternatives named
compute what the writers would have."""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert.errors import InPlaceWriteError

MASK = onp.array([[True, False, True], [False, True, False]])
IND = onp.array([[0], [2]])
# name -> a call writing into its first argument (a 2x3 array) with the values v
CALLS = {
    "put": lambda f, a, v: f(a, [0, 4], v),
    "place": lambda f, a, v: f(a, MASK, v),
    "putmask": lambda f, a, v: f(a, MASK, v),
    "copyto": lambda f, a, v: f(a, v, where=MASK),
    "fill_diagonal": lambda f, a, v: f(a, v),
    "put_along_axis": lambda f, a, v: f(a, IND, v, axis=1),
}


@pytest.mark.parametrize("name", CALLS)
def test_plain_arrays_are_written_as_by_numpy(name):
    ours, theirs = onp.zeros((2, 3)), onp.zeros((2, 3))
    assert CALLS[name](getattr(wnp, name), ours, 7.5) is None
    CALLS[name](getattr(onp, name), theirs, 7.5)
    onp.testing.assert_array_equal(ours, theirs)
    assert getattr(wnp, name).nondifferentiable


@pytest.mark.parametrize("name", CALLS)
def test_traced_targets_and_values_are_refused(name):
    f = getattr(wnp, name)
    with pytest.raises(InPlaceWriteError, match=f"{name} writes into an array in place"):
        wg.grad(lambda a: wnp.sum(CALLS[name](f, a, 7.5) or a))(onp.zeros((2, 3)))
    with pytest.raises(InPlaceWriteError, match="instead"):
        wg.grad(lambda v: CALLS[name](f, onp.zeros((2, 3)), v) or v)(7.5)


def test_the_alternatives_named_give_the_same_arrays():
    a = onp.arange(6.0).reshape(2, 3)
    expected = a.copy()
    onp.putmask(expected, MASK, 9.0)
    onp.testing.assert_array_equal(wnp.where(MASK, 9.0, a), expected)
    expected = a.copy()
    onp.fill_diagonal(expected, 9.0)
    i = onp.arange(min(a.shape))
    got = wg.jvp(lambda a: wnp.index_update(a, (i, i), 9.0), (a,), (a,))[0]
    onp.testing.assert_array_equal(got, expected)
    expected = a.copy()
    onp.put(expected, [0, 4], [8.0, 9.0])
    got = wnp.index_update(a.ravel(), onp.array([0, 4]), onp.array([8.0, 9.0])).reshape(a.shape)
    onp.testing.assert_array_equal(got, expected)
    expected = a.copy()
    onp.place(expected, MASK, [7.0, 8.0, 9.0])
    got = wg.jvp(lambda a: wnp.index_update(a, MASK, onp.array([7.0, 8.0, 9.0])), (a,), (a,))[0]
    onp.testing.assert_array_equal(got, expected)
