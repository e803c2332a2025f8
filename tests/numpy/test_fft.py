"""wengert.numpy.fft: every transform through the checker (both modes, order 2) over `n`,
`axis`/`axes`/`s` and `norm`, the transpose convention, values, and compositions."""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert._core.primitive import Primitive
from wengert.numpy import fft as wfft

R = onp.random.default_rng(11)
NORMS = (None, "backward", "ortho", "forward")


def dense(*shape, cplx=False):
    def make():
        x = R.standard_normal(shape)
        return x + 1j * R.standard_normal(shape) if cplx else x

    return make


def mixed(f):
    """A real function of a complex-valued one, mixing real and imaginary parts."""
    return lambda *args: wnp.real(f(*args)) + 2.0 * wnp.imag(f(*args))


CASES: list[tuple[str, object, tuple]] = []


def case(name, fun, *gens):
    CASES.append((name, fun, gens))


for norm in NORMS:
    for n in (None, 3, 6, 9):  # shorter, equal to, and longer than the input
        case("fft", lambda x, n=n, m=norm: wfft.fft(x, n, norm=m), dense(6, cplx=True))
        case("fft", mixed(lambda x, n=n, m=norm: wfft.fft(x, n, axis=0, norm=m)), dense(6, 2))
        case("ifft", lambda x, n=n, m=norm: wfft.ifft(x, n, axis=0, norm=m), dense(6, 2, cplx=True))
        case("ifft", mixed(lambda x, n=n, m=norm: wfft.ifft(x, n, norm=m)), dense(2, 6))
        case("rfft", mixed(lambda x, n=n, m=norm: wfft.rfft(x, n, norm=m)), dense(2, 6))
        case(
            "irfft", lambda x, n=n, m=norm: wfft.irfft(x, n, axis=0, norm=m), dense(4, 2, cplx=True)
        )
        case("irfft", lambda x, n=n, m=norm: wfft.irfft(x, n, norm=m), dense(4))
        case("irfft", lambda x, n=n, m=norm: wfft.hfft(x, n, norm=m), dense(4, cplx=True))
        case("rfft", mixed(lambda x, n=n, m=norm: wfft.ihfft(x, n, norm=m)), dense(5))
    case("fft", lambda x, m=norm: wfft.fft2(x, norm=m), dense(2, 3, 4, cplx=True))
    case("ifft", mixed(lambda x, m=norm: wfft.ifft2(x, s=(4, 2), norm=m)), dense(2, 3, 4))
    case("fft", lambda x, m=norm: wfft.fftn(x, axes=(0, 2), norm=m), dense(2, 3, 4, cplx=True))
    case(
        "ifft",
        lambda x, m=norm: wfft.ifftn(x, s=(3, 5), axes=(2, 0), norm=m),
        dense(2, 3, 4, cplx=True),
    )
    case("rfft", mixed(lambda x, m=norm: wfft.rfftn(x, norm=m)), dense(2, 3, 4))
    case("rfft", mixed(lambda x, m=norm: wfft.rfftn(x, (4, 5), (0, 1), m)), dense(2, 3, 4))
    case("irfft", lambda x, m=norm: wfft.irfftn(x, norm=m), dense(2, 3, 4, cplx=True))
    case("irfft", lambda x, m=norm: wfft.irfftn(x, (3, 5), (2, 1), m), dense(2, 3, 4, cplx=True))
    case("rfft", mixed(lambda x, m=norm: wfft.rfft2(x, norm=m)), dense(3, 4))
    case("irfft", lambda x, m=norm: wfft.irfft2(x, s=(3, 5), norm=m), dense(3, 4, cplx=True))
case("fft", lambda x: wfft.fft(x, axis=1), dense(2, 3, 4, cplx=True))
case("getitem", wfft.fftshift, dense(3, 5))
case("getitem", lambda x: wfft.fftshift(x, axes=1), dense(3, 4))
case("getitem", wfft.ifftshift, dense(4, 5, cplx=True))
case("getitem", lambda x: wfft.ifftshift(x, axes=(0,)), dense(5, 2))


