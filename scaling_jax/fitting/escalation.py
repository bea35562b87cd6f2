"""Verified local minima, and escalation for the lanes that do not reach one.

A lane (a start, or a bootstrap resample's best lane) ends at a **verified local minimum** when,
at its final point x with objective f, gradient g and exact Hessian H (fit coordinates):

* H is positive definite (smallest eigenvalue > 0), and
* the Newton step p = -H^-1 g is negligible: its predicted decrease -g.p/2 is at most
  ``ftol * |f|`` and ``max |p| <= xtol * (1 + max |x|)`` (the second is waived when the
  decrease is at rounding level, 64 eps |f| (1.4e-14 in float64): along a nearly flat
  direction the step's length is then beyond what f resolves).

Both are checked on the coordinates the objective still depends on: one whose Hessian diagonal
is below `FLAT` x the largest sits at an asymptote (e = log E -> -inf when a resample's best
fit has E = 0, 16 of 200 Sardana resamples), so the minimum lies at that bound.

On a long flat valley (Sardana et al.'s 47 runs: Hessian condition number ~7e8) a gradient
test alone passes far from the minimum; the Newton step measures the distance that is left.

`escalate` takes the lanes that fail the check through two stages, each batched across lanes:

1. **Trust-region Newton** (`trust_region_newton`): up to ``newton_steps`` exact-Hessian steps
   with a trust region solved through the Hessian's eigendecomposition (Moré and Sorensen
   1983; Nocedal and Wright 2006, ch. 4). Unlike damped Newton (Levenberg-Marquardt with a
   positive damping), it follows directions of negative curvature out of saddle regions, and
   the ratio of actual to predicted decrease sizes every step.
2. **Multi-start** for the lanes still unverified: the fast mode's successive halving on that
   lane's own data -- every start of the grid takes ``screen_steps`` L-BFGS evaluations, the
   best ``survivors`` per lane continue to convergence, and the best ``finish`` of those get the
   trust-region Newton finish. The lowest verified minimum found (or the stage-1 point, if it
   is lower and verified) is kept.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from scaling_jax._aot import recipe_for, recipe_of, set_recipe, stored_jit
from scaling_jax.fitting.solver import SolverOptions, solve_starts

Array = Any

__all__ = [
    "MinimumCheck",
    "check_minima",
    "TrustRegionResult",
    "trust_region_newton",
    "EscalationResult",
    "escalate",
    "multistart",
    "FTOL",
    "XTOL",
]

FTOL = 1e-12
"""Verified when the Newton step's predicted decrease is <= FTOL * |f| ..."""
XTOL = 1e-6
"""... and its largest component is <= XTOL * (1 + max |x|)."""


class MinimumCheck(NamedTuple):
    """Local checks at a batch of points (numpy, one row per point)."""

    objective: np.ndarray  # (n,)
    grad_norm: np.ndarray  # (n,) max |gradient|
    min_eig: np.ndarray  # (n,) smallest Hessian eigenvalue
    cond: np.ndarray  # (n,) Hessian condition number (inf unless positive definite)
    decrease: np.ndarray  # (n,) Newton step's predicted decrease (inf unless pos. definite)
    step: np.ndarray  # (n,) max |Newton step| / (1 + max |x|)
    verified: np.ndarray  # (n,) bool


FLAT = 1e-12
"""A coordinate whose Hessian diagonal is below FLAT x the largest one is flat (at an asymptote)."""


def _newton_quantities(objective: Any, x: Array, data: Any, lane: Any):
    """f, g, H and the Newton step's decrease and size, on the non-flat coordinates.

    A coordinate the objective no longer depends on (Hessian diagonal below `FLAT` x the
    largest) sits at an asymptote, e.g. e = log E -> -inf when the best fit has E = 0: the
    minimum lies at that bound, and it is verified on the remaining coordinates.
    """
    f, g = jax.value_and_grad(objective)(x, data, lane)
    H = jax.hessian(objective)(x, data, lane)
    H = 0.5 * (H + H.T)
    diag = jnp.abs(jnp.diag(H))
    free = diag > FLAT * jnp.max(diag)
    # A flat coordinate is a bound only if descent pushes it further out (|x| growing): on a
    # plateau such as e = -47 with the minimum at e = -5.8, the gradient, tiny as it is, points
    # back in (g * x > 0) and the point is not a minimum.
    pushes_out = jnp.all(free | (g * x <= 0))
    eye = jnp.eye(x.shape[-1], dtype=H.dtype)
    Hr = jnp.where(free[:, None] & free[None, :], H, 0.0) + jnp.where(free, 0.0, 1.0) * eye
    gr = jnp.where(free, g, 0.0)
    w, V = jnp.linalg.eigh(H)
    wr, Vr = jnp.linalg.eigh(Hr)
    gt = Vr.T @ gr
    pd = (wr[0] > 0) & pushes_out
    safe_w = jnp.where(pd, wr, 1.0)
    p = -(Vr @ (gt / safe_w))
    decrease = jnp.where(pd, 0.5 * jnp.sum(gt * gt / safe_w), jnp.inf)
    step = jnp.where(pd, jnp.max(jnp.abs(p)) / (1.0 + jnp.max(jnp.abs(x))), jnp.inf)
    return f, g, H, w, V, V.T @ g, decrease, step, wr


