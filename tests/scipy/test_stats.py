"""wengert.scipy.stats: values against scipy.stats, derivatives through check_grads.

The distributions are compositions of wengert.scipy.special and wengert.numpy, so they
define no primitives of their own; the coverage test asks instead that every public
function of every distribution has a row in the derivative table and a value check.
"""

from __future__ import annotations

import importlib.util

import pytest

pytest.importorskip("scipy")

import numpy as onp
import scipy.stats as st

import wengert as wg
import wengert.numpy as wnp
from wengert._core.primitive import Primitive
from wengert.errors import MissingRuleError
from wengert.scipy import stats
from wengert.scipy.stats import _special

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


# --- the members that describe a distribution: quantiles, moments, entropy, ... -------------


def theta(*ranges):
    """A parameter vector with one entry drawn from each (lo, hi) range."""
    return lambda: onp.array([R.uniform(lo, hi) for lo, hi in ranges])


LOC, SCALE = real(3, lo=-0.3, hi=0.3), real(2, 1, lo=0.6, hi=1.5)
CONFIDENCE = real(3, lo=0.3, hi=0.9)

case("norm.isf", stats.norm.isf, loc_scale(0.2, 0.8))
for name in ("entropy", "mean", "median", "var", "std"):
    case(f"norm.{name}", getattr(stats.norm, name), [(LOC, SCALE)])
for order in (3, 4):
    case("norm.moment", lambda loc, s, n=order: stats.norm.moment(n, loc, s), [(LOC, SCALE)])
case("norm.stats", lambda loc, s: stats.norm.stats(loc, s, moments="mvsk"), [(LOC, SCALE)])
case("norm.interval", stats.norm.interval, [(CONFIDENCE, LOC, SCALE)])
case("norm.nnlf", stats.norm.nnlf, [(theta((-0.3, 0.3), (0.6, 1.5)), real(4))])
case("norm.fit_loc_scale", stats.norm.fit_loc_scale, [(real(5),)])

# Student's t: the quantiles in q, loc and scale (df fixed); the rest in df too.
DF = real(3, lo=4.5, hi=8.0)  # every moment up to the fourth finite
case("t.logsf", lambda x, loc, s: stats.t.logsf(x, 3.5, loc, s), loc_scale(-2.0, 2.0))
for name in ("ppf", "isf"):
    fun = getattr(stats.t, name)
    case(f"t.{name}", lambda q, loc, s, f=fun: f(q, 3.5, loc, s), loc_scale(0.2, 0.8))
case("t.interval", lambda c, loc, s: stats.t.interval(c, 3.5, loc, s), [(CONFIDENCE, LOC, SCALE)])
case(
    "t.entropy",
    stats.t.entropy,
    [(real(3, lo=1.0, hi=6.0), LOC, SCALE), (real(3, lo=120.0, hi=300.0), LOC, SCALE)],
)
for name in ("mean", "median", "var", "std"):
    case(f"t.{name}", getattr(stats.t, name), [(DF, LOC, SCALE)])
for order in (3, 4):
    case("t.moment", lambda df, loc, s, n=order: stats.t.moment(n, df, loc, s), [(DF, LOC, SCALE)])
case("t.stats", lambda df, loc, s: stats.t.stats(df, loc, s, moments="mvsk"), [(DF, LOC, SCALE)])
case("t.nnlf", stats.t.nnlf, [(theta((2.0, 6.0), (-0.3, 0.3), (0.6, 1.5)), real(4))])
case("t.fit_loc_scale", stats.t.fit_loc_scale, [(real(5), real(lo=3.0, hi=6.0))])

