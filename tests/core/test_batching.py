"""Batching rules: every primitive mapped over a batch equals a loop over the members.

Each row maps a function over a batch with `vmap` and compares with stacking the
function's results member by member; rows cover each primitive with a batching rule in
every combination of batched and unbatched arguments. Then: the loop fallback, rules
registered by hand, elementwise primitives recognised without a table, batch boxes'
behaviour, nesting, and derivatives taken through batched evaluation.
"""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert._core import vspace
from wengert._core.batching import BatchBox, BatchTrace, loop_primitives, vmap
from wengert._core.primitive import Primitive
from wengert.errors import TracedConversionError
from wengert.numpy import manipulation, sorting

R = onp.random.default_rng(7)
B = 3  # batch size


def batch(*shape):
    return R.normal(size=(B, *shape))


def one(*shape):
    return R.normal(size=shape)


def looped(fun, args, in_axes):
    """The reference: `fun` applied to each member, results stacked."""
    outs = []
    for i in range(B):
        member = [a if ax is None else onp.take(a, i, axis=ax) for a, ax in zip(args, in_axes)]
        outs.append(onp.asarray(fun(*member)))
    return onp.stack(outs)


one_m = R.normal(size=(2, 4))
one_v = R.normal(size=4)
one_s = R.normal(size=(5, 4, 2))
one_sq = R.normal(size=(3, 3)) + 3 * onp.eye(3)
one_stack = R.normal(size=(2, 3, 3)) + 3 * onp.eye(3)
TIES = onp.array([[1.0, 3.0, 1.0], [2.0, 2.0, 0.0]])
GROUPS = onp.array([[0, 1], [0, 2]])

