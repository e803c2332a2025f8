"""wengert.scipy.signal: convolve and correlate, every mode and method, both modes, order 2."""

from __future__ import annotations

import pytest

pytest.importorskip("scipy")

import numpy as onp
import scipy.signal as ss

import wengert as wg
from wengert._core.primitive import Primitive
from wengert.scipy import signal

R = onp.random.default_rng(11)


def real(*shape):
    return lambda: R.normal(size=shape)


SHAPES = [((7,), (4,)), ((4,), (7,)), ((6,), (6,)), ((5, 6), (2, 3)), ((3, 4), (3, 5))]
MODES = ("full", "same", "valid")

CASES: list[tuple[str, object, list]] = []
for name in ("convolve", "correlate"):
    fun = getattr(signal, name)
    for mode in MODES:
        for method in ("direct", "fft"):
            for a, b in SHAPES:
                if mode == "valid" and not (
                    all(x >= y for x, y in zip(a, b)) or all(x <= y for x, y in zip(a, b))
                ):
                    continue
                CASES.append(
                    (
                        "convolve",
                        lambda x, y, f=fun, m=mode, me=method: f(x, y, mode=m, method=me),
                        [real(*a), real(*b)],
                    )
                )
CASES.append(("convolve", lambda x: signal.convolve(x, x, mode="same"), [real(5)]))


@pytest.mark.parametrize(
    "name, fun, gens", CASES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]
)
def test_signal_rules(name, fun, gens):
    args = [g() for g in gens]
    wg.check_grads(fun, modes=("fwd", "rev"), order=2)(*args)


def test_every_primitive_is_in_the_table():
    prims = {
        v.name
        for v in vars(signal).values()
        if (isinstance(v, Primitive) and not getattr(v, "nondifferentiable", False))
    }
    missing = sorted(prims - {name for name, _, _ in CASES})
    assert not missing, f"primitives of wengert.scipy.signal with no row: {missing}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("method", ("auto", "direct", "fft"))
def test_values_match_scipy(mode, method):
    for a, b in [((7,), (4,)), ((4,), (7,)), ((5, 6), (2, 3))]:
        x, y = R.normal(size=a), R.normal(size=b)
        onp.testing.assert_allclose(
            signal.convolve(x, y, mode, method), ss.convolve(x, y, mode, method), atol=1e-12
        )
        onp.testing.assert_allclose(
            signal.correlate(x, y, mode, method), ss.correlate(x, y, mode, method), atol=1e-12
        )


def test_complex_correlate_conjugates_the_kernel():
    x = R.normal(size=5) + 1j * R.normal(size=5)
    y = R.normal(size=3) + 1j * R.normal(size=3)
    onp.testing.assert_allclose(signal.correlate(x, y), ss.correlate(x, y))


def test_reverse_rule_is_a_correlation():
    # d/dx <g, x * k> = correlate(g, k, 'valid').
    x, k, g = R.normal(size=6), R.normal(size=3), R.normal(size=8)
    _, pullback = wg.vjp(lambda x: signal.convolve(x, k), x)
    onp.testing.assert_allclose(pullback(g)[0], ss.correlate(g, k, mode="valid"))


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="mode"):
        signal.convolve(onp.ones(3), onp.ones(2), mode="circular")
    with pytest.raises(ValueError, match="method"):
        signal.correlate(onp.ones(3), onp.ones(2), method="slow")
    with pytest.raises(ValueError, match="dimensions"):
        signal.convolve(onp.ones(3), onp.ones((2, 2)))


@pytest.mark.parametrize("mode", MODES)
def test_convolve_of_a_batch_with_a_shared_input_in_every_mode(mode):
    # A batch against a shared input is one convolution with a unit axis in front; two
    # batches, and 'valid' where neither input is the larger in every axis, are looped.
    for a, b in [((5, 6), (2, 3)), ((2, 3), (5, 6)), ((4, 4), (3, 5))]:
        xs, ys = R.normal(size=(3, *a)), R.normal(size=(3, *b))
        for name in ("convolve", "correlate"):
            fun = getattr(signal, name)
            for axes in ((0, None), (None, 0), (0, 0)):
                args = [v if ax == 0 else v[0] for v, ax in zip((xs, ys), axes)]
                if mode == "valid" and a == (4, 4):
                    with pytest.raises(ValueError):
                        wg.vmap(lambda x, y, f=fun: f(x, y, mode), in_axes=axes)(*args)
                    continue
                expected = onp.stack(
                    [
                        fun(*[v[i] if ax == 0 else v for v, ax in zip(args, axes)], mode)
                        for i in range(3)
                    ]
                )
                got = wg.vmap(lambda x, y, f=fun: f(x, y, mode), in_axes=axes)(*args)
                onp.testing.assert_allclose(got, expected, atol=1e-12)
    # Per-member gradients run the reverse rule ('valid' convolutions) on batches.
    xs, k = R.normal(size=(3, 5, 6)), R.normal(size=(2, 3))
    grad = wg.grad(lambda x: (signal.convolve(x, k, mode) ** 2).sum())
    onp.testing.assert_allclose(
        wg.vmap(grad)(xs), onp.stack([grad(x) for x in xs]), rtol=1e-12, atol=1e-12
    )
