"""Lifetime-optimal sizing (Sardana et al. 2024) against independent scipy computations."""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq, minimize_scalar

from scaling_jax.laws import ChinchillaParams, chinchilla
from scaling_jax.presets import CHINCHILLA_2022, EPOCH_2024, SARDANA_2024
from scaling_jax.sizing import lifetime as lt
from scaling_jax.sizing.optimal import compute_optimal, loss_optimal

P = SARDANA_2024
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "lifetime_sizing.ipynb"


def _np_params(p):
    return tuple(float(v) for v in p)


def _scipy_target(p, loss, T):
    """Independent optimum: brentq on Sardana et al.'s root equation in log D."""
    A, B, E, a, b = _np_params(p)

    def g(x):
        D = np.exp(x)
        return B * (1 + b / a) * D**-b + b * B * T / (3 * a) * D ** -(b + 1) + E - loss

    x = brentq(g, 0.0, 80.0, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500)
    D = np.exp(x)
    N = (A / (loss - E - B * D**-b)) ** (1 / a)
    return N, D


def _scipy_minimize(p, loss, T_eff, lo, hi):
    """Direct bounded minimization of the lifetime objective along the constraint."""
    A, B, E, a, b = _np_params(p)

    def objective(x):
        D = np.exp(x)
        gap = loss - E - B * D**-b
        if gap <= 0:
            return np.inf
        N = (A / gap) ** (1 / a)
        return np.log(6 * N * D + 2 * N * T_eff)

    res = minimize_scalar(
        objective, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12, "maxiter": 1000}
    )
    D = np.exp(res.x)
    return (A / (loss - E - B * D**-b)) ** (1 / a), D


@pytest.fixture(scope="module")
def loss13b():
    return float(lt.chinchilla_optimal_loss(P, 13e9))


def test_paper_example(loss13b):
    # The loss of a Chinchilla-optimal 13B model, built independently from compute_optimal.
    A, B, E, a, b = _np_params(P)
    G = (a * A / (b * B)) ** (1 / (a + b))
    C = 6 * (13e9 / G) ** ((a + b) / b)
    opt13 = compute_optimal(P, C)
    N13, D13 = float(opt13.N), float(opt13.D)
    np.testing.assert_allclose(N13, 13e9, rtol=1e-12)
    assert loss13b == pytest.approx(float(chinchilla(P, N13, D13)), rel=1e-14)

    opt = lt.lifetime_optimal(P, loss13b, 2e12)
    N_ref, D_ref = _scipy_target(P, loss13b, 2e12)
    assert float(opt.N) == pytest.approx(N_ref, rel=1e-11)
    assert float(opt.D_train) == pytest.approx(D_ref, rel=1e-11)
    # The baseline is the 13B compute-optimal model itself.
    assert float(opt.baseline.N) == pytest.approx(13e9, rel=1e-11)
    assert float(opt.baseline.D_train) == pytest.approx(D13, rel=1e-11)
    ref_total = 6 * N_ref * D_ref + 2 * N_ref * 2e12
    base_total = 6 * 13e9 * D13 + 2 * 13e9 * 2e12
    assert float(opt.total_flops) == pytest.approx(ref_total, rel=1e-11)
    assert float(opt.savings) == pytest.approx(1 - ref_total / base_total, rel=1e-9)
    # Published, rounded: ≈7B parameters, ≈1.25e12 tokens, ≈17% FLOPs saved.
    assert float(opt.N) == pytest.approx(7e9, rel=0.02)
    assert float(opt.D_train) == pytest.approx(1.25e12, rel=0.01)
    assert float(opt.savings) == pytest.approx(0.17, abs=0.01)
    assert float(opt.loss) == pytest.approx(loss13b)
    assert float(chinchilla(P, opt.N, opt.D_train)) == pytest.approx(loss13b, rel=1e-13)