@pytest.mark.parametrize("name, fun, gens", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rules_against_numerical_derivatives(name, fun, gens):
    wg.check_grads(fun, modes=("fwd", "rev"), order=2)(*[g() for g in gens])


def test_every_primitive_is_in_the_table_with_both_rules():
    prims = {
        v.name: v
        for v in vars(wfft).values()
        if (isinstance(v, Primitive) and not getattr(v, "nondifferentiable", False))
        and v.fun.__module__ == wfft.__name__
    }
    assert set(prims) == {"fft", "ifft", "rfft", "irfft"}
    assert not set(prims) - {c[0] for c in CASES}
    for prim in prims.values():
        assert prim.vjp_rules and prim.jvp_rules


# --- values -------------------------------------------------------------------------------------


def _traced_value(fun, x):
    return wg.jvp(fun, (x,), (onp.zeros_like(x),))[0]


@pytest.mark.parametrize("name", ["fft", "ifft", "rfft", "ihfft", "irfft", "hfft"])
@pytest.mark.parametrize("n", [None, 4, 9])
@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
def test_one_dimensional_values_match_numpy(name, n, norm):
    x = dense(3, 6, 2, cplx=name in ("irfft", "hfft"))()
    expected = getattr(onp.fft, name)(x, n, 1, norm)
    for value in (
        _traced_value(lambda x: getattr(wfft, name)(x, n, 1, norm), x),
        getattr(wfft, name)(x, n, 1, norm),
    ):
        assert value.shape == expected.shape
        onp.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)


ND_CASES = [
    (name, s, axes)
    for name in ("fftn", "ifftn", "rfftn", "irfftn", "fft2", "ifft2", "rfft2", "irfft2")
    for s, axes in [(None, None), ((3, 5), (2, 0)), (None, (1,)), ((4, 5), (0, 1))]
    if not (name.endswith("2") and axes is not None and len(axes) != 2)
]


@pytest.mark.parametrize("name, s, axes", ND_CASES)
def test_n_dimensional_values_match_numpy(name, s, axes):
    x = dense(3, 4, 6, cplx=name.startswith("irfft"))()
    kwargs = {} if axes is None else {"axes": axes}
    expected = getattr(onp.fft, name)(x, s, **kwargs)
    value = _traced_value(lambda x: getattr(wfft, name)(x, s, **kwargs), x)
    assert value.shape == expected.shape
    onp.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)


def test_shifts_and_frequencies():
    x = dense(4, 5)()
    for axes in (None, 0, (1,), (0, 1)):
        onp.testing.assert_array_equal(
            _traced_value(lambda x: wfft.fftshift(x, axes), x), onp.fft.fftshift(x, axes)
        )
        onp.testing.assert_array_equal(
            _traced_value(lambda x: wfft.ifftshift(x, axes), x), onp.fft.ifftshift(x, axes)
        )
    onp.testing.assert_array_equal(wfft.fftfreq(5, 0.1), onp.fft.fftfreq(5, 0.1))
    onp.testing.assert_array_equal(wfft.rfftfreq(6), onp.fft.rfftfreq(6))
    assert wfft.fftfreq.nondifferentiable and wfft.rfftfreq.nondifferentiable


# --- the transpose convention -------------------------------------------------------------------


@pytest.mark.parametrize("norm", NORMS)
def test_reverse_rules_are_transposes(norm):
    x, g = dense(6, cplx=True)(), dense(6, cplx=True)()
    # The DFT matrix is symmetric: the reverse rule of fft is fft, without conjugation.
    _, pullback = wg.vjp(lambda x: wfft.fft(x, norm=norm), x)
    onp.testing.assert_allclose(pullback(g)[0], onp.fft.fft(g, norm=norm))
    _, pullback = wg.vjp(lambda x: wfft.ifft(x, norm=norm), x)
    onp.testing.assert_allclose(pullback(g)[0], onp.fft.ifft(g, norm=norm))
    # With n longer than the input, the transpose crops the transformed cotangent.
    g9 = dense(9, cplx=True)()
    _, pullback = wg.vjp(lambda x: wfft.fft(x, 9, norm=norm), x)
    onp.testing.assert_allclose(pullback(g9)[0], onp.fft.fft(g9, norm=norm)[:6])
    # rfft of a real input: the real part of the full transform of the padded cotangent.
    xr, g4 = dense(6)(), dense(4, cplx=True)()
    _, pullback = wg.vjp(lambda x: wfft.rfft(x, norm=norm), xr)
    padded = onp.concatenate([g4, onp.zeros(2)])
    onp.testing.assert_allclose(pullback(g4)[0], onp.fft.fft(padded, norm=norm).real)


