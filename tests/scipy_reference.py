"""Independent reference: the Chinchilla log-Huber objective in numpy, fitted with scipy.

Used by the tests (and the benchmarks) as the baseline our JAX fitter must match or beat:
scipy's L-BFGS-B with an analytic gradient, one start at a time, default options.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize


def objective_and_grad(theta, log_n, log_d, log_loss, delta=1e-3, weights=None):
    """Summed Huber loss of log residuals and its gradient in theta = (a, b, e, alpha, beta)."""
    a, b, e, alpha, beta = theta
    terms = np.stack([a - alpha * log_n, b - beta * log_d, np.full_like(log_n, e)])
    top = terms.max(axis=0)
    expo = np.exp(terms - top)
    total = expo.sum(axis=0)
    pred = top + np.log(total)
    soft = expo / total
    r = pred - log_loss
    w = np.ones_like(r) if weights is None else weights
    value = np.sum(w * np.where(np.abs(r) <= delta, 0.5 * r * r, delta * (np.abs(r) - 0.5 * delta)))
    dr = w * np.clip(r, -delta, delta)
    grad = np.array(
        [
            np.sum(dr * soft[0]),
            np.sum(dr * soft[1]),
            np.sum(dr * soft[2]),
            -np.sum(dr * soft[0] * log_n),
            -np.sum(dr * soft[1] * log_d),
        ]
    )
    return value, grad


def scipy_fit_starts(starts, N, D, loss, delta=1e-3):
    """L-BFGS-B from every start; returns (final thetas, objectives, success flags, nfev)."""
    log_n, log_d, log_loss = np.log(N), np.log(D), np.log(loss)
    thetas, values, ok, nfev = [], [], [], []
    for x0 in np.asarray(starts, np.float64):
        res = minimize(
            objective_and_grad,
            x0,
            args=(log_n, log_d, log_loss, delta),
            jac=True,
            method="L-BFGS-B",
        )
        thetas.append(res.x)
        values.append(res.fun)
        ok.append(bool(res.success))
        nfev.append(res.nfev)
    return np.array(thetas), np.array(values), np.array(ok), np.array(nfev)


# --------------------------------------------------------------------------------------------
# Fit options (fixed / tied parameters, loss kinds, asymmetry, weights), written out
# independently of scaling_jax.fitting.options.


def options_objective_and_grad(
    x, M, c, log_n, log_d, loss, *, kind="huber_log", delta=1e-3, asymmetric=1.0, weights=None
):
    """Objective and gradient in free coordinates x, with theta = M @ x + c (M: 5 x k).

    theta = (a, b, e, alpha, beta); r = log L_pred - log L; rho per `kind`:
    huber_log: Huber_delta(r); ls_log: r^2/2; ls_raw: (L_pred - L)^2/2; over-predictions
    (r > 0) are multiplied by `asymmetric`; the sum is weighted by `weights`.
    """
    theta = M @ x + c
    a, b, e, alpha, beta = theta
    terms = np.stack([a - alpha * log_n, b - beta * log_d, np.full_like(log_n, e)])
    top = terms.max(axis=0)
    expo = np.exp(terms - top)
    total = expo.sum(axis=0)
    pred = top + np.log(total)
    soft = expo / total
    r = pred - np.log(loss)
    w = np.ones_like(r) if weights is None else np.asarray(weights, float)
    k = np.where(r > 0, asymmetric, 1.0)
    if kind == "huber_log":
        rho = np.where(np.abs(r) <= delta, 0.5 * r * r, delta * (np.abs(r) - 0.5 * delta))
        drho = np.clip(r, -delta, delta)
    elif kind == "ls_log":
        rho, drho = 0.5 * r * r, r
    elif kind == "ls_raw":
        with np.errstate(over="ignore", invalid="ignore"):  # wild line-search trial points
            diff = np.exp(pred) - loss
            rho, drho = 0.5 * diff * diff, diff * np.exp(pred)
    else:
        raise ValueError(kind)
    with np.errstate(over="ignore", invalid="ignore"):
        value = np.sum(w * k * rho)
        dr = w * k * drho
    if not np.isfinite(value):
        return np.inf, np.zeros_like(x)
    g_theta = np.array(
        [
            np.sum(dr * soft[0]),
            np.sum(dr * soft[1]),
            np.sum(dr * soft[2]),
            -np.sum(dr * soft[0] * log_n),
            -np.sum(dr * soft[1] * log_d),
        ]
    )
    return value, M.T @ g_theta


def scipy_fit_options(starts, N, D, loss, M, c, **kwargs):
    """Best L-BFGS-B fit over `starts` (free coordinates) of `options_objective_and_grad`."""
    log_n, log_d = np.log(N), np.log(D)
    best = None
    for x0 in np.asarray(starts, np.float64):
        res = minimize(
            lambda x: options_objective_and_grad(
                x, M, c, log_n, log_d, np.asarray(loss, float), **kwargs
            ),
            x0,
            jac=True,
            method="L-BFGS-B",
            options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 5000},
        )
        if best is None or res.fun < best.fun:
            best = res
    return best.x, float(best.fun)