@functools.lru_cache(maxsize=32)
def _compiled_check(objective: Any):
    def one(x: Array, lane: Any, data: Any):
        f, g, _, w, _, _, decrease, step, _ = _newton_quantities(objective, x, data, lane)
        cond = jnp.where(w[0] > 0, w[-1] / jnp.where(w[0] > 0, w[0], 1.0), jnp.inf)
        return f, jnp.max(jnp.abs(g)), w[0], cond, decrease, step

    return stored_jit(jax.vmap(one, in_axes=(0, 0, None)), recipe_for("check", objective))


def _verified(f: Array, decrease: Array, step: Array, ftol: float, xtol: float) -> Array:
    """Positive definite (decrease finite), negligible decrease, and a small step -- or a
    decrease at rounding level, where a nearly flat direction leaves the step unresolvable.

    numpy in, numpy out (host-side jnp operations would each compile a program); jnp inside
    a traced function."""
    xp = np if isinstance(f, np.ndarray) else jnp
    rounding = 64 * xp.finfo(xp.result_type(f)).eps
    small = (step <= xtol) | (decrease <= rounding * xp.abs(f))
    return xp.isfinite(f) & (decrease <= xp.maximum(ftol, rounding) * xp.abs(f)) & small


def check_minima(
    objective: Any,
    theta: Any,
    data: Any,
    lane_data: Any = (),
    *,
    ftol: float = FTOL,
    xtol: float = XTOL,
) -> MinimumCheck:
    """Gradient, Hessian spectrum and Newton step at each row of `theta` (n, k).

    `lane_data` has one row per point (e.g. bootstrap count weights), ``()`` for none.
    """
    theta = np.asarray(theta)
    if isinstance(lane_data, tuple):
        lane_data = np.zeros((theta.shape[0], 0), theta.dtype)
        fn = _compiled_check(_IgnoreLane.wrap(objective))
    else:
        fn = _compiled_check(objective)
    f, gnorm, min_eig, cond, decrease, step = (np.asarray(v) for v in fn(theta, lane_data, data))
    ok = np.asarray(_verified(f, decrease, step, ftol, xtol))
    return MinimumCheck(f, gnorm, min_eig, cond, decrease, step, ok)


class _IgnoreLane:
    """``objective(theta, data, lane)`` that drops a dummy lane row (one object per objective)."""

    _cache: dict[Any, Any] = {}

    @classmethod
    def wrap(cls, objective: Any) -> Any:
        if objective not in cls._cache:

            def wrapped(theta: Array, data: Any, lane: Any) -> Array:
                return objective(theta, data)

            cls._cache[objective] = wrapped
            recipe = recipe_of(objective)
            if recipe is not None:
                set_recipe(wrapped, ("ignore_lane", recipe))
        return cls._cache[objective]


# --------------------------------------------------------------------------------------------
# Trust-region Newton


class _TR(NamedTuple):
    x: Array  # (k,)
    f: Array  # ()
    radius: Array  # ()
    it: Array  # () steps taken
    n_ok: Array  # () accepted steps
    verified: Array  # () bool: verified local minimum at x
    stuck: Array  # () bool: radius collapsed
    lane: Any


