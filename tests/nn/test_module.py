"""Module: registration by attribute, traversal, modes, state dicts through files, and the
functional style giving the same gradients as the define-by-run style."""

from __future__ import annotations

import numpy as onp
import pytest

import wengert as wg
import wengert.numpy as wnp
from wengert import nn
from wengert.nn import functional as F

R = onp.random.default_rng(11)


class Net(nn.Module):
    def __init__(self, seed=0):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 3, 3, padding=1, rng=seed),
            nn.BatchNorm2d(3),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.head = nn.Linear(3 * 2 * 2, 4, rng=seed + 1)
        self.scale = nn.Parameter(onp.array(1.5))
        self.register_buffer("calls", onp.array(0))
        self.register_buffer("scratch", onp.zeros(2), persistent=False)

    def forward(self, x):
        self.calls = self.calls + 1
        h = self.features(x)
        return self.head(wnp.reshape(h, (h.shape[0], -1))) * self.scale


def test_registration_traversal_and_repr():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == [
        "scale",
        "features.0.weight",
        "features.0.bias",
        "features.1.weight",
        "features.1.bias",
        "head.weight",
        "head.bias",
    ]
    assert [n for n, _ in net.named_buffers()] == [
        "calls",
        "scratch",
        "features.1.running_mean",
        "features.1.running_var",
        "features.1.num_batches_tracked",
    ]
    assert [n for n, _ in net.named_modules()][:3] == ["", "features", "features.0"]
    assert len(list(net.children())) == 2
    assert net.num_parameters() == 1 + 27 + 3 + 3 + 3 + 48 + 4
    assert "(features): Sequential(" in repr(net) and "(0): Conv2d(1, 3" in repr(net)
    with pytest.raises(TypeError, match="Parameter"):
        net.head.weight = onp.zeros((4, 12))
    with pytest.raises(AttributeError, match="nothing"):
        _ = net.nothing


def test_init_must_run_first():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(onp.ones(2))

    with pytest.raises(AttributeError, match="super"):
        Broken()


def test_shared_parameters_are_listed_once_and_tied_in_functional_call():
    shared = nn.Linear(2, 2, bias=False, rng=0)
    model = nn.Sequential(shared, nn.Tanh(), shared)
    assert len(list(model.parameters())) == 1
    x = R.standard_normal((3, 2))

    def loss(params):
        return nn.functional_call(model, params, x).sum()

    g = wg.grad(loss)(model.params())
    (model(x).sum()).backward()
    onp.testing.assert_allclose(g["0.weight"], shared.weight.grad.data, rtol=1e-13)


