"""Batches of arrays, shuffled by a seeded generator, and a train/test split."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..nn import _checks

__all__ = ["DataLoader", "train_test_split"]


def _lengths(arrays: tuple, where: str) -> int:
    """The common length (first axis) of `arrays`."""
    if not arrays:
        raise ValueError(f"{where} needs at least one array.")
    lengths = set()
    for i, a in enumerate(arrays):
        if np.ndim(a) == 0 or not hasattr(a, "__getitem__"):
            raise TypeError(
                f"{where}: argument {i} must be an array with a first (sample) axis, got "
                f"{type(a).__name__}" + (" of no axes." if np.ndim(a) == 0 else ".")
            )
        lengths.add(len(a))
    if len(lengths) != 1:
        raise ValueError(f"{where}: the arrays have different lengths {sorted(lengths)}.")
    return lengths.pop()


class DataLoader:
    """Mini-batches of one or more arrays that share their first axis.

    Each pass shuffles (if `shuffle`) with a generator seeded once, so a fixed `seed`
    gives the same sequence of epochs on every run. Iterating yields one array per
    batch if one array was given, else a tuple.

    >>> import numpy as np
    >>> from wengert.data import DataLoader
    >>> x, y = np.arange(10.0), np.arange(10)
    >>> [len(xb) for xb, yb in DataLoader(x, y, batch_size=4)]
    [4, 4, 2]
    >>> len(DataLoader(x, batch_size=4, drop_last=True))
    2
    """

    def __init__(
        self,
        *arrays: Any,
        batch_size: int = 32,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        where = "DataLoader"
        self.num_samples = _lengths(arrays, where)
        self.batch_size = _checks.integer(batch_size, "batch_size", where, low=1)
        self.shuffle = _checks.boolean(shuffle, "shuffle", where)
        self.drop_last = _checks.boolean(drop_last, "drop_last", where)
        self.rng = _checks.seed(seed, "seed", where)
        self.arrays = tuple(a if hasattr(a, "shape") else np.asarray(a) for a in arrays)

    def __len__(self) -> int:
        n, b = self.num_samples, self.batch_size
        return n // b if self.drop_last else math.ceil(n / b)

    def __iter__(self) -> Iterator[Any]:
        n, b = self.num_samples, self.batch_size
        order = self.rng.permutation(n) if self.shuffle else None
        stop = n - n % b if self.drop_last else n
        for start in range(0, stop, b):
            if order is None:
                index: Any = slice(start, min(start + b, n))
            else:
                index = order[start : start + b]
            batch = tuple(a[index] for a in self.arrays)
            yield batch[0] if len(batch) == 1 else batch


def train_test_split(
    *arrays: Any,
    test_fraction: float = 0.25,
    seed: int | np.random.Generator | None = None,
    stratify: Any = None,
) -> list[Any]:
    """Split arrays into a random train part and test part: returns ``[a_train, a_test,
    b_train, b_test, ...]``. With `stratify` (labels), each class is split in the same
    proportion.

    >>> import numpy as np
    >>> from wengert.data import train_test_split
    >>> x_train, x_test = train_test_split(np.arange(10), test_fraction=0.3, seed=0)
    >>> len(x_train), len(x_test)
    (7, 3)
    """
    where = "train_test_split"
    n = _lengths(arrays, where)
    test_fraction = _checks.real(
        test_fraction, "test_fraction", where, 0.0, 1.0, low_open=True, high_open=True
    )
    rng = _checks.seed(seed, "seed", where)
    if n < 2:
        raise ValueError(f"{where}: needs at least 2 samples to split, got {n}.")
    arrays = tuple(a if hasattr(a, "shape") else np.asarray(a) for a in arrays)
    if stratify is None:
        order = rng.permutation(n)
        n_test = min(max(1, round(n * test_fraction)), n - 1)  # neither part empty
        test, train = order[:n_test], order[n_test:]
    else:
        labels = np.asarray(stratify)
        if labels.shape != (n,):
            raise ValueError(
                f"{where}: stratify needs one label per sample, shape ({n},), got {labels.shape}."
            )
        test_parts, train_parts = [], []
        for label in np.unique(labels):
            members = rng.permutation(np.flatnonzero(labels == label))
            k = round(len(members) * test_fraction)
            test_parts.append(members[:k])
            train_parts.append(members[k:])
        test = rng.permutation(np.concatenate(test_parts))
        train = rng.permutation(np.concatenate(train_parts))
        if not (len(test) and len(train)):
            raise ValueError(
                f"{where}: test_fraction={test_fraction} leaves the "
                f"{'test' if not len(test) else 'train'} part empty with classes this "
                "small; change test_fraction, or split without stratify."
            )
    out = []
    for a in arrays:
        out += [a[train], a[test]]
    return out