def test_transposes_pair_exactly_with_the_forward_maps():
    """<u, J v> = <J^T u, v> with the pairing Re sum(a * b), for every transform."""
    funs = [
        (lambda x: wfft.fft(x, 7, norm="ortho"), dense(5, cplx=True)),
        (lambda x: wfft.rfft(x, 8), dense(5)),
        (lambda x: wfft.irfft(x, 7, norm="forward"), dense(5, cplx=True)),
        (lambda x: wfft.irfft(x), dense(4)),
        (lambda x: wfft.hfft(x, 6), dense(4, cplx=True)),
        (lambda x: wfft.rfftn(x, (3, 4)), dense(2, 5)),
        (lambda x: wfft.irfftn(x, (3, 6)), dense(2, 5, cplx=True)),
    ]
    for fun, gen in funs:
        x, v = gen(), gen()
        out, pullback = wg.vjp(fun, x)
        u = dense(*out.shape, cplx=onp.iscomplexobj(out))()
        forward = wg.jvp(fun, (x,), (v,))[1]
        lhs = onp.real(onp.sum(u * forward))
        rhs = onp.real(onp.sum(pullback(u)[0] * v))
        assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)


def test_gradients_of_real_inputs_are_real():
    x = dense(8)()
    g = wg.grad(lambda x: wnp.sum(wnp.real(wfft.fft(x)) ** 2))(x)
    assert g.dtype == onp.float64
    onp.testing.assert_allclose(
        wg.grad(lambda x: wnp.real(wfft.fft(x))[1])(onp.zeros(4)), [1, 0, -1, 0], atol=1e-15
    )
    g = wg.grad(lambda x: wnp.sum(wfft.irfft(x) ** 2))(dense(5)())
    assert g.dtype == onp.float64


# --- compositions -------------------------------------------------------------------------------


def test_parseval():
    x = dense(8)()
    energy = lambda x: wnp.sum(wnp.abs(wfft.fft(x)) ** 2)
    assert energy(x) == pytest.approx(8 * onp.sum(x**2))
    onp.testing.assert_allclose(wg.grad(energy)(x), 16 * x)
    ortho = lambda x: wnp.sum(wnp.abs(wfft.rfft(x, norm="ortho")[1:4]) ** 2)
    wg.check_grads(ortho, order=2)(x)


def test_circular_convolution_through_the_real_transform():
    def convolve(x, k):
        return wfft.irfft(wfft.rfft(x) * wfft.rfft(k), n=x.shape[-1])

    x, k = dense(7)(), dense(7)()
    direct = onp.array([sum(x[j] * k[(i - j) % 7] for j in range(7)) for i in range(7)])
    onp.testing.assert_allclose(convolve(x, k), direct)
    wg.check_grads(convolve, order=2)(x, k)
    # Its gradient in x is a correlation with k.
    g = wg.grad(lambda x: wnp.sum(convolve(x, k) * onp.arange(7.0)))(x)
    expected = onp.array([sum(i * k[(i - j) % 7] for i in range(7)) for j in range(7)])
    onp.testing.assert_allclose(g, expected)


def test_spectral_derivative_of_a_batch_of_images():
    def smooth(images, width):
        freq = onp.fft.fftfreq(8)
        filt = wnp.exp(-(freq[:, None] ** 2 + freq[None, :] ** 2) * width)
        return wnp.real(wfft.ifft2(wfft.fft2(images) * filt))

    images = dense(2, 8, 8)()
    wg.check_grads(smooth, order=2)(images, 3.0)
    onp.testing.assert_allclose(smooth(images, 0.0), images, atol=1e-12)


def test_plain_numpy_code_is_routed():
    x = dense(6)()

    def loss(x):
        spectrum = onp.fft.rfft(x)
        return onp.sum(onp.abs(spectrum) ** 2) + onp.sum(onp.fft.fftshift(x) * onp.arange(6.0))

    wg.check_grads(loss, order=2)(x)
    expected = wg.grad(
        lambda x: wnp.sum(wnp.abs(wfft.rfft(x)) ** 2) + wnp.sum(wfft.fftshift(x) * onp.arange(6.0))
    )(x)
    onp.testing.assert_allclose(wg.grad(loss)(x), expected)


def test_errors_name_the_function_and_the_problem():
    x = dense(4)()
    with pytest.raises(ValueError, match="norm"):
        wfft.fft(x, norm="sideways")
    with pytest.raises(ValueError, match="data points"):
        wfft.rfft(x, 0)
    with pytest.raises(ValueError, match="out of bounds"):
        wfft.ifft(x, axis=2)
