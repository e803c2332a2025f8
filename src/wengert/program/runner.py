"""Compiling a program into one Python function over NumPy (the NumPy backend).

The function calls each equation's implementation directly, with the constants and static
arguments bound as names, so a call costs what the hand-written NumPy calls cost plus
one Python statement per equation: no boxes, no traces, no rules. Guards become checks
that raise `GuardFailure`, so that the caller can record the other path.

Large intermediate arrays (at least `WORKSPACE_BYTES`) live in a workspace that the
function keeps between calls, so that a call does not pay the page faults of fresh memory
for them (NumPy's allocator hands arrays of megabytes back to the system when they are
freed): see `_workspace`. Only arrays that no result can share memory with go there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._core.recording import Equation, Guard, GuardFailure, Var
from .._core.tree import tree_flatten, tree_unflatten
from .._core.vspace import _sum_to_shape
from .passes import _observes_layout, _ufunc_call
from .passes import ufunc_of as ufunc_of_primitive
from .printing import INFIX

__all__ = ["WORKSPACE_BYTES", "compile_program"]

# Intermediate arrays of at least this many bytes are kept in the workspace between calls,
# and arrays of zeros this large that a ufunc then mostly overwrites are made as empty
# arrays with only the rest zeroed. glibc hands freed blocks above its trim threshold back
# to the system, and writing fresh memory costs a page fault per page: for the gradient of
# Rosenbrock on 1e6 float64 values (two 8 MB intermediates), a fresh ufunc result took
# 2.4 ms against 0.5 ms into a kept array (numba backend, one thread, NumPy 2.4, glibc,
# a busy 2-core machine). Below about a megabyte NumPy's allocations stay in the heap.
WORKSPACE_BYTES = 1 << 20
# At most this many workspaces are kept for later calls, per compiled program or per list
# that programs share (jit's programs of one function share one): one is taken per running
# call, so threads that call at once each have their own, and a function called with many
# signatures keeps no more than this many between calls.
WORKSPACES = 4


def compile_program(
    program,
    buffers: dict | None = None,
    workspace_bytes: float | None = None,
    workspaces: list | None = None,
) -> Callable[..., list]:
    """A function of the input leaves that returns the output leaves of `program`.

    `buffers` maps an equation's index to the input variable whose array it may overwrite
    (its last use, not an input or output of the program): the equation's ufunc then
    writes its result there with ``out=`` instead of allocating. Ufunc results of at
    least `workspace_bytes` that no output can share memory with are written into arrays
    kept between calls (default `WORKSPACE_BYTES`; ``math.inf``: none are), in one
    workspace per running call, of which at most `WORKSPACES` wait in the list
    `workspaces` for later calls (a new list by default; functions compiled with one list
    share it, which bounds the memory they keep together).
    """
    if workspace_bytes is None:
        workspace_bytes = WORKSPACE_BYTES
    names: dict[Var, str] = {v: f"a{i}" for i, v in enumerate(program.inputs)}
    namespace: dict[str, Any] = {
        "GuardFailure": GuardFailure,
        "_unflatten": tree_unflatten,
        "_np": np,
    }
    body: list[str] = []
    count = 0

    def bind(value: Any, prefix: str) -> str:
        name = f"{prefix}{len(namespace)}"
        namespace[name] = value
        return name

    def ref(x: Any) -> str:
        if type(x) is Var:
            return names[x]
        if x is None or isinstance(x, (bool, int)) or (type(x) is float and math.isfinite(x)):
            return repr(x)
        return bind(x, "c")  # arrays, and inf and nan, whose repr is no Python literal

    last_use = _last_uses(program)
    accumulate, skipped = _accumulations(program)
    direct = _direct_scatters(program, skipped)
    slots, layout = _workspace(program, buffers or {}, accumulate, skipped, direct, workspace_bytes)
    if slots:  # a workspace per running call, kept for the next (see _workspace)
        # The pool may be shared by several programs (jit's, of one function): each
        # workspace ends with the key of the program that made it, and a program that
        # takes another's drops it and makes its own.
        key = object()
        namespace["_pool"] = [] if workspaces is None else workspaces
        namespace["_new"] = _workspace_maker(layout, key)
        namespace["_key"] = key
        body.extend(["try:", "    _w = _pool.pop()", "except IndexError:", "    _w = _new()"])
        body.append("if _w[-1] is not _key: _w = _new()")
    # Variables read last by an absorbed scatter die at its sum instead.
    deferred: dict[int, list[Var]] = {}
    for j, i in skipped.items():
        deferred.setdefault(i, []).extend(last_use.get(j, ()))
    for i, eq in enumerate(program.equations):
        if i in skipped:  # computed where its sum is (see _accumulations)
            continue
        if i in direct.values():  # its array exists already (see _direct_scatters)
            (out,) = eq.outputs
            count += 1
            names[out] = f"v{count}"
            body.append(f"{names[out]} = {names[eq.inputs[0]]}.base")
            dead = [names[v] for v in (*deferred.pop(i, ()), *last_use.get(i, ())) if v in names]
            if dead:
                body.append(f"del {', '.join(dead)}")
            continue
        dead = [names[v] for v in (*deferred.pop(i, ()), *last_use.get(i, ())) if v in names]
        if i in accumulate:
            buffer, index, part = accumulate[i]
            (out,) = eq.outputs
            count += 1
            names[out] = f"v{count}"
            body.append(f"{names[buffer]}[{bind(index, 'i')}] += {ref(part)}")
            body.append(f"{names[out]} = {names[buffer]}")
            dead = [d for d in dead if d != names[buffer]]
            if dead:
                body.append(f"del {', '.join(dead)}")
            continue
        if type(eq) is Guard:
            g = bind(eq, "g")
            v = names[eq.var]
            if eq.kind == "bool":
                test = f"bool({v}) is not {eq.expected!r}"
            elif eq.kind in ("int", "index"):
                test = f"int({v}) != {eq.expected!r}"
            elif eq.kind in ("any", "all"):
                test = f"bool(_np.{eq.kind}({v})) is not {eq.expected!r}"
            else:
                test = f"not {g}.holds({v})"
            body.append(f"if {test}: raise GuardFailure({g})")
            if dead:
                body.append(f"del {', '.join(dead)}")
            continue
        assert type(eq) is Equation
        outs = []
        for v in eq.outputs:
            count += 1
            names[v] = f"v{count}"
            outs.append(names[v])
        target = buffers.get(i) if buffers else None
        out_text = None if target is None else names[target]
        if i in direct:  # the scatter's array of zeros, then the ufunc into its part
            scatter = program.equations[direct[i]]
            _, index, shape = scatter.inputs
            dtype = bind(scatter.outputs[0].dtype, "d")
            rest = _complement(index, shape)
            size = math.prod(shape) * scatter.outputs[0].dtype.itemsize
            if rest is None or size < workspace_bytes:
                body.append(f"{outs[0]} = _np.zeros({ref(shape)}, {dtype})[{bind(index, 'i')}]")
            else:  # (fresh zeros would cost the page faults of writing every page twice)
                body.append(f"_z = _np.empty({ref(shape)}, {dtype})")
                body.extend(f"_z[{bind(region, 'i')}] = 0" for region in rest)
                body.append(f"{outs[0]} = _z[{bind(index, 'i')}]")
                body.append("del _z")
            out_text = outs[0]
        elif i in slots:
            out_text = f"_w[{slots[i]}]"
        op = _operator(eq) if out_text is None else None
        special = _special(eq, ref) if out_text is None else None
        if special is not None:
            call = special
        elif op is not None:
            operands = [ref(x) for x in eq.inputs]
            call = f"{op}{operands[0]}" if len(operands) == 1 else f" {op} ".join(operands)
        elif eq.tree is None:
            # Into a buffer, the ufunc itself (a wrapper would only pass out= on to it).
            ufunc = ufunc_of_primitive(eq.primitive) if out_text is not None else None
            fun = bind(eq.primitive.fun if ufunc is None else ufunc, "f")
            args = [ref(x) for x in eq.inputs]
            if eq.kwargs:
                args.append(f"**{bind(eq.kwargs, 'k')}")
            if out_text is not None:
                args.append(f"out={out_text}")
            call = f"{fun}({', '.join(args)})"
        else:
            fun = bind(eq.primitive.fun, "f")
            leaves = ", ".join(ref(x) for x in eq.inputs)
            tree = bind(eq.tree, "t")
            body.append(f"_a, _k = _unflatten({tree}, [{leaves}])")
            call = f"{fun}(*_a, **_k)"
        if i in direct:
            body.append(call)
        elif len(outs) == 1 and not eq.primitive.multiple_results:
            body.append(f"{outs[0]} = {call}")
        else:
            body.append(f"{', '.join(outs)}{',' if len(outs) == 1 else ''} = {call}")
        if dead:  # free arrays after their last use, as the eager backward pass does
            body.append(f"del {', '.join(dead)}")
    results = ", ".join(ref(x) for x in program.outputs)
    if slots:  # (no result shares memory with the workspace: it may serve the next call)
        body.append(f"if len(_pool) < {WORKSPACES}: _pool.append(_w)")
    body.append(f"return [{results}]")
    params = ", ".join(names[v] for v in program.inputs)
    source = f"def run({params}):\n" + "\n".join("    " + line for line in body) + "\n"
    code = compile(source, f"<wengert program {program.fun_name}>", "exec")
    exec(code, namespace)
    run = namespace["run"]
    run.source = source
    return run


def _accumulations(program) -> tuple[dict[int, tuple], dict[int, int]]:
    """Sums ``p + scatter_add(part, index, shape)`` that may be computed in place as
    ``p[index] += part``: the backward pass of indexing (``x[1:]``, ``x[:-1]``) adds each
    slice's cotangent into a full-size array of zeros, and this skips those arrays.

    It applies where the index is basic (no entry repeats), both terms are used only by
    the sum, and `p` is an array of the sum's shape and dtype that the program allocated
    itself (a ufunc's, a fused group's or another scatter's result, so no one else holds
    or views it).
    Returns the sums by equation index, and for each scatter they absorb, its sum."""
    from .passes import ufunc_of, use_counts

    uses = use_counts(program)
    producers: dict[Var, tuple[int, Equation]] = {
        v: (i, eq)
        for i, eq in enumerate(program.equations)
        if type(eq) is Equation
        for v in eq.outputs
    }
    inputs = set(program.inputs)

    def fresh(v: Var) -> bool:
        if v in inputs or v.shape == () or v not in producers:
            return False
        eq = producers[v][1]
        if eq.primitive.name in ("scatter_add", "fused"):  # (a fused group: a new array)
            return eq.tree is None
        return (
            ufunc_of(eq.primitive) is not None
            and eq.tree is None
            and not eq.kwargs
            and len(eq.outputs) == 1
        )

    accumulate: dict[int, tuple] = {}
    skipped: dict[int, int] = {}  # absorbed scatter -> the sum that absorbs it
    for i, eq in enumerate(program.equations):
        if type(eq) is Guard or eq.primitive.name != "add" or eq.tree is not None:
            continue
        if eq.kwargs or len(eq.inputs) != 2 or not all(type(x) is Var for x in eq.inputs):
            continue
        (out,) = eq.outputs
        a, b = eq.inputs
        for q, p in ((b, a), (a, b)):
            j, scatter = producers.get(q, (None, None))
            if scatter is None or scatter.primitive.name != "scatter_add" or j in skipped:
                continue
            if scatter.tree is not None or scatter.kwargs or len(scatter.inputs) != 3:
                continue
            part, index, _ = scatter.inputs
            if not _basic_constant(index) or uses.get(q) != 1 or uses.get(p) != 1:
                continue
            same = (p.shape, p.dtype) == (out.shape, out.dtype) == (q.shape, q.dtype)
            if same and p is not q and fresh(p):
                accumulate[i] = (p, index, part)
                skipped[j] = i
                break
    return accumulate, skipped


def _direct_scatters(program, skipped: dict[int, int]) -> dict[int, int]:
    """Scatters ``scatter_add(part, index, shape)`` whose `part` a ufunc may write straight
    into a new array of zeros (``ufunc(..., out=zeros(shape)[index])``), saving the
    array of `part` and its copy: where the index is basic, `part` is the ufunc's result
    (of the scatter's dtype) and the scatter its only use. Maps the ufunc's equation index
    to the scatter's."""
    from .passes import _ufunc_call, use_counts

    uses = use_counts(program)
    producers: dict[Var, int] = {
        v: i for i, eq in enumerate(program.equations) if type(eq) is Equation for v in eq.outputs
    }
    direct: dict[int, int] = {}
    for i, eq in enumerate(program.equations):
        if type(eq) is Guard or i in skipped or eq.primitive.name != "scatter_add":
            continue
        if eq.tree is not None or eq.kwargs or len(eq.inputs) != 3:
            continue
        part, index, shape = eq.inputs
        if type(part) is not Var or part.shape == () or uses.get(part) != 1:
            continue
        if not _basic_constant(index) or type(shape) is not tuple:
            continue
        j = producers.get(part)
        if j is None or j in direct:
            continue
        producer = program.equations[j]
        if _ufunc_call(producer) is None or producer.kwargs or not producer.primitive.elementwise:
            continue
        if part.dtype != eq.outputs[0].dtype or part.dtype is None:
            continue
        direct[j] = i
    return direct


def _workspace(
    program, buffers: dict, accumulate: dict, skipped: dict, direct: dict, min_bytes: float
) -> tuple[dict[int, int], list[tuple]]:
    """Which ufunc results go into arrays kept between calls: the equation indices mapped
    to their array's place in the workspace, and the workspace's layout (per place: the
    shape, the dtype, the block of memory it lies in and the block's size in bytes).

    Reusing the workspace is safe because no result of the program can share memory with
    it. A ufunc's result of at least `min_bytes` (no static keywords, known shape and
    dtype) qualifies where no output may view its array and every equation that reads it,
    or a view of it, is NumPy's or wengert's own and receives no callable (which could
    keep it). As in `passes.buffer_plan`, results are taken to view their arguments,
    except those of ufuncs, fused groups, scatters, sums to a smaller shape and NumPy's
    reductions and dot (new arrays); writes in place, ``p[index] += part`` and ufuncs
    writing into a scatter's zeros are followed. Arrays whose lifetimes (from the
    equation that makes them to the last read of any view) do not meet share a block.
    """
    if min_bytes == math.inf or _observes_layout(program):
        return {}, []
    external = frozenset({0})
    storage: dict[Var, frozenset] = {}
    made: dict[int, int] = {}  # storage -> the equation that makes it (the candidates)
    scatters = set(direct.values())
    equations = program.equations
    for i, eq in enumerate(equations):
        if type(eq) is Guard:
            continue
        if i in skipped:  # never made: its sum adds the part into the other term in place
            owner = frozenset()
        elif i in accumulate:
            owner = storage.get(accumulate[i][0], external)
        elif i in scatters:  # the zeros its part was written into
            owner = storage.get(eq.inputs[0], external)
        elif i in direct:  # a new array of zeros (whatever the buffer plan says)
            owner = frozenset({i + 1})  # (0 is the storage of inputs and constants)
        elif i in buffers:
            owner = storage.get(buffers[i], external)
        elif _allocates(eq):
            owner = frozenset({i + 1})
            if not eq.kwargs and _ufunc_call(eq) is not None:
                made[i + 1] = i
        else:
            owner = frozenset().union(
                *(storage.get(x, external) for x in eq.inputs if type(x) is Var)
            )
        for out in eq.outputs:
            storage[out] = owner
    last: dict[int, int] = {}
    unsafe: set[int] = set()
    for i, eq in enumerate(equations):
        at = skipped.get(i, i)  # an absorbed scatter's part is read where its sum is
        reads = [eq.var] if type(eq) is Guard else [x for x in eq.inputs if type(x) is Var]
        keeps = type(eq) is not Guard and not _keeps_nothing(eq)
        for x in reads:
            for s in storage.get(x, external):
                last[s] = max(last.get(s, at), at)
                if keeps:
                    unsafe.add(s)
    for x in program.outputs:
        if type(x) is Var:
            unsafe.update(storage.get(x, external))
    chosen = []
    for s, i in made.items():
        (out,) = equations[i].outputs
        known = out.dtype is not None and out.shape and all(type(n) is int for n in out.shape)
        if s in unsafe or not known:
            continue
        nbytes = math.prod(out.shape) * np.dtype(out.dtype).itemsize
        if nbytes >= min_bytes:
            chosen.append((i, last.get(s, i), nbytes, out))
    # Blocks of memory by first fit over lifetimes: an array may take a block whose last
    # array was last read before this one is made (so the two never meet in one equation).
    blocks: list[list] = []  # [bytes, free from after this equation index]
    slots: dict[int, int] = {}
    layout: list[tuple] = []
    for i, end, nbytes, out in sorted(chosen, key=lambda c: c[0]):
        free = [b for b, (_, until) in enumerate(blocks) if until < i]
        fitting = [b for b in free if blocks[b][0] >= nbytes]
        if fitting:
            b = min(fitting, key=lambda b: blocks[b][0])
        elif free:
            b = max(free, key=lambda b: blocks[b][0])
        else:
            b = len(blocks)
            blocks.append([0, -1])
        blocks[b] = [max(blocks[b][0], nbytes), end]
        slots[i] = len(layout)
        layout.append((tuple(out.shape), np.dtype(out.dtype), b))
    sizes = [size for size, _ in blocks]
    return slots, [(shape, dtype, b, sizes[b]) for shape, dtype, b in layout]


# NumPy functions whose result (without out=) is always a new array or scalar (by id: a
# primitive's implementation need not be hashable).
_NEW_ARRAYS = frozenset(map(id, (np.sum, np.mean, np.prod, np.max, np.min, np.dot)))


def _allocates(eq: Equation) -> bool:
    """Whether an equation's result is always a new array (not a view of an argument)."""
    if eq.tree is not None or "out" in eq.kwargs:
        return False
    fun = eq.primitive.fun
    if eq.primitive.name in ("scatter_add", "fused") or id(fun) in _NEW_ARRAYS:
        return True
    if fun is _sum_to_shape and len(eq.inputs) == 2 and type(eq.inputs[0]) is Var:
        return eq.inputs[0].shape != eq.inputs[1]  # (where they agree, x itself)
    return _ufunc_call(eq) is not None


_OWN_MODULES = ("numpy", "wengert")


def _keeps_nothing(eq: Equation) -> bool:
    """Whether an equation is sure not to keep a reference to its arguments beyond the
    call: a ufunc, or a NumPy or wengert function given no callable (a function passed in
    could store what it is given)."""
    fun = eq.primitive.fun
    if isinstance(fun, np.ufunc):
        return True
    module = getattr(fun, "__module__", None) or ""
    if module.split(".")[0] not in _OWN_MODULES:
        return False
    leaves = list(eq.inputs)
    if eq.kwargs:
        leaves.extend(tree_flatten(eq.kwargs)[0])
    return not any(callable(x) and not _number_type(x) for x in leaves)


def _number_type(x: Any) -> bool:
    """Whether `x` is a number type (``np.float32``, ``float``: a dtype argument)."""
    return isinstance(x, type) and (issubclass(x, np.generic) or x in (bool, int, float, complex))


def _workspace_maker(layout: list[tuple], key: object) -> Callable[[], list]:
    """A function that makes one workspace: per place, an array of its shape and dtype,
    in its block of memory (bytes, shared by places whose lifetimes do not meet), and
    last the `key` of the program it is for."""

    def new() -> list:
        blocks: dict[int, np.ndarray] = {}
        arrays = []
        for shape, dtype, b, size in layout:
            if b not in blocks:
                blocks[b] = np.empty(size, np.uint8)
            nbytes = math.prod(shape) * dtype.itemsize
            arrays.append(blocks[b][:nbytes].view(dtype).reshape(shape))
        arrays.append(key)
        return arrays

    return new


def _complement(index: Any, shape: Any) -> list[tuple] | None:
    """Basic indices that together select exactly the entries of an array of `shape` that
    `index` does not (each entry once), where `index` is integers and slices of step 1;
    None otherwise."""
    if type(shape) is not tuple:
        return None
    parts = index if type(index) is tuple else (index,)
    if len(parts) > len(shape):
        return None
    box = []
    for p, n in zip(parts, shape):
        if type(p) is int:
            if not -n <= p < n:
                return None
            start = p % n
            box.append((start, start + 1))
        elif type(p) is slice:
            start, stop, step = p.indices(n)
            if step != 1:
                return None
            box.append((start, max(start, stop)))
        else:
            return None
    regions = []
    for axis, (start, stop) in enumerate(box):
        inside = tuple(slice(a, b) for a, b in box[:axis])
        for a, b in ((0, start), (stop, shape[axis])):
            if a < b:
                regions.append((*inside, slice(a, b)))
    return regions


def _basic_constant(index: Any) -> bool:
    """Whether an index is a constant of slices, integers, None and Ellipsis only."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or type(p) in (slice, int) for p in parts)


def _last_uses(program) -> dict[int, list[Var]]:
    """For each equation index, the variables read there for the last time (neither
    program inputs, whose names the caller holds anyway, nor outputs)."""
    keep = {x for x in program.outputs if type(x) is Var}
    last: dict[Var, int] = {}
    for i, eq in enumerate(program.equations):
        if type(eq) is Guard:
            last[eq.var] = i
            continue
        for x in eq.inputs:
            if type(x) is Var:
                last[x] = i
    inputs = set(program.inputs)
    out: dict[int, list[Var]] = {}
    for var, i in last.items():
        if var not in keep and var not in inputs:
            out.setdefault(i, []).append(var)
    return out


# The printer's arithmetic operators (power stays np.power, as in eager evaluation).
_OPERATORS = {k: INFIX[k] for k in ("add", "subtract", "multiply", "true_divide", "matmul")}


def _operator(eq: Equation) -> str | None:
    """Python's operator for an arithmetic equation on NumPy values, which gives NumPy's
    result without the ufunc call (about 1 us on a scalar); None where it may differ
    (two Python numbers: Python's own arithmetic, which raises on division by zero)."""
    if eq.tree is not None or eq.kwargs:
        return None
    name = eq.primitive.name
    if name == "negative" and len(eq.inputs) == 1:
        return "-" if not _is_python(eq.inputs[0]) else None
    op = _OPERATORS.get(name)
    if op is None or len(eq.inputs) != 2:
        return None
    if _is_python(eq.inputs[0]) and _is_python(eq.inputs[1]):
        return None
    return op


def _special(eq: Equation, ref: Callable[[Any], str]) -> str | None:
    """Source that gives an equation's result without a function call, from the shapes
    the program knows: the transpose of a matrix as ``x.T``, and ``sum_to_shape`` as the
    sum it comes to (``x`` itself where the shapes agree, as the function returns). None
    for every other equation."""
    if eq.tree is not None or eq.kwargs or len(eq.outputs) != 1 or not eq.inputs:
        return None
    x = eq.inputs[0]
    if type(x) is not Var or x.shape is None:
        return None
    fun = eq.primitive.fun
    if fun is np.swapaxes and len(x.shape) == 2 and len(eq.inputs) == 3:
        axes = eq.inputs[1:]
        if all(type(a) is int and -2 <= a < 2 for a in axes) and axes[0] % 2 != axes[1] % 2:
            return f"{ref(x)}.T"
        return None
    if fun is _sum_to_shape and len(eq.inputs) == 2 and type(eq.inputs[1]) is tuple:
        shape = eq.inputs[1]
        if shape == x.shape:
            return ref(x)
        lead = len(x.shape) - len(shape)
        if lead <= 0 or not shape or any(n == 1 and m != 1 for n, m in zip(shape, x.shape[lead:])):
            return None  # (stretched axes too: the function's keepdims and reshape)
        return f"{ref(x)}.sum(axis={tuple(range(lead))!r})"
    return None


def _is_python(x: Any) -> bool:
    return x.weak if type(x) is Var else not isinstance(x, (np.ndarray, np.generic))


def ufunc_of(eq: Equation) -> np.ufunc | None:
    """The NumPy ufunc an equation calls, if it is one (for in-place buffers)."""
    fun = eq.primitive.fun
    return fun if isinstance(fun, np.ufunc) else None
