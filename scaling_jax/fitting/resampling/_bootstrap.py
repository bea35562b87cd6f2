"""`bootstrap`: plan (`_plan`) -> run (`_run`) -> merge (`_merge`)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scaling_jax._cache import with_compile_cache
from scaling_jax._precision import float64_call
from scaling_jax.data import Runs
from scaling_jax.fitting.options import LOSSES
from scaling_jax.laws import Law

from ._checkpoint import stored_count
from ._escalate import EscalationOptions
from ._merge import gather, to_result
from ._plan import make_job
from ._result import BootstrapResult
from ._run import run_chunks, run_jackknife


@with_compile_cache
@float64_call
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
    fixed: dict[str, float] | None = None,
    tied: Any = None,
    loss: str = "huber_log",
    asymmetric: float = 1.0,
    weights: Any = None,
    n_kind: str = "total",
    vocab: Any = None,
    d_model: Any = None,
    untied_embeddings: bool = False,
    escalation: EscalationOptions | bool = True,
    extend: bool = False,
    _load_only: bool = False,
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
      fixed, tied, loss, asymmetric, weights, n_kind, vocab, d_model, untied_embeddings: the
        fit options of `fit` (see `fitting.options`), used by the full-data fit and by every
        resample; the result's ``theta`` is in the full law's coordinates and its ``config``
        records them. Runs carrying ``group`` labels are resampled as clusters with
        ``scheme="groups"``.
      escalation: verify that every resample ends at a local minimum (small Newton step,
        positive-definite Hessian in fit coordinates) and escalate those that do not: more
        trust-region Newton steps, then multi-start from `grid` on that resample's data
        (`EscalationOptions` to tune it; False skips the check). The result counts escalated
        and unconverged resamples.
      extend: grow a finished run in `out_dir` to `n_resamples` (results change). Without it,
        an `out_dir` holding a different number of resamples is an error.
    """
    if isinstance(loss, str) and loss not in LOSSES and not isinstance(data, Runs):
        load_kwargs["loss"], loss = loss, "huber_log"  # a loss *column* of a table
    t_start = time.perf_counter()
    job = make_job(
        data,
        law,
        n_resamples,
        seed,
        starts=starts,
        scheme=scheme,
        grid=grid,
        n_extra_starts=n_extra_starts,
        out_dir=out_dir,
        chunk_size=chunk_size,
        memory_budget=memory_budget,
        delta=delta,
        polish_starts=polish_starts,
        polish_steps=polish_steps,
        basin_rtol=basin_rtol,
        devices=devices,
        shard=shard,
        process=process,
        dtype=dtype,
        load_kwargs=load_kwargs,
        fit_kwargs={
            "fixed": fixed,
            "tied": tied,
            "loss": loss,
            "asymmetric": asymmetric,
            "weights": weights,
            "n_kind": n_kind,
            "vocab": vocab,
            "d_model": d_model,
            "untied_embeddings": untied_embeddings,
        },
        escalation=escalation,
        extend=extend,
        load_only=_load_only,
    )
    results, solve_s = run_chunks(job, progress)
    merged = gather(job, results)
    t0 = time.perf_counter()
    jack = run_jackknife(job) if jackknife else None
    jack_s = time.perf_counter() - t0
    timings = {
        "full_fit_s": job.fit_s,
        "solve_s": solve_s,
        "jackknife_s": jack_s,
        "total_s": time.perf_counter() - t_start,
    }
    return to_result(job, merged, jack, timings)


def load_bootstrap(
    out_dir: str | os.PathLike[str],
    data: Any,
    law: str | Law = "chinchilla",
    *,
    n_resamples: int | None = None,
    extend: bool = False,
    **kwargs: Any,
) -> BootstrapResult:
    """Load the finished (possibly multi-host) run in `out_dir`: loading never changes a result.

    The resample count comes from the manifest. Pass the run's other settings as given to
    `bootstrap` (the same `law` object for a user law); they are checked against the manifest.
    Nothing is computed except the full-data fit that identifies the configuration: a folder
    with missing chunks is an error. `n_resamples` different from the stored count is an
    error, unless ``extend=True`` asks to grow the run to `n_resamples` (computing the new
    resamples here).
    """
    path = Path(out_dir)
    stored = stored_count(path)
    if stored is None:
        raise ValueError(f"out_dir {str(path)!r} holds no bootstrap (no manifest.json)")
    n = stored if n_resamples is None else n_resamples
    return bootstrap(
        data,
        law,
        n_resamples=n,
        out_dir=path,
        process=(0, 1),
        extend=extend,
        _load_only=not extend,
        **kwargs,
    )
