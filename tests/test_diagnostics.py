"""Diagnostics: each check provoked, and silent on clean synthetic data."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import shared_data_file

import scaling_jax as sj
from scaling_jax import diagnostics as dg
from scaling_jax.laws import ChinchillaParams, chinchilla_grid
from scaling_jax.presets import CHINCHILLA_2022

GRID = chinchilla_grid()[::150]  # 30 starts: same shapes as the bootstrap tests
NAMES = ("a", "b", "e", "alpha", "beta")


@pytest.fixture(scope="module")
def clean_runs() -> sj.Runs:
    return sj.synthetic_runs(CHINCHILLA_2022, n_runs=60, seed=1, noise=0.01)


@pytest.fixture(scope="module")
def clean_fit(clean_runs):
    return sj.fit(clean_runs, starts=GRID)


def _codes(notes) -> set[str]:
    return {d.code for d in notes}


# --------------------------------------------------------------------------------------------
# The note itself


def test_diagnostic_is_data_and_round_trips_json():
    d = dg.Diagnostic("x", "warning", "msg", {"a": np.float64(1.5), "b": np.arange(2), "c": np.inf})
    blob = json.loads(json.dumps(d.to_dict()))
    assert blob == {
        "code": "x",
        "severity": "warning",
        "message": "msg",
        "numbers": {"a": 1.5, "b": [0, 1], "c": None},
    }
    assert dg.Diagnostic.from_dict(blob) == dg.Diagnostic("x", "warning", "msg", blob["numbers"])
    assert str(d) == "WARNING [x] msg"
    with pytest.raises(ValueError, match="severity"):
        dg.Diagnostic("x", "fatal", "m")


# --------------------------------------------------------------------------------------------
# Pure checks: provoked, and silent


def test_coverage():
    notes = dg.check_coverage(
        {"N": np.repeat([1e8, 2e8, 4e8, 8e8, 1.6e9, 3.2e9], 8), "D": np.arange(48.0) + 1}, 5
    )
    assert [d.numbers["feature"] for d in notes] == ["N"]
    assert notes[0].numbers["distinct"] == 6 and notes[0].numbers["needed"] == 10
    assert dg.check_coverage({"N": np.arange(10.0) + 1}, 5) == []


def test_grid_edge():
    grid = chinchilla_grid()
    inside = np.array([6.0, 7.0, 0.5, 0.35, 0.3])
    assert dg.check_grid_edge(inside, grid, NAMES) == []
    (note,) = dg.check_grid_edge(np.array([6.0, 7.0, -3.0, 0.35, 1.99]), grid, NAMES)
    assert note.code == "near_grid_edge" and note.numbers["parameters"] == ["e", "beta"]
    assert "beyond the low edge" in note.message and "at the high edge" in note.message


def test_bounds():
    assert dg.check_bounds([1.0, 2.0], ["x", "y"], [0.0, 0.0], [5.0, 5.0]) == []
    (note,) = dg.check_bounds([0.0, 2.0], ["x", "y"], [0.0, 0.0], None)
    assert note.code == "at_bound" and note.numbers["parameters"] == ["x"]


def test_e_floor_and_interval():
    assert dg.check_e_floor(1.7, 2.0) == []
    assert _codes(dg.check_e_floor(1e-4, 2.0)) == {"e_near_zero"}
    assert dg.check_e_interval(1.5, 1.9, 1.7) == []
    (note,) = dg.check_e_interval(0.05, 2.1, 1.46)
    assert note.code == "e_near_zero" and note.numbers["low"] == 0.05


def test_conditioning_and_correlations():
    # A well-conditioned Hessian: silent.
    assert dg.check_conditioning(np.diag([1.0, 2.0, 3.0, 4.0, 5.0]), NAMES) == []
    # Not positive definite.
    (note,) = dg.check_conditioning(np.diag([-1.0, 2.0, 3.0, 4.0, 5.0]), NAMES)
    assert note.code == "hessian_not_pd"
    # Ill-conditioned, with a strongly correlated pair (e, alpha).
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    H = q @ np.diag([1e-9, 1.0, 2.0, 3.0, 4.0]) @ q.T
    assert _codes(dg.check_conditioning(H, NAMES)) >= {"ill_conditioned"}
    cov = np.eye(5)
    cov[2, 3] = cov[3, 2] = 0.999
    (note,) = dg.check_correlations(cov, NAMES)
    assert note.numbers["pairs"] == [["e", "alpha"]]


def test_amplitude_exponent_correlation_is_pivoted_away():
    # a - alpha * log N measured at N = 1 correlates with alpha ~1 on any data: not reported.
    rng = np.random.default_rng(1)
    alpha = 0.34 + 0.01 * rng.normal(size=2000)
    a_pivot = 0.01 * rng.normal(size=2000)
    theta = np.stack(
        [
            a_pivot + alpha * np.log(1e8),
            rng.normal(size=2000),
            rng.normal(size=2000),
            alpha,
            rng.normal(size=2000),
        ],
        axis=1,
    )
    cov = np.cov(theta.T)
    assert abs(np.corrcoef(theta.T)[0, 3]) > 0.99
    assert dg.check_correlations(cov, NAMES) == []
    _, pivots = dg.pivot_covariance(cov, NAMES)
    assert pivots["a"] == pytest.approx(np.log(1e8), rel=0.02)


def test_extrapolation():
    n_range, d_range = (1.5e8, 6e9), (1.5e9, 6e11)
    assert dg.check_extrapolation([1e20], [1e9], [2e10], n_range, d_range) == []
    (note,) = dg.check_extrapolation([1e20, 1e25], [1e9, 6e11], [2e10, 3e12], n_range, d_range)
    assert note.numbers["budgets"] == [1e25]
    assert note.numbers["N_decades_beyond"] == [pytest.approx(2.0)]
    assert note.numbers["D_decades_beyond"] == [pytest.approx(np.log10(5.0))]
    assert note.severity == "warning" and "2.00 decades above" in note.message


def test_resample_convergence():
    assert dg.check_resample_convergence(1000, 0, 0) == []
    notes = dg.check_resample_convergence(1000, 30, 6)
    assert _codes(notes) == {"resamples_escalated", "resamples_unconverged"}
    assert notes[1].severity == "warning" and notes[1].numbers["fraction"] == 0.006
    (_, small) = dg.check_resample_convergence(1000, 30, 5)
    assert small.severity == "info"


def test_bimodal():
    rng = np.random.default_rng(0)
    one = rng.normal(size=(1000, 2))
    assert dg.check_bimodal(one, ["x", "y"]) == []
    # A heavy right tail (log-normal, like A = exp(a) draws) is not two modes.
    assert dg.check_bimodal(np.exp(rng.normal(size=(1000, 1))), ["A"]) == []
    two = one.copy()
    two[:300, 1] += 6.0
    (note,) = dg.check_bimodal(two, ["x", "y"])
    assert note.numbers["parameters"] == ["y"]
    det = note.numbers["details"]["y"]
    assert det["mass_high"] == pytest.approx(0.3, abs=0.02)
    # A few outliers far away are not a second basin.
    outl = one.copy()
    outl[:20, 0] += 8.0
    assert dg.check_bimodal(outl, ["x", "y"]) == []


def test_basin_checks():
    f = np.array([1.0, 1.0 + 1e-9, 1.0 + 1e-3, np.inf])
    assert dg.check_basin_count(f, 0, 4) == []
    (note,) = dg.check_basin_count(f[[0, 2, 3]], 0, 3)
    assert note.code == "few_in_best_basin"
    # 0.5% of 4500 finished starts: 23 are needed.
    assert _codes(dg.check_basin_count(np.r_[np.ones(10), 2 * np.ones(4490)], 0, 4500)) == {
        "few_in_best_basin"
    }
    theta = np.array([[1.0, 1.0], [1.0 + 1e-6, 1.0], [3.0, 0.5], [9.0, 9.0]])
    conv = np.array([True, True, True, True])
    assert dg.check_distinct_minima(np.array([1.0, 1.0, 1.1, 2.0]), theta, conv) == []
    (note,) = dg.check_distinct_minima(np.array([1.0, 1.0, 1.0 + 1e-7, 2.0]), theta, conv)
    assert note.code == "non_identifiable" and note.numbers["theta_other"] == [3.0, 0.5]
    # an unconverged point does not count as a minimum
    assert (
        dg.check_distinct_minima(
            np.array([1.0, 1.0, 1.0 + 1e-7, 2.0]), theta, np.array([True, True, False, True])
        )
        == []
    )


# --------------------------------------------------------------------------------------------
# Fit diagnostics on real fits


def test_fit_is_silent_on_clean_synthetic_data(clean_fit, tmp_path):
    assert clean_fit.diagnostics == ()
    assert clean_fit.converged
    assert "diagnostics" not in clean_fit.summary()
    clean_fit.to_json(tmp_path / "fit.json")
    assert sj.FitResult.from_json(tmp_path / "fit.json").diagnostics == ()


def test_fit_provoked_grid_edge_e_floor_and_few_starts(clean_runs, tmp_path):
    # A start box that excludes the optimum (alpha >= 0.5) and E ~ 0 in the data.
    runs = sj.synthetic_runs(
        ChinchillaParams(406.4, 410.7, 1e-5, 0.34, 0.28), n_runs=60, seed=1, noise=0.001
    )
    starts = GRID.copy()
    starts[:, 3] = np.maximum(starts[:, 3], 0.5)
    res = sj.fit(runs, starts=starts)
    codes = _codes(res.diagnostics)
    assert "e_near_zero" in codes and "near_grid_edge" in codes
    edge = next(d for d in res.diagnostics if d.code == "near_grid_edge")
    assert "alpha" in edge.numbers["parameters"] or "log_E" in edge.numbers["parameters"]
    # One start: few in the best basin, a warning too (item 5).
    one = sj.fit(clean_runs, starts=GRID[:1])
    assert "few_in_best_basin" in _codes(one.diagnostics)
    assert any("best basin" in w for w in one.warnings) and not one.converged
    res.to_json(tmp_path / "fit.json")
    back = sj.FitResult.from_json(tmp_path / "fit.json")
    assert back.diagnostics == res.diagnostics
    assert "[e_near_zero]" in res.summary()


def test_fit_provoked_ill_conditioning_by_a_fixed_tokens_per_parameter_design():
    # Every run at D = 20 N: N and D move together, so alpha and beta cannot be separated.
    N = np.repeat(np.geomspace(7e7, 1.6e10, 15), 4) * np.tile([1.0, 1.01, 1.02, 1.03], 15)
    runs = sj.synthetic_runs(CHINCHILLA_2022, seed=1, noise=0.01, design=(N, 20 * N))
    res = sj.fit(runs, starts=GRID)
    assert _codes(res.diagnostics) & {"ill_conditioned", "strong_correlation", "hessian_not_pd"}


def test_sardana_fit_triggers_coverage_and_conditioning():
    path = shared_data_file("sardana_trainingresults_47.csv")
    runs = sj.load_runs(path, n="Parameters", d="Tokens", loss="Smoothed Loss")
    res = sj.fit(runs, starts=chinchilla_grid()[::30])
    codes = _codes(res.diagnostics)
    assert {"few_distinct_values", "ill_conditioned"} <= codes
    cov = next(d for d in res.diagnostics if d.code == "few_distinct_values")
    assert cov.numbers == {"feature": "N", "distinct": 6, "n_params": 5, "needed": 10}
    cond = next(d for d in res.diagnostics if d.code == "ill_conditioned")
    assert 1e8 < cond.numbers["condition_number"] < 1e10