def _tr_step_vector(w: Array, V: Array, gt: Array, radius: Array) -> Array:
    """argmin of g.p + p.H.p/2 over |p| <= radius, from H = V diag(w) V^T and gt = V^T g.

    The multiplier mu >= max(0, -w_min) solves |p(mu)| = radius, p(mu) = -V gt/(w + mu), by
    bisection (60 halvings of a bracket that always holds the root). In the "hard case" (g has
    no component along a negative-curvature eigenvector) the step is completed along that
    eigenvector to the boundary.
    """
    k = w.shape[0]
    tiny = jnp.finfo(w.dtype).tiny
    gnorm = jnp.sqrt(jnp.sum(gt * gt))
    lo = jnp.maximum(0.0, -w[0])
    newton_ok = w[0] > 0

    def norm_at(mu: Array) -> Array:
        den = w + mu
        den = jnp.where(jnp.abs(den) > tiny, den, tiny)
        return jnp.sqrt(jnp.sum((gt / den) ** 2))

    interior = newton_ok & (norm_at(0.0) <= radius)
    hi = lo + gnorm / radius + 1e-300

    def bisect(_: int, bracket: tuple[Array, Array]) -> tuple[Array, Array]:
        a, b = bracket
        mid = 0.5 * (a + b)
        too_long = norm_at(mid) > radius
        return jnp.where(too_long, mid, a), jnp.where(too_long, b, mid)

    _, mu = jax.lax.fori_loop(0, 60, bisect, (lo, hi))
    mu = jnp.where(interior, 0.0, mu)
    den = w + mu
    den = jnp.where(jnp.abs(den) > tiny, den, tiny)
    coef = -gt / den
    # Hard case: mu sits at -w_min and the step is still short: add the eigenvector of w_min.
    short = jnp.sqrt(jnp.sum(coef * coef))
    hard = ~interior & (w[0] <= 0) & (short < 0.999 * radius)
    tau = jnp.sqrt(jnp.maximum(radius**2 - short**2, 0.0))
    coef = jnp.where(hard, coef.at[0].add(tau * jnp.where(gt[0] > 0, -1.0, 1.0)), coef)
    del k
    return V @ coef


@functools.lru_cache(maxsize=32)
def _compiled_tr(objective: Any, max_steps: int, segment_steps: int, ftol: float, xtol: float):
    def step(s: _TR, data: Any) -> _TR:
        f, g, H, w, V, gt, decrease, newton_step, _ = _newton_quantities(
            objective, s.x, data, s.lane
        )
        verified = _verified(f, decrease, newton_step, ftol, xtol)
        done = s.verified | s.stuck | (s.it >= max_steps) | verified
        p = _tr_step_vector(w, V, gt, s.radius)
        pred = -(jnp.dot(g, p) + 0.5 * jnp.dot(p, H @ p))
        f_try = objective(s.x + p, data, s.lane)
        ok = jnp.isfinite(f_try) & jnp.all(jnp.isfinite(p)) & (pred > 0)
        rho = jnp.where(ok, (f - f_try) / jnp.where(pred > 0, pred, 1.0), -1.0)
        accept = ok & (rho > 1e-4) & (f_try < f)
        pnorm = jnp.sqrt(jnp.sum(p * p))
        radius = jnp.where(
            rho < 0.25,
            0.25 * pnorm,
            jnp.where((rho > 0.75) & (pnorm >= 0.99 * s.radius), 2.0 * s.radius, s.radius),
        )
        radius = jnp.clip(radius, 0.0, 1e3)
        scale = 1.0 + jnp.max(jnp.abs(s.x))
        new = _TR(
            x=jnp.where(accept, s.x + p, s.x),
            f=jnp.where(accept, f_try, f),
            radius=radius,
            it=s.it + 1,
            n_ok=s.n_ok + accept.astype(jnp.int32),
            verified=jnp.asarray(False),
            stuck=radius <= 1e-15 * scale,
            lane=s.lane,
        )
        finished = s._replace(f=f, verified=verified | s.verified)
        return jax.tree.map(lambda a, b: jnp.where(done, b, a), new, finished)

    def segment(s: _TR, data: Any) -> _TR:
        return jax.lax.fori_loop(0, segment_steps, lambda _, st: step(st, data), s)

    def start(x: Array, lane: Any, data: Any) -> _TR:
        zero = jnp.asarray(0, jnp.int32)
        f = objective(x, data, lane)
        radius = jnp.asarray(1.0, x.dtype)
        false = jnp.asarray(False)
        return _TR(x, f, radius, zero, zero, false, false, lane)

    recipe = (max_steps, segment_steps, float(ftol), float(xtol))
    return (
        stored_jit(jax.vmap(start, in_axes=(0, 0, None)), recipe_for("tr_start", objective)),
        stored_jit(jax.vmap(segment, in_axes=(0, None)), recipe_for("tr", objective, *recipe)),
    )


