"""Derivatives over Dask arrays stay lazy, keep the array type and chunks, and equal NumPy's.

The gradient with respect to a NumPy argument through a Dask array (``w`` in ``X @ w``) is
a Dask array too: nothing is computed until ``.compute()``.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

da = pytest.importorskip("dask.array")

import wengert as wg  # noqa: E402
import wengert.numpy as wnp  # noqa: E402

TOL = dict(rtol=1e-12, atol=1e-12)


@pytest.fixture
def no_compute(monkeypatch):
    """Make any eager read of a Dask array's entries (np.asarray, bool, float) raise."""

    def refuse(self, *args, **kwargs):
        raise AssertionError("a Dask array was computed eagerly")

    for name in ("__array__", "__bool__", "__float__", "__int__", "__index__", "__complex__"):
        monkeypatch.setattr(da.Array, name, refuse)
    yield
    monkeypatch.undo()


def _data(shape=(40, 6), chunks=(10, 3), seed=0, positive=False):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 2.0, size=shape) if positive else rng.normal(size=shape)
    return x, da.from_array(x, chunks=chunks)


def _logistic_data():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 5))
    y = (x @ np.ones(5) > 0).astype(float)
    return x, y, da.from_array(x, chunks=(50, 5)), da.from_array(y, chunks=50)


def _logistic(x, y):
    return lambda w: wnp.mean(wnp.logaddexp(0.0, x @ w) - y * (x @ w))


W0 = np.linspace(-0.5, 0.5, 5)


# One function of x per case: elementwise functions, reductions, products, broadcasting,
# indexing, where, shapes. Each is checked in both modes against the same code on NumPy.
CASES = {
    "exp": (lambda x: wnp.sum(wnp.exp(x)), False),
    "log": (lambda x: wnp.sum(wnp.log(x)), True),
    "sqrt": (lambda x: wnp.sum(wnp.sqrt(x)), True),
    "tanh": (lambda x: wnp.sum(wnp.tanh(x)), False),
    "sin": (lambda x: wnp.sum(wnp.sin(x)), False),
    "logaddexp": (lambda x: wnp.sum(wnp.logaddexp(0.0, x) + wnp.logaddexp(x, 2 * x)), False),
    "arithmetic": (lambda x: wnp.sum(x * x / (1.0 + x * x) - x**3), False),
    "abs": (lambda x: wnp.sum(wnp.abs(x)), False),
    "maximum": (lambda x: wnp.sum(wnp.maximum(x, 0.0) * x), False),
    "sum_axis0": (lambda x: wnp.sum(wnp.sum(x, axis=0) ** 2), False),
    "sum_keepdims": (lambda x: wnp.sum(wnp.sum(x, axis=1, keepdims=True) * x), False),
    "mean": (lambda x: wnp.mean(x**2), False),
    "mean_axis0": (lambda x: wnp.sum(wnp.mean(x, axis=0) ** 2), False),
    "mean_keepdims": (lambda x: wnp.sum(wnp.mean(x, axis=1, keepdims=True) * x), False),
    "methods": (lambda x: (x**2).sum(axis=0).mean(), False),
    "matmul_numpy_vector": (lambda x: wnp.sum((x @ np.arange(6.0)) ** 2), False),
    "dot_numpy_vector": (lambda x: wnp.sum(wnp.dot(x, np.arange(6.0)) ** 2), False),
    "matmul_transpose": (lambda x: wnp.sum(wnp.tanh(x.T @ x)), False),
    "broadcast_row": (lambda x: wnp.sum((x + np.arange(6.0)) ** 2), False),
    "broadcast_column": (lambda x: wnp.sum((x[:, :1] * x) ** 2), False),
    "slices": (lambda x: wnp.sum(x[2:30:3, 1:4] ** 2) + wnp.sum(x[5] ** 3), False),
    "where": (lambda x: wnp.sum(wnp.where(x > 0, x**2, -x)), False),
    "reshape": (lambda x: wnp.sum(wnp.reshape(x, (4, 10, 6)) ** 2 * np.arange(6.0)), False),
}


