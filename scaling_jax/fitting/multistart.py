"""Multi-start Huber/L-BFGS fitting of a scaling law: `fit` and its `FitResult`.

The Chinchilla recipe (Hoffmann et al. 2022; Epoch AI 2024): minimise the summed Huber loss
(delta = 1e-3) of log-loss residuals with L-BFGS from every point of a 4500-point grid and keep
the best. Here all starts run together in one batched, jit-compiled solve (see `solver`), and
the best few are finished with damped Newton steps on the exact Hessian.

Two modes:
  * ``mode="full"``: every start runs L-BFGS to convergence (per-start results are meaningful,
    e.g. how many starts reach the best basin).
  * ``mode="fast"`` (successive halving): every start takes ``screen_steps`` evaluations, only
    the ``survivors`` lowest-objective starts continue to convergence; the rest are reported as
    ``screened_out``.
"""

from __future__ import annotations

import functools
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scaling_jax._aot import recipe_for, stored_jit
from scaling_jax._cache import with_compile_cache
from scaling_jax._io import json_float, write_json_atomic
from scaling_jax._padding import pad_points, padded_length
from scaling_jax._precision import float64_call
from scaling_jax.data import Runs, as_runs, check_enough_points, runs_from_json, runs_to_json
from scaling_jax.diagnostics import Diagnostic, diagnostics_from_json, format_diagnostics
from scaling_jax.fitting.fit_checks import fit_diagnostics
from scaling_jax.fitting.objective import FitData, make_objective
from scaling_jax.fitting.options import (
    LOSSES,
    constrained_law,
    fit_options,
    prepare_runs,
)
from scaling_jax.fitting.solver import FitStatus, SolverOptions, polish, solve_starts
from scaling_jax.laws import Law, get_law, saved_law, validate_law

__all__ = ["fit", "FitResult", "StartsTable", "make_starts", "fit_data", "write_json_atomic"]


