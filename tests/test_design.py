"""Experiment design (`sizing.design`), its CLI and the accuracy/design plots."""

from __future__ import annotations

import csv
import io
import math

import jax.numpy as jnp
import numpy as np
import pytest

import scaling_jax as sj
from scaling_jax.cli import main
from scaling_jax.laws import CHINCHILLA, chinchilla_grid
from scaling_jax.presets import EPOCH_2024
from scaling_jax.sizing.design import design, huber_efficiency, information_matrix
from scaling_jax.sizing.optimal import compute_optimal

TARGET, ALLOWANCE, K = 1e24, 1e21, 6


def _pilot(seed: int = 1) -> sj.Runs:
    N = np.repeat(np.geomspace(3e7, 4e8, 4), 4)
    D = N * np.tile(np.geomspace(5, 100, 4), 4)
    return sj.synthetic_runs(EPOCH_2024, design=(N, D), noise=0.0076, seed=seed)


@pytest.fixture(scope="module")
def pilot_fit():
    runs = _pilot()
    return runs, sj.fit(runs, starts=chinchilla_grid()[::18])


def test_huber_efficiency_against_quadrature():
    scipy_integrate = pytest.importorskip("scipy.integrate")
    sigma, delta = 0.01, 0.004

    def density(r):
        return math.exp(-0.5 * (r / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))

    lim = 12 * sigma
    e_psi2 = scipy_integrate.quad(
        lambda r: min(r * r, delta * delta) * density(r), -lim, lim, points=[-delta, delta]
    )[0]
    e_dpsi = scipy_integrate.quad(density, -delta, delta)[0]
    assert huber_efficiency(sigma, delta) == pytest.approx(e_psi2 / e_dpsi**2, rel=1e-8)
    # Least squares and least absolute deviations as the limits.
    assert huber_efficiency(0.01, 10.0) == pytest.approx(1e-4, rel=1e-9)
    assert huber_efficiency(0.01, 1e-7) == pytest.approx(math.pi / 2 * 1e-4, rel=1e-4)
    with pytest.raises(ValueError, match="sigma"):
        huber_efficiency(0.0, 1e-3)


def test_information_matrix_is_jacobian_gram_matrix(pilot_fit):
    runs, fitted = pilot_fit
    M = information_matrix(CHINCHILLA, fitted.theta, runs)
    # Central finite differences of the log prediction give J; M must equal J^T J.
    th = np.asarray(fitted.theta)
    feats = {"N": jnp.asarray(runs.N), "D": jnp.asarray(runs.D)}
    h = 1e-6
    J = np.stack(
        [
            (
                np.asarray(CHINCHILLA.log_loss(jnp.asarray(th + h * e), feats))
                - np.asarray(CHINCHILLA.log_loss(jnp.asarray(th - h * e), feats))
            )
            / (2 * h)
            for e in np.eye(len(th))
        ],
        axis=1,
    )
    np.testing.assert_allclose(M, J.T @ J, rtol=1e-6, atol=1e-9 * np.abs(M).max())


def test_design_within_budget_and_beats_isoflop_under_its_criterion(pilot_fit, tmp_path):
    runs, fitted = pilot_fit
    res = design(runs, fitted, TARGET, budget_for_new_runs=ALLOWANCE, k=K)
    assert len(res.N) == K and len({(n, d) for n, d in zip(res.N, res.D, strict=True)}) == K
    assert res.compute.sum() <= ALLOWANCE * (1 + 1e-9)
    np.testing.assert_allclose(res.compute, 6 * res.N * res.D)
    assert res.sd_log_n_opt < res.sd_log_n_opt_pilot
    np.testing.assert_allclose(res.n_opt, float(compute_optimal(fitted.params, TARGET)[0]))

    # The same criterion evaluated directly for an isoFLOP grid of the same total compute.
    M = information_matrix(CHINCHILLA, fitted.theta, runs)
    c_each = ALLOWANCE / K
    n_iso = float(compute_optimal(fitted.params, c_each)[0]) * np.geomspace(0.25, 4, K)
    iso = sj.Runs(N=n_iso, D=c_each / (6 * n_iso), loss=np.ones(K))
    M_iso = M + information_matrix(CHINCHILLA, fitted.theta, iso)
    g = _grad_log_n_opt(fitted.theta)
    sd_iso = math.sqrt(res.kappa * g @ np.linalg.solve(M_iso, g))
    M_des = M + information_matrix(
        CHINCHILLA, fitted.theta, sj.Runs(N=res.N, D=res.D, loss=np.ones(K))
    )
    sd_des = math.sqrt(res.kappa * g @ np.linalg.solve(M_des, g))
    assert sd_des == pytest.approx(res.sd_log_n_opt, rel=1e-6)
    assert sd_des < sd_iso
    # Rank-one candidate scores agree with a direct solve.
    j = int(np.argmin(res.candidate_sd))
    n, d = res.candidates[j]
    one = sj.Runs(N=[n], D=[d], loss=[1.0])
    M1 = M + information_matrix(CHINCHILLA, fitted.theta, one)
    direct = math.sqrt(res.kappa * g @ np.linalg.solve(M1, g))
    assert res.candidate_sd[j] == pytest.approx(direct, rel=1e-6)

    text = res.to_csv().splitlines()
    assert text[0] == "N,D,compute,tokens_per_param" and len(text) == K + 1
    res.to_json(tmp_path / "design.json")
    back = type(res).from_json(tmp_path / "design.json")
    assert back.summary().splitlines()[:2] == res.summary().splitlines()[:2]
    assert back.rows() == res.rows() and back.params == res.params


