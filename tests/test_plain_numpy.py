"""Realistic programs written with plain `import numpy as np`, differentiated as they are."""

from __future__ import annotations

import io

import numpy as np
import pytest

import wengert as wg
from wengert import tree_map
from wengert._core.box import getval

RNG = np.random.default_rng(3)


def logistic_loss(w, X, y):
    logits = X @ w
    return np.mean(np.logaddexp(0.0, logits) - y * logits) + 0.01 * np.sum(w**2)


def attention(q, k, v):
    scores = q @ k.T / np.sqrt(q.shape[-1])
    scores = scores - np.max(scores, axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / np.sum(weights, axis=-1, keepdims=True)
    return np.sum(np.tanh(weights @ v))


def gp_log_marginal(log_params, X, y):
    length, noise = np.exp(log_params[0]), np.exp(log_params[1])
    d2 = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    K = np.exp(-0.5 * d2 / length**2) + (noise**2 + 1e-6) * np.eye(len(X))
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
    return -0.5 * y @ alpha - np.sum(np.log(np.diagonal(L))) - 0.5 * len(X) * np.log(2 * np.pi)


def fft_filter(signal, kernel):
    n = len(signal)
    spectrum = np.fft.rfft(signal) * np.fft.rfft(kernel, n)
    smoothed = np.fft.irfft(spectrum, n)
    return np.sum(smoothed**2)


def test_logistic_regression_loss():
    X = RNG.standard_normal((20, 3))
    y = (RNG.uniform(size=20) > 0.5).astype(float)
    w = RNG.standard_normal(3)
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    expected = X.T @ (p - y) / 20 + 0.02 * w
    np.testing.assert_allclose(wg.grad(logistic_loss)(w, X, y), expected, rtol=1e-12)
    wg.check_grads(logistic_loss, order=2)(w, X, y)


def test_softmax_attention_block():
    q, k, v = (RNG.standard_normal((4, 3)) for _ in range(3))
    wg.check_grads(attention, order=2)(q, k, v)


def test_gaussian_process_marginal_likelihood():
    X = RNG.uniform(-2, 2, (8, 2))
    y = np.sin(X[:, 0]) + 0.1 * RNG.standard_normal(8)
    wg.check_grads(gp_log_marginal, order=2)(np.array([0.1, -1.0]), X, y)


def test_fft_based_filter():
    signal, kernel = RNG.standard_normal(16), RNG.standard_normal(5)
    wg.check_grads(fft_filter, order=2)(signal, kernel)


def test_uncovered_function_is_named_with_the_way_out():
    out = io.StringIO()  # writing a traced array to a file: NumPy's, no derivative
    with pytest.raises(wg.UnsupportedFunctionError, match=r"numpy\.savetxt.*stop_gradient"):
        wg.grad(lambda x: (np.savetxt(out, x), np.sum(x))[1])(np.ones(3))


def test_array_creation_without_array_argument_is_constant():
    # np.zeros/np.ones see no traced value: they make constants, which is right.
    def f(x):
        return np.sum(x * np.ones(3)) + np.sum(np.zeros(3))

    np.testing.assert_array_equal(wg.grad(f)(np.arange(3.0)), np.ones(3))


def test_asarray_of_traced_values_points_to_wengert_numpy():
    with pytest.raises(wg.TracedConversionError, match=r"wg\.numpy"):
        wg.grad(lambda x: np.sum(np.asarray([x, x])))(1.0)


# --- every public attribute of numpy.ndarray on a traced value ----------------------------

A = RNG.uniform(-1.0, 1.0, (3, 4))

# name -> (call on an array, whether it is differentiable)
SUPPORTED = {
    "T": (lambda a: a.T, True),
    "all": (lambda a: a.all(axis=0), False),
    "any": (lambda a: (a > 0.5).any(axis=1, keepdims=True), False),
    "argmax": (lambda a: a.argmax(axis=1), False),
    "argmin": (lambda a: a.argmin(), False),
    "argpartition": (lambda a: a.argpartition(1, axis=1), False),
    "argsort": (lambda a: a.argsort(axis=0), False),
    "astype": (lambda a: a.astype(np.float32), True),
    "base": (lambda a: a.base, False),
    "clip": (lambda a: a.clip(-0.5, 0.5), True),
    "compress": (lambda a: a.compress([True, False, True], axis=0), True),
    "conj": (lambda a: a.conj(), True),
    "conjugate": (lambda a: a.conjugate(), True),
    "copy": (lambda a: a.copy(), True),
    "cumprod": (lambda a: a.cumprod(axis=1), True),
    "cumsum": (lambda a: a.cumsum(), True),
    "device": (lambda a: a.device, False),
    "diagonal": (lambda a: a.diagonal(1), True),
    "dot": (lambda a: a.dot(a.T), True),
    "dtype": (lambda a: a.dtype, False),
    "flags": (lambda a: (a.flags.c_contiguous, a.flags.writeable and False), False),
    "flat": (lambda a: a.flat[5], True),
    "flatten": (lambda a: a.flatten(), True),
    "imag": (lambda a: a.imag, True),
    "itemsize": (lambda a: a.itemsize, False),
    "mT": (lambda a: a.mT, True),
    "max": (lambda a: a.max(axis=0), True),
    "mean": (lambda a: a.mean(axis=1, keepdims=True), True),
    "min": (lambda a: a.min(initial=-5.0), True),
    "nbytes": (lambda a: a.nbytes, False),
    "ndim": (lambda a: a.ndim, False),
    "nonzero": (lambda a: (a > 0).nonzero(), False),
    "prod": (lambda a: a.prod(axis=0), True),
    "ptp": (lambda a: a.ptp(axis=1), True),  # NumPy 1.x only
    "ravel": (lambda a: a.ravel(), True),
    "real": (lambda a: a.real, True),
    "repeat": (lambda a: a.repeat(2, axis=0), True),
    "reshape": (lambda a: a.reshape(4, 3), True),
    "round": (lambda a: a.round(1), False),
    "searchsorted": (lambda a: np.sort(a[0]).searchsorted(0.1), False),
    "setflags": (lambda a: a.setflags(write=False), False),
    "shape": (lambda a: a.shape, False),
    "size": (lambda a: a.size, False),
    "squeeze": (lambda a: a[:1].squeeze(), True),
    "std": (lambda a: a.std(ddof=1), True),
    "strides": (lambda a: a.copy().strides, False),
    "sum": (lambda a: a.sum(axis=1, where=a > 0), True),
    "swapaxes": (lambda a: a.swapaxes(0, 1), True),
    "take": (lambda a: a.take([0, 2, 2]), True),
    "to_device": (lambda a: a.to_device("cpu"), True),
    "trace": (lambda a: a.trace(), True),
    "transpose": (lambda a: a.transpose(), True),
    "var": (lambda a: a.var(axis=0), True),
    "view": (lambda a: a.view(), True),
}
# name -> call; each writes in place and raises InPlaceWriteError naming the way out.
IN_PLACE = {
    "fill": lambda a: a.fill(0.0),
    "itemset": lambda a: a.itemset(0, 1.0),  # NumPy 1.x only
    "partition": lambda a: a.partition(1),
    "put": lambda a: a.put([0], [1.0]),
    "resize": lambda a: a.resize((4, 3)),
    "setfield": lambda a: a.setfield(1.0, np.float64),
    "sort": lambda a: a.sort(),
}
# name -> call; each would hand the value out without its derivative.
DROPS_DERIVATIVE = {
    "byteswap": lambda a: a.byteswap(),
    "ctypes": lambda a: a.ctypes,
    "data": lambda a: a.data,
    "dump": lambda a: a.dump("never-written.npy"),
    "dumps": lambda a: a.dumps(),
    "getfield": lambda a: a.getfield(np.float64),
    "item": lambda a: a.item(0),
    "newbyteorder": lambda a: a.newbyteorder(),  # NumPy 1.x only
    "tobytes": lambda a: a.tobytes(),
    "tofile": lambda a: a.tofile("never-written.bin"),
    "tolist": lambda a: a.tolist(),
    "tostring": lambda a: a.tostring(),  # NumPy 1.x only
}
# name -> call; a traced value refuses it exactly as NumPy refuses it on a float array.
AS_NUMPY_REFUSES = {
    "choose": lambda a: a.choose([a, a]),  # the index array must be integer
}
NDARRAY_NAMES = sorted(n for n in dir(np.ndarray) if not n.startswith("_"))


def _traced_result(call):
    """`call` applied to a traced A, with the values under any boxes read out."""
    out = {}

    def f(a):
        out["result"] = call(a)
        return a.sum()

    wg.vjp(f, A)
    return tree_map(getval, out["result"])


def test_every_ndarray_name_is_listed():
    listed = SUPPORTED.keys() | IN_PLACE.keys() | DROPS_DERIVATIVE.keys() | AS_NUMPY_REFUSES.keys()
    assert not set(NDARRAY_NAMES) - listed


@pytest.mark.parametrize("name", NDARRAY_NAMES)
def test_ndarray_attribute_on_a_traced_value(name):
    if name in SUPPORTED:
        call, differentiable = SUPPORTED[name]
        expected = call(A.copy())
        got = _traced_result(call)
        if isinstance(expected, tuple):
            for e, g in zip(expected, got, strict=True):
                np.testing.assert_array_equal(g, e)
        else:
            np.testing.assert_array_equal(got, expected)
            if not isinstance(expected, str):
                assert np.result_type(got) == np.result_type(expected)
        if differentiable:
            wg.check_grads(lambda a: call(a) * 1.0, order=2)(A)
    elif name in IN_PLACE:
        with pytest.raises(wg.InPlaceWriteError, match=rf"x\.{name}\(\).*use "):
            wg.vjp(lambda a: IN_PLACE[name](a) or a, A)
    elif name in DROPS_DERIVATIVE:
        with pytest.raises(wg.TracedConversionError, match="derivative"):
            wg.vjp(lambda a: DROPS_DERIVATIVE[name](a) or a, A)
    else:
        call = AS_NUMPY_REFUSES[name]
        with pytest.raises(Exception) as expected:
            call(A.copy())
        with pytest.raises(expected.type):
            wg.vjp(lambda a: call(a) or a, A)


def test_trace_method_differentiates():
    x = RNG.standard_normal((3, 3))
    np.testing.assert_array_equal(wg.grad(lambda x: x.trace())(x), np.eye(3))
    np.testing.assert_array_equal(wg.grad(lambda x: x.trace(offset=1))(x), np.eye(3, k=1))
    wg.check_grads(lambda x: x.trace(axis1=0, axis2=1), order=2)(RNG.standard_normal((3, 3, 2)))


def test_round_and_compress_methods():
    x = np.array([0.26, -1.34, 2.5])
    np.testing.assert_array_equal(wg.grad(lambda x: (x.round(1) * x).sum())(x), x.round(1))
    np.testing.assert_array_equal(
        wg.grad(lambda x: x.compress([True, False, True]).sum())(x), [1, 0, 1]
    )


def test_view_of_another_dtype_and_writable_flags_are_refused():
    with pytest.raises(wg.TracedConversionError, match="reinterprets"):
        wg.grad(lambda x: x.view(np.int64).sum())(A)
    with pytest.raises(wg.InPlaceWriteError):
        wg.grad(lambda x: x.setflags(write=True) or x.sum())(A)
    with pytest.raises(ValueError, match="cannot move"):
        wg.grad(lambda x: x.to_device("gpu").sum())(A)


def test_pickling_a_traced_value_is_refused():
    import pickle

    with pytest.raises(wg.TracedConversionError, match="Pickling"):
        wg.grad(lambda x: pickle.dumps(x) and x.sum())(A)


def test_dunder_conveniences_on_traced_values():
    import copy

    def f(x):
        assert f"{x[0, 0]:.2f}" == f"{A[0, 0]:.2f}"
        assert (A[0, 1] in x) and (7.0 not in x)
        assert copy.copy(x) is x and copy.deepcopy(x) is x
        return x.sum()

    np.testing.assert_array_equal(wg.grad(f)(A), np.ones_like(A))
    g = wg.grad(lambda x: divmod(3.0, x)[1])(1.25)
    assert g == -np.floor(3.0 / 1.25)
