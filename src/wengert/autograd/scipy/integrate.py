"""autograd's `scipy.integrate`: `wengert.scipy.integrate` under autograd's name."""

from .._mirror import mirror

mirror(__name__, "wengert.scipy.integrate")
