"""autograd's `scipy.special`: `wengert.scipy.special` under autograd's name."""

from .._mirror import mirror

mirror(__name__, "wengert.scipy.special", "scipy.special")