@pytest.mark.parametrize("params", [P, CHINCHILLA_2022, EPOCH_2024])
def test_grid_matches_scipy(params):
    E = float(params.E)
    losses = E + np.array([0.05, 0.2, 0.4, 1.0])
    Ts = np.array([0.0, 1e9, 2e12, 1e15])
    grid_l, grid_t = np.meshgrid(losses, Ts, indexing="ij")
    opt = lt.lifetime_optimal(params, grid_l, grid_t)
    assert opt.N.shape == grid_l.shape and bool(opt.reachable.all())
    for i, j in np.ndindex(grid_l.shape):
        N_ref, D_ref = _scipy_target(params, grid_l[i, j], grid_t[i, j])
        np.testing.assert_allclose(opt.N[i, j], N_ref, rtol=1e-10)
        np.testing.assert_allclose(opt.D_train[i, j], D_ref, rtol=1e-10)
        x_ch = np.log(float(opt.baseline.D_train[i, j]))
        N_min, D_min = _scipy_minimize(params, grid_l[i, j], grid_t[i, j], x_ch - 1, x_ch + 25)
        np.testing.assert_allclose(opt.N[i, j], N_min, rtol=1e-6)
        np.testing.assert_allclose(opt.D_train[i, j], D_min, rtol=1e-6)


def _numpy_cost(N, D, cm):
    c_tr = cm.train.price_per_hour / (3600 * cm.train.peak_flops)
    c_in = cm.serve.price_per_hour / (3600 * cm.serve.peak_flops)
    T_in, T_out = cm.requests * cm.input_tokens, cm.requests * cm.output_tokens
    return N * (
        6 * D * c_tr / cm.mfu_train
        + 2 * T_in * c_in / cm.mfu_prefill
        + 2 * T_out * c_in / cm.mfu_decode
    )


COST = lt.cost_model(
    train_gpu="H100",
    serve_gpu="A100",
    train_price=2.5,
    serve_price=1.2,
    mfu_train=0.45,
    mfu_prefill=0.5,
    mfu_decode=0.08,
    requests=2e9,
    input_tokens=700.0,
    output_tokens=300.0,
)


def test_cost_form_matches_direct_minimization(loss13b):
    opt = lt.lifetime_optimal(P, loss13b, cost=COST)
    A, B, E, a, b = _np_params(P)

    def cost_along(x):
        D = np.exp(x)
        N = (A / (loss13b - E - B * D**-b)) ** (1 / a)
        return np.log(_numpy_cost(N, D, COST))

    x_ch = np.log(float(opt.baseline.D_train))
    res = minimize_scalar(
        cost_along, bounds=(x_ch, x_ch + 15), method="bounded", options={"xatol": 1e-12}
    )
    np.testing.assert_allclose(float(opt.D_train), np.exp(res.x), rtol=1e-6)
    np.testing.assert_allclose(float(opt.total_cost), np.exp(res.fun), rtol=1e-12)
    np.testing.assert_allclose(
        float(opt.total_cost), _numpy_cost(float(opt.N), float(opt.D_train), COST), rtol=1e-12
    )
    np.testing.assert_allclose(
        float(lt.lifetime_cost(opt.N, opt.D_train, COST)), float(opt.total_cost), rtol=1e-13
    )
    # Same optimum as the FLOPs objective at T_eff; actual tokens = requests × tokens.
    T_eff = float(lt.effective_inference_tokens(COST))
    flops_opt = lt.lifetime_optimal(P, loss13b, T_eff)
    np.testing.assert_allclose(float(opt.N), float(flops_opt.N), rtol=1e-13)
    assert float(opt.inference_tokens) == pytest.approx(2e12)
    assert float(opt.total_flops) == pytest.approx(
        float(lt.lifetime_flops(opt.N, opt.D_train, 2e12)), rel=1e-13
    )
    assert 0 < float(opt.savings) < 1 and float(opt.savings) != float(opt.flops_savings)


def test_zero_demand_recovers_chinchilla_and_monotone(loss13b):
    opt0 = lt.lifetime_optimal(P, loss13b, 0.0)
    np.testing.assert_allclose(opt0.N, opt0.baseline.N, rtol=1e-13)
    np.testing.assert_allclose(opt0.D_train, opt0.baseline.D_train, rtol=1e-13)
    assert abs(float(opt0.savings)) < 1e-13
    Ts = np.logspace(6, 16, 41)
    opt = lt.lifetime_optimal(P, loss13b, Ts)
    assert np.all(np.diff(opt.N) < 0) and np.all(np.diff(opt.D_train) > 0)
    assert np.all(np.diff(opt.tokens_per_param) > 0)
    assert np.all(np.asarray(opt.savings) >= 0) and np.all(np.diff(opt.savings) > 0)
    tiny = lt.lifetime_optimal(P, loss13b, 1e-3)
    np.testing.assert_allclose(tiny.N, opt0.N, rtol=1e-10)


