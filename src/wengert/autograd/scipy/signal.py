"""autograd's `scipy.signal`: `wengert.scipy.signal` under autograd's name."""

from .._mirror import mirror

mirror(__name__, "wengert.scipy.signal", "scipy.signal")
