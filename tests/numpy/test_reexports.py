"""Every name of NumPy's and HIPS autograd's numpy namespaces is in wengert.numpy: types,
error state, printing and files as NumPy's own objects; everything else defined here."""

from __future__ import annotations

import io

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert.numpy import reexports

# HIPS autograd's own machinery (boxes, rule tables, wrappers): wengert.autograd's business.
AUTOGRAD_INTERNALS = {
    "Box",
    "array_from_args",
    "builtins",
    "c_class",
    "concatenate_args",
    "custom_where",
    "make_diagonal",
    "metadata",
    "notrace_functions",
    "notrace_primitive",
    "numpy_boxes",
    "numpy_jvps",
    "numpy_version",
    "numpy_vjps",
    "numpy_vspaces",
    "numpy_wrapper",
    "parse_einsum_input",
    "primitive",
    "r_class",
    "warnings",
    "wrap_if_boxes_inside",
    "wrap_intdtype",
    "wrap_namespace",
}
# NumPy's test runner; numpy.expm1x, which numexpr adds to NumPy when it is imported.
NOT_ARRAY_FUNCTIONS = {"test", "expm1x"}


def _public(module) -> set[str]:
    return {n for n in dir(module) if not n.startswith("_")}


def test_every_name_of_hips_autograd_numpy_is_here():
    autograd_numpy = pytest.importorskip("autograd.numpy")
    missing = _public(autograd_numpy) - AUTOGRAD_INTERNALS - NOT_ARRAY_FUNCTIONS - _public(wnp)
    assert not missing, f"names of autograd.numpy missing from wengert.numpy: {sorted(missing)}"


def test_every_function_and_type_of_numpy_is_here():
    missing = {
        n
        for n in _public(onp) - NOT_ARRAY_FUNCTIONS - _public(wnp)
        if not isinstance(getattr(onp, n), type(onp))  # subpackages (char, ma, linalg...)
    }
    assert not missing, f"names of numpy missing from wengert.numpy: {sorted(missing)}"


def test_reexports_are_numpys_own_objects():
    for name in reexports.__all__[1:]:
        assert getattr(wnp, name) is getattr(onp, name), name
    assert wnp.__version__ == onp.__version__
    for name in ("longdouble", "double", "single", "half", "int_", "intp", "uint64", "generic"):
        assert getattr(wnp, name) is getattr(onp, name)
    assert wnp.issubdtype(wnp.float64, wnp.floating)
    assert not set(reexports.__all__) & set(wnp.__all__)  # wnp.__all__: wengert's functions


def test_types_and_dtype_questions_on_traced_values():
    def f(x):
        assert wnp.issubdtype(x.dtype, wnp.floating) and isinstance(x.dtype.type(0), wnp.inexact)
        assert wnp.iterable(x) and wnp.common_type(x) is wnp.double
        assert wnp.min_scalar_type(x) == onp.min_scalar_type(onp.asarray([1.5, 2.0]))
        return wnp.sum(x.astype(wnp.single).astype(wnp.double) ** 2)

    onp.testing.assert_allclose(wg.grad(f)(onp.array([1.5, 2.0])), [3.0, 4.0])


def test_error_state_printing_and_files_work_around_traced_code():
    with wnp.errstate(divide="ignore"):
        assert wnp.geterr()["divide"] == "ignore"
        g = wg.grad(lambda x: wnp.sum(wnp.log(x)))(onp.array([0.0, 2.0]))
    onp.testing.assert_array_equal(g, [onp.inf, 0.5])
    with wnp.printoptions(precision=2):
        assert wnp.array2string(onp.array([1.0 / 3.0])) == "[0.33]"
    buffer = io.BytesIO()
    wnp.save(buffer, onp.arange(3.0))
    buffer.seek(0)
    data = wnp.load(buffer)
    onp.testing.assert_allclose(wg.grad(lambda x: wnp.sum(x * data))(onp.ones(3)), data)
    f = wnp.fromfunction(lambda i, j: i + 2 * j, (2, 2))
    onp.testing.assert_array_equal(f, [[0.0, 2.0], [1.0, 3.0]])


def test_non_differentiable_additions_are_constants():
    x = onp.array([0.3, 1.7, 1.2, 2.9])
    for fun in (
        lambda x: wnp.histogram(x, bins=3)[0],
        lambda x: wnp.histogram_bin_edges(x, bins=2),
        lambda x: wnp.spacing(x),
        lambda x: wnp.nextafter(x, 5.0),
        lambda x: wnp.union1d(x, [1.0]),
        lambda x: wnp.unique_values(x),
        lambda x: wnp.kaiser(4, 2.0),
        lambda x: wnp.hanning(4),
    ):
        expected = fun(x)
        g = wg.grad(lambda x, f=fun: wnp.sum(x * wnp.sum(f(x))))(x)
        onp.testing.assert_allclose(g, onp.full(4, onp.sum(expected)))
    assert wnp.histogram.nondifferentiable and wnp.hamming.nondifferentiable
