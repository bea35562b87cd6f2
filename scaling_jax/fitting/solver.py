"""Batched multi-start L-BFGS in lock step, plus a damped-Newton finish.

Why not ``optax.lbfgs`` under ``vmap``: its zoom line search is a data-dependent
``while_loop`` per iteration, so under ``vmap`` every lane waits for the slowest lane's line
search and both branches of every ``cond`` run. Measured on 2 CPU cores, 432 vmapped starts ran
~15x slower than one-by-one, and slower than scipy. Here every start is a small state machine
that advances by exactly **one** batched value-and-gradient evaluation per step:

* a weak-Wolfe line search written as a bracket update (extrapolate along the secant of the
  slope while the curvature condition fails; once Armijo fails, try the minimiser of the cubic
  through both ends of the bracket, safeguarded) -- a lane needing ten trials takes ten
  steps, and no lane waits for another;
* the L-BFGS memory kept as a shift buffer with ``rho = 0`` for empty slots, so the two-loop
  recursion has a fixed shape;
* finished lanes are masked, and between jitted segments the unfinished lanes are gathered into
  a smaller power-of-two batch ("compaction"), so late, slow lanes do not drag the whole batch.

After L-BFGS, the best few starts are finished with Levenberg-Marquardt steps on the exact
Hessian (``jax.hessian``; the problems have a handful of parameters). The Chinchilla objective
has a long flat valley in which L-BFGS crawls; a Newton step does not.

Per-start status codes are in `FitStatus`; nothing is hidden: a lane that hits the iteration
limit, fails its line search or produces non-finite values says so.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from scaling_jax._aot import recipe_for, stored_jit

Array = Any
Objective = Callable[[Array, Any, Any], Array]  # (theta, shared data, per-lane data)

__all__ = [
    "FitStatus",
    "Status",
    "SolverOptions",
    "StartsResult",
    "PolishResult",
    "solve_starts",
    "polish",
    "lane_sizes",
    "default_batch_size",
]


class FitStatus(enum.IntEnum):
    """Outcome of one solver lane (a start of `fit`, a resample lane of `bootstrap`).

    Distinct from `scaling_jax.sizing.lifetime.LifetimeStatus`, whose codes mean other things.
    """

    RUNNING = -1
    CONVERGED = 0
    MAX_ITERATIONS = 1
    LINESEARCH_FAILED = 2
    NON_FINITE = 3
    SCREENED_OUT = 4  # stopped early by successive halving (a fast-mode non-survivor)

    @classmethod
    def label(cls, code: int) -> str:
        """Lower-case name of a code, as results report it (``"converged"``)."""
        return cls(int(code)).name.lower()


class Status:
    """The former spelling of `FitStatus`: the same integer codes, and ``Status.name(code)``."""

    RUNNING = FitStatus.RUNNING
    CONVERGED = FitStatus.CONVERGED
    MAX_ITERATIONS = FitStatus.MAX_ITERATIONS
    LINESEARCH_FAILED = FitStatus.LINESEARCH_FAILED
    NON_FINITE = FitStatus.NON_FINITE
    SCREENED_OUT = FitStatus.SCREENED_OUT
    NAMES = {int(s): s.name.lower() for s in FitStatus}

    @staticmethod
    def name(code: int) -> str:
        return FitStatus.label(code)


_FRESH = -2  # internal lane status: loaded with a new start, initialised by the next segment


class SolverOptions(NamedTuple):
    """Options of the lock-step L-BFGS.

    Attributes:
      max_iter: accepted L-BFGS iterations per start.
      max_evals: objective evaluations per start (line-search trials included).
      ftol: stop when the objective decrease of an iteration is <= ftol * |f| (relative, unlike
        scipy's ``ftol * max(|f|, 1)``, which is absolute for objectives ~1e-3).
      gtol: stop when max |gradient| <= gtol.
      history: L-BFGS memory size.
      max_linesearch: trials per line search before it is declared failed.
      c1, c2: Armijo and (weak) curvature constants.
      segment_steps: steps per jitted segment between compactions.
      min_bucket: smallest batch compaction shrinks to (each batch size compiles once; below
        64 lanes a step costs little, so fewer sizes beat tighter packing).
      bucket_factor: ratio between successive compaction batch sizes (`lane_sizes`): the
        batch sizes are ``min_bucket * bucket_factor**j`` below the first batch, so a solve
        compiles only a few programs (each ~2 s of XLA compilation on a CPU).
    """

    max_iter: int = 1000
    max_evals: int = 4000
    ftol: float = 1e-9
    gtol: float = 1e-11
    history: int = 10
    max_linesearch: int = 40
    c1: float = 1e-4
    c2: float = 0.9
    segment_steps: int = 16
    min_bucket: int = 64
    bucket_factor: int = 4


class _Lanes(NamedTuple):
    x: Array  # (n, k) accepted point
    f: Array  # (n,)
    g: Array  # (n, k)
    d: Array  # (n, k) search direction
    gd: Array  # (n,) g . d at x (negative)
    t: Array  # (n,) trial step length
    t_lo: Array  # (n,) largest step known to satisfy Armijo (0 = none)
    t_hi: Array  # (n,) smallest step known to violate Armijo (inf = none)
    f_lo: Array  # (n,) objective at t_lo
    g_lo: Array  # (n, k) gradient at t_lo
    f_hi: Array  # (n,) objective at t_hi (inf when not finite)
    d_hi: Array  # (n,) directional derivative g . d at t_hi
    S: Array  # (n, m, k) step memory, newest last
    Y: Array  # (n, m, k) gradient-change memory
    rho: Array  # (n, m) 1/(s.y); 0 marks an empty slot
    trials: Array  # (n,) trials in the current line search
    n_iter: Array  # (n,)
    n_eval: Array  # (n,)
    status: Array  # (n,)
    lane_id: Array  # (n,) index of the start; -1 for padding
    lane: Any  # per-lane data (pytree, leading axis n), e.g. bootstrap weights; () if none


class StartsResult(NamedTuple):
    """Per-start outcome of `solve_starts` (numpy arrays, one row per start)."""

    theta: np.ndarray  # (S, k) final point
    objective: np.ndarray  # (S,)
    grad_norm: np.ndarray  # (S,) max |gradient| at the final point
    n_iter: np.ndarray  # (S,)
    n_eval: np.ndarray  # (S,)
    status: np.ndarray  # (S,)
    lane_evals: int  # lane-evaluations computed, padding and masked lanes included


class PolishResult(NamedTuple):
    theta: np.ndarray  # (K, k)
    objective: np.ndarray  # (K,)
    grad_norm: np.ndarray  # (K,)
    converged: np.ndarray  # (K,) bool: the Newton step became negligible


def _two_loop(g: Array, S: Array, Y: Array, rho: Array) -> Array:
    """-H g for one lane via the L-BFGS two-loop recursion (empty slots have rho = 0)."""
    m = S.shape[0]
    q = g
    alphas = []
    for i in reversed(range(m)):
        a_i = rho[i] * jnp.dot(S[i], q)
        q = q - a_i * Y[i]
        alphas.append(a_i)
    alphas = alphas[::-1]
    yy = jnp.dot(Y[-1], Y[-1])
    gamma = jnp.where(rho[-1] > 0, 1.0 / (rho[-1] * jnp.where(yy > 0, yy, 1.0)), 1.0)
    r = gamma * q
    for i in range(m):
        b_i = rho[i] * jnp.dot(Y[i], r)
        r = r + S[i] * (alphas[i] - b_i)
    return -r


def _first_step(g: Array) -> Array:
    """Initial step for a steepest-descent direction: min(1, 1/||g||), as scipy does."""
    gnorm = jnp.linalg.norm(g, axis=-1)
    return jnp.minimum(1.0, 1.0 / jnp.where(gnorm > 0, gnorm, 1.0))


def _extrapolate(t0: Array, d0: Array, t1: Array, d1: Array) -> Array:
    """Next trial beyond `t1` while the curvature condition fails (no upper bracket yet).

    The zero of the secant of the directional derivative through ``(t0, d0)`` and
    ``(t1, d1)`` (both negative), kept within [2, 10] x `t1`; 4 x `t1` when the derivative
    did not rise (a linear stretch, e.g. the Huber loss's linear part).
    """
    rise = d1 - d0
    ok = rise > 0
    t_sec = t1 - d1 * (t1 - t0) / jnp.where(ok, rise, 1.0)
    return jnp.where(ok, jnp.clip(t_sec, 2.0 * t1, 10.0 * t1), 4.0 * t1)


def _interpolate(
    a: Array, fa: Array, da: Array, b: Array, fb: Array, db: Array, margin: float = 0.1
) -> Array:
    """Next trial inside the bracket (a, b): the minimiser of the cubic through the values and
    directional derivatives at both ends (Nocedal & Wright, eq. 3.59), kept at least
    `margin` of the bracket away from either end; the midpoint when the cubic has no
    minimiser there or the upper value is not finite.

    Bisection alone spent ~1.5 evaluations per accepted step on the Chinchilla grid.
    """
    width = b - a
    finite = jnp.isfinite(fb) & (width > 0)
    safe_width = jnp.where(finite, width, 1.0)
    d1 = da + db - 3.0 * (fa - jnp.where(finite, fb, fa)) / -safe_width
    disc = d1 * d1 - da * db
    ok = finite & (disc >= 0)
    d2 = jnp.sqrt(jnp.where(ok, disc, 0.0))
    denom = db - da + 2.0 * d2
    ok = ok & (denom != 0)
    t_cubic = b - width * (db + d2 - d1) / jnp.where(ok, denom, 1.0)
    ok = ok & jnp.isfinite(t_cubic)
    t_mid = a + 0.5 * width
    return jnp.where(ok, jnp.clip(t_cubic, a + margin * width, b - margin * width), t_mid)


@functools.lru_cache(maxsize=64)
def _compiled(objective: Objective, opts: SolverOptions):
    """The jitted segment function for one objective and option set."""
    value_and_grad = jax.vmap(jax.value_and_grad(objective), in_axes=(0, None, 0))

    def init(theta0: Array, f: Array, g: Array, lane_id: Array, lane: Any) -> _Lanes:
        """Lanes at their starts, given the objective and gradient there."""
        n, k = theta0.shape
        m = opts.history
        finite = jnp.isfinite(f) & jnp.all(jnp.isfinite(g), axis=-1)
        f = jnp.where(finite, f, jnp.inf)
        g = jnp.where(finite[:, None], g, 0.0)
        zeros_mk = jnp.zeros((n, m, k), theta0.dtype)
        status = jnp.where(finite, FitStatus.RUNNING, FitStatus.NON_FINITE)
        status = jnp.where(lane_id < 0, FitStatus.CONVERGED, status)
        return _Lanes(
            x=theta0,
            f=f,
            g=g,
            d=-g,
            gd=-jnp.sum(g * g, axis=-1),
            t=_first_step(g),
            t_lo=jnp.zeros(n, theta0.dtype),
            t_hi=jnp.full(n, jnp.inf, theta0.dtype),
            f_lo=f,
            g_lo=g,
            f_hi=jnp.full(n, jnp.inf, theta0.dtype),
            d_hi=jnp.zeros(n, theta0.dtype),
            S=zeros_mk,
            Y=zeros_mk,
            rho=jnp.zeros((n, m), theta0.dtype),
            trials=jnp.zeros(n, jnp.int32),
            n_iter=jnp.zeros(n, jnp.int32),
            n_eval=jnp.ones(n, jnp.int32),
            status=status.astype(jnp.int32),
            lane_id=lane_id,
            lane=lane,
        )

    def step(s: _Lanes, data: Any) -> _Lanes:
        # Fresh lanes (new starts) spend this step's evaluation on their starting point: a
        # refill costs those lanes one evaluation, not the whole batch one.
        fresh = s.status == _FRESH
        running = s.status == FitStatus.RUNNING
        x_trial = jnp.where(fresh[:, None], s.x, s.x + s.t[:, None] * s.d)
        ft, gt = value_and_grad(x_trial, data, s.lane)
        finite = jnp.isfinite(ft) & jnp.all(jnp.isfinite(gt), axis=-1)
        # A trial that rounds back onto x (the step fell below x's last digit) is no step.
        moved = jnp.any(x_trial != s.x, axis=-1) | (s.gd == 0)
        armijo = finite & moved & (ft <= s.f + opts.c1 * s.t * s.gd)
        dphi = jnp.sum(gt * s.d, axis=-1)  # directional derivative at the trial
        curvature = dphi >= opts.c2 * s.gd
        wolfe = armijo & curvature
        grow = armijo & ~curvature

        # Bracket update: the trial becomes the upper end once Armijo fails, the lower end
        # while only curvature fails.
        d_lo_old = jnp.sum(s.g_lo * s.d, axis=-1)
        t_hi = jnp.where(armijo, s.t_hi, s.t)
        f_hi = jnp.where(armijo, s.f_hi, jnp.where(finite, ft, jnp.inf))
        d_hi = jnp.where(armijo, s.d_hi, jnp.where(finite, dphi, 0.0))
        t_lo = jnp.where(grow, s.t, s.t_lo)
        f_lo = jnp.where(grow, ft, s.f_lo)
        g_lo = jnp.where(grow[:, None], gt, s.g_lo)
        d_lo = jnp.where(grow, dphi, d_lo_old)
        t_next = jnp.where(
            jnp.isinf(t_hi),
            _extrapolate(s.t_lo, d_lo_old, s.t, dphi),
            _interpolate(t_lo, f_lo, d_lo, t_hi, f_hi, d_hi),
        )
        trials = s.trials + 1
        exhausted = ~wolfe & ((trials >= opts.max_linesearch) | (t_next <= 1e-20))
        # A line search out of trials still accepts its best Armijo point, if it has one.
        accept = wolfe | (exhausted & (t_lo > 0))
        failed = exhausted & ~accept

        t_acc = jnp.where(wolfe, s.t, t_lo)
        f_acc = jnp.where(wolfe, ft, f_lo)
        g_acc = jnp.where(wolfe[:, None], gt, g_lo)
        step_vec = t_acc[:, None] * s.d
        x_acc = s.x + step_vec
        y_vec = g_acc - s.g
        sy = jnp.sum(step_vec * y_vec, axis=-1)
        yy = jnp.sum(y_vec * y_vec, axis=-1)
        ss = jnp.sum(step_vec * step_vec, axis=-1)
        # Skip curvature pairs that would make the inverse Hessian indefinite or blow up
        # (guarding 1/sy with a where *before* the division keeps NaNs out of other lanes).
        good_pair = accept & (sy > 1e-12 * jnp.sqrt(ss * yy))
        S = jnp.where(
            good_pair[:, None, None], jnp.concatenate([s.S[:, 1:], step_vec[:, None]], 1), s.S
        )
        Y = jnp.where(
            good_pair[:, None, None], jnp.concatenate([s.Y[:, 1:], y_vec[:, None]], 1), s.Y
        )
        rho_new = 1.0 / jnp.where(good_pair, sy, 1.0)
        rho = jnp.where(
            good_pair[:, None], jnp.concatenate([s.rho[:, 1:], rho_new[:, None]], 1), s.rho
        )
        d_new = jax.vmap(_two_loop)(g_acc, S, Y, rho)
        gd_new = jnp.sum(g_acc * d_new, axis=-1)
        descent = gd_new < 0
        d_new = jnp.where(descent[:, None], d_new, -g_acc)
        gd_new = jnp.where(descent, gd_new, -jnp.sum(g_acc * g_acc, axis=-1))
        has_memory = jnp.any(rho > 0, axis=-1) & descent
        t_new = jnp.where(has_memory, 1.0, _first_step(g_acc))

        n_iter = s.n_iter + accept.astype(jnp.int32)
        n_eval = s.n_eval + 1
        decrease = s.f - f_acc
        small_decrease = decrease <= opts.ftol * jnp.maximum(jnp.abs(s.f), jnp.abs(f_acc))
        small_grad = jnp.max(jnp.abs(g_acc), axis=-1) <= opts.gtol
        converged = accept & (small_decrease | small_grad)
        out_of_budget = (n_iter >= opts.max_iter) | (n_eval >= opts.max_evals)
        status = jnp.where(
            failed,
            FitStatus.LINESEARCH_FAILED,
            jnp.where(
                converged,
                FitStatus.CONVERGED,
                jnp.where(out_of_budget, FitStatus.MAX_ITERATIONS, FitStatus.RUNNING),
            ),
        )

        def pick(on_accept, on_search):
            mask = accept.reshape(accept.shape + (1,) * (on_accept.ndim - 1))
            return jnp.where(mask, on_accept, on_search)

        new = _Lanes(
            x=pick(x_acc, s.x),
            f=pick(f_acc, s.f),
            g=pick(g_acc, s.g),
            d=pick(d_new, s.d),
            gd=pick(gd_new, s.gd),
            t=pick(t_new, t_next),
            t_lo=pick(jnp.zeros_like(t_lo), t_lo),
            t_hi=pick(jnp.full_like(t_hi, jnp.inf), t_hi),
            f_lo=pick(f_acc, f_lo),
            g_lo=pick(g_acc, g_lo),
            f_hi=f_hi,
            d_hi=d_hi,
            S=S,
            Y=Y,
            rho=rho,
            trials=pick(jnp.zeros_like(trials), trials),
            n_iter=n_iter,
            n_eval=n_eval,
            status=status.astype(jnp.int32),
            lane_id=s.lane_id,
            lane=s.lane,
        )
        started = init(s.x, ft, gt, s.lane_id, s.lane)

        def merge(a: Array, b: Array, c: Array) -> Array:
            shape = running.shape + (1,) * (a.ndim - 1)
            return jnp.where(running.reshape(shape), a, jnp.where(fresh.reshape(shape), b, c))

        return jax.tree.map(merge, new, started, s)

    def segment(s: _Lanes, data: Any, n_steps: Array) -> _Lanes:
        # One program per batch size serves every role: lanes marked fresh are initialised by
        # the first step they take (an L-BFGS start costs one evaluation), and `n_steps` is a
        # traced count, so screening and full segments share the program (0 steps only
        # compiles).
        return jax.lax.fori_loop(0, n_steps, lambda _, st: step(st, data), s)

    return stored_jit(segment, recipe_for("segment", objective, opts))


def lane_sizes(n: int, floor: int = 64, factor: int = 4, n_dev: int = 1) -> tuple[int, ...]:
    """The batch sizes a solve of `n` lanes runs at, largest first.

    The first batch holds all lanes, rounded up to a multiple of `floor` (so nearby counts
    share a program); compaction then shrinks it to ``floor * factor**j`` lanes (at most half
    the first size). Every size is a multiple of the device count. Each size is one compiled
    program, so the set is small and fixed: e.g. 1024 lanes -> (1024, 256, 64).
    """
    n_dev = max(1, int(n_dev))
    floor = max(1, int(floor))
    top = max(floor, -(-int(n) // floor) * floor)
    sizes = [top]
    size = floor
    while 2 * size <= top:
        sizes.append(size)
        size *= max(2, int(factor))
    sizes = [sz + (-sz % n_dev) for sz in sizes]
    return tuple(sorted(set(sizes), reverse=True))


def _batch_sizes(n: int, cap: int, floor: int, factor: int, n_dev: int) -> tuple[int, ...]:
    """`lane_sizes` of the batch cap, so that solves of different start counts share
    programs: fewer starts than the cap run at the cap's chain size that holds them, unless
    that would more than double the batch (then at their own rounded size)."""
    chain = lane_sizes(cap, floor, factor, n_dev)
    if n >= chain[0]:
        return chain
    fits = min(size for size in chain if size >= n)
    if fits <= 2 * max(n, floor):
        return tuple(size for size in chain if size <= fits)
    return lane_sizes(n, floor, factor, n_dev)


def default_batch_size(n_dev: int = 1) -> int | None:
    """Lanes solved at once when `solve_starts` is not told: on a CPU, 1024 per device (finished
    lanes are refilled with new starts, and 1024 lanes already keep the cores busy); on an
    accelerator, all starts at once (None)."""
    return 1024 * max(1, n_dev) if jax.default_backend() == "cpu" else None


def _placement(mesh: jax.sharding.Mesh | None):
    """(place lanes, place shared data, device count) for an optional 1-D mesh.

    Without a mesh, numpy arrays go to jit as they are: a ``jnp.asarray`` of a new shape
    would compile a tiny program of its own.
    """
    if mesh is None:
        return (lambda tree: tree), (lambda tree: tree), 1
    if len(mesh.axis_names) != 1:
        raise ValueError(f"mesh must be 1-D (one axis for the lanes), got {mesh.axis_names}")
    spec = jax.sharding.PartitionSpec(mesh.axis_names[0])
    lanes_sharding = jax.sharding.NamedSharding(mesh, spec)
    replicated = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())

    def place(tree: Any) -> Any:
        return jax.tree.map(lambda a: jax.device_put(a, lanes_sharding), tree)

    def place_data(tree: Any) -> Any:
        return jax.tree.map(lambda a: jax.device_put(a, replicated), tree)

    return place, place_data, mesh.devices.size


def _fresh_lanes(theta0: np.ndarray, lane_ids: np.ndarray, lane: Any, history: int) -> _Lanes:
    """Host-side lanes at their starting points, initialised by the next segment.

    Anonymous lanes (id -1) are born finished.
    """
    n, k = theta0.shape
    dt = theta0.dtype
    zeros_n = np.zeros(n, dt)
    zeros_nk = np.zeros((n, k), dt)
    zeros_mk = np.zeros((n, history, k), dt)
    int_n = np.zeros(n, np.int32)
    status = np.where(lane_ids < 0, FitStatus.CONVERGED, _FRESH).astype(np.int32)
    return _Lanes(
        x=np.array(theta0),
        f=zeros_n,
        g=zeros_nk,
        d=zeros_nk.copy(),
        gd=zeros_n.copy(),
        t=zeros_n.copy(),
        t_lo=zeros_n.copy(),
        t_hi=np.full(n, np.inf, dt),
        f_lo=zeros_n.copy(),
        g_lo=zeros_nk.copy(),
        f_hi=np.full(n, np.inf, dt),
        d_hi=zeros_n.copy(),
        S=zeros_mk,
        Y=zeros_mk.copy(),
        rho=np.zeros((n, history), dt),
        trials=int_n,
        n_iter=int_n.copy(),
        n_eval=int_n.copy(),
        status=status,
        lane_id=np.asarray(lane_ids, np.int64),
        lane=lane,
    )


def _take(lanes: _Lanes, index: np.ndarray) -> _Lanes:
    return jax.tree.map(lambda a: np.asarray(a)[index], lanes)


def _is_stored(program: Any, *args: Any) -> bool:
    """Whether `program` has a stored executable for these arguments (see `_aot`)."""
    check = getattr(program, "is_stored", None)
    return bool(check is not None and check(*args))


def _warm(segment: Any, lanes: _Lanes, data: Any, sizes: tuple[int, ...], place: Any) -> None:
    """Compile `segment` for every batch size a solve may shrink to (a zero-step call on
    finished lanes), so that which sizes a dataset happens to visit never decides whether a
    later fit compiles. A size whose executable is already stored is left to load when (and
    if) the solve reaches it: loading costs tens of milliseconds per program."""
    for size in sizes:
        dummy = _take(lanes, np.zeros(size, np.int64))._replace(
            status=np.full(size, FitStatus.CONVERGED, np.int32), lane_id=np.full(size, -1)
        )
        args = (place(dummy), data, np.int32(0))
        if not _is_stored(segment, *args):
            segment(*args)


def solve_starts(
    objective: Objective,
    theta0: np.ndarray,
    data: Any,
    options: SolverOptions | None = None,
    *,
    batch_size: int | None = None,
    max_steps: int | None = None,
    lane_data: Any = (),
    mesh: jax.sharding.Mesh | None = None,
) -> StartsResult:
    """Run L-BFGS from every row of `theta0` (starts x params) on ``objective(theta, data)``.

    At most `batch_size` starts run at once (`default_batch_size` when None); lanes advance in
    lock step. Between jitted segments, finished lanes are refilled with the next starts;
    once no starts are left, the unfinished lanes are compacted into the few batch sizes of
    `lane_sizes`, so a solve compiles a small, fixed set of programs. `max_steps` caps the
    batched steps (evaluations) per start, leaving unfinished lanes `RUNNING` -- the
    screening stage of successive halving (starts then run in whole batches). `lane_data` is
    a pytree whose leaves have a leading axis of length S (one row per start, e.g. bootstrap
    weights), passed to the objective as its third argument; ``()`` when all starts share
    the data.

    `mesh` (a 1-D `jax.sharding.Mesh`) shards the lanes of every batch over its devices with
    `NamedSharding` and replicates `data`; jit then runs each device's lanes where they live
    (every lane is independent, so no communication is needed inside a segment). Batch sizes
    are padded to a multiple of the device count.
    """
    options = SolverOptions() if options is None else options
    place, place_data, n_dev = _placement(mesh)
    data = place_data(data)
    theta0 = np.asarray(theta0)
    n_starts, k = theta0.shape
    segment = _compiled(objective, options)
    lane_np = _lane_data_as(lane_data, theta0.dtype)
    out_theta = theta0.copy()
    out_f = np.full(n_starts, np.inf)
    out_gnorm = np.full(n_starts, np.inf)
    out_iter = np.zeros(n_starts, np.int64)
    out_eval = np.zeros(n_starts, np.int64)
    out_status = np.full(n_starts, FitStatus.RUNNING, np.int64)
    lane_evals = 0
    cap = default_batch_size(n_dev) if batch_size is None else max(1, int(batch_size))
    cap = n_starts if cap is None else cap
    sizes = _batch_sizes(n_starts, cap, options.min_bucket, options.bucket_factor, n_dev)
    size = sizes[0]
    queue = 0  # the next start to load

    def record(lanes: _Lanes, rows: np.ndarray) -> None:
        ids = lanes.lane_id[rows]
        out_theta[ids] = lanes.x[rows]
        out_f[ids] = lanes.f[rows]
        out_gnorm[ids] = np.max(np.abs(lanes.g[rows]), axis=-1)
        out_iter[ids] = lanes.n_iter[rows]
        out_eval[ids] = lanes.n_eval[rows]
        out_status[ids] = lanes.status[rows]

    def next_starts(count: int) -> _Lanes:
        """The next `count` starts (fewer when the queue runs out) as fresh lanes."""
        nonlocal queue
        ids = np.arange(queue, min(queue + count, n_starts))
        queue += len(ids)
        lane = jax.tree.map(lambda a: a[ids], lane_np)
        return _fresh_lanes(theta0[ids], ids, lane, options.history)

    def new_batch() -> _Lanes:
        host = next_starts(size)
        n_pad = size - len(host.f)
        # Pad with anonymous lanes (id -1: born finished) repeating the first start.
        return _take(
            host, np.concatenate([np.arange(len(host.f)), np.zeros(n_pad, np.int64)])
        )._replace(
            status=np.concatenate([host.status, np.full(n_pad, FitStatus.CONVERGED, np.int32)]),
            lane_id=np.concatenate([host.lane_id, np.full(n_pad, -1)]),
        )

    host = new_batch()
    if max_steps is None:
        _warm(segment, host, data, sizes[1:], place)
    age = 0  # steps taken by the current batch (screening only)
    while True:
        n_steps = options.segment_steps
        if max_steps is not None:
            n_steps = min(n_steps, max_steps - age)
        fresh = bool(np.any(host.status == _FRESH))  # new starts take one more step
        lanes = segment(place(host), data, np.int32(n_steps + fresh))
        lane_evals += (n_steps + fresh) * size
        age += n_steps
        host = jax.tree.map(np.array, jax.device_get(lanes))
        real = host.lane_id >= 0
        running = real & (host.status == FitStatus.RUNNING)
        if max_steps is not None:
            if age < max_steps and running.any():
                continue
            record(host, np.flatnonzero(real))
            if queue >= n_starts:
                break
            host, age = new_batch(), 0
            continue
        finished = real & ~running
        record(host, np.flatnonzero(finished))
        host.lane_id[finished] = -1  # recorded; the row is free
        if queue < n_starts:
            # Refill the free rows with the next starts: the batch stays full.
            free = np.flatnonzero(~running)
            new = next_starts(len(free))
            rows = free[: len(new.f)]
            for name, value in zip(_Lanes._fields[:-1], new[:-1], strict=True):
                getattr(host, name)[rows] = value
            jax.tree.map(lambda dst, src, r=rows: dst.__setitem__(r, src), host.lane, new.lane)
            continue
        n_running = int(running.sum())
        if n_running == 0:
            break
        bucket = min(sz for sz in sizes if sz >= n_running)
        if bucket < size:
            keep = np.flatnonzero(running)
            host = _take(host, np.concatenate([keep, np.full(bucket - n_running, keep[0])]))
            # Padding lanes repeat a running lane but are marked finished and anonymous.
            mask = np.arange(bucket) >= n_running
            host = host._replace(
                status=np.where(mask, FitStatus.CONVERGED, host.status).astype(np.int32),
                lane_id=np.where(mask, -1, host.lane_id),
            )
            size = bucket
    return StartsResult(out_theta, out_f, out_gnorm, out_iter, out_eval, out_status, lane_evals)


class _Newton(NamedTuple):
    x: Array  # (n, k)
    f: Array  # (n,)
    lam: Array  # (n,) Levenberg-Marquardt damping
    it: Array  # (n,) steps taken
    converged: Array  # (n,) bool
    stuck: Array  # (n,) bool: damping at its cap
    lane: Any  # per-lane data


def _lane_data_as(lane_data: Any, dtype: Any) -> Any:
    """Per-lane data as numpy, floating leaves in the solve's dtype: float64 weights must not
    promote a float32 solve (the lanes' carried state has to keep one dtype)."""

    def cast(a: Any) -> np.ndarray:
        a = np.asarray(a)
        return a.astype(dtype) if np.issubdtype(a.dtype, np.floating) else a

    return jax.tree.map(cast, lane_data)


@functools.lru_cache(maxsize=64)
def _compiled_polish(objective: Objective):
    """The jitted batched Newton finish: one program per batch size serves the start
    (``fresh``), the segments and the final gradient norms (``want_gnorm``)."""
    value_and_grad = jax.value_and_grad(objective)
    hessian = jax.hessian(objective)

    def lm_step(s: _Newton, data: Any, max_steps: Array) -> _Newton:
        done = s.converged | s.stuck | (s.it >= max_steps)
        k = s.x.shape[-1]
        _, g = value_and_grad(s.x, data, s.lane)
        H = hessian(s.x, data, s.lane)
        # Marquardt scaling: damp each coordinate by its own curvature scale.
        diag = jnp.abs(jnp.diag(H))
        scale = jnp.maximum(diag, 1e-12 * jnp.max(diag))
        p = jnp.linalg.solve(H + s.lam * jnp.diag(scale) + 1e-300 * jnp.eye(k, dtype=H.dtype), -g)
        f_try = objective(s.x + p, data, s.lane)
        ok = jnp.isfinite(f_try) & jnp.all(jnp.isfinite(p)) & (f_try < s.f)
        # Converged: the (lightly damped) Newton step is negligible against x, or the gradient
        # is zero. A test on the objective's decrease would stop too early: along the flat
        # A-B-alpha-beta valley f barely changes while the parameters still move.
        step_small = jnp.max(jnp.abs(p)) <= 1e-9 * (1.0 + jnp.max(jnp.abs(s.x)))
        converged = ((s.lam <= 1e-2) & step_small) | jnp.all(g == 0)
        lam = jnp.clip(jnp.where(ok, s.lam / 10.0, s.lam * 8.0), 1e-12, 1e12)
        new = _Newton(
            x=jnp.where(ok, s.x + p, s.x),
            f=jnp.where(ok, f_try, s.f),
            lam=lam,
            it=s.it + 1,
            converged=converged,
            stuck=lam >= 1e12,
            lane=s.lane,
        )
        return jax.tree.map(lambda a, b: jnp.where(done, b, a), new, s)

    def grad_norm(theta: Array, lane: Any, data: Any) -> Array:
        return jnp.max(jnp.abs(value_and_grad(theta, data, lane)[1]))

    lanes_objective = jax.vmap(objective, in_axes=(0, None, 0))
    lanes_step = jax.vmap(lm_step, in_axes=(0, None, None))
    lanes_grad_norm = jax.vmap(grad_norm, in_axes=(0, 0, None))

    def run(
        s: _Newton, data: Any, n_steps: Array, max_steps: Array, fresh: Array, want_gnorm: Array
    ) -> tuple[_Newton, Array]:
        f = jax.lax.cond(fresh, lambda: lanes_objective(s.x, data, s.lane), lambda: s.f)
        s = s._replace(f=f)
        s = jax.lax.fori_loop(0, n_steps, lambda _, st: lanes_step(st, data, max_steps), s)
        gnorm = jax.lax.cond(
            want_gnorm, lambda: lanes_grad_norm(s.x, s.lane, data), lambda: jnp.zeros_like(s.f)
        )
        return s, gnorm

    return stored_jit(run, recipe_for("polish", objective))


def polish(
    objective: Objective,
    theta: np.ndarray,
    data: Any,
    max_steps: int = 100,
    lane_data: Any = (),
    *,
    segment_steps: int = 4,
    min_bucket: int = 32,
    bucket_factor: int = 8,
) -> PolishResult:
    """Levenberg-Marquardt steps on the exact Hessian from each row of `theta`.

    A step is kept only if it lowers the objective, so the result is never worse than the start.
    Each lane stops when its Newton step becomes negligible (``converged``), when the damping
    reaches its cap, or after `max_steps`. Lanes run in jitted segments of `segment_steps`;
    between segments the finished ones are dropped (compaction, as in `solve_starts`, into the
    batch sizes ``lane_sizes(len(theta), min_bucket, bucket_factor)``), since most lanes
    converge in a few steps and a few need many more.
    """
    run = _compiled_polish(objective)
    theta = np.asarray(theta)
    n_lanes = len(theta)
    out = _Newton(
        x=theta.copy(),
        f=np.full(n_lanes, np.nan, theta.dtype),
        lam=np.full(n_lanes, 1e-4, theta.dtype),
        it=np.zeros(n_lanes, np.int32),
        converged=np.zeros(n_lanes, bool),
        stuck=np.zeros(n_lanes, bool),
        lane=_lane_data_as(lane_data, theta.dtype),
    )
    sizes = lane_sizes(n_lanes, min_bucket, bucket_factor)
    seg, cap = np.int32(segment_steps), np.int32(max_steps)

    def arguments(rows: np.ndarray, n_steps: Any, fresh: bool, want_gnorm: bool) -> tuple:
        batch = jax.tree.map(lambda a: a[rows], out)
        return batch, data, n_steps, cap, np.bool_(fresh), np.bool_(want_gnorm)

    def call(rows: np.ndarray, n_steps: Any, fresh: bool, want_gnorm: bool):
        return jax.device_get(run(*arguments(rows, n_steps, fresh, want_gnorm)))

    for size in sizes[1:]:  # compile every size up front, unless stored: see `_warm`
        warm_up = arguments(np.zeros(size, np.int64), np.int32(0), False, False)
        if not _is_stored(run, *warm_up):
            jax.device_get(run(*warm_up))
    active = np.arange(n_lanes)
    fresh = True
    while True:
        if not fresh:
            done = out.converged[active] | out.stuck[active] | (out.it[active] >= max_steps)
            active = active[~done]
            if len(active) == 0:
                break
        size = min(sz for sz in sizes if sz >= len(active))
        rows = np.concatenate([active, np.full(size - len(active), active[0])])
        result, _ = call(rows, seg, fresh, False)
        n = len(active)
        for name in _Newton._fields[:-1]:  # the per-lane data itself never changes
            getattr(out, name)[active] = getattr(result, name)[:n]
        fresh = False
    rows = np.concatenate([np.arange(n_lanes), np.zeros(sizes[0] - n_lanes, np.int64)])
    _, gnorm = call(rows, np.int32(0), False, True)
    return PolishResult(out.x, out.f, gnorm[:n_lanes], out.converged)
