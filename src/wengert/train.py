"""A real training run: an MLP and a small CNN on scikit-learn's handwritten digits.

Define-by-run from end to end: `wengert.nn` modules, `loss.backward()`, a
`wengert.optim` optimiser, batches from `wengert.data.DataLoader`. Used by the
``wengert train`` command and by ``examples/train_digits.py``. Progress shows with tqdm
when it is installed; the loss curves are plotted with matplotlib when asked.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import nn, optim
from .data import DataLoader, load_digits, train_test_split
from .nn import _checks
from .nn import functional as F
from .variable import no_grad

__all__ = ["TrainResult", "build_model", "evaluate", "main", "plot_history", "train_digits"]

MODELS = ("mlp", "cnn")


def build_model(kind: str, dtype: Any = np.float32, seed: int = 0) -> nn.Module:
    """The MLP (64-256-256-10) or the small CNN used on the 8x8 digits.

    >>> from wengert.train import build_model
    >>> build_model("mlp").num_parameters()
    85002
    """
    kind = _checks.choice(kind, "kind", "build_model", MODELS)
    dtype = _checks.float_dtype(dtype, "dtype", "build_model")
    rng = _checks.seed(seed, "seed", "build_model")
    if kind == "mlp":
        model = nn.Sequential(
            nn.Linear(64, 256, rng=rng),
            nn.ReLU(),
            nn.Linear(256, 256, rng=rng),
            nn.ReLU(),
            nn.Linear(256, 10, rng=rng),
        )
    elif kind == "cnn":
        model = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1, rng=rng),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1, rng=rng),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * 2 * 2, 64, rng=rng),
            nn.ReLU(),
            nn.Linear(64, 10, rng=rng),
        )
    return model.astype(dtype)


@dataclass
class TrainResult:
    """What a training run produced: the model, per-epoch history and the test score."""

    kind: str
    model: nn.Module
    test_accuracy: float
    seconds: float
    history: dict[str, list[float]] = field(default_factory=dict)

    @property
    def seconds_per_epoch(self) -> float:
        return self.seconds / max(len(self.history.get("train_loss", [])), 1)


def evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray, batch_size: int = 512):
    """(mean loss, accuracy) of `model` on `x`, `y`, in evaluation mode without graphs."""
    batch_size = _checks.integer(batch_size, "batch_size", "evaluate", low=1)
    if len(x) == 0 or len(x) != len(y):
        raise ValueError(
            f"evaluate: needs as many labels as samples, at least one; got {len(x)} samples "
            f"and {len(y)} labels."
        )
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    with no_grad():
        for start in range(0, len(x), batch_size):
            logits = model(x[start : start + batch_size])
            labels = y[start : start + batch_size]
            total_loss += float(F.cross_entropy(logits, labels, reduction="sum"))
            correct += int(np.sum(np.argmax(logits.data, axis=1) == labels))
    model.train(was_training)
    return total_loss / len(x), correct / len(x)


def _progress(total: int, desc: str, enabled: bool):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit="batch", leave=True, dynamic_ncols=True)


def _blas_threads(n: int | None):
    """Limit BLAS to `n` threads while training, through threadpoolctl (installed with
    scikit-learn) when present: matrices this small run fastest on one thread, and extra
    BLAS threads competing for busy cores can slow training down many times."""
    if n is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


def train_digits(
    kind: str = "mlp",
    epochs: int = 20,
    batch_size: int = 128,
    lr: float = 1e-2,
    weight_decay: float = 0.0,
    label_smoothing: float = 0.1,
    seed: int = 0,
    dtype: Any = np.float32,
    progress: bool = True,
    data: tuple[np.ndarray, ...] | None = None,
    blas_threads: int | None = 1,
) -> TrainResult:
    """Train one model (`kind` "mlp" or "cnn") on the digits with AdamW, a cosine schedule
    and label smoothing; returns the model, its per-epoch history and its test accuracy.

    `data` is ``(x_train, x_test, y_train, y_test)``; by default the digits, split 75/25
    per class with `seed`. `blas_threads` caps BLAS threads during training (None: no cap).
    Every setting is checked before any data is loaded.
    """
    where = "train_digits"
    kind = _checks.choice(kind, "kind", where, MODELS)
    epochs = _checks.integer(epochs, "epochs", where, low=1)
    batch_size = _checks.integer(batch_size, "batch_size", where, low=1)
    lr = _checks.real(lr, "lr", where, low=0.0, low_open=True)
    weight_decay = _checks.real(weight_decay, "weight_decay", where, low=0.0)
    label_smoothing = _checks.real(label_smoothing, "label_smoothing", where, 0.0, 1.0)
    seed = _checks.integer(seed, "seed", where, low=0)
    dtype = _checks.float_dtype(dtype, "dtype", where)
    progress = _checks.boolean(progress, "progress", where)
    blas_threads = _checks.optional(_checks.integer, blas_threads, "blas_threads", where, low=1)
    if data is not None and (not isinstance(data, (tuple, list)) or len(data) != 4):
        raise TypeError(f"{where}: data must be (x_train, x_test, y_train, y_test).")
    with _blas_threads(blas_threads):
        return _train(
            kind, epochs, batch_size, lr, weight_decay, label_smoothing, seed, dtype, progress, data
        )


def _train(
    kind, epochs, batch_size, lr, weight_decay, label_smoothing, seed, dtype, progress, data
):
    """The body of `train_digits`."""
    if data is None:
        x, y = load_digits(as_images=(kind == "cnn"), dtype=dtype)
        data = tuple(train_test_split(x, y, test_fraction=0.25, seed=seed, stratify=y))
    x_train, x_test, y_train, y_test = data
    model = build_model(kind, dtype, seed)
    opt = optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = optim.CosineAnnealingLR(opt, T_max=epochs)
    loader = DataLoader(x_train, y_train, batch_size=batch_size, shuffle=True, seed=seed)
    history: dict[str, list[float]] = {
        k: [] for k in ("train_loss", "train_acc", "test_loss", "test_acc")
    }
    bar = _progress(epochs * len(loader), kind, progress)
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        seen, loss_sum, correct = 0, 0.0, 0
        for xb, yb in loader:
            logits = model(xb)
            loss = F.cross_entropy(logits, yb, label_smoothing=label_smoothing)
            opt.zero_grad()
            loss.backward()
            opt.step()
            seen += len(yb)
            with no_grad():  # the plain cross-entropy, comparable with the test loss
                loss_sum += float(F.cross_entropy(logits.detach(), yb)) * len(yb)
            correct += int(np.sum(np.argmax(logits.data, axis=1) == yb))
            if bar is not None:
                bar.update(1)
                bar.set_postfix(
                    epoch=epoch + 1,
                    loss=f"{loss_sum / seen:.4f}",
                    acc=f"{correct / seen:.3f}",
                    refresh=False,
                )
        schedule.step()
        test_loss, test_acc = evaluate(model, x_test, y_test)
        history["train_loss"].append(loss_sum / seen)
        history["train_acc"].append(correct / seen)
        history["test_loss"].append(test_loss)
        history["test_acc"].append(test_acc)
        if bar is not None:
            bar.set_postfix(
                epoch=epoch + 1,
                loss=f"{loss_sum / seen:.4f}",
                acc=f"{correct / seen:.3f}",
                test_acc=f"{test_acc:.3f}",
            )
        elif progress:
            print(
                f"{kind} epoch {epoch + 1:3d}/{epochs}: loss {loss_sum / seen:.4f}, "
                f"accuracy {correct / seen:.3f}, test accuracy {test_acc:.3f}"
            )
    seconds = time.perf_counter() - start
    if bar is not None:
        bar.close()
    return TrainResult(kind, model, history["test_acc"][-1], seconds, history)


def plot_history(results: Sequence[TrainResult], path: str) -> None:
    """Save the train and test loss curves of each run to an image file (matplotlib)."""
    check_image_path(path, "plot_history")
    from matplotlib.figure import Figure  # no pyplot: the user's backend is left alone

    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for r in results:
        epochs = np.arange(1, len(r.history["train_loss"]) + 1)
        (line,) = ax.plot(epochs, r.history["train_loss"], label=f"{r.kind} train")
        ax.plot(
            epochs, r.history["test_loss"], "--", color=line.get_color(), label=f"{r.kind} test"
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    ax.set_yscale("log")
    ax.set_title("wengert on the digits")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def _folder_of(path: str, what: str, where: str) -> None:
    """Refuse `path` if its folder is missing or not writable, or if it is a folder."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"{where}: the folder {folder!r} for {what} does not exist.")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"{where}: the folder {folder!r} for {what} is not writable.")
    if os.path.isdir(path):
        raise ValueError(f"{where}: {path!r} is a folder; give a file name for {what}.")


