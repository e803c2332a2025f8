"""wg.jit: compiled per input signature, guarded against Python's decisions on traced
values, composed with every transformation, and clear about what it cannot do."""

from __future__ import annotations

import warnings

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as np


def f(x):
    return 1.0 / (x**2 + 1.0)


def test_jit_of_grad_and_grad_of_jit_agree_with_eager():
    assert wg.jit(wg.grad(f))(3.0) == pytest.approx(-0.06, rel=1e-15)
    assert wg.grad(wg.jit(f))(3.0) == pytest.approx(-0.06, rel=1e-15)
    assert wg.grad(wg.grad(wg.jit(f)))(3.0) == pytest.approx(wg.grad(wg.grad(f))(3.0))
    x = onp.linspace(-1, 1, 5)
    onp.testing.assert_allclose(wg.jit(wg.elementwise_grad(f))(x), wg.elementwise_grad(f)(x))


@pytest.mark.parametrize(
    "transform",
    ["grad", "jvp", "vjp", "hessian", "vmap", "jacfwd", "jacrev", "checkpoint"],
)
def test_jit_composes_both_ways(transform):
    def g(x):
        return np.sum(np.sin(x) * x**2)

    x = onp.linspace(0.1, 1.0, 4)
    t = onp.ones(4)
    apply = {
        "grad": lambda h: wg.grad(h)(x),
        "jvp": lambda h: wg.jvp(h, (x,), (t,))[1],
        "vjp": lambda h: wg.vjp(h, x)[1](1.0),
        "hessian": lambda h: wg.hessian(h)(x),
        "vmap": lambda h: wg.vmap(h)(onp.stack([x, 2 * x])),
        "jacfwd": lambda h: wg.jacfwd(h)(x),
        "jacrev": lambda h: wg.jacrev(h)(x),
        "checkpoint": lambda h: wg.grad(wg.checkpoint(h))(x),
    }[transform]
    want = apply(g)
    inner = apply(wg.jit(g))
    onp.testing.assert_allclose(inner, want, rtol=1e-13, atol=1e-15)
    if transform in ("grad", "hessian", "jacfwd", "jacrev"):
        outer = {
            "grad": wg.jit(wg.grad(g)),
            "hessian": wg.jit(wg.hessian(g)),
            "jacfwd": wg.jit(wg.jacfwd(g)),
            "jacrev": wg.jit(wg.jacrev(g)),
        }[transform]
        onp.testing.assert_allclose(outer(x), want, rtol=1e-13, atol=1e-15)
        onp.testing.assert_allclose(
            outer(2 * x),
            apply.__call__
            and {
                "grad": wg.grad(g),
                "hessian": wg.hessian(g),
                "jacfwd": wg.jacfwd(g),
                "jacrev": wg.jacrev(g),
            }[transform](2 * x),
            rtol=1e-13,
            atol=1e-15,
        )


def test_branches_and_loops_on_traced_values_are_right_on_both_sides():
    def h(x):
        if x > 0:
            y = np.sin(x)
        else:
            y = np.cos(x)
        n = 0.0
        while np.abs(y) < 3.0:
            y = y * 2.0 + 0.1
            n = n + 1.0
        return y + n

    def eager(x):
        return h(x)

    hj = wg.jit(h)
    gj = wg.jit(wg.grad(h))
    for x in (0.5, -0.5, 2.0, -2.0, 0.01, 1.5, -3.0, 0.5):
        assert hj(x) == eager(x)
        assert gj(x) == wg.grad(h)(x)
    assert 2 <= len(hj.programs()) <= 8


def test_a_function_that_keeps_retracing_warns_and_stays_right():
    def h(x):
        k = 0
        while x > 1e-3:
            x = x / 2.0
            k += 1
        return x * k

    hj = wg.jit(h, max_programs=3)
    with pytest.warns(wg.RetracingWarning, match="while x > 1e-3"):
        for x in (1.0, 10.0, 100.0, 1000.0, 1e4):
            assert hj(x) == h(x)
    assert hj(1e5) == h(1e5)


