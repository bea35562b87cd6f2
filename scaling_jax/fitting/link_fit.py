"""Fit loss -> metric links (`scaling_jax.laws.links`) for many metrics in one batched solve.

Every (metric, start) pair is one lane of the lock-step L-BFGS (`solver.solve_starts`): the
lanes share the loss column and each carries its own metric column, weights and fixed
coordinates (``lane_data``), so the 7 score columns of the Sardana et al. 2024 runs are one
solve, not a loop. The best start of every metric gets the damped-Newton finish (`polish`).

The objective per metric is the summed Huber loss of the link's residuals (metric scale for
``sigmoid``/``exponential``, logit scale for ``logit``). A coordinate can be *fixed* (the floor
at chance, e.g. 0.25 for MMLU): the link then reads the fixed value, and a term
``0.5 * (theta_j - value)**2`` keeps the coordinate's curvature positive so the Newton finish
stays well posed; the lane starts at the value, so that term is zero throughout.

The bootstrap refits every (metric, resample) lane from the metric's full-data optimum (loose
L-BFGS then the Newton finish on every lane), with the count weights of
`resampling.resample_weights`: resample i of a link bootstrap and of a loss-law bootstrap with
the same seed, scheme and runs draw the *same* runs, so chained predictions (loss law, then
link) pair draw i with draw i -- a joint bootstrap of both fits.
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from scaling_jax._io import json_float, write_json_atomic
from scaling_jax._precision import float64_call
from scaling_jax.data import Runs
from scaling_jax.fitting.objective import huber
from scaling_jax.fitting.resampling import resample_weights
from scaling_jax.fitting.solver import SolverOptions, Status, polish, solve_starts
from scaling_jax.laws.links import Link, get_link

Array = Any

__all__ = ["fit_links", "LinkFit", "link_objective", "CHANCE"]

# Chance level of known score columns (the Eval Gauntlet's scores are already chance-centred).
CHANCE: dict[str, float] = {
    "mmlu_5_shot_avg": 0.25,
    "eval_gauntlet/world_knowledge": 0.0,
    "eval_gauntlet/reading_comprehension": 0.0,
    "eval_gauntlet/language_understanding": 0.0,
    "eval_gauntlet/commonsense_reasoning": 0.0,
    "eval_gauntlet/symbolic_problem_solving": 0.0,
    "eval_gauntlet/core_average": 0.0,
}


class _Shared(NamedTuple):
    loss: Array  # (n,) loss of each run, nats/token
    delta: Array  # Huber threshold, residual units


class _Lane(NamedTuple):
    metric: Array  # (n,) this metric's values
    weights: Array  # (n,) data weight x bootstrap count
    mask: Array  # (k,) bool: coordinate fixed
    values: Array  # (k,) fixed values (ignored where mask is False)


@functools.lru_cache(maxsize=16)
def link_objective(link: Link):
    """``objective(theta, shared, lane)``: summed Huber loss of the link's residuals."""

    def objective(theta: Array, shared: _Shared, lane: _Lane) -> Array:
        th = jnp.where(lane.mask, lane.values, theta)
        r = link.residual(th, shared.loss, lane.metric)
        pin = jnp.where(lane.mask, theta - lane.values, 0.0)
        return jnp.sum(lane.weights * huber(r, shared.delta)) + 0.5 * jnp.sum(pin * pin)

    return objective


def _per_metric(spec: Any, names: Sequence[str], what: str) -> list[float | None]:
    """None | number | "chance" | mapping -> one value (or None = free) per metric."""
    if spec is None:
        return [None] * len(names)
    if isinstance(spec, str):
        if spec != "chance":
            raise ValueError(f"{what}={spec!r}: use a number, a mapping, 'chance' or None")
        missing = [m for m in names if m not in CHANCE]
        if missing:
            raise ValueError(
                f"{what}='chance': no known chance level for {missing}; pass a mapping "
                f"{{metric: chance}} (known: {sorted(CHANCE)})"
            )
        return [CHANCE[m] for m in names]
    if isinstance(spec, Mapping):
        unknown = sorted(set(spec) - set(names))
        if unknown:
            raise ValueError(f"{what}: metrics {unknown} are not among the fitted {list(names)}")
        out = [None if spec.get(m) is None else float(spec[m]) for m in names]
    else:
        out = [float(spec)] * len(names)
    for m, v in zip(names, out, strict=True):
        if v is not None and not math.isfinite(v):
            raise ValueError(f"{what} of metric {m!r} must be finite, got {v!r}")
    return out