# (id, function, arguments, in_axes); constants the functions use are fixed above.
CASES = [
    # elementwise, broadcasting, where
    ("sin", wnp.sin, [batch(4)], (0,)),
    ("exp 0-d", wnp.exp, [batch()], (0,)),
    ("add bb", wnp.add, [batch(2, 3), batch(3)], (0, 0)),
    ("multiply bu", wnp.multiply, [batch(3), one(2, 3)], (0, None)),
    ("multiply ub", wnp.multiply, [one(2, 1), batch(4)], (None, 0)),
    ("power", wnp.power, [onp.abs(batch(3)) + 0.5, one(3)], (0, None)),
    ("maximum", wnp.maximum, [batch(3), one()], (0, None)),
    ("true_divide", lambda x, y: x / y, [batch(2), 2.0 + onp.abs(batch(2, 2))], (0, 0)),
    (
        "where",
        lambda x, y: wnp.where(onp.array([True, False, True]), x, y),
        [batch(3), one()],
        (0, None),
    ),
    (
        "where both",
        lambda x, y: wnp.where(onp.array([[True], [False]]), x, y),
        [batch(3), batch(2, 3)],
        (0, 0),
    ),
    ("abs", wnp.abs, [batch(3)], (0,)),
    (
        "real imag conj",
        lambda z: wnp.real(z) * wnp.imag(z) + wnp.conj(z).real,
        [batch(3) + 1j * batch(3)],
        (0,),
    ),
    ("astype", lambda x: wnp.astype(x, onp.float32), [batch(3)], (0,)),
    ("positive negative", lambda x: +x - (-x), [batch(2)], (0,)),
    # reductions
    ("sum all", wnp.sum, [batch(2, 3)], (0,)),
    ("sum axis", lambda x: wnp.sum(x, axis=-1, keepdims=True), [batch(2, 3)], (0,)),
    ("mean axes", lambda x: wnp.mean(x, axis=(0, 2)), [batch(2, 3, 4)], (0,)),
    ("prod", lambda x: wnp.prod(x, axis=0), [batch(2, 3)], (0,)),
    ("max", lambda x: wnp.max(x, axis=1), [batch(2, 3)], (0,)),
    ("min all", wnp.min, [batch(4)], (0,)),
    ("sum positional axis", lambda x: wnp.sum(x, 1), [batch(2, 3)], (0,)),
    # shapes
    ("reshape", lambda x: wnp.reshape(x, (3, -1)), [batch(2, 3)], (0,)),
    ("reshape F", lambda x: wnp.reshape(x, (3, 2), order="F"), [batch(2, 3)], (0,)),
    ("ravel", wnp.ravel, [batch(2, 3)], (0,)),
    ("ravel F", lambda x: wnp.ravel(x, order="F"), [batch(2, 3)], (0,)),
    ("transpose", wnp.transpose, [batch(2, 3, 4)], (0,)),
    ("transpose axes", lambda x: wnp.transpose(x, (2, -3, 1)), [batch(2, 3, 4)], (0,)),
    (".T", lambda x: x.T, [batch(2, 3)], (0,)),
    ("moveaxis", lambda x: wnp.moveaxis(x, [0, 1], [-1, 0]), [batch(2, 3, 4)], (0,)),
    ("swapaxes", lambda x: wnp.swapaxes(x, 0, -1), [batch(2, 3)], (0,)),
    ("expand_dims", lambda x: wnp.expand_dims(x, (0, -1)), [batch(2)], (0,)),
    ("squeeze all", wnp.squeeze, [batch(1, 3, 1)], (0,)),
    ("squeeze axis", lambda x: wnp.squeeze(x, -1), [batch(1, 3, 1)], (0,)),
    ("broadcast_to", lambda x: wnp.broadcast_to(x, (2, 3)), [batch(3)], (0,)),
    ("sum_to_shape", lambda x: vspace.sum_to_shape(x, (1, 3)), [batch(4, 2, 3)], (0,)),
    (
        "concatenate",
        lambda x, y: wnp.concatenate([x, y], axis=-1),
        [batch(2, 2), one(2, 3)],
        (0, None),
    ),
    (
        "concatenate None",
        lambda x, y: wnp.concatenate([x, y], axis=None),
        [batch(2, 2), batch(3)],
        (0, 0),
    ),
    ("stack", lambda x, y: wnp.stack([x, y], axis=-1), [one(3), batch(3)], (None, 0)),
    # indexing
    ("slice", lambda x: x[1:, ::-1], [batch(3, 4)], (0,)),
    ("int and None", lambda x: x[1, None, :2], [batch(3, 4)], (0,)),
    ("ellipsis", lambda x: x[..., 1], [batch(2, 3, 4)], (0,)),
    ("advanced", lambda x: x[[0, 2, 2]], [batch(3, 4)], (0,)),
    ("advanced apart", lambda x: x[[0, 1], :, [1, 0]], [batch(2, 3, 4)], (0,)),
    ("advanced adjacent", lambda x: x[:, [0, 1], [1, 0]], [batch(2, 3, 4)], (0,)),
    ("advanced ellipsis", lambda x: x[[1, 0], ..., [2, 2]], [batch(2, 3, 4)], (0,)),
    ("boolean mask", lambda x: x[onp.array([True, False, True])], [batch(3, 2)], (0,)),
    ("mask 2-d", lambda x: x[onp.array([[True, False], [False, True]])], [batch(2, 2)], (0,)),
    (
        "index_update",
        lambda x, y: wnp.index_update(x, (slice(None), 1), y),
        [batch(2, 3), batch(2)],
        (0, 0),
    ),
    ("index_update x", lambda x: wnp.index_update(x, [0, 0], 5.0), [batch(3)], (0,)),
    (
        "index_update y",
        lambda y: wnp.index_update(onp.zeros((2, 3)), (..., 0), y),
        [batch(2)],
        (0,),
    ),
    ("index_add repeats", lambda y: wnp.index_add(onp.ones(4), [0, 0, 3], y), [batch(3)], (0,)),
    ("index_add x", lambda x: wnp.index_add(x, onp.array([1, 1]), 2.0), [batch(3)], (0,)),
    # products
    ("matmul mv", lambda x: one_m @ x, [batch(4)], (0,)),
    ("matmul vm", lambda x: x @ one_m.T, [batch(4)], (0,)),
    ("matmul mm", lambda x: x @ one_m.T, [batch(2, 4)], (0,)),
    ("matmul Mm", lambda x: one_m @ x, [batch(4, 2)], (0,)),
    ("matmul vv", lambda x: x @ one_v, [batch(4)], (0,)),
    ("matmul v·v", lambda x: one_v @ x, [batch(4)], (0,)),
    ("matmul v·M", lambda x: one_v @ x, [batch(4, 2)], (0,)),
    ("matmul stacked", lambda x: x @ one_s, [batch(4)], (0,)),
    ("matmul stacked left", lambda x: one_s.transpose(0, 2, 1) @ x, [batch(4, 2)], (0,)),
    ("matmul high rank", lambda x, y: x @ y, [batch(5, 2, 4), one(4, 3)], (0, None)),
    ("matmul broadcast", lambda x, y: x @ y, [batch(2, 4), one(5, 4, 1)], (0, None)),
    ("matmul both", lambda x, y: x @ y, [batch(2, 4), batch(4, 3)], (0, 0)),
    ("matmul both vectors", lambda x, y: x @ y, [batch(4), batch(4)], (0, 0)),
    ("matmul both mv", lambda x, y: x @ y, [batch(2, 4), batch(4)], (0, 0)),
    ("matmul both vm", lambda x, y: x @ y, [batch(4), batch(4, 2)], (0, 0)),
    ("dot", lambda x: wnp.dot(x, one_m.T), [batch(4)], (0,)),
    ("tensordot a", lambda x: wnp.tensordot(x, one_m.T, axes=1), [batch(3, 4)], (0,)),
    ("tensordot positional", lambda x: wnp.tensordot(one_m, x, 1), [batch(4, 2)], (0,)),
    ("tensordot b", lambda x: wnp.tensordot(one_m[:, :3], x, axes=([1], [0])), [batch(3, 4)], (0,)),
    (
        "tensordot both",
        lambda x, y: wnp.tensordot(x, y, axes=([0, 1], [1, 0])),
        [batch(2, 3, 4), batch(3, 2)],
        (0, 0),
    ),
    ("einsum", lambda x: wnp.einsum("ij,jk->ik", x, one_m.T), [batch(3, 4)], (0,)),
    (
        "einsum ellipsis",
        lambda x, y: wnp.einsum("...i,...i->...", x, y),
        [batch(2, 3), one(3)],
        (0, None),
    ),
    ("einsum diagonal", lambda x: wnp.einsum("ii->i", x), [batch(3, 3)], (0,)),
    (
        "einsum three",
        lambda x, y: wnp.einsum("ij,jk,k->i", x, one_m.T[:3], y),
        [batch(2, 3), batch(2)],
        (0, 0),
    ),
    ("outer", wnp.outer, [batch(2), one(3)], (0, None)),
    # linear algebra (stacks of matrices), FFTs and axis-taking functions
    ("inv", wnp.linalg.inv, [batch(3, 3) + 3 * onp.eye(3)], (0,)),
    ("det", wnp.linalg.det, [batch(2, 3, 3)], (0,)),
    ("slogdet", lambda a: wnp.linalg.slogdet(a)[1], [batch(3, 3)], (0,)),
    ("cholesky", lambda a: wnp.linalg.cholesky(a @ a.T + onp.eye(3)), [batch(3, 3)], (0,)),
    ("eigh", lambda a: wnp.linalg.eigh(a + a.T)[0], [batch(3, 3)], (0,)),
    ("eigvalsh", lambda a: wnp.linalg.eigvalsh(a + a.T), [batch(3, 3)], (0,)),
    ("svd", lambda a: wnp.linalg.svd(a, full_matrices=False)[1], [batch(3, 2)], (0,)),
    ("qr", lambda a: wnp.abs(wnp.linalg.qr(a)[1]), [batch(3, 2)], (0,)),
    ("pinv", wnp.linalg.pinv, [batch(3, 2)], (0,)),
    ("solve vector", lambda b: wnp.linalg.solve(one_sq, b), [batch(3)], (0,)),
    (
        "solve matrix",
        lambda a, b: wnp.linalg.solve(a, b),
        [batch(3, 3) + 3 * onp.eye(3), one(3, 2)],
        (0, None),
    ),
    ("solve stack", lambda b: wnp.linalg.solve(one_stack, b), [batch(3, 1)], (0,)),
    ("norm", lambda x: wnp.linalg.norm(x, axis=-1), [batch(2, 3)], (0,)),
    ("norm ord", lambda x: wnp.linalg.norm(x, ord=3), [batch(4)], (0,)),
    ("fft", lambda x: wnp.real(wnp.fft.fft(x)), [batch(2, 4)], (0,)),
    (
        "rfft irfft",
        lambda x: wnp.fft.irfft(wnp.fft.rfft(x, axis=0), n=2, axis=0),
        [batch(2, 4)],
        (0,),
    ),
    ("cumsum", wnp.cumsum, [batch(2, 3)], (0,)),
    ("cumsum axis", lambda x: wnp.cumsum(x, axis=0), [batch(2, 3)], (0,)),
    ("cumprod", lambda x: wnp.cumprod(x, axis=-1), [batch(2, 3)], (0,)),
    ("sort", lambda x: wnp.sort(x, axis=0), [batch(3, 2)], (0,)),
    ("split", lambda x: wnp.split(x, 2, axis=-1)[1], [batch(2, 4)], (0,)),
    ("sort with ties", lambda x: wnp.sort(x * 0.0 + TIES, axis=-1) * x, [batch(2, 3)], (0,)),
    ("tie_average", lambda x: sorting._tie_average(x, GROUPS), [batch(2, 2)], (0,)),
    # in_axes other than 0
    ("in_axes 1", lambda x: wnp.sum(x * x), [one(4, B)], (1,)),
]


