"""`compare`: is recipe A better than recipe B at my budget? A paired bootstrap of two arms.

Each arm (a table of runs: one data mix, tokenizer or architecture) is bootstrapped with the
*same* seed, so resample i of A and resample i of B draw the same point indices: when the arms
share a design (the same (N, D) grid) the draws are paired and design effects cancel in the
difference. For every draw the compute-optimal loss of each arm's Chinchilla law at budget C,

    L*(C) = E + A / N_opt(C)**alpha + B / D_opt(C)**beta,   6 N_opt D_opt = C

(closed form, Hoffmann et al. 2022), gives the difference L*_A(C) - L*_B(C) (negative: A is
better). Reported per budget: the difference at the full-data fits, its percentile interval over
the draws, and P(A better) = the fraction of draws with L*_A < L*_B. The break-even budget is
where the two laws' compute-optimal losses cross, searched on a log grid of budgets and refined
by bisection, for the full-data fits and for every draw (interval over the draws that cross).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scaling_jax._io import json_float, read_json, write_json_atomic
from scaling_jax._precision import float64_call
from scaling_jax.laws import ChinchillaParams
from scaling_jax.sizing._roots import bisect
from scaling_jax.sizing.optimal import compute_optimal

Array = Any

__all__ = ["compare", "Comparison", "optimal_loss", "crossing_budgets"]


def optimal_loss(params: ChinchillaParams, compute: Array) -> Array:
    """Compute-optimal Chinchilla loss L*(C) (nats/token) at C FLOPs (C = 6 N D).

    Broadcasts params leaves against `compute`; jit/vmap/grad-able. The closed form of
    `scaling_jax.sizing.compute_optimal`.
    """
    return compute_optimal(ChinchillaParams(*params), compute).loss


@jax.jit
def _diff_curves(pa: ChinchillaParams, pb: ChinchillaParams, log_c: Array) -> Array:
    """(R, m) differences L*_A - L*_B for draws (leading axis) at budgets exp(log_c)."""

    def one(a: ChinchillaParams, b: ChinchillaParams) -> Array:
        c = jnp.exp(log_c)
        return optimal_loss(a, c) - optimal_loss(b, c)

    return jax.vmap(one)(pa, pb)


@jax.jit
def _diff_per_draw(pa: ChinchillaParams, pb: ChinchillaParams, log_c: Array) -> Array:
    """(R,) differences L*_A - L*_B, draw r at its own budget exp(log_c[r])."""

    def one(a: ChinchillaParams, b: ChinchillaParams, lc: Array) -> Array:
        return optimal_loss(a, jnp.exp(lc)) - optimal_loss(b, jnp.exp(lc))

    return jax.vmap(one)(pa, pb, log_c)


def crossing_budgets(
    pa: ChinchillaParams, pb: ChinchillaParams, c_range: tuple[float, float], n_grid: int = 256
) -> np.ndarray:
    """First budget in `c_range` where L*_A = L*_B, per draw (leading axis); NaN if none.

    The sign of the difference is scanned on `n_grid` log-spaced budgets and the first sign
    change is refined by 60 bisection steps in log C.
    """
    lo, hi = np.log(c_range[0]), np.log(c_range[1])
    grid = jnp.linspace(lo, hi, n_grid)
    diff = np.asarray(_diff_curves(pa, pb, grid))  # (R, n_grid)
    sign = np.sign(diff)
    change = (sign[:, :-1] * sign[:, 1:] < 0) | (sign[:, :-1] == 0)
    has = change.any(axis=1)
    first = np.argmax(change, axis=1)
    g = np.asarray(grid)
    a = g[first].copy()
    b = g[np.minimum(first + 1, n_grid - 1)].copy()
    sign_a = jnp.sign(jnp.asarray(diff[np.arange(len(diff)), first]))
    a, b = bisect(
        lambda mid: jnp.sign(_diff_per_draw(pa, pb, mid)) == sign_a,
        jnp.asarray(a),
        jnp.asarray(b),
        60,
    )
    return np.where(has, np.exp(0.5 * (np.asarray(a) + np.asarray(b))), np.nan)


@dataclass(frozen=True)
class Comparison:
    """Outcome of `compare` (losses in nats/token, budgets in FLOPs).

    Attributes:
      budgets: (m,) compute budgets C.
      loss_a, loss_b: (m,) compute-optimal losses of each arm's full-data fit.
      diff: (m,) loss_a - loss_b (negative: A better); diff_low, diff_high: its interval.
      p_a_better: (m,) fraction of paired draws with L*_A < L*_B.
      crossing: budget where the full-data laws cross (first in `search_range`), or None.
      crossing_low, crossing_high: interval of the crossing over the draws that cross.
      p_cross: fraction of draws whose laws cross inside `search_range`.
      level, n_resamples, search_range: settings.
      boot_a, boot_b: the two `BootstrapResult` objects.
    """

    budgets: np.ndarray
    loss_a: np.ndarray
    loss_b: np.ndarray
    diff: np.ndarray
    diff_low: np.ndarray
    diff_high: np.ndarray
    p_a_better: np.ndarray
    crossing: float | None
    crossing_low: float | None
    crossing_high: float | None
    p_cross: float
    level: float
    n_resamples: int
    search_range: tuple[float, float]
    boot_a: Any = None
    boot_b: Any = None

    def table(self) -> str:
        pct = f"{self.level * 100:g}%"
        lines = [
            f"compare A vs B: paired bootstrap, {self.n_resamples} draws; compute-optimal loss "
            f"L*(C) (nats/token); diff = A - B (negative: A better); {pct} intervals",
            f"  {'C (FLOPs)':>12} {'L*_A':>8} {'L*_B':>8} {'diff':>9} {'interval':>21} "
            f"{'P(A better)':>11}",
        ]
        for j, c in enumerate(self.budgets):
            lines.append(
                f"  {c:12.3e} {self.loss_a[j]:8.4f} {self.loss_b[j]:8.4f} {self.diff[j]:+9.4f} "
                f"[{self.diff_low[j]:+9.4f}, {self.diff_high[j]:+9.4f}] {self.p_a_better[j]:11.3f}"
            )
        lo, hi = self.search_range
        if self.crossing is None:
            lines.append(
                f"  the full-data laws do not cross between {lo:.3g} and {hi:.3g} FLOPs "
                f"({self.p_cross:.0%} of draws do)"
            )
        else:
            iv = (
                ""
                if self.crossing_low is None
                else f" [{self.crossing_low:.3g}, {self.crossing_high:.3g}]"
            )
            lines.append(
                f"  break-even budget: {self.crossing:.3g} FLOPs{iv} ({self.p_cross:.0%} of "
                "draws cross in the search range)"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def to_dict(self) -> dict[str, Any]:
        def lst(a: np.ndarray) -> list:
            return [json_float(v) for v in np.asarray(a, float)]

        return {
            "budgets": lst(self.budgets),
            "loss_a": lst(self.loss_a),
            "loss_b": lst(self.loss_b),
            "diff": lst(self.diff),
            "diff_low": lst(self.diff_low),
            "diff_high": lst(self.diff_high),
            "p_a_better": lst(self.p_a_better),
            "crossing": self.crossing,
            "crossing_low": self.crossing_low,
            "crossing_high": self.crossing_high,
            "p_cross": self.p_cross,
            "level": self.level,
            "n_resamples": self.n_resamples,
            "search_range": list(self.search_range),
        }

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write `to_dict` as JSON to `path`, atomically (temporary file, then rename)."""
        write_json_atomic(path, self.to_dict())

    @classmethod
    def from_dict(cls, blob: dict[str, Any]) -> Comparison:
        """Inverse of `to_dict` (without the two `BootstrapResult` objects)."""

        def arr(key: str) -> np.ndarray:
            return np.asarray([np.nan if v is None else v for v in blob[key]], np.float64)

        def opt(key: str) -> float | None:
            return None if blob.get(key) is None else float(blob[key])

        keys = ("budgets", "loss_a", "loss_b", "diff", "diff_low", "diff_high", "p_a_better")
        return cls(
            *(arr(k) for k in keys),
            crossing=opt("crossing"),
            crossing_low=opt("crossing_low"),
            crossing_high=opt("crossing_high"),
            p_cross=float(blob["p_cross"]),
            level=float(blob["level"]),
            n_resamples=int(blob["n_resamples"]),
            search_range=tuple(float(v) for v in blob["search_range"]),
        )

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> Comparison:
        """Read a comparison written by `to_json`."""
        return cls.from_dict(read_json(path))


