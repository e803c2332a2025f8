import numpy as np
import pytest

from wengert._core.primitive import Primitive


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def own_primitives():
    """A function listing the primitives a module defines itself (by name)."""

    def primitives(module) -> dict[str, Primitive]:
        return {
            v.name: v
            for v in vars(module).values()
            if (isinstance(v, Primitive) and not getattr(v, "nondifferentiable", False))
            and getattr(v.fun, "__module__", None) == module.__name__
        }

    return primitives