def test_budget_form(loss13b):
    opt = lt.lifetime_optimal(P, loss13b, 2e12)
    back = lt.lifetime_budget_optimal(P, opt.total_flops, 2e12)
    np.testing.assert_allclose(back.loss, loss13b, rtol=1e-13)
    np.testing.assert_allclose(back.N, opt.N, rtol=1e-10)
    np.testing.assert_allclose(back.D_train, opt.D_train, rtol=1e-10)
    np.testing.assert_allclose(back.savings, opt.savings, rtol=1e-9)
    # T = 0 is the closed-form compute optimum; otherwise compare with scipy directly.
    b0 = lt.lifetime_budget_optimal(P, 1e24)
    ref = compute_optimal(P, 1e24)
    np.testing.assert_allclose([b0.N, b0.D_train], [ref.N, ref.D], rtol=1e-12)
    A, B, E, a, b = _np_params(P)
    for F, T in [(1e22, 1e10), (3e23, 5e12), (1e25, 1e14)]:
        res = lt.lifetime_budget_optimal(P, F, T)

        def loss_along(x, F=F, T=T):
            D = np.exp(x)
            N = F / (6 * D + 2 * T)
            return E + A * N**-a + B * D**-b

        ref = minimize_scalar(
            loss_along, bounds=(10, 40), method="bounded", options={"xatol": 1e-12}
        )
        np.testing.assert_allclose(float(res.D_train), np.exp(ref.x), rtol=1e-6)
        np.testing.assert_allclose(float(res.loss), ref.fun, rtol=1e-13)
    # Dollar budget: the optimum of the cost form at its own cost reaches the same loss.
    cost_opt = lt.lifetime_optimal(P, loss13b, cost=COST)
    cb = lt.lifetime_budget_optimal(P, cost_opt.total_cost, cost=COST)
    np.testing.assert_allclose(cb.loss, loss13b, rtol=1e-13)
    np.testing.assert_allclose(cb.N, cost_opt.N, rtol=1e-10)


def test_general_solver_matches_chinchilla_root():
    losses = jnp.array([1.5, 1.8, 2.0, 2.3])
    Ts = jnp.array([[0.0], [1e11], [2e13]])
    gen = lt.lifetime_optimal_general(P, losses, Ts, loss_fn=chinchilla)
    ref = lt.lifetime_optimal(P, losses[1:], Ts)
    assert isinstance(gen, lt.LifetimeOptimum) and gen.total_cost is None
    assert gen.N.shape == (3, 4) and bool((gen.status[:, 1:] == lt.STATUS_OK).all())
    for name in ("N", "D_train", "total_flops", "inference_flops"):
        np.testing.assert_allclose(getattr(gen, name)[:, 1:], getattr(ref, name), rtol=1e-9)
    # The baseline is the T = 0 solution: Sardana's Chinchilla-style model of the same loss.
    np.testing.assert_allclose(gen.baseline.N[:, 1:], ref.baseline.N, rtol=1e-9)
    np.testing.assert_allclose(gen.savings[:, 1:], ref.savings, rtol=1e-6, atol=1e-12)
    # Unreachable within the N bounds (loss <= E) -> flagged, NaN only there.
    assert (gen.status[:, 0] == lt.STATUS_UNREACHABLE).all() and np.isnan(gen.N[:, 0]).all()
    # Implicit gradients (2×2 KKT system) agree with the Chinchilla-form root's, also at T = 0.
    for T in (1e12, 0.0):
        g_gen = jax.grad(lambda t: lt.lifetime_optimal_general(P, 2.0, t).N)(T)
        g_ref = jax.grad(lambda t: lt.lifetime_optimal(P, 2.0, t).N)(T)
        np.testing.assert_allclose(g_gen, g_ref, rtol=1e-7)
    g_base = jax.grad(lambda e: lt.lifetime_optimal_general(P._replace(E=e), 2.0, 1e12).savings)
    g_ref = jax.grad(lambda e: lt.lifetime_optimal(P._replace(E=e), 2.0, 1e12).savings)
    np.testing.assert_allclose(g_base(P.E), g_ref(P.E), rtol=1e-6)


