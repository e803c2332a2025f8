"""Checkpointing a deep chain: peak memory and time of its gradient, before and after.

A chain of 256 layers (each ``tanh(1.01 x + 0.01) * cos(x)``, four primitives) on a
vector of 100,000 float64 values; its gradient plainly, with the chain cut into 16
checkpointed segments of 16 layers (about the square root: the classic trade), and with
every layer checkpointed. Peak memory is measured with tracemalloc (which sees NumPy's
allocations) in a separate run from the timing. Run: ``python bench/checkpoint.py``.
"""

from __future__ import annotations

import os
import platform
import tracemalloc

import _timing  # first: it pins the BLAS threads before NumPy loads
import numpy as onp

import wengert as wg
import wengert.numpy as wnp

N = 100_000
DEPTH = 256


def layer(x):
    return wnp.tanh(1.01 * x + 0.01) * wnp.cos(x)


def chain(x, depth: int):
    for _ in range(depth):
        x = layer(x)
    return x


def segmented(size: int):
    """The chain as DEPTH / size checkpointed segments of `size` layers."""
    segment = wg.checkpoint(lambda x: chain(x, size))

    def f(x):
        for _ in range(DEPTH // size):
            x = segment(x)
        return wnp.sum(x)

    return f


def peak_megabytes(fun, x) -> float:
    tracemalloc.start()
    try:
        fun(x)
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def main() -> None:
    print(f"python {platform.python_version()}, numpy {onp.__version__}, cores {os.cpu_count()}")
    x = onp.random.default_rng(0).uniform(-1.0, 1.0, N)
    variants = {
        "no checkpoint": wg.grad(lambda x: wnp.sum(chain(x, DEPTH))),
        "16 segments of 16 layers": wg.grad(segmented(16)),
        "every layer checkpointed": wg.grad(segmented(1)),
    }
    reference = variants["no checkpoint"](x)
    for fun in variants.values():
        onp.testing.assert_allclose(fun(x), reference, rtol=1e-12)
    memory = {name: peak_megabytes(fun, x) for name, fun in variants.items()}
    times = {name: _timing.median_time(lambda fun=fun: fun(x), 5) for name, fun in variants.items()}
    base_memory, base_time = memory["no checkpoint"], times["no checkpoint"]
    one_array = x.nbytes / 1e6
    print(f"\nGradient of a {DEPTH}-layer chain on {N:,} float64 ({one_array:.1f} MB per array)")
    print(f"{'':28} {'peak memory':>12} {'ratio':>7} {'median time':>12} {'ratio':>7}")
    for name in variants:
        print(
            f"{name:28} {memory[name]:9.1f} MB {memory[name] / base_memory:7.2f} "
            f"{times[name] * 1e3:9.1f} ms {times[name] / base_time:7.2f}"
        )


if __name__ == "__main__":
    main()
