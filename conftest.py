"""Repository-wide pytest setup: doctests print NumPy scalars as plain numbers."""

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _plain_numpy_scalars(doctest_namespace):
    np.set_printoptions(legacy="1.25")
    yield
    np.set_printoptions(legacy=False)
