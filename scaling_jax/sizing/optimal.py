"""Compute-optimal allocation of a training budget (Hoffmann et al. 2022).

For C = 6·N·D training FLOPs, minimizing the Chinchilla law L(N, D) has the closed form
    G = (alpha·A / (beta·B))**(1/(alpha+beta)),  a = beta/(alpha+beta),  b = alpha/(alpha+beta)
    N_opt(C) = G·(C/6)**a  parameters,   D_opt(C) = (C/6)**b / G  tokens.

For any other law ``loss_fn(params, N, D)`` or FLOP model ``flops_fn(N, D)`` the optimum is
found numerically (`solve_compute_optimal`): in x = log N, y = log D it is the root of
    R1 = log F(N, D) − log C = 0                    (on budget)
    R2 = ∂ℓ/∂x·∂f/∂y − ∂ℓ/∂y·∂f/∂x = 0              (Lagrange stationarity, f = log F)
where R2 has the sign of dL/dlog N along the budget curve, so bisection on it is safe for any
law that is unimodal along the curve. Derivatives of the optimum come from the implicit
function theorem applied to (R1, R2), not from unrolling the solver.

`allocation` is a calculator: from any one or two of N, D, compute, loss it returns the rest.
`FRONTIERS` holds published compute-optimal frontiers N_opt = k_N·C^a, D_opt = k_D·C^b, each
with its `source` (paper and table/figure/equation).
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from scaling_jax._aot import stored_jit
from scaling_jax._io import arrays_from_dict, arrays_to_dict, read_json, write_json_atomic
from scaling_jax._precision import float64_call
from scaling_jax.flops import PF_DAY_FLOPS
from scaling_jax.laws import ChinchillaParams, Law, chinchilla, law_loss_fn

from ._roots import bisect, bracketed_root

Array = Any
LossFn = Callable[[Any, Array, Array], Array]
FlopsFn = Callable[[Array, Array], Array]

__all__ = [
    "compute_optimal",
    "optimal_exponents",
    "solve_compute_optimal",
    "loss_optimal",
    "allocation",
    "Allocation",
    "Frontier",
    "frontier_from_params",
    "kaplan_frontier",
    "FRONTIERS",
    "PF_DAY_FLOPS",
]

_LOG6 = math.log(6.0)


def optimal_exponents(params: ChinchillaParams) -> tuple[Array, Array]:
    """Exponents (a, b) of N_opt ∝ C**a and D_opt ∝ C**b; a + b = 1."""
    total = params.alpha + params.beta
    return params.beta / total, params.alpha / total


def _closed_form(params: ChinchillaParams, compute: Array) -> tuple[Array, Array]:
    """(N_opt, D_opt) of the module docstring. Plain arithmetic: Python floats in give Python
    floats out (no JAX backend, for the frontiers built at import), JAX arrays give JAX."""
    A, B, _, alpha, beta = params
    a, b = optimal_exponents(params)
    G = (alpha * A / (beta * B)) ** (1.0 / (alpha + beta))
    base = compute / 6.0
    return G * base**a, base**b / G


def _check_positive(name: str, value: Any) -> None:
    """Raise ValueError naming `name` when a concrete value is not finite and positive."""
    if value is None or isinstance(value, jax.core.Tracer):
        return
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr) & (arr > 0)):
        raise ValueError(f"{name} must be finite and positive, got {value!r}")


def _sample_axis(params: Any, compute: Array) -> tuple[Any, Array]:
    """Put a leading sample axis of params in front of compute's axes (S, *compute.shape)."""
    compute = jnp.asarray(compute, dtype=float)
    extra = compute.ndim

    def expand(leaf: Array) -> Array:
        leaf = jnp.asarray(leaf)
        return leaf.reshape(leaf.shape[:1] + (1,) * extra + leaf.shape[1:])

    return jax.tree_util.tree_map(expand, params), compute[None]


