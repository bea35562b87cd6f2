"""Chinchilla's Approaches 1 and 2 to the compute-optimal frontier (Hoffmann et al. 2022, §3).

- Approach 2, IsoFLOP profiles (`isoflop_fit`): runs grouped by training budget C; per budget a
  weighted least-squares parabola of loss against log N gives N_opt(C) at its vertex, with a
  delta-method standard error; then N_opt = k·C^a and D_opt = k'·C^b by log-log least squares.
- Approach 1, training-curve envelope (`envelope_fit`): per-run curves of loss against FLOPs;
  on a log-spaced FLOP grid the lowest loss over runs picks N_opt(C); the same power laws are
  fitted to those (C, N, D) points.

Inputs are arrays, a mapping of columns, a pandas DataFrame or a CSV path. Units: N parameters,
D tokens, C FLOPs, loss nats/token. D defaults to C/(6N).
"""

from __future__ import annotations

import csv
import functools
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scaling_jax._io import read_json, write_json_atomic
from scaling_jax._precision import float64_call

# The synthetic generators live in `scaling_jax.synthetic`; importable from here as before.
from scaling_jax.synthetic import synthetic_isoflop_runs, synthetic_training_curves

Array = Any

__all__ = [
    "PowerLawFit",
    "IsoFlopResult",
    "EnvelopeResult",
    "fit_power_law",
    "isoflop_fit",
    "envelope_fit",
    "synthetic_isoflop_runs",
    "synthetic_training_curves",
]


# --------------------------------------------------------------------------------------------
# Inputs.


