"""Built-in demo data: Chinchilla-like training runs drawn from a known law.

The design mimics Hoffmann et al. 2022 (Figure 4, the 245 runs Epoch AI extracted): a few dozen
model sizes log-spaced between 70M and 16B parameters, each trained for several token counts.
Losses come from `scaling_jax.laws.chinchilla` with multiplicative log-normal noise, so a fit
should recover the generating constants -- which makes these runs a self-contained test and demo
that needs no external data.
"""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp
import numpy as np

from scaling_jax._precision import float64_call
from scaling_jax.data import Runs
from scaling_jax.laws import ChinchillaParams, chinchilla

Array = Any

__all__ = [
    "chinchilla_design",
    "synthetic_runs",
    "synthetic_isoflop_runs",
    "synthetic_training_curves",
]

_MAX_SIZES = 40


def _check_range(rng: tuple[float, float], name: str) -> tuple[float, float]:
    try:
        lo, hi = (float(x) for x in rng)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a (low, high) pair of numbers, got {rng!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi):
        raise ValueError(f"{name}: need finite 0 < low <= high, got ({lo!r}, {hi!r})")
    return lo, hi


def _check_n_runs(n_runs: Any) -> int:
    if isinstance(n_runs, bool) or not isinstance(n_runs, (int, np.integer)) or n_runs < 1:
        raise ValueError(f"n_runs: expected a positive integer, got {n_runs!r}")
    return int(n_runs)


