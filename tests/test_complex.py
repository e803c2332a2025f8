"""Complex numbers: holomorphic functions, real functions of complex inputs, complex
intermediates inside real functions."""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert.numeric import richardson

Z = [1.0 + 2.0j, -0.5 + 0.3j, 2.0 - 1.5j]

HOLOMORPHIC = [
    (lambda z: z**2, lambda z: 2 * z),
    (wnp.exp, onp.exp),
    (wnp.sin, onp.cos),
    (lambda z: 1.0 / z, lambda z: -1.0 / z**2),
    (lambda z: wnp.log(z) * z, lambda z: onp.log(z) + 1.0),
    (lambda z: wnp.sqrt(z), lambda z: 0.5 / onp.sqrt(z)),
]


@pytest.mark.parametrize("f, df", HOLOMORPHIC)
def test_holomorphic_grad_is_the_complex_derivative(f, df):
    for z in Z:
        assert wg.grad(f, holomorphic=True)(z) == pytest.approx(df(z), rel=1e-12)
        assert wg.jvp(f, (z,), (1.0 + 0j,))[1] == pytest.approx(df(z), rel=1e-12)


@pytest.mark.parametrize("f, df", HOLOMORPHIC)
def test_holomorphic_functions_pass_the_checker(f, df):
    wg.check_grads(f, order=2)(onp.array(Z))


def test_complex_output_needs_holomorphic_flag():
    with pytest.raises(wg.NonScalarOutputError, match="holomorphic"):
        wg.grad(lambda z: z**2)(1.0 + 1.0j)


REAL_OF_COMPLEX = [
    lambda z: wnp.real(z * wnp.conj(z)),
    lambda z: wnp.abs(z),
    lambda z: wnp.abs(z) ** 3 + wnp.imag(z),
    lambda z: wnp.real(wnp.exp(z)) * wnp.imag(z * z),
    lambda z: wnp.angle(z) if hasattr(wnp, "angle") else wnp.real(z) * 2.0,
]


def _numeric_conj_wirtinger(f, z):
    """df/dz* = (df/dx + i df/dy) / 2, by Richardson-extrapolated differences."""
    dx = richardson(lambda t: f(z + t), 0.0, 1.0)[0]
    dy = richardson(lambda t: f(z + 1j * t), 0.0, 1.0)[0]
    return (dx + 1j * dy) / 2


@pytest.mark.parametrize("f", REAL_OF_COMPLEX)
def test_real_function_of_complex_input_against_wirtinger(f):
    for z in Z:
        expected = onp.conj(2 * _numeric_conj_wirtinger(f, z))  # = df/dx - i df/dy
        assert wg.grad(f)(z) == pytest.approx(expected, rel=1e-8, abs=1e-10)


@pytest.mark.parametrize("f", REAL_OF_COMPLEX)
def test_real_functions_of_complex_pass_the_checker(f):
    wg.check_grads(f, order=2)(onp.array(Z))


def test_steepest_descent_with_the_conjugate_gradient():
    f = lambda z: wnp.sum(wnp.abs(z - (1.0 + 1.0j)) ** 2)
    z = onp.zeros(3, dtype=complex)
    for _ in range(50):
        z = z - 0.25 * onp.conj(wg.grad(f)(z))
    onp.testing.assert_allclose(z, onp.full(3, 1.0 + 1.0j), atol=1e-10)


def test_complex_intermediates_inside_a_real_function():
    def f(x):
        phase = wnp.exp(1j * x)
        return wnp.sum(wnp.real(phase * (2.0 - 1.0j)) ** 2)

    x = onp.array([0.3, -1.1, 2.0])
    wg.check_grads(f, order=2)(x)
    g = wg.grad(f)(x)
    assert g.dtype == onp.float64
    re = 2 * onp.cos(x) + onp.sin(x)
    onp.testing.assert_allclose(g, 2 * re * (-2 * onp.sin(x) + onp.cos(x)))


def test_abs_of_complex_at_zero_is_finite():
    assert wg.grad(lambda z: wnp.abs(z))(0j) == 0


def test_complex_cotangent_reaching_a_real_input_keeps_its_real_part():
    from wengert._core.primitive import Primitive

    # A non-broadcasting primitive whose reverse rule gives a complex cotangent.
    dft = Primitive(onp.fft.fft, "dft")
    dft.defvjp(lambda g, ans, x: wnp.fft.fft(g))
    dft.defjvp(lambda t, ans, x: wnp.fft.fft(t))
    x = onp.array([0.5, -1.0, 2.0, 0.25])
    g = wg.grad(lambda x: wnp.real(dft(x))[1] + wnp.imag(dft(x))[2])(x)
    assert g.dtype == onp.float64
    expected = onp.real(onp.exp(-2j * onp.pi * onp.arange(4) / 4))
    expected += onp.imag(onp.exp(-2j * onp.pi * 2 * onp.arange(4) / 4))
    onp.testing.assert_allclose(g, expected, atol=1e-15)
    wg.check_grads(lambda x: wnp.real(dft(x)) * wnp.imag(dft(x)), order=2)(x)
