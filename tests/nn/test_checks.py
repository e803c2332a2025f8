"""The checks of settings shared by nn, optim, data and the command line: accepted values
come back as plain Python numbers, refused ones raise TypeError (wrong kind) or
ValueError (out of range) naming the function, the parameter, the value and the range."""

from __future__ import annotations

import math

import numpy as onp
import pytest

from wengert.nn import _checks

NAN, INF = math.nan, math.inf


@pytest.mark.parametrize(
    "value, expected",
    [(3, 3), (onp.int64(3), 3), (onp.uint8(7), 7)],
)
def test_integer_accepts_integers_and_returns_python_ints(value, expected):
    out = _checks.integer(value, "n", "f", low=1)
    assert out == expected and type(out) is int


@pytest.mark.parametrize(
    "value, error",
    [
        (0, ValueError),
        (-1, ValueError),
        (11, ValueError),
        (2.0, TypeError),
        (2.5, TypeError),
        (True, TypeError),
        (onp.bool_(True), TypeError),
        ("3", TypeError),
        (None, TypeError),
        (NAN, TypeError),
    ],
)
def test_integer_refusals_name_function_parameter_value_and_range(value, error):
    with pytest.raises(error) as info:
        _checks.integer(value, "epochs", "train", low=1, high=10)
    message = str(info.value)
    assert message.startswith("train: epochs must be an integer in [1, 10], got ")
    assert repr(value)[:20] in message
    assert info.value.accepted == "an integer in [1, 10]"


@pytest.mark.parametrize(
    "value, expected",
    [
        (0.5, 0.5),
        (1, 1.0),
        (onp.float32(0.25), 0.25),
        (onp.float64(0.75), 0.75),
        (onp.array(0.5), 0.5),
    ],
)
def test_real_accepts_real_numbers_and_returns_python_floats(value, expected):
    out = _checks.real(value, "p", "f", 0.0, 1.0)
    assert out == expected and type(out) is float


@pytest.mark.parametrize(
    "kwargs, value, error, accepted",
    [
        ({"low": 0.0}, -1.0, ValueError, "a finite real number >= 0"),
        ({"low": 0.0}, INF, ValueError, "a finite real number >= 0"),
        ({"low": 0.0}, NAN, ValueError, "a finite real number >= 0"),
        ({"low": 0.0, "low_open": True}, 0.0, ValueError, "a finite real number > 0"),
        ({"low": 0.0, "high": 1.0, "high_open": True}, 1.0, ValueError, "a real number in [0, 1)"),
        ({"low": 0.0, "high": 1.0}, 1.5, ValueError, "a real number in [0, 1]"),
        ({"low": 0.0, "high": 1.0}, NAN, ValueError, "a real number in [0, 1]"),
        ({"low": 0.0, "allow_inf": True}, NAN, ValueError, "a real number >= 0"),
        ({}, True, TypeError, "a finite real number"),
        ({}, "0.1", TypeError, "a finite real number"),
        ({}, None, TypeError, "a finite real number"),
        ({}, 1j, TypeError, "a finite real number"),
        ({}, onp.ones(2), TypeError, "a finite real number"),
    ],
)
def test_real_refusals(kwargs, value, error, accepted):
    with pytest.raises(error, match=r"^f: lr must be ") as info:
        _checks.real(value, "lr", "f", **kwargs)
    assert info.value.accepted == accepted


def test_real_allows_infinity_only_when_asked():
    assert _checks.real(INF, "max_norm", "clip", low=0.0, allow_inf=True) == INF
    with pytest.raises(ValueError, match="finite"):
        _checks.real(INF, "max_norm", "clip", low=0.0)


def test_boolean_choice_pair_dtype_and_seed():
    assert _checks.boolean(onp.bool_(False), "b", "f") is False
    for bad in (1, 0, "yes", None):
        with pytest.raises(TypeError, match="f: b must be True or False"):
            _checks.boolean(bad, "b", "f")
    assert _checks.choice("sum", "reduction", "f", ("mean", "sum")) == "sum"
    with pytest.raises(ValueError, match="one of 'mean', 'sum', got 'avg'"):
        _checks.choice("avg", "reduction", "f", ("mean", "sum"))
    with pytest.raises(TypeError, match="reduction must be one of"):
        _checks.choice(None, "reduction", "f", ("mean", "sum"))
    assert _checks.int_pair([2, 3], "stride", "f", 1) == (2, 3)
    for bad, error in [(0, ValueError), ((1, 0), ValueError), ((1,), TypeError),
                       ((1, 2, 3), TypeError), (1.5, TypeError), ((1, 2.0), TypeError),
                       (True, TypeError), ("2", TypeError)]:  # fmt: skip
        with pytest.raises(error, match="f: stride must be an integer >= 1 or a pair of them"):
            _checks.int_pair(bad, "stride", "f", 1)
    assert _checks.float_dtype("float32", "dtype", "f") == onp.float32
    for bad, error in [(onp.int32, ValueError), (complex, ValueError), ("nonsense", TypeError)]:
        with pytest.raises(error, match="f: dtype must be a floating-point dtype"):
            _checks.float_dtype(bad, "dtype", "f")
    gen = onp.random.default_rng(0)
    assert _checks.seed(gen, "rng", "f") is gen
    assert _checks.seed(3, "rng", "f").random() == onp.random.default_rng(3).random()
    for bad, error in [(-1, ValueError), (1.5, TypeError), (True, TypeError), ("0", TypeError)]:
        with pytest.raises(error, match=r"f: rng must be a numpy\.random\.Generator"):
            _checks.seed(bad, "rng", "f")
