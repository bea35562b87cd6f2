"""Bootstrap uncertainty for scaling-law fits, at scale: resamples x starts in lock step.

Every resample is a vector of integer **count weights** on the *same* data points, so a batch of
(resample, start) lanes shares one copy of the data and only the per-lane weight vector differs
(`solver.solve_starts(..., lane_data=weights)`). This is how Epoch AI's 4000-resample bootstrap
of the 240 Chinchilla points (Besiroglu et al. 2024) runs as one batched solve per chunk.

Resampling schemes (``scheme=``):
  * ``"points"``: n points drawn with replacement (Epoch's bootstrap). Weight = draw count.
  * ``"groups"``: the runs are grouped by model size N; G groups are drawn with replacement and
    every run of a drawn group gets that group's draw count (a cluster bootstrap: runs of one
    model size share errors, e.g. one tokenizer/architecture setting).
  * ``"residual"``: fixed design, model-based: the log-loss residuals of the full-data fit are
    resampled with replacement and added to its fitted log-loss (y* = fit + r[idx]); each lane
    carries its log-loss offset instead of weights.

Start strategies (``starts=``):
  * ``"grid"``: every resample is fitted from the law's full grid (Chinchilla: 4500 starts)
    with L-BFGS to convergence, then the best ``polish_starts`` lanes get a damped-Newton finish
    -- the faithful, expensive reference (chunked; 4000 x 4500 = 18M L-BFGS runs).
  * ``"warm"`` (default): the full-data optimum plus ``n_extra_starts`` grid points whose
    full-data fits reached the best basin (default 0: the warm start alone), a *loose* L-BFGS
    (ftol 1e-6), then exact-Hessian Levenberg-Marquardt steps on every lane until each converges
    (at most ``polish_steps``).
    Warm starts alone with scipy-style stopping collapse the intervals ~1000x (each resample
    "converges" where it starts); the Newton finish is what makes the cheap strategy correct.
    `benchmarks/bootstrap_throughput.py` measures how often it misses the grid's best basin.
  * an int or an (S, k) array: those starts (seeded random ones for an int) for every
    resample, treated like ``"grid"``.

Determinism: resample i's weights come from ``numpy.random.default_rng([seed, i])`` and lanes
never interact, so the results do not depend on chunk size, device count, process count or
resumption (tests check bit-identity).

Memory: `estimate_memory` gives a conservative bytes-per-lane figure; ``memory_budget`` (bytes)
or ``chunk_size`` (resamples per chunk) bound how many lanes are alive at once. With the default
2 GiB budget, 4000 x 4500 on 240 points runs in chunks of ~9 resamples (40k lanes); a 24 GiB
CPU machine or one GPU can use ``memory_budget=16 * 2**30``.

Scale-out:
  * Local devices (GPUs, or CPU devices with ``XLA_FLAGS=--xla_force_host_platform_device_count
    =4``): the resample axis is split over a 1-D `jax.sharding.Mesh` named ``"resample"``; chunk
    c goes to device c mod n_devices, which runs its own lock-step solve on a copy of the data
    committed to it, one host thread per device: every number is bit-identical whatever the
    device count. With ``shard="lanes"`` each chunk's (resample x start) lanes are instead
    sharded over all devices with `NamedSharding` (a 1-D `Mesh`, data replicated), so one big
    chunk fills several GPUs. Pass ``devices=`` to choose them.
  * Several hosts: start every process with ``jax.distributed.initialize(...)`` and call
    `bootstrap` with the same arguments and a shared ``out_dir`` (e.g. NFS). Process p of P
    takes chunks c with c mod P = p, writes them to ``out_dir``, waits at a barrier
    (``multihost_utils.sync_global_devices``) and then every process merges all chunk files.
    Without a shared filesystem, copy the chunk files together and call `load_bootstrap`.
    Example (2 hosts x 8 GPUs)::

        jax.distributed.initialize(coordinator_address="host0:1234", num_processes=2,
                                   process_id=int(os.environ["RANK"]))
        res = sj.bootstrap("runs.csv", n_resamples=4000, starts="grid", out_dir="/nfs/boot",
                           memory_budget=60 * 2**30, dtype="float32")

Resume: with ``out_dir``, a ``manifest.json`` records the configuration (data hash, law, seed,
scheme, starts, solver options, dtype) and each finished chunk is written atomically (temporary
file + `os.replace`). Re-running the same call skips the finished resamples; a different
configuration on the same directory raises ValueError. Raising ``n_resamples`` later extends a
finished run (resample i does not depend on the total).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import json
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scaling_jax._io import json_float, write_bytes_atomic, write_json_atomic
from scaling_jax.data import Runs, as_runs, check_enough_points
from scaling_jax.fitting.multistart import fit, fit_data, make_starts
from scaling_jax.fitting.objective import FitData, huber, make_objective
from scaling_jax.fitting.solver import SolverOptions, Status, polish, solve_starts
from scaling_jax.laws import ChinchillaParams, Law, get_law, law_loss_fn, saved_law
from scaling_jax.sizing.optimal import compute_optimal

__all__ = [
    "bootstrap",
    "BootstrapResult",
    "load_bootstrap",
    "resample_weights",
    "estimate_memory",
    "plan_chunks",
    "derived_quantities",
    "exponents",
    "tokens_per_param",
    "predicted_loss",
    "percentile_interval",
    "bca_interval",
    "SCHEMES",
]

SCHEMES = ("points", "groups", "residual")
_MANIFEST = "manifest.json"
_FORMAT = 1
_PARAM_ORDER = ("A", "B", "E", "alpha", "beta")

Array = Any


# --------------------------------------------------------------------------------------------
# Resampling


def _groups(runs: Runs) -> np.ndarray:
    """Group label per run: runs with equal model size N form a group."""
    _, labels = np.unique(runs.N, return_inverse=True)
    return labels


def resample_weights(
    n_points: int, index: int, seed: int = 0, scheme: str = "points", groups: Any = None
) -> np.ndarray:
    """Count weights (n_points,) of resample `index`; depends only on (seed, index).

    ``"points"`` and ``"residual"`` draw n point indices with replacement (for ``"residual"``
    they index the residuals); ``"groups"`` draws G group labels and gives every point its
    group's count.
    """
    rng = np.random.default_rng([int(seed), int(index)])
    if scheme == "groups":
        labels = np.asarray(groups)
        n_groups = int(labels.max()) + 1
        counts = np.bincount(rng.integers(0, n_groups, n_groups), minlength=n_groups)
        return counts[labels].astype(np.float64)
    return np.bincount(rng.integers(0, n_points, n_points), minlength=n_points).astype(np.float64)


def _residual_draw(n_points: int, index: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng([int(seed), int(index)])
    return rng.integers(0, n_points, n_points)


_RESIDUAL_OBJECTIVES: dict[Any, Callable[..., Array]] = {}


def _residual_objective(log_loss_fn: Callable[..., Array]) -> Callable[..., Array]:
    """Objective whose per-lane data is a log-loss offset (residual bootstrap); one per law."""
    if log_loss_fn not in _RESIDUAL_OBJECTIVES:

        def objective(theta: Array, data: FitData, offset: Array) -> Array:
            residual = log_loss_fn(theta, data.features) - (data.log_loss + offset)
            return jnp.sum(data.weights * huber(residual, data.delta))

        _RESIDUAL_OBJECTIVES[log_loss_fn] = objective
    return _RESIDUAL_OBJECTIVES[log_loss_fn]


# --------------------------------------------------------------------------------------------
# Memory planning


def estimate_memory(
    n_points: int, n_params: int = 5, history: int = 10, dtype_bytes: int = 8
) -> int:
    """Conservative peak bytes per (resample, start) lane of the L-BFGS solve.

    Counts the lane state (x, f, g, d, bracket, the 2 x history x k memory), the per-lane data
    row (n points) on host and device, and ~24 n values of vmapped value-and-gradient
    intermediates (log-sum-exp terms, residuals, Huber, their cotangents).
    """
    state = 2 * history * n_params + history + 8 * n_params + 16
    return int(dtype_bytes * (state + 2 * n_points + 24 * n_points))


def plan_chunks(
    n_resamples: int,
    n_starts: int,
    n_points: int,
    *,
    chunk_size: int | None = None,
    memory_budget: float | None = None,
    n_params: int = 5,
    history: int = 10,
    dtype_bytes: int = 8,
) -> dict[str, Any]:
    """How many resamples run per chunk (and lanes per solver batch) under a memory budget.

    Returns ``{"chunk_size", "batch_size", "n_chunks", "bytes_per_lane", "peak_bytes"}``;
    ``batch_size`` is None unless a single resample's starts exceed the budget.
    """
    per_lane = estimate_memory(n_points, n_params, history, dtype_bytes)
    budget = 2 * 2**30 if memory_budget is None else float(memory_budget)
    if chunk_size is None:
        # Also cap a chunk at 2**16 lanes and 1000 resamples: checkpoints stay frequent and
        # a bigger batch no longer speeds up the lock-step solve.
        chunk_size = max(1, min(int(budget // (per_lane * n_starts)), 2**16 // n_starts, 1000))
    chunk_size = max(1, min(int(chunk_size), max(n_resamples, 1)))
    lanes = chunk_size * n_starts
    batch = None
    if memory_budget is not None and lanes * per_lane > budget:
        batch = max(1, int(budget // per_lane))
        lanes = batch
    return {
        "chunk_size": chunk_size,
        "batch_size": batch,
        "n_chunks": math.ceil(n_resamples / chunk_size) if n_resamples else 0,
        "bytes_per_lane": per_lane,
        "peak_bytes": lanes * per_lane,
    }


# --------------------------------------------------------------------------------------------
# Derived quantities (pure functions of a params pytree with a leading resample axis)


def exponents(params: Any) -> tuple[Array, Array]:
    """a = beta/(alpha+beta) (N_opt ~ C^a) and b = alpha/(alpha+beta) (D_opt ~ C^b)."""
    total = params.alpha + params.beta
    return params.beta / total, params.alpha / total


def tokens_per_param(params: Any, compute: Array) -> Array:
    """Compute-optimal D_opt/N_opt (tokens per parameter) at `compute` FLOPs; (R, *C.shape)."""
    n, d = compute_optimal(params, compute, params_batch=True)
    return d / n


def predicted_loss(params: Any, N: Array, D: Array) -> Array:
    """Chinchilla loss (nats/token) at (N, D) for every resample; shape (R, *broadcast(N, D))."""
    N, D = jnp.broadcast_arrays(jnp.asarray(N, float), jnp.asarray(D, float))

    def expand(leaf: Array) -> Array:
        leaf = jnp.asarray(leaf)
        return leaf.reshape(leaf.shape[:1] + (1,) * N.ndim)

    A, B, E, alpha, beta = (expand(v) for v in params)
    return E + A / jnp.power(N[None], alpha) + B / jnp.power(D[None], beta)


def derived_quantities(
    params: Any, budgets: Any = None, points: Any = None, *, law: Law | None = None
) -> dict[str, Array]:
    """Quantities derived from per-resample params, vectorized (jit/vmap-able).

    Args:
      params: natural params whose leaves have a leading resample axis (R,).
      budgets: training budgets C (FLOPs), shape (nC,) -> N_opt, D_opt, tokens_per_param (R, nC).
      points: (N, D) arrays of shape (nP,) -> predicted loss (R, nP) in nats/token.
      law: the `Law` the params belong to (default: Chinchilla). Chinchilla params give the
        exponents a, b and the closed-form optimum; any other law that reads only N and D gets
        N_opt, D_opt, tokens_per_param from the numeric compute-optimal solver and the loss
        from its own prediction (a, b are Chinchilla closed forms and are left out).
    """
    closed = isinstance(params, ChinchillaParams) if law is not None else True
    needs_loss = not closed and (budgets is not None or points is not None)
    loss_fn = law_loss_fn(law) if needs_loss else None
    out: dict[str, Array] = {}
    if closed:
        a, b = exponents(params)
        out.update(a=a, b=b)
    if budgets is not None:
        c = jnp.atleast_1d(jnp.asarray(budgets, float))
        n, d = compute_optimal(params, c, loss_fn=loss_fn, params_batch=True)
        out.update(N_opt=n, D_opt=d, tokens_per_param=d / n)
    if points is not None:
        N, D = points
        N, D = (jnp.atleast_1d(jnp.asarray(v, float)) for v in (N, D))
        if closed:
            out["loss"] = predicted_loss(params, N, D)
        else:
            N, D = jnp.broadcast_arrays(N, D)
            out["loss"] = jax.vmap(lambda p: loss_fn(p, N, D))(params)
    return out


# --------------------------------------------------------------------------------------------
# Intervals


def _norm_ppf(p: np.ndarray) -> np.ndarray:
    from scipy.special import ndtri  # noqa: PLC0415 -- scipy only needed for BCa

    return ndtri(p)


def _norm_cdf(x: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr  # noqa: PLC0415

    return ndtr(x)


def _check_level(level: float) -> float:
    level = float(level)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    return level


def percentile_interval(samples: Any, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap percentile interval over axis 0 of `samples` (NaNs ignored)."""
    alpha = 1.0 - _check_level(level)
    s = np.asarray(samples, np.float64)
    lo, hi = np.nanquantile(s, [alpha / 2, 1 - alpha / 2], axis=0)
    return lo, hi


