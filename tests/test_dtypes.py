"""float32 in means float32 out, complex64 likewise: values, cotangents and tangents keep
single precision, in the engine and in the primitives."""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert._core import vspace
from wengert._core.box import getval

# --- the engine's helpers --------------------------------------------------------------------

F32 = onp.array([0.5, -1.5, 2.0], dtype=onp.float32)
C64 = (F32 + 1j * F32[::-1]).astype(onp.complex64)


@pytest.mark.parametrize(
    "value, dtype",
    [
        (F32, onp.float32),
        (C64, onp.complex64),
        (onp.float32(1.5), onp.float32),
        (onp.complex64(1.5j), onp.complex64),
        (onp.arange(3), onp.float64),  # integers: derivatives are floating
    ],
)
def test_zeros_and_ones_keep_the_dtype(value, dtype):
    for fill, make in ((0, vspace.zeros_like), (1, vspace.ones_like)):
        out = make(value)
        assert onp.result_type(out) == dtype and onp.shape(out) == onp.shape(value)
        assert onp.all(out == fill)


def test_unbroadcast_sums_back_in_the_primal_dtype():
    wide = onp.ones((2, 3))
    out = vspace.unbroadcast(wide, F32)
    assert out.dtype == onp.float32 and out.shape == (3,)
    onp.testing.assert_array_equal(out, [2.0, 2.0, 2.0])
    assert vspace.unbroadcast(wide.astype(onp.complex128), F32).dtype == onp.float32
    assert vspace.unbroadcast(wide.astype(onp.complex128), C64).dtype == onp.complex64
    assert vspace.match_realness(onp.ones(3, complex), F32).dtype == onp.float32
    assert vspace.match_realness(onp.ones(3), C64).dtype == onp.complex64


def test_double_cotangents_of_double_primals_are_not_copied():
    g = onp.ones(3)
    assert vspace.unbroadcast(g, onp.zeros(3)) is g
    assert vspace.match_realness(g, onp.zeros(3)) is g
    assert vspace.broadcast_tangent(g, onp.zeros(3)) is g


def test_broadcast_tangent_takes_the_value_dtype():
    out = vspace.broadcast_tangent(F32, onp.zeros((2, 3)))
    assert out.dtype == onp.float64 and out.shape == (2, 3)
    assert vspace.broadcast_tangent(F32, onp.zeros(3, onp.complex64)).dtype == onp.complex64


def test_symbolic_zeros_are_instantiated_in_the_input_dtype():
    _, pullback = wg.vjp(lambda x, y: x * 2.0, F32, C64)
    assert pullback(onp.ones(3, onp.float32))[1].dtype == onp.complex64
    _, tangent = wg.jvp(lambda x: onp.ones(3, onp.float32), (F32,), (F32,))
    assert tangent.dtype == onp.float32
    # A result of a primitive with several results that gets no cotangent (r of qr).
    a = (3.0 * onp.eye(3) + 0.1 * onp.arange(9).reshape(3, 3)).astype(onp.float32)
    g = wg.grad(lambda a: wnp.sum(wnp.linalg.qr(a)[0]))(a)
    assert g.dtype == onp.float32


def test_grad_seed_takes_the_output_dtype():
    assert wg.grad(lambda x: wnp.sum(x * x))(F32).dtype == onp.float32
    assert onp.result_type(wg.grad(lambda x: x * x)(onp.float32(3.0))) == onp.float32
    g = wg.grad(lambda z: wnp.real(wnp.sum(z * z)))(C64)
    assert g.dtype == onp.complex64


@pytest.mark.parametrize("transform", ["grad", "vjp", "jvp"])
@pytest.mark.parametrize("value", [onp.arange(3), onp.array([True, False]), 3])
def test_integer_inputs_still_raise_a_clear_type_error(transform, value):
    f = lambda x: x * 2.0
    with pytest.raises(TypeError, match="floating-point"):
        if transform == "grad":
            wg.grad(lambda x: wnp.sum(f(x)))(value)
        elif transform == "vjp":
            wg.vjp(f, value)
        else:
            wg.jvp(f, (value,), (value,))


# --- mixed inputs follow NumPy's promotion ------------------------------------------------------


@pytest.mark.parametrize(
    "fun, args, value_dtype",
    [
        (lambda x: x * 2.0, (F32,), onp.float32),  # a Python float is weak
        (lambda x: x * 1j, (F32,), onp.complex64),
        (lambda x, y: x * y, (F32, onp.ones(3)), onp.float64),  # a float64 array is not
        (lambda x, y: x + y, (F32, onp.ones((2, 3))), onp.float64),
        (lambda x, y: wnp.where(x > 0, x, y), (F32, onp.ones(3)), onp.float64),
        (lambda x, y: x @ y, (F32, onp.ones((3, 2))), onp.float64),
        (lambda x, z: x * z, (F32, C64), onp.complex64),
        (lambda x, z: x * z, (F32, C64.astype(onp.complex128)), onp.complex128),
        (lambda x, y: x * y, (F32, onp.float64(2.0)), onp.float64),  # NumPy scalars are strong
    ],
)
def test_mixed_inputs_follow_numpy_promotion(fun, args, value_dtype):
    out, pullback = wg.vjp(fun, *args)
    assert onp.result_type(out) == value_dtype
    assert onp.result_type(fun(*args)) == value_dtype  # as NumPy itself gives
    # Each cotangent in its own input's dtype, the tangent in the value's.
    for c, x in zip(pullback(onp.ones_like(out)), args):
        assert onp.result_type(c) == onp.result_type(x)
    _, tangent = wg.jvp(fun, args, tuple(onp.ones_like(x) for x in args))
    assert onp.result_type(tangent) == value_dtype


