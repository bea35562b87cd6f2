"""Kaplan et al. 2020, "Scaling Laws for Neural Language Models".

N counts non-embedding parameters, D tokens, S optimizer steps, loss in nats/token, and C_min
PF-days (1 PF-day = 8.64e19 FLOPs). The critical batch size (tokens) follows the gradient noise
scale B_simple = tr(Σ)/|G|² of McCandlish et al. 2018, estimated here from per-example gradients.

Every law takes the constants first, like the other laws: ``loss_nd(KAPLAN_2020, N, D)``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from scaling_jax.flops import PF_DAY_FLOPS

Array = Any

__all__ = [
    "KaplanParams",
    "KAPLAN_2020",
    "PF_DAY_FLOPS",
    "flops_to_pf_days",
    "loss_n",
    "loss_d",
    "loss_compute",
    "loss_nd",
    "loss_ns",
    "critical_batch_size",
    "per_example_grads",
    "gradient_noise_scale",
]


class KaplanParams(NamedTuple):
    """Kaplan's fitted constants (Kaplan et al. 2020). Each law has its own fit, so the joint
    L(N, D) (Table 2) and the learning-curve L(N, S) (Table 3) carry their own N_c, alpha_N."""

    alpha_n: float = 0.076  # L(N), eq. 1.1
    n_c: float = 8.8e13  # non-embedding parameters, eq. 1.1
    alpha_d: float = 0.095  # L(D), eq. 1.2
    d_c: float = 5.4e13  # tokens, eq. 1.2
    alpha_c: float = 0.050  # L(C_min), eq. 1.3
    c_c: float = 3.1e8  # PF-days, eq. 1.3
    nd_alpha_n: float = 0.076  # L(N, D), Table 2
    nd_alpha_d: float = 0.103
    nd_n_c: float = 6.4e13
    nd_d_c: float = 1.8e13
    alpha_s: float = 0.76  # L(N, S), Table 3
    s_c: float = 2.1e3  # optimizer steps, Table 3
    b_star: float = 2e8  # tokens, eq. 1.4
    alpha_b: float = 0.21  # eq. 1.4
    ns_alpha_n: float = 0.077  # L(N, S), Table 3
    ns_n_c: float = 6.5e13  # non-embedding parameters, Table 3


KAPLAN_2020 = KaplanParams()


def flops_to_pf_days(flops: Array) -> Array:
    """FLOPs -> PF-days (1 PF-day = 8.64e19 FLOPs)."""
    return jnp.asarray(flops, dtype=float) / PF_DAY_FLOPS


def _params_first(name: str, first: Any, *rest: Any) -> tuple[KaplanParams, tuple[Any, ...]]:
    """(params, inputs) from ``f(params, *inputs)``, or from the deprecated ``f(*inputs[, p])``
    with the published constants as the default."""
    if isinstance(first, KaplanParams):
        if any(v is None for v in rest):
            raise TypeError(f"{name}(params, ...) needs all {len(rest)} inputs after params")
        return first, rest
    old = [v for v in (first, *rest) if v is not None]
    params = old.pop() if old and isinstance(old[-1], KaplanParams) else KAPLAN_2020
    if len(old) != len(rest):
        raise TypeError(f"{name} takes params then {len(rest)} inputs, got {len(old)} inputs")
    warnings.warn(
        f"{name}(inputs..., p) is deprecated; pass the constants first: "
        f"{name}(KAPLAN_2020, inputs...)",
        DeprecationWarning,
        stacklevel=3,
    )
    return params, tuple(old)


def loss_n(params: KaplanParams, N: Array = None) -> Array:
    """L(N) = (N_c/N)^α_N: converged loss of N non-embedding parameters, data unlimited."""
    p, (N,) = _params_first("loss_n", params, N)
    return jnp.power(p.n_c / jnp.asarray(N, dtype=float), p.alpha_n)


def loss_d(params: KaplanParams, D: Array = None) -> Array:
    """L(D) = (D_c/D)^α_D: loss of a large model trained with early stopping on D tokens."""
    p, (D,) = _params_first("loss_d", params, D)
    return jnp.power(p.d_c / jnp.asarray(D, dtype=float), p.alpha_d)


def loss_compute(params: KaplanParams, compute_pf_days: Array = None) -> Array:
    """L(C_min) = (C_c/C_min)^α_C with C_min in PF-days (see `flops_to_pf_days`)."""
    p, (compute_pf_days,) = _params_first("loss_compute", params, compute_pf_days)
    return jnp.power(p.c_c / jnp.asarray(compute_pf_days, dtype=float), p.alpha_c)


def loss_nd(params: KaplanParams, N: Array = None, D: Array = None) -> Array:
    """Joint L(N, D) = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D with the joint fit's constants."""
    p, (N, D) = _params_first("loss_nd", params, N, D)
    N = jnp.asarray(N, dtype=float)
    D = jnp.asarray(D, dtype=float)
    ratio = p.nd_alpha_n / p.nd_alpha_d
    return jnp.power(jnp.power(p.nd_n_c / N, ratio) + p.nd_d_c / D, p.nd_alpha_d)


