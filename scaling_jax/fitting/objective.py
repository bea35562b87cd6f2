"""The fitting objective: summed Huber loss of log-loss residuals (Hoffmann et al. 2022).

    r_i = log L_pred(theta; features_i) - log L_i
    objective(theta) = sum_i w_i * Huber_delta(r_i),
    Huber_delta(r) = r**2 / 2 if |r| <= delta else delta * (|r| - delta / 2)

It is a *sum*, as in Hoffmann et al. and Epoch AI (a mean has the same minimiser but a
different value).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax.numpy as jnp

Array = Any

__all__ = ["huber", "FitData", "huber_objective", "make_objective"]


def huber(r: Array, delta: float | Array = 1e-3) -> Array:
    """Huber loss of residuals `r` with threshold `delta` (quadratic inside, linear outside)."""
    abs_r = jnp.abs(r)
    return jnp.where(abs_r <= delta, 0.5 * r * r, delta * (abs_r - 0.5 * delta))


class FitData(NamedTuple):
    """Everything the objective reads besides theta: a pytree shared by all starts."""

    features: Mapping[str, Array]  # per-run inputs, e.g. {"N": ..., "D": ...}
    log_loss: Array  # (n,) log of observed loss
    weights: Array  # (n,) per-point weights
    delta: Array  # Huber threshold


def huber_objective(
    log_loss_fn: Callable[[Array, Mapping[str, Array]], Array],
    theta: Array,
    data: FitData,
    lane_weights: Array | tuple = (),
) -> Array:
    """Summed weighted Huber loss of log residuals for one parameter vector `theta`.

    `lane_weights` (n,) multiplies the data weights for this start only (bootstrap resamples
    are integer counts on the same points); ``()`` means none.
    """
    residual = log_loss_fn(theta, data.features) - data.log_loss
    weights = data.weights if isinstance(lane_weights, tuple) else data.weights * lane_weights
    return jnp.sum(weights * huber(residual, data.delta))


_OBJECTIVES: dict[Any, Callable[..., Array]] = {}


def make_objective(
    log_loss_fn: Callable[[Array, Mapping[str, Array]], Array],
) -> Callable[..., Array]:
    """``objective(theta, data, lane_weights=())`` for a law's log-loss function.

    One object per law, so the solver's compilation cache is reused across calls.
    """
    if log_loss_fn not in _OBJECTIVES:

        def objective(theta: Array, data: FitData, lane_weights: Array | tuple = ()) -> Array:
            return huber_objective(log_loss_fn, theta, data, lane_weights)

        _OBJECTIVES[log_loss_fn] = objective
    return _OBJECTIVES[log_loss_fn]
