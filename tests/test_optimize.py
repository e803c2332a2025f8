"""SciPy's optimisers with wengert's derivatives: they converge to the known minimum with
fewer evaluations of the function than SciPy's finite differences, get only the
derivatives their method uses, and take trees of arrays."""

from __future__ import annotations

import sys

import numpy as onp
import pytest

so = pytest.importorskip("scipy.optimize")
sparse = pytest.importorskip("scipy.sparse")

import wengert.numpy as wnp  # noqa: E402
from wengert.errors import NonScalarOutputError  # noqa: E402
from wengert.optimize import least_squares, minimize  # noqa: E402


class Counted:
    """A function that counts its calls (each AD derivative evaluates it once)."""

    def __init__(self, fun):
        self.fun = fun
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.fun(*args, **kwargs)


def rosenbrock(x):
    return wnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def start(n=100):
    x0 = onp.full(n, -1.0)
    x0[::2] = -1.2
    return x0


@pytest.fixture(scope="module")
def scipy_default_calls():
    """Evaluations SciPy needs with its default method and finite-difference gradient."""
    f = Counted(lambda x: float(rosenbrock(x)))
    result = so.minimize(f, start())
    assert result.success and onp.allclose(result.x, 1.0, atol=1e-3)
    return f.calls


@pytest.mark.slow
@pytest.mark.parametrize(
    "method, options, uses",
    [
        ("Newton-CG", {"xtol": 1e-10}, "hessp"),
        ("trust-exact", {"gtol": 1e-10}, "hess"),
        ("trust-ncg", {"gtol": 1e-10}, "hessp"),
    ],
)
def test_rosenbrock_100(method, options, uses, scipy_default_calls, monkeypatch):
    passed = {}
    original = so.minimize

    def spy(fun, x0, **kwargs):
        passed.update(kwargs)
        return original(fun, x0, **kwargs)

    monkeypatch.setattr(so, "minimize", spy)
    f = Counted(rosenbrock)
    result = minimize(f, start(), method=method, options=options)
    assert result.success
    onp.testing.assert_allclose(result.x, onp.ones(100), atol=1e-6)
    assert f.calls < scipy_default_calls / 20
    assert passed["jac"] is True
    assert (uses in passed) and ({"hess", "hessp"} - {uses}).isdisjoint(passed)


def test_gradient_only_methods_and_none(monkeypatch):
    passed = []
    original = so.minimize

    def spy(fun, x0, **kwargs):
        passed.append(set(k for k in ("jac", "hess", "hessp") if k in kwargs))
        return original(fun, x0, **kwargs)

    monkeypatch.setattr(so, "minimize", spy)
    for method in ("BFGS", "L-BFGS-B", "CG", None):
        result = minimize(rosenbrock, start(6), method=method)
        onp.testing.assert_allclose(result.x, onp.ones(6), atol=1e-4)
    result = minimize(rosenbrock, start(2), method="Nelder-Mead", options={"xatol": 1e-8})
    onp.testing.assert_allclose(result.x, onp.ones(2), atol=1e-4)
    assert passed == [{"jac"}] * 4 + [set()]


def test_trees_args_bounds_and_user_derivatives():
    target = {"w": onp.array([[1.0, -2.0], [0.5, 3.0]]), "b": onp.array([0.25])}

    def loss(p, scale):
        return scale * (wnp.sum((p["w"] - target["w"]) ** 2) + wnp.sum((p["b"] - target["b"]) ** 2))

    x0 = {"w": onp.zeros((2, 2)), "b": onp.zeros(1)}
    result = minimize(loss, x0, args=(2.0,), method="trust-exact")
    assert set(result.x) == {"w", "b"} and result.x["w"].shape == (2, 2)
    onp.testing.assert_allclose(result.x["w"], target["w"], atol=1e-8)
    result = minimize(loss, x0, args=(2.0,), method="L-BFGS-B", bounds=[(0, 1)] * 5)
    onp.testing.assert_allclose(result.x["w"], [[1.0, 0.0], [0.5, 1.0]], atol=1e-6)
    onp.testing.assert_allclose(result.x["b"], [0.25], atol=1e-6)
    # A finite-difference scheme given by the user is passed instead of the AD gradient.
    f = Counted(lambda p, s: loss(p, s))
    result = minimize(f, x0, args=(2.0,), method="BFGS", jac="2-point")
    onp.testing.assert_allclose(result.x["b"], [0.25], atol=1e-5)
    assert f.calls > result.nit * 5


