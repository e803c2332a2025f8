"""Define-by-run Variables: backward, accumulation, graphs kept or freed, double backprop,
no_grad, and Variables mixed with grad/vjp/jvp in both directions."""

from __future__ import annotations

import threading

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert._core.primitive import Primitive
from wengert.variable import FreedGraphError, Variable, gradients

X = onp.array([0.3, -1.2, 2.0])


def f(x):
    return wnp.sum(wnp.sin(x) * x**2)


def df(x):
    return onp.cos(x) * x**2 + 2 * x * onp.sin(x)


def d2f(x):
    return -onp.sin(x) * x**2 + 4 * x * onp.cos(x) + 2 * onp.sin(x)


def test_backward_fills_grad_with_the_engine_gradient():
    x = Variable(X)
    y = f(x)
    assert isinstance(y, Variable) and y.requires_grad and not y.is_leaf
    onp.testing.assert_allclose(y.data, f(X))
    y.backward()
    onp.testing.assert_allclose(x.grad.data, df(X), rtol=1e-13)
    onp.testing.assert_allclose(x.grad.data, wg.grad(f)(X), rtol=0, atol=0)


def test_operators_and_plain_numpy_functions_record():
    x = Variable(X)
    y = (onp.exp(x) * 2.0 - x / 3.0 + x @ x).sum()  # NumPy dispatch and operators
    y.backward()
    onp.testing.assert_allclose(x.grad.data, 2 * onp.exp(X) - 1 / 3 + 6 * X)


def test_gradients_accumulate_until_cleared():
    x = Variable(X)
    f(x).backward()
    f(x).backward()
    onp.testing.assert_allclose(x.grad.data, 2 * df(X))
    x.grad = None
    f(x).backward()
    onp.testing.assert_allclose(x.grad.data, df(X))


def test_graph_is_freed_unless_retained():
    x = Variable(X)
    y = f(x)
    y.backward()
    with pytest.raises(FreedGraphError, match="retain_graph=True"):
        y.backward()
    x2 = Variable(X)
    y2 = f(x2)
    y2.backward(retain_graph=True)
    y2.backward()
    onp.testing.assert_allclose(x2.grad.data, 2 * df(X))


def test_shared_subgraph_freed_after_first_backward_like_pytorch():
    x = Variable(X)
    h = wnp.exp(x)
    a, b = h.sum(), (h * h).sum()
    a.backward()
    with pytest.raises(FreedGraphError):
        b.backward()


def test_create_graph_gives_second_derivatives():
    x = Variable(X)
    f(x).backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    onp.testing.assert_allclose(g.data, df(X))
    x.grad = None
    g.sum().backward()  # sum_i d2f/dx_i^2 (f is separable)
    onp.testing.assert_allclose(x.grad.data, d2f(X), rtol=1e-12)


def test_third_derivative_by_gradients():
    x = Variable(0.7)
    (g,) = gradients(wnp.sin(x) * x, x, create_graph=True)
    (h,) = gradients(g, x, create_graph=True)
    (k,) = gradients(h, x)
    s, c = onp.sin(0.7), onp.cos(0.7)
    onp.testing.assert_allclose(
        [float(g), float(h), float(k)], [c * 0.7 + s, -s * 0.7 + 2 * c, -c * 0.7 - 3 * s]
    )
    assert x.grad is None


def test_hessian_vector_product_matches_nested_grad():
    A = onp.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 3.0]])

    def energy(x):
        return wnp.sum(wnp.tanh(A @ x) ** 2) + wnp.sum(x**4)

    v = onp.array([1.0, -2.0, 0.5])
    x = Variable(X)
    (g,) = gradients(energy(x), x, create_graph=True)
    (hv,) = gradients(wnp.sum(g * v), x)
    expected = wg.grad(lambda y: wnp.sum(wg.grad(energy)(y) * v))(X)
    onp.testing.assert_allclose(hv.data, expected, rtol=1e-12)


def test_gradients_leaves_grad_alone_and_gives_zeros_for_unused_inputs():
    x, z = Variable(X), Variable(onp.ones(2))
    gx, gz = gradients(f(x), [x, z])
    onp.testing.assert_allclose(gx.data, df(X))
    onp.testing.assert_array_equal(gz.data, onp.zeros(2))
    assert x.grad is None and z.grad is None


def test_non_scalar_backward_needs_a_gradient():
    x = Variable(X)
    y = wnp.sin(x)
    with pytest.raises(wg.NonScalarOutputError, match="gradient="):
        y.backward()
    u = onp.array([1.0, 2.0, 3.0])
    y.backward(u)
    onp.testing.assert_allclose(x.grad.data, u * onp.cos(X))
    with pytest.raises(ValueError, match="shape"):
        wnp.sin(Variable(X)).backward(onp.ones(2))