def chinchilla_design(
    n_runs: int = 245,
    seed: int = 0,
    n_range: tuple[float, float] = (7e7, 1.6e10),
    d_range: tuple[float, float] = (5e9, 5e11),
) -> tuple[np.ndarray, np.ndarray]:
    """A Chinchilla-like experimental design: (N parameters, D tokens), float64 arrays.

    About ``2 * sqrt(n_runs)`` model sizes (31 for the default 245 runs; at most 40) are
    log-spaced over ``n_range``; the runs are split evenly among them and each run's token count
    is drawn log-uniformly from ``d_range``. Deterministic for a given ``seed``. Runs are ordered
    by model size, then by tokens.
    """
    n_runs = _check_n_runs(n_runs)
    n_lo, n_hi = _check_range(n_range, "n_range")
    d_lo, d_hi = _check_range(d_range, "d_range")
    n_sizes = min(n_runs, _MAX_SIZES, max(2, round(2 * math.sqrt(n_runs))))
    sizes = np.geomspace(n_lo, n_hi, n_sizes)
    per_size = np.full(n_sizes, n_runs // n_sizes)
    per_size[: n_runs % n_sizes] += 1
    rng = np.random.default_rng(seed)
    N = np.repeat(sizes, per_size)
    log_d = rng.uniform(math.log(d_lo), math.log(d_hi), size=n_runs)
    # Sort tokens within each size so the table reads like a training log.
    order = np.lexsort((log_d, N))
    D = np.exp(log_d[order])
    # Keep the draws inside the closed range despite exp(log(x)) rounding.
    D = np.clip(D, d_lo, d_hi)
    return N, D


@float64_call
def synthetic_runs(
    params: ChinchillaParams,
    n_runs: int = 245,
    seed: int = 0,
    noise: float = 0.01,
    design: tuple[Any, Any] | Runs | None = None,
) -> Runs:
    """Runs whose losses (nats/token) follow the Chinchilla law with log-normal noise.

    loss = chinchilla(params, N, D) * exp(noise * z), z ~ standard normal: ``noise`` is the
    standard deviation of the log-loss residuals (0 gives the exact law values).

    Args:
      params: the generating constants, a `ChinchillaParams`.
      n_runs: number of runs of the default `chinchilla_design` (ignored with ``design``).
      seed: seeds both the design and the noise; the same seed gives the same runs.
      noise: standard deviation of the noise in log-loss, >= 0.
      design: optional (N, D) arrays or a `Runs` whose N and D to use instead.
    """
    noise = float(noise)
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise: expected a finite standard deviation >= 0, got {noise!r}")
    if design is None:
        N, D = chinchilla_design(n_runs, seed)
    elif isinstance(design, Runs):
        N, D = design.N, design.D
    else:
        try:
            N, D = design
        except (TypeError, ValueError):
            raise ValueError("design: expected (N, D) arrays or a Runs") from None
        # Validate (and name the field of) a bad design before evaluating the law on it.
        checked = Runs(N=N, D=D, loss=np.ones(np.shape(N)))
        N, D = checked.N, checked.D
    try:
        params = ChinchillaParams(*(float(p) for p in params))
    except (TypeError, ValueError):
        raise ValueError(
            f"params: expected ChinchillaParams(A, B, E, alpha, beta) of scalars, got {params!r}"
        ) from None
    law = np.asarray(chinchilla(params, N, D), dtype=np.float64)
    # A separate stream from the design's, so passing the default design explicitly with the
    # same seed gives identical losses.
    z = np.random.default_rng([seed, 1]).standard_normal(len(law))
    loss = law * np.exp(noise * z) if noise > 0 else law
    return Runs(N=N, D=D, loss=loss)


# --------------------------------------------------------------------------------------------
# IsoFLOP runs and training curves from a known law (IsoFLOP tests, notebook, demos).


@float64_call
def synthetic_isoflop_runs(
    params: Any,
    budgets: Array,
    per_budget: int = 9,
    span: float = 4.0,
    noise: float = 0.0,
    seed: int = 0,
    loss_fn: Any = None,
) -> dict[str, np.ndarray]:
    """IsoFLOP runs from a known law: per budget, `per_budget` sizes log-spaced over ×/÷ `span`
    around the law's 6ND optimum, D = C/(6N), loss = law + Gaussian `noise` (nats).

    Returns a mapping of columns {"N", "D", "compute", "loss"} usable by `isoflop_fit`.
    """
    from scaling_jax.sizing.optimal import solve_compute_optimal  # noqa: PLC0415 -- no cycle

    loss_fn = chinchilla if loss_fn is None else loss_fn
    budgets = np.asarray(budgets, dtype=float).reshape(-1)
    n_star = solve_compute_optimal(params, jnp.asarray(budgets), loss_fn=loss_fn).N
    offsets = np.linspace(-np.log(span), np.log(span), per_budget)
    N = (np.asarray(n_star)[:, None] * np.exp(offsets)[None, :]).reshape(-1)
    C = np.repeat(budgets, per_budget)
    D = C / (6.0 * N)
    loss = np.asarray(loss_fn(params, jnp.asarray(N), jnp.asarray(D)))
    loss = loss + noise * np.random.default_rng(seed).standard_normal(loss.shape)
    return {"N": N, "D": D, "compute": C, "loss": loss}


@float64_call
def synthetic_training_curves(
    params: Any,
    sizes: Array,
    max_compute: float,
    points: int = 64,
    min_tokens: float = 1e8,
    loss_fn: Any = None,
) -> dict[str, np.ndarray]:
    """Idealized training curves: the loss of size N after D tokens is the law's L(N, D).

    (As if every point were the end of a run with a schedule matched to its length, which is
    what Chinchilla's approach 1 assumes.) Each run goes from `min_tokens` to `max_compute`
    FLOPs in `points` log-spaced steps. Returns long-format columns {"N", "flops", "loss", "run"}.
    """
    loss_fn = chinchilla if loss_fn is None else loss_fn
    sizes = np.asarray(sizes, dtype=float).reshape(-1)
    frac = np.linspace(0.0, 1.0, points)
    d_max = max_compute / (6.0 * sizes)
    D = np.exp(np.log(min_tokens) + frac[None, :] * np.log(d_max / min_tokens)[:, None])
    N = np.broadcast_to(sizes[:, None], D.shape)
    loss = np.asarray(loss_fn(params, jnp.asarray(N), jnp.asarray(D)))
    run = np.broadcast_to(np.arange(sizes.size)[:, None], D.shape)
    return {
        "N": N.reshape(-1),
        "flops": (6.0 * N * D).reshape(-1),
        "loss": loss.reshape(-1),
        "run": run.reshape(-1).astype(float),
    }
