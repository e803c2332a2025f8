"""Optimisers against PyTorch's (same settings, same gradients, several steps), the
functional face against the define-by-run one, parameter groups, checkpoints, schedules
and clipping."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert import optim

_settings_spec = importlib.util.spec_from_file_location(
    "_wengert_test_settings", Path(__file__).resolve().parents[1] / "_settings.py"
)
_settings = sys.modules.setdefault(
    _settings_spec.name, importlib.util.module_from_spec(_settings_spec)
)
_settings_spec.loader.exec_module(_settings)

R = onp.random.default_rng(2)
W0 = R.standard_normal((3, 4))
B0 = R.standard_normal(4)
X = R.standard_normal((6, 3))


def loss_of(w, b, np_):
    x = np_.tensor(X) if hasattr(np_, "tensor") else X
    return np_.sum(np_.tanh(x @ w + b) ** 2) + np_.sum(w**4) * 0.1


CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.3)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.05)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5)),
]


def run_wengert(name, settings, steps=6):
    w, b = wg.Variable(W0.copy()), wg.Variable(B0.copy())
    opt = getattr(optim, name)([w, b], **settings)
    for _ in range(steps):
        opt.zero_grad()
        loss_of(w, b, wnp).backward()
        opt.step()
    return w.data, b.data


@pytest.mark.parametrize("name, settings", CONFIGS, ids=[f"{n} {s}" for n, s in CONFIGS])
def test_matches_pytorch(name, settings):
    torch = pytest.importorskip("torch")
    w, b = (torch.tensor(a.copy(), requires_grad=True) for a in (W0, B0))
    opt = getattr(torch.optim, name)([w, b], **settings)
    for _ in range(6):
        opt.zero_grad()
        loss_of(w, b, torch).backward()
        opt.step()
    ours = run_wengert(name, settings)
    onp.testing.assert_allclose(ours[0], w.detach().numpy(), rtol=1e-10, atol=1e-12)
    onp.testing.assert_allclose(ours[1], b.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, settings", CONFIGS, ids=[f"{n} {s}" for n, s in CONFIGS])
def test_functional_update_matches_step(name, settings):
    opt = getattr(optim, name)(**settings)
    params = {"w": W0.copy(), "b": B0.copy()}
    state = opt.init(params)
    first_state = state
    grad = wg.grad(lambda p: loss_of(p["w"], p["b"], wnp))
    for _ in range(6):
        params, state = opt.update(params, grad(params), state)
    ours = run_wengert(name, settings)
    onp.testing.assert_allclose(params["w"], ours[0], rtol=1e-13)
    onp.testing.assert_allclose(params["b"], ours[1], rtol=1e-13)
    assert all(s == {} for s in first_state)  # the old state is left unchanged


def test_sgd_by_hand():
    w = wg.Variable(onp.array([1.0, -2.0]))
    opt = optim.SGD([w], lr=0.1, momentum=0.5)
    for _ in range(2):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
    # step 1: buf = 2w0 = [2, -4], w1 = [0.8, -1.6]; step 2: buf = 0.5 buf + 2 w1
    onp.testing.assert_allclose(w.data, [0.8 - 0.1 * (1.0 + 1.6), -1.6 - 0.1 * (-2.0 - 3.2)])


def test_parameter_groups_skip_missing_grads_and_checkpoints():
    a, b, c = (wg.Variable(onp.ones(2)) for _ in range(3))
    opt = optim.Adam([{"params": [a], "lr": 0.1}, {"params": [b, c]}], lr=0.01)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    ((a + b) ** 2).sum().backward()  # c has no gradient: left alone
    opt.step()
    onp.testing.assert_allclose(a.data, 1 - 0.1)
    onp.testing.assert_allclose(b.data, 1 - 0.01)
    onp.testing.assert_array_equal(c.data, onp.ones(2))
    saved = opt.state_dict()
    a2, b2, c2 = (wg.Variable(v.data.copy()) for v in (a, b, c))
    opt2 = optim.Adam([{"params": [a2], "lr": 0.5}, {"params": [b2, c2]}], lr=0.01)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == 0.1
    for o, params in ((opt, (a, b)), (opt2, (a2, b2))):
        o.zero_grad()
        ((params[0] + params[1]) ** 2).sum().backward()
        o.step()
    onp.testing.assert_allclose(a2.data, a.data, rtol=1e-15)
    with pytest.raises(ValueError, match="more than one"):
        optim.SGD([{"params": [a]}, {"params": [a]}], lr=0.1)
    with pytest.raises(TypeError, match="unknown settings"):
        optim.SGD([{"params": [a], "momentun": 0.9}], lr=0.1)
    with pytest.raises(TypeError, match="init"):
        optim.SGD([onp.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([a], lr=0.1, nesterov=True)


def test_step_keeps_recorded_graphs_valid():
    w = wg.Variable(onp.array([2.0]))
    opt = optim.SGD([w], lr=0.5)
    y = (w**3).sum()  # records w = 2
    (w * w).sum().backward()
    opt.step()  # replaces w's array; the graph of y still holds the old value
    w.grad = None
    y.backward()
    onp.testing.assert_allclose(w.grad.data, [12.0])


# --- schedules ---------------------------------------------------------------------------


def _lrs(make, epochs=12):
    w = wg.Variable(onp.zeros(1))
    opt = optim.SGD([w], lr=0.5)
    sched = make(opt)
    out = []
    for _ in range(epochs):
        out.append(opt.lr)
        opt.step()
        sched.step()
    return out


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda o: optim.StepLR(o, 3, 0.5), lambda o, t: t.StepLR(o, 3, 0.5)),
        (lambda o: optim.MultiStepLR(o, [2, 5], 0.1), lambda o, t: t.MultiStepLR(o, [2, 5], 0.1)),
        (lambda o: optim.ExponentialLR(o, 0.8), lambda o, t: t.ExponentialLR(o, 0.8)),
        # (PyTorch's cosine turns back up after T_max; ours stays at eta_min.)
        (
            lambda o: optim.CosineAnnealingLR(o, 11, 0.01),
            lambda o, t: t.CosineAnnealingLR(o, 11, 0.01),
        ),
        (
            lambda o: optim.LambdaLR(o, lambda e: 1 / (1 + e)),
            lambda o, t: t.LambdaLR(o, lambda e: 1 / (1 + e)),
        ),
        (
            lambda o: optim.LinearWarmup(o, 4, start_factor=0.25),
            lambda o, t: t.LinearLR(o, start_factor=0.25, total_iters=4),
        ),
    ],
)
def test_schedules_match_pytorch(ours, theirs):
    torch = pytest.importorskip("torch")
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.5)
    sched = theirs(opt, torch.optim.lr_scheduler)
    expected = []
    for _ in range(12):
        expected.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    onp.testing.assert_allclose(_lrs(ours), expected, rtol=1e-12)


def test_warmup_then_cosine():
    def make(opt):
        cosine = optim.CosineAnnealingLR(opt, T_max=4)
        return optim.LinearWarmup(opt, 2, start_factor=0.0, after=cosine)

    lrs = _lrs(make, 8)
    onp.testing.assert_allclose(
        lrs,
        [
            0.0,
            0.25,
            0.5,
            0.5 * (1 + math.cos(math.pi / 4)) / 2,
            0.25,
            0.5 * (1 - math.cos(math.pi / 4)) / 2,
            0.0,
            0.0,
        ],
        atol=1e-15,
    )


# --- clipping ------------------------------------------------------------------------------


def test_clip_grad_norm_matches_pytorch_and_functional_form():
    torch = pytest.importorskip("torch")
    grads = [R.standard_normal((3, 2)), R.standard_normal(4)]
    params = [wg.Variable(onp.zeros_like(g)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = wg.Variable(g.copy(), requires_grad=False)
    norm = optim.clip_grad_norm_(params, 0.5)
    tparams = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, g in zip(tparams, grads):
        p.grad = torch.tensor(g.copy())
    tnorm = torch.nn.utils.clip_grad_norm_(tparams, 0.5)
    assert norm == pytest.approx(float(tnorm), rel=1e-12)
    for p, tp in zip(params, tparams):
        onp.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=1e-12)
    clipped, fnorm = optim.clip_by_global_norm({"a": grads[0], "b": grads[1]}, 0.5)
    assert fnorm == pytest.approx(norm)
    onp.testing.assert_allclose(clipped["a"], params[0].grad.data)
    assert (
        optim.global_norm(grads, math.inf)
        == onp.abs(onp.concatenate([g.ravel() for g in grads])).max()
    )


def test_clip_leaves_small_gradients_and_rejects_nonfinite_on_request():
    w = wg.Variable(onp.array([0.3, 0.4]))
    (w * 1.0).sum().backward()
    assert optim.clip_grad_norm_([w], 10.0) == pytest.approx(math.sqrt(2))
    onp.testing.assert_array_equal(w.grad.data, [1.0, 1.0])
    w.grad = wg.Variable(onp.array([onp.inf, 1.0]), requires_grad=False)
    with pytest.raises(ValueError, match="norm"):
        optim.clip_grad_norm_(w, 1.0, error_if_nonfinite=True)


# --- settings: every one checked, named, with its range -----------------------------------

NAN, INF = float("nan"), float("inf")
AT_LEAST_ZERO = dict(value_errors=[-1e-9, -1.0, NAN, INF], type_errors=[True, "0.1", None])
POSITIVE = dict(value_errors=[0.0, -1.0, NAN, INF], type_errors=[True, "1e-8", None])
BELOW_ONE = dict(value_errors=[-0.1, 1.0, 1.5, NAN], type_errors=[True, "0.9", None])
UNIT = dict(value_errors=[-0.1, 1.5, NAN], type_errors=[True, "0.5", None])
FLAG = dict(value_errors=[], type_errors=[1, 0, "yes", None])
COUNT = dict(value_errors=[0, -1], type_errors=[1.5, 2.0, True, "2", None])
GAMMA = dict(value_errors=[0.0, -0.5, NAN, INF], type_errors=[True, "0.1", None])


def _param():
    return wg.Variable(onp.ones(2))


def _sgd():
    return optim.SGD([_param()], lr=1.0)


# (where, parameter, build with the value, the refused values by exception)
SETTINGS = [
    *(
        (name, "lr", lambda v, name=name: getattr(optim, name)([_param()], lr=v), AT_LEAST_ZERO)
        for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad")
    ),
    *(
        (
            name,
            "weight_decay",
            lambda v, name=name: getattr(optim, name)(weight_decay=v),
            AT_LEAST_ZERO,
        )
        for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad")
    ),
    *(
        (name, "eps", lambda v, name=name: getattr(optim, name)(eps=v), POSITIVE)
        for name in ("Adam", "AdamW", "RMSprop", "Adagrad")
    ),
    ("SGD", "momentum", lambda v: optim.SGD(momentum=v), BELOW_ONE),
    ("SGD", "dampening", lambda v: optim.SGD(momentum=0.5, dampening=v), UNIT),
    ("SGD", "nesterov", lambda v: optim.SGD(momentum=0.5, nesterov=v), FLAG),
    ("Adam", "betas[0]", lambda v: optim.Adam(betas=(v, 0.9)), BELOW_ONE),
    ("AdamW", "betas[1]", lambda v: optim.AdamW(betas=(0.9, v)), BELOW_ONE),
    (
        "Adam",
        "betas",
        lambda v: optim.Adam(betas=v),
        dict(value_errors=[], type_errors=[0.9, (0.9,), None]),
    ),
    ("Adam", "amsgrad", lambda v: optim.Adam(amsgrad=v), FLAG),
    ("RMSprop", "alpha", lambda v: optim.RMSprop(alpha=v), BELOW_ONE),
    ("RMSprop", "momentum", lambda v: optim.RMSprop(momentum=v), BELOW_ONE),
    ("RMSprop", "centered", lambda v: optim.RMSprop(centered=v), FLAG),
    ("Adagrad", "lr_decay", lambda v: optim.Adagrad(lr_decay=v), AT_LEAST_ZERO),
    (
        "Adagrad",
        "initial_accumulator_value",
        lambda v: optim.Adagrad(initial_accumulator_value=v),
        AT_LEAST_ZERO,
    ),
    # settings of a parameter group, and of a saved one loaded back
    ("SGD", "lr", lambda v: optim.SGD([{"params": [_param()], "lr": v}], lr=0.1), AT_LEAST_ZERO),
    (
        "Adam",
        "betas[0]",
        lambda v: optim.Adam([_param()]).add_param_group({"params": [_param()], "betas": (v, 0.9)}),
        BELOW_ONE,
    ),
    (
        "SGD",
        "momentum",
        lambda v: _sgd().load_state_dict(
            {
                "state": {},
                "param_groups": [{**_sgd().state_dict()["param_groups"][0], "momentum": v}],
            }
        ),
        BELOW_ONE,
    ),
    ("zero_grad", "set_to_none", lambda v: _sgd().zero_grad(v), FLAG),
    # schedules
    ("StepLR", "step_size", lambda v: optim.StepLR(_sgd(), v), COUNT),
    ("StepLR", "gamma", lambda v: optim.StepLR(_sgd(), 2, v), GAMMA),
    (
        "MultiStepLR",
        "milestones",
        lambda v: optim.MultiStepLR(_sgd(), v),
        dict(value_errors=[[2, -1]], type_errors=[[1.5], [True], 3, "12"]),
    ),
    ("MultiStepLR", "gamma", lambda v: optim.MultiStepLR(_sgd(), [2], v), GAMMA),
    ("ExponentialLR", "gamma", lambda v: optim.ExponentialLR(_sgd(), v), GAMMA),
    ("CosineAnnealingLR", "T_max", lambda v: optim.CosineAnnealingLR(_sgd(), v), COUNT),
    (
        "CosineAnnealingLR",
        "eta_min",
        lambda v: optim.CosineAnnealingLR(_sgd(), 5, v),
        AT_LEAST_ZERO,
    ),
    (
        "CosineAnnealingLR",
        "last_epoch",
        lambda v: optim.CosineAnnealingLR(_sgd(), 5, last_epoch=v),
        dict(value_errors=[-2], type_errors=[0.5, None]),
    ),
    ("LinearWarmup", "warmup_epochs", lambda v: optim.LinearWarmup(_sgd(), v), COUNT),
    ("LinearWarmup", "start_factor", lambda v: optim.LinearWarmup(_sgd(), 2, v), UNIT),
    (
        "LinearWarmup",
        "after",
        lambda v: optim.LinearWarmup(_sgd(), 2, after=v),
        dict(value_errors=[], type_errors=[0.5, "cosine"]),
    ),
    (
        "LambdaLR",
        "lr_lambda",
        lambda v: optim.LambdaLR(_sgd(), v),
        dict(value_errors=[], type_errors=[0.5, None]),
    ),
    (
        "LambdaLR",
        "lr_lambda(0)",
        lambda v: optim.LambdaLR(_sgd(), lambda e: v),
        dict(value_errors=[-0.5, NAN, INF], type_errors=["1", None]),
    ),
    # clipping
    (
        "clip_grad_norm_",
        "max_norm",
        lambda v: optim.clip_grad_norm_([_param()], v),
        dict(value_errors=[-1.0, NAN], type_errors=["1", None, True]),
    ),
    (
        "clip_grad_norm_",
        "norm_type",
        lambda v: optim.clip_grad_norm_([_param()], 1.0, v),
        dict(value_errors=[0.0, -2.0, NAN], type_errors=["2", None]),
    ),
    (
        "clip_grad_norm_",
        "error_if_nonfinite",
        lambda v: optim.clip_grad_norm_([_param()], 1.0, 2.0, v),
        FLAG,
    ),
    (
        "clip_grad_value_",
        "clip_value",
        lambda v: optim.clip_grad_value_([_param()], v),
        dict(value_errors=[-1.0, NAN], type_errors=["1", None]),
    ),
    (
        "clip_by_global_norm",
        "max_norm",
        lambda v: optim.clip_by_global_norm([onp.ones(2)], v),
        dict(value_errors=[-1.0, NAN], type_errors=["1", None]),
    ),
    (
        "global_norm",
        "norm_type",
        lambda v: optim.global_norm([onp.ones(2)], v),
        dict(value_errors=[0.0, NAN], type_errors=["inf"]),
    ),
]
SETTING_CASES = _settings.setting_cases(SETTINGS)


@pytest.mark.parametrize("where, name, make, error, value", SETTING_CASES)
def test_every_setting_is_checked_and_named(where, name, make, error, value):
    _settings.check_refused(where, name, make, error, value)


def test_edges_of_the_ranges_are_accepted():
    p = _param()
    optim.SGD([p], lr=0.0, momentum=0.0, dampening=1.0)
    optim.Adam([_param()], betas=(0.0, 0.0), weight_decay=0.0)
    optim.RMSprop([_param()], alpha=0.0)
    optim.LinearWarmup(_sgd(), 1, start_factor=0.0)
    optim.MultiStepLR(_sgd(), [0, 3])
    assert optim.clip_grad_norm_([p], INF, norm_type=INF) == 0.0
    optim.clip_grad_value_([p], INF)


def test_parameters_must_be_given_as_an_iterable_of_variables():
    w = _param()
    with pytest.raises(TypeError, match="params must be an iterable of Variables"):
        optim.SGD(w, lr=0.1)  # a bare Variable: iterating it would give its entries
    with pytest.raises(TypeError, match="params must be an iterable of Variables"):
        optim.SGD({"params": [w]}, lr=0.1)
    with pytest.raises(TypeError, match="a parameter group is a dict with a 'params' entry"):
        optim.SGD([{"lr": 0.1}], lr=0.1)
    with pytest.raises(TypeError, match="closure must be a function"):
        optim.SGD([w], lr=0.1).step(closure=3)
    with pytest.raises(TypeError, match="clip_grad_norm_: parameters must be Variables"):
        optim.clip_grad_norm_([onp.ones(2)], 1.0)


def test_numpy_float64_settings_are_plain_floats():
    opt = optim.Adam([_param()], lr=onp.float64(0.1), betas=(onp.float64(0.9), 0.99))
    group = opt.param_groups[0]
    assert type(group["lr"]) is float and type(group["betas"][0]) is float


# --- float32 parameters keep float32 values and state --------------------------------------

FLOAT32_CONFIGS = [
    ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.1, nesterov=True)),
    ("SGD", dict(lr=onp.float64(0.1), momentum=onp.float64(0.9))),
    ("Adam", dict(lr=onp.float64(0.1), weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.1, betas=(onp.float64(0.8), 0.9))),
    ("RMSprop", dict(lr=0.1, alpha=onp.float64(0.9), momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.1)),
]


@pytest.mark.parametrize(
    "name, settings", FLOAT32_CONFIGS, ids=[f"{n} {s}" for n, s in FLOAT32_CONFIGS]
)
def test_float32_parameters_and_state_stay_float32(name, settings):
    w = wg.Variable(onp.ones(3, onp.float32))
    opt = getattr(optim, name)([w], **settings)
    schedule = optim.CosineAnnealingLR(opt, T_max=10)
    for _ in range(3):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
        schedule.step()
    assert w.dtype == onp.float32
    for key, value in opt.state[id(w)].items():
        if onp.asarray(value).dtype.kind == "f":
            assert onp.asarray(value).dtype == onp.float32, key
    # functional face, with float64 gradients for float32 parameters
    functional = getattr(optim, name)(**settings)
    params = {"w": onp.ones(3, onp.float32)}
    state = functional.init(params)
    for _ in range(2):
        params, state = functional.update(params, {"w": onp.ones(3)}, state)
    assert params["w"].dtype == onp.float32
    for entry in state:
        for key, value in entry.items():
            if onp.asarray(value).dtype.kind == "f":
                assert onp.asarray(value).dtype == onp.float32, key


def test_clipping_keeps_float32():
    w = wg.Variable(onp.ones(3, onp.float32))
    (w * w).sum().backward()
    optim.clip_grad_norm_([w], onp.float64(0.1))
    assert w.grad.dtype == onp.float32
    optim.clip_grad_value_([w], onp.float64(0.01))
    assert w.grad.dtype == onp.float32
    clipped, _ = optim.clip_by_global_norm({"w": onp.full(3, 10, onp.float32)}, onp.float64(1.0))
    assert clipped["w"].dtype == onp.float32