# gamma and chi2: the quantiles in q, loc and scale (the shape fixed); the rest in it too.
for dist, shape_value, shape, big in (
    ("gamma", 2.5, real(3, lo=0.5, hi=3.0), real(3, lo=260.0, hi=400.0)),
    ("chi2", 5.0, real(3, lo=1.0, hi=6.0), real(3, lo=520.0, hi=800.0)),
):
    module = getattr(stats, dist)
    case(
        f"{dist}.logsf",
        lambda x, loc, s, f=module.logsf, v=shape_value: f(x, v, loc, s),
        loc_scale(1.5, 4.0),
    )
    for name in ("ppf", "isf"):
        fun = getattr(module, name)
        case(
            f"{dist}.{name}",
            lambda q, loc, s, f=fun, v=shape_value: f(q, v, loc, s),
            loc_scale(0.2, 0.8),
        )
    case(
        f"{dist}.median",
        lambda loc, s, f=module.median, v=shape_value: f(v, loc, s),
        [(LOC, SCALE)],
    )
    case(
        f"{dist}.interval",
        lambda c, loc, s, f=module.interval, v=shape_value: f(c, v, loc, s),
        [(CONFIDENCE, LOC, SCALE)],
    )
    case(f"{dist}.entropy", module.entropy, [(shape, LOC, SCALE), (big, LOC, SCALE)])
    for name in ("mean", "var", "std"):
        case(f"{dist}.{name}", getattr(module, name), [(shape, LOC, SCALE)])
    case(
        f"{dist}.moment",
        lambda v, loc, s, f=module.moment: f(3, v, loc, s),
        [(shape, LOC, SCALE)],
    )
    case(
        f"{dist}.stats",
        lambda v, loc, s, f=module.stats: f(v, loc, s, moments="mvsk"),
        [(shape, LOC, SCALE)],
    )
    case(
        f"{dist}.support",
        lambda v, loc, s, f=module.support: f(v, loc, s)[0],  # (the other end is inf)
        [(shape, LOC, SCALE)],
    )
    case(
        f"{dist}.nnlf",
        module.nnlf,
        [(theta((1.5, 3.0), (-0.3, 0.3), (0.8, 1.5)), real(4, lo=1.5, hi=4.0))],
    )
    case(f"{dist}.fit_loc_scale", module.fit_loc_scale, [(real(5), real(lo=1.0, hi=4.0))])

# beta: the quantiles in q, loc and scale (a and b fixed); the rest in a and b too.
A, B = real(3, lo=0.5, hi=3.0), real(lo=0.5, hi=3.0)
case(
    "beta.logsf",
    lambda x, loc, s: stats.beta.logsf(x, 2.0, 3.5, loc, s),
    loc_scale(0.4, 0.6, loc=(-0.05, 0.05), scale=(0.9, 1.1)),
)
for name in ("ppf", "isf"):
    fun = getattr(stats.beta, name)
    case(f"beta.{name}", lambda q, loc, s, f=fun: f(q, 2.0, 3.5, loc, s), loc_scale(0.2, 0.8))
case("beta.median", lambda loc, s: stats.beta.median(2.0, 3.5, loc, s), [(LOC, SCALE)])
case(
    "beta.interval",
    lambda c, loc, s: stats.beta.interval(c, 2.0, 3.5, loc, s),
    [(CONFIDENCE, LOC, SCALE)],
)
for name in ("entropy", "mean", "var", "std", "support"):
    case(f"beta.{name}", getattr(stats.beta, name), [(A, B, LOC, SCALE)])
case("beta.moment", lambda a, b, loc, s: stats.beta.moment(3, a, b, loc, s), [(A, B, LOC, SCALE)])
case(
    "beta.stats",
    lambda a, b, loc, s: stats.beta.stats(a, b, loc, s, moments="mvsk"),
    [(A, B, LOC, SCALE)],
)
case(
    "beta.nnlf",
    stats.beta.nnlf,
    [(theta((1.5, 3.0), (1.5, 3.0), (-0.05, 0.05), (0.9, 1.1)), real(4, lo=0.2, hi=0.8))],
)
case(
    "beta.fit_loc_scale",
    stats.beta.fit_loc_scale,
    [(real(5), real(lo=1.0, hi=3.0), real(lo=1.0, hi=3.0))],
)

# Poisson: in the rate.
MU = real(3, lo=0.5, hi=4.0)
case("poisson.logsf", lambda mu: stats.poisson.logsf(K[:, None], mu), [(MU,)])
case("poisson.entropy", stats.poisson.entropy, [(MU,), (real(3, lo=20.0, hi=60.0),)])
for name in ("mean", "var", "std"):
    case(f"poisson.{name}", getattr(stats.poisson, name), [(MU,)])