def test_general_solver_old_argument_order_warns_and_returns_the_tuple():
    with pytest.warns(DeprecationWarning, match="loss_fn=..."):
        N, D, status = lt.lifetime_optimal_general(chinchilla, P, 2.0, 1e12)
    ref = lt.lifetime_optimal(P, 2.0, 1e12)
    np.testing.assert_allclose([N, D], [ref.N, ref.D_train], rtol=1e-9)
    assert int(status) == lt.STATUS_OK


def _fd(f, x, rel=1e-5):
    h = rel * abs(x)
    return (f(x + h) - f(x - h)) / (2 * h)


def _params_with(field, value):
    return P._replace(**{field: value})


@pytest.mark.parametrize("field", ["A", "B", "E", "alpha", "beta"])
def test_grad_law_constants_vs_fd(field, loss13b):
    def outs(v):
        o = lt.lifetime_optimal(_params_with(field, v), loss13b, 2e12, validate=False)
        return jnp.stack([jnp.log(o.N), jnp.log(o.D_train), jnp.log(o.total_flops)])

    x0 = float(getattr(P, field))
    jac = jax.jacfwd(outs)(x0)
    np.testing.assert_allclose(jac, _fd(outs, x0), rtol=1e-5, atol=1e-9)
    rev = jax.jacrev(outs)(x0)
    np.testing.assert_allclose(rev, jac, rtol=1e-12, atol=1e-15)


def test_grad_demand_loss_vs_fd(loss13b):
    def outs(loss, T):
        o = lt.lifetime_optimal(P, loss, T)
        return jnp.stack([o.N, o.D_train, o.total_flops, o.savings])

    args = (loss13b, 2e12)
    for argnum, x0 in enumerate(args):

        def f(v, argnum=argnum):
            a = list(args)
            a[argnum] = v
            return outs(*a)

        jac = jax.jacrev(f)(x0)
        np.testing.assert_allclose(jac, _fd(f, x0), rtol=1e-5)
    # Budget form: d(loss)/d(budget) and dN/dT.
    fb = lambda F: lt.lifetime_budget_optimal(P, F, 2e12).loss  # noqa: E731
    np.testing.assert_allclose(jax.grad(fb)(1e23), _fd(fb, 1e23), rtol=1e-5)
    fn = lambda T: lt.lifetime_budget_optimal(P, 1e23, T).N  # noqa: E731
    np.testing.assert_allclose(jax.grad(fn)(5e12), _fd(fn, 5e12), rtol=1e-5)


@pytest.mark.parametrize(
    "path",
    [
        ("train", "price_per_hour"),
        ("serve", "price_per_hour"),
        ("mfu_train",),
        ("mfu_prefill",),
        ("mfu_decode",),
        ("requests",),
        ("serve", "peak_flops"),
    ],
)
def test_grad_cost_model_vs_fd(path, loss13b):
    def with_value(v):
        if len(path) == 1:
            return COST._replace(**{path[0]: v})
        hw = getattr(COST, path[0])._replace(**{path[1]: v})
        return COST._replace(**{path[0]: hw})

    def outs(v):
        o = lt.lifetime_optimal(P, loss13b, cost=with_value(v), validate=False)
        return jnp.stack([jnp.log(o.N), jnp.log(o.D_train), jnp.log(o.total_cost)])

    x0 = float(
        np.asarray(
            getattr(COST, path[0]) if len(path) == 1 else getattr(getattr(COST, path[0]), path[1])
        )
    )
    np.testing.assert_allclose(jax.jacfwd(outs)(x0), _fd(outs, x0), rtol=1e-5, atol=1e-12)


