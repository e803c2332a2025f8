"""Every function of wengert.nn.functional through check_grads (both modes, order 2),
values against PyTorch where it is installed, and the stable losses at extreme logits."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as onp
import pytest

import wengert as wg
from wengert.nn import functional as F

_settings_spec = importlib.util.spec_from_file_location(
    "_wengert_test_settings", Path(__file__).resolve().parents[1] / "_settings.py"
)
_settings = sys.modules.setdefault(
    _settings_spec.name, importlib.util.module_from_spec(_settings_spec)
)
_settings_spec.loader.exec_module(_settings)

R = onp.random.default_rng(3)


def normal(*shape):
    return R.standard_normal(shape)


def away_from_zero(*shape, gap=0.2):
    x = normal(*shape)
    return onp.where(onp.abs(x) < gap, onp.sign(x) * gap + x, x) + 0.0


def distinct(*shape):
    """Values without ties (max pooling picks a unique maximum)."""
    n = int(onp.prod(shape))
    return (R.permutation(n) + R.uniform(0.1, 0.4, n)).reshape(shape) / n


LABELS = onp.array([2, 0, 4, 1])
TARGET = normal(4, 5)
PROBS = onp.exp(TARGET) / onp.exp(TARGET).sum(1, keepdims=True)
BITS = (normal(4, 5) > 0).astype(float)
NAN, INF = float("nan"), float("inf")

# (name, function, arguments); every float argument is differentiated.
CASES = [
    ("linear", lambda x, w, b: F.linear(x, w, b), (normal(4, 3), normal(2, 3), normal(2))),
    ("linear 3-d, no bias", lambda x, w: F.linear(x, w), (normal(2, 4, 3), normal(5, 3))),
    ("linear 1-d", lambda x, w, b: F.linear(x, w, b), (normal(3), normal(2, 3), normal(2))),
    ("relu", F.relu, (away_from_zero(3, 4),)),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), (away_from_zero(3, 4),)),
    ("gelu", F.gelu, (normal(3, 4),)),
    ("gelu tanh", lambda x: F.gelu(x, "tanh"), (normal(3, 4),)),
    ("silu", F.silu, (normal(3, 4),)),
    ("tanh", F.tanh, (normal(3, 4),)),
    ("sigmoid", F.sigmoid, (normal(3, 4) * 3,)),
    ("softplus", F.softplus, (normal(3, 4) * 3,)),
    ("normal_cdf", F.normal_cdf, (normal(5),)),
    ("softmax", lambda x: F.softmax(x, axis=0), (normal(3, 4),)),
    ("log_softmax", F.log_softmax, (normal(3, 4),)),
    ("logsumexp", lambda x: F.logsumexp(x, axis=1, keepdims=True), (normal(3, 4),)),
    ("cross_entropy", lambda x: F.cross_entropy(x, LABELS), (normal(4, 5),)),
    ("cross_entropy sum", lambda x: F.cross_entropy(x, LABELS, reduction="sum"), (normal(4, 5),)),
    (
        "cross_entropy weighted, ignore, smoothing",
        lambda x: F.cross_entropy(
            x,
            onp.array([2, -100, 4, 1]),
            weight=onp.arange(1.0, 6.0),
            label_smoothing=0.1,
        ),
        (normal(4, 5),),
    ),
    ("cross_entropy probabilities", lambda x: F.cross_entropy(x, PROBS), (normal(4, 5),)),
    (
        "cross_entropy (N, C, d)",
        lambda x: F.cross_entropy(x, onp.array([[0, 2], [1, 1]])),
        (normal(2, 3, 2),),
    ),
    ("nll_loss", lambda x: F.nll_loss(F.log_softmax(x), LABELS), (normal(4, 5),)),
    ("bce_with_logits", lambda x: F.binary_cross_entropy_with_logits(x, BITS), (normal(4, 5),)),
    (
        "bce_with_logits pos_weight",
        lambda x: F.binary_cross_entropy_with_logits(x, BITS, pos_weight=onp.full(5, 3.0)),
        (normal(4, 5),),
    ),
    ("bce", lambda p: F.binary_cross_entropy(p, BITS), (R.uniform(0.1, 0.9, (4, 5)),)),
    ("mse", F.mse_loss, (normal(4, 5), TARGET)),
    ("l1", F.l1_loss, (TARGET + away_from_zero(4, 5), TARGET)),
    ("huber", F.huber_loss, (TARGET + away_from_zero(4, 5) * 2, TARGET)),
    ("embedding (repeats)", lambda w: F.embedding(onp.array([[1, 3], [1, 0]]), w), (normal(4, 3),)),
    ("dropout eval", lambda x: F.dropout(x, 0.5, training=False), (normal(3),)),
    (
        "dropout train (fixed mask)",
        lambda x: F.dropout(x, 0.3, True, onp.random.default_rng(0)),
        (normal(4, 4),),
    ),
    (
        "batch_norm train",
        lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True),
        (normal(5, 3), normal(3), normal(3)),
    ),
    (
        "batch_norm 2d train",
        lambda x: F.batch_norm(x, None, None, training=True),
        (normal(3, 2, 2, 3),),
    ),
    (
        "batch_norm eval",
        lambda x, g: F.batch_norm(x, onp.ones(3), onp.full(3, 2.0), g, None),
        (normal(5, 3), normal(3)),
    ),
    (
        "layer_norm",
        lambda x, g, b: F.layer_norm(x, (2, 3), g, b),
        (normal(4, 2, 3), normal(2, 3), normal(2, 3)),
    ),
    (
        "conv2d",
        lambda x, w, b: F.conv2d(x, w, b),
        (normal(2, 3, 5, 4), normal(4, 3, 3, 2), normal(4)),
    ),
    (
        "conv2d stride 2, padding 1",
        lambda x, w: F.conv2d(x, w, stride=2, padding=1),
        (normal(2, 2, 5, 6), normal(3, 2, 3, 3)),
    ),
    (
        "conv2d stride (2, 1), padding (1, 2), dilation (2, 1)",
        lambda x, w: F.conv2d(x, w, stride=(2, 1), padding=(1, 2), dilation=(2, 1)),
        (normal(1, 2, 6, 5), normal(2, 2, 2, 3)),
    ),
    (
        "conv2d padding same, dilation 2",
        lambda x, w: F.conv2d(x, w, padding="same", dilation=2),
        (normal(1, 2, 5, 5), normal(2, 2, 3, 3)),
    ),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2), (distinct(2, 2, 4, 6),)),
    (
        "max_pool2d overlapping, padded",
        lambda x: F.max_pool2d(x, 3, stride=2, padding=1),
        (distinct(2, 2, 5, 5),),
    ),
    ("max_pool2d dilated", lambda x: F.max_pool2d(x, 2, 1, dilation=2), (distinct(1, 2, 5, 5),)),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 2), (normal(2, 2, 4, 6),)),
    (
        "avg_pool2d stride 1, padded, exclude pad",
        lambda x: F.avg_pool2d(x, 3, 1, 1, count_include_pad=False),
        (normal(1, 2, 4, 5),),
    ),
]


# The internal primitives that are other primitives' rules, checked on their own too.
_P = dict(stride=(2, 1), padding=((1, 0), (2, 1)), dilation=(1, 2))
_X_SHAPE = (2, 2, 5, 6)
_G_SHAPE = (2, 3, *F._conv_out_hw(_X_SHAPE, (3, 2), **_P))
_P1 = dict(stride=(1, 1), padding=((1, 1), (0, 0)), dilation=(1, 1))
_POOL = dict(kernel=(2, 2), stride=(1, 2), padding=((1, 1), (0, 0)))
_INDEX = onp.array([[3, 0], [5, 3]])
CASES += [
    (
        "conv2d_input_grad (strided)",
        lambda g, w: F._conv2d_input_grad(g, w, x_shape=_X_SHAPE, **_P),
        (normal(*_G_SHAPE), normal(3, 2, 3, 2)),
    ),
    (
        "conv2d_input_grad (stride 1)",
        lambda g, w: F._conv2d_input_grad(g, w, x_shape=(1, 2, 4, 4), **_P1),
        (normal(1, 3, 4, 2), normal(3, 2, 3, 3)),
    ),
    (
        "conv2d_weight_grad",
        lambda x, g: F._conv2d_weight_grad(x, g, kernel=(3, 2), **_P),
        (normal(*_X_SHAPE), normal(*_G_SHAPE)),
    ),
    (
        "avg_pool2d_transpose",
        lambda g: F._avg_pool_t(g, (1, 2, 3, 4), divisor=4.0, **_POOL),
        (normal(1, 2, 4, 2),),
    ),
    ("gather_flat", lambda x: F._gather(x, _INDEX), (normal(2, 3),)),
    ("scatter_flat", lambda g: F._scatter(g, _INDEX, (2, 3)), (normal(2, 2),)),
    ("take_rows", lambda w: F._take_rows(w, _INDEX), (normal(6, 2),)),
    ("scatter_rows", lambda g: F._scatter_rows(g, _INDEX, 6), (normal(2, 2, 3),)),
    ("unfold", lambda x: F._unfold(x, kernel=(3, 2), **_P), (normal(*_X_SHAPE),)),
    (
        "fold",
        lambda c: F._fold(c, _X_SHAPE, kernel=(3, 2), **_P),
        (normal(*F._unfold_impl(onp.zeros(_X_SHAPE), (3, 2), **_P).shape),),
    ),
]


@pytest.mark.parametrize("name, fun, args", CASES, ids=[c[0] for c in CASES])
def test_check_grads_both_modes_order_2(name, fun, args):
    wg.check_grads(fun, modes=("fwd", "rev"), order=2)(*args)


def _torch():
    return pytest.importorskip("torch")


def T(a):
    return _torch().tensor(a)


def _compare(ours, theirs, x, rtol=1e-10):
    """Values and gradients of the sum against PyTorch."""
    torch = _torch()
    xt = torch.tensor(x, requires_grad=True)
    yt = theirs(xt)
    yt.sum().backward()
    onp.testing.assert_allclose(ours(x), yt.detach().numpy(), rtol=rtol, atol=1e-12)
    g = wg.grad(lambda v: ours(v).sum())(x)
    onp.testing.assert_allclose(g, xt.grad.numpy(), rtol=rtol, atol=1e-12)


@pytest.mark.parametrize(
    "case",
    [
        "conv",
        "conv_strided",
        "conv_dilated",
        "max_pool",
        "max_pool_padded",
        "avg_pool",
        "avg_pool_exclude",
        "cross_entropy",
        "cross_entropy_options",
        "nll",
        "bce_logits",
        "gelu",
        "layer_norm",
        "batch_norm",
        "log_softmax",
    ],
)
def test_against_pytorch(case):
    torch = _torch()
    TF = torch.nn.functional
    w = normal(4, 3, 3, 3)
    x_img = normal(2, 3, 7, 6)
    x = normal(6, 5)
    labels = onp.array([0, 4, 2, 2, 1, 3])
    table = {
        "conv": (
            lambda v: F.conv2d(v, w, padding=1),
            lambda v: TF.conv2d(v, T(w), padding=1),
            x_img,
        ),
        "conv_strided": (
            lambda v: F.conv2d(v, w, stride=2, padding=(0, 1)),
            lambda v: TF.conv2d(v, T(w), stride=2, padding=(0, 1)),
            x_img,
        ),
        "conv_dilated": (
            lambda v: F.conv2d(v, w, dilation=2, padding=2),
            lambda v: TF.conv2d(v, T(w), dilation=2, padding=2),
            x_img,
        ),
        "max_pool": (
            lambda v: F.max_pool2d(v, 2),
            lambda v: TF.max_pool2d(v, 2),
            distinct(2, 3, 6, 6),
        ),
        "max_pool_padded": (
            lambda v: F.max_pool2d(v, 3, 2, 1),
            lambda v: TF.max_pool2d(v, 3, 2, 1),
            distinct(2, 3, 7, 6),
        ),
        "avg_pool": (lambda v: F.avg_pool2d(v, 2, 1), lambda v: TF.avg_pool2d(v, 2, 1), x_img),
        "avg_pool_exclude": (
            lambda v: F.avg_pool2d(v, 3, 2, 1, count_include_pad=False),
            lambda v: TF.avg_pool2d(v, 3, 2, 1, count_include_pad=False),
            x_img,
        ),
        "cross_entropy": (
            lambda v: F.cross_entropy(v, labels),
            lambda v: TF.cross_entropy(v, T(labels)),
            x,
        ),
        "cross_entropy_options": (
            lambda v: F.cross_entropy(
                v,
                onp.where(labels == 2, -100, labels),
                weight=onp.arange(1.0, 6.0),
                label_smoothing=0.2,
            ),
            lambda v: TF.cross_entropy(
                v,
                T(onp.where(labels == 2, -100, labels)),
                weight=T(onp.arange(1.0, 6.0)),
                label_smoothing=0.2,
            ),
            x,
        ),
        "nll": (
            lambda v: F.nll_loss(v, labels, reduction="sum"),
            lambda v: TF.nll_loss(v, T(labels), reduction="sum"),
            x,
        ),
        "bce_logits": (
            lambda v: F.binary_cross_entropy_with_logits(
                v, (x > 0) * 1.0, pos_weight=onp.full(5, 2.0)
            ),
            lambda v: TF.binary_cross_entropy_with_logits(
                v, T((x > 0) * 1.0), pos_weight=T(onp.full(5, 2.0))
            ),
            x,
        ),
        "gelu": (F.gelu, TF.gelu, x),
        "layer_norm": (lambda v: F.layer_norm(v, 5), lambda v: TF.layer_norm(v, (5,)), x),
        "batch_norm": (
            lambda v: F.batch_norm(v, None, None, training=True),
            lambda v: TF.batch_norm(v, None, None, training=True),
            x_img,
        ),
        "log_softmax": (lambda v: F.log_softmax(v, 0), lambda v: TF.log_softmax(v, 0), x),
    }
    ours, theirs, arg = table[case]
    _compare(ours, theirs, arg)


def test_batch_norm_updates_running_statistics_like_pytorch():
    torch = _torch()
    x = normal(8, 3)
    rm, rv = onp.zeros(3), onp.ones(3)
    F.batch_norm(x, rm, rv, training=True, momentum=0.2)
    rmt, rvt = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    torch.nn.functional.batch_norm(T(x), rmt, rvt, training=True, momentum=0.2)
    onp.testing.assert_allclose(rm, rmt.numpy())
    onp.testing.assert_allclose(rv, rvt.numpy())


# --- stability at extreme logits -------------------------------------------------------------

EXTREME = onp.array([[1e4, -1e4, 0.0], [-1e300, 0.0, 1e300], [800.0, 800.0, -800.0]])


def test_cross_entropy_at_extreme_logits_is_finite_with_finite_gradients():
    labels = onp.array([1, 0, 2])
    with onp.errstate(over="raise", invalid="raise", divide="raise"):
        loss = F.cross_entropy(EXTREME, labels, reduction="none")
        g = wg.grad(lambda z: F.cross_entropy(z, labels))(EXTREME)
    onp.testing.assert_allclose(loss, [2e4, 2e300, 1600.0 + onp.log(2.0)])
    assert onp.all(onp.isfinite(g))
    onp.testing.assert_allclose(g, [[1, -1, 0], [-1, 0, 1], [0.5, 0.5, -1]] / onp.array(3.0))


def test_log_softmax_softmax_and_logsumexp_do_not_overflow():
    with onp.errstate(over="raise", invalid="raise", divide="raise"):
        ls = F.log_softmax(EXTREME)
        sm = F.softmax(EXTREME)
        lse = F.logsumexp(EXTREME[2])
        g = wg.grad(lambda z: F.log_softmax(z)[:, 0].sum())(EXTREME)
    onp.testing.assert_allclose(onp.exp(ls), sm)
    onp.testing.assert_allclose(sm.sum(1), onp.ones(3))
    onp.testing.assert_allclose(lse, 800.0 + onp.log(2.0))
    assert onp.all(onp.isfinite(g))


def test_binary_cross_entropy_with_logits_is_stable():
    z = onp.array([1e4, -1e4, 700.0, -40.0])
    y = onp.array([0.0, 1.0, 1.0, 0.0])
    with onp.errstate(over="raise", invalid="raise", divide="raise"):
        loss = F.binary_cross_entropy_with_logits(z, y, reduction="none")
        g = wg.grad(lambda v: F.binary_cross_entropy_with_logits(v, y, reduction="sum"))(z)
    onp.testing.assert_allclose(loss, [1e4, 1e4, 0.0, onp.log1p(onp.exp(-40.0))])
    onp.testing.assert_allclose(g, [1.0, -1.0, 0.0, 1 / (1 + onp.exp(40.0))])
    onp.testing.assert_allclose(F.sigmoid(onp.array([-1e4, 1e4])), [0.0, 1.0])


def test_float32_is_kept():
    x = normal(2, 1, 6, 6).astype(onp.float32)
    w = normal(3, 1, 3, 3).astype(onp.float32)
    out = F.max_pool2d(F.relu(F.conv2d(x, w, padding=1)), 2)
    assert out.dtype == onp.float32
    logits = normal(4, 5).astype(onp.float32)
    assert F.cross_entropy(logits, LABELS).dtype == onp.float32
    g = wg.grad(lambda v: F.cross_entropy(F.gelu(v), LABELS, label_smoothing=0.1))(logits)
    assert g.dtype == onp.float32


# --- errors ------------------------------------------------------------------------------------


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="channels"):
        F.conv2d(normal(1, 2, 5, 5), normal(3, 4, 3, 3))
    with pytest.raises(ValueError, match="kernel spans"):
        F.conv2d(normal(1, 1, 2, 2), normal(1, 1, 3, 3))
    with pytest.raises(ValueError, match="stride 1"):
        F.conv2d(normal(1, 1, 5, 5), normal(1, 1, 3, 3), stride=2, padding="same")
    with pytest.raises(IndexError, match="out of range"):
        F.cross_entropy(normal(2, 3), onp.array([0, 3]))
    with pytest.raises(TypeError, match="integers"):
        F.nll_loss(normal(2, 3), onp.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="probability targets"):
        F.cross_entropy(normal(2, 3), onp.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="labels of shape"):
        F.cross_entropy(normal(2, 3), onp.array([0, 1, 2]))
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(normal(2), normal(2), reduction="avg")
    with pytest.raises(ValueError, match="half the kernel"):
        F.max_pool2d(normal(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(IndexError, match="out of range"):
        F.embedding(onp.array([5]), normal(3, 2))


def test_loss_errors_name_the_problem():
    with pytest.raises(IndexError, match="out of range"):  # a label of the next row
        F.nll_loss(normal(2, 3), onp.array([3, 0]))
    with pytest.raises(IndexError, match="out of range"):  # a label of the previous row
        F.nll_loss(normal(2, 3), onp.array([-1, 0]))
    assert F.nll_loss(normal(2, 3), onp.array([-1, 0]), ignore_index=-1).shape == ()
    with pytest.raises(ValueError, match=r"weight needs one entry per class, shape \(3,\)"):
        F.cross_entropy(normal(2, 3), onp.array([0, 1]), weight=onp.ones(2))
    with pytest.raises(ValueError, match=r"weight needs one entry per class"):
        F.nll_loss(normal(2, 3), onp.array([0, 1]), weight=onp.ones((3, 1)))
    with pytest.raises(IndexError, match="out of range"):
        F.one_hot(onp.array([3]), 3)
    with pytest.raises(TypeError, match="integers"):
        F.one_hot(onp.array([1.0]), 3)
    with pytest.raises(ValueError, match=r"probabilities must be in \[0, 1\]"):
        F.binary_cross_entropy(onp.array([0.5, 1.5]), onp.ones(2))
    with pytest.raises(ValueError, match=r"probabilities must be in \[0, 1\]"):
        F.binary_cross_entropy(onp.array([onp.nan]), onp.ones(1))
    with pytest.raises(ValueError, match="empty kernel"):
        F.conv2d(normal(1, 1, 3, 3), normal(1, 1, 0, 2))
    with pytest.raises(ValueError, match="both running_mean and running_var"):
        F.batch_norm(normal(4, 2), onp.zeros(2), None)
    with pytest.raises(ValueError, match=r"one entry per channel, shape \(2,\), got \(3,\)"):
        F.batch_norm(normal(4, 2), onp.zeros(3), onp.ones(3))


# --- settings: every one checked, named, with its range -----------------------------------

X = normal(2, 3)
IMG = normal(1, 2, 5, 5)
FILTERS = normal(3, 2, 3, 3)
L2 = onp.array([0, 2])
UNIT = dict(value_errors=[-0.1, 1.5, NAN, INF], type_errors=[True, "0.5", None])
POSITIVE = dict(value_errors=[0.0, -1.0, NAN, INF], type_errors=[True, "1", None])
FINITE = dict(value_errors=[NAN, INF, -INF], type_errors=[True, "0.1", None, 1j])
AXIS = dict(value_errors=[], type_errors=[1.0, True, "0", None])
FLAG = dict(value_errors=[], type_errors=[1, 0, "yes", None])
REDUCTION = dict(value_errors=["avg", "Mean"], type_errors=[None, 1])
SIZE_PAIR = dict(value_errors=[0, -1, (1, 0)], type_errors=[1.5, 2.0, True, "1", (1,), (1, 2, 3)])
PAD_PAIR = dict(value_errors=[-1, (0, -1)], type_errors=[1.5, True, (1,)])
LABEL_INDEX = dict(value_errors=[], type_errors=[1.5, True, "x", None])

# (function, parameter, call with the value, the refused values by exception)
SETTINGS = [
    ("leaky_relu", "negative_slope", lambda v: F.leaky_relu(X, v), FINITE),
    ("gelu", "approximate", lambda v: F.gelu(X, v), dict(value_errors=["exact"], type_errors=[1])),
    ("softmax", "axis", lambda v: F.softmax(X, v), AXIS),
    ("log_softmax", "axis", lambda v: F.log_softmax(X, v), AXIS),
    ("logsumexp", "axis", lambda v: F.logsumexp(X, v), AXIS),
    ("logsumexp", "keepdims", lambda v: F.logsumexp(X, keepdims=v), FLAG),
    ("dropout", "p", lambda v: F.dropout(X, v), UNIT),
    ("dropout", "training", lambda v: F.dropout(X, 0.5, v), FLAG),
    (
        "dropout",
        "rng",
        lambda v: F.dropout(X, 0.5, True, v),
        dict(value_errors=[-1], type_errors=[1.5, "0", True]),
    ),
    ("conv2d", "stride", lambda v: F.conv2d(IMG, FILTERS, stride=v), SIZE_PAIR),
    ("conv2d", "dilation", lambda v: F.conv2d(IMG, FILTERS, dilation=v), SIZE_PAIR),
    (
        "conv2d",
        "padding",
        lambda v: F.conv2d(IMG, FILTERS, padding=v),
        dict(value_errors=[-1, (0, -1), "full"], type_errors=[1.5, True, None]),
    ),
    ("max_pool2d", "kernel_size", lambda v: F.max_pool2d(IMG, v), SIZE_PAIR),
    ("max_pool2d", "stride", lambda v: F.max_pool2d(IMG, 2, v), SIZE_PAIR),
    ("max_pool2d", "padding", lambda v: F.max_pool2d(IMG, 2, 2, v), PAD_PAIR),
    ("max_pool2d", "dilation", lambda v: F.max_pool2d(IMG, 2, 2, 0, v), SIZE_PAIR),
    ("avg_pool2d", "kernel_size", lambda v: F.avg_pool2d(IMG, v), SIZE_PAIR),
    ("avg_pool2d", "count_include_pad", lambda v: F.avg_pool2d(IMG, 2, 1, 1, v), FLAG),
    ("batch_norm", "momentum", lambda v: F.batch_norm(X, None, None, momentum=v), UNIT),
    ("batch_norm", "eps", lambda v: F.batch_norm(X, None, None, eps=v), POSITIVE),
    ("batch_norm", "training", lambda v: F.batch_norm(X, None, None, training=v), FLAG),
    (
        "layer_norm",
        "normalized_shape",
        lambda v: F.layer_norm(X, v),
        dict(value_errors=[0, -3, (2, 0), ()], type_errors=[3.0, True, "3", None]),
    ),
    ("layer_norm", "eps", lambda v: F.layer_norm(X, 3, eps=v), POSITIVE),
    ("cross_entropy", "label_smoothing", lambda v: F.cross_entropy(X, L2, label_smoothing=v), UNIT),
    (
        "cross_entropy",
        "label_smoothing",
        lambda v: F.cross_entropy(X, onp.full((2, 3), 1 / 3), label_smoothing=v),
        UNIT,
    ),
    (
        "cross_entropy",
        "ignore_index",
        lambda v: F.cross_entropy(X, L2, ignore_index=v),
        LABEL_INDEX,
    ),
    ("cross_entropy", "reduction", lambda v: F.cross_entropy(X, L2, reduction=v), REDUCTION),
    ("nll_loss", "ignore_index", lambda v: F.nll_loss(X, L2, ignore_index=v), LABEL_INDEX),
    ("nll_loss", "reduction", lambda v: F.nll_loss(X, L2, reduction=v), REDUCTION),
    (
        "binary_cross_entropy_with_logits",
        "reduction",
        lambda v: F.binary_cross_entropy_with_logits(X, X > 0, reduction=v),
        REDUCTION,
    ),
    (
        "binary_cross_entropy",
        "reduction",
        lambda v: F.binary_cross_entropy(onp.full(2, 0.5), onp.ones(2), reduction=v),
        REDUCTION,
    ),
    ("mse_loss", "reduction", lambda v: F.mse_loss(X, X, reduction=v), REDUCTION),
    ("l1_loss", "reduction", lambda v: F.l1_loss(X, X, reduction=v), REDUCTION),
    ("huber_loss", "reduction", lambda v: F.huber_loss(X, X, reduction=v), REDUCTION),
    ("huber_loss", "delta", lambda v: F.huber_loss(X, X, delta=v), POSITIVE),
    (
        "one_hot",
        "num_classes",
        lambda v: F.one_hot(onp.array([0]), v),
        dict(value_errors=[0, -1], type_errors=[2.5, True, None]),
    ),
]
SETTING_CASES = _settings.setting_cases(SETTINGS)


@pytest.mark.parametrize("where, name, call, error, value", SETTING_CASES)
def test_every_setting_is_checked_and_named(where, name, call, error, value):
    _settings.check_refused(where, name, call, error, value)


# --- saturation: a finite value has finite derivatives ------------------------------------

_EDGES = [0.0, 1e4, -1e4, 1e100, -1e100, 1e300, -1e300, INF, -INF]
_PROBS = [0.0, 1.0, 5e-324, 1e-50, 1e-300, 1 - 2.0**-53]


def _all_derivatives(f, x):
    """First derivatives in both modes and second derivatives (reverse of reverse,
    forward of reverse) of sum(f) at x."""
    s = lambda v: wg.numpy.sum(f(v))
    ones = onp.ones_like(x)
    g = wg.grad(s)
    return {
        "rev": g(x),
        "fwd": wg.jvp(s, (x,), (ones,))[1],
        "rev2": wg.grad(lambda v: wg.numpy.sum(g(v)))(x),
        "fwd2": wg.jvp(lambda v: wg.numpy.sum(g(v)), (x,), (ones,))[1],
    }


ELEMENTWISE = [
    ("sigmoid", F.sigmoid, _EDGES),
    ("softplus", F.softplus, _EDGES),
    ("tanh", F.tanh, _EDGES),
    ("silu", F.silu, _EDGES),
    ("gelu", F.gelu, _EDGES),
    ("gelu tanh", lambda x: F.gelu(x, "tanh"), _EDGES),
    ("normal_cdf", F.normal_cdf, _EDGES),
    ("relu", F.relu, _EDGES),
    ("leaky_relu", F.leaky_relu, _EDGES),
    (
        "bce_with_logits y=1",
        lambda z: F.binary_cross_entropy_with_logits(z, onp.ones_like(z)),
        _EDGES,
    ),
    (
        "bce_with_logits y=0",
        lambda z: F.binary_cross_entropy_with_logits(z, onp.zeros_like(z)),
        _EDGES,
    ),
    (
        "bce_with_logits pos_weight",
        lambda z: F.binary_cross_entropy_with_logits(z, onp.ones_like(z), pos_weight=2.0),
        _EDGES,
    ),
    ("bce y=1", lambda p: F.binary_cross_entropy(p, onp.ones_like(p)), _PROBS),
    ("bce y=0", lambda p: F.binary_cross_entropy(p, onp.zeros_like(p)), _PROBS),
    ("bce y=0.3", lambda p: F.binary_cross_entropy(p, onp.full_like(p, 0.3)), _PROBS),
]


@pytest.mark.parametrize("name, f, points", ELEMENTWISE, ids=[c[0] for c in ELEMENTWISE])
def test_derivatives_are_finite_wherever_the_value_is(name, f, points):
    checked = 0
    for point in points:
        for dtype in (onp.float64, onp.float32):
            with onp.errstate(all="ignore"):
                x = onp.array([point], dtype=dtype)  # 1e100 is inf in float32
                value = f(x)
            if not onp.all(onp.isfinite(value)):
                continue
            checked += 1
            for mode, d in _all_derivatives(f, x).items():
                assert onp.all(onp.isfinite(d)), f"{name} at {x} ({dtype.__name__}): {mode} {d}"
    assert checked >= len(points)  # most points have a finite value in both dtypes


ROWS = [
    onp.array([1e4, -1e4, 0.0]),
    onp.array([-INF, 0.0, 1.0]),
    onp.array([-INF, -INF, 0.0]),
    onp.array([1e300, -1e300, 0.0]),
]
ALONG_AXIS = [
    ("softmax", lambda x: F.softmax(x)[..., 2]),
    ("log_softmax", lambda x: F.log_softmax(x)[..., 2]),
    ("logsumexp", F.logsumexp),
    ("cross_entropy", lambda x: F.cross_entropy(x[None], onp.array([2]))),
    ("nll_loss of log_softmax", lambda x: F.nll_loss(F.log_softmax(x)[None], onp.array([2]))),
]


@pytest.mark.parametrize("name, f", ALONG_AXIS, ids=[c[0] for c in ALONG_AXIS])
@pytest.mark.parametrize("row", ROWS, ids=[str(r) for r in ROWS])
def test_derivatives_along_an_axis_are_finite_at_infinite_and_huge_logits(name, f, row):
    assert onp.isfinite(f(row))
    for mode, d in _all_derivatives(f, row).items():
        assert onp.all(onp.isfinite(d)), f"{name} at {row}: {mode} {d}"


def test_binary_cross_entropy_gradient_at_probability_0_is_finite():
    # Regression: the value was 100 but the gradient NaN (0 * inf through the clamp).
    loss = F.binary_cross_entropy(onp.array([0.0]), onp.array([1.0]))
    g = wg.grad(lambda p: F.binary_cross_entropy(p, onp.array([1.0])))(onp.array([0.0]))
    assert float(loss) == 100.0
    onp.testing.assert_array_equal(g, [0.0])  # the derivative of the clamped function


def test_binary_cross_entropy_gradient_is_that_of_the_clamped_function():
    p = onp.array([0.0, 1e-50, 0.25, 0.5, 1.0 - 1e-12, 1.0])
    y = onp.array([1.0, 1.0, 0.3, 0.0, 0.0, 0.0])
    g = wg.grad(lambda v: F.binary_cross_entropy(v, y, reduction="sum"))(p)
    kept_p = onp.log(p, where=p > 0, out=onp.full_like(p, -onp.inf)) > -100
    kept_q = onp.log1p(-p, where=p < 1, out=onp.full_like(p, -onp.inf)) > -100
    expected = -onp.where(kept_p, y / onp.where(kept_p, p, 1), 0) + onp.where(
        kept_q, (1 - y) / onp.where(kept_q, 1 - p, 1), 0
    )
    onp.testing.assert_allclose(g, expected, rtol=1e-12)
    # 1e-50 and 1.0 clamp: no derivative from the clamped log; 0.0 with y=1 likewise.
    assert g[0] == 0.0 and g[1] == 0.0 and g[5] == 0.0


@pytest.mark.parametrize(
    "name, f, x",
    [
        (
            "gelu tanh beyond the clip",
            lambda x: F.gelu(x, "tanh"),
            onp.array([-150.0, -99.0, 99.0, 150.0]),
        ),
        ("normal_cdf in the tails", F.normal_cdf, onp.array([-50.0, -39.0, 39.0, 50.0])),
        ("gelu in the tails", F.gelu, onp.array([-50.0, -30.0, 30.0, 50.0])),
        ("sigmoid saturated", F.sigmoid, onp.array([-800.0, -40.0, 40.0, 800.0])),
        ("softplus saturated", F.softplus, onp.array([-800.0, -40.0, 40.0, 800.0])),
    ],
)
def test_check_grads_at_saturation(name, f, x):
    wg.check_grads(f, modes=("fwd", "rev"), order=2)(x)


# --- float32 in, float32 out ---------------------------------------------------------------


def f32(*shape):
    return normal(*shape).astype(onp.float32)


LABELS3 = onp.array([2, 0, 1, 1])
W64 = onp.array([1.0, 2.0, 3.0])  # float64 class weights: constants, in the logits' dtype
HALF = onp.full((4, 3), 1 / 3, onp.float32)
FLOAT32_CASES = [
    ("linear", lambda x, w, b: F.linear(x, w, b), (f32(4, 3), f32(2, 3), f32(2))),
    ("relu", F.relu, (f32(3),)),
    ("leaky_relu np.float64 slope", lambda x: F.leaky_relu(x, onp.float64(0.2)), (f32(3),)),
    ("sigmoid", F.sigmoid, (f32(3),)),
    ("softplus", F.softplus, (f32(3),)),
    ("tanh", F.tanh, (f32(3),)),
    ("silu", F.silu, (f32(3),)),
    ("gelu", F.gelu, (f32(3),)),
    ("gelu tanh", lambda x: F.gelu(x, "tanh"), (f32(3),)),
    ("normal_cdf", F.normal_cdf, (f32(3),)),
    ("softmax", F.softmax, (f32(2, 3),)),
    ("log_softmax", F.log_softmax, (f32(2, 3),)),
    ("logsumexp", F.logsumexp, (f32(2, 3),)),
    ("cross_entropy", lambda x: F.cross_entropy(x, LABELS3), (f32(4, 3),)),
    ("cross_entropy float64 weight", lambda x: F.cross_entropy(x, LABELS3, W64), (f32(4, 3),)),
    (
        "cross_entropy np.float64 smoothing",
        lambda x: F.cross_entropy(x, LABELS3, label_smoothing=onp.float64(0.1)),
        (f32(4, 3),),
    ),
    (
        "cross_entropy weight and smoothing",
        lambda x: F.cross_entropy(x, LABELS3, W64, label_smoothing=0.1),
        (f32(4, 3),),
    ),
    (
        "cross_entropy ignore_index",
        lambda x: F.cross_entropy(x, onp.array([2, -100, 1, 1])),
        (f32(4, 3),),
    ),
    (
        "cross_entropy probabilities",
        lambda x, t: F.cross_entropy(x, t, W64, label_smoothing=0.2),
        (f32(4, 3), HALF),
    ),
    ("nll_loss", lambda x: F.nll_loss(x, LABELS3), (f32(4, 3),)),
    ("nll_loss float64 weight", lambda x: F.nll_loss(x, LABELS3, W64), (f32(4, 3),)),
    ("bce_with_logits", F.binary_cross_entropy_with_logits, (f32(4), onp.ones(4, onp.float32))),
    (
        "bce_with_logits pos_weight",
        lambda x, t: F.binary_cross_entropy_with_logits(x, t, pos_weight=onp.float32(2.0)),
        (f32(4), onp.ones(4, onp.float32)),
    ),
    ("bce", F.binary_cross_entropy, (onp.float32([0.0, 0.3, 1.0]), onp.float32([1, 0, 0.5]))),
    (
        "bce weight",
        lambda p, t: F.binary_cross_entropy(p, t, onp.float32([2, 1, 1])),
        (onp.float32([0.0, 0.3, 1.0]), onp.float32([1, 0, 0.5])),
    ),
    ("mse", F.mse_loss, (f32(3), f32(3))),
    ("l1", F.l1_loss, (f32(3), f32(3))),
    ("huber np.float64 delta", lambda x, t: F.huber_loss(x, t, onp.float64(0.5)), (f32(3), f32(3))),
    ("embedding", lambda w: F.embedding(onp.array([1, 0]), w), (f32(3, 2),)),
    ("dropout", lambda x: F.dropout(x, 0.3, True, onp.random.default_rng(0)), (f32(5),)),
    ("dropout p=1", lambda x: F.dropout(x, 1.0), (f32(5),)),
    ("batch_norm train", lambda x: F.batch_norm(x, None, None, training=True), (f32(4, 3),)),
    (
        "batch_norm float64 running statistics",
        lambda x: F.batch_norm(x, onp.zeros(3), onp.ones(3)),
        (f32(4, 3),),
    ),
    ("layer_norm", lambda x: F.layer_norm(x, 3), (f32(4, 3),)),
    ("conv2d", lambda x, w: F.conv2d(x, w, padding=1), (f32(1, 2, 4, 4), f32(3, 2, 3, 3))),
    ("conv2d strided", lambda x, w: F.conv2d(x, w, stride=2), (f32(1, 2, 5, 5), f32(3, 2, 3, 3))),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2), (f32(1, 2, 4, 4),)),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 3, 1, 1, count_include_pad=False), (f32(1, 2, 4, 4),)),
]


@pytest.mark.parametrize("name, f, args", FLOAT32_CASES, ids=[c[0] for c in FLOAT32_CASES])
def test_float32_in_float32_out_values_and_derivatives(name, f, args):
    s = lambda *a: wg.numpy.sum(f(*a))
    assert onp.result_type(f(*args)) == onp.float32, "value"
    for i in range(len(args)):
        assert wg.grad(s, i)(*args).dtype == onp.float32, f"reverse, argument {i}"
    tangents = tuple(onp.ones_like(a) for a in args)
    assert onp.result_type(wg.jvp(s, args, tangents)[1]) == onp.float32, "forward"


# --- per-example gradients: vmap of grad against a loop over the examples -------------------
# The flagship use of vmap: wg.vmap(wg.grad(loss), in_axes=(None, 0, 0))(params, X, y),
# each example's gradient in one pass, for every function of wengert.nn.functional. Every
# reverse rule then runs on batches, and labels, indices and masks are each example's own.

E = onp.random.default_rng(17)
N_EXAMPLES = 3


def e(*shape):
    """One array per example, stacked: shape (N_EXAMPLES, *shape)."""
    return E.standard_normal((N_EXAMPLES, *shape))


W43, B4 = E.standard_normal((4, 3)), E.standard_normal(4)
DENSE = (W43, B4)
CONV = (E.standard_normal((3, 2, 3, 3)), E.standard_normal(3))


def dense(params, x):
    return F.linear(x, *params)


def act(f):
    """A loss of a dense layer followed by `f`: its output weighed by the target."""
    return lambda p, x, y: wg.numpy.sum(f(dense(p, x)) * y)


LABELS_3 = onp.array([2, 0, 3])
PER_EXAMPLE = [
    ("linear", act(lambda h: h), DENSE, e(3), e(4)),
    (
        "linear, examples of rows, no bias",
        lambda p, x, y: wg.numpy.sum(F.linear(x, p[0]) * y),
        (W43,),
        e(2, 3),
        e(2, 4),
    ),
    ("relu", act(F.relu), DENSE, e(3), e(4)),
    ("leaky_relu", act(lambda h: F.leaky_relu(h, 0.2)), DENSE, e(3), e(4)),
    ("gelu", act(F.gelu), DENSE, e(3), e(4)),
    ("gelu tanh", act(lambda h: F.gelu(h, "tanh")), DENSE, e(3), e(4)),
    ("silu", act(F.silu), DENSE, e(3), e(4)),
    ("tanh", act(F.tanh), DENSE, e(3), e(4)),
    ("sigmoid", act(F.sigmoid), DENSE, e(3), e(4)),
    ("softplus", act(F.softplus), DENSE, e(3), e(4)),
    ("normal_cdf", act(F.normal_cdf), DENSE, e(3), e(4)),
    ("softmax", act(F.softmax), DENSE, e(3), e(4)),
    ("log_softmax", act(F.log_softmax), DENSE, e(3), e(4)),
    ("logsumexp", act(lambda h: F.logsumexp(h, keepdims=True)), DENSE, e(3), e(1)),
    (
        "cross_entropy",
        lambda p, x, y: F.cross_entropy(dense(p, x)[None], y[None]),
        DENSE,
        e(3),
        LABELS_3,
    ),
    (
        "cross_entropy weighted, smoothing, an ignored example",
        lambda p, x, y: F.cross_entropy(
            dense(p, x),
            y,
            weight=onp.arange(1.0, 5.0),
            ignore_index=-1,
            label_smoothing=0.1,
            reduction="sum",
        ),
        DENSE,
        e(2, 3),
        onp.array([[2, 0], [-1, 3], [1, 1]]),
    ),
    (
        "cross_entropy probabilities",
        lambda p, x, y: F.cross_entropy(dense(p, x)[None], F.softmax(y)[None]),
        DENSE,
        e(3),
        e(4),
    ),
    (
        "nll_loss",
        lambda p, x, y: F.nll_loss(F.log_softmax(dense(p, x)), y),
        DENSE,
        e(2, 3),
        onp.array([[2, 0], [3, 3], [1, 0]]),
    ),
    ("one_hot", lambda p, x, y: wg.numpy.sum(dense(p, x) * F.one_hot(y, 4)), DENSE, e(3), LABELS_3),
    (
        "binary_cross_entropy_with_logits",
        lambda p, x, y: F.binary_cross_entropy_with_logits(dense(p, x), y, pos_weight=2.0),
        DENSE,
        e(3),
        (e(4) > 0) * 1.0,
    ),
    (
        "binary_cross_entropy",
        lambda p, x, y: F.binary_cross_entropy(F.sigmoid(dense(p, x)), y),
        DENSE,
        e(3),
        (e(4) > 0) * 1.0,
    ),
    ("mse_loss", lambda p, x, y: F.mse_loss(dense(p, x), y), DENSE, e(3), e(4)),
    ("l1_loss", lambda p, x, y: F.l1_loss(dense(p, x), y), DENSE, e(3), e(4)),
    ("huber_loss", lambda p, x, y: F.huber_loss(dense(p, x), y), DENSE, e(3), 3 * e(4)),
    (
        "embedding",
        lambda p, x, y: wg.numpy.sum(F.embedding(y, p[0]) * x),
        (E.standard_normal((5, 3)),),
        e(2, 3),
        onp.array([[1, 1], [4, -1], [0, 2]]),
    ),
    ("dropout eval", act(lambda h: F.dropout(h, 0.5, training=False)), DENSE, e(3), e(4)),
    ("dropout train, seeded", act(lambda h: F.dropout(h, 0.5, rng=4)), DENSE, e(3), e(4)),
    (
        "batch_norm eval",
        act(lambda h: F.batch_norm(h[None], onp.ones(4), onp.full(4, 2.0), onp.ones(4))),
        DENSE,
        e(3),
        e(1, 4),
    ),
    (
        "batch_norm train, a group per example",
        lambda p, x, y: wg.numpy.sum(F.batch_norm(dense(p, x), None, None, p[1], p[1], True) * y),
        DENSE,
        e(5, 3),
        e(5, 4),
    ),
    (
        "layer_norm",
        lambda p, x, y: wg.numpy.sum(F.layer_norm(dense(p, x), 4, p[1], p[1]) * y),
        DENSE,
        e(3),
        e(4),
    ),
    (
        "conv2d",
        lambda p, x, y: wg.numpy.sum(F.conv2d(x[None], *p, padding=1) * y),
        CONV,
        e(2, 5, 4),
        e(1, 3, 5, 4),
    ),
    (
        "conv2d strided, dilated, images per example",
        lambda p, x, y: wg.numpy.sum(F.conv2d(x, p[0], stride=2, dilation=(1, 2)) * y),
        CONV[:1],
        e(2, 2, 7, 8),
        e(2, 3, 3, 2),
    ),
    (
        "max_pool2d",
        lambda p, x, y: wg.numpy.sum(F.max_pool2d(F.conv2d(x[None], *p), 2) * y),
        CONV,
        e(2, 6, 6),
        e(1, 3, 2, 2),
    ),
    (
        "avg_pool2d",
        lambda p, x, y: wg.numpy.sum(
            F.avg_pool2d(F.conv2d(x[None], *p), 3, 1, 1, count_include_pad=False) * y
        ),
        CONV,
        e(2, 5, 5),
        e(1, 3, 3, 3),
    ),
]


@pytest.mark.parametrize(
    "name, loss, params, xs, ys", PER_EXAMPLE, ids=[row[0] for row in PER_EXAMPLE]
)
def test_per_example_gradients_equal_a_loop_over_examples(name, loss, params, xs, ys):
    grad = wg.grad(loss)
    batched = wg.vmap(grad, in_axes=(None, 0, 0))(params, xs, ys)
    for i in range(N_EXAMPLES):
        for got, expected in zip(batched, grad(params, xs[i], ys[i])):
            onp.testing.assert_allclose(got[i], expected, rtol=1e-10, atol=1e-12)


def test_per_example_losses_equal_a_loop_over_examples():
    for name, loss, params, xs, ys in PER_EXAMPLE:
        batched = wg.vmap(loss, in_axes=(None, 0, 0))(params, xs, ys)
        expected = [loss(params, xs[i], ys[i]) for i in range(N_EXAMPLES)]
        onp.testing.assert_allclose(batched, expected, rtol=1e-12, err_msg=name)


def _counting(monkeypatch, prim):
    """Count the calls of a primitive's implementation."""
    calls = []
    fun = prim.fun

    def counted(*args, **kwargs):
        calls.append(1)
        return fun(*args, **kwargs)

    monkeypatch.setattr(prim, "fun", counted)
    return calls