case("poisson.moment", lambda mu: stats.poisson.moment(3, mu), [(MU,)])
case("poisson.moment", lambda mu: stats.poisson.moment(3, mu, loc=2), [(MU,)])
case("poisson.stats", lambda mu: stats.poisson.stats(mu, moments="mvsk"), [(MU,)])
case("poisson.nnlf", lambda mu: stats.poisson.nnlf((mu, 0), K), [(real(lo=0.5, hi=4.0),)])

for name in ("mean", "var", "cov", "entropy"):
    case(f"dirichlet.{name}", getattr(stats.dirichlet, name), [(real(3, lo=0.5, hi=3.0),)])

case("multivariate_normal.fit", stats.multivariate_normal.fit, [(real(5, 3),)])
case(
    "multivariate_normal.fit",
    lambda x, m: stats.multivariate_normal.fit(x, fix_mean=m),
    [(real(5, 3), real(3))],
)

# The primitives behind the quantiles and the Poisson entropy (shapes fixed).
Q = real(3, lo=0.2, hi=0.8)
case("gammaincinv", lambda q: _special.gammaincinv(2.5, q), [(Q,)])
case("gammainccinv", lambda q: _special.gammainccinv(2.5, q), [(Q,)])
case("betaincinv", lambda q: _special.betaincinv(2.0, 3.5, q), [(Q,)])
case("betainccinv", lambda q: _special.betainccinv(2.0, 3.5, q), [(Q,)])
case("stdtrit", lambda q: _special.stdtrit(3.5, q), [(Q,)])
case("poisson_entropy", lambda mu: _special.poisson_entropy(1, mu), [(MU,)])


@pytest.mark.parametrize(
    "name, fun, gens", CASES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]
)
def test_stats_derivatives(name, fun, gens):
    args = [g() for g in gens]
    wg.check_grads(fun, modes=("fwd", "rev"), order=2)(*args)


DISTRIBUTIONS = [getattr(stats, name) for name in stats.__all__]
SCIPY = {d: getattr(st, d.__name__.rsplit(".", 1)[1]) for d in DISTRIBUTIONS}

# Members whose results do not depend on the differentiable parameters (whole-number
# quantiles, infinite ends of the support): their derivative is zero, checked below.
CONSTANT = {
    "norm.support",
    "t.support",
    "poisson.support",
    "poisson.median",
    "poisson.interval",
}


def _members(d):
    short = d.__name__.rsplit(".", 1)[1]
    return [(f"{short}.{name}", getattr(d, name)) for name in d.__all__]


def test_every_differentiable_function_is_in_the_table():
    differentiable = {
        name
        for d in DISTRIBUTIONS
        for name, fun in _members(d)
        if not getattr(fun, "nondifferentiable", False) and name not in CONSTANT
    }
    missing = sorted(differentiable - {name for name, _, _ in CASES})
    assert not missing, f"stats functions with no row: {missing}"


def test_distributions_define_no_differentiable_primitives():
    # They are compositions, so their rules come from wengert.scipy.special and _special.
    for d in DISTRIBUTIONS:
        found = [
            v
            for v in vars(d).values()
            if isinstance(v, Primitive) and not getattr(v, "nondifferentiable", False)
        ]
        assert not found, d.__name__


# SciPy's public methods that are internals of its implementation rather than functions
# of the distribution (a vectorized helper of `moment`, one of `entropy`).
SCIPY_INTERNALS = {"generic_moment", "vecentropy"}


@pytest.mark.parametrize("d", DISTRIBUTIONS, ids=lambda d: d.__name__.rsplit(".", 1)[1])
def test_every_method_of_the_scipy_distribution_is_a_member(d):
    methods = {
        name
        for name in dir(SCIPY[d])
        if not name.startswith("_") and callable(getattr(SCIPY[d], name))
    }
    missing = sorted(methods - SCIPY_INTERNALS - set(d.__all__))
    assert not missing, f"{d.__name__} lacks {missing}"
    assert all(callable(getattr(d, name)) for name in d.__all__)


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


