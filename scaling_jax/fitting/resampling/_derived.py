"""Quantities derived from per-resample params (exponents, compute-optimal allocation,
predicted loss): pure functions of a params pytree with a leading resample axis.

`natural_rows` and `derived_rows` are the same computations as one compiled program each
(per law and shapes) on a table of fit coordinates: `BootstrapResult` evaluates its natural
params and derived intervals through them, rather than op by op on the host (each eager
``jnp`` op on a new shape is a program of its own to trace, lower and compile).
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp

from scaling_jax._aot import recipe_of, stored_jit
from scaling_jax.laws import LAWS, ChinchillaParams, Law, chinchilla, law_loss_fn
from scaling_jax.sizing.optimal import compute_optimal, optimal_exponents

Array = Any

__all__ = [
    "exponents",
    "tokens_per_param",
    "predicted_loss",
    "derived_quantities",
    "natural_rows",
    "derived_rows",
]


# a_N = beta/(alpha+beta) (N_opt ~ C^a_N) and b_D = alpha/(alpha+beta) (D_opt ~ C^b_D).
exponents = optimal_exponents


def tokens_per_param(params: Any, compute: Array) -> Array:
    """Compute-optimal D_opt/N_opt (tokens per parameter) at `compute` FLOPs; (R, *C.shape)."""
    opt = compute_optimal(params, compute, params_batch=True)
    return opt.D / opt.N


def predicted_loss(params: Any, N: Array, D: Array) -> Array:
    """Chinchilla loss (nats/token) at (N, D) for every resample; shape (R, *broadcast(N, D))."""
    N, D = jnp.broadcast_arrays(jnp.asarray(N, float), jnp.asarray(D, float))

    def expand(leaf: Array) -> Array:
        leaf = jnp.asarray(leaf)
        return leaf.reshape(leaf.shape[:1] + (1,) * N.ndim)

    return chinchilla(ChinchillaParams(*(expand(v) for v in params)), N[None], D[None])


def derived_quantities(
    params: Any, budgets: Any = None, points: Any = None, *, law: Law | None = None
) -> dict[str, Array]:
    """Quantities derived from per-resample params, vectorized (jit/vmap-able).

    Args:
      params: natural params whose leaves have a leading resample axis (R,).
      budgets: training budgets C (FLOPs), shape (nC,) -> N_opt, D_opt, tokens_per_param (R, nC).
      points: (N, D) arrays of shape (nP,) -> predicted loss (R, nP) in nats/token.
      law: the `Law` the params belong to (default: Chinchilla). Chinchilla params give the
        exponents a_N, b_D and the closed-form optimum; any other law that reads only N and D
        gets N_opt, D_opt, tokens_per_param from the numeric compute-optimal solver and the
        loss from its own prediction (a_N, b_D are Chinchilla closed forms and are left out).
    """
    closed = isinstance(params, ChinchillaParams) if law is not None else True
    needs_loss = not closed and (budgets is not None or points is not None)
    loss_fn = law_loss_fn(law) if needs_loss else None
    out: dict[str, Array] = {}
    if closed:
        a, b = exponents(params)
        out.update(a_N=a, b_D=b)
    if budgets is not None:
        c = jnp.atleast_1d(jnp.asarray(budgets, float))
        opt = compute_optimal(params, c, loss_fn=loss_fn, params_batch=True)
        out.update(N_opt=opt.N, D_opt=opt.D, tokens_per_param=opt.D / opt.N)
    if points is not None:
        N, D = points
        N, D = (jnp.atleast_1d(jnp.asarray(v, float)) for v in (N, D))
        if closed:
            out["loss"] = predicted_loss(params, N, D)
        else:
            N, D = jnp.broadcast_arrays(N, D)
            out["loss"] = jax.vmap(lambda p: loss_fn(p, N, D))(params)
    return out


def natural_rows(theta: Array, *, law: Law) -> Any:
    """``law.to_params(theta)`` as one compiled program: fit coordinates (rows, k) -> the
    law's natural-params NamedTuple of arrays (rows,)."""
    return _programs(law)[0](theta)


def derived_rows(theta: Array, budgets: Any, points: Any, *, law: Law) -> dict[str, Array]:
    """`derived_quantities` of ``law.to_params(theta)`` as one compiled program.

    Args:
      theta: fit coordinates, one row per fit (rows, k).
      budgets: training budgets (nC,) in FLOPs, or None.
      points: (N, D) arrays (nP,) or None.
      law: the `Law` theta belongs to (one program per law and shapes).
    """
    return _programs(law)[1](theta, budgets, points)


@functools.lru_cache(maxsize=32)
def _programs(law: Law) -> tuple[Any, Any]:
    """The two programs of `law`, made once per law. A registry law's are kept in the store
    of compiled executables (`scaling_jax._aot`), so a new process neither traces nor lowers
    them; any other law's are plain `jax.jit`."""
    registry = LAWS.get(law.name) is law
    to_params = recipe_of(law.to_params) if registry else None
    log_loss = recipe_of(law.log_loss) if registry else None
    stored = to_params is not None and log_loss is not None

    def derived(theta: Array, budgets: Any, points: Any) -> dict[str, Array]:
        return derived_quantities(law.to_params(theta), budgets, points, law=law)

    return (
        stored_jit(law.to_params, ("natural_rows", to_params) if stored else None),
        stored_jit(derived, ("derived_rows", to_params, log_loss) if stored else None),
    )
