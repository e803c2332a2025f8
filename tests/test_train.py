"""The training run: the MLP reaches the accuracy target on the digits with a fixed seed,
and the `wengert train` command prints, saves and plots."""

from __future__ import annotations

import numpy as onp
import pytest

from wengert import nn, train
from wengert.cli import main
from wengert.train import build_model, train_digits


def test_mlp_reaches_97_percent_on_the_digits():
    pytest.importorskip("sklearn")
    result = train_digits("mlp", epochs=20, seed=0, progress=False)
    assert result.test_accuracy >= 0.97
    history = result.history
    assert len(history["train_loss"]) == 20
    assert history["train_loss"][-1] < history["train_loss"][0] / 5
    assert result.model.training  # left ready to train on


def test_cnn_learns():
    pytest.importorskip("sklearn")
    result = train_digits("cnn", epochs=3, seed=0, progress=False)
    assert result.test_accuracy > 0.8


def test_models():
    assert build_model("mlp").num_parameters() == 64 * 256 + 256 + 256 * 256 + 256 + 2570
    cnn = build_model("cnn", onp.float64)
    assert cnn(onp.zeros((2, 1, 8, 8))).shape == (2, 10)
    with pytest.raises(ValueError, match="kind must be one of 'mlp', 'cnn'"):
        build_model("transformer")


def test_command_trains_saves_and_plots(tmp_path, capsys):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    plot, prefix = tmp_path / "curves.png", tmp_path / "digits"
    argv = ["train", "--model", "mlp", "--epochs", "2", "--no-progress"]
    assert main([*argv, "--plot", str(plot), "--save", str(prefix)]) == 0
    out = capsys.readouterr().out
    assert "mlp: test accuracy" in out and "ms per epoch" in out
    assert plot.stat().st_size > 1000
    model = build_model("mlp")
    model.load(f"{prefix}-mlp.npz")
    assert isinstance(model, nn.Module)


NAN = float("nan")
# (parameter, refused values by exception); each is refused before any data is loaded.
TRAIN_SETTINGS = [
    ("kind", dict(value_errors=["rnn"], type_errors=[None, 1])),
    ("epochs", dict(value_errors=[0, -1], type_errors=[1.5, True, "3"])),
    ("batch_size", dict(value_errors=[0], type_errors=[32.0, None])),
    ("lr", dict(value_errors=[0.0, -1.0, NAN, float("inf")], type_errors=["0.1", True])),
    ("weight_decay", dict(value_errors=[-0.1, NAN], type_errors=[None])),
    ("label_smoothing", dict(value_errors=[2.0, -0.1, NAN], type_errors=["0.1"])),
    ("seed", dict(value_errors=[-1], type_errors=[0.5, None, True])),
    ("dtype", dict(value_errors=[onp.int32], type_errors=["nonsense"])),
    ("progress", dict(value_errors=[], type_errors=[1, "no"])),
    ("blas_threads", dict(value_errors=[0], type_errors=[1.5])),
    ("data", dict(value_errors=[], type_errors=[(1, 2), "digits"])),
]
TRAIN_CASES = [
    pytest.param(name, error, value, id=f"{name}={value!r}")
    for name, refused in TRAIN_SETTINGS
    for error, values in (
        (ValueError, refused["value_errors"]),
        (TypeError, refused["type_errors"]),
    )
    for value in values
]


@pytest.mark.parametrize("name, error, value", TRAIN_CASES)
def test_train_digits_checks_every_setting_first(name, error, value, monkeypatch):
    monkeypatch.setattr(train, "load_digits", lambda *a, **k: pytest.fail("loaded data"))
    with pytest.raises(error, match=f"^train_digits: {name}"):
        train_digits(**{name: value})


def test_label_smoothing_outside_0_1_is_refused_not_trained_to_nothing(monkeypatch):
    # Regression: label_smoothing=2 gave a negative loss and trained to 0% without a word.
    monkeypatch.setattr(train, "load_digits", lambda *a, **k: pytest.fail("loaded data"))
    with pytest.raises(ValueError, match=r"label_smoothing must be a real number in \[0, 1\]"):
        train_digits("mlp", label_smoothing=2.0)


def test_plot_and_evaluate_check_their_arguments(tmp_path):
    result = train.TrainResult("mlp", build_model("mlp"), 0.5, 1.0, {"train_loss": [1.0]})
    with pytest.raises(ValueError, match=r"the folder .* for the plot does not exist"):
        train.plot_history([result], str(tmp_path / "missing" / "curves.png"))
    with pytest.raises(ValueError, match="evaluate: batch_size must be an integer >= 1"):
        train.evaluate(result.model, onp.zeros((2, 64)), onp.zeros(2, int), batch_size=0)
    with pytest.raises(ValueError, match="evaluate: needs as many labels as samples"):
        train.evaluate(result.model, onp.zeros((2, 64)), onp.zeros(3, int))
    pytest.importorskip("matplotlib")  # the image formats are matplotlib's
    with pytest.raises(ValueError, match="cannot tell the image format"):
        train.plot_history([result], str(tmp_path / "curves.nothing"))
