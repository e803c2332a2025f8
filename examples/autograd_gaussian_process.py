"""Gaussian process regression written for HIPS autograd, run on wengert.

The kernel's hyper-parameters (log signal variance, log length scale), the log noise variance
and the constant mean are fitted by maximising the log marginal likelihood, a
multivariate normal log-density of the observations, with SciPy's L-BFGS-B fed by
``value_and_grad``. Only the imports name ``wengert.autograd`` instead of ``autograd``.
Run: ``python examples/autograd_gaussian_process.py``.
"""

from __future__ import annotations

from scipy.optimize import minimize

import wengert.autograd.numpy as np
import wengert.autograd.numpy.random as npr
import wengert.autograd.scipy.stats.multivariate_normal as mvn
from wengert.autograd import value_and_grad


def rbf_covariance(kernel_params, x, xp):
    """Squared-exponential covariance between the rows of `x` and of `xp`."""
    output_scale = np.exp(kernel_params[0])
    lengthscales = np.exp(kernel_params[1:])
    diffs = np.expand_dims(x / lengthscales, 1) - np.expand_dims(xp / lengthscales, 0)
    return output_scale * np.exp(-0.5 * np.sum(diffs**2, axis=2))


def unpack_params(params):
    """(constant mean, noise variance, kernel parameters) from the flat vector."""
    mean = params[0]
    noise_scale = np.exp(params[1]) + 1e-4
    kernel_params = params[2:]
    return mean, noise_scale, kernel_params


def log_marginal_likelihood(params, x, y):
    mean, noise_scale, kernel_params = unpack_params(params)
    cov_y_y = rbf_covariance(kernel_params, x, x) + noise_scale * np.eye(len(y))
    prior_mean = mean * np.ones(len(y))
    return mvn.logpdf(y, prior_mean, cov_y_y)


def predict(params, x, y, xstar):
    """Posterior mean and covariance of the function values at `xstar`."""
    mean, noise_scale, kernel_params = unpack_params(params)
    cov_f_f = rbf_covariance(kernel_params, xstar, xstar)
    cov_y_f = rbf_covariance(kernel_params, x, xstar)
    cov_y_y = rbf_covariance(kernel_params, x, x) + noise_scale * np.eye(len(y))
    pred_mean = mean + np.dot(cov_y_f.T, np.linalg.solve(cov_y_y, y - mean))
    pred_cov = cov_f_f - np.dot(cov_y_f.T, np.linalg.solve(cov_y_y, cov_y_f))
    return pred_mean, pred_cov


def build_toy_dataset(n_data=40, noise_std=0.1, rs=None):
    """Noisy samples of a smooth curve at points in two clusters of the interval."""
    rs = npr.RandomState(0) if rs is None else rs
    half = n_data // 2
    inputs = np.concatenate([np.linspace(0, 3, num=half), np.linspace(6, 8, num=n_data - half)])
    targets = (np.cos(inputs) + rs.randn(n_data) * noise_std) / 2.0 + 1.0
    inputs = (inputs - 4.0) / 4.0
    return inputs.reshape((len(inputs), 1)), targets


def main(seed=0, verbose=True) -> dict:
    X, y = build_toy_dataset(rs=npr.RandomState(seed))

    def objective(params):
        return -log_marginal_likelihood(params, X, y)

    def callback(params):
        if verbose:
            print(f"Log marginal likelihood {-objective(params):10.4f}")

    # mean, log noise variance, log signal variance, log length scale
    init_params = np.array([0.0, np.log(0.5), 0.0, np.log(0.5)])
    if verbose:
        print("Optimizing covariance parameters...")
    result = minimize(
        value_and_grad(objective), init_params, jac=True, method="L-BFGS-B", callback=callback
    )
    params = result.x
    xstar = np.linspace(-1.5, 1.5, 7).reshape((7, 1))
    pred_mean, pred_cov = predict(params, X, y, xstar)
    mean, noise_scale, kernel_params = unpack_params(params)
    output = {
        "params": params,
        "initial_log_marginal_likelihood": -objective(init_params),
        "final_log_marginal_likelihood": -objective(params),
        "xstar": xstar,
        "pred_mean": pred_mean,
        "pred_std": np.sqrt(np.diag(pred_cov)),
        "iterations": result.nit,
    }
    if verbose:
        print(
            f"log marginal likelihood {output['initial_log_marginal_likelihood']:.3f} -> "
            f"{output['final_log_marginal_likelihood']:.3f} in {result.nit} iterations; "
            f"mean {mean:.3f}, noise std {np.sqrt(noise_scale):.3f}, "
            f"signal variance {np.exp(kernel_params[0]):.3f}, "
            f"length scale {np.exp(kernel_params[1]):.3f}"
        )
    return output


if __name__ == "__main__":
    main()
