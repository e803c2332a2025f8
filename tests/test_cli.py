"""The `wengert` console command: the demo table, and for every bad option value one
error line naming the option and its accepted range, exit status 2, before any work."""

from __future__ import annotations

import contextlib
import io
import math
import subprocess
import sys
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wengert
from wengert import train
from wengert.cli import demo, main


def run_main(argv):
    """(exit status, stdout, stderr) of the command, which must not raise."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exit_:
            status = exit_.code
    return status, out.getvalue(), err.getvalue()


def assert_usage_error(status, out, err, *phrases):
    """argparse's usage lines, then exactly one error line holding `phrases`."""
    assert status == 2, (status, err)
    assert out == ""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[0].startswith("usage: wengert")
    assert all(line.startswith(" ") for line in lines[1:-1]), lines  # wrapped usage
    assert lines[-1].startswith("wengert") and ": error: " in lines[-1], lines[-1]
    for phrase in phrases:
        assert phrase in lines[-1], (phrase, lines[-1])


def test_demo_errors_are_tiny_for_ad_and_small_for_differences(capsys):
    assert main(["demo", "0.5", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    rows = [line.split() for line in lines[2:]]
    assert [float(r[0]) for r in rows] == [0.5, 3.0]
    for row in rows:
        exact = float(row[1])
        assert exact == pytest.approx(-2 * float(row[0]) / (float(row[0]) ** 2 + 1) ** 2)
        rev, fwd, central = map(float, row[2:])
        assert rev < 1e-15 and fwd < 1e-15
        assert 0 < central < 1e-8


def test_demo_default_points():
    assert len(demo().splitlines()) == 8


@pytest.mark.parametrize("point", ["-1e6", "-2", "-.5", "-1E+3", "1e75", "-1e75", "5e-324"])
def test_demo_reads_negative_and_extreme_numbers_as_points(point):
    # Regression: -1e6 was taken for an option (argparse knows only -1 or -0.5).
    status, out, err = run_main(["demo", point, "2"])
    assert status == 0 and err == ""
    rows = [line.split() for line in out.strip().splitlines()[2:]]
    assert [float(r[0]) for r in rows] == [float(point), 2.0]
    assert all(math.isfinite(float(v)) for r in rows for v in r)


@pytest.mark.parametrize("point", ["nan", "inf", "-inf", "1e308", "-1e76", "two", "--bogus"])
def test_demo_refuses_points_it_cannot_differentiate(point):
    status, out, err = run_main(["demo", "1", point])
    if point == "--bogus":
        assert_usage_error(status, out, err, "unrecognized arguments: --bogus")
    else:
        assert_usage_error(status, out, err, "argument X", "[-1e+75, 1e+75]", repr(point))
    with pytest.raises(ValueError, match=r"demo: a point must be a real number in \[-1e\+75"):
        demo([float("nan")])


def test_demo_help_still_works_after_a_negative_number(capsys):
    with pytest.raises(SystemExit) as info:
        main(["demo", "-1e6", "-h"])
    assert info.value.code == 0 and "where to differentiate" in capsys.readouterr().out


BAD_TRAIN_OPTIONS = [
    (["--epochs", "0"], "--epochs", "an integer >= 1"),
    (["--epochs", "-3"], "--epochs", "an integer >= 1"),
    (["--epochs", "2.5"], "--epochs", "an integer >= 1"),
    (["--epochs", "ten"], "--epochs", "an integer >= 1"),
    (["--batch-size", "0"], "--batch-size", "an integer >= 1"),
    (["--lr", "-1"], "--lr", "a finite real number > 0"),
    (["--lr", "-1e-3"], "--lr", "a finite real number > 0"),
    (["--lr", "0"], "--lr", "a finite real number > 0"),
    (["--lr", "nan"], "--lr", "a finite real number > 0"),
    (["--lr", "inf"], "--lr", "a finite real number > 0"),
    (["--lr", "1e400"], "--lr", "a finite real number > 0"),
    (["--weight-decay", "-0.1"], "--weight-decay", "a finite real number >= 0"),
    (["--label-smoothing", "2"], "--label-smoothing", "a real number in [0, 1]"),
    (["--label-smoothing", "-0.1"], "--label-smoothing", "a real number in [0, 1]"),
    (["--seed", "-1"], "--seed", "an integer >= 0"),
    (["--seed", "1.5"], "--seed", "an integer >= 0"),
    (["--model", "rnn"], "--model", "invalid choice"),
    (["--dtype", "int8"], "--dtype", "invalid choice"),
    (["--save", "/no/such/folder/run"], "--save", "'/no/such/folder' for the saved models"),
    (["--plot", "/no/such/folder/curves.png"], "--plot", "'/no/such/folder' for the plot does"),
    (["--plot", "curves.notanimage"], "--plot", "cannot tell the image format"),
    (["--epochs"], "--epochs", "expected one argument"),
]


@pytest.mark.parametrize("options, option, accepted", BAD_TRAIN_OPTIONS)
def test_bad_train_options_end_before_any_work(options, option, accepted):
    if "image format" in accepted:
        pytest.importorskip("matplotlib")  # the formats are matplotlib's
    with mock.patch.object(train, "train_digits", side_effect=AssertionError("trained")):
        status, out, err = run_main(["train", *options])
    assert_usage_error(status, out, err, f"argument {option}", accepted)


def test_output_paths_are_checked_before_training(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("")
    cases = [
        (["--save", str(a_file / "run")], "does not exist"),
        (["--plot", str(tmp_path)], "is a folder"),
    ]
    for options, phrase in cases:
        with mock.patch.object(train, "train_digits", side_effect=AssertionError("trained")):
            assert_usage_error(*run_main(["train", *options]), phrase)


def test_missing_scikit_learn_is_a_usage_error_not_a_traceback():
    real_find_spec = train.importlib.util.find_spec
    hide = lambda name, *a: None if name == "sklearn" else real_find_spec(name, *a)
    with mock.patch.object(train.importlib.util, "find_spec", hide):
        assert_usage_error(*run_main(["train", "--epochs", "1"]), "needs scikit-learn")


def test_version_and_no_command():
    status, out, _ = run_main(["--version"])
    assert status == 0 and out.strip() == f"wengert {wengert.__version__}" == "wengert 0.1.0"
    assert_usage_error(*run_main([]), "required: command")


@pytest.mark.parametrize("module", ["wengert", "wengert.cli"])
def test_python_dash_m_runs_the_command(module):
    out = subprocess.run(
        [sys.executable, "-m", module, "demo", "-1e6"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "reverse err" in out.stdout and "-1e+06" in out.stdout
    bad = subprocess.run(
        [sys.executable, "-m", module, "train", "--epochs", "0"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().splitlines()[-1].startswith("wengert train: error: argument --epochs")


def test_train_main_is_the_train_command():
    with mock.patch.object(train, "train_digits", side_effect=AssertionError("trained")):
        with pytest.raises(SystemExit) as info:
            train.main(["--lr", "-1e-3"])
    assert info.value.code == 2


VALUES = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["nan", "-inf", "1e400", "-1e-3", "0", "", "1_000", "0x10", " 3", "--", "-"]),
    st.text(max_size=8),
)
OPTIONS = ["--epochs", "--batch-size", "--lr", "--weight-decay", "--label-smoothing", "--seed"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(OPTIONS), VALUES), max_size=3))
def test_fuzzed_train_options_exit_0_or_2_without_traceback(pairs):
    argv = ["train", *(token for pair in pairs for token in pair)]
    with mock.patch.object(train, "run", return_value=0):  # parse and check only
        status, _, err = run_main(argv)
    assert status in (0, 2), (argv, status, err)
    assert "Traceback" not in err
    if status == 2:
        assert len(err.strip().splitlines()[-1]) and ": error: " in err.strip().splitlines()[-1]


@settings(max_examples=150, deadline=None)
@given(st.lists(VALUES, max_size=3))
def test_fuzzed_demo_points_exit_0_or_2_without_traceback(points):
    status, out, err = run_main(["demo", *points])
    assert status in (0, 2), (points, status, err)
    assert "Traceback" not in err
    if status == 0:  # one row per point; argparse drops a "--" that ends the options
        n = len(points) - ("--" in points)
        table = out.strip().split("\n\n")[-1]  # without points, after the seed's report
        assert len(table.splitlines()) == 2 + (n or 6)
