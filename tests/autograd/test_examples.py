"""The autograd-style example programs in examples/: each runs and learns, its gradients
pass the checkers, and the same source run with HIPS autograd's imports gives the same
objective values, gradients and optimised parameters."""

from __future__ import annotations

import ast
import importlib.util
import re
import types
from pathlib import Path

import numpy as onp
import pytest

import wengert as wg
from wengert.autograd import grad, value_and_grad
from wengert.autograd.misc import flatten
from wengert.autograd.test_util import check_grads

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NAMES = ["neural_net", "gaussian_process", "black_box_svi"]
RTOL = 1e-10
IMPORT_LINE = re.compile(r"^(import|from) ")


def source(name: str) -> str:
    return (EXAMPLES / f"autograd_{name}.py").read_text()


def load(name: str) -> types.ModuleType:
    """The example imported by path, as written (wengert.autograd)."""
    path = EXAMPLES / f"autograd_{name}.py"
    spec = importlib.util.spec_from_file_location(f"_example_wengert_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def autograd_source(name: str) -> str:
    """The example's source with its imports naming HIPS autograd; nothing else changes."""
    lines = source(name).splitlines(keepends=True)
    return "".join(
        line.replace("wengert.autograd", "autograd") if IMPORT_LINE.match(line) else line
        for line in lines
    )


def load_with_autograd(name: str) -> types.ModuleType:
    module = types.ModuleType(f"_example_autograd_{name}")
    module.__file__ = str(EXAMPLES / f"autograd_{name}.py")
    exec(compile(autograd_source(name), module.__file__, "exec"), module.__dict__)
    return module


@pytest.fixture(scope="module")
def nn():
    return load("neural_net")


@pytest.fixture(scope="module")
def gp():
    return load("gaussian_process")


@pytest.fixture(scope="module")
def svi():
    return load("black_box_svi")


@pytest.fixture(scope="module")
def autograd_examples():
    pytest.importorskip("autograd")
    return {name: load_with_autograd(name) for name in NAMES}


def assert_trees_close(actual, expected, rtol=RTOL):
    flat_actual, _ = flatten(actual)
    flat_expected, _ = flatten(expected)
    onp.testing.assert_allclose(flat_actual, flat_expected, rtol=rtol, atol=0)


@pytest.mark.parametrize("name", NAMES)
def test_example_differs_from_autograd_program_only_in_imports(name):
    text = source(name)
    tree = ast.parse(text)
    assert isinstance(tree.body[0], ast.Expr)  # the module docstring, prose about the port
    code = text.splitlines()[tree.body[0].end_lineno :]
    imports = [line for line in code if IMPORT_LINE.match(line)]
    assert "import wengert.autograd.numpy as np" in imports
    assert all("wengert.autograd" in line for line in imports if "wengert" in line)
    assert not [line for line in code if "wengert" in line and not IMPORT_LINE.match(line)]
    assert "import autograd.numpy as np" in autograd_source(name)


# The multilayer perceptron.


def nn_problem(nn, seed=1, layer_sizes=(2, 6, 5, 3)):
    rs = onp.random.RandomState(seed)
    inputs, targets = nn.make_spirals(10, 3, 0.15, rs)
    params = nn.init_random_params(0.5, list(layer_sizes), rs)
    return params, inputs, targets


def test_neural_net_trains(nn, capsys):
    result = nn.main()
    assert result["final_loss"] < 0.1 * result["initial_loss"]
    assert result["train_accuracy"] > 0.95
    assert result["test_accuracy"] > 0.9
    assert "test accuracy" in capsys.readouterr().out


def test_neural_net_gradients_check(nn):
    params, inputs, targets = nn_problem(nn)
    check_grads(lambda p: nn.log_posterior(p, inputs, targets, 1e-2), modes=["rev"], order=2)(
        params
    )
    flat_params, unflatten = flatten(params)
    wg.check_grads(lambda v: nn.log_posterior(unflatten(v), inputs, targets, 1e-2), order=2)(
        flat_params
    )


def test_neural_net_matches_autograd(nn, autograd_examples):
    ag_nn = autograd_examples["neural_net"]
    ag = pytest.importorskip("autograd")
    params, inputs, targets = nn_problem(nn)

    def objective(module, grad_op):
        return grad_op(lambda p: module.log_posterior(p, inputs, targets, 1e-2))

    onp.testing.assert_allclose(
        nn.log_posterior(params, inputs, targets, 1e-2),
        ag_nn.log_posterior(params, inputs, targets, 1e-2),
        rtol=RTOL,
    )
    assert_trees_close(objective(nn, grad)(params), objective(ag_nn, ag.grad)(params))
    # The whole training run (480 Adam steps on minibatches) follows autograd's.
    ours, theirs = nn.main(verbose=False), ag_nn.main(verbose=False)
    assert_trees_close(ours["params"], theirs["params"])
    onp.testing.assert_allclose(ours["final_loss"], theirs["final_loss"], rtol=RTOL)


# Gaussian process regression.


def gp_problem(gp, seed=0):
    X, y = gp.build_toy_dataset(rs=onp.random.RandomState(seed))
    init_params = onp.array([0.0, onp.log(0.5), 0.0, onp.log(0.5)])
    return X, y, init_params


def test_gaussian_process_fits(gp, capsys):
    result = gp.main()
    assert result["final_log_marginal_likelihood"] > result["initial_log_marginal_likelihood"] + 50
    _, noise_scale, _ = gp.unpack_params(result["params"])
    assert 0.03 < onp.sqrt(noise_scale) < 0.08  # the data's noise std is 0.05
    # Posterior mean close to the curve where there are data, wider bands in the gap.
    t = 4.0 * result["xstar"][:, 0] + 4.0
    truth = onp.cos(t) / 2.0 + 1.0
    observed = [1, 2, 4, 5]
    onp.testing.assert_allclose(result["pred_mean"][observed], truth[observed], atol=0.1)
    assert result["pred_std"][3] > 3 * result["pred_std"][observed].max()
    assert "log marginal likelihood" in capsys.readouterr().out


def test_gaussian_process_gradients_check(gp):
    X, y, init_params = gp_problem(gp)
    check_grads(lambda p: gp.log_marginal_likelihood(p, X, y), modes=["rev"], order=2)(init_params)
    wg.check_grads(lambda p: gp.log_marginal_likelihood(p, X, y), order=2)(init_params)
    xstar = onp.linspace(-1.5, 1.5, 5).reshape((5, 1))
    check_grads(lambda p: gp.predict(p, X, y, xstar)[1], modes=["rev"], order=1)(init_params)


def test_gaussian_process_matches_autograd(gp, autograd_examples):
    from scipy.optimize import minimize

    ag_gp = autograd_examples["gaussian_process"]
    ag = pytest.importorskip("autograd")
    X, y, init_params = gp_problem(gp)
    rs = onp.random.RandomState(3)
    for params in [init_params, init_params + 0.3 * rs.randn(4)]:
        value, gradient = value_and_grad(gp.log_marginal_likelihood)(params, X, y)
        ag_value, ag_gradient = ag.value_and_grad(ag_gp.log_marginal_likelihood)(params, X, y)
        onp.testing.assert_allclose(value, ag_value, rtol=RTOL)
        onp.testing.assert_allclose(gradient, ag_gradient, rtol=RTOL)

    def fit(module, value_and_grad_op):
        def objective(params):
            return -module.log_marginal_likelihood(params, X, y)

        return minimize(
            value_and_grad_op(objective),
            init_params,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": 5},
        ).x

    onp.testing.assert_allclose(fit(gp, value_and_grad), fit(ag_gp, ag.value_and_grad), rtol=RTOL)
    ours, theirs = gp.main(verbose=False), ag_gp.main(verbose=False)
    assert ours["iterations"] == theirs["iterations"]
    for key in ["params", "final_log_marginal_likelihood", "pred_mean", "pred_std"]:
        onp.testing.assert_allclose(ours[key], theirs[key], rtol=RTOL)


# Black-box stochastic variational inference.


def svi_objective(svi, num_samples=20, seed=0):
    """The negative ELBO with the same draws at every call (a fresh seeded RandomState)."""

    def objective(params):
        rs = onp.random.RandomState(seed)
        fun, _, _ = svi.black_box_variational_inference(svi.banana_log_density, 2, num_samples, rs)
        return fun(params, 0)

    return objective


INIT_VAR_PARAMS = onp.array([1.0, 1.0, -1.0, -1.0])


def test_black_box_svi_improves_elbo(svi, capsys):
    result = svi.main()
    assert result["final_elbo"] > result["initial_elbo"] + 2.0
    assert result["final_elbo"] < 0.0  # the banana is normalised: ELBO <= log Z = 0
    assert onp.all(result["std"] > 0.3)
    assert "ELBO" in capsys.readouterr().out


def test_black_box_svi_gradients_check(svi):
    objective = svi_objective(svi)
    check_grads(objective, modes=["rev"], order=2)(INIT_VAR_PARAMS)
    wg.check_grads(objective, order=2)(INIT_VAR_PARAMS)

    def elbo(params):
        return svi.elbo_estimate(params, svi.banana_log_density, 20, onp.random.RandomState(0))

    check_grads(elbo, modes=["rev"], order=2)(INIT_VAR_PARAMS)


def test_black_box_svi_elbo_estimators_agree(svi):
    params = onp.array([0.0, -0.7, -0.3, -0.6])
    closed_form_entropy = -svi_objective(svi, num_samples=20000, seed=5)(params)
    plain = svi.elbo_estimate(params, svi.banana_log_density, 20000, onp.random.RandomState(5))
    onp.testing.assert_allclose(closed_form_entropy, plain, atol=0.05)


def test_black_box_svi_matches_autograd(svi, autograd_examples):
    ag_svi = autograd_examples["black_box_svi"]
    ours, theirs = svi_objective(svi), svi_objective(ag_svi)
    ag = pytest.importorskip("autograd")
    onp.testing.assert_allclose(ours(INIT_VAR_PARAMS), theirs(INIT_VAR_PARAMS), rtol=RTOL)
    onp.testing.assert_allclose(
        grad(ours)(INIT_VAR_PARAMS), ag.grad(theirs)(INIT_VAR_PARAMS), rtol=RTOL
    )

    def elbo(module, grad_op):
        return grad_op(
            lambda p: module.elbo_estimate(
                p, module.banana_log_density, 50, onp.random.RandomState(2)
            )
        )

    onp.testing.assert_allclose(
        elbo(svi, grad)(INIT_VAR_PARAMS), elbo(ag_svi, ag.grad)(INIT_VAR_PARAMS), rtol=RTOL
    )
    ours_run, theirs_run = svi.main(verbose=False), ag_svi.main(verbose=False)
    onp.testing.assert_allclose(ours_run["params"], theirs_run["params"], rtol=RTOL)
    onp.testing.assert_allclose(ours_run["final_elbo"], theirs_run["final_elbo"], rtol=RTOL)
