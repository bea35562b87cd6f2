"""`predict`: the loss a new run will reach, with a mean interval and a new-run interval.

From a fit (`FitResult`) or a bootstrap (`BootstrapResult`) and new points (N, D):

* ``loss``: the law's prediction at the fitted parameters (nats/token). Under the noise model
  below it is the median of a new run's loss.
* mean (confidence) interval: where the *law's* prediction lies given parameter uncertainty.
  - from a `FitResult` (no draws): the delta method on log-loss. The parameter covariance is
    the M-estimator sandwich ``H^-1 B H^-1 * n/(n-p)`` with ``H = jax.hessian`` of the fit
    objective (in the free fit coordinates, with the fit's loss kind, weights, fixed and tied
    parameters) and ``B`` the sum of outer products of the per-point objective gradients; for
    a least-squares fit with constant noise it reduces to the usual ``s^2 H^-1``. The interval
    is ``log L_hat +/- t_q * se``.
  - from a `BootstrapResult`: percentiles of the per-draw predictions (one vmap over draws).
* new-run (prediction) interval: adds run-to-run noise. Stated model: a new run's log-loss is
  ``log L_hat(x) + e`` with ``e / sqrt(se(x)^2 + s^2) ~ Student-t(dof)``, where ``s^2`` is the
  residual variance of log-loss, ``sum r_i^2 / (n - p)`` over the n fitted runs (weight > 0),
  p the number of free parameters and ``dof = n - p``; ``se(x)`` is the standard error of the
  log prediction (delta method, or the std over bootstrap draws).
* extrapolation label: ``"interpolation"`` when N, D and C = 6 N D all lie inside the ranges of
  the fitted runs, else ``"extrapolation"``; ``beyond[k]`` is the signed distance outside the
  range in decades (positive above the largest run, negative below the smallest, 0 inside).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import betainc

from scaling_jax._io import json_float, read_json, write_bytes_atomic, write_json_atomic
from scaling_jax._precision import float64_call
from scaling_jax.data import Runs, runs_from_json
from scaling_jax.fitting.objective import FitData
from scaling_jax.fitting.options import (
    constrained_law,
    make_loss_objective,
    non_embedding_params,
    options_from_dict,
    point_losses,
)
from scaling_jax.laws import Law, get_law

Array = Any

__all__ = ["predict", "Prediction", "student_t_ppf", "extrapolation_distance"]


# --------------------------------------------------------------------------------------------
# Student-t quantile (no scipy at run time)


def _t_cdf_upper(x: np.ndarray, dof: float) -> np.ndarray:
    """P(T > x) for x >= 0."""
    x = np.asarray(x, np.float64)
    z = dof / (dof + x * x)
    return 0.5 * np.asarray(betainc(dof / 2.0, 0.5, jnp.asarray(z, jnp.float64)))


def student_t_ppf(q: float, dof: float) -> float:
    """Quantile of Student's t with `dof` degrees of freedom (dof = inf: standard normal)."""
    if not 0.0 < q < 1.0:
        raise ValueError(f"quantile level must be in (0, 1), got {q!r}")
    if not dof > 0:
        raise ValueError(f"degrees of freedom must be > 0, got {dof!r}")
    if q == 0.5:
        return 0.0
    upper = 1.0 - q if q > 0.5 else q
    if math.isinf(dof):
        from statistics import NormalDist

        x = -NormalDist().inv_cdf(upper)
    else:
        lo, hi = 0.0, 1.0
        while _t_cdf_upper(np.array(hi), dof) > upper:
            hi *= 2.0
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if _t_cdf_upper(np.array(mid), dof) > upper:
                lo = mid
            else:
                hi = mid
            if hi - lo <= 1e-14 * max(1.0, hi):
                break
        x = 0.5 * (lo + hi)
    return float(x if q > 0.5 else -x)


# --------------------------------------------------------------------------------------------
# Extrapolation distance


