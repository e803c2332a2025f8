"""wengert.scipy.stats: values against scipy.stats, derivatives through check_grads.

The distributions are compositions of wengert.scipy.special and wengert.numpy, so they
define no primitives of their own; the coverage test asks instead that every public
function of every distribution has a row in the derivative table and a value check.
"""

from __future__ import annotations

import pytest

pytest.importorskip("scipy")

import numpy as onp
import scipy.stats as st

import wengert as wg
import wengert.numpy as wnp
from wengert._core.primitive import Primitive
from wengert.errors import MissingRuleError
from wengert.scipy import stats

R = onp.random.default_rng(5)


def real(*shape, lo=-2.0, hi=2.0):
    def make():
        x = R.uniform(lo, hi, size=shape)
        return float(x) if shape == () else x

    return make


def const(value):
    return lambda: value


def spd(n):
    def make():
        a = R.normal(size=(n, n))
        return a @ a.T + n * onp.eye(n)

    return make


CASES: list[tuple[str, object, list]] = []


def case(name, fun, arg_sets):
    CASES.extend((name, fun, args) for args in arg_sets)


# (x, loc, scale) shapes: scalars, a vector, broadcasting rows against columns.
LOC_SCALE = [((), (), ()), ((3,), (), ()), ((2, 3), (3,), (2, 1))]


def loc_scale(xlo, xhi, loc=(-0.3, 0.3), scale=(0.6, 1.5)):
    return [
        (
            real(*a, lo=xlo, hi=xhi),
            real(*b, lo=loc[0], hi=loc[1]),
            real(*c, lo=scale[0], hi=scale[1]),
        )
        for a, b, c in LOC_SCALE
    ]


for name in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"):
    case(f"norm.{name}", getattr(stats.norm, name), loc_scale(-2.0, 2.0))
case("norm.ppf", stats.norm.ppf, loc_scale(0.2, 0.8))

for name in ("logpdf", "pdf"):
    fun = getattr(stats.t, name)
    case(f"t.{name}", fun, [(real(3), real(3, lo=1.0, hi=6.0))])
    case(
        f"t.{name}",
        lambda x, df, loc, scale, f=fun: f(x, df, loc, scale),
        [(real(2, 3), real(3, lo=1.0, hi=6.0), real(), real(2, 1, lo=0.6, hi=1.5))],
    )
for name in ("cdf", "logcdf", "sf"):
    fun = getattr(stats.t, name)
    case(f"t.{name}", lambda x, loc, scale, f=fun: f(x, 3.5, loc, scale), loc_scale(-2.0, 2.0))

for name in ("logpdf", "pdf"):
    fun = getattr(stats.gamma, name)
    case(
        f"gamma.{name}",
        lambda x, a, f=fun: f(x, a),
        [(real(3, lo=0.8, hi=4.0), real(3, lo=0.5, hi=3.0))],
    )
    case(
        f"gamma.{name}",
        lambda x, a, loc, scale, f=fun: f(x, a, loc, scale),
        [(real(2, 3, lo=1.5, hi=4.0), real(3, lo=0.5, hi=3.0), real(), real(2, 1, lo=0.8, hi=1.5))],
    )
for name in ("cdf", "logcdf", "sf"):
    fun = getattr(stats.gamma, name)
    case(f"gamma.{name}", lambda x, loc, scale, f=fun: f(x, 2.5, loc, scale), loc_scale(1.5, 4.0))

for name in ("logpdf", "pdf"):
    fun = getattr(stats.beta, name)
    case(
        f"beta.{name}",
        lambda x, a, b, f=fun: f(x, a, b),
        [(real(3, lo=0.25, hi=0.75), real(3, lo=0.5, hi=3.0), real(lo=0.5, hi=3.0))],
    )
    case(
        f"beta.{name}",
        lambda x, a, b, loc, scale, f=fun: f(x, a, b, loc, scale),
        [
            (
                real(2, 3, lo=0.4, hi=0.6),
                real(3, lo=0.5, hi=3.0),
                real(),
                real(lo=-0.05, hi=0.05),
                real(2, 1, lo=0.9, hi=1.1),
            )
        ],
    )
for name in ("cdf", "logcdf", "sf"):
    fun = getattr(stats.beta, name)
    case(
        f"beta.{name}",
        lambda x, loc, scale, f=fun: f(x, 2.0, 3.5, loc, scale),
        loc_scale(0.4, 0.6, loc=(-0.05, 0.05), scale=(0.9, 1.1)),
    )