def test_jit_vmap_grad_every_public_function(loss13b):
    N, D, T = 7e9, 1.2e12, 2e12
    assert jax.jit(lt.lifetime_flops)(N, D, T) == pytest.approx(6 * N * D + 2 * N * T)
    assert jax.grad(lt.lifetime_flops)(N, D, T) == pytest.approx(6 * D + 2 * T)
    np.testing.assert_allclose(
        jax.vmap(lt.lifetime_flops, (0, None, None))(jnp.array([N, 2 * N]), D, T),
        [6 * N * D + 2 * N * T, 2 * (6 * N * D + 2 * N * T)],
    )
    c = jax.jit(lt.lifetime_cost)(N, D, COST)
    assert float(c) == pytest.approx(_numpy_cost(N, D, COST), rel=1e-13)
    assert float(jax.grad(lt.lifetime_cost)(N, D, COST)) == pytest.approx(float(c) / N)
    batch = jax.tree_util.tree_map(lambda v: jnp.stack([jnp.asarray(v)] * 3), COST)
    np.testing.assert_allclose(
        jax.vmap(lt.effective_inference_tokens)(batch),
        [lt.effective_inference_tokens(COST)] * 3,
        rtol=1e-14,
    )
    g = jax.grad(lambda m: lt.effective_inference_tokens(COST._replace(mfu_decode=m)))(0.08)
    assert float(g) < 0
    Nch = jax.jit(loss_optimal)(P, loss13b).N
    assert float(Nch) == pytest.approx(13e9, rel=1e-11)
    assert float(jax.grad(lambda x: loss_optimal(P, x).N)(loss13b)) < 0
    with pytest.warns(DeprecationWarning, match="loss_optimal"):
        assert float(lt.chinchilla_style(P, loss13b)[0]) == float(Nch)
    assert float(jax.grad(lambda n: lt.chinchilla_optimal_loss(P, n))(13e9)) < 0
    np.testing.assert_allclose(
        jax.vmap(lambda n: lt.chinchilla_optimal_loss(P, n))(jnp.array([13e9])),
        [loss13b],
        rtol=1e-14,
    )

    Ts = jnp.array([0.0, 1e11, 2e12])
    eager = lt.lifetime_optimal(P, loss13b, Ts)
    jitted = jax.jit(lambda T: lt.lifetime_optimal(P, loss13b, T))(Ts)
    vmapped = jax.vmap(lambda T: lt.lifetime_optimal(P, loss13b, T))(Ts)
    for other in (jitted, vmapped):
        np.testing.assert_allclose(other.N, eager.N, rtol=1e-14)
        np.testing.assert_allclose(other.savings, eager.savings, rtol=1e-10, atol=1e-15)
    vm_cost = jax.vmap(lambda cm: lt.lifetime_optimal(P, loss13b, cost=cm))(batch)
    np.testing.assert_allclose(
        vm_cost.total_cost, [lt.lifetime_optimal(P, loss13b, cost=COST).total_cost] * 3, rtol=1e-14
    )
    vb = jax.vmap(lambda F: lt.lifetime_budget_optimal(P, F, 1e12))(jnp.array([1e22, 1e23]))
    jb = jax.jit(lambda F: lt.lifetime_budget_optimal(P, F, 1e12))(jnp.array([1e22, 1e23]))
    np.testing.assert_allclose(vb.N, jb.N, rtol=1e-14)
    jg = jax.jit(lambda T: lt.lifetime_optimal_general(P, loss13b, T))(Ts)
    np.testing.assert_allclose(jg.N, eager.N, rtol=1e-9)
    vg = jax.vmap(lambda T: lt.lifetime_optimal_general(P, loss13b, T))(Ts)
    np.testing.assert_allclose(vg.N, eager.N, rtol=1e-9)
    # vmap over stacked law constants (samples).
    stacked = ChinchillaParams(*(jnp.array([float(v)] * 2) for v in P))
    vp = jax.vmap(lambda p: lt.lifetime_optimal(p, loss13b, 2e12))(stacked)
    np.testing.assert_allclose(vp.N, [float(eager.N[2])] * 2, rtol=1e-14)


