"""Shared timing helpers for the benchmarks: pinned threads, medians, a table."""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402


def median_time(fun: Callable[[], object], repeats: int = 15, min_time: float = 0.05) -> float:
    """Median seconds per call of `fun`, after one warm-up, over `repeats` batches."""
    fun()
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fun()
        if time.perf_counter() - start >= min_time / 5 or number >= 1 << 20:
            break
        number *= 2
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fun()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def optional(name: str):
    """Import a peer library for comparison, or None if it is not installed."""
    try:
        return __import__(name)
    except ImportError:
        return None


def print_table(title: str, rows: list[tuple[str, float, str]], baseline: str) -> None:
    """Print rows of (name, seconds, unit note) with ratios against the `baseline` row."""
    base = dict((r[0], r[1]) for r in rows)[baseline]
    print(f"\n{title}")
    print(f"{'':32} {'median':>12} {'ratio':>8}")
    for name, seconds, note in rows:
        print(f"{name:32} {seconds * 1e6:10.2f}us {seconds / base:8.2f}  {note}")


def interleaved_medians(funs: dict, repeats: int, sync: Callable[[], object] | None = None) -> dict:
    """Median seconds per call of each function, after one warm-up each, timed in turns
    whose order rotates (so drift hits all alike); `sync` ends each timed call (a device
    synchronisation) where given."""
    for fun in funs.values():
        fun()
    if sync is not None:
        sync()
    samples: dict[str, list[float]] = {name: [] for name in funs}
    names = list(funs)
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = time.perf_counter()
            funs[name]()
            if sync is not None:
                sync()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(s) for name, s in samples.items()}