def _as_array(x: Any) -> Any:
    """Host values (lists, NumPy, Python numbers) as float64 NumPy; JAX arrays and tracers
    unchanged (a list would reach `jax.jit` as a pytree of scalars, one program per length)."""
    return x if isinstance(x, (jax.Array, jax.core.Tracer)) else np.asarray(x, dtype=float)


def _closed_allocation(params: ChinchillaParams, compute: Array, params_batch: bool) -> Allocation:
    """The closed-form `Allocation` as one compiled program per shape: called eagerly (a
    command line, a plot), it is one program rather than one per arithmetic op, and a stored
    executable (`scaling_jax._aot`) that a new process loads instead of tracing it."""
    return _CLOSED[bool(params_batch)](params, compute)


def _closed_body(params: ChinchillaParams, compute: Array, params_batch: bool) -> Allocation:
    if params_batch:
        params, compute = _sample_axis(params, compute)
    compute = jnp.asarray(compute, dtype=float)
    N, D = _closed_form(params, compute)
    return Allocation(N, D, jnp.broadcast_to(compute, N.shape), chinchilla(params, N, D))


_CLOSED = {
    batch: stored_jit(
        functools.partial(_closed_body, params_batch=batch), ("closed_allocation", batch)
    )
    for batch in (False, True)
}


@float64_call
def compute_optimal(
    params: Any,
    compute: Array,
    *,
    loss_fn: LossFn | None = None,
    flops_fn: FlopsFn | None = None,
    law: Law | None = None,
    params_batch: bool = False,
    method: str = "auto",
    **solver_kwargs: Any,
) -> Allocation:
    """Compute-optimal `Allocation` (N parameters, D tokens, compute FLOPs, loss nats/token)
    for `compute` training FLOPs.

    With the defaults (Chinchilla law, C = 6·N·D) this is the closed form; pass `loss_fn`
    (``loss_fn(params, N, D) -> loss``) and/or `flops_fn` (``flops_fn(N, D) -> FLOPs``) — or
    ``method="numeric"`` — to use `solve_compute_optimal`. Broadcasts over `compute` and over
    array-valued constants like NumPy; with ``params_batch=True`` the leading axis of every
    params leaf is a sample axis and the result has shape (samples, *compute.shape).
    jit/vmap/grad-able.

    `law` (a `Law`, e.g. a fit's ``.law``) supplies `loss_fn` from the law itself, so a fitted
    user law flows in unchanged: ``compute_optimal(res.params, C, law=res.law)``.
    """
    if law is not None and loss_fn is None and not isinstance(params, ChinchillaParams):
        loss_fn = law_loss_fn(law)
    if method not in ("auto", "closed", "numeric"):
        raise ValueError(f"method must be 'auto', 'closed' or 'numeric', got {method!r}")
    _check_positive("compute", compute)
    closed_ok = loss_fn is None and flops_fn is None and isinstance(params, ChinchillaParams)
    if method == "closed" and not closed_ok:
        raise ValueError("method='closed' needs ChinchillaParams, no loss_fn and no flops_fn")
    if method == "closed" or (method == "auto" and closed_ok):
        return _closed_allocation(params, _as_array(compute), params_batch=params_batch)
    if params_batch:
        params, compute = _sample_axis(params, compute)
    return solve_compute_optimal(
        params, compute, loss_fn=loss_fn, flops_fn=flops_fn, **solver_kwargs
    )


# --------------------------------------------------------------------------------------------
# Numeric solver.


def _log_flops(flops_fn: FlopsFn | None, x: Array, y: Array) -> Array:
    if flops_fn is None:
        return _LOG6 + x + y
    return jnp.log(flops_fn(jnp.exp(x), jnp.exp(y)))


