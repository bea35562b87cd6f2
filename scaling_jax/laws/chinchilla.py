"""The Chinchilla law (Hoffmann et al. 2022, eq. 2).

Predicts the final loss (nats/token) of a model with N parameters trained on D tokens::

    L(N, D) = E + A / N**alpha + B / D**beta

Fits run in the log-space coordinates theta = (a, b, e, alpha, beta) with A = exp(a),
B = exp(b), E = exp(e), where the log of the prediction is
``logsumexp(a - alpha*log N, b - beta*log D, e)`` (Hoffmann et al. 2022, §D.2). Results
name these coordinates log_A, log_B, log_E.
"""

from __future__ import annotations

import itertools
from typing import Any, NamedTuple

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

from ._law import Law

Array = Any


class ChinchillaParams(NamedTuple):
    """Natural Chinchilla constants: L = E + A/N**alpha + B/D**beta (loss in nats/token)."""

    A: Array
    B: Array
    E: Array
    alpha: Array
    beta: Array


class ChinchillaLogParams(NamedTuple):
    """Log-space fit coordinates: A = exp(a), B = exp(b), E = exp(e)."""

    a: Array
    b: Array
    e: Array
    alpha: Array
    beta: Array


def chinchilla(params: ChinchillaParams, N: Array, D: Array) -> Array:
    """Chinchilla loss (nats/token) for N parameters trained on D tokens."""
    A, B, E, alpha, beta = params
    return E + A / jnp.power(N, alpha) + B / jnp.power(D, beta)


def to_log_params(params: ChinchillaParams) -> ChinchillaLogParams:
    """Natural constants -> log-space fit coordinates (exact inverse of `from_log_params`)."""
    return ChinchillaLogParams(
        jnp.log(params.A), jnp.log(params.B), jnp.log(params.E), params.alpha, params.beta
    )


def from_log_params(log_params: ChinchillaLogParams) -> ChinchillaParams:
    """Log-space fit coordinates -> natural constants."""
    a, b, e, alpha, beta = log_params
    return ChinchillaParams(jnp.exp(a), jnp.exp(b), jnp.exp(e), alpha, beta)


def chinchilla_log_loss(theta: Array, N: Array, D: Array) -> Array:
    """log L(N, D) from theta = (a, b, e, alpha, beta), computed as a stable logsumexp."""
    a, b, e, alpha, beta = (theta[..., i] for i in range(5))
    terms = jnp.stack(
        jnp.broadcast_arrays(a - alpha * jnp.log(N), b - beta * jnp.log(D), e), axis=-1
    )
    return logsumexp(terms, axis=-1)


def chinchilla_grid() -> np.ndarray:
    """The Chinchilla paper's 4500 starts in theta order (a, b, e, alpha, beta)."""
    alphas = betas = np.arange(0.0, 2.5, 0.5)
    es = np.arange(-1.0, 1.5, 0.5)
    abs_ = np.arange(0.0, 30.0, 5.0)
    grid = [
        (a, b, e, al, be) for al, be, e, a, b in itertools.product(alphas, betas, es, abs_, abs_)
    ]
    return np.asarray(grid, dtype=np.float64)


def _chinchilla_theta_to_params(theta: Array) -> ChinchillaParams:
    return from_log_params(ChinchillaLogParams(*(theta[..., i] for i in range(5))))


def _chinchilla_params_to_theta(params: ChinchillaParams) -> Array:
    return jnp.stack(jnp.broadcast_arrays(*to_log_params(params)), axis=-1)


CHINCHILLA = Law(
    name="chinchilla",
    param_names=("log_A", "log_B", "log_E", "alpha", "beta"),
    feature_names=("N", "D"),
    log_loss=lambda theta, feats: chinchilla_log_loss(theta, feats["N"], feats["D"]),
    to_params=_chinchilla_theta_to_params,
    from_params=_chinchilla_params_to_theta,
    init_grid=chinchilla_grid,
    random_low=(0.0, 0.0, -1.0, 0.0, 0.0),
    random_high=(25.0, 25.0, 1.0, 2.0, 2.0),
)
