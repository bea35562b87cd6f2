"""Lifetime (training + inference) cost-optimal model sizing (Sardana et al. 2024).

A model that will serve T inference tokens should minimize training plus inference compute
for the quality it must reach, not training compute alone ("Beyond Chinchilla-Optimal")::

    minimize  6·N·D_tr + 2·N·T   (FLOPs)   subject to   L(N, D_tr) = loss.

For the Chinchilla law, eliminating N = (A / (loss − E − B·D**−beta))**(1/alpha) leaves the 1-D
root equation (Sardana et al. 2024)::

    B·(1 + beta/alpha)·D**−beta + (beta·B·T / (3·alpha))·D**−(beta+1) + E − loss = 0,

solved here in log D by a bracketed, safeguarded Newton iteration with a fixed iteration
count: every lane of a batch does the same work, so 1e5 scenarios run in one jitted call.
The dollar objective (separate training and serving hardware, MFUs, prices) has the same
optimum with T replaced by ``T_eff = c_inf·(T_in/U_in + T_out/U_out) / (c_tr/U_tr)``.

Everything is pure JAX, broadcasts over array-valued inputs (including `ChinchillaParams`
whose fields carry a leading sample axis) and is differentiable: the optima carry
implicit-function-theorem derivatives (`jax.custom_jvp` on each root), so gradients with
respect to demand, prices, MFUs and law constants cost one extra elementwise pass.

Bad inputs raise ``ValueError`` naming the field when they are concrete; inside ``jit`` the
result's ``status`` says which lanes are valid (`LifetimeStatus.OK`); only flagged lanes hold NaN.
"""

from __future__ import annotations

import enum
import functools
import json
import math
import os
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from scaling_jax._aot import stored_jit
from scaling_jax._io import read_json, write_json_atomic
from scaling_jax._precision import float64_call
from scaling_jax.laws import ChinchillaParams, chinchilla
from scaling_jax.sizing.optimal import (
    _check_positive,
    compute_optimal,
    loss_optimal,
    optimal_exponents,
)

from ._roots import bisect, implicit_root, safeguarded_newton

Array = Any

__all__ = [
    "PEAK_FLOPS",
    "Hardware",
    "CostModel",
    "hardware",
    "cost_model",
    "LifetimeStatus",
    "STATUS_OK",
    "STATUS_UNREACHABLE",
    "STATUS_INVALID",
    "LifetimeBaseline",
    "LifetimeOptimum",
    "LifetimeIntervals",
    "lifetime_flops",
    "lifetime_cost",
    "effective_inference_tokens",
    "chinchilla_style",
    "chinchilla_optimal_loss",
    "lifetime_optimal",
    "lifetime_budget_optimal",
    "lifetime_optimal_general",
    "lifetime_intervals",
]

# Dense peak throughput (FLOP/s per GPU) used by Sardana et al. 2024.
PEAK_FLOPS: dict[str, dict[str, float]] = {
    "A100": {"bf16": 3.12e14, "fp16": 3.12e14, "int8": 6.24e14},
    "H100": {"bf16": 9.89e14, "fp16": 9.89e14, "fp8": 1.978e15, "int8": 1.978e15},
}



class LifetimeStatus(enum.IntEnum):
    """Per-lane outcome of the lifetime optimizers (`LifetimeOptimum.status`).

    Distinct from `scaling_jax.fitting.solver.FitStatus` (per solver lane of a fit), whose
    codes mean other things.
    """

    OK = 0
    UNREACHABLE = 1  # target loss <= E (or budget form: nothing to report)
    INVALID = 2  # negative demand, MFU outside (0, 1], non-positive price, non-finite input


# The former spellings of the codes.
STATUS_OK = LifetimeStatus.OK
STATUS_UNREACHABLE = LifetimeStatus.UNREACHABLE
STATUS_INVALID = LifetimeStatus.INVALID

_NEWTON_ITERS = 8  # target form: monotone Newton from a left bracket; 5 suffice in tests
_BUDGET_ITERS = 12


# --------------------------------------------------------------------------- cost model


class Hardware(NamedTuple):
    """One accelerator: dense peak throughput (FLOP/s) and rental price ($ per GPU-hour)."""

    peak_flops: Array
    price_per_hour: Array

    @property
    def cost_per_flop(self) -> Array:
        """$ per FLOP at 100% utilization: price / (3600 s · peak FLOP/s)."""
        return jnp.asarray(self.price_per_hour) / (3600.0 * jnp.asarray(self.peak_flops))


class CostModel(NamedTuple):
    """Training and serving hardware, utilizations and lifetime demand (a vmappable pytree).

    Attributes:
      train, serve: `Hardware` used for training and for inference.
      mfu_train, mfu_prefill, mfu_decode: model FLOPs utilizations in (0, 1]. Defaults are
        the authors' (repository nikhilsardana/beyond-chinchilla, cost_optimal.py: train and
        prefill 0.5, generation 0.01).
      requests: lifetime number of inference requests.
      input_tokens, output_tokens: tokens per request (prompt / prefill, generated / decode).
    """

    train: Hardware
    serve: Hardware
    mfu_train: Array = 0.5
    mfu_prefill: Array = 0.5
    mfu_decode: Array = 0.01
    requests: Array = 0.0
    input_tokens: Array = 0.0
    output_tokens: Array = 0.0

    @property
    def input_total(self) -> Array:
        """Lifetime prefill tokens T_in = requests · input tokens per request."""
        return jnp.asarray(self.requests) * jnp.asarray(self.input_tokens)

    @property
    def output_total(self) -> Array:
        """Lifetime decode tokens T_out = requests · output tokens per request."""
        return jnp.asarray(self.requests) * jnp.asarray(self.output_tokens)

    @property
    def inference_tokens(self) -> Array:
        """Lifetime inference tokens T = T_in + T_out."""
        return self.input_total + self.output_total

    @property
    def train_cost_per_flop(self) -> Array:
        """$ per useful training FLOP, c_tr / U_tr."""
        return self.train.cost_per_flop / jnp.asarray(self.mfu_train)


