"""Law comparison by extrapolation: fit on small runs, predict the large ones.

A scaling law is useful for what it predicts beyond the data it was fitted on. `compare_laws`
fits each law to the runs at or below a threshold (training compute C = 6ND in FLOPs, or
parameters N) and scores its predictions on the held-out larger runs: RMSE of log-loss,
maximum absolute relative error of the loss, and bias (mean log residual; > 0 means the law
predicts too high a loss). The result is an `ExtrapolationTable`.

Prediction intervals come from a **residual bootstrap**, the resamples of
``bootstrap(scheme="residual")`` (`resampling.residual_offsets`, the objective's
``lane="offset"``): the training residuals of the best fit are resampled onto its fitted
values, the law is refitted to each resample (all resamples in one batched L-BFGS solve,
started from the best fit), and each held-out prediction gets a resampled residual added, so
the interval covers both parameter uncertainty and run-to-run scatter.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scaling_jax._io import read_json, write_json_atomic
from scaling_jax._precision import float64_call
from scaling_jax.data import Runs, as_runs
from scaling_jax.fitting.multistart import FitResult, fit, fit_data
from scaling_jax.fitting.objective import make_objective
from scaling_jax.fitting.resampling import residual_offsets
from scaling_jax.fitting.solver import FitStatus, SolverOptions, solve_starts
from scaling_jax.laws import Law, get_law, validate_law

__all__ = [
    "LawExtrapolation",
    "ExtrapolationTable",
    "holdout_mask",
    "fit_law",
    "compare_laws",
    "INTERVAL_METHOD",
]

INTERVAL_METHOD = "residual_bootstrap"


def holdout_mask(runs: Runs, threshold: float, by: str = "compute") -> np.ndarray:
    """Boolean mask of the held-out runs: those with C = 6ND (FLOPs) or N above `threshold`."""
    if by not in ("compute", "N"):
        raise ValueError(f"by={by!r}: use 'compute' (C = 6ND, FLOPs) or 'N' (parameters)")
    if not (isinstance(threshold, (int, float)) and math.isfinite(threshold)):
        raise ValueError(f"threshold must be a finite number, got {threshold!r}")
    values = runs.compute if by == "compute" else runs.N
    return values > threshold


def fit_law(data: Any, law: str | Law = "chinchilla", **fit_kwargs: Any) -> FitResult:
    """`validate_law` (clear ValueErrors for a law that cannot fit these runs), then `fit`."""
    law = get_law(law)
    load = {
        k: fit_kwargs.pop(k)
        for k in ("n", "d", "loss", "compute", "weights", "extra")
        if k in fit_kwargs
    }
    runs = as_runs(data, **load)
    starts = fit_kwargs.get("starts", "grid")
    theta = np.asarray(starts, float) if not isinstance(starts, (str, int)) else None
    validate_law(law, runs, theta)
    return fit(runs, law, **fit_kwargs)


@dataclass(frozen=True)
class LawExtrapolation:
    """One law's held-out performance. Losses in nats/token; errors on held-out runs.

    Attributes:
      law: the law's name. n_train, n_test: runs fitted / held out.
      train_objective: summed Huber objective of the fit. params: fitted natural parameters.
      rmse_log: sqrt(mean((log pred - log obs)**2)). max_abs_rel_err: max |pred/obs - 1|.
      bias: mean(log pred - log obs) (> 0: the law predicts too high a loss).
      observed, predicted: held-out losses.
      lower, upper: prediction interval at `level` (None without resamples).
      coverage: fraction of held-out runs inside the interval (None without resamples).
      train_predicted: the fit's predicted losses on the training runs (for plots).
    """

    law: str
    n_train: int
    n_test: int
    train_objective: float
    params: dict[str, float]
    rmse_log: float
    max_abs_rel_err: float
    bias: float
    observed: np.ndarray
    predicted: np.ndarray
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    coverage: float | None = None
    train_predicted: np.ndarray | None = None
    fit: FitResult | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        def arr(x: np.ndarray | None) -> list[float] | None:
            return None if x is None else [float(v) for v in x]

        return {
            "law": self.law,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "train_objective": self.train_objective,
            "params": dict(self.params),
            "rmse_log": self.rmse_log,
            "max_abs_rel_err": self.max_abs_rel_err,
            "bias": self.bias,
            "coverage": self.coverage,
            "observed": arr(self.observed),
            "predicted": arr(self.predicted),
            "lower": arr(self.lower),
            "upper": arr(self.upper),
        }

    @classmethod
    def from_dict(cls, blob: Mapping[str, Any]) -> LawExtrapolation:
        """Inverse of `to_dict` (the fit itself and the training predictions are not stored)."""

        def arr(x: Any) -> np.ndarray | None:
            return None if x is None else np.asarray(x, dtype=np.float64)

        return cls(
            law=str(blob["law"]),
            n_train=int(blob["n_train"]),
            n_test=int(blob["n_test"]),
            train_objective=float(blob["train_objective"]),
            params={k: float(v) for k, v in blob["params"].items()},
            rmse_log=float(blob["rmse_log"]),
            max_abs_rel_err=float(blob["max_abs_rel_err"]),
            bias=float(blob["bias"]),
            observed=arr(blob["observed"]),
            predicted=arr(blob["predicted"]),
            lower=arr(blob.get("lower")),
            upper=arr(blob.get("upper")),
            coverage=None if blob.get("coverage") is None else float(blob["coverage"]),
        )


@dataclass(frozen=True)
class ExtrapolationTable:
    """Held-out errors of several laws fitted to the same training runs.

    Attributes:
      rows: one `LawExtrapolation` per law, in the order given.
      by, threshold: the split (runs with C = 6ND or N above `threshold` are held out).
      test_mask: which runs were held out.
      interval_method, level, n_resamples: how prediction intervals were made.
    """

    rows: tuple[LawExtrapolation, ...]
    by: str
    threshold: float
    test_mask: np.ndarray
    interval_method: str | None
    level: float
    n_resamples: int

    def __getitem__(self, law: str) -> LawExtrapolation:
        for row in self.rows:
            if row.law == law:
                return row
        raise KeyError(f"no law {law!r}; have {[r.law for r in self.rows]}")

    @property
    def best(self) -> str:
        """The law with the lowest held-out RMSE of log-loss."""
        return min(self.rows, key=lambda r: r.rmse_log).law

    def summary(self) -> str:
        unit = "FLOPs" if self.by == "compute" else "parameters"
        n_test = int(self.test_mask.sum())
        lines = [
            f"extrapolation: fit on {len(self.test_mask) - n_test} runs with {self.by} <= "
            f"{self.threshold:.3g} {unit}, predict {n_test} held-out runs",
            f"{'law':<26}{'train obj':>12}{'RMSE(log)':>12}{'max|rel|':>10}{'bias':>11}"
            + (f"{'coverage':>10}" if self.interval_method else ""),
        ]
        for r in self.rows:
            cov = "" if r.coverage is None else f"{r.coverage:>10.2f}"
            lines.append(
                f"{r.law:<26}{r.train_objective:>12.4e}{r.rmse_log:>12.4e}"
                f"{r.max_abs_rel_err:>10.4f}{r.bias:>+11.3e}{cov}"
            )
        if self.interval_method:
            lines.append(
                f"intervals: {self.level:.0%} from a {self.interval_method} with "
                f"{self.n_resamples} resamples"
            )
        lines.append(f"best held-out RMSE: {self.best}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "threshold": self.threshold,
            "n_runs": len(self.test_mask),
            "test_index": np.flatnonzero(self.test_mask).tolist(),
            "interval_method": self.interval_method,
            "level": self.level,
            "n_resamples": self.n_resamples,
            "best": self.best,
            "laws": [r.to_dict() for r in self.rows],
        }

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write `to_dict` as JSON to `path`, atomically (temporary file, then rename)."""
        write_json_atomic(path, self.to_dict())

    @classmethod
    def from_dict(cls, blob: Mapping[str, Any]) -> ExtrapolationTable:
        """Inverse of `to_dict` (rows without their `FitResult`s)."""
        mask = np.zeros(int(blob["n_runs"]), dtype=bool)
        mask[np.asarray(blob["test_index"], dtype=np.int64)] = True
        return cls(
            rows=tuple(LawExtrapolation.from_dict(r) for r in blob["laws"]),
            by=str(blob["by"]),
            threshold=float(blob["threshold"]),
            test_mask=mask,
            interval_method=blob.get("interval_method"),
            level=float(blob["level"]),
            n_resamples=int(blob["n_resamples"]),
        )

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> ExtrapolationTable:
        """Read a table written by `to_json`."""
        return cls.from_dict(read_json(path))


