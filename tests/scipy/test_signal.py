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

# HIPS autograd's form: convolution along chosen axis pairs, a tensor dot over others.
# (shape of A, shape of B, axes, dot_axes); 'valid' needs one input the larger along every
# convolved axis, which each of these has.
AXES_FORMS = [
    ((2, 3, 6, 5), (3, 4, 3, 2), ([2, 3], [2, 3]), ([1], [0])),  # images x filters
    ((2, 7), (3, 4), ([1], [1]), None),  # kept axes of both
    ((3, 4, 6), (4, 3, 2, 3), ([2], [3]), ([1, 0], [0, 1])),  # dot pairs out of order
    ((5,), (2, 3), None, ((), ())),  # axes=None: A's axes with B's first ones
]
for a, b, axes, dot in AXES_FORMS:
    for mode in MODES:
        CASES.append(
            (
                "convolve_axes",
                lambda x, y, m=mode, ax=axes, d=dot: signal.convolve(
                    x, y, mode=m, axes=ax, dot_axes=d
                ),
                [real(*a), real(*b)],
            )
        )


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


# --- autograd's axes= and dot_axes= ----------------------------------------------------------


@pytest.mark.parametrize("form", AXES_FORMS, ids=[str(i) for i in range(len(AXES_FORMS))])
@pytest.mark.parametrize("mode", MODES)
def test_axes_form_equals_hips_autograd(form, mode):
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    from autograd.scipy.signal import convolve as autograd_convolve

    shape_a, shape_b, axes, dot = form
    x, y = R.normal(size=shape_a), R.normal(size=shape_b)
    keywords = {"mode": mode, "dot_axes": dot if dot is not None else [(), ()]}
    if axes is not None:
        keywords["axes"] = axes
    want = autograd_convolve(x, y, **keywords)
    got = signal.convolve(x, y, **keywords)
    assert got.shape == want.shape
    onp.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    weights = R.normal(size=want.shape)
    ours = wg.grad(lambda x, y: (signal.convolve(x, y, **keywords) * weights).sum(), (0, 1))(x, y)
    for argnum, primal in enumerate((x, y)):
        try:
            theirs = autograd.grad(
                lambda x, y: anp.sum(autograd_convolve(x, y, **keywords) * weights), argnum
            )(x, y)
        except ValueError:
            theirs = None
        if theirs is None or onp.shape(theirs) != onp.shape(primal):
            # autograd 1.x gets the gradient's axes wrong when the dot_axes pairs are not
            # in increasing order (form 2; check_grads covers ours there).
            assert form is AXES_FORMS[2]
            continue
        onp.testing.assert_allclose(ours[argnum], theirs, rtol=1e-10, atol=1e-10)


def test_axes_form_of_a_convolutional_layer():
    # autograd's convnet example: (batch, channel, x, y) images, (channel, out, x, y) filters.
    images, filters = R.normal(size=(2, 3, 7, 6)), R.normal(size=(3, 4, 3, 2))
    out = signal.convolve(images, filters, axes=([2, 3], [2, 3]), dot_axes=([1], [0]), mode="valid")
    want = onp.zeros((2, 4, 5, 5))
    for n in range(2):
        for k in range(4):
            for c in range(3):
                want[n, k] += ss.convolve(images[n, c], filters[c, k], mode="valid")
    onp.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)


def test_axes_form_without_axes_is_scipys_convolution():
    x, y = R.normal(size=(4, 5)), R.normal(size=(3, 2))
    for mode in MODES:
        onp.testing.assert_allclose(
            signal.convolve(x, y, mode=mode, dot_axes=[(), ()]),
            ss.convolve(x, y, mode=mode),
            rtol=1e-12,
            atol=1e-12,
        )


@pytest.mark.parametrize("mode", MODES)
def test_axes_form_over_a_batch(mode):
    # A batch against a shared input is one more kept axis; two batches are looped.
    xs, ys = R.normal(size=(3, 2, 7)), R.normal(size=(3, 2, 4, 3))
    fun = lambda x, y: signal.convolve(x, y, mode=mode, axes=([1], [2]), dot_axes=([0], [0]))
    for in_axes in ((0, None), (None, 0), (0, 0)):
        args = [v if ax == 0 else v[0] for v, ax in zip((xs, ys), in_axes)]
        want = onp.stack(
            [fun(*[v[i] if ax == 0 else v for v, ax in zip(args, in_axes)]) for i in range(3)]
        )
        got = wg.vmap(fun, in_axes=in_axes)(*args)
        onp.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_axes_form_refuses_bad_axes_naming_convolve():
    x, y = onp.ones((2, 5)), onp.ones((2, 3))
    with pytest.raises(ValueError, match="convolve: dot_axes pairs axis 0"):
        signal.convolve(x, onp.ones((3, 3)), axes=([1], [1]), dot_axes=([0], [0]))
    with pytest.raises(ValueError, match="appears twice"):
        signal.convolve(x, y, axes=([1], [1]), dot_axes=([1], [0]))
    with pytest.raises(ValueError, match="names axis 2 of in2"):
        signal.convolve(x, y, axes=([1], [2]))
    with pytest.raises(ValueError, match="as many axes of each"):
        signal.convolve(x, y, axes=([0, 1], [1]))
    with pytest.raises(TypeError, match="pair"):
        signal.convolve(x, y, axes=[1])
    with pytest.raises(ValueError, match="'valid' needs one input"):
        signal.convolve(onp.ones((4, 2)), onp.ones((2, 4)), axes=([0, 1], [0, 1]), mode="valid")
    with pytest.raises(ValueError, match="method"):
        signal.convolve(x, y, axes=([1], [1]), method="fft")
    with pytest.raises(TypeError, match="keyword arguments"):
        signal.convolve(x, y, ([1], [1]))
