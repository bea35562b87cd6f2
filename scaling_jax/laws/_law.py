"""The `Law` description the generic fitter consumes.

A `Law` bundles what the fitter needs: a function predicting log-loss from
``(theta, features)``, the conversions between theta and a natural parameter pytree, and an
initialization grid. Any law written this way, including a user's own, plugs into
`scaling_jax.fit` unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np

Array = Any


class Law(NamedTuple):
    """What the generic fitter needs to know about a law.

    Attributes:
      name: short identifier (``"chinchilla"``).
      param_names: names of the fit coordinates theta, in order.
      feature_names: names of the per-run inputs the law reads (``("N", "D")``).
      log_loss: ``(theta[k], features: Mapping[str, Array[n]]) -> log predicted loss[n]``.
      to_params: theta -> natural parameter pytree (e.g. `ChinchillaParams`).
      from_params: natural parameter pytree -> theta.
      init_grid: () -> default starts, an array of shape (starts, k).
      random_low, random_high: box for seeded random starts (same order as theta).
    """

    name: str
    param_names: tuple[str, ...]
    feature_names: tuple[str, ...]
    log_loss: Callable[[Array, Mapping[str, Array]], Array]
    to_params: Callable[[Array], Any]
    from_params: Callable[[Any], Array]
    init_grid: Callable[[], np.ndarray]
    random_low: tuple[float, ...]
    random_high: tuple[float, ...]

    @property
    def n_params(self) -> int:
        return len(self.param_names)


_LOSS_FNS: dict[Law, Callable[[Any, Array, Array], Array]] = {}


def law_loss_fn(law: Law) -> Callable[[Any, Array, Array], Array]:
    """``loss_fn(params, N, D) -> loss`` (nats/token) of a law that reads only N and D.

    `params` is the law's natural-parameter pytree (what `to_params` returns, e.g. a fit's
    ``.params``); this is the form the sizing solvers (`compute_optimal`, `allocation`, ...)
    take, so a fitted user law flows into them unchanged. One function per law, so JAX's
    tracing caches are reused across calls.
    """
    extra = set(law.feature_names) - {"N", "D"}
    if extra:
        raise ValueError(
            f"law {law.name!r} reads features {sorted(extra)} besides N and D; a loss of "
            "(N, D) alone is not defined for it"
        )
    if law not in _LOSS_FNS:
        import jax.numpy as jnp  # noqa: PLC0415 -- keeps this module free of JAX at import

        def loss_fn(params: Any, N: Array, D: Array) -> Array:
            theta = law.from_params(params)
            return jnp.exp(law.log_loss(theta, {"N": N, "D": D}))

        _LOSS_FNS[law] = loss_fn
    return _LOSS_FNS[law]