# --- regression tests for the functions that widened float32 ------------------------------------


def _bits(x):
    dtype = getattr(getval(x), "dtype", None)
    return onp.finfo(dtype).bits if dtype is not None and dtype.kind in "fc" else 0


def _noting_narrowing(cast, narrowed: list):
    """The engine's cast `cast`, noting each precision it had to narrow a derivative from
    (a rule that computed float32 derivatives in float64)."""

    def noted(value, like):
        out = cast(value, like)
        if _bits(value) > _bits(out) > 0:
            narrowed.append(getval(value).dtype)
        return out

    return noted


def _keeps_float32(fun, *args):
    """Traced value, gradient (of the real sum), tangent and second derivative in single
    precision, with no rule computing in double (untraced, a composite function is
    NumPy's own)."""
    narrowed = []
    with pytest.MonkeyPatch.context() as patch:
        for name in ("_in_dtype", "_tangent_in_dtype"):
            patch.setattr(vspace, name, _noting_narrowing(getattr(vspace, name), narrowed))
        out = wg.vjp(fun, *args)[0]
        assert onp.result_type(out) in (onp.float32, onp.complex64), onp.result_type(out)
        scalar = lambda *a: wnp.sum(wnp.real(fun(*a)))
        nums = tuple(range(len(args)))
        for g, x in zip(wg.grad(scalar, argnums=nums)(*args), args):
            assert onp.result_type(g) == onp.result_type(x)
        ones = tuple(onp.ones_like(x) for x in args)
        assert onp.result_type(wg.jvp(fun, args, ones)[1]) == onp.result_type(out)
        for h, x in zip(wg.jvp(wg.grad(scalar, argnums=nums), args, ones)[1], args):
            assert onp.result_type(h) == onp.result_type(x)
    assert not narrowed, f"a rule computed in {narrowed[0]} (the engine cast it back)"


def test_clip_and_maximum_keep_float32():
    # The tie split was a float64 array of 1, 1/2 and 0 made from booleans.
    _keeps_float32(lambda x: wnp.clip(x, -1.0, 1.0), F32)
    _keeps_float32(wnp.maximum, F32, F32[::-1].copy())
    _keeps_float32(lambda x: wnp.minimum(x, 0.5), F32)


def test_logarithm_constants_keep_float32():
    # log(2) and log(10) were NumPy float64 scalars, which widen float32 under NEP 50.
    for fun in (wnp.exp2, wnp.log2, wnp.log10, lambda x: wnp.logaddexp2(x, x * x)):
        _keeps_float32(fun, onp.abs(F32))
    _keeps_float32(lambda x: 2.0**x, F32)  # log of a Python base


def test_irfft_and_cholesky_keep_single_precision():
    _keeps_float32(lambda z: wnp.fft.irfft(z, 4), C64)
    a = (onp.eye(3) * 3.0 + 0.2).astype(onp.float32)
    _keeps_float32(wnp.linalg.cholesky, a)
    _keeps_float32(lambda a: wnp.linalg.qr(a)[0], a)


def test_nan_statistics_and_quantiles_keep_float32():
    x = onp.array([[0.5, onp.nan, 2.0], [1.5, -1.0, 0.25]], dtype=onp.float32)
    for fun in (wnp.nanmean, wnp.nanvar, wnp.nanstd):
        _keeps_float32(lambda x, f=fun: f(x, axis=1), x)
    _keeps_float32(lambda x: wnp.quantile(x, [0.25, 0.5]), F32)
    _keeps_float32(lambda x: wnp.percentile(x, [10, 90]), F32)


def test_array_building_keeps_float32():
    _keeps_float32(lambda x: wnp.linspace(0.0, x, 4), onp.float32(2.0))
    _keeps_float32(lambda x: wnp.logspace(0.0, x, 3), onp.float32(1.0))
    _keeps_float32(lambda x: wnp.pad(x, 2, mode="linear_ramp", end_values=1.0), F32)
    _keeps_float32(lambda x: wnp.insert(x, 1, 7.0), F32)
    _keeps_float32(lambda x: wnp.ediff1d(x, to_end=[1.0, 2.0]), F32)
    _keeps_float32(lambda x: wnp.choose([0, 1, 0], [x, 1.0]), F32)
    _keeps_float32(lambda x: wnp.polyint(wnp.polyder(x)), F32)
    _keeps_float32(lambda x: wnp.interp(x, F32, F32 * F32), F32 * 0.5)


def test_scipy_functions_without_float32_loops_return_float32():
    pytest.importorskip("scipy")
    from wengert.scipy import special, stats

    x = onp.abs(F32) + 0.5
    _keeps_float32(lambda x: special.polygamma(1, x), x)
    _keeps_float32(lambda x: special.gammainc(2.5, x), x)
    _keeps_float32(lambda x: special.betainc(2.0, 3.5, x / 3.0), x)
    _keeps_float32(lambda x: special.stdtr(3.0, x), x)
    _keeps_float32(special.gamma, x)
    _keeps_float32(lambda x: special.multigammaln(x + 1.0, 2), x)
    # Default loc and scale were Python floats turned into NumPy float64 scalars by log.
    for dist in (stats.norm,):
        _keeps_float32(dist.logpdf, F32)
    _keeps_float32(lambda x: stats.t.logpdf(x, 3.0), F32)
    _keeps_float32(lambda x: stats.gamma.logpdf(x, 2.0), x)
    _keeps_float32(lambda x: stats.beta.logpdf(x / 3.0, 2.0, 3.0), x)
    _keeps_float32(lambda mu: stats.poisson.logpmf(3, mu), x)
