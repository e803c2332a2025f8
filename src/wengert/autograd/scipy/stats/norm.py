"""autograd's `scipy.stats.norm`: `wengert.scipy.stats.norm` under autograd's name."""

from ..._mirror import mirror

mirror(__name__, "wengert.scipy.stats.norm")