@dataclass(frozen=True)
class StartsTable:
    """Per-start results, one row per start (numpy arrays)."""

    theta_init: np.ndarray  # (S, k) starting point in fit coordinates
    theta: np.ndarray  # (S, k) final point
    objective: np.ndarray  # (S,) final summed Huber objective
    grad_norm: np.ndarray  # (S,) max |gradient| at the final point
    n_iter: np.ndarray  # (S,) L-BFGS iterations
    n_eval: np.ndarray  # (S,) objective evaluations
    status: np.ndarray  # (S,) `FitStatus` codes

    def __len__(self) -> int:
        return len(self.objective)

    @property
    def status_names(self) -> list[str]:
        return [FitStatus.label(s) for s in self.status]

    def status_counts(self) -> dict[str, int]:
        codes, counts = np.unique(self.status, return_counts=True)
        return {FitStatus.label(c): int(n) for c, n in zip(codes, counts, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "theta_init": self.theta_init.tolist(),
            "theta": self.theta.tolist(),
            "objective": [json_float(v) for v in self.objective],
            "grad_norm": [json_float(v) for v in self.grad_norm],
            "n_iter": self.n_iter.tolist(),
            "n_eval": self.n_eval.tolist(),
            "status": self.status.tolist(),
        }

    @classmethod
    def from_dict(cls, blob: dict[str, Any]) -> StartsTable:
        def arr(key: str, dtype: Any = np.float64) -> np.ndarray:
            return np.asarray([np.nan if v is None else v for v in blob[key]], dtype=dtype)

        k = len(blob["theta"][0]) if blob["theta"] else 0
        return cls(
            theta_init=np.asarray(blob["theta_init"], np.float64).reshape(-1, k),
            theta=np.asarray(blob["theta"], np.float64).reshape(-1, k),
            objective=arr("objective"),
            grad_norm=arr("grad_norm"),
            n_iter=np.asarray(blob["n_iter"], np.int64),
            n_eval=np.asarray(blob["n_eval"], np.int64),
            status=np.asarray(blob["status"], np.int64),
        )


def _params_dict(params: Any) -> dict[str, float]:
    if hasattr(params, "_asdict"):
        params = params._asdict()
    return {str(k): float(v) for k, v in dict(params).items()}


@dataclass(frozen=True)
class FitResult:
    """Outcome of `fit`.

    Attributes:
      law: the fitted `Law` itself (JSON stores its name; see `from_json`).
      param_names: names of the fit coordinates (e.g. log_A, log_B, log_E, alpha, beta).
      theta: best point in fit coordinates (log-space for Chinchilla).
      params: best natural parameters, the law's own NamedTuple of floats (e.g.
        `ChinchillaParams`).
      objective: summed Huber objective at the best point.
      best_start: index of the start the best point came from.
      best_status: that start's L-BFGS status name.
      polished: whether the Newton finish improved or confirmed the best point.
      best_grad_norm: max |gradient| at the best point (a converged fit has this ~0).
      n_best_basin: starts whose final objective is within `basin_rtol` (relative) of the best.
      starts: per-start results.
      n_points: number of runs fitted; delta: Huber threshold.
      timings: wall seconds (``solve_s``, ``polish_s``, ``total_s``; the first call of a
        session includes compilation).
      options: the settings used (mode, tolerances, ...).
      warnings: anything the user must know (e.g. the best start did not converge).
      data: the fitted runs (`Runs`), which `predict` reads for the residual noise and the
        data range; None for results written before it was stored.
      diagnostics: structured notes on the fit (`scaling_jax.diagnostics.Diagnostic`: data
        coverage, grid edge, conditioning, basins, ...), printed by `summary`.
    """

    law: Law
    param_names: tuple[str, ...]
    theta: np.ndarray
    params: Any
    objective: float
    best_start: int
    best_status: str
    polished: bool
    best_grad_norm: float
    n_best_basin: int
    basin_rtol: float
    starts: StartsTable
    n_points: int
    delta: float
    timings: dict[str, float] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    data: Runs | None = None
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def converged(self) -> bool:
        """True when the best start converged and no warning was raised."""
        return self.best_status == FitStatus.label(FitStatus.CONVERGED) and not self.warnings

    @property
    def params_dict(self) -> dict[str, float]:
        return _params_dict(self.params)

    def summary(self) -> str:
        """A readable multi-line summary of the fit."""
        lines = [
            f"scaling_jax fit: law={self.law.name}, {self.n_points} runs, delta={self.delta:g}, "
            f"{len(self.starts)} starts ({self.options.get('mode', 'full')} mode)",
            f"  best objective (summed Huber): {self.objective:.12e}",
            f"  starts in the best basin (objective within {self.basin_rtol:g} rel.): "
            f"{self.n_best_basin}",
            f"  best start #{self.best_start}: {self.best_status}"
            + (", Newton-polished" if self.polished else "")
            + f", max|grad| {self.best_grad_norm:.2e}",
            "  start status: "
            + ", ".join(f"{k} {v}" for k, v in self.starts.status_counts().items()),
            "  parameters:",
        ]
        lines += [f"    {k:>8} = {v:.8g}" for k, v in self.params_dict.items()]
        lines += [
            f"    {k:>8} = {v:.8g}  (fit coordinate)"
            for k, v in zip(self.param_names, self.theta, strict=True)
            if k not in self.params_dict
        ]
        if self.timings:
            lines.append("  time: " + ", ".join(f"{k} {v:.3f}s" for k, v in self.timings.items()))
        lines += [f"  WARNING: {w}" for w in self.warnings]
        if self.diagnostics:
            lines.append("  diagnostics:")
            lines += format_diagnostics(self.diagnostics, "    ")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self, include_starts: bool = True) -> dict[str, Any]:
        blob: dict[str, Any] = {
            "law": self.law.name,
            "param_names": list(self.param_names),
            "theta": self.theta.tolist(),
            "params": self.params_dict,
            "objective": self.objective,
            "best_start": self.best_start,
            "best_status": self.best_status,
            "polished": self.polished,
            "best_grad_norm": self.best_grad_norm,
            "n_best_basin": self.n_best_basin,
            "basin_rtol": self.basin_rtol,
            "n_points": self.n_points,
            "delta": self.delta,
            "timings": dict(self.timings),
            "options": dict(self.options),
            "warnings": list(self.warnings),
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }
        if self.data is not None:
            blob["data"] = runs_to_json(self.data)
        if include_starts:
            blob["starts"] = self.starts.to_dict()
        return blob

    def to_json(self, path: str | os.PathLike[str], include_starts: bool = True) -> None:
        """Write the result as JSON, atomically (temporary file, then rename)."""
        write_json_atomic(path, self.to_dict(include_starts))

    @classmethod
    def from_dict(cls, blob: dict[str, Any], law: Law | None = None) -> FitResult:
        """Rebuild a result from `to_dict` output; `law` is required for a user law."""
        theta = np.asarray(blob["theta"], np.float64)
        law = saved_law(blob["law"], blob["param_names"], law)
        params = _float_params(law, theta)
        starts = blob.get("starts")
        k = len(theta)
        empty = np.zeros((0, k))
        table = (
            StartsTable.from_dict(starts)
            if starts
            else StartsTable(
                empty,
                empty,
                *(np.zeros(0) for _ in range(2)),
                *(np.zeros(0, np.int64) for _ in range(3)),
            )
        )
        return cls(
            law=law,
            param_names=tuple(blob["param_names"]),
            theta=theta,
            params=params,
            objective=float(blob["objective"]),
            best_start=int(blob["best_start"]),
            best_status=str(blob["best_status"]),
            polished=bool(blob["polished"]),
            best_grad_norm=float(blob["best_grad_norm"]),
            n_best_basin=int(blob["n_best_basin"]),
            basin_rtol=float(blob["basin_rtol"]),
            starts=table,
            n_points=int(blob["n_points"]),
            delta=float(blob["delta"]),
            timings=dict(blob.get("timings", {})),
            options=dict(blob.get("options", {})),
            warnings=tuple(blob.get("warnings", ())),
            data=runs_from_json(blob["data"]) if blob.get("data") else None,
            diagnostics=diagnostics_from_json(blob.get("diagnostics")),
        )

    @classmethod
    def from_json(cls, path: str | os.PathLike[str], law: Law | None = None) -> FitResult:
        """Read a result written by `to_json`. A registry law is reloaded by its stored name;
        for a user law pass the same `Law` object (``law=custom_law(...)``)."""
        return cls.from_dict(json.loads(Path(path).read_text()), law)


