"""wengert.autograd's operators give HIPS autograd's numbers and layouts.

Each program is written once against a pair (autograd-like package, its numpy) and run
through HIPS autograd itself and through wengert.autograd; results must agree to 1e-10.
"""

from __future__ import annotations

import numpy as onp
import pytest

import wengert.autograd as wag
import wengert.autograd.numpy as wnp

ag = pytest.importorskip("autograd")
anp = pytest.importorskip("autograd.numpy")

SYSTEMS = {"autograd": (ag, anp), "wengert": (wag, wnp)}
RNG = onp.random.default_rng(0)
X = RNG.normal(size=3)
Y = RNG.normal(size=(3, 2))
A = RNG.normal(size=(3, 3))


def close(a, b):
    """Equal trees of arrays to 1e-10 (tuples, lists, dicts, scalars)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and sorted(a) == sorted(b)
        for k in a:
            close(a[k], b[k])
    elif isinstance(a, (tuple, list)):
        assert isinstance(b, (tuple, list)) and len(a) == len(b)
        for u, v in zip(a, b):
            close(u, v)
    else:
        assert onp.shape(a) == onp.shape(b)
        onp.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def run(program):
    """The program's result under autograd and under wengert.autograd."""
    return [program(*SYSTEMS[k]) for k in ("autograd", "wengert")]


def f2(np):
    return lambda x, y: np.sum(np.tanh(x) @ y**2) + np.prod(np.cos(y))


