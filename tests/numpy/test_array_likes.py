"""Every function of wengert.numpy, .linalg and .fft takes array-likes holding traced values
(lists, tuples, nested), as NumPy takes array-likes: value and derivative are those of the
same call with the lists stacked into arrays, and the value is NumPy's."""

from __future__ import annotations

import warnings

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert._core.box import peek
from wengert._core.tree import tree_flatten
from wengert.numpy import _arraylike

A = 1.3  # the traced scalar inside the lists


def _vec(a):
    return [a, 2.0, 0.5, 1.5]


def _mat(a):
    return [[a, 0.5], [0.5, 3.0]]


# Calls tried in order for a function without an entry below: the first that NumPy accepts
# (on the same lists without a traced value) is the one checked.
TRIED = (
    lambda f, v, m: f(v),
    lambda f, v, m: f(m),
    lambda f, v, m: f(v, v),
    lambda f, v, m: f(m, m),
    lambda f, v, m: f(v, 1),
    lambda f, v, m: f(m, 1),
    lambda f, v, m: f(v, v, v),
)
# Functions that need other arguments (a shape, indices, a sequence of arrays).
CALLS = {
    "reshape": lambda f, v, m: f(v, (2, 2)),
    "resize": lambda f, v, m: f(v, (3, 2)),
    "broadcast_to": lambda f, v, m: f(v, (2, 4)),
    "moveaxis": lambda f, v, m: f(m, 0, 1),
    "swapaxes": lambda f, v, m: f(m, 0, 1),
    "rollaxis": lambda f, v, m: f(m, 1),
    "tile": lambda f, v, m: f(v, (2, 1)),
    "sliding_window_view": lambda f, v, m: f(m, (2, 2)),
    "take": lambda f, v, m: f(v, [0, 3]),
    "take_along_axis": lambda f, v, m: f(v, onp.array([3, 0]), axis=0),
    "choose": lambda f, v, m: f([0, 1, 1, 0], [v, (v[1],) * 4]),
    "compress": lambda f, v, m: f([True, False, True, True], v),
    "extract": lambda f, v, m: f([True, False, True, True], v),
    "insert": lambda f, v, m: f(v, 1, (v[0], 7.0)),
    "delete": lambda f, v, m: f(v, [1]),
    "concatenate": lambda f, v, m: f([v, (v[0], 1.0)]),
    "concat": lambda f, v, m: f([v, (v[0], 1.0)]),
    "stack": lambda f, v, m: f([v, v]),
    "block": lambda f, v, m: f([[v[0], 1.0], [2.0, v[0]]]),
    "select": lambda f, v, m: f([[True, False, True, False]], [v], default=(v[0],) * 4),
    "where": lambda f, v, m: f([True, False, True, False], v, (v[0],) * 4),
    "piecewise": lambda f, v, m: f(v, [[True, False, True, False]], [wnp.sin, 0.0]),
    "partition": lambda f, v, m: f(v, 1),
    "percentile": lambda f, v, m: f(v, (30.0, 80.0)),
    "nanpercentile": lambda f, v, m: f(v, (30.0, 80.0)),
    "quantile": lambda f, v, m: f(v, (0.3, 0.8)),
    "nanquantile": lambda f, v, m: f(v, (0.3, 0.8)),
    "pad": lambda f, v, m: f(v, (1, 2), constant_values=v[0]),
    "einsum": lambda f, v, m: f("ij,j->i", m, v[:2]),
    "einsum_path": lambda f, v, m: f("ij,j->i", m, v[:2]),
    "tensordot": lambda f, v, m: f(m, m, axes=1),
    "multi_dot": lambda f, v, m: f([m, m, v[:2]]),
    "matrix_power": lambda f, v, m: f(m, 3),
    "tensorinv": lambda f, v, m: f(m, 1),
    "interp": lambda f, v, m: f(v, [0.0, 1.0, 2.0, 3.0], v),
    "lstsq": lambda f, v, m: f(m, v[:2], rcond=None),
    "split": lambda f, v, m: f(v, 2),
    "array_split": lambda f, v, m: f(v, 3),
    "hsplit": lambda f, v, m: f(v, 2),
    "vsplit": lambda f, v, m: f(m, 2),
    "dsplit": lambda f, v, m: f([m, m], 2),
    "roll": lambda f, v, m: f(v, 1),
    "repeat": lambda f, v, m: f(v, 2),
    "expand_dims": lambda f, v, m: f(v, 0),
    "full_like": lambda f, v, m: f(v, v[0]),
    "linspace": lambda f, v, m: f(v[0], v, 5),
    "logspace": lambda f, v, m: f(v[0], v, 5),
    "geomspace": lambda f, v, m: f(v[0], v, 5),
    "apply_along_axis": lambda f, v, m: f(wnp.sum, 0, m),
    "apply_over_axes": lambda f, v, m: f(wnp.sum, m, [0]),
    "ldexp": lambda f, v, m: f(v, 3),
    "polyfit": lambda f, v, m: f([0.0, 1.0, 2.0, 3.0], v, 2),
    "polydiv": lambda f, v, m: f(v, v[:2]),
    "trapezoid": lambda f, v, m: f(v),
    "digitize": lambda f, v, m: f(v, [0.0, 1.0, 2.0]),
    "cross": lambda f, v, m: f(v[:3], (v[1], 1.0, v[0])),
    "eig": lambda f, v, m: f(m)[0],  # eigenvectors: NumPy's are real, wengert's complex
    "full": lambda f, v, m: f((3, 4), v),
    "tensorsolve": lambda f, v, m: f(m, v[:2]),
    "unstack": lambda f, v, m: f(m),
}
# Functions of integers, of memory or of dtypes: no traced floating-point entries to read
# (or results that are dtypes, not arrays).
NOT_FLOATS = {
    "bitwise_and",
    "bitwise_count",
    "bitwise_invert",
    "bitwise_left_shift",
    "bitwise_not",
    "bitwise_or",
    "bitwise_right_shift",
    "bitwise_xor",
    "gcd",
    "lcm",
    "invert",
    "left_shift",
    "right_shift",
    "packbits",
    "unpackbits",
    "isnat",
    "isfortran",
    "may_share_memory",
    "shares_memory",
    "result_type",
    "common_type",
    "min_scalar_type",
    "einsum_path",
    "astype",
    "bincount",
}
# In-place writers: they refuse traced values (see test_writes.py).
IN_PLACE = {"put", "place", "putmask", "copyto", "fill_diagonal", "put_along_axis"}
# Functions that NumPy too calls with arrays only (they read `.ndim` or `.shape`).
ARRAYS_ONLY = {"diag_indices_from", "tril_indices_from", "triu_indices_from"}
# Index updates take an index between their arrays: test_index_updates_read_lists.
INDEX_UPDATES = {"index_add", "index_update"}
# Functions whose result's entries are not set from their argument's values.
SHAPE_ONLY = {"empty_like"}
# Functions that take no array argument (shapes, sizes, dtypes), or return a view object.
NO_ARRAYS = {
    "arange",
    "zeros",
    "ones",
    "empty",
    "eye",
    "identity",
    "tri",
    "indices",
    "diag_indices",
    "tril_indices",
    "triu_indices",
    "mask_indices",
    "unravel_index",
    "ravel_multi_index",
    "broadcast_shapes",
    "promote_types",
    "can_cast",
    "fftfreq",
    "rfftfreq",
    "at",
    "ndenumerate",
    "bartlett",
    "blackman",
    "hamming",
    "hanning",
    "kaiser",
    "mintypecode",
}