for name in ("logpdf", "pdf"):
    fun = getattr(stats.chi2, name)
    case(
        f"chi2.{name}",
        lambda x, df, loc, scale, f=fun: f(x, df, loc, scale),
        [(real(3, lo=1.5, hi=4.0), real(3, lo=1.0, hi=5.0), real(), real(lo=0.8, hi=1.5))],
    )
for name in ("cdf", "logcdf", "sf"):
    fun = getattr(stats.chi2, name)
    case(f"chi2.{name}", lambda x, loc, scale, f=fun: f(x, 3.0, loc, scale), loc_scale(1.5, 4.0))

K = onp.array([0, 1, 3, 7])
for name in ("logpmf", "pmf", "cdf", "logcdf", "sf"):
    fun = getattr(stats.poisson, name)
    case(
        f"poisson.{name}",
        lambda mu, f=fun: f(K, mu),
        [(real(lo=0.5, hi=4.0),), (real(4, lo=0.5, hi=4.0),)],
    )
    case(f"poisson.{name}", lambda mu, f=fun: f(K[:, None], mu), [(real(2, lo=0.5, hi=4.0),)])

for name in ("logpdf", "pdf"):
    fun = getattr(stats.dirichlet, name)
    case(
        f"dirichlet.{name}",
        fun,
        [
            (real(3, lo=0.2, hi=0.4), real(3, lo=0.5, hi=3.0)),
            (real(3, 4, lo=0.2, hi=0.4), real(3, lo=0.5, hi=3.0)),
            (real(2, lo=0.2, hi=0.4), real(3, lo=0.5, hi=3.0)),
        ],
    )

for name in ("logpdf", "pdf"):
    fun = getattr(stats.multivariate_normal, name)
    case(
        f"multivariate_normal.{name}",
        fun,
        [
            (real(3), real(3), spd(3)),
            (real(4, 3), real(3), spd(3)),
            (real(4, 2), real(2), real(2, lo=0.5, hi=2.0)),
            (real(3), real(3), real(lo=0.5, hi=2.0)),
            (real(4), real(1), real(lo=0.5, hi=2.0)),
        ],
    )

case(
    "multivariate_normal.entropy",
    stats.multivariate_normal.entropy,
    [(real(3), spd(3)), (real(2), real(2, lo=0.5, hi=2.0)), (real(2), real(lo=0.5, hi=2.0))],
)


@pytest.mark.parametrize(
    "name, fun, gens", CASES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]
)
def test_stats_derivatives(name, fun, gens):
    args = [g() for g in gens]
    wg.check_grads(fun, modes=("fwd", "rev"), order=2)(*args)


DISTRIBUTIONS = [getattr(stats, name) for name in stats.__all__]


def test_every_function_is_in_the_table():
    names = {f"{d.__name__.rsplit('.', 1)[1]}.{f}" for d in DISTRIBUTIONS for f in d.__all__}
    missing = sorted(names - {name for name, _, _ in CASES})
    assert not missing, f"stats functions with no row: {missing}"


def test_distributions_define_no_primitives():
    # They are compositions, so their rules come from wengert.scipy.special.
    for d in DISTRIBUTIONS:
        assert not [v for v in vars(d).values() if isinstance(v, Primitive)], d.__name__


# --- vmap: members on both sides of the support's edge --------------------------------------


def vmap_equals_loop(f, members):
    """`f` under vmap and its per-member gradients (vmap of grad) equal a loop."""
    stacked = [onp.stack(parts) for parts in zip(*members)]
    argnums = tuple(range(len(stacked)))
    onp.testing.assert_allclose(wg.vmap(f)(*stacked), onp.stack([f(*m) for m in members]))
    grad = wg.grad(lambda *a: wnp.sum(f(*a)), argnums=argnums)
    for got, parts in zip(wg.vmap(grad)(*stacked), zip(*[grad(*m) for m in members])):
        onp.testing.assert_allclose(got, onp.stack(parts), rtol=1e-12)


