"""Compute-optimal allocation: closed form vs numeric solver vs scipy, gradients, calculator."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq, minimize_scalar

import scaling_jax.sizing.optimal as opt
from scaling_jax.laws import ChinchillaParams, chinchilla
from scaling_jax.presets import CHINCHILLA_2022, EPOCH_2024, SARDANA_2024

PARAM_SETS = [
    CHINCHILLA_2022,
    EPOCH_2024,
    SARDANA_2024,
    ChinchillaParams(A=1000.0, B=50.0, E=0.5, alpha=0.5, beta=0.2),
]
BUDGETS = np.array([1e18, 5.76e23, 1e27])


def _scipy_optimum(p, compute, flops=None):
    """Reference: bounded Brent over log N of L(N, D(N)) with D from the budget constraint."""

    def tokens(n):
        if flops is None:
            return compute / (6 * n)
        return math.exp(
            brentq(lambda y: math.log(flops(n, math.exp(y)) / compute), -50, 250, xtol=1e-14)
        )

    def f(x):
        n = math.exp(x)
        return float(chinchilla(p, n, tokens(n)))

    res = minimize_scalar(
        f, bounds=(0.0, math.log(compute)), method="bounded", options={"xatol": 1e-11}
    )
    n = math.exp(res.x)
    return n, tokens(n)


def test_published_check():
    N, D = opt.compute_optimal(CHINCHILLA_2022, compute=5.76e23)[:2]
    assert float(N) == pytest.approx(3.2e10, rel=0.01)
    assert float(D) == pytest.approx(3.0e12, rel=0.01)


@pytest.mark.parametrize("p", PARAM_SETS, ids=range(len(PARAM_SETS)))
def test_closed_numeric_scipy_agree(p):
    n_c, d_c = opt.compute_optimal(p, BUDGETS)[:2]
    n_n, d_n = jax.jit(lambda c: opt.solve_compute_optimal(p, c))(jnp.asarray(BUDGETS))[:2]
    np.testing.assert_allclose(n_n, n_c, rtol=1e-9)
    np.testing.assert_allclose(d_n, d_c, rtol=1e-9)
    for c, n in zip(BUDGETS, np.asarray(n_c), strict=True):
        n_s, _ = _scipy_optimum(p, c)
        assert n_s == pytest.approx(n, rel=1e-6)


def test_every_optimum_is_an_allocation(tmp_path):
    p = CHINCHILLA_2022
    for a in (
        opt.compute_optimal(p, BUDGETS),
        opt.compute_optimal(p, BUDGETS, method="numeric"),
        jax.jit(lambda c: opt.compute_optimal(p, c))(jnp.asarray(BUDGETS)),
    ):
        assert isinstance(a, opt.Allocation) and a.N.shape == BUDGETS.shape
        np.testing.assert_allclose(a.compute, BUDGETS, rtol=1e-15)
        np.testing.assert_allclose(6.0 * a.N * a.D, BUDGETS, rtol=1e-9)
        np.testing.assert_allclose(a.loss, chinchilla(p, a.N, a.D), rtol=1e-14)
    assert np.all(np.diff(np.asarray(a.loss)) < 0)  # more compute, lower optimal loss
    a.to_json(tmp_path / "alloc.json")
    back = opt.Allocation.from_json(tmp_path / "alloc.json")
    for name in a._fields:
        np.testing.assert_array_equal(getattr(back, name), np.asarray(getattr(a, name)))
    with pytest.raises(ValueError, match=r"lacks the field\(s\) \['loss'\]"):
        opt.Allocation.from_dict({"N": 1.0, "D": 1.0, "compute": 6.0})
    from scaling_jax.presets import MUENNIGHOFF_2023
    from scaling_jax.sizing.constrained import ConstrainedOptimum, constrained_optimal

    capped = constrained_optimal(MUENNIGHOFF_2023, 1e22, 1e10)
    capped.to_json(tmp_path / "capped.json")
    back = ConstrainedOptimum.from_json(tmp_path / "capped.json")
    assert float(back.epochs) == float(capped.epochs) > 1.0


def test_general_flops_model_vs_scipy():
    # 6ND plus Kaplan's attention term, per token: 6·n_layer·n_ctx·d_model (3 × forward).
    attn = 6.0 * 80 * 2048 * 8192

    def flops(n, d):
        return (6.0 * n + attn) * d

    for c in (1e21, 1e24):
        n, d = opt.solve_compute_optimal(CHINCHILLA_2022, c, flops_fn=flops)[:2]
        n_s, d_s = _scipy_optimum(CHINCHILLA_2022, c, flops)
        assert float(n) == pytest.approx(n_s, rel=1e-6)
        assert float(d) == pytest.approx(d_s, rel=1e-6)
        assert float(flops(n, d)) == pytest.approx(c, rel=1e-12)


def test_vmap_over_budgets_and_samples():
    stack = jax.tree_util.tree_map(lambda *xs: jnp.asarray(xs), *PARAM_SETS)
    n_b, d_b = opt.compute_optimal(stack, BUDGETS, params_batch=True, method="numeric")[:2]
    assert n_b.shape == (len(PARAM_SETS), BUDGETS.size)
    n_cl = opt.compute_optimal(stack, BUDGETS, params_batch=True).N
    np.testing.assert_allclose(n_b, n_cl, rtol=1e-9)
    n_v = jax.vmap(lambda p: opt.solve_compute_optimal(p, jnp.asarray(BUDGETS)))(stack).N
    np.testing.assert_allclose(n_v, n_cl, rtol=1e-9)


def test_gradients_match_closed_form_and_finite_differences():
    p = EPOCH_2024

    def log_n(solver):
        return lambda p, log_c: jnp.log(solver(p, jnp.exp(log_c))[0])

    numeric = log_n(lambda p, c: opt.solve_compute_optimal(p, c))
    closed = log_n(lambda p, c: opt.compute_optimal(p, c))
    g_num = jax.jit(jax.grad(numeric, argnums=(0, 1)))(p, math.log(1e22))
    g_cl = jax.grad(closed, argnums=(0, 1))(p, math.log(1e22))
    for a, b in zip(jax.tree_util.tree_leaves(g_num), jax.tree_util.tree_leaves(g_cl), strict=True):
        assert float(a) == pytest.approx(float(b), rel=1e-7, abs=1e-12)
    assert float(g_num[1]) == pytest.approx(float(opt.optimal_exponents(p)[0]), rel=1e-9)
    # Central finite differences of the solver itself, in alpha.
    h = 1e-5
    fd = (
        numeric(p._replace(alpha=p.alpha + h), math.log(1e22))
        - numeric(p._replace(alpha=p.alpha - h), math.log(1e22))
    ) / (2 * h)
    assert float(g_num[0].alpha) == pytest.approx(float(fd), rel=1e-6)


def test_forward_mode_and_general_flops_gradient():
    def flops(n, d):
        return (6.0 * n + 1e9) * d

    f = lambda c: opt.solve_compute_optimal(CHINCHILLA_2022, c, flops_fn=flops)[0]  # noqa: E731
    h = 1e-4 * 1e22
    fd = (f(1e22 + h) - f(1e22 - h)) / (2 * h)
    assert float(jax.jacfwd(f)(1e22)) == pytest.approx(float(fd), rel=1e-6)
    assert float(jax.grad(f)(1e22)) == pytest.approx(float(fd), rel=1e-6)


def test_custom_law():
    def law(p, n, d):  # an irreducible-loss-free law with an interaction term
        return p["A"] / n ** p["a"] + p["B"] / d ** p["b"] + p["k"] / (n * d) ** 0.1

    p = {"A": 400.0, "B": 400.0, "a": 0.34, "b": 0.28, "k": 5.0}
    n, d = opt.compute_optimal(p, 1e22, loss_fn=law)[:2]

    def along(x):
        return float(law(p, math.exp(x), 1e22 / (6 * math.exp(x))))

    ref = minimize_scalar(
        along, bounds=(0, math.log(1e22)), method="bounded", options={"xatol": 1e-11}
    )
    assert float(n) == pytest.approx(math.exp(ref.x), rel=1e-6)


def test_calculator_roundtrips():
    p = CHINCHILLA_2022
    best = opt.allocation(p, compute=1e23)
    n, d = opt.compute_optimal(p, 1e23)[:2]
    assert float(best.N) == pytest.approx(float(n), rel=1e-12)
    # Loss-optimal is the inverse of compute-optimal.
    back = opt.allocation(p, loss=best.loss)
    assert float(back.compute) == pytest.approx(1e23, rel=1e-9)
    a = opt.allocation(p, N=7e9, compute=1e23)
    assert float(a.D) == pytest.approx(1e23 / (6 * 7e9))
    b = opt.allocation(p, N=7e9, loss=a.loss)
    assert float(b.D) == pytest.approx(float(a.D), rel=1e-9)
    c = opt.allocation(p, D=a.D, loss=a.loss)
    assert float(c.N) == pytest.approx(7e9, rel=1e-9)
    small = opt.allocation(p, compute=1e23, loss=a.loss)
    large = opt.allocation(p, compute=1e23, loss=a.loss, branch="large")
    assert float(small.N) == pytest.approx(7e9, rel=1e-8)
    assert float(large.N) > float(n) > float(small.N)
    assert float(large.loss) == pytest.approx(float(a.loss), rel=1e-10)
    assert np.isnan(float(opt.allocation(p, N=1e9, loss=1.5).D))  # below the floor E


def test_calculator_numeric_matches_closed():
    p = CHINCHILLA_2022
    law = lambda p, n, d: chinchilla(p, n, d)  # noqa: E731  (a "custom" law → numeric paths)
    for kw in (
        {"loss": 2.0},
        {"N": 1e10, "loss": 2.1},
        {"D": 1e12, "compute": 1e23},
        {"compute": 1e23, "loss": 2.3},
    ):
        closed = opt.allocation(p, **kw)
        numeric = opt.allocation(p, loss_fn=law, **kw)
        for a, b in zip(closed, numeric, strict=True):
            assert float(b) == pytest.approx(float(a), rel=1e-7), kw
    # Implicit-function gradients of the calculator's roots.
    g = jax.grad(lambda ell: opt.allocation(p, N=1e10, loss=ell, loss_fn=law).D)(2.1)
    g_cl = jax.grad(lambda ell: opt.allocation(p, N=1e10, loss=ell).D)(2.1)
    assert float(g) == pytest.approx(float(g_cl), rel=1e-7)


def test_frontiers():
    f = opt.FRONTIERS
    assert {
        "kaplan",
        "chinchilla_1",
        "chinchilla_2",
        "chinchilla_3",
        "epoch",
        "deepseek",
        "porian",
        "llama3",
    } <= set(f)
    assert [f[k].n_exp for k in ("kaplan", "chinchilla_1", "chinchilla_2")] == [0.73, 0.50, 0.49]
    assert round(f["chinchilla_3"].n_exp, 2) == 0.46  # Table 2, from the unrounded alpha, beta
    assert float(f["porian"].n_opt(1e22)) == pytest.approx(0.1189 * 1e22**0.4969)
    assert float(f["deepseek"].n_opt(1e24)) == pytest.approx(0.1715 * 1e24**0.5243)
    n, d = opt.compute_optimal(EPOCH_2024, 1e24)[:2]
    assert float(f["epoch"].n_opt(1e24)) == pytest.approx(float(n), rel=1e-10)
    assert float(f["epoch"].d_opt(1e24)) == pytest.approx(float(d), rel=1e-10)
    assert f["epoch"].n_exp == pytest.approx(0.5138, abs=5e-4)  # ≈ 0.51 (Hoffmann et al. 2022)
    for key, fr in f.items():
        assert fr.source and fr.source in fr.summary(), key  # every frontier cites its source
        if fr.size_unit == "non-embedding FLOPs/token" or key == "kaplan":
            continue  # DeepSeek: C = M·D; Kaplan: N and D are both Kaplan's own fits
        assert float(6 * fr.n_opt(1e22) * fr.d_opt(1e22)) == pytest.approx(1e22, rel=1e-9)
    assert "UNVERIFIED" in f["porian"].note


def test_published_anchors():
    """Each frontier reproduces the number its source prints, at the printed precision."""
    f = opt.FRONTIERS
    # Hoffmann et al. 2022, Fig. 4 caption: Approach 3 gives ≈40B at Gopher's 5.76e23 FLOPs.
    assert round(float(f["chinchilla_3"].n_opt(5.76e23)) / 1e9) == 40
    # Approach 1 (Table 3): 67B at 5.76e23; Approach 2 (Fig. 3 caption): 63B there.
    assert round(float(f["chinchilla_1"].n_opt(5.76e23)) / 1e9) == 67
    assert round(float(f["chinchilla_2"].n_opt(5.76e23)) / 1e9) == 63
    # Kaplan at 1e21 training FLOPs with C_min = C/2 (Hoffmann et al. App. D.4): 4.68B.
    assert float(f["kaplan"].n_opt(1e21)) == pytest.approx(4.68e9, abs=0.005e9)
    # Kaplan Table 6: D_opt = 2e10·C_min^0.27, N_opt = 1.3e9·C_min^0.73 (C_min in PF-days).
    c_min = opt.kaplan_frontier("c_min")
    for pf_days in (1.0, 1e3):
        flops = pf_days * opt.PF_DAY_FLOPS
        assert float(c_min.d_opt(flops)) == pytest.approx(2e10 * pf_days**0.27, rel=1e-12)
        assert float(c_min.n_opt(flops)) == pytest.approx(1.3e9 * pf_days**0.73, rel=1e-12)
        assert float(f["kaplan"].d_opt(2 * flops)) == pytest.approx(float(c_min.d_opt(flops)))
    assert "c_min" in c_min.note and "'training'" in f["kaplan"].note
    with pytest.raises(ValueError, match="compute_convention"):
        opt.kaplan_frontier("flops")
    # Llama 3 report: 402B on 16.55T tokens at 3.8e25 FLOPs, from D = 0.299·C^0.537 (Fig. 3).
    # The published pair is 5% off 6ND itself (6·402e9·16.55e12 = 3.99e25), so N via 6ND lands
    # 3.3% low while D is within 1.6%.
    assert float(f["llama3"].d_opt(3.8e25)) == pytest.approx(16.55e12, rel=0.03)
    assert float(f["llama3"].n_opt(3.8e25)) == pytest.approx(402e9, rel=0.035)
    assert float(f["llama3"].d_opt(1e24)) == pytest.approx(0.299 * 1e24**0.537)


def test_presets_cite_sources():
    from scaling_jax import presets

    # Epoch AI's notebook (analyzing-chinchilla, data_analysis.ipynb), as printed.
    assert tuple(presets.EPOCH_2024) == (477.84, 2143.86, 1.81724, 0.347313, 0.367183)
    assert presets.CATALOG["epoch_2024"].params is presets.EPOCH_2024
    for name, pre in presets.CATALOG.items():
        assert pre.source, name
        text = pre.summary()
        assert name in text and pre.source in text
    for name, params in presets.PRESETS.items():
        assert presets.CATALOG[name].params is params
    assert presets.preset_info("Epoch-2024") is presets.CATALOG["epoch_2024"]
    with pytest.raises(ValueError, match="unknown preset 'nope'"):
        presets.preset_info("nope")


@pytest.mark.parametrize("bad", [0.0, -1e21, float("nan"), [1e21, -5.0]])
def test_bad_compute(bad):
    with pytest.raises(ValueError, match="compute"):
        opt.compute_optimal(CHINCHILLA_2022, bad)
    with pytest.raises(ValueError, match="compute"):
        opt.solve_compute_optimal(CHINCHILLA_2022, bad)


def test_bad_calculator_inputs():
    with pytest.raises(ValueError, match="two of"):
        opt.allocation(CHINCHILLA_2022, N=1e9)
    with pytest.raises(ValueError, match="two of"):
        opt.allocation(CHINCHILLA_2022, N=1e9, D=1e9, compute=1e20)
    with pytest.raises(ValueError, match="N must"):
        opt.allocation(CHINCHILLA_2022, N=-1.0, compute=1e20)
    with pytest.raises(ValueError, match="branch"):
        opt.allocation(CHINCHILLA_2022, compute=1e20, loss=3.0, branch="middle")
    with pytest.raises(ValueError, match="method"):
        opt.compute_optimal(CHINCHILLA_2022, 1e20, method="magic")


def _cli():
    import argparse

    from scaling_jax.cli.optimal import register_cli

    parser = argparse.ArgumentParser()
    register_cli(parser.add_subparsers())
    return parser


def test_cli_optimal(tmp_path, capsys):
    import json

    out = tmp_path / "opt.json"
    args = _cli().parse_args(["optimal", "--compute", "5.76e23,1e21", "--out", str(out)])
    assert args.func(args) == 0
    blob = json.loads(out.read_text())
    assert blob["optima"][0]["N"] == pytest.approx(3.219e10, rel=1e-3)
    text = capsys.readouterr().out
    assert "D_opt (tokens)" in text and "preset chinchilla_2022" in text and "Hoffmann" in text
    args = _cli().parse_args(["optimal", "--compute", "1e22", "--law", "epoch_2024"])
    assert args.func(args) == 0
    with pytest.raises(SystemExit):
        _cli().parse_args(["optimal", "--compute", "-1e22"])
    args = _cli().parse_args(["optimal", "--compute", "1e22", "--law", "nope"])
    with pytest.raises(ValueError, match="nope"):
        args.func(args)


def test_contour_and_frontier_plots(tmp_path):
    from plot_checks import assert_readable

    from scaling_jax.plots.optimal import plot_frontier, plot_loss_contours

    assert plot_loss_contours(CHINCHILLA_2022, tmp_path / "c.png").stat().st_size > 1000
    assert plot_frontier(params=EPOCH_2024, path=tmp_path / "f.png").stat().st_size > 1000
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    assert plot_frontier(params=EPOCH_2024, frontiers=["chinchilla_1"], ax=ax) is ax
    assert_readable(ax)
    law, published = ax.lines
    C = law.get_xdata()
    np.testing.assert_allclose(law.get_ydata(), opt.compute_optimal(EPOCH_2024, C)[0])
    np.testing.assert_allclose(published.get_ydata(), opt.FRONTIERS["chinchilla_1"].n_opt(C))
    assert ax.get_xlabel() == "training compute C (FLOPs)"
    ax = Figure().subplots()
    plot_loss_contours(CHINCHILLA_2022, ax=ax)
    assert_readable(ax)
    frontier = next(line for line in ax.lines if line.get_label() == "efficient frontier")
    n, d = frontier.get_xdata(), frontier.get_ydata()
    c = 6 * n * d
    np.testing.assert_allclose(n, opt.compute_optimal(CHINCHILLA_2022, c)[0], rtol=1e-10)
    assert ax.get_xlabel() == "model size N (parameters)"
    assert ax.get_ylabel() == "training data D (tokens)"
    assert "nats/token" in ax.get_title()
    ax = Figure().subplots()
    plot_frontier(params=EPOCH_2024, data_range=(1e19, 1e22), ax=ax)
    assert ax.get_title().startswith("Compute-optimal model size")
    assert "FLOPs" in ax.get_xlabel() and "parameters" in ax.get_ylabel()
    labels = ax.get_legend_handles_labels()[1]
    assert "compute range of the data" in labels and "law (closed form)" in labels
