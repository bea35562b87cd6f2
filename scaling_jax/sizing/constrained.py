"""Compute-optimal allocation when unique data is capped (Muennighoff et al. 2023, §5-6).

Given a training budget C (FLOPs, C = 6 N D) and U_max unique tokens available, which model
size N and token count D = C / (6N) minimize the data-constrained loss (Muennighoff et al.
2023)? When D <= U_max every token is fresh (U = D); beyond it the U_max unique tokens are
repeated for D / U_max epochs. The loss in log N has kinks (where D = U_max, and where N crosses
N_opt(U)), so the solver is derivative-free: a coarse log-spaced scan picks the best bracket,
then a fixed number of golden-section steps refines it inside. Fixed iteration counts keep it
pure JAX, jit-compiled and vectorized over (C, U_max) pairs; the authors search a grid, which
`allocation_grid_search` reproduces for comparison.

The law itself (`DataConstrainedParams`, `data_constrained`, `data_constrained_law`) lives in
`scaling_jax.laws` and is re-exported here.
"""

from __future__ import annotations

import functools
import math
import os
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from scaling_jax._io import arrays_from_dict, arrays_to_dict, read_json, write_json_atomic
from scaling_jax._precision import float64_call
from scaling_jax.laws import (
    DATA_CONSTRAINED,
    DataConstrainedParams,
    check_data_constrained_inputs,
    data_constrained,
    data_constrained_law,
    data_constrained_log_loss,
    n_opt_single_epoch,
)

Array = Any

__all__ = [
    "DataConstrainedParams",
    "data_constrained",
    "data_constrained_law",
    "n_opt_single_epoch",
    "check_data_constrained_inputs",
    "ConstrainedOptimum",
    "capped_loss",
    "constrained_optimal",
    "allocation_grid_search",
]

_INV_PHI = (math.sqrt(5.0) - 1.0) / 2.0  # golden-section shrink factor per step


class ConstrainedOptimum(NamedTuple):
    """Best allocation for a budget under a unique-data cap (arrays shaped like C, U_max).

    Attributes:
      N: parameters. D: training tokens (= C / (6N)). loss: predicted loss (nats/token).
      unique_tokens: unique tokens actually used, min(D, U_max).
      epochs: D / unique_tokens (1 when the data is not repeated).
    """

    N: Array
    D: Array
    loss: Array
    unique_tokens: Array
    epochs: Array

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (arrays become nested lists)."""
        return arrays_to_dict(self)

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write `to_dict` as JSON to `path`, atomically (temporary file, then rename)."""
        write_json_atomic(path, self.to_dict())

    @classmethod
    def from_dict(cls, blob: dict[str, Any]) -> ConstrainedOptimum:
        """Inverse of `to_dict` (float64 NumPy arrays)."""
        return arrays_from_dict(cls, blob)

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> ConstrainedOptimum:
        """Read a result written by `to_json`."""
        return cls.from_dict(read_json(path))


def _theta(params: DataConstrainedParams) -> Array:
    return DATA_CONSTRAINED.from_params(DataConstrainedParams(*(jnp.asarray(v) for v in params)))


def _log_loss_at(theta: Array, log_n: Array, log_c6: Array, log_u_max: Array) -> Array:
    # D = C/(6N); only min(D, U_max) of the tokens are unique.
    log_d = log_c6 - log_n
    log_u = jnp.minimum(log_d, log_u_max)
    return data_constrained_log_loss(theta, jnp.exp(log_n), jnp.exp(log_d), jnp.exp(log_u))


@float64_call
def capped_loss(params: DataConstrainedParams, N: Array, compute: Array, unique_max: Array):
    """Loss (nats/token) of N parameters trained with `compute` FLOPs (D = C / (6N)) when at
    most `unique_max` unique tokens exist (U = min(D, unique_max))."""
    log_n, log_c6, log_u = (jnp.log(jnp.asarray(x, float)) for x in (N, compute, unique_max))
    log_c6 = log_c6 - math.log(6.0)
    return jnp.exp(_log_loss_at(_theta(params), log_n, log_c6, log_u))


def _check(compute: Array, unique_max: Array) -> tuple[np.ndarray, np.ndarray]:
    if any(isinstance(x, jax.core.Tracer) for x in (compute, unique_max)):
        return compute, unique_max
    c = np.asarray(compute, np.float64)
    u = np.asarray(unique_max, np.float64)
    for arr, what in ((c, "compute (FLOPs)"), (u, "unique_max (unique tokens)")):
        bad = ~np.isfinite(arr) | (arr <= 0)
        if bad.any():
            raise ValueError(f"{what} must be finite and > 0; got {arr[bad].ravel()[0]!r}")
    return c, u


def _log_inputs(compute: Array, unique_max: Array) -> tuple[Array, Array, tuple[int, ...]]:
    """Checked inputs as flat log(C/6) and log(U), and their broadcast shape."""
    c, u = _check(compute, unique_max)
    c, u = jnp.broadcast_arrays(jnp.asarray(c, float), jnp.asarray(u, float))
    return jnp.log(c.ravel()) - math.log(6.0), jnp.log(u.ravel()), c.shape