def _functions():
    """(namespace, name, function, NumPy's function or None) for every public function."""
    out = []
    for module, reference in ((wnp, onp), (wnp.linalg, onp.linalg), (wnp.fft, onp.fft)):
        for name in module.__all__:
            fun = getattr(module, name)
            if (
                not callable(fun)
                or isinstance(fun, type)
                or name in NO_ARRAYS | NOT_FLOATS | ARRAYS_ONLY | IN_PLACE
            ):
                continue
            out.append((module.__name__, name, fun, getattr(reference, name, None)))
    return out


FUNCTIONS = _functions()


def _on_arrays(reference):
    """NumPy's function with list arguments read as arrays (some take arrays only)."""

    def call(*args, **kwargs):
        return reference(*[onp.asarray(a) if isinstance(a, list) else a for a in args], **kwargs)

    return call


def _numpy_call(name, reference):
    """The call to check and NumPy's value for it (None where NumPy has no such function)."""
    for call in [CALLS[name]] if name in CALLS else TRIED:
        if reference is None:
            return call, None
        for plain in (reference, _on_arrays(reference)):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return call, call(plain, onp.array(_vec(A)), onp.array(_mat(A)))
            except Exception:
                continue
    raise AssertionError(f"no call of {name} that NumPy accepts: add one to CALLS")


def _close(got, want):
    got, want = tree_flatten(got)[0], tree_flatten(want)[0]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        onp.testing.assert_allclose(onp.asarray(g), onp.asarray(w), rtol=1e-12, atol=1e-14)


