"""Plan step of `bootstrap`: validate the call, fit the full data once (point estimate, warm
start, residuals), choose the starts and the objective, size the chunks, and decide (from the
manifest of a resumed run and this process's index) which chunks this process solves."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scaling_jax.data import Runs, as_runs, check_enough_points
from scaling_jax.fitting.multistart import FitResult, fit, fit_data, make_starts
from scaling_jax.fitting.objective import FitData, make_objective
from scaling_jax.fitting.options import (
    constrained_law,
    fit_options,
    prepare_runs,
)
from scaling_jax.fitting.solver import SolverOptions
from scaling_jax.laws import Law, get_law

from .. import multihost
from ._checkpoint import FORMAT, array_hash, check_count, check_manifest, data_hash, done_chunks
from ._escalate import HARD_DATA_CODES, EscalationOptions, guard_starts
from ._memory import plan_chunks
from ._schemes import SCHEMES, groups_of, resample_weights, residual_offsets

Array = Any


@dataclass(frozen=True)
class SolvePlan:
    """What every chunk solve shares: law, objective, data, starts and solver settings."""

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
    escalation: EscalationOptions | None = None  # None: no verification or escalation
    escalation_starts: np.ndarray | None = None  # (S, k) grid of the multi-start stage
    guard_starts: np.ndarray | None = None  # (G, k) multi-start for every resample (hard data)


def resolve_starts(
    law: Law,
    starts: Any,
    grid: Any,
    n_extra: int,
    seed: int,
    full_fit: Any,
    best_theta: np.ndarray | None = None,
) -> tuple[np.ndarray, str]:
    """(S, k) starts every resample uses, and a label for the manifest.

    `best_theta` is the full-data optimum in the solver's coordinates (default
    ``full_fit.theta``; the free coordinates when parameters are fixed or tied)."""
    if best_theta is None:
        best_theta = full_fit.theta
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
        return np.concatenate([np.asarray(best_theta)[None], extra]), "warm"
    if isinstance(starts, str) and starts == "grid":
        return np.asarray(grid, np.float64), "grid"
    if isinstance(starts, str):
        raise ValueError(f"starts={starts!r}: use 'warm', 'grid', an int or an (S, k) array")
    arr = make_starts(law, starts, seed)
    return arr, (f"random{int(starts)}" if np.ndim(starts) == 0 else "array")


def _ranges(runs: Runs, law: Law) -> list[tuple[str, np.ndarray]]:
    """(feature, values) of the runs' N and D (for extrapolation checks)."""
    return [(name, getattr(runs, name)) for name in ("N", "D") if name in law.feature_names]


def check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class Job:
    """A planned bootstrap: the solve plan plus where each resample's result goes."""

    plan: SolvePlan
    runs: Runs
    scheme: str
    groups: np.ndarray  # (n,) group label per run (runs of equal N)
    full: FitResult  # the full-data fit
    config: dict[str, Any]  # what the manifest records
    n_resamples: int
    size: int  # resamples per chunk (chunk c holds [c*size, (c+1)*size))
    mine: list[int]  # chunks this process solves (resumed ones excluded)
    out_path: Path | None
    process_count: int
    process_given: bool
    sync_name: str | None  # the processes' shared name for agreement and barrier (runtime)
    devices: list[Any]
    explicit_devices: bool
    lane_mesh: jax.sharding.Mesh | None
    fit_s: float
    expand: Callable[[Any], Any] | None = None  # solver coordinates -> full law's theta


