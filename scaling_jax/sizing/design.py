"""Which runs to train next: experiment design for N_opt at a target budget.

Given pilot runs and a fitted Chinchilla-form law (Hoffmann et al. 2022), `design` picks the
next k runs (N, D) -- within a compute allowance for new runs -- that minimize the predicted
variance of log N_opt(target budget), a c-optimal design.

Criterion (linearized covariance of the fit). The fit minimizes the summed Huber loss of
log-loss residuals. Around the fit theta_hat, its information matrix is the Hessian of that
objective on noise-free data (`jax.hessian` of the `fitting.objective.make_objective`
objective with every residual zero):
    M = sum_i w_i J_i J_i^T,  J_i = d log L_pred(theta; N_i, D_i) / d theta.
For Gaussian log-loss noise of scale sigma, the M-estimator's covariance is the sandwich
``kappa * M^-1`` with ``kappa = E[psi(r)^2] / E[psi'(r)]^2`` (psi = Huber's derivative, delta the
Huber threshold; kappa -> sigma^2 as delta -> inf). sigma is estimated robustly from the pilot
fit's residuals (RMS over n - k degrees of freedom). The delta method then gives

    Var(log N_opt(C)) ~= kappa * g^T (M_pilot + sum_{j in S} J_j J_j^T)^-1 g,
    g = d log N_opt(theta; C) / d theta     (closed-form optimum, `jax.grad`).

Search. Candidates are a grid of (N, D) (or the user's); every candidate's J_j is one
`jax.vmap` of `jax.jacfwd`, and the criterion after adding any one candidate is a rank-one
(Sherman-Morrison) update evaluated for all candidates at once. Greedy selection picks the best
affordable candidate k times (keeping enough compute for the runs still to pick); exchange
passes then revisit each pick, replacing it with the best candidate the rest of the budget
allows, until no swap improves the criterion (Fedorov-style exchange). Repeated configurations
are not allowed.
"""

from __future__ import annotations

import csv
import io
import math
import os
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
from scaling_jax.laws import CHINCHILLA, ChinchillaParams, Law, get_law
from scaling_jax.sizing.optimal import compute_optimal

Array = Any

__all__ = [
    "design",
    "DesignResult",
    "default_candidates",
    "huber_efficiency",
    "information_matrix",
]

FLOPS_PER_PARAM_TOKEN = 6.0


def huber_efficiency(sigma: float, delta: float) -> float:
    """kappa = E[psi(r)^2] / E[psi'(r)]^2 for r ~ N(0, sigma^2) and Huber threshold delta.

    The sandwich covariance of a Huber M-estimator is kappa * (sum J J^T)^-1; kappa = sigma^2
    for least squares (delta -> inf) and pi/2 * sigma^2 for least absolute deviations
    (delta -> 0).
    """
    if not (sigma > 0 and delta > 0):
        raise ValueError(f"sigma and delta must be > 0, got sigma={sigma!r}, delta={delta!r}")
    t = delta / sigma
    inside = math.erf(t / math.sqrt(2.0))  # P(|r| <= delta) = E[psi']
    phi = math.exp(-0.5 * t * t) / math.sqrt(2.0 * math.pi)
    e_psi2 = sigma**2 * (inside - 2.0 * t * phi) + delta**2 * (1.0 - inside)
    return e_psi2 / inside**2


def default_candidates(
    runs: Runs,
    budget_for_new_runs: float,
    n_sizes: int = 32,
    n_ratios: int = 24,
    ratio_range: tuple[float, float] = (5.0, 500.0),
) -> tuple[np.ndarray, np.ndarray]:
    """A log-spaced (N, D) grid: tokens per parameter D/N in `ratio_range`, N from half the
    smallest pilot model up to the largest model the allowance can train on its own at the
    smallest ratio; only configurations costing at most `budget_for_new_runs` (6·N·D FLOPs)."""
    r_lo, r_hi = ratio_range
    n_hi = math.sqrt(budget_for_new_runs / (FLOPS_PER_PARAM_TOKEN * r_lo))
    n_lo = min(float(runs.N.min()) / 2.0, n_hi / 10.0)
    N, ratio = np.meshgrid(np.geomspace(n_lo, n_hi, n_sizes), np.geomspace(r_lo, r_hi, n_ratios))
    N, D = N.ravel(), (N * ratio).ravel()
    cost = FLOPS_PER_PARAM_TOKEN * N * D
    keep = cost <= budget_for_new_runs * (1 + 1e-12)
    return N[keep], D[keep]