def _grad_log_n_opt(theta):
    import jax

    def f(t):
        return jnp.log(compute_optimal(CHINCHILLA.to_params(t), TARGET)[0])

    return np.asarray(jax.grad(f)(jnp.asarray(theta)))


def test_design_input_errors(pilot_fit):
    runs, fitted = pilot_fit
    with pytest.raises(ValueError, match="budget_for_new_runs"):
        design(runs, fitted, TARGET, budget_for_new_runs=-1.0, k=K)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        design(runs, fitted, TARGET, budget_for_new_runs=ALLOWANCE, k=0)
    with pytest.raises(ValueError, match="only 1 candidates"):
        design(runs, fitted, TARGET, budget_for_new_runs=1e18, k=2, candidates=([1e8], [1e9]))
    with pytest.raises(ValueError, match="row 0"):
        design(runs, fitted, TARGET, budget_for_new_runs=1e18, k=1, candidates=([-1.0], [1e9]))
    with pytest.raises(ValueError, match="Chinchilla law"):
        design(runs, "kaplan", TARGET, budget_for_new_runs=ALLOWANCE, k=K)


def test_design_cli_prints_csv(tmp_path, capsys):
    runs = _pilot(seed=2)
    path = tmp_path / "pilot.csv"
    with path.open("w") as f:
        w = csv.writer(f)
        w.writerow(["params", "tokens", "loss"])
        w.writerows(zip(runs.N, runs.D, runs.loss, strict=True))
    rc = main(
        [
            "design", str(path), "--target-budget", "1e24", "--new-compute", "1e21",
            "--k", "4", "--plot", str(tmp_path / "d.png"),
        ]
    )  # fmt: skip
    assert rc == 0
    out = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(out.out)))
    assert len(rows) == 4
    total = sum(float(r["compute"]) for r in rows)
    assert total <= 1e21 * (1 + 1e-5)
    assert "predicted 95% interval of N_opt" in out.err
    assert (tmp_path / "d.png").stat().st_size > 0
    assert main(["design", str(path), "--target-budget", "1e24", "--new-compute", "-1"]) == 2


def test_plots_draw_into_axes(pilot_fit):
    from matplotlib.figure import Figure
    from plot_checks import assert_readable

    from scaling_jax.fitting.link_fit import fit_links
    from scaling_jax.plots.accuracy import plot_design, plot_link

    runs, fitted = pilot_fit
    res = design(runs, fitted, TARGET, budget_for_new_runs=ALLOWANCE, k=K)
    ax = Figure().subplots()
    assert plot_design(res, runs, ax=ax) is ax
    assert_readable(ax)
    offsets = [c.get_offsets() for c in ax.collections]
    assert any(np.allclose(np.asarray(o)[:, 0], res.N) for o in offsets if len(o) == K)
    assert ax.get_xscale() == "log"

    metric = 0.3 + 0.5 * np.exp(-1.2 * (runs.loss - runs.loss.min()))
    with_metric = sj.Runs(N=runs.N, D=runs.D, loss=runs.loss, extra={"acc": metric})
    links = fit_links(with_metric, ["acc"], "exponential", n_resamples=8)
    ax = Figure().subplots()
    assert plot_link(links, with_metric, "acc", ax=ax) is ax
    assert_readable(ax)
    line = ax.lines[0]
    np.testing.assert_allclose(line.get_ydata(), links.predict(line.get_xdata(), "acc"))
    assert ax.get_ylabel() == "acc (score)" and len(ax.collections) >= 2  # runs + band
