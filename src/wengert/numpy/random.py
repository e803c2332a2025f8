"""NumPy's random module, re-exported: random draws carry no derivative."""

from numpy.random import *  # noqa: F403
from numpy.random import default_rng  # noqa: F401
