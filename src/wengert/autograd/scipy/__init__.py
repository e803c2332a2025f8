"""autograd's `scipy` namespace: `wengert.scipy` under autograd's name."""

from __future__ import annotations

from . import integrate, linalg, misc, signal, special, stats  # noqa: F401
