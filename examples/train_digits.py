"""Train an MLP and a small CNN on scikit-learn's handwritten digits with wengert.

The loop is the define-by-run one a PyTorch user writes: forward, ``loss.backward()``,
``optimizer.step()``. Needs scikit-learn (the data), and optionally tqdm (progress bar)
and matplotlib (``--plot curves.png``). Run: ``python examples/train_digits.py``.
"""

from __future__ import annotations

import argparse

import numpy as np

from wengert import optim
from wengert.data import DataLoader, load_digits, train_test_split
from wengert.nn import functional as F
from wengert.train import build_model, check_image_path, evaluate, plot_history, train_digits


def train_by_hand(epochs: int = 20, seed: int = 0) -> float:
    """The MLP trained with the loop written out; returns its test accuracy."""
    x, y = load_digits(dtype=np.float32)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_fraction=0.25, seed=seed, stratify=y
    )
    model = build_model("mlp", np.float32, seed)
    opt = optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    schedule = optim.CosineAnnealingLR(opt, T_max=epochs)
    loader = DataLoader(x_train, y_train, batch_size=128, shuffle=True, seed=seed)
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb, label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
        schedule.step()
    return evaluate(model, x_test, y_test)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--plot", metavar="PATH", help="save the loss curves here")
    args = parser.parse_args()
    if args.epochs < 1:  # checked before any work, as the wengert command does
        parser.error(f"argument --epochs: must be an integer >= 1, got {args.epochs}")
    if args.plot:
        try:
            check_image_path(args.plot, "--plot")
        except (ImportError, ValueError) as err:
            parser.error(str(err))

    print(f"MLP, loop written out: test accuracy {train_by_hand(args.epochs):.2%}")
    results = [train_digits(kind, epochs=args.epochs) for kind in ("mlp", "cnn")]
    for r in results:
        print(f"{r.kind}: test accuracy {r.test_accuracy:.2%} in {r.seconds:.2f} s")
    if args.plot:
        plot_history(results, args.plot)
        print(f"loss curves saved to {args.plot}")
    mlp = results[0].model
    print(mlp)
    print(f"{mlp.num_parameters()} parameters; state dict keys: {sorted(mlp.state_dict())}")


if __name__ == "__main__":
    main()
