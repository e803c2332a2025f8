"""Per-example gradients with vmap against one gradient of the summed loss.

First, a 2-layer tanh MLP written with wengert.numpy, squared-error loss, a batch of 256
examples, in two sizes. Rows: the batched gradient of the summed loss (one gradient, the
baseline); per-example gradients by ``wg.vmap(wg.grad(loss), in_axes=(None, 0, 0))``; the
same by a Python loop over the examples; and PyTorch's ``torch.func.vmap(torch.func.grad)``
when PyTorch is installed. Per-example gradients must write one gradient per example (256
times the parameters), which one summed gradient never does; the ratio shows what vmap adds
on top. Then networks of `wengert.nn.functional` (an MLP with cross-entropy, a small CNN),
64 examples, vmap against the loop. Every per-example result is checked against the loop
first. Run: ``python bench/vmap.py``.
"""

from __future__ import annotations

import os
import platform

import _timing  # first: it pins the BLAS threads before NumPy loads
import numpy as onp

import wengert as wg
import wengert.numpy as wnp
from wengert.nn import functional as F

BATCH = 256
SIZES = ((8, 32, 1), (64, 128, 10))


def make(sizes, rng):
    n_in, n_hidden, n_out = sizes
    params = {
        "w1": rng.normal(size=(n_in, n_hidden)) / n_in**0.5,
        "b1": onp.zeros(n_hidden),
        "w2": rng.normal(size=(n_hidden, n_out)) / n_hidden**0.5,
        "b2": onp.zeros(n_out),
    }
    X, Y = rng.normal(size=(BATCH, n_in)), rng.normal(size=(BATCH, n_out))
    return params, X, Y


def loss(p, x, y):
    """One example's (or a batch's) squared error."""
    h = wnp.tanh(x @ p["w1"] + p["b1"])
    return wnp.sum((h @ p["w2"] + p["b2"] - y) ** 2)


def torch_rows(torch, params, X, Y):
    from torch.func import grad, vmap

    tp = {k: torch.tensor(v) for k, v in params.items()}
    tX, tY = torch.tensor(X), torch.tensor(Y)

    def tloss(p, x, y):
        h = torch.tanh(x @ p["w1"] + p["b1"])
        return torch.sum((h @ p["w2"] + p["b2"] - y) ** 2)

    per = vmap(grad(tloss), in_dims=(None, 0, 0))
    summed = grad(tloss)
    return [
        ("PyTorch summed gradient", _timing.median_time(lambda: summed(tp, tX, tY)), ""),
        ("PyTorch vmap(grad)", _timing.median_time(lambda: per(tp, tX, tY)), ""),
    ]


def measure(sizes, rng, torch) -> None:
    """Check the per-example gradients against the loop, then time every row."""
    params, X, Y = make(sizes, rng)
    summed = wg.grad(loss)
    per_example = wg.vmap(wg.grad(loss), in_axes=(None, 0, 0))
    one = wg.grad(loss)
    got = per_example(params, X, Y)
    for i in range(BATCH):
        expected = one(params, X[i], Y[i])
        for k in params:
            onp.testing.assert_allclose(got[k][i], expected[k], rtol=1e-12, atol=1e-14)
    rows = [
        ("summed gradient (one)", _timing.median_time(lambda: summed(params, X, Y)), ""),
        ("vmap(grad) per example", _timing.median_time(lambda: per_example(params, X, Y)), ""),
        (
            "loop of grad per example",
            _timing.median_time(lambda: [one(params, X[i], Y[i]) for i in range(BATCH)], 3),
            "",
        ),
    ]
    if torch:
        rows += torch_rows(torch, params, X, Y)
    title = f"MLP {sizes[0]}-{sizes[1]}-{sizes[2]}, batch {BATCH}, float64"
    _timing.print_table(title, rows, "summed gradient (one)")


NN_BATCH = 64


def nn_mlp_loss(params, x, y):
    (w1, b1), (w2, b2) = params
    return F.cross_entropy(F.linear(F.relu(F.linear(x, w1, b1)), w2, b2)[None], y[None])


def nn_cnn_loss(params, x, y):
    (w, b), (v, c) = params
    h = F.max_pool2d(F.relu(F.conv2d(x[None], w, b, padding=1)), 2)
    return F.cross_entropy(F.linear(wnp.reshape(h, (1, -1)), v, c), y[None])


def nn_problems(rng):
    normal = rng.standard_normal
    mlp = (((normal((64, 32)) / 8, onp.zeros(64)), (normal((10, 64)) / 8, onp.zeros(10))),)
    cnn = (((normal((8, 1, 3, 3)) / 3, onp.zeros(8)), (normal((10, 512)) / 20, onp.zeros(10))),)
    labels = rng.integers(0, 10, NN_BATCH)
    return (
        ("nn MLP 32-64-10", nn_mlp_loss, *mlp, normal((NN_BATCH, 32)), labels),
        ("nn CNN 1x16x16, 8 filters", nn_cnn_loss, *cnn, normal((NN_BATCH, 1, 16, 16)), labels),
    )


def compare_nn(name, loss, params, xs, ys) -> None:
    """Check vmap against the loop, then time both."""
    grad = wg.grad(loss)
    batched = wg.vmap(grad, in_axes=(None, 0, 0))

    def loop():
        return [grad(params, xs[i], ys[i]) for i in range(NN_BATCH)]

    looped = wg.tree_flatten(loop())[0]
    together = wg.tree_flatten(batched(params, xs, ys))[0]
    n = len(together)
    for k, got in enumerate(together):
        onp.testing.assert_allclose(got, onp.stack(looped[k::n]), rtol=1e-9, atol=1e-12)
    rows = [
        ("loop of grad", _timing.median_time(loop, 5), ""),
        ("vmap of grad", _timing.median_time(lambda: batched(params, xs, ys), 5), ""),
    ]
    _timing.print_table(f"{name}: {NN_BATCH} per-example gradients", rows, "loop of grad")


def main() -> None:
    torch = _timing.optional("torch")
    if torch:
        torch.set_num_threads(1)
    print(f"python {platform.python_version()}, numpy {onp.__version__}, cores {os.cpu_count()}")
    rng = onp.random.default_rng(0)
    for sizes in SIZES:
        measure(sizes, rng, torch)
    for problem in nn_problems(rng):
        compare_nn(*problem)


if __name__ == "__main__":
    main()
