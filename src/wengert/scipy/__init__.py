"""Differentiable SciPy: ``special``, ``stats``, ``linalg``, ``signal`` and ``integrate``.

Values come from SciPy; derivatives from known identities, written with wengert's own
functions so that derivatives of derivatives work. SciPy is an optional dependency:
``pip install "wengert[scipy]"``.

>>> import wengert as wg
>>> from wengert.scipy import special
>>> round(float(wg.grad(special.gammaln)(3.0)), 6)  # digamma(3) = 3/2 - Euler's gamma
0.922784
"""

from __future__ import annotations

try:
    import scipy  # noqa: F401
except ImportError as err:  # pragma: no cover - exercised in a test with SciPy hidden
    raise ImportError(
        'wengert.scipy needs SciPy, which is not installed: pip install "wengert[scipy]" '
        '(or pip install "scipy>=1.10").'
    ) from err

from . import integrate, linalg, signal, special, stats

__all__ = ["integrate", "linalg", "signal", "special", "stats"]
