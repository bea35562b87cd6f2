"""Scaling laws as pure JAX functions, and the `Law` description the fitter consumes.

The Chinchilla law (Hoffmann et al. 2022, eq. 2) predicts the final loss (nats/token) of a
model with N parameters trained on D tokens::

    L(N, D) = E + A / N**alpha + B / D**beta

Fits run in the log-space coordinates theta = (a, b, e, alpha, beta) with A = exp(a),
B = exp(b), E = exp(e), where the log of the prediction is
``logsumexp(a - alpha*log N, b - beta*log D, e)`` (Hoffmann et al. 2022).

A `Law` bundles what the generic fitter needs: a function predicting log-loss from
``(theta, features)``, the conversions between theta and a natural parameter pytree, and an
initialization grid. Any law written this way -- including a user's own -- plugs into
`scaling_jax.fit` unchanged.

Besides Chinchilla this module holds:

* the data-constrained law of Muennighoff et al. 2023 ("Scaling Data-Constrained Language
  Models", eq. 5) over features (N, D, U), with all constants free or with the
  Chinchilla base frozen and only R_D*, R_N* fitted (`data_constrained_law`);
* Kaplan et al. 2020's joint law L(N, D) = [(N_c/N)**(alpha_N/alpha_D) + D_c/D]**alpha_D
  (eq. 1.5), registered as ``"kaplan"``;
* `custom_law`, which turns a user's JAX function into a `Law`, and `validate_law`, which
  checks a law against the runs before a fit starts.
"""

from __future__ import annotations

import itertools
import keyword
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

Array = Any

__all__ = [
    "ChinchillaParams",
    "ChinchillaLogParams",
    "Law",
    "CHINCHILLA",
    "chinchilla",
    "chinchilla_log_loss",
    "to_log_params",
    "from_log_params",
    "chinchilla_grid",
    "get_law",
    "LAWS",
    "DataConstrainedParams",
    "data_constrained",
    "data_constrained_log_loss",
    "n_opt_single_epoch",
    "data_constrained_law",
    "data_constrained_grid",
    "DATA_CONSTRAINED",
    "DATA_CONSTRAINED_FROZEN",
    "KaplanNDParams",
    "kaplan_nd",
    "kaplan_nd_log_loss",
    "kaplan_grid",
    "KAPLAN",
    "custom_law",
    "validate_law",
    "check_data_constrained_inputs",
]


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


def _chinchilla_theta_to_params(theta: Array) -> ChinchillaParams:
    return from_log_params(ChinchillaLogParams(*(theta[..., i] for i in range(5))))


def _chinchilla_params_to_theta(params: ChinchillaParams) -> Array:
    return jnp.stack(jnp.broadcast_arrays(*to_log_params(params)), axis=-1)


CHINCHILLA = Law(
    name="chinchilla",
    param_names=("a", "b", "e", "alpha", "beta"),
    feature_names=("N", "D"),
    log_loss=lambda theta, feats: chinchilla_log_loss(theta, feats["N"], feats["D"]),
    to_params=_chinchilla_theta_to_params,
    from_params=_chinchilla_params_to_theta,
    init_grid=chinchilla_grid,
    random_low=(0.0, 0.0, -1.0, 0.0, 0.0),
    random_high=(25.0, 25.0, 1.0, 2.0, 2.0),
)

LAWS: dict[str, Law] = {"chinchilla": CHINCHILLA}


def get_law(law: str | Law) -> Law:
    """Resolve a law given by name (see `LAWS`) or pass a `Law` through."""
    if isinstance(law, Law):
        return law
    try:
        return LAWS[law]
    except KeyError:
        raise ValueError(f"unknown law {law!r}; known: {sorted(LAWS)}") from None


