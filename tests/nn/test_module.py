"""Module: registration by attribute, traversal, modes, state dicts through files, and the
functional style giving the same gradients as the define-by-run style."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile

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


# --- state files from untrusted sources ---------------------------------------------------


def _member(archive, name, header, payload=b"", chunks=0, chunk=b""):
    """Write one .npy member with a hand-made header (declared shape and dtype) and
    whatever bytes follow it."""
    with archive.open(name, "w", force_zip64=True) as f:
        onp.lib.format.write_array_header_1_0(f, header)
        f.write(payload)
        for _ in range(chunks):
            f.write(chunk)


def _linear_file(path, **extra_members):
    """A state file of nn.Linear(3, 2) plus hand-made members."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for key, value in nn.Linear(3, 2, rng=1).state_dict().items():
            with archive.open(key + ".npy", "w") as f:
                onp.lib.format.write_array(f, value)
        for name, write in extra_members.items():
            write(archive, name + ".npy")
    return path


def _timed_peak(fun):
    """(seconds, peak bytes allocated by Python and NumPy) of fun(), which must raise."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(nn.StateDictError) as info:
            fun()
    finally:
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return seconds, peak, str(info.value)


def test_load_refuses_an_unexpected_key_before_decompressing_it(tmp_path):
    # Regression: a small file whose unexpected entry inflates to a huge array was read
    # whole (2 GB, 19 s) before the keys were compared.
    huge = {"descr": "<f8", "fortran_order": False, "shape": (2**22,)}  # 32 MiB of zeros

    def bomb(archive, name):
        _member(archive, name, huge, chunks=32, chunk=bytes(2**20))

    path = _linear_file(tmp_path / "bomb.npz", huge=bomb)
    assert path.stat().st_size < 200_000
    model = nn.Linear(3, 2, rng=0)
    before = model.weight.data.copy()
    seconds, peak, message = _timed_peak(lambda: model.load(path))
    assert seconds < 1.0 and peak < 2**20, (seconds, peak)
    assert "unexpected: huge" in message
    onp.testing.assert_array_equal(model.weight.data, before)
    # strict=False skips the entry unread and reports it
    tracemalloc.start()
    result = model.load(path, strict=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert result.unexpected_keys == ["huge"] and result.missing_keys == []
    assert peak < 2**20
    assert not onp.array_equal(model.weight.data, before)


def test_load_refuses_a_member_whose_size_disagrees_with_its_header(tmp_path):
    forged = {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}  # 8 TB declared

    def liar(archive, name):
        _member(archive, name, forged, payload=bytes(16))

    path = tmp_path / "forged.npz"
    with zipfile.ZipFile(path, "w") as archive:
        liar(archive, "weight.npy")
    seconds, peak, message = _timed_peak(lambda: nn.load(path))
    assert seconds < 1.0 and peak < 2**20
    assert (
        "declares shape (1000000000000,) of float64" in message and "damaged or forged" in message
    )
    # and a shape that fits the model but a member cut short
    short = {"descr": "<f8", "fortran_order": False, "shape": (2, 3)}
    path = _linear_file(tmp_path / "short.npz")
    with zipfile.ZipFile(path, "w") as archive:
        _member(archive, "weight.npy", short, payload=bytes(8))
        with archive.open("bias.npy", "w") as f:
            onp.lib.format.write_array(f, onp.zeros(2))
    with pytest.raises(nn.StateDictError, match="'weight' declares shape"):
        nn.Linear(3, 2).load(path)


@pytest.mark.parametrize(
    "value, kind",
    [
        (onp.ones((2, 3)) * 1j, "dtype complex128 in the state does not convert to float64"),
        (onp.full((2, 3), "a"), "holds text"),
        (onp.zeros((2, 3), dtype="datetime64[s]"), "holds dates"),
        (onp.zeros((2, 3), dtype="timedelta64[s]"), "holds time spans"),
        (onp.zeros((2, 3), dtype=[("a", "f8")]), "holds raw or structured records"),
        (onp.full((2, 3), b"a"), "holds bytes"),
    ],
)
def test_load_refuses_arrays_that_are_not_real_numbers_for_float_parameters(tmp_path, value, kind):
    path = tmp_path / "odd.npz"
    onp.savez(path, weight=value, bias=onp.zeros(2))
    with pytest.raises(nn.StateDictError, match=kind):
        nn.Linear(3, 2).load(path)


def test_load_refuses_pickled_objects_without_unpickling(tmp_path):
    path = tmp_path / "pickled.npz"
    onp.savez(path, weight=onp.array([[{"a": 1}] * 3] * 2, dtype=object), bias=onp.zeros(2))
    for load in (nn.load, nn.Linear(3, 2).load):
        with pytest.raises(nn.StateDictError, match="holds Python objects"):
            load(path)


def test_load_gives_clear_errors_for_files_that_are_not_state_files(tmp_path):
    npy = tmp_path / "one.npy"
    onp.save(npy, onp.ones(3))
    with pytest.raises(nn.StateDictError, match=r"single array \(\.npy\), not a state dict"):
        nn.load(npy)
    text = tmp_path / "notes.txt"
    text.write_text("not a zip")
    with pytest.raises(nn.StateDictError, match="is not a state file"):
        nn.load(text)
    with pytest.raises(FileNotFoundError, match="load: no file"):
        nn.load(tmp_path / "missing.npz")
    with pytest.raises(IsADirectoryError, match="is a folder"):
        nn.load(tmp_path)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(nn.StateDictError, match=r"'readme\.txt', which is not an \.npy array"):
        nn.load(other)
    broken = tmp_path / "broken.npz"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("w.npy", b"\x93NUMPY\x09\x00garbage")
    with pytest.raises(nn.StateDictError, match=r"'w\.npy' is not a readable \.npy array"):
        nn.load(broken)
    with pytest.raises(TypeError, match="expected a path or a binary file object"):
        nn.load(3)
    with pytest.raises(TypeError, match="like must be a Module or a dict"):
        nn.load(npy, like=[1])


def test_any_key_saves_and_loads_including_file(tmp_path):
    # Regression: numpy.savez took the key "file" for its own argument (a TypeError).
    state = {"file": onp.ones(2), "allow_pickle": onp.zeros(1), "a.b": onp.arange(3)}
    path = tmp_path / "keys.npz"
    nn.save(state, path)
    loaded = nn.load(path)
    assert sorted(loaded) == sorted(state)
    for key, value in state.items():
        onp.testing.assert_array_equal(loaded[key], value)
    with onp.load(path, allow_pickle=False) as data:  # still an ordinary .npz file
        onp.testing.assert_array_equal(data["file"], state["file"])
    buffer = io.BytesIO()
    nn.save(state, buffer)
    buffer.seek(0)
    assert sorted(nn.load(buffer)) == sorted(state)
    with pytest.raises(TypeError, match="holds text"):
        nn.save({"w": onp.array(["a"])}, tmp_path / "t.npz")
    with pytest.raises(TypeError, match="keys must be non-empty strings"):
        nn.save({1: onp.ones(1)}, tmp_path / "k.npz")
    with pytest.raises(FileNotFoundError, match="save: the folder"):
        nn.save(state, tmp_path / "missing" / "w.npz")


def test_load_with_like_checks_names_shapes_and_dtypes_first(tmp_path):
    path = tmp_path / "w.npz"
    nn.save({"w": onp.ones((2, 2)), "n": onp.array(3)}, path)
    like = {"w": onp.zeros((2, 2), onp.float32), "n": onp.array(0)}
    loaded = nn.load(path, like=like)
    assert loaded["w"].dtype == onp.float64  # load returns what the file holds
    with pytest.raises(nn.StateDictError, match=r"w: shape \(2, 2\) in the state, \(3,\)"):
        nn.load(path, like={"w": onp.zeros(3), "n": onp.array(0)})
    with pytest.raises(nn.StateDictError, match="n: dtype float64 in the state does not convert"):
        nn.save({"w": onp.ones((2, 2)), "n": onp.array(3.5)}, path)
        nn.load(path, like=like)
    assert sorted(nn.load(path, like={"w": onp.zeros((2, 2))}, strict=False)) == ["w"]


def test_load_state_dict_refuses_values_that_do_not_convert():
    model = nn.Linear(3, 2)
    state = model.state_dict()
    with pytest.raises(nn.StateDictError, match="weight: dtype complex128"):
        model.load_state_dict({**state, "weight": state["weight"] + 0j})
    with pytest.raises(nn.StateDictError, match="bias: dtype <U3"):
        model.load_state_dict({**state, "bias": onp.array(["1.5", "2.0"])})
    with pytest.raises(TypeError, match="state must be a dict"):
        model.load_state_dict([("weight", state["weight"])])
    with pytest.raises(TypeError, match="load_state_dict: strict must be True or False"):
        model.load_state_dict(state, strict="no")
    model.load_state_dict({**state, "bias": onp.array([1, 2])})  # integers convert
    onp.testing.assert_array_equal(model.bias.data, [1.0, 2.0])


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