class TrustRegionResult(NamedTuple):
    theta: np.ndarray  # (n, k)
    objective: np.ndarray  # (n,)
    steps: np.ndarray  # (n,) steps taken
    verified: np.ndarray  # (n,) bool: verified local minimum


_TR_BLOCK = 64


def _bucket(n: int, minimum: int = 8) -> int:
    return max(minimum, 1 << max(0, int(np.ceil(np.log2(max(n, 1))))))


def trust_region_newton(
    objective: Any,
    theta: Any,
    data: Any,
    lane_data: Any = (),
    *,
    max_steps: int = 1000,
    segment_steps: int = 8,
    ftol: float = FTOL,
    xtol: float = XTOL,
) -> TrustRegionResult:
    """Trust-region Newton steps from each row of `theta` until a verified minimum (batched).

    A step is taken only if it lowers the objective, so no lane ends worse than it started.
    Lanes stop when verified (see the module docstring), when the trust radius collapses, or
    after `max_steps`; finished lanes are dropped between jitted segments of `segment_steps`
    (power-of-two batch sizes, so few shapes compile).
    """
    theta = np.asarray(theta)
    n = theta.shape[0]
    if isinstance(lane_data, tuple):
        lane_data = np.zeros((n, 0), theta.dtype)
        objective = _IgnoreLane.wrap(objective)
    if n > _TR_BLOCK:
        # Blocks of at most _TR_BLOCK lanes: batches of a few hundred lanes were seen to hang
        # in XLA:CPU execution (2-core machine, Sardana data), 64 never did.
        parts = [
            trust_region_newton(
                objective,
                theta[j : j + _TR_BLOCK],
                data,
                np.asarray(lane_data)[j : j + _TR_BLOCK],
                max_steps=max_steps,
                segment_steps=segment_steps,
                ftol=ftol,
                xtol=xtol,
            )
            for j in range(0, n, _TR_BLOCK)
        ]
        return TrustRegionResult(*(np.concatenate(f) for f in zip(*parts, strict=True)))
    start, segment = _compiled_tr(objective, int(max_steps), int(segment_steps), ftol, xtol)
    out = jax.tree.map(np.array, start(jnp.asarray(theta), jnp.asarray(lane_data), data))
    active = np.arange(n)
    while True:
        done = out.verified[active] | out.stuck[active] | (out.it[active] >= max_steps)
        active = active[~done]
        if len(active) == 0:
            break
        size = _bucket(len(active))
        rows = np.concatenate([active, np.full(size - len(active), active[0])])
        batch = jax.tree.map(lambda a, r=rows: a[r], out)
        result = jax.tree.map(np.asarray, segment(batch, data))
        m = len(active)
        for name in _TR._fields[:-1]:
            getattr(out, name)[active] = getattr(result, name)[:m]
    return TrustRegionResult(out.x, out.f, out.it.astype(np.int64), out.verified.astype(bool))


# --------------------------------------------------------------------------------------------
# Escalation


class EscalationResult(NamedTuple):
    """Outcome for the escalated lanes (numpy, one row per input lane)."""

    theta: np.ndarray  # (n, k) final point
    objective: np.ndarray  # (n,)
    verified: np.ndarray  # (n,) bool
    stage: np.ndarray  # (n,) 1: trust-region Newton sufficed; 2: multi-start was needed
    lane_evals: int  # L-BFGS lane-evaluations of the multi-start stage


