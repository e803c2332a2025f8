"""Time per training epoch on the digits: wengert against PyTorch (CPU), same models.

The MLP (64-256-256-10) in float32 and float64 and the small CNN of `wengert.train`,
batch 128, Adam (lr 1e-3), shuffled batches, on the 1347 training digits; BLAS and
PyTorch threads pinned to 1. wengert runs define-by-run (Variables, ``loss.backward()``,
``opt.step()``) and functionally (``wg.value_and_grad`` of ``nn.functional_call``, then
``opt.update``). Each row is the median of 15 epochs timed in alternation with the
other rows after a warm-up, so that load on the machine affects them alike. Needs
scikit-learn for the data; PyTorch rows are skipped when it is absent. Run:
``python bench/training.py``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before NumPy and PyTorch start their thread pools

import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from importlib import metadata  # noqa: E402

import numpy as np  # noqa: E402
from _timing import optional, print_table  # noqa: E402

import wengert as wg  # noqa: E402
from wengert import nn, optim  # noqa: E402
from wengert.data import DataLoader, load_digits, train_test_split  # noqa: E402
from wengert.nn import functional as F  # noqa: E402
from wengert.train import build_model  # noqa: E402

BATCH = 128
LR = 1e-3


def wengert_epoch(kind: str, x: np.ndarray, y: np.ndarray):
    """One define-by-run training epoch, as a zero-argument callable."""
    model = build_model(kind, x.dtype, seed=0)
    opt = optim.Adam(model.parameters(), lr=LR)
    loader = DataLoader(x, y, batch_size=BATCH, shuffle=True, seed=0)

    def epoch():
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()

    return epoch


def wengert_functional_epoch(kind: str, x: np.ndarray, y: np.ndarray):
    """One epoch with `wg.value_and_grad` of the model's parameter tree."""
    model = build_model(kind, x.dtype, seed=0)
    opt = optim.Adam(lr=LR)
    loader = DataLoader(x, y, batch_size=BATCH, shuffle=True, seed=0)
    step = wg.value_and_grad(
        lambda params, xb, yb: F.cross_entropy(nn.functional_call(model, params, xb), yb)
    )
    box = {"params": model.params()}
    box["state"] = opt.init(box["params"])

    def epoch():
        params, state = box["params"], box["state"]
        for xb, yb in loader:
            _, grads = step(params, xb, yb)
            params, state = opt.update(params, grads, state)
        box["params"], box["state"] = params, state

    return epoch


def torch_model(torch, kind: str, dtype):
    tn = torch.nn
    if kind == "mlp":
        model = tn.Sequential(
            tn.Linear(64, 256), tn.ReLU(), tn.Linear(256, 256), tn.ReLU(), tn.Linear(256, 10)
        )
    else:
        model = tn.Sequential(
            tn.Conv2d(1, 16, 3, padding=1),
            tn.ReLU(),
            tn.MaxPool2d(2),
            tn.Conv2d(16, 32, 3, padding=1),
            tn.ReLU(),
            tn.MaxPool2d(2),
            tn.Flatten(),
            tn.Linear(128, 64),
            tn.ReLU(),
            tn.Linear(64, 10),
        )
    return model.to(dtype)


def torch_epoch(torch, kind: str, x: np.ndarray, y: np.ndarray):
    """The same epoch in PyTorch (CPU), batches drawn with randperm."""
    torch.manual_seed(0)
    dtype = torch.float32 if x.dtype == np.float32 else torch.float64
    model = torch_model(torch, kind, dtype)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    xt, yt = torch.tensor(x), torch.tensor(y)
    n = len(xt)

    def epoch():
        perm = torch.randperm(n)
        for start in range(0, n, BATCH):
            idx = perm[start : start + BATCH]
            loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()

    return epoch, sum(p.numel() for p in model.parameters())


def interleaved_medians(epochs: dict, rounds: int = 15) -> dict:
    """Median seconds per call of each callable, timed in alternation after a warm-up,
    so that a change in the machine's load affects every row alike."""
    for fun in epochs.values():
        fun()
    samples: dict = {name: [] for name in epochs}
    names = list(epochs)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = time.perf_counter()
            epochs[name]()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(s) for name, s in samples.items()}


def main() -> None:
    torch = optional("torch")
    if optional("sklearn") is None:
        print("bench/training.py needs scikit-learn for the digits: pip install scikit-learn")
        return
    if torch:
        torch.set_num_threads(1)
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, torch "
        f"{metadata.version('torch') if torch else 'absent'}, cores {os.cpu_count()}, "
        f"BLAS threads {os.environ.get('OPENBLAS_NUM_THREADS')}"
    )
    summary = []
    for kind in ("mlp", "cnn"):
        for dtype in (np.float32, np.float64):
            x, y = load_digits(as_images=(kind == "cnn"), dtype=dtype)
            x_train, _, y_train, _ = train_test_split(x, y, test_fraction=0.25, seed=0, stratify=y)
            batches = len(DataLoader(x_train, batch_size=BATCH))
            epochs = {
                "wengert define-by-run": wengert_epoch(kind, x_train, y_train),
                "wengert functional (grad)": wengert_functional_epoch(kind, x_train, y_train),
            }
            if torch:
                epoch, n_params = torch_epoch(torch, kind, x_train, y_train)
                assert n_params == build_model(kind).num_parameters()
                epochs["PyTorch (CPU)"] = epoch
            medians = interleaved_medians(epochs)
            note = f"per epoch ({batches} batches)"
            rows = [(name, seconds, note) for name, seconds in medians.items()]
            title = f"{kind.upper()} {np.dtype(dtype).name}, batch {BATCH}, Adam"
            print_table(title, rows, "PyTorch (CPU)" if torch else rows[0][0])
            if torch:
                summary.append((title, rows[0][1] / rows[-1][1], rows[1][1] / rows[-1][1]))
    if summary:
        print("\nwengert epoch time / PyTorch epoch time (define-by-run, functional)")
        for title, a, b in summary:
            print(f"  {title:36} {a:5.2f}  {b:5.2f}")


if __name__ == "__main__":
    main()
