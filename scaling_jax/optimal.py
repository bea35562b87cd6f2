"""Compute-optimal allocation of a training budget (Hoffmann et al. 2022, REFERENCE §1).

For C = 6·N·D training FLOPs, minimizing the Chinchilla law L(N, D) has the closed form
    G = (alpha·A / (beta·B))**(1/(alpha+beta)),  a = beta/(alpha+beta),  b = alpha/(alpha+beta)
    N_opt(C) = G·(C/6)**a  parameters,   D_opt(C) = (C/6)**b / G  tokens.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from .laws import ChinchillaParams

Array = Any

__all__ = ["compute_optimal", "optimal_exponents"]


def optimal_exponents(params: ChinchillaParams) -> tuple[Array, Array]:
    """Exponents (a, b) of N_opt ∝ C**a and D_opt ∝ C**b; a + b = 1."""
    total = params.alpha + params.beta
    return params.beta / total, params.alpha / total


def compute_optimal(params: ChinchillaParams, compute: Array) -> tuple[Array, Array]:
    """Closed-form compute-optimal (N parameters, D tokens) for `compute` training FLOPs (6ND).

    Broadcasts over `compute` and over array-valued constants; jit/vmap/grad-able.
    """
    A, B, _, alpha, beta = params
    a, b = optimal_exponents(params)
    G = jnp.power(alpha * A / (beta * B), 1.0 / (alpha + beta))
    base = jnp.asarray(compute) / 6.0
    return G * jnp.power(base, a), jnp.power(base, b) / G
