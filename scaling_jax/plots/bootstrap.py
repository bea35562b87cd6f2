"""Plots of a bootstrap.

`plot_corner`: histograms of each natural parameter on the diagonal and pairwise scatter
below it. `plot_bootstrap_frontier`: compute-optimal N_opt(C) and D_opt(C) (Hoffmann et al.
2022, closed form for C = 6ND) with the bootstrap's pointwise percentile band.

Every function writes to `path` and returns the `Path`, or draws into `ax` and returns it
(see `scaling_jax.plots`). `corner_plot` and `frontier_plot` are the deprecated old names.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np

from scaling_jax.fitting.resampling import BootstrapResult
from scaling_jax.plots._figure import (
    PathOrAxes,
    close_axes,
    label_log_ticks,
    open_axes,
    param_label,
)

__all__ = ["plot_corner", "plot_bootstrap_frontier", "corner_plot", "frontier_plot"]


def _law_name(result: BootstrapResult) -> str:
    return str(getattr(result.law, "name", result.law))


def _amplitude(values: np.ndarray) -> bool:
    """Whether a parameter spans orders of magnitude (then a log axis keeps it readable)."""
    v = values[np.isfinite(values)]
    return bool(v.size and np.all(v > 0) and v.max() / v.min() > 20)


def plot_corner(
    result: BootstrapResult,
    path: str | os.PathLike[str] | None = None,
    *,
    truth: Any = None,
    ax: Any = None,
) -> PathOrAxes:
    """Corner plot of the per-resample natural parameters (k×k panels for k parameters).

    Diagonal: histograms (y: resamples); below: pairwise scatter. Axes carry each parameter's
    units (E in nats/token, exponents dimensionless; see `param_label`). Parameters spanning more
    than a factor 20 across resamples (typically the amplitudes A, B, whose resamples reach
    1e5 on small data) get log axes, so one outlier does not squash the panel. The full-data
    fit is black; `truth` (a params tuple, e.g. for synthetic data) red. `ax`, if given, is a
    k×k array of Axes.
    """
    names = result.natural_names
    table = np.stack([np.asarray(v, dtype=float) for v in result.params], axis=-1)
    hat = [float(v) for v in result.params_hat]
    true = None if truth is None else [float(v) for v in truth]
    logs = [_amplitude(table[:, i]) for i in range(len(names))]
    k = len(names)
    fig, axes = open_axes(path, ax, (k, k), figsize=(2.3 * k, 2.3 * k))
    for i in range(k):
        for j in range(k):
            a = axes[i, j]
            if j > i:
                a.set_visible(False)
                continue
            if logs[j]:
                a.set_xscale("log")
                label_log_ticks(a.xaxis, (1.0, 3.0))  # narrow panels
            if i == j:
                col = table[:, i][np.isfinite(table[:, i])]
                bins = np.geomspace(col.min(), col.max(), 41) if logs[i] else 40
                a.hist(col, bins=bins, color="C0", alpha=0.8)
                a.axvline(hat[i], color="k", lw=1, label="full-data fit")
                if true is not None:
                    a.axvline(true[i], color="C3", lw=1, ls="--", label="true value")
                a.set_ylabel("count (resamples)")
            else:
                if logs[i]:
                    a.set_yscale("log")
                    label_log_ticks(a.yaxis, (1.0, 3.0))
                a.scatter(table[:, j], table[:, i], s=2, alpha=0.3, color="C0")
                a.plot(hat[j], hat[i], "k+", ms=8)
                if true is not None:
                    a.plot(true[j], true[i], "x", color="C3", ms=6)
                if j == 0:
                    a.set_ylabel(param_label(names[i]))
            if i == k - 1:
                a.set_xlabel(param_label(names[j]))
    axes[0, 0].legend(fontsize=7, loc="upper right")
    axes[0, 0].set_title(
        f"{_law_name(result)} law: {len(result)} resamples ({result.config.get('scheme')} scheme)",
        loc="left",
        fontsize=9,
    )
    if fig is not None:
        fig.suptitle(f"Bootstrap of the {_law_name(result)} law: {len(result)} resamples")
    return close_axes(fig, path, ax, dpi=100)


def plot_bootstrap_frontier(
    result: BootstrapResult,
    path: str | os.PathLike[str] | None = None,
    compute: Any = None,
    level: float = 0.95,
    *,
    runs: Any = None,
    truth: Any = None,
    ax: Any = None,
) -> PathOrAxes:
    """N_opt(C) (parameters) and D_opt(C) (tokens) against C (FLOPs) with the bootstrap band.

    With `runs`, the compute range of the data is shaded (beyond it the frontier is an
    extrapolation); with `truth`, the true law's frontier is drawn dashed. Two panels; `ax`,
    if given, is a pair of Axes.
    """
    from scaling_jax.sizing.optimal import compute_optimal  # noqa: PLC0415

    c = np.geomspace(1e18, 1e26, 50) if compute is None else np.asarray(compute, float)
    d = result.derived_intervals(budgets=c, level=level)
    true = None if truth is None else [np.asarray(v) for v in compute_optimal(truth, c)[:2]]
    fig, axes = open_axes(path, ax, (1, 2), figsize=(10, 4.2))
    for i, (a, key, label) in enumerate(
        zip(axes[0], ("N_opt", "D_opt"), ("parameters", "tokens"), strict=True)
    ):
        v = d[key]
        a.fill_between(c, v["low"], v["high"], alpha=0.3, label=f"{int(level * 100)}% band")
        a.plot(c, v["estimate"], "k-", label="full-data fit")
        if true is not None:
            a.plot(c, true[i], color="C3", ls="--", label="true law")
        if runs is not None:
            lo, hi = float(np.min(runs.compute)), float(np.max(runs.compute))
            a.axvspan(lo, hi, color="0.85", zorder=0, label="compute range of the data")
        a.set_xscale("log")
        a.set_yscale("log")
        a.set_xlabel("training compute C (FLOPs)")
        a.set_ylabel(f"{key} ({label})")
        what = "model size" if i == 0 else "training tokens"
        a.set_title(f"compute-optimal {what}, {_law_name(result)} law (C = 6ND)", fontsize=10)
        a.legend(fontsize=8)
    if fig is not None:
        fig.suptitle(f"Compute-optimal frontier, {len(result)}-resample bootstrap")
    return close_axes(fig, path, ax, dpi=100)


def corner_plot(result: BootstrapResult, path: str | os.PathLike[str]) -> str:
    """Deprecated: use `plot_corner` (returns a Path, accepts ``ax=``)."""
    warnings.warn(
        "corner_plot is deprecated; use scaling_jax.plots.bootstrap.plot_corner",
        DeprecationWarning,
        stacklevel=2,
    )
    return str(plot_corner(result, path))


def frontier_plot(
    result: BootstrapResult,
    path: str | os.PathLike[str],
    compute: Any = None,
    level: float = 0.95,
) -> str:
    """Deprecated: use `plot_bootstrap_frontier` (returns a Path, accepts ``ax=``)."""
    warnings.warn(
        "frontier_plot is deprecated; use scaling_jax.plots.bootstrap.plot_bootstrap_frontier",
        DeprecationWarning,
        stacklevel=2,
    )
    return str(plot_bootstrap_frontier(result, path, compute, level))
