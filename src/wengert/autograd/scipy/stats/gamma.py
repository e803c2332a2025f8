"""autograd's `scipy.stats.gamma`: `wengert.scipy.stats.gamma` under autograd's name."""

from ..._mirror import mirror

mirror(__name__, "wengert.scipy.stats.gamma")