def test_shape_dtype_and_structure_changes_record_again():
    g = wg.jit(lambda x: np.sum(x**2))
    assert g(onp.ones(3)) == 3.0
    assert g(onp.ones(4)) == 4.0
    out = g(onp.ones(3, dtype=onp.float32))
    assert out == 3.0 and out.dtype == onp.float32
    assert len(g.programs()) == 3


def test_static_arguments_key_the_cache_and_must_be_hashable():
    def power_sum(x, n, mode="sum"):
        y = x**n
        return np.sum(y) if mode == "sum" else np.mean(y)

    g = wg.jit(power_sum, static_argnums=1, static_argnames="mode")
    x = onp.arange(1.0, 4.0)
    assert g(x, 2) == 14.0 and g(x, 3) == 36.0
    assert g(x, 2, mode="mean") == pytest.approx(14.0 / 3)
    with pytest.raises(TypeError, match="unhashable list"):
        wg.jit(lambda x, s: x * len(s), static_argnums=1)(1.0, [1, 2])


def test_integer_used_as_a_count_is_guarded():
    def h(x, n):
        out = x
        for _ in range(n):
            out = out * x
        return out

    g = wg.jit(h)
    assert g(2.0, 3) == 16.0
    assert g(2.0, 4) == 32.0


def test_side_effects_on_traced_values_are_refused():
    seen = []

    def leaky(x):
        seen.append(x)
        return x * 2.0

    g = wg.jit(leaky)
    g(1.0)
    with pytest.raises(wg.EscapedTracerError):
        seen[0] + 1.0

    def writes(x):
        x[0] = 1.0
        return x

    with pytest.raises(wg.InPlaceWriteError):
        wg.jit(writes)(onp.zeros(3))


def test_closure_over_an_outer_transformations_value_runs_as_is():
    def outer(p):
        return wg.jit(lambda x: np.sin(x * p))(2.0)

    assert wg.grad(outer)(0.3) == pytest.approx(2.0 * onp.cos(0.6))


def test_float32_in_float32_out():
    x = onp.linspace(0, 1, 5, dtype=onp.float32)
    g = wg.jit(wg.grad(lambda v: np.sum(np.tanh(v) * 2.0)))
    assert g(x).dtype == onp.float32
    onp.testing.assert_allclose(g(x), wg.grad(lambda v: np.sum(np.tanh(v) * 2.0))(x))


def test_decorator_forms_and_methods():
    @wg.jit
    def a(x):
        return x * 2.0

    @wg.jit(static_argnums=(1,))
    def b(x, k):
        return x * k

    class M:
        @wg.jit
        def scale(self, x):
            return x * 3.0

    assert a(1.0) == 2.0 and b(1.0, 5) == 5.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert M().scale(2.0) == 6.0


def test_integer_boolean_and_index_inputs_are_guarded_never_stale():
    h = wg.jit(lambda n: np.arange(n) * 1.0)
    assert len(h(3)) == 3 and len(h(4)) == 4
    flag = wg.jit(lambda x, on: x * 2.0 if on else x)
    assert flag(1.0, True) == 2.0 and flag(1.0, False) == 1.0
    pick = wg.jit(lambda x, i: x[i])
    assert pick(onp.arange(5.0), 2) == 2.0 and pick(onp.arange(5.0), 3) == 3.0
    top = wg.jit(lambda x: (x.argmax(), x.max()))
    assert top(onp.array([1.0, 3.0, 2.0]))[0] == 1
    assert top(onp.array([5.0, 3.0, 2.0]))[0] == 0


def test_python_conversions_of_recorded_values_are_refused_clearly():
    import math

    with pytest.raises(wg.TracedConversionError, match="static_argnums"):
        wg.jit(lambda x: math.sin(x))(1.0)


def test_custom_rules_survive_recording_and_jit():
    @wg.custom_vjp
    def f(x):
        return x**2

    f.defvjp(lambda x: (x**2, x), lambda r, g: (3.0 * r * g,))  # deliberately not 2x

    @wg.custom_jvp
    def h(x):
        return x**2

    h.defjvp(lambda primals, tangents: (primals[0] ** 2, 5.0 * tangents[0]))

    for x in (2.0, 5.0):
        assert wg.grad(f)(x) == 3.0 * x
        assert wg.grad(wg.jit(f))(x) == 3.0 * x
        assert wg.jit(wg.grad(f))(x) == 3.0 * x
        assert wg.grad(wg.make_program(f)(2.0))(x) == 3.0 * x
        assert wg.grad(wg.grad(wg.jit(f)))(x) == wg.grad(wg.grad(f))(x)
    assert wg.make_program(f)(2.0)(3.0) == 9.0
    assert wg.jvp(wg.jit(h), (2.0,), (1.0,))[1] == 5.0
    assert wg.jit(lambda x: wg.jvp(h, (x,), (1.0,))[1])(2.0) == 5.0


