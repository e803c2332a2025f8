"""autograd's `numpy.fft`: `wengert.numpy.fft` under autograd's name."""

from .._mirror import mirror

mirror(__name__, "wengert.numpy.fft", "numpy.fft")
