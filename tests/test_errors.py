"""Bad input gets a clear error naming the problem and the way out."""

from __future__ import annotations

import io

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp


def test_grad_of_non_scalar_output_names_the_shape():
    with pytest.raises(wg.NonScalarOutputError, match=r"shape \(3,\).*elementwise_grad"):
        wg.grad(wnp.sin)(onp.ones(3))


def test_grad_of_tuple_output():
    with pytest.raises(wg.NonScalarOutputError, match="has_aux"):
        wg.grad(lambda x: (x, x))(1.0)


@pytest.mark.parametrize("bad", [3, onp.array([1, 2]), True, onp.array([True])])
def test_integer_or_boolean_inputs(bad):
    with pytest.raises(TypeError, match="floating-point"):
        wg.grad(lambda x: wnp.sum(x * 1.0))(bad)


def test_in_place_write_into_traced_array():
    def fun(x):
        x[0] = 1.0
        return wnp.sum(x)

    with pytest.raises(wg.InPlaceWriteError, match="index_update"):
        wg.grad(fun)(onp.ones(3))


def test_writing_traced_value_into_numpy_array():
    def fun(x):
        out = onp.zeros(3)
        out[:2] = x
        return wnp.sum(out)

    with pytest.raises(wg.TracedConversionError, match="index_update"):
        wg.grad(fun)(onp.ones(2))


def test_uncovered_numpy_function_is_named():
    # writing a traced array to a file: NumPy's function, no derivative to give
    out = io.StringIO()
    with pytest.raises(wg.UnsupportedFunctionError, match=r"numpy.savetxt"):
        wg.grad(lambda x: (onp.savetxt(out, x), onp.sum(x))[1])(onp.ones(3))


def test_uncovered_ufunc_is_named():
    # every NumPy ufunc is covered; a user's ufunc is not
    identity = onp.frompyfunc(lambda a: a, 1, 1)
    with pytest.raises(wg.UnsupportedFunctionError, match=r"vectorized.*stop_gradient"):
        wg.grad(lambda x: identity(x))(1.0)


def test_float_conversion_would_drop_derivative():
    import math

    with pytest.raises(wg.TracedConversionError, match="math"):
        wg.grad(lambda x: math.sin(x))(1.0)


def test_jvp_tangent_shape_mismatch():
    with pytest.raises(ValueError, match=r"shape \(2,\).*\(3,\)"):
        wg.jvp(wnp.sin, (onp.ones(3),), (onp.ones(2),))


def test_jvp_needs_tuples():
    with pytest.raises(TypeError, match="tuples"):
        wg.jvp(wnp.sin, onp.ones(3), onp.ones(3))


def test_vjp_cotangent_shape_mismatch():
    _, pullback = wg.vjp(wnp.sin, onp.ones(3))
    with pytest.raises(ValueError, match="shape"):
        pullback(onp.ones(2))


def test_argnums_out_of_range():
    with pytest.raises(ValueError, match="argnums"):
        wg.grad(lambda x: x, argnums=2)(1.0)


def test_complex_output_needs_holomorphic():
    with pytest.raises(TypeError, match="holomorphic"):
        wg.grad(lambda x: x * 1j)(1.0)


def test_missing_rule_is_named():
    p = wg.primitive(lambda x: x * 2.0)
    with pytest.raises(wg.MissingRuleError, match="reverse"):
        wg.grad(p)(1.0)
    with pytest.raises(wg.MissingRuleError, match="forward"):
        wg.jvp(p, (1.0,), (1.0,))