@pytest.mark.parametrize("name", list(CASES))
def test_grad_and_jvp_lazy_and_equal_to_numpy(name, no_compute):
    fun, positive = CASES[name]
    x, xd = _data(positive=positive)
    tangent = np.cos(np.arange(x.size)).reshape(x.shape)
    grad = wg.grad(fun)(xd)
    _, jvp = wg.jvp(fun, (xd,), (tangent,))
    assert isinstance(grad, da.Array) and isinstance(jvp, da.Array)
    assert grad.chunks[0] == xd.chunks[0]  # the input's row blocks, not one block
    expected_grad = wg.grad(fun)(x)
    expected_jvp = wg.jvp(fun, (x,), (tangent,))[1]
    computed_grad, computed_jvp = da.compute(grad, jvp)
    np.testing.assert_allclose(computed_grad, expected_grad, **TOL)
    np.testing.assert_allclose(computed_jvp, expected_jvp, **TOL)


def test_logistic_loss_grad_vjp_jvp_value_and_grad(no_compute):
    x, y, xd, yd = _logistic_data()
    loss, lazy_loss = _logistic(x, y), _logistic(xd, yd)
    tangent = np.arange(5.0)

    grad = wg.grad(lazy_loss)(W0)
    value, grad2 = wg.value_and_grad(lazy_loss)(W0)
    out, pullback = wg.vjp(lazy_loss, W0)
    (vjp,) = pullback(1.0)
    out_j, jvp = wg.jvp(lazy_loss, (W0,), (tangent,))
    lazy = (grad, value, grad2, out, vjp, out_j, jvp)
    assert all(isinstance(v, da.Array) for v in lazy)

    computed = da.compute(*lazy)
    ref_value, ref_grad = wg.value_and_grad(loss)(W0)
    ref_jvp = wg.jvp(loss, (W0,), (tangent,))[1]
    for got, want in zip(computed, (ref_grad, ref_value, ref_grad, ref_value, ref_grad)):
        np.testing.assert_allclose(got, want, **TOL)
    np.testing.assert_allclose(computed[5], ref_value, **TOL)
    np.testing.assert_allclose(computed[6], ref_jvp, **TOL)


def test_nothing_computed_before_compute():
    x, y, _, yd = _logistic_data()
    calls = []

    def counted(block):
        calls.append(block.shape)
        return block

    xd = da.from_array(x, chunks=(50, 5)).map_blocks(counted, dtype=float, meta=np.empty((0, 0)))
    calls.clear()
    grad = wg.grad(_logistic(xd, yd))(W0)
    assert isinstance(grad, da.Array)
    assert calls == []
    np.testing.assert_allclose(grad.compute(), wg.grad(_logistic(x, y))(W0), **TOL)
    assert len(calls) >= 4  # every block was read when computed


def test_dask_matrix_times_dask_vector(no_compute):
    x, xd = _data()
    v, vd = _data(shape=(6,), chunks=3, seed=2)

    def fun(w, vec):
        return wnp.sum(wnp.exp(w @ vec))

    grads = wg.grad(fun, argnums=(0, 1))(xd, vd)
    assert all(isinstance(g, da.Array) for g in grads)
    assert grads[0].chunks == xd.chunks
    computed = da.compute(*grads)
    expected = wg.grad(fun, argnums=(0, 1))(x, v)
    for got, want in zip(computed, expected):
        np.testing.assert_allclose(got, want, **TOL)


def test_grad_through_dask_to_numpy_argument_is_dask(no_compute):
    x, xd = _data()
    w = np.linspace(1.0, 2.0, 6)

    def fun(w, x):
        return wnp.sum(wnp.tanh(x * w))  # w broadcast against x: summed back lazily

    grad = wg.grad(fun)(w, xd)
    assert isinstance(grad, da.Array) and grad.shape == (6,)
    np.testing.assert_allclose(grad.compute(), wg.grad(fun)(w, x), **TOL)


