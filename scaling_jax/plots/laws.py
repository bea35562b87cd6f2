"""Diagnostic plots for law fits and extrapolation checks.

- `plot_predicted_vs_observed`: each law's predicted vs observed loss, train and held-out.
- `plot_residuals`: log residuals against N and against D for one law.
- `plot_loss_vs_epochs`: data-constrained loss against epochs at fixed unique data.

Every function writes to `path` and returns the `Path`, or draws into `ax` and returns it
(see `scaling_jax.plots`).
"""

from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np

from scaling_jax._aot import recipe_for, stored_jit
from scaling_jax._precision import float64_call
from scaling_jax.data import Runs
from scaling_jax.fitting.extrapolation import ExtrapolationTable
from scaling_jax.laws import DataConstrainedParams, Law, data_constrained, get_law
from scaling_jax.plots._figure import PathOrAxes, close_axes, open_axes

__all__ = ["plot_fit", "plot_predicted_vs_observed", "plot_residuals", "plot_loss_vs_epochs"]


@float64_call
def _log_loss(theta: np.ndarray, feats: dict[str, np.ndarray], *, law: Law) -> np.ndarray:
    """``law.log_loss(theta, feats)`` in float64 as one compiled program per law and shape
    (called eagerly, the law's ops would each compile a program of their own)."""
    return np.asarray(_log_loss_program(law)(theta, feats))


@functools.lru_cache(maxsize=32)
def _log_loss_program(law: Law) -> Any:
    """``law.log_loss`` jitted once per law; a registry law's executables are stored
    (`scaling_jax._aot`), so a new process loads them instead of tracing."""
    return stored_jit(law.log_loss, recipe_for("plot_log_loss", law.log_loss))


def plot_fit(
    law: Any, theta: Any, runs: Runs, path: str | os.PathLike[str] | None = None, *, ax: Any = None
) -> PathOrAxes:
    """A fit against its data, two panels: loss against N (one colour per decade of D, with
    the law drawn at each decade's typical D), and fitted against observed loss (nats/token).
    `ax`, if given, is a pair of Axes."""
    import matplotlib  # noqa: PLC0415

    law = get_law(law)
    theta = np.asarray(theta, dtype=float)
    feats = {k: np.asarray(v, float) for k, v in runs.features(law.feature_names).items()}
    pred = np.exp(_log_loss(theta, feats, law=law))
    fig, axes = open_axes(path, ax, (1, 2), figsize=(11, 4.3))
    a, a2 = axes[0]
    decades = np.floor(np.log10(runs.D)).astype(int)
    levels = np.unique(decades)
    colors = matplotlib.colormaps["viridis"](np.linspace(0, 0.9, levels.size))
    for color, dec in zip(colors, levels, strict=True):
        sel = decades == dec
        label = f"D in 1e{dec}..1e{dec + 1} tokens"
        a.scatter(runs.N[sel], runs.loss[sel], s=10, color=color, label=label)
        if set(law.feature_names) == {"N", "D"}:
            n = np.geomspace(runs.N.min(), runs.N.max(), 100)
            d = np.full_like(n, float(np.exp(np.mean(np.log(runs.D[sel])))))
            a.plot(n, np.exp(_log_loss(theta, {"N": n, "D": d}, law=law)), color=color, lw=1)
    a.set(
        xscale="log",
        xlabel="model size N (parameters)",
        ylabel="final loss (nats/token)",
        title=f"{law.name} law fitted to {len(runs)} runs (lines: the law at each D)",
    )
    a.legend(fontsize=7)
    a2.scatter(runs.loss, pred, s=10, label="runs")
    lo, hi = min(runs.loss.min(), pred.min()), max(runs.loss.max(), pred.max())
    a2.plot([lo, hi], [lo, hi], "k--", lw=0.8, label="perfect fit")
    rmse = float(np.sqrt(np.mean((np.log(pred) - np.log(runs.loss)) ** 2)))
    a2.set(
        xlabel="observed loss (nats/token)",
        ylabel="fitted loss (nats/token)",
        title=f"fitted vs observed: RMSE of log-loss {rmse:.3g}",
    )
    a2.legend(fontsize=8)
    return close_axes(fig, path, ax, dpi=110)


