"""Resampling schemes: which data points (or residuals) resample i uses; a function of
(seed, i) only, so results never depend on chunking, devices or resumption."""

from __future__ import annotations

from typing import Any

import numpy as np

from scaling_jax.data import Runs

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


def residual_offsets(resid: np.ndarray, index: int, seed: int) -> np.ndarray:
    """Log-loss offsets (n,) of residual-bootstrap resample `index`.

    The resampled data are y* = fitted + r[idx] with r = y - fitted the full-data log
    residuals and idx drawn with replacement, so the offset added to y is r[idx] - r (the
    objective's ``lane="offset"``). Depends only on (seed, index).
    """
    resid = np.asarray(resid, np.float64)
    return -resid + resid[residual_draw(len(resid), index, seed)]