# --------------------------------------------------------------------------------------------
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
        base_theta = jnp.asarray(
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
            full = jnp.concatenate([theta[..., :4], theta[..., 3:]], axis=-1)
            return data_constrained_log_loss(full, f["N"], f["D"], f["U"])

        def to_params(theta: Array) -> DataConstrainedParams:
            a, b, e, al, rd, rn = (theta[..., i] for i in range(6))
            return DataConstrainedParams(
                jnp.exp(a), jnp.exp(b), jnp.exp(e), al, al, jnp.exp(rd), jnp.exp(rn)
            )

        def from_params(p: Any) -> Array:
            vals = (
                jnp.log(p.A),
                jnp.log(p.B),
                jnp.log(p.E),
                p.alpha,
                jnp.log(p.R_D),
                jnp.log(p.R_N),
            )
            return jnp.stack(jnp.broadcast_arrays(*vals), axis=-1)

        return Law(
            name="data_constrained_tied",
            param_names=("a", "b", "e", "alpha", "log_R_D", "log_R_N"),
            feature_names=feats,
            log_loss=log_loss,
            to_params=to_params,
            from_params=from_params,
            init_grid=lambda: data_constrained_grid(tie_exponents=True),
            random_low=(0.0, 0.0, -1.0, 0.1, math.log(0.5), math.log(0.5)),
            random_high=(20.0, 20.0, 1.0, 1.0, math.log(50.0), math.log(50.0)),
        )

    def to_params(theta: Array) -> DataConstrainedParams:
        a, b, e, al, be, rd, rn = (theta[..., i] for i in range(7))
        return DataConstrainedParams(
            jnp.exp(a), jnp.exp(b), jnp.exp(e), al, be, jnp.exp(rd), jnp.exp(rn)
        )

    def from_params(p: Any) -> Array:
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

    return Law(
        name="data_constrained",
        param_names=("a", "b", "e", "alpha", "beta", "log_R_D", "log_R_N"),
        feature_names=feats,
        log_loss=lambda theta, f: data_constrained_log_loss(theta, f["N"], f["D"], f["U"]),
        to_params=to_params,
        from_params=from_params,
        init_grid=data_constrained_grid,
        random_low=(0.0, 0.0, -1.0, 0.1, 0.1, math.log(0.5), math.log(0.5)),
        random_high=(20.0, 20.0, 1.0, 1.0, 1.0, math.log(50.0), math.log(50.0)),
    )


DATA_CONSTRAINED = data_constrained_law()
DATA_CONSTRAINED_FROZEN = data_constrained_law(frozen_base=_MUENNIGHOFF_2023.base)


# --------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------
# User-defined laws


def _identifier(name: str) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in name).strip("_") or "Custom"
    return cleaned if cleaned[0].isalpha() else f"L{cleaned}"


