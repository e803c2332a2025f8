"""Per-example gradients: ``vmap(grad(loss), in_axes=(None, 0, 0))`` against a Python loop
of ``grad(loss)`` over the examples, for a small MLP and a small CNN (wengert.nn).

The loop is the baseline (ratio 1.00); both give the same gradients (checked first).
Run: ``python bench/per_example.py``.
"""

from __future__ import annotations

import os
import platform

import numpy as onp
from _timing import median_time, print_table

import wengert as wg
import wengert.numpy as wnp
from wengert.nn import functional as F

BATCH = 64


def mlp_loss(params, x, y):
    (w1, b1), (w2, b2) = params
    return F.cross_entropy(F.linear(F.relu(F.linear(x, w1, b1)), w2, b2)[None], y[None])


def cnn_loss(params, x, y):
    (w, b), (v, c) = params
    h = F.max_pool2d(F.relu(F.conv2d(x[None], w, b, padding=1)), 2)
    return F.cross_entropy(F.linear(wnp.reshape(h, (1, -1)), v, c), y[None])


def problems(rng):
    mlp = (
        (
            (rng.standard_normal((64, 32)) / 8, onp.zeros(64)),
            (rng.standard_normal((10, 64)) / 8, onp.zeros(10)),
        ),
        rng.standard_normal((BATCH, 32)),
    )
    cnn = (
        (
            (rng.standard_normal((8, 1, 3, 3)) / 3, onp.zeros(8)),
            (rng.standard_normal((10, 8 * 8 * 8)) / 20, onp.zeros(10)),
        ),
        rng.standard_normal((BATCH, 1, 16, 16)),
    )
    labels = rng.integers(0, 10, BATCH)
    return (
        ("MLP 32-64-10", mlp_loss, *mlp, labels),
        ("CNN 1x16x16, 8 filters", cnn_loss, *cnn, labels),
    )


def compare(name, loss, params, xs, ys) -> None:
    """Check that both ways agree, then time them."""
    grad = wg.grad(loss)
    batched = wg.vmap(grad, in_axes=(None, 0, 0))

    def loop():
        return [grad(params, xs[i], ys[i]) for i in range(BATCH)]

    looped = wg.tree_flatten(loop())[0]
    together = wg.tree_flatten(batched(params, xs, ys))[0]
    n = len(together)
    for k, got in enumerate(together):
        onp.testing.assert_allclose(got, onp.stack(looped[k::n]), rtol=1e-9, atol=1e-12)
    rows = [
        ("loop of grad", median_time(loop, 5), ""),
        ("vmap of grad", median_time(lambda: batched(params, xs, ys), 5), ""),
    ]
    print_table(f"{name}: {BATCH} per-example gradients", rows, "loop of grad")


def main() -> None:
    print(f"python {platform.python_version()}, numpy {onp.__version__}, cores {os.cpu_count()}")
    for problem in problems(onp.random.default_rng(0)):
        compare(*problem)


if __name__ == "__main__":
    main()