def test_gradient_of_reduction_keeps_chunks():
    x, xd = _data(shape=(100, 8), chunks=(10, 4))
    grad = wg.grad(lambda x: wnp.sum(wnp.mean(x, axis=0) ** 2))(xd)
    assert grad.chunks == xd.chunks and grad.numblocks == (10, 2)
    np.testing.assert_allclose(grad.compute(), 2 * np.mean(x, axis=0) / 100 * np.ones_like(x))


def test_boolean_dask_mask_refused_with_clear_error():
    _, xd = _data()
    with pytest.raises(TypeError, match=r"getitem.*dask.*scatter-add"):
        wg.grad(lambda x: wnp.sum(x[x > 0] ** 2))(xd)


# Advanced indices of NumPy constants, in every form NumPy takes (Dask itself takes one
# 1-d integer array at a time): gathered, scattered back and written lazily.
INDICES = {
    "integer_array": np.array([0, 1, 1, 39]),
    "list": [0, 2, -1],
    "two_d": np.array([[3, 3], [0, 17]]),
    "pairs": (np.array([0, 5, 5]), np.array([2, 0, 2])),
    "mixed": (slice(3, 20, 4), np.array([1, 1, 5])),
    "mask": np.arange(40) % 3 == 0,
    "full_mask": np.arange(240).reshape(40, 6) % 7 == 1,
    "newaxis": (None, np.array([4, 2]), Ellipsis, 0),
}


@pytest.mark.parametrize("index", list(INDICES.values()), ids=list(INDICES))
def test_advanced_indices_of_constants_stay_lazy(index, no_compute):
    x, xd = _data()

    def gather(x):
        return wnp.sum(wnp.sin(x[index]) ** 2)

    def write(x):
        y = wnp.at(x)[index].add(1.5 * x[index]) * 2.0
        return wnp.sum(wnp.at(y)[index].set(wnp.cos(x[index])) ** 2)

    for fun in (gather, write):
        grad = wg.grad(fun)(xd)
        _, tangent = wg.jvp(fun, (xd,), (xd * 0.5,))
        assert isinstance(grad, da.Array) and grad.chunks == xd.chunks
        computed_grad, computed_tangent = da.compute(grad, tangent)
        np.testing.assert_allclose(computed_grad, wg.grad(fun)(x), **TOL)
        np.testing.assert_allclose(computed_tangent, wg.jvp(fun, (x,), (x * 0.5,))[1], **TOL)


def test_gradient_through_a_lazy_integer_index_along_the_first_axis(no_compute):
    """An embedding table (NumPy) looked up at tokens that are Dask data: the gradient is a
    lazy scatter-add over the tokens' chunks, equal to NumPy's."""
    rng = np.random.default_rng(3)
    table = rng.normal(size=(7, 3)).astype(np.float32)
    tokens = rng.integers(-7, 7, size=(60, 2))
    lazy_tokens = da.from_array(tokens, chunks=(15, 2))

    def loss(table, tokens):
        return wnp.sum(wnp.tanh(table[tokens]) ** 2)

    grad = wg.grad(loss)(table, lazy_tokens)
    assert isinstance(grad, da.Array) and grad.dtype == np.float32
    np.testing.assert_allclose(grad.compute(), wg.grad(loss)(table, tokens), rtol=1e-5)


@pytest.mark.parametrize(
    "index",
    [
        (slice(2, 30, 3), slice(1, 4)),
        5,
        (None, slice(None), Ellipsis, -1),
        (slice(None, None, -2),),
    ],
    ids=["strided", "integer", "newaxis", "reversed"],
)
def test_slice_cotangent_is_padded_in_the_input_chunks(index, no_compute):
    """The cotangent of a basic index is the cotangent padded with zeros, in the input's
    chunks: no array of zeros in one block is written into."""
    x, xd = _data(shape=(40, 6), chunks=(10, 3))

    def fun(x):
        return wnp.sum(x[index] ** 3)

    grad = wg.grad(fun)(xd)
    assert grad.chunks == xd.chunks
    assert not any(key[0].startswith("setitem") for key in grad.__dask_graph__())
    np.testing.assert_allclose(grad.compute(), wg.grad(fun)(x), **TOL)