def custom_law(
    name: str,
    fn: Callable[[Any, Mapping[str, Array]], Array],
    param_names: Sequence[str],
    *,
    init_grid: Mapping[str, Sequence[float]] | Any = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    positive: Sequence[str] = (),
    log_space: bool = False,
    features: Sequence[str] = ("N", "D"),
    params_as: str = "dict",
) -> Law:
    """Build a `Law` from a user's JAX function, for `scaling_jax.fit` and friends.

    Args:
      name: the law's name (reported in `FitResult.law`).
      fn: ``fn(params, features) -> loss`` (nats/token, shape (n,)), or log-loss when
        ``log_space=True``. ``params`` is a dict name -> scalar (``params_as="dict"``) or
        the natural-parameter vector in `param_names` order (``params_as="array"``);
        ``features`` maps each name in `features` to an (n,) array. Must be traceable by JAX.
      param_names: the natural parameters, valid Python identifiers.
      init_grid: starts in natural units: a mapping name -> values (their product is used)
        or an array (starts, k). Default: 3 values per parameter -- interior points of its
        bounds, {0.1, 1, 10} when positive, {-1, 0, 1} otherwise (crude; better give one).
      bounds: name -> (low, high): the parameter is kept strictly inside by the scaled
        logistic p = low + (high - low) * sigmoid(t); the fit coordinate is t (``logit_p``).
      positive: names kept > 0 by p = exp(t); the fit coordinate is t (``log_p``).
      log_space: `fn` returns log-loss (use this when you can write a stable logsumexp).
      features: run features the law reads (``"N"``, ``"D"``, ``"C"``, extra ones like
        ``"U"``).

    The fitter works on the transformed coordinates t; `to_params` returns a NamedTuple of
    natural values. Check a new law against its data with `validate_law` before fitting.
    """
    names = tuple(str(p) for p in param_names)
    if not names:
        raise ValueError("custom_law: param_names is empty")
    for p in names:
        if not p.isidentifier() or keyword.iskeyword(p) or p.startswith("_"):
            raise ValueError(f"custom_law: parameter name {p!r} is not a valid identifier")
    if len(set(names)) != len(names):
        raise ValueError(f"custom_law: duplicate parameter names in {names}")
    if params_as not in ("dict", "array"):
        raise ValueError(f"custom_law: params_as={params_as!r}; use 'dict' or 'array'")
    if not callable(fn):
        raise ValueError(f"custom_law: fn must be callable, got {type(fn).__name__}")
    bounds = dict(bounds or {})
    positive = tuple(positive)
    for p in (*bounds, *positive):
        if p not in names:
            raise ValueError(f"custom_law: constrained parameter {p!r} is not in {names}")
    for p, (lo, hi) in bounds.items():
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"custom_law: bounds for {p!r} must be finite with low < high")
        if p in positive:
            raise ValueError(f"custom_law: {p!r} is both bounded and positive; give one")
    kinds = tuple(
        "bounded" if p in bounds else "positive" if p in positive else "free" for p in names
    )
    lows = tuple(float(bounds[p][0]) if p in bounds else 0.0 for p in names)
    spans = tuple(float(bounds[p][1] - bounds[p][0]) if p in bounds else 1.0 for p in names)
    coord_names = tuple(
        {"bounded": f"logit_{p}", "positive": f"log_{p}", "free": p}[k]
        for p, k in zip(names, kinds, strict=True)
    )
    params_type = NamedTuple(f"{_identifier(name)}Params", [(p, Any) for p in names])
    feature_names = tuple(features)

    def to_params(theta: Array) -> Any:
        vals = []
        for i, kind in enumerate(kinds):
            t = theta[..., i]
            if kind == "positive":
                t = jnp.exp(t)
            elif kind == "bounded":
                t = lows[i] + spans[i] * jax.nn.sigmoid(t)
            vals.append(t)
        return params_type(*vals)

    def from_params(params: Any) -> Array:
        if isinstance(params, Mapping):
            params = params_type(**{p: params[p] for p in names})
        vals = []
        for i, kind in enumerate(kinds):
            v = jnp.asarray(params[i], dtype=float)
            if kind == "positive":
                v = jnp.log(v)
            elif kind == "bounded":
                u = (v - lows[i]) / spans[i]
                v = jnp.log(u) - jnp.log1p(-u)
            vals.append(v)
        return jnp.stack(jnp.broadcast_arrays(*vals), axis=-1)

    def log_loss(theta: Array, feats: Mapping[str, Array]) -> Array:
        natural = to_params(theta)
        arg = natural._asdict() if params_as == "dict" else jnp.stack(natural, axis=-1)
        out = fn(arg, {k: feats[k] for k in feature_names})
        return out if log_space else jnp.log(out)

    grid_natural = _custom_grid(init_grid, names, kinds, bounds)
    theta_grid = np.asarray(from_params(params_type(*grid_natural.T)), np.float64)
    bad = ~np.isfinite(theta_grid).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"custom_law: init_grid row {i} {dict(zip(names, grid_natural[i], strict=True))} "
            "violates a constraint (positive values must be > 0, bounded ones strictly inside "
            "their bounds)"
        )
    low, high = theta_grid.min(axis=0), theta_grid.max(axis=0)
    same = high - low < 1e-12
    low, high = np.where(same, low - 1.0, low), np.where(same, high + 1.0, high)
    return Law(
        name=str(name),
        param_names=coord_names,
        feature_names=feature_names,
        log_loss=log_loss,
        to_params=to_params,
        from_params=from_params,
        init_grid=lambda: theta_grid.copy(),
        random_low=tuple(float(v) for v in low),
        random_high=tuple(float(v) for v in high),
    )


def _custom_grid(
    init_grid: Any,
    names: tuple[str, ...],
    kinds: tuple[str, ...],
    bounds: Mapping[str, tuple[float, float]],
) -> np.ndarray:
    """Starts in natural units, shape (S, k)."""
    if init_grid is None:
        axes = []
        for p, kind in zip(names, kinds, strict=True):
            if kind == "bounded":
                lo, hi = bounds[p]
                axes.append([lo + (hi - lo) * q for q in (0.2, 0.5, 0.8)])
            else:
                axes.append([0.1, 1.0, 10.0] if kind == "positive" else [-1.0, 0.0, 1.0])
        if 3 ** len(names) > 20000:
            raise ValueError(
                f"custom_law: {len(names)} parameters make the default 3**k grid too large; "
                "pass init_grid"
            )
        return np.asarray(list(itertools.product(*axes)), np.float64)
    if isinstance(init_grid, Mapping):
        missing = [p for p in names if p not in init_grid]
        extra = [p for p in init_grid if p not in names]
        if missing or extra:
            raise ValueError(
                f"custom_law: init_grid keys must be the parameters {names}; "
                f"missing {missing}, unknown {extra}"
            )
        axes = [np.atleast_1d(np.asarray(init_grid[p], np.float64)) for p in names]
        return np.asarray(list(itertools.product(*axes)), np.float64)
    arr = np.asarray(init_grid, np.float64)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != len(names) or arr.shape[0] == 0:
        raise ValueError(
            f"custom_law: init_grid has shape {np.shape(init_grid)}; expected "
            f"(starts, {len(names)}) in the order {names}"
        )
    return arr


