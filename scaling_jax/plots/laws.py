"""Diagnostic plots for law fits and extrapolation checks (matplotlib Agg, saved to files).

- `plot_predicted_vs_observed`: each law's predicted vs observed loss, train and held-out.
- `plot_residuals`: log residuals against N and against D for one law.
- `plot_loss_vs_epochs`: data-constrained loss against epochs at fixed unique data.
"""

from __future__ import annotations

import os
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from scaling_jax.data import Runs  # noqa: E402
from scaling_jax.fitting.extrapolation import ExtrapolationTable  # noqa: E402
from scaling_jax.laws import DataConstrainedParams, data_constrained, get_law  # noqa: E402

__all__ = ["plot_predicted_vs_observed", "plot_residuals", "plot_loss_vs_epochs"]


def plot_predicted_vs_observed(
    table: ExtrapolationTable, runs: Runs, path: str | os.PathLike[str]
) -> str:
    """Predicted vs observed loss (nats/token) per law; circles train, crosses held-out."""
    rows = table.rows
    fig, axes = plt.subplots(1, len(rows), figsize=(4.2 * len(rows), 4), squeeze=False)
    train = runs.subset(~table.test_mask)
    for ax, row in zip(axes[0], rows, strict=True):
        if row.train_predicted is not None:
            ax.scatter(train.loss, row.train_predicted, s=12, label="train")
        ax.scatter(row.observed, row.predicted, marker="x", color="C3", label="held-out")
        if row.lower is not None:
            ax.errorbar(
                row.observed,
                row.predicted,
                yerr=[row.predicted - row.lower, row.upper - row.predicted],
                fmt="none",
                ecolor="C3",
                alpha=0.4,
            )
        lo = min(runs.loss.min(), row.predicted.min())
        hi = max(runs.loss.max(), row.predicted.max())
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="observed loss",
            ylabel="predicted loss",
            title=f"{row.law}: RMSE(log) {row.rmse_log:.3g}",
        )
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return str(path)


def plot_residuals(law: Any, theta: Any, runs: Runs, path: str | os.PathLike[str]) -> str:
    """log(pred) - log(obs) against N (parameters) and D (tokens) for one law at `theta`."""
    import jax.numpy as jnp

    law = get_law(law)
    feats = {k: jnp.asarray(v) for k, v in runs.features(law.feature_names).items()}
    resid = np.asarray(law.log_loss(jnp.asarray(theta), feats)) - runs.log_loss
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
    for ax, x, label in ((axes[0], runs.N, "N (parameters)"), (axes[1], runs.D, "D (tokens)")):
        ax.scatter(x, resid, s=10)
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set(xscale="log", xlabel=label)
    axes[0].set_ylabel("log residual (pred - obs)")
    fig.suptitle(f"{law.name} residuals")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return str(path)


def plot_loss_vs_epochs(
    params: DataConstrainedParams,
    N: float,
    unique_tokens: float,
    path: str | os.PathLike[str],
    max_epochs: float = 100.0,
) -> str:
    """Data-constrained loss of an N-parameter model against epochs over `unique_tokens`,
    with the loss if every token were fresh (Chinchilla base) for comparison."""
    from scaling_jax.laws import chinchilla

    epochs = np.geomspace(1.0, max_epochs, 200)
    D = epochs * unique_tokens
    repeated = np.asarray(data_constrained(params, N, D, np.full_like(D, unique_tokens)))
    fresh = np.asarray(chinchilla(params.base, N, D))
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot(epochs, repeated, label="repeated data")
    ax.plot(epochs, fresh, "--", label="fresh data")
    ax.set(
        xscale="log",
        xlabel="epochs",
        ylabel="loss (nats/token)",
        title=f"N = {N:.3g}, unique tokens = {unique_tokens:.3g}",
    )
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return str(path)
