"""A multilayer perceptron classifier written for HIPS autograd, run on wengert.

The program is an ordinary autograd program: parameters as a list of ``(W, b)`` pairs, a
log-softmax output through ``logsumexp``, an L2 penalty on the flattened parameters and
autograd's ``adam`` with its ``callback(params, iter, gradient)``. Only the imports name
``wengert.autograd`` instead of ``autograd``. The data are three interleaved spirals in the
plane, drawn from a seeded random generator. Run: ``python examples/autograd_neural_net.py``.
"""

from __future__ import annotations

from itertools import pairwise

import wengert.autograd.numpy as np
import wengert.autograd.numpy.random as npr
from wengert.autograd import grad
from wengert.autograd.misc import flatten
from wengert.autograd.misc.optimizers import adam
from wengert.autograd.scipy.special import logsumexp


def make_spirals(num_per_class, num_classes, noise, rs):
    """Points on `num_classes` interleaved spiral arms, with one-hot labels."""
    radii = np.tile(np.linspace(0.1, 1.0, num_per_class), num_classes)
    classes = np.repeat(np.arange(num_classes), num_per_class)
    angles = 4.0 * radii + classes * 2.0 * np.pi / num_classes
    angles = angles + noise * rs.randn(num_classes * num_per_class)
    inputs = np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1)
    targets = np.eye(num_classes)[classes]
    order = rs.permutation(len(classes))
    return inputs[order], targets[order]


def init_random_params(scale, layer_sizes, rs):
    """A list of (weights, biases) pairs, one per layer."""
    return [(scale * rs.randn(m, n), scale * rs.randn(n)) for m, n in pairwise(layer_sizes)]


def neural_net_predict(params, inputs):
    """Log class probabilities: tanh hidden layers, then a log-softmax."""
    for W, b in params:
        outputs = np.dot(inputs, W) + b
        inputs = np.tanh(outputs)
    return outputs - logsumexp(outputs, axis=1, keepdims=True)


def l2_norm(params):
    flattened, _ = flatten(params)
    return np.dot(flattened, flattened)


def log_posterior(params, inputs, targets, L2_reg):
    log_prior = -L2_reg * l2_norm(params)
    log_lik = np.sum(neural_net_predict(params, inputs) * targets)
    return log_prior + log_lik


def accuracy(params, inputs, targets):
    target_class = np.argmax(targets, axis=1)
    predicted_class = np.argmax(neural_net_predict(params, inputs), axis=1)
    return np.mean(predicted_class == target_class)


def main(num_epochs=40, batch_size=60, step_size=0.02, seed=0, verbose=True) -> dict:
    layer_sizes = [2, 24, 24, 3]
    L2_reg = 1e-3
    rs = npr.RandomState(seed)
    train_inputs, train_targets = make_spirals(120, 3, 0.15, rs)
    test_inputs, test_targets = make_spirals(60, 3, 0.15, rs)
    init_params = init_random_params(0.5, layer_sizes, rs)

    num_batches = int(np.ceil(len(train_inputs) / batch_size))

    def batch_indices(iter):
        idx = iter % num_batches
        return slice(idx * batch_size, (idx + 1) * batch_size)

    def objective(params, iter):
        idx = batch_indices(iter)
        return -log_posterior(params, train_inputs[idx], train_targets[idx], L2_reg)

    def full_loss(params):
        return -log_posterior(params, train_inputs, train_targets, L2_reg) / len(train_inputs)

    objective_grad = grad(objective)

    if verbose:
        print("     Epoch     |    Train loss  |    Train accuracy  |       Test accuracy  ")

    def print_perf(params, iter, gradient):
        if verbose and iter % (5 * num_batches) == 0:
            train_acc = accuracy(params, train_inputs, train_targets)
            test_acc = accuracy(params, test_inputs, test_targets)
            print(
                f"{iter // num_batches:15d}|{full_loss(params):16.4f}|"
                f"{train_acc:20.3f}|{test_acc:20.3f}"
            )

    optimized_params = adam(
        objective_grad,
        init_params,
        step_size=step_size,
        num_iters=num_epochs * num_batches,
        callback=print_perf,
    )
    result = {
        "params": optimized_params,
        "initial_loss": full_loss(init_params),
        "final_loss": full_loss(optimized_params),
        "train_accuracy": accuracy(optimized_params, train_inputs, train_targets),
        "test_accuracy": accuracy(optimized_params, test_inputs, test_targets),
    }
    if verbose:
        print(
            f"loss {result['initial_loss']:.3f} -> {result['final_loss']:.3f}; "
            f"train accuracy {result['train_accuracy']:.1%}, "
            f"test accuracy {result['test_accuracy']:.1%}"
        )
    return result


if __name__ == "__main__":
    main()