def hardware(gpu: str, price_per_hour: Array, dtype: str = "bf16") -> Hardware:
    """`Hardware` for a preset GPU (``"A100"``, ``"H100"``) at ``price_per_hour`` $/GPU-hour."""
    try:
        peak = PEAK_FLOPS[gpu.upper()][dtype.lower()]
    except KeyError:
        known = {g: sorted(d) for g, d in PEAK_FLOPS.items()}
        raise ValueError(f"unknown gpu/dtype {gpu!r}/{dtype!r}; known: {known}") from None
    return Hardware(peak_flops=peak, price_per_hour=price_per_hour)


def cost_model(
    *,
    train_gpu: str | Hardware = "H100",
    serve_gpu: str | Hardware = "H100",
    train_price: Array = 2.0,
    serve_price: Array = 2.0,
    dtype: str = "bf16",
    mfu_train: Array = 0.5,
    mfu_prefill: Array = 0.5,
    mfu_decode: Array = 0.01,
    requests: Array = 0.0,
    input_tokens: Array = 0.0,
    output_tokens: Array = 0.0,
) -> CostModel:
    """Convenience constructor: GPU names (or `Hardware`) plus prices in $/GPU-hour."""
    tr = train_gpu if isinstance(train_gpu, Hardware) else hardware(train_gpu, train_price, dtype)
    sv = serve_gpu if isinstance(serve_gpu, Hardware) else hardware(serve_gpu, serve_price, dtype)
    return CostModel(
        tr, sv, mfu_train, mfu_prefill, mfu_decode, requests, input_tokens, output_tokens
    )


def effective_inference_tokens(cost: CostModel) -> Array:
    """T_eff = c_inf·(T_in/U_in + T_out/U_out) / (c_tr/U_tr): inference tokens priced as
    training FLOPs, so the dollar optimum equals the FLOPs optimum at T_eff (Sardana et al.
    2024)."""
    per_token = cost.input_total / jnp.asarray(cost.mfu_prefill) + cost.output_total / jnp.asarray(
        cost.mfu_decode
    )
    return cost.serve.cost_per_flop * per_token / cost.train_cost_per_flop


@float64_call
def lifetime_flops(N: Array, D_train: Array, inference_tokens: Array) -> Array:
    """Lifetime FLOPs 6·N·D_tr (training) + 2·N·T (inference) for N parameters."""
    N = jnp.asarray(N)
    return 6.0 * N * jnp.asarray(D_train) + 2.0 * N * jnp.asarray(inference_tokens)


@float64_call
def lifetime_cost(N: Array, D_train: Array, cost: CostModel) -> Array:
    """Lifetime dollars: training on `cost.train` plus prefill and decode on `cost.serve`."""
    N = jnp.asarray(N)
    c_inf = cost.serve.cost_per_flop
    return (
        6.0 * N * jnp.asarray(D_train) * cost.train_cost_per_flop
        + 2.0 * N * cost.input_total * c_inf / jnp.asarray(cost.mfu_prefill)
        + 2.0 * N * cost.output_total * c_inf / jnp.asarray(cost.mfu_decode)
    )


# --------------------------------------------------------------------------- Chinchilla forms


def chinchilla_style(params: ChinchillaParams, loss: Array) -> tuple[Array, Array]:
    """Deprecated: `scaling_jax.sizing.loss_optimal(params, loss)` returns the same
    compute-optimal model reaching `loss` (Sardana et al. 2024, T = 0) as an `Allocation`."""
    warnings.warn(
        "chinchilla_style(params, loss) -> (N, D) is deprecated; use "
        "scaling_jax.sizing.loss_optimal(params, loss), which returns an Allocation",
        DeprecationWarning,
        stacklevel=2,
    )
    alloc = loss_optimal(ChinchillaParams(*params), loss)
    return alloc.N, alloc.D


@float64_call
def chinchilla_optimal_loss(params: ChinchillaParams, n_params: Array) -> Array:
    """Loss of the compute-optimal model with `n_params` parameters (e.g. "a Chinchilla-optimal
    13B model"), using the closed form of `scaling_jax.sizing.compute_optimal`."""
    _check_positive("n_params", n_params)
    return _OPTIMAL_LOSS(ChinchillaParams(*params), n_params)


def _optimal_loss(params: ChinchillaParams, n_params: Array) -> Array:
    # Invert N_opt = G·(C/6)**a for C (G is N_opt at C = 6), then read D_opt(C).
    p = ChinchillaParams(*(jnp.asarray(v) for v in params))
    a, _ = optimal_exponents(p)
    G = compute_optimal(p, 6.0).N
    compute = 6.0 * jnp.power(jnp.asarray(n_params) / G, 1.0 / a)
    return compute_optimal(p, compute).loss


# `chinchilla_optimal_loss` as one compiled program (not one per op when called eagerly),
# a stored executable (`scaling_jax._aot`) that a new process loads instead of tracing.
_OPTIMAL_LOSS = stored_jit(_optimal_loss, ("chinchilla_optimal_loss",))


