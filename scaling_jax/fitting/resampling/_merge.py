"""Merge step of `bootstrap`: gather every chunk (from memory, or from the checkpoint files
that all processes wrote), keep resamples [0, n_resamples), and build the `BootstrapResult`."""

from __future__ import annotations

import math

import numpy as np

from .. import multihost
from ._checkpoint import CHUNK_KEYS, load_chunks
from ._plan import Job
from ._result import BootstrapResult


def merge_chunks(results: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Concatenate in-memory chunk results, ordered by resample index."""
    if not results:
        return {}
    merged = {k: np.concatenate([r[k] for r in results]) for k in CHUNK_KEYS}
    order = np.argsort(merged["indices"], kind="stable")
    return {k: v[order] for k, v in merged.items()}


def gather(job: Job, results: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Every resample of the run, after the other processes (if any) have written theirs."""
    if job.sync_name is not None:
        # The coordination service's barrier (bounded by SCALING_JAX_SYNC_TIMEOUT); no device
        # collectives, so processes may arrive hours apart.
        multihost.barrier(job.sync_name)
    if job.out_path is not None:
        merged = load_chunks(job.out_path, job.size, math.ceil(job.n_resamples / job.size))
    else:
        merged = merge_chunks(results)
    if merged:
        keep = merged["indices"] < job.n_resamples
        merged = {k: v[keep] for k, v in merged.items()}
    n_missing = job.n_resamples - (len(merged["indices"]) if merged else 0)
    if n_missing and job.sync_name is not None:
        raise RuntimeError(
            f"{n_missing} of {job.n_resamples} resamples are missing from {job.out_path} after "
            f"all {job.process_count} processes finished: every process must write to the same "
            "folder (a shared filesystem); otherwise copy the chunk files into one folder and "
            "call load_bootstrap"
        )
    if not merged or (n_missing and job.process_count == 1):
        raise RuntimeError("bootstrap finished with missing resamples; re-run to resume")
    return merged


def to_result(
    job: Job,
    merged: dict[str, np.ndarray],
    jackknife: np.ndarray | None,
    timings: dict[str, float],
) -> BootstrapResult:
    law, full = job.full.law, job.full  # the full law (fixed/tied coordinates expanded)

    def full_theta(theta: np.ndarray | None) -> np.ndarray | None:
        if theta is None or job.expand is None:
            return theta
        return np.asarray(job.expand(np.asarray(theta, np.float64)), np.float64)

    return BootstrapResult(
        law=law,
        param_names=law.param_names,
        indices=merged["indices"].astype(np.int64),
        theta=full_theta(merged["theta"].astype(np.float64)),
        objective=merged["objective"].astype(np.float64),
        grad_norm=merged["grad_norm"].astype(np.float64),
        status=merged["status"],
        n_basin=merged["n_basin"],
        n_eval=merged["n_eval"],
        theta_hat=np.asarray(full.theta, np.float64),
        objective_hat=float(full.objective),
        jackknife=full_theta(jackknife),
        config={**job.config, "n_resamples": job.n_resamples, "chunk_size": job.size},
        timings=timings,
        data=job.runs,
        verified=merged["verified"].astype(bool),
        escalation=merged["escalation"].astype(np.int64),
        fit_diagnostics=tuple(full.diagnostics),
    )
