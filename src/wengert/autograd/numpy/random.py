"""autograd's `numpy.random`: `wengert.numpy.random` under autograd's name."""

from .._mirror import mirror

mirror(__name__, "wengert.numpy.random", "numpy.random")