def _columns(data: Any, metrics: Any) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
    """(loss (n,), metric names, metric values (M, n), weights (n,)) from the inputs."""
    if isinstance(data, Runs):
        loss = np.asarray(data.loss, np.float64)
        weights = np.ones(len(data)) if data.weights is None else np.asarray(data.weights)
        if metrics is None:
            metrics = list(data.extra)
        if isinstance(metrics, str):
            metrics = [metrics]
        if isinstance(metrics, Mapping):
            names = [str(m) for m in metrics]
            values = [np.asarray(v, np.float64) for v in metrics.values()]
        else:
            names = [str(m) for m in metrics]
            missing = [m for m in names if m not in data.extra]
            if missing:
                raise ValueError(
                    f"metrics {missing} are not in the runs' extra columns {list(data.extra)} "
                    "(load them with load_runs(..., extra=[...]))"
                )
            values = [np.asarray(data.extra[m], np.float64) for m in names]
    else:
        loss = np.asarray(data, np.float64).reshape(-1)
        weights = np.ones(len(loss))
        if not isinstance(metrics, Mapping):
            raise ValueError("with a loss array, metrics must be a mapping {name: values}")
        names = [str(m) for m in metrics]
        values = [np.asarray(v, np.float64).reshape(-1) for v in metrics.values()]
    if not names:
        raise ValueError("metrics: no metric to fit")
    if len(set(names)) != len(names):
        raise ValueError(f"metrics: duplicate names in {names}")
    for name, v in zip(names, values, strict=True):
        if v.shape != loss.shape:
            raise ValueError(f"metric {name!r} has {v.size} values but there are {loss.size} runs")
        bad = np.flatnonzero(~np.isfinite(v))
        if bad.size:
            raise ValueError(f"metric {name!r}: row {bad[0]} is {v[bad[0]]!r}, not finite")
    bad = np.flatnonzero(~(np.isfinite(loss) & (loss > 0)))
    if bad.size:
        raise ValueError(f"loss: row {bad[0]} is {loss[bad[0]]!r}; losses must be finite and > 0")
    return loss, names, np.stack(values), weights


