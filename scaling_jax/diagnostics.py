"""Diagnostics: structured notes on what may be wrong with a fit or a bootstrap.

A `Diagnostic` is data, not a log line: a stable ``code``, a ``severity`` (``"info"`` or
``"warning"``), a readable ``message`` and the ``numbers`` behind it, so a program can act on
it and JSON keeps it. `FitResult.diagnostics` and `BootstrapResult.diagnostics` hold them; the
summaries and the CLI print them.

Every check here is a pure function of numpy arrays (no JAX, no fitting) that returns a list of
notes, empty when all is well:

======================  ========================================================================
code                    meaning
======================  ========================================================================
few_distinct_values     a feature (model size N, tokens D) takes too few distinct values for
                        the law's parameter count (`check_coverage`)
near_grid_edge          the best fit lies at or beyond the edge of the start grid
                        (`check_grid_edge`)
at_bound                a parameter sits at a declared bound (`check_bounds`)
e_near_zero             the irreducible loss E collapsed towards 0 (`check_e_floor`), or its
                        bootstrap interval reaches near 0 (`check_e_interval`)
hessian_not_pd          the Hessian at the best fit is not positive definite: not a verified
                        local minimum (`check_conditioning`)
ill_conditioned         the Hessian's condition number in fit coordinates is large: the
                        objective is nearly flat along some direction (`check_conditioning`)
strong_correlation      parameter pairs with |correlation| > 0.99 (`check_correlations`)
extrapolation           a budget's N_opt or D_opt lies outside the fitted data
                        (`check_extrapolation`)
resamples_escalated     resamples that needed escalation to converge
                        (`check_resample_convergence`)
resamples_unconverged   resamples still not at a verified minimum (`check_resample_convergence`)
bimodal                 a parameter's bootstrap distribution has two well-separated modes
                        (`check_bimodal`)
few_in_best_basin       few starts reached the best basin (`check_basin_count`)
non_identifiable        two distinct minima, far apart in parameters, have objectives within
                        1e-6 relative (`check_distinct_minima`)
======================  ========================================================================

Correlations of log-amplitude / exponent pairs such as (a, alpha) of ``A / N**alpha`` are near 1
on any data in log coordinates (the amplitude is measured at N = 1, far from the data), so
`check_correlations` first moves each such amplitude to its *pivot*, the N at which it is
uncorrelated with its exponent, and reports the remaining, informative correlations.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "Diagnostic",
    "SEVERITIES",
    "format_diagnostics",
    "diagnostics_to_json",
    "diagnostics_from_json",
    "check_coverage",
    "check_grid_edge",
    "check_bounds",
    "check_e_floor",
    "check_e_interval",
    "check_conditioning",
    "check_correlations",
    "pivot_covariance",
    "check_extrapolation",
    "check_resample_convergence",
    "check_bimodal",
    "count_modes",
    "check_basin_count",
    "check_distinct_minima",
    "AMPLITUDE_EXPONENT_PAIRS",
]

SEVERITIES = ("info", "warning")

AMPLITUDE_EXPONENT_PAIRS = (("log_A", "alpha"), ("log_B", "beta"), ("a", "alpha"), ("b", "beta"))
"""(log-amplitude, exponent) fit-coordinate pairs moved to their pivot before correlating."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (str, bool)) or value is None:
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, (np.ndarray, Sequence)):
        return [_jsonable(v) for v in np.asarray(value, dtype=object).tolist()]
    raise TypeError(f"diagnostic number of type {type(value).__name__} is not JSON-able")


@dataclass(frozen=True)
class Diagnostic:
    """One structured note.

    Attributes:
      code: stable identifier (see the module table), e.g. ``"ill_conditioned"``.
      severity: ``"info"`` (worth knowing) or ``"warning"`` (a result may be wrong or
        misleading).
      message: one readable sentence with the key figures.
      numbers: the figures behind the message (JSON-able: numbers, strings, lists, dicts).
    """

    code: str
    severity: str
    message: str
    numbers: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity={self.severity!r}: use one of {SEVERITIES}")
        object.__setattr__(self, "numbers", _jsonable(dict(self.numbers)))

    def __str__(self) -> str:
        return f"{self.severity.upper()} [{self.code}] {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "numbers": dict(self.numbers),
        }

    @classmethod
    def from_dict(cls, blob: Mapping[str, Any]) -> Diagnostic:
        return cls(
            code=str(blob["code"]),
            severity=str(blob["severity"]),
            message=str(blob["message"]),
            numbers=dict(blob.get("numbers", {})),
        )


