"""Datasets that need no network: scikit-learn's bundled digits, spirals and moons."""

from __future__ import annotations

import numpy as np

from ..nn import _checks

__all__ = ["load_digits", "make_moons", "make_spirals"]


def load_digits(as_images: bool = False, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """The 1797 handwritten digits bundled with scikit-learn (8x8 pixels, labels 0-9).

    Pixels are scaled to [0, 1]. Returns ``(x, y)``, `x` of shape (1797, 64), or
    (1797, 1, 8, 8) with `as_images`. Needs the optional scikit-learn
    (``pip install 'wengert[nn]'``).

    >>> from wengert.data import load_digits
    >>> x, y = load_digits()  # doctest: +SKIP
    >>> x.shape, y[:5]  # doctest: +SKIP
    ((1797, 64), array([0, 1, 2, 3, 4]))
    """
    as_images = _checks.boolean(as_images, "as_images", "load_digits")
    dtype = _checks.float_dtype(dtype, "dtype", "load_digits")
    try:
        from sklearn.datasets import load_digits as sk_load_digits
    except ImportError as err:
        raise ImportError(
            "load_digits needs scikit-learn, which bundles the data: pip install "
            "scikit-learn (or pip install 'wengert[nn]')."
        ) from err
    x, y = sk_load_digits(return_X_y=True)
    x = (x / 16.0).astype(dtype)
    if as_images:
        x = x.reshape(-1, 1, 8, 8)
    return x, y.astype(np.int64)


def make_spirals(
    n_per_class: int = 100,
    n_classes: int = 3,
    noise: float = 0.2,
    seed: int | np.random.Generator | None = None,
    dtype=np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms in the plane, one per class: a small problem that no
    linear model separates.

    >>> from wengert.data import make_spirals
    >>> x, y = make_spirals(50, 3, seed=0)
    >>> x.shape, sorted(set(y.tolist()))
    ((150, 2), [0, 1, 2])
    """
    where = "make_spirals"
    n_per_class = _checks.integer(n_per_class, "n_per_class", where, low=1)
    n_classes = _checks.integer(n_classes, "n_classes", where, low=1)
    noise = _checks.real(noise, "noise", where, low=0.0)
    rng = _checks.seed(seed, "seed", where)
    dtype = _checks.float_dtype(dtype, "dtype", where)
    radius = np.tile(np.linspace(0.0, 1.0, n_per_class), n_classes)
    labels = np.repeat(np.arange(n_classes), n_per_class)
    angle = (
        labels * (2 * np.pi / n_classes) + radius * 4.0 + rng.standard_normal(radius.size) * noise
    )
    x = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
    return x.astype(dtype), labels


def make_moons(
    n_samples: int = 200,
    noise: float = 0.1,
    seed: int | np.random.Generator | None = None,
    dtype=np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (labels 0 and 1) with Gaussian noise.

    >>> from wengert.data import make_moons
    >>> x, y = make_moons(10, seed=0)
    >>> x.shape, int(y.sum())
    ((10, 2), 5)
    """
    where = "make_moons"
    n_samples = _checks.integer(n_samples, "n_samples", where, low=2)
    noise = _checks.real(noise, "noise", where, low=0.0)
    rng = _checks.seed(seed, "seed", where)
    dtype = _checks.float_dtype(dtype, "dtype", where)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0.0, np.pi, n_out)
    t_in = np.linspace(0.0, np.pi, n_in)
    outer = np.stack([np.cos(t_out), np.sin(t_out)], axis=1)
    inner = np.stack([1.0 - np.cos(t_in), 0.5 - np.sin(t_in)], axis=1)
    x = np.concatenate([outer, inner]) + noise * rng.standard_normal((n_samples, 2))
    y = np.concatenate([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    return x.astype(dtype), y
