"""The coverage table: every differentiable function has both rules and a test, and
nothing that HIPS autograd differentiates is missing."""

from __future__ import annotations

import pytest

from wengert import coverage


@pytest.fixture(scope="module")
def rows():
    return coverage.collect()


def test_every_differentiable_function_has_both_rules_and_a_test(rows):
    assert len(rows) > 300
    differentiable = [r for r in rows if r.kind != "no derivative"]
    assert all(r.reverse and r.forward for r in differentiable)
    untested = [f"{r.namespace}.{r.name}" for r in differentiable if not r.tests]
    assert not untested, f"named in no test file: {untested}"


def test_nothing_hips_autograd_differentiates_is_missing(rows):
    pytest.importorskip("autograd")
    constant = {f"{r.namespace}.{r.name}" for r in rows if r.in_autograd and not r.reverse}
    missing = [m for m in coverage.missing_from_autograd(rows) if m not in constant]
    assert not missing


def test_command_prints_both_formats(capsys):
    assert coverage.main([]) == 0
    text = capsys.readouterr().out
    assert "wengert.numpy.sin" in text and "with both rules" in text
    assert coverage.main(["--markdown"]) == 0
    assert "| `wengert.numpy.sin` | primitive | yes | yes |" in capsys.readouterr().out