def format_diagnostics(notes: Iterable[Diagnostic], indent: str = "  ") -> list[str]:
    """Summary lines, warnings first."""
    ordered = sorted(notes, key=lambda d: SEVERITIES.index(d.severity), reverse=True)
    return [f"{indent}{d}" for d in ordered]


def diagnostics_to_json(notes: Iterable[Diagnostic]) -> list[dict[str, Any]]:
    return [d.to_dict() for d in notes]


def diagnostics_from_json(blobs: Iterable[Mapping[str, Any]] | None) -> tuple[Diagnostic, ...]:
    return tuple(Diagnostic.from_dict(b) for b in (blobs or ()))


# --------------------------------------------------------------------------------------------
# Data and parameters


def check_coverage(
    features: Mapping[str, Any], n_params: int, per_param: float = 2.0
) -> list[Diagnostic]:
    """Flag features with fewer than ``per_param * n_params`` distinct values.

    A law's dependence on one feature (e.g. E + A / N**alpha on N) is pinned down only by how
    many distinct values of that feature the runs cover, whatever the number of runs: 47 runs at
    6 model sizes constrain A and alpha like 6 points. Two distinct values per fitted parameter
    is the rule used here (10 for Chinchilla's 5).
    """
    need = int(math.ceil(per_param * n_params))
    out = []
    for name, values in features.items():
        v = np.asarray(values, np.float64)
        distinct = int(np.unique(v[np.isfinite(v)]).size)
        if distinct < need:
            out.append(
                Diagnostic(
                    "few_distinct_values",
                    "warning",
                    f"the runs cover only {distinct} distinct values of {name} for a law with "
                    f"{n_params} parameters (fewer than {need}); parameters tied to {name} are "
                    "poorly constrained whatever the number of runs",
                    {"feature": name, "distinct": distinct, "n_params": n_params, "needed": need},
                )
            )
    return out


def check_grid_edge(
    theta: Any, grid: Any, names: Sequence[str], frac: float = 0.02
) -> list[Diagnostic]:
    """Flag coordinates of `theta` beyond, or within `frac` of the span of, the grid's box.

    A best fit at the edge of the start grid suggests the grid did not bracket the optimum (the
    search never started beyond it) or that the optimum runs off to a degenerate limit.
    """
    theta = np.asarray(theta, np.float64)
    grid = np.asarray(grid, np.float64).reshape(-1, theta.size)
    lo, hi = grid.min(axis=0), grid.max(axis=0)
    span = hi - lo
    margin = frac * np.where(span > 0, span, 1.0)
    hits = []
    for i, name in enumerate(names):
        if span[i] == 0:
            continue  # a coordinate the grid never varies has no edge to speak of
        if theta[i] <= lo[i] + margin[i] or theta[i] >= hi[i] - margin[i]:
            side = "low" if theta[i] <= lo[i] + margin[i] else "high"
            outside = theta[i] < lo[i] or theta[i] > hi[i]
            hits.append((name, float(theta[i]), float(lo[i]), float(hi[i]), side, outside))
    if not hits:
        return []
    text = ", ".join(
        f"{n} = {t:.4g} ({'beyond' if o else 'at'} the {s} edge of [{a:g}, {b:g}])"
        for n, t, a, b, s, o in hits
    )
    return [
        Diagnostic(
            "near_grid_edge",
            "warning",
            f"the best fit lies at the edge of the start grid: {text}; widen the grid or check "
            "for a degenerate fit",
            {
                "parameters": [h[0] for h in hits],
                "values": [h[1] for h in hits],
                "grid_low": [h[2] for h in hits],
                "grid_high": [h[3] for h in hits],
            },
        )
    ]