def _log_tokens(flops_fn: FlopsFn | None, x: Array, log_c: Array, iters: int) -> Array:
    """log D on the budget curve F(N, D) = C for log N = x (Newton in log-log coordinates).

    FLOP models are ~proportional to D, so log F is ~linear in log D and Newton from the 6ND
    guess converges in a step or two; the iteration count is fixed so lanes stay in lock-step.
    """
    y0 = log_c - _LOG6 - x
    if flops_fn is None:
        return y0

    def step(_, y):
        f, df = jax.jvp(lambda t: _log_flops(flops_fn, x, t), (y,), (jnp.ones_like(y),))
        return y - (f - log_c) / jnp.maximum(df, 1e-12)

    return jax.lax.fori_loop(0, iters, step, y0)


def _residual(loss_fn: LossFn, flops_fn: FlopsFn | None, z: Array, params: Any, log_c: Array):
    """(R1, R2) of the module docstring at z = (log N, log D)."""
    x, y = z[0], z[1]
    ell = lambda x, y: loss_fn(params, jnp.exp(x), jnp.exp(y))  # noqa: E731
    f = lambda x, y: _log_flops(flops_fn, x, y)  # noqa: E731
    lx, ly = jax.grad(ell, argnums=(0, 1))(x, y)
    fx, fy = jax.grad(f, argnums=(0, 1))(x, y)
    return jnp.stack([f(x, y) - log_c, lx * fy - ly * fx])


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 1, 2, 3))
def _argmin(loss_fn, flops_fn, iters, token_iters, params, log_c, x_lo, x_hi):
    """Bisection on sign(R2) over log N in [x_lo, x_hi]; returns z = (log N, log D)."""

    def slope_sign(x):
        y = _log_tokens(flops_fn, x, log_c, token_iters)
        return _residual(loss_fn, flops_fn, jnp.stack([x, y]), params, log_c)[1]

    # Where the loss rises in N along the curve the optimum lies left; otherwise right.
    lo, hi = bisect(lambda mid: ~(slope_sign(mid) > 0), x_lo, x_hi, iters)
    x = 0.5 * (lo + hi)
    return jnp.stack([x, _log_tokens(flops_fn, x, log_c, token_iters)])


@_argmin.defjvp
def _argmin_jvp(loss_fn, flops_fn, iters, token_iters, primals, tangents):
    params, log_c, x_lo, x_hi = primals
    d_params, d_log_c, _, _ = tangents
    z = _argmin(loss_fn, flops_fn, iters, token_iters, params, log_c, x_lo, x_hi)
    # Implicit function theorem: R(z*(θ), θ) = 0  ⇒  dz* = −(∂R/∂z)⁻¹ · (∂R/∂θ)·dθ.
    J = jax.jacfwd(_residual, argnums=2)(loss_fn, flops_fn, z, params, log_c)
    _, dR = jax.jvp(
        lambda p, c: _residual(loss_fn, flops_fn, z, p, c), (params, log_c), (d_params, d_log_c)
    )
    return z, -jnp.linalg.solve(J, dR)


