"""Per-operation overhead of reverse mode, and its cost on large arrays.

(a) gradient of a scalar function chaining 100 elementwise operations on a float64
scalar, per operation; (b) the same on a 10-element array; (c) the gradient of the
Rosenbrock function on 1,000,000 float64 values against a hand-written NumPy gradient.
HIPS autograd and PyTorch (CPU) are measured too when installed. Run:
``python bench/overhead.py``.
"""

from __future__ import annotations

import os
import platform
from importlib import metadata

import numpy as onp
from _timing import median_time, optional, print_table

import wengert as wg
import wengert.numpy as wnp

N_OPS = 100


def chain(np):
    """100 elementwise operations written against a NumPy-like namespace `np`."""

    def f(x):
        for _ in range(N_OPS // 4):
            x = np.sin(x)
            x = x * 1.1
            x = x + 0.3
            x = np.tanh(x)
        return np.sum(x)

    return f


def rosenbrock(np):
    def f(x):
        return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    return f


def rosenbrock_grad_numpy(x):
    g = onp.zeros_like(x)
    d = x[1:] - x[:-1] ** 2
    g[:-1] = -400.0 * x[:-1] * d - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * d
    return g


def torch_grad(torch, f, x0):
    """A PyTorch gradient of `f` at `x0` (float64), as a zero-argument callable."""
    xt0 = torch.tensor(x0, dtype=torch.float64)

    def run():
        xt = xt0.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(f(xt), xt)
        return g

    return run


def measure(make_f, x0, ag, torch, per: int, repeats: int = 15):
    """(name, seconds per call / per, note) rows for wengert and the installed peers."""
    note = "per op" if per > 1 else ""
    g_wg = wg.grad(make_f(wnp))
    rows = [("wengert", median_time(lambda: g_wg(x0), repeats) / per, note)]
    if ag:
        import autograd.numpy as anp

        g_ag = ag.grad(make_f(anp))
        rows.append(("HIPS autograd", median_time(lambda: g_ag(x0), repeats) / per, note))
    if torch:
        run = torch_grad(torch, make_f(torch), x0)
        rows.append(("PyTorch (CPU)", median_time(run, repeats) / per, note))
    return rows


def main() -> None:
    ag = optional("autograd")
    torch = optional("torch")
    versions = {
        m: (metadata.version(m) if mod else "absent")
        for m, mod in (("autograd", ag), ("torch", torch))
    }
    print(
        f"python {platform.python_version()}, numpy {onp.__version__}, "
        f"autograd {versions['autograd']}, torch {versions['torch']}, cores {os.cpu_count()}"
    )
    if torch:
        torch.set_num_threads(1)
    for label, x0 in (("(a) scalar", 0.5), ("(b) 10-vector", onp.linspace(0.1, 1.0, 10))):
        rows = measure(chain, x0, ag, torch, N_OPS)
        print_table(
            f"{label}: gradient of a chain of {N_OPS} operations, time per operation",
            rows,
            "HIPS autograd" if ag else "wengert",
        )

    x = onp.random.default_rng(0).uniform(-1, 1, 1_000_000)
    assert onp.allclose(wg.grad(rosenbrock(wnp))(x), rosenbrock_grad_numpy(x))
    f_np = rosenbrock(onp)
    rows = [
        ("hand-written NumPy gradient", median_time(lambda: rosenbrock_grad_numpy(x), 7), ""),
        (
            "hand-written value + gradient",
            median_time(lambda: (f_np(x), rosenbrock_grad_numpy(x)), 7),
            "",
        ),
    ]
    rows += measure(rosenbrock, x, ag, torch, 1, repeats=7)
    print_table(
        "(c) gradient of Rosenbrock on 1e6 float64 values", rows, "hand-written NumPy gradient"
    )


if __name__ == "__main__":
    main()