def make_job(
    data: Any,
    law: str | Law,
    n_resamples: int,
    seed: int,
    *,
    starts: Any,
    scheme: str,
    grid: Any,
    n_extra_starts: int,
    out_dir: str | os.PathLike[str] | None,
    chunk_size: int | None,
    memory_budget: float | None,
    delta: float,
    polish_starts: int | None,
    polish_steps: int,
    basin_rtol: float,
    devices: Sequence[Any] | None,
    shard: str,
    process: tuple[int, int] | None,
    dtype: Any,
    load_kwargs: dict[str, Any],
    fit_kwargs: dict[str, Any] | None = None,
    escalation: EscalationOptions | bool = True,
    extend: bool = False,
    load_only: bool = False,
) -> Job:
    """Validate the arguments of `bootstrap` and plan its work (see the module docstring)."""
    base_law = get_law(law)
    fk = dict(fit_kwargs or {})
    fopts = fit_options(
        fk.get("loss", "huber_log"), fk.get("asymmetric", 1.0), fk.get("fixed"), fk.get("tied")
    )
    constrained = constrained_law(base_law, dict(fopts.fixed), fopts.tied)
    law = constrained.law  # the solver's law: free coordinates only
    runs, prepared = prepare_runs(
        as_runs(data, **load_kwargs),
        fk.get("weights"),
        fk.get("n_kind", "total"),
        fk.get("vocab"),
        fk.get("d_model"),
        bool(fk.get("untied_embeddings", False)),
    )
    check_enough_points(runs, law.n_params, law.name)
    n_resamples = check_int("n_resamples", n_resamples, 1)
    seed = check_int("seed", seed, 0)
    n_extra_starts = check_int("n_extra_starts", n_extra_starts, 0)
    polish_steps = check_int("polish_steps", polish_steps, 0)
    if scheme not in SCHEMES:
        raise ValueError(f"scheme={scheme!r}: use one of {SCHEMES}")
    if chunk_size is not None:
        chunk_size = check_int("chunk_size", chunk_size, 1)
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
    if grid is None:
        grid = law.init_grid()
    else:
        grid = np.asarray(grid, np.float64) if not isinstance(grid, (str, int)) else grid
        if law is not base_law and np.ndim(grid) == 2 and np.shape(grid)[1] == base_law.n_params:
            grid = np.asarray(constrained.reduce(grid))  # given in the full law's coordinates
        grid = make_starts(law, grid)
    groups = groups_of(runs)
    if scheme == "groups" and groups.max() < 1:
        raise ValueError("scheme='groups' needs runs of at least two model sizes N")
    if escalation is True:
        escalation = EscalationOptions()
    elif escalation is False:
        escalation = None
    elif not isinstance(escalation, EscalationOptions):
        raise ValueError(f"escalation={escalation!r}: use True, False or an EscalationOptions")
    out_path = None if out_dir is None else Path(out_dir)
    # Before any work: a request that does not match a stored run is an error.
    check_count(out_path, n_resamples, extend)

    # Full-data fit: the point estimate, the warm start and the residuals.
    t0 = time.perf_counter()
    full = fit(
        runs,
        base_law,
        starts=grid,
        delta=delta,
        mode="fast" if len(grid) > 256 else "full",
        dtype=dt,
        fixed=dict(fopts.fixed),
        tied=fopts.tied,
        loss=fopts.loss,
        asymmetric=fopts.asymmetric,
    )
    fit_s = time.perf_counter() - t0
    theta_starts, starts_label = resolve_starts(
        law,
        starts,
        grid,
        n_extra_starts,
        seed,
        full,
        best_theta=np.asarray(constrained.reduce(np.asarray(full.theta))),
    )
    warm = starts_label == "warm"
    if polish_starts is None:
        polish_starts = len(theta_starts) if warm else 4
    polish_starts = check_int("polish_starts", polish_starts, 0)
    options = SolverOptions(ftol=1e-6, max_iter=200, max_evals=800) if warm else SolverOptions()

    # Points padded to their bucketed length (zero weights), as in `fit`: datasets of many
    # sizes share the compiled programs. Each lane's row is padded with zeros to match.
    fdata = fit_data(runs, law, delta, dt, pad=True)
    n_pts = len(runs)
    hard = sorted({d.code for d in full.diagnostics} & set(HARD_DATA_CODES))
    guard = None
    if warm and escalation is not None and escalation.guard and hard:
        guard = guard_starts(grid, escalation.guard_starts).astype(dt)
    padding = np.zeros(len(fdata.log_loss) - n_pts)
    if scheme == "residual":
        if not fopts.default_objective:
            raise ValueError(
                "scheme='residual' supports the default objective (loss='huber_log', "
                "asymmetric=1); use scheme='points' or 'groups' with other fit options"
            )
        objective = make_objective(law.log_loss, lane="offset")
        feats = {k: v[:n_pts] for k, v in fdata.features.items()}
        fitted = np.asarray(base_law.log_loss(jnp.asarray(full.theta), feats), np.float64)
        resid = np.log(runs.loss) - fitted

        def lane_row(i: int) -> np.ndarray:
            return np.concatenate([residual_offsets(resid, i, seed), padding])

    else:
        objective = make_objective(law.log_loss, fopts.loss, fopts.asymmetric)

        def lane_row(i: int) -> np.ndarray:
            return np.concatenate([resample_weights(n_pts, i, seed, scheme, groups), padding])

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
    plan = SolvePlan(
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
        escalation=escalation,
        escalation_starts=np.asarray(grid, np.float64).astype(dt),
        guard_starts=guard,
    )
    n_lane_devices = len(jax.local_devices() if devices is None else devices)
    config = {
        "format": FORMAT,
        "law": law.name,
        "data_sha256": data_hash(runs),
        "n_points": n_pts,
        "seed": seed,
        "scheme": scheme,
        "starts": starts_label,
        "starts_sha256": array_hash(theta_starts),
        "n_starts": len(theta_starts),
        "grid_sha256": array_hash(grid),
        "delta": float(delta),
        "dtype": str(dt),
        "solver": dict(options._asdict()),
        "polish_starts": polish_starts,
        "polish_steps": polish_steps,
        "basin_rtol": basin_rtol,
        "escalation": None if escalation is None else dict(escalation._asdict()),
        "hard_data": hard,
        "guard_starts": 0 if guard is None else len(guard),
        "data_range": {f: [float(np.min(v)), float(np.max(v))] for f, v in _ranges(runs, law)},
        # Lane sharding rounds per device shard; chunk placement never changes a number.
        "shard": "chunks" if shard == "chunks" else f"lanes/{n_lane_devices}",
    }
    if not fopts.default_objective or fopts.fixed or fopts.tied or prepared:
        # Fit options (absent when all default, so older manifests still match).
        config.update(fopts.to_dict(), n_free=law.n_params, **prepared)
    if getattr(runs, "group", None) is not None:
        config["groups"] = "labels"

    # What is done already (resume) and what this process must do. Chunk c always holds
    # resamples [c*size, (c+1)*size) and is solved at that full shape (resamples past
    # n_resamples included and kept), so its numbers never depend on which chunks run, where,
    # or in which order: XLA's vectorized math may differ in the last bits between batch shapes.
    size = plan_info["chunk_size"]
    p_index, p_count = (jax.process_index(), jax.process_count()) if process is None else process
    sync_name = None
    if process is None and multihost.is_distributed():
        # Several processes under JAX's runtime: they merge through out_dir, and must all run
        # the same configuration; a mismatch is the same error on every process, not a hang.
        if out_path is None:
            raise ValueError(
                f"a bootstrap over {p_count} processes needs out_dir (a folder every process "
                "reads and writes) to merge their chunks"
            )
        sync_name = multihost.next_run_name("bootstrap")
        multihost.agree(
            sync_name,
            {**config, "n_resamples": n_resamples, "chunk_size": size, "processes": p_count},
        )
    done: set[int] = set()
    if out_path is not None:
        out_path.mkdir(parents=True, exist_ok=True)
        size = check_manifest(
            out_path, config, size, explicit=chunk_size or memory_budget, n_resamples=n_resamples
        )
        done = done_chunks(out_path, size, math.ceil(n_resamples / size))
    n_chunks = math.ceil(n_resamples / size)
    todo = [c for c in range(n_chunks) if c not in done]
    if load_only and todo:
        missing = sum(min(size, n_resamples - c * size) for c in todo)
        raise ValueError(
            f"out_dir {str(out_path)!r} is incomplete: {missing} of {n_resamples} resamples are "
            "not on disk; finish the run with bootstrap(..., out_dir=...) (every process's "
            "chunk files in one folder) before loading it"
        )
    mine = [c for c in todo if c % p_count == p_index]
    devs = list(jax.local_devices() if devices is None else devices)
    lane_mesh = None
    if shard == "lanes" and len(devs) > 1:
        lane_mesh = jax.sharding.Mesh(np.asarray(devs), ("lanes",))
    return Job(
        plan=plan,
        runs=runs,
        scheme=scheme,
        groups=groups,
        full=full,
        config=config,
        n_resamples=n_resamples,
        size=size,
        mine=mine,
        out_path=out_path,
        process_count=p_count,
        process_given=process is not None,
        sync_name=sync_name,
        devices=devs,
        explicit_devices=devices is not None,
        lane_mesh=lane_mesh,
        fit_s=fit_s,
        expand=None if law is base_law else constrained.expand,
    )
