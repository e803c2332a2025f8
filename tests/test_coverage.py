"""The coverage table: every differentiable function has both rules and a row of a derivative
table that checks it, nothing that HIPS autograd differentiates is missing, and
docs/coverage.md is the table as generated from the code and tests of this checkout."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from wengert import coverage

ROOT = Path(__file__).resolve().parents[1]
REGENERATE = "python -m wengert.coverage --markdown > docs/coverage.md"


@pytest.fixture(scope="module")
def rows():
    return coverage.collect()


def test_every_differentiable_function_has_both_rules_and_a_test(rows):
    assert len(rows) > 300
    differentiable = [r for r in rows if r.kind != "no derivative"]
    assert all(r.reverse and r.forward for r in differentiable)
    untested = [f"{r.namespace}.{r.name}" for r in differentiable if not r.tests]
    assert not untested, (
        "checked by no row of a derivative table (a list of (name, fun, ...) rows that a "
        f"parametrised test passes to check_grads): {untested}"
    )


def test_nothing_hips_autograd_differentiates_is_missing(rows):
    pytest.importorskip("autograd")
    constant = {f"{r.namespace}.{r.name}" for r in rows if r.in_autograd and not r.reverse}
    missing = [m for m in coverage.missing_from_autograd(rows) if m not in constant]
    assert not missing


def test_docs_coverage_page_is_up_to_date(rows):
    pytest.importorskip("scipy", reason="the page lists wengert.scipy, which needs SciPy")
    pytest.importorskip("autograd", reason="the page's HIPS autograd column needs autograd")
    generated = coverage.render(rows, markdown=True) + "\n"
    committed = (ROOT / "docs" / "coverage.md").read_text()
    if committed != generated:
        diff = difflib.unified_diff(
            committed.splitlines(keepends=True),
            generated.splitlines(keepends=True),
            "docs/coverage.md",
            "generated",
            n=0,
        )
        pytest.fail(
            f"docs/coverage.md is out of date; regenerate it with\n    {REGENERATE}\n"
            + "".join(list(diff)[:40])
        )


def test_no_table_row_calls_the_last_value_of_a_loop_variable():
    namespaces = tuple(ns for ns, _, _ in coverage.NAMESPACES)
    late = [
        f"{r.label} (line {r.line})"
        for r in coverage.derivative_tables(ROOT / "tests", namespaces)
        if r.late_bound
    ]
    assert not late, (
        "rows whose lambda reads a loop variable when it runs, so that every such row checks "
        f"the loop's last value (bind it as a default argument, f=fun): {late}"
    )


TABLE_MODULE = """
import pytest
import wengert as wg
import wengert.numpy as wnp

CASES = []


def case(name, fun, *gens):
    CASES.append((name, fun, gens))


for name, fun in [("sin", wnp.sin), ("cos", wnp.cos)]:
    case(name, fun, lambda: 0.5)
case("add", lambda x, y: x + y, lambda: 1.0, lambda: 2.0)
case("sum", lambda x: wnp.var(x) * 2.0, lambda: [1.0, 2.0])
CASES.append(pytest.param("log", wnp.log, (lambda: 2.0,), marks=pytest.mark.slow))
for name in ("tanh", "arctan"):
    fun = getattr(wnp, name)
    case(f"{name} twice", lambda x: fun(fun(x)), lambda: 0.5)


@pytest.mark.parametrize(
    "name, fun, gens", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_rules(name, fun, gens):
    wg.check_grads(fun, modes=("fwd", "rev"), order=2)(*[g() for g in gens])
"""


def test_tests_column_names_table_rows_not_mentions(tmp_path):
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_table.py").write_text(TABLE_MODULE)
    (tests / "test_mention.py").write_text(
        "import wengert.numpy as wnp\n\n\ndef test_exp():\n    assert wnp.exp(0.0) == 1.0\n"
    )
    found = {(r.namespace, r.name): r.tests for r in coverage.collect(tests)}
    row = "tests/test_table.py::test_rules[{}]".format
    assert found["wengert.numpy", "sin"] == (row("sin-*"),)  # named after it
    assert found["wengert.numpy", "add"] == (row("add-*"),)  # an operator, by its name
    assert found["wengert.numpy", "var"] == (row("sum-*"),)  # called by a row's function
    assert found["wengert.numpy", "log"] == (row("log-*"),)  # a pytest.param row
    assert found["wengert.numpy", "exp"] == ()  # only mentioned in a test
    # Both rows call the loop's last value, arctan, when they run; tanh is not checked.
    assert found["wengert.numpy", "tanh"] == ()
    assert found["wengert.numpy", "arctan"] == (row("arctan twice-*"), row("tanh twice-*"))
    late = [r for r in coverage.derivative_tables(tests, ("wengert.numpy",)) if r.late_bound]
    written = TABLE_MODULE.splitlines().index(
        '    case(f"{name} twice", lambda x: fun(fun(x)), lambda: 0.5)'
    )
    assert [(r.name, r.line) for r in late] == [("tanh twice", written + 1)]


def test_a_row_name_that_cannot_be_read_is_an_error(tmp_path):
    tests = tmp_path / "tests"
    tests.mkdir()
    module = TABLE_MODULE.replace('case("add",', "case(NAMES[0],")
    (tests / "test_table.py").write_text(module)
    with pytest.raises(ValueError, match=r"tests/test_table.py:\d+: the name of a row of CASES"):
        coverage.derivative_tables(tests, ("wengert.numpy",))


def test_command_prints_both_formats(tmp_path, capsys):
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_table.py").write_text(TABLE_MODULE)
    assert coverage.main(["--tests", str(tests)]) == 0
    text = capsys.readouterr().out
    assert "wengert.numpy.sin" in text and "with both rules" in text
    assert "tests/test_table.py::test_rules[sin-*]" in text
    assert coverage.main(["--markdown", "--tests", str(tests)]) == 0
    page = capsys.readouterr().out
    assert page.startswith("# Coverage\n") and REGENERATE in page
    sin = (
        "| `wengert.numpy.sin` | primitive | yes | yes | `tests/test_table.py::test_rules[sin-*]` |"
    )
    assert sin in page


def test_command_without_a_test_directory_says_what_to_do(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        coverage.main(["--tests", str(tmp_path / "nowhere")])
    assert exit_info.value.code == 2
    assert "no test directory found" in capsys.readouterr().err