def _read_columns(source: Any, names: dict[str, str | None]) -> dict[str, np.ndarray | None]:
    """Float64 columns `names` (role -> column name) from a CSV path, DataFrame or mapping."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"runs file {path} does not exist")
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        if not rows:
            raise ValueError(f"runs file {path} has no data rows")
        table: Mapping[str, Any] = {k: [r[k] for r in rows] for k in rows[0]}
    elif isinstance(source, Mapping):
        table = source
    elif hasattr(source, "columns"):  # pandas DataFrame, without importing pandas
        table = {str(c): source[c].to_numpy() for c in source.columns}
    else:
        raise ValueError(f"runs must be a CSV path, a DataFrame or a mapping, got {type(source)}")
    out: dict[str, np.ndarray | None] = {}
    for role, col in names.items():
        if col is None:
            out[role] = None
            continue
        if col not in table:
            raise ValueError(f"{role}: column {col!r} not found; columns are {sorted(table)}")
        try:
            out[role] = np.asarray(table[col], dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise ValueError(f"{role}: column {col!r} is not numeric") from None
    return out


def _check_column(name: str, values: np.ndarray, positive: bool = True) -> None:
    bad = ~np.isfinite(values) | ((values <= 0) if positive else False)
    if np.any(bad):
        i = int(np.argmax(bad))
        need = "finite and positive" if positive else "finite"
        raise ValueError(f"{name} must be {need}; row {i} holds {values[i]!r}")


# --------------------------------------------------------------------------------------------
# Power laws.


@dataclass
class PowerLawFit:
    """y = coef·C**exponent fitted by least squares on log y = log coef + exponent·log C.

    Standard errors are the OLS ones (residual variance); `log_coef_stderr` is that of log coef.
    """

    coef: float
    exponent: float
    exponent_stderr: float
    log_coef_stderr: float
    n_points: int

    def __call__(self, compute: Array) -> Array:
        return self.coef * jnp.power(jnp.asarray(compute, dtype=float), self.exponent)


@float64_call
def fit_power_law(compute: Array, y: Array, weights: Array | None = None) -> PowerLawFit:
    """Fit y = coef·C**exponent (log-log weighted least squares); needs ≥ 2 points."""
    lc = np.log(np.asarray(compute, dtype=float))
    ly = np.log(np.asarray(y, dtype=float))
    w = np.ones_like(lc) if weights is None else np.asarray(weights, dtype=float)
    if lc.size < 2:
        raise ValueError(f"compute: need at least 2 budgets for a power law, got {lc.size}")
    X = np.stack([np.ones_like(lc), lc], axis=1)
    XtW = X.T * w
    cov_unscaled = np.linalg.inv(XtW @ X)
    beta = cov_unscaled @ (XtW @ ly)
    resid = ly - X @ beta
    dof = lc.size - 2
    sigma2 = float(np.sum(w * resid**2) / dof) if dof > 0 else float("nan")
    se = np.sqrt(np.diag(cov_unscaled) * sigma2)
    return PowerLawFit(float(np.exp(beta[0])), float(beta[1]), float(se[1]), float(se[0]), lc.size)


# --------------------------------------------------------------------------------------------
# Results.


class _Result:
    """Shared `to_dict` / `to_json` / `summary` for the result dataclasses."""

    def to_dict(self) -> dict[str, Any]:
        def plain(v: Any) -> Any:
            if isinstance(v, dict):
                return {k: plain(x) for k, x in v.items()}
            if isinstance(v, (np.ndarray, jax.Array)):
                return np.asarray(v).tolist()
            if isinstance(v, (np.floating, np.integer)):
                return v.item()
            return v

        return {"approach": self.approach, **plain(asdict(self))}  # type: ignore[attr-defined]

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write `to_dict` as JSON to `path`, atomically (temporary file, then rename)."""
        write_json_atomic(path, self.to_dict())

    @classmethod
    def from_dict(cls, blob: Mapping[str, Any]) -> Any:
        """Inverse of `to_dict`: arrays come back as NumPy arrays, fits as `PowerLawFit`."""
        blob = dict(blob)
        approach = blob.pop("approach", cls.approach)
        if approach != cls.approach:
            raise ValueError(
                f"approach: this is an approach-{approach} result, not {cls.__name__} "
                f"(approach {cls.approach})"
            )
        kwargs: dict[str, Any] = {}
        for f in fields(cls):  # type: ignore[arg-type]
            v = blob.get(f.name)
            if f.name in ("n_fit", "d_fit"):
                kwargs[f.name] = PowerLawFit(**v)
            elif f.name == "points":
                kwargs[f.name] = {k: np.asarray(x) for k, x in (v or {}).items()}
            elif f.name == "used":
                kwargs[f.name] = np.asarray(v, dtype=bool)
            elif f.name == "dropped":
                kwargs[f.name] = [dict(d) for d in (v or [])]
            elif f.name in ("n_runs_unbinned", "degree"):
                kwargs[f.name] = int(v if v is not None else f.default)
            elif f.name == "n_runs":
                kwargs[f.name] = np.asarray(v if v is not None else [], dtype=np.int64)
            else:
                kwargs[f.name] = np.asarray(v, dtype=np.float64)
        return cls(**kwargs)

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> Any:
        """Read a result written by `to_json`."""
        return cls.from_dict(read_json(path))

    def summary(self) -> str:
        n, d = self.n_fit, self.d_fit  # type: ignore[attr-defined]
        shape = {2: "", 3: ", cubic profiles"}.get(getattr(self, "degree", 2), "")
        lines = [
            f"{self.title} on {n.n_points} budgets{shape}",  # type: ignore[attr-defined]
            f"  N_opt = {n.coef:.4g} · C^a_N parameters, a_N = {n.exponent:.4f} "
            f"± {n.exponent_stderr:.4f} (s.e.)",
            f"  D_opt = {d.coef:.4g} · C^b_D tokens, b_D = {d.exponent:.4f} "
            f"± {d.exponent_stderr:.4f} (s.e.)",
        ]
        return "\n".join(lines)


