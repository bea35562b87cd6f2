"""The diagnostics `fit` attaches to its `FitResult` (see `scaling_jax.diagnostics`)."""

from __future__ import annotations

import functools
from typing import Any

import jax
import numpy as np

from scaling_jax._aot import recipe_for, stored_jit
from scaling_jax.diagnostics import (
    Diagnostic,
    check_basin_count,
    check_bounds,
    check_conditioning,
    check_coverage,
    check_distinct_minima,
    check_e_floor,
    check_grid_edge,
)

__all__ = ["fit_diagnostics", "hessian_at"]


@functools.lru_cache(maxsize=32)
def _compiled_hessian(objective: Any):
    return stored_jit(
        lambda theta, data: jax.hessian(objective)(theta, data), recipe_for("hessian", objective)
    )


def hessian_at(objective: Any, theta: Any, data: Any) -> np.ndarray:
    """Exact Hessian (k, k) of ``objective(theta, data)`` at `theta` (fit coordinates)."""
    return np.asarray(_compiled_hessian(objective)(np.asarray(theta), data))


def fit_diagnostics(
    *,
    law: Any,
    objective: Any,
    fdata: Any,
    features: dict[str, np.ndarray],
    min_loss: float,
    theta: np.ndarray,
    params: dict[str, float],
    starts: np.ndarray,
    final_objective: np.ndarray,
    best: int,
    n_finished: int,
    candidates: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
    basin_rtol: float,
    basin_atol: float = 1e-12,
) -> list[Diagnostic]:
    """Every fit-level check, in a fixed order.

    Args:
      law: the fitted `Law`; objective, fdata: the objective and its data.
      features: the per-run features the law reads (N, D, ...); min_loss: smallest loss.
      theta: best point (fit coordinates); params: its natural parameters by name.
      starts: (S, k) starting points; final_objective: (S,) their final objectives.
      best: index of the best start; n_finished: starts run to convergence.
      candidates: (theta (K, k), objective (K,), converged (K,)) of the Newton-finished best
        starts, or None.
      basin_rtol, basin_atol: relative and absolute objective gap of the best basin.
    """
    names = list(law.param_names)
    notes = check_coverage(features, law.n_params)
    notes += check_grid_edge(theta, starts, names)
    bounds = getattr(law, "bounds", None)
    if bounds is not None:
        notes += check_bounds(theta, names, *bounds)
    if "E" in params:
        notes += check_e_floor(params["E"], min_loss)
    notes += check_conditioning(hessian_at(objective, theta, fdata), names)
    notes += check_basin_count(final_objective, best, n_finished, basin_rtol, basin_atol=basin_atol)
    if candidates is not None:
        cand_theta, cand_objective, cand_converged = candidates
        notes += check_distinct_minima(
            cand_objective, cand_theta, cand_converged, basin_rtol=basin_rtol
        )
    return notes