def check_image_path(path: str, where: str = "plot") -> str:
    """`path` if its folder exists and is writable, matplotlib is installed and can write
    its image format (from the name's extension); otherwise a clear error, before any
    training.

    >>> from wengert.train import check_image_path
    >>> check_image_path("/no/such/folder/curves.png")
    Traceback (most recent call last):
    ...
    ValueError: plot: the folder '/no/such/folder' for the plot does not exist.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{where}: the path must be a string, got {type(path).__name__}.")
    path = os.fspath(path)
    _folder_of(path, "the plot", where)
    if importlib.util.find_spec("matplotlib") is None:
        raise ImportError(
            f"{where}: plotting needs matplotlib: pip install matplotlib (or 'wengert[nn]')."
        )
    from matplotlib.figure import Figure

    formats = Figure().canvas.get_supported_filetypes()
    suffix = os.path.splitext(path)[1].lstrip(".").lower()
    if suffix and suffix not in formats:  # no suffix: matplotlib's default, PNG
        raise ValueError(
            f"{where}: cannot tell the image format of {path!r}; end the name in one of "
            + ", ".join("." + f for f in sorted(formats))
            + "."
        )
    return path


def check_save_prefix(prefix: str, kinds: Sequence[str] = MODELS, where: str = "save") -> str:
    """`prefix` if the state files ``PREFIX-<model>.npz`` can be written there."""
    if not isinstance(prefix, (str, os.PathLike)):
        raise TypeError(f"{where}: the prefix must be a string, got {type(prefix).__name__}.")
    prefix = os.fspath(prefix)
    for kind in kinds:
        _folder_of(f"{prefix}-{kind}.npz", "the saved models", where)
    return prefix


def _option(check: Callable[[Any], Any], parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type: `parse` the text, then `check` the value (a `_checks` check); a
    failure becomes argparse's one-line error naming the option and its accepted range."""

    def parse_option(text: str) -> Any:
        try:
            value = parse(text)
        except ValueError:
            value = text
        try:
            return check(value)
        except (TypeError, ValueError) as err:
            raise argparse.ArgumentTypeError(
                f"must be {getattr(err, 'accepted', err)}, got {text!r}"
            ) from None

    return parse_option


