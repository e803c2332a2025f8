"""Every layer: gradients in both modes through check_grads (input and parameters, by
functional_call), define-by-run gradients equal to functional ones, and outputs equal to
PyTorch's layer of the same name loaded with the same state dict."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as onp
import pytest

import wengert as wg
from wengert import nn

_settings_spec = importlib.util.spec_from_file_location(
    "_wengert_test_settings", Path(__file__).resolve().parents[1] / "_settings.py"
)
_settings = sys.modules.setdefault(
    _settings_spec.name, importlib.util.module_from_spec(_settings_spec)
)
_settings_spec.loader.exec_module(_settings)

R = onp.random.default_rng(5)


def normal(*shape):
    return R.standard_normal(shape)


def distinct_images(*shape):
    n = int(onp.prod(shape))
    return (R.permutation(n) + R.uniform(0.1, 0.4, n)).reshape(shape) / n


def away_from_zero(*shape):
    x = normal(*shape)
    return onp.where(onp.abs(x) < 0.2, onp.sign(x) * 0.2 + x, x) + 0.0


# (name, layer factory, input); the layer is in training mode.
LAYERS = [
    ("Linear", lambda: nn.Linear(3, 4, rng=0), normal(5, 3)),
    ("Linear no bias", lambda: nn.Linear(3, 2, bias=False, rng=0), normal(2, 4, 3)),
    ("Conv2d", lambda: nn.Conv2d(2, 3, 3, rng=0), normal(2, 2, 5, 5)),
    (
        "Conv2d stride and padding",
        lambda: nn.Conv2d(2, 3, (3, 2), stride=2, padding=1, rng=0),
        normal(2, 2, 5, 6),
    ),
    (
        "Conv2d dilation",
        lambda: nn.Conv2d(1, 2, 2, dilation=2, padding="same", rng=0),
        normal(1, 1, 5, 5),
    ),
    ("MaxPool2d", lambda: nn.MaxPool2d(2), distinct_images(2, 2, 4, 4)),
    (
        "MaxPool2d strided",
        lambda: nn.MaxPool2d(3, stride=2, padding=1),
        distinct_images(1, 2, 5, 5),
    ),
    ("AvgPool2d", lambda: nn.AvgPool2d(2, stride=1), normal(2, 2, 4, 3)),
    ("Flatten", lambda: nn.Flatten(), normal(2, 3, 2, 2)),
    ("BatchNorm1d train", lambda: nn.BatchNorm1d(3), normal(6, 3)),
    ("BatchNorm1d (N, C, L)", lambda: nn.BatchNorm1d(2), normal(3, 2, 4)),
    ("BatchNorm2d train", lambda: nn.BatchNorm2d(2), normal(3, 2, 3, 3)),
    ("LayerNorm", lambda: nn.LayerNorm(4), normal(3, 4)),
    ("Dropout eval", lambda: nn.Dropout(0.5).eval(), normal(3, 4)),
    ("ReLU", lambda: nn.ReLU(), away_from_zero(3, 4)),
    ("LeakyReLU", lambda: nn.LeakyReLU(0.1), away_from_zero(3, 4)),
    ("GELU", lambda: nn.GELU(), normal(3, 4)),
    ("SiLU", lambda: nn.SiLU(), normal(3, 4)),
    ("Tanh", lambda: nn.Tanh(), normal(3, 4)),
    ("Sigmoid", lambda: nn.Sigmoid(), normal(3, 4)),
    ("Softplus", lambda: nn.Softplus(), normal(3, 4)),
    ("Softmax", lambda: nn.Softmax(), normal(3, 4)),
    ("LogSoftmax", lambda: nn.LogSoftmax(0), normal(3, 4)),
    ("GRUCell", lambda: nn.GRUCell(3, 2, rng=0), normal(4, 3)),
    (
        "Sequential",
        lambda: nn.Sequential(nn.Linear(3, 5, rng=0), nn.Tanh(), nn.Linear(5, 2, rng=1)),
        normal(4, 3),
    ),
]


class _LSTMOut(nn.Module):
    """An LSTM cell run for two steps, both outputs concatenated (one array out)."""

    def __init__(self):
        super().__init__()
        self.cell = nn.LSTMCell(3, 2, rng=0)

    def forward(self, x):
        import wengert.numpy as wnp

        h, c = self.cell(x)
        h, c = self.cell(x * 0.5, (h, c))
        return wnp.concatenate([h, c], axis=1)


LAYERS.append(("LSTMCell two steps", _LSTMOut, normal(4, 3)))


def _as_function(layer):
    """The layer as a function of (input, parameter tree)."""
    return lambda x, params: nn.functional_call(layer, params, x)


@pytest.mark.parametrize("name, make, x", LAYERS, ids=[layer[0] for layer in LAYERS])
def test_layer_gradients_both_modes(name, make, x):
    layer = make()
    wg.check_grads(_as_function(layer), modes=("fwd", "rev"), order=2)(x, layer.params())


@pytest.mark.parametrize("name, make, x", LAYERS, ids=[layer[0] for layer in LAYERS])
def test_define_by_run_matches_functional(name, make, x):
    layer = make()
    u = normal(*onp.shape(layer(x)))  # a fixed cotangent
    xv = wg.Variable(x)
    out = layer(xv)
    (out * u).sum().backward()
    grads = wg.grad(lambda x_, p: (nn.functional_call(layer, p, x_) * u).sum(), argnums=(0, 1))(
        x, layer.params()
    )
    onp.testing.assert_allclose(xv.grad.data, grads[0], rtol=1e-12, atol=1e-14)
    for name_, p in layer.named_parameters():
        onp.testing.assert_allclose(p.grad.data, grads[1][name_], rtol=1e-12, atol=1e-14)


def test_embedding_gradient_sums_repeated_rows_and_skips_padding():
    emb = nn.Embedding(5, 2, padding_idx=0, rng=0)
    onp.testing.assert_array_equal(emb.weight.data[0], [0.0, 0.0])
    idx = onp.array([[1, 0], [1, 3]])
    out = emb(idx)
    onp.testing.assert_array_equal(out.data[0, 1], [0.0, 0.0])
    out.sum().backward()
    onp.testing.assert_array_equal(emb.weight.grad.data[:, 0], [0.0, 2.0, 0.0, 1.0, 0.0])
    wg.check_grads(lambda w: nn.functional_call(emb, {"weight": w}, idx), order=2)(normal(5, 2))


def test_dropout_training_mask_statistics_and_determinism():
    x = onp.ones((200, 50))
    a = nn.Dropout(0.3, rng=1)(x)
    b = nn.Dropout(0.3, rng=1)(x)
    onp.testing.assert_array_equal(a, b)
    kept = a != 0
    assert abs(kept.mean() - 0.7) < 0.02
    onp.testing.assert_allclose(a[kept], 1 / 0.7)
    assert onp.all(nn.Dropout(1.0)(x) == 0)


def test_batch_norm_running_statistics_and_eval_mode():
    bn = nn.BatchNorm1d(3, momentum=0.5)
    x = normal(10, 3) * 2 + 1
    bn(x)
    onp.testing.assert_allclose(bn.running_mean, 0.5 * x.mean(0))
    onp.testing.assert_allclose(bn.running_var, 0.5 + 0.5 * x.var(0, ddof=1))
    assert int(bn.num_batches_tracked) == 1
    bn.eval()
    y = bn(x).data
    expected = (x - bn.running_mean) / onp.sqrt(bn.running_var + bn.eps)
    onp.testing.assert_allclose(y, expected)
    cumulative = nn.BatchNorm1d(3, momentum=None)
    cumulative(x)
    cumulative(x * 3.0)
    onp.testing.assert_allclose(cumulative.running_mean, 2.0 * x.mean(0))
    with pytest.raises(ValueError, match="axes"):
        nn.BatchNorm2d(3)(normal(4, 3))


def test_layers_match_pytorch_with_the_same_state_dict():
    torch = pytest.importorskip("torch")
    pairs = [
        (nn.Linear(4, 3, rng=0), torch.nn.Linear(4, 3).double(), normal(5, 4)),
        (
            nn.Conv2d(2, 3, 3, stride=2, padding=1, rng=0),
            torch.nn.Conv2d(2, 3, 3, stride=2, padding=1).double(),
            normal(2, 2, 7, 6),
        ),
        (nn.BatchNorm2d(2), torch.nn.BatchNorm2d(2).double(), normal(4, 2, 3, 3)),
        (nn.LayerNorm(4), torch.nn.LayerNorm(4).double(), normal(3, 4)),
        (nn.Embedding(6, 3, rng=0), torch.nn.Embedding(6, 3).double(), onp.array([[1, 5], [0, 0]])),
        (nn.GRUCell(3, 4, rng=0), torch.nn.GRUCell(3, 4).double(), normal(2, 3)),
    ]
    for ours, theirs, x in pairs:
        theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
        theirs.train()
        expected = theirs(torch.tensor(x)).detach().numpy()
        onp.testing.assert_allclose(ours(x).data, expected, rtol=1e-10, atol=1e-12)
        if isinstance(ours, nn.BatchNorm2d):
            onp.testing.assert_allclose(ours.running_var, theirs.running_var.numpy())
    lstm, tlstm = nn.LSTMCell(3, 4, rng=0), torch.nn.LSTMCell(3, 4).double()
    tlstm.load_state_dict({k: torch.tensor(v) for k, v in lstm.state_dict().items()})
    x = normal(2, 3)
    h, c = lstm(x)
    ht, ct = tlstm(torch.tensor(x))
    onp.testing.assert_allclose(h.data, ht.detach().numpy(), rtol=1e-10)
    onp.testing.assert_allclose(c.data, ct.detach().numpy(), rtol=1e-10)


def test_default_initialisation_follows_pytorch_bounds():
    layer = nn.Linear(100, 50, rng=0)
    bound = 1 / onp.sqrt(100)
    assert onp.abs(layer.weight.data).max() <= bound
    assert onp.abs(layer.weight.data).max() > 0.9 * bound
    conv = nn.Conv2d(4, 8, 3, rng=0)
    assert onp.abs(conv.weight.data).max() <= 1 / onp.sqrt(36)
    assert layer.weight.dtype == onp.float64
    assert nn.Linear(2, 2, dtype=onp.float32).weight.dtype == onp.float32


# --- float32 layers: outputs, buffers and gradients stay float32 ---------------------------


def f32(*shape):
    return normal(*shape).astype(onp.float32)


F32 = onp.float32
FLOAT32_LAYERS = [
    ("Linear", lambda: nn.Linear(3, 2, dtype=F32, rng=0), f32(4, 3)),
    ("Conv2d", lambda: nn.Conv2d(2, 3, 3, padding=1, dtype=F32, rng=0), f32(1, 2, 5, 5)),
    ("BatchNorm1d", lambda: nn.BatchNorm1d(3, dtype=F32), f32(4, 3)),
    ("BatchNorm1d cumulative", lambda: nn.BatchNorm1d(3, momentum=None, dtype=F32), f32(4, 3)),
    ("BatchNorm2d", lambda: nn.BatchNorm2d(2, dtype=F32), f32(2, 2, 3, 3)),
    ("BatchNorm2d eval", lambda: nn.BatchNorm2d(2, dtype=F32).eval(), f32(2, 2, 3, 3)),
    ("LayerNorm", lambda: nn.LayerNorm(3, dtype=F32), f32(4, 3)),
    ("Embedding", lambda: nn.Embedding(5, 3, padding_idx=0, dtype=F32, rng=0), onp.array([0, 2])),
    ("LSTMCell", lambda: nn.LSTMCell(3, 4, dtype=F32, rng=0), f32(2, 3)),
    ("GRUCell", lambda: nn.GRUCell(3, 4, dtype=F32, rng=0), f32(2, 3)),
    ("Dropout", lambda: nn.Dropout(0.3, rng=0), f32(5)),
    ("MaxPool2d", lambda: nn.MaxPool2d(2), f32(1, 1, 4, 4)),
    ("AvgPool2d", lambda: nn.AvgPool2d(3, 1, 1, count_include_pad=False), f32(1, 1, 4, 4)),
    ("Flatten", lambda: nn.Flatten(), f32(2, 2, 2)),
    ("GELU", lambda: nn.GELU("tanh"), f32(3)),
    ("SiLU", lambda: nn.SiLU(), f32(3)),
    ("Sigmoid", lambda: nn.Sigmoid(), f32(3)),
    ("Softplus", lambda: nn.Softplus(), f32(3)),
    ("Softmax", lambda: nn.Softmax(), f32(2, 3)),
    ("LogSoftmax", lambda: nn.LogSoftmax(), f32(2, 3)),
    ("LeakyReLU", lambda: nn.LeakyReLU(onp.float64(0.1)), f32(3)),
    ("Tanh", lambda: nn.Tanh(), f32(3)),
    ("float64 model made float32", lambda: nn.Linear(3, 2, rng=0).astype("float32"), f32(4, 3)),
]


def _first(out):
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("name, make, x", FLOAT32_LAYERS, ids=[c[0] for c in FLOAT32_LAYERS])
def test_float32_layers_keep_float32(name, make, x):
    layer = make()
    out = _first(layer(wg.Variable(x) if x.dtype.kind == "f" else x))
    assert out.dtype == onp.float32
    out.sum().backward()
    for pname, p in layer.named_parameters():
        assert p.grad.dtype == onp.float32, pname
    for bname, b in layer.named_buffers():
        if onp.asarray(b).dtype.kind == "f":
            assert onp.asarray(b).dtype == onp.float32, bname
    params = layer.params()
    if params:
        grads = wg.grad(lambda p: _first(nn.functional_call(layer, p, x)).sum())(params)
        assert all(g.dtype == onp.float32 for g in grads.values())


# --- settings: every one checked, named, with its range -----------------------------------

NAN, INF = float("nan"), float("inf")
SIZE = dict(value_errors=[0, -1], type_errors=[2.5, 2.0, True, "3", None])
SIZE_PAIR = dict(value_errors=[0, -1, (1, 0)], type_errors=[1.5, True, "1", (1,), (1, 2, 3)])
PAD_PAIR = dict(value_errors=[-1, (0, -1)], type_errors=[1.5, True, (1,)])
FLAG = dict(value_errors=[], type_errors=[1, 0, "yes", None])
UNIT = dict(value_errors=[-0.1, 1.5, NAN, INF], type_errors=[True, "0.5", None])
POSITIVE = dict(value_errors=[0.0, -1.0, NAN, INF], type_errors=[True, "1", None])
FINITE = dict(value_errors=[NAN, INF], type_errors=[True, "0.1", None])
DTYPE = dict(value_errors=[onp.int32, "int64", complex, bool], type_errors=["nonsense"])
RNG = dict(value_errors=[-1], type_errors=[1.5, "0", True])
INT = dict(value_errors=[], type_errors=[1.5, True, "1", None])
REDUCTION = dict(value_errors=["avg"], type_errors=[None, 1])

# (class, parameter, build with the value, the refused values by exception)
SETTINGS = [
    ("Linear", "in_features", lambda v: nn.Linear(v, 2), SIZE),
    ("Linear", "out_features", lambda v: nn.Linear(2, v), SIZE),
    ("Linear", "bias", lambda v: nn.Linear(2, 2, bias=v), FLAG),
    ("Linear", "dtype", lambda v: nn.Linear(2, 2, dtype=v), DTYPE),
    ("Linear", "rng", lambda v: nn.Linear(2, 2, rng=v), RNG),
    ("Conv2d", "in_channels", lambda v: nn.Conv2d(v, 2, 3), SIZE),
    ("Conv2d", "out_channels", lambda v: nn.Conv2d(2, v, 3), SIZE),
    ("Conv2d", "kernel_size", lambda v: nn.Conv2d(2, 2, v), SIZE_PAIR),
    ("Conv2d", "stride", lambda v: nn.Conv2d(2, 2, 3, stride=v), SIZE_PAIR),
    ("Conv2d", "dilation", lambda v: nn.Conv2d(2, 2, 3, dilation=v), SIZE_PAIR),
    (
        "Conv2d",
        "padding",
        lambda v: nn.Conv2d(2, 2, 3, padding=v),
        dict(value_errors=[-1, (0, -1), "full"], type_errors=[1.5, True, None]),
    ),
    ("Conv2d", "bias", lambda v: nn.Conv2d(2, 2, 3, bias=v), FLAG),
    ("Conv2d", "dtype", lambda v: nn.Conv2d(2, 2, 3, dtype=v), DTYPE),
    ("MaxPool2d", "kernel_size", lambda v: nn.MaxPool2d(v), SIZE_PAIR),
    ("MaxPool2d", "stride", lambda v: nn.MaxPool2d(2, v), SIZE_PAIR),
    ("MaxPool2d", "padding", lambda v: nn.MaxPool2d(2, 2, v), PAD_PAIR),
    ("MaxPool2d", "dilation", lambda v: nn.MaxPool2d(2, 2, 0, v), SIZE_PAIR),
    ("AvgPool2d", "kernel_size", lambda v: nn.AvgPool2d(v), SIZE_PAIR),
    ("AvgPool2d", "stride", lambda v: nn.AvgPool2d(2, v), SIZE_PAIR),
    ("AvgPool2d", "padding", lambda v: nn.AvgPool2d(2, 2, v), PAD_PAIR),
    ("AvgPool2d", "count_include_pad", lambda v: nn.AvgPool2d(2, count_include_pad=v), FLAG),
    ("Flatten", "start_dim", lambda v: nn.Flatten(v), INT),
    ("Flatten", "end_dim", lambda v: nn.Flatten(1, v), INT),
    ("Dropout", "p", lambda v: nn.Dropout(v), UNIT),
    ("Dropout", "rng", lambda v: nn.Dropout(0.5, v), RNG),
    ("BatchNorm1d", "num_features", lambda v: nn.BatchNorm1d(v), SIZE),
    ("BatchNorm1d", "eps", lambda v: nn.BatchNorm1d(2, eps=v), POSITIVE),
    (
        "BatchNorm2d",
        "momentum",
        lambda v: nn.BatchNorm2d(2, momentum=v),  # None: a cumulative average
        dict(value_errors=[-0.1, 1.5, NAN, INF], type_errors=[True, "0.5"]),
    ),
    ("BatchNorm2d", "affine", lambda v: nn.BatchNorm2d(2, affine=v), FLAG),
    (
        "BatchNorm2d",
        "track_running_stats",
        lambda v: nn.BatchNorm2d(2, track_running_stats=v),
        FLAG,
    ),
    ("BatchNorm2d", "dtype", lambda v: nn.BatchNorm2d(2, dtype=v), DTYPE),
    (
        "LayerNorm",
        "normalized_shape",
        lambda v: nn.LayerNorm(v),
        dict(value_errors=[0, (2, 0), []], type_errors=[2.0, True, None]),
    ),
    ("LayerNorm", "eps", lambda v: nn.LayerNorm(2, eps=v), POSITIVE),
    ("LayerNorm", "elementwise_affine", lambda v: nn.LayerNorm(2, elementwise_affine=v), FLAG),
    ("Embedding", "num_embeddings", lambda v: nn.Embedding(v, 2), SIZE),
    ("Embedding", "embedding_dim", lambda v: nn.Embedding(5, v), SIZE),
    (
        "Embedding",
        "padding_idx",
        lambda v: nn.Embedding(5, 2, padding_idx=v),
        dict(value_errors=[5, -6], type_errors=[1.5, True, "0"]),
    ),
    ("LSTMCell", "input_size", lambda v: nn.LSTMCell(v, 2), SIZE),
    ("LSTMCell", "hidden_size", lambda v: nn.LSTMCell(2, v), SIZE),
    ("GRUCell", "hidden_size", lambda v: nn.GRUCell(2, v), SIZE),
    ("GRUCell", "bias", lambda v: nn.GRUCell(2, 2, bias=v), FLAG),
    ("LeakyReLU", "negative_slope", lambda v: nn.LeakyReLU(v), FINITE),
    ("GELU", "approximate", lambda v: nn.GELU(v), dict(value_errors=["erf"], type_errors=[1])),
    ("Softmax", "dim", lambda v: nn.Softmax(v), INT),
    ("LogSoftmax", "dim", lambda v: nn.LogSoftmax(v), INT),
    ("MSELoss", "reduction", lambda v: nn.MSELoss(v), REDUCTION),
    ("BCELoss", "reduction", lambda v: nn.BCELoss(reduction=v), REDUCTION),
    ("HuberLoss", "delta", lambda v: nn.HuberLoss(v), POSITIVE),
    ("CrossEntropyLoss", "label_smoothing", lambda v: nn.CrossEntropyLoss(label_smoothing=v), UNIT),
    ("CrossEntropyLoss", "ignore_index", lambda v: nn.CrossEntropyLoss(ignore_index=v), INT),
    ("NLLLoss", "ignore_index", lambda v: nn.NLLLoss(ignore_index=v), INT),
    # initialisations
    (
        "uniform",
        "high",
        lambda v: nn.init.uniform((2,), 0.0, v),
        dict(value_errors=[-1.0, NAN, INF], type_errors=["1"]),
    ),
    ("uniform", "low", lambda v: nn.init.uniform((2,), v), FINITE),
    (
        "normal",
        "std",
        lambda v: nn.init.normal((2,), std=v),
        dict(value_errors=[-1.0, NAN, INF], type_errors=[None]),
    ),
    ("normal", "mean", lambda v: nn.init.normal((2,), v), FINITE),
    ("constant", "value", lambda v: nn.init.constant((2,), v), FINITE),
    ("constant", "dtype", lambda v: nn.init.constant((2,), 1.0, dtype=v), DTYPE),
    (
        "zeros",
        "shape",
        lambda v: nn.init.zeros(v),
        dict(value_errors=[-1, (2, -1)], type_errors=[(2, 1.0), (True,)]),
    ),
    ("ones", "target", lambda v: nn.init.ones(v), dict(value_errors=[], type_errors=[2.5, "3"])),
    (
        "xavier_uniform",
        "gain",
        lambda v: nn.init.xavier_uniform((2, 3), v),
        dict(value_errors=[-1.0, NAN], type_errors=["1"]),
    ),
    (
        "xavier_normal",
        "gain",
        lambda v: nn.init.xavier_normal((2, 3), v),
        dict(value_errors=[-1.0, INF], type_errors=[None]),
    ),
    ("kaiming_uniform", "a", lambda v: nn.init.kaiming_uniform((2, 3), v), FINITE),
    (
        "kaiming_normal",
        "mode",
        lambda v: nn.init.kaiming_normal((2, 3), mode=v),
        dict(value_errors=["fan"], type_errors=[None]),
    ),
    ("kaiming_normal", "rng", lambda v: nn.init.kaiming_normal((2, 3), rng=v), RNG),
    ("orthogonal", "gain", lambda v: nn.init.orthogonal((2, 3), v), FINITE),
    (
        "calculate_gain",
        "param",
        lambda v: nn.init.calculate_gain("leaky_relu", v),
        dict(value_errors=[NAN, INF], type_errors=[True, "0.1"]),
    ),
]
SETTING_CASES = _settings.setting_cases(SETTINGS)


@pytest.mark.parametrize("where, name, make, error, value", SETTING_CASES)
def test_every_setting_is_checked_and_named(where, name, make, error, value):
    _settings.check_refused(where, name, make, error, value)


def test_initialisations_refuse_weights_without_fans_and_non_float_targets():
    with pytest.raises(ValueError, match=r"kaiming_uniform: a weight of shape \(0, 3\) has no fan"):
        nn.init.kaiming_uniform((0, 3))
    with pytest.raises(ValueError, match="fan in and fan out need a weight of at least 2 axes"):
        nn.init.xavier_uniform((3,))
    with pytest.raises(ValueError, match="orthogonal: needs a non-empty weight"):
        nn.init.orthogonal((3,))
    with pytest.raises(TypeError, match="normal: target must hold floating-point values"):
        nn.init.normal(onp.zeros(3, dtype=onp.int64))
    with pytest.raises(TypeError, match="uniform: target must be a shape"):
        nn.init.uniform("3")
    with pytest.raises(TypeError, match="calculate_gain: nonlinearity must be a name"):
        nn.init.calculate_gain(None)
    # A layer built on a 0-feature input had a 0 bound and NaN-free but empty weights;
    # zero sizes are refused now, while a 1-feature layer works.
    assert nn.Linear(1, 1, rng=0)(onp.ones((2, 1))).shape == (2, 1)