@float64_call
def solve_compute_optimal(
    params: Any,
    compute: Array,
    *,
    loss_fn: LossFn | None = None,
    flops_fn: FlopsFn | None = None,
    n_bounds: tuple[float, float] | None = None,
    iters: int = 80,
    token_iters: int = 20,
) -> Allocation:
    """Numeric compute-optimal allocation: argmin L(N, D) s.t. F(N, D) = C.

    Args:
      params: constants of the law, any pytree; leaves broadcast against `compute` like NumPy.
      compute: training budget(s) C in FLOPs.
      loss_fn: ``loss_fn(params, N, D) -> loss`` (default `scaling_jax.laws.chinchilla`); must
        be unimodal in N along each budget curve.
      flops_fn: ``flops_fn(N, D) -> FLOPs``, increasing in D (default 6·N·D).
      n_bounds: search interval for N in parameters (default [1, C]).
      iters: bisection steps over log N (fixed, so vmapped lanes stay in lock-step; 80 steps
        shrink a 60-nat bracket below float64 resolution).
      token_iters: Newton steps solving F(N, D) = C for D (unused for 6ND).

    Returns:
      `Allocation` (N, D, compute, loss) with the broadcast shape of params leaves and compute.
      Differentiable w.r.t. params and compute through the implicit function theorem
      (jit/vmap/grad-able).
    """
    loss_fn = chinchilla if loss_fn is None else loss_fn
    _check_positive("compute", compute)
    if n_bounds is not None:
        _check_positive("n_bounds", n_bounds)
    log_c = jnp.log(jnp.asarray(compute, dtype=float))
    leaves, treedef = jax.tree_util.tree_flatten(params)
    leaves = [jnp.asarray(leaf, dtype=float) for leaf in leaves]
    shape = jnp.broadcast_shapes(log_c.shape, *(leaf.shape for leaf in leaves))
    flat = [jnp.broadcast_to(a, shape).reshape(-1) for a in [log_c, *leaves]]
    if n_bounds is None:
        x_lo, x_hi = jnp.zeros_like(flat[0]), flat[0]
    else:
        x_lo = jnp.full_like(flat[0], math.log(n_bounds[0]))
        x_hi = jnp.full_like(flat[0], math.log(n_bounds[1]))

    def one(lc, lo, hi, *ls):
        p = jax.tree_util.tree_unflatten(treedef, list(ls))
        return _argmin(loss_fn, flops_fn, iters, token_iters, p, lc, lo, hi)

    z = jax.vmap(one)(flat[0], x_lo, x_hi, *flat[1:])
    N, D = jnp.exp(z[:, 0]).reshape(shape), jnp.exp(z[:, 1]).reshape(shape)
    C = jnp.broadcast_to(jnp.asarray(compute, dtype=float), shape)
    return Allocation(N, D, C, loss_fn(params, N, D))


# --------------------------------------------------------------------------------------------
# Calculator.


class Allocation(NamedTuple):
    """A training configuration: N parameters, D tokens, compute FLOPs, predicted loss (nats)."""

    N: Array
    D: Array
    compute: Array
    loss: Array

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (arrays become nested lists)."""
        return arrays_to_dict(self)

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write `to_dict` as JSON to `path`, atomically (temporary file, then rename)."""
        write_json_atomic(path, self.to_dict())

    @classmethod
    def from_dict(cls, blob: dict[str, Any]) -> Allocation:
        """Inverse of `to_dict` (float64 NumPy arrays)."""
        return arrays_from_dict(cls, blob)

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> Allocation:
        """Read a result written by `to_json`."""
        return cls.from_dict(read_json(path))


@float64_call
def loss_optimal(params: ChinchillaParams, loss: Array) -> Allocation:
    """Cheapest (6ND) allocation reaching `loss` under the Chinchilla law (closed form).

    At the compute optimum α·A/N^α = β·B/D^β, so loss − E splits in a fixed ratio:
    N = (A·(1 + α/β)/(loss − E))^(1/α), D = (B·(1 + β/α)/(loss − E))^(1/β). NaN when loss ≤ E.
    """
    A, B, E, alpha, beta = params
    gap = jnp.asarray(loss, dtype=float) - E
    gap = jnp.where(gap > 0, gap, jnp.nan)
    N = jnp.power(A * (1.0 + alpha / beta) / gap, 1.0 / alpha)
    D = jnp.power(B * (1.0 + beta / alpha) / gap, 1.0 / beta)
    return Allocation(N, D, 6.0 * N * D, jnp.asarray(loss, dtype=float) + 0.0 * N)


_LOG_RANGE = (0.0, 250.0)  # search interval for log N and log D (1 … e^250)