def _target_residual(x, A, B, E, alpha, beta, loss, T):
    # Sardana et al.'s root equation divided by (loss − E); linear in T so d/dT exists at T = 0.
    D = jnp.exp(x)
    lhs = B * (1.0 + beta / alpha) * D**-beta + beta * B * T / (3.0 * alpha) * D ** -(beta + 1.0)
    return 1.0 - lhs / (loss - E)


def _target_solve(A, B, E, alpha, beta, loss, T):
    # In log form f(x) = log(loss − E) − logsumexp(log c1 − beta·x, log c2 − (beta+1)·x) is
    # increasing and concave, so Newton from a left point climbs monotonically to the root.
    log_delta = jnp.log(loss - E)
    log_c1 = jnp.log(B) + jnp.log1p(beta / alpha)
    log_c2 = jnp.log(beta * B / (3.0 * alpha)) + jnp.log(T)  # -inf at T = 0 is harmless
    x1 = (log_c1 - log_delta) / beta  # log D_ch: the root without the inference term
    x2 = (log_c2 - log_delta) / (beta + 1.0)  # the root without the training term
    lo = jnp.maximum(x1, x2)  # each term alone reaches loss − E here: f(lo) <= 0
    hi = lo + math.log(2.0) / beta  # both terms <= (loss − E)/2 here: f(hi) >= 0

    def fdf(x):
        a1 = log_c1 - beta * x
        a2 = log_c2 - (beta + 1.0) * x
        m = jnp.maximum(a1, a2)
        e1, e2 = jnp.exp(a1 - m), jnp.exp(a2 - m)
        s = e1 + e2
        return log_delta - m - jnp.log(s), beta + e2 / s

    return safeguarded_newton(fdf, lo, lo, hi, _NEWTON_ITERS)


_target_log_d = implicit_root(_target_residual, _target_solve)


def _budget_residual(x, A, B, E, alpha, beta, F, T):
    # d/dD of A·N**−alpha + B·D**−beta along N = F/(6D + 2T), in log form (increasing in x).
    log_6dt = jnp.logaddexp(math.log(6.0) + x, jnp.log(2.0 * T))
    return (
        jnp.log(6.0 * alpha * A / (beta * B))
        - alpha * jnp.log(F)
        + (alpha - 1.0) * log_6dt
        + (beta + 1.0) * x
    )


def _budget_solve(A, B, E, alpha, beta, F, T):
    K = jnp.log(6.0 * alpha * A / (beta * B)) - alpha * jnp.log(F)
    x_a = -(K + (alpha - 1.0) * math.log(6.0)) / (alpha + beta)  # root if 6D dominates 6D + 2T
    x_b = jnp.where(T > 0, -(K + (alpha - 1.0) * jnp.log(2.0 * jnp.where(T > 0, T, 1.0))), 0.0)
    x_b = jnp.where(T > 0, x_b / (beta + 1.0), x_a)  # root if 2T dominates
    # log(6D + 2T) lies within log 2 of max(log 6D, log 2T): widen by that over the least slope.
    w = jnp.abs(alpha - 1.0) * math.log(2.0) / jnp.minimum(alpha + beta, beta + 1.0) + 1e-6
    lo = jnp.minimum(x_a, x_b) - w
    hi = jnp.maximum(x_a, x_b) + w
    x0 = jnp.where(alpha < 1.0, jnp.maximum(x_a, x_b), jnp.minimum(x_a, x_b))

    def fdf(x):
        z = math.log(6.0) + x
        log_2t = jnp.log(2.0 * T)
        share = jax.nn.sigmoid(z - log_2t)  # 6D / (6D + 2T)
        f = K + (alpha - 1.0) * jnp.logaddexp(z, log_2t) + (beta + 1.0) * x
        return f, (alpha - 1.0) * share + beta + 1.0

    return safeguarded_newton(fdf, x0, lo, hi, _BUDGET_ITERS)


_budget_log_d = implicit_root(_budget_residual, _budget_solve)


# --------------------------------------------------------------------------- results


class LifetimeBaseline(NamedTuple):
    """The Chinchilla-style (compute-optimal) model of the same loss, serving the same demand."""

    N: Array
    D_train: Array
    train_flops: Array
    inference_flops: Array
    total_flops: Array
    total_cost: Array | None = None

    @property
    def tokens_per_param(self) -> Array:
        return self.D_train / self.N


