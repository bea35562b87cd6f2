"""Plots for lifetime-optimal sizing (Sardana et al. 2024).

- `plot_lifetime_cost_vs_n`: lifetime FLOPs (or $) along the iso-loss curve L(N, D_tr) = loss
  against N, one curve per inference demand, optima marked.
- `plot_optimum_vs_demand`: optimal N, D_tr and tokens per parameter against lifetime
  inference tokens, with the Chinchilla-style values for reference.

Every function writes to `path` and returns the `Path`, or draws into `ax` and returns it
(see `scaling_jax.plots`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from scaling_jax.laws import ChinchillaParams
from scaling_jax.plots._figure import PathOrAxes, close_axes, label_log_ticks, open_axes
from scaling_jax.sizing.lifetime import CostModel, lifetime_optimal

__all__ = ["plot_lifetime_cost_vs_n", "plot_optimum_vs_demand"]


def plot_lifetime_cost_vs_n(
    params: ChinchillaParams,
    loss: float,
    inference_tokens: Sequence[float],
    path: str | Path | None = None,
    *,
    cost: CostModel | None = None,
    n_points: int = 200,
    ax: Any = None,
) -> PathOrAxes:
    """Lifetime FLOPs (6·N·D_tr + 2·N·T) against N along L(N, D_tr) = loss, per demand T.

    With `cost`, dollars are plotted instead (its request counts are rescaled so that its
    lifetime tokens equal each T).
    """
    A, B, E, alpha, beta = (float(v) for v in params)
    gap = loss - E
    n_min = (A / gap) ** (1.0 / alpha)
    N = n_min * np.logspace(0.02, 1.5, n_points)
    D = (B / (gap - A * N**-alpha)) ** (1.0 / beta)  # training tokens on the iso-loss curve
    fig, axes = open_axes(path, ax, figsize=(6.4, 4.2))
    a = axes[0, 0]
    for T in inference_tokens:
        if cost is None:
            y = 6 * N * D + 2 * N * T
            opt = lifetime_optimal(params, loss, T)
            y_opt = float(opt.total_flops)
        else:
            per_req = float(cost.input_tokens) + float(cost.output_tokens)
            cm = cost._replace(requests=T / per_req)
            k_tr = float(cm.train_cost_per_flop)
            c_inf = float(cm.serve.cost_per_flop)
            inf_per_n = (
                2
                * c_inf
                * (
                    float(cm.input_total) / float(cm.mfu_prefill)
                    + float(cm.output_total) / float(cm.mfu_decode)
                )
            )
            y = 6 * N * D * k_tr + N * inf_per_n
            opt = lifetime_optimal(params, loss, cost=cm)
            y_opt = float(opt.total_cost)
        (line,) = a.loglog(N, y, label=f"T = {T:.0e} tokens")
        a.plot(float(opt.N), y_opt, "o", color=line.get_color())
    a.plot([], [], "o", color="0.3", label="lifetime optimum of each curve")
    a.axvline(float(opt.baseline.N), color="grey", ls=":", lw=1, label="Chinchilla-style N")
    label_log_ticks(a.xaxis)  # N spans ~1.5 decades
    a.set_xlabel("model size N (parameters)")
    a.set_ylabel("lifetime cost (US$)" if cost is not None else "lifetime compute (FLOPs)")
    a.set_title(f"Iso-loss lifetime cost, loss = {loss:.4g} nats/token")
    a.legend(fontsize=8)
    return close_axes(fig, path, ax)


def plot_optimum_vs_demand(
    params: ChinchillaParams,
    loss: float,
    path: str | Path | None = None,
    *,
    inference_tokens: Sequence[float] | np.ndarray | None = None,
    ax: Any = None,
) -> PathOrAxes:
    """Optimal N, D_tr and tokens/parameter against lifetime inference tokens T.

    Three panels; `ax`, if given, holds three Axes.
    """
    T = np.logspace(8, 16, 81) if inference_tokens is None else np.asarray(inference_tokens)
    opt = lifetime_optimal(params, loss, T)
    base = opt.baseline
    fig, axes = open_axes(path, ax, (1, 3), figsize=(11, 3.4))
    panels = [
        ("model size N (parameters)", opt.N, base.N),
        ("training data D_tr (tokens)", opt.D_train, base.D_train),
        ("D_tr / N (tokens per parameter)", opt.tokens_per_param, base.tokens_per_param),
    ]
    for a, (label, y, y_base) in zip(axes[0], panels, strict=True):
        a.loglog(T, np.asarray(y), label="lifetime-optimal")
        a.loglog(T, np.broadcast_to(np.asarray(y_base), T.shape), "--", label="Chinchilla-style")
        a.set_xlabel("lifetime inference demand T (tokens)")
        a.set_ylabel(label)
    axes[0, 0].legend(fontsize=8)
    axes[0, 1].set_title(f"Lifetime-optimal sizing at loss {loss:.4g} nats/token")
    return close_axes(fig, path, ax)
