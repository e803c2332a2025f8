"""Black-box stochastic variational inference written for HIPS autograd, run on wengert.

A diagonal Gaussian is fitted to a banana-shaped density in the plane by maximising the
evidence lower bound (ELBO). The ELBO's gradient is estimated with the
reparameterisation trick: samples are ``mean + exp(log_std) * eps`` with ``eps`` from a
seeded ``RandomState``, so the Monte Carlo estimate is differentiable in the variational
parameters. Only the imports name ``wengert.autograd`` instead of ``autograd``.
Run: ``python examples/autograd_black_box_svi.py``.
"""

from __future__ import annotations

import wengert.autograd.numpy as np
import wengert.autograd.numpy.random as npr
import wengert.autograd.scipy.stats.multivariate_normal as mvn
import wengert.autograd.scipy.stats.norm as norm
from wengert.autograd import grad
from wengert.autograd.misc.optimizers import adam


def black_box_variational_inference(logprob, D, num_samples, rs):
    """The negative ELBO of a diagonal Gaussian, its gradient and the parameters' unpacker.

    `logprob(samples, t)` is the unnormalised target log-density of each row of `samples`.
    """

    def unpack_params(params):
        mean, log_std = params[:D], params[D:]
        return mean, log_std

    def gaussian_entropy(log_std):
        return 0.5 * D * (1.0 + np.log(2 * np.pi)) + np.sum(log_std)

    def variational_objective(params, t):
        mean, log_std = unpack_params(params)
        samples = rs.randn(num_samples, D) * np.exp(log_std) + mean
        lower_bound = gaussian_entropy(log_std) + np.mean(logprob(samples, t))
        return -lower_bound

    gradient = grad(variational_objective)

    return variational_objective, gradient, unpack_params


def banana_log_density(x, t):
    """x1 ~ N(0, 1.5^2) and x2 | x1 ~ N(x1^2 / 2 - 1, 0.6^2): a normalised banana."""
    x1, x2 = x[:, 0], x[:, 1]
    return norm.logpdf(x1, 0.0, 1.5) + norm.logpdf(x2, 0.5 * x1**2 - 1.0, 0.6)


def elbo_estimate(params, logprob, num_samples, rs):
    """A plain Monte Carlo ELBO, E_q[log p(x) - log q(x)], as an independent check."""
    D = len(params) // 2
    mean, log_std = params[:D], params[D:]
    samples = rs.randn(num_samples, D) * np.exp(log_std) + mean
    log_q = mvn.logpdf(samples, mean, np.diag(np.exp(2 * log_std)))
    return np.mean(logprob(samples, 0) - log_q)


def main(num_iters=300, num_samples=50, step_size=0.05, seed=0, verbose=True) -> dict:
    D = 2
    objective, gradient, unpack_params = black_box_variational_inference(
        banana_log_density, D, num_samples=num_samples, rs=npr.RandomState(seed)
    )

    def callback(params, t, g):
        if verbose and t % 50 == 0:
            print(f"Iteration {t:4d} lower bound {-objective(params, t):8.4f}")

    init_mean = np.array([1.0, 1.0])
    init_log_std = np.array([-1.0, -1.0])
    init_var_params = np.concatenate([init_mean, init_log_std])
    if verbose:
        print("Optimizing variational parameters...")
    variational_params = adam(
        gradient, init_var_params, step_size=step_size, num_iters=num_iters, callback=callback
    )
    mean, log_std = unpack_params(variational_params)
    result = {
        "params": variational_params,
        "mean": mean,
        "std": np.exp(log_std),
        "initial_elbo": elbo_estimate(
            init_var_params, banana_log_density, 20000, npr.RandomState(seed + 1)
        ),
        "final_elbo": elbo_estimate(
            variational_params, banana_log_density, 20000, npr.RandomState(seed + 1)
        ),
    }
    if verbose:
        print(
            f"ELBO {result['initial_elbo']:.3f} -> {result['final_elbo']:.3f}; "
            f"q mean {np.round(mean, 3)}, std {np.round(result['std'], 3)}"
        )
    return result


if __name__ == "__main__":
    main()