@float64_call
def allocation(
    params: Any,
    *,
    N: Array | None = None,
    D: Array | None = None,
    compute: Array | None = None,
    loss: Array | None = None,
    loss_fn: LossFn | None = None,
    flops_fn: FlopsFn | None = None,
    branch: str = "small",
) -> Allocation:
    """Calculator: given one or two of N, D, compute, loss, return the full `Allocation`.

    - one of compute / loss: the compute-optimal allocation for that budget / target loss;
    - two of them: the remaining quantities (e.g. ``allocation(p, N=7e9, compute=1e23)``).
      For (compute, loss) two models lie on the budget curve; ``branch="small"`` returns the
      smaller one (cheaper inference), ``"large"`` the larger.

    Chinchilla law with 6ND uses closed forms; other `loss_fn` / `flops_fn` are solved
    numerically. Unreachable targets (e.g. loss below the law's floor) give NaN. Units:
    parameters, tokens, FLOPs, nats/token.
    """
    given = {k: v for k, v in dict(N=N, D=D, compute=compute, loss=loss).items() if v is not None}
    if not 1 <= len(given) <= 2 or set(given) in ({"N"}, {"D"}):
        raise ValueError(
            "allocation needs compute or loss alone, or exactly two of N, D, compute, loss; "
            f"got {sorted(given)}"
        )
    if branch not in ("small", "large"):
        raise ValueError(f"branch must be 'small' or 'large', got {branch!r}")
    for name in ("N", "D", "compute"):
        _check_positive(name, given.get(name))
    if "loss" in given:
        _check_positive("loss", given["loss"])
    closed = loss_fn is None and flops_fn is None and isinstance(params, ChinchillaParams)
    loss_fn = chinchilla if loss_fn is None else loss_fn
    flops = (lambda n, d: 6.0 * n * d) if flops_fn is None else flops_fn  # noqa: E731
    arrays = {k: jnp.asarray(v, dtype=float) for k, v in given.items()}
    keys = set(arrays)

    def finish(n, d):
        return Allocation(n, d, flops(n, d), loss_fn(params, n, d))

    if keys == {"compute"}:
        opt = compute_optimal(
            params,
            arrays["compute"],
            loss_fn=None if closed else loss_fn,
            flops_fn=flops_fn,
            method="closed" if closed else "numeric",
        )
        return finish(opt.N, opt.D)
    if keys == {"loss"}:
        if closed:
            return loss_optimal(params, arrays["loss"])
        target = arrays["loss"]

        def gap(log_c):
            opt = solve_compute_optimal(
                params, jnp.exp(log_c), loss_fn=loss_fn, flops_fn=flops_fn, iters=60
            )
            return opt.loss - target

        log_c = _vectorized_root(gap, target, 0.0, 230.0, iters=60)
        return solve_compute_optimal(params, jnp.exp(log_c), loss_fn=loss_fn, flops_fn=flops_fn)
    if keys == {"N", "D"}:
        return finish(arrays["N"], arrays["D"])
    if keys == {"N", "compute"}:
        n, c = jnp.broadcast_arrays(arrays["N"], arrays["compute"])
        if closed:
            return finish(n, c / (6.0 * n))
        y = _vectorized_root(lambda y: jnp.log(flops(n, jnp.exp(y))) - jnp.log(c), c, *_LOG_RANGE)
        return finish(n, jnp.exp(y))
    if keys == {"D", "compute"}:
        d, c = jnp.broadcast_arrays(arrays["D"], arrays["compute"])
        if closed:
            return finish(c / (6.0 * d), d)
        x = _vectorized_root(lambda x: jnp.log(flops(jnp.exp(x), d)) - jnp.log(c), c, *_LOG_RANGE)
        return finish(jnp.exp(x), d)
    if keys == {"N", "loss"}:
        n, ell = jnp.broadcast_arrays(arrays["N"], arrays["loss"])
        if closed:
            A, B, E, alpha, beta = params
            rest = ell - E - A / n**alpha
            d = jnp.power(B / jnp.where(rest > 0, rest, jnp.nan), 1.0 / beta)
            return finish(n, d)
        y = _vectorized_root(lambda y: loss_fn(params, n, jnp.exp(y)) - ell, ell, *_LOG_RANGE)
        return finish(n, jnp.exp(y))
    if keys == {"D", "loss"}:
        d, ell = jnp.broadcast_arrays(arrays["D"], arrays["loss"])
        if closed:
            A, B, E, alpha, beta = params
            rest = ell - E - B / d**beta
            n = jnp.power(A / jnp.where(rest > 0, rest, jnp.nan), 1.0 / alpha)
            return finish(n, d)
        x = _vectorized_root(lambda x: loss_fn(params, jnp.exp(x), d) - ell, ell, *_LOG_RANGE)
        return finish(jnp.exp(x), d)
    # compute and loss: walk the budget curve from the optimum towards the chosen end.
    c, ell = jnp.broadcast_arrays(arrays["compute"], arrays["loss"])
    n_opt = compute_optimal(
        params,
        c,
        loss_fn=None if closed else loss_fn,
        flops_fn=flops_fn,
        method="closed" if closed else "numeric",
    ).N
    log_c = jnp.log(c)

    def on_curve(x):
        y = _log_tokens(flops_fn, x, log_c, 20)
        return loss_fn(params, jnp.exp(x), jnp.exp(y)) - ell

    x_opt = jnp.log(n_opt)
    lo, hi = (jnp.zeros_like(x_opt), x_opt) if branch == "small" else (x_opt, log_c)
    x = bracketed_root(on_curve, lo, hi)
    return finish(jnp.exp(x), jnp.exp(_log_tokens(flops_fn, x, log_c, 20)))