def extrapolation_distance(
    train: Mapping[str, Any], new: Mapping[str, Any]
) -> dict[str, np.ndarray]:
    """Signed decades outside the training range per feature: > 0 above, < 0 below, 0 inside."""
    out = {}
    for key, values in new.items():
        t = np.log10(np.asarray(train[key], np.float64))
        v = np.log10(np.asarray(values, np.float64))
        lo, hi = t.min(), t.max()
        out[key] = np.where(v > hi, v - hi, np.where(v < lo, v - lo, 0.0))
    return out


# --------------------------------------------------------------------------------------------
# Result


@dataclass(frozen=True)
class Prediction:
    """Predicted losses at new points with mean and new-run intervals (see module docstring).

    Attributes (arrays of shape (m,) for m points; losses in nats/token):
      N, D, C: the points (parameters, tokens, FLOPs = 6 N D).
      loss: predicted loss. mean_low, mean_high: mean (confidence) interval.
      new_low, new_high: new-run (prediction) interval.
      se_log: standard error of the log prediction (parameter uncertainty only).
      level: the intervals' nominal coverage. sigma: residual std of log-loss. dof: its
        degrees of freedom. method: ``"delta"`` (from a fit) or ``"bootstrap"``.
      beyond: feature -> signed decades outside the fitted runs' range (N, D, C).
      label: ``"interpolation"`` or ``"extrapolation"`` per point.
      notes: caveats (e.g. a singular Hessian).
    """

    N: np.ndarray
    D: np.ndarray
    C: np.ndarray
    loss: np.ndarray
    mean_low: np.ndarray
    mean_high: np.ndarray
    new_low: np.ndarray
    new_high: np.ndarray
    se_log: np.ndarray
    level: float
    sigma: float
    dof: float
    method: str
    beyond: dict[str, np.ndarray]
    label: list[str]
    noise_model: str = "student_t_log"
    notes: tuple[str, ...] = ()
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.loss)

    def covers(self, loss: Any) -> dict[str, np.ndarray]:
        """Boolean masks: does each observed `loss` fall in the mean / new-run interval?"""
        y = np.asarray(loss, np.float64)
        return {
            "mean": (y >= self.mean_low) & (y <= self.mean_high),
            "new_run": (y >= self.new_low) & (y <= self.new_high),
        }

    def rows(self) -> list[dict[str, Any]]:
        keys = ("N", "D", "C", "loss", "mean_low", "mean_high", "new_low", "new_high", "se_log")
        out = []
        for i in range(len(self)):
            row = {k: float(getattr(self, k)[i]) for k in keys}
            row.update({f"beyond_{k}": float(v[i]) for k, v in self.beyond.items()})
            row["label"] = self.label[i]
            out.append(row)
        return out

    def table(self) -> str:
        """A readable table, one line per point."""
        pct = f"{self.level * 100:g}%"
        lines = [
            f"prediction ({self.method}; new-run noise: Student-t on log-loss, sigma "
            f"{self.sigma:.4g}, dof {self.dof:g}; {pct} intervals)",
            f"  {'N':>10} {'D':>10} {'loss':>8} {'mean interval':>19} {'new-run interval':>19}"
            "  label (decades beyond N, D, C)",
        ]
        for r in self.rows():
            beyond = ", ".join(f"{r[f'beyond_{k}']:+.2f}" for k in self.beyond)
            lines.append(
                f"  {r['N']:10.3e} {r['D']:10.3e} {r['loss']:8.4f} "
                f"[{r['mean_low']:7.4f}, {r['mean_high']:7.4f}] "
                f"[{r['new_low']:7.4f}, {r['new_high']:7.4f}]  {r['label']} ({beyond})"
            )
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "sigma": self.sigma,
            "dof": json_float(self.dof),
            "method": self.method,
            "noise_model": self.noise_model,
            "notes": list(self.notes),
            "points": [
                {k: (json_float(v) if isinstance(v, float) else v) for k, v in r.items()}
                for r in self.rows()
            ],
        }

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write `to_dict` as JSON to `path`, atomically (temporary file, then rename)."""
        write_json_atomic(path, self.to_dict())

    @classmethod
    def from_dict(cls, blob: Mapping[str, Any]) -> Prediction:
        """Inverse of `to_dict` (``extra`` is not stored and comes back empty)."""
        rows = list(blob["points"])

        def col(key: str) -> np.ndarray:
            return np.asarray([np.nan if r[key] is None else r[key] for r in rows], np.float64)

        beyond_keys = [
            k[len("beyond_") :] for k in (rows[0] if rows else {}) if k.startswith("beyond_")
        ]
        return cls(
            *(col(k) for k in ("N", "D", "C", "loss", "mean_low", "mean_high")),
            *(col(k) for k in ("new_low", "new_high", "se_log")),
            level=float(blob["level"]),
            sigma=float(blob["sigma"]),
            dof=math.nan if blob["dof"] is None else float(blob["dof"]),
            method=str(blob["method"]),
            beyond={k: col(f"beyond_{k}") for k in beyond_keys},
            label=[str(r["label"]) for r in rows],
            noise_model=str(blob.get("noise_model", "student_t_log")),
            notes=tuple(blob.get("notes", ())),
        )

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> Prediction:
        """Read a prediction written by `to_json`."""
        return cls.from_dict(read_json(path))

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        rows = self.rows()
        header = list(rows[0]) if rows else []
        text = [",".join(header)]
        for r in rows:
            text.append(",".join(v if isinstance(v, str) else repr(v) for v in r.values()))
        write_bytes_atomic(path, ("\n".join(text) + "\n").encode())


# --------------------------------------------------------------------------------------------
# predict


def _training_runs(result: Any, runs: Any) -> Runs:
    if runs is not None:
        from scaling_jax.data import as_runs

        return as_runs(runs)
    data = getattr(result, "data", None)
    if data is None:
        raise ValueError(
            f"predict needs the fitted runs for the residual noise and the data range: this "
            f"{type(result).__name__} does not carry them, pass runs=..."
        )
    return data if isinstance(data, Runs) else runs_from_json(data)


def _point_features(law: Law, N: Any, D: Any, features: Mapping[str, Any] | None) -> dict:
    N = np.atleast_1d(np.asarray(N, np.float64))
    D = np.atleast_1d(np.asarray(D, np.float64))
    N, D = np.broadcast_arrays(N, D)
    for name, arr in (("N", N), ("D", D)):
        if arr.ndim != 1:
            raise ValueError(f"predict: {name} must be a scalar or 1-D array, got {arr.shape}")
        bad = np.flatnonzero(~(np.isfinite(arr) & (arr > 0)))
        if bad.size:
            raise ValueError(
                f"predict: {name}={float(arr[bad[0]])!r} at point {bad[0]} must be > 0"
            )
    feats = {"N": N, "D": D, "C": 6.0 * N * D, "compute": 6.0 * N * D}
    for name, values in dict(features or {}).items():
        feats[name] = np.broadcast_to(np.asarray(values, np.float64), N.shape)
    missing = [f for f in law.feature_names if f not in feats]
    if missing:
        raise ValueError(f"predict: law {law.name!r} also needs features {missing}: features=")
    return {f: feats[f] for f in law.feature_names} | {"N": N, "D": D, "C": feats["C"]}


def _result_law(result: Any, law: str | Law | None) -> Law:
    # Results hold their Law object (a user law included); `law=` overrides it.
    return get_law(result.law if law is None else law)


def _options_of(result: Any) -> dict[str, Any]:
    opts = getattr(result, "options", None)
    if opts is None:  # BootstrapResult keeps its configuration in `config`
        opts = getattr(result, "config", {}) or {}
    return dict(opts)


@float64_call
def predict(
    result: Any,
    N: Any,
    D: Any,
    *,
    level: float = 0.9,
    runs: Any = None,
    features: Mapping[str, Any] | None = None,
    law: str | Law | None = None,
    d_model: Any = None,
) -> Prediction:
    """Predicted loss at new points (N, D) with mean and new-run intervals.

    Args:
      result: a `FitResult` (delta-method mean interval) or a `BootstrapResult` (percentile
        mean interval over its draws).
      N, D: parameters and training tokens of the new points (scalars or 1-D arrays).
      level: nominal coverage of both intervals (default 0.9).
      runs: the fitted runs (default: those stored in the result by `fit`/`bootstrap`), as
        the law saw them (after the fit's weights and ``n_kind`` conversion).
      features: further per-point features a law reads (e.g. ``{"U": unique_tokens}``).
      law: the `Law`, for a user law that is not registered by name.
      d_model: width of each new model, when the fit used ``n_kind="non_embedding"``: N is
        then the total parameter count and is converted as the fitted runs were.

    Returns:
      a `Prediction` (see the module docstring for the noise model).
    """
    if not (isinstance(level, (int, float)) and 0.0 < level < 1.0):
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    base = _result_law(result, law)
    train = _training_runs(result, runs)
    opts_blob = _options_of(result)
    opts = options_from_dict(opts_blob)
    cl = constrained_law(base, dict(opts.fixed), opts.tied)
    if opts_blob.get("n_kind") == "non_embedding":
        if d_model is None:
            raise ValueError(
                "this fit counts non-embedding parameters (n_kind='non_embedding'): pass "
                "d_model= (the width of each new model) and N as total parameters"
            )
        N = non_embedding_params(
            np.atleast_1d(np.asarray(N, np.float64)),
            opts_blob["vocab"],
            d_model,
            bool(opts_blob.get("untied_embeddings", False)),
        )
    k_free = cl.law.n_params
    pts = _point_features(base, N, D, features)
    feats_new = {f: jnp.asarray(pts[f]) for f in base.feature_names}
    feats_train = {k: jnp.asarray(v) for k, v in train.features(base.feature_names).items()}
    theta_hat = np.asarray(getattr(result, "theta_hat", getattr(result, "theta", None)), float)
    if theta_hat.shape[-1] != base.n_params:
        raise ValueError(
            f"result theta has {theta_hat.shape[-1]} coordinates, law {base.name!r} has "
            f"{base.n_params}"
        )
    log_pred = np.asarray(base.log_loss(jnp.asarray(theta_hat), feats_new), np.float64)

    # Residual noise of log-loss over the fitted runs with weight > 0.
    w = np.ones(len(train)) if train.weights is None else np.asarray(train.weights)
    used = w > 0
    fitted = np.asarray(base.log_loss(jnp.asarray(theta_hat), feats_train), np.float64)
    resid = (np.log(train.loss) - fitted)[used]
    n_used = int(used.sum())
    dof = float(n_used - k_free)
    notes: list[str] = []
    if dof < 1:
        raise ValueError(
            f"predict: {n_used} fitted runs and {k_free} free parameters leave no degrees of "
            "freedom for the residual noise"
        )
    sigma = float(np.sqrt(np.sum(resid**2) / dof))
    half = 0.5 + level / 2.0
    tq = student_t_ppf(half, dof)

    draws = getattr(result, "theta_hat", None) is not None and np.ndim(result.theta) == 2
    if draws:
        theta_b = jnp.asarray(np.asarray(result.theta, np.float64))
        pred_b = np.asarray(
            jax.vmap(lambda t: base.log_loss(t, feats_new))(theta_b), np.float64
        )  # (R, m)
        ok = np.isfinite(pred_b).all(axis=1)
        if not ok.all():
            notes.append(f"{int((~ok).sum())} of {len(ok)} draws gave non-finite predictions")
        pred_b = pred_b[ok]
        alpha = 1.0 - level
        mean_lo, mean_hi = np.quantile(pred_b, [alpha / 2, 1 - alpha / 2], axis=0)
        se = np.std(pred_b, axis=0, ddof=1)
        method = "bootstrap"
    else:
        se, note = _delta_se(cl, result, train, feats_new, opts)
        if note:
            notes.append(note)
        mean_lo, mean_hi = log_pred - tq * se, log_pred + tq * se
        method = "delta"
    spread = tq * np.sqrt(se**2 + sigma**2)
    beyond = extrapolation_distance(
        {"N": train.N, "D": train.D, "C": train.compute},
        {"N": pts["N"], "D": pts["D"], "C": pts["C"]},
    )
    outside = np.any([np.abs(v) > 0 for v in beyond.values()], axis=0)
    return Prediction(
        N=pts["N"],
        D=pts["D"],
        C=pts["C"],
        loss=np.exp(log_pred),
        mean_low=np.exp(mean_lo),
        mean_high=np.exp(mean_hi),
        new_low=np.exp(log_pred - spread),
        new_high=np.exp(log_pred + spread),
        se_log=np.asarray(se, np.float64),
        level=float(level),
        sigma=sigma,
        dof=dof,
        method=method,
        beyond=beyond,
        label=["extrapolation" if o else "interpolation" for o in np.atleast_1d(outside)],
        notes=tuple(notes),
    )


def _delta_se(cl: Any, result: Any, train: Runs, feats_new: dict, opts: Any) -> tuple:
    """Delta-method standard error of log L_hat at new points (sandwich covariance)."""
    law = cl.law
    theta = cl.reduce(jnp.asarray(np.asarray(result.theta, np.float64)))
    delta = float(getattr(result, "delta", 1e-3))
    w = np.ones(len(train)) if train.weights is None else np.asarray(train.weights)
    data = FitData(
        features={k: jnp.asarray(v) for k, v in train.features(law.feature_names).items()},
        log_loss=jnp.asarray(np.log(train.loss)),
        weights=jnp.asarray(w),
        delta=jnp.asarray(delta),
    )
    objective = make_loss_objective(law.log_loss, opts.loss, opts.asymmetric)

    def contributions(t: Array) -> Array:
        rho = point_losses(
            law.log_loss(t, data.features), data.log_loss, data.delta, opts.loss, opts.asymmetric
        )
        return data.weights * rho

    H = np.asarray(jax.hessian(objective)(theta, data), np.float64)
    S = np.asarray(jax.jacobian(contributions)(theta), np.float64)  # (n, k)
    n, k = int(np.sum(w > 0)), law.n_params
    if opts.loss == "huber_log":
        # The exact Huber Hessian counts only the points inside +/- delta (psi' = 1 there),
        # a noisy estimate of E[psi'] when few are: replace that indicator by a smoothed
        # estimate of P(|r| <= delta) (Huber 1981, sec. 7.6), keeping the psi * d2 pred term.
        J = np.asarray(jax.jacobian(lambda t: law.log_loss(t, data.features))(theta), np.float64)
        r = np.asarray(law.log_loss(theta, data.features)) - np.log(train.loss)
        wk = w * np.where(r > 0, opts.asymmetric, 1.0)
        inside = np.abs(r) <= delta
        used = w > 0
        scale = np.sqrt(np.sum(r[used] ** 2) / max(n - k, 1))
        h = max(delta, 1.06 * scale * n ** (-0.2))
        m_hat = min(1.0, (delta / h) * np.mean(np.abs(r[used]) <= h)) if h > delta else None
        if m_hat is not None and m_hat > 0:
            H = H - (J * (wk * inside)[:, None]).T @ J + m_hat * (J * wk[:, None]).T @ J
    B = S.T @ S * (n / max(n - k, 1))
    note = ""
    try:
        Hinv = np.linalg.inv(H)
        if not np.all(np.isfinite(Hinv)) or np.linalg.cond(H) > 1e14:
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        Hinv = np.linalg.pinv(H)
        note = (
            "the objective's Hessian is singular at the fit (e.g. too few points inside the "
            "Huber threshold); the mean interval uses its pseudo-inverse and is unreliable"
        )
    cov = Hinv @ B @ Hinv
    G = np.asarray(jax.jacobian(lambda t: law.log_loss(t, feats_new))(theta), np.float64)
    var = np.einsum("mi,ij,mj->m", G, cov, G)
    return np.sqrt(np.maximum(var, 0.0)), note
