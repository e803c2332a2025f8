"""`Module`: a layer or model that owns parameters, buffers and submodules.

Assigning a `Parameter`, a `Module` or a registered buffer to an attribute registers it,
so ``parameters()``, ``state_dict()`` and ``train()``/``eval()`` reach the whole tree of
submodules. A module runs on Variables (define-by-run: ``loss.backward()`` fills each
parameter's ``.grad``) and, through `functional_call`, on any tree of arrays given in
place of its parameters, which is how `wengert.grad` differentiates a model directly.
"""

from __future__ import annotations

import math
import os
import zipfile
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any, NamedTuple

import numpy as np

from .._core.box import Box, getval
from ..errors import WengertError
from ..variable import Variable
from . import _checks

__all__ = [
    "IncompatibleKeys",
    "Module",
    "Parameter",
    "StateDictError",
    "functional_call",
    "load",
    "save",
]


class Parameter(Variable):
    """A Variable that a `Module` registers as one of its parameters (requires grad).

    >>> import numpy as np
    >>> from wengert import nn
    >>> p = nn.Parameter(np.zeros(2))
    >>> p.requires_grad
    True
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        super().__init__(data, requires_grad)


class StateDictError(WengertError, ValueError):
    """A state dict or a state file does not fit the module (missing, unexpected,
    mis-shaped entries or entries of the wrong kind), or is not a state file at all."""


class IncompatibleKeys(NamedTuple):
    """Keys that `load_state_dict(strict=False)` could not match."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of layers and models: subclass it, assign parameters and submodules in
    ``__init__`` (after ``super().__init__()``) and define ``forward``.

    >>> import numpy as np
    >>> from wengert import nn
    >>> class Affine(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.scale = nn.Parameter(np.ones(2))
    ...     def forward(self, x):
    ...         return x * self.scale
    >>> m = Affine()
    >>> [name for name, _ in m.named_parameters()]
    ['scale']
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation of this module; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward().")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # --- registration by attribute ---------------------------------------------------------
    def _stores(self) -> tuple[dict, dict, dict]:
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes."
            )
        return d["_parameters"], d["_buffers"], d["_modules"]

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, (Parameter, Module)) or name in self.__dict__.get("_parameters", ()):
            params, _buffers, modules = self._stores()
        else:
            params = modules = None
        if isinstance(value, Parameter):
            self._forget(name)
            params[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            modules[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign a {type(value).__name__} to parameter {name!r} of "
                    f"{type(self).__name__}; assign a Parameter (or None), or set "
                    f"{name}.data to change its values."
                )
            params[name] = None
        elif name in self.__dict__.get("_buffers", ()):
            self.__dict__["_buffers"][name] = value
        elif name in self.__dict__.get("_modules", ()) and value is None:
            self.__dict__["_modules"][name] = None
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        for store in ("_parameters", "_buffers", "_modules"):
            self.__dict__[store].pop(name, None)
        self.__dict__.pop(name, None)
        self.__dict__["_non_persistent"].discard(name)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            values = d.get(store)
            if values is not None and name in values:
                return values[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for store in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(store, ()):
                del self.__dict__[store][name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register `param` (or a None placeholder) under `name`."""
        _check_name(name, "register_parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} needs a Parameter or None.")
        params, _, _ = self._stores()
        self._forget(name)
        params[name] = param

    def register_buffer(self, name: str, value: Any, persistent: bool = True) -> None:
        """Register an array that is state but not a parameter (e.g. running statistics);
        persistent buffers are part of the state dict."""
        _check_name(name, "register_buffer")
        persistent = _checks.boolean(persistent, "persistent", "register_buffer")
        _, buffers, _ = self._stores()
        self._forget(name)
        buffers[name] = value
        if not persistent:
            self.__dict__["_non_persistent"].add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a submodule under `name`."""
        _check_name(name, "add_module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} needs a Module, got {type(module).__name__}.")
        _, _, modules = self._stores()
        self._forget(name)
        modules[name] = module

    register_module = add_module

    # --- traversal --------------------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and all submodules, each once, with dotted names."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [
                (f"{name}.{k}" if name else k, m)
                for k, m in module.__dict__["_modules"].items()
                if m is not None
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """This module and all submodules."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct submodules with their names."""
        for name, m in self.__dict__["_modules"].items():
            if m is not None:
                yield name, m

    def children(self) -> Iterator[Module]:
        """The direct submodules."""
        for _, m in self.named_children():
            yield m

    def _named(self, store: str, recurse: bool) -> Iterator[tuple[str, Any]]:
        modules = self.named_modules() if recurse else iter([("", self)])
        seen: set[int] = set()
        for prefix, module in modules:
            for name, value in module.__dict__[store].items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{prefix}.{name}" if prefix else name), value

    def named_parameters(self, recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter) pairs; a parameter shared by several modules once."""
        return self._named("_parameters", recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """The Parameters of this module and its submodules (each once)."""
        for _, p in self.named_parameters(recurse):
            yield p

    def named_buffers(self, recurse: bool = True) -> Iterator[tuple[str, Any]]:
        """(dotted name, array) pairs of the buffers."""
        return self._named("_buffers", recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Any]:
        """The buffers of this module and its submodules."""
        for _, b in self.named_buffers(recurse):
            yield b

    def num_parameters(self) -> int:
        """The number of scalar parameters.

        >>> from wengert import nn
        >>> nn.Linear(3, 2).num_parameters()
        8
        """
        return int(sum(np.size(p.value) for p in self.parameters()))

    # --- modes and gradients ----------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch norm on batch statistics) on every
        submodule; returns the module."""
        mode = _checks.boolean(mode, "mode", "train")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode (``train(False)``); returns the module."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of all parameters (to None, or to zeros)."""
        set_to_none = _checks.boolean(set_to_none, "set_to_none", "zero_grad")
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = Variable(np.zeros_like(p.value), requires_grad=False)

    def requires_grad_(self, flag: bool = True) -> Module:
        """Switch gradient tracking of every parameter (e.g. to freeze a part)."""
        flag = _checks.boolean(flag, "flag", "requires_grad_")
        for p in self.parameters():
            p.requires_grad = flag
        return self

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call `fn` on every submodule and then on this module; returns the module."""
        for m in reversed(list(self.modules())):
            fn(m)
        return self

    def astype(self, dtype: Any) -> Module:
        """Convert every floating-point parameter and buffer to `dtype`; returns the module.

        >>> import numpy as np
        >>> from wengert import nn
        >>> nn.Linear(2, 2).astype(np.float32).weight.dtype
        dtype('float32')
        """
        dtype = _checks.float_dtype(dtype, "dtype", "astype")
        for m in self.modules():
            for p in m.__dict__["_parameters"].values():
                if p is not None:
                    p.data = np.asarray(p.value).astype(dtype)
                    if p.grad is not None:
                        p.grad = Variable(np.asarray(p.grad.value).astype(dtype), False)
            buffers = m.__dict__["_buffers"]
            for name, b in buffers.items():
                if b is not None and np.issubdtype(np.asarray(b).dtype, np.floating):
                    buffers[name] = np.asarray(b).astype(dtype)
        return self

    to = astype

    # --- state ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of all parameters and persistent buffers, by dotted name.

        >>> from wengert import nn
        >>> sorted(nn.Linear(3, 2).state_dict())
        ['bias', 'weight']
        """
        state: dict[str, np.ndarray] = {}
        for prefix, module in self.named_modules():
            dot = f"{prefix}." if prefix else ""
            for name, p in module.__dict__["_parameters"].items():
                if p is not None:
                    state[dot + name] = np.array(p.value, copy=True)
            for name, b in module.__dict__["_buffers"].items():
                if b is not None and name not in module.__dict__["_non_persistent"]:
                    state[dot + name] = np.array(b, copy=True)
        return state

    def _slots(self) -> dict[str, tuple[Module, str, str]]:
        """Every parameter and persistent buffer slot: name -> (module, store, attribute)."""
        slots = {}
        for prefix, module in self.named_modules():
            dot = f"{prefix}." if prefix else ""
            for name, p in module.__dict__["_parameters"].items():
                if p is not None:
                    slots[dot + name] = (module, "_parameters", name)
            for name, b in module.__dict__["_buffers"].items():
                if b is not None and name not in module.__dict__["_non_persistent"]:
                    slots[dot + name] = (module, "_buffers", name)
        return slots

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values from `state` into the parameters and buffers of the same names.

        Raises `StateDictError` naming every missing, unexpected (strict only),
        mis-shaped or uncastable entry (complex, text, dates or objects for a real slot),
        before changing anything. Values are cast to each slot's dtype.
        """
        strict = _checks.boolean(strict, "strict", "load_state_dict")
        if not isinstance(state, Mapping):
            raise TypeError(
                f"load_state_dict: state must be a dict of arrays by name, got "
                f"{type(state).__name__}."
            )
        slots = self._slots()
        found = {}
        for key, value in state.items():
            array = np.asarray(getval(value))
            found[key] = (array.shape, array.dtype)
        missing, unexpected = _check_fit(
            found, self._expected(), strict, f"load_state_dict into {type(self).__name__}"
        )
        for key, (module, store, name) in slots.items():
            if key not in state:
                continue
            current = np.asarray(_slot_value(module, store, name))
            value = np.array(getval(state[key]), dtype=current.dtype, copy=True)
            if store == "_parameters":
                module.__dict__[store][name].data = value
            else:
                module.__dict__[store][name] = value
        return IncompatibleKeys(missing, unexpected)

    def _expected(self) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
        """The shape and dtype of every slot of the state dict, by name."""
        expected = {}
        for key, (module, store, name) in self._slots().items():
            value = np.asarray(_slot_value(module, store, name))
            expected[key] = (value.shape, value.dtype)
        return expected

    def save(self, path: str | os.PathLike | IO[bytes]) -> None:
        """Write the state dict to an ``.npz`` file (plain arrays, no pickle)."""
        save(self.state_dict(), path)

    def load(self, path: str | os.PathLike | IO[bytes], strict: bool = True) -> IncompatibleKeys:
        """Load a state dict written by `save` into this module.

        Names, shapes and dtypes are checked against the model from the file's headers
        before any array is read, so a file that does not fit is refused without being
        decompressed; with ``strict=False`` entries the model lacks are never read.
        """
        strict = _checks.boolean(strict, "strict", "load")
        state, unexpected = _load(
            path, self._expected(), strict, f"load into {type(self).__name__}"
        )
        missing = self.load_state_dict(state, strict=strict).missing_keys
        return IncompatibleKeys(missing, unexpected)

    # --- functional style -----------------------------------------------------------------------
    def params(self) -> dict[str, Any]:
        """The parameters as a tree (a dict by dotted name) of plain arrays, for
        `wengert.grad` and `functional_call`.

        >>> from wengert import nn
        >>> sorted(nn.Linear(3, 2).params())
        ['bias', 'weight']
        """
        return {name: p.value for name, p in self.named_parameters()}

    def set_params(self, params: Mapping[str, Any]) -> None:
        """Write a tree of arrays (as from `params()`) back into the Parameters."""
        named = dict(self.named_parameters())
        unknown = [k for k in params if k not in named]
        if unknown:
            raise StateDictError(f"set_params: no parameters named {', '.join(unknown)}.")
        for name, value in params.items():
            value = getval(value)
            if np.shape(value) != named[name].shape:
                raise StateDictError(
                    f"set_params: {name} has shape {np.shape(value)}, the parameter "
                    f"{named[name].shape}."
                )
            named[name].data = value

    # --- printing ---------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The settings shown between the parentheses of this module's repr."""
        return ""

    def __repr__(self) -> str:
        children = list(self.named_children())
        extra = self.extra_repr()
        if not children:
            return f"{type(self).__name__}({extra})"
        lines = [f"{type(self).__name__}(" + (extra if extra else "")]
        for name, m in children:
            body = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"


def _check_name(name: Any, where: str) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{where}: the name must be a string, got {type(name).__name__}.")
    if not name or "." in name:
        raise ValueError(
            f"{where}: the name must be a non-empty string without '.', got {name!r} (dots "
            "separate the levels of state-dict keys)."
        )


def _check_fit(
    found: Mapping[str, tuple[tuple[int, ...], np.dtype]],
    expected: Mapping[str, tuple[tuple[int, ...], np.dtype]],
    strict: bool,
    where: str,
) -> tuple[list[str], list[str]]:
    """Compare entries found (in a state dict or a file's headers) with the model's:
    raise `StateDictError` naming every problem, else return the missing and unexpected
    keys. A value fits a slot of the same shape whose dtype it casts to within its kind
    (float64 to float32, int to float), so complex, text, dates and objects never fit a
    real slot."""
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    problems = []
    if strict and missing:
        problems.append("missing: " + ", ".join(missing))
    if strict and unexpected:
        problems.append("unexpected: " + ", ".join(unexpected))
    for key, (have_shape, have_dtype) in expected.items():
        if key not in found:
            continue
        got_shape, got_dtype = found[key]
        if tuple(got_shape) != tuple(have_shape):
            problems.append(
                f"{key}: shape {tuple(got_shape)} in the state, {have_shape} in the model"
            )
        elif not np.can_cast(got_dtype, have_dtype, casting="same_kind"):
            problems.append(
                f"{key}: dtype {got_dtype} in the state does not convert to {have_dtype} "
                "in the model"
            )
    if problems:
        raise StateDictError(
            f"{where}: the state does not fit the model (" + "; ".join(problems) + "). Check "
            "that the model is built with the same architecture, or pass strict=False to "
            "skip missing and unexpected keys."
        )
    return missing, unexpected


def _slot_value(module: Module, store: str, name: str) -> Any:
    value = module.__dict__[store][name]
    return value.value if isinstance(value, Variable) else value


def functional_call(module: Module, params: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
    """Run `module` with the values in `params` (dotted names, as from `Module.params()`)
    in place of its parameters (and of any buffers named there).

    The values may be plain arrays or values traced by `grad`, `vjp` or `jvp`, so that a
    model is differentiated as a function of its parameter tree. A parameter shared by
    several modules is replaced everywhere. Nothing is changed after the call.

    >>> import numpy as np
    >>> import wengert as wg
    >>> from wengert import nn
    >>> layer = nn.Linear(2, 1)
    >>> x = np.array([[1.0, 2.0]])
    >>> loss = lambda p: nn.functional_call(layer, p, x).sum()
    >>> wg.grad(loss)(layer.params())["weight"]
    array([[1., 2.]])
    """
    by_id = {id(p): name for name, p in module.named_parameters()}
    buffers = {name for name, _ in module.named_buffers()}
    unknown = [k for k in params if k not in by_id.values() and k not in buffers]
    if unknown:
        raise StateDictError(
            f"functional_call: {type(module).__name__} has no parameters or buffers named "
            f"{', '.join(sorted(unknown))}."
        )
    saved = []
    try:
        for prefix, m in module.named_modules():
            dot = f"{prefix}." if prefix else ""
            store = m.__dict__["_parameters"]
            for attr, p in store.items():
                name = by_id.get(id(p)) if p is not None else None
                if name is not None and name in params:
                    saved.append((store, attr, p))
                    store[attr] = params[name]
            store = m.__dict__["_buffers"]
            for attr, b in store.items():
                if dot + attr in params:
                    saved.append((store, attr, b))
                    store[attr] = params[dot + attr]
        return module(*args, **kwargs)
    finally:
        for store, attr, value in reversed(saved):
            store[attr] = value


_NPY_MAGIC = b"\x93NUMPY"
_KINDS = {
    "b": "booleans",
    "i": "integers",
    "u": "unsigned integers",
    "f": "floats",
    "c": "complex numbers",
    "M": "dates",
    "m": "time spans",
    "S": "bytes",
    "U": "text",
    "V": "raw or structured records",
    "O": "Python objects (which would need unpickling)",
}


def _numeric(dtype: np.dtype) -> bool:
    return dtype.kind in "biufc" and not dtype.hasobject


def save(state: Mapping[str, Any], path: str | os.PathLike | IO[bytes]) -> None:
    """Write a dict of arrays (a state dict) to an ``.npz`` file, without pickle.

    Any string is a valid key; the values must be numeric arrays (booleans, integers,
    floats or complex numbers).

    >>> import os, tempfile
    >>> import numpy as np
    >>> from wengert import nn
    >>> path = os.path.join(tempfile.mkdtemp(), "w.npz")
    >>> nn.save({"w": np.ones(2)}, path)
    >>> nn.load(path)["w"]
    array([1., 1.])
    """
    if not isinstance(state, Mapping):
        raise TypeError(
            f"save: state must be a dict of arrays by name, got {type(state).__name__}."
        )
    arrays = {}
    for key, value in state.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"save: keys must be non-empty strings, got {key!r}.")
        if isinstance(value, Box):
            value = getval(value)
        array = np.asarray(value)
        if not _numeric(array.dtype):
            raise TypeError(
                f"save: entry {key!r} is not a numeric array (it holds "
                f"{_KINDS.get(array.dtype.kind, array.dtype.kind)}, dtype {array.dtype})."
            )
        arrays[key] = array
    # Written member by member (as numpy.savez does), so that any key works, "file" too.
    try:
        archive = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"save: the folder of {os.fspath(path)!r} does not exist."
        ) from None
    with archive:
        for key, array in arrays.items():
            with archive.open(key + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def _source(path: Any) -> str:
    return repr(os.fspath(path)) if isinstance(path, (str, os.PathLike)) else "the file"


def _open_archive(path: Any, where: str) -> zipfile.ZipFile:
    """The zip archive of an ``.npz`` file, with clear errors for everything else."""
    source = _source(path)
    if isinstance(path, (str, os.PathLike)):
        if not os.path.exists(path):
            raise FileNotFoundError(f"{where}: no file {source}.")
        if os.path.isdir(path):
            raise IsADirectoryError(f"{where}: {source} is a folder, not a state file.")
        with open(path, "rb") as f:
            start = f.read(len(_NPY_MAGIC))
    elif hasattr(path, "read") and hasattr(path, "seek"):
        position = path.tell()
        start = path.read(len(_NPY_MAGIC))
        path.seek(position)
    else:
        raise TypeError(
            f"{where}: expected a path or a binary file object, got {type(path).__name__}."
        )
    if start == _NPY_MAGIC:
        raise StateDictError(
            f"{where}: {source} holds a single array (.npy), not a state dict (.npz); "
            "read it with numpy.load, or write state dicts with nn.save."
        )
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise StateDictError(
            f"{where}: {source} is not a state file (an .npz zip archive of .npy arrays, as "
            "nn.save writes)."
        ) from None


class _Member(NamedTuple):
    info: zipfile.ZipInfo
    shape: tuple[int, ...]
    dtype: np.dtype


def _read_header(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> _Member:
    """Shape and dtype of one member from its ``.npy`` header, reading only the header;
    refuses non-numeric arrays and members whose size disagrees with their header."""
    fmt = np.lib.format
    try:
        with archive.open(info) as member:
            version = fmt.read_magic(member)
            if version == (1, 0):
                shape, _, dtype = fmt.read_array_header_1_0(member)
            elif version == (2, 0):
                shape, _, dtype = fmt.read_array_header_2_0(member)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
            header_size = member.tell()
    except (
        ValueError,
        OSError,
        EOFError,
        RuntimeError,
        NotImplementedError,
        zipfile.BadZipFile,
    ) as err:
        raise StateDictError(
            f"{where}: the entry {info.filename!r} is not a readable .npy array ({err})."
        ) from None
    if not _numeric(dtype):
        raise StateDictError(
            f"{where}: the entry {info.filename[:-4]!r} holds "
            f"{_KINDS.get(dtype.kind, dtype.kind)} (dtype {dtype}), not numbers; a state file "
            "holds numeric arrays only."
        )
    size = header_size + math.prod(shape) * dtype.itemsize
    if info.file_size != size:
        raise StateDictError(
            f"{where}: the entry {info.filename[:-4]!r} declares shape {shape} of {dtype} "
            f"({size} bytes with its header) but holds {info.file_size} bytes; the file is "
            "damaged or forged."
        )
    return _Member(info, tuple(shape), dtype)


def _load(
    path: Any,
    expected: Mapping[str, tuple[tuple[int, ...], np.dtype]] | None,
    strict: bool,
    where: str,
) -> tuple[dict[str, np.ndarray], list[str]]:
    """The arrays of a state file and the keys not expected. Every member's header is
    read and checked (and, given `expected`, compared with it) before any data is."""
    with _open_archive(path, where) as archive:
        members: dict[str, _Member] = {}
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                raise StateDictError(
                    f"{where}: {_source(path)} holds {info.filename!r}, which is not an .npy "
                    "array; it is not a state file written by nn.save."
                )
            key = info.filename[:-4]
            if key in members:
                raise StateDictError(f"{where}: the entry {key!r} appears twice.")
            members[key] = _read_header(archive, info, where)
        unexpected: list[str] = []
        if expected is not None:
            found = {k: (m.shape, m.dtype) for k, m in members.items()}
            _, unexpected = _check_fit(found, expected, strict, where)
            members = {k: m for k, m in members.items() if k in expected}
        state = {}
        for key, m in members.items():
            try:
                with archive.open(m.info) as member:
                    state[key] = np.lib.format.read_array(member, allow_pickle=False)
            except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
                raise StateDictError(
                    f"{where}: the entry {key!r} could not be read ({err})."
                ) from None
    return state, unexpected


def load(
    path: str | os.PathLike | IO[bytes], like: Any = None, strict: bool = True
) -> dict[str, np.ndarray]:
    """Read a dict of arrays written by `save`.

    Safe on untrusted files: nothing is unpickled, only numeric arrays are accepted, and
    every entry's header (name, shape, dtype, size) is checked before any data is read.
    With `like` (a module, or a dict of arrays) the names, shapes and dtypes must fit it
    (`StateDictError` otherwise, before reading data); with ``strict=False`` missing
    entries are allowed and entries it lacks are skipped unread.
    """
    strict = _checks.boolean(strict, "strict", "load")
    if like is None:
        expected = None
    elif isinstance(like, Module):
        expected = like._expected()
    elif isinstance(like, Mapping):
        expected = {}
        for key, value in like.items():
            array = np.asarray(getval(value))
            expected[key] = (array.shape, array.dtype)
    else:
        raise TypeError(
            f"load: like must be a Module or a dict of arrays, got {type(like).__name__}."
        )
    return _load(path, expected, strict, "load")[0]
