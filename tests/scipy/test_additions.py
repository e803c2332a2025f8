"""scipy.special and scipy.stats functions built from the primitives: values and both modes."""

from __future__ import annotations

import numpy as np
import pytest

sc = pytest.importorskip("scipy.special")
sstats = pytest.importorskip("scipy.stats")

import wengert as wg  # noqa: E402
from wengert.scipy import special  # noqa: E402
from wengert.scipy.stats import multivariate_normal  # noqa: E402

X = np.array([0.3, 1.7, 2.5, 4.2])


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (special.rgamma, sc.rgamma),
        (lambda x: special.jn(2, x), lambda x: sc.jn(2, x)),
        (lambda x: special.yn(1, x), lambda x: sc.yn(1, x)),
        (lambda x: special.ive(1.5, x), lambda x: sc.ive(1.5, x)),
    ],
)
def test_values_and_derivatives(ours, theirs):
    np.testing.assert_allclose(ours(X), theirs(X), rtol=1e-12)
    wg.check_grads(ours, order=2)(X)


def test_gammasgn_is_a_constant():
    np.testing.assert_array_equal(special.gammasgn(np.array([-1.5, 0.5])), [1.0, 1.0])
    assert wg.grad(lambda x: special.gammasgn(x) * x)(-0.5) == -1.0


def test_multivariate_normal_entropy():
    a = np.array([[1.0, 0.3], [0.2, 0.8]])
    cov = a @ a.T + np.eye(2)
    mean = np.zeros(2)
    expected = sstats.multivariate_normal(mean, cov).entropy()
    assert multivariate_normal.entropy(mean, cov) == pytest.approx(expected, rel=1e-12)
    assert multivariate_normal.entropy(mean, 2.0) == pytest.approx(
        sstats.multivariate_normal(mean, 2.0).entropy(), rel=1e-12
    )
    wg.check_grads(lambda c: multivariate_normal.entropy(mean, c @ c.T + np.eye(2)), order=2)(a)


def test_rgamma_through_the_poles_of_gamma():
    x = np.array([-3.0, -2.0, -1.0, 0.0, -2.5, 0.3, 0.5, 1.7])
    np.testing.assert_allclose(special.rgamma(x), sc.rgamma(x), atol=1e-15)
    # d/dx 1/gamma(x) at x = -n is (-1)^n n!
    g = wg.elementwise_grad(special.rgamma)(x[:4])
    np.testing.assert_allclose(g, [-6.0, 2.0, -1.0, 1.0], rtol=1e-14)
    wg.check_grads(special.rgamma, order=2)(np.array([-2.0, -1.0, 0.0, -0.5, 0.7]))
