"""Memory planning: bytes per (resample, start) lane and how many resamples fit in a chunk."""

from __future__ import annotations

import math
from typing import Any


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