# Every member on plain values, against SciPy's method of the same name.
Q = onp.array([0.05, 0.3, 0.5, 0.9])
COUNTS = onp.array([-1, 0, 2, 5])
COLUMN = lambda *v: onp.array(v)[:, None]  # parameters that broadcast against x

CONTINUOUS = [
    (stats.norm, (0.3, 1.7)),
    (stats.norm, (COLUMN(0.3, -0.2), 1.7)),
    (stats.t, (6.5, 0.3, 1.7)),
    (stats.t, (COLUMN(4.5, 150.0), 0.3, 1.7)),
    (stats.gamma, (1.5, 0.1, 1.2)),
    (stats.gamma, (COLUMN(1.5, 300.0), 0.1, 1.2)),
    (stats.beta, (2.0, 0.7, -0.1, 3.0)),
    (stats.beta, (COLUMN(2.0, 0.5), 0.7, -0.1, 3.0)),
    (stats.chi2, (3.0, 0.05, 0.5)),
    (stats.chi2, (COLUMN(3.0, 600.0), 0.05, 0.5)),
]


def continuous_calls(params):
    shapes, scalar = params[:-2], all(onp.ndim(p) == 0 for p in params)
    calls = [(name, (X, *params)) for name in ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf")]
    calls += [("ppf", (Q, *params)), ("isf", (Q, *params)), ("interval", (0.9, *params))]
    calls += [(name, params) for name in ("entropy", "mean", "var", "std", "median", "support")]
    calls += [("moment", (n, *params)) for n in range(5)]
    calls += [("stats", params), ("stats", params, {"moments": "mvsk"})]
    calls += [("rvs", params, {"random_state": 7})]
    if scalar:  # (SciPy's fit_loc_scale, nnlf and expect take one set of parameters)
        calls += [("fit_loc_scale", (X, *shapes))]
        calls += [("rvs", params, {"size": (2, 3), "random_state": 7}), ("nnlf", (params, X))]
        calls += [("expect", (lambda x: x * x,), {"args": shapes, "loc": params[-2]})]
    return calls


DISCRETE = [
    (stats.poisson, (2.5,)),
    (stats.poisson, (2.5, 1)),
    (stats.poisson, (COLUMN(0.5, 30.0), 1)),
]


def discrete_calls(params):
    calls = [(name, (COUNTS, *params)) for name in ("pmf", "logpmf", "cdf", "logcdf", "sf")]
    calls += [("logsf", (COUNTS, *params)), ("ppf", (Q, *params)), ("isf", (Q, *params))]
    calls += [(name, params) for name in ("entropy", "mean", "var", "std", "median", "support")]
    calls += [("moment", (n, *params)) for n in range(5)] + [("interval", (0.9, *params))]
    calls += [("stats", params), ("stats", params, {"moments": "mvsk"})]
    calls += [("rvs", params, {"random_state": 7})]
    if onp.ndim(params[0]) == 0:
        calls += [("nnlf", ((*params, 0)[:2], COUNTS[1:])), ("expect", (lambda k: k * k, params))]
    return calls


ALPHA = onp.array([0.8, 2.0, 3.5])
VALUES_RNG = onp.random.default_rng(2)  # (R's draws stay those of the derivative rows)
MEAN, POINTS = onp.array([0.1, -0.3, 0.5]), VALUES_RNG.normal(size=(4, 3))
COV = POINTS.T @ POINTS + onp.eye(3)
MULTIVARIATE = [
    (stats.dirichlet, "rvs", (ALPHA,), {"size": 3, "random_state": 7}),
    *[(stats.dirichlet, name, (ALPHA,), {}) for name in ("mean", "var", "cov", "entropy")],
    (stats.multivariate_normal, "fit", (POINTS,), {}),
    (stats.multivariate_normal, "fit", (POINTS,), {"fix_mean": MEAN}),
    (stats.multivariate_normal, "fit", (POINTS,), {"fix_cov": COV}),
    (stats.multivariate_normal, "rvs", (MEAN, COV), {"size": 3, "random_state": 7}),
    (stats.multivariate_normal, "cdf", (POINTS, MEAN, COV), {"rng": 3}),
    (stats.multivariate_normal, "logcdf", (POINTS[0], MEAN, COV), {"rng": 3}),
    (stats.multivariate_normal, "entropy", (MEAN, COV), {}),
]


def _value_rows():
    rows = [(d, *call) for d, params in CONTINUOUS for call in continuous_calls(params)]
    rows += [(d, *call) for d, params in DISCRETE for call in discrete_calls(params)]
    rows = [(d, name, args, kwargs[0] if kwargs else {}) for d, name, args, *kwargs in rows]
    return rows + MULTIVARIATE


VALUE_ROWS = _value_rows()


def assert_same(got, want):
    """Equal values of equal shapes (tuples entry by entry), NaN where SciPy has NaN."""
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            assert_same(g, w)
        return
    assert onp.shape(got) == onp.shape(want)
    onp.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, equal_nan=True)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(
    "d, name, args, kwargs",
    VALUE_ROWS,
    ids=[
        f"{d.__name__.rsplit('.', 1)[1]}.{name}-{i}" for i, (d, name, *_) in enumerate(VALUE_ROWS)
    ],
)
def test_members_equal_scipy(d, name, args, kwargs):
    assert_same(getattr(d, name)(*args, **kwargs), getattr(SCIPY[d], name)(*args, **kwargs))