@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::DeprecationWarning")
@pytest.mark.parametrize(
    "namespace, name, fun, reference", FUNCTIONS, ids=[f"{f[0]}.{f[1]}" for f in FUNCTIONS]
)
def test_lists_holding_traced_values_are_read_as_arrays(namespace, name, fun, reference):
    if name in INDEX_UPDATES:
        pytest.skip("called with an index: test_index_updates_read_lists")
    call, expected = _numpy_call(name, reference)

    def listed(a):
        return call(fun, _vec(a), _mat(a))

    def stacked(a):
        return call(fun, wnp.array(_vec(a)), wnp.array(_mat(a)))

    value, tangent = wg.jvp(listed, (A,), (1.0,))
    value_ref, tangent_ref = wg.jvp(stacked, (A,), (1.0,))
    if name in SHAPE_ONLY:
        value, value_ref = onp.shape(value), onp.shape(value_ref)
    _close((value, tangent), (value_ref, tangent_ref))
    if expected is not None and name not in SHAPE_ONLY:
        _close(value, expected)
    # Reverse mode: the gradient of the sum of the floating-point results.
    _close(wg.grad(_summed(listed))(A), wg.grad(_summed(stacked))(A))


def _summed(fun):
    def total(a):
        leaves = tree_flatten(fun(a))[0]
        return sum(wnp.sum(wnp.real(x)) for x in leaves if onp.result_type(peek(x)).kind in "fc")

    return total


def test_a_list_holding_a_traced_value_in_norm():
    g = wg.grad(lambda a: wnp.linalg.norm([a, 2.0]))(1.3)
    assert onp.isclose(g, 1.3 / onp.hypot(1.3, 2.0))
    wg.check_grads(lambda a: wnp.linalg.norm([[a, 2.0 * a], (a, 1.0)]), order=2)(0.7)


def test_elementwise_primitives_read_tuples_and_nested_lists():
    wg.check_grads(lambda a: wnp.sin(((a, 1.0), (2.0, a * a))), order=2)(0.4)
    wg.check_grads(lambda a: wnp.add([a, 1.0], (a, a)) * wnp.exp([[a]]), order=2)(0.4)
    assert isinstance(wnp.sin, _arraylike.ArrayLikePrimitive)


def test_sequences_of_arrays_keep_their_meaning():
    # concatenate takes a sequence of arrays of different lengths; block's nesting is layout.
    out = wg.jvp(lambda a: wnp.concatenate([[a, 1.0], [a, 2.0, 3.0]]), (2.0,), (1.0,))
    onp.testing.assert_array_equal(out[0], [2.0, 1.0, 2.0, 2.0, 3.0])
    onp.testing.assert_array_equal(out[1], [1.0, 0.0, 1.0, 0.0, 0.0])
    out = wnp.block([[onp.eye(2), onp.zeros((2, 1))], [onp.ones((1, 2)), onp.ones((1, 1))]])
    assert out.shape == (3, 3)
    g = wg.grad(lambda a: wnp.sum(wnp.block([[a, 1.0], [2.0, a]]) ** 2))(1.5)
    assert onp.isclose(g, 4 * 1.5)


def test_shape_arguments_are_not_read_as_arrays():
    x = onp.arange(6.0)
    out = wg.jvp(lambda a: wnp.reshape(wnp.tile([a, 1.0, 2.0], (2,)), (2, 3)), (1.0,), (1.0,))
    onp.testing.assert_array_equal(out[1], [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    assert wnp.reshape(x, [3, 2]).shape == (3, 2)


def test_untraced_calls_are_numpy_calls():
    x = onp.array([0.5, -1.0])
    assert wnp.sin([0.5, -1.0]).tolist() == onp.sin(x).tolist()
    assert wnp.linalg.norm((3.0, 4.0)) == 5.0
    assert wnp.linalg.diagonal([[1.0, 2.0], [3.0, 4.0]]).tolist() == [1.0, 4.0]
    assert wnp.linalg.vecdot([1.0, 2.0], [3.0, 4.0]) == 11.0
    assert wnp.full_like([1.0, 2.0], 3.0).tolist() == [3.0, 3.0]


@pytest.mark.parametrize("name", sorted(INDEX_UPDATES))
def test_index_updates_read_lists(name):
    fun = getattr(wnp, name)

    def listed(a):
        return wnp.sum(fun([a, 2.0 * a, 3.0], slice(0, 2), [a * a, 1.0]) ** 2)

    def stacked(a):
        return wnp.sum(fun(wnp.stack([a, 2.0 * a, 3.0]), slice(0, 2), wnp.stack([a * a, 1.0])) ** 2)

    assert wg.grad(listed)(0.7) == pytest.approx(wg.grad(stacked)(0.7), rel=1e-14)
    wg.check_grads(listed, order=2)(0.7)