def test_retain_grad_and_inputs():
    x = Variable(X)
    h = x * 3.0
    h.retain_grad()
    y = wnp.sum(h**2)
    y.backward(retain_graph=True)
    onp.testing.assert_allclose(h.grad.data, 6 * X)
    onp.testing.assert_allclose(x.grad.data, 18 * X)
    w = Variable(onp.ones(3))
    y2 = wnp.sum(w * x)
    y2.backward(inputs=[w])
    onp.testing.assert_allclose(w.grad.data, X)
    onp.testing.assert_allclose(x.grad.data, 18 * X)  # untouched


def test_no_grad_detach_and_requires_grad():
    x = Variable(X)
    with wg.no_grad():
        y = x * 2.0
        assert not wg.is_grad_enabled()
        # transformations keep working inside no_grad
        onp.testing.assert_allclose(wg.grad(f)(X), df(X))
    assert wg.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    z = (x.detach() * x).sum()
    z.backward()
    onp.testing.assert_allclose(x.grad.data, X)
    c = Variable(X, requires_grad=False)
    assert (c * 2.0).requires_grad is False
    with pytest.raises(ValueError, match="does not require grad"):
        (c * 2.0).sum().backward()
    c.requires_grad_()
    (c * c).sum().backward()
    onp.testing.assert_allclose(c.grad.data, 2 * X)
    with pytest.raises(ValueError, match="leaf"):
        (c * 2.0).requires_grad = False


def test_no_grad_as_decorator_and_per_thread():
    @wg.no_grad()
    def double(v):
        return v * 2.0

    assert not double(Variable(X)).requires_grad
    seen = []
    with wg.no_grad():
        thread = threading.Thread(target=lambda: seen.append(wg.is_grad_enabled()))
        thread.start()
        thread.join()
    assert seen == [True]


def test_integer_data_and_conversions():
    labels = Variable([1, 2])
    assert not labels.requires_grad
    with pytest.raises(TypeError, match="floating-point"):
        Variable([1, 2], requires_grad=True)
    x = Variable(2.5)
    assert float(x) == 2.5 and x.item() == 2.5 and (x * 2.0).item() == 5.0
    with pytest.raises(wg.TracedConversionError, match="detach"):
        onp.asarray(Variable(X))
    onp.testing.assert_array_equal(onp.asarray(Variable(X).detach()), X)
    assert repr(Variable(onp.array([1.0]))) == "Variable(array([1.]), requires_grad=True)"
    assert "grad_fn=<sin>" in repr(wnp.sin(Variable(X)))
    with pytest.raises(wg.InPlaceWriteError):
        Variable(X)[0] = 1.0


def test_float32_stays_float32():
    x = Variable(X.astype(onp.float32))
    (wnp.sum(wnp.tanh(x) * 2.0)).backward()
    assert x.grad.dtype == onp.float32


# --- Variables and transformations together --------------------------------------------


def test_grad_of_a_function_of_variables_returns_variables():
    w = Variable(X)
    g = wg.grad(f)(w)  # grad's trace opens its boxes first; the values are Variables
    assert isinstance(g, Variable) and g.requires_grad
    onp.testing.assert_allclose(g.data, df(X))
    g.sum().backward()
    onp.testing.assert_allclose(w.grad.data, d2f(X), rtol=1e-12)


def test_variables_inside_grad_are_outer_values():
    w = Variable(onp.array([0.5, -1.5, 2.0]))

    def loss(x):
        return wnp.sum(wnp.tanh(w * x))

    x = X.copy()
    gx = wg.grad(loss)(x)  # depends on w: a Variable with a graph back to w
    sech2 = 1 / onp.cosh(w.data * x) ** 2
    onp.testing.assert_allclose(gx.data, w.data * sech2)
    gx.sum().backward()
    # d/dw_i [w_i sech^2(w_i x_i)] = sech^2 - 2 w_i x_i sech^2 tanh
    expected = sech2 - 2 * w.data * x * sech2 * onp.tanh(w.data * x)
    onp.testing.assert_allclose(w.grad.data, expected, rtol=1e-12)


def test_jvp_and_vjp_of_variables():
    x = Variable(X)
    _, tangent = wg.jvp(wnp.sin, (x,), (onp.ones(3),))
    onp.testing.assert_allclose(tangent.data, onp.cos(X))
    tangent.sum().backward()
    onp.testing.assert_allclose(x.grad.data, -onp.sin(X))
    x.grad = None
    _out, pullback = wg.vjp(lambda v: v**3, x)
    (ct,) = pullback(onp.ones(3))
    ct.sum().backward()
    onp.testing.assert_allclose(x.grad.data, 6 * X)


