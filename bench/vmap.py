"""Per-example gradients with vmap against one gradient of the summed loss.

A 2-layer tanh MLP with a squared-error loss over a batch of 256 examples, in two sizes.
Rows: the batched gradient of the summed loss (one gradient, the baseline); per-example
gradients by ``wg.vmap(wg.grad(loss), in_axes=(None, 0, 0))``; the same by a Python loop
over the examples; and PyTorch's ``torch.func.vmap(torch.func.grad(...))`` when PyTorch is
installed. Per-example gradients must write one gradient per example (256 times the
parameters), which one summed gradient never does; the ratio shows what vmap adds on top.
The per-example results are checked against the loop to 1e-12 first.
Run: ``python bench/vmap.py``.
"""

from __future__ import annotations

import os
import platform

import _timing  # first: it pins the BLAS threads before NumPy loads
import numpy as onp

import wengert as wg
import wengert.numpy as wnp

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


def main() -> None:
    torch = _timing.optional("torch")
    if torch:
        torch.set_num_threads(1)
    print(f"python {platform.python_version()}, numpy {onp.__version__}, cores {os.cpu_count()}")
    rng = onp.random.default_rng(0)
    for sizes in SIZES:
        measure(sizes, rng, torch)


if __name__ == "__main__":
    main()