PROGRAMS = {
    "grad": lambda a, np: a.grad(f2(np))(X, Y),
    "grad argnum 1": lambda a, np: a.grad(f2(np), 1)(X, Y),
    "grad argnum tuple": lambda a, np: a.grad(f2(np), (0, 1))(X, Y),
    "grad of a size-1 output": lambda a, np: a.grad(lambda x: np.sum(x**3, keepdims=True))(X),
    "grad of a (1, 1) output": lambda a, np: a.grad(lambda x: np.dot(x, A @ x).reshape(1, 1))(X),
    "grad list argument": lambda a, np: a.grad(lambda p: np.sum(p[0] * p[1] ** 2))([X, X + 1.0]),
    "grad dict argument": lambda a, np: a.grad(lambda p: np.sum(p["w"] @ p["b"]))({"w": A, "b": X}),
    "grad keyword passed through": lambda a, np: a.grad(lambda x, k=2.0: np.sum(x**k))(X, k=3.0),
    "grad of complex input": lambda a, np: a.grad(lambda z: np.real(z * np.conj(z)))(1.0 + 2.0j),
    "holomorphic_grad": lambda a, np: a.holomorphic_grad(lambda z: np.sin(z) * z)(0.3 + 0.7j),
    "elementwise_grad": lambda a, np: a.elementwise_grad(np.tanh)(X),
    "deriv": lambda a, np: a.deriv(lambda x: np.sin(x) * x**2)(0.7),
    "jacobian": lambda a, np: a.jacobian(lambda x: np.tanh(A @ x) * x[0])(X),
    "jacobian of matrix output": lambda a, np: a.jacobian(lambda x: np.outer(x, x))(X),
    "jacobian argnum 1": lambda a, np: a.jacobian(lambda x, y: y @ x[:2], 1)(X, Y),
    "hessian": lambda a, np: a.hessian(lambda x: np.sum(np.exp(x) * x[::-1]) ** 2)(X),
    "hessian of a matrix argument": lambda a, np: a.hessian(lambda m: np.sum(np.tanh(m) ** 3))(Y),
    "value_and_grad": lambda a, np: a.value_and_grad(lambda x: np.sum(np.log1p(x**2)))(X),
    "grad_and_aux": lambda a, np: a.grad_and_aux(lambda x: (np.sum(x**2), x * 2))(X),
    "grad_named": lambda a, np: a.grad_named(lambda x, scale: np.sum(x * scale**2), "scale")(
        X, 1.5
    ),
    "make_vjp": lambda a, np: a.make_vjp(lambda x: np.sin(A @ x))(X)[0](X[::-1]),
    "make_vjp value": lambda a, np: a.make_vjp(lambda x: np.sin(A @ x))(X)[1],
    "make_jvp": lambda a, np: a.make_jvp(lambda x: np.sin(A @ x))(X)(X[::-1]),
    "make_hvp": lambda a, np: a.make_hvp(lambda x: np.sum(np.sin(x) ** 2))(X)[0](X[::-1]),
    "make_hvp gradient": lambda a, np: a.make_hvp(lambda x: np.sum(np.sin(x) ** 2))(X)[1],
    "hessian_tensor_product": lambda a, np: a.hessian_tensor_product(
        lambda x: np.sum(np.exp(x) * x)
    )(X, X[::-1]),
    "hessian_vector_product": lambda a, np: a.hessian_vector_product(
        lambda x, y: np.sum(np.exp(x) * y**3), 1
    )(X, X, X),
    "tensor_jacobian_product": lambda a, np: a.tensor_jacobian_product(
        lambda x: np.outer(np.sin(x), x)
    )(X, onp.ones((3, 3))),
    "vector_jacobian_product": lambda a, np: a.vector_jacobian_product(lambda x: A @ np.sin(x))(
        X, X
    ),
    "make_ggnvp": lambda a, np: a.make_ggnvp(lambda x: np.tanh(A @ x))(X)(X[::-1]),
    "checkpoint": lambda a, np: a.grad(
        lambda x: np.sum(a.checkpoint(lambda u: np.sin(np.sin(u)))(x) ** 2)
    )(X),
    "grad of grad": lambda a, np: a.grad(a.grad(lambda x: np.sin(x) * np.exp(x)))(0.4),
    "builtins.isinstance": lambda a, np: a.grad(
        lambda x: np.sum(x**2) if a.isinstance(x, onp.ndarray) else 0.0
    )(X),
    "builtins.tuple": lambda a, np: a.grad(lambda x: a.tuple((x, 2 * x))[1].sum())(X),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_same_numbers_as_autograd(name):
    expected, got = run(PROGRAMS[name])
    close(got, expected)


@pytest.mark.parametrize("operator", ["grad", "value_and_grad"], ids=["grad", "value_and_grad"])
def test_non_scalar_output_raises_type_error_as_in_autograd(operator):
    for a, np in SYSTEMS.values():
        with pytest.raises(TypeError, match="scalar-output"):
            getattr(a, operator)(lambda x: np.sin(x))(X)


def test_elementwise_grad_refuses_complex_output():
    with pytest.raises(TypeError, match="real-output"):
        wag.elementwise_grad(lambda z: z * 1j)(X)


def test_holomorphic_grad_warns_on_real_input():
    with pytest.warns(UserWarning, match="not complex"):
        wag.holomorphic_grad(lambda x: x**2)(2.0)


def test_operators_keep_the_function_name():
    def loss(x):
        return wnp.sum(x**2)

    assert wag.grad(loss).__name__ == "loss"


def test_multigrad_dict_gives_every_argument_by_name():
    # autograd's own multigrad_dict needs the funcsigs package; compare with grad instead.
    def f(x, y=1.5, *rest, scale, **extra):
        return wnp.sum(wnp.sin(x) * y**2) * scale + sum(rest) + extra["shift"] ** 2

    grads = wag.multigrad_dict(f)(X, 2.0, 0.5, scale=3.0, shift=0.25)
    assert list(grads) == ["x", "y", "rest", "scale", "extra"]
    close(grads["x"], wag.grad(f)(X, 2.0, 0.5, scale=3.0, shift=0.25))
    close(grads["y"], wag.grad(f, 1)(X, 2.0, 0.5, scale=3.0, shift=0.25))
    close(grads["rest"], (1.0,))
    close(grads["scale"], onp.sum(onp.sin(X) * 4.0))
    close(grads["extra"]["shift"], 0.5)
