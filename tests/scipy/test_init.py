"""wengert.scipy without SciPy: the import fails with the way to install it."""

from __future__ import annotations

import importlib
import sys

import pytest


def test_import_without_scipy_says_how_to_install(monkeypatch):
    for name in list(sys.modules):
        if name.split(".")[0] == "scipy" or name.startswith("wengert.scipy"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "scipy", None)  # makes `import scipy` fail
    with pytest.raises(ImportError, match=r'pip install "wengert\[scipy\]"'):
        importlib.import_module("wengert.scipy")


def test_import_with_scipy_gives_the_four_modules():
    pytest.importorskip("scipy")
    import wengert.scipy as wsp

    assert {"special", "stats", "linalg", "signal"} <= set(vars(wsp))
