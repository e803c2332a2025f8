"""Optimisers against PyTorch's (same settings, same gradients, several steps), the
functional face against the define-by-run one, parameter groups, checkpoints, schedules
and clipping."""

from __future__ import annotations

import math

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert import optim

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