def _vectorized_root(
    g: Callable[[Array], Array], like: Array, lo: float, hi: float, iters: int = 100
) -> Array:
    """`bracketed_root` on a bracket [lo, hi] broadcast to the shape of `like`."""
    like = jnp.asarray(like, dtype=float)
    return bracketed_root(g, jnp.full_like(like, lo), jnp.full_like(like, hi), iters)


# --------------------------------------------------------------------------------------------
# Published frontiers.


class Frontier(NamedTuple):
    """A compute-optimal frontier N_opt = n_coef·C**n_exp, D_opt = d_coef·C**d_exp (C in FLOPs).

    `size_unit` says what N counts ("parameters", "non-embedding parameters", or for DeepSeek
    "non-embedding FLOPs/token", their M). `source` cites the paper (table/figure/equation)
    the numbers come from; `note` says how they were turned into this frontier and what is
    uncertain.
    """

    name: str
    n_coef: float
    n_exp: float
    d_coef: float
    d_exp: float
    size_unit: str = "parameters"
    note: str = ""
    source: str = ""
    compute_unit: str = "training FLOPs"

    def n_opt(self, compute: Array) -> Array:
        """Optimal model size (in `size_unit`) for `compute` FLOPs."""
        return self.n_coef * jnp.power(jnp.asarray(compute, dtype=float), self.n_exp)

    def d_opt(self, compute: Array) -> Array:
        """Optimal training tokens for `compute` FLOPs."""
        return self.d_coef * jnp.power(jnp.asarray(compute, dtype=float), self.d_exp)

    def summary(self) -> str:
        """The frontier's formula, units, source and note as readable lines."""
        lines = [
            f"{self.name}: N_opt = {self.n_coef:.4g}·C^{self.n_exp:.4g} {self.size_unit}, "
            f"D_opt = {self.d_coef:.4g}·C^{self.d_exp:.4g} tokens (C in {self.compute_unit})",
            f"  source: {self.source or 'not recorded'}",
        ]
        if self.note:
            lines.append(f"  note: {self.note}")
        return "\n".join(lines)


def _from_n(name: str, n_coef: float, n_exp: float, **kw: Any) -> Frontier:
    """Frontier given N_opt; D_opt follows from C = 6·N·D."""
    return Frontier(name, n_coef, n_exp, 1.0 / (6.0 * n_coef), 1.0 - n_exp, **kw)