def test_jit_on_variables_records_backward_through_its_compiled_rule():
    f = wg.jit(lambda x: np.sum(np.sin(x) * x))
    v = wg.Variable(onp.array([1.0, 2.0]))
    f(v).backward()
    onp.testing.assert_allclose(v.grad.data, onp.sin(v.data) + v.data * onp.cos(v.data))
    with wg.no_grad():
        assert float(f(v).data) == pytest.approx(onp.sum(onp.sin(v.data) * v.data))


def test_a_training_step_records_once_for_every_batch_of_labels():
    import wengert.nn.functional as F

    rng = onp.random.default_rng(0)
    params = {"w": rng.standard_normal((8, 3)) * 0.3, "b": onp.zeros(3)}
    x = rng.standard_normal((16, 8))

    def loss(p, x, y):
        logits = x @ p["w"] + p["b"]
        onehot = F.one_hot(y, 3)
        return F.cross_entropy(logits, y) + F.binary_cross_entropy(F.sigmoid(logits), onehot)

    step, eager = wg.jit(wg.value_and_grad(loss)), wg.value_and_grad(loss)
    for _ in range(4):
        y = rng.integers(0, 3, 16)
        (v, g), (ve, ge) = step(params, x, y), eager(params, x, y)
        assert v == pytest.approx(ve, rel=1e-14)
        for k in g:
            onp.testing.assert_allclose(g[k], ge[k], rtol=1e-13)
    assert len(step.programs()) == 1  # the label checks are guards on conditions
    with pytest.raises(IndexError, match="out of range"):
        step(params, x, onp.full(16, 7))


@pytest.mark.parametrize(
    "fun",
    [
        lambda x: np.sum(np.sin(x) * x**2),
        lambda x: np.tanh(x) @ np.cos(x[::-1]),
        lambda x: np.sum(np.exp(x) / (1.0 + x * x)),
    ],
    ids=["sin", "matmul", "ratio"],
)
def test_the_jitted_program_primitive_passes_the_checker_to_second_order(fun):
    # Under grad/jvp a jitted function is one primitive whose rules are jitted programs.
    x = onp.linspace(0.2, 1.3, 5)
    wg.check_grads(wg.jit(fun), modes=("fwd", "rev"), order=2)(x)


def test_a_recorded_custom_call_passes_the_checker_to_second_order():
    @wg.custom_vjp
    def f(x):
        return np.sin(x) * x

    f.defvjp(lambda x: (np.sin(x) * x, x), lambda x, g: (g * (np.cos(x) * x + np.sin(x)),))
    wg.check_grads(wg.jit(lambda x: np.sum(f(x))), modes=("rev",), order=2)(onp.linspace(0.2, 1, 4))


def test_a_slice_cotangent_added_later_is_still_alive_when_added():
    # The scatter of x[::-1]'s cotangent is absorbed into a sum several lines later.
    def f(x):
        return np.tanh(x) @ np.cos(x[::-1])

    x = onp.linspace(0.2, 1.3, 5)
    onp.testing.assert_allclose(wg.jit(wg.grad(f))(x), wg.grad(f)(x), rtol=1e-14)


@pytest.mark.parametrize("constant", [onp.inf, -onp.inf, onp.nan], ids=["inf", "-inf", "nan"])
def test_non_finite_python_constants_replay(constant):
    def f(x):
        return np.sum(np.where(x > 0, 0.0, constant) + x)

    x = onp.array([1.0, -1.0])
    onp.testing.assert_array_equal(wg.jit(f)(x), f(x))
    onp.testing.assert_array_equal(wg.jit(f)(x * 2), f(x * 2))