def check_bounds(
    theta: Any,
    names: Sequence[str],
    lower: Any = None,
    upper: Any = None,
    rtol: float = 1e-6,
) -> list[Diagnostic]:
    """Flag parameters within ``rtol * (1 + |bound|)`` of a declared bound (None: no bound)."""
    theta = np.asarray(theta, np.float64)
    k = theta.size
    lower = np.full(k, -np.inf) if lower is None else np.asarray(lower, np.float64)
    upper = np.full(k, np.inf) if upper is None else np.asarray(upper, np.float64)
    hits = []
    for i, name in enumerate(names):
        for bound, side in ((lower[i], "lower"), (upper[i], "upper")):
            if np.isfinite(bound) and abs(theta[i] - bound) <= rtol * (1.0 + abs(bound)):
                hits.append((name, float(theta[i]), side, float(bound)))
    if not hits:
        return []
    return [
        Diagnostic(
            "at_bound",
            "warning",
            "parameters at a bound: "
            + ", ".join(f"{n} = {t:.6g} (its {s} bound {b:g})" for n, t, s, b in hits)
            + "; the unconstrained optimum lies beyond it",
            {
                "parameters": [h[0] for h in hits],
                "values": [h[1] for h in hits],
                "bounds": [h[3] for h in hits],
            },
        )
    ]


def check_e_floor(e_value: float, min_loss: float, frac: float = 0.01) -> list[Diagnostic]:
    """Flag an irreducible loss E below `frac` of the smallest observed loss (E -> 0 bound)."""
    e_value, min_loss = float(e_value), float(min_loss)
    if not math.isfinite(e_value) or e_value >= frac * min_loss:
        return []
    return [
        Diagnostic(
            "e_near_zero",
            "warning",
            f"the irreducible loss E = {e_value:.3g} is below {frac:g} x the smallest observed "
            f"loss ({min_loss:.4g}): E is at its bound 0 and the fit is effectively two pure power "
            "laws; predictions far beyond the data are unreliable",
            {"E": e_value, "min_loss": min_loss, "fraction": frac},
        )
    ]


def check_e_interval(
    low: float, high: float, estimate: float, level: float = 0.95, frac: float = 0.1
) -> list[Diagnostic]:
    """Flag a bootstrap interval of E whose lower end is below `frac` x the estimate."""
    low, high, estimate = float(low), float(high), float(estimate)
    if not (math.isfinite(low) and low < frac * estimate):
        return []
    return [
        Diagnostic(
            "e_near_zero",
            "warning",
            f"the {level:.0%} interval of E, [{low:.3g}, {high:.3g}], reaches near zero "
            f"(below {frac:g} x the estimate {estimate:.4g}): the data do not pin down the "
            "irreducible loss, and E trades off against the other constants",
            {"low": low, "high": high, "estimate": estimate, "level": level, "fraction": frac},
        )
    ]


# --------------------------------------------------------------------------------------------
# Curvature and correlations


def pivot_covariance(
    cov: Any, names: Sequence[str], pairs: Sequence[tuple[str, str]] = AMPLITUDE_EXPONENT_PAIRS
) -> tuple[np.ndarray, dict[str, float]]:
    """Covariance with each (log-amplitude, exponent) pair's amplitude moved to its pivot.

    For ``log(A / x**alpha) = a - alpha * log x``, the amplitude at x0 is
    a' = a - alpha * log x0; choosing log x0 = cov(a, alpha) / var(alpha) makes a' and alpha
    uncorrelated. Returns the transformed covariance and {amplitude name: log x0}.
    """
    cov = np.asarray(cov, np.float64)
    J = np.eye(len(names))
    pivots: dict[str, float] = {}
    for amp, expo in pairs:
        if amp in names and expo in names:
            i, j = names.index(amp), names.index(expo)
            if cov[j, j] > 0 and np.isfinite(cov[i, j]):
                log_x0 = cov[i, j] / cov[j, j]
                J[i, j] = -log_x0
                pivots[amp] = float(log_x0)
    return J @ cov @ J.T, pivots