def _anchored(name: str, n_exp: float, n_at: float, at: float, **kw: Any) -> Frontier:
    """Frontier with exponent n_exp through the published point N_opt(at) = n_at."""
    return _from_n(name, n_at / at**n_exp, n_exp, **kw)


def frontier_from_params(
    params: ChinchillaParams, name: str = "law", source: str = "", note: str = ""
) -> Frontier:
    """The closed-form 6ND frontier of a Chinchilla law as a `Frontier` (floats)."""
    # Python floats, not jnp: FRONTIERS is built at import, which must not start a JAX backend
    # (a multi-process run calls jax.distributed.initialize after importing scaling_jax).
    p = ChinchillaParams(*(float(v) for v in params))
    a, b = optimal_exponents(p)
    n1, d1 = _closed_form(p, 1.0)
    note = note or "closed form of the law's constants (6ND)"
    return Frontier(name, n1, a, d1, b, note=note, source=source)


_GOPHER_FLOPS = 5.76e23
_HOFFMANN = "Hoffmann et al. 2022, 'Training Compute-Optimal Large Language Models'"
_KAPLAN = "Kaplan et al. 2020, 'Scaling Laws for Neural Language Models'"

# Approach 3 with the unrounded exponents behind the paper's a = 0.46 (A, B, E as printed).
CHINCHILLA_3_UNROUNDED = ChinchillaParams(A=406.4, B=410.7, E=1.69, alpha=0.33917, beta=0.28491)


def kaplan_frontier(compute_convention: str = "training") -> Frontier:
    """Kaplan et al. 2020's compute-efficient frontier (Table 6), both N and D from their fits.

    Kaplan's fits are in C_min, the compute of training at the critical batch size, in PF-days:
    N_opt = 1.3e9·C_min^0.73 non-embedding parameters, D_opt = 2e10·C_min^0.27 tokens.
    Training at the critical batch size costs C ≈ 2·C_min (their eq. 6.7), which is how
    Hoffmann et al. 2022 (Appendix D.4) apply Kaplan's law to training budgets.

    Args:
      compute_convention: what the frontier's C means. ``"training"`` (default, the Hoffmann
        et al. use): C is training FLOPs and C_min = C/2, giving 4.68e9 non-embedding
        parameters at 1e21 FLOPs. ``"c_min"``: C is Kaplan's C_min in FLOPs.

    Both N and D are Kaplan's own power laws, so N·D·6 is ~0.9·C rather than exactly C.
    """
    if compute_convention not in ("training", "c_min"):
        raise ValueError(
            f"compute_convention must be 'training' or 'c_min', got {compute_convention!r}"
        )
    per = 2.0 * PF_DAY_FLOPS if compute_convention == "training" else PF_DAY_FLOPS
    what = (
        "C = training FLOPs, C_min = C/2 (critical-batch training, Kaplan eq. 6.7; as applied "
        "by Hoffmann et al. 2022, Appendix D.4)"
        if compute_convention == "training"
        else "C = Kaplan's C_min in FLOPs (compute at the critical batch size, not training FLOPs)"
    )
    return Frontier(
        f"Kaplan et al. 2020 ({compute_convention})",
        1.3e9 * per**-0.73,
        0.73,
        2e10 * per**-0.27,
        0.27,
        size_unit="non-embedding parameters",
        note=f"compute_convention={compute_convention!r}: {what}; C_min in PF-days "
        "(8.64e19 FLOPs) in the published fits",
        source=f"{_KAPLAN}, Table 6 (N_opt = 1.3e9·C_min^0.73, D_opt = 2e10·C_min^0.27) and "
        "eq. 6.7 (C ≈ 2·C_min)",
        compute_unit="training FLOPs" if compute_convention == "training" else "C_min FLOPs",
    )