def _as_bootstrap(arm: Any, n_resamples: int, seed: int, kwargs: dict[str, Any]) -> Any:
    from scaling_jax.fitting.resampling import BootstrapResult, bootstrap

    if isinstance(arm, BootstrapResult):
        return arm
    return bootstrap(arm, n_resamples=n_resamples, seed=seed, **kwargs)


def _chinchilla(boot: Any, name: str) -> tuple[ChinchillaParams, ChinchillaParams]:
    law_name = getattr(boot.law, "name", boot.law)
    if law_name != "chinchilla":
        raise ValueError(
            f"compare: arm {name} was fitted with law {law_name!r}; the compute-optimal "
            "comparison needs the Chinchilla law"
        )
    p = boot.params
    hat = boot.params_hat
    return (
        ChinchillaParams(*(jnp.asarray(v) for v in p)),
        ChinchillaParams(*(jnp.asarray([float(v)]) for v in hat)),
    )


@float64_call
def compare(
    runs_a: Any,
    runs_b: Any,
    budgets: Sequence[float],
    *,
    n_resamples: int = 400,
    seed: int = 0,
    level: float = 0.9,
    search_range: tuple[float, float] | None = None,
    progress: bool = False,
    **bootstrap_kwargs: Any,
) -> Comparison:
    """Compare two recipes' Chinchilla laws at compute budgets with a paired bootstrap.

    Args:
      runs_a, runs_b: each arm's runs (`Runs`, CSV path, DataFrame) or a finished
        `BootstrapResult` (then used as is; pair them by running both with the same seed).
      budgets: compute budgets C (FLOPs) at which to compare compute-optimal losses.
      n_resamples: bootstrap draws per arm; seed: the same for both arms (pairing).
      level: interval coverage (default 0.9).
      search_range: (C_low, C_high) FLOPs to search for the break-even budget (default: two
        decades either side of `budgets`).
      **bootstrap_kwargs: passed to `bootstrap` (``starts=``, ``grid=``, ``scheme=``, ...).

    Returns:
      a `Comparison` (see the module docstring).
    """
    c = np.atleast_1d(np.asarray(budgets, np.float64))
    if c.ndim != 1 or c.size == 0 or not np.all(np.isfinite(c) & (c > 0)):
        raise ValueError(f"budgets must be positive FLOP counts, got {budgets!r}")
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    if search_range is None:
        search_range = (float(c.min()) / 100.0, float(c.max()) * 100.0)
    lo_c, hi_c = (float(v) for v in search_range)
    if not (0 < lo_c < hi_c):
        raise ValueError(f"search_range must be (low, high) with 0 < low < high: {search_range}")
    bootstrap_kwargs.setdefault("progress", progress)
    boot_a = _as_bootstrap(runs_a, n_resamples, seed, dict(bootstrap_kwargs))
    boot_b = _as_bootstrap(runs_b, n_resamples, seed, dict(bootstrap_kwargs))
    (pa, ha), (pb, hb) = _chinchilla(boot_a, "A"), _chinchilla(boot_b, "B")
    r = min(len(boot_a), len(boot_b))
    pa = ChinchillaParams(*(v[:r] for v in pa))
    pb = ChinchillaParams(*(v[:r] for v in pb))

    log_c = jnp.log(jnp.asarray(c))
    draws = np.asarray(_diff_curves(pa, pb, log_c))  # (R, m)
    ok = np.isfinite(draws).all(axis=1)
    draws = draws[ok]
    hat = np.asarray(_diff_curves(ha, hb, log_c))[0]
    alpha = 1.0 - level
    d_lo, d_hi = np.quantile(draws, [alpha / 2, 1 - alpha / 2], axis=0)
    loss_a = np.asarray(optimal_loss(ChinchillaParams(*(v[0] for v in ha)), c))
    loss_b = np.asarray(optimal_loss(ChinchillaParams(*(v[0] for v in hb)), c))

    cross_hat = crossing_budgets(ha, hb, (lo_c, hi_c))[0]
    cross_draws = crossing_budgets(
        ChinchillaParams(*(v[ok] for v in pa)),
        ChinchillaParams(*(v[ok] for v in pb)),
        (lo_c, hi_c),
    )
    crossed = np.isfinite(cross_draws)
    c_lo = c_hi = None
    if crossed.sum() >= 2:
        c_lo, c_hi = (
            float(v)
            for v in np.exp(np.quantile(np.log(cross_draws[crossed]), [alpha / 2, 1 - alpha / 2]))
        )
    return Comparison(
        budgets=c,
        loss_a=loss_a,
        loss_b=loss_b,
        diff=hat,
        diff_low=d_lo,
        diff_high=d_hi,
        p_a_better=np.mean(draws < 0, axis=0),
        crossing=None if not np.isfinite(cross_hat) else float(cross_hat),
        crossing_low=c_lo,
        crossing_high=c_hi,
        p_cross=float(crossed.mean()) if crossed.size else 0.0,
        level=float(level),
        n_resamples=int(r),
        search_range=(lo_c, hi_c),
        boot_a=boot_a,
        boot_b=boot_b,
    )
