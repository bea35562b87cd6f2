"""Chinchilla approaches 1 and 2 recover the exponents of a known law."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scaling_jax.presets import CHINCHILLA_2022, EPOCH_2024
from scaling_jax.sizing import isoflop as iso
from scaling_jax.sizing.optimal import compute_optimal, optimal_exponents
from scaling_jax.synthetic import synthetic_isoflop_runs, synthetic_training_curves

BUDGETS = np.geomspace(6e18, 3e21, 8)


@pytest.mark.parametrize("p", [CHINCHILLA_2022, EPOCH_2024], ids=["chinchilla", "epoch"])
def test_approach2_recovers_exponents(p):
    a, b = (float(v) for v in optimal_exponents(p))
    res = iso.isoflop_fit(synthetic_isoflop_runs(p, BUDGETS, per_budget=9))
    assert res.n_fit.exponent == pytest.approx(a, abs=1e-6)
    assert res.d_fit.exponent == pytest.approx(b, abs=1e-6)
    # The parabola in log N is only an approximation: the vertex is biased by a constant factor.
    np.testing.assert_allclose(res.n_opt, compute_optimal(p, res.compute).N, rtol=0.03)
    noisy = iso.isoflop_fit(synthetic_isoflop_runs(p, BUDGETS, per_budget=9, noise=0.003, seed=3))
    assert abs(noisy.n_fit.exponent - a) < 4 * noisy.n_fit.exponent_stderr + 0.01
    assert np.all(np.isfinite(noisy.log_n_opt_stderr) & (noisy.log_n_opt_stderr > 0))


def test_delta_method_stderr_is_calibrated():
    """Spread of vertices over noise seeds ≈ the delta-method standard error."""
    clean = synthetic_isoflop_runs(CHINCHILLA_2022, [1e20], per_budget=15)
    rng = np.random.default_rng(0)
    draws, ses = [], []
    for _ in range(40):
        runs = dict(clean, loss=clean["loss"] + 0.01 * rng.standard_normal(15))
        n_opt, se = _one_budget(runs)
        draws.append(np.log(n_opt))
        ses.append(se)
    ratio = np.std(draws) / np.mean(ses)
    assert 0.6 < ratio < 1.5


def _one_budget(runs):
    # Two identical budgets so the frontier fit has ≥ 2 points; the vertex is that of budget 0.
    cols = {k: np.concatenate([v, v * (1e3 if k == "compute" else 1)]) for k, v in runs.items()}
    r = iso.isoflop_fit(N=cols["N"], loss=cols["loss"], compute=cols["compute"])
    return r.n_opt[0], r.log_n_opt_stderr[0]


def test_inputs_csv_dataframe_and_d_column(tmp_path):
    runs = synthetic_isoflop_runs(CHINCHILLA_2022, BUDGETS[:4], per_budget=7, noise=0.002, seed=1)
    ref = iso.isoflop_fit(runs)
    path = tmp_path / "runs.csv"
    cols = ["params", "tokens", "flops", "loss"]
    rows = np.stack([runs["N"], runs["D"], runs["compute"], runs["loss"]], axis=1)
    path.write_text(
        ",".join(cols) + "\n" + "\n".join(",".join(repr(float(x)) for x in r) for r in rows)
    )
    from_csv = iso.isoflop_fit(path, n_col="params", compute_col="flops")
    assert from_csv.n_fit.exponent == pytest.approx(ref.n_fit.exponent, rel=1e-12)
    # No compute column: C = 6ND from the D column; a D column gives D_opt by interpolation.
    from_d = iso.isoflop_fit(path, n_col="params", compute_col=None, d_col="tokens")
    np.testing.assert_allclose(from_d.n_opt, ref.n_opt, rtol=1e-9)
    np.testing.assert_allclose(from_d.d_opt, ref.d_opt, rtol=1e-9)
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(runs)
    assert iso.isoflop_fit(df).n_fit.exponent == pytest.approx(ref.n_fit.exponent, rel=1e-12)
    out = tmp_path / "res.json"
    ref.to_json(out)
    blob = json.loads(out.read_text())
    assert blob["approach"] == 2 and len(blob["n_opt"]) == 4
    back = iso.IsoFlopResult.from_json(out)
    for name in ("compute", "n_opt", "log_n_opt_stderr", "d_opt", "loss_opt", "coefs", "center"):
        np.testing.assert_array_equal(getattr(back, name), getattr(ref, name))
    assert back.n_fit == ref.n_fit and back.d_fit == ref.d_fit
    np.testing.assert_array_equal(back.points["group"], ref.points["group"])
    with pytest.raises(ValueError, match="approach-2 result"):
        iso.EnvelopeResult.from_json(out)
    assert "N_opt" in ref.summary()


def test_approach1_envelope_recovers_exponents(tmp_path):
    p = CHINCHILLA_2022
    a, _ = (float(v) for v in optimal_exponents(p))
    curves = synthetic_training_curves(p, np.geomspace(1e7, 3e10, 60), 1e23, points=200)
    res = iso.envelope_fit(curves, run_col="run")
    assert res.n_fit.exponent == pytest.approx(a, abs=0.01)
    assert res.n_fit.exponent + res.d_fit.exponent == pytest.approx(1.0, abs=1e-9)
    # The envelope is the best discrete size: within one size step of the continuous optimum.
    n_star = np.asarray(compute_optimal(p, res.compute[res.used]).N)
    step = (3e10 / 1e7) ** (1 / 59)
    assert np.all(np.abs(np.log(res.n_opt[res.used] / n_star)) < np.log(step) + 0.05)
    assert json.loads(json.dumps(res.to_dict()))["approach"] == 1
    res.to_json(tmp_path / "env.json")
    back = iso.EnvelopeResult.from_json(tmp_path / "env.json")
    np.testing.assert_array_equal(back.used, res.used)
    np.testing.assert_array_equal(back.n_opt, res.n_opt)
    assert back.used.dtype == bool and back.n_fit == res.n_fit


def test_bad_inputs():
    runs = synthetic_isoflop_runs(CHINCHILLA_2022, BUDGETS[:3], per_budget=5)
    with pytest.raises(ValueError, match="loss"):
        iso.isoflop_fit(N=runs["N"], loss=-runs["loss"], compute=runs["compute"])
    with pytest.raises(ValueError, match="compute"):
        iso.isoflop_fit(
            N=runs["N"], loss=runs["loss"], compute=runs["compute"] * np.r_[-1, np.ones(14)]
        )
    with pytest.raises(ValueError, match="needs 3"):
        iso.isoflop_fit(N=runs["N"][:7], loss=runs["loss"][:7], compute=runs["compute"][:7])
    with pytest.raises(ValueError, match="N: column 'params'"):
        iso.isoflop_fit(runs, n_col="params")
    with pytest.raises(ValueError, match="downward"):
        iso.isoflop_fit(N=runs["N"], loss=-np.log(runs["loss"]) + 5, compute=runs["compute"])
    with pytest.raises(ValueError, match="does not exist"):
        iso.isoflop_fit("/nonexistent/runs.csv")


def test_cli_isoflop_and_plots(tmp_path, capsys):
    import argparse

    from scaling_jax.cli.isoflop import register_cli
    from scaling_jax.plots.optimal import plot_frontier

    runs = synthetic_isoflop_runs(CHINCHILLA_2022, BUDGETS[:4], per_budget=5, noise=0.002)
    path = tmp_path / "runs.csv"
    rows = np.stack([runs["N"], runs["D"], runs["loss"]], axis=1)
    path.write_text("n,d,loss\n" + "\n".join(",".join(repr(float(x)) for x in r) for r in rows))
    parser = argparse.ArgumentParser()
    register_cli(parser.add_subparsers())
    out, png = tmp_path / "iso.json", tmp_path / "iso.png"
    args = parser.parse_args(
        [
            "isoflop",
            str(path),
            "--n-col",
            "n",
            "--d-col",
            "d",
            "--out",
            str(out),
            "--plot",
            str(png),
        ]
    )
    assert args.func(args) == 0
    assert "N_opt" in capsys.readouterr().out
    assert json.loads(out.read_text())["approach"] == 2 and png.stat().st_size > 0
    res = iso.isoflop_fit(path, n_col="n", d_col="d")
    f = plot_frontier([res], tmp_path / "f.png", params=CHINCHILLA_2022, frontiers=["kaplan"])
    assert f == tmp_path / "f.png" and f.is_file()
    from matplotlib.figure import Figure
    from plot_checks import assert_readable

    ax = Figure().subplots()
    plot_frontier([res], params=CHINCHILLA_2022, frontiers=["kaplan"], ax=ax)
    assert_readable(ax)
    measured = ax.collections[-1].get_offsets()  # the measured optima, one per budget
    np.testing.assert_allclose(measured[:, 1], res.n_opt)
    with pytest.warns(DeprecationWarning, match="plot_frontier"):  # the old argument order
        assert plot_frontier(tmp_path / "g.png", [res], CHINCHILLA_2022, ["kaplan"]).is_file()
    args = parser.parse_args(["isoflop", str(path), "--n-col", "params"])
    with pytest.raises(ValueError, match="params"):
        args.func(args)

    # Approach 1 from training curves in a CSV: the exponent a = beta / (alpha + beta).
    curves = synthetic_training_curves(
        CHINCHILLA_2022, np.geomspace(1e7, 3e10, 40), 1e23, points=120
    )
    cpath = tmp_path / "curves.csv"
    table = np.stack([curves["N"], curves["flops"], curves["loss"], curves["run"]], axis=1)
    cpath.write_text(
        "N,flops,loss,run\n" + "\n".join(",".join(repr(float(x)) for x in r) for r in table)
    )
    out1 = tmp_path / "env.json"
    args = parser.parse_args(
        [
            "isoflop",
            str(cpath),
            "--curves",
            "--compute-col",
            "flops",
            "--run-col",
            "run",
            "--out",
            str(out1),
        ]
    )
    assert args.func(args) == 0
    blob = json.loads(out1.read_text())
    assert blob["approach"] == 1
    a_true = 0.28 / (0.34 + 0.28)
    assert (
        abs(iso.envelope_fit(cpath, flops_col="flops", run_col="run").n_fit.exponent - a_true)
        < 0.02
    )


def test_notebook_executes():
    from pathlib import Path

    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    path = Path(__file__).resolve().parents[1] / "notebooks" / "kaplan_vs_chinchilla.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    text = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    # The exponents the notebook recovers: approaches 1 and 2 close to the closed form of the
    # law that generated the runs.
    a_true = float(optimal_exponents(EPOCH_2024)[0])
    assert f"true exponents: N_opt ∝ C^{a_true:.4f}" in text
    found = {
        line.split(" a = ")[0].strip(): float(line.split(" a = ")[1].split()[0])
        for line in text.splitlines()
        if " a = " in line and line.startswith(("approach", "closed"))
    }
    assert found["closed form of the true law"] == pytest.approx(a_true, abs=5e-4)
    assert found["approach 2 (ours)"] == pytest.approx(a_true, abs=0.01)
    assert found["approach 1 (ours)"] == pytest.approx(a_true, abs=0.02)


def test_binning_messy_budgets_drops_and_cubic():
    """Runs jittered off their budgets (as real runs are): exact grouping fails, binning to the
    budgets recovers the exponent; a budget with too few runs is dropped and reported."""
    p = CHINCHILLA_2022
    a, _ = (float(v) for v in optimal_exponents(p))
    runs = synthetic_isoflop_runs(p, BUDGETS, per_budget=9)
    jitter = np.exp(np.random.default_rng(0).uniform(-0.15, 0.15, runs["compute"].size))
    messy = {k: v.copy() for k, v in runs.items()}
    messy["compute"] = runs["compute"] * jitter
    messy["D"] = messy["compute"] / (6 * messy["N"])
    with pytest.raises(ValueError, match="needs 3"):
        iso.isoflop_fit(messy)
    # A tenth budget holding two runs: dropped (and listed), not fatal.
    lone = {k: np.concatenate([v, v[:2]]) for k, v in messy.items()}
    lone["compute"][-2:] = 1e23
    budgets = [*BUDGETS, 1e23]
    with pytest.raises(ValueError, match="1e\\+23 FLOPs has 2 runs"):
        iso.isoflop_fit(lone, budgets=budgets)
    res = iso.isoflop_fit(lone, budgets=budgets, drop_small=True)
    assert res.dropped == [{"compute": 1e23, "runs": 2, "reason": "too few runs"}]
    assert res.compute.size == BUDGETS.size and list(res.n_runs) == [9] * BUDGETS.size
    assert res.n_fit.exponent == pytest.approx(a, abs=0.01)
    # A tolerance leaves out runs too far from every budget.
    tight = iso.isoflop_fit(lone, budgets=budgets, drop_small=True, tolerance=1.1)
    assert tight.n_runs_unbinned > 0 and tight.points["N"].size < res.points["N"].size
    # Inferred log-spaced budgets (an int) and cubic profiles recover the exponent too.
    inferred = iso.isoflop_fit(messy, budgets=BUDGETS.size)
    assert inferred.n_fit.exponent == pytest.approx(a, abs=0.01)
    cubic = iso.isoflop_fit(messy, budgets=BUDGETS, degree=3)
    assert cubic.degree == 3 and cubic.coefs.shape == (BUDGETS.size, 4)
    assert cubic.n_fit.exponent == pytest.approx(a, abs=0.01)
    # The cubic's vertex is closer to the law's optimum than the parabola's (the profile is
    # asymmetric in log N).
    exact = np.asarray(compute_optimal(p, cubic.compute).N)
    err = lambda r: np.max(np.abs(np.log(r.n_opt / exact)))  # noqa: E731
    assert err(cubic) < err(res)
    for bad, match in [
        (dict(degree=4), "degree"),
        (dict(rtol=-1.0), "rtol"),
        (dict(budgets=BUDGETS, tolerance=0.5), "tolerance"),
        (dict(min_runs=2), "min_runs"),
    ]:
        with pytest.raises(ValueError, match=match):
            iso.isoflop_fit(messy, **bad)


def test_approach2_on_epoch_points_binned_to_the_paper_budgets():
    """Hoffmann et al. 2022, Approach 2 (Fig. 3, Table 2): a = 0.49 from IsoFLOP profiles at
    6e18..3e21 FLOPs. Epoch's 245 points, binned to those nine budgets, give a = 0.50 ± 0.01."""
    from conftest import shared_data_file

    from scaling_jax.cli.isoflop import PAPER_BUDGETS

    path = shared_data_file("chinchilla_epoch_extracted.csv")
    res = iso.isoflop_fit(
        path, n_col="Model Size", compute_col="Training FLOP", budgets=PAPER_BUDGETS
    )
    assert res.compute.size == 9 and res.n_runs.sum() == 245 and not res.dropped
    a, se = res.n_fit.exponent, res.n_fit.exponent_stderr
    assert abs(a - 0.49) < 2 * se + 0.005 and se < 0.02
    # The paper's 63B at Gopher's budget (5.76e23): the binned profiles give ~72B.
    assert float(res.n_fit(5.76e23)) == pytest.approx(63e9, rel=0.2)


def test_isoflop_plot_labels(tmp_path):
    from plot_checks import assert_readable

    from scaling_jax.plots.optimal import plot_isoflop

    res = iso.isoflop_fit(synthetic_isoflop_runs(CHINCHILLA_2022, BUDGETS[:3], per_budget=5))
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    assert plot_isoflop(res, ax=ax) is ax
    assert_readable(ax)
    assert (
        ax.get_xlabel() == "model size N (parameters)"
        and ax.get_ylabel() == "final loss (nats/token)"
    )
    assert "IsoFLOP profiles" in ax.get_title()
    labels = ax.get_legend_handles_labels()[1]
    assert all(label.endswith(" FLOPs") for label in labels[:3])  # budgets carry their unit
    assert any(label.startswith("× minimum") for label in labels)  # the markers are explained