def multistart(
    objective: Any,
    data: Any,
    lane_data: Any,
    starts: Any,
    *,
    newton_steps: int = 1000,
    screen_steps: int = 8,
    survivors: int = 16,
    finish: int = 4,
    options: SolverOptions | None = None,
    max_lanes: int = 2**16,
    ftol: float = FTOL,
    xtol: float = XTOL,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Successive-halving multi-start on each lane's own data (batched across lanes).

    Every start takes `screen_steps` L-BFGS evaluations with the lane's data; the best
    `survivors` per lane run to convergence; the best `finish` of those get the trust-region
    Newton finish. Returns per lane the lowest verified point (theta (n, k), objective (n,),
    verified (n,)) -- or, where none verified, the lowest point found -- and the L-BFGS
    lane-evaluations spent.
    """
    rows = np.asarray(lane_data)
    starts = np.asarray(starts)
    n, (n_s, k) = len(rows), starts.shape
    out_theta = np.zeros((n, k), starts.dtype)
    out_f = np.full(n, np.inf)
    ok = np.zeros(n, bool)
    keep = min(survivors, n_s)
    n_fin = min(finish, keep)
    per_batch = max(1, max_lanes // n_s)
    opts = SolverOptions() if options is None else options
    lane_evals = 0
    for j in range(0, n, per_batch):
        lanes = np.arange(j, min(j + per_batch, n))
        m = len(lanes)
        screen = solve_starts(
            objective,
            np.tile(starts, (m, 1)),
            data,
            opts,
            lane_data=np.repeat(rows[lanes], n_s, axis=0),
            max_steps=screen_steps,
        )
        lane_evals += screen.lane_evals
        f = np.where(np.isfinite(screen.objective), screen.objective, np.inf).reshape(m, n_s)
        top = np.argsort(f, axis=1, kind="stable")[:, :keep]
        th = screen.theta.reshape(m, n_s, k)[np.arange(m)[:, None], top].reshape(-1, k)
        run = solve_starts(objective, th, data, opts, lane_data=np.repeat(rows[lanes], keep, 0))
        lane_evals += run.lane_evals
        f2 = np.where(np.isfinite(run.objective), run.objective, np.inf).reshape(m, keep)
        best = np.argsort(f2, axis=1, kind="stable")[:, :n_fin]
        cand = run.theta.reshape(m, keep, k)[np.arange(m)[:, None], best].reshape(-1, k)
        fin = trust_region_newton(
            objective,
            cand,
            data,
            np.repeat(rows[lanes], n_fin, axis=0),
            max_steps=newton_steps,
            ftol=ftol,
            xtol=xtol,
        )
        fth = fin.theta.reshape(m, n_fin, k)
        ff = np.where(np.isfinite(fin.objective), fin.objective, np.inf).reshape(m, n_fin)
        fv = fin.verified.reshape(m, n_fin)
        any_v = fv.any(axis=1)
        pick = np.where(any_v, np.argmin(np.where(fv, ff, np.inf), axis=1), np.argmin(ff, axis=1))
        r = np.arange(m)
        out_theta[lanes] = fth[r, pick]
        out_f[lanes] = ff[r, pick]
        ok[lanes] = any_v
    return out_theta, out_f, ok, lane_evals


def escalate(
    objective: Any,
    theta: Any,
    data: Any,
    lane_data: Any,
    starts: Any,
    *,
    newton_steps: int = 1000,
    screen_steps: int = 8,
    survivors: int = 16,
    finish: int = 4,
    options: SolverOptions | None = None,
    max_lanes: int = 2**16,
    ftol: float = FTOL,
    xtol: float = XTOL,
) -> EscalationResult:
    """Escalate lanes that are not at a verified minimum (see the module docstring).

    Args:
      objective: ``objective(theta, data, lane)``.
      theta: (n, k) current points of the lanes to escalate.
      data: shared data pytree; lane_data: (n, m) per-lane rows (e.g. bootstrap weights).
      starts: (S, k) multi-start grid of stage 2 (e.g. the law's grid).
      newton_steps: trust-region steps per lane and stage.
      screen_steps, survivors, finish, options, max_lanes: stage 2 (see `multistart`).
    """
    theta = np.asarray(theta)
    rows = np.asarray(lane_data)
    n, k = theta.shape
    tol = {"ftol": ftol, "xtol": xtol}
    tr = trust_region_newton(objective, theta, data, rows, max_steps=newton_steps, **tol)
    out_theta, out_f, ok = tr.theta.copy(), tr.objective.copy(), tr.verified.copy()
    stage = np.ones(n, np.int64)
    lane_evals = 0
    todo = np.flatnonzero(~ok)
    if len(todo) and len(starts):
        mth, mf, mok, lane_evals = multistart(
            objective,
            data,
            rows[todo],
            np.asarray(starts, theta.dtype),
            newton_steps=newton_steps,
            screen_steps=screen_steps,
            survivors=survivors,
            finish=finish,
            options=options,
            max_lanes=max_lanes,
            **tol,
        )
        stage[todo] = 2
        # A verified minimum wins; otherwise keep the lowest point seen (unverified).
        take = mok | (mf < out_f[todo])
        out_theta[todo[take]] = mth[take]
        out_f[todo[take]] = mf[take]
        ok[todo] = mok
    return EscalationResult(out_theta, out_f, ok, stage, lane_evals)