@dataclass(frozen=True)
class DesignResult:
    """The chosen runs and the predicted precision of N_opt(target budget).

    Attributes:
      N, D, compute: the k chosen runs (parameters, tokens, 6·N·D FLOPs), in the order picked.
      target_budget: the compute (FLOPs) whose N_opt the design pins down.
      budget_for_new_runs: the compute allowance (FLOPs); `compute.sum()` is within it.
      n_opt: N_opt(target_budget) of the pilot fit (parameters).
      sd_log_n_opt_pilot, sd_log_n_opt: predicted standard deviation of log N_opt with the
        pilot runs only, and with the chosen runs added.
      sigma: robust scale of the pilot's log-loss residuals; kappa: Huber sandwich factor.
      params: the pilot fit's `ChinchillaParams`; n_candidates: candidates searched.
      candidates: (C, 2) candidate (N, D); candidate_sd: predicted sd of log N_opt after
        adding each candidate alone to the pilot (what the first greedy step saw).
      exchanges: swaps the exchange passes made.
    """

    N: np.ndarray
    D: np.ndarray
    compute: np.ndarray
    target_budget: float
    budget_for_new_runs: float
    n_opt: float
    sd_log_n_opt_pilot: float
    sd_log_n_opt: float
    sigma: float
    kappa: float
    params: ChinchillaParams
    candidates: np.ndarray
    candidate_sd: np.ndarray
    exchanges: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    def interval_factor(self, level: float = 0.95, pilot: bool = False) -> float:
        """Predicted multiplicative half-width of the N_opt interval: N_opt x/÷ factor."""
        from statistics import NormalDist

        z = NormalDist().inv_cdf(0.5 + level / 2)
        return math.exp(z * (self.sd_log_n_opt_pilot if pilot else self.sd_log_n_opt))

    def rows(self) -> list[dict[str, float]]:
        return [
            {"N": float(n), "D": float(d), "compute": float(c), "tokens_per_param": float(d / n)}
            for n, d, c in zip(self.N, self.D, self.compute, strict=True)
        ]

    def to_csv(self) -> str:
        """The chosen runs as CSV text (columns N, D, compute, tokens_per_param)."""
        buf = io.StringIO()
        writer = csv.DictWriter(buf, ["N", "D", "compute", "tokens_per_param"], lineterminator="\n")
        writer.writeheader()
        for row in self.rows():
            writer.writerow({k: f"{v:.6g}" for k, v in row.items()})
        return buf.getvalue()

    def summary(self) -> str:
        lines = [
            f"design: {len(self.N)} runs, {self.compute.sum():.3g} of "
            f"{self.budget_for_new_runs:.3g} FLOPs, for N_opt at C = {self.target_budget:.3g} "
            f"(pilot estimate {self.n_opt:.4g})",
            f"  predicted 95% interval of N_opt: x/÷ {self.interval_factor(pilot=True):.3f} "
            f"(pilot) -> x/÷ {self.interval_factor():.3f} (with these runs)",
            f"  pilot residual scale {self.sigma:.4g} (log loss), Huber factor kappa "
            f"{self.kappa:.3g}; {len(self.candidates)} candidates, {self.exchanges} exchanges",
        ]
        lines += [
            f"  N {r['N']:.4g}  D {r['D']:.4g}  C {r['compute']:.3g}  "
            f"D/N {r['tokens_per_param']:.3g}"
            for r in self.rows()
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        return {
            "runs": self.rows(),
            "target_budget": self.target_budget,
            "budget_for_new_runs": self.budget_for_new_runs,
            "n_opt": self.n_opt,
            "sd_log_n_opt_pilot": self.sd_log_n_opt_pilot,
            "sd_log_n_opt": self.sd_log_n_opt,
            "sigma": self.sigma,
            "kappa": self.kappa,
            "params": dict(self.params._asdict()),
            "exchanges": self.exchanges,
        }

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write `to_dict` as JSON to `path`, atomically (temporary file, then rename)."""
        write_json_atomic(path, self.to_dict())

    @classmethod
    def from_dict(cls, blob: dict[str, Any]) -> DesignResult:
        """Inverse of `to_dict`. The candidate grid is not stored: `candidates` and
        `candidate_sd` come back empty."""
        runs = blob["runs"]
        return cls(
            N=np.asarray([r["N"] for r in runs], np.float64),
            D=np.asarray([r["D"] for r in runs], np.float64),
            compute=np.asarray([r["compute"] for r in runs], np.float64),
            target_budget=float(blob["target_budget"]),
            budget_for_new_runs=float(blob["budget_for_new_runs"]),
            n_opt=float(blob["n_opt"]),
            sd_log_n_opt_pilot=float(blob["sd_log_n_opt_pilot"]),
            sd_log_n_opt=float(blob["sd_log_n_opt"]),
            sigma=float(blob["sigma"]),
            kappa=float(blob["kappa"]),
            params=ChinchillaParams(**{k: float(v) for k, v in blob["params"].items()}),
            candidates=np.zeros((0, 2)),
            candidate_sd=np.zeros(0),
            exchanges=int(blob.get("exchanges", 0)),
        )

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> DesignResult:
        """Read a design written by `to_json`."""
        return cls.from_dict(read_json(path))


def information_matrix(law: Law, theta: Any, runs: Runs, delta: float = 1e-3) -> np.ndarray:
    """Fisher information (k, k) of a Huber fit at `theta`: ``jax.hessian`` of the summed
    Huber objective on noise-free data (every residual zero, so Huber'' = 1):
    ``sum_i w_i J_i J_i^T`` with ``J_i = d log L_pred(theta; x_i) / d theta``."""
    data = fit_data(runs, law, delta, jnp.float64)
    th = jnp.asarray(theta, jnp.float64)
    noise_free = data._replace(log_loss=law.log_loss(th, data.features))
    hess = jax.hessian(lambda t: make_objective(law.log_loss)(t, noise_free))(th)
    return np.asarray(hess, np.float64)


def _pilot(runs: Runs, law: Any, delta: float) -> tuple[Law, np.ndarray]:
    if isinstance(law, FitResult):
        lw = get_law(law.law)
        theta = np.asarray(law.theta, np.float64)
    elif isinstance(law, ChinchillaParams):
        lw = CHINCHILLA
        theta = np.asarray(CHINCHILLA.from_params(law), np.float64)
    else:
        lw = get_law(law)
        _check_chinchilla(lw)
        theta = np.asarray(fit(runs, lw, delta=delta, mode="fast").theta, np.float64)
    _check_chinchilla(lw)
    return lw, theta


def _check_chinchilla(law: Law) -> None:
    if law.name != CHINCHILLA.name:
        raise ValueError(
            f"design needs the Chinchilla law (closed-form N_opt), got law {law.name!r}"
        )


def _check_positive(name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number of FLOPs, got {value!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a positive finite number of FLOPs, got {value!r}")
    return v


def _crit_add(minv: np.ndarray, g: np.ndarray, J: np.ndarray) -> np.ndarray:
    """g^T (M + J_c J_c^T)^-1 g for every candidate row J_c (Sherman-Morrison)."""
    v = J @ minv  # (C, k)
    u = v @ g
    q = np.einsum("ck,ck->c", v, J)
    return float(g @ minv @ g) - u * u / (1.0 + q)


@float64_call
def design(
    runs: Any,
    law: Any = "chinchilla",
    target_budget: float = 1e24,
    *,
    candidates: Any = None,
    budget_for_new_runs: float,
    k: int = 8,
    delta: float = 1e-3,
    exchange_passes: int = 4,
    **load_kwargs: Any,
) -> DesignResult:
    """The next `k` runs minimizing the predicted width of the N_opt(`target_budget`) interval.

    Args:
      runs: the pilot runs (a `Runs`, CSV path, DataFrame or mapping; column options as in
        `load_runs`).
      law: ``"chinchilla"`` (fitted to `runs` here), a Chinchilla `FitResult`, or
        `ChinchillaParams` to linearize around.
      target_budget: training FLOPs whose compute-optimal N the design should pin down.
      candidates: (N, D) arrays of allowed configurations (default: `default_candidates`).
      budget_for_new_runs: total training FLOPs (6·N·D summed) the k new runs may use.
      k: number of runs to choose.
      delta: Huber threshold of the fit (sets the sandwich factor kappa).
      exchange_passes: rounds of single-run exchanges after the greedy picks.
    """
    import time

    t0 = time.perf_counter()
    runs = as_runs(runs, **load_kwargs)
    target_budget = _check_positive("target_budget", target_budget)
    budget = _check_positive("budget_for_new_runs", budget_for_new_runs)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    law_obj, theta = _pilot(runs, law, delta)

    if candidates is None:
        cN, cD = default_candidates(runs, budget)
    else:
        try:
            cN, cD = (np.asarray(v, np.float64).ravel() for v in candidates)
        except (TypeError, ValueError):
            raise ValueError("candidates: expected (N, D) arrays") from None
        if cN.shape != cD.shape:
            raise ValueError(f"candidates: N has {cN.size} values, D has {cD.size}")
        bad = ~(np.isfinite(cN) & np.isfinite(cD) & (cN > 0) & (cD > 0))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"candidates: row {i} (N={cN[i]!r}, D={cD[i]!r}) is not positive")
    cost = FLOPS_PER_PARAM_TOKEN * cN * cD
    affordable = cost <= budget * (1 + 1e-12)
    if affordable.sum() < k:
        raise ValueError(
            f"only {int(affordable.sum())} candidates cost at most budget_for_new_runs="
            f"{budget:.3g} FLOPs; need k={k}"
        )
    cN, cD, cost = cN[affordable], cD[affordable], cost[affordable]
    if np.sort(cost)[:k].sum() > budget * (1 + 1e-12):
        raise ValueError(
            f"the {k} cheapest candidates together cost {np.sort(cost)[:k].sum():.3g} FLOPs, more "
            f"than budget_for_new_runs={budget:.3g}"
        )

    data = fit_data(runs, law_obj, delta, jnp.float64)
    th = jnp.asarray(theta)
    M = information_matrix(law_obj, theta, runs, delta)
    resid = np.log(runs.loss) - np.asarray(law_obj.log_loss(th, data.features))
    n_pts, n_par = len(runs), law_obj.n_params
    # RMS with a degrees-of-freedom correction: a near-LAD fit (delta = 1e-3) passes through
    # about k points exactly, which would bias a median-based scale low on small pilots.
    sigma = max(math.sqrt(float(np.sum(resid**2)) / max(n_pts - n_par, 1)), 1e-6)
    kappa = huber_efficiency(sigma, delta)

    def log_n_opt(t: Array) -> Array:
        return jnp.log(compute_optimal(law_obj.to_params(t), target_budget)[0])

    g = np.asarray(jax.grad(log_n_opt)(th), np.float64)
    n_opt = float(jnp.exp(log_n_opt(th)))

    def jac_row(n: Array, d: Array) -> Array:
        return jax.jacfwd(lambda t: law_obj.log_loss(t, {"N": n[None], "D": d[None]})[0])(th)

    J = np.asarray(jax.vmap(jac_row)(jnp.asarray(cN), jnp.asarray(cD)), np.float64)
    minv0 = np.linalg.inv(M)
    candidate_sd = np.sqrt(kappa * np.maximum(_crit_add(minv0, g, J), 0.0))

    def crit_of(chosen: list[int]) -> float:
        Mc = M + J[chosen].T @ J[chosen] if chosen else M
        return float(g @ np.linalg.solve(Mc, g))

    # Greedy: the best affordable candidate, keeping enough for the runs still to pick.
    chosen: list[int] = []
    c_min = np.sort(cost)
    for j in range(k):
        spent = cost[chosen].sum() if chosen else 0.0
        reserve = c_min[: k - j - 1].sum() if k - j - 1 > 0 else 0.0
        ok = cost <= budget - spent - reserve + budget * 1e-12
        ok[chosen] = False
        Mc = M + J[chosen].T @ J[chosen] if chosen else M
        crit = np.where(ok, _crit_add(np.linalg.inv(Mc), g, J), np.inf)
        chosen.append(int(np.argmin(crit)))

    # Exchange: replace one pick at a time by the best candidate the rest of the budget allows.
    exchanges = 0
    best = crit_of(chosen)
    for _ in range(exchange_passes):
        improved = False
        for slot in range(k):
            others = chosen[:slot] + chosen[slot + 1 :]
            ok = cost <= budget - cost[others].sum() + budget * 1e-12
            ok[others] = False
            Mc = M + J[others].T @ J[others]
            crit = np.where(ok, _crit_add(np.linalg.inv(Mc), g, J), np.inf)
            j = int(np.argmin(crit))
            if j != chosen[slot] and crit[j] < best * (1 - 1e-9):
                chosen[slot], best = j, float(crit[j])
                exchanges += 1
                improved = True
        if not improved:
            break

    sel = np.asarray(chosen)
    return DesignResult(
        N=cN[sel],
        D=cD[sel],
        compute=cost[sel],
        target_budget=target_budget,
        budget_for_new_runs=budget,
        n_opt=n_opt,
        sd_log_n_opt_pilot=math.sqrt(kappa * float(g @ minv0 @ g)),
        sd_log_n_opt=math.sqrt(kappa * crit_of(chosen)),
        sigma=sigma,
        kappa=kappa,
        params=ChinchillaParams(*(float(v) for v in law_obj.to_params(th))),
        candidates=np.stack([cN, cD], axis=1),
        candidate_sd=candidate_sd,
        exchanges=exchanges,
        timings={"total_s": time.perf_counter() - t0},
    )
