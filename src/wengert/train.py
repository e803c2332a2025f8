"""A real training run: an MLP and a small CNN on scikit-learn's handwritten digits.

Define-by-run from end to end: `wengert.nn` modules, `loss.backward()`, a
`wengert.optim` optimiser, batches from `wengert.data.DataLoader`. Used by the
``wengert train`` command and by ``examples/train_digits.py``. Progress shows with tqdm
when it is installed; the loss curves are plotted with matplotlib when asked.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import nn, optim
from .data import DataLoader, load_digits, train_test_split
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
    rng = np.random.default_rng(seed)
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
    else:
        raise ValueError(f"unknown model {kind!r}; choose one of {', '.join(MODELS)}.")
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
    """
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
    try:
        from matplotlib.figure import Figure  # no pyplot: the user's backend is left alone
    except ImportError as err:
        raise ImportError(
            "plotting needs matplotlib: pip install matplotlib (or 'wengert[nn]')."
        ) from err
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``wengert train``."""
    parser.add_argument("--model", choices=(*MODELS, "both"), default="both")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-2, help="peak learning rate (AdamW)")
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--plot", metavar="PATH", help="save the loss curves to this image")
    parser.add_argument(
        "--save", metavar="PREFIX", help="save each model's state dict to PREFIX-<model>.npz"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Train as the parsed ``wengert train`` options say and print the results."""
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
    """Run ``wengert train`` with these command-line arguments."""
    parser = argparse.ArgumentParser(prog="wengert train", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))