def test_variable_of_a_traced_value_is_refused():
    with pytest.raises(TypeError, match="traced"):
        wg.grad(lambda t: Variable(t).sum())(X)


def test_no_grad_does_not_leak_into_gradients_inside_grad():
    w = Variable(X)
    with wg.no_grad():
        g = wg.grad(f)(w)
    assert not g.requires_grad
    onp.testing.assert_allclose(g.data, df(X))


def _sincos_impl(x):
    return onp.sin(x), onp.cos(x)


sincos = Primitive(_sincos_impl, "sincos", multiple_results=True)
sincos.defvjp(lambda g, ans, x: g[0] * wnp.cos(x) - g[1] * wnp.sin(x))
sincos.defjvp_all(lambda ts, ans, x: (ts[0] * wnp.cos(x), -ts[0] * wnp.sin(x)))


def test_primitive_with_several_results_to_second_order():
    x = Variable(X)
    s, c = sincos(x)
    assert isinstance(s, Variable) and isinstance(c, Variable)
    (g,) = gradients(wnp.sum(s * 2.0), x, create_graph=True)  # cosine result unused
    onp.testing.assert_allclose(g.data, 2 * onp.cos(X))
    (h,) = gradients(g.sum(), x)
    onp.testing.assert_allclose(h.data, -2 * onp.sin(X))
    x.grad = None
    s, c = sincos(x)
    (s * c).sum().backward()
    onp.testing.assert_allclose(x.grad.data, onp.cos(2 * X))


def test_backward_releases_recorded_values():
    x = Variable(onp.ones(1000))
    y = wnp.exp(x)
    z = y.sum()
    node = z.node
    z.backward()
    assert node.args == () and node.ans is None and y.node.ans is None


def test_grad_accumulation_from_many_threads_loses_nothing():
    import sys

    w = wg.Variable(onp.ones(3))

    def work():
        for _ in range(500):
            (w * 2.0).sum().backward()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, as a loaded machine would
    try:
        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    onp.testing.assert_array_equal(w.grad.data, onp.full(3, 8 * 500 * 2.0))


def test_backward_detects_leaf_data_written_after_the_forward_pass():
    v = Variable([1.0, 2.0, 3.0])
    y = wnp.sum(wnp.exp(v))
    v.data[:] = 0.0
    with pytest.raises(wg.ModifiedInputError, match="used by exp was modified in place"):
        y.backward()
    array = onp.array([1.0, 2.0])
    w = Variable(array)  # shares the array's memory
    y = wnp.sum(w * w)
    array[0] = 9.0
    with pytest.raises(wg.ModifiedInputError):
        y.backward()


def test_in_place_updates_between_iterations_are_not_flagged():
    w = Variable(onp.array([1.0, 2.0]))
    abandoned = wnp.sum(w * w)  # a graph that is never differentiated
    for _ in range(3):
        w.grad = None
        wnp.sum(w * w).backward()
        w.data -= 0.1 * w.grad.data  # the usual optimiser step, in place
    onp.testing.assert_allclose(w.data, onp.array([1.0, 2.0]) * 0.8**3)
    del abandoned
    w.data[:] = 3.0  # changed before the forward pass: fine
    w.grad = None
    y = wnp.sum(w * w)
    y.backward()
    onp.testing.assert_allclose(w.grad.data, [6.0, 6.0])


def test_to_changes_dtype_with_gradient_and_accepts_cpu():
    x = Variable(onp.array([1.0, 2.0]))
    assert x.to("cpu") is x and x.to(device="cpu:0") is x
    y = x.to(onp.float32)
    assert y.dtype == onp.float32 and x.to("cpu", onp.float32).dtype == onp.float32
    assert x.to(y).dtype == onp.float32
    wnp.sum(y**2).backward()
    assert x.grad.dtype == onp.float64
    onp.testing.assert_allclose(x.grad.data, [2.0, 4.0])
    z = x.to(copy=True)
    assert z is not x and z.data is not x.data
    with pytest.raises(ValueError, match="device 'cuda'"):
        x.to("cuda")
    with pytest.raises(TypeError, match="neither a dtype nor a device"):
        x.to(object())


def test_gradients_is_offered_at_top_level():
    x = Variable(3.0)
    (g,) = wg.gradients(x**3, x)
    assert float(g) == 27.0 and x.grad is None
