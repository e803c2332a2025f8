"""wengert on CuPy arrays (a GPU) against PyTorch's CUDA autograd on the same GPU.

(a) the gradient of the Rosenbrock function on 1e8 float64 values (target: at most 2x
PyTorch); (b) the value and gradient of an MLP loss, 64-256-10 at batch 128 and a wider
1024-4096-10 at batch 4096 (256-1024-10 at batch 1024 on the CPU), float32 (target: at
most 1.5x PyTorch). Every figure is the
median of interleaved repeats after a warm-up, each timed call ending with a device
synchronisation; results are checked against each other first.

``--library numpy`` runs the same script on the CPU (NumPy arrays, PyTorch on the CPU):
a check of the script itself on machines without a GPU, not a figure of the targets.
Run: ``python bench/gpu.py [--library cupy|numpy] [--size N] [--repeats N]``.
"""

from __future__ import annotations

import argparse
import platform
import sys

import _timing  # (first: it pins the BLAS threads before NumPy loads)
import numpy as onp

import wengert as wg
import wengert.numpy as wnp


def rosenbrock(np):
    def f(x):
        return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    return f


def mlp_loss(np, tanh):
    def loss(params, x, y):
        w1, b1, w2, b2 = params
        h = tanh(x @ w1 + b1)
        out = h @ w2 + b2
        return 0.5 * np.mean((out - y) ** 2)

    return loss


def setup(library: str):
    """The array module, a host-to-array function, a synchronisation, and PyTorch's
    device, or a one-line reason why this machine cannot run the comparison."""
    try:
        import torch
    except ImportError:
        return "PyTorch is not installed (pip install torch)"
    if library == "cupy":
        try:
            import cupy

            cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # no CuPy, or no CUDA device
            return f"CuPy with a CUDA device is needed ({type(exc).__name__}: {exc})"
        if not torch.cuda.is_available():
            return "PyTorch was built without CUDA or sees no GPU"

        def sync():
            cupy.cuda.Stream.null.synchronize()
            torch.cuda.synchronize()

        return cupy, cupy.asarray, sync, torch, "cuda"
    return onp, onp.asarray, lambda: None, torch, "cpu"


def table(title: str, times: dict) -> None:
    base = times["PyTorch autograd"]
    print(f"\n{title}")
    print(f"{'':28} {'median':>11} {'ratio':>7}")
    for name, seconds in times.items():
        print(f"{name:28} {seconds * 1e3:9.3f}ms {seconds / base:7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", choices=("cupy", "numpy"), default="cupy")
    parser.add_argument("--size", type=int, default=None, help="Rosenbrock values")
    parser.add_argument("--repeats", type=int, default=15)
    opts = parser.parse_args()
    found = setup(opts.library)
    if isinstance(found, str):
        print(f"bench/gpu.py: {found}; use --library numpy to check the script on the CPU")
        sys.exit(2)
    xp, to_array, sync, torch, device = found
    size = opts.size or (100_000_000 if opts.library == "cupy" else 1_000_000)
    print(
        f"python {platform.python_version()}, {xp.__name__} {xp.__version__}, "
        f"torch {torch.__version__} on {device}"
    )

    # (a) Rosenbrock gradient.
    rng = onp.random.default_rng(0)
    host = rng.uniform(-1.0, 1.0, size)
    x = to_array(host)
    xt = torch.tensor(host, device=device)
    ours = wg.grad(rosenbrock(wnp))
    f_torch = rosenbrock(torch)

    def torch_grad():
        leaf = xt.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(f_torch(leaf), leaf)
        return g

    got = ours(x)
    assert type(got) is type(x), f"the gradient left the array library: {type(got)}"
    want = torch_grad().cpu().numpy()
    onp.testing.assert_allclose(onp.asarray(got.get() if hasattr(got, "get") else got), want)
    times = _timing.interleaved_medians(
        {"PyTorch autograd": torch_grad, f"wengert grad ({xp.__name__})": lambda: ours(x)},
        opts.repeats,
        sync,
    )
    table(f"(a) gradient of Rosenbrock on {size:.0e} float64 values", times)

    # (b) MLP value and gradient, float32.
    wide = (4096, (1024, 4096, 10)) if opts.library == "cupy" else (1024, (256, 1024, 10))
    for batch, sizes in ((128, (64, 256, 10)), wide):
        n_in, n_hidden, n_out = sizes
        shapes = ((n_in, n_hidden), (n_hidden,), (n_hidden, n_out), (n_out,))
        hosts = [(rng.standard_normal(s) * 0.1).astype(onp.float32) for s in shapes]
        xb = rng.standard_normal((batch, n_in)).astype(onp.float32)
        yb = rng.standard_normal((batch, n_out)).astype(onp.float32)
        params, data = tuple(to_array(h) for h in hosts), (to_array(xb), to_array(yb))
        tparams = [torch.tensor(h, device=device) for h in hosts]
        tdata = (torch.tensor(xb, device=device), torch.tensor(yb, device=device))
        ours = wg.value_and_grad(mlp_loss(wnp, wnp.tanh))
        t_loss = mlp_loss(torch, torch.tanh)

        def torch_value_and_grad():
            leaves = [p.detach().requires_grad_(True) for p in tparams]  # noqa: B023
            value = t_loss(leaves, *tdata)  # noqa: B023
            return value, torch.autograd.grad(value, leaves)

        value, grads = ours(params, *data)
        assert all(g.dtype == onp.float32 and type(g) is type(params[0]) for g in grads)
        t_value, t_grads = torch_value_and_grad()
        onp.testing.assert_allclose(float(value), float(t_value.detach()), rtol=1e-4)
        times = _timing.interleaved_medians(
            {
                "PyTorch autograd": torch_value_and_grad,
                f"wengert ({xp.__name__})": lambda: ours(params, *data),  # noqa: B023
            },
            opts.repeats,
            sync,
        )
        table(f"(b) MLP {n_in}-{n_hidden}-{n_out}, batch {batch}, float32", times)
        del t_grads


if __name__ == "__main__":
    main()
