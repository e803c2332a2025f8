"""Data for training: a seeded mini-batch loader, a train/test split, and datasets that
need no network (scikit-learn's bundled digits; synthetic spirals and moons)."""

from __future__ import annotations

from .datasets import load_digits, make_moons, make_spirals
from .loader import DataLoader, train_test_split

__all__ = ["DataLoader", "load_digits", "make_moons", "make_spirals", "train_test_split"]
