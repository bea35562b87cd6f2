"""Plots of a bootstrap (matplotlib, Agg backend, written to files).

`corner_plot`: histograms of each natural parameter on the diagonal and pairwise scatter
below it. `frontier_plot`: compute-optimal N_opt(C) and D_opt(C) (Hoffmann et al. 2022, closed
form for C = 6ND) with the bootstrap's pointwise percentile band.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from scaling_jax.fitting.resampling import BootstrapResult

__all__ = ["corner_plot", "frontier_plot"]


def _pyplot() -> Any:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")  # files only: never needs a display
    import matplotlib.pyplot as plt  # noqa: PLC0415

    return plt


def corner_plot(result: BootstrapResult, path: str | os.PathLike[str]) -> str:
    """Corner plot of the per-resample natural parameters; returns the file path."""
    plt = _pyplot()
    names = result.natural_names
    table = np.stack([np.asarray(v) for v in result.params], axis=-1)
    hat = result.params_hat
    k = len(names)
    fig, axes = plt.subplots(k, k, figsize=(2.2 * k, 2.2 * k))
    for i in range(k):
        for j in range(k):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            if i == j:
                ax.hist(table[:, i], bins=40, color="C0", alpha=0.8)
                ax.axvline(hat[i], color="k", lw=1)
            else:
                ax.scatter(table[:, j], table[:, i], s=2, alpha=0.3, color="C0")
                ax.plot(hat[j], hat[i], "k+", ms=8)
            if i == k - 1:
                ax.set_xlabel(names[j])
            if j == 0 and i > 0:
                ax.set_ylabel(names[i])
    fig.suptitle(f"bootstrap, {len(result)} resamples ({result.config.get('scheme')})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return str(path)


def frontier_plot(
    result: BootstrapResult,
    path: str | os.PathLike[str],
    compute: Any = None,
    level: float = 0.95,
) -> str:
    """N_opt(C) and D_opt(C) against C (FLOPs) with bootstrap bands; returns the file path."""
    plt = _pyplot()
    c = np.geomspace(1e18, 1e26, 50) if compute is None else np.asarray(compute, float)
    d = result.derived_intervals(budgets=c, level=level)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, label in zip(axes, ("N_opt", "D_opt"), ("parameters", "tokens"), strict=True):
        v = d[key]
        ax.fill_between(c, v["low"], v["high"], alpha=0.3, label=f"{int(level * 100)}% band")
        ax.plot(c, v["estimate"], "k-", label="full-data fit")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("training compute C (FLOPs)")
        ax.set_ylabel(f"{key} ({label})")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return str(path)