@functools.partial(jax.jit, static_argnames=("n_scan", "n_golden"))
def _solve(theta, log_c6, log_u, span, n_scan: int, n_golden: int):
    def one(log_c6, log_u):
        f = functools.partial(_log_loss_at, theta, log_c6=log_c6, log_u_max=log_u)
        # Scan around N = D (= sqrt(C/6)); span is in log N, e.g. 12 -> D/N in e^(+-24).
        xs = 0.5 * log_c6 + jnp.linspace(-span, span, n_scan)
        fs = jax.vmap(f)(xs)
        fs = jnp.where(jnp.isfinite(fs), fs, jnp.inf)
        i = jnp.argmin(fs)
        lo = xs[jnp.maximum(i - 1, 0)]
        hi = xs[jnp.minimum(i + 1, n_scan - 1)]

        def step(_, s):
            a, b, x1, x2, f1, f2 = s
            left = f1 <= f2  # keep [a, x2] when the left probe is lower
            a, b = jnp.where(left, a, x1), jnp.where(left, x2, b)
            x1n = jnp.where(left, b - _INV_PHI * (b - a), x2)
            x2n = jnp.where(left, x1, a + _INV_PHI * (b - a))
            # One new evaluation per step: the other probe is reused.
            x_new = jnp.where(left, x1n, x2n)
            f_new = f(x_new)
            f1n = jnp.where(left, f_new, f2)
            f2n = jnp.where(left, f1, f_new)
            return a, b, x1n, x2n, f1n, f2n

        x1 = hi - _INV_PHI * (hi - lo)
        x2 = lo + _INV_PHI * (hi - lo)
        a, b, x1, x2, f1, f2 = jax.lax.fori_loop(0, n_golden, step, (lo, hi, x1, x2, f(x1), f(x2)))
        # Never worse than the scan's best point (golden section assumes unimodality).
        cands = jnp.stack([x1, x2, xs[i]])
        vals = jnp.stack([f1, f2, fs[i]])
        j = jnp.argmin(jnp.where(jnp.isfinite(vals), vals, jnp.inf))
        return cands[j], vals[j]

    return jax.vmap(one)(log_c6, log_u)


def _pack(log_n: Array, log_loss: Array, log_c6: Array, log_u: Array, shape) -> ConstrainedOptimum:
    log_d = log_c6 - log_n
    log_used = jnp.minimum(log_d, log_u)
    out = (
        jnp.exp(log_n),
        jnp.exp(log_d),
        jnp.exp(log_loss),
        jnp.exp(log_used),
        jnp.exp(log_d - log_used),
    )
    return ConstrainedOptimum(*(x.reshape(shape) for x in out))


@float64_call
def constrained_optimal(
    params: DataConstrainedParams,
    compute: Array,
    unique_max: Array,
    *,
    span: float = 12.0,
    n_scan: int = 256,
    n_golden: int = 80,
) -> ConstrainedOptimum:
    """(N, D) minimizing the data-constrained loss at budget `compute` (FLOPs, C = 6ND)
    with at most `unique_max` unique tokens; vectorized over broadcast (compute, unique_max).

    Searches log N within +-`span` of log sqrt(C/6): `n_scan` log-spaced points pick the
    bracket, `n_golden` golden-section steps shrink it by 0.618 each (80 steps: ~1e-17 of the
    bracket, below float64 resolution). The result is never worse than the scan's best point.
    """
    compute, unique_max = _check(compute, unique_max)
    params = DataConstrainedParams(*params)
    return _constrained(params, compute, unique_max, span, n_scan, n_golden)


@functools.partial(jax.jit, static_argnames=("n_scan", "n_golden"))
def _constrained(params, compute, unique_max, span, n_scan: int, n_golden: int):
    """`constrained_optimal` after its input checks, as one compiled program (called
    eagerly, the setup and packing around the search would each compile a program)."""
    log_c6, log_u, shape = _log_inputs(compute, unique_max)
    span = jnp.asarray(span, float)
    log_n, log_loss = _solve(_theta(params), log_c6, log_u, span, n_scan, n_golden)
    return _pack(log_n, log_loss, log_c6, log_u, shape)


@float64_call
def allocation_grid_search(
    params: DataConstrainedParams,
    compute: Array,
    unique_max: Array,
    *,
    span: float = 12.0,
    n_grid: int = 20001,
) -> ConstrainedOptimum:
    """Brute force: the best of `n_grid` log-spaced N over the same range as
    `constrained_optimal` (the authors' approach; a reference for tests)."""
    log_c6, log_u, shape = _log_inputs(compute, unique_max)
    theta = _theta(params)
    offsets = jnp.linspace(-span, span, n_grid)

    def one(lc, lu):
        xs = 0.5 * lc + offsets
        fs = jax.vmap(lambda x: _log_loss_at(theta, x, lc, lu))(xs)
        i = jnp.argmin(jnp.where(jnp.isfinite(fs), fs, jnp.inf))
        return xs[i], fs[i]

    log_n, log_loss = jax.lax.map(lambda a: one(*a), (log_c6, log_u))
    return _pack(log_n, log_loss, log_c6, log_u, shape)