def bca_interval(
    samples: Any, estimate: Any, jackknife: Any, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Bias-corrected and accelerated interval (Efron 1987) over axis 0 of `samples`.

    z0 = Phi^-1(fraction of samples below the estimate, ties counted half); the acceleration
    a = sum(d^3) / (6 (sum d^2)^1.5) with d = mean(jackknife) - jackknife (leave-one-out
    estimates on axis 0); the interval is the (Phi(z0 + (z0+z)/(1-a(z0+z)))) quantiles.
    """
    alpha = 1.0 - _check_level(level)
    s = np.asarray(samples, np.float64)
    est = np.asarray(estimate, np.float64)
    jack = np.asarray(jackknife, np.float64)
    n = np.sum(np.isfinite(s), axis=0)
    below = (np.sum(s < est, axis=0) + 0.5 * np.sum(s == est, axis=0)) / np.maximum(n, 1)
    z0 = _norm_ppf(np.clip(below, 1.0 / (n + 1), n / (n + 1)))
    d = np.nanmean(jack, axis=0) - jack
    den = 6.0 * np.power(np.nansum(d * d, axis=0), 1.5)
    acc = np.where(den > 0, np.nansum(d**3, axis=0) / np.where(den > 0, den, 1.0), 0.0)
    sorted_s = np.sort(s, axis=0)  # NaNs sort last; n counts the finite ones

    def quantile(q: np.ndarray) -> np.ndarray:
        # Per-element quantile with its own probability q (vectorized over trailing dims).
        pos = np.clip(q * (n - 1), 0, np.maximum(n - 1, 0))
        lo_i = np.floor(pos).astype(int)
        hi_i = np.minimum(lo_i + 1, np.maximum(n - 1, 0))
        frac = pos - lo_i
        at = lambda i: np.take_along_axis(sorted_s, np.asarray(i)[None], axis=0)[0]  # noqa: E731
        return at(lo_i) * (1 - frac) + at(hi_i) * frac

    bounds = [
        quantile(_norm_cdf(z0 + (z0 + z) / (1.0 - acc * (z0 + z))))
        for z in _norm_ppf(np.array([alpha / 2, 1 - alpha / 2]))
    ]
    return bounds[0], bounds[1]


# --------------------------------------------------------------------------------------------
# Result


@dataclass(frozen=True)
class BootstrapResult:
    """Per-resample best fits of a bootstrap, and intervals for everything derived from them.

    Attributes:
      law: the fitted `Law` itself (JSON stores its name; see `from_json`);
      param_names: its fit coordinates (a, b, e, alpha, beta for Chinchilla).
      indices: (R,) resample ids (resample i depends only on (seed, i)).
      theta: (R, k) best point per resample, fit coordinates.
      objective: (R,) its summed Huber objective; grad_norm: (R,) max |gradient| there.
      status: (R,) `solver.Status` code of the winning lane's L-BFGS run.
      n_basin: (R,) lanes of that resample ending within ``basin_rtol`` of its best.
      n_eval: (R,) objective evaluations spent on the resample (all its lanes).
      theta_hat: (k,) full-data fit; objective_hat its objective.
      jackknife: (J, k) leave-one-out (point or group) fits for BCa, or None.
      config: the configuration (as in the manifest); timings: wall seconds.
    """

    law: Law
    param_names: tuple[str, ...]
    indices: np.ndarray
    theta: np.ndarray
    objective: np.ndarray
    grad_norm: np.ndarray
    status: np.ndarray
    n_basin: np.ndarray
    n_eval: np.ndarray
    theta_hat: np.ndarray
    objective_hat: float
    jackknife: np.ndarray | None = None
    config: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def params(self) -> Any:
        """The law's natural-params NamedTuple (e.g. `ChinchillaParams`) of arrays (R,)."""
        return self._natural(self.theta)

    @property
    def params_hat(self) -> Any:
        """Natural params of the full-data fit (floats)."""
        p = self.law.to_params(jnp.asarray(self.theta_hat))
        return type(p)(*(float(v) for v in p))

    def _natural(self, theta: np.ndarray) -> Any:
        p = self.law.to_params(jnp.asarray(theta))
        return type(p)(*(np.asarray(v) for v in p))

    def _table(self, theta: np.ndarray | None) -> np.ndarray | None:
        if theta is None:
            return None
        return np.stack(list(self._natural(theta)), axis=-1)

    @property
    def natural_names(self) -> tuple[str, ...]:
        return tuple(self.params._fields)

    def stderr(self) -> dict[str, float]:
        """Bootstrap standard errors (sample std, ddof=1) of the natural parameters."""
        tab = self._table(self.theta)
        return dict(zip(self.natural_names, np.std(tab, axis=0, ddof=1).tolist(), strict=True))

    def covariance(self, natural: bool = True) -> np.ndarray:
        """Bootstrap covariance (k, k) of natural params (or of fit coordinates)."""
        tab = self._table(self.theta) if natural else self.theta
        return np.cov(tab, rowvar=False)

    def correlation(self, natural: bool = True) -> np.ndarray:
        """Bootstrap correlation matrix (k, k), ordered like `natural_names` / `param_names`."""
        tab = self._table(self.theta) if natural else self.theta
        return np.corrcoef(tab, rowvar=False)

    def _interval_of(
        self,
        samples: np.ndarray,
        estimate: np.ndarray,
        jack: np.ndarray | None,
        level: float,
        method: str,
    ) -> tuple[np.ndarray, np.ndarray]:
        if method == "percentile":
            return percentile_interval(samples, level)
        if method == "bca":
            if jack is None:
                raise ValueError(
                    "method='bca' needs jackknife fits: run bootstrap(..., jackknife=True)"
                )
            return bca_interval(samples, estimate, jack, level)
        raise ValueError(f"method={method!r}: use 'percentile' or 'bca'")

    def interval(
        self, level: float = 0.95, method: str = "percentile"
    ) -> dict[str, tuple[float, float]]:
        """Confidence intervals of the natural parameters: name -> (low, high)."""
        lo, hi = self._interval_of(
            self._table(self.theta),
            self._table(self.theta_hat[None])[0],
            self._table(self.jackknife),
            level,
            method,
        )
        return {k: (float(a), float(b)) for k, a, b in zip(self.natural_names, lo, hi, strict=True)}

    def derived(self, budgets: Any = None, points: Any = None) -> dict[str, np.ndarray]:
        """Per-resample derived quantities (see `derived_quantities`), numpy arrays (R, ...)."""
        _check_budgets(budgets)
        return {
            k: np.asarray(v)
            for k, v in derived_quantities(self.params, budgets, points, law=self.law).items()
        }

    def derived_intervals(
        self,
        budgets: Any = None,
        points: Any = None,
        level: float = 0.95,
        method: str = "percentile",
    ) -> dict[str, dict[str, np.ndarray]]:
        """name -> {"estimate", "low", "high", "stderr"} for a, b, N_opt, D_opt, ... ."""
        _check_budgets(budgets)
        boot = derived_quantities(self.params, budgets, points, law=self.law)
        hat = derived_quantities(
            self._natural(self.theta_hat[None]), budgets, points, law=self.law
        )
        jack = (
            None
            if self.jackknife is None
            else derived_quantities(self._natural(self.jackknife), budgets, points, law=self.law)
        )
        out = {}
        for name, samples in boot.items():
            s, est = np.asarray(samples), np.asarray(hat[name])[0]
            lo, hi = self._interval_of(
                s, est, None if jack is None else np.asarray(jack[name]), level, method
            )
            out[name] = {
                "estimate": est,
                "low": lo,
                "high": hi,
                "stderr": np.nanstd(s, axis=0, ddof=1),
            }
        return out

    def status_counts(self) -> dict[str, int]:
        codes, counts = np.unique(self.status, return_counts=True)
        return {Status.name(c): int(n) for c, n in zip(codes, counts, strict=True)}

    def summary(self, level: float = 0.95, budgets: Sequence[float] = (5.76e23,)) -> str:
        """Readable summary: estimates, standard errors, intervals, derived quantities."""
        se, iv, hat = self.stderr(), self.interval(level), self.params_hat._asdict()
        cfg = self.config
        lines = [
            f"scaling_jax bootstrap: law={self.law.name}, {len(self)} resamples "
            f"(scheme={cfg.get('scheme')}, starts={cfg.get('starts')}, seed={cfg.get('seed')}), "
            f"{cfg.get('n_points')} runs",
            f"  full-data objective {self.objective_hat:.10e}; resample status: "
            + ", ".join(f"{k} {v}" for k, v in self.status_counts().items())
            + f"; median lanes in best basin {float(np.median(self.n_basin)):g}",
            f"  {'param':>8} {'estimate':>12} {'stderr':>12}   {int(level * 100)}% interval",
        ]
        for k in self.natural_names:
            lines.append(
                f"  {k:>8} {hat[k]:>12.6g} {se[k]:>12.4g}   [{iv[k][0]:.6g}, {iv[k][1]:.6g}]"
            )
        nd_law = set(self.law.feature_names) <= {"N", "D"}
        d = self.derived_intervals(budgets=list(budgets), level=level) if nd_law else {}
        for k in ("a", "b"):
            if k not in d:
                continue
            v = d[k]
            lines.append(
                f"  {k:>8} {float(v['estimate']):>12.6g} {float(v['stderr']):>12.4g}   "
                f"[{float(v['low']):.6g}, {float(v['high']):.6g}]"
            )
        for j, c in enumerate(budgets if d else ()):
            for k in ("N_opt", "D_opt", "tokens_per_param"):
                v = d[k]
                lines.append(
                    f"  {k}(C={c:.3g}) = {float(v['estimate'][j]):.4g}  "
                    f"[{float(v['low'][j]):.4g}, {float(v['high'][j]):.4g}]"
                )
        if self.timings:
            lines.append("  time: " + ", ".join(f"{k} {v:.2f}s" for k, v in self.timings.items()))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "law": self.law.name,
            "param_names": list(self.param_names),
            "indices": self.indices.tolist(),
            "theta": self.theta.tolist(),
            "objective": [json_float(v) for v in self.objective],
            "grad_norm": [json_float(v) for v in self.grad_norm],
            "status": self.status.tolist(),
            "n_basin": self.n_basin.tolist(),
            "n_eval": self.n_eval.tolist(),
            "theta_hat": self.theta_hat.tolist(),
            "objective_hat": self.objective_hat,
            "jackknife": None if self.jackknife is None else self.jackknife.tolist(),
            "config": self.config,
            "timings": self.timings,
            "stderr": self.stderr(),
            "interval_95": {k: list(v) for k, v in self.interval(0.95).items()},
        }

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write everything (per-resample fits included) as JSON, atomically."""
        write_json_atomic(path, self.to_dict())

    @classmethod
    def from_dict(cls, blob: Mapping[str, Any], law: Law | None = None) -> BootstrapResult:
        """Rebuild a result from `to_dict` output; `law` is required for a user law."""

        def arr(key: str, dtype: Any = np.float64) -> np.ndarray:
            return np.asarray([np.nan if v is None else v for v in blob[key]], dtype)

        k = len(blob["theta_hat"])
        jack = blob.get("jackknife")
        return cls(
            law=saved_law(blob["law"], blob["param_names"], law),
            param_names=tuple(blob["param_names"]),
            indices=np.asarray(blob["indices"], np.int64),
            theta=np.asarray(blob["theta"], np.float64).reshape(-1, k),
            objective=arr("objective"),
            grad_norm=arr("grad_norm"),
            status=np.asarray(blob["status"], np.int64),
            n_basin=np.asarray(blob["n_basin"], np.int64),
            n_eval=np.asarray(blob["n_eval"], np.int64),
            theta_hat=np.asarray(blob["theta_hat"], np.float64),
            objective_hat=float(blob["objective_hat"]),
            jackknife=None if jack is None else np.asarray(jack, np.float64).reshape(-1, k),
            config=dict(blob.get("config", {})),
            timings=dict(blob.get("timings", {})),
        )

    @classmethod
    def from_json(cls, path: str | os.PathLike[str], law: Law | None = None) -> BootstrapResult:
        """Read a result written by `to_json`. A registry law is reloaded by its stored name;
        for a user law pass the same `Law` object (``law=custom_law(...)``)."""
        return cls.from_dict(json.loads(Path(path).read_text()), law)

    def to_csv(
        self,
        path: str | os.PathLike[str],
        budgets: Any = None,
        points: Any = None,
        level: float = 0.95,
        method: str = "percentile",
    ) -> None:
        """Summary table (quantity, estimate, stderr, low, high) as CSV, written atomically."""
        hat = self.params_hat._asdict()
        se = self.stderr()
        iv = self.interval(level, method)
        rows = [("quantity", "estimate", "stderr", f"low_{level:g}", f"high_{level:g}")]
        rows += [(k, hat[k], se[k], *iv[k]) for k in self.natural_names]
        d = self.derived_intervals(budgets, points, level, method)
        labels: dict[str, list[str]] = {k: [k] for k in ("a", "b") if k in d}
        if budgets is not None:
            cs = np.atleast_1d(np.asarray(budgets, float))
            for k in ("N_opt", "D_opt", "tokens_per_param"):
                labels[k] = [f"{k}(C={c:.6g})" for c in cs]
        if points is not None:
            Ns, Ds = (np.atleast_1d(np.asarray(v, float)) for v in points)
            labels["loss"] = [f"loss(N={n:.6g},D={dd:.6g})" for n, dd in zip(Ns, Ds, strict=True)]
        for k, names in labels.items():
            v = {f: np.atleast_1d(d[k][f]) for f in ("estimate", "stderr", "low", "high")}
            for j, name in enumerate(names):
                rows.append((name, v["estimate"][j], v["stderr"][j], v["low"][j], v["high"][j]))
        text = "\n".join(
            ",".join(c if isinstance(c, str) else repr(float(c)) for c in row) for row in rows
        )
        write_bytes_atomic(Path(path), (text + "\n").encode())


def _check_budgets(budgets: Any) -> None:
    if budgets is None:
        return
    b = np.asarray(budgets, dtype=float)
    if not np.all(np.isfinite(b) & (b > 0)):
        raise ValueError(f"budgets must be finite and positive FLOPs, got {budgets!r}")


# --------------------------------------------------------------------------------------------
# Checkpoint files


def _save_npz_atomic(path: Path, **arrays: np.ndarray) -> None:
    import io  # noqa: PLC0415

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    write_bytes_atomic(path, buf.getvalue())


_CHUNK_KEYS = ("indices", "theta", "objective", "grad_norm", "status", "n_basin", "n_eval")


def _load_chunks(out_dir: Path) -> dict[str, np.ndarray]:
    parts: dict[str, list[np.ndarray]] = {k: [] for k in _CHUNK_KEYS}
    for f in sorted(out_dir.glob("chunk_*.npz")):
        with np.load(f) as z:
            for k in _CHUNK_KEYS:
                parts[k].append(z[k])
    if not parts["indices"]:
        return {}
    merged = {k: np.concatenate(v) for k, v in parts.items()}
    # Overlapping chunks (a resample done twice by racing processes) are identical; keep one.
    _, first = np.unique(merged["indices"], return_index=True)
    return {k: v[first] for k, v in merged.items()}


def _data_hash(runs: Runs) -> str:
    h = hashlib.sha256()
    for arr in (runs.N, runs.D, runs.loss, runs.weights):
        if arr is not None:
            h.update(np.ascontiguousarray(arr, np.float64).tobytes())
        h.update(b"|")
    for name in sorted(runs.extra):
        h.update(name.encode() + np.ascontiguousarray(runs.extra[name]).tobytes())
    return h.hexdigest()


def _array_hash(arr: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(arr, np.float64).tobytes()).hexdigest()


def _check_manifest(out_dir: Path, config: dict[str, Any], size: int, explicit: Any) -> int:
    """Create or check ``manifest.json``; return the chunk size to use (the stored one)."""
    path = out_dir / _MANIFEST
    if path.exists():
        old = json.loads(path.read_text())
        stored = int(old.pop("chunk_size", size))
        diff = sorted(k for k in set(old) | set(config) if old.get(k) != config.get(k))
        if explicit and stored != size:
            diff.append("chunk_size")
            old["chunk_size"], config = stored, {**config, "chunk_size": size}
        if diff:
            detail = "; ".join(f"{k}: {old.get(k)!r} != {config.get(k)!r}" for k in diff[:6])
            raise ValueError(
                f"out_dir {str(out_dir)!r} holds a bootstrap with a different configuration "
                f"({detail}); use a new out_dir or the original settings"
            )
        return stored
    if any(out_dir.glob("chunk_*.npz")):
        raise ValueError(
            f"out_dir {str(out_dir)!r} has chunk files but no {_MANIFEST}; refusing to mix"
        )
    write_json_atomic(path, {**config, "chunk_size": size})
    return size


# --------------------------------------------------------------------------------------------
# The solve


@dataclass(frozen=True)
class _Plan:
    law: Law
    objective: Callable[..., Array]
    fdata: FitData
    starts: np.ndarray  # (S, k) starts every resample uses
    options: SolverOptions
    polish_starts: int
    polish_steps: int
    basin_rtol: float
    batch_size: int | None
    lane_rows: Callable[[int], np.ndarray]  # resample index -> per-lane data row (n,)


def _solve_chunk(
    plan: _Plan, rows: np.ndarray, device: Any = None, mesh: Any = None
) -> dict[str, np.ndarray]:
    """Best fit for each row (weights or offsets, (R, n)) with every start; numpy out."""
    n_res, n_pts = rows.shape
    n_starts, k = plan.starts.shape
    theta0 = np.tile(plan.starts, (n_res, 1))
    lane = np.repeat(rows, n_starts, axis=0)
    with jax.default_device(device) if device is not None else contextlib.nullcontext():
        fdata = plan.fdata if device is None else jax.device_put(plan.fdata, device)
        res = solve_starts(
            plan.objective,
            theta0,
            fdata,
            plan.options,
            batch_size=plan.batch_size,
            lane_data=lane,
            mesh=mesh,
        )
        f = np.where(np.isfinite(res.objective), res.objective, np.inf).reshape(n_res, n_starts)
        theta = res.theta.reshape(n_res, n_starts, k).copy()
        gnorm = res.grad_norm.reshape(n_res, n_starts).copy()
        status = res.status.reshape(n_res, n_starts).copy()
        n_pol = min(plan.polish_starts, n_starts)
        if n_pol > 0 and plan.polish_steps > 0:
            # Newton-finish each resample's best lanes (stable order keeps ties deterministic).
            top = np.argsort(f, axis=1, kind="stable")[:, :n_pol]
            pol = polish(
                plan.objective,
                theta[np.arange(n_res)[:, None], top].reshape(-1, k),
                fdata,
                plan.polish_steps,
                lane_data=np.repeat(rows, n_pol, axis=0),
            )
            pf = np.where(np.isfinite(pol.objective), pol.objective, np.inf).reshape(n_res, n_pol)
            better = pf <= np.take_along_axis(f, top, axis=1)
            r_idx = np.arange(n_res)[:, None]
            cur_f = f[r_idx, top]
            f[r_idx, top] = np.where(better, pf, cur_f)
            theta[r_idx, top] = np.where(
                better[..., None], pol.theta.reshape(n_res, n_pol, k), theta[r_idx, top]
            )
            gnorm[r_idx, top] = np.where(
                better, pol.grad_norm.reshape(n_res, n_pol), gnorm[r_idx, top]
            )
            # A lane the Newton finish improved is converged only if the finish converged.
            pol_status = np.where(
                pol.converged.reshape(n_res, n_pol), Status.CONVERGED, Status.MAX_ITERATIONS
            )
            status[r_idx, top] = np.where(better, pol_status, status[r_idx, top])
    best = np.argmin(f, axis=1)
    r = np.arange(n_res)
    best_f = f[r, best]
    thresh = best_f + plan.basin_rtol * np.abs(best_f) + 1e-300
    return {
        "theta": theta[r, best],
        "objective": best_f,
        "grad_norm": gnorm[r, best],
        "status": status[r, best].astype(np.int64),
        "n_basin": np.sum(f <= thresh[:, None], axis=1).astype(np.int64),
        "n_eval": res.n_eval.reshape(n_res, n_starts).sum(axis=1).astype(np.int64),
    }


def _progress_bar(total: int, enabled: bool) -> Any:
    if not enabled or total == 0 or not sys.stderr.isatty():
        return None
    try:
        from tqdm.auto import tqdm  # noqa: PLC0415
    except ImportError:
        return None
    return tqdm(total=total, unit="resample", desc="bootstrap", smoothing=0.1)


def _resolve_starts(
    law: Law,
    starts: Any,
    grid: Any,
    n_extra: int,
    seed: int,
    full_fit: Any,
) -> tuple[np.ndarray, str]:
    """(S, k) starts every resample uses, and a label for the manifest."""
    if isinstance(starts, str) and starts == "warm":
        table = full_fit.starts
        best = full_fit.objective
        ok = np.isfinite(table.objective)
        basin = np.flatnonzero(ok & (table.objective <= best + 1e-6 * abs(best)))
        others = np.flatnonzero(ok)[np.argsort(table.objective[ok], kind="stable")]
        if len(basin) >= n_extra:
            pick = basin[np.linspace(0, len(basin) - 1, n_extra).round().astype(int)]
        else:
            pick = np.concatenate([basin, [i for i in others if i not in set(basin)]])[:n_extra]
        extra = table.theta_init[np.asarray(pick, int)]
        return np.concatenate([full_fit.theta[None], extra]), "warm"
    if isinstance(starts, str) and starts == "grid":
        return np.asarray(grid, np.float64), "grid"
    if isinstance(starts, str):
        raise ValueError(f"starts={starts!r}: use 'warm', 'grid', an int or an (S, k) array")
    arr = make_starts(law, starts, seed)
    return arr, (f"random{int(starts)}" if np.ndim(starts) == 0 else "array")


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def bootstrap(
    data: Any,
    law: str | Law = "chinchilla",
    n_resamples: int = 1000,
    seed: int = 0,
    *,
    starts: Any = "warm",
    scheme: str = "points",
    grid: Any = None,
    n_extra_starts: int = 0,
    out_dir: str | os.PathLike[str] | None = None,
    chunk_size: int | None = None,
    memory_budget: float | None = None,
    delta: float = 1e-3,
    polish_starts: int | None = None,
    polish_steps: int = 100,
    basin_rtol: float = 1e-6,
    jackknife: bool = False,
    devices: Sequence[Any] | None = None,
    shard: str = "chunks",
    process: tuple[int, int] | None = None,
    dtype: Any = "float64",
    progress: bool = True,
    **load_kwargs: Any,
) -> BootstrapResult:
    """Bootstrap a scaling-law fit: `n_resamples` resampled fits, batched over resamples x starts.

    Args:
      data: a `Runs`, CSV path, DataFrame or column mapping (column names as in `load_runs`).
      law: ``"chinchilla"`` or a `Law`.
      n_resamples: number of resamples R; resample i is a function of (seed, i) only.
      seed: bootstrap seed (also seeds random starts).
      starts: ``"warm"`` (full-data optimum + `n_extra_starts` grid starts, loose L-BFGS,
        Newton finish), ``"grid"`` (every start of `grid` per resample, L-BFGS to convergence),
        an int (that many random starts) or an (S, k) array.
      scheme: ``"points"``, ``"groups"`` (runs grouped by N) or ``"residual"``.
      grid: the start grid of ``"grid"`` and of the full-data fit (default: the law's grid).
      out_dir: folder for the manifest and per-chunk checkpoints (resumable); None keeps it in
        memory.
      chunk_size / memory_budget: resamples per chunk, or a budget in bytes the chunk must fit
        (`plan_chunks`; default 2 GiB).
      delta: Huber threshold on log-loss residuals.
      polish_starts, polish_steps: Newton-finish the best lanes of each resample (default: all
        lanes for ``"warm"``, 4 otherwise).
      basin_rtol: a lane is in its resample's best basin within this relative objective gap.
      jackknife: also fit the leave-one-out (point, or group for ``"groups"``) data sets, which
        `BootstrapResult.interval(method="bca")` needs.
      devices: local devices to use (default: all of ``jax.local_devices()``).
      shard: ``"chunks"`` (default): whole chunks go to devices round-robin, so every number is
        bit-identical whatever the device count; ``"lanes"``: each chunk's (resample, start)
        lanes are sharded over all devices with `NamedSharding` on a 1-D `Mesh` (one big chunk
        fills several GPUs; per-lane rounding can then differ in the last bits from a
        single-device run, so the device count is part of the configuration).
      process: (index, count) of this process in a multi-host run (default from
        ``jax.process_index()`` / ``jax.process_count()``).
      dtype: ``"float64"`` or ``"float32"``.
      progress: show a tqdm bar with ETA (only on a terminal).
    """
    t_start = time.perf_counter()
    law = get_law(law)
    runs = as_runs(data, **load_kwargs)
    check_enough_points(runs, law.n_params, law.name)
    n_resamples = _check_int("n_resamples", n_resamples, 1)
    seed = _check_int("seed", seed, 0)
    n_extra_starts = _check_int("n_extra_starts", n_extra_starts, 0)
    polish_steps = _check_int("polish_steps", polish_steps, 0)
    if scheme not in SCHEMES:
        raise ValueError(f"scheme={scheme!r}: use one of {SCHEMES}")
    if chunk_size is not None:
        chunk_size = _check_int("chunk_size", chunk_size, 1)
    if memory_budget is not None and not (
        isinstance(memory_budget, (int, float)) and memory_budget > 0
    ):
        raise ValueError(f"memory_budget must be a positive number of bytes, got {memory_budget!r}")
    if not (isinstance(delta, (int, float)) and math.isfinite(delta) and delta > 0):
        raise ValueError(f"delta must be a positive finite number, got {delta!r}")
    dt = jnp.dtype(dtype)
    if dt not in (jnp.float32, jnp.float64):
        raise ValueError(f"dtype={dtype!r}: use 'float64' or 'float32'")
    if isinstance(starts, str) and starts not in ("warm", "grid"):
        raise ValueError(f"starts={starts!r}: use 'warm', 'grid', an int or an (S, k) array")
    if shard not in ("chunks", "lanes"):
        raise ValueError(f"shard={shard!r}: use 'chunks' or 'lanes'")
    if not isinstance(starts, str):
        make_starts(law, starts, seed)  # validate before the full-data fit
    grid = law.init_grid() if grid is None else make_starts(law, grid)
    groups = _groups(runs)
    if scheme == "groups" and groups.max() < 1:
        raise ValueError("scheme='groups' needs runs of at least two model sizes N")

    # Full-data fit: the point estimate, the warm start and the residuals.
    t0 = time.perf_counter()
    full = fit(
        runs,
        law,
        starts=grid,
        delta=delta,
        mode="fast" if len(grid) > 256 else "full",
        dtype=dt,
    )
    fit_s = time.perf_counter() - t0
    theta_starts, starts_label = _resolve_starts(law, starts, grid, n_extra_starts, seed, full)
    warm = starts_label == "warm"
    if polish_starts is None:
        polish_starts = len(theta_starts) if warm else 4
    polish_starts = _check_int("polish_starts", polish_starts, 0)
    options = SolverOptions(ftol=1e-6, max_iter=200, max_evals=800) if warm else SolverOptions()

    fdata = fit_data(runs, law, delta, dt)
    n_pts = len(runs)
    if scheme == "residual":
        objective = _residual_objective(law.log_loss)
        fitted = np.asarray(law.log_loss(jnp.asarray(full.theta), fdata.features), np.float64)
        resid = np.log(runs.loss) - fitted

        def lane_row(i: int) -> np.ndarray:
            return -resid + resid[_residual_draw(n_pts, i, seed)]

    else:
        objective = make_objective(law.log_loss)

        def lane_row(i: int) -> np.ndarray:
            return resample_weights(n_pts, i, seed, scheme, groups)

    plan_info = plan_chunks(
        n_resamples,
        len(theta_starts),
        n_pts,
        chunk_size=chunk_size,
        memory_budget=memory_budget,
        n_params=law.n_params,
        history=options.history,
        dtype_bytes=dt.itemsize,
    )
    plan = _Plan(
        law=law,
        objective=objective,
        fdata=fdata,
        starts=theta_starts.astype(dt),
        options=options,
        polish_starts=polish_starts,
        polish_steps=polish_steps,
        basin_rtol=basin_rtol,
        batch_size=plan_info["batch_size"],
        lane_rows=lane_row,
    )
    n_lane_devices = len(jax.local_devices() if devices is None else devices)
    config = {
        "format": _FORMAT,
        "law": law.name,
        "data_sha256": _data_hash(runs),
        "n_points": n_pts,
        "seed": seed,
        "scheme": scheme,
        "starts": starts_label,
        "starts_sha256": _array_hash(theta_starts),
        "n_starts": len(theta_starts),
        "grid_sha256": _array_hash(grid),
        "delta": float(delta),
        "dtype": str(dt),
        "solver": dict(options._asdict()),
        "polish_starts": polish_starts,
        "polish_steps": polish_steps,
        "basin_rtol": basin_rtol,
        # Lane sharding rounds per device shard; chunk placement never changes a number.
        "shard": "chunks" if shard == "chunks" else f"lanes/{n_lane_devices}",
    }

    # What is done already (resume) and what this process must do. Chunk c always holds
    # resamples [c*size, (c+1)*size) and is solved at that full shape (resamples past
    # n_resamples included and kept), so its numbers never depend on which chunks run, where,
    # or in which order: XLA's vectorized math may differ in the last bits between batch shapes.
    out_path = None if out_dir is None else Path(out_dir)
    size = plan_info["chunk_size"]
    done_chunks: set[int] = set()
    if out_path is not None:
        out_path.mkdir(parents=True, exist_ok=True)
        size = _check_manifest(out_path, config, size, explicit=chunk_size or memory_budget)
        done_chunks = {int(f.name.split("_")[1]) for f in out_path.glob("chunk_*.npz")}
    n_chunks = math.ceil(n_resamples / size)
    todo = [c for c in range(n_chunks) if c not in done_chunks]
    p_index, p_count = (jax.process_index(), jax.process_count()) if process is None else process
    mine = [c for c in todo if c % p_count == p_index]
    devs = list(jax.local_devices() if devices is None else devices)
    lane_mesh = None
    if shard == "lanes" and len(devs) > 1:
        lane_mesh = jax.sharding.Mesh(np.asarray(devs), ("lanes",))

    results: list[dict[str, np.ndarray]] = []
    lock = threading.Lock()
    bar = _progress_bar(len(mine) * size, progress)

    def run(c: int, device: Any) -> None:
        idx = np.arange(c * size, (c + 1) * size, dtype=np.int64)
        rows = np.stack([plan.lane_rows(int(i)) for i in idx])
        out = _solve_chunk(plan, rows, device, lane_mesh)
        out["indices"] = idx
        if out_path is not None:
            _save_npz_atomic(out_path / f"chunk_{c:08d}_{size}.npz", **out)
        with lock:
            results.append(out)
            if bar is not None:
                bar.update(len(idx))

    t0 = time.perf_counter()
    try:
        if len(devs) <= 1 or lane_mesh is not None:
            for c in mine:
                run(c, devs[0] if devices is not None else None)
        else:
            _run_on_devices(mine, devs, run)
    finally:
        if bar is not None:
            bar.close()
    solve_s = time.perf_counter() - t0

    if p_count > 1 and process is None:
        from jax.experimental import multihost_utils  # noqa: PLC0415

        multihost_utils.sync_global_devices("scaling_jax.bootstrap")
    merged = _load_chunks(out_path) if out_path is not None else _merge(results)
    if merged:
        keep = merged["indices"] < n_resamples
        merged = {k: v[keep] for k, v in merged.items()}
    if not merged or (len(merged["indices"]) < n_resamples and p_count == 1):
        raise RuntimeError("bootstrap finished with missing resamples; re-run to resume")

    jack = None
    t0 = time.perf_counter()
    if jackknife:
        jack = _jackknife(plan, runs, scheme, groups, out_path, size)
    jack_s = time.perf_counter() - t0
    return BootstrapResult(
        law=law,
        param_names=law.param_names,
        indices=merged["indices"].astype(np.int64),
        theta=merged["theta"].astype(np.float64),
        objective=merged["objective"].astype(np.float64),
        grad_norm=merged["grad_norm"].astype(np.float64),
        status=merged["status"],
        n_basin=merged["n_basin"],
        n_eval=merged["n_eval"],
        theta_hat=np.asarray(full.theta, np.float64),
        objective_hat=float(full.objective),
        jackknife=jack,
        config={**config, "n_resamples": n_resamples, "chunk_size": size},
        timings={
            "full_fit_s": fit_s,
            "solve_s": solve_s,
            "jackknife_s": jack_s,
            "total_s": time.perf_counter() - t_start,
        },
    )


def _merge(results: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    if not results:
        return {}
    merged = {k: np.concatenate([r[k] for r in results]) for k in _CHUNK_KEYS}
    order = np.argsort(merged["indices"], kind="stable")
    return {k: v[order] for k, v in merged.items()}


def _run_on_devices(chunks: list[int], devs: list[Any], run: Callable) -> None:
    """The j-th chunk runs on device j mod len(devs), one worker thread per device."""
    mesh = jax.sharding.Mesh(np.asarray(devs), ("resample",))
    per_device: list[list[int]] = [[] for _ in devs]
    for j, c in enumerate(chunks):
        per_device[j % len(devs)].append(c)

    def worker(d: int) -> None:
        for c in per_device[d]:
            run(c, mesh.devices[d])

    with concurrent.futures.ThreadPoolExecutor(len(devs)) as pool:
        for fut in [pool.submit(worker, d) for d in range(len(devs))]:
            fut.result()


def _jackknife(
    plan: _Plan, runs: Runs, scheme: str, groups: np.ndarray, out_path: Path | None, size: int
) -> np.ndarray:
    """Leave-one-out fits (one per point, or per group for ``"groups"``): theta (J, k)."""
    if out_path is not None and (out_path / "jackknife.npz").exists():
        with np.load(out_path / "jackknife.npz") as z:
            return z["theta"]
    n = len(runs)
    if scheme == "groups":
        rows = np.stack([(groups != g).astype(np.float64) for g in range(groups.max() + 1)])
    else:
        rows = 1.0 - np.eye(n)
    if scheme == "residual":
        # Leave-one-out for the residual objective: weight 0 on the point, no offset.
        jplan = _Plan(**{**plan.__dict__, "objective": make_objective(plan.law.log_loss)})
    else:
        jplan = plan
    # Same chunk shape as the resamples: nothing new to compile, and the same memory bound.
    parts = []
    for j in range(0, len(rows), size):
        block = rows[j : j + size]
        pad = np.repeat(block[-1:], size - len(block), axis=0)
        parts.append(_solve_chunk(jplan, np.concatenate([block, pad]))["theta"][: len(block)])
    theta = np.concatenate(parts)
    if out_path is not None:
        _save_npz_atomic(out_path / "jackknife.npz", theta=theta)
    return theta


def load_bootstrap(
    out_dir: str | os.PathLike[str],
    data: Any,
    law: str | Law = "chinchilla",
    **kwargs: Any,
) -> BootstrapResult:
    """Merge the chunk files of a finished (possibly multi-host) run in `out_dir`.

    Re-runs `bootstrap` with ``process=(0, 1)`` on the same configuration (the same `law`
    object for a user law): every resample already on disk is loaded, none is recomputed;
    missing ones are computed here.
    """
    return bootstrap(data, law, out_dir=out_dir, process=(0, 1), **kwargs)