@dataclass
class IsoFlopResult(_Result):
    """Approach 2 result: per-budget parabola vertices and the fitted frontier.

    Per budget (arrays of length n_budgets): `compute` (FLOPs), `n_opt` (parameters),
    `log_n_opt_stderr` (delta-method s.e. of log N_opt), `d_opt` (tokens), `loss_opt` (nats),
    `coefs` (profile c0 + c1·u + c2·u² [+ c3·u³] in u = log N − `center`), `center`,
    `n_runs` (runs per budget). `points` keeps the runs used ({"N", "D", "loss", "group"}) for
    plotting. `dropped` lists budgets left out for too few runs ({"compute", "runs"}),
    `n_runs_unbinned` the runs farther than the tolerance from every budget; `degree` is 2
    (parabola) or 3 (cubic).
    """

    compute: np.ndarray
    n_opt: np.ndarray
    log_n_opt_stderr: np.ndarray
    d_opt: np.ndarray
    loss_opt: np.ndarray
    coefs: np.ndarray
    center: np.ndarray
    n_fit: PowerLawFit
    d_fit: PowerLawFit
    points: dict[str, np.ndarray] = field(default_factory=dict)
    n_runs: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    dropped: list[dict[str, float]] = field(default_factory=list)
    n_runs_unbinned: int = 0
    degree: int = 2

    approach = 2
    title = "IsoFLOP profiles (Chinchilla approach 2)"


@dataclass
class EnvelopeResult(_Result):
    """Approach 1 result: the lower envelope of training curves on a FLOP grid and its fit.

    `compute` (FLOPs grid), `n_opt` (parameters of the best run there), `d_opt` (tokens it has
    seen, C/(6N)), `loss_opt` (envelope loss, nats), `used` (mask of grid points in the fit).
    """

    compute: np.ndarray
    n_opt: np.ndarray
    d_opt: np.ndarray
    loss_opt: np.ndarray
    used: np.ndarray
    n_fit: PowerLawFit
    d_fit: PowerLawFit

    approach = 1
    title = "Training-curve envelope (Chinchilla approach 1)"


# --------------------------------------------------------------------------------------------
# Approach 2.


def _group_budgets(compute: np.ndarray, rtol: float) -> np.ndarray:
    """Group ids: sorted budgets start a new group when they exceed the last by > rtol."""
    order = np.argsort(compute)
    lc = np.log(compute[order])
    new = np.concatenate([[True], np.diff(lc) > np.log1p(rtol)])
    ids = np.empty(compute.size, dtype=int)
    ids[order] = np.cumsum(new) - 1
    return ids


def _bin_budgets(
    compute: np.ndarray, budgets: np.ndarray, tolerance: float
) -> tuple[np.ndarray, np.ndarray]:
    """Each run's nearest budget in log C; runs farther than a factor `tolerance` get -1.

    Returns (group ids into the sorted `budgets`, sorted budgets)."""
    budgets = np.sort(np.asarray(budgets, dtype=float))
    dist = np.abs(np.log(compute)[:, None] - np.log(budgets)[None, :])
    ids = np.argmin(dist, axis=1)
    ids = np.where(dist[np.arange(compute.size), ids] <= np.log(tolerance), ids, -1)
    return ids, budgets


@functools.partial(jax.jit, static_argnums=3)
def _polyfits(u: Array, y: Array, w: Array, degree: int) -> tuple[Array, Array]:
    """Weighted LS polynomials per padded group: coefs (G, degree+1) (c0 + c1·u + ...) and
    their covariances. Padding has w = 0. The covariance is σ²·(XᵀWX)⁻¹ with σ² from the
    weighted residuals."""
    X = jnp.stack([u**k for k in range(degree + 1)], axis=-1)  # (G, M, degree+1)
    XtW = jnp.swapaxes(X, -1, -2) * w[:, None, :]
    inv = jnp.linalg.inv(XtW @ X)
    coefs = jnp.einsum("gij,gj->gi", inv, jnp.einsum("gim,gm->gi", XtW, y))
    resid = y - jnp.einsum("gmi,gi->gm", X, coefs)
    n = jnp.sum(w > 0, axis=-1)
    wsum = jnp.sum(w, axis=-1)
    # Weights are relative: normalize so σ² estimates the per-point variance at mean weight.
    sigma2 = jnp.sum(w * resid**2, axis=-1) / jnp.maximum(n - degree - 1, 1) * n / wsum
    return coefs, inv * (sigma2 * wsum / n)[:, None, None]


def _parabolas(u: Array, y: Array, w: Array) -> tuple[Array, Array]:
    """Weighted LS quadratics per padded group (see `_polyfits`)."""
    return _polyfits(u, y, w, 2)