@pytest.mark.parametrize("fun, args, in_axes", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_vmap_equals_loop(fun, args, in_axes):
    expected = looped(fun, args, in_axes)
    out = vmap(fun, in_axes)(*args)
    assert onp.shape(out) == expected.shape
    onp.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_namespace_primitives_need_no_loop():
    from wengert.numpy import contractions, elementwise, fft, indexing, linalg, reductions, shaping

    before = set(loop_primitives())
    for fun, args, in_axes in [c[1:] for c in CASES]:
        vmap(fun, in_axes)(*args)
    modules = (
        contractions,
        elementwise,
        fft,
        indexing,
        linalg,
        manipulation,
        reductions,
        shaping,
        vspace,
    )
    names = {
        p.name
        for m in modules
        for p in vars(m).values()
        if (isinstance(p, Primitive) and not getattr(p, "nondifferentiable", False))
    }
    assert not names & (set(loop_primitives()) - before)


# --- the loop fallback, and registered rules -------------------------------------------------

_cube_calls = []


def _cube_impl(x):
    _cube_calls.append(onp.shape(x))
    return x**3


def test_unknown_primitive_falls_back_to_a_loop():
    cube = Primitive(_cube_impl, "cube_for_loop_test")
    cube.defvjp(lambda g, ans, x: g * 3.0 * x**2)
    cube.defjvp(lambda t, ans, x: t * 3.0 * x**2)
    x = batch(4)
    _cube_calls.clear()
    out = vmap(cube)(x)
    onp.testing.assert_allclose(out, x**3)
    assert _cube_calls == [(4,)] * B  # one call per member
    assert "cube_for_loop_test" in loop_primitives()
    # Its derivatives still come out right through the loop.
    jac = wg.jacfwd(lambda v: cube(wnp.sin(v)))(x[0])
    onp.testing.assert_allclose(jac, onp.diag(3 * onp.sin(x[0]) ** 2 * onp.cos(x[0])))


def test_loop_fallback_with_several_results():
    sincos = Primitive(lambda x: (onp.sin(x), onp.cos(x)), "sincos_loop", multiple_results=True)
    x = batch(2)
    s, c = vmap(lambda v: sincos(v))(x)
    onp.testing.assert_allclose(s, onp.sin(x))
    onp.testing.assert_allclose(c, onp.cos(x))


def test_defbatch_rule_is_used():
    calls = []
    double = Primitive(lambda x: 2.0 * x, "double_with_rule")
    double.defjvp(lambda t, ans, x: double(t))

    def rule(batched, x):
        calls.append(batched)
        return double(x)

    double.defbatch(rule)
    x = batch(3)
    onp.testing.assert_allclose(vmap(double)(x), 2.0 * x)
    assert calls == [(True,)]
    assert "double_with_rule" not in loop_primitives()


def test_primitives_declared_elementwise_broadcast():
    avg = Primitive(lambda x, y: 0.5 * (x + y), "avg_for_test", elementwise=True)
    onp.testing.assert_allclose(
        vmap(avg, (0, None))(x := batch(2), y := one(3, 1)), 0.5 * (x[:, None, :] + y)
    )


def test_ufunc_primitives_are_recognised_as_elementwise():
    hypot = Primitive(onp.hypot, "hypot_ufunc_test", broadcasts=True)
    x, y = batch(3), one(2, 3)
    onp.testing.assert_allclose(vmap(hypot, (0, None))(x, y), onp.hypot(x[:, None], y))
    assert "hypot_ufunc_test" not in loop_primitives()


# --- batch boxes ---------------------------------------------------------------------------


def test_batch_box_looks_like_one_member():
    trace = BatchTrace(B)
    try:
        box = trace.new_input(batch(2, 3))
        assert box.shape == (2, 3) and box.ndim == 2 and box.size == 6 and len(box) == 2
        assert [b.shape for b in box] == [(3,), (3,)]
        assert isinstance(box + 1.0, BatchBox)
        with pytest.raises(TracedConversionError):
            bool(box)
        with pytest.raises(TracedConversionError):
            int(box)
        with pytest.raises(ValueError, match="leading axis"):
            trace.new_input(one(2))
    finally:
        trace.alive = False


def test_vmap_errors():
    with pytest.raises(ValueError, match="in_axes has 1 entries"):
        vmap(wnp.add, (0,))(batch(2), batch(2))
    with pytest.raises(ValueError, match="no argument is mapped"):
        vmap(wnp.sin, None)(one(2))
    with pytest.raises(ValueError, match="different sizes"):
        vmap(wnp.add)(batch(2), one(4, 2))


# --- nesting and derivatives ------------------------------------------------------------------


def test_nested_vmap():
    x = R.normal(size=(2, B, 4))
    out = vmap(vmap(lambda v: wnp.sum(wnp.sin(v) * v)))(x)
    onp.testing.assert_allclose(out, onp.sum(onp.sin(x) * x, axis=-1))


def test_vmap_of_jvp_is_a_jacobian():
    f = lambda x: wnp.tanh(one_m @ x) * wnp.sum(x)
    x = one(4)
    columns = vmap(lambda t: wg.jvp(f, (x,), (t,))[1])(onp.eye(4))
    onp.testing.assert_allclose(columns.T, wg.numeric.jacobian(f, x), rtol=1e-8, atol=1e-10)


def test_gradient_through_vmap():
    data = batch(4)

    def loss(w):
        per_member = vmap(lambda d: wnp.sum(wnp.tanh(one_m @ (d * w))) ** 2)(data)
        return wnp.sum(per_member)

    wg.check_grads(loss, modes=("fwd", "rev"), order=2)(one(4))


def test_vmap_tree_arguments():
    tree = {"a": batch(2), "b": (batch(), batch(2))}
    out = vmap(lambda t, c: t["a"] * t["b"][0] + t["b"][1] * c, (0, None))(tree, 3.0)
    onp.testing.assert_allclose(out, tree["a"] * tree["b"][0][:, None] + 3.0 * tree["b"][1])


def test_unbatched_result_is_repeated():
    out = vmap(lambda x: onp.ones(2))(batch(3))
    assert out.shape == (B, 2)


def test_rules_of_other_modules():
    functional = pytest.importorskip("wengert.nn.functional")
    special = pytest.importorskip("wengert.scipy.special")
    cases = [
        (functional.relu, {}),
        (functional.leaky_relu, {"negative_slope": 0.2}),
        (functional.sigmoid, {}),
        (functional.softplus, {}),
        (functional.normal_cdf, {}),
        (functional.softmax, {"axis": 0}),
        (functional.log_softmax, {}),
        (functional.logsumexp, {"axis": 0, "keepdims": True}),
        (special.softmax, {}),
        (special.log_softmax, {"axis": -1}),
        (lambda x: special.polygamma(1, x), {}),
    ]
    x = onp.abs(batch(2, 3)) + 0.5
    for fun, kwargs in cases:
        f = lambda v, fun=fun, kwargs=kwargs: fun(v, **kwargs)
        onp.testing.assert_allclose(vmap(f)(x), looped(f, [x], (0,)), rtol=1e-12)
    looped_names = set(loop_primitives())
    for name in ("relu", "sigmoid", "softmax", "log_softmax", "polygamma"):
        assert name not in looped_names


def test_batched_keyword_arguments_of_functions_without_derivative():
    a = onp.stack([onp.diag([1.0, 1e-9, 1.0]), onp.eye(3), onp.diag([1.0, 2.0, 0.0])])
    tol = onp.array([1e-6, 1e-6, 0.5])
    got = vmap(lambda a, t: wnp.linalg.matrix_rank(a, tol=t))(a, tol)
    onp.testing.assert_array_equal(got, [onp.linalg.matrix_rank(m, tol=t) for m, t in zip(a, tol)])


def test_logical_operators_on_masks_under_vmap_and_grad():
    x = R.normal(size=(B, 5))
    got = vmap(lambda v: wnp.where((v > 0) & ~(v > 1) | (v < -1), v, 0.0))(x)
    expected = onp.where((x > 0) & ~(x > 1) | (x < -1), x, 0.0)
    onp.testing.assert_array_equal(got, expected)
    g = wg.grad(lambda v: wnp.sum(wnp.where((v > 0) ^ (v > 1), v**2, 0.0)))(x[0])
    onp.testing.assert_allclose(g, onp.where((x[0] > 0) ^ (x[0] > 1), 2 * x[0], 0.0))


def test_array_methods_without_derivative_see_one_member_under_vmap():
    x = onp.array([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    onp.testing.assert_array_equal(wg.vmap(lambda v: v.argmax())(x), [0, 1])
    onp.testing.assert_array_equal(wg.vmap(lambda v: v.argsort())(x), onp.argsort(x, axis=1))
    onp.testing.assert_array_equal(wg.vmap(lambda v: (v > 2.5).any())(x), [True, True])
    onp.testing.assert_array_equal(wg.vmap(lambda v: (v > 0.5).all())(x), [True, False])