@pytest.mark.parametrize("d", DISTRIBUTIONS, ids=lambda d: d.__name__.rsplit(".", 1)[1])
def test_every_member_has_a_value_check(d):
    short = d.__name__.rsplit(".", 1)[1]
    checked = {name for e, name, _, _ in VALUE_ROWS if e is d}
    checked |= {"fit", "freeze"} if short in ("norm", "t", "gamma", "beta", "chi2") else set()
    checked |= {"freeze"} if short == "poisson" else set()
    checked |= {"marginal"} if short == "multivariate_normal" else set()
    checked |= {"logpdf", "pdf"} if short in ("dirichlet", "multivariate_normal") else set()
    missing = sorted(set(d.__all__) - checked)
    assert not missing, f"{d.__name__}: members with no value check: {missing}"


def test_fit_freeze_and_marginal_are_scipys():
    data = onp.array([0.3, 1.1, 2.5, 0.7, 1.9])
    assert_same(stats.norm.fit(data), st.norm.fit(data))
    assert_same(stats.gamma.fit(data, floc=0.0), st.gamma.fit(data, floc=0.0))
    for d in DISTRIBUTIONS:
        for name in ("fit", "freeze", "marginal", "expect", "rvs"):
            member = getattr(d, name, None)
            if getattr(member, "nondifferentiable", False):
                assert member.__wrapped__ == getattr(SCIPY[d], name)
    frozen = stats.gamma.freeze(1.5, scale=2.0)
    assert_same(frozen.mean(), st.gamma(1.5, scale=2.0).mean())
    assert_same(stats.poisson.freeze(2.5).pmf(COUNTS), st.poisson.pmf(COUNTS, 2.5))
    marginal = stats.multivariate_normal.marginal([0, 2], MEAN, COV)
    assert_same(marginal.mean, MEAN[[0, 2]])


def test_t_moments_and_stats_where_they_diverge():
    for df in (0.8, 1.5, 2.5, 3.5):
        assert_same(stats.t.stats(df, 0.3, 1.2, moments="mvsk"), st.t.stats(df, 0.3, 1.2, "mvsk"))
        for order in range(min(int(onp.ceil(df)), 5)):
            assert_same(stats.t.moment(order, df, 0.3, 1.2), st.t.moment(order, df, 0.3, 1.2))
    assert stats.t.moment(2, 1.5) == onp.inf and onp.isnan(stats.t.moment(3, 2.5))


def test_moment_order_must_be_a_whole_number():
    with pytest.raises(ValueError, match="integer"):
        stats.gamma.moment(1.5, 2.0)
    with pytest.raises(ValueError, match="positive"):
        stats.norm.moment(-1)
    with pytest.raises(ValueError, match="confidence"):
        stats.norm.interval(1.5)


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