def test_linear_and_conv2d_of_a_batch_of_inputs_are_one_call(monkeypatch):
    xs, rows = e(2, 5, 4), e(3)
    conv_loop = [F.conv2d(x[None], *CONV, padding=1) for x in xs]
    linear_loop = [F.linear(r, *DENSE) for r in rows]
    conv_calls = _counting(monkeypatch, F._conv2d)
    linear_calls = _counting(monkeypatch, F._linear)
    conv = wg.vmap(lambda x: F.conv2d(x[None], *CONV, padding=1))(xs)
    linear = wg.vmap(lambda r: F.linear(r, *DENSE))(rows)
    assert len(conv_calls) == 1 and len(linear_calls) == 1
    onp.testing.assert_allclose(conv, onp.stack(conv_loop), rtol=1e-12)
    onp.testing.assert_allclose(linear, onp.stack(linear_loop), rtol=1e-12)


def test_per_example_gradients_of_a_network_use_no_loop():
    from wengert._core.batching import loop_primitives

    def loss(params, x, y):
        (w, b), (v, c) = params
        h = F.max_pool2d(F.relu(F.conv2d(x[None], w, b, padding=1)), 2)
        h = F.avg_pool2d(h, 1)
        logits = F.linear(wg.numpy.reshape(h, (1, -1)), v, c)
        return F.cross_entropy(logits, y[None]) + F.nll_loss(F.log_softmax(logits), y[None])

    params = (CONV, (E.standard_normal((4, 12)), E.standard_normal(4)))
    xs = e(2, 4, 4)
    grads = wg.vmap(wg.grad(loss), in_axes=(None, 0, 0))(params, xs, LABELS_3)
    for i in range(N_EXAMPLES):
        expected = wg.grad(loss)(params, xs[i], LABELS_3[i])
        for got, want in zip(wg.tree_flatten(grads)[0], wg.tree_flatten(expected)[0]):
            onp.testing.assert_allclose(got[i], want, rtol=1e-10, atol=1e-12)
    nn_primitives = {
        "linear",
        "conv2d",
        "conv2d_input_grad",
        "conv2d_weight_grad",
        "avg_pool2d",
        "avg_pool2d_transpose",
        "softmax_cross_entropy",
        "gather_flat",
        "scatter_flat",
        "take_rows",
        "scatter_rows",
        "unfold",
        "fold",
        "max_pool_index",
    }
    assert not nn_primitives & set(loop_primitives())


