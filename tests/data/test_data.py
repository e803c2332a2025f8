"""The loader (batches, seeded shuffling), the split, and the datasets."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as onp
import pytest

from wengert.data import DataLoader, load_digits, make_moons, make_spirals, train_test_split

_settings_spec = importlib.util.spec_from_file_location(
    "_wengert_test_settings", Path(__file__).resolve().parents[1] / "_settings.py"
)
_settings = sys.modules.setdefault(
    _settings_spec.name, importlib.util.module_from_spec(_settings_spec)
)
_settings_spec.loader.exec_module(_settings)


def test_batches_cover_every_sample_once_per_epoch():
    x = onp.arange(23.0)
    y = onp.arange(23) * 10
    loader = DataLoader(x, y, batch_size=5, shuffle=True, seed=0)
    assert len(loader) == 5
    for _ in range(3):
        seen_x, seen_y = [], []
        for xb, yb in loader:
            onp.testing.assert_array_equal(yb, xb * 10)  # rows stay aligned
            seen_x.append(xb)
            seen_y.append(yb)
        assert [len(b) for b in seen_x] == [5, 5, 5, 5, 3]
        onp.testing.assert_array_equal(onp.sort(onp.concatenate(seen_x)), x)


def test_shuffling_is_seeded_and_differs_between_epochs():
    x = onp.arange(50)
    a = DataLoader(x, batch_size=50, shuffle=True, seed=3)
    b = DataLoader(x, batch_size=50, shuffle=True, seed=3)
    first_a, second_a = next(iter(a)), next(iter(a))
    first_b, second_b = next(iter(b)), next(iter(b))
    onp.testing.assert_array_equal(first_a, first_b)
    onp.testing.assert_array_equal(second_a, second_b)
    assert not onp.array_equal(first_a, second_a)
    onp.testing.assert_array_equal(next(iter(DataLoader(x, batch_size=50))), x)


def test_drop_last_and_errors():
    loader = DataLoader(onp.arange(10), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [len(b) for b in loader] == [4, 4]
    with pytest.raises(ValueError, match="different lengths"):
        DataLoader(onp.arange(3), onp.arange(4))
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(onp.arange(3), batch_size=0)


def test_stratified_split_keeps_class_proportions():
    y = onp.repeat(onp.arange(3), [40, 20, 40])
    x = onp.arange(100)
    x_train, x_test, _y_train, y_test = train_test_split(
        x, y, test_fraction=0.25, seed=0, stratify=y
    )
    assert len(x_test) == 25 and len(x_train) == 75
    assert onp.bincount(y_test).tolist() == [10, 5, 10]
    onp.testing.assert_array_equal(y[x_test], y_test)
    assert not set(x_train) & set(x_test)
    again = train_test_split(x, y, test_fraction=0.25, seed=0, stratify=y)
    onp.testing.assert_array_equal(again[1], x_test)
    with pytest.raises(ValueError, match="test_fraction"):
        train_test_split(x, test_fraction=1.5)


def test_synthetic_datasets():
    x, y = make_spirals(60, 4, noise=0.0, seed=1)
    assert x.shape == (240, 2) and onp.bincount(y).tolist() == [60] * 4
    radius = onp.hypot(x[:, 0], x[:, 1])
    onp.testing.assert_allclose(radius[:60], onp.linspace(0, 1, 60))
    x, y = make_moons(101, noise=0.0, seed=0, dtype=onp.float32)
    assert x.dtype == onp.float32 and onp.bincount(y).tolist() == [50, 51]
    onp.testing.assert_allclose(onp.hypot(x[y == 0, 0], x[y == 0, 1]), 1.0, rtol=1e-6)


def test_digits():
    pytest.importorskip("sklearn")
    x, y = load_digits()
    assert x.shape == (1797, 64) and y.shape == (1797,)
    assert x.min() == 0.0 and x.max() == 1.0 and y.dtype == onp.int64
    images, _ = load_digits(as_images=True, dtype=onp.float32)
    assert images.shape == (1797, 1, 8, 8) and images.dtype == onp.float32


# --- settings: every one checked, named, with its range -----------------------------------

NAN, INF = float("nan"), float("inf")
X10 = onp.arange(10.0)
COUNT = dict(value_errors=[0, -1], type_errors=[2.5, 2.0, True, "4", None])
FLAG = dict(value_errors=[], type_errors=[1, "yes", None])
SEED = dict(value_errors=[-1], type_errors=[1.5, True, "0"])
NOISE = dict(value_errors=[-0.1, NAN, INF], type_errors=[True, "0.1", None])
DTYPE = dict(value_errors=[onp.int64, complex], type_errors=["nonsense"])

SETTINGS = [
    ("DataLoader", "batch_size", lambda v: DataLoader(X10, batch_size=v), COUNT),
    ("DataLoader", "shuffle", lambda v: DataLoader(X10, shuffle=v), FLAG),
    ("DataLoader", "drop_last", lambda v: DataLoader(X10, drop_last=v), FLAG),
    ("DataLoader", "seed", lambda v: DataLoader(X10, seed=v), SEED),
    (
        "train_test_split",
        "test_fraction",
        lambda v: train_test_split(X10, test_fraction=v),
        dict(value_errors=[0.0, 1.0, -0.5, 1.5, NAN], type_errors=[True, "0.25", None]),
    ),
    ("train_test_split", "seed", lambda v: train_test_split(X10, seed=v), SEED),
    ("make_spirals", "n_per_class", lambda v: make_spirals(v), COUNT),
    ("make_spirals", "n_classes", lambda v: make_spirals(10, v), COUNT),
    ("make_spirals", "noise", lambda v: make_spirals(10, 2, v), NOISE),
    ("make_spirals", "seed", lambda v: make_spirals(10, 2, seed=v), SEED),
    ("make_spirals", "dtype", lambda v: make_spirals(10, 2, dtype=v), DTYPE),
    (
        "make_moons",
        "n_samples",
        lambda v: make_moons(v),
        dict(value_errors=[1, 0, -4], type_errors=[2.5, True, None]),
    ),
    ("make_moons", "noise", lambda v: make_moons(10, v), NOISE),
    ("make_moons", "seed", lambda v: make_moons(10, seed=v), SEED),
    ("load_digits", "as_images", lambda v: load_digits(as_images=v), FLAG),
    ("load_digits", "dtype", lambda v: load_digits(dtype=v), DTYPE),
]
SETTING_CASES = _settings.setting_cases(SETTINGS)


@pytest.mark.parametrize("where, name, make, error, value", SETTING_CASES)
def test_every_setting_is_checked_and_named(where, name, make, error, value):
    _settings.check_refused(where, name, make, error, value)


def test_arrays_are_checked():
    with pytest.raises(ValueError, match="DataLoader needs at least one array"):
        DataLoader()
    with pytest.raises(TypeError, match="argument 1 must be an array with a first"):
        DataLoader(X10, 3.0)
    with pytest.raises(ValueError, match="train_test_split needs at least one array"):
        train_test_split()
    with pytest.raises(ValueError, match="different lengths"):
        train_test_split(X10, onp.arange(3))
    with pytest.raises(ValueError, match="at least 2 samples"):
        train_test_split(onp.arange(1))
    with pytest.raises(ValueError, match=r"stratify needs one label per sample, shape \(10,\)"):
        train_test_split(X10, stratify=onp.arange(3))
    with pytest.raises(ValueError, match="leaves the train part empty"):
        train_test_split(X10, test_fraction=0.9, stratify=onp.arange(10))
    # lists work like arrays, shuffled too
    batches = list(DataLoader(list(range(5)), batch_size=2, shuffle=True, seed=0))
    assert sorted(onp.concatenate(batches).tolist()) == [0, 1, 2, 3, 4]


def test_split_keeps_both_parts_non_empty():
    for fraction in (0.01, 0.99):
        train, test = train_test_split(onp.arange(4), test_fraction=fraction, seed=0)
        assert len(train) >= 1 and len(test) >= 1 and len(train) + len(test) == 4
