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
