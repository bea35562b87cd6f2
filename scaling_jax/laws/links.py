"""Link laws from loss to a downstream metric (accuracy, benchmark score).

Planning in benchmark scores takes two steps: compute or (N, D) -> loss (a scaling law), then
loss -> metric (a *link*). Three links are provided, each a pure JAX function of a parameter
vector ``theta`` whose first coordinate is the metric's **floor** (its value at very high loss,
e.g. chance: 0.25 for 4-way multiple choice, 0 for the chance-centred Eval Gauntlet scores):

* ``"sigmoid"`` (Llama 3 Team 2024, Sect. 3.2.1: accuracy is a sigmoid of the loss),
  theta = (floor, ceiling, midpoint L0 [nats], log width w [log nats])::

      m(L) = floor + (ceiling - floor) * sigmoid((L0 - L) / exp(w))

  residuals measured on the metric scale.
* ``"exponential"`` (Gadre et al. 2024, "Language models scale reliably with over-training and
  on downstream tasks", Eq. 4: Err(L) = eps - k * exp(-gamma * L) for top-1 error; in accuracy,
  floor = 1 - eps), theta = (floor, log k, log gamma)::

      m(L) = floor + exp(log k - exp(log gamma) * L)

  residuals on the metric scale.
* ``"logit"``: a straight line on the logit scale, theta = (floor, ceiling, a, b)::

      logit((m - floor) / (ceiling - floor)) = a - b * L

  fitted on the logit scale (residuals are logits), with floor and ceiling fixed (default
  0 and 1): it is the sigmoid's shape with a different noise model. Points at or below the
  floor are clipped to ``LOGIT_CLIP`` above it.

Every link is monotone in L, so `Link.inverse` maps a target metric back to the loss that
reaches it (closed forms; NaN outside (floor, ceiling)). Fitting lives in
`scaling_jax.fitting.link_fit`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax.numpy as jnp
import numpy as np

Array = Any

__all__ = [
    "Link",
    "LINKS",
    "get_link",
    "SIGMOID",
    "EXPONENTIAL",
    "LOGIT",
    "LOGIT_CLIP",
    "sigmoid_link",
    "exponential_link",
]

LOGIT_CLIP = 1e-3  # fraction of (ceiling - floor) kept between a clipped point and the bounds


class Link(NamedTuple):
    """A loss -> metric link.

    Attributes:
      name: ``"sigmoid"``, ``"exponential"`` or ``"logit"``.
      param_names: fit coordinates, ``floor`` first.
      predict: ``(theta[k], loss) -> metric`` (broadcasts over loss).
      residual: ``(theta, loss[n], metric[n]) -> residual[n]`` on the scale the fit measures.
      inverse: ``(theta, metric) -> loss`` reaching that metric (NaN when out of range).
      starts: ``(loss[n], metric[n], fixed_values[k], fixed_mask[k]) -> (S, k)`` data-driven
        starting points.
      default_delta: Huber threshold in the residual's units.
      required_fixed: coordinates that must be fixed (with their defaults).
    """

    name: str
    param_names: tuple[str, ...]
    predict: Callable[[Array, Array], Array]
    residual: Callable[[Array, Array, Array], Array]
    inverse: Callable[[Array, Array], Array]
    starts: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    default_delta: float
    required_fixed: tuple[tuple[str, float], ...] = ()

    @property
    def n_params(self) -> int:
        return len(self.param_names)


def _sigmoid(x: Array) -> Array:
    return 0.5 * (jnp.tanh(0.5 * x) + 1.0)


def _logit(p: Array) -> Array:
    return jnp.log(p) - jnp.log1p(-p)


# ---------------------------------------------------------------------------------------------
# sigmoid


def sigmoid_link(theta: Array, loss: Array) -> Array:
    """Sigmoid link: floor + (ceiling - floor) * sigmoid((L0 - loss) / exp(w))."""
    floor, ceiling, mid, log_w = (theta[..., i] for i in range(4))
    return floor + (ceiling - floor) * _sigmoid((mid - loss) / jnp.exp(log_w))


def _sigmoid_residual(theta: Array, loss: Array, metric: Array) -> Array:
    return sigmoid_link(theta, loss) - metric


def _bounded_inverse(theta: Array, metric: Array) -> tuple[Array, Array]:
    """(logit of the metric's position in (floor, ceiling), in-range mask)."""
    floor, ceiling = theta[..., 0], theta[..., 1]
    p = (jnp.asarray(metric) - floor) / (ceiling - floor)
    ok = (p > 0) & (p < 1)
    return _logit(jnp.where(ok, p, 0.5)), ok


def _sigmoid_inverse(theta: Array, metric: Array) -> Array:
    z, ok = _bounded_inverse(theta, metric)
    return jnp.where(ok, theta[..., 2] - jnp.exp(theta[..., 3]) * z, jnp.nan)


def _spread(y: np.ndarray) -> float:
    return max(float(np.ptp(y)), 1e-3)


def _sigmoid_starts(loss, metric, values, mask) -> np.ndarray:
    r = _spread(metric)
    lr = max(float(np.ptp(loss)), 1e-3)
    floors = [metric.min() - 0.1 * r, metric.min() - 0.5 * r]
    ceilings = [metric.max() + 0.1 * r, metric.max() + r, 1.0]
    mids = [*np.quantile(loss, [0.1, 0.5, 0.9]), loss.min() - 0.5 * lr]
    widths = np.log(lr * np.array([0.1, 0.3, 1.0]))
    grid = np.array(np.meshgrid(floors, ceilings, mids, widths, indexing="ij")).reshape(4, -1).T
    return _apply_fixed(grid, values, mask)


SIGMOID = Link(
    name="sigmoid",
    param_names=("floor", "ceiling", "midpoint", "log_width"),
    predict=sigmoid_link,
    residual=_sigmoid_residual,
    inverse=_sigmoid_inverse,
    starts=_sigmoid_starts,
    default_delta=1e-2,
)


# ---------------------------------------------------------------------------------------------
# exponential (Gadre et al. 2024)


def exponential_link(theta: Array, loss: Array) -> Array:
    """Gadre et al. 2024's link in accuracy form: floor + exp(log k - exp(log gamma) * loss)."""
    floor, log_k, log_gamma = (theta[..., i] for i in range(3))
    return floor + jnp.exp(log_k - jnp.exp(log_gamma) * loss)


def _exponential_residual(theta: Array, loss: Array, metric: Array) -> Array:
    return exponential_link(theta, loss) - metric


def _exponential_inverse(theta: Array, metric: Array) -> Array:
    gap = jnp.asarray(metric) - theta[..., 0]
    ok = gap > 0
    log_gap = jnp.log(jnp.where(ok, gap, 1.0))
    return jnp.where(ok, (theta[..., 1] - log_gap) / jnp.exp(theta[..., 2]), jnp.nan)


def _exponential_starts(loss, metric, values, mask) -> np.ndarray:
    r = _spread(metric)
    rows = []
    for floor in (metric.min() - 0.1 * r, metric.min() - 0.5 * r, metric.min() - 2 * r):
        floor = values[0] if mask[0] else floor
        top = max(metric.max() - floor, 1e-6)
        for gamma in (0.3, 1.0, 3.0, 10.0):
            rows.append([floor, np.log(top) + gamma * loss.min(), np.log(gamma)])
    return _apply_fixed(np.asarray(rows), values, mask)


EXPONENTIAL = Link(
    name="exponential",
    param_names=("floor", "log_k", "log_gamma"),
    predict=exponential_link,
    residual=_exponential_residual,
    inverse=_exponential_inverse,
    starts=_exponential_starts,
    default_delta=1e-2,
)


# ---------------------------------------------------------------------------------------------
# linear on the logit scale


def _logit_predict(theta: Array, loss: Array) -> Array:
    floor, ceiling, a, b = (theta[..., i] for i in range(4))
    return floor + (ceiling - floor) * _sigmoid(a - b * loss)


def _logit_target(theta: Array, metric: Array) -> Array:
    floor, ceiling = theta[..., 0], theta[..., 1]
    p = jnp.clip((metric - floor) / (ceiling - floor), LOGIT_CLIP, 1.0 - LOGIT_CLIP)
    return _logit(p)


def _logit_residual(theta: Array, loss: Array, metric: Array) -> Array:
    return (theta[..., 2] - theta[..., 3] * loss) - _logit_target(theta, metric)


def _logit_inverse(theta: Array, metric: Array) -> Array:
    z, ok = _bounded_inverse(theta, metric)
    return jnp.where(ok, (theta[..., 2] - z) / theta[..., 3], jnp.nan)


def _logit_starts(loss, metric, values, mask) -> np.ndarray:
    floor, ceiling = values[0], values[1]
    p = np.clip((metric - floor) / (ceiling - floor), LOGIT_CLIP, 1 - LOGIT_CLIP)
    z = np.log(p) - np.log1p(-p)
    slope, intercept = np.polyfit(loss, z, 1) if np.ptp(loss) > 0 else (0.0, float(z.mean()))
    rows = [[floor, ceiling, intercept + da, -slope * f] for da in (0.0, 1.0) for f in (1, 0.5)]
    return _apply_fixed(np.asarray(rows, np.float64), values, mask)


LOGIT = Link(
    name="logit",
    param_names=("floor", "ceiling", "intercept", "slope"),
    predict=_logit_predict,
    residual=_logit_residual,
    inverse=_logit_inverse,
    starts=_logit_starts,
    default_delta=1e-1,
    required_fixed=(("floor", 0.0), ("ceiling", 1.0)),
)


def _apply_fixed(grid: np.ndarray, values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Put fixed coordinates at their values and drop the duplicate rows that leaves."""
    grid = np.where(mask[None], values[None], np.asarray(grid, np.float64))
    return np.unique(grid, axis=0)


LINKS: dict[str, Link] = {link.name: link for link in (SIGMOID, EXPONENTIAL, LOGIT)}


def get_link(link: str | Link) -> Link:
    """A `Link` from its name (``sigmoid``, ``exponential``, ``logit``) or itself."""
    if isinstance(link, Link):
        return link
    key = str(link).strip().lower()
    if key not in LINKS:
        raise ValueError(f"link={link!r}: use one of {sorted(LINKS)} or a Link")
    return LINKS[key]