def loss_ns(params: KaplanParams, N: Array = None, steps: Array = None) -> Array:
    """Learning-curve law L(N, S) = (N_c/N)^α_N + (S_c/S_min)^α_S, S_min in optimizer steps.

    All four constants are the L(N, S) fit of Kaplan et al. 2020, Table 3: α_N = 0.077,
    N_c = 6.5e13 (``ns_alpha_n``, ``ns_n_c``; not the L(N) fit's 0.076, 8.8e13),
    α_S = 0.76, S_c = 2.1e3.
    """
    p, (N, steps) = _params_first("loss_ns", params, N, steps)
    N = jnp.asarray(N, dtype=float)
    first = jnp.power(p.ns_n_c / N, p.ns_alpha_n)
    return first + jnp.power(p.s_c / jnp.asarray(steps, dtype=float), p.alpha_s)


def critical_batch_size(params: KaplanParams, loss: Array = None) -> Array:
    """B_crit(L) = B*/L^(1/α_B) in tokens, for loss L in nats/token."""
    p, (loss,) = _params_first("critical_batch_size", params, loss)
    return p.b_star / jnp.power(jnp.asarray(loss, dtype=float), 1.0 / p.alpha_b)


def per_example_grads(loss_fn: Callable[[Any, Any], Array], params: Any, batch: Any) -> Any:
    """Per-example gradients of ``loss_fn(params, example)``; leaves get a leading batch axis."""
    return jax.vmap(jax.grad(loss_fn), in_axes=(None, 0))(params, batch)


def gradient_noise_scale(grads: Any, unbiased: bool = True) -> Array:
    """Simple noise scale B_simple = tr(Σ)/|G|² from per-example gradients (McCandlish et al.).

    `grads` is a pytree whose leaves have a leading axis of n examples. tr(Σ) uses the n − 1
    sample covariance; with ``unbiased=True`` |G|² is corrected by −tr(Σ)/n, since the squared
    norm of a mean of n noisy gradients overestimates |G|² by exactly that in expectation.
    Units: examples (multiply by tokens per example for a batch size in tokens).
    """
    leaves = [jnp.reshape(g, (g.shape[0], -1)) for g in jax.tree_util.tree_leaves(grads)]
    flat = jnp.concatenate(leaves, axis=1)
    n = flat.shape[0]
    if n < 2:
        raise ValueError(f"grads: need per-example gradients of at least 2 examples, got {n}")
    mean = jnp.mean(flat, axis=0)
    trace = jnp.sum(jnp.var(flat, axis=0, ddof=1))
    g2 = jnp.sum(mean**2)
    if unbiased:
        g2 = g2 - trace / n
    return trace / g2