def test_unreachable_and_invalid_inside_jit(loss13b):
    losses = jnp.array([loss13b, 1.5, loss13b, jnp.nan])
    Ts = jnp.array([2e12, 2e12, -1.0, 2e12])
    f = jax.jit(lambda loss, T: lt.lifetime_optimal(P, loss, T))
    opt = f(losses, Ts)
    assert opt.status.tolist() == [
        lt.STATUS_OK,
        lt.STATUS_UNREACHABLE,
        lt.STATUS_INVALID,
        lt.STATUS_INVALID,
    ]
    assert opt.reachable.tolist() == [True, False, False, False]
    assert np.isfinite(opt.N[0]) and np.isnan(opt.N[1:]).all()
    assert np.isnan(opt.total_flops[1:]).all() and np.isnan(opt.savings[1:]).all()
    # Gradients of the valid lane stay finite in a mixed batch.
    g = jax.grad(lambda T: f(losses, T).N[0])(Ts)
    assert np.isfinite(g).all() and float(g[0]) < 0
    bad_cost = COST._replace(mfu_decode=jnp.array([0.1, 1.5]))
    oc = jax.jit(lambda cm: lt.lifetime_optimal(P, loss13b, cost=cm))(bad_cost)
    assert oc.status.tolist() == [lt.STATUS_OK, lt.STATUS_INVALID]
    ob = jax.jit(lambda F: lt.lifetime_budget_optimal(P, F, 1e12))(jnp.array([1e23, -1.0]))
    assert ob.status.tolist() == [lt.STATUS_OK, lt.STATUS_INVALID] and np.isnan(ob.loss[1])


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(loss=1.6), "loss"),
        (dict(loss=np.array([2.0, 1.69])), r"loss\[1\]"),
        (dict(loss=float("nan")), "loss"),
        (dict(inference_tokens=-1.0), "inference_tokens"),
        (dict(inference_tokens=float("inf")), "inference_tokens"),
        (dict(cost=COST._replace(mfu_train=1.5)), "mfu_train"),
        (dict(cost=COST._replace(mfu_decode=0.0)), "mfu_decode"),
        (
            dict(cost=COST._replace(train=COST.train._replace(price_per_hour=0.0))),
            "train.price_per_hour",
        ),
        (
            dict(cost=COST._replace(serve=COST.serve._replace(price_per_hour=-2.0))),
            "serve.price_per_hour",
        ),
        (dict(cost=COST._replace(requests=-5.0)), "requests"),
        (dict(params=P._replace(alpha=-0.3)), "params.alpha"),
        (dict(params=P._replace(B=float("nan"))), "params.B"),
    ],
)
def test_bad_inputs_name_the_field(kwargs, field):
    args = dict(params=P, loss=2.0, inference_tokens=None if "cost" in kwargs else 1e12)
    args.update(kwargs)
    with pytest.raises(ValueError, match=field):
        lt.lifetime_optimal(args.pop("params"), args.pop("loss"), **args)


def test_other_bad_inputs():
    with pytest.raises(ValueError, match="budget"):
        lt.lifetime_budget_optimal(P, 0.0, 1e12)
    with pytest.raises(ValueError, match="not both"):
        lt.lifetime_optimal(P, 2.0, 1e12, cost=COST)
    with pytest.raises(ValueError, match="unknown gpu"):
        lt.hardware("V100", 1.0)
    with pytest.raises(ValueError, match="level"):
        lt.lifetime_intervals(P, 2.0, level=1.5)
    assert float(lt.hardware("h100", 2.0, "fp8").peak_flops) == 1.978e15


def test_intervals_from_samples(loss13b, tmp_path):
    rng = np.random.default_rng(0)
    n = 200
    samples = ChinchillaParams(
        A=406.4 * np.exp(rng.normal(0, 0.05, n)),
        B=410.7 * np.exp(rng.normal(0, 0.05, n)),
        E=1.69 + rng.normal(0, 0.01, n),
        alpha=0.336 + rng.normal(0, 0.005, n),
        beta=0.283 + rng.normal(0, 0.005, n),
    )
    iv = lt.lifetime_intervals(samples, loss13b, 2e12, level=0.9)
    assert iv.samples.N.shape == (n,)
    lo, med, hi = iv.intervals["N"]
    assert lo < med < hi
    np.testing.assert_allclose(
        [lo, med, hi], np.percentile(np.asarray(iv.samples.N), [5, 50, 95]), rtol=1e-12
    )
    # Scenario arrays: result (samples, scenarios); match a 13B model per sample.
    iv2 = lt.lifetime_intervals(samples, None, np.array([1e11, 2e12, 1e14]), match_params=13e9)
    assert iv2.samples.N.shape == (n, 3) and iv2.intervals["N"][1].shape == (3,)
    assert np.all(np.diff(iv2.intervals["N"][1]) < 0)
    # Unreachable samples (loss <= E) are excluded and counted.
    iv3 = lt.lifetime_intervals(samples, 1.70, 2e12)
    assert 0 < float(iv3.reachable_fraction) < 1
    assert np.isfinite(iv3.intervals["N"][1])
    iv3.to_json(tmp_path / "iv.json")
    back = lt.LifetimeIntervals.from_json(tmp_path / "iv.json")
    assert back.level == iv3.level and back.reachable_fraction == iv3.reachable_fraction
    np.testing.assert_array_equal(back.intervals["N"], iv3.intervals["N"])
    np.testing.assert_array_equal(back.samples.N, iv3.samples.N)