A = onp.array
VMAP_EDGES = [
    ("beta.cdf", lambda x: stats.beta.cdf(x, 2.0, 3.0), [(A([-0.5, 0.3]),), (A([0.2, 1.5]),)]),
    (
        "beta.logpdf",
        lambda x: stats.beta.logpdf(x, 2.0, 3.0),
        [(A([-0.5, 0.3]),), (A([0.2, 0.5]),)],
    ),
    ("gamma.logpdf", lambda x: stats.gamma.logpdf(x, 2.0), [(A([-0.5, 0.3]),), (A([0.2, 0.5]),)]),
    (
        "poisson.logpmf, counts mapped",
        lambda k, mu: stats.poisson.logpmf(k, mu),
        [(A([-1.0, 2.0]), A([1.0, 2.0])), (A([1.5, 2.0]), A([3.0, 2.0]))],
    ),
    (
        "poisson.cdf, counts mapped",
        lambda k, mu: stats.poisson.cdf(k, mu),
        [(A([-1.0, 2.0]), A([1.0, 2.0])), (A([1.5, 2.0]), A([3.0, 2.0]))],
    ),
    (
        "poisson.logpmf, constant counts",
        lambda mu: stats.poisson.logpmf(A([[0.0], [2.0], [5.0]]), mu),
        [(A([1.0, 2.0]),), (A([3.0, 0.5]),)],
    ),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name, f, members", VMAP_EDGES, ids=[r[0] for r in VMAP_EDGES])
def test_vmap_sees_each_members_own_support(name, f, members):
    vmap_equals_loop(f, members)


# --- values against scipy.stats ----------------------------------------------------------

X = onp.array([0.15, 0.5, 1.3, 2.7])

VALUES = [
    (stats.norm, st.norm, (0.3, 1.7), ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")),
    (stats.t, st.t, (2.5, 0.3, 1.7), ("logpdf", "pdf", "cdf", "logcdf", "sf")),
    (stats.gamma, st.gamma, (1.5, 0.1, 1.2), ("logpdf", "pdf", "cdf", "logcdf", "sf")),
    (stats.beta, st.beta, (2.0, 0.7, -0.1, 3.0), ("logpdf", "pdf", "cdf", "logcdf", "sf")),
    (stats.chi2, st.chi2, (3.0, 0.05, 0.5), ("logpdf", "pdf", "cdf", "logcdf", "sf")),
]


@pytest.mark.parametrize("ours, theirs, params, names", VALUES)
def test_continuous_values(ours, theirs, params, names):
    for name in names:
        onp.testing.assert_allclose(
            getattr(ours, name)(X, *params), getattr(theirs, name)(X, *params), err_msg=name
        )


def test_values_outside_the_support():
    x = onp.array([-1.0, 0.5, 2.0])
    for ours, theirs, params in [
        (stats.gamma, st.gamma, (2.0,)),
        (stats.beta, st.beta, (2.0, 3.0)),
        (stats.chi2, st.chi2, (3.0,)),
    ]:
        for name in ("logpdf", "pdf", "cdf", "sf"):
            onp.testing.assert_allclose(
                getattr(ours, name)(x, *params), getattr(theirs, name)(x, *params), err_msg=name
            )
    g = wg.elementwise_grad(lambda x: stats.gamma.logpdf(x, 2.0))(x)
    assert g[0] == 0.0 and onp.all(onp.isfinite(g))


def test_norm_ppf_and_tails():
    q = onp.array([0.01, 0.3, 0.9])
    onp.testing.assert_allclose(stats.norm.ppf(q, 1.0, 2.0), st.norm.ppf(q, 1.0, 2.0))
    x = onp.array([-40.0, 40.0])
    onp.testing.assert_allclose(stats.norm.logcdf(x), st.norm.logcdf(x))
    onp.testing.assert_allclose(stats.norm.logsf(x), st.norm.logsf(x))
    # d/dx log Phi(x) ~ -x far in the lower tail.
    g = wg.grad(stats.norm.logcdf)(-40.0)
    onp.testing.assert_allclose(g, 40.0248, rtol=1e-4)


def test_poisson_values():
    k = onp.array([-1, 0, 2, 5])
    for name in ("logpmf", "pmf", "cdf", "logcdf", "sf"):
        onp.testing.assert_allclose(
            getattr(stats.poisson, name)(k, 2.5), getattr(st.poisson, name)(k, 2.5), err_msg=name
        )
    onp.testing.assert_allclose(stats.poisson.logpmf(2.5, 1.0), -onp.inf)
    onp.testing.assert_allclose(stats.poisson.pmf(k, 2.5, loc=1), st.poisson.pmf(k, 2.5, loc=1))


def test_dirichlet_values():
    alpha = onp.array([0.8, 2.0, 3.5])
    x = onp.array([[0.2, 0.5], [0.3, 0.1], [0.5, 0.4]])
    onp.testing.assert_allclose(stats.dirichlet.logpdf(x, alpha), st.dirichlet.logpdf(x, alpha))
    onp.testing.assert_allclose(
        stats.dirichlet.pdf(x[:, 0], alpha), st.dirichlet.pdf(x[:, 0], alpha)
    )
    onp.testing.assert_allclose(
        stats.dirichlet.logpdf(x[:2, 0], alpha), st.dirichlet.logpdf(x[:, 0], alpha)
    )
    with pytest.raises(ValueError, match="components"):
        stats.dirichlet.logpdf(onp.ones(5) / 5, alpha)


def test_multivariate_normal_values():
    mean = onp.array([0.1, -0.3, 0.5])
    a = R.normal(size=(3, 3))
    cov = a @ a.T + onp.eye(3)
    x = R.normal(size=(4, 3))
    mvn = stats.multivariate_normal
    onp.testing.assert_allclose(
        mvn.logpdf(x, mean, cov), st.multivariate_normal.logpdf(x, mean, cov)
    )
    onp.testing.assert_allclose(
        mvn.pdf(x[0], mean, cov), st.multivariate_normal.pdf(x[0], mean, cov)
    )
    onp.testing.assert_allclose(
        mvn.logpdf(x, mean, onp.diag(cov)),
        st.multivariate_normal.logpdf(x, mean, onp.diag(onp.diag(cov))),
    )
    onp.testing.assert_allclose(
        mvn.logpdf(x, mean, 2.0), st.multivariate_normal.logpdf(x, mean, 2.0)
    )
    onp.testing.assert_allclose(
        mvn.logpdf(x[:, 0], 0.5, 2.0), st.multivariate_normal.logpdf(x[:, 0], 0.5, 2.0)
    )
    onp.testing.assert_allclose(
        mvn.logpdf(x, cov=onp.eye(3)), st.multivariate_normal.logpdf(x, cov=onp.eye(3))
    )
    # The gradient in mean is cov^-1 (x - mean).
    g = wg.grad(lambda m: mvn.logpdf(x[0], m, cov))(mean)
    onp.testing.assert_allclose(g, onp.linalg.solve(cov, x[0] - mean))


@pytest.mark.parametrize(
    "fun",
    [
        lambda a: stats.gamma.cdf(1.5, a),
        lambda df: stats.t.cdf(0.5, df),
        lambda a: stats.beta.cdf(0.5, a, 2.0),
        lambda df: stats.chi2.cdf(1.5, df),
    ],
)
def test_cdfs_are_not_differentiable_in_shape_parameters(fun):
    with pytest.raises(MissingRuleError, match="not differentiable in"):
        wg.grad(fun)(2.0)


def test_mixed_mode_second_derivatives_agree():
    # Forward-over-reverse and reverse-over-reverse Hessian-vector products in cov.
    x, mean, cov = R.normal(size=(4, 3)), R.normal(size=3), spd(3)()
    direction = R.normal(size=(3, 3))

    def grad_cov(c):
        return wg.grad(lambda c: wnp.sum(stats.multivariate_normal.logpdf(x, mean, c)))(c)

    _, fwd_rev = wg.jvp(grad_cov, (cov,), (direction,))
    rev_rev = wg.grad(lambda c: wnp.sum(grad_cov(c) * direction))(cov)
    onp.testing.assert_allclose(fwd_rev, rev_rev, atol=1e-12)


def test_multivariate_normal_under_vmap_reads_one_members_dimension():
    """The number of components is one member's (a batch of 3-vectors has 3, not 9)."""
    mvn = stats.multivariate_normal
    x, mean, cov = R.normal(size=(4, 5, 3)), R.normal(size=(4, 3)), spd(3)()
    for in_axes, args in [((0, 0, None), (x, mean, cov)), ((None, 0, None), (x[0], mean, cov))]:
        members = [[a[i] if ax == 0 else a for a, ax in zip(args, in_axes)] for i in range(4)]
        expected = onp.stack([st.multivariate_normal.logpdf(*m) for m in members])
        onp.testing.assert_allclose(wg.vmap(mvn.logpdf, in_axes)(*args), expected, rtol=1e-12)
        grad = wg.grad(lambda *a: wnp.sum(mvn.logpdf(*a)), argnums=(0, 1, 2))
        got = wg.vmap(grad, in_axes)(*args)
        for k, part in enumerate(got):
            want = onp.stack([grad(*m)[k] for m in members])
            onp.testing.assert_allclose(part, want, rtol=1e-10, atol=1e-12)
    entropy = wg.vmap(wg.grad(mvn.entropy, argnums=1), in_axes=(0, None))(mean, cov)
    onp.testing.assert_allclose(entropy, onp.stack([0.5 * onp.linalg.inv(cov)] * 4), rtol=1e-10)
