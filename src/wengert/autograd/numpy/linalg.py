"""autograd's `numpy.linalg`: `wengert.numpy.linalg` under autograd's name."""

from .._mirror import mirror

mirror(__name__, "wengert.numpy.linalg", "numpy.linalg")
