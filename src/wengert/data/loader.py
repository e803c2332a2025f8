"""Batches of arrays, shuffled by a seeded generator, and a train/test split."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["DataLoader", "train_test_split"]


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


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
        if not arrays:
            raise ValueError("DataLoader needs at least one array.")
        lengths = {len(a) for a in arrays}
        if len(lengths) != 1:
            raise ValueError(f"DataLoader: the arrays have different lengths {sorted(lengths)}.")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be at least 1, got {batch_size}.")
        self.arrays = arrays
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.rng = _rng(seed)
        self.num_samples = lengths.pop()

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
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}.")
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError("train_test_split: the arrays have different lengths.")
    rng = _rng(seed)
    if stratify is None:
        order = rng.permutation(n)
        n_test = max(1, round(n * test_fraction))
        test, train = order[:n_test], order[n_test:]
    else:
        labels = np.asarray(stratify)
        test_parts, train_parts = [], []
        for label in np.unique(labels):
            members = rng.permutation(np.flatnonzero(labels == label))
            k = round(len(members) * test_fraction)
            test_parts.append(members[:k])
            train_parts.append(members[k:])
        test = rng.permutation(np.concatenate(test_parts))
        train = rng.permutation(np.concatenate(train_parts))
    out = []
    for a in arrays:
        out += [a[train], a[test]]
    return out