def _cubic_minimum(c: np.ndarray, lo: float, hi: float) -> float:
    """Local minimum of c0 + c1·u + c2·u² + c3·u³ inside [lo, hi], or NaN if there is none."""
    _, c1, c2, c3 = c
    roots = np.roots([3 * c3, 2 * c2, c1]) if c3 != 0 else np.array([-c1 / (2 * c2)])
    best = np.nan
    for r in roots:
        if abs(r.imag) > 1e-12 or not lo <= r.real <= hi:
            continue
        if 2 * c2 + 6 * c3 * r.real > 0:
            best = float(r.real)
    return best


@float64_call
def isoflop_fit(
    runs: Any = None,
    *,
    N: Array | None = None,
    loss: Array | None = None,
    compute: Array | None = None,
    D: Array | None = None,
    weights: Array | None = None,
    n_col: str = "N",
    loss_col: str = "loss",
    compute_col: str | None = "compute",
    d_col: str | None = None,
    rtol: float = 0.01,
    budgets: Any = None,
    tolerance: float | None = None,
    min_runs: int | None = None,
    drop_small: bool = False,
    degree: int = 2,
    weighted_frontier: bool = False,
) -> IsoFlopResult:
    """Chinchilla Approach 2: IsoFLOP profiles, their minima, and N_opt ∝ C^a, D_opt ∝ C^b.

    Args:
      runs: CSV path / DataFrame / mapping with columns `n_col`, `loss_col`, `compute_col`
        (and optionally `d_col`); or pass the arrays `N`, `loss`, `compute` (and `D`) instead.
        Without a compute column, compute = 6·N·D.
      weights: optional per-run weights of the profile fits.
      rtol: without `budgets`, runs whose budgets lie within this relative distance (chained
        in sorted order) form one IsoFLOP group — for runs placed on exact budgets.
      budgets: training budgets (FLOPs) to bin real, messy runs to: each run joins its nearest
        budget in log C (its own C still gives its D = C/(6N)). An int K instead infers K
        budgets: the runs' log C split at the K − 1 widest gaps, each budget the geometric
        mean of its cluster.
      tolerance: with `budgets`, runs farther than this factor from their nearest budget are
        left out (default: no limit, every run joins its nearest budget).
      min_runs: runs a budget needs (default degree + 1, the minimum; degree + 2 also gives a
        standard error).
      drop_small: leave out budgets with fewer than `min_runs` runs, or whose profile has no
        minimum (listed with the reason in the result's `dropped`), instead of raising.
      degree: 2 (parabola, as in the paper) or 3 (a cubic, for profiles that are asymmetric in
        log N; its minimum must lie inside the budget's range of N).
      weighted_frontier: weight the power-law fits by 1/var(log N_opt).

    Each kept budget needs an upward-opening profile with a minimum. D_opt is C/(6·N_opt) when
    no D is given, else read off a per-budget line log D ~ log N.
    """
    if degree not in (2, 3):
        raise ValueError(f"degree must be 2 (parabola) or 3 (cubic), got {degree!r}")
    if not (np.isfinite(rtol) and rtol > 0):
        raise ValueError(f"rtol must be a positive number, got {rtol!r}")
    if tolerance is not None and not (np.isfinite(tolerance) and tolerance > 1):
        raise ValueError(f"tolerance must be a factor > 1, got {tolerance!r}")
    need = degree + 1 if min_runs is None else int(min_runs)
    if need < degree + 1:
        raise ValueError(f"min_runs must be >= {degree + 1} for degree {degree}, got {min_runs}")
    if runs is not None:
        use_c = compute_col is not None and _has(runs, compute_col)
        roles = {
            "N": n_col,
            "loss": loss_col,
            "compute": compute_col if use_c else None,
            "D": d_col if (use_c or d_col) else "D",  # without compute, D is required
        }
        cols = _read_columns(runs, roles)
        N, loss, compute, D = cols["N"], cols["loss"], cols["compute"], cols["D"]
    if N is None or loss is None or (compute is None and D is None):
        raise ValueError("isoflop_fit needs N, loss and compute (or D) for every run")
    N = np.asarray(N, dtype=float).reshape(-1)
    loss = np.asarray(loss, dtype=float).reshape(-1)
    _check_column("N", N)
    _check_column("loss", loss)
    if D is not None:
        D = np.asarray(D, dtype=float).reshape(-1)
        _check_column("D", D)
    compute = 6.0 * N * D if compute is None else np.asarray(compute, dtype=float).reshape(-1)
    _check_column("compute", compute)
    if not (N.size == loss.size == compute.size):
        raise ValueError(
            f"N, loss and compute differ in length: {N.size}, {loss.size}, {compute.size}"
        )
    w = np.ones_like(N) if weights is None else np.asarray(weights, dtype=float).reshape(-1)
    _check_column("weights", w)

    if budgets is None:
        group = _group_budgets(compute, rtol)
        centers = np.exp([np.log(compute[group == g]).mean() for g in range(int(group.max()) + 1)])
    else:
        if isinstance(budgets, (int, np.integer)) and not isinstance(budgets, bool):
            if budgets < 2:
                raise ValueError(f"budgets: infer at least 2 budgets, got {budgets}")
            # K clusters in log C: split the sorted budgets at the K - 1 widest gaps.
            lc = np.sort(np.log(compute))
            if budgets > np.unique(lc).size:
                raise ValueError(f"budgets: {budgets} groups but only {np.unique(lc).size} budgets")
            cuts = np.sort(np.argsort(np.diff(lc))[::-1][: int(budgets) - 1]) + 1
            budgets = np.exp([part.mean() for part in np.split(lc, cuts)])
        budgets = np.asarray(budgets, dtype=float).reshape(-1)
        _check_column("budgets", budgets)
        group, centers = _bin_budgets(compute, budgets, np.inf if tolerance is None else tolerance)
    sizes = np.bincount(group[group >= 0], minlength=centers.size)
    small = sizes < need
    dropped = [
        {"compute": float(c), "runs": int(k), "reason": "too few runs" if k else "no runs"}
        for c, k in zip(centers[small], sizes[small], strict=True)
    ]
    if np.any(small & (sizes > 0)) and not drop_small:
        g = int(np.flatnonzero(small & (sizes > 0))[0])
        raise ValueError(
            f"compute: budget {centers[g]:.3g} FLOPs has {sizes[g]} runs; a "
            f"{'parabola' if degree == 2 else 'cubic'} needs {need}"
        )
    keep = np.flatnonzero(~small)
    if keep.size < 2:
        raise ValueError(
            f"compute: {keep.size} budget(s) have >= {need} runs; a frontier needs at least 2"
        )
    remap = np.full(centers.size, -1)
    remap[keep] = np.arange(keep.size)
    group = np.where(group >= 0, remap[np.maximum(group, 0)], -1)
    used = group >= 0
    n_groups = keep.size
    sizes = sizes[keep]
    width = int(sizes.max())
    logn = np.log(N)
    # Pad groups to a rectangle; center log N per group so the normal equations stay conditioned.
    U = np.zeros((n_groups, width))
    Y = np.zeros((n_groups, width))
    W = np.zeros((n_groups, width))
    slot = np.zeros_like(group)
    for g in range(n_groups):
        idx = np.flatnonzero(group == g)
        slot[idx] = np.arange(idx.size)
    center = np.array([logn[group == g].mean() for g in range(n_groups)])
    gu, su = group[used], slot[used]
    U[gu, su] = logn[used] - center[gu]
    Y[gu, su] = loss[used]
    W[gu, su] = w[used]
    coefs, cov = (
        np.asarray(a) for a in _polyfits(jnp.asarray(U), jnp.asarray(Y), jnp.asarray(W), degree)
    )
    budget = centers[keep]
    if degree == 2:
        c1, c2 = coefs[:, 1], coefs[:, 2]
        safe = np.where(c2 > 0, c2, 1.0)
        u_star = np.where(c2 > 0, -c1 / (2.0 * safe), np.nan)
        why = "opens downward (no minimum); widen its range of N"
    else:
        u_star = np.array(
            [
                _cubic_minimum(coefs[g], U[g, : sizes[g]].min(), U[g, : sizes[g]].max())
                for g in range(n_groups)
            ]
        )
        why = "has no minimum inside its range of N; use the parabola or widen the range"
    bad = ~np.isfinite(u_star)
    if np.any(bad):
        if not drop_small:
            g = int(np.flatnonzero(bad)[0])
            shape = "" if degree == 2 else "cubic "
            raise ValueError(
                f"loss: the {shape}IsoFLOP profile at budget {budget[g]:.3g} FLOPs {why}"
            )
        dropped += [
            {"compute": float(c), "runs": int(k), "reason": "no minimum"}
            for c, k in zip(budget[bad], sizes[bad], strict=True)
        ]
        ok = np.flatnonzero(~bad)
        if ok.size < 2:
            raise ValueError(f"loss: only {ok.size} budget(s) have a profile with a minimum")
        remap = np.full(n_groups, -1)
        remap[ok] = np.arange(ok.size)
        group = np.where(group >= 0, remap[np.maximum(group, 0)], -1)
        used = group >= 0
        budget, sizes, coefs, cov, center, u_star = (
            a[ok] for a in (budget, sizes, coefs, cov, center, u_star)
        )
        n_groups = ok.size
    if degree == 2:
        c1, c2 = coefs[:, 1], coefs[:, 2]
        # Delta method: ∂u*/∂(c0, c1, c2) = (0, −1/(2c2), c1/(2c2²)).
        grad = np.stack([np.zeros_like(c1), -1.0 / (2.0 * c2), c1 / (2.0 * c2**2)], axis=1)
    else:
        # Implicit function: g(u, c) = c1 + 2c2u + 3c3u² = 0 ⇒ ∂u*/∂c = −∂g/∂c / ∂g/∂u.
        c2, c3 = coefs[:, 2], coefs[:, 3]
        curv = 2 * c2 + 6 * c3 * u_star
        grad = (
            -np.stack(
                [np.zeros_like(u_star), np.ones_like(u_star), 2 * u_star, 3 * u_star**2], axis=1
            )
            / curv[:, None]
        )
    var = np.einsum("gi,gij,gj->g", grad, cov, grad)
    se = np.where(sizes > degree + 1, np.sqrt(np.maximum(var, 0.0)), np.nan)
    log_n_opt = center + u_star
    n_opt = np.exp(log_n_opt)
    loss_opt = np.sum(coefs * u_star[:, None] ** np.arange(degree + 1), axis=1)
    if D is None:
        d_opt = budget / (6.0 * n_opt)
    else:
        d_opt = np.empty(n_groups)
        for g in range(n_groups):
            sel = group == g
            slope, icpt = np.polyfit(logn[sel], np.log(D[sel]), 1)
            d_opt[g] = np.exp(icpt + slope * log_n_opt[g])
    fw = None
    if weighted_frontier:
        if not np.all(np.isfinite(se) & (se > 0)):
            raise ValueError(f"weights: weighted_frontier needs >= {degree + 2} runs per budget")
        fw = 1.0 / se**2
    return IsoFlopResult(
        compute=budget,
        n_opt=n_opt,
        log_n_opt_stderr=se,
        d_opt=d_opt,
        loss_opt=loss_opt,
        coefs=coefs,
        center=center,
        n_fit=fit_power_law(budget, n_opt, fw),
        d_fit=fit_power_law(budget, d_opt, fw),
        points={
            "N": N[used],
            "D": (compute / (6.0 * N) if D is None else D)[used],
            "loss": loss[used],
            "group": group[used],
        },
        n_runs=sizes,
        dropped=dropped,
        n_runs_unbinned=int(np.sum(group < 0) - sum(d["runs"] for d in dropped)),
        degree=degree,
    )