# --- members without derivative ------------------------------------------------------------

# A traced parameter passed to each member that has no derivative: (label, function of it).
NO_DERIVATIVE = [
    ("dirichlet.rvs", lambda a: stats.dirichlet.rvs(a, random_state=0) * a),
    ("norm.rvs", lambda s: stats.norm.rvs(0.5, s, size=3, random_state=0)),
    ("t.rvs", lambda s: stats.t.rvs(4.0, scale=s, size=3, random_state=0)),
    ("gamma.rvs", lambda a: stats.gamma.rvs(a, size=3, random_state=0)),
    ("beta.rvs", lambda a: stats.beta.rvs(a, 2.0, size=3, random_state=0)),
    ("chi2.rvs", lambda df: stats.chi2.rvs(df=df, size=3, random_state=0)),
    ("poisson.rvs", lambda mu: stats.poisson.rvs(mu, size=3, random_state=0) * 1.0),
    ("multivariate_normal.rvs", lambda m: stats.multivariate_normal.rvs(m, random_state=0)),
    ("norm.fit", lambda x: stats.norm.fit(x * onp.arange(1.0, 4.0))[1]),
    ("gamma.fit", lambda x: stats.gamma.fit(x * onp.arange(1.0, 4.0), floc=0.0)[0]),
    ("norm.expect", lambda s: stats.norm.expect(lambda v: v * v, scale=s)),
    ("poisson.expect", lambda mu: stats.poisson.expect(lambda k: k, args=(mu,))),
    ("multivariate_normal.cdf", lambda m: stats.multivariate_normal.cdf(0.3, m, rng=1)),
    ("multivariate_normal.logcdf", lambda m: stats.multivariate_normal.logcdf(0.3, m, rng=1)),
]
# Members that make SciPy objects refuse traced values at once.
OBJECTS = [
    ("norm.freeze", lambda s: stats.norm.freeze(scale=s).mean()),
    ("poisson.freeze", lambda mu: stats.poisson.freeze(mu).mean()),
    ("multivariate_normal.marginal", lambda m: stats.multivariate_normal.marginal([0], m).mean),
]


def _point(label):
    return onp.array([0.7, 1.3, 2.1]) if label.startswith("dirichlet") else 1.3


@pytest.mark.parametrize(
    "label, f", NO_DERIVATIVE + OBJECTS, ids=[r[0] for r in NO_DERIVATIVE + OBJECTS]
)
def test_differentiating_a_member_without_derivative_raises_naming_it(label, f):
    x = _point(label)
    f(x)  # plain values: SciPy's result
    scalar = lambda v: wnp.sum(f(v))
    message = rf"wengert\.scipy\.stats\.{label} has no derivative \(.+\)"
    with pytest.raises(MissingRuleError, match=message):
        wg.grad(scalar)(x)
    with pytest.raises(MissingRuleError, match=message):
        wg.jvp(scalar, (x,), (onp.ones_like(x),))


def test_a_member_without_derivative_gives_scipys_result_on_traced_values():
    alpha = onp.array([0.7, 1.3, 2.1])
    want = st.dirichlet.rvs(alpha, size=2, random_state=4)
    # A zero derivative through the draw, asked for explicitly, and the same draw.
    seen = []

    def loss(a):
        sample = stats.dirichlet.rvs(wg.stop_gradient(a), size=2, random_state=4)
        seen.append(sample)
        return wnp.sum(stats.dirichlet.logpdf(sample.T, a))

    wg.grad(loss)(alpha)
    onp.testing.assert_array_equal(seen[0], want)
    # Under vmap each member draws with its own parameters.
    mus = onp.array([0.5, 40.0])
    got = wg.vmap(lambda mu: stats.poisson.rvs(mu, size=3, random_state=1))(mus)
    onp.testing.assert_array_equal(got, [st.poisson.rvs(m, size=3, random_state=1) for m in mus])


