"""The data-constrained law of Muennighoff et al. 2023 ("Scaling Data-Constrained Language
Models", eq. 5) over features (N, D, U), with all constants free or with the Chinchilla base
frozen and only R_D*, R_N* fitted (`data_constrained_law`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

from ._law import Law
from .chinchilla import ChinchillaParams

Array = Any

# Data-constrained law (Muennighoff et al. 2023, eq. 5)


class DataConstrainedParams(NamedTuple):
    """Muennighoff et al. 2023 constants: a Chinchilla base plus the decay constants.

    ``L = E + A / N'**alpha + B / D'**beta`` (nats/token) with effective parameters N' and
    effective data D' (tokens); ``R_D`` is R_D* (repeated epochs at which repeated data has
    lost 1 - 1/e of its value) and ``R_N`` is R_N* (the same for excess parameters).
    """

    A: Array
    B: Array
    E: Array
    alpha: Array
    beta: Array
    R_D: Array
    R_N: Array

    @property
    def base(self) -> ChinchillaParams:
        """The Chinchilla constants (A, B, E, alpha, beta) underneath."""
        return ChinchillaParams(self.A, self.B, self.E, self.alpha, self.beta)


# The authors store log A, log B, log E; exp of those reproduces their published predictions
# to the last digit, the rounded natural values (A = 520.82495, ...) only to ~1e-6.
_MUENNIGHOFF_2023 = DataConstrainedParams(
    A=math.exp(6.255414),
    B=math.exp(7.3049974),
    E=math.exp(0.6254804),
    alpha=0.3526596,
    beta=0.3526596,
    R_D=15.387756,
    R_N=5.309743,
)


def _is_concrete(*xs: Any) -> bool:
    return not any(isinstance(x, jax.core.Tracer) for x in xs)


def check_data_constrained_inputs(N: Any, D: Any, U: Any) -> None:
    """Raise ValueError unless N > 0, 0 < U <= D (U unique tokens inside D training tokens).

    Skipped for traced values (inside jit/grad/vmap), where Python cannot branch on data.
    """
    if not _is_concrete(N, D, U):
        return
    N, D, U = (np.asarray(x, dtype=np.float64) for x in (N, D, U))
    try:
        N, D, U = np.broadcast_arrays(N, D, U)
    except ValueError:
        raise ValueError(
            f"N, D and U have incompatible shapes {N.shape}, {D.shape}, {U.shape}"
        ) from None
    checks = (
        (~np.isfinite(N) | (N <= 0), "N (parameters) must be finite and > 0"),
        (~np.isfinite(D) | (D <= 0), "D (training tokens) must be finite and > 0"),
        (~np.isfinite(U) | (U <= 0), "U (unique tokens) must be finite and > 0"),
        (
            U > D,
            "U (unique tokens) must be <= D (training tokens): U_D counts the distinct "
            "tokens inside D; if D < U only D unique tokens are seen, so pass U = min(U, D)",
        ),
    )
    for bad, msg in checks:
        if bad.any():
            i = int(np.flatnonzero(bad.ravel())[0])
            raise ValueError(
                f"{msg}; at index {i}: N={N.ravel()[i]:.6g}, D={D.ravel()[i]:.6g}, "
                f"U={U.ravel()[i]:.6g} ({int(bad.sum())} bad entries)"
            )


def n_opt_single_epoch(params: Any, U: Array) -> Array:
    """N_opt(U) = G (U G)**(beta/alpha): the compute-optimal parameter count (Chinchilla's
    G = (alpha A / (beta B))**(1/(alpha+beta))) for one epoch over U unique tokens."""
    A, B, alpha, beta = params.A, params.B, params.alpha, params.beta
    G = jnp.power(alpha * A / (beta * B), 1.0 / (alpha + beta))
    return G * jnp.power(U * G, beta / alpha)


def data_constrained(params: DataConstrainedParams, N: Array, D: Array, U: Array) -> Array:
    """Loss (nats/token) of N parameters trained on D tokens drawn from U unique tokens.

    Muennighoff et al. 2023: R_D = max(D/U - 1, 0) repeated epochs, U_N = min(N, N_opt(U)),
    R_N = max(N/U_N - 1, 0), D' = U (1 + R_D* (1 - exp(-R_D/R_D*))),
    N' = U_N (1 + R_N* (1 - exp(-R_N/R_N*))), L = E + A/N'**alpha + B/D'**beta.
    Concrete inputs are checked (U <= D, U > 0); traced ones are not.
    """
    check_data_constrained_inputs(N, D, U)
    A, B, E, alpha, beta, R_D_star, R_N_star = params
    U_N = jnp.minimum(N, n_opt_single_epoch(params, U))
    R_N = jnp.maximum(N / U_N - 1.0, 0.0)
    R_D = jnp.maximum(D / U - 1.0, 0.0)
    D_eff = U + U * R_D_star * (1.0 - jnp.exp(-R_D / R_D_star))
    N_eff = U_N + U_N * R_N_star * (1.0 - jnp.exp(-R_N / R_N_star))
    return E + A / jnp.power(N_eff, alpha) + B / jnp.power(D_eff, beta)


def _log_effective(log_unique: Array, log_total: Array, log_r_star: Array) -> Array:
    """log of U (1 + R* (1 - exp(-R/R*))) with R = max(total/U - 1, 0), all in log space.

    expm1/log1p keep one-epoch runs (R -> 0) and huge R* (R* (1-exp(-R/R*)) -> R) accurate.
    """
    R = jnp.expm1(jnp.maximum(log_total - log_unique, 0.0))
    r_star = jnp.exp(log_r_star)
    return log_unique + jnp.log1p(-r_star * jnp.expm1(-R / r_star))


def data_constrained_log_loss(theta: Array, N: Array, D: Array, U: Array) -> Array:
    """log L from theta = (a, b, e, alpha, beta, log R_D*, log R_N*), as a stable logsumexp."""
    a, b, e, alpha, beta, log_rd, log_rn = (theta[..., i] for i in range(7))
    log_N, log_D, log_U = jnp.log(N), jnp.log(D), jnp.log(U)
    log_G = (jnp.log(alpha) + a - jnp.log(beta) - b) / (alpha + beta)
    log_n_opt = log_G + (beta / alpha) * (log_U + log_G)
    log_U_N = jnp.minimum(log_N, log_n_opt)
    log_N_eff = _log_effective(log_U_N, log_N, log_rn)
    log_D_eff = _log_effective(log_U, log_D, log_rd)
    terms = jnp.stack(jnp.broadcast_arrays(a - alpha * log_N_eff, b - beta * log_D_eff, e), axis=-1)
    return logsumexp(terms, axis=-1)


def data_constrained_grid(frozen: bool = False, tie_exponents: bool = False) -> np.ndarray:
    """Default starts for the data-constrained law, in its fit coordinates.

    Frozen base: R_D*, R_N* in {0.5, 2, 5, 10, 20, 50} (36 starts, as logs; the authors use
    linspace(0, 20, 4), but R* = 0 is a singular point of the log coordinates). All free: a
    Chinchilla-like grid, coarser, times R* in {2, 15}: 16*2*9*4 = 1152 starts (288 tied).
    """
    r_stars = np.log([0.5, 2.0, 5.0, 10.0, 20.0, 50.0])
    if frozen:
        return np.asarray(list(itertools.product(r_stars, r_stars)), np.float64)
    abs_ = (0.0, 5.0, 10.0, 15.0)
    es = (-0.5, 0.5)
    exps = (0.2, 0.5, 1.0)
    rs = np.log([2.0, 15.0])
    if tie_exponents:
        rows = [
            (a, b, e, al, rd, rn)
            for al, e, a, b, rd, rn in itertools.product(exps, es, abs_, abs_, rs, rs)
        ]
    else:
        rows = [
            (a, b, e, al, be, rd, rn)
            for al, be, e, a, b, rd, rn in itertools.product(exps, exps, es, abs_, abs_, rs, rs)
        ]
    return np.asarray(rows, np.float64)


def _to_params(theta: Array) -> DataConstrainedParams:
    """Fit coordinates (a, b, e, alpha, beta, log R_D, log R_N) -> natural parameters."""
    a, b, e, al, be, rd, rn = (theta[..., i] for i in range(7))
    return DataConstrainedParams(
        jnp.exp(a), jnp.exp(b), jnp.exp(e), al, be, jnp.exp(rd), jnp.exp(rn)
    )


def _from_params(p: Any) -> Array:
    vals = (
        jnp.log(p.A),
        jnp.log(p.B),
        jnp.log(p.E),
        p.alpha,
        p.beta,
        jnp.log(p.R_D),
        jnp.log(p.R_N),
    )
    return jnp.stack(jnp.broadcast_arrays(*vals), axis=-1)


def _untie(theta: Array) -> Array:
    """Tied coordinates (a, b, e, alpha, log R_D, log R_N) -> the full 7, with beta = alpha."""
    return jnp.concatenate([theta[..., :4], theta[..., 3:]], axis=-1)


def data_constrained_law(
    frozen_base: ChinchillaParams | DataConstrainedParams | None = None,
    *,
    tie_exponents: bool = False,
) -> Law:
    """The data-constrained law as a `Law` over features (N, D, U) for `scaling_jax.fit`.

    Args:
      frozen_base: ``None`` fits all constants, theta = (a, b, e, alpha, beta, log R_D*,
        log R_N*). A `ChinchillaParams` (or a `DataConstrainedParams`, whose base is used)
        freezes A, B, E, alpha, beta and fits only theta = (log R_D*, log R_N*) -- how the
        authors fit their constants (in the datablations repository's parametric fit).
      tie_exponents: with a free base, fit one exponent alpha = beta (the authors' choice);
        theta = (a, b, e, alpha, log R_D*, log R_N*).

    R_D*, R_N* are fitted as logs so they stay positive. Every variant's `to_params` gives
    a `DataConstrainedParams`.
    """
    feats = ("N", "D", "U")
    if frozen_base is not None:
        base = ChinchillaParams(*(float(v) for v in ChinchillaParams(*frozen_base[:5])))
        # NumPy float64, not jnp: building the law at import must start no JAX backend (a
        # multi-process run calls jax.distributed.initialize after importing scaling_jax), and
        # a JAX constant made here would be float32 when x64 is off.
        base_theta = np.asarray(
            [math.log(base.A), math.log(base.B), math.log(base.E), base.alpha, base.beta]
        )
        is_default = base == _MUENNIGHOFF_2023.base

        def log_loss(theta: Array, f: Mapping[str, Array]) -> Array:
            lead = jnp.broadcast_to(base_theta, (*theta.shape[:-1], 5)).astype(theta.dtype)
            full = jnp.concatenate([lead, theta], axis=-1)
            return data_constrained_log_loss(full, f["N"], f["D"], f["U"])

        def to_params(theta: Array) -> DataConstrainedParams:
            rd, rn = jnp.exp(theta[..., 0]), jnp.exp(theta[..., 1])
            return DataConstrainedParams(*(jnp.full_like(rd, v) for v in base), rd, rn)

        def from_params(p: Any) -> Array:
            return jnp.stack(jnp.broadcast_arrays(jnp.log(p.R_D), jnp.log(p.R_N)), axis=-1)

        return Law(
            # Only the default base can be rebuilt by name (FitResult.from_json); a custom
            # base gets a name that is deliberately not in LAWS.
            name="data_constrained_frozen" if is_default else "data_constrained_frozen_custom",
            param_names=("log_R_D", "log_R_N"),
            feature_names=feats,
            log_loss=log_loss,
            to_params=to_params,
            from_params=from_params,
            init_grid=lambda: data_constrained_grid(frozen=True),
            random_low=(math.log(0.5), math.log(0.5)),
            random_high=(math.log(50.0), math.log(50.0)),
        )

    if tie_exponents:

        def log_loss(theta: Array, f: Mapping[str, Array]) -> Array:
            return data_constrained_log_loss(_untie(theta), f["N"], f["D"], f["U"])

        def to_params(theta: Array) -> DataConstrainedParams:
            return _to_params(_untie(theta))

        def from_params(p: Any) -> Array:
            full = _from_params(p)
            return jnp.concatenate([full[..., :4], full[..., 5:]], axis=-1)

        return Law(
            name="data_constrained_tied",
            param_names=("log_A", "log_B", "log_E", "alpha", "log_R_D", "log_R_N"),
            feature_names=feats,
            log_loss=log_loss,
            to_params=to_params,
            from_params=from_params,
            init_grid=lambda: data_constrained_grid(tie_exponents=True),
            random_low=(0.0, 0.0, -1.0, 0.1, math.log(0.5), math.log(0.5)),
            random_high=(20.0, 20.0, 1.0, 1.0, math.log(50.0), math.log(50.0)),
        )

    return Law(
        name="data_constrained",
        param_names=("log_A", "log_B", "log_E", "alpha", "beta", "log_R_D", "log_R_N"),
        feature_names=feats,
        log_loss=lambda theta, f: data_constrained_log_loss(theta, f["N"], f["D"], f["U"]),
        to_params=_to_params,
        from_params=_from_params,
        init_grid=data_constrained_grid,
        random_low=(0.0, 0.0, -1.0, 0.1, 0.1, math.log(0.5), math.log(0.5)),
        random_high=(20.0, 20.0, 1.0, 1.0, 1.0, math.log(50.0), math.log(50.0)),
    )


DATA_CONSTRAINED = data_constrained_law()
DATA_CONSTRAINED_FROZEN = data_constrained_law(frozen_base=_MUENNIGHOFF_2023.base)