def test_numpy_results_stay_numpy():
    x, _ = _data()
    grad = wg.grad(lambda x: wnp.sum(wnp.maximum(x, 0.0) * wnp.logaddexp(0.0, x)))(x)
    assert type(grad) is np.ndarray


def test_gradient_on_distributed_cluster():
    distributed = pytest.importorskip("distributed")
    x, y, xd, yd = _logistic_data()
    grad = wg.grad(_logistic(xd, yd))(W0)
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        computed = client.compute(grad).result()
    np.testing.assert_allclose(computed, wg.grad(_logistic(x, y))(W0), **TOL)


def _logistic_20():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 20))
    y = (x @ np.ones(20) > 0).astype(float)
    return x, y, da.from_array(x, chunks=(75, 20)), da.from_array(y, chunks=75)


W20 = np.linspace(-0.5, 0.5, 20)
V20 = np.cos(np.arange(20.0))


@pytest.mark.parametrize("product", [wg.hvp, wg.vhp])
def test_hessian_vector_products_lazy_and_equal_to_numpy(product, no_compute):
    x, y, xd, yd = _logistic_20()
    (lazy,) = product(_logistic(xd, yd), (W20,), (V20,))
    assert isinstance(lazy, da.Array) and lazy.shape == (20,)
    (expected,) = product(_logistic(x, y), (W20,), (V20,))
    np.testing.assert_allclose(lazy.compute(), expected, **TOL)


@pytest.mark.parametrize("mode", ["fwd-rev", "rev-rev", "fwd-fwd", "rev-fwd"])
def test_hessian_lazy_and_equal_to_numpy_in_every_mode(mode, no_compute):
    x, y, xd, yd = _logistic_20()
    lazy = wg.hessian(_logistic(xd, yd), mode=mode)(W20)
    assert isinstance(lazy, da.Array) and lazy.shape == (20, 20)
    expected = wg.hessian(_logistic(x, y), mode=mode)(W20)
    np.testing.assert_allclose(lazy.compute(), expected, **TOL)


def test_batched_rules_see_dask_operands_axes():
    # A Dask operand used to count as a static argument (no axes) in the batching rules,
    # so forward-over-forward Hessians broadcast it wrongly against the batched tangents.
    x, xd = _data(shape=(4, 3), chunks=(2, 3))
    w = np.array([0.1, 0.2, 0.3])
    hess = wg.jacfwd(wg.jacfwd(lambda w: wnp.sum((xd @ w) ** 2)))(w)
    np.testing.assert_allclose(hess.compute(), 2 * x.T @ x, **TOL)
    batched = wg.vmap(lambda w: xd * w)(np.stack([w, 2 * w]))
    np.testing.assert_allclose(batched.compute(), np.stack([x * w, x * 2 * w]), **TOL)


def _penalised_logistic(x, y):
    return lambda w: _logistic(x, y)(w) + 0.01 * wnp.sum(w**2)


def _count_computes():
    """A Dask callback counting the graph computations started while it is active."""
    from dask.callbacks import Callback

    class CountComputes(Callback):
        def __init__(self):
            super().__init__()
            self.count = 0

        def _start(self, dsk):
            self.count += 1

    return CountComputes()


