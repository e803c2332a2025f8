"""The rows of the per-module derivative tables (``CASES``) of tests/numpy and tests/scipy,
collected for the tests that check one property of every primitive (dtypes, vmap).

Test modules load this file by path (the tests are not a package).
"""

from __future__ import annotations

import importlib.util
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as onp
import pytest

HERE = Path(__file__).resolve().parent
TABLE_DIRS = ("numpy", "scipy")


@dataclass(frozen=True)
class Case:
    id: str
    name: str
    fun: object
    gens: tuple
    order: int
    module: object
    seed: int


def load_tables(prefix: str) -> tuple[list[Case], list[str]]:
    """Every row of every ``CASES`` table in the primitive test modules (their modules
    loaded under `prefix`), and the table modules skipped for a missing dependency."""
    cases, skipped = [], []
    for sub in TABLE_DIRS:
        for path in sorted((HERE / sub).glob("test_*.py")):
            spec = importlib.util.spec_from_file_location(f"{prefix}.{sub}.{path.stem}", path)
            module = importlib.util.module_from_spec(spec)
            try:
                spec.loader.exec_module(module)
            except pytest.skip.Exception:  # an optional dependency is missing
                skipped.append(f"{sub}/{path.stem}")
                continue
            for i, row in enumerate(getattr(module, "CASES", ())):
                name, fun, gens = row[:3]
                order = row[3] if len(row) > 3 else 2
                key = f"{sub}/{path.stem}:{name}-{i}"
                cases.append(
                    Case(key, name, fun, tuple(gens), order, module, zlib.crc32(key.encode()))
                )
    return cases, skipped


def generate(case: Case, offset: int = 0) -> list:
    """The case's arguments, the same on every call for one `offset` (the table's
    generators reseeded; another offset gives another draw from the same domain)."""
    for attr, value in vars(case.module).items():
        if isinstance(value, onp.random.Generator):
            setattr(case.module, attr, onp.random.default_rng(case.seed + offset))
    return [g() for g in case.gens]


def is_inexact(x) -> bool:
    """Whether a leaf is a floating or complex number or array (a differentiated input)."""
    if type(x) in (float, complex):
        return True
    dtype = getattr(x, "dtype", None)
    return dtype is not None and dtype.kind in "fc"


def restricted(case: Case, leaves: list, treedef, diff: list[int]):
    """The row's function of its floating-point leaves (at positions `diff` of `leaves`),
    the other leaves (indices, flags) fixed."""
    from wengert._core.tree import tree_unflatten

    def fun(*d):
        full = list(leaves)
        for i, v in zip(diff, d):
            full[i] = v
        return case.fun(*tree_unflatten(treedef, full))

    return fun


def weighted_gradient(fun, draw: list, seed: int, place=None):
    """The gradient of a fixed random weighting of `fun`'s floating-point outputs (the
    real part), with respect to every argument: a scalar function that runs every reverse
    rule of the row. `place` puts the weights where the row's arrays are (another array
    library's device); they are NumPy arrays without it."""
    import wengert as wg
    import wengert.numpy as wnp
    from wengert._core.tree import tree_flatten

    rng = onp.random.default_rng(seed)
    weights = [rng.standard_normal(onp.shape(o)) for o in tree_flatten(fun(*draw))[0]]
    if place is not None:
        weights = [place(w) for w in weights]

    def scalar(*d):
        return sum(
            wnp.sum(wnp.real(o * w))
            for o, w in zip(tree_flatten(fun(*d))[0], weights)
            if is_inexact(o)
        )

    return wg.grad(scalar, argnums=tuple(range(len(draw))))


def enlarged(case: Case, offset: int, dtype, members: int = 16, repeats: int = 125) -> tuple:
    """The row's arguments with a leading axis of `members` draws repeated `repeats` times
    on every floating-point leaf, in `dtype` (the other leaves, such as masks, as drawn):
    2000 values along the new axis by default, enough for every group to fuse."""
    from wengert._core.tree import tree_flatten, tree_unflatten

    draws = [tree_flatten(tuple(generate(case, offset + k)))[0] for k in range(members)]
    leaves, tree = tree_flatten(tuple(generate(case, offset)))
    rank = max((onp.ndim(x) for x in leaves if is_inexact(x)), default=0)
    out = []
    for i, leaf in enumerate(leaves):
        if not is_inexact(leaf):
            out.append(leaf)
            continue
        stacked = onp.stack([onp.asarray(d[i]) for d in draws])
        shape = (members,) + (1,) * (rank - onp.ndim(leaf)) + onp.shape(leaf)
        out.append(onp.tile(stacked.reshape(shape), (repeats,) + (1,) * rank).astype(dtype))
    return tree_unflatten(tree, out)


def elementwise_row(case: Case) -> bool:
    """Whether the row maps its inputs elementwise (its value has their broadcast shape)."""
    from wengert._core.tree import tree_flatten

    leaves = tree_flatten(tuple(generate(case)))[0]
    shapes = [onp.shape(x) for x in leaves if is_inexact(x)]
    try:
        return onp.shape(case.fun(*generate(case))) == onp.broadcast_shapes(*shapes)
    except ValueError:
        return False
