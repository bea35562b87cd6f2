"""Kaplan et al. 2020's joint law L(N, D) = [(N_c/N)**(alpha_N/alpha_D) + D_c/D]**alpha_D
(eq. 1.5) as a fitting law, registered as ``"kaplan"``.
"""

from __future__ import annotations

import itertools
from typing import Any, NamedTuple

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

from ._law import Law

Array = Any

# Kaplan et al. 2020 joint law L(N, D) (eq. 1.5)


class KaplanNDParams(NamedTuple):
    """Kaplan's L(N, D) = [(N_c/N)**(alpha_N/alpha_D) + D_c/D]**alpha_D (nats/token).

    N_c in parameters, D_c in tokens. The paper's joint fit: N_c = 6.4e13, D_c = 1.8e13,
    alpha_N = 0.076, alpha_D = 0.103 (non-embedding N).
    """

    N_c: Array
    D_c: Array
    alpha_N: Array  # noqa: N815 (the paper's symbol)
    alpha_D: Array  # noqa: N815


def kaplan_nd(params: KaplanNDParams, N: Array, D: Array) -> Array:
    """Kaplan's joint loss (nats/token) for N parameters trained on D tokens."""
    N_c, D_c, alpha_N, alpha_D = params
    return jnp.power(jnp.power(N_c / N, alpha_N / alpha_D) + D_c / D, alpha_D)


def kaplan_nd_log_loss(theta: Array, N: Array, D: Array) -> Array:
    """log L from theta = (log N_c, log D_c, alpha_N, alpha_D): alpha_D * logsumexp(...)."""
    n_c, d_c, alpha_N, alpha_D = (theta[..., i] for i in range(4))
    terms = jnp.stack(
        jnp.broadcast_arrays((alpha_N / alpha_D) * (n_c - jnp.log(N)), d_c - jnp.log(D)),
        axis=-1,
    )
    return alpha_D * logsumexp(terms, axis=-1)


def kaplan_grid() -> np.ndarray:
    """400 starts: log N_c, log D_c in {15, 20, 25, 30, 35}, alpha_N, alpha_D in
    {0.05, 0.1, 0.2, 0.4} (Kaplan's own fit sits near (31.8, 30.5, 0.076, 0.103))."""
    logs = (15.0, 20.0, 25.0, 30.0, 35.0)
    exps = (0.05, 0.1, 0.2, 0.4)
    return np.asarray(list(itertools.product(logs, logs, exps, exps)), np.float64)


def _kaplan_to_params(theta: Array) -> KaplanNDParams:
    n_c, d_c, a_n, a_d = (theta[..., i] for i in range(4))
    return KaplanNDParams(jnp.exp(n_c), jnp.exp(d_c), a_n, a_d)


def _kaplan_from_params(p: KaplanNDParams) -> Array:
    vals = (jnp.log(p.N_c), jnp.log(p.D_c), p.alpha_N, p.alpha_D)
    return jnp.stack(jnp.broadcast_arrays(*vals), axis=-1)


KAPLAN = Law(
    name="kaplan",
    param_names=("log_N_c", "log_D_c", "alpha_N", "alpha_D"),
    feature_names=("N", "D"),
    log_loss=lambda theta, f: kaplan_nd_log_loss(theta, f["N"], f["D"]),
    to_params=_kaplan_to_params,
    from_params=_kaplan_from_params,
    init_grid=kaplan_grid,
    random_low=(15.0, 15.0, 0.02, 0.02),
    random_high=(35.0, 35.0, 0.5, 0.5),
)