def test_train_eval_zero_grad_and_requires_grad():
    net = Net()
    assert all(m.training for m in net.modules())
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    net(R.standard_normal((2, 1, 4, 4))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(onp.all(p.grad.data == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.features.requires_grad_(False)
    net(R.standard_normal((2, 1, 4, 4))).sum().backward()
    assert net.features[0].weight.grad is None and net.head.weight.grad is not None


def test_state_dict_round_trips_through_a_file(tmp_path):
    net = Net(seed=0)
    net(R.standard_normal((4, 1, 4, 4)))  # change the running statistics
    path = tmp_path / "net.npz"
    net.save(path)
    with onp.load(path, allow_pickle=False) as data:  # plain arrays, no pickle
        assert sorted(data.files) == sorted(net.state_dict())
    assert "scratch" not in net.state_dict()
    other = Net(seed=7)
    assert not onp.allclose(other.head.weight.data, net.head.weight.data)
    other.load(path)
    for (k, a), (_, b) in zip(sorted(net.state_dict().items()), sorted(other.state_dict().items())):
        onp.testing.assert_array_equal(a, b, err_msg=k)
    x = R.standard_normal((3, 1, 4, 4))
    net.eval(), other.eval()
    onp.testing.assert_array_equal(net(x).data, other(x).data)


def test_loading_refuses_missing_unexpected_and_misshaped_entries(tmp_path):
    net = Net()
    state = net.state_dict()
    before = net.head.weight.data.copy()
    bad = dict(state)
    del bad["head.bias"]
    bad["head.weight"] = onp.zeros((5, 12))
    bad["extra"] = onp.zeros(1)
    path = tmp_path / "bad.npz"
    nn.save(bad, path)
    with pytest.raises(nn.StateDictError) as info:
        net.load(path)
    message = str(info.value)
    assert "missing: head.bias" in message
    assert "unexpected: extra" in message
    assert "head.weight: shape (5, 12) in the state, (4, 12) in the model" in message
    onp.testing.assert_array_equal(net.head.weight.data, before)  # nothing changed
    partial = {k: v for k, v in state.items() if k != "head.bias"}
    result = net.load_state_dict({**partial, "extra": onp.zeros(1)}, strict=False)
    assert result.missing_keys == ["head.bias"] and result.unexpected_keys == ["extra"]
    with pytest.raises(nn.StateDictError, match=r"shape \(5, 12\)"):
        net.load_state_dict({**state, "head.weight": onp.zeros((5, 12))}, strict=False)


def test_saving_refuses_objects_and_loading_refuses_pickles(tmp_path):
    with pytest.raises(TypeError, match="numeric"):
        nn.save({"w": onp.array([object()])}, tmp_path / "o.npz")
    path = tmp_path / "pickled.npz"
    onp.savez(path, w=onp.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError):
        nn.load(path)


def test_astype_and_load_casts_to_the_model_dtype():
    net = Net().astype(onp.float32)
    assert all(p.dtype == onp.float32 for p in net.parameters())
    assert net.features[1].running_mean.dtype == onp.float32
    assert net.calls.dtype.kind == "i"
    state = Net().state_dict()
    net.load_state_dict(state)
    assert net.head.weight.dtype == onp.float32
    out = net(R.standard_normal((2, 1, 4, 4)).astype(onp.float32))
    assert out.dtype == onp.float32


def test_params_set_params_and_functional_call_leave_the_module_unchanged():
    net = Net()
    params = net.params()
    new = {k: v + 1.0 for k, v in params.items()}
    x = R.standard_normal((2, 1, 4, 4))
    net.eval()
    before = net(x).data
    shifted = nn.functional_call(net, new, x)
    assert not onp.allclose(shifted, before)
    onp.testing.assert_array_equal(net(x).data, before)
    net.set_params(new)
    onp.testing.assert_array_equal(net(x).data, shifted)
    with pytest.raises(nn.StateDictError, match="nope"):
        nn.functional_call(net, {"nope": 1.0}, x)
    with pytest.raises(nn.StateDictError, match="shape"):
        net.set_params({"scale": onp.ones(3)})


@pytest.mark.parametrize("training", [True, False])
def test_variable_and_functional_styles_give_identical_gradients(training):
    net = Net().train(training)
    x = R.standard_normal((5, 1, 4, 4))
    y = onp.array([0, 3, 1, 1, 2])

    def loss_fn(params):
        return F.cross_entropy(nn.functional_call(net, params, x), y, label_smoothing=0.1)

    value, grads = wg.value_and_grad(loss_fn)(net.params())
    loss = F.cross_entropy(net(x), y, label_smoothing=0.1)
    loss.backward()
    onp.testing.assert_allclose(float(loss), value, rtol=1e-14)
    for name, p in net.named_parameters():
        onp.testing.assert_allclose(p.grad.data, grads[name], rtol=1e-12, atol=1e-15, err_msg=name)
    # and the model's loss checks out in both modes, to second order
    wg.check_grads(loss_fn, modes=("fwd", "rev"), order=2)(net.params())


def test_module_inside_grad_with_variable_parameters_gives_variables():
    layer = nn.Linear(3, 1, rng=0)
    x = R.standard_normal((4, 3))
    gx = wg.grad(lambda v: (layer(v) ** 2).sum())(x)  # depends on the weights
    assert isinstance(gx, wg.Variable) and gx.requires_grad
    (gx * gx).sum().backward()  # a gradient penalty
    w = layer.weight.data

    def penalty(w_, b_):
        return (wg.grad(lambda v: (F.linear(v, w_, b_) ** 2).sum())(x) ** 2).sum()

    gw, gb = wg.grad(penalty, argnums=(0, 1))(w, layer.bias.data)
    onp.testing.assert_allclose(layer.weight.grad.data, gw, rtol=1e-12)
    onp.testing.assert_allclose(layer.bias.grad.data, gb, rtol=1e-12, atol=1e-14)


def test_deepcopy_and_pickle_make_independent_models_on_the_same_engine():
    import copy
    import pickle

    net = Net()
    x = R.standard_normal((2, 1, 4, 4))
    net(x).sum().backward()
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        p, q = clone.head.weight, net.head.weight
        assert isinstance(p, nn.Parameter) and p is not q and p._trace is q._trace
        onp.testing.assert_array_equal(p.data, q.data)
        clone.zero_grad()
        clone.eval(), net.eval()
        clone(x).sum().backward()
        assert q.grad is not None and p.grad is not None
        p.data = p.data + 1.0
        assert not onp.allclose(p.data, q.data)
        net.train()


def test_module_settings_are_checked():
    model = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="train: mode must be True or False"):
        model.train("no")
    with pytest.raises(ValueError, match="astype: dtype must be a floating-point dtype"):
        model.astype(onp.int32)
    with pytest.raises(TypeError, match="zero_grad: set_to_none must be True or False"):
        model.zero_grad(1)
    with pytest.raises(TypeError, match="requires_grad_: flag must be True or False"):
        model.requires_grad_(None)
    with pytest.raises(
        ValueError, match=r"register_buffer: the name must be a non-empty string without '\.'"
    ):
        model.register_buffer("a.b", onp.zeros(1))
    with pytest.raises(ValueError, match="add_module: the name must be a non-empty"):
        model.add_module("", nn.ReLU())
    with pytest.raises(TypeError, match="register_parameter: the name must be a string"):
        model.register_parameter(1, None)
