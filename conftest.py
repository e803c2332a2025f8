"""Repository-wide pytest setup: doctests print NumPy scalars as plain numbers."""

import importlib.util

import numpy as np
import pytest

# wengert.scipy needs the optional SciPy: without it, its doctests are not collected.
collect_ignore_glob = [] if importlib.util.find_spec("scipy") else ["src/wengert/scipy/*"]


@pytest.fixture(autouse=True)
def _plain_numpy_scalars(doctest_namespace):
    np.set_printoptions(legacy="1.25")
    yield
    np.set_printoptions(legacy=False)