def test_minimize_computes_value_and_gradient_together():
    pytest.importorskip("scipy")
    from wengert.optimize import minimize

    x, y, xd, yd = _logistic_data()
    penalised = _penalised_logistic
    with _count_computes() as counter:
        lazy = minimize(penalised(xd, yd), np.zeros(5), method="L-BFGS-B")
    expected = minimize(penalised(x, y), np.zeros(5), method="L-BFGS-B")
    assert lazy.success and counter.count == lazy.nfev  # one compute per evaluation
    np.testing.assert_allclose(lazy.x, expected.x, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(lazy.fun, expected.fun, rtol=1e-8, atol=1e-8)


def _layer_names(array) -> list[str]:
    return [name.rsplit("-", 1)[0] for name in array.__dask_graph__().layers]


@pytest.mark.parametrize(
    "fun",
    [
        lambda x: wnp.mean(x**2),
        lambda x: wnp.sum(wnp.mean(x, axis=0) ** 2),
        lambda x: wnp.sum(wnp.sum(x, axis=1, keepdims=True) * x),
        lambda x: wnp.sum(wnp.tanh(x) * wnp.sum(x**2, axis=0)),
    ],
    ids=["mean", "mean_axis0", "sum_keepdims", "sum_broadcast"],
)
def test_broadcast_cotangents_are_made_in_the_input_chunks(fun, no_compute):
    # A cotangent broadcast back over reduced axes is built block by block in the input's
    # chunks: no rechunk of one large block, one task per block.
    x, xd = _data(shape=(60, 4), chunks=(10, 2))
    grad = wg.grad(fun)(xd)
    assert grad.chunks == xd.chunks
    assert not any("rechunk" in name for name in _layer_names(grad))
    np.testing.assert_allclose(grad.compute(), wg.grad(fun)(x), **TOL)


_W35 = np.linspace(-1.0, 1.0, 15).reshape(5, 3)


def _row_loss(row):
    return wnp.sum(wnp.tanh(row @ _W35) ** 2) + wnp.mean(row) * row[0]


@pytest.mark.parametrize(
    "transform",
    [
        wg.vmap(_row_loss),
        wg.vmap(wg.grad(_row_loss)),
        wg.vmap(wg.hessian(_row_loss)),
        wg.jacrev(lambda x: wnp.tanh(x @ _W35)),
        wg.jacfwd(lambda x: wnp.sum(wnp.tanh(x @ _W35), axis=1)),
        wg.elementwise_grad(lambda x: wnp.sin(x) * x),
    ],
    ids=["vmap", "vmap_grad", "vmap_hessian", "jacrev", "jacfwd", "elementwise_grad"],
)
def test_dask_arrays_as_mapped_arguments(transform, no_compute):
    # vmap over the rows of a chunked Dask array (and the Jacobians built on vmap): lazy,
    # the row blocks kept, equal to NumPy's.
    x, xd = _data(shape=(12, 5), chunks=(4, 5))
    lazy = transform(xd)
    assert isinstance(lazy, da.Array) and lazy.chunks[0] == xd.chunks[0]
    np.testing.assert_allclose(lazy.compute(), transform(x), **TOL)


def test_vmap_over_a_dask_array_along_another_axis(no_compute):
    x, xd = _data(shape=(5, 12), chunks=(5, 4))
    lazy = wg.vmap(wg.grad(_row_loss), in_axes=1)(xd)
    assert isinstance(lazy, da.Array)
    np.testing.assert_allclose(lazy.compute(), wg.vmap(wg.grad(_row_loss), in_axes=1)(x), **TOL)


@pytest.mark.parametrize("method", ["Newton-CG", "trust-ncg", "trust-exact"])
def test_minimize_with_hessians_computes_each_product_once(method):
    pytest.importorskip("scipy")
    from wengert.optimize import minimize

    x, y, xd, yd = _logistic_data()
    penalised = _penalised_logistic
    with _count_computes() as counter:
        lazy = minimize(penalised(xd, yd), np.zeros(5), method=method)
    expected = minimize(penalised(x, y), np.zeros(5), method=method)
    assert lazy.success
    # one compute per value-and-gradient, one per Hessian or Hessian-vector product
    assert counter.count <= lazy.nfev + lazy.nhev
    np.testing.assert_allclose(lazy.x, expected.x, rtol=1e-8, atol=1e-8)


def test_jit_over_dask_runs_the_function_lazily(no_compute):
    # A compiled program writes into NumPy buffers; with Dask arguments jit runs the
    # function as it is (Dask builds its own graph), inside and outside grad.
    x, xd = _data()
    fun = CASES["logaddexp"][0]
    for transform in (wg.jit(wg.grad(fun)), wg.grad(wg.jit(fun)), wg.jit(fun)):
        lazy = transform(xd)
        assert isinstance(lazy, da.Array)
        np.testing.assert_allclose(lazy.compute(), transform(x), **TOL)
    jitted = wg.jit(fun)
    jitted(xd)
    assert jitted.programs() == []  # nothing was recorded for the Dask call


@pytest.mark.parametrize(
    "fun, kind",
    [
        (lambda x: wnp.sum(wnp.abs(wnp.fft.fft(x, axis=1))), ValueError),
        (lambda x: wnp.sum(wnp.linalg.qr(x)[1]), NotImplementedError),
        (lambda x: wnp.median(x), NotImplementedError),
    ],
    ids=["fft_along_chunked_axis", "qr_chunked_both_ways", "median_of_all"],
)
def test_what_dask_lacks_raises_naming_the_function_and_dask(fun, kind):
    _, xd = _data(shape=(8, 4), chunks=(4, 2))
    with pytest.raises(kind, match=r"^wengert primitive \w+ on dask arrays: dask raised: "):
        wg.grad(fun)(xd)
    with pytest.raises(kind, match=r"on dask arrays"):
        fun(xd)  # outside any transformation too


def test_functions_whose_dask_defaults_differ_from_numpy_give_numpy_results():
    """Where Dask's function reads a left-out argument otherwise than NumPy (take's axis
    None, cholesky's lower factor) or needs one NumPy does not (delete's and insert's
    axis), wengert passes what NumPy means; full SVD factors, which Dask lacks, are
    refused rather than given reduced."""
    x, xd = _data(shape=(4, 3), chunks=(2, 3))
    for name, args in [("take", ([0, 5],)), ("delete", ([1, 7],)), ("insert", (2, 5.0))]:
        got = getattr(wnp, name)(xd, *args)
        assert isinstance(got, da.Array)
        np.testing.assert_array_equal(got.compute(), getattr(np, name)(x, *args))
    spd = x.T @ x + np.eye(3)
    lower = wnp.linalg.cholesky(da.from_array(spd, chunks=(2, 3)))
    np.testing.assert_allclose(lower.compute(), np.linalg.cholesky(spd), **TOL)
    with pytest.raises(ValueError, match=r"svd.*Dask.*full_matrices=False"):
        wnp.linalg.svd(xd)


@st.composite
def _shapes_and_indices(draw):
    """A shape and an index of it in one of NumPy's forms: basic (integers, slices with
    any step, None, Ellipsis), integer arrays (broadcast together, negative entries and
    repeats included) or a boolean mask."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    kind = draw(st.sampled_from(["basic", "integers", "mask"]))
    if kind == "basic":
        index = draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    elif kind == "integers":
        index = draw(hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(max_dims=2)))
    else:
        index = draw(hnp.arrays(bool, shape[: draw(st.integers(1, len(shape)))]))
    return shape, index


@settings(max_examples=60, deadline=None)
@given(_shapes_and_indices())
def test_any_index_of_constants_on_dask_equals_numpy(shape_and_index):
    """Property: for any index of NumPy constants, the gather, at-add and at-set (the last
    write winning) and their derivatives in both modes are lazy on Dask and equal
    NumPy's, the gradient in the input's chunks."""
    shape, index = shape_and_index
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape)
    xd = da.from_array(x, chunks=tuple(max(1, (n + 1) // 2) for n in shape))
    weights = rng.normal(size=np.shape(x[index]))

    def fun(x):
        picked = wnp.sin(x[index]) * weights
        added = wnp.sum(wnp.at(x)[index].add(picked * x[index]) ** 2)
        return wnp.sum(picked) + added + wnp.sum(wnp.at(x * x)[index].set(picked) ** 3)

    grad = wg.grad(fun)(xd)
    _, tangent = wg.jvp(fun, (xd,), (xd * 0.5,))
    assert isinstance(grad, da.Array) and grad.chunks == xd.chunks
    computed_grad, computed_tangent = da.compute(grad, tangent)
    np.testing.assert_allclose(computed_grad, wg.grad(fun)(x), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(computed_tangent, wg.jvp(fun, (x,), (x * 0.5,))[1], rtol=1e-10)
