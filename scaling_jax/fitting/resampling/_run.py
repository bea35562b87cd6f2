"""Run step of `bootstrap`: solve this process's chunks (on one device, round-robin over
local devices, or with lanes sharded over a mesh), checkpoint each, and the jackknife fits."""

from __future__ import annotations

import concurrent.futures
import contextlib
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import jax
import numpy as np

from scaling_jax._precision import in_this_scope
from scaling_jax.fitting.objective import make_objective
from scaling_jax.fitting.solver import FitStatus, polish, solve_starts

from ._checkpoint import chunk_path, save_npz_atomic
from ._escalate import finish_resamples
from ._plan import Job, SolvePlan


def solve_chunk(
    plan: SolvePlan, rows: np.ndarray, device: Any = None, mesh: Any = None
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
                pol.converged.reshape(n_res, n_pol), FitStatus.CONVERGED, FitStatus.MAX_ITERATIONS
            )
            status[r_idx, top] = np.where(better, pol_status, status[r_idx, top])
        best = np.argmin(f, axis=1)
        r = np.arange(n_res)
        best_f = f[r, best]
        thresh = best_f + plan.basin_rtol * np.abs(best_f) + 1e-300
        out = {
            "theta": theta[r, best],
            "objective": best_f,
            "grad_norm": gnorm[r, best],
            "status": status[r, best].astype(np.int64),
            # Unchecked (escalation off): the solver's own convergence flag stands in.
            "verified": status[r, best] == FitStatus.CONVERGED,
            "escalation": np.zeros(n_res, np.int64),
        }
        if plan.escalation is not None:
            # No resample left behind: verify each best point, escalate the failures.
            out.update(
                finish_resamples(
                    plan.objective,
                    fdata,
                    rows,
                    out["theta"],
                    out["objective"],
                    out["status"],
                    plan.escalation_starts,
                    plan.escalation,
                    plan.guard_starts,
                )
            )
    out["n_basin"] = np.sum(f <= thresh[:, None], axis=1).astype(np.int64)
    out["n_eval"] = res.n_eval.reshape(n_res, n_starts).sum(axis=1).astype(np.int64)
    return out


def _progress_bar(total: int, enabled: bool) -> Any:
    if not enabled or total == 0 or not sys.stderr.isatty():
        return None
    try:
        from tqdm.auto import tqdm  # noqa: PLC0415
    except ImportError:
        return None
    return tqdm(total=total, unit="resample", desc="bootstrap", smoothing=0.1)


def _run_on_devices(chunks: list[int], devs: list[Any], run: Callable) -> None:
    """The j-th chunk runs on device j mod len(devs), one worker thread per device."""
    mesh = jax.sharding.Mesh(np.asarray(devs), ("resample",))
    per_device: list[list[int]] = [[] for _ in devs]
    for j, c in enumerate(chunks):
        per_device[j % len(devs)].append(c)

    def worker(d: int) -> None:
        for c in per_device[d]:
            run(c, mesh.devices[d])

    # Worker threads do not inherit this thread's scoped x64 setting: carry it over.
    scoped = in_this_scope(worker)
    with concurrent.futures.ThreadPoolExecutor(len(devs)) as pool:
        for fut in [pool.submit(scoped, d) for d in range(len(devs))]:
            fut.result()


def run_chunks(job: Job, progress: bool) -> tuple[list[dict[str, np.ndarray]], float]:
    """Solve (and checkpoint) the chunks of `job.mine`; returns their results and wall seconds."""
    plan, size, out_path = job.plan, job.size, job.out_path
    results: list[dict[str, np.ndarray]] = []
    lock = threading.Lock()
    bar = _progress_bar(len(job.mine) * size, progress)

    def run(c: int, device: Any) -> None:
        idx = np.arange(c * size, (c + 1) * size, dtype=np.int64)
        rows = np.stack([plan.lane_rows(int(i)) for i in idx])
        out = solve_chunk(plan, rows, device, job.lane_mesh)
        out["indices"] = idx
        if out_path is not None:
            save_npz_atomic(chunk_path(out_path, c, size), **out)
        with lock:
            results.append(out)
            if bar is not None:
                bar.update(len(idx))

    t0 = time.perf_counter()
    devs = job.devices
    try:
        if len(devs) <= 1 or job.lane_mesh is not None:
            for c in job.mine:
                run(c, devs[0] if job.explicit_devices else None)
        else:
            _run_on_devices(job.mine, devs, run)
    finally:
        if bar is not None:
            bar.close()
    return results, time.perf_counter() - t0


def run_jackknife(job: Job) -> np.ndarray:
    """Leave-one-out fits (one per point, or per group for ``"groups"``): theta (J, k)."""
    plan, runs, scheme, groups = job.plan, job.runs, job.scheme, job.groups
    out_path, size = job.out_path, job.size
    if out_path is not None and (out_path / "jackknife.npz").exists():
        with np.load(out_path / "jackknife.npz") as z:
            return z["theta"]
    n = len(runs)
    if scheme == "groups":
        rows = np.stack([(groups != g).astype(np.float64) for g in range(groups.max() + 1)])
    else:
        rows = 1.0 - np.eye(n)
    # The points are padded (zero weights) to the bucketed length of `plan.fdata`.
    rows = np.concatenate([rows, np.zeros((len(rows), len(plan.fdata.log_loss) - n))], axis=1)
    if scheme == "residual":
        # Leave-one-out for the residual objective: weight 0 on the point, no offset.
        jplan = replace(plan, objective=make_objective(plan.law.log_loss))
    else:
        jplan = plan
    # Same chunk shape as the resamples: nothing new to compile, and the same memory bound.
    parts = []
    for j in range(0, len(rows), size):
        block = rows[j : j + size]
        pad = np.repeat(block[-1:], size - len(block), axis=0)
        parts.append(solve_chunk(jplan, np.concatenate([block, pad]))["theta"][: len(block)])
    theta = np.concatenate(parts)
    if out_path is not None:
        save_npz_atomic(out_path / "jackknife.npz", theta=theta)
    return theta