def _build_frontiers() -> dict[str, Frontier]:
    from scaling_jax.presets import CATALOG

    epoch = CATALOG["epoch_2024"]
    return {
        "kaplan": kaplan_frontier("training"),
        "chinchilla_1": _anchored(
            "Chinchilla approach 1",
            0.50,
            67e9,
            _GOPHER_FLOPS,
            note="exponent 0.50 through 67B at Gopher's 5.76e23 FLOPs; D via 6ND",
            source=f"{_HOFFMANN}, Table 2 (a = 0.50) and Table 3 (67B at 5.76e23 FLOPs)",
        ),
        "chinchilla_2": _anchored(
            "Chinchilla approach 2",
            0.49,
            63e9,
            _GOPHER_FLOPS,
            note="exponent 0.49 through 63B at 5.76e23 FLOPs, the value the paper states at "
            "Gopher's budget; D via 6ND. Uncertain by ~3%: Table A3's 67B at 6.88e23 FLOPs "
            "with a = 0.49 implies 61.4B at 5.76e23, and both numbers are rounded to 2 digits",
            source=f"{_HOFFMANN}, Figure 3 caption (63B at Gopher's budget) and Table 2 "
            "(a = 0.49); cross-check Table A3",
        ),
        "chinchilla_3": frontier_from_params(
            CHINCHILLA_3_UNROUNDED,
            "Chinchilla approach 3",
            note="closed form (6ND) of A = 406.4, B = 410.7 with the unrounded alpha = "
            "0.33917, beta = 0.28491: a = 0.4565 (the paper's 0.46) and 40.4B at 5.76e23 "
            "FLOPs (the paper's ≈40B). The rounded alpha = 0.34, beta = 0.28 of "
            "presets.CHINCHILLA_2022 give a = 0.452 and 32.2B instead",
            source=f"{_HOFFMANN}, Figure 4 caption (≈40B at Gopher's budget), Table 2 "
            "(a = 0.46), Table A3 and Appendix D.2",
        ),
        "epoch": frontier_from_params(
            epoch.params,
            "Epoch AI 2024 (replication)",
            note="closed form (6ND) of presets.EPOCH_2024",
            source=epoch.source,
        ),
        "deepseek": Frontier(
            "DeepSeek LLM 2024",
            0.1715,
            0.5243,
            5.8316,
            0.4757,
            size_unit="non-embedding FLOPs/token",
            note="M_opt = 0.1715·C^0.5243, D_opt = 5.8316·C^0.4757 with C = M·D; M ≈ 6N",
            source="DeepSeek-AI 2024, 'DeepSeek LLM: Scaling Open-Source Language Models "
            "with Longtermism', Section 3.2",
        ),
        "porian": _from_n(
            "Porian et al. 2024",
            0.1189,
            0.4969,
            note="UNVERIFIED: N_opt ≈ 0.1189·C^0.4969 (after correcting Kaplan's setup) has "
            "not been checked against a table or figure of the paper or its released data; "
            "D via 6ND",
            source="Porian et al. 2024, 'Resolving Discrepancies in Compute-Optimal Scaling "
            "of Language Models' (exact table/figure not verified)",
        ),
        "llama3": Frontier(
            "Llama 3 2024",
            1.0 / (6.0 * 0.299),
            1.0 - 0.537,
            0.299,
            0.537,
            note="D_opt = 0.299·C^0.537 (the text rounds it to 0.29·C^0.53); N via 6ND. At "
            "3.8e25 FLOPs this gives 16.3T tokens and 389B parameters against the paper's "
            "16.55T and 402B (-1.6%, -3.3%): the published pair is itself 5% off 6ND "
            "(6·402e9·16.55e12 = 3.99e25)",
            source="Llama Team 2024, 'The Llama 3 Herd of Models', Section 3.2.1, Figure 3 "
            "legend (A = 0.299, alpha = 0.537)",
        ),
    }


FRONTIERS: dict[str, Frontier] = _build_frontiers()
