"""autograd's `scipy.linalg`: `wengert.scipy.linalg` under autograd's name."""

from .._mirror import mirror

mirror(__name__, "wengert.scipy.linalg", "scipy.linalg")
