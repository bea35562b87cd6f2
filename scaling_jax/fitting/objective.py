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

from scaling_jax._aot import recipe_of, set_recipe

Array = Any

__all__ = ["huber", "FitData", "make_objective", "point_losses", "LOSSES"]


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


LOSSES = ("huber_log", "ls_log", "ls_raw")
LANES = ("weights", "offset")


def point_losses(
    pred_log: Array, log_loss: Array, delta: Array, loss: str = "huber_log", asymmetric: float = 1.0
) -> Array:
    """Per-point loss (unweighted) of predicted vs observed log-losses (nats).

    ``"huber_log"``: Huber of r = pred_log - log_loss; ``"ls_log"``: r**2 / 2; ``"ls_raw"``:
    half the squared difference of the losses themselves. ``asymmetric`` multiplies the loss
    of over-predictions (r > 0).
    """
    r = pred_log - log_loss
    if loss == "huber_log":
        rho = huber(r, delta)
    elif loss == "ls_log":
        rho = 0.5 * r * r
    elif loss == "ls_raw":
        diff = jnp.exp(pred_log) - jnp.exp(log_loss)
        rho = 0.5 * diff * diff
    else:
        raise ValueError(f"loss={loss!r}: use one of {LOSSES}")
    if asymmetric != 1.0:
        rho = jnp.where(r > 0, asymmetric, 1.0) * rho
    return rho


_OBJECTIVES: dict[Any, Callable[..., Array]] = {}


def make_objective(
    log_loss_fn: Callable[[Array, Mapping[str, Array]], Array],
    loss: str = "huber_log",
    asymmetric: float = 1.0,
    lane: str = "weights",
) -> Callable[..., Array]:
    """``objective(theta, data, lane_data=())``: the summed weighted per-point loss.

    `lane_data` (n,) is what one solver lane (a bootstrap resample) changes, ``()`` for none:
      * ``lane="weights"``: it multiplies the data weights (resamples as integer counts);
      * ``lane="offset"``: it is added to the observed log-loss (residual bootstrap:
        y* = fitted + resampled residual, i.e. offset = y* - y).

    One function object per (law, loss, asymmetric, lane), so the solver's compilation cache
    is reused across calls. This is the only objective factory of the package. An objective
    of a registry law carries a recipe (`scaling_jax._aot`): its compiled solver programs are
    kept on disk for later processes.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss={loss!r}: use one of {LOSSES}")
    if lane not in LANES:
        raise ValueError(f"lane={lane!r}: use one of {LANES}")
    key = (log_loss_fn, loss, float(asymmetric), lane)
    if key not in _OBJECTIVES:

        def objective(theta: Array, data: FitData, lane_data: Array | tuple = ()) -> Array:
            target, weights = data.log_loss, data.weights
            if not isinstance(lane_data, tuple):
                if lane == "weights":
                    weights = weights * lane_data
                else:
                    target = target + lane_data
            pred = log_loss_fn(theta, data.features)
            return jnp.sum(weights * point_losses(pred, target, data.delta, loss, asymmetric))

        _OBJECTIVES[key] = objective
        law_recipe = recipe_of(log_loss_fn)
        if law_recipe is not None:
            set_recipe(objective, ("objective", law_recipe, loss, float(asymmetric), lane))
    return _OBJECTIVES[key]
