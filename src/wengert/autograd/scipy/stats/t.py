"""autograd's `scipy.stats.t`: `wengert.scipy.stats.t` under autograd's name."""

from ..._mirror import mirror

mirror(__name__, "wengert.scipy.stats.t")
