"""Leave-out extrapolation checks comparing laws fitted to the same runs."""

from __future__ import annotations

import json

import jax.numpy as jnp
import numpy as np
import pytest

import scaling_jax as sj
from scaling_jax import laws, presets
from scaling_jax.fitting import extrapolation as ex


@pytest.fixture(scope="module")
def runs():
    return sj.synthetic_runs(presets.CHINCHILLA_2022, n_runs=60, noise=0.01, seed=1)


@pytest.fixture(scope="module")
def table(runs):
    return ex.compare_laws(
        runs,
        ["chinchilla", "kaplan"],
        holdout_above=1e21,
        fit_kwargs={"starts": 16, "seed": 0, "polish_starts": 0},
        n_resamples=16,
    )


def test_table_scores_laws_on_held_out_runs(runs, table, tmp_path):
    mask = ex.holdout_mask(runs, 1e21)
    assert table.test_mask.tolist() == mask.tolist() and 0 < mask.sum() < len(runs)
    chin, kap = table["chinchilla"], table["kaplan"]
    assert table.best == "chinchilla"  # the data follow the Chinchilla law
    assert chin.rmse_log < 0.03 and abs(chin.bias) < 0.02
    # The metrics follow their definitions.
    r = np.log(chin.predicted) - np.log(chin.observed)
    assert chin.rmse_log == pytest.approx(np.sqrt(np.mean(r**2)), rel=1e-12)
    assert chin.max_abs_rel_err == pytest.approx(np.max(np.abs(np.expm1(r))), rel=1e-12)
    assert kap.n_test == chin.n_test == int(mask.sum())
    assert np.all(chin.lower <= chin.upper) and 0.0 <= chin.coverage <= 1.0
    assert table.interval_method == "residual_bootstrap"
    text = table.summary()
    assert "chinchilla" in text and "kaplan" in text
    path = tmp_path / "ex.json"
    table.to_json(path)
    blob = json.loads(path.read_text())
    assert blob["best"] == "chinchilla" and len(blob["laws"]) == 2
    back = ex.ExtrapolationTable.from_json(path)
    assert back.best == table.best and back.summary() == table.summary()
    np.testing.assert_array_equal(back.test_mask, table.test_mask)
    np.testing.assert_array_equal(back["kaplan"].upper, kap.upper)


def test_split_errors(runs):
    with pytest.raises(ValueError, match="nothing to hold out"):
        ex.compare_laws(runs, ["chinchilla"], holdout_above=1e40)
    with pytest.raises(ValueError, match="nothing left to fit"):
        ex.compare_laws(runs, ["chinchilla"], holdout_above=1.0)
    with pytest.raises(ValueError, match="by="):
        ex.holdout_mask(runs, 1e21, by="D")
    assert ex.holdout_mask(runs, 1e9, by="N").sum() == int((runs.N > 1e9).sum())


def test_fit_law_rejects_a_nan_law_before_fitting(runs):
    bad = laws.custom_law(
        "bad",
        lambda p, f: jnp.sqrt(-p["a"] * f["N"]),
        ("a",),
        positive=("a",),
        init_grid={"a": [1.0, 2.0]},
    )
    with pytest.raises(ValueError, match="non-finite log-loss at every one of 2 starts"):
        ex.fit_law(runs, bad)


def test_plots_and_cli(runs, table, tmp_path):
    from scaling_jax.cli import extrapolate as laws_cli
    from scaling_jax.plots import laws as laws_plots

    out = [
        laws_plots.plot_predicted_vs_observed(table, runs, tmp_path / "pvo.png"),
        laws_plots.plot_residuals(
            "chinchilla", table["chinchilla"].fit.theta, runs, tmp_path / "res.png"
        ),
        laws_plots.plot_loss_vs_epochs(presets.MUENNIGHOFF_2023, 1e9, 1e10, tmp_path / "ep.png"),
    ]
    assert all(p.stat().st_size > 1000 for p in out)
    # Drawn into the caller's Axes: the held-out crosses are the table's numbers.
    from matplotlib.figure import Figure
    from plot_checks import assert_readable

    axes = Figure().subplots(1, len(table.rows))
    assert laws_plots.plot_predicted_vs_observed(table, runs, ax=axes) is axes
    assert_readable(axes)
    row = table.rows[0]
    held_out = next(c for c in axes[0].collections if c.get_label() == "held-out").get_offsets()
    np.testing.assert_allclose(held_out, np.stack([row.observed, row.predicted], axis=1))
    assert axes[0].get_xlabel() == "observed loss (nats/token)" and row.law in axes[0].get_title()
    pair = Figure().subplots(1, 2)
    laws_plots.plot_residuals("chinchilla", table["chinchilla"].fit.theta, runs, ax=pair)
    assert_readable(pair)
    np.testing.assert_allclose(pair[0].collections[0].get_offsets()[:, 0], runs.N)
    assert pair[1].get_xlabel() == "training data D (tokens)"
    ax = Figure().subplots()
    laws_plots.plot_loss_vs_epochs(presets.MUENNIGHOFF_2023, 1e9, 1e10, ax=ax)
    assert_readable(ax)
    pair = Figure().subplots(1, 2)
    assert laws_plots.plot_fit("chinchilla", table["chinchilla"].fit.theta, runs, ax=pair) is pair
    assert_readable(pair)
    fitted = pair[1].collections[0].get_offsets()  # fitted against observed, one point per run
    np.testing.assert_allclose(fitted[:, 0], runs.loss)
    repeated, fresh = (line.get_ydata() for line in ax.lines)
    assert np.all(repeated >= fresh - 1e-12)  # repeating data never beats fresh data
    assert ax.get_ylabel() == "loss (nats/token)"
    assert laws_cli.resolve_law_spec("data-constrained-frozen") is laws.DATA_CONSTRAINED_FROZEN
    assert laws_cli.resolve_law_spec("Kaplan").name == "kaplan"
    assert laws_cli.resolve_law_spec("scaling_jax.laws:data_constrained_law").name == (
        "data_constrained"
    )
    with pytest.raises(ValueError, match="unknown law"):
        laws_cli.resolve_law_spec("nope")
    with pytest.raises(ValueError, match="cannot load"):
        laws_cli.resolve_law_spec("scaling_jax.laws:nope")