def _has(source: Any, col: str) -> bool:
    """Whether a table source has column `col` (CSV header read without loading the file)."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"runs file {path} does not exist")
        with path.open(newline="") as fh:
            return col in next(csv.reader(fh), [])
    if isinstance(source, Mapping):
        return col in source
    return col in getattr(source, "columns", ())


# --------------------------------------------------------------------------------------------
# Approach 1.


@float64_call
def envelope_fit(
    curves: Any = None,
    *,
    N: Array | None = None,
    flops: Array | None = None,
    loss: Array | None = None,
    run: Array | None = None,
    n_col: str = "N",
    flops_col: str = "flops",
    loss_col: str = "loss",
    run_col: str | None = None,
    n_grid: int = 1500,
    drop_edges: bool = True,
) -> EnvelopeResult:
    """Chinchilla Approach 1: lower envelope of training curves, then N_opt ∝ C^a, D_opt ∝ C^b.

    Args:
      curves: long-format table (CSV path / DataFrame / mapping) with one row per logged point:
        model size `n_col` (parameters), FLOPs so far `flops_col`, loss `loss_col`, and an
        optional run id `run_col` (default: one run per distinct N). Or pass the flat arrays.
      n_grid: number of log-spaced FLOP values spanning the curves' overlap (1500, as in
        Hoffmann et al. 2022, Section 3.1).
      drop_edges: leave out grid points won by the smallest or largest model, whose envelope is
        clipped by the range of sizes trained rather than by the optimum.
    """
    if curves is not None:
        cols = _read_columns(
            curves, {"N": n_col, "flops": flops_col, "loss": loss_col, "run": run_col}
        )
        N, flops, loss, run = cols["N"], cols["flops"], cols["loss"], cols["run"]
    if N is None or flops is None or loss is None:
        raise ValueError("envelope_fit needs N, flops and loss for every logged point")
    N, flops, loss = (np.asarray(a, dtype=float).reshape(-1) for a in (N, flops, loss))
    for name, a in (("N", N), ("flops", flops), ("loss", loss)):
        _check_column(name, a)
    run = N if run is None else np.asarray(run).reshape(-1)
    ids, inv = np.unique(run, return_inverse=True)
    if ids.size < 3:
        raise ValueError(f"run: need training curves of at least 3 runs, got {ids.size}")
    length = np.bincount(inv)
    T = int(length.max())
    # Padded (runs, T) curves sorted by FLOPs; padding repeats the last point (never minimal
    # outside the run's range because interpolation there is masked to +inf).
    X = np.zeros((ids.size, T))
    Y = np.zeros((ids.size, T))
    sizes = np.zeros(ids.size)
    for r in range(ids.size):
        sel = np.flatnonzero(inv == r)
        sel = sel[np.argsort(flops[sel])]
        X[r, : sel.size], Y[r, : sel.size] = np.log(flops[sel]), loss[sel]
        X[r, sel.size :], Y[r, sel.size :] = X[r, sel.size - 1], Y[r, sel.size - 1]
        sizes[r] = N[sel[0]]
    lo, hi = X[:, 0].min(), X.max()
    grid = np.linspace(lo, hi, n_grid)
    x_first, x_last = X[:, :1], X[:, -1:]

    def interp(xr, yr):
        return jnp.interp(jnp.asarray(grid), xr, yr)

    Z = np.asarray(jax.vmap(interp)(jnp.asarray(X), jnp.asarray(Y)))
    # A small slack keeps grid ends that round just past a curve's first/last point.
    slack = 1e-9 * max(1.0, abs(hi))
    Z = np.where((grid >= x_first - slack) & (grid <= x_last + slack), Z, np.inf)
    best = np.argmin(Z, axis=0)
    env = Z[best, np.arange(n_grid)]
    ok = np.isfinite(env)
    if drop_edges:
        ok &= (sizes[best] > sizes.min()) & (sizes[best] < sizes.max())
    if ok.sum() < 2:
        raise ValueError("flops: the envelope has fewer than 2 usable grid points")
    compute = np.exp(grid)
    n_opt = sizes[best]
    d_opt = compute / (6.0 * n_opt)
    return EnvelopeResult(
        compute=compute,
        n_opt=n_opt,
        d_opt=d_opt,
        loss_opt=env,
        used=ok,
        n_fit=fit_power_law(compute[ok], n_opt[ok]),
        d_fit=fit_power_law(compute[ok], d_opt[ok]),
    )
