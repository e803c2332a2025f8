"""The sweep of tests/test_device_arrays.py on CuPy itself, where a CUDA device is present:
every primitive's value, gradient, tangent and Hessian-vector product on ``cupy.ndarray``
inputs are ``cupy.ndarray`` and equal NumPy's to 1e-10 (float64). The rows, the refused
rows and the checks are that module's; only the array library differs.

Skipped without CuPy or without a CUDA device.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

cupy = pytest.importorskip("cupy", reason="CuPy is not installed (pip install cupy-cuda12x)")


def _devices() -> int:
    try:
        return cupy.cuda.runtime.getDeviceCount()
    except Exception:  # no driver, no device: CuPy raises its own CUDARuntimeError
        return 0


if not _devices():
    pytest.skip("CuPy is installed but no CUDA device is present", allow_module_level=True)

_spec = importlib.util.spec_from_file_location(
    "_wengert_test_device_sweep", Path(__file__).resolve().parent / "test_device_arrays.py"
)
sweep = sys.modules.setdefault(_spec.name, importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(sweep)

CUPY = sweep.Backend("cupy.ndarray", cupy.asarray, cupy.asnumpy, cupy.ndarray)

# SciPy's special functions are NumPy ufuncs, which CuPy's __array_ufunc__ looks up by name
# in the cupy namespace (cupy.gamma does not exist: they are in cupyx.scipy.special), so
# wengert.scipy.special and the distributions built on it do not reach CuPy.
NO_CUPY_ROUTE = {
    "scipy/test_special": "SciPy's ufuncs reach CuPy only by name; cupyx.scipy.special has them",
    "scipy/test_stats": "the distributions use SciPy's special ufuncs (see scipy/test_special)",
}


@pytest.mark.parametrize("case", sweep.CASES, ids=[c.id for c in sweep.CASES])
def test_every_primitive_on_cupy(case):
    table = case.id.split(":")[0]
    if table in NO_CUPY_ROUTE:
        pytest.skip(NO_CUPY_ROUTE[table])
    sweep.check(case, CUPY)