_PB = dict(stride=(2, 1), padding=((1, 0), (2, 1)), dilation=(1, 2))
_XS = (2, 2, 5, 6)
CONV_X = E.standard_normal(_XS)
CONV_G = E.standard_normal(F._conv2d_impl(CONV_X, onp.zeros((3, 2, 3, 2)), **_PB).shape)
BATCHED_ARGUMENTS = [
    ("linear, a batch of weights", lambda w, x: F.linear(x, w), (e(4, 3), E.standard_normal(3))),
    ("linear, weights and inputs", lambda w, x: F.linear(x, w), (e(4, 3), e(2, 3))),
    ("linear, a batch of biases", lambda b, x: F.linear(x, W43, b), (e(4), e(3))),
    ("conv2d, a batch of filters", lambda w: F._conv2d(CONV_X, w, **_PB), (e(3, 2, 3, 2),)),
    ("conv2d, filters and images", lambda w, x: F._conv2d(x, w, **_PB), (e(3, 2, 3, 2), e(*_XS))),
    (
        "conv2d_input_grad, a batch of filters",
        lambda w: F._conv2d_input_grad(CONV_G, w, x_shape=_XS, **_PB),
        (e(3, 2, 3, 2),),
    ),
    (
        "conv2d_input_grad, filters and cotangents",
        lambda w, g: F._conv2d_input_grad(g, w, x_shape=_XS, **_PB),
        (e(3, 2, 3, 2), e(*CONV_G.shape)),
    ),
    (
        "conv2d_weight_grad, a batch of images",
        lambda x: F._conv2d_weight_grad(x, CONV_G, kernel=(3, 2), **_PB),
        (e(*_XS),),
    ),
    (
        "conv2d_weight_grad, a batch of cotangents",
        lambda g: F._conv2d_weight_grad(CONV_X, g, kernel=(3, 2), **_PB),
        (e(*CONV_G.shape),),
    ),
    ("unfold", lambda x: F._unfold(x, kernel=(3, 2), **_PB), (e(*_XS),)),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 2, 1, 1, count_include_pad=False), (e(*_XS),)),
    ("softmax_cross_entropy", lambda z: F._ce(z, onp.array([1, 0, 3])), (e(3, 4),)),
    ("take_rows, a batch of tables", lambda w: F._take_rows(w, onp.array([[1, -1]])), (e(4, 2),)),
    ("scatter_rows", lambda g: F._scatter_rows(g, onp.array([[1, -1]]), 4), (e(1, 2, 3),)),
    ("gather_flat", lambda x: F._gather(x, _INDEX), (e(2, 3),)),
    ("scatter_flat", lambda g: F._scatter(g, _INDEX, (2, 3)), (e(2, 2),)),
]


