"""`wengert diff`: every method's number against the symbolic and AD values, the printed
report, JSON, higher orders, and points where the function is not differentiable."""

from __future__ import annotations

import json
import math

import pytest

from wengert.cli import main
from wengert.explore.parse import parse, parse_point
from wengert.explore.report import report

EXPRESSIONS = [
    ("1/(x**2 + 1)", "x=3"),
    ("sin(x)*exp(-x)", "x=0.7"),
    ("log(1 + x**2)", "x=-1.3"),
    ("sqrt(x)", "x=2"),
    ("tanh(x)**3", "x=0.4"),
    ("x**5 - 3*x**2 + 2", "x=1.1"),
    ("exp(sin(x))", "x=2.5"),
    ("arctan(x)/x", "x=0.9"),
    ("cosh(x) - sinh(x)", "x=0.3"),
    ("log1p(exp(x))", "x=-2"),
    ("x*y + sin(x)", "x=0.5,y=2"),
    ("sin(x)*exp(-y)", "x=0.5,y=1"),
    ("hypot(x, y)", "x=3,y=4"),
    ("x**y", "x=1.5,y=2.5"),
    ("atan2(y, x)", "x=1,y=2"),
    ("exp(-(x**2 + y**2)/2)", "x=0.3,y=-0.4"),
    ("log(x*y*z)", "x=1,y=2,z=3"),
    ("x*y*z + x**2*z", "x=0.5,y=-1,z=2"),
    ("1/(1 + exp(-(a*x + b)))", "a=2,x=0.3,b=-0.1"),
    ("cbrt(x) + x**(1/3)", "x=8"),
    ("where(x > 0, x**2, -x)", "x=1.5"),
    ("maximum(x, 1) * y", "x=2,y=3"),
    ("expm1(x)/x", "x=0.01"),
    ("sin(x)**2 + cos(x)**2", "x=1.2"),
    ("arcsinh(x) - log(x + sqrt(x**2 + 1))", "x=0.8"),
    ("(x - 1)**2 + 100*(y - x**2)**2", "x=-1.2,y=1"),
    ("log10(x) + log2(x)", "x=5"),
    ("x/(1 + abs(x))", "x=-0.5"),
    ("exp2(x)", "x=1.5"),
    ("sin(pi*x)/(pi*x)", "x=0.25"),
]


@pytest.mark.parametrize("text, at", EXPRESSIONS, ids=[t for t, _ in EXPRESSIONS])
def test_every_method_agrees_with_the_symbolic_and_ad_values(text, at):
    e = parse(text)
    out = report(e, parse_point(at, e.variables))
    assert not out.notes
    for d in out.derivatives:
        assert d.formula is not None
        by = {est.method: est for est in d.estimates}
        reference = d.reference
        scale = max(1.0, abs(reference))
        assert by["reverse AD"].value == pytest.approx(reference, rel=1e-12, abs=1e-14)
        assert by["forward AD"].value == pytest.approx(reference, rel=1e-12, abs=1e-14)
        assert by["forward difference"].error < 1e-6 * scale
        assert by["central difference"].error < 1e-8 * scale
        assert by["Richardson"].error < 1e-10 * scale
        if by["complex step"].note == "":
            assert by["complex step"].error < 1e-13 * scale
        assert by["forward difference"].step > by["central difference"].step / 1e4


@pytest.mark.parametrize("text, at", EXPRESSIONS[10:20], ids=[t for t, _ in EXPRESSIONS[10:20]])
def test_hessians_agree(text, at):
    e = parse(text)
    out = report(e, parse_point(at, e.variables), order=2)
    n = len(e.variables)
    assert len(out.derivatives) == n * (n + 1) // 2
    for d in out.derivatives:
        for est in d.estimates:
            assert est.error is not None and est.error < 1e-6 * max(1.0, abs(d.reference))


def test_the_printed_report(capsys):
    assert main(["diff", "1/(x**2 + 1)", "--at", "x=3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "f(x) = 1/(x**2 + 1) = 0.1"
    assert lines[2] == "symbolic   f'(x) = -2*x/(x**2 + 1)**2 = -0.06"
    methods = [line.split("  ")[0] for line in lines[3:]]
    assert methods == [
        "forward AD",
        "reverse AD",
        "forward difference",
        "central difference",
        "Richardson",
        "complex step",
    ]
    assert "h=" in lines[5] and "h=" in lines[6] and "estimate" in lines[7]


def test_json_output(capsys):
    assert main(["diff", "sin(x)*exp(-y)", "--at", "x=0.5,y=1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["point"] == {"x": 0.5, "y": 1.0}
    assert [d["label"] for d in data["derivatives"]] == ["df/dx", "df/dy"]
    gx = data["derivatives"][0]
    assert gx["reference"] == pytest.approx(math.cos(0.5) * math.exp(-1))
    assert {e["method"] for e in gx["estimates"]} >= {"forward AD", "complex step"}


def test_higher_orders_of_one_variable(capsys):
    assert main(["diff", "sin(x)", "--at", "x=0.5", "--order", "5"]) == 0
    out = capsys.readouterr().out
    assert "symbolic   f^(5)(x) = cos(x)" in out
    assert "numerical orders go up to 4" in out
    with pytest.raises(SystemExit) as stop:
        main(["diff", "x*y", "--at", "x=1,y=2", "--order", "3"])
    assert stop.value.code == 2


def test_kinks_and_non_finite_points_are_reported(capsys):
    assert main(["diff", "abs(x)", "--at", "x=0"]) == 0
    out = capsys.readouterr().out
    assert "not differentiable in x" in out and "one-sided derivatives differ" in out
    assert main(["diff", "1/x", "--at", "x=0"]) == 0
    out = capsys.readouterr().out
    assert "not finite" in out


@pytest.mark.parametrize(
    "argv, words",
    [
        (["diff", "x**2"], "--at is needed"),
        (["diff", "x**2", "--at", "y=1"], "does not appear"),
        (["diff", "x**2", "--at", "x=1", "--wrt", "z"], "not a variable"),
        (["diff", "x**2", "--at", "x=1", "--order", "0"], "from 1 to"),
        (["diff", "x**2", "--at", "x=1", "--order", "many"], "from 1 to"),
        (["diff", "3 + 4", "--at", "x=1"], "no variable"),
        (["diff"], "an expression is needed"),
        (["diff", "x", "--example", "net13"], "not both"),
        (["diff", "x**2", "--at", "x=1", "--example", "nope"], "invalid choice"),
    ],
)
def test_bad_values_end_with_one_line_and_status_2(argv, words, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("wengert diff: error:") and words in err[-1], err[-1]


def test_expressions_starting_with_a_minus(capsys):
    assert main(["diff", "-x**2", "--at", "x=-1"]) == 0
    assert "= 2" in capsys.readouterr().out


def test_the_thirteen_weight_network(capsys):
    assert main(["diff", "--example", "net13", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["derivatives"]) == 13
    for d in data["derivatives"]:
        for e in d["estimates"]:
            assert e["error"] is not None and e["error"] < 1e-6


def test_demo_is_diff_of_the_seed_example(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("f(x) = 1/(x**2 + 1) = 0.1")
    assert "f(x) = 1/(x^2 + 1),  f'(x) = -2x/(x^2 + 1)^2" in out
