"""Gradient of a logistic loss over a Dask array: wengert against a hand-written Dask one.

The design matrix X (default 2,000,000 x 20 float64, 320 MB, in chunks of 200,000 rows)
is generated and persisted in memory first, so each timed call builds the gradient's
task graph and computes it; with ``--lazy`` it is never held whole: every computation
draws X chunk by chunk again (both gradients alike), the setting for data larger than
memory (``--rows 20000000 --chunk 1000000 --lazy --cluster``: 3.2 GB). wengert's ``grad``
of the loss is compared with the hand-written gradient ``X.T @ (sigmoid(X @ w) - y) / n``
in Dask, computed by the local threaded scheduler or, with ``--cluster``, by a
LocalCluster of two worker processes (the workers' peak memory is then reported). Medians
of interleaved repeats after a warm-up; ratios against the hand-written gradient.
Run: ``python bench/backends.py [--rows N] [--chunk N] [--repeats N] [--lazy] [--cluster]``.
"""

from __future__ import annotations

import argparse
import os
import platform

import _timing  # (first: it pins the BLAS threads before NumPy loads)
import numpy as onp

import wengert as wg
import wengert.numpy as wnp

FEATURES = 20


def make_data(da, rows: int, chunk: int, persist):
    """X (rows x 20, standard normal) and labels y as Dask arrays, persisted unless
    `persist` is None (then drawn again, chunk by chunk, by every computation)."""
    rng = da.random.default_rng(0)
    x = rng.normal(size=(rows, FEATURES), chunks=(chunk, FEATURES))
    y = (x @ onp.linspace(-1.0, 1.0, FEATURES) > 0).astype(float)
    return (x, y) if persist is None else persist(x, y)


def wengert_gradient(x, y):
    def loss(w):
        z = x @ w
        return wnp.mean(wnp.logaddexp(0.0, z) - y * z)

    return wg.grad(loss)


def hand_gradient(x, y):
    n = x.shape[0]

    def gradient(w):
        z = x @ w
        return x.T @ (1.0 / (1.0 + onp.exp(-z)) - y) / n

    return gradient


def peak_memory(client) -> dict:
    """Peak resident memory (bytes) of each worker process, from the workers themselves;
    the scheduler's current memory figure where the platform has no peak."""

    def peak() -> int | None:
        try:
            import resource
        except ImportError:
            return None
        scale = 1 if platform.system() == "Darwin" else 1024  # ru_maxrss: bytes or KiB
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale

    peaks = client.run(peak)
    info = client.scheduler_info()["workers"]
    return {
        addr: value if value is not None else info[addr]["metrics"]["memory"]
        for addr, value in peaks.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--chunk", type=int, default=200_000, help="rows per chunk")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--cluster", action="store_true", help="LocalCluster, 2 processes")
    parser.add_argument(
        "--lazy", action="store_true", help="never persist X: draw it again in every run"
    )
    opts = parser.parse_args()

    import dask
    import dask.array as da

    chunk = min(opts.chunk, opts.rows)
    print(
        f"python {platform.python_version()}, numpy {onp.__version__}, dask "
        f"{dask.__version__}, nproc {os.cpu_count()}"
    )
    print(
        f"X: {opts.rows} x {FEATURES} float64 ({opts.rows * FEATURES * 8 / 1e6:.0f} MB) "
        f"in chunks of {chunk} rows, {'drawn in every run' if opts.lazy else 'persisted'}"
    )

    client = cluster = None
    if opts.cluster:
        import distributed

        cluster = distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        )
        client = distributed.Client(cluster)

        def persist(*collections):
            return client.persist(list(collections))

        scheduler = "LocalCluster, 2 worker processes x 1 thread"
    else:
        persist = dask.persist
        scheduler = "local threaded scheduler"
    try:
        x, y = make_data(da, opts.rows, chunk, None if opts.lazy else persist)
        if client is not None and not opts.lazy:
            distributed.wait([x, y])
        w = onp.linspace(-0.1, 0.1, FEATURES)
        ours, hand = wengert_gradient(x, y), hand_gradient(x, y)
        onp.testing.assert_allclose(ours(w).compute(), hand(w).compute(), rtol=1e-10)
        times = _timing.interleaved_medians(
            {
                "hand-written dask gradient": lambda: hand(w).compute(),
                "wengert grad (dask)": lambda: ours(w).compute(),
                "wengert grad: graph only": lambda: ours(w),
            },
            opts.repeats,
        )
        base = times["hand-written dask gradient"]
        print(f"\ngradient of the logistic loss, {scheduler}, {opts.repeats} repeats")
        print(f"{'':32} {'median':>10} {'ratio':>8}")
        for name, seconds in times.items():
            print(f"{name:32} {seconds * 1e3:8.1f}ms {seconds / base:8.2f}")
        if client is not None:
            for addr, peak in sorted(peak_memory(client).items()):
                print(f"worker {addr}: peak memory {peak / 2**20:.0f} MiB")
    finally:
        if client is not None:
            client.close()
            cluster.close()


if __name__ == "__main__":
    main()
