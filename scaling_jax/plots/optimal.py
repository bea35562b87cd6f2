"""Plots of compute-optimal allocation.

- `plot_isoflop`: IsoFLOP profiles (loss vs N per budget) with fitted parabolas and minima.
- `plot_frontier`: N_opt(C) from data and/or a law, with published frontiers overlaid.
- `plot_loss_contours`: contours of L(N, D) with the compute-efficient frontier.

Every function writes to `path` and returns the `Path`, or draws into `ax` and returns it
(see `scaling_jax.plots`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

from scaling_jax.laws import chinchilla
from scaling_jax.plots._figure import PathOrAxes, close_axes, open_axes
from scaling_jax.sizing.isoflop import EnvelopeResult, IsoFlopResult
from scaling_jax.sizing.optimal import FRONTIERS, Frontier, compute_optimal

__all__ = ["plot_isoflop", "plot_frontier", "plot_loss_contours"]


def plot_isoflop(
    result: IsoFlopResult, path: str | Path | None = None, *, ax: Any = None
) -> PathOrAxes:
    """IsoFLOP runs, their fitted profiles in log N (parabolas, or cubics) and the minima
    (× with ± 1 s.e.), one color per training budget."""
    fig, axes = open_axes(path, ax, figsize=(7, 4.5))
    a = axes[0, 0]
    pts = result.points
    colors = matplotlib.colormaps["viridis"](np.linspace(0, 0.9, result.compute.size))
    for g, color in enumerate(colors):
        sel = pts["group"] == g
        a.scatter(pts["N"][sel], pts["loss"][sel], s=12, color=color)
        u = (
            np.linspace(np.log(pts["N"][sel]).min(), np.log(pts["N"][sel]).max(), 100)
            - result.center[g]
        )
        powers = np.arange(result.coefs.shape[1])[:, None]
        profile = np.sum(result.coefs[g][:, None] * u[None, :] ** powers, axis=0)
        a.plot(
            np.exp(u + result.center[g]),
            profile,
            color=color,
            lw=1,
            label=f"C = {result.compute[g]:.1e} FLOPs",
        )
        se = result.log_n_opt_stderr[g]
        xerr = (
            None
            if not np.isfinite(se)
            else [[result.n_opt[g] * (1 - np.exp(-se))], [result.n_opt[g] * (np.exp(se) - 1)]]
        )
        a.errorbar(
            result.n_opt[g],
            result.loss_opt[g],
            xerr=xerr,
            fmt="x",
            color="k",
            label="× minimum of each profile, N_opt (± 1 s.e.)" if g == 0 else None,
        )
    shape = "parabolas" if getattr(result, "degree", 2) == 2 else "cubics"
    a.set(
        xscale="log",
        xlabel="model size N (parameters)",
        ylabel="final loss (nats/token)",
        title=f"IsoFLOP profiles ({shape} in log N), one color per training budget",
    )
    a.legend(fontsize=7)
    return close_axes(fig, path, ax)


def plot_frontier(
    results: Iterable[IsoFlopResult | EnvelopeResult] = (),
    path: str | Path | None = None,
    *args: Any,
    params: Any = None,
    frontiers: Iterable[str | Frontier] | None = None,
    compute_range: tuple[float, float] = (1e18, 1e26),
    data_range: tuple[float, float] | None = None,
    ax: Any = None,
) -> PathOrAxes:
    """N_opt against C: measured optima (results), a law's closed form (params), published
    frontiers (names of `FRONTIERS` or `Frontier`s; default all of them). The compute range
    of the data (`data_range`, default the span of `results`) is shaded: beyond it every curve
    is an extrapolation.

    The old order ``plot_frontier(path, results, params, frontiers, compute_range)`` still
    works for one release, with a DeprecationWarning.
    """
    if isinstance(results, (str, os.PathLike)):
        warnings.warn(
            "plot_frontier(path, results, ...) is deprecated; use "
            "plot_frontier(results, path, params=..., frontiers=...)",
            DeprecationWarning,
            stacklevel=2,
        )
        old = dict(zip(("params", "frontiers", "compute_range"), args, strict=False))
        params = old.get("params", params)
        frontiers = old.get("frontiers", frontiers)
        compute_range = old.get("compute_range", compute_range)
        results, path = (() if path is None else path), results
    elif args:
        raise TypeError("plot_frontier takes params, frontiers, compute_range as keywords")
    fig, axes = open_axes(path, ax, figsize=(7, 4.5))
    a = axes[0, 0]
    C = np.geomspace(*compute_range, 100)
    results = list(results)
    if data_range is None and results:
        data_range = (
            min(float(np.min(r.compute)) for r in results),
            max(float(np.max(r.compute)) for r in results),
        )
    if data_range is not None:
        a.axvspan(*data_range, color="0.88", zorder=0, label="compute range of the data")
    for res in results:
        label = f"approach {res.approach}: a_N = {res.n_fit.exponent:.3f}"
        sel = getattr(res, "used", np.ones(res.compute.size, dtype=bool))
        a.scatter(res.compute[sel], res.n_opt[sel], s=10, label=label)
        a.plot(C, np.asarray(res.n_fit(C)), lw=1, ls="--")
    if params is not None:
        n_law = np.asarray(compute_optimal(params, C).N)
        a.plot(C, n_law, color="k", lw=2, label="law (closed form)")
    for f in FRONTIERS.values() if frontiers is None else frontiers:
        f = FRONTIERS[f] if isinstance(f, str) else f
        # DeepSeek's frontier is in FLOPs/token M; M ≈ 6N puts it on the parameter axis.
        scale = 1 / 6 if f.size_unit == "non-embedding FLOPs/token" else 1.0
        a.plot(
            C, scale * np.asarray(f.n_opt(C)), lw=1, alpha=0.7, label=f"{f.name} ({f.n_exp:.2f})"
        )
    a.set(
        xscale="log",
        yscale="log",
        xlabel="training compute C (FLOPs)",
        ylabel="compute-optimal N (parameters)",
        title="Compute-optimal model size N_opt(C) (legend: exponent a_N)",
    )
    a.legend(fontsize=7)
    return close_axes(fig, path, ax)


def plot_loss_contours(
    params: Any,
    path: str | Path | None = None,
    n_range: tuple[float, float] = (1e7, 1e12),
    d_range: tuple[float, float] = (1e9, 1e14),
    loss_fn: Any = None,
    *,
    ax: Any = None,
) -> PathOrAxes:
    """Contours of L(N, D) (nats) with iso-compute lines and the efficient frontier."""
    loss_fn = chinchilla if loss_fn is None else loss_fn
    n = np.geomspace(*n_range, 200)
    d = np.geomspace(*d_range, 200)
    NN, DD = np.meshgrid(n, d)
    L = np.asarray(loss_fn(params, NN, DD))
    fig, axes = open_axes(path, ax, figsize=(6.5, 5))
    a = axes[0, 0]
    cs = a.contour(NN, DD, L, levels=15, cmap="viridis", linewidths=0.8)
    a.clabel(cs, fontsize=6)
    C = np.geomspace(6 * n_range[0] * d_range[0], 6 * n_range[1] * d_range[1], 100)
    kw = {"loss_fn": loss_fn} if loss_fn is not chinchilla else {}
    opt = compute_optimal(params, C, **kw)
    a.plot(np.asarray(opt.N), np.asarray(opt.D), color="r", lw=2, label="efficient frontier")
    for i, c in enumerate(np.geomspace(C[0], C[-1], 6)[1:-1]):
        label = "iso-compute lines 6ND = C (FLOPs)" if i == 0 else None
        a.plot(n, c / (6 * n), color="gray", lw=0.5, ls=":", label=label)
    a.set(
        xscale="log",
        yscale="log",
        xlim=n_range,
        ylim=d_range,
        xlabel="model size N (parameters)",
        ylabel="training data D (tokens)",
        title="Loss L(N, D) (nats/token) with the compute-efficient frontier",
    )
    a.legend(fontsize=7)
    return close_axes(fig, path, ax)