def validate_law(law: str | Law, runs: Any, theta: Any = None) -> int:
    """Check that `law` can be fitted to `runs`; raise a clear ValueError if not.

    Checks: the runs provide the law's features; there are more runs than parameters; for the
    data-constrained laws, 0 < U <= D; the law's log-loss evaluated at the starts (`theta`,
    shape (k,) or (S, k) in fit coordinates; default the law's init grid) has shape (n,), is
    finite for at least one start, and has a finite gradient there. Returns the number of
    starts with finite predictions. Call it before `scaling_jax.fit` on a new or user law.
    """
    from .data import Runs, check_enough_points  # data does not import laws; kept lazy anyway

    law = get_law(law)
    if not isinstance(runs, Runs):
        raise ValueError(f"validate_law: expected a Runs, got {type(runs).__name__}")
    feats = {k: jnp.asarray(v) for k, v in runs.features(law.feature_names).items()}
    check_enough_points(runs, law.n_params, law.name)
    if law.name.startswith("data_constrained"):
        check_data_constrained_inputs(feats["N"], feats["D"], feats["U"])
    thetas = np.asarray(law.init_grid() if theta is None else theta, np.float64)
    if thetas.ndim == 1:
        thetas = thetas[None]
    if thetas.ndim != 2 or thetas.shape[1] != law.n_params:
        raise ValueError(
            f"law {law.name!r}: starts have shape {thetas.shape}, expected (S, {law.n_params})"
        )
    n = len(runs)
    try:
        first = law.log_loss(jnp.asarray(thetas[0]), feats)
    except Exception as err:  # a user's function can raise anything; report it as bad input
        raise ValueError(
            f"law {law.name!r} raised {type(err).__name__} when evaluated on the runs: {err}"
        ) from err
    shape = getattr(first, "shape", None)
    if shape != (n,):
        raise ValueError(
            f"law {law.name!r} returned shape {shape} for {n} runs; it must return one "
            f"(log-)loss per run, shape ({n},)"
        )
    if not jnp.issubdtype(jnp.asarray(first).dtype, jnp.floating):
        raise ValueError(f"law {law.name!r} returned dtype {jnp.asarray(first).dtype}")
    preds = np.asarray(jax.vmap(lambda t: law.log_loss(t, feats))(jnp.asarray(thetas)))
    finite = np.isfinite(preds).all(axis=1)
    if not finite.any():
        row = preds[0]
        i = int(np.flatnonzero(~np.isfinite(row))[0])
        raise ValueError(
            f"law {law.name!r} predicts a non-finite log-loss at every one of {len(thetas)} "
            f"starts (e.g. start 0, run {i}: {row[i]!r}; {int((~np.isfinite(row)).sum())} of "
            f"{n} runs non-finite). A loss <= 0 or NaN has no log; check the function, its "
            "constraints (positive=, bounds=) and the starts"
        )
    grad = jax.grad(lambda t: jnp.sum(law.log_loss(t, feats)))
    candidates = np.flatnonzero(finite)[:8]
    if not any(np.isfinite(np.asarray(grad(jnp.asarray(thetas[j])))).all() for j in candidates):
        raise ValueError(
            f"law {law.name!r} has a non-finite gradient at every checked start with finite "
            "predictions; the fitter needs finite gradients"
        )
    return int(finite.sum())


LAWS.update(
    {
        "data_constrained": DATA_CONSTRAINED,
        "data_constrained_frozen": DATA_CONSTRAINED_FROZEN,
        "data_constrained_tied": data_constrained_law(tie_exponents=True),
        "kaplan": KAPLAN,
    }
)