class LifetimeOptimum(NamedTuple):
    """Lifetime-optimal sizing (a pytree; arrays broadcast over the scenario inputs).

    Attributes:
      N: parameters; D_train: training tokens; loss: loss reached (nats/token).
      inference_tokens: lifetime inference tokens T; effective_inference_tokens: T_eff
        (equals T for the FLOPs objective).
      train_flops, inference_flops, total_flops: 6·N·D_tr, 2·N·T and their sum (FLOPs).
      total_cost: lifetime $ under the cost model, or None for the FLOPs objective.
      baseline: the Chinchilla-style model of the same loss (`LifetimeBaseline`).
      status: `LifetimeStatus.OK` where the lane is valid; other lanes hold NaN.
    """

    N: Array
    D_train: Array
    loss: Array
    inference_tokens: Array
    effective_inference_tokens: Array
    train_flops: Array
    inference_flops: Array
    total_flops: Array
    total_cost: Array | None
    baseline: LifetimeBaseline
    status: Array

    @property
    def tokens_per_param(self) -> Array:
        """Training tokens per parameter, D_tr / N."""
        return self.D_train / self.N

    @property
    def reachable(self) -> Array:
        """True where the lane solved (status == LifetimeStatus.OK)."""
        status = self.status
        if isinstance(status, np.ndarray):
            return status == LifetimeStatus.OK
        return jnp.asarray(status) == LifetimeStatus.OK

    @property
    def flops_savings(self) -> Array:
        """Fraction of lifetime FLOPs saved relative to the Chinchilla-style baseline."""
        return 1.0 - self.total_flops / self.baseline.total_flops

    @property
    def savings(self) -> Array:
        """Fraction of the objective saved vs the baseline ($ with a cost model, else FLOPs)."""
        if self.total_cost is None or self.baseline.total_cost is None:
            return self.flops_savings
        return 1.0 - self.total_cost / self.baseline.total_cost

    def to_numpy(self) -> LifetimeOptimum:
        """The same optimum with NumPy arrays: host arithmetic on it (the derived properties,
        formatting) runs in NumPy instead of compiling a JAX program per operation."""
        return jax.tree_util.tree_map(np.asarray, self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (arrays become nested lists), derived quantities included."""
        host = self.to_numpy()

        def plain(v):
            return None if v is None else np.asarray(v).tolist()

        out = {k: plain(getattr(host, k)) for k in host._fields if k != "baseline"}
        out["tokens_per_param"] = plain(host.tokens_per_param)
        out["savings"] = plain(host.savings)
        out["flops_savings"] = plain(host.flops_savings)
        out["reachable"] = plain(host.reachable)
        base = {k: plain(getattr(host.baseline, k)) for k in LifetimeBaseline._fields}
        base["tokens_per_param"] = plain(host.baseline.tokens_per_param)
        out["baseline"] = base
        return out

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str | None:
        """Write `to_dict` as JSON to `path`, atomically (temporary file, then rename).

        Without `path` (deprecated) the JSON text is returned instead.
        """
        if path is None:
            warnings.warn(
                "LifetimeOptimum.to_json() without a path is deprecated; use "
                "json.dumps(opt.to_dict()) for the text, or to_json(path) to write it",
                DeprecationWarning,
                stacklevel=2,
            )
            return json.dumps(self.to_dict(), indent=2)
        write_json_atomic(path, self.to_dict())
        return None

    @classmethod
    def from_dict(cls, blob: dict[str, Any]) -> LifetimeOptimum:
        """Inverse of `to_dict` (arrays come back as float64 NumPy arrays; derived keys are
        recomputed, not read)."""

        def arr(v: Any) -> np.ndarray | None:
            return None if v is None else np.asarray(v, dtype=np.float64)

        base = blob["baseline"]
        baseline = LifetimeBaseline(*(arr(base.get(k)) for k in LifetimeBaseline._fields))
        values = {k: arr(blob.get(k)) for k in cls._fields if k not in ("baseline", "status")}
        status = np.asarray(blob["status"], dtype=np.int32)
        return cls(**values, baseline=baseline, status=status)

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> LifetimeOptimum:
        """Read a result written by `to_json`."""
        return cls.from_dict(read_json(path))


# --------------------------------------------------------------------------- validation


def _concrete(x: Any) -> np.ndarray | None:
    """x as a NumPy array when it is concrete, None inside a trace."""
    if isinstance(x, jax.core.Tracer):
        return None
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError):
        return None


def _check(name: str, value: Any, ok: Callable[[np.ndarray], np.ndarray], what: str) -> None:
    arr = _concrete(value)
    if arr is None:
        return
    bad = ~(np.isfinite(arr) & ok(arr))
    if bad.any():
        idx = np.argwhere(bad)[0] if arr.ndim else ()
        where = f"[{', '.join(map(str, idx))}]" if arr.ndim else ""
        raise ValueError(f"{name}{where}={float(arr[tuple(idx)])!r} is invalid: must be {what}")


def _validate_params(params: ChinchillaParams) -> None:
    if not isinstance(params, ChinchillaParams):
        raise TypeError(f"params must be ChinchillaParams, got {type(params).__name__}")
    for name in ChinchillaParams._fields:
        if name == "E":
            _check("params.E", params.E, lambda a: a >= 0, "finite and >= 0")
        else:
            _check(f"params.{name}", getattr(params, name), lambda a: a > 0, "finite and > 0")


def _validate_cost(cost: CostModel) -> None:
    for part in ("train", "serve"):
        hw = getattr(cost, part)
        _check(f"{part}.peak_flops", hw.peak_flops, lambda a: a > 0, "finite and > 0 FLOP/s")
        _check(f"{part}.price_per_hour", hw.price_per_hour, lambda a: a > 0, "> 0 $/GPU-hour")
    for name in ("mfu_train", "mfu_prefill", "mfu_decode"):
        _check(name, getattr(cost, name), lambda a: (a > 0) & (a <= 1), "in (0, 1]")
    for name in ("requests", "input_tokens", "output_tokens"):
        _check(name, getattr(cost, name), lambda a: a >= 0, "finite and >= 0")


def _validate_demand(inference_tokens: Array | None, cost: CostModel | None) -> None:
    """Concrete checks of the serving demand: a cost model, or inference tokens >= 0."""
    if cost is not None:
        _validate_cost(cost)
    else:
        _check(
            "inference_tokens",
            0.0 if inference_tokens is None else inference_tokens,
            lambda a: a >= 0,
            "finite and >= 0 tokens",
        )


def _validate_loss(params: ChinchillaParams, loss: Any) -> None:
    arr, E = _concrete(loss), _concrete(params.E)
    if arr is None:
        return
    _check("loss", arr, lambda a: a > 0, "finite and > 0 (nats/token)")
    if E is not None:
        bad = ~(arr > E)
        if bad.any():
            shape = np.broadcast_shapes(arr.shape, E.shape)
            idx = np.argwhere(np.broadcast_to(bad, shape))[0] if shape else ()
            lv = np.broadcast_to(arr, shape)[tuple(idx)]
            ev = np.broadcast_to(E, shape)[tuple(idx)]
            where = f"[{', '.join(map(str, idx))}]" if shape else ""
            raise ValueError(
                f"loss{where}={float(lv)!r} is unreachable: a target loss must exceed the "
                f"law's irreducible loss E={float(ev)!r}"
            )


def _cost_flags(cost: CostModel) -> Array:
    """True where every cost-model field is valid (for the in-jit status mask)."""
    ok = jnp.asarray(True)
    for hw in (cost.train, cost.serve):
        for v in hw:
            v = jnp.asarray(v)
            ok = ok & jnp.isfinite(v) & (v > 0)
    for name in ("mfu_train", "mfu_prefill", "mfu_decode"):
        v = jnp.asarray(getattr(cost, name))
        ok = ok & jnp.isfinite(v) & (v > 0) & (v <= 1)
    for name in ("requests", "input_tokens", "output_tokens"):
        v = jnp.asarray(getattr(cost, name))
        ok = ok & jnp.isfinite(v) & (v >= 0)
    return ok


def _param_flags(params: ChinchillaParams) -> Array:
    ok = jnp.asarray(True)
    for name, v in zip(ChinchillaParams._fields, params, strict=True):
        v = jnp.asarray(v)
        ok = ok & jnp.isfinite(v) & ((v >= 0) if name == "E" else (v > 0))
    return ok


# --------------------------------------------------------------------------- public solvers


def _demand(inference_tokens: Array | None, cost: CostModel | None) -> tuple[Array, Array]:
    """(T, T_eff): actual lifetime inference tokens and their training-FLOP equivalent."""
    if cost is None:
        T = jnp.asarray(0.0 if inference_tokens is None else inference_tokens, dtype=float)
        return T, T
    if inference_tokens is not None:
        raise ValueError("pass inference_tokens or a cost model (requests × tokens), not both")
    return jnp.asarray(cost.inference_tokens, dtype=float), effective_inference_tokens(cost)


def _finish(p, N, D, loss, loss_out, T, T_eff, cost, status) -> LifetimeOptimum:
    """Assemble the result with its Chinchilla-style baseline; NaN exactly where status != OK.

    `p` and `loss` are the sanitized inputs (finite everywhere, so gradients stay clean);
    `loss_out` is the loss reported.
    """
    ok = status == LifetimeStatus.OK
    base = loss_optimal(ChinchillaParams(*p), loss)
    N_ch, D_ch = base.N, base.D
    nan = jnp.nan

    def mask(v):
        return jnp.where(ok, v, nan)

    N, D, N_ch, D_ch = mask(N), mask(D), mask(N_ch), mask(D_ch)
    tr, inf = 6.0 * N * D, 2.0 * N * T
    b_tr, b_inf = 6.0 * N_ch * D_ch, 2.0 * N_ch * T
    cost_opt = cost_base = None
    if cost is not None:
        k = cost.train_cost_per_flop
        cost_opt = k * (tr + 2.0 * N * T_eff)
        cost_base = k * (b_tr + 2.0 * N_ch * T_eff)
    baseline = LifetimeBaseline(N_ch, D_ch, b_tr, b_inf, b_tr + b_inf, cost_base)
    return LifetimeOptimum(N, D, loss_out, T, T_eff, tr, inf, tr + inf, cost_opt, baseline, status)


def _sanitize(params, loss, T_eff, ok):
    """Replace invalid lanes by a harmless scenario so that neither values nor gradients of the
    valid lanes see NaN (the invalid lanes are masked afterwards)."""
    A, B, E, alpha, beta = (
        jnp.where(ok, jnp.asarray(v), d) for v, d in zip(params, _SAFE, strict=True)
    )
    loss = jnp.where(ok, loss, E + 1.0)
    T_eff = jnp.where(ok, T_eff, 0.0)
    return ChinchillaParams(A, B, E, alpha, beta), loss, T_eff


_SAFE = (400.0, 400.0, 1.7, 0.34, 0.28)


@float64_call
def lifetime_optimal(
    params: ChinchillaParams,
    loss: Array,
    inference_tokens: Array | None = None,
    *,
    cost: CostModel | None = None,
    validate: bool = True,
) -> LifetimeOptimum:
    """Lifetime-optimal (N, D_tr) reaching `loss` (nats/token) under a Chinchilla-form law.

    Minimizes lifetime FLOPs 6·N·D_tr + 2·N·T for T = `inference_tokens`, or, given a
    `CostModel`, lifetime dollars (its demand is requests × tokens per request).
    Broadcasts over `loss`, `inference_tokens`, the cost-model fields and array-valued
    `params`; jit/vmap/grad-able (implicit derivatives through the root).

    With ``validate`` (default) concrete bad inputs raise ``ValueError`` naming the field;
    traced inputs are never checked in Python: lanes with loss <= E get status
    `LifetimeStatus.UNREACHABLE`, other invalid lanes `LifetimeStatus.INVALID`, and NaN there
    only.
    """
    if validate:
        _validate_params(params)
        _validate_loss(params, loss)
        _validate_demand(inference_tokens, cost)
    T, T_eff = _demand(inference_tokens, cost)
    return _lifetime_core(params, jnp.asarray(loss, dtype=float), T, T_eff, cost)


@jax.jit
def _lifetime_core(params, loss, T, T_eff, cost) -> LifetimeOptimum:
    valid = _param_flags(params) & jnp.isfinite(loss) & jnp.isfinite(T_eff) & (T_eff >= 0)
    valid = valid & jnp.isfinite(T) & (T >= 0)
    if cost is not None:
        valid = valid & _cost_flags(cost)
    reachable = loss > jnp.asarray(params.E)
    status = jnp.where(
        valid,
        jnp.where(reachable, LifetimeStatus.OK, LifetimeStatus.UNREACHABLE),
        LifetimeStatus.INVALID,
    )
    ok = status == LifetimeStatus.OK
    p, loss_s, T_s = _sanitize(params, loss, T_eff, ok)
    x = _target_log_d(*(jnp.asarray(v, dtype=float) for v in p), loss_s, T_s)
    D = jnp.exp(x)
    # N from the constraint L(N, D) = loss; at the root loss − E − B·D**−beta > 0 with margin.
    N = jnp.power(p.A / (loss_s - p.E - p.B * jnp.power(D, -p.beta)), 1.0 / p.alpha)
    status = jnp.broadcast_to(status, N.shape).astype(jnp.int32)
    loss_out = jnp.broadcast_to(loss, N.shape)
    return _finish(p, N, D, loss_s, loss_out, T, T_eff, cost, status)


@float64_call
def lifetime_budget_optimal(
    params: ChinchillaParams,
    budget: Array,
    inference_tokens: Array | None = None,
    *,
    cost: CostModel | None = None,
    validate: bool = True,
) -> LifetimeOptimum:
    """Lowest loss reachable within a lifetime budget: FLOPs, or $ when a `CostModel` is given.

    Minimizes L(N, D_tr) subject to 6·N·D_tr + 2·N·T_eff <= budget (dollars are converted
    with the training price per useful FLOP). The result's ``loss`` is the loss reached and
    ``baseline`` the Chinchilla-style model of that loss. Broadcasts; jit/vmap/grad-able.
    """
    if validate:
        _validate_params(params)
        _check("budget", budget, lambda a: a > 0, "finite and > 0")
        _validate_demand(inference_tokens, cost)
    T, T_eff = _demand(inference_tokens, cost)
    return _budget_core(params, jnp.asarray(budget, dtype=float), T, T_eff, cost)


@jax.jit
def _budget_core(params, budget, T, T_eff, cost) -> LifetimeOptimum:
    F = budget if cost is None else budget / cost.train_cost_per_flop  # training-FLOP units
    valid = _param_flags(params) & jnp.isfinite(F) & (F > 0) & jnp.isfinite(T_eff) & (T_eff >= 0)
    valid = valid & jnp.isfinite(T) & (T >= 0)
    if cost is not None:
        valid = valid & _cost_flags(cost)
    status = jnp.where(valid, LifetimeStatus.OK, LifetimeStatus.INVALID)
    ok = status == LifetimeStatus.OK
    p, _, T_s = _sanitize(params, jnp.asarray(3.0), T_eff, ok)
    F_s = jnp.where(ok, F, 1e21)
    x = _budget_log_d(*(jnp.asarray(v, dtype=float) for v in p), F_s, T_s)
    D = jnp.exp(x)
    N = F_s / (6.0 * D + 2.0 * T_s)
    loss = chinchilla(p, N, D)
    status = jnp.broadcast_to(status, N.shape).astype(jnp.int32)
    return _finish(
        p, N, D, loss, jnp.where(status == LifetimeStatus.OK, loss, jnp.nan), T, T_eff, cost, status
    )


# --------------------------------------------------------------------------- any law


@float64_call
def lifetime_optimal_general(
    params: Any,
    loss: Array,
    inference_tokens: Array = 0.0,
    *args: Any,
    loss_fn: Callable[[Any, Array, Array], Array] | None = None,
    n_bounds: tuple[float, float] = (1e5, 1e15),
    d_bounds: tuple[float, float] = (1e5, 1e17),
    inner_iters: int = 60,
    outer_iters: int = 64,
) -> LifetimeOptimum:
    """Lifetime-FLOPs-optimal model reaching `loss` (nats/token) for any law
    ``loss_fn(params, N, D) -> loss`` (default `chinchilla`; decreasing in N and D, e.g. the
    data-constrained law with its extra inputs closed over), serving `inference_tokens`.
    For a cost objective pass T_eff (`effective_inference_tokens`) as `inference_tokens`.

    N is eliminated by a bracketed Newton root of loss_fn(N, D) = loss in log N; the
    stationarity condition d/dlogD [log(6D + 2T) + log N(D)] = 0 is bisected over log D
    (assumes one interior minimum in `d_bounds`). Vectorized over the broadcast of `loss`,
    `inference_tokens` and the leaves of `params`; gradients by the implicit function theorem
    on the 2×2 KKT system (needs second derivatives of `loss_fn`).

    Returns a `LifetimeOptimum` (``total_cost`` None) whose ``baseline`` is the same law's
    compute-optimal model of the same loss (the T = 0 solution). ``status`` is
    `LifetimeStatus.OK`, `LifetimeStatus.UNREACHABLE` (no N within `n_bounds` reaches `loss`,
    or the optimum sits on a bound of `d_bounds`) or `LifetimeStatus.INVALID`; values are NaN
    where not OK.

    The old form ``lifetime_optimal_general(loss_fn, params, loss, T) -> (N, D, status)``
    still works for one release, with a DeprecationWarning.
    """
    if callable(params) and not isinstance(params, tuple):
        warnings.warn(
            "lifetime_optimal_general(loss_fn, params, loss, T) -> (N, D, status) is "
            "deprecated; use lifetime_optimal_general(params, loss, T, loss_fn=...), which "
            "returns a LifetimeOptimum",
            DeprecationWarning,
            stacklevel=2,
        )
        if len(args) > 1:
            raise TypeError("lifetime_optimal_general takes at most 4 positional arguments")
        old_fn, params, loss = params, loss, inference_tokens
        opt = lifetime_optimal_general(
            params,
            loss,
            args[0] if args else 0.0,
            loss_fn=old_fn,
            n_bounds=n_bounds,
            d_bounds=d_bounds,
            inner_iters=inner_iters,
            outer_iters=outer_iters,
        )
        return opt.N, opt.D_train, opt.status
    if args:
        raise TypeError("lifetime_optimal_general takes params, loss, inference_tokens")
    loss_fn = chinchilla if loss_fn is None else loss_fn
    leaves, treedef = jax.tree_util.tree_flatten(params)
    arrays = [jnp.asarray(v, dtype=float) for v in leaves]
    loss = jnp.asarray(loss, dtype=float)
    T = jnp.asarray(inference_tokens, dtype=float)
    shape = jnp.broadcast_shapes(loss.shape, T.shape, *(a.shape for a in arrays))
    flat = [jnp.broadcast_to(a, shape).reshape(-1) for a in (*arrays, loss, T)]
    bounds = tuple(math.log(b) for b in (*n_bounds, *d_bounds))
    solver = _general_solver(loss_fn, treedef, bounds, inner_iters, outer_iters)
    # One call for the optimum at T and the baseline at T = 0 (lanes stacked, one compile).
    both = [jnp.concatenate([a, a]) for a in flat[:-1]]
    both.append(jnp.concatenate([flat[-1], jnp.zeros_like(flat[-1])]))
    N2, D2, status2 = solver(*both)
    n = flat[-1].shape[0]
    N, D, status = (v[:n].reshape(shape) for v in (N2, D2, status2))
    N0, D0 = (v[n:].reshape(shape) for v in (N2, D2))
    T = jnp.broadcast_to(T, shape)
    train, inference = 6.0 * N * D, 2.0 * N * T
    b_train, b_inference = 6.0 * N0 * D0, 2.0 * N0 * T
    baseline = LifetimeBaseline(N0, D0, b_train, b_inference, b_train + b_inference, None)
    return LifetimeOptimum(
        N,
        D,
        jnp.broadcast_to(loss, shape),
        T,
        T,
        train,
        inference,
        train + inference,
        None,
        baseline,
        status,
    )


@functools.lru_cache(maxsize=32)
def _general_solver(loss_fn, treedef, bounds, inner_iters, outer_iters):
    # Cached so that repeated calls with the same law reuse the compiled solver.
    return jax.jit(jax.vmap(_general_lane(loss_fn, treedef, bounds, inner_iters, outer_iters)))


def _train_share(x: Array, T: Array) -> Array:
    """6D / (6D + 2T) at D = e^x, written without log T so that T = 0 has finite derivatives
    (the baseline lanes solve at T = 0 and are differentiated too)."""
    return 1.0 / (1.0 + T * jnp.exp(-x) / 3.0)


def _general_lane(loss_fn, treedef, bounds, inner_iters, outer_iters):
    y_lo, y_hi, x_lo, x_hi = bounds

    def law(theta, y, x):
        return loss_fn(jax.tree_util.tree_unflatten(treedef, theta), jnp.exp(y), jnp.exp(x))

    dlaw = jax.grad(law, argnums=(1, 2))

    def log_n(theta, target, x):
        def fdf(y):  # increasing in y: target − L(e^y, e^x)
            val, dy = jax.value_and_grad(law, argnums=1)(theta, y, x)
            return target - val, -dy

        f_lo, _ = fdf(jnp.asarray(y_lo))
        f_hi, _ = fdf(jnp.asarray(y_hi))
        y = safeguarded_newton(
            fdf, jnp.asarray(y_lo), jnp.asarray(y_lo), jnp.asarray(y_hi), inner_iters
        )
        return jnp.where(f_lo > 0, y_lo, y), f_hi >= 0  # (log N, feasible)

    def slope(theta, target, T, x):
        """d/dx of log(6e^x + 2T) + y(x); −1 where no N reaches the target (go right)."""
        y, feasible = log_n(theta, target, x)
        ly, lx = dlaw(theta, y, x)
        share = _train_share(x, T)
        return jnp.where(feasible, share - lx / ly, -1.0)

    def solve(theta, target, T):
        lo, hi = bisect(
            lambda mid: slope(theta, target, T, mid) < 0,
            jnp.asarray(x_lo),
            jnp.asarray(x_hi),
            outer_iters,
        )
        x = 0.5 * (lo + hi)
        y, feasible = log_n(theta, target, x)
        interior = (x > x_lo + 1e-6) & (x < x_hi - 1e-6) & (y > y_lo) & (y < y_hi)
        return jnp.stack([x, y]), feasible & interior

    def kkt(z, theta, target, T):
        x, y = z[0], z[1]
        ly, lx = dlaw(theta, y, x)
        share = _train_share(x, T)
        return jnp.stack([law(theta, y, x) - target, share * ly - lx])

    @jax.custom_jvp
    def optimum(theta, target, T):
        return solve(theta, target, T)[0]

    @optimum.defjvp
    def optimum_jvp(primals, tangents):
        z = optimum(*primals)
        J = jax.jacfwd(kkt)(z, *primals)
        _, rhs = jax.jvp(lambda *a: kkt(z, *a), primals, tangents)
        return z, -jnp.linalg.solve(J, rhs)

    def lane(*args):
        *theta, target, T = args
        theta = list(theta)
        valid = jnp.isfinite(target) & jnp.isfinite(T) & (T >= 0)
        for v in theta:
            valid = valid & jnp.isfinite(v)
        T_s = jnp.where(valid, T, 0.0)
        _, feasible = solve(jax.lax.stop_gradient(theta), target, T_s)
        z = optimum(theta, target, T_s)
        status = jnp.where(
            valid,
            jnp.where(feasible, LifetimeStatus.OK, LifetimeStatus.UNREACHABLE),
            LifetimeStatus.INVALID,
        )
        ok = status == LifetimeStatus.OK
        return (
            jnp.where(ok, jnp.exp(z[1]), jnp.nan),
            jnp.where(ok, jnp.exp(z[0]), jnp.nan),
            status.astype(jnp.int32),
        )

    return lane


# --------------------------------------------------------------------------- uncertainty


class LifetimeIntervals(NamedTuple):
    """Per-sample optima (leading axis = parameter sample) and percentile intervals.

    ``intervals[name] = (low, median, high)`` over the reachable samples, for name in
    N, D_train, tokens_per_param, total_flops, savings (and total_cost with a cost model).
    """

    samples: LifetimeOptimum
    intervals: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    level: float
    reachable_fraction: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: level, reachable fraction, intervals and the per-sample optima."""
        return {
            "level": self.level,
            "reachable_fraction": np.asarray(self.reachable_fraction).tolist(),
            "intervals": {
                k: [np.asarray(v).tolist() for v in lmh] for k, lmh in self.intervals.items()
            },
            "samples": self.samples.to_dict(),
        }

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write `to_dict` as JSON to `path`, atomically (temporary file, then rename)."""
        write_json_atomic(path, self.to_dict())

    @classmethod
    def from_dict(cls, blob: dict[str, Any]) -> LifetimeIntervals:
        """Inverse of `to_dict`."""
        intervals = {
            k: tuple(np.asarray(v, dtype=np.float64) for v in lmh)
            for k, lmh in blob["intervals"].items()
        }
        return cls(
            LifetimeOptimum.from_dict(blob["samples"]),
            intervals,
            float(blob["level"]),
            np.asarray(blob["reachable_fraction"], dtype=np.float64),
        )

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> LifetimeIntervals:
        """Read intervals written by `to_json`."""
        return cls.from_dict(read_json(path))


@float64_call
def lifetime_intervals(
    samples: ChinchillaParams,
    loss: Array | None,
    inference_tokens: Array | None = None,
    *,
    cost: CostModel | None = None,
    level: float = 0.95,
    match_params: Array | None = None,
) -> LifetimeIntervals:
    """Lifetime optima for each parameter sample (e.g. bootstrap draws, leading axis = sample)
    and their central `level` percentile intervals.

    The scenario inputs (`loss`, `inference_tokens`, cost fields) may be arrays; results have
    shape (samples, *scenario_shape). With `match_params` (parameters, e.g. 13e9) the target
    loss is, per sample, that of the compute-optimal model of that size and `loss` is ignored
    (pass None).
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level={level!r} must lie in (0, 1)")
    fields = [jnp.asarray(v, dtype=float) for v in samples]
    n = max((f.shape[0] for f in fields if f.ndim), default=0)
    if n == 0:
        raise ValueError("samples must have a leading sample axis (ChinchillaParams of arrays)")
    scen_ndim = max(
        np.ndim(loss if match_params is None else match_params),
        0 if inference_tokens is None else np.ndim(inference_tokens),
        0 if cost is None else max(np.ndim(v) for v in jax.tree_util.tree_leaves(cost)),
    )
    # Sample axis first, scenario axes after it: fields (S,) -> (S, 1, ..., 1).
    p = ChinchillaParams(
        *(jnp.broadcast_to(f, (n,)).reshape((n,) + (1,) * scen_ndim) for f in fields)
    )
    if match_params is not None:
        loss = chinchilla_optimal_loss(p, match_params)
    res = lifetime_optimal(p, loss, inference_tokens, cost=cost, validate=False)
    ok = np.asarray(res.reachable)
    q = 100.0 * np.array([(1.0 - level) / 2.0, 0.5, (1.0 + level) / 2.0])
    quantities = {
        "N": res.N,
        "D_train": res.D_train,
        "tokens_per_param": res.tokens_per_param,
        "total_flops": res.total_flops,
        "savings": res.savings,
    }
    if res.total_cost is not None:
        quantities["total_cost"] = res.total_cost
    intervals = {}
    for name, v in quantities.items():
        v = np.where(ok, np.asarray(v), np.nan)
        if np.isnan(v).all(axis=0).any():
            lmh = np.full((3,) + v.shape[1:], np.nan)
        else:
            lmh = np.nanpercentile(v, q, axis=0)
        intervals[name] = (lmh[0], lmh[1], lmh[2])
    return LifetimeIntervals(res, intervals, level, ok.mean(axis=0))