def check_correlations(
    cov: Any,
    names: Sequence[str],
    threshold: float = 0.99,
    source: str = "inverse Hessian",
    pairs: Sequence[tuple[str, str]] = AMPLITUDE_EXPONENT_PAIRS,
) -> list[Diagnostic]:
    """Flag parameter pairs whose |correlation| exceeds `threshold`.

    `cov` is a covariance in fit coordinates (the inverse Hessian, or the bootstrap draws'
    covariance). Amplitudes are first moved to their pivots (`pivot_covariance`), so the
    structural correlation of a log-amplitude with its own exponent is not reported.
    """
    names = list(names)
    c, pivots = pivot_covariance(cov, names, pairs)
    sd = np.sqrt(np.clip(np.diag(c), 0.0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = c / np.outer(sd, sd)
    found = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            r = corr[i, j]
            if np.isfinite(r) and abs(r) > threshold:
                found.append((names[i], names[j], float(r)))
    if not found:
        return []
    label = {amp: f"{amp}@pivot" for amp in pivots}
    text = ", ".join(f"({label.get(a, a)}, {label.get(b, b)}) {r:+.4f}" for a, b, r in found)
    return [
        Diagnostic(
            "strong_correlation",
            "warning",
            f"strongly correlated parameters ({source}): {text}; the data constrain only a "
            "combination of them",
            {
                "pairs": [[a, b] for a, b, _ in found],
                "correlations": [r for *_, r in found],
                "threshold": threshold,
                "source": source,
                "pivots_log": pivots,
            },
        )
    ]


def check_conditioning(
    hessian: Any, names: Sequence[str], cond_max: float = 1e8, corr_threshold: float = 0.99
) -> list[Diagnostic]:
    """Positive definiteness, condition number and correlations of the Hessian at a fit.

    Args:
      hessian: (k, k) Hessian of the summed objective in fit coordinates.
      names: fit-coordinate names.
      cond_max: condition numbers above this are flagged (``ill_conditioned``). Clean
        Chinchilla-like data give ~1e7 in log coordinates; Sardana et al.'s 47 runs, with one
        nearly flat E-A-alpha direction, give ~7e8.
      corr_threshold: |correlation| of the inverse Hessian above this is flagged.
    """
    H = np.asarray(hessian, np.float64)
    H = 0.5 * (H + H.T)
    if not np.all(np.isfinite(H)):
        return [
            Diagnostic(
                "hessian_not_pd",
                "warning",
                "the Hessian at the best fit is not finite",
                {"finite": False},
            )
        ]
    w, v = np.linalg.eigh(H)
    out = []
    if w[0] <= 0:
        out.append(
            Diagnostic(
                "hessian_not_pd",
                "warning",
                f"the Hessian at the best fit is not positive definite (smallest eigenvalue "
                f"{w[0]:.3g}): this is not a verified local minimum",
                {"eigenvalues": w.tolist()},
            )
        )
        return out
    cond = float(w[-1] / w[0])
    flat = v[:, 0] * np.sign(v[np.argmax(np.abs(v[:, 0])), 0])
    if cond > cond_max:
        ranked = sorted(zip(names, flat, strict=True), key=lambda t: -abs(t[1]))
        loads = ", ".join(f"{n} {x:+.3f}" for n, x in ranked if abs(x) >= 0.005)
        out.append(
            Diagnostic(
                "ill_conditioned",
                "warning",
                f"the Hessian in fit coordinates has condition number {cond:.2e} (> {cond_max:g}):"
                f" the objective is nearly flat along ({loads}); parameters moving together "
                "along that direction are poorly determined",
                {
                    "condition_number": cond,
                    "threshold": cond_max,
                    "eigenvalues": w.tolist(),
                    "flat_direction": dict(zip(names, flat.tolist(), strict=True)),
                },
            )
        )
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        try:
            inv_h = np.linalg.inv(H)
        except np.linalg.LinAlgError:  # numerically singular although eigh saw w > 0
            inv_h = (v / w) @ v.T
        out += check_correlations(inv_h, names, corr_threshold, "inverse Hessian")
    return out


# --------------------------------------------------------------------------------------------
# Extrapolation and resamples


def check_extrapolation(
    budgets: Any,
    n_opt: Any,
    d_opt: Any,
    n_range: tuple[float, float],
    d_range: tuple[float, float],
) -> list[Diagnostic]:
    """Flag budgets whose compute-optimal N_opt or D_opt lies outside the fitted runs' range.

    Reports, per budget, how many decades (log10) beyond the nearest end of the data's N and D
    range the optimum lies.
    """
    budgets = np.atleast_1d(np.asarray(budgets, np.float64))
    n_opt = np.atleast_1d(np.asarray(n_opt, np.float64))
    d_opt = np.atleast_1d(np.asarray(d_opt, np.float64))

    def beyond(x: float, lo: float, hi: float) -> float:
        if x > hi:
            return math.log10(x / hi)
        if x < lo:
            return -math.log10(lo / x)
        return 0.0

    rows = []
    for c, n, d in zip(budgets, n_opt, d_opt, strict=True):
        bn, bd = beyond(n, *n_range), beyond(d, *d_range)
        if bn or bd:
            rows.append((float(c), float(n), float(d), bn, bd))
    if not rows:
        return []

    def side(x: float) -> str:
        return f"{abs(x):.2f} decades {'above' if x > 0 else 'below'}"

    parts = []
    for c, n, d, bn, bd in rows:
        what = []
        if bn:
            what.append(f"N_opt {n:.3g} is {side(bn)} the fitted N")
        if bd:
            what.append(f"D_opt {d:.3g} is {side(bd)} the fitted D")
        parts.append(f"C = {c:.3g}: " + " and ".join(what))
    worst = max(max(abs(r[3]), abs(r[4])) for r in rows)
    return [
        Diagnostic(
            "extrapolation",
            "warning" if worst >= 0.5 else "info",
            "compute-optimal sizes outside the fitted data (extrapolation): " + "; ".join(parts),
            {
                "budgets": [r[0] for r in rows],
                "N_opt": [r[1] for r in rows],
                "D_opt": [r[2] for r in rows],
                "N_decades_beyond": [r[3] for r in rows],
                "D_decades_beyond": [r[4] for r in rows],
                "N_range": list(n_range),
                "D_range": list(d_range),
            },
        )
    ]


def check_resample_convergence(
    n_resamples: int, n_escalated: int, n_unconverged: int, max_fraction: float = 0.005
) -> list[Diagnostic]:
    """Escalated resamples (info) and resamples left unconverged (warning above `max_fraction`)."""
    out = []
    if n_escalated:
        out.append(
            Diagnostic(
                "resamples_escalated",
                "info",
                f"{n_escalated} of {n_resamples} resamples did not converge from the warm start "
                "and were escalated (more trust-region Newton steps, then multi-start)",
                {"n_escalated": n_escalated, "n_resamples": n_resamples},
            )
        )
    if n_unconverged:
        frac = n_unconverged / max(n_resamples, 1)
        out.append(
            Diagnostic(
                "resamples_unconverged",
                "warning" if frac > max_fraction else "info",
                f"{n_unconverged} of {n_resamples} resamples ({frac:.2%}) did not reach a "
                "verified local minimum"
                + (
                    f" (more than {max_fraction:.1%}): intervals and standard errors may be biased"
                    if frac > max_fraction
                    else ""
                ),
                {
                    "n_unconverged": n_unconverged,
                    "n_resamples": n_resamples,
                    "fraction": frac,
                    "max_fraction": max_fraction,
                },
            )
        )
    return out


def count_modes(
    samples: Any, min_mass: float = 0.1, max_dip: float = 0.5, grid_size: int = 512
) -> tuple[int, dict[str, float]]:
    """Number of well-separated modes of a 1-D sample (1 or 2) by a Gaussian kernel density.

    The bandwidth is half of Silverman's rule (robust scale), so two basins show as two peaks.
    Two modes count when the lowest density between the two highest peaks is below `max_dip`
    x the lower peak and each side of that valley holds at least `min_mass` of the sample.
    Returns (modes, details) where details has the split point and the two masses.
    """
    x = np.asarray(samples, np.float64)
    x = x[np.isfinite(x)]
    n = x.size
    if n < 20:
        return 1, {}
    q25, q75 = np.percentile(x, [25, 75])
    scale = min(float(np.std(x)), (q75 - q25) / 1.349)
    if not scale > 0:
        return 1, {}
    h = 0.5 * 0.9 * scale * n ** (-0.2)
    grid = np.linspace(x.min() - 3 * h, x.max() + 3 * h, grid_size)
    dens = np.zeros(grid_size)
    for chunk in np.array_split(x, max(1, n // 2048)):
        dens += np.exp(-0.5 * ((grid[:, None] - chunk[None]) / h) ** 2).sum(axis=1)
    peaks = np.flatnonzero((dens[1:-1] > dens[:-2]) & (dens[1:-1] >= dens[2:])) + 1
    if peaks.size < 2:
        return 1, {}
    top = np.sort(peaks[np.argsort(dens[peaks])[-2:]])
    valley = top[0] + int(np.argmin(dens[top[0] : top[1] + 1]))
    split = float(grid[valley])
    low_mass = float(np.mean(x < split))
    details = {
        "split": split,
        "mass_low": low_mass,
        "mass_high": 1.0 - low_mass,
        "dip_ratio": float(dens[valley] / min(dens[top[0]], dens[top[1]])),
        "mode_low": float(grid[top[0]]),
        "mode_high": float(grid[top[1]]),
    }
    two = details["dip_ratio"] < max_dip and min(low_mass, 1.0 - low_mass) >= min_mass
    return (2 if two else 1), details


def check_bimodal(samples: Any, names: Sequence[str], **kwargs: Any) -> list[Diagnostic]:
    """Flag parameters (columns of `samples`, (R, k)) whose bootstrap draws have two modes.

    Two modes mean the resamples fall into two basins of the objective: a percentile interval
    then spans both and the standard error describes neither.
    """
    s = np.asarray(samples, np.float64)
    found = {}
    for i, name in enumerate(names):
        modes, det = count_modes(s[:, i], **kwargs)
        if modes == 2:
            found[name] = det
    if not found:
        return []
    text = ", ".join(
        f"{k} (modes near {d['mode_low']:.4g} and {d['mode_high']:.4g}, "
        f"{d['mass_low']:.0%}/{d['mass_high']:.0%} of resamples)"
        for k, d in found.items()
    )
    return [
        Diagnostic(
            "bimodal",
            "warning",
            f"bimodal bootstrap distribution (two basins): {text}; report the basins "
            "separately rather than one interval",
            {"parameters": list(found), "details": found},
        )
    ]


# --------------------------------------------------------------------------------------------
# Multi-start basins


def check_basin_count(
    objective: Any,
    best: int,
    n_finished: int,
    basin_rtol: float = 1e-6,
    min_fraction: float = 0.005,
    basin_atol: float = 1e-12,
) -> list[Diagnostic]:
    """Flag a best basin reached by few starts.

    Args:
      objective: (S,) final objectives of the starts (NaN/inf for failed ones).
      best: index of the best start.
      n_finished: starts run to convergence (fast mode: the survivors).
      basin_rtol, basin_atol: the best basin is objective <= best + rtol |best| + atol.
      min_fraction: fewer than ``max(2, ceil(min_fraction * n_finished))`` starts in the best
        basin is "few".
    """
    f = np.asarray(objective, np.float64)
    f_best = f[best]
    n_basin = int(np.sum(np.isfinite(f) & (f <= f_best + basin_rtol * abs(f_best) + basin_atol)))
    need = max(2, int(math.ceil(min_fraction * n_finished)))
    if n_basin >= need:
        return []
    return [
        Diagnostic(
            "few_in_best_basin",
            "warning",
            f"only {n_basin} of {n_finished} finished starts reached the best basin "
            f"(fewer than {need}); the optimum may not be the global one (try more starts)",
            {"n_best_basin": n_basin, "n_finished": n_finished, "needed": need},
        )
    ]


def check_distinct_minima(
    objective: Any,
    theta: Any,
    converged: Any,
    basin_rtol: float = 1e-6,
    far: float = 1e-2,
) -> list[Diagnostic]:
    """Flag two distinct converged minima whose objectives tie within `basin_rtol` (relative).

    Only converged points count (e.g. the Newton-finished best starts): along a flat valley,
    loosely stopped L-BFGS points spread far without being distinct minima.

    Args:
      objective: (K,) objectives of the candidate points.
      theta: (K, k) the points, fit coordinates.
      converged: (K,) bool, whether each point is a converged local minimum.
      far: two points are distinct when some coordinate differs by more than
        ``far * (1 + |theta_best|)``.
    """
    f = np.asarray(objective, np.float64)
    th = np.asarray(theta, np.float64)
    ok = np.isfinite(f) & np.asarray(converged, bool)
    if not ok.any():
        return []
    best = int(np.flatnonzero(ok)[np.argmin(f[ok])])
    f_best = f[best]
    diff = np.max(np.abs(th - th[best]) / (1.0 + np.abs(th[best])), axis=1)
    tied = ok & (f <= f_best + basin_rtol * abs(f_best)) & (diff > far)
    if not tied.any():
        return []
    j = int(np.flatnonzero(tied)[np.argmin(f[tied])])
    gap = float((f[j] - f_best) / abs(f_best)) if f_best else 0.0
    return [
        Diagnostic(
            "non_identifiable",
            "warning",
            f"two distinct minima have objectives within {basin_rtol:g} relative ({gap:.1e}) "
            f"but lie far apart in parameters (largest relative difference {diff[j]:.2g}): "
            "the data do not identify the parameters",
            {
                "objective_gap_rel": gap,
                "theta_best": th[best].tolist(),
                "theta_other": th[j].tolist(),
                "n_tied": int(tied.sum()),
            },
        )
    ]