@float64_call
def _float_params(law: Law, theta: np.ndarray) -> Any:
    """The law's natural-parameter NamedTuple at `theta`, leaves as Python floats."""
    params = _to_params(law.to_params, np.asarray(theta))
    return type(params)(*(float(v) for v in params)) if hasattr(params, "_fields") else params


def make_starts(law: Law, starts: Any = "grid", seed: int = 0) -> np.ndarray:
    """Starting points (S, k) in fit coordinates.

    `starts` is ``"grid"`` (the law's default grid), an int (that many seeded uniform random
    starts in the law's box), or an array of shape (S, k).
    """
    k = law.n_params
    if isinstance(starts, str):
        if starts != "grid":
            raise ValueError(
                f"starts={starts!r}: use 'grid', a number of random starts, or an array"
            )
        return np.asarray(law.init_grid(), np.float64)
    if isinstance(starts, (int, np.integer)) and not isinstance(starts, bool):
        if starts < 1:
            raise ValueError(f"starts={starts}: the number of random starts must be >= 1")
        rng = np.random.default_rng(seed)
        low, high = np.asarray(law.random_low), np.asarray(law.random_high)
        return low + (high - low) * rng.random((int(starts), k))
    arr = np.asarray(starts, np.float64)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != k or arr.shape[0] == 0:
        raise ValueError(
            f"starts has shape {np.shape(starts)}; expected (n_starts, {k}) for law "
            f"{law.name} with fit coordinates {law.param_names}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError("starts contains NaN or inf values")
    return arr


def fit_data(runs: Runs, law: Law, delta: float, dtype: Any, pad: bool = False) -> FitData:
    """The objective's data pytree for `runs` (features the law reads, log-loss, weights).

    Host (numpy) arrays: jit moves them, and a ``jnp.asarray`` per column would compile a
    program of its own. With `pad`, the points are padded to their bucketed length
    (`scaling_jax._padding`) with zero weights, so datasets of many sizes share the compiled
    solver; the objective and its gradient are unchanged.
    """
    dt = np.dtype(dtype)
    n = len(runs)
    length = padded_length(n) if pad else n
    feats = {
        name: pad_points(np.asarray(v, dt), length)
        for name, v in runs.features(law.feature_names).items()
    }
    weights = np.ones(n) if runs.weights is None else runs.weights
    return FitData(
        features=feats,
        log_loss=pad_points(np.log(runs.loss).astype(dt), length),
        weights=np.concatenate([np.asarray(weights, dt), np.zeros(length - n, dt)]),
        delta=np.asarray(delta, dt),
    )


@functools.partial(jax.jit, static_argnums=0)
def _expand(expand: Any, theta: Any) -> Any:
    """Free fit coordinates -> the full law's, one compiled program (see `_to_params`)."""
    return expand(theta)


@functools.lru_cache(maxsize=32)
def _params_program(to_params: Any) -> Any:
    return stored_jit(to_params, recipe_for("to_params", to_params))


def _to_params(to_params: Any, theta: Any) -> Any:
    """A law's ``to_params`` as one compiled program (eagerly, each jnp operation in it would
    compile on its own), stored across processes for a registry law."""
    return _params_program(to_params)(theta)


def _resolve_dtype(dtype: Any) -> Any:
    dt = jnp.dtype(dtype)
    if dt == jnp.float64 and not jax.config.jax_enable_x64:
        raise RuntimeError(
            "float64 fitting needs JAX's x64 mode, which is off in this thread: call "
            "scaling_jax's public functions (each enables it for its own call), wrap the call "
            "in `with jax.enable_x64(True):`, or pass dtype='float32' explicitly"
        )
    if dt not in (jnp.float32, jnp.float64):
        raise ValueError(f"dtype={dtype!r}: use 'float64' (default) or 'float32'")
    return dt


@with_compile_cache
@float64_call
def fit(
    data: Any,
    law: str | Law = "chinchilla",
    *,
    starts: Any = "grid",
    delta: float = 1e-3,
    mode: str = "full",
    seed: int = 0,
    max_iter: int = 1000,
    max_evals: int = 4000,
    ftol: float = 1e-9,
    gtol: float = 1e-11,
    history: int = 10,
    batch_size: int | None = None,
    survivors: int = 128,
    screen_steps: int = 8,
    polish_starts: int = 32,
    polish_steps: int = 100,
    basin_rtol: float = 1e-6,
    basin_atol: float = 1e-12,
    dtype: Any = "float64",
    mesh: jax.sharding.Mesh | None = None,
    fixed: dict[str, float] | None = None,
    tied: Any = None,
    loss: str = "huber_log",
    asymmetric: float = 1.0,
    weights: Any = None,
    n_kind: str = "total",
    vocab: Any = None,
    d_model: Any = None,
    untied_embeddings: bool = False,
    **load_kwargs: Any,
) -> FitResult:
    """Fit a scaling law by multi-start Huber/L-BFGS on log-loss.

    Args:
      data: a `Runs`, a CSV path, a pandas DataFrame or a mapping of columns (column names via
        ``n=``, ``d=``, ``loss=``, ``compute=`` as in `load_runs`).
      law: ``"chinchilla"`` or a `Law`.
      starts: ``"grid"`` (Chinchilla's 4500 starts), an int of seeded random starts, or an
        array (S, k) in fit coordinates.
      delta: Huber threshold on log-loss residuals.
      mode: ``"full"`` (all starts to convergence) or ``"fast"`` (successive halving).
      max_iter, max_evals, ftol, gtol, history: L-BFGS limits (see `SolverOptions`).
      batch_size: solve at most this many starts at once (bounds memory).
      survivors, screen_steps: successive halving: keep the best `survivors` after
        `screen_steps` evaluations.
      polish_starts, polish_steps: Newton-finish the best `polish_starts` starts (0 disables),
        at most `polish_steps` steps each.
      basin_rtol, basin_atol: a start "reached the best basin" when its final objective is
        <= best + basin_rtol * |best| + basin_atol.
      dtype: ``"float64"`` (default; needs x64, which importing scaling_jax enables) or
        ``"float32"``.
      mesh: a 1-D `jax.sharding.Mesh` to shard the starts over several devices (GPUs, or
        CPU devices forced with ``XLA_FLAGS=--xla_force_host_platform_device_count=N``).
      fixed: parameters held at given values, natural names (``{"E": 1.69}``) or fit
        coordinates (``{"log_E": 0.52}``); any subset.
      tied: groups of parameters fitted as one value, e.g. ``[("alpha", "beta")]``.
      loss: ``"huber_log"`` (default), ``"ls_log"`` or ``"ls_raw"`` (see `fitting.options`);
        for a table, any other string names its loss column (as ``load_runs(loss=...)``).
      asymmetric: weight of over-predictions relative to under-predictions (1: symmetric).
      weights: per-run weights (n,) or ``"inverse_variance"`` (from replicate runs).
      n_kind, vocab, d_model, untied_embeddings: ``n_kind="non_embedding"`` fits on
        N - vocab * d_model (see `fitting.options.non_embedding_params`).

    Fixed and tied parameters reparameterize the law (`fitting.options.constrained_law`): the
    solver sees only the free coordinates, and the per-start table holds those; ``theta``,
    ``params`` and ``param_names`` of the result are the full law's.
    """
    t_total = time.perf_counter()
    base_law = get_law(law)
    if isinstance(loss, str) and loss not in LOSSES and not isinstance(data, Runs):
        load_kwargs["loss"], loss = loss, "huber_log"  # a loss *column* of a table
    fopts = fit_options(loss, asymmetric, fixed, tied)
    constrained = constrained_law(base_law, dict(fopts.fixed), fopts.tied)
    law = constrained.law
    runs, prepared = prepare_runs(
        as_runs(data, **load_kwargs), weights, n_kind, vocab, d_model, untied_embeddings
    )
    check_enough_points(runs, law.n_params, law.name)
    if not (isinstance(delta, (int, float)) and math.isfinite(delta) and delta > 0):
        raise ValueError(f"delta must be a positive finite number, got {delta!r}")
    if mode not in ("full", "fast"):
        raise ValueError(f"mode={mode!r}: use 'full' or 'fast'")
    dt = _resolve_dtype(dtype)
    if constrained.law is not base_law and not isinstance(starts, (str, int, np.integer)):
        full = np.asarray(starts, np.float64)
        if full.ndim >= 1 and full.shape[-1] == base_law.n_params != law.n_params:
            starts = np.asarray(constrained.reduce(full))  # starts given in full coordinates
    theta0 = make_starts(law, starts, seed).astype(dt)
    # A user law returning NaN or the wrong shape gets a clear error here, not deep in JAX.
    validate_law(law, runs, theta0)
    fdata = fit_data(runs, law, delta, dt, pad=True)
    objective = make_objective(law.log_loss, fopts.loss, fopts.asymmetric)
    opts = SolverOptions(
        max_iter=max_iter, max_evals=max_evals, ftol=ftol, gtol=gtol, history=history
    )

    t0 = time.perf_counter()
    if mode == "full":
        res = solve_starts(objective, theta0, fdata, opts, batch_size=batch_size, mesh=mesh)
        status = res.status
    else:
        screen = solve_starts(
            objective,
            theta0,
            fdata,
            opts,
            batch_size=batch_size,
            max_steps=screen_steps,
            mesh=mesh,
        )
        order = np.argsort(np.where(np.isfinite(screen.objective), screen.objective, np.inf))
        keep = order[: min(survivors, len(order))]
        keep = keep[np.isin(screen.status[keep], [FitStatus.RUNNING, FitStatus.CONVERGED])]
        finish = solve_starts(objective, screen.theta[keep], fdata, opts, mesh=mesh)
        res = screen
        status = np.where(screen.status == FitStatus.RUNNING, FitStatus.SCREENED_OUT, screen.status)
        for name, arr in (
            ("theta", res.theta),
            ("objective", res.objective),
            ("grad_norm", res.grad_norm),
        ):
            arr[keep] = getattr(finish, name)
        res.n_iter[keep] += finish.n_iter
        res.n_eval[keep] += finish.n_eval - 1  # the survivor's restart re-evaluates its point
        status[keep] = finish.status
    solve_s = time.perf_counter() - t0

    finite = np.isfinite(res.objective)
    if not finite.any():
        raise RuntimeError(
            f"every one of {len(theta0)} starts produced a non-finite objective; check the "
            "data and starts"
        )
    ranked = np.argsort(np.where(finite, res.objective, np.inf))
    best = int(ranked[0])
    best_theta, best_f = res.theta[best], float(res.objective[best])
    best_gnorm = float(res.grad_norm[best])
    polished = False
    polish_converged = True
    pol = cand = None
    t1 = time.perf_counter()
    if polish_starts > 0:
        cand = ranked[: min(polish_starts, int(finite.sum()))]
        pol = polish(objective, res.theta[cand], fdata, polish_steps)
        j = int(np.argmin(np.where(np.isfinite(pol.objective), pol.objective, np.inf)))
        if pol.objective[j] <= best_f:
            best, best_theta = int(cand[j]), pol.theta[j]
            best_f, best_gnorm = float(pol.objective[j]), float(pol.grad_norm[j])
            polished = True
            polish_converged = bool(pol.converged[j])
    polish_s = time.perf_counter() - t1

    table = StartsTable(
        theta_init=np.asarray(theta0, np.float64),
        theta=res.theta.astype(np.float64),
        objective=res.objective.astype(np.float64),
        grad_norm=res.grad_norm.astype(np.float64),
        n_iter=res.n_iter,
        n_eval=res.n_eval,
        status=np.asarray(status, np.int64),
    )
    threshold = best_f + basin_rtol * abs(best_f) + basin_atol
    n_basin = int(np.sum(finite & (res.objective <= threshold)))
    best_status = FitStatus.label(table.status[best])
    warnings = []
    if best_status != FitStatus.label(FitStatus.CONVERGED):
        warnings.append(
            f"the best start (#{best}) ended with status {best_status!r}, not 'converged'"
        )
    if not polish_converged:
        warnings.append(
            "the Newton finish of the best start stopped without converging (at most "
            f"{polish_steps} steps; max |gradient| {best_gnorm:.2e})"
        )
    full_theta = np.asarray(
        np.asarray(best_theta)
        if constrained.law is base_law
        else _expand(constrained.expand, np.asarray(best_theta)),
        np.float64,
    )
    n_finished = int(np.sum(finite & (table.status != FitStatus.SCREENED_OUT)))
    diagnostics = fit_diagnostics(
        law=law,
        objective=objective,
        fdata=fdata,
        features=runs.features(law.feature_names),
        min_loss=float(np.min(runs.loss)),
        theta=np.asarray(best_theta, np.float64),
        params=_params_dict(_to_params(base_law.to_params, full_theta)),
        starts=np.asarray(theta0, np.float64),
        final_objective=np.where(finite, res.objective, np.inf),
        best=best,
        n_finished=n_finished,
        candidates=None if pol is None else (pol.theta, pol.objective, pol.converged),
        basin_rtol=basin_rtol,
        basin_atol=basin_atol,
    )
    # Item-5 warnings: the optimum may not be the global one, or may not be identifiable.
    warnings += [d.message for d in diagnostics if d.code in _FIT_WARNING_CODES]
    return FitResult(
        law=base_law,
        param_names=base_law.param_names,
        theta=full_theta,
        params=_float_params(base_law, full_theta),
        objective=best_f,
        best_start=best,
        best_status=best_status,
        polished=polished,
        best_grad_norm=best_gnorm,
        n_best_basin=n_basin,
        basin_rtol=basin_rtol,
        starts=table,
        n_points=len(runs),
        delta=float(delta),
        timings={
            "solve_s": solve_s,
            "polish_s": polish_s,
            "total_s": time.perf_counter() - t_total,
        },
        options={
            "mode": mode,
            "starts": starts if isinstance(starts, (str, int)) else "array",
            "seed": seed,
            "max_iter": max_iter,
            "max_evals": max_evals,
            "ftol": ftol,
            "gtol": gtol,
            "history": history,
            "batch_size": batch_size,
            "survivors": survivors,
            "screen_steps": screen_steps,
            "polish_starts": polish_starts,
            "polish_steps": polish_steps,
            "dtype": str(dt),
            **fopts.to_dict(),
            "n_free": law.n_params,
            **prepared,
        },
        warnings=tuple(warnings),
        data=runs,
        diagnostics=tuple(diagnostics),
    )


_FIT_WARNING_CODES = ("few_in_best_basin", "non_identifiable")
