"""Bootstrap confidence intervals: percentile and BCa (Efron 1987)."""

from __future__ import annotations

from typing import Any

import numpy as np


def _norm_ppf(p: np.ndarray) -> np.ndarray:
    from scipy.special import ndtri  # noqa: PLC0415 -- scipy only needed for BCa

    return ndtri(p)


def _norm_cdf(x: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr  # noqa: PLC0415

    return ndtr(x)


def _check_level(level: float) -> float:
    level = float(level)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    return level


def percentile_interval(samples: Any, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap percentile interval over axis 0 of `samples` (NaNs ignored)."""
    alpha = 1.0 - _check_level(level)
    s = np.asarray(samples, np.float64)
    lo, hi = np.nanquantile(s, [alpha / 2, 1 - alpha / 2], axis=0)
    return lo, hi


def bca_interval(
    samples: Any, estimate: Any, jackknife: Any, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Bias-corrected and accelerated interval (Efron 1987) over axis 0 of `samples`.

    z0 = Phi^-1(fraction of samples below the estimate, ties counted half); the acceleration
    a = sum(d^3) / (6 (sum d^2)^1.5) with d = mean(jackknife) - jackknife (leave-one-out
    estimates on axis 0); the interval is the (Phi(z0 + (z0+z)/(1-a(z0+z)))) quantiles.
    """
    alpha = 1.0 - _check_level(level)
    s = np.asarray(samples, np.float64)
    est = np.asarray(estimate, np.float64)
    jack = np.asarray(jackknife, np.float64)
    n = np.sum(np.isfinite(s), axis=0)
    below = (np.sum(s < est, axis=0) + 0.5 * np.sum(s == est, axis=0)) / np.maximum(n, 1)
    z0 = _norm_ppf(np.clip(below, 1.0 / (n + 1), n / (n + 1)))
    d = np.nanmean(jack, axis=0) - jack
    den = 6.0 * np.power(np.nansum(d * d, axis=0), 1.5)
    acc = np.where(den > 0, np.nansum(d**3, axis=0) / np.where(den > 0, den, 1.0), 0.0)
    sorted_s = np.sort(s, axis=0)  # NaNs sort last; n counts the finite ones

    def quantile(q: np.ndarray) -> np.ndarray:
        # Per-element quantile with its own probability q (vectorized over trailing dims).
        pos = np.clip(q * (n - 1), 0, np.maximum(n - 1, 0))
        lo_i = np.floor(pos).astype(int)
        hi_i = np.minimum(lo_i + 1, np.maximum(n - 1, 0))
        frac = pos - lo_i
        at = lambda i: np.take_along_axis(sorted_s, np.asarray(i)[None], axis=0)[0]  # noqa: E731
        return at(lo_i) * (1 - frac) + at(hi_i) * frac

    bounds = [
        quantile(_norm_cdf(z0 + (z0 + z) / (1.0 - acc * (z0 + z))))
        for z in _norm_ppf(np.array([alpha / 2, 1 - alpha / 2]))
    ]
    return bounds[0], bounds[1]