@pytest.mark.parametrize(
    "fun, argument",
    [
        (lambda a: stats.gamma.ppf(0.3, a), "a"),
        (lambda a: stats.gamma.isf(0.3, a), "a"),
        (lambda a: stats.gamma.median(a), "a"),
        (lambda df: stats.chi2.ppf(0.3, df), "a"),
        (lambda a: stats.beta.ppf(0.3, a, 2.0), "a"),
        (lambda b: stats.beta.isf(0.3, 2.0, b), "b"),
        (lambda df: stats.t.ppf(0.3, df), "df"),
        (lambda df: stats.t.interval(0.9, df)[1], "df"),
    ],
)
def test_quantiles_are_not_differentiable_in_shape_parameters(fun, argument):
    fun(2.5)
    with pytest.raises(MissingRuleError, match=f"not differentiable in {argument}"):
        wg.grad(fun)(2.5)
    with pytest.raises(MissingRuleError, match=f"not differentiable in {argument}"):
        wg.jvp(fun, (2.5,), (1.0,))


@pytest.mark.parametrize(
    "fun",
    [
        lambda mu: stats.poisson.ppf(0.3, mu),
        lambda mu: stats.poisson.isf(0.3, mu),
        lambda mu: stats.poisson.median(mu),
        lambda mu: stats.poisson.interval(0.9, mu)[1],
        lambda mu: stats.poisson.support(mu)[0],
        lambda s: stats.norm.support(0.0, s)[1],
        lambda df: stats.t.support(df)[0],
    ],
)
def test_whole_number_quantiles_and_infinite_ends_are_constants(fun):
    x = onp.array([2.5, 7.5])
    assert onp.all(wg.elementwise_grad(fun)(x) == 0.0)
    tangent = wg.jvp(fun, (x,), (onp.ones(2),))[1]
    assert onp.all(onp.asarray(tangent) == 0.0)


def test_poisson_entropy_derivatives_of_every_order_agree_with_differences():
    for mu in (0.3, 4.0, 50.0, 3000.0):
        h = 1e-4 * mu
        for n in range(5):
            slope = (_special.poisson_entropy(n, mu + h) - _special.poisson_entropy(n, mu - h)) / (
                2 * h
            )
            onp.testing.assert_allclose(_special.poisson_entropy(n + 1, mu), slope, rtol=1e-6)
    # The entropy's derivatives by AD are the primitive's orders.
    third = wg.grad(wg.grad(wg.grad(stats.poisson.entropy)))(4.0)
    onp.testing.assert_allclose(third, _special.poisson_entropy(3, 4.0), rtol=1e-12)


# --- programs written for HIPS autograd -----------------------------------------------------

AUTOGRAD_STYLE = """
import wengert.numpy as np
import wengert.scipy.stats.multivariate_normal as mvn
from wengert.scipy.stats import beta, chi2, dirichlet, gamma, norm, poisson, t

sample_simplex = dirichlet.rvs
sample_normal = mvn.rvs
MEMBERS = (norm.rvs, t.ppf, gamma.entropy, beta.isf, chi2.median, poisson.moment, mvn.logcdf)


def draw(alpha, seed):
    return dirichlet.rvs(alpha, size=2, random_state=seed)
"""


def test_a_module_that_references_the_members_imports(tmp_path):
    path = tmp_path / "autograd_style_model.py"
    path.write_text(AUTOGRAD_STYLE)
    spec = importlib.util.spec_from_file_location("autograd_style_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    alpha = onp.array([0.5, 1.0, 2.0])
    onp.testing.assert_array_equal(module.draw(alpha, 3), st.dirichlet.rvs(alpha, 2, 3))
    assert all(callable(m) for m in module.MEMBERS)


def test_every_member_of_hips_autograds_distributions_exists():
    autograd_stats = pytest.importorskip("autograd.scipy.stats")
    for d in DISTRIBUTIONS:
        short = d.__name__.rsplit(".", 1)[1]
        theirs = getattr(autograd_stats, short)
        names = {n for n in vars(theirs) if hasattr(SCIPY[d], n) and not n.startswith("_")}
        assert names <= set(d.__all__), (short, sorted(names - set(d.__all__)))