def _int_option(low: int) -> Callable[[str], int]:
    return _option(lambda v: _checks.integer(v, "value", "option", low=low), int)


def _real_option(**bounds: Any) -> Callable[[str], float]:
    return _option(lambda v: _checks.real(v, "value", "option", **bounds), float)


def _path_option(check: Callable[..., str]) -> Callable[[str], str]:
    def parse_option(text: str) -> str:
        try:
            return check(text, where="wengert train")
        except (ImportError, TypeError, ValueError) as err:
            raise argparse.ArgumentTypeError(str(err).removeprefix("wengert train: ")) from None

    return parse_option


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``wengert train``; each value is checked as it is parsed, so a bad
    one ends the command with argparse's one-line error (exit status 2) before any work."""
    parser.add_argument("--model", choices=(*MODELS, "both"), default="both")
    parser.add_argument("--epochs", type=_int_option(1), default=20, help="at least 1")
    parser.add_argument("--batch-size", type=_int_option(1), default=128, help="at least 1")
    parser.add_argument(
        "--lr",
        type=_real_option(low=0.0, low_open=True),
        default=1e-2,
        help="peak learning rate (AdamW), > 0",
    )
    parser.add_argument("--weight-decay", type=_real_option(low=0.0), default=0.0, help=">= 0")
    parser.add_argument(
        "--label-smoothing", type=_real_option(low=0.0, high=1.0), default=0.1, help="in [0, 1]"
    )
    parser.add_argument("--seed", type=_int_option(0), default=0, help="an integer >= 0")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument(
        "--plot",
        metavar="PATH",
        type=_path_option(check_image_path),
        help="save the loss curves to this image (.png, .pdf, .svg, ...)",
    )
    parser.add_argument(
        "--save",
        metavar="PREFIX",
        type=_path_option(check_save_prefix),
        help="save each model's state dict to PREFIX-<model>.npz",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def check_args(args: argparse.Namespace) -> None:
    """What parsing cannot check alone: scikit-learn is installed (it holds the data)."""
    if importlib.util.find_spec("sklearn") is None:
        raise ImportError(
            "training on the digits needs scikit-learn, which bundles them: pip install "
            "scikit-learn (or 'wengert[nn]')."
        )


def run(args: argparse.Namespace) -> int:
    """Train as the parsed ``wengert train`` options say and print the results."""
    check_args(args)
    kinds = MODELS if args.model == "both" else (args.model,)
    results = []
    for kind in kinds:
        result = train_digits(
            kind,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            weight_decay=args.weight_decay,
            label_smoothing=args.label_smoothing,
            seed=args.seed,
            dtype=np.dtype(args.dtype),
            progress=not args.no_progress,
        )
        results.append(result)
        print(
            f"{kind}: test accuracy {result.test_accuracy:.2%} after {args.epochs} epochs "
            f"({result.seconds:.2f} s, {result.seconds_per_epoch * 1e3:.1f} ms per epoch, "
            f"{result.model.num_parameters()} parameters)"
        )
        if args.save:
            path = f"{args.save}-{kind}.npz"
            result.model.save(path)
            print(f"saved {path}")
    if args.plot:
        plot_history(results, args.plot)
        print(f"saved the loss curves to {args.plot}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``wengert train`` with these command-line arguments (as ``wengert train``)."""
    from .cli import main as cli_main

    return cli_main(["train", *(sys.argv[1:] if argv is None else argv)])
