"""The `wengert` console command."""

from __future__ import annotations

import subprocess
import sys

from wengert.cli import demo, main


def test_demo_errors_are_tiny_for_ad_and_small_for_differences(capsys):
    assert main(["demo", "0.5", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    rows = [line.split() for line in lines[2:]]
    assert [float(r[0]) for r in rows] == [0.5, 3.0]
    for row in rows:
        rev, fwd, central = map(float, row[2:])
        assert rev < 1e-15 and fwd < 1e-15
        assert 0 < central < 1e-8


def test_demo_default_points():
    assert len(demo().splitlines()) == 8


def test_console_entry_point_runs():
    out = subprocess.run(
        [sys.executable, "-m", "wengert.cli", "demo"], capture_output=True, text=True, check=True
    )
    assert "reverse err" in out.stdout
