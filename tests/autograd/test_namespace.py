"""Every public name of HIPS autograd's modules exists in wengert.autograd's counterpart,
apart from autograd's own implementation details (its rule helpers and wrappers)."""

from __future__ import annotations

import importlib
import re
import types

import pytest

pytest.importorskip("autograd")

MODULES = [
    "",
    ".builtins",
    ".extend",
    ".test_util",
    ".misc",
    ".misc.flatten",
    ".misc.optimizers",
    ".misc.fixed_points",
    ".misc.tracers",
    ".numpy",
    ".numpy.linalg",
    ".numpy.fft",
    ".numpy.random",
    ".numpy.numpy_boxes",
    ".scipy",
    ".scipy.special",
    ".scipy.linalg",
    ".scipy.signal",
    ".scipy.integrate",
    ".scipy.stats",
    ".scipy.stats.beta",
    ".scipy.stats.chi2",
    ".scipy.stats.dirichlet",
    ".scipy.stats.gamma",
    ".scipy.stats.multivariate_normal",
    ".scipy.stats.norm",
    ".scipy.stats.poisson",
    ".scipy.stats.t",
]

# autograd's implementation details: the helpers its own rules are written with, the
# machinery that wraps NumPy, and names it imports from elsewhere into a module. User
# programs do not call them; wengert has its own machinery for each.
INTERNAL = re.compile(
    r"^(grad_.*|fwd_grad_.*|make_grad_.*|make_.*_vjp.*|def(vjp|jvp)_argnums|argnums_unpack|make_diagonal"
    r"|metadata|DictBox|.*_vjps?|.*_jvps?|wrap_.*|.*_class|.*VSpace|.*Meta"
    r"|.*Node|test|T|add2d|partial|wraps|product|repeat|subvals|toposort|trace|type_"
    r"|isinstance_|list_|tuple_|dict_|defvjp|defjvp|defvjp_argnum|defjvp_argnum|vspace"
    r"|primitive|notrace_primitive|unbroadcast_f|array_from_args|concatenate_args"
    r"|custom_where|notrace_functions|parse_einsum_input|check_even_shape"
    r"|check_no_repeated_axes|get_fft.*_args|match_complex|truncate_pad|make_rfft_factors"
    r"|fft_grad|irfft_grad|rfft_grad|container_.*|sequence_extend_.*|make_sequence"
    r"|SparseObject|register_notrace|SequenceBox|diff_methods|nondiff_methods|method_name"
    r"|trace_primitives_map|inv_root_pi|root_pi|repeat_to_match_shape|as_strided|compute_conv_size"
    r"|einsum_tensordot|flipped_idxs|parse_axes|get_name|make_numerical_jvp|scalar_close"
    r"|check_equivalent|EPS|RTOL|TOL|fixed_point_vjp|const_graph_unary|full_graph|np|anp"
    r"|npla|npo|npr|ffto|scipy|numpy_version)$"
)
# Names that autograd's modules import for their own use, by module.
IMPORTED = {
    ".scipy.stats": {"covgrad", "generalized_outer_product", "solve", "psi", "digamma"},
    ".misc": {"make_vjp", "type", "tuple"},
    ".test_util": {"make_jvp", "make_vjp"},
    ".scipy.integrate": {"flatten", "tuple"},
    ".builtins": {"Box"},
}


def _imported(suffix: str) -> set[str]:
    names = set()
    for prefix, imported in IMPORTED.items():
        if suffix.startswith(prefix):
            names |= imported
    if suffix.startswith(".scipy.stats."):
        names |= {"gamma", "beta"}  # scipy.special functions, not the distributions
    return names


def _public(module) -> list[str]:
    return sorted(
        name
        for name in dir(module)
        if not name.startswith("_") and not isinstance(getattr(module, name), types.ModuleType)
    )


@pytest.mark.parametrize("suffix", MODULES, ids=lambda s: "autograd" + s)
def test_every_public_name_of_autograd_exists(suffix):
    theirs = importlib.import_module("autograd" + suffix)
    ours = importlib.import_module("wengert.autograd" + suffix)
    missing = [
        name
        for name in _public(theirs)
        if not hasattr(ours, name) and not INTERNAL.match(name) and name not in _imported(suffix)
    ]
    assert not missing, f"wengert.autograd{suffix} lacks {missing}"


@pytest.mark.parametrize("suffix", [s for s in MODULES if s != ""])
def test_module_imports_in_autograd_style(suffix):
    # `import autograd.numpy.linalg as npla` style imports work for every module
    module = importlib.import_module("wengert.autograd" + suffix)
    assert module.__name__ == "wengert.autograd" + suffix


def test_functions_wengert_lacks_work_on_values_and_refuse_traced_ones():
    import numpy as onp

    import wengert as wg
    import wengert.autograd.scipy.linalg as sla

    a = onp.array([[2.0, 1.0], [1.0, 3.0]])
    onp.testing.assert_allclose(sla.toeplitz([1.0, 2.0]), [[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(wg.UnsupportedFunctionError, match=r"scipy\.linalg\.polar.*stop_gradient"):
        wg.grad(lambda m: sla.polar(m)[0].sum())(a)