@dataclass(frozen=True)
class LinkFit:
    """Fitted links, one per metric, with optional bootstrap draws.

    Attributes:
      link: the link's name; param_names: its fit coordinates (floor first).
      metrics: metric names, in the order of the rows below.
      theta: (M, k) best fit per metric (fixed coordinates at their values).
      objective: (M,) summed Huber objective; status: (M,) status name of the best start.
      fixed: (M, k) bool, which coordinates were fixed.
      theta_boot: (M, R, k) bootstrap refits, or None; boot_status: (M, R) status codes.
      n_points: runs fitted; delta: Huber threshold; seed, scheme: bootstrap settings.
      loss_range: (min, max) loss of the fitted runs (nats/token).
      warnings: anything to know (clipped logit points, unconverged fits).
    """

    link: str
    param_names: tuple[str, ...]
    metrics: tuple[str, ...]
    theta: np.ndarray
    objective: np.ndarray
    status: tuple[str, ...]
    fixed: np.ndarray
    n_points: int
    delta: float
    loss_range: tuple[float, float]
    theta_boot: np.ndarray | None = None
    boot_status: np.ndarray | None = None
    seed: int = 0
    scheme: str = "points"
    warnings: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def _link(self) -> Link:
        return get_link(self.link)

    def index(self, metric: str | int) -> int:
        if isinstance(metric, (int, np.integer)):
            return int(metric)
        if metric not in self.metrics:
            raise ValueError(f"metric {metric!r} was not fitted; fitted: {list(self.metrics)}")
        return self.metrics.index(metric)

    def params(self, metric: str | int) -> dict[str, float]:
        """The fitted coordinates of one metric by name."""
        return dict(zip(self.param_names, self.theta[self.index(metric)].tolist(), strict=True))

    def predict(self, loss: Array, metric: str | int | None = None) -> np.ndarray:
        """Metric at `loss` (nats/token): (M, *loss.shape), or loss.shape for one `metric`."""
        loss = jnp.asarray(loss, jnp.float64)
        if metric is not None:
            return np.asarray(self._link.predict(jnp.asarray(self.theta[self.index(metric)]), loss))
        th = jnp.asarray(self.theta).reshape(self.theta.shape[:1] + (1,) * loss.ndim + (-1,))
        return np.asarray(self._link.predict(th, loss[None]))

    def draws(self, metric: str | int) -> np.ndarray:
        """(R, k) bootstrap refits of one metric (raises without a bootstrap)."""
        if self.theta_boot is None:
            raise ValueError("this LinkFit has no bootstrap draws: fit with n_resamples > 0")
        return self.theta_boot[self.index(metric)]

    def predict_draws(self, loss: Array, metric: str | int) -> np.ndarray:
        """(R, *loss.shape) metric at `loss` under every bootstrap refit of `metric`."""
        loss = jnp.asarray(loss, jnp.float64)
        th = jnp.asarray(self.draws(metric)).reshape((-1,) + (1,) * loss.ndim + (self.k,))
        return np.asarray(self._link.predict(th, loss[None]))

    def band(
        self, loss: Array, metric: str | int, level: float = 0.95
    ) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise percentile band of the fitted link at `loss`."""
        draws = self.predict_draws(loss, metric)
        q = (1 - level) / 2
        return np.nanquantile(draws, q, axis=0), np.nanquantile(draws, 1 - q, axis=0)

    def loss_for(self, target: Array, metric: str | int) -> np.ndarray:
        """Loss (nats/token) at which `metric` reaches `target` (NaN if out of range)."""
        th = jnp.asarray(self.theta[self.index(metric)])
        return np.asarray(self._link.inverse(th, jnp.asarray(target, jnp.float64)))

    @property
    def k(self) -> int:
        return len(self.param_names)

    def summary(self) -> str:
        lines = [
            f"scaling_jax link fit: {self.link}, {len(self.metrics)} metrics, {self.n_points} "
            f"runs, loss {self.loss_range[0]:.4g}..{self.loss_range[1]:.4g}, delta={self.delta:g}"
            + (
                f", {self.theta_boot.shape[1]} bootstrap resamples"
                if self.theta_boot is not None
                else ""
            )
        ]
        head = "  " + f"{'metric':<40}" + "".join(f"{p:>12}" for p in self.param_names)
        lines.append(head + f"{'objective':>12}  status")
        for i, m in enumerate(self.metrics):
            cells = "".join(
                f"{v:>11.4g}" + ("*" if fx else " ")
                for v, fx in zip(self.theta[i], self.fixed[i], strict=True)
            )
            lines.append(f"  {m:<40}{cells}{self.objective[i]:>12.4e}  {self.status[i]}")
        if self.fixed.any():
            lines.append("  (* fixed)")
        lines += [f"  WARNING: {w}" for w in self.warnings]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        return {
            "link": self.link,
            "param_names": list(self.param_names),
            "metrics": list(self.metrics),
            "theta": self.theta.tolist(),
            "objective": [json_float(v) for v in self.objective],
            "status": list(self.status),
            "fixed": self.fixed.tolist(),
            "n_points": self.n_points,
            "delta": self.delta,
            "loss_range": list(self.loss_range),
            "theta_boot": None if self.theta_boot is None else self.theta_boot.tolist(),
            "boot_status": None if self.boot_status is None else self.boot_status.tolist(),
            "seed": self.seed,
            "scheme": self.scheme,
            "warnings": list(self.warnings),
            "timings": dict(self.timings),
        }

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write as JSON, atomically."""
        write_json_atomic(path, self.to_dict())

    @classmethod
    def from_dict(cls, blob: Mapping[str, Any]) -> LinkFit:
        boot = blob.get("theta_boot")
        bstat = blob.get("boot_status")
        return cls(
            link=blob["link"],
            param_names=tuple(blob["param_names"]),
            metrics=tuple(blob["metrics"]),
            theta=np.asarray(blob["theta"], np.float64),
            objective=np.asarray([np.nan if v is None else v for v in blob["objective"]]),
            status=tuple(blob["status"]),
            fixed=np.asarray(blob["fixed"], bool),
            n_points=int(blob["n_points"]),
            delta=float(blob["delta"]),
            loss_range=tuple(blob["loss_range"]),
            theta_boot=None if boot is None else np.asarray(boot, np.float64),
            boot_status=None if bstat is None else np.asarray(bstat, np.int64),
            seed=int(blob.get("seed", 0)),
            scheme=str(blob.get("scheme", "points")),
            warnings=tuple(blob.get("warnings", ())),
            timings=dict(blob.get("timings", {})),
        )

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> LinkFit:
        return cls.from_dict(json.loads(Path(path).read_text()))


