"""Realistic programs written with plain `import numpy as np`, differentiated as they are."""

from __future__ import annotations

import numpy as np
import pytest

import wengert as wg

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
    with pytest.raises(wg.UnsupportedFunctionError, match=r"numpy\.spacing.*stop_gradient"):
        wg.grad(lambda x: np.sum(np.spacing(x)))(np.ones(2))


def test_array_creation_without_array_argument_is_constant():
    # np.zeros/np.ones see no traced value: they make constants, which is right.
    def f(x):
        return np.sum(x * np.ones(3)) + np.sum(np.zeros(3))

    np.testing.assert_array_equal(wg.grad(f)(np.arange(3.0)), np.ones(3))


def test_asarray_of_traced_values_points_to_wengert_numpy():
    with pytest.raises(wg.TracedConversionError, match=r"wengert\.numpy"):
        wg.grad(lambda x: np.sum(np.asarray([x, x])))(1.0)