def plot_predicted_vs_observed(
    table: ExtrapolationTable,
    runs: Runs,
    path: str | os.PathLike[str] | None = None,
    *,
    ax: Any = None,
) -> PathOrAxes:
    """Predicted vs observed loss (nats/token) per law; circles train, crosses held-out.

    One panel per law in `table`; `ax`, if given, holds that many Axes.
    """
    rows = table.rows
    fig, axes = open_axes(path, ax, (1, len(rows)), figsize=(4.2 * len(rows), 4))
    train = runs.subset(~table.test_mask)
    for a, row in zip(axes[0], rows, strict=True):
        if row.train_predicted is not None:
            a.scatter(train.loss, row.train_predicted, s=12, label="train")
        a.scatter(row.observed, row.predicted, marker="x", color="C3", label="held-out")
        if row.lower is not None:
            a.errorbar(
                row.observed,
                row.predicted,
                yerr=[row.predicted - row.lower, row.upper - row.predicted],
                fmt="none",
                ecolor="C3",
                alpha=0.4,
            )
        lo = min(runs.loss.min(), row.predicted.min())
        hi = max(runs.loss.max(), row.predicted.max())
        a.plot([lo, hi], [lo, hi], "k--", lw=0.8, label="perfect prediction")
        a.set(
            xscale="log",
            yscale="log",
            xlabel="observed loss (nats/token)",
            ylabel="predicted loss (nats/token)",
            title=f"{row.law}: RMSE(log) {row.rmse_log:.3g}",
        )
        a.legend(fontsize=8)
    return close_axes(fig, path, ax)


def plot_residuals(
    law: Any,
    theta: Any,
    runs: Runs,
    path: str | os.PathLike[str] | None = None,
    *,
    ax: Any = None,
) -> PathOrAxes:
    """log(pred) - log(obs) against N (parameters) and D (tokens) for one law at `theta`
    (fit coordinates). Two panels; `ax`, if given, is a pair of Axes."""
    law = get_law(law)
    feats = {k: np.asarray(v, float) for k, v in runs.features(law.feature_names).items()}
    resid = _log_loss(np.asarray(theta, float), feats, law=law) - runs.log_loss
    fig, axes = open_axes(path, ax, (1, 2), figsize=(9, 3.6), sharey=True)
    panels = (
        (axes[0, 0], runs.N, "model size N (parameters)"),
        (axes[0, 1], runs.D, "training data D (tokens)"),
    )
    for a, x, label in panels:
        a.scatter(x, resid, s=10, label="runs")
        a.axhline(0.0, color="k", lw=0.8, label="perfect fit")
        a.set(xscale="log", xlabel=label, title=f"{law.name} residuals")
    axes[0, 0].set_ylabel("ln(predicted / observed loss) (dimensionless)")
    axes[0, 0].legend(fontsize=8)
    return close_axes(fig, path, ax)


def plot_loss_vs_epochs(
    params: DataConstrainedParams,
    N: float,
    unique_tokens: float,
    path: str | os.PathLike[str] | None = None,
    max_epochs: float = 100.0,
    *,
    ax: Any = None,
) -> PathOrAxes:
    """Data-constrained loss of an N-parameter model against epochs over `unique_tokens`,
    with the loss if every token were fresh (Chinchilla base) for comparison."""
    from scaling_jax.laws import chinchilla

    epochs = np.geomspace(1.0, max_epochs, 200)
    D = epochs * unique_tokens
    repeated = np.asarray(data_constrained(params, N, D, np.full_like(D, unique_tokens)))
    fresh = np.asarray(chinchilla(params.base, N, D))
    fig, axes = open_axes(path, ax, figsize=(5.5, 4))
    a = axes[0, 0]
    a.plot(epochs, repeated, label="repeated data")
    a.plot(epochs, fresh, "--", label="fresh data")
    a.set(
        xscale="log",
        xlabel="epochs over the unique data (passes)",
        ylabel="loss (nats/token)",
        title=f"N = {N:.3g} parameters, {unique_tokens:.3g} unique tokens",
    )
    a.legend()
    return close_axes(fig, path, ax)