def test_constraints_get_ad_jacobians():
    def objective(p):
        return p["x"] ** 2 + 2.0 * p["y"] ** 2

    constraints = [{"type": "eq", "fun": lambda p: p["x"] + p["y"] - 1.0}]
    result = minimize(
        objective,
        {"x": 0.0, "y": 0.0},
        method="SLSQP",
        constraints=constraints,
        options={"ftol": 1e-12},
    )
    onp.testing.assert_allclose([result.x["x"], result.x["y"]], [2 / 3, 1 / 3], atol=1e-6)
    nonlinear = so.NonlinearConstraint(lambda p: p["x"] ** 2 + p["y"] ** 2, 0.0, 0.5)
    result = minimize(
        lambda p: -(p["x"] + p["y"]),
        {"x": 0.1, "y": 0.0},
        method="trust-constr",
        constraints=nonlinear,
    )
    onp.testing.assert_allclose([result.x["x"], result.x["y"]], [0.5, 0.5], atol=1e-4)


def test_curve_fit_with_fewer_calls_than_finite_differences():
    rng = onp.random.default_rng(0)
    t = onp.linspace(0.0, 4.0, 60)
    truth = {"a": 3.0, "k": 0.7, "w": 2.1, "phi": 0.3}
    y = truth["a"] * onp.exp(-truth["k"] * t) * onp.cos(truth["w"] * t + truth["phi"])
    y_noisy = y + 1e-3 * rng.normal(size=t.size)

    def model(p, t):
        return p["a"] * wnp.exp(-p["k"] * t) * wnp.cos(p["w"] * t + p["phi"])

    residuals = Counted(lambda p: model(p, t) - y_noisy)
    x0 = {"a": 2.0, "k": 1.0, "w": 2.0, "phi": 0.0}
    result = least_squares(residuals, x0)
    for name in truth:
        onp.testing.assert_allclose(result.x[name], truth[name], atol=5e-3)
    fd = Counted(lambda v: onp.asarray(model(dict(zip(sorted(truth), v)), t)) - y_noisy)
    reference = so.least_squares(fd, [x0[k] for k in sorted(truth)])
    onp.testing.assert_allclose([result.x[k] for k in sorted(truth)], reference.x, atol=1e-6)
    assert residuals.calls < fd.calls


def broyden(x):
    left = wnp.concatenate([onp.zeros(1), x[:-1]])
    right = wnp.concatenate([x[1:], onp.zeros(1)])
    return (3.0 - 2.0 * x) * x - left - 2.0 * right + 1.0


def test_least_squares_sparse_where_detected():
    x0 = -onp.ones(2000)
    result = least_squares(broyden, x0)
    assert sparse.issparse(result.jac)
    assert result.cost < 1e-15
    onp.testing.assert_allclose(onp.asarray(broyden(result.x)), 0.0, atol=1e-8)
    small = least_squares(broyden, -onp.ones(20))
    assert not sparse.issparse(small.jac)  # 400 entries: dense is cheaper
    forced = least_squares(broyden, -onp.ones(20), sparse=True)
    assert sparse.issparse(forced.jac)
    onp.testing.assert_allclose(forced.x, small.x, atol=1e-8)
    given = least_squares(
        broyden, -onp.ones(20), jac_sparsity=sparse.diags([1.0, 1.0, 1.0], [-1, 0, 1], (20, 20))
    )
    assert sparse.issparse(given.jac)
    lm = least_squares(broyden, -onp.ones(20), method="lm")
    onp.testing.assert_allclose(lm.x, small.x, atol=1e-8)


def test_missing_scipy_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)
    with pytest.raises(ImportError, match=r"wengert\[scipy\]"):
        minimize(rosenbrock, start(2))


def test_errors():
    with pytest.raises(NonScalarOutputError):
        minimize(lambda x: x * 2.0, onp.ones(2), method="BFGS")
    with pytest.raises(TypeError, match="complex"):
        minimize(rosenbrock, onp.ones(2) + 0j)
