"""Every primitive on Dask arrays chunked along their first axis: the derivatives are built
lazily and equal NumPy's, or wengert refuses clearly.

The cases are the rows of the derivative tables of tests/numpy and tests/scipy (see
tests/_tables.py). A row's floating-point array inputs become Dask arrays in two chunks
along their first axis (one where it has length 1) and one chunk along every other axis:
the data-parallel layout users have. Every row then ends in exactly one of:

- the gradient of a fixed weighting of its outputs (every reverse rule) and a ``jvp`` along
  a random tangent (every forward rule) are Dask arrays where NumPy gives arrays (a 0-d
  result may be a number), equal NumPy's to 1e-9 once computed, and nothing was computed
  while they were built;
- the row is in READS_VALUES (a rule that must read a few of its input's values): it
  computes while building, and is still equal to NumPy's;
- the row is in REFUSED (what Dask cannot do, or wengert cannot do lazily): it raises a
  TypeError, ValueError or NotImplementedError that names wengert and Dask;
- the row is in OWN_VALUES (Dask's algorithm gives other, equally valid values than
  NumPy's, such as other signs of QR's and SVD's factors): its derivatives are built
  lazily and equal central differences of the same function on Dask arrays.

The lists are exact: a listed row that starts to work fails, so they stay true. Rows in
KNOWN_FAILING end in neither way today; each is an expected failure (strict) with its
reason, to be fixed and moved to a list above.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import warnings
from pathlib import Path

import numpy as onp
import pytest

da = pytest.importorskip("dask.array")
pytest.importorskip("dask")

import dask  # noqa: E402
import dask.callbacks  # noqa: E402

import wengert as wg  # noqa: E402
from wengert._core.tree import tree_flatten  # noqa: E402


def _load(name: str, file: str):
    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parent / file)
    module = sys.modules.setdefault(spec.name, importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)
    return module


_tables = _load("_wengert_test_tables", "_tables.py")

CASES, _ = _tables.load_tables("_dask_tables")
TOL = dict(rtol=1e-9, atol=1e-9, equal_nan=True)

# --- the lists: one reason per function, and its rows (by their number in the tables) -----

# Refused: what Dask cannot do (its own limits) or wengert cannot do lazily.
_DATA_SHAPE = "the result's shape depends on the values (trim_zeros, roots' leading zeros)"
_FFT = "Dask's FFT needs the transformed axis in one chunk, and the first axis has two"
_ONE_MATRIX = "Dask's linear algebra takes one 2-d matrix, not a stack of them"
_TSQR = "Dask's QR and SVD (tsqr) need one chunk along the matrix's short axis"
_SORT = "Dask has no sort or partition (its fallback would compute the array)"
_ORDER = "quantile weights need a sort along the axes, and Dask's median takes one axis"
_CONVOLVE = "Dask has no convolve (its fallback would compute the array)"
_EIG = "Dask has no eigendecomposition (its fallback would compute the array)"
_DET = "Dask has no det or slogdet (its fallback would compute the array)"
_LAPACK = "SciPy computes it with LAPACK on NumPy arrays; NumPy's protocols have no route"
_ODE = "SciPy's LSODA steps on the host, calling func with NumPy arrays"
_POISSON = "each rate's series length is read from its value"
_KEYWORD = "Dask's reductions lack NumPy's initial= and where= keywords"
_RESHAPE = "Dask's reshape cannot merge axes split across chunks this way"
_LSTSQ = "Dask's lstsq has no rcond= and needs b chunked as a"

# Reads values while building (still lazy results, equal to NumPy's).
_BRANCH = (
    "a rule reads a condition (any_value/all_value with no path right for every value, or "
    "a check of the input such as finiteness) to choose its formula"
)
_RANK = "lstsq returns the rank as an integer, and the residuals' shape depends on it"
_VALIDATE = "cov checks that fweights are non-negative integers"
_DTYPE = "real_if_close's result type depends on the values"

# Other values than NumPy's, derivatives checked against differences on Dask.
_SIGNS = "Dask's tsqr picks other signs for Q's columns and singular vectors than LAPACK"

# Known failures: neither lazy and right nor a clear refusal, each with its reason (none
# today). Each fails (xfail, strict), so fixing one means moving it to a list above.

REFUSED: dict[str, tuple[str, tuple[int, ...]]] = {
    "numpy/test_manipulation:trim_zeros": (_DATA_SHAPE, (153, 154, 155)),
    "numpy/test_polynomials:roots": (_DATA_SHAPE, (8, 9)),
    "numpy/test_fft:fft": (
        _FFT,
        (
            0,
            1,
            9,
            10,
            18,
            19,
            27,
            28,
            38,
            46,
            47,
            55,
            56,
            64,
            65,
            73,
            74,
            84,
            92,
            93,
            101,
            102,
            110,
            111,
            119,
            120,
            130,
            138,
            139,
            147,
            148,
            156,
            157,
            165,
            166,
            176,
        ),
    ),
    "numpy/test_fft:ifft": (
        _FFT,
        (2, 11, 20, 29, 39, 48, 57, 66, 75, 85, 94, 103, 112, 121, 131, 140, 149, 158, 167, 177),
    ),
    "numpy/test_fft:irfft": (
        _FFT,
        (
            5,
            6,
            7,
            14,
            15,
            16,
            23,
            24,
            25,
            32,
            33,
            34,
            42,
            45,
            51,
            52,
            53,
            60,
            61,
            62,
            69,
            70,
            71,
            78,
            79,
            80,
            88,
            91,
            97,
            98,
            99,
            106,
            107,
            108,
            115,
            116,
            117,
            124,
            125,
            126,
            134,
            137,
            143,
            144,
            145,
            152,
            153,
            154,
            161,
            162,
            163,
            170,
            171,
            172,
            180,
            183,
        ),
    ),
    "numpy/test_fft:rfft": (
        _FFT,
        (
            4,
            8,
            13,
            17,
            22,
            26,
            31,
            35,
            40,
            41,
            44,
            50,
            54,
            59,
            63,
            68,
            72,
            77,
            81,
            86,
            87,
            90,
            96,
            100,
            105,
            109,
            114,
            118,
            123,
            127,
            132,
            133,
            136,
            142,
            146,
            151,
            155,
            160,
            164,
            169,
            173,
            178,
            179,
            182,
        ),
    ),
    "numpy/test_linalg:cholesky": (_ONE_MATRIX, (38, 41)),
    "numpy/test_linalg:cofactor": (_DET, (30, 31, 32)),
    "numpy/test_linalg:det": (_DET, (22, 23, 24, 25, 26, 27, 28, 29)),
    "numpy/test_linalg:eig": (_EIG, (58, 59, 60, 61, 62)),
    "numpy/test_linalg:eigh": (_EIG, (51, 52, 53, 54)),
    "numpy/test_linalg:eigvals": (_EIG, (63, 64, 65)),
    "numpy/test_linalg:eigvalsh": (_EIG, (55, 56, 57)),
    "numpy/test_linalg:inv": (_ONE_MATRIX, (1, 3, 130)),
    "numpy/test_linalg:lstsq": (_LSTSQ, (16,)),
    "numpy/test_linalg:pinv": (_ONE_MATRIX, (11,)),
    "numpy/test_linalg:qr": (_TSQR, (46,)),
    "numpy/test_linalg:slogdet": (_DET, (33, 34, 35, 36)),
    "numpy/test_linalg:solve": (_ONE_MATRIX, (5, 6, 7)),
    "numpy/test_linalg:svd": (_ONE_MATRIX, (67, 70)),
    "numpy/test_linalg:svdvals": (_ONE_MATRIX, (74, 107, 113, 115, 123, 125)),
    "numpy/test_manipulation:pad": (_ORDER, (64,)),
    "numpy/test_manipulation:partition": (_SORT, (30, 31, 32, 33, 34, 35)),
    "numpy/test_manipulation:sort": (_SORT, (25, 26, 27, 28, 29)),
    "numpy/test_manipulation:sort_complex": (_SORT, (156,)),
    "numpy/test_polynomials:poly": (f"{_CONVOLVE}; {_EIG}", (10, 11)),
    "numpy/test_polynomials:polyfit": (_KEYWORD, (3, 4, 5, 6, 7)),
    "numpy/test_primitives:max": (_KEYWORD, (276, 277)),
    "numpy/test_primitives:mean": (_KEYWORD, (275,)),
    "numpy/test_primitives:min": (_KEYWORD, (278, 279)),
    "numpy/test_primitives:nanmax": (_KEYWORD, (280, 281)),
    "numpy/test_primitives:nanmin": (_KEYWORD, (282, 283)),
    "numpy/test_primitives:prod": (_KEYWORD, (274,)),
    "numpy/test_primitives:reshape": (_RESHAPE, (286,)),
    "numpy/test_primitives:sum": (_KEYWORD, (273,)),
    "numpy/test_signal:convolve": (
        _CONVOLVE,
        (0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 31, 33),
    ),
    "numpy/test_signal:correlate": (
        _CONVOLVE,
        (1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 32),
    ),
    "numpy/test_signal:polymul": (_CONVOLVE, (34,)),
    "numpy/test_statistics:quantile": (
        _ORDER,
        (*range(0, 37),),
    ),
    "scipy/test_integrate:odeint": (_ODE, (0, 1, 2, 3)),
    "scipy/test_linalg:det": (_DET, (51, 52)),
    "scipy/test_linalg:expm": (_LAPACK, (53, 54, 55)),
    "scipy/test_linalg:inv": (_ONE_MATRIX, (50,)),
    "scipy/test_linalg:lu_factor": (_LAPACK, (42, 43, 44, 45, 46, 47)),
    "scipy/test_linalg:solve_sylvester": (_LAPACK, (58,)),
    "scipy/test_linalg:sqrtm": (_LAPACK, (56, 57)),
    "scipy/test_stats:poisson.entropy": (_POISSON, (203, 204)),
    "scipy/test_stats:poisson_entropy": (_POISSON, (223,)),
}

READS_VALUES: dict[str, tuple[str, tuple[int, ...]]] = {
    "numpy/test_converting:asarray_chkfinite": (_BRANCH, (8, 9)),
    "numpy/test_linalg:lstsq": (_RANK, (14, 15, 17)),
    "numpy/test_manipulation:cumprod": (_BRANCH, (1, 3, 5, 7, 10, 11, 12, 13, 14, 15, 16)),
    "numpy/test_manipulation:cumulative_prod": (_BRANCH, (18,)),
    "numpy/test_manipulation:geomspace": (_BRANCH, (150, 151, 152)),
    "numpy/test_polynomials:polydiv": (_BRANCH, (0, 1, 2)),
    "numpy/test_signal:real_if_close": (_DTYPE, (77, 78)),
    "numpy/test_signal:vander": (_BRANCH, (68, 69)),
    "numpy/test_statistics:cov": (f"{_BRANCH}; {_VALIDATE}", (81, 83)),
    "numpy/test_statistics:nancumprod": (_BRANCH, (76,)),
}

OWN_VALUES: dict[str, tuple[str, tuple[int, ...]]] = {
    "numpy/test_linalg:qr": (_SIGNS, (43, 44, 47, 49, 50)),
    "numpy/test_linalg:svd": (_SIGNS, (66, 68, 69)),
}

KNOWN_FAILING: dict[str, tuple[str, tuple[int, ...]]] = {}


def _rows(table: dict) -> dict[str, str]:
    return {f"{fn}-{i}": reason for fn, (reason, rows) in table.items() for i in rows}


_REFUSED_ROWS = _rows(REFUSED)
_READING_ROWS = _rows(READS_VALUES)
_OWN_ROWS = _rows(OWN_VALUES)
_FAILING_ROWS = _rows(KNOWN_FAILING)

# --- running a row -------------------------------------------------------------------------


def _chunked(x):
    """`x` as a Dask array in two chunks along its first axis, one along the others."""
    first = (x.shape[0] + 1) // 2 if x.shape[0] >= 2 else max(x.shape[0], 1)
    return da.from_array(x, chunks=(first, *(max(n, 1) for n in x.shape[1:])))


def _lazy_inputs(primals: list) -> list:
    lazy = [
        _chunked(p) if type(p) is onp.ndarray and p.ndim >= 1 and p.size > 0 else p for p in primals
    ]
    if not any(isinstance(p, da.Array) for p in lazy):  # numbers, 0-d: as 0-d Dask arrays
        lazy = [da.from_array(onp.asarray(p)) for p in primals]
    return lazy


def _tangents(case, primals: list) -> list:
    rng = onp.random.default_rng(case.seed + 1)
    out = []
    for p in primals:
        dtype, shape = onp.result_type(p), onp.shape(p)
        value = rng.standard_normal(shape)
        if dtype.kind == "c":
            value = value + 1j * rng.standard_normal(shape)
        out.append(type(p)(value) if type(p) in (float, complex) else value.astype(dtype))
    return out


def _row(case, lazy: bool) -> tuple:
    """The row's function of its floating-point inputs, those inputs and a tangent for
    each, on NumPy or (`lazy`) as Dask arrays."""
    leaves, treedef = tree_flatten(tuple(_tables.generate(case)))
    diff = [i for i, x in enumerate(leaves) if _tables.is_inexact(x)]
    f = _tables.restricted(case, leaves, treedef, diff)
    primals = [leaves[i] for i in diff]
    tangents = _tangents(case, primals)
    if lazy:
        primals = _lazy_inputs(primals)
        tangents = [  # (in their primal's chunks)
            da.from_array(onp.asarray(t), chunks=p.chunks) if isinstance(p, da.Array) else t
            for p, t in zip(primals, tangents)
        ]
    return f, primals, tangents


def _run(case, lazy: bool) -> tuple[list, list]:
    """The row's weighted gradient and its jvp's value and tangent (flattened), on NumPy
    or (`lazy`) with its floating-point inputs as Dask arrays."""
    f, primals, tangents = _row(case, lazy)
    gradient = _tables.weighted_gradient(f, _row(case, False)[1], case.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, tangent = wg.jvp(f, primals, tangents)
        grads = gradient(*primals)
    return list(grads), tree_flatten(value)[0] + tree_flatten(tangent)[0]


def _differences(case) -> tuple[list, list]:
    """What an OWN_VALUES row's derivatives must equal, from central differences of its
    function on Dask arrays along the row's tangent: the change of each output (the jvp's
    tangents, after the outputs themselves), and that of the weighted sum of the outputs
    (for the gradient, as the sum of real(gradient * tangent) over the inputs)."""
    f, primals, tangents = _row(case, lazy=True)
    rng = onp.random.default_rng(case.seed)
    outputs = tree_flatten(f(*primals))[0]
    weights = [rng.standard_normal(onp.shape(o)) for o in outputs]
    h = 1e-6

    def shifted(sign):
        moved = [p + sign * h * t for p, t in zip(primals, tangents)]
        return [onp.asarray(o) for o in dask.compute(*tree_flatten(f(*moved))[0])]

    ahead, behind = shifted(1), shifted(-1)
    changes = [(a - b) / (2 * h) for a, b in zip(ahead, behind)]
    weighted = sum(
        onp.sum(onp.real(c * w))
        for c, w, o in zip(changes, weights, outputs)
        if _tables.is_inexact(o)
    )
    values = [onp.asarray(o) for o in dask.compute(*outputs)]
    return values + changes, weighted, tangents


class _Reads(dask.callbacks.Callback):
    """Counts the reads of Dask arrays' values while active: np.asarray, bool, float and
    the like, and any graph run (``.compute()``, Dask's own fallback to NumPy for the
    functions it lacks, which computes its arguments)."""

    NAMES = ("__array__", "__bool__", "__float__", "__int__", "__index__", "__complex__")

    def __init__(self, monkeypatch):
        super().__init__()
        self.count = 0
        for name in self.NAMES:
            monkeypatch.setattr(da.Array, name, self._counting(getattr(da.Array, name)))

    def _start(self, dsk):
        self.count += 1

    def _counting(self, original):
        def counted(array, *args, **kwargs):
            self.count += 1
            return original(array, *args, **kwargs)

        return counted


def _is_array(x) -> bool:
    return isinstance(x, (onp.ndarray, onp.generic)) and x.dtype.kind in "biufc"


def _problems(expected: list, got: list) -> list[str]:
    found = []
    if len(expected) != len(got):
        return [f"{len(got)} results, NumPy {len(expected)}"]
    try:
        computed = dask.compute(*got, scheduler="sync", optimize_graph=False)
    except Exception as error:  # (reported as the row's failure)
        return [f"computing the results raised {type(error).__name__}: {error}"]
    for i, (e, g, c) in enumerate(zip(expected, got, computed)):
        if _is_array(e) and onp.ndim(e) and not isinstance(g, da.Array):
            found.append(f"result {i} is a {type(g).__name__}, not a Dask array")
            continue
        try:
            onp.testing.assert_allclose(onp.asarray(c), e, **TOL)
        except (AssertionError, TypeError, ValueError) as error:
            found.append(f"result {i} differs: {str(error).strip().splitlines()[-1]}")
    return found


def _own_problems(case, got: tuple[list, list]) -> list[str]:
    """What differs between an OWN_VALUES row's lazy results and central differences of
    its function on Dask (to the accuracy of differences)."""
    grads, values = got
    expected, weighted, tangents = _differences(case)
    found = _problems(expected, values) if len(expected) == len(values) else ["outputs"]
    found = [p for p in found if "differs" not in p]  # (compared below, more loosely)
    computed = dask.compute(*values, *grads, scheduler="sync")
    for i, (e, c) in enumerate(zip(expected, computed)):
        if not onp.allclose(onp.asarray(c), e, rtol=1e-5, atol=1e-6, equal_nan=True):
            found.append(f"result {i} differs from the differences on Dask")
    along = sum(
        onp.sum(onp.real(onp.asarray(g) * onp.asarray(t)))
        for g, t in zip(computed[len(values) :], dask.compute(*tangents))
    )
    if not onp.isclose(along, weighted, rtol=1e-5, atol=1e-6):
        found.append(f"the gradient along the tangent is {along}, differences {weighted}")
    return found


_LIBRARY_ERRORS = (TypeError, ValueError, NotImplementedError)
_NAMES_BOTH = re.compile(r"wengert.*dask", re.IGNORECASE | re.DOTALL)


def outcome(case, monkeypatch) -> tuple[str, str]:
    """How the row ends on Dask: ("lazy", ""), ("reads", ""), ("refused", message), or a
    failure ("wrong", what differs; "error", what was raised)."""
    expected = _run(case, lazy=False)
    with monkeypatch.context() as patch:
        reads = _Reads(patch)
        try:
            with reads, dask.config.set(scheduler="sync"):
                got = _run(case, lazy=True)
        except _LIBRARY_ERRORS as error:
            if _NAMES_BOTH.search(str(error)):
                return "refused", f"{type(error).__name__}: {error}"
            return "error", f"{type(error).__name__}: {error}"
        except Exception as error:  # (reported as the row's failure)
            return "error", f"{type(error).__name__}: {error}"
        count = reads.count
    if case.id in _OWN_ROWS:
        found = _own_problems(case, got)
    else:
        found = _problems(expected[0] + expected[1], got[0] + got[1])
    if found:
        return "wrong", "; ".join(found)
    return ("reads", "") if count else ("lazy", "")


def _marks(case) -> list:
    reason = _FAILING_ROWS.get(case.id)
    return [] if reason is None else [pytest.mark.xfail(reason=reason, strict=True)]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=_marks(c)) for c in CASES])
def test_every_primitive_on_dask_arrays(case, monkeypatch):
    kind, detail = outcome(case, monkeypatch)
    if case.id in _REFUSED_ROWS:
        assert kind == "refused", f"{case.id} is listed as refused, but ended {kind} {detail}"
    elif case.id in _READING_ROWS:
        assert kind == "reads", f"{case.id} is listed as reading values, but ended {kind}"
    elif case.id in _OWN_ROWS:
        assert kind == "lazy", f"{case.id} (Dask's own values): {kind}: {detail}"
    else:
        assert kind == "lazy", f"{case.id}: {kind}: {detail}"


# Rows whose call outside transformations meets Dask's own array methods (``x.reshape``,
# ``x[...]`` on a Dask array), which raise Dask's errors: no wengert code runs there.
DASK_METHODS = {
    "numpy/test_primitives:reshape-286": "x.reshape merging axes split across chunks",
    "numpy/test_primitives:getitem-334": "x[rows, cols] with two integer arrays",
}


def untraced_outcome(case) -> tuple[str, str]:
    """How the row's function ends called on Dask arrays outside any transformation (as
    NumPy's namespace is used): ("same", "") with NumPy's values, ("own", "") for an
    OWN_VALUES row (values not compared), ("refused", message), or a failure. (Where Dask
    lacks a function NumPy's protocols fall back to computing it, as for ``np.*`` itself,
    so results are not required to be Dask arrays here.)"""
    f, primals, _ = _row(case, lazy=False)
    expected = tree_flatten(f(*primals))[0]
    f, primals, _ = _row(case, lazy=True)
    try:
        with warnings.catch_warnings(), dask.config.set(scheduler="sync"):
            warnings.simplefilter("ignore")
            got = tree_flatten(f(*primals))[0]
    except _LIBRARY_ERRORS as error:
        if _NAMES_BOTH.search(str(error)):
            return "refused", f"{type(error).__name__}: {error}"
        return "error", f"{type(error).__name__}: {error}"
    if case.id in _OWN_ROWS:
        return "own", ""
    found = [p for p in _problems(expected, got) if "not a Dask array" not in p]
    return ("wrong", "; ".join(found)) if found else ("same", "")


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_every_function_untraced_on_dask_arrays(case):
    """Outside transformations too, a wengert.numpy/scipy function of Dask arrays gives
    NumPy's values or raises naming wengert and Dask (never other values: Dask's pad,
    cholesky, take and svd read some arguments otherwise than NumPy)."""
    kind, detail = untraced_outcome(case)
    if case.id in DASK_METHODS:
        assert kind == "error", f"{case.id} is listed as meeting Dask's methods, but ended {kind}"
    else:
        assert kind in ("same", "own", "refused"), f"{case.id}: {kind}: {detail}"


def test_every_listed_row_exists_once():
    ids = {case.id for case in CASES}
    listed = [set(_REFUSED_ROWS), set(_READING_ROWS), set(_OWN_ROWS), set(_FAILING_ROWS)]
    assert not set().union(*listed, DASK_METHODS) - ids, "a listed row is in no table"
    assert sum(map(len, listed)) == len(set().union(*listed)), "a row is listed twice"


if __name__ == "__main__":  # a survey: every row's outcome, by kind
    import collections
    import time

    counts = collections.Counter()
    for case in CASES:
        start = time.perf_counter()
        kind, detail = outcome(case, pytest.MonkeyPatch())
        took = time.perf_counter() - start
        counts[kind] += 1
        if kind != "lazy" or took > 0.3:
            print(kind, f"{took:.2f}", case.id, detail[:300].replace("\n", " "), flush=True)
    print(counts)
