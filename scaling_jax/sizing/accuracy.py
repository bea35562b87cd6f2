"""From (N, D) or compute to a downstream metric, and the cheapest run reaching a target metric.

Two fitted pieces are chained, as Llama 3 Team 2024 (Sect. 3.2.1) forecast benchmark accuracy:
a Chinchilla-form loss law L(N, D) (Hoffmann et al. 2022) and a loss -> metric link
(`scaling_jax.laws.links`, fitted by `scaling_jax.fitting.link_fit.fit_links`). Intervals
propagate **both** fits' bootstrap draws: draw i of the prediction uses loss-law draw
``i mod R_loss`` and link draw ``i mod R_link``. When both bootstraps ran on the same runs with
the same seed and scheme, draw i of each refits the same resampled runs (a joint bootstrap);
otherwise the two fits' uncertainties are combined as independent.

`reach_metric` inverts the chain: the link gives the loss that reaches the target, and the
cheapest model of that loss comes from `scaling_jax.sizing.lifetime.lifetime_optimal` --
training FLOPs alone (T = 0: the Chinchilla-style model, 6·N·D minimal) or training plus
serving `inference_tokens` (Sardana et al. 2024).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import numpy as np

from scaling_jax._io import read_json, write_json_atomic
from scaling_jax.fitting.link_fit import LinkFit
from scaling_jax.laws import ChinchillaParams, chinchilla
from scaling_jax.sizing.lifetime import lifetime_optimal
from scaling_jax.sizing.optimal import compute_optimal

Array = Any

__all__ = ["predict_metric", "reach_metric", "MetricPrediction", "MetricTarget", "loss_law_draws"]


def loss_law_draws(source: Any) -> tuple[ChinchillaParams, ChinchillaParams | None]:
    """(point estimate, per-draw params with leading axis R or None) of a Chinchilla loss law.

    `source` is a `ChinchillaParams`, a `FitResult` or a `BootstrapResult` of the Chinchilla
    law (the bootstrap gives draws).
    """
    if isinstance(source, ChinchillaParams):
        return ChinchillaParams(*(float(v) for v in source)), None
    law = getattr(source, "law", None)
    law = getattr(law, "name", law)  # results hold their Law (older ones its name)
    if law != "chinchilla":
        raise ValueError(
            "loss law: pass ChinchillaParams, or a FitResult/BootstrapResult of the 'chinchilla' "
            f"law (got {type(source).__name__}{'' if law is None else f' of law {law!r}'})"
        )
    if hasattr(source, "params_hat"):  # BootstrapResult
        p = source.params
        return source.params_hat, ChinchillaParams(*(np.asarray(v, np.float64) for v in p))
    return ChinchillaParams(*(float(v) for v in source.params)), None


def _pairing(r_loss: int | None, r_link: int | None) -> tuple[int, np.ndarray, np.ndarray]:
    r = max(r_loss or 0, r_link or 0)
    i = np.arange(r)
    return r, i % (r_loss or 1), i % (r_link or 1)


def _quantiles(
    x: np.ndarray, level: float, method: str = "linear"
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over axis 0 (``method="inverted_cdf"`` where draws may be inf)."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    q = (1 - level) / 2
    return np.quantile(x, q, axis=0, method=method), np.quantile(x, 1 - q, axis=0, method=method)


@dataclass(frozen=True)
class MetricPrediction:
    """Predicted metrics at training configurations, with bootstrap intervals.

    Attributes:
      metrics: metric names (rows of the metric arrays).
      N, D: parameters and training tokens of each configuration (P,); for a compute budget,
        the compute-optimal allocation of the point-estimate law.
      compute: training FLOPs 6·N·D (P,).
      loss, loss_low, loss_high: predicted loss and its interval (P,), nats/token.
      metric, metric_low, metric_high: (M, P) predicted metric and interval.
      n_draws: joint draws behind the intervals (0: no bootstrap, the interval is the point).
      level: interval level.
    """

    metrics: tuple[str, ...]
    N: np.ndarray
    D: np.ndarray
    compute: np.ndarray
    loss: np.ndarray
    loss_low: np.ndarray
    loss_high: np.ndarray
    metric: np.ndarray
    metric_low: np.ndarray
    metric_high: np.ndarray
    n_draws: int
    level: float

    def rows(self) -> list[dict[str, Any]]:
        """One dict per (configuration, metric): a table for CSV output."""
        out = []
        for p in range(len(self.N)):
            for m, name in enumerate(self.metrics):
                out.append(
                    {
                        "N": float(self.N[p]),
                        "D": float(self.D[p]),
                        "compute": float(self.compute[p]),
                        "loss": float(self.loss[p]),
                        "loss_low": float(self.loss_low[p]),
                        "loss_high": float(self.loss_high[p]),
                        "metric": name,
                        "value": float(self.metric[m, p]),
                        "low": float(self.metric_low[m, p]),
                        "high": float(self.metric_high[m, p]),
                    }
                )
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (arrays become nested lists)."""
        return {
            k: (np.asarray(v).tolist() if isinstance(v, np.ndarray) else v)
            for k, v in ((k, getattr(self, k)) for k in self.__dataclass_fields__)
        }

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write `to_dict` as JSON to `path`, atomically (temporary file, then rename)."""
        write_json_atomic(path, self.to_dict())

    @classmethod
    def from_dict(cls, blob: dict[str, Any]) -> MetricPrediction:
        """Inverse of `to_dict`."""
        arrays = ("N", "D", "compute", "loss", "loss_low", "loss_high")
        arrays += ("metric", "metric_low", "metric_high")
        return cls(
            metrics=tuple(blob["metrics"]),
            **{k: np.asarray(blob[k], np.float64) for k in arrays},
            n_draws=int(blob["n_draws"]),
            level=float(blob["level"]),
        )

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> MetricPrediction:
        """Read a prediction written by `to_json`."""
        return cls.from_dict(read_json(path))


def predict_metric(
    loss_law: Any,
    links: LinkFit,
    *,
    N: Array = None,
    D: Array = None,
    compute: Array = None,
    metrics: Any = None,
    level: float = 0.95,
) -> MetricPrediction:
    """Metric predicted at (N, D) -- or at the compute-optimal (N, D) of `compute` FLOPs.

    Args:
      loss_law: `ChinchillaParams`, or a Chinchilla `FitResult` / `BootstrapResult`.
      links: a `LinkFit` (with bootstrap draws for link uncertainty).
      N, D: parameters and training tokens (broadcast together), or
      compute: training budgets (FLOPs); each draw uses its own compute-optimal (N, D), so
        the interval includes the uncertainty of the allocation.
      metrics: names (default: every fitted metric).
      level: interval level (percentile intervals over the joint draws).
    """
    names = (
        list(links.metrics)
        if metrics is None
        else ([metrics] if isinstance(metrics, str) else list(metrics))
    )
    idx = [links.index(m) for m in names]
    p_hat, p_draws = loss_law_draws(loss_law)
    if (compute is None) == (N is None or D is None):
        raise ValueError("give either N and D, or compute")
    if compute is not None:
        c = np.atleast_1d(np.asarray(compute, np.float64))
        if not np.all(np.isfinite(c) & (c > 0)):
            raise ValueError(f"compute must be finite and > 0 FLOPs, got {compute!r}")
        opt = compute_optimal(p_hat, c)
        n_pt, d_pt = np.asarray(opt.N), np.asarray(opt.D)
    else:
        n_pt, d_pt = np.broadcast_arrays(
            np.atleast_1d(np.asarray(N, np.float64)), np.atleast_1d(np.asarray(D, np.float64))
        )
        for name, v in (("N", n_pt), ("D", d_pt)):
            if not np.all(np.isfinite(v) & (v > 0)):
                raise ValueError(f"{name} must be finite and > 0, got {v!r}")
        n_pt, d_pt = n_pt.ravel(), d_pt.ravel()
    loss_pt = np.asarray(chinchilla(p_hat, n_pt, d_pt))
    metric_pt = links.predict(loss_pt)[idx]

    r_loss = None if p_draws is None else len(p_draws.A)
    r_link = None if links.theta_boot is None else links.theta_boot.shape[1]
    R, i_loss, i_link = _pairing(r_loss, r_link)
    if R == 0:
        lo_l = hi_l = loss_pt
        lo_m = hi_m = metric_pt
    else:
        if p_draws is None:
            loss_d = np.broadcast_to(loss_pt, (R, len(loss_pt)))
        else:
            pd = ChinchillaParams(*(v[i_loss][:, None] for v in p_draws))
            if compute is not None:
                opt_d = compute_optimal(pd, c[None])
                nd, dd = np.asarray(opt_d.N), np.asarray(opt_d.D)
            else:
                nd, dd = n_pt[None], d_pt[None]
            loss_d = np.asarray(chinchilla(pd, nd, dd))
        lo_l, hi_l = _quantiles(loss_d, level)
        if links.theta_boot is None:
            th = np.broadcast_to(links.theta[idx][:, None], (len(idx), R, links.k))
        else:
            th = links.theta_boot[idx][:, i_link]
        metric_d = np.asarray(links._link.predict(jnp.asarray(th)[:, :, None], loss_d[None]))
        lo_m, hi_m = _quantiles(np.moveaxis(metric_d, 1, 0), level)
    return MetricPrediction(
        metrics=tuple(names),
        N=n_pt,
        D=d_pt,
        compute=6.0 * n_pt * d_pt,
        loss=loss_pt,
        loss_low=np.asarray(lo_l),
        loss_high=np.asarray(hi_l),
        metric=np.asarray(metric_pt),
        metric_low=np.asarray(lo_m),
        metric_high=np.asarray(hi_m),
        n_draws=R,
        level=level,
    )


@dataclass(frozen=True)
class MetricTarget:
    """The cheapest model reaching a target metric (point estimate and intervals).

    Attributes:
      metric, target: the metric and the value to reach.
      inference_tokens: lifetime inference tokens T served (0: training compute only).
      loss: loss that reaches the target (nats/token); N, D_train: the model;
        train_flops (6·N·D), total_flops (+ 2·N·T).
      intervals: name -> (low, high) percentile interval over the joint draws; a draw that
        cannot reach the target counts as infinitely expensive (and its loss as -inf).
      reachable: False when the point estimate cannot reach the target (target outside the
        link's range, or the needed loss <= E).
      p_reachable: fraction of draws that reach it (1.0 without a bootstrap when reachable).
      n_draws, level: draws behind the intervals and their level.
    """

    metric: str
    target: float
    inference_tokens: float
    loss: float
    N: float
    D_train: float
    train_flops: float
    total_flops: float
    reachable: bool
    p_reachable: float
    n_draws: int
    level: float
    intervals: dict[str, tuple[float, float]]

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "intervals"}
        out["intervals"] = {k: list(v) for k, v in self.intervals.items()}
        return out

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write `to_dict` as JSON to `path`, atomically (temporary file, then rename)."""
        write_json_atomic(path, self.to_dict())

    @classmethod
    def from_dict(cls, blob: dict[str, Any]) -> MetricTarget:
        """Inverse of `to_dict`."""
        values = {k: blob[k] for k in cls.__dataclass_fields__ if k != "intervals"}
        intervals = {k: (float(lo), float(hi)) for k, (lo, hi) in blob["intervals"].items()}
        return cls(**values, intervals=intervals)

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> MetricTarget:
        """Read a target written by `to_json`."""
        return cls.from_dict(read_json(path))

    def summary(self) -> str:
        head = f"{self.metric} >= {self.target:g}" + (
            f" and serving {self.inference_tokens:.3g} tokens" if self.inference_tokens else ""
        )
        if not self.reachable:
            return f"{head}: not reachable under the point estimate"
        lines = [f"{head}: (P(reachable) over {self.n_draws} draws: {self.p_reachable:.2f})"]
        for k in ("loss", "N", "D_train", "train_flops", "total_flops"):
            lo, hi = self.intervals[k]
            lines.append(
                f"  {k:>12} = {getattr(self, k):.4g}   [{lo:.4g}, {hi:.4g}] ({self.level:.0%})"
            )
        return "\n".join(lines)


def _cheapest(params: ChinchillaParams, loss: np.ndarray, T: float) -> dict[str, np.ndarray]:
    """Lifetime-optimal model of `loss` per lane; unreachable lanes -> inf (loss NaN)."""
    loss = np.where(np.asarray(loss) > 0, loss, np.nan)  # a link may ask for loss <= 0
    ok = np.isfinite(loss)
    opt = lifetime_optimal(params, jnp.asarray(np.where(ok, loss, 1e6)), T, validate=False)
    good = ok & np.asarray(opt.reachable)
    out = {
        "loss": np.where(ok, loss, np.nan),
        "N": np.asarray(opt.N),
        "D_train": np.asarray(opt.D_train),
        "train_flops": np.asarray(opt.train_flops),
        "total_flops": np.asarray(opt.total_flops),
    }
    for k in ("N", "D_train", "train_flops", "total_flops"):
        out[k] = np.where(good, out[k], np.inf)
    out["ok"] = good
    return out


def reach_metric(
    loss_law: Any,
    links: LinkFit,
    metric: str,
    target: float,
    *,
    inference_tokens: float = 0.0,
    level: float = 0.95,
) -> MetricTarget:
    """Cheapest (N, D) whose predicted `metric` reaches `target`, optionally serving T tokens.

    The link's inverse gives the loss needed; `lifetime_optimal` the model that reaches that
    loss at the least training FLOPs (``inference_tokens=0``) or least training + inference
    FLOPs (6·N·D + 2·N·T). Every joint draw of the two fits gives its own answer; intervals
    are percentiles with unreachable draws counted as infinitely expensive (an upper end of
    ``inf`` means more than (1 - level)/2 of the draws cannot reach the target).
    """
    target = float(target)
    T = float(inference_tokens)
    if not np.isfinite(T) or T < 0:
        raise ValueError(f"inference_tokens must be finite and >= 0, got {inference_tokens!r}")
    m = links.index(metric)
    p_hat, p_draws = loss_law_draws(loss_law)
    loss_pt = np.atleast_1d(links.loss_for(target, m))
    point = _cheapest(p_hat, loss_pt, T)
    r_loss = None if p_draws is None else len(p_draws.A)
    r_link = None if links.theta_boot is None else links.theta_boot.shape[1]
    R, i_loss, i_link = _pairing(r_loss, r_link)
    intervals: dict[str, tuple[float, float]] = {}
    p_reach = float(point["ok"][0])
    if R:
        th = links.theta[m][None] if links.theta_boot is None else links.theta_boot[m][i_link]
        if links.theta_boot is None:
            th = np.broadcast_to(th, (R, links.k))
        loss_d = np.asarray(links._link.inverse(jnp.asarray(th), jnp.asarray(target)))
        pd = p_hat if p_draws is None else ChinchillaParams(*(v[i_loss] for v in p_draws))
        draws = _cheapest(pd, loss_d, T)
        p_reach = float(draws["ok"].mean())
        loss_rank = np.where(np.isfinite(draws["loss"]), draws["loss"], -np.inf)
        for k in ("loss", "N", "D_train", "train_flops", "total_flops"):
            lo, hi = _quantiles(loss_rank if k == "loss" else draws[k], level, "inverted_cdf")
            intervals[k] = (float(lo), float(hi))
    else:
        for k in ("loss", "N", "D_train", "train_flops", "total_flops"):
            intervals[k] = (float(point[k][0]), float(point[k][0]))
    return MetricTarget(
        metric=links.metrics[m],
        target=target,
        inference_tokens=T,
        loss=float(point["loss"][0]),
        N=float(point["N"][0]),
        D_train=float(point["D_train"][0]),
        train_flops=float(point["train_flops"][0]),
        total_flops=float(point["total_flops"][0]),
        reachable=bool(point["ok"][0]),
        p_reachable=p_reach,
        n_draws=R,
        level=level,
        intervals=intervals,
    )
