"""Scalar root finding for the sizing solvers, elementwise and in lock-step.

Every solver here runs a *fixed* number of iterations, so vmapped lanes never wait on each
other and the loops are jit/vmap-safe. Derivatives never go through the iterations: roots are
differentiated by the implicit function theorem (`implicit_root`, or the final Newton step of
`bracketed_root`).

  * `bisect`: halve a bracket by a predicate (the workhorse of the optimizers, which bisect on
    the sign of a slope);
  * `bracketed_root`: root of a monotone g on [lo, hi] by bisection, NaN without a sign change;
  * `safeguarded_newton`: Newton steps that fall back to bisection when they leave the bracket;
  * `implicit_root`: give a root x*(theta) of r(x, theta) = 0 its IFT derivative.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

Array = Any

__all__ = ["bisect", "bracketed_root", "safeguarded_newton", "implicit_root"]


def bisect(
    go_right: Callable[[Array], Array], lo: Array, hi: Array, iters: int
) -> tuple[Array, Array]:
    """The bracket [lo, hi] after `iters` halvings: keep the right half where ``go_right(mid)``.

    ``go_right`` is elementwise (the solution lies right of mid); lanes are independent.
    """

    def step(_, bracket):
        a, b = bracket
        mid = 0.5 * (a + b)
        right = go_right(mid)
        return jnp.where(right, mid, a), jnp.where(right, b, mid)

    return jax.lax.fori_loop(0, iters, step, (lo, hi))


def bracketed_root(g: Callable[[Array], Array], lo: Array, hi: Array, iters: int = 100) -> Array:
    """Root of a monotone scalar g on [lo, hi] (vectorized bisection); NaN without a sign change.

    A final Newton step from the stop_gradient'ed bisection point makes derivatives exact to
    first order (implicit function theorem) without differentiating through the loop.
    """
    g_lo = g(lo)
    increasing = g_lo < 0
    a, b = bisect(lambda mid: (g(mid) < 0) == increasing, lo, hi, iters)
    r = jax.lax.stop_gradient(0.5 * (a + b))
    val, slope = jax.jvp(g, (r,), (jnp.ones_like(r),))
    r = r - val / slope
    ok = jnp.sign(g_lo) != jnp.sign(g(hi))
    return jnp.where(ok, r, jnp.nan)


def safeguarded_newton(
    fdf: Callable[[Array], tuple[Array, Array]], x0: Array, lo: Array, hi: Array, iters: int
) -> Array:
    """Root of an increasing f on [lo, hi] (f(lo) <= 0 <= f(hi)), elementwise and in lock-step.

    `fdf` returns (f, df/dx). Newton steps that leave the current bracket (or are not finite)
    fall back to bisection, and the bracket shrinks with every sign seen, so the fixed
    iteration count is safe.
    """

    def body(_, state):
        x, lo, hi = state
        f, df = fdf(x)
        lo = jnp.where(f < 0, x, lo)
        hi = jnp.where(f > 0, x, hi)
        step = x - f / df
        ok = (step >= lo) & (step <= hi) & jnp.isfinite(step)
        x = jnp.where(f == 0, x, jnp.where(ok, step, 0.5 * (lo + hi)))
        return x, lo, hi

    x, _, _ = jax.lax.fori_loop(0, iters, body, (x0, lo, hi))
    return x


def implicit_root(residual: Callable[..., Array], solve: Callable[..., Array]):
    """Wrap an elementwise root x*(theta) of residual(x, *theta) = 0 with IFT derivatives:
    dx* = −(∂r/∂theta · dtheta) / (∂r/∂x), so no solver iteration is differentiated."""

    @jax.custom_jvp
    def root(*theta):
        return solve(*theta)

    @root.defjvp
    def root_jvp(primals, tangents):
        x = root(*primals)
        _, r_x = jax.jvp(lambda x_: residual(x_, *primals), (x,), (jnp.ones_like(x),))
        _, r_theta = jax.jvp(lambda *th: residual(x, *th), primals, tangents)
        return x, -r_theta / r_x

    return root