def test_to_dict_json(tmp_path, loss13b):
    opt = lt.lifetime_optimal(P, loss13b, cost=COST)
    assert opt.to_json(tmp_path / "o.json") is None
    blob = json.loads((tmp_path / "o.json").read_text())
    assert [p.name for p in tmp_path.iterdir()] == ["o.json"]  # atomic: no temporary left
    with pytest.warns(DeprecationWarning, match="without a path"):
        assert json.loads(opt.to_json()) == blob
    assert blob["N"] == pytest.approx(float(opt.N))
    assert blob["baseline"]["N"] == pytest.approx(13e9)
    assert blob["savings"] == pytest.approx(float(opt.savings))
    assert blob["status"] == 0 and blob["reachable"] is True
    flops_only = lt.lifetime_optimal(P, [2.0, 2.1], 1e12).to_dict()
    assert flops_only["total_cost"] is None and len(flops_only["N"]) == 2
    back = lt.LifetimeOptimum.from_json(tmp_path / "o.json")
    for name in ("N", "D_train", "total_cost", "savings", "status"):
        np.testing.assert_array_equal(getattr(back, name), np.asarray(getattr(opt, name)))
    np.testing.assert_array_equal(back.baseline.total_cost, opt.baseline.total_cost)
    both = lt.lifetime_optimal(P, [1.5, 2.1], 1e12, validate=False)  # one unreachable lane
    both.to_json(tmp_path / "b.json")
    back = lt.LifetimeOptimum.from_json(tmp_path / "b.json")
    assert back.total_cost is None and back.status.tolist() == [lt.STATUS_UNREACHABLE, 0]
    np.testing.assert_array_equal(back.N, both.N)  # NaN where unreachable, exact elsewhere


def test_hundred_thousand_scenarios_one_call():
    rng = np.random.default_rng(1)
    n = 100_000
    loss = P.E + 10 ** rng.uniform(-2, 0.3, n)
    T = 10 ** rng.uniform(6, 15, n)
    opt = lt.lifetime_optimal(P, loss, T)
    assert opt.N.shape == (n,) and bool(opt.reachable.all())
    idx = rng.choice(n, 5, replace=False)
    for i in idx:
        N_ref, _ = _scipy_target(P, loss[i], T[i])
        assert float(opt.N[i]) == pytest.approx(N_ref, rel=1e-10)


def test_notebook_executes(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    text = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    # The 13B example's optimum, recomputed here (Sardana et al. 2024, 2e12 inference tokens).
    loss = float(lt.chinchilla_optimal_loss(SARDANA_2024, 13e9))
    opt = lt.lifetime_optimal(SARDANA_2024, loss, inference_tokens=2e12)
    assert (
        f"loss {loss:.4f}: N = {float(opt.N):.3e}, D_train = {float(opt.D_train):.3e}, "
        f"savings = {100 * float(opt.savings):.1f}%"
    ) in text
    # The sweep's last row and the implicit-function derivative, both printed by the notebook.
    sweep = lt.lifetime_optimal(SARDANA_2024, loss, 1e15)
    assert f"T = 1e+15: N = {float(sweep.N):.3e}" in text
    grad = float(jax.grad(lambda t: lt.lifetime_optimal(SARDANA_2024, loss, t).N)(2e12))
    assert grad < 0 and f"dN/dT at T = 2e12: {grad:.3e}" in text
