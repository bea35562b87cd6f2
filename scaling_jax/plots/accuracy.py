"""Plots for downstream metrics and experiment design.

- `plot_link`: a metric against loss, the runs, the fitted link and its bootstrap band.
- `plot_design`: the pilot runs and the runs `design` chose in the (N, D) plane, with isoFLOP
  lines (6·N·D = C) and the pilot law's compute-optimal frontier up to the target budget.

Every function writes to `path` and returns the `Path`, or draws into `ax` and returns it
(see `scaling_jax.plots`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from scaling_jax.data import Runs
from scaling_jax.fitting.link_fit import LinkFit
from scaling_jax.plots._figure import PathOrAxes, close_axes, open_axes
from scaling_jax.sizing.design import DesignResult
from scaling_jax.sizing.optimal import compute_optimal

__all__ = ["plot_link", "plot_design"]


def plot_link(
    fit: LinkFit,
    runs: Runs,
    metric: str,
    path: str | Path | None = None,
    *,
    level: float = 0.95,
    loss_range: tuple[float, float] | None = None,
    held_out: Runs | None = None,
    ax: Any = None,
) -> PathOrAxes:
    """`metric` against loss: the fitted runs, the link, its `level` band (with a bootstrap)
    and optionally held-out runs (drawn as open squares)."""
    fig, axes = open_axes(path, ax, figsize=(6, 4.2))
    a = axes[0, 0]
    if metric not in runs.extra:
        raise ValueError(f"runs have no column {metric!r}; they have {list(runs.extra)}")
    lo, hi = loss_range if loss_range is not None else fit.loss_range
    pad = 0.1 * (hi - lo)
    grid = np.linspace(lo - pad, hi + pad, 200)
    a.scatter(runs.loss, runs.extra[metric], s=14, color="C0", label="runs (fitted)")
    if held_out is not None:
        a.scatter(
            held_out.loss,
            held_out.extra[metric],
            s=40,
            facecolors="none",
            edgecolors="C3",
            marker="s",
            label="held out",
        )
    if fit.theta_boot is not None:
        b_lo, b_hi = fit.band(grid, metric, level)
        a.fill_between(grid, b_lo, b_hi, color="C1", alpha=0.25, label=f"{level:.0%} band")
    a.plot(grid, fit.predict(grid, metric), color="C1", lw=1.5, label=f"{fit.link} link")
    i = fit.index(metric)
    if fit.fixed[i, 0]:
        a.axhline(fit.theta[i, 0], color="0.5", lw=0.8, ls=":", label="floor (fixed)")
    a.set(
        xlabel="loss (nats/token)", ylabel=f"{metric} (score)", title=f"{metric}: {fit.link} link"
    )
    a.invert_xaxis()  # lower loss (better models) to the right
    a.legend(fontsize=7)
    return close_axes(fig, path, ax)


def plot_design(
    result: DesignResult,
    pilot: Runs,
    path: str | Path | None = None,
    *,
    show_candidates: bool = True,
    ax: Any = None,
) -> PathOrAxes:
    """Pilot runs, candidate grid and chosen runs in the (N, D) plane, with isoFLOP lines."""
    fig, axes = open_axes(path, ax, figsize=(6.4, 4.8))
    a = axes[0, 0]
    if show_candidates:
        c = result.candidates
        a.scatter(c[:, 0], c[:, 1], s=4, color="0.8", label="candidates")
    a.scatter(pilot.N, pilot.D, s=16, color="C0", label="pilot runs")
    a.scatter(result.N, result.D, s=60, marker="*", color="C3", label="chosen runs", zorder=3)
    n_all = np.concatenate([pilot.N, result.N, result.candidates[:, 0]])
    d_all = np.concatenate([pilot.D, result.D, result.candidates[:, 1]])
    n_lo, n_hi = n_all.min() / 2, n_all.max() * 2
    n_line = np.geomspace(n_lo, n_hi, 50)
    c_lo = np.floor(np.log10(6 * n_all.min() * d_all.min()))
    c_hi = np.ceil(np.log10(result.budget_for_new_runs))
    for e in np.arange(c_lo, c_hi + 1):
        label = "isoFLOP lines 6ND = C (C in FLOPs)" if e == c_lo else None
        a.plot(n_line, 10**e / (6 * n_line), color="0.6", lw=0.6, ls="--", label=label)
        a.annotate(f"1e{int(e)}", (n_line[-1], 10**e / (6 * n_line[-1])), fontsize=6, color="0.4")
    budgets = np.geomspace(10**c_lo, result.target_budget, 60)
    frontier = compute_optimal(result.params, budgets)
    n_opt, d_opt = np.asarray(frontier.N), np.asarray(frontier.D)
    a.plot(n_opt, d_opt, color="C2", lw=1.2, label="pilot law's N_opt(C), D_opt(C)")
    a.scatter(
        [result.n_opt],
        [result.target_budget / (6 * result.n_opt)],
        color="C2",
        marker="D",
        s=30,
        label=f"target C = {result.target_budget:.0e} FLOPs",
    )
    a.set(
        xscale="log",
        yscale="log",
        xlabel="model size N (parameters)",
        ylabel="training data D (tokens)",
        title=(
            f"next {len(result.N)} runs: N_opt interval x/÷ "
            f"{result.interval_factor(pilot=True):.2f} -> {result.interval_factor():.2f}"
        ),
    )
    a.legend(fontsize=7)
    return close_axes(fig, path, ax)
