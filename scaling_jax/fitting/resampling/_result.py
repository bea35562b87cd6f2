"""`BootstrapResult`: per-resample best fits and intervals for everything derived from them."""

from __future__ import annotations

import functools
import json
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scaling_jax._io import json_float, write_bytes_atomic, write_json_atomic
from scaling_jax._precision import float64_call
from scaling_jax.data import Runs, runs_from_json, runs_to_json
from scaling_jax.diagnostics import (
    Diagnostic,
    check_bimodal,
    check_correlations,
    check_e_interval,
    check_extrapolation,
    check_resample_convergence,
    diagnostics_from_json,
    format_diagnostics,
)
from scaling_jax.fitting.solver import FitStatus
from scaling_jax.laws import Law, saved_law

from ._checkpoint import FORMAT
from ._derived import derived_rows, natural_rows
from ._escalate import MULTISTART, NEWTON
from ._intervals import bca_interval, percentile_interval

MAX_UNCONVERGED = 0.005
"""Above this fraction of unconverged resamples, intervals and standard errors warn on use."""


class UnconvergedResamplesWarning(UserWarning):
    """More than `MAX_UNCONVERGED` of a bootstrap's resamples are not at a verified minimum."""


@dataclass(frozen=True)
class BootstrapResult:
    """Per-resample best fits of a bootstrap, and intervals for everything derived from them.

    Attributes:
      law: the fitted `Law` itself (JSON stores its name; see `from_json`);
      param_names: its fit coordinates (log_A, log_B, log_E, alpha, beta for Chinchilla).
      indices: (R,) resample ids (resample i depends only on (seed, i)).
      theta: (R, k) best point per resample, fit coordinates.
      objective: (R,) its summed Huber objective; grad_norm: (R,) max |gradient| there.
      status: (R,) `FitStatus` code of the winning lane's L-BFGS run.
      n_basin: (R,) lanes of that resample ending within ``basin_rtol`` of its best.
      n_eval: (R,) objective evaluations spent on the resample (all its lanes).
      theta_hat: (k,) full-data fit; objective_hat its objective.
      jackknife: (J, k) leave-one-out (point or group) fits for BCa, or None.
      config: the configuration (as in the manifest, fit options included); timings: wall
        seconds.
      data: the fitted runs (after the fit options' weights / non-embedding N), which
        `predict` reads; None for results written before it was stored.
      config: the configuration (as in the manifest); timings: wall seconds.
      verified: (R,) bool, the resample ends at a verified local minimum (None: not checked).
      escalation: (R,) 0 = verified at once, 1 = after more trust-region Newton steps,
        2 = after multi-start (None: not checked).
      fit_diagnostics: the full-data fit's diagnostics (`FitResult.diagnostics`).
    """

    law: Law
    param_names: tuple[str, ...]
    indices: np.ndarray
    theta: np.ndarray
    objective: np.ndarray
    grad_norm: np.ndarray
    status: np.ndarray
    n_basin: np.ndarray
    n_eval: np.ndarray
    theta_hat: np.ndarray
    objective_hat: float
    jackknife: np.ndarray | None = None
    config: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    data: Runs | None = None
    verified: np.ndarray | None = None
    escalation: np.ndarray | None = None
    fit_diagnostics: tuple[Diagnostic, ...] = ()

    def __len__(self) -> int:
        return len(self.indices)

    # ----------------------------------------------------------------------------------------
    # Convergence and diagnostics

    @property
    def unconverged(self) -> np.ndarray:
        """(R,) bool: resamples not at a verified local minimum (status for unchecked runs)."""
        if self.verified is not None:
            return ~np.asarray(self.verified, bool)
        return np.asarray(self.status) != FitStatus.CONVERGED

    @property
    def n_unconverged(self) -> int:
        return int(self.unconverged.sum())

    @property
    def n_escalated(self) -> int:
        return 0 if self.escalation is None else int(np.sum(np.asarray(self.escalation) > 0))

    def escalation_counts(self) -> dict[str, int]:
        """Resamples escalated to trust-region Newton / multi-start, and left unconverged."""
        esc = np.zeros(len(self), np.int64) if self.escalation is None else self.escalation
        return {
            "escalated": int(np.sum(esc > 0)),
            "newton": int(np.sum(esc == NEWTON)),
            "multistart": int(np.sum(esc == MULTISTART)),
            "unconverged": self.n_unconverged,
        }

    def _warn_if_unconverged(self) -> None:
        frac = self.n_unconverged / max(len(self), 1)
        if frac > MAX_UNCONVERGED:
            warnings.warn(
                f"{self.n_unconverged} of {len(self)} bootstrap resamples ({frac:.2%}) are not "
                f"at a verified minimum (more than {MAX_UNCONVERGED:.1%}); intervals and "
                "standard errors may be biased",
                UnconvergedResamplesWarning,
                stacklevel=3,
            )

    @functools.cached_property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """The full-data fit's diagnostics, then the bootstrap's own: escalated/unconverged
        resamples, E's interval near zero, bimodal parameters, correlated parameter pairs
        (computed once per result: the summary and the JSON file both report them)."""
        notes = list(self.fit_diagnostics)
        counts = self.escalation_counts()
        notes += check_resample_convergence(
            len(self), counts["escalated"], counts["unconverged"], MAX_UNCONVERGED
        )
        names = list(self.param_names)
        ok = ~self.unconverged & np.all(np.isfinite(self.theta), axis=1)
        if ok.sum() > len(names) + 1:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UnconvergedResamplesWarning)
                natural = self.natural_names
                if "E" in natural:
                    lo, hi = self.interval(0.95)["E"]
                    notes += check_e_interval(lo, hi, self.params_hat._asdict()["E"])
            notes += check_bimodal(self.theta[ok], names)
            cov = np.cov(self.theta[ok], rowvar=False)
            notes += check_correlations(cov, names, source="bootstrap draws")
        return tuple(notes)

    def extrapolation_diagnostics(self, budgets: Sequence[float]) -> tuple[Diagnostic, ...]:
        """Budgets whose point-estimate N_opt or D_opt lies outside the fitted runs."""
        rng = self.config.get("data_range") or {}
        if not budgets or "N" not in rng or "D" not in rng:
            return ()
        d = self.derived_intervals(budgets=list(budgets))
        n_opt, d_opt = d["N_opt"]["estimate"], d["D_opt"]["estimate"]
        return tuple(check_extrapolation(budgets, n_opt, d_opt, tuple(rng["N"]), tuple(rng["D"])))

    @property
    def params(self) -> Any:
        """The law's natural-params NamedTuple (e.g. `ChinchillaParams`) of arrays (R,)."""
        p, n = self._natural_all, len(self)
        return type(p)(*(v[1 : 1 + n] for v in p))

    @property
    def params_hat(self) -> Any:
        """Natural params of the full-data fit (floats)."""
        p = self._natural_all
        return type(p)(*(float(v[0]) for v in p))

    def _rows(self) -> np.ndarray:
        """Fit coordinates of every fit, one program's input: the full-data fit (row 0), the
        resamples (rows 1..R), then the jackknife fits."""
        parts = [self.theta_hat[None], self.theta]
        if self.jackknife is not None:
            parts.append(self.jackknife)
        return np.concatenate([np.asarray(v, np.float64) for v in parts])

    @functools.cached_property
    def _natural_all(self) -> Any:
        """Natural params of `_rows` (numpy), computed once per result."""
        return self._natural_of_rows()

    @float64_call
    def _natural_of_rows(self) -> Any:
        p = natural_rows(self._rows(), law=self.law)
        return type(p)(*(np.asarray(v) for v in p))

    def _table(self, which: str) -> np.ndarray | None:
        """Natural params as a table (n, k): which = "theta" (R rows), "hat" (1) or "jack"."""
        if which == "jack" and self.jackknife is None:
            return None
        n = len(self)
        rows = {"hat": slice(0, 1), "theta": slice(1, 1 + n), "jack": slice(1 + n, None)}[which]
        return np.stack([v[rows] for v in self._natural_all], axis=-1)

    @property
    def natural_names(self) -> tuple[str, ...]:
        return tuple(self.params._fields)

    def stderr(self) -> dict[str, float]:
        """Bootstrap standard errors (sample std, ddof=1) of the natural parameters.

        Warns (`UnconvergedResamplesWarning`) when more than 0.5% of resamples are unconverged.
        """
        self._warn_if_unconverged()
        tab = self._table("theta")
        return dict(zip(self.natural_names, np.std(tab, axis=0, ddof=1).tolist(), strict=True))

    def covariance(self, natural: bool = True) -> np.ndarray:
        """Bootstrap covariance (k, k) of natural params (or of fit coordinates)."""
        tab = self._table("theta") if natural else self.theta
        return np.cov(tab, rowvar=False)

    def correlation(self, natural: bool = True) -> np.ndarray:
        """Bootstrap correlation matrix (k, k), ordered like `natural_names` / `param_names`."""
        tab = self._table("theta") if natural else self.theta
        return np.corrcoef(tab, rowvar=False)

    def _interval_of(
        self,
        samples: np.ndarray,
        estimate: np.ndarray,
        jack: np.ndarray | None,
        level: float,
        method: str,
    ) -> tuple[np.ndarray, np.ndarray]:
        if method == "percentile":
            return percentile_interval(samples, level)
        if method == "bca":
            if jack is None:
                raise ValueError(
                    "method='bca' needs jackknife fits: run bootstrap(..., jackknife=True)"
                )
            return bca_interval(samples, estimate, jack, level)
        raise ValueError(f"method={method!r}: use 'percentile' or 'bca'")

    def interval(
        self, level: float = 0.95, method: str = "percentile"
    ) -> dict[str, tuple[float, float]]:
        """Confidence intervals of the natural parameters: name -> (low, high).

        Warns (`UnconvergedResamplesWarning`) when more than 0.5% of resamples are unconverged.
        """
        self._warn_if_unconverged()
        lo, hi = self._interval_of(
            self._table("theta"),
            self._table("hat")[0],
            self._table("jack"),
            level,
            method,
        )
        return {k: (float(a), float(b)) for k, a, b in zip(self.natural_names, lo, hi, strict=True)}

    @float64_call
    def _derived_all(self, budgets: Any, points: Any) -> dict[str, np.ndarray]:
        """`derived_quantities` of every row of `_rows`, as one compiled program."""
        check_budgets(budgets)
        if budgets is not None:
            budgets = np.atleast_1d(np.asarray(budgets, np.float64))
        if points is not None:
            points = tuple(np.atleast_1d(np.asarray(v, np.float64)) for v in points)
        out = derived_rows(self._rows(), budgets, points, law=self.law)
        return {k: np.asarray(v) for k, v in out.items()}

    def derived(self, budgets: Any = None, points: Any = None) -> dict[str, np.ndarray]:
        """Per-resample derived quantities (see `derived_quantities`), numpy arrays (R, ...)."""
        n = len(self)
        return {k: v[1 : 1 + n] for k, v in self._derived_all(budgets, points).items()}

    def derived_intervals(
        self,
        budgets: Any = None,
        points: Any = None,
        level: float = 0.95,
        method: str = "percentile",
    ) -> dict[str, dict[str, np.ndarray]]:
        """name -> {"estimate", "low", "high", "stderr"} for a_N, b_D, N_opt, D_opt, ... ."""
        self._warn_if_unconverged()
        rows, n = self._derived_all(budgets, points), len(self)
        out = {}
        for name, v in rows.items():
            s, est = v[1 : 1 + n], v[0]
            jack = None if self.jackknife is None else v[1 + n :]
            lo, hi = self._interval_of(s, est, jack, level, method)
            out[name] = {
                "estimate": est,
                "low": lo,
                "high": hi,
                "stderr": np.nanstd(s, axis=0, ddof=1),
            }
        return out

    def status_counts(self) -> dict[str, int]:
        codes, counts = np.unique(self.status, return_counts=True)
        return {FitStatus.label(c): int(n) for c, n in zip(codes, counts, strict=True)}

    def summary(self, level: float = 0.95, budgets: Sequence[float] = (5.76e23,)) -> str:
        """Readable summary: estimates, standard errors, intervals, derived quantities,
        escalation counts and diagnostics (their warnings are printed, not raised)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnconvergedResamplesWarning)
            return self._summary(level, budgets)

    def _summary(self, level: float, budgets: Sequence[float]) -> str:
        se, iv, hat = self.stderr(), self.interval(level), self.params_hat._asdict()
        cfg = self.config
        lines = [
            f"scaling_jax bootstrap: law={self.law.name}, {len(self)} resamples "
            f"(scheme={cfg.get('scheme')}, starts={cfg.get('starts')}, seed={cfg.get('seed')}), "
            f"{cfg.get('n_points')} runs",
            f"  full-data objective {self.objective_hat:.10e}; resample status: "
            + ", ".join(f"{k} {v}" for k, v in self.status_counts().items())
            + f"; median lanes in best basin {float(np.median(self.n_basin)):g}",
            "  resamples escalated: {escalated} (trust-region Newton {newton}, multi-start "
            "{multistart}); unconverged: {unconverged}".format(**self.escalation_counts()),
            f"  {'param':>8} {'estimate':>12} {'stderr':>12}   {int(level * 100)}% interval",
        ]
        for k in self.natural_names:
            lines.append(
                f"  {k:>8} {hat[k]:>12.6g} {se[k]:>12.4g}   [{iv[k][0]:.6g}, {iv[k][1]:.6g}]"
            )
        nd_law = set(self.law.feature_names) <= {"N", "D"}
        d = self.derived_intervals(budgets=list(budgets), level=level) if nd_law else {}
        for k in ("a_N", "b_D"):
            if k not in d:
                continue
            v = d[k]
            lines.append(
                f"  {k:>8} {float(v['estimate']):>12.6g} {float(v['stderr']):>12.4g}   "
                f"[{float(v['low']):.6g}, {float(v['high']):.6g}]"
            )
        for j, c in enumerate(budgets if d else ()):
            units = {"N_opt": "parameters", "D_opt": "tokens", "tokens_per_param": "tokens/param"}
            for k, unit in units.items():
                v = d[k]
                lines.append(
                    f"  {k}(C={c:.3g} FLOPs) = {float(v['estimate'][j]):.4g} {unit}  "
                    f"[{float(v['low'][j]):.4g}, {float(v['high'][j]):.4g}]"
                )
        if self.timings:
            lines.append("  time: " + ", ".join(f"{k} {v:.2f}s" for k, v in self.timings.items()))
        notes = self.diagnostics + (self.extrapolation_diagnostics(budgets) if d else ())
        if notes:
            lines.append("  diagnostics:")
            lines += format_diagnostics(notes, "    ")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnconvergedResamplesWarning)
            return self._to_dict()

    def _to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "law": self.law.name,
            "param_names": list(self.param_names),
            "indices": self.indices.tolist(),
            "theta": self.theta.tolist(),
            "objective": [json_float(v) for v in self.objective],
            "grad_norm": [json_float(v) for v in self.grad_norm],
            "status": self.status.tolist(),
            "n_basin": self.n_basin.tolist(),
            "n_eval": self.n_eval.tolist(),
            "theta_hat": self.theta_hat.tolist(),
            "objective_hat": self.objective_hat,
            "jackknife": None if self.jackknife is None else self.jackknife.tolist(),
            "config": self.config,
            "timings": self.timings,
            **({} if self.data is None else {"data": runs_to_json(self.data)}),
            "stderr": self.stderr(),
            "interval_95": {k: list(v) for k, v in self.interval(0.95).items()},
            "verified": None if self.verified is None else self.verified.tolist(),
            "escalation": None if self.escalation is None else self.escalation.tolist(),
            "escalation_counts": self.escalation_counts(),
            "fit_diagnostics": [d.to_dict() for d in self.fit_diagnostics],
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write everything (per-resample fits included) as JSON, atomically."""
        write_json_atomic(path, self.to_dict())

    @classmethod
    def from_dict(cls, blob: Mapping[str, Any], law: Law | None = None) -> BootstrapResult:
        """Rebuild a result from `to_dict` output; `law` is required for a user law."""

        def arr(key: str, dtype: Any = np.float64) -> np.ndarray:
            return np.asarray([np.nan if v is None else v for v in blob[key]], dtype)

        k = len(blob["theta_hat"])
        jack = blob.get("jackknife")
        return cls(
            law=saved_law(blob["law"], blob["param_names"], law),
            param_names=tuple(blob["param_names"]),
            indices=np.asarray(blob["indices"], np.int64),
            theta=np.asarray(blob["theta"], np.float64).reshape(-1, k),
            objective=arr("objective"),
            grad_norm=arr("grad_norm"),
            status=np.asarray(blob["status"], np.int64),
            n_basin=np.asarray(blob["n_basin"], np.int64),
            n_eval=np.asarray(blob["n_eval"], np.int64),
            theta_hat=np.asarray(blob["theta_hat"], np.float64),
            objective_hat=float(blob["objective_hat"]),
            jackknife=None if jack is None else np.asarray(jack, np.float64).reshape(-1, k),
            config=dict(blob.get("config", {})),
            timings=dict(blob.get("timings", {})),
            data=runs_from_json(blob["data"]) if blob.get("data") else None,
            verified=None if blob.get("verified") is None else np.asarray(blob["verified"], bool),
            escalation=(
                None if blob.get("escalation") is None else np.asarray(blob["escalation"], np.int64)
            ),
            fit_diagnostics=diagnostics_from_json(blob.get("fit_diagnostics")),
        )

    @classmethod
    def from_json(cls, path: str | os.PathLike[str], law: Law | None = None) -> BootstrapResult:
        """Read a result written by `to_json`. A registry law is reloaded by its stored name;
        for a user law pass the same `Law` object (``law=custom_law(...)``)."""
        return cls.from_dict(json.loads(Path(path).read_text()), law)

    def to_csv(
        self,
        path: str | os.PathLike[str],
        budgets: Any = None,
        points: Any = None,
        level: float = 0.95,
        method: str = "percentile",
    ) -> None:
        """Summary table (quantity, estimate, stderr, low, high) as CSV, written atomically."""
        hat = self.params_hat._asdict()
        se = self.stderr()
        iv = self.interval(level, method)
        rows = [("quantity", "estimate", "stderr", f"low_{level:g}", f"high_{level:g}")]
        rows += [(k, hat[k], se[k], *iv[k]) for k in self.natural_names]
        d = self.derived_intervals(budgets, points, level, method)
        labels: dict[str, list[str]] = {k: [k] for k in ("a_N", "b_D") if k in d}
        if budgets is not None:
            cs = np.atleast_1d(np.asarray(budgets, float))
            for k in ("N_opt", "D_opt", "tokens_per_param"):
                labels[k] = [f"{k}(C={c:.6g})" for c in cs]
        if points is not None:
            Ns, Ds = (np.atleast_1d(np.asarray(v, float)) for v in points)
            labels["loss"] = [f"loss(N={n:.6g},D={dd:.6g})" for n, dd in zip(Ns, Ds, strict=True)]
        for k, names in labels.items():
            v = {f: np.atleast_1d(d[k][f]) for f in ("estimate", "stderr", "low", "high")}
            for j, name in enumerate(names):
                rows.append((name, v["estimate"][j], v["stderr"][j], v["low"][j], v["high"][j]))
        text = "\n".join(
            ",".join(c if isinstance(c, str) else repr(float(c)) for c in row) for row in rows
        )
        write_bytes_atomic(Path(path), (text + "\n").encode())


def check_budgets(budgets: Any) -> None:
    if budgets is None:
        return
    b = np.asarray(budgets, dtype=float)
    if not np.all(np.isfinite(b) & (b > 0)):
        raise ValueError(f"budgets must be finite and positive FLOPs, got {budgets!r}")