def _best_per_metric(objective: np.ndarray, owner: np.ndarray, n_metrics: int) -> np.ndarray:
    f = np.where(np.isfinite(objective), objective, np.inf)
    best = np.zeros(n_metrics, np.int64)
    for m in range(n_metrics):
        rows = np.flatnonzero(owner == m)
        best[m] = rows[np.argmin(f[rows])]
    return best


@float64_call
def fit_links(
    data: Any,
    metrics: Any = None,
    link: str | Link = "sigmoid",
    *,
    floor: Any = None,
    ceiling: Any = None,
    delta: float | None = None,
    n_resamples: int = 0,
    seed: int = 0,
    scheme: str = "points",
    polish_steps: int = 100,
) -> LinkFit:
    """Fit a loss -> metric link to every metric at once (one batched solve).

    Args:
      data: a `Runs` (its ``loss`` and the metric columns in ``extra``, e.g. from
        ``load_runs(path, ..., extra=[score columns])``), or an array of losses (nats/token).
      metrics: metric names among ``data.extra`` (default: all of them), or a mapping
        ``{name: values}`` (required with a loss array).
      link: ``"sigmoid"``, ``"exponential"``, ``"logit"`` or a `Link`.
      floor: None (fitted), a number (fixed for all metrics), ``"chance"`` (fixed at the
        metric's chance level from `CHANCE`), or a mapping ``{metric: value or None}``.
      ceiling: the same for the ceiling (sigmoid and logit links).
      delta: Huber threshold in residual units (default: the link's, 0.01 on the metric scale,
        0.1 on the logit scale).
      n_resamples: bootstrap resamples (0: none); `seed`, `scheme` (``"points"`` or
        ``"groups"``: runs grouped by model size, needs a `Runs`) as in `scaling_jax.bootstrap`.
      polish_steps: Newton-finish steps per lane.
    """
    lk = get_link(link)
    loss, names, values, weights = _columns(data, metrics)
    n, M, k = loss.size, len(names), lk.n_params
    if n < k:
        raise ValueError(f"{n} runs cannot determine the {k} coordinates of the {lk.name} link")
    delta = lk.default_delta if delta is None else float(delta)
    if not (math.isfinite(delta) and delta > 0):
        raise ValueError(f"delta must be a positive finite number, got {delta!r}")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)):
        raise ValueError(f"n_resamples must be an integer >= 0, got {n_resamples!r}")
    if n_resamples < 0:
        raise ValueError(f"n_resamples must be >= 0, got {n_resamples}")
    if scheme not in ("points", "groups"):
        raise ValueError(f"scheme={scheme!r}: use 'points' or 'groups'")
    if scheme == "groups" and not isinstance(data, Runs):
        raise ValueError("scheme='groups' groups runs by model size N: pass a Runs")

    mask = np.zeros((M, k), bool)
    fixed_values = np.zeros((M, k))
    required = dict(lk.required_fixed)
    for coord, spec in (("floor", floor), ("ceiling", ceiling)):
        if coord not in lk.param_names:
            if spec is not None:
                raise ValueError(
                    f"the {lk.name} link has no {coord}; its coordinates are {lk.param_names}"
                )
            continue
        j = lk.param_names.index(coord)
        for m, v in enumerate(_per_metric(spec, names, coord)):
            if v is None and coord in required:
                v = required[coord]
            if v is not None:
                mask[m, j], fixed_values[m, j] = True, v
    if "ceiling" in lk.param_names:
        jf, jc = lk.param_names.index("floor"), lk.param_names.index("ceiling")
        both = mask[:, jf] & mask[:, jc] & (fixed_values[:, jc] <= fixed_values[:, jf])
        if both.any():
            m = int(np.flatnonzero(both)[0])
            raise ValueError(
                f"metric {names[m]!r}: ceiling {fixed_values[m, jc]} must exceed floor "
                f"{fixed_values[m, jf]}"
            )

    warnings: list[str] = []
    if lk.name == "logit":
        jf, jc = lk.param_names.index("floor"), lk.param_names.index("ceiling")
        for m, name in enumerate(names):
            lo, hi = fixed_values[m, jf], fixed_values[m, jc]
            clipped = int(np.sum((values[m] <= lo) | (values[m] >= hi)))
            if clipped:
                warnings.append(
                    f"{name}: {clipped} of {n} values lie outside (floor, ceiling) = "
                    f"({lo:g}, {hi:g}) and were clipped on the logit scale"
                )

    # Full-data fit: lanes = (metric, start).
    starts, owner = [], []
    for m in range(M):
        s = lk.starts(loss, values[m], fixed_values[m], mask[m])
        starts.append(s)
        owner.append(np.full(len(s), m))
    theta0 = np.concatenate(starts)
    owner = np.concatenate(owner)
    objective = link_objective(lk)
    shared = _Shared(jnp.asarray(loss), jnp.asarray(delta, jnp.float64))
    lanes = _Lane(
        metric=values[owner],
        weights=np.broadcast_to(weights, (len(owner), n)).copy(),
        mask=mask[owner],
        values=fixed_values[owner],
    )
    res = solve_starts(objective, theta0, shared, SolverOptions(), lane_data=lanes)
    best = _best_per_metric(res.objective, owner, M)
    pol = polish(
        objective, res.theta[best], shared, polish_steps, jax.tree.map(lambda a: a[best], lanes)
    )
    take = pol.objective <= res.objective[best]
    theta = np.where(take[:, None], pol.theta, res.theta[best])
    theta = np.where(mask, fixed_values, theta)
    fval = np.where(take, pol.objective, res.objective[best])
    status = [Status.name(s) for s in res.status[best]]
    for m, name in enumerate(names):
        if not np.isfinite(fval[m]):
            raise RuntimeError(f"metric {name!r}: every start gave a non-finite objective")
        if status[m] != "converged" and not (take[m] and pol.converged[m]):
            warnings.append(f"{name}: the best start ended with status {status[m]!r}")

    theta_boot = boot_status = None
    if n_resamples > 0:
        groups = np.unique(data.N, return_inverse=True)[1] if isinstance(data, Runs) else None
        w = (
            np.stack([resample_weights(n, i, seed, scheme, groups) for i in range(n_resamples)])
            * weights[None]
        )
        rows_m = np.repeat(np.arange(M), n_resamples)
        rows_r = np.tile(np.arange(n_resamples), M)
        blanes = _Lane(
            metric=values[rows_m],
            weights=w[rows_r],
            mask=mask[rows_m],
            values=fixed_values[rows_m],
        )
        loose = SolverOptions(ftol=1e-6, max_iter=200, max_evals=800)
        bres = solve_starts(objective, theta[rows_m], shared, loose, lane_data=blanes)
        bpol = polish(objective, bres.theta, shared, polish_steps, blanes)
        better = bpol.objective <= bres.objective
        tb = np.where(better[:, None], bpol.theta, bres.theta)
        tb = np.where(blanes.mask, blanes.values, tb)
        theta_boot = tb.reshape(M, n_resamples, k)
        boot_status = bres.status.reshape(M, n_resamples)
    return LinkFit(
        link=lk.name,
        param_names=lk.param_names,
        metrics=tuple(names),
        theta=theta,
        objective=fval,
        status=tuple(status),
        fixed=mask,
        n_points=n,
        delta=delta,
        loss_range=(float(loss.min()), float(loss.max())),
        theta_boot=theta_boot,
        boot_status=boot_status,
        seed=int(seed),
        scheme=scheme,
        warnings=tuple(warnings),
    )
