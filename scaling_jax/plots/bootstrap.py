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
from scaling_jax.plots._figure import PathOrAxes, close_axes, open_axes

__all__ = ["plot_corner", "plot_bootstrap_frontier", "corner_plot", "frontier_plot"]


def plot_corner(
    result: BootstrapResult, path: str | os.PathLike[str] | None = None, *, ax: Any = None
) -> PathOrAxes:
    """Corner plot of the per-resample natural parameters (k×k panels for k parameters).

    The full-data fit is marked in black. `ax`, if given, is a k×k array of Axes.
    """
    names = result.natural_names
    table = np.stack([np.asarray(v) for v in result.params], axis=-1)
    hat = result.params_hat
    k = len(names)
    fig, axes = open_axes(path, ax, (k, k), figsize=(2.2 * k, 2.2 * k))
    for i in range(k):
        for j in range(k):
            a = axes[i, j]
            if j > i:
                a.set_visible(False)
                continue
            if i == j:
                a.hist(table[:, i], bins=40, color="C0", alpha=0.8)
                a.axvline(hat[i], color="k", lw=1)
            else:
                a.scatter(table[:, j], table[:, i], s=2, alpha=0.3, color="C0")
                a.plot(hat[j], hat[i], "k+", ms=8)
            if i == k - 1:
                a.set_xlabel(names[j])
            if j == 0 and i > 0:
                a.set_ylabel(names[i])
    if fig is not None:
        fig.suptitle(f"bootstrap, {len(result)} resamples ({result.config.get('scheme')})")
    return close_axes(fig, path, ax, dpi=100)


def plot_bootstrap_frontier(
    result: BootstrapResult,
    path: str | os.PathLike[str] | None = None,
    compute: Any = None,
    level: float = 0.95,
    *,
    ax: Any = None,
) -> PathOrAxes:
    """N_opt(C) (parameters) and D_opt(C) (tokens) against C (FLOPs) with the bootstrap band.

    Two panels; `ax`, if given, is a pair of Axes.
    """
    c = np.geomspace(1e18, 1e26, 50) if compute is None else np.asarray(compute, float)
    d = result.derived_intervals(budgets=c, level=level)
    fig, axes = open_axes(path, ax, (1, 2), figsize=(10, 4))
    for a, key, label in zip(axes[0], ("N_opt", "D_opt"), ("parameters", "tokens"), strict=True):
        v = d[key]
        a.fill_between(c, v["low"], v["high"], alpha=0.3, label=f"{int(level * 100)}% band")
        a.plot(c, v["estimate"], "k-", label="full-data fit")
        a.set_xscale("log")
        a.set_yscale("log")
        a.set_xlabel("training compute C (FLOPs)")
        a.set_ylabel(f"{key} ({label})")
        a.legend()
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