def _predict_log(law: Law, theta: Any, runs: Runs) -> np.ndarray:
    feats = {k: jnp.asarray(v) for k, v in runs.features(law.feature_names).items()}
    return np.asarray(law.log_loss(jnp.asarray(theta), feats))


def _residual_bootstrap(
    law: Law,
    result: FitResult,
    train: Runs,
    test: Runs,
    n_resamples: int,
    level: float,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Prediction interval (lower, upper) of held-out losses; see the module docstring."""
    fitted = _predict_log(law, result.theta, train)
    resid = train.log_loss - fitted
    # The same resamples as bootstrap(scheme="residual"): y* = fitted + r[idx].
    offsets = np.stack([residual_offsets(resid, i, seed) for i in range(n_resamples)])
    fdata = fit_data(train, law, result.delta, jnp.float64)
    theta0 = np.tile(result.theta, (n_resamples, 1))
    sol = solve_starts(
        make_objective(law.log_loss, lane="offset"),
        theta0,
        fdata,
        SolverOptions(),
        lane_data=jnp.asarray(offsets),
    )
    rng = np.random.default_rng(seed)  # new-run noise on the predictions
    ok = np.isfinite(sol.objective) & (sol.status != FitStatus.NON_FINITE)
    feats = {k: jnp.asarray(v) for k, v in test.features(law.feature_names).items()}
    preds = np.asarray(jax.vmap(lambda t: law.log_loss(t, feats))(jnp.asarray(sol.theta[ok])))
    preds = preds + resid[rng.integers(0, len(resid), preds.shape)]
    q = (1.0 - level) / 2.0
    lo, hi = np.quantile(np.exp(preds), [q, 1.0 - q], axis=0)
    return lo, hi


@float64_call
def compare_laws(
    data: Any,
    laws: Sequence[str | Law] = ("chinchilla", "kaplan"),
    *,
    holdout_above: float,
    by: str = "compute",
    fit_kwargs: Mapping[str, Any] | None = None,
    law_fit_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
    n_resamples: int = 0,
    level: float = 0.9,
    seed: int = 0,
    **load_kwargs: Any,
) -> ExtrapolationTable:
    """Fit each law on the runs with `by` <= `holdout_above`, score it on the rest.

    Args:
      data: a `Runs` or anything `load_runs` reads (column names via `load_kwargs`).
      laws: law names (see `scaling_jax.laws.LAWS`) or `Law` objects.
      holdout_above: runs with C = 6ND (FLOPs, ``by="compute"``) or N (``by="N"``) above this
        are held out.
      fit_kwargs: passed to `scaling_jax.fit` for every law (e.g. ``mode="fast"``);
        law_fit_kwargs: per law name, overriding them (e.g. ``{"kaplan": {"starts": 64}}``).
      n_resamples: residual-bootstrap resamples for prediction intervals (0: none).
      level: central coverage of the intervals.
    """
    runs = as_runs(data, **load_kwargs)
    test_mask = holdout_mask(runs, holdout_above, by)
    n_test = int(test_mask.sum())
    if n_test == 0:
        raise ValueError(f"no runs have {by} > {holdout_above:g}; nothing to hold out")
    if n_test == len(runs):
        raise ValueError(f"every run has {by} > {holdout_above:g}; nothing left to fit on")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    train, test = runs.subset(~test_mask), runs.subset(test_mask)
    rows = []
    for spec in laws:
        law = get_law(spec)
        kwargs = dict(fit_kwargs or {})
        kwargs.update((law_fit_kwargs or {}).get(law.name, {}))
        result = fit_law(train, law, **kwargs)
        log_pred = _predict_log(law, result.theta, test)
        r = log_pred - test.log_loss
        pred = np.exp(log_pred)
        lower = upper = coverage = None
        if n_resamples > 0:
            lower, upper = _residual_bootstrap(law, result, train, test, n_resamples, level, seed)
            coverage = float(np.mean((test.loss >= lower) & (test.loss <= upper)))
        rows.append(
            LawExtrapolation(
                law=law.name,
                n_train=len(train),
                n_test=n_test,
                train_objective=result.objective,
                params=result.params_dict,
                rmse_log=float(np.sqrt(np.mean(r**2))),
                max_abs_rel_err=float(np.max(np.abs(pred / test.loss - 1.0))),
                bias=float(np.mean(r)),
                observed=test.loss.copy(),
                predicted=pred,
                lower=lower,
                upper=upper,
                coverage=coverage,
                train_predicted=np.exp(_predict_log(law, result.theta, train)),
                fit=result,
            )
        )
    return ExtrapolationTable(
        rows=tuple(rows),
        by=by,
        threshold=float(holdout_above),
        test_mask=test_mask,
        interval_method=INTERVAL_METHOD if n_resamples > 0 else None,
        level=float(level),
        n_resamples=int(n_resamples),
    )