@pytest.mark.parametrize(
    "name, f, args", BATCHED_ARGUMENTS, ids=[row[0] for row in BATCHED_ARGUMENTS]
)
def test_batching_rules_of_the_primitives_equal_a_loop(name, f, args):
    """The arguments made by e() mapped, the others shared: values, and the gradients
    through the batching rules (grad of vmap), against a loop over the members."""
    axes = tuple(0 if onp.ndim(a) > 1 else None for a in args)
    members = [[a[i] if ax == 0 else a for a, ax in zip(args, axes)] for i in range(N_EXAMPLES)]
    got = wg.vmap(f, in_axes=axes)(*args)
    onp.testing.assert_allclose(got, onp.stack([f(*m) for m in members]), rtol=1e-11)
    weights = onp.cos(onp.arange(got.size)).reshape(got.shape)
    argnums = tuple(range(len(args)))
    through = wg.grad(lambda *a: wg.numpy.sum(wg.vmap(f, in_axes=axes)(*a) * weights), argnums)
    each = [wg.grad(lambda *a, i=i: wg.numpy.sum(f(*a) * weights[i]), argnums) for i in range(3)]
    loop = [each[i](*members[i]) for i in range(N_EXAMPLES)]
    for k, (got_k, ax) in enumerate(zip(through(*args), axes)):
        parts = [g[k] for g in loop]
        expected = onp.stack(parts) if ax == 0 else sum(parts)
        onp.testing.assert_allclose(got_k, expected, rtol=1e-10, atol=1e-12)
