"""Resampling schemes: which data points (or residuals) resample i uses; a function of
(seed, i) only, so results never depend on chunking, devices or resumption."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import numpy as np

from scaling_jax.data import Runs
from scaling_jax.fitting.objective import FitData, huber

Array = Any

SCHEMES = ("points", "groups", "residual")


def groups_of(runs: Runs) -> np.ndarray:
    """Group label per run: the runs' own ``group`` labels (seed, run id) when they carry
    them, else runs with equal model size N form a group."""
    key = runs.N if getattr(runs, "group", None) is None else runs.group
    _, labels = np.unique(key, return_inverse=True)
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


def residual_draw(n_points: int, index: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng([int(seed), int(index)])
    return rng.integers(0, n_points, n_points)


RESIDUAL_OBJECTIVES: dict[Any, Callable[..., Array]] = {}


def residual_objective(log_loss_fn: Callable[..., Array]) -> Callable[..., Array]:
    """Objective whose per-lane data is a log-loss offset (residual bootstrap); one per law."""
    if log_loss_fn not in RESIDUAL_OBJECTIVES:

        def objective(theta: Array, data: FitData, offset: Array) -> Array:
            residual = log_loss_fn(theta, data.features) - (data.log_loss + offset)
            return jnp.sum(data.weights * huber(residual, data.delta))

        RESIDUAL_OBJECTIVES[log_loss_fn] = objective
    return RESIDUAL_OBJECTIVES[log_loss_fn]
