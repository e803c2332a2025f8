"""The training run: the MLP reaches the accuracy target on the digits with a fixed seed,
and the `wengert train` command prints, saves and plots."""

from __future__ import annotations

import numpy as onp
import pytest

from wengert import nn
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
    with pytest.raises(ValueError, match="unknown model"):
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
